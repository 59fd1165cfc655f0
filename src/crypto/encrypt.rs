//! SM2 public-key encryption (GB/T 32918.4) with SM3, in the `C1 || C3 || C2` layout.
//!
//! The platform encrypts plaintext identity fields to the relying party's encryption key, so
//! proxies, logs and the RP's own middleware only ever see ciphertext.

use std::fmt;

use sm2::elliptic_curve::common::getrandom::SysRng;
use sm2::pke::{DecryptingKey, EncryptingKey, Mode};
use zeroize::Zeroizing;

use super::{CryptoError, PrivateKey, PublicKey};

/// Bytes added by encryption: `C1` (65) and `C3` (32).
pub const CIPHERTEXT_OVERHEAD: usize = 65 + 32;

/// A public key to encrypt to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptionKey(PublicKey);

impl EncryptionKey {
    /// Wraps a public key.
    pub fn new(public: PublicKey) -> Self {
        Self(public)
    }

    /// Encrypts `message` (at least one byte) to raw `C1 || C3 || C2`.
    pub fn encrypt(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.key()
            .encrypt(&mut SysRng, message)
            .map_err(|_| encrypt_error(message))
    }

    /// Encrypts `message` to the DER `SM2Cipher` structure that OpenSSL's `pkeyutl` reads.
    pub fn encrypt_der(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.key()
            .encrypt_der(&mut SysRng, message)
            .map_err(|_| encrypt_error(message))
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.0
    }

    fn key(&self) -> EncryptingKey {
        EncryptingKey::new_with_mode(*self.0.inner(), Mode::C1C3C2)
    }
}

fn encrypt_error(message: &[u8]) -> CryptoError {
    CryptoError::Encrypt {
        detail: if message.is_empty() {
            "SM2 cannot encrypt an empty message"
        } else {
            "the random generator failed"
        },
    }
}

/// A private key to decrypt with. Plaintext comes back in a buffer that zeroizes on drop.
#[derive(Clone)]
pub struct DecryptionKey(PrivateKey);

impl DecryptionKey {
    /// Wraps a private key.
    pub fn new(private: PrivateKey) -> Self {
        Self(private)
    }

    /// Decrypts raw `C1 || C3 || C2`.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if ciphertext.len() <= CIPHERTEXT_OVERHEAD || ciphertext[0] != 0x04 {
            return Err(CryptoError::Decrypt);
        }
        self.key()
            .decrypt(ciphertext)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Decrypt)
    }

    /// Decrypts the DER `SM2Cipher` structure that OpenSSL's `pkeyutl -encrypt` writes.
    pub fn decrypt_der(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        self.key()
            .decrypt_der(ciphertext)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Decrypt)
    }

    /// The private key (to store it, e.g. as PKCS#8 PEM).
    pub fn private_key(&self) -> &PrivateKey {
        &self.0
    }

    /// The matching encryption key.
    pub fn encryption_key(&self) -> EncryptionKey {
        EncryptionKey(self.0.public_key().clone())
    }

    fn key(&self) -> DecryptingKey {
        // Built per call for the same reason as the signer: only `SecretKey` zeroizes on drop.
        DecryptingKey::new_with_mode(self.0.secret().to_nonzero_scalar(), Mode::C1C3C2)
    }
}

impl fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DecryptionKey").field(&self.0).finish()
    }
}
