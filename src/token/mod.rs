//! Result tokens: compact JWS signed with SM2-SM3, read strictly.
//!
//! ```text
//! &str ──UnverifiedToken::parse──▶ UnverifiedToken ──verify(key)──▶ Verified<ResultClaims>
//! ```
//!
//! Why hand-written rather than `jsonwebtoken`: no general JOSE library knows SM2, and the
//! protocol wants a verifier that accepts exactly one algorithm, a closed header, no duplicate
//! JSON keys and canonical base64url — narrower than any general library is willing to be.

mod claims;
mod error;
mod signer;
mod unverified;
mod validation;
mod verified;

pub use claims::ResultClaims;
pub use error::{Segment, TokenError};
pub use signer::TokenSigner;
pub use unverified::UnverifiedToken;
pub use validation::{DEFAULT_LEEWAY_SECS, DEFAULT_MAX_TOKEN_LEN, MAX_LIFETIME_SECS, Validation};
pub use verified::Verified;

/// The one accepted `alg`.
pub const ALG: &str = "SM2-SM3";
/// The `typ` of a result token.
pub const RESULT_TYP: &str = "netid-result+jwt";
