//! The relying party's own session tokens (`jsonwebtoken`, HS256): the 网证 result is verified
//! once, at login; every later request checks only this short-lived token.

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
            SessionError::Missing => "netid.unauthenticated",
            SessionError::Invalid => "netid.session_invalid",
            SessionError::Expired => "netid.session_expired",
            SessionError::Revoked => "netid.session_revoked",
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
            ttl: Duration::from_secs(15 * 60),
            current: None,
            previous: Vec::new(),
            revocations: None,
            cache_capacity: session_cache::DEFAULT_CAPACITY,
            clock: Arc::new(SystemClock),
        }
    }

    /// A session token for `user`.
    pub fn issue(&self, user: &VerifiedUser) -> Result<String, SessionError> {
        let now = self.inner.clock.now();
        let claims = Claims {
            iss: self.inner.issuer.clone(),
            aud: self.inner.audience.clone(),
            sub: user.subject.to_string(),
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
    ///
    /// A token checked once is remembered until it expires (see
    /// [`SessionManagerBuilder::checked_token_cache`]). The revocation store is asked every
    /// time, unless it tells that nothing was revoked since it last cleared this session
    /// ([`RevocationStore::generation`]).
    pub async fn authenticate(&self, token: &str) -> Result<VerifiedUser, SessionError> {
        let Hit {
            session,
            cleared_at,
        } = self.check(token.as_bytes())?;
        let store = &self.inner.revocations;
        // Read before asking: a revocation recorded after this read changes the number, so the
        // next request asks again; one recorded before it is seen by `is_revoked`.
        let generation = store.generation();
        if generation.is_none() || generation != cleared_at {
            if store
                .is_revoked(&session.jti, &session.user.subject, session.iat)
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
        Ok(session.user.clone())
    }

    /// The user, when that can be told without waiting on the revocation store: the token was
    /// checked before on this thread and the store says nothing was revoked since it was last
    /// cleared. `None` means: call [`authenticate`](Self::authenticate). It never decodes a
    /// token, so one that is not remembered (a forgery, say) is decoded once, there.
    pub(crate) fn authenticate_now(&self, token: &[u8]) -> Option<VerifiedUser> {
        let hit = self.inner.checked.get(token)?;
        if expired(hit.session.exp, self.inner.clock.now()) {
            return None;
        }
        let generation = self.inner.revocations.generation()?;
        (hit.cleared_at == Some(generation)).then(|| hit.session.user.clone())
    }

    /// Ends the session (logout): the token is refused from now on, on every instance that
    /// shares the revocation store. Returns whose session it was.
    pub async fn revoke(&self, token: &str) -> Result<VerifiedUser, SessionError> {
        let checked = self.check(token.as_bytes())?.session;
        self.inner
            .revocations
            .revoke(&checked.jti, checked.exp)
            .await?;
        self.inner.checked.remove(token.as_bytes());
        Ok(checked.user.clone())
    }

    /// Ends every session of `subject` issued until now, on every instance that shares the
    /// revocation store (deletion on request, a forced sign-out). Returns the time from which
    /// new sessions are accepted again.
    pub async fn revoke_subject(&self, subject: &str) -> Result<u64, SessionError> {
        let now = self.inner.clock.now();
        // Sessions issued in this very second are revoked too (`iat` has one-second
        // resolution), so new ones are accepted from the next second.
        self.inner
            .revocations
            .revoke_subject(subject, now, now + self.inner.ttl.as_secs() + 5)
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
            iat: c.iat,
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
                iat: 0,
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
}
