//! The platform's signing keys: pinned keys and/or a JWKS URL, looked up only by `kid`.
//!
//! A fetched key set is cached for its `Cache-Control: max-age` (clamped to 1 minute – 1 day;
//! 5 minutes when absent). A token signed with an unknown `kid` triggers one refetch — rotation
//! at the platform — but at most one per `min_refetch_interval`, and concurrent callers share it.
//! A failed fetch keeps the keys already held: a platform outage must not turn into an outage of
//! every login that uses a key the relying party already knows.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::crypto::{DistId, Jwk, KeyUse, PublicKey, VerifyingKey};
use crate::error::{Actor, ErrorCode};
use crate::token::{ResultClaims, TokenError, UnverifiedToken, Validation, Verified};

/// Most keys a JWKS may hold.
pub const MAX_JWKS_KEYS: usize = 16;
/// Largest JWKS document accepted, in bytes.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

const DEFAULT_TTL: Duration = Duration::from_secs(300);
const MIN_TTL: Duration = Duration::from_secs(60);
const MAX_TTL: Duration = Duration::from_secs(24 * 3600);

/// Why keys could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeySetError {
    /// The JWKS could not be fetched (connection, timeout, TLS). Retry later.
    #[error("fetching the platform's key set failed: {0}")]
    Fetch(String),
    /// The JWKS endpoint answered with a non-200 status.
    #[error("the platform's key set endpoint answered HTTP {0}")]
    HttpStatus(u16),
    /// The JWKS is not a valid SM2 key set.
    #[error("the platform's key set is invalid: {0}")]
    JwksInvalid(String),
    /// The JWKS is larger than [`MAX_JWKS_BYTES`].
    #[error("the platform's key set is larger than 64 KiB")]
    JwksTooLarge,
    /// No key with this id, even after a refetch (or a refetch was not allowed yet).
    #[error("no key with id `{0}` in the platform's key set")]
    UnknownKid(String),
    /// The key set's configuration is unusable.
    #[error("key set misconfigured: {0}")]
    Config(String),
}

impl ErrorCode for KeySetError {
    fn code(&self) -> &'static str {
        match self {
            KeySetError::Fetch(_) => "keys.fetch",
            KeySetError::HttpStatus(_) => "keys.http_status",
            KeySetError::JwksInvalid(_) => "keys.jwks_invalid",
            KeySetError::JwksTooLarge => "keys.jwks_too_large",
            KeySetError::UnknownKid(_) => "token.unknown_kid",
            KeySetError::Config(_) => "keys.config",
        }
    }

    fn actor(&self) -> Actor {
        match self {
            KeySetError::Fetch(_) | KeySetError::HttpStatus(_) | KeySetError::UnknownKid(_) => {
                Actor::RetryLater
            }
            KeySetError::Config(_) => Actor::Configuration,
            _ => Actor::SecurityEvent,
        }
    }
}

/// Why [`KeySet::verify`] refused a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The token itself is invalid.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// Its key could not be had.
    #[error(transparent)]
    Keys(#[from] KeySetError),
}

impl ErrorCode for VerifyError {
    fn code(&self) -> &'static str {
        match self {
            VerifyError::Token(e) => e.code(),
            VerifyError::Keys(e) => e.code(),
        }
    }
    fn actor(&self) -> Actor {
        match self {
            VerifyError::Token(e) => e.actor(),
            VerifyError::Keys(e) => e.actor(),
        }
    }
}

/// The platform's signature keys. Cheap to clone; clones share one cache.
///
/// ```
/// # async fn demo(token: &str) -> Result<(), Box<dyn std::error::Error>> {
/// use netid::keys::KeySet;
/// use netid::token::Validation;
///
/// let keys = KeySet::builder().jwks_url("https://platform.example/v1/keys").build()?;
/// let validation = Validation::new("https://platform.example", "app_4f9d2c").expect_nonce("n-0S6_WzA2Mj");
/// let verified = keys.verify(token, &validation).await?;
/// println!("verified {}", verified.subject);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct KeySet {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pinned: HashMap<String, VerifyingKey>,
    remote: Option<Remote>,
}

#[derive(Debug)]
struct Remote {
    url: String,
    http: reqwest::Client,
    distid: DistId,
    min_refetch_interval: Duration,
    max_ttl: Duration,
    cache: RwLock<Cache>,
    /// Held while fetching, so concurrent callers wait for one fetch instead of starting many.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct Cache {
    keys: HashMap<String, VerifyingKey>,
    expires_at: Option<Instant>,
    /// When an unknown `kid` last caused a refetch (the rate limit applies to those only).
    last_unknown_kid_fetch: Option<Instant>,
    /// Incremented on every fetch attempt; lets a waiter see that a fetch happened meanwhile.
    generation: u64,
}

/// Builds a [`KeySet`].
#[derive(Debug)]
pub struct KeySetBuilder {
    pinned: Vec<(String, PublicKey)>,
    url: Option<String>,
    distid: DistId,
    timeout: Duration,
    min_refetch_interval: Duration,
    max_ttl: Duration,
    allow_insecure_http: bool,
}

impl KeySet {
    /// Starts a builder.
    pub fn builder() -> KeySetBuilder {
        KeySetBuilder {
            pinned: Vec::new(),
            url: None,
            distid: DistId::default(),
            timeout: Duration::from_secs(5),
            min_refetch_interval: Duration::from_secs(10),
            max_ttl: MAX_TTL,
            allow_insecure_http: false,
        }
    }

    /// A key set of pinned keys only, with the default distinguishing identifier.
    pub fn pinned<I, K>(keys: I) -> Result<Self, KeySetError>
    where
        I: IntoIterator<Item = (K, PublicKey)>,
        K: Into<String>,
    {
        keys.into_iter()
            .fold(Self::builder(), |b, (kid, key)| b.pin(kid, key))
            .build()
    }

    /// The key with id `kid`: pinned first, then the cached JWKS, then (if allowed) a refetch.
    pub async fn key(&self, kid: &str) -> Result<VerifyingKey, KeySetError> {
        if let Some(k) = self.inner.pinned.get(kid) {
            return Ok(k.clone());
        }
        let Some(remote) = &self.inner.remote else {
            return Err(KeySetError::UnknownKid(kid.to_owned()));
        };
        remote.key(kid).await
    }

    /// The pinned key with id `kid`, if there is one (never fetched).
    pub(crate) fn pinned_key(&self, kid: &str) -> Option<VerifyingKey> {
        self.inner.pinned.get(kid).cloned()
    }

    /// Parses `token`, finds its key by `kid` and verifies it against `validation`.
    pub async fn verify(
        &self,
        token: &str,
        validation: &Validation,
    ) -> Result<Verified<ResultClaims>, VerifyError> {
        let unverified = UnverifiedToken::parse(token, validation)?;
        let key = self.key(unverified.kid()).await?;
        Ok(unverified.verify(&key, validation)?)
    }

    /// [`KeySet::verify`] as if the time were `now` (Unix seconds): for tools and tests.
    pub async fn verify_at(
        &self,
        token: &str,
        validation: &Validation,
        now: u64,
    ) -> Result<Verified<ResultClaims>, VerifyError> {
        let unverified = UnverifiedToken::parse(token, validation)?;
        let key = self.key(unverified.kid()).await?;
        Ok(unverified.verify_at(&key, validation, now)?)
    }

    /// Fetches the JWKS now, whatever the cache says. Useful at start-up, to fail fast on a
    /// wrong URL.
    pub async fn refresh(&self) -> Result<(), KeySetError> {
        match &self.inner.remote {
            Some(remote) => remote.fetch().await,
            None => Ok(()),
        }
    }

    /// The ids of the keys held now (pinned and cached), sorted.
    pub fn kids(&self) -> Vec<String> {
        let mut kids: Vec<String> = self.inner.pinned.keys().cloned().collect();
        if let Some(remote) = &self.inner.remote {
            kids.extend(remote.read().keys.keys().cloned());
        }
        kids.sort();
        kids.dedup();
        kids
    }
}

impl KeySetBuilder {
    /// Pins a key: always trusted under `kid`, never fetched, never expires.
    pub fn pin(mut self, kid: impl Into<String>, key: PublicKey) -> Self {
        self.pinned.push((kid.into(), key));
        self
    }

    /// Pins every signature key of a JWKS document (e.g. shipped with the access agreement).
    pub fn pin_jwks(mut self, jwks: &str) -> Result<Self, KeySetError> {
        for jwk in parse_jwks(jwks.as_bytes())? {
            self.pinned.push((jwk.kid, jwk.key));
        }
        Ok(self)
    }

    /// Fetches keys from this JWKS URL. Must be `https://` (or plain `http://` to a loopback
    /// address, for the sandbox).
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The distinguishing identifier the platform signs with (default `1234567812345678`).
    pub fn distid(mut self, distid: DistId) -> Self {
        self.distid = distid;
        self
    }

    /// Timeout for one JWKS fetch (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Least time between two refetches caused by unknown `kid`s (default 10 s). Bounds the
    /// load that tokens with made-up `kid`s can put on the platform through this relying party.
    pub fn min_refetch_interval(mut self, interval: Duration) -> Self {
        self.min_refetch_interval = interval;
        self
    }

    /// Caps how long a fetched JWKS is trusted before it is fetched again, whatever the
    /// platform's `Cache-Control` says (default 1 day).
    pub fn max_cache_ttl(mut self, ttl: Duration) -> Self {
        self.max_ttl = ttl;
        self
    }

    /// Allows `http://` to any host. Never in production: keys fetched in the clear can be
    /// swapped by anyone on the path.
    pub fn dangerous_allow_insecure_http(mut self) -> Self {
        self.allow_insecure_http = true;
        self
    }

    /// Checks the settings and builds the key set. No network access happens here.
    pub fn build(self) -> Result<KeySet, KeySetError> {
        if self.pinned.is_empty() && self.url.is_none() {
            return Err(KeySetError::Config(
                "no pinned keys and no JWKS URL: nothing could ever verify".into(),
            ));
        }
        let mut pinned = HashMap::new();
        for (kid, key) in self.pinned {
            crate::crypto::check_kid(&kid).map_err(|e| KeySetError::Config(e.into()))?;
            if pinned.contains_key(&kid) {
                return Err(KeySetError::Config(format!("key id `{kid}` pinned twice")));
            }
            pinned.insert(kid, VerifyingKey::new(key, self.distid.clone()));
        }
        let remote = match self.url {
            None => None,
            Some(url) => {
                check_url(&url, self.allow_insecure_http)?;
                let http = reqwest::Client::builder()
                    .timeout(self.timeout)
                    // A redirect would let whoever controls the first URL choose the keys' source.
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|_| KeySetError::Config("HTTP client could not be built".into()))?;
                Some(Remote {
                    url,
                    http,
                    distid: self.distid,
                    min_refetch_interval: self.min_refetch_interval,
                    max_ttl: self.max_ttl,
                    cache: RwLock::new(Cache::default()),
                    fetching: tokio::sync::Mutex::new(()),
                })
            }
        };
        Ok(KeySet {
            inner: Arc::new(Inner { pinned, remote }),
        })
    }
}

fn check_url(url: &str, allow_http: bool) -> Result<(), KeySetError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| KeySetError::Config("the JWKS URL is not a valid URL".into()))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback || allow_http => Ok(()),
        _ => Err(KeySetError::Config(
            "the JWKS URL must be https:// (plain http only to a loopback address)".into(),
        )),
    }
}

impl Remote {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Cache> {
        // A panic while holding the lock cannot leave the cache half-written (every write
        // replaces whole fields), so a poisoned lock is still safe to read.
        self.cache.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Cache> {
        self.cache.write().unwrap_or_else(|p| p.into_inner())
    }

    async fn key(&self, kid: &str) -> Result<VerifyingKey, KeySetError> {
        let now = Instant::now();
        let (hit, fresh, may_refetch, generation) = {
            let c = self.read();
            (
                c.keys.get(kid).cloned(),
                c.expires_at.is_some_and(|e| now < e),
                c.last_unknown_kid_fetch
                    .is_none_or(|t| now.duration_since(t) >= self.min_refetch_interval),
                c.generation,
            )
        };
        match (hit, fresh) {
            (Some(k), true) => return Ok(k),
            // Stale: try to refresh, but a failure keeps serving what we have.
            (Some(k), false) => {
                return Ok(match self.fetch_once(generation).await {
                    Ok(()) => self.read().keys.get(kid).cloned().unwrap_or(k),
                    Err(e) => {
                        tracing::warn!(code = e.code(), "JWKS refresh failed; keeping cached keys");
                        k
                    }
                });
            }
            (None, false) => self.fetch_once(generation).await?,
            (None, true) if may_refetch => {
                self.write().last_unknown_kid_fetch = Some(now);
                self.fetch_once(generation).await?
            }
            (None, _) => return Err(KeySetError::UnknownKid(kid.to_owned())),
        }
        self.read()
            .keys
            .get(kid)
            .cloned()
            .ok_or_else(|| KeySetError::UnknownKid(kid.to_owned()))
    }

    /// Fetches unless another caller fetched since `seen_generation` (single flight).
    async fn fetch_once(&self, seen_generation: u64) -> Result<(), KeySetError> {
        let _guard = self.fetching.lock().await;
        if self.read().generation != seen_generation {
            return Ok(());
        }
        self.fetch_locked().await
    }

    async fn fetch(&self) -> Result<(), KeySetError> {
        let _guard = self.fetching.lock().await;
        self.fetch_locked().await
    }

    async fn fetch_locked(&self) -> Result<(), KeySetError> {
        let result = self.download().await;
        let mut c = self.write();
        // Bumped when the attempt ends, success or not, so that callers who queued behind it
        // take its outcome instead of fetching again.
        c.generation += 1;
        let (jwks, ttl) = result?;
        c.keys = jwks
            .into_iter()
            .map(|j| (j.kid, VerifyingKey::new(j.key, self.distid.clone())))
            .collect();
        c.expires_at = Some(Instant::now() + ttl);
        tracing::debug!(
            keys = c.keys.len(),
            ttl_secs = ttl.as_secs(),
            "JWKS fetched"
        );
        Ok(())
    }

    async fn download(&self) -> Result<(Vec<Jwk>, Duration), KeySetError> {
        let mut resp = self
            .http
            .get(&self.url)
            .header("accept", "application/jwk-set+json, application/json")
            .send()
            .await
            .map_err(describe_reqwest)?;
        if resp.status() != reqwest::StatusCode::OK {
            return Err(KeySetError::HttpStatus(resp.status().as_u16()));
        }
        if resp
            .content_length()
            .is_some_and(|l| l > MAX_JWKS_BYTES as u64)
        {
            return Err(KeySetError::JwksTooLarge);
        }
        let ttl = resp
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .map_or(DEFAULT_TTL, cache_ttl)
            .min(self.max_ttl);
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(describe_reqwest)? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(KeySetError::JwksTooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok((parse_jwks(&body)?, ttl))
    }
}

fn describe_reqwest(e: reqwest::Error) -> KeySetError {
    // reqwest's own error type stays out of the public API (it would tie users to its version).
    KeySetError::Fetch(
        if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else if e.is_body() || e.is_decode() {
            "the response body broke off"
        } else {
            "request failed"
        }
        .into(),
    )
}

/// `max-age` from a Cache-Control header, clamped; `no-store`/`no-cache` mean the minimum.
fn cache_ttl(header: &str) -> Duration {
    let mut ttl = DEFAULT_TTL;
    for directive in header.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return MIN_TTL;
        }
        if let Some(secs) = lower.strip_prefix("max-age=")
            && let Ok(secs) = secs.trim_matches('"').parse::<u64>()
        {
            ttl = Duration::from_secs(secs);
        }
    }
    ttl.clamp(MIN_TTL, MAX_TTL)
}

/// Reads a JWKS strictly: `{"keys":[…]}`, at most 16 SM2 keys, unique `kid`s. Encryption keys
/// are skipped (a platform may publish both); anything malformed rejects the whole set.
pub fn parse_jwks(bytes: &[u8]) -> Result<Vec<Jwk>, KeySetError> {
    if bytes.len() > MAX_JWKS_BYTES {
        return Err(KeySetError::JwksTooLarge);
    }
    let invalid = |d: &str| KeySetError::JwksInvalid(d.to_owned());
    let doc = crate::json::parse_object(bytes, 3)
        .map_err(|_| invalid("not a single JSON object without duplicate members"))?;
    if doc.len() != 1 {
        return Err(invalid("a JWKS has exactly one member, `keys`"));
    }
    let Some(Value::Array(items)) = doc.get("keys") else {
        return Err(invalid("`keys` must be an array"));
    };
    if items.len() > MAX_JWKS_KEYS {
        return Err(invalid("more than 16 keys"));
    }
    let mut out: Vec<Jwk> = Vec::new();
    for item in items {
        let Value::Object(obj) = item else {
            return Err(invalid("every key must be a JSON object"));
        };
        let jwk =
            Jwk::from_json_object(obj).map_err(|e| KeySetError::JwksInvalid(e.to_string()))?;
        if out.iter().any(|k| k.kid == jwk.kid) {
            return Err(invalid("two keys share a `kid`"));
        }
        if jwk.key_use == KeyUse::Signature {
            out.push(jwk);
        }
    }
    Ok(out)
}

/// A JWKS document for `keys`.
pub fn to_jwks(keys: &[Jwk]) -> String {
    serde_json::json!({ "keys": keys.iter().map(Jwk::to_json_value).collect::<Vec<_>>() })
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control() {
        assert_eq!(cache_ttl("max-age=600"), Duration::from_secs(600));
        assert_eq!(cache_ttl("public, max-age=3600"), Duration::from_secs(3600));
        assert_eq!(cache_ttl("max-age=1"), MIN_TTL);
        assert_eq!(cache_ttl("max-age=99999999"), MAX_TTL);
        assert_eq!(cache_ttl("no-store"), MIN_TTL);
        assert_eq!(cache_ttl("private"), DEFAULT_TTL);
        assert_eq!(cache_ttl("max-age=abc"), DEFAULT_TTL);
    }

    #[test]
    fn urls() {
        assert!(check_url("https://p.example/keys", false).is_ok());
        assert!(check_url("http://127.0.0.1:8080/keys", false).is_ok());
        assert!(check_url("http://localhost/keys", false).is_ok());
        assert!(check_url("http://p.example/keys", false).is_err());
        assert!(check_url("http://p.example/keys", true).is_ok());
        assert!(check_url("file:///etc/passwd", true).is_err());
        assert!(check_url("not a url", false).is_err());
    }
}
