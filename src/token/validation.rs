use std::time::Duration;

use super::{RESULT_TYP, TokenError};

/// The longest a result token may live: `exp` at most this long after `iat`.
pub const MAX_LIFETIME_SECS: u64 = 300;
/// Default clock leeway.
pub const DEFAULT_LEEWAY_SECS: u64 = 60;
/// Default limit on a compact token's length.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NonceCheck {
    Unset,
    Expect(String),
    Skip,
}

/// What a result token must satisfy besides its signature. Safe by default.
///
/// Issuer and audience are required to build one; the nonce the relying party sent with its
/// request must be given too (or skipping it must be asked for by name). Leeway defaults to
/// 60 s and cannot exceed 300 s.
///
/// ```
/// use std::time::Duration;
/// use netid::token::Validation;
///
/// let v = Validation::new("https://platform.example", "app_4f9d2c")
///     .expect_nonce("n-0S6_WzA2Mj")
///     .with_leeway(Duration::from_secs(30))
///     .unwrap();
/// assert_eq!(v.leeway(), Duration::from_secs(30));
/// assert!(Validation::new("https://platform.example", "app").with_leeway(Duration::from_secs(301)).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// `None` only after [`Validation::dangerous_skip_issuer`].
    pub(crate) issuer: Option<String>,
    pub(crate) audience: String,
    pub(crate) nonce: NonceCheck,
    pub(crate) leeway_secs: u64,
    pub(crate) max_token_len: usize,
    pub(crate) typ: String,
}

impl Validation {
    /// Tokens must come from `issuer` and name `audience` (the relying party's app id).
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: Some(issuer.into()),
            audience: audience.into(),
            nonce: NonceCheck::Unset,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            typ: RESULT_TYP.to_owned(),
        }
    }

    /// The token's `nonce` must equal `nonce` (the one sent with the authorization request).
    pub fn expect_nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = NonceCheck::Expect(nonce.into());
        self
    }

    /// Accept any well-formed `nonce`. Only for tools that inspect tokens after the fact
    /// (`netid verify` without `--nonce`): a login flow that skips the nonce can be fed a
    /// token minted for someone else's request.
    pub fn dangerous_skip_nonce(mut self) -> Self {
        self.nonce = NonceCheck::Skip;
        self
    }

    /// Accept any issuer. Only for tools that inspect a token whose origin they already know
    /// (`netid verify` without `--iss`); a relying party must always name its platform.
    pub fn dangerous_skip_issuer(mut self) -> Self {
        self.issuer = None;
        self
    }

    /// Clock leeway for `exp`, `iat` and `nbf`; at most 300 s.
    pub fn with_leeway(mut self, leeway: Duration) -> Result<Self, TokenError> {
        if leeway.as_secs() > MAX_LIFETIME_SECS {
            return Err(TokenError::Config("leeway must be at most 300 s"));
        }
        self.leeway_secs = leeway.as_secs();
        Ok(self)
    }

    /// Longest accepted compact token, 1 KiB to 1 MiB (default 16 KiB).
    pub fn with_max_token_len(mut self, bytes: usize) -> Result<Self, TokenError> {
        if !(1024..=1024 * 1024).contains(&bytes) {
            return Err(TokenError::Config(
                "max token length must be 1 KiB to 1 MiB",
            ));
        }
        self.max_token_len = bytes;
        Ok(self)
    }

    /// The expected `typ` header (default `netid-result+jwt`).
    pub fn with_typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = typ.into();
        self
    }

    /// The leeway in force.
    pub fn leeway(&self) -> Duration {
        Duration::from_secs(self.leeway_secs)
    }

    /// The length limit in force.
    pub fn max_token_len(&self) -> usize {
        self.max_token_len
    }

    /// Checks the settings themselves (issuer, audience, a nonce to expect), without a token.
    /// Verification does this first; call it at start-up to fail fast on a bad configuration.
    pub fn check(&self) -> Result<(), TokenError> {
        if self.issuer.as_deref() == Some("") {
            return Err(TokenError::Config("issuer is empty"));
        }
        if self.audience.is_empty() {
            return Err(TokenError::Config("audience (app id) is empty"));
        }
        if self.nonce == NonceCheck::Unset {
            return Err(TokenError::Config(
                "no nonce to expect: call expect_nonce (or dangerous_skip_nonce)",
            ));
        }
        Ok(())
    }
}
