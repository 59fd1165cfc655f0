//! Accept China's national network identity (网号/网证) and keep the rules that come with it.
//!
//! # Contents
//! - [`crypto`]: SM2 signatures and encryption, SM3, HMAC-SM3, key formats.
//! - [`token`]: the strict verifier of the platform's signed results.
//! - [`keys`]: the platform's key set (pinned keys, JWKS with cache and rotation).
//! - [`model`]: outcome, assurance, age band, document type, pseudonym, consent receipt.
//! - [`pii`]: the types personal data lives in (redacted, zeroized).
//! - [`client`]: the typed async client of the platform.
//! - [`policy`]: the rules in middleware, framework-free; adapters in `axum` and `actix`.
//! - [`request_auth`]: request and webhook signatures.
//! - [`store`]: shared state — replay guard, and the traits Redis and PostgreSQL back.
//! - [`audit`]: the tamper-evident audit log (SM3 hash chain).
//! - [`erasure`]: deletion on request, with a receipt (PIPL Art. 47).
//! - [`error`]: what every error shares: a stable code and who must act.
//!
//! # Example
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use netid::crypto::{PrivateKey, SigningKey};
//! use netid::keys::KeySet;
//! use netid::token::{TokenSigner, Validation};
//!
//! // The platform signs (in tests, the sandbox does this)…
//! let signer = TokenSigner::new("k1", SigningKey::from(PrivateKey::generate()))?;
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
//! let claims = serde_json::json!({
//!     "iss": "https://platform.example", "aud": "app_1", "iat": now, "exp": now + 60,
//!     "jti": "j1", "nonce": "nonce-1234", "authz_id": "Q7bX2kP9mZ4vR8tW1nY6cH3sJ5dF0gLa",
//!     "sub": "pw_1", "result": {"status": "verified"}, "acr": 1, "amr": ["cred"],
//! });
//! let token = signer.sign(claims.as_object().unwrap())?;
//!
//! // …the relying party verifies with the platform's public key only.
//! let keys = KeySet::pinned([("k1", signer.signing_key().verifying_key().public_key().clone())])?;
//! let validation = Validation::new("https://platform.example", "app_1").expect_nonce("nonce-1234");
//! let verified = keys.verify(&token, &validation).await?;
//! assert!(verified.outcome.is_verified());
//! # Ok(()) }
//! ```
//!
//! # Features
//! None is on by default.
//! - `axum`: the [`axum`] adapter — a tower layer, the [`policy::VerifiedUser`]
//!   extractor, the login routes; `testing::EqualService::check_axum`.
//! - `actix`: the actix-web 4 adapter, the same things for actix.
//! - `sandbox`: the embedded sandbox platform. Never in a production build.
//! - `cli`: the `netid` binary (implies `sandbox`).
//! - `redis`: `store::redis::RedisStore` — replay guard and session revocations in Redis.
//! - `postgres`: the PostgreSQL consent ledger, field vault and audit log.
//!
//! # Security
//! - No `unsafe`, no OpenSSL: RustCrypto `sm2`/`sm3`, `rustls`.
//! - Secrets and personal data print as `[redacted]` and zeroize on drop.
//! - Errors name the failed rule, never a value. Every error has a stable [`ErrorCode::code`]
//!   and an [`Actor`]: whether the user, a retry, the operator or security must act.
//! - Protocol: `docs/PROTOCOL.md` in the repository.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
#[path = "adapters/actix.rs"]
pub mod actix;
pub mod audit;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
#[path = "adapters/axum.rs"]
pub mod axum;
mod b64;
pub mod client;
pub mod crypto;
pub mod erasure;
pub mod error;
mod json;
mod random;
pub mod request_auth;
#[cfg(feature = "sandbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "sandbox")))]
pub mod sandbox;
pub mod store;

pub use error::{Actor, ErrorCode};
pub mod keys;
pub mod model;
pub mod pii;
pub mod policy;
pub mod testing;
pub mod token;

/// The names most applications need, in one import: `use netid::prelude::*;`.
pub mod prelude {
    pub use crate::crypto::{DistId, PublicKey};
    pub use crate::error::{Actor, ErrorCode};
    pub use crate::keys::{KeySet, VerifyError};
    pub use crate::model::{AgeTag, Assurance, IdDocumentType, Pseudonym, VerificationOutcome};
    pub use crate::pii::ExposeSecret;
    pub use crate::token::{ResultClaims, Validation, Verified};
}

/// The README's examples, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
