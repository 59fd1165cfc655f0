//! The relying party's own session tokens (`jsonwebtoken`, HS256): the 网证 result is verified
//! once, at login; every later request checks only this short-lived token.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::Problem;
use super::store::{InMemoryRevocations, RevocationStore, StoreError};
use super::user::{Method, VerifiedUser};
use crate::error::{Actor, ErrorCode};
use crate::model::{AgeTag, Assurance};
use crate::request_auth::unix_now;

/// Why a session token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// No session token in the request.
    #[error("no session")]
    Missing,
    /// The token is malformed, forged, for another audience, or signed with an unknown key.
    #[error("the session token is invalid")]
    Invalid,
    /// The token has expired: sign in again.
    #[error("the session has expired")]
    Expired,
    /// The session was ended (logout, deletion).
    #[error("the session was revoked")]
    Revoked,
    /// The revocation store could not be asked; the session cannot be trusted now.
    #[error("session store unavailable: {0}")]
    Store(String),
    /// The session settings are unusable.
    #[error("session configuration: {0}")]
    Config(&'static str),
}

impl ErrorCode for SessionError {
    fn code(&self) -> &'static str {
        match self {
            SessionError::Missing => "netid.unauthenticated",
            SessionError::Invalid => "netid.session_invalid",
            SessionError::Expired => "netid.session_expired",
            SessionError::Revoked => "netid.session_revoked",
            SessionError::Store(_) => "netid.unavailable",
            SessionError::Config(_) => "netid.session_config",
        }
    }
    fn actor(&self) -> Actor {
        match self {
            SessionError::Missing | SessionError::Expired | SessionError::Revoked => Actor::User,
            SessionError::Invalid => Actor::SecurityEvent,
            SessionError::Store(_) => Actor::RetryLater,
            SessionError::Config(_) => Actor::Configuration,
        }
    }
}

impl From<StoreError> for SessionError {
    fn from(e: StoreError) -> Self {
        SessionError::Store(e.to_string())
    }
}

impl SessionError {
    /// The refusal as a problem document (401, or 503 when the store is down).
    pub fn to_problem(&self) -> Problem {
        match self {
            SessionError::Store(_) => {
                Problem::unavailable("the session store is unreachable; retry")
            }
            SessionError::Config(_) => Problem::internal(),
            e => Problem::new(401, e.code(), "Sign-in required", e.to_string()),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    iat: u64,
    exp: u64,
    jti: String,
    acr: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    age: Option<AgeTag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gc: Option<bool>,
    vat: u64,
    /// The verification method: read back only for the audit log and metrics.
    mth: Method,
}

/// Issues, checks and revokes session tokens. Cheap to clone.
#[derive(Clone)]
pub struct SessionManager {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    audience: String,
    ttl: Duration,
    current_kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    revocations: Arc<dyn RevocationStore>,
}

impl std::fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManager")
            .field("issuer", &self.inner.issuer)
            .field("current_kid", &self.inner.current_kid)
            .field("keys", &"[redacted]")
            .finish()
    }
}

/// Builds a [`SessionManager`].
pub struct SessionManagerBuilder {
    issuer: String,
    audience: String,
    ttl: Duration,
    current: Option<(String, Zeroizing<Vec<u8>>)>,
    previous: Vec<(String, Zeroizing<Vec<u8>>)>,
    revocations: Option<Arc<dyn RevocationStore>>,
}

impl std::fmt::Debug for SessionManagerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManagerBuilder")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl SessionManager {
    /// Sessions for the relying party `app` (the token's `iss` and `aud`).
    pub fn builder(app: impl Into<String>) -> SessionManagerBuilder {
        let app = app.into();
        SessionManagerBuilder {
            issuer: app.clone(),
            audience: app,
            ttl: Duration::from_secs(15 * 60),
            current: None,
            previous: Vec::new(),
            revocations: None,
        }
    }

    /// A session token for `user`.
    pub fn issue(&self, user: &VerifiedUser) -> Result<String, SessionError> {
        let now = unix_now();
        let claims = Claims {
            iss: self.inner.issuer.clone(),
            aud: self.inner.audience.clone(),
            sub: user.subject.clone(),
            iat: now,
            exp: now + self.inner.ttl.as_secs(),
            jti: crate::random::token(16),
            acr: user.assurance.level(),
            age: user.age_tag,
            gc: user.guardian_consent,
            vat: user.verified_at,
            mth: user.method.clone(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.inner.current_kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.inner.encoding)
            .map_err(|_| SessionError::Config("the session key cannot sign"))
    }

    /// The user a session token stands for, if it is valid, unexpired and not revoked.
    pub async fn authenticate(&self, token: &str) -> Result<VerifiedUser, SessionError> {
        let (claims, user) = self.decode(token)?;
        if self
            .inner
            .revocations
            .is_revoked(&claims.jti, &claims.sub, claims.iat)
            .await?
        {
            return Err(SessionError::Revoked);
        }
        Ok(user)
    }

    /// Ends the session (logout): the token is refused from now on, on every instance that
    /// shares the revocation store. Returns whose session it was.
    pub async fn revoke(&self, token: &str) -> Result<VerifiedUser, SessionError> {
        let (claims, user) = self.decode(token)?;
        self.inner
            .revocations
            .revoke(&claims.jti, claims.exp)
            .await?;
        Ok(user)
    }

    /// Ends every session of `subject` issued until now, on every instance that shares the
    /// revocation store (deletion on request, a forced sign-out). Returns the time from which
    /// new sessions are accepted again.
    pub async fn revoke_subject(&self, subject: &str) -> Result<u64, SessionError> {
        let now = unix_now();
        // Sessions issued in this very second are revoked too (`iat` has one-second
        // resolution), so new ones are accepted from the next second.
        self.inner
            .revocations
            .revoke_subject(subject, now, now + self.inner.ttl.as_secs() + 5)
            .await?;
        Ok(now + 1)
    }

    fn decode(&self, token: &str) -> Result<(Claims, VerifiedUser), SessionError> {
        if token.len() > 4096 {
            return Err(SessionError::Invalid);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| SessionError::Invalid)?;
        if header.alg != Algorithm::HS256 {
            return Err(SessionError::Invalid);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.inner.decoding.get(kid))
            .ok_or(SessionError::Invalid)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&self.inner.issuer]);
        validation.set_audience(&[&self.inner.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|e| match e
            .kind()
        {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => SessionError::Expired,
            _ => SessionError::Invalid,
        })?;
        let c = data.claims;
        let assurance =
            Assurance::from_level(u64::from(c.acr)).map_err(|_| SessionError::Invalid)?;
        let user = VerifiedUser {
            subject: c.sub.clone(),
            assurance,
            age_tag: c.age,
            guardian_consent: c.gc,
            verified_at: c.vat,
            method: c.mth.clone(),
        };
        Ok((c, user))
    }
}

impl SessionManagerBuilder {
    /// The key that signs new sessions (at least 32 bytes of secret randomness), named `kid`.
    pub fn key(mut self, kid: impl Into<String>, secret: &[u8]) -> Self {
        self.current = Some((kid.into(), Zeroizing::new(secret.to_vec())));
        self
    }

    /// A previous key still accepted for sessions it signed (rotation).
    pub fn previous_key(mut self, kid: impl Into<String>, secret: &[u8]) -> Self {
        self.previous
            .push((kid.into(), Zeroizing::new(secret.to_vec())));
        self
    }

    /// Session lifetime (default 15 minutes; at most 24 hours).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Where revocations live (default: this process only; use a shared store with several
    /// instances so a logout holds everywhere).
    pub fn revocations(mut self, store: Arc<dyn RevocationStore>) -> Self {
        self.revocations = Some(store);
        self
    }

    /// Checks the settings and builds the manager.
    pub fn build(self) -> Result<SessionManager, SessionError> {
        // jsonwebtoken picks its crypto backend from its features and panics at first use when
        // a dependency tree enables both; choosing it explicitly keeps netid working then.
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        let (kid, secret) = self
            .current
            .ok_or(SessionError::Config("a session key is required"))?;
        if self.ttl.is_zero() || self.ttl > Duration::from_secs(24 * 3600) {
            return Err(SessionError::Config("session lifetime must be 1 s to 24 h"));
        }
        let mut decoding = HashMap::new();
        for (k, s) in
            std::iter::once((&kid, &secret)).chain(self.previous.iter().map(|(k, s)| (k, s)))
        {
            if s.len() < 32 {
                return Err(SessionError::Config(
                    "session keys must be at least 32 bytes",
                ));
            }
            if decoding
                .insert(k.clone(), DecodingKey::from_secret(s))
                .is_some()
            {
                return Err(SessionError::Config("two session keys share a kid"));
            }
        }
        Ok(SessionManager {
            inner: Arc::new(Inner {
                issuer: self.issuer,
                audience: self.audience,
                ttl: self.ttl,
                encoding: EncodingKey::from_secret(&secret),
                current_kid: kid,
                decoding,
                revocations: self
                    .revocations
                    .unwrap_or_else(|| Arc::new(InMemoryRevocations::default())),
            }),
        })
    }
}
