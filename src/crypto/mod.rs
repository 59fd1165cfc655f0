//! National cryptography (商用密码): SM2 signatures and encryption, SM3 and HMAC-SM3, and the
//! key formats they travel in (PEM, JWK, hex).
//!
//! Built on RustCrypto's `sm2` and `sm3`. Secrets live in types that zeroize on drop and print
//! as `[redacted]`.

mod encrypt;
mod error;
mod hash;
mod jwk;
mod keys;
mod sign;

pub use encrypt::{CIPHERTEXT_OVERHEAD, DecryptionKey, EncryptionKey};
pub use error::CryptoError;
pub use hash::{SM3_LEN, Sm3Hasher, hmac_sm3, hmac_sm3_verify, sm3};
pub(crate) use jwk::check_kid;
pub use jwk::{Jwk, KeyUse};
pub use keys::{DEFAULT_DISTID, DistId, PrivateKey, PublicKey};
pub use sign::{Signature, SignatureFormatError, SigningKey, VerifyingKey};
