//! The relying party's own session tokens (`jsonwebtoken`, HS256): the 网证 result is verified
//! once, at login; every later request checks only this short-lived token.
//!
//! # Lifetimes
//! A session lasts [`SessionManagerBuilder::ttl`] (default 15 minutes) without use, and at most
//! [`SessionManagerBuilder::max_lifetime`] (default 8 hours) from the sign-in however much it
//! is used. Each token expires `ttl` after it was issued; a request that comes with a token
//! past half of its `ttl` gets a fresh token of the same session (same id, same sign-in time,
//! a later expiry, never beyond the maximum) — [`SessionManager::authenticate_and_renew`], which
//! the gate sends back as a new cookie whose `Max-Age` is the token's remaining lifetime.
//!
//! The token is self-contained: any instance holding the session key renews it, and a logout
//! or a deletion revokes the session by its id and sign-in time, so every token of it — the
//! renewed ones too — is refused on every instance that shares the revocation store. Renewal
//! happens only after the revocation check passed: a revoked session is never renewed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::session_cache::{self, CheckedSession, CheckedTokens, Hit};
use super::user::{Method, VerifiedUser};
use super::{Problem, ProblemKind};
#[cfg(test)]
use crate::clock::unix_now;
use crate::clock::{Clock, SystemClock};
use crate::error::{Actor, ErrorCode};
use crate::model::{AgeTag, Assurance};
use crate::store::{InMemoryRevocations, RevocationStore, StoreError};

/// Seconds of clock skew tolerated on `exp`, between instances and on a cache hit alike.
const LEEWAY_SECS: u64 = 5;

/// How long a session lasts without use, unless configured.
pub const DEFAULT_TTL: Duration = Duration::from_secs(15 * 60);

/// How long a session lasts at most from the sign-in, unless configured.
pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(8 * 3600);

/// The longest maximum lifetime a manager accepts.
const MAX_MAX_LIFETIME: Duration = Duration::from_secs(30 * 86_400);

/// A fresh token of a session that was due for renewal
/// ([`SessionManager::authenticate_and_renew`]): send it back to the browser in place of the
/// old one.
#[derive(Clone, PartialEq, Eq)]
pub struct RenewedSession {
    token: String,
    max_age: u64,
}

impl RenewedSession {
    /// The new session token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Seconds until it expires: the cookie's `Max-Age`.
    pub fn max_age(&self) -> u64 {
        self.max_age
    }
}

impl std::fmt::Debug for RenewedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A session token is a bearer credential.
        f.debug_struct("RenewedSession")
            .field("token", &"[redacted]")
            .field("max_age", &self.max_age)
            .finish()
    }
}

/// jsonwebtoken's own rule, for remembered tokens: expired once `exp < now - leeway`.
fn expired(exp: u64, now: u64) -> bool {
    exp.saturating_add(LEEWAY_SECS) < now
}

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
    #[error("session store unavailable")]
    Store(#[source] StoreError),
    /// The session settings are unusable.
    #[error("session configuration: {0}")]
    Config(&'static str),
}

impl ErrorCode for SessionError {
    fn code(&self) -> &'static str {
        match self {
            SessionError::Missing => ProblemKind::Unauthenticated.code(),
            SessionError::Invalid => ProblemKind::SessionInvalid.code(),
            SessionError::Expired => ProblemKind::SessionExpired.code(),
            SessionError::Revoked => ProblemKind::SessionRevoked.code(),
            SessionError::Store(e) => e.code(),
            SessionError::Config(_) => "policy.session_config",
        }
    }
    fn actor(&self) -> Actor {
        match self {
            SessionError::Missing | SessionError::Expired | SessionError::Revoked => Actor::User,
            SessionError::Invalid => Actor::SecurityEvent,
            SessionError::Store(e) => e.actor(),
            SessionError::Config(_) => Actor::Configuration,
        }
    }
}

impl From<StoreError> for SessionError {
    fn from(e: StoreError) -> Self {
        SessionError::Store(e)
    }
}

impl SessionError {
    /// The refusal as a problem document (401, or 503 when the store is down).
    pub fn to_problem(&self) -> Problem {
        match self {
            SessionError::Store(e) if e.actor() == Actor::RetryLater => {
                Problem::unavailable("the session store", "会话存储")
            }
            SessionError::Store(e) => {
                tracing::error!(code = e.code(), "the session store is misconfigured");
                Problem::internal()
            }
            SessionError::Config(_) => Problem::internal(),
            SessionError::Missing => Problem::of(ProblemKind::Unauthenticated),
            SessionError::Invalid => Problem::of(ProblemKind::SessionInvalid),
            SessionError::Expired => Problem::of(ProblemKind::SessionExpired),
            SessionError::Revoked => Problem::of(ProblemKind::SessionRevoked),
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
    /// The session's id, kept by every renewal (revoking it revokes them all).
    jti: String,
    /// When the session began: the sign-in, kept by every renewal. Absent from tokens of netid
    /// 0.1 before renewal, where it is `iat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sat: Option<u64>,
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
    max_lifetime: Duration,
    current_kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    revocations: Arc<dyn RevocationStore>,
    checked: CheckedTokens,
    clock: Arc<dyn Clock>,
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
    max_lifetime: Duration,
    current: Option<(String, Zeroizing<Vec<u8>>)>,
    previous: Vec<(String, Zeroizing<Vec<u8>>)>,
    revocations: Option<Arc<dyn RevocationStore>>,
    cache_capacity: usize,
    clock: Arc<dyn Clock>,
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
            ttl: DEFAULT_TTL,
            max_lifetime: DEFAULT_MAX_LIFETIME,
            current: None,
            previous: Vec::new(),
            revocations: None,
            cache_capacity: session_cache::DEFAULT_CAPACITY,
            clock: Arc::new(SystemClock),
        }
    }

    /// A session token for `user`: a new session, starting now.
    pub fn issue(&self, user: &VerifiedUser) -> Result<String, SessionError> {
        let now = self.inner.clock.now();
        self.sign(user, crate::random::token(16), now, now)
    }

    /// A token of the session `jti` that began at `started`, issued at `now`: it expires `ttl`
    /// later, or at the session's maximum lifetime if that comes first.
    fn sign(
        &self,
        user: &VerifiedUser,
        jti: String,
        started: u64,
        now: u64,
    ) -> Result<String, SessionError> {
        let claims = Claims {
            iss: self.inner.issuer.clone(),
            aud: self.inner.audience.clone(),
            sub: user.subject.to_string(),
            iat: now,
            exp: self.expiry(started, now),
            jti,
            sat: Some(started),
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

    /// The expiry of a token of a session that began at `started`, issued at `now`.
    fn expiry(&self, started: u64, now: u64) -> u64 {
        let idle = now.saturating_add(self.inner.ttl.as_secs());
        let last = started.saturating_add(self.inner.max_lifetime.as_secs());
        idle.min(last)
    }

    /// The clock this manager reads ([`SessionManagerBuilder::clock`]): the login flow and
    /// erasure built on it read the same one, so a test moves the whole application's time.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// How long a session lasts without use ([`SessionManagerBuilder::ttl`]): the `Max-Age` of
    /// a new session's cookie.
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }

    /// How long a session lasts at most, however much it is used
    /// ([`SessionManagerBuilder::max_lifetime`]).
    pub fn max_lifetime(&self) -> Duration {
        self.inner.max_lifetime
    }

    /// Whether a token expiring at `exp` of a session begun at `started` is due for renewal at
    /// `now`: less than half its idle lifetime left, and a renewal would last longer.
    fn due(&self, started: u64, exp: u64, now: u64) -> bool {
        let half = self.inner.ttl.as_secs() / 2;
        exp.saturating_sub(now) < half && self.expiry(started, now) > exp
    }

    /// The user a session token stands for, if it is valid, unexpired and not revoked.
    ///
    /// A token checked once is remembered until it expires (see
    /// [`SessionManagerBuilder::checked_token_cache`]). The revocation store is asked every
    /// time, unless it tells that nothing was revoked since it last cleared this session
    /// ([`RevocationStore::generation`]). This never renews the session: a request handled
    /// this way does not extend it (see [`authenticate_and_renew`](Self::authenticate_and_renew)).
    pub async fn authenticate(&self, token: &str) -> Result<VerifiedUser, SessionError> {
        Ok(self.authenticated(token).await?.session.user.clone())
    }

    /// [`authenticate`](Self::authenticate), and a fresh token of the same session when this
    /// one is past half of its idle lifetime (sliding expiry): same session id and sign-in
    /// time, expiring [`ttl`](SessionManagerBuilder::ttl) from now but never past the
    /// [`max_lifetime`](SessionManagerBuilder::max_lifetime) from the sign-in. The caller sends
    /// it back (the gate does, as a new session cookie). Only a session that passed the
    /// revocation check is renewed; any instance holding the session key can renew a token
    /// another issued.
    pub async fn authenticate_and_renew(
        &self,
        token: &str,
    ) -> Result<(VerifiedUser, Option<RenewedSession>), SessionError> {
        let hit = self.authenticated(token).await?;
        let session = &hit.session;
        let now = self.inner.clock.now();
        if !self.due(session.started, session.exp, now) {
            return Ok((session.user.clone(), None));
        }
        let renewed = self.sign(&session.user, session.jti.clone(), session.started, now)?;
        let exp = self.expiry(session.started, now);
        tracing::debug!(remaining = exp - now, "session renewed");
        Ok((
            session.user.clone(),
            Some(RenewedSession {
                token: renewed,
                max_age: exp - now,
            }),
        ))
    }

    /// The checked session of a token that is valid, unexpired and not revoked.
    async fn authenticated(&self, token: &str) -> Result<Hit, SessionError> {
        let hit = self.check(token.as_bytes())?;
        let store = &self.inner.revocations;
        // Read before asking: a revocation recorded after this read changes the number, so the
        // next request asks again; one recorded before it is seen by `is_revoked`.
        let generation = store.generation();
        if generation.is_none() || generation != hit.cleared_at {
            let session = &hit.session;
            if store
                .is_revoked(&session.jti, &session.user.subject, session.started)
                .await?
            {
                return Err(SessionError::Revoked);
            }
            if let Some(generation) = generation {
                self.inner
                    .checked
                    .mark_cleared(token.as_bytes(), generation);
            }
        }
        Ok(hit)
    }

    /// The user, when that can be told without waiting on the revocation store: the token was
    /// checked before on this thread and the store says nothing was revoked since it was last
    /// cleared, and the token is not due for renewal. `None` means: call
    /// [`authenticate_and_renew`](Self::authenticate_and_renew). It never decodes a
    /// token, so one that is not remembered (a forgery, say) is decoded once, there.
    pub(crate) fn authenticate_now(&self, token: &[u8]) -> Option<VerifiedUser> {
        let hit = self.inner.checked.get(token)?;
        let now = self.inner.clock.now();
        // Due for renewal: the full check renews it.
        if expired(hit.session.exp, now) || self.due(hit.session.started, hit.session.exp, now) {
            return None;
        }
        let generation = self.inner.revocations.generation()?;
        (hit.cleared_at == Some(generation)).then(|| hit.session.user.clone())
    }

    /// Ends the session (logout): the token, and every token the session was or would be
    /// renewed with, is refused from now on, on every instance that shares the revocation
    /// store. Returns whose session it was.
    pub async fn revoke(&self, token: &str) -> Result<VerifiedUser, SessionError> {
        let checked = self.check(token.as_bytes())?.session;
        // Until the last moment any token of this session could be valid, renewed ones too.
        let until = checked
            .started
            .saturating_add(self.inner.max_lifetime.as_secs())
            .saturating_add(LEEWAY_SECS);
        self.inner.revocations.revoke(&checked.jti, until).await?;
        self.inner.checked.remove(token.as_bytes());
        Ok(checked.user.clone())
    }

    /// Ends every session of `subject` issued until now, on every instance that shares the
    /// revocation store (deletion on request, a forced sign-out). Returns the time from which
    /// new sessions are accepted again.
    pub async fn revoke_subject(&self, subject: &str) -> Result<u64, SessionError> {
        let now = self.inner.clock.now();
        // Sessions begun in this very second are revoked too (sign-in times have one-second
        // resolution), so new ones are accepted from the next second. A session begun before
        // now may be renewed until its maximum lifetime: the record is kept that long.
        let until = now
            .saturating_add(self.inner.max_lifetime.as_secs())
            .saturating_add(LEEWAY_SECS);
        self.inner
            .revocations
            .revoke_subject(subject, now, until)
            .await?;
        Ok(now + 1)
    }

    /// The token's signature, audience, issuer and expiry, from the cache when these exact
    /// bytes passed before (only the expiry can change, and it is checked again).
    /// Takes bytes so a remembered token is found without checking it is UTF-8 first (a tenth
    /// of a request's cost in the axum layer); one not remembered must be, to be decoded.
    fn check(&self, token: &[u8]) -> Result<Hit, SessionError> {
        let now = self.inner.clock.now();
        if let Some(hit) = self.inner.checked.get(token) {
            if expired(hit.session.exp, now) {
                return Err(SessionError::Expired);
            }
            return Ok(hit);
        }
        let text = std::str::from_utf8(token).map_err(|_| SessionError::Invalid)?;
        let session = Arc::new(self.decode(text)?);
        self.inner.checked.insert(token, Arc::clone(&session), now);
        Ok(Hit {
            session,
            cleared_at: None,
        })
    }

    fn decode(&self, token: &str) -> Result<CheckedSession, SessionError> {
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
        // Expiry is checked below against this manager's clock, not jsonwebtoken's own.
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|e| match e
            .kind()
        {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => SessionError::Expired,
            _ => SessionError::Invalid,
        })?;
        let c = data.claims;
        if expired(c.exp, self.inner.clock.now()) {
            return Err(SessionError::Expired);
        }
        let assurance =
            Assurance::from_level(u64::from(c.acr)).map_err(|_| SessionError::Invalid)?;
        Ok(CheckedSession {
            jti: c.jti,
            started: c.sat.unwrap_or(c.iat),
            exp: c.exp,
            user: VerifiedUser {
                subject: c.sub.into(),
                assurance,
                age_tag: c.age,
                guardian_consent: c.gc,
                verified_at: c.vat,
                method: c.mth,
            },
        })
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

    /// How long a session lasts without use (default 15 minutes; 1 s to 24 hours, at most the
    /// [`max_lifetime`](Self::max_lifetime)). Each token expires this long after it was issued;
    /// one used after half of it gets a fresh token (sliding expiry). It is also the `Max-Age`
    /// of a new session's cookie.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How long a session lasts at most from the sign-in, however much it is used (default 8
    /// hours; from the [`ttl`](Self::ttl) to 30 days). Then the user signs in again. Set it to
    /// the `ttl` to turn renewal off.
    pub fn max_lifetime(mut self, max: Duration) -> Self {
        self.max_lifetime = max;
        self
    }

    /// Where revocations live (default: this process only, on this builder's
    /// [`clock`](Self::clock); use a shared store with several instances so a logout holds
    /// everywhere).
    pub fn revocations(mut self, store: Arc<dyn RevocationStore>) -> Self {
        self.revocations = Some(store);
        self
    }

    /// How many checked session tokens each thread remembers until they expire, so a
    /// signed-in request skips the HMAC and JSON decoding of a token its thread has seen
    /// (default 8192 per thread, a couple of MiB at most; 0 turns the cache off). Revocations
    /// hold either way: see [`SessionManager::authenticate`].
    pub fn checked_token_cache(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// The clock sessions are issued and checked by (default: the system clock); tests of
    /// expiry use a [`ManualClock`](crate::clock::ManualClock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
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
        if self.ttl.as_secs() == 0 || self.ttl > Duration::from_secs(24 * 3600) {
            return Err(SessionError::Config("session lifetime must be 1 s to 24 h"));
        }
        if self.max_lifetime < self.ttl || self.max_lifetime > MAX_MAX_LIFETIME {
            return Err(SessionError::Config(
                "the maximum session lifetime must be from the ttl to 30 days",
            ));
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
                max_lifetime: self.max_lifetime,
                encoding: EncodingKey::from_secret(&secret),
                current_kid: kid,
                decoding,
                revocations: self.revocations.unwrap_or_else(|| {
                    Arc::new(InMemoryRevocations::new().with_clock(Arc::clone(&self.clock)))
                }),
                checked: CheckedTokens::new(self.cache_capacity),
                clock: self.clock,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Assurance;

    fn user() -> VerifiedUser {
        VerifiedUser {
            subject: "nid_cache".into(),
            assurance: Assurance::CredentialFace,
            age_tag: None,
            guardian_consent: None,
            verified_at: 1,
            method: Method::NetId,
        }
    }

    fn manager(store: Arc<dyn RevocationStore>, cache: usize) -> SessionManager {
        SessionManager::builder("app")
            .key("k", &[7; 32])
            .revocations(store)
            .checked_token_cache(cache)
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn a_remembered_token_is_still_refused_once_revoked_at_another_instance() {
        let store: Arc<dyn RevocationStore> = Arc::new(InMemoryRevocations::new());
        let (a, b) = (manager(store.clone(), 64), manager(store, 64));
        let token = a.issue(&user()).unwrap();
        // Both instances have checked (and remembered) the token.
        assert_eq!(a.authenticate(&token).await.unwrap(), user());
        assert_eq!(b.authenticate(&token).await.unwrap(), user());
        assert!(b.inner.checked.get(token.as_bytes()).is_some());
        a.revoke(&token).await.unwrap();
        assert_eq!(b.authenticate(&token).await, Err(SessionError::Revoked));
        assert_eq!(a.authenticate(&token).await, Err(SessionError::Revoked));
        // A subject-wide revocation holds for remembered tokens too.
        let other = a.issue(&user()).unwrap();
        assert!(b.authenticate(&other).await.is_ok());
        a.revoke_subject("nid_cache").await.unwrap();
        assert_eq!(b.authenticate(&other).await, Err(SessionError::Revoked));
    }

    #[tokio::test]
    async fn a_remembered_token_expires_and_near_misses_are_decoded_and_refused() {
        let m = manager(Arc::new(InMemoryRevocations::new()), 64);
        let token = m.issue(&user()).unwrap();
        assert!(m.authenticate(&token).await.is_ok());
        // One changed signature byte is not the remembered token: it is decoded, and fails.
        let mut forged = token.clone().into_bytes();
        let last = forged.len() - 2;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        assert_eq!(m.authenticate(&forged).await, Err(SessionError::Invalid));
        // The clock is the one input that changes: a remembered entry past `exp` + leeway fails.
        let stale = "stale.token.bytes";
        m.inner.checked.insert(
            stale.as_bytes(),
            Arc::new(CheckedSession {
                jti: "j".into(),
                started: 0,
                exp: unix_now() - LEEWAY_SECS - 1,
                user: user(),
            }),
            unix_now(),
        );
        assert_eq!(m.authenticate(stale).await, Err(SessionError::Expired));
    }

    /// An in-memory store that counts the questions it is asked, and can hide its generation.
    struct Counting {
        inner: InMemoryRevocations,
        asked: std::sync::atomic::AtomicUsize,
        tells_generation: bool,
    }

    #[async_trait::async_trait]
    impl RevocationStore for Counting {
        async fn revoke(&self, jti: &str, until: u64) -> Result<(), StoreError> {
            self.inner.revoke(jti, until).await
        }
        async fn revoke_subject(&self, s: &str, at: u64, until: u64) -> Result<(), StoreError> {
            self.inner.revoke_subject(s, at, until).await
        }
        async fn is_revoked(&self, jti: &str, s: &str, iat: u64) -> Result<bool, StoreError> {
            self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.inner.is_revoked(jti, s, iat).await
        }
        fn generation(&self) -> Option<u64> {
            self.tells_generation
                .then(|| self.inner.generation())
                .flatten()
        }
    }

    fn counting(tells_generation: bool) -> Arc<Counting> {
        Arc::new(Counting {
            inner: InMemoryRevocations::new(),
            asked: Default::default(),
            tells_generation,
        })
    }

    #[tokio::test]
    async fn a_store_that_tells_its_generation_is_asked_again_only_after_a_revocation() {
        let store = counting(true);
        let m = manager(store.clone(), 64);
        let asked = || store.asked.load(std::sync::atomic::Ordering::SeqCst);
        let (t1, t2) = (m.issue(&user()).unwrap(), m.issue(&user()).unwrap());
        for _ in 0..3 {
            assert!(m.authenticate(&t1).await.is_ok());
        }
        assert_eq!(asked(), 1, "cleared once, then remembered");
        assert!(m.authenticate(&t2).await.is_ok());
        assert_eq!(asked(), 2, "another token is asked about on its own");
        // Any revocation changes the generation: both tokens are asked about again.
        m.revoke(&t2).await.unwrap();
        assert_eq!(m.authenticate(&t2).await, Err(SessionError::Revoked));
        assert!(m.authenticate(&t1).await.is_ok());
        assert!(m.authenticate(&t1).await.is_ok());
        assert_eq!(asked(), 4);
        // A subject-wide revocation, recorded straight into the store, is seen at once.
        store
            .revoke_subject("nid_cache", unix_now(), unix_now() + 60)
            .await
            .unwrap();
        assert_eq!(m.authenticate(&t1).await, Err(SessionError::Revoked));
    }

    #[tokio::test]
    async fn a_store_that_cannot_tell_its_generation_is_asked_every_time() {
        let store = counting(false);
        let m = manager(store.clone(), 64);
        let token = m.issue(&user()).unwrap();
        for _ in 0..3 {
            assert!(m.authenticate(&token).await.is_ok());
        }
        assert_eq!(store.asked.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn the_answer_without_waiting_never_decodes_and_needs_a_cleared_session() {
        let m = manager(Arc::new(InMemoryRevocations::new()), 64);
        let token = m.issue(&user()).unwrap();
        // Not remembered yet: no answer, and nothing decoded or remembered on the way.
        assert_eq!(m.authenticate_now(token.as_bytes()), None);
        assert!(m.inner.checked.get(token.as_bytes()).is_none());
        assert_eq!(m.authenticate_now(b"not.a.token"), None);
        // Remembered and cleared by a full check: answered at once.
        assert!(m.authenticate(&token).await.is_ok());
        assert_eq!(m.authenticate_now(token.as_bytes()), Some(user()));
        // Revoked: no answer at once; the full check refuses it.
        m.revoke(&token).await.unwrap();
        assert_eq!(m.authenticate_now(token.as_bytes()), None);
        assert_eq!(m.authenticate(&token).await, Err(SessionError::Revoked));
    }

    #[tokio::test]
    async fn with_the_cache_off_every_check_decodes() {
        let m = manager(Arc::new(InMemoryRevocations::new()), 0);
        let token = m.issue(&user()).unwrap();
        assert_eq!(m.authenticate(&token).await.unwrap(), user());
        assert!(m.inner.checked.get(token.as_bytes()).is_none());
        m.revoke(&token).await.unwrap();
        assert_eq!(m.authenticate(&token).await, Err(SessionError::Revoked));
    }

    fn clocked(clock: Arc<crate::clock::ManualClock>, ttl: u64, max: u64) -> SessionManager {
        SessionManager::builder("app")
            .key("k", &[7; 32])
            .ttl(Duration::from_secs(ttl))
            .max_lifetime(Duration::from_secs(max))
            .clock(clock)
            .build()
            .unwrap()
    }

    /// The claims of a token the test managers signed (key `[7; 32]`, app `app`).
    fn claims(token: &str) -> Claims {
        let mut v = Validation::new(Algorithm::HS256);
        v.validate_exp = false;
        v.set_audience(&["app"]);
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&[7; 32]), &v)
            .unwrap()
            .claims
    }

    #[tokio::test]
    async fn a_renewal_keeps_the_session_and_slides_its_expiry_up_to_the_maximum() {
        let clock = Arc::new(crate::clock::ManualClock::new(1_000_000));
        let m = clocked(clock.clone(), 600, 1500);
        let first = m.issue(&user()).unwrap();
        let c0 = claims(&first);
        assert_eq!(
            (c0.iat, c0.exp, c0.sat),
            (1_000_000, 1_000_600, Some(1_000_000))
        );
        // Before half-way: not renewed, and answered without waiting once remembered.
        clock.advance(299);
        assert_eq!(
            m.authenticate_and_renew(&first).await.unwrap(),
            (user(), None)
        );
        assert_eq!(m.authenticate_now(first.as_bytes()), Some(user()));
        // Past half-way: not answered without waiting, and renewed by the full check.
        clock.advance(2);
        assert_eq!(m.authenticate_now(first.as_bytes()), None);
        let (who, renewed) = m.authenticate_and_renew(&first).await.unwrap();
        assert_eq!(who, user());
        let renewed = renewed.expect("due");
        assert_eq!(renewed.max_age(), 600);
        let c1 = claims(renewed.token());
        assert_eq!(c1.jti, c0.jti, "the same session");
        assert_eq!(c1.sat, Some(1_000_000), "begun at the sign-in");
        assert_eq!((c1.iat, c1.exp), (1_000_301, 1_000_901));
        // Near the maximum, a renewal lasts only until it; at it, none is issued.
        clock.set(1_000_000 + 1500 - 400);
        let t = m.authenticate_and_renew(renewed.token()).await;
        assert_eq!(
            t,
            Err(SessionError::Expired),
            "the renewed token's own expiry holds"
        );
        let t0 = 1_000_000 + 1100;
        let mut token = m.issue(&user()).unwrap();
        let mut ages = Vec::new();
        for _ in 0..3 {
            clock.advance(400);
            let r = m
                .authenticate_and_renew(&token)
                .await
                .unwrap()
                .1
                .expect("due");
            ages.push(r.max_age());
            token = r.token().to_owned();
        }
        // Renewed at +400, +800 and +1200: the last only until the maximum, +1500.
        assert_eq!(ages, [600, 600, 300]);
        assert_eq!(claims(&token).exp, t0 + 1500);
        clock.advance(200);
        assert_eq!(m.authenticate_and_renew(&token).await.unwrap().1, None);
        clock.advance(106);
        assert_eq!(
            m.authenticate_and_renew(&token).await,
            Err(SessionError::Expired)
        );
    }

    #[tokio::test]
    async fn revocations_reach_renewed_tokens_and_revoked_sessions_are_not_renewed() {
        let clock = Arc::new(crate::clock::ManualClock::new(5_000_000));
        let m = clocked(clock.clone(), 600, 3600);
        let first = m.issue(&user()).unwrap();
        clock.advance(400);
        let renewed = m.authenticate_and_renew(&first).await.unwrap().1.unwrap();
        // A logout with the old token ends the renewed one too.
        m.revoke(&first).await.unwrap();
        assert_eq!(
            m.authenticate_and_renew(renewed.token()).await,
            Err(SessionError::Revoked)
        );
        // A subject-wide revocation reaches a token renewed after the sign-in it counts from.
        let other = m.issue(&user()).unwrap();
        clock.advance(400);
        let renewed = m.authenticate_and_renew(&other).await.unwrap().1.unwrap();
        clock.advance(1);
        m.revoke_subject("nid_cache").await.unwrap();
        clock.advance(400);
        assert_eq!(
            m.authenticate_and_renew(renewed.token()).await,
            Err(SessionError::Revoked)
        );
    }

    #[test]
    fn lifetimes_are_checked() {
        let build = |ttl: u64, max: u64| {
            SessionManager::builder("app")
                .key("k", &[7; 32])
                .ttl(Duration::from_secs(ttl))
                .max_lifetime(Duration::from_secs(max))
                .build()
                .map(|m| (m.ttl().as_secs(), m.max_lifetime().as_secs()))
        };
        assert_eq!(build(900, 900), Ok((900, 900)));
        assert_eq!(build(900, 30 * 86_400), Ok((900, 30 * 86_400)));
        for (ttl, max) in [
            (900, 899),
            (900, 30 * 86_400 + 1),
            (0, 10),
            (86_401, 90_000),
        ] {
            assert!(
                matches!(build(ttl, max), Err(SessionError::Config(_))),
                "{ttl} {max}"
            );
        }
        let m = SessionManager::builder("app")
            .key("k", &[7; 32])
            .build()
            .unwrap();
        assert_eq!(
            (m.ttl(), m.max_lifetime()),
            (DEFAULT_TTL, DEFAULT_MAX_LIFETIME)
        );
    }
}
