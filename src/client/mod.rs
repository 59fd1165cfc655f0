//! The typed async client of protocol v1: start a verification, wait for the user, verify the
//! signed answer against what was asked, and get a [`Verified<IdentityResult>`].
//!
//! ```text
//! authorize(request) ──▶ PendingAuthorization ──(user scans, approves)──▶ wait/poll ──▶ Verified<IdentityResult>
//! ```
//!
//! `PendingAuthorization` is the opaque state between the two halves: store it in the
//! user's session (it is `Serialize`), and hand it back to finish.

mod error;
mod request;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use error::{ClientError, UserMessage, launch_result};
use request::RequestKind;
pub use request::{Instrument, LegalBasis, VerificationRequest};

use crate::clock::{Clock, SystemClock};
use crate::crypto::{DecryptionKey, SigningKey};
use crate::keys::KeySet;
use crate::model::{AuthzId, IdentityFields, NotVerifiedReason, Pseudonym, VerificationOutcome};
use crate::request_auth::{REPLAY_WINDOW_SECS, RequestSigner, WebhookSignature};
use crate::store::{InMemoryReplayGuard, ReplayGuard, ReplayKind};
use crate::token::{ResultClaims, Validation, Verified};

/// Largest response body the client reads.
const MAX_RESPONSE: usize = 64 * 1024;

/// When to retry. Only what is safe: GETs, and POSTs that carry an idempotency key. Each retry
/// is signed afresh (new timestamp and nonce).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, including the first (default 3).
    pub max_attempts: u32,
    /// Delay before the first retry; doubles each time (default 200 ms).
    pub base_delay: Duration,
    /// Cap on one delay (default 2 s).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    fn delay(&self, attempt: u32) -> Duration {
        self.base_delay
            .saturating_mul(1 << attempt.min(16))
            .min(self.max_delay)
    }
}

/// A verification result checked against its request: the claims, and the plaintext fields
/// (decrypted into redacting types) when they were asked for under a legal basis.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IdentityResult {
    /// The verified claims.
    pub claims: ResultClaims,
    /// The plaintext fields, only if requested; covered by `claims.consent`.
    pub fields: Option<IdentityFields>,
}

impl std::ops::Deref for IdentityResult {
    type Target = ResultClaims;
    fn deref(&self) -> &ResultClaims {
        &self.claims
    }
}

/// An authorization waiting for the user: the state between [`NetIdClient::authorize`] and
/// [`NetIdClient::wait`]. Keep it server-side (e.g. in the session); it holds the nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorization {
    authz_id: AuthzId,
    nonce: String,
    qr_payload: String,
    app_link: String,
    /// Unix seconds.
    expires_at: u64,
    request: VerificationRequest,
}

impl PendingAuthorization {
    /// The authorization's id.
    pub fn authz_id(&self) -> &AuthzId {
        &self.authz_id
    }
    /// Render this as a QR code for the identity app.
    pub fn qr_payload(&self) -> &str {
        &self.qr_payload
    }
    /// Open this link to launch the identity app on the same device.
    pub fn app_link(&self) -> &str {
        &self.app_link
    }
    /// When the authorization lapses if nobody answers (Unix seconds).
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }
    /// What was asked.
    pub fn request(&self) -> &VerificationRequest {
        &self.request
    }
}

/// One answer to a poll.
#[derive(Debug)]
#[non_exhaustive]
pub enum PollOutcome {
    /// The user has not finished yet.
    Pending,
    /// Done: a result checked against the request (which may still be `not_verified`).
    Done(Box<Verified<IdentityResult>>),
}

/// A webhook whose signature and freshness were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// The event id (stable across the platform's retries).
    pub id: String,
    /// The authorization it concerns.
    pub authz_id: AuthzId,
    /// What happened.
    pub kind: WebhookKind,
    /// Already seen: answer 2xx and do nothing.
    pub duplicate: bool,
}

/// What a webhook reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookKind {
    /// Approved; finish with [`NetIdClient::complete_callback`].
    Approved {
        /// The result token, not yet verified.
        token: String,
    },
    /// The user declined.
    Denied,
    /// Nobody answered in time.
    Expired,
}

/// The platform client. Cheap to clone; clones share connections, keys and the single-use
/// record of authorizations.
#[derive(Clone, Debug)]
pub struct NetIdClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    issuer: String,
    base: String,
    signer: RequestSigner,
    decryption: HashMap<String, DecryptionKey>,
    keys: KeySet,
    retry: RetryPolicy,
    poll_interval: Duration,
    leeway: Duration,
    callback_url: Option<String>,
    clock: Arc<dyn Clock>,
    /// authz_ids, result-token ids and webhook ids already used: shared by every instance
    /// when the guard is (Redis).
    replay: Arc<dyn ReplayGuard>,
}

/// Builds a [`NetIdClient`].
#[derive(Debug)]
pub struct ClientBuilder {
    issuer: String,
    base_url: Option<String>,
    app_id: Option<String>,
    signing: Option<(String, SigningKey)>,
    decryption: HashMap<String, DecryptionKey>,
    keys: Option<KeySet>,
    timeout: Duration,
    retry: RetryPolicy,
    poll_interval: Duration,
    leeway: Duration,
    callback_url: Option<String>,
    allow_sandbox: bool,
    replay: Option<Arc<dyn ReplayGuard>>,
    clock: Arc<dyn Clock>,
}

impl NetIdClient {
    /// Starts a builder for the platform whose `iss` is `issuer` (also its base URL unless
    /// [`ClientBuilder::base_url`] says otherwise).
    pub fn builder(issuer: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            issuer: issuer.into(),
            base_url: None,
            app_id: None,
            signing: None,
            decryption: HashMap::new(),
            keys: None,
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            poll_interval: Duration::from_secs(2),
            leeway: Duration::from_secs(crate::token::DEFAULT_LEEWAY_SECS),
            callback_url: None,
            allow_sandbox: false,
            replay: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// The platform's key set this client verifies with.
    pub fn key_set(&self) -> &KeySet {
        &self.inner.keys
    }

    /// Now, by this client's clock ([`ClientBuilder::clock`]).
    fn now(&self) -> u64 {
        self.inner.clock.now()
    }

    /// Starts a verification. Safe to retry: one idempotency key covers all attempts.
    pub async fn authorize(
        &self,
        request: VerificationRequest,
    ) -> Result<PendingAuthorization, ClientError> {
        request.check()?;
        self.start("/v1/authorizations", request).await
    }

    /// Forces a fresh, live verification of a user already known by `subject`. The
    /// Anti-Telecom-Fraud Law Art. 33 (《反电信网络诈骗法》第三十三条) says an internet service
    /// provider *may* (可以) re-verify an account showing fraud-related anomalies through the
    /// national service; it does not require it. `reason` is recorded by the platform and shown
    /// to the user.
    pub async fn reverify(
        &self,
        subject: &Pseudonym,
        reason: &str,
    ) -> Result<PendingAuthorization, ClientError> {
        if reason.trim().is_empty() || reason.len() > 256 {
            return Err(ClientError::Config(
                "a re-verification reason is 1-256 bytes".into(),
            ));
        }
        let request = VerificationRequest::reverify(subject.as_str().to_owned(), reason.to_owned());
        self.start("/v1/reverifications", request).await
    }

    async fn start(
        &self,
        path: &str,
        request: VerificationRequest,
    ) -> Result<PendingAuthorization, ClientError> {
        let nonce = crate::random::token(18);
        let body = request.body(&nonce, self.inner.callback_url.as_deref());
        let body = serde_json::to_vec(&body).map_err(|_| ClientError::Config("request".into()))?;
        let idempotency_key = crate::random::token(18);
        let (status, bytes) = self
            .send("POST", path, Some(&body), Some(&idempotency_key))
            .await?;
        if status != 201 && status != 200 {
            return Err(problem(status, &bytes));
        }
        #[derive(Deserialize)]
        struct Created {
            authz_id: String,
            qr_payload: String,
            app_link: String,
            expires_in: u64,
        }
        let c: Created = serde_json::from_slice(&bytes)
            .map_err(|_| ClientError::InvalidResponse("authorization response".into()))?;
        let authz_id = AuthzId::parse(&c.authz_id).map_err(|_| {
            ClientError::InvalidResponse("authz_id is not 32 letters/digits".into())
        })?;
        if c.qr_payload.len() > 2048 || c.app_link.len() > 2048 || c.expires_in > 3600 {
            return Err(ClientError::InvalidResponse(
                "qr_payload/app_link over 2048 characters or expiry over an hour".into(),
            ));
        }
        Ok(PendingAuthorization {
            authz_id,
            nonce,
            qr_payload: c.qr_payload,
            app_link: c.app_link,
            expires_at: self.now() + c.expires_in,
            request,
        })
    }

    /// Asks once whether the user has answered.
    pub async fn poll(&self, pending: &PendingAuthorization) -> Result<PollOutcome, ClientError> {
        match self.poll_token(pending).await? {
            None => Ok(PollOutcome::Pending),
            Some(token) => Ok(PollOutcome::Done(Box::new(
                self.complete(pending, &token).await?,
            ))),
        }
    }

    /// Asks once whether the user has answered: `None` while pending, the result token (not
    /// verified yet: finish with [`complete`](Self::complete)) once approved.
    pub(crate) async fn poll_token(
        &self,
        pending: &PendingAuthorization,
    ) -> Result<Option<String>, ClientError> {
        let path = format!("/v1/authorizations/{}", pending.authz_id);
        let (status, bytes) = self.send("GET", &path, None, None).await?;
        if status != 200 {
            return Err(problem(status, &bytes));
        }
        #[derive(Deserialize)]
        struct Status {
            status: String,
            token: Option<String>,
        }
        let s: Status = serde_json::from_slice(&bytes)
            .map_err(|_| ClientError::InvalidResponse("authorization status".into()))?;
        match (s.status.as_str(), s.token) {
            ("pending", None) => Ok(None),
            ("approved", Some(token)) => Ok(Some(token)),
            ("denied", None) => Err(ClientError::Declined),
            ("expired", None) => Err(ClientError::NotAnswered),
            _ => Err(ClientError::InvalidResponse(
                "status must be pending, approved (with a token), denied or expired".into(),
            )),
        }
    }

    /// Polls (every `poll_interval`, backing off to 5 s) until the user answers or the
    /// authorization expires.
    pub async fn wait(
        &self,
        pending: &PendingAuthorization,
    ) -> Result<Verified<IdentityResult>, ClientError> {
        let mut interval = self.inner.poll_interval;
        loop {
            match self.poll(pending).await? {
                PollOutcome::Done(v) => return Ok(*v),
                PollOutcome::Pending if self.now() > pending.expires_at + 5 => {
                    return Err(ClientError::NotAnswered);
                }
                PollOutcome::Pending => {
                    tokio::time::sleep(interval).await;
                    interval = (interval * 3 / 2)
                        .min(Duration::from_secs(5).max(self.inner.poll_interval));
                }
            }
        }
    }

    /// Verifies a webhook: `NetID-Webhook-Id` and `NetID-Signature` headers and the raw body.
    /// Duplicates (the platform retries) come back with `duplicate: true`.
    pub async fn verify_callback(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<WebhookEvent, ClientError> {
        use crate::request_auth::RequestAuthError::Malformed;
        if body.len() > MAX_RESPONSE {
            return Err(Malformed("webhook body over 64 KiB").into());
        }
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .ok_or(ClientError::Webhook(Malformed(
                    "missing NetID-Webhook-Id or NetID-Signature",
                )))
        };
        let id = header("netid-webhook-id")?;
        let sig = WebhookSignature::parse(header("netid-signature")?)?;
        let key = self.inner.keys.key(&sig.kid).await?;
        sig.verify(&key, id, body, self.now())?;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Body {
            id: String,
            event: String,
            authz_id: String,
            token: Option<String>,
        }
        crate::json::parse_object(body, 2)
            .map_err(|_| ClientError::InvalidResponse("webhook body is not strict JSON".into()))?;
        let b: Body = serde_json::from_slice(body)
            .map_err(|_| ClientError::InvalidResponse("webhook body".into()))?;
        if b.id != id {
            return Err(ClientError::Mismatch(
                "webhook id differs from NetID-Webhook-Id",
            ));
        }
        let authz_id = AuthzId::parse(&b.authz_id)
            .map_err(|_| ClientError::InvalidResponse("webhook authz_id".into()))?;
        let kind = match (b.event.as_str(), b.token) {
            ("authorization.approved", Some(token)) => WebhookKind::Approved { token },
            ("authorization.denied", None) => WebhookKind::Denied,
            ("authorization.expired", None) => WebhookKind::Expired,
            _ => return Err(ClientError::InvalidResponse("unknown webhook event".into())),
        };
        let duplicate = !self.first_use(ReplayKind::Webhook, &b.id).await?;
        Ok(WebhookEvent {
            id: b.id,
            authz_id,
            kind,
            duplicate,
        })
    }

    /// Finishes an authorization from a verified webhook.
    pub async fn complete_callback(
        &self,
        pending: &PendingAuthorization,
        event: &WebhookEvent,
    ) -> Result<Verified<IdentityResult>, ClientError> {
        if event.authz_id != pending.authz_id {
            return Err(ClientError::Mismatch(
                "webhook is for another authorization",
            ));
        }
        match &event.kind {
            WebhookKind::Approved { token } => self.complete(pending, token).await,
            WebhookKind::Denied => Err(ClientError::Declined),
            WebhookKind::Expired => Err(ClientError::NotAnswered),
        }
    }

    /// Verifies `token` and checks it answers exactly `pending`'s request.
    pub(crate) async fn complete(
        &self,
        pending: &PendingAuthorization,
        token: &str,
    ) -> Result<Verified<IdentityResult>, ClientError> {
        let validation = Validation::new(&self.inner.issuer, self.inner.signer.app_id())
            .expect_nonce(&pending.nonce)
            .with_leeway(self.inner.leeway)?;
        let keys = &self.inner.keys;
        let verified = keys.verify_at(token, &validation, self.now()).await?;
        let c = verified.claims();
        if c.authz_id != pending.authz_id {
            return Err(ClientError::Mismatch(
                "the token answers another authorization",
            ));
        }
        // The authorization first, then the token id: a second token for the same
        // authorization is as much a replay as the same token twice.
        if !self
            .first_use(ReplayKind::Authorization, c.authz_id.as_str())
            .await?
        {
            return Err(ClientError::Mismatch(
                "this authorization's result was already used",
            ));
        }
        if !self.first_use(ReplayKind::ResultToken, &c.token_id).await? {
            return Err(ClientError::Mismatch("this result token was already used"));
        }
        check_against_request(c, &pending.request)?;
        let fields = match &c.fields {
            Some(enc) => {
                let key = self.inner.decryption.get(&enc.kid).ok_or_else(|| {
                    ClientError::Config(format!(
                        "no decryption key `{}` configured for plaintext fields",
                        crate::error::printable_name(&enc.kid)
                    ))
                })?;
                Some(enc.decrypt(key)?)
            }
            None => None,
        };
        Ok(verified.map(|claims| IdentityResult { claims, fields }))
    }

    /// Records a single-use value; `false` if it was used before (on any instance sharing the
    /// guard). A guard that cannot answer refuses: the caller gets a retryable error and the
    /// authorization stays pending.
    async fn first_use(&self, kind: ReplayKind, value: &str) -> Result<bool, ClientError> {
        Ok(self
            .inner
            .replay
            .first_use(kind, value, Duration::from_secs(REPLAY_WINDOW_SECS))
            .await?)
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        idempotency_key: Option<&str>,
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let retry_safe = method == "GET" || idempotency_key.is_some();
        let attempts = if retry_safe {
            self.inner.retry.max_attempts.max(1)
        } else {
            1
        };
        let mut last = ClientError::Unavailable("no attempt made".into());
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(self.inner.retry.delay(attempt - 1)).await;
            }
            match self.send_once(method, path, body, idempotency_key).await {
                Ok((status, bytes)) if status == 429 || status >= 500 => {
                    last = match problem(status, &bytes) {
                        e @ ClientError::Rejected { .. } if status == 429 => e,
                        _ => ClientError::Unavailable(format!("HTTP {status}")),
                    };
                }
                Ok(ok) => return Ok(ok),
                Err(e @ ClientError::Unavailable(_)) => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    async fn send_once(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        idempotency_key: Option<&str>,
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let body = body.unwrap_or_default();
        let nonce = crate::random::token(18);
        let signer = &self.inner.signer;
        let auth = signer.authorization(method, path, body, self.now(), &nonce)?;
        let url = format!("{}{path}", self.inner.base);
        let mut req = match method {
            "GET" => self.inner.http.get(&url),
            _ => self
                .inner
                .http
                .post(&url)
                .header("content-type", "application/json")
                .body(body.to_vec()),
        }
        .header("authorization", auth);
        if let Some(k) = idempotency_key {
            req = req.header("idempotency-key", k);
        }
        let mut resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            if out.len() + chunk.len() > MAX_RESPONSE {
                return Err(ClientError::InvalidResponse("response over 64 KiB".into()));
            }
            out.extend_from_slice(&chunk);
        }
        Ok((status, out))
    }
}

/// A valid token must answer exactly what was asked — more is refused, not trimmed.
fn check_against_request(c: &ResultClaims, r: &VerificationRequest) -> Result<(), ClientError> {
    let verified = c.outcome.is_verified();
    if verified && c.assurance.level() < r.min_assurance {
        return Err(ClientError::Mismatch("assurance lower than requested"));
    }
    if c.age_tag.is_some() && !r.wants_age_tag() {
        return Err(ClientError::Mismatch("an age tag that was not requested"));
    }
    if verified && c.age_tag.is_none() && r.wants_age_tag() {
        return Err(ClientError::Mismatch("the requested age tag is missing"));
    }
    match (&r.kind, &c.fields, &c.consent) {
        (_, None, _) if !verified => {}
        (
            RequestKind::Fields {
                fields,
                legal_basis,
            },
            Some(enc),
            Some(consent),
        ) => {
            let asked: crate::model::FieldSet = fields.iter().copied().collect();
            if enc.names != asked {
                return Err(ClientError::Mismatch(
                    "fields differ from the fields requested",
                ));
            }
            if consent.purpose != r.purpose || consent.legal_basis != legal_basis.citation() {
                return Err(ClientError::Mismatch(
                    "the consent receipt is for another purpose or legal basis",
                ));
            }
        }
        (RequestKind::Fields { .. }, None, _) => {
            return Err(ClientError::Mismatch("the requested fields are missing"));
        }
        (_, Some(_), _) => return Err(ClientError::Mismatch("fields that were not requested")),
        _ => {}
    }
    if let RequestKind::Reverify { sub, .. } = &r.kind {
        let same_person = c.subject.as_str() == sub;
        let mismatch_reported =
            c.outcome == VerificationOutcome::NotVerified(NotVerifiedReason::IdentityMismatch);
        if !same_person && !mismatch_reported {
            return Err(ClientError::Mismatch(
                "a re-verification answered for another subject without identity_mismatch",
            ));
        }
    }
    Ok(())
}

fn transport(e: reqwest::Error) -> ClientError {
    ClientError::Unavailable(
        if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else {
            "the connection broke off"
        }
        .into(),
    )
}

/// A problem+json answer as an error. The code is always one of the registry's
/// ([`ProblemKind`](crate::problem::ProblemKind)): a code it does not know becomes
/// `netid.unknown` ([`ProblemKind::Unrecognized`](crate::problem::ProblemKind::Unrecognized)),
/// the platform's own kept at the start of the detail when it is well-formed; the detail is
/// bounded.
fn problem(status: u16, body: &[u8]) -> ClientError {
    use crate::problem::ProblemKind;
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let raw = v["code"].as_str().filter(|c| {
        c.len() <= 64
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
    });
    let kind = raw
        .and_then(ProblemKind::from_code)
        .unwrap_or(ProblemKind::Unrecognized);
    let mut detail = match raw {
        Some(raw) if kind == ProblemKind::Unrecognized => format!("({raw}) "),
        _ => String::new(),
    };
    detail.extend(v["detail"].as_str().unwrap_or("").chars().take(200));
    match kind {
        ProblemKind::AuthorizationExpired => ClientError::NotAnswered,
        _ => ClientError::Rejected {
            status,
            code: kind.code().to_owned(),
            detail,
        },
    }
}

impl ClientBuilder {
    /// Where to send requests, if not at the issuer URL.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The relying party's app id (the `aud` of its tokens).
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// The key the relying party signs its requests with, registered at the platform as `kid`.
    pub fn signing_key(mut self, kid: impl Into<String>, key: SigningKey) -> Self {
        self.signing = Some((kid.into(), key));
        self
    }

    /// A key plaintext fields are encrypted to, registered at the platform as `kid`.
    pub fn decryption_key(mut self, kid: impl Into<String>, key: DecryptionKey) -> Self {
        self.decryption.insert(kid.into(), key);
        self
    }

    /// The platform's key set (default: its JWKS at `{base}/v1/keys`).
    pub fn key_set(mut self, keys: KeySet) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Per-request timeout (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retry policy (default: 3 attempts, 200 ms doubling to 2 s).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// First polling interval (default 2 s, the protocol's minimum for real platforms).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Clock leeway for result tokens (default 60 s, at most 300 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Ask the platform to POST a signed webhook here when an authorization ends.
    pub fn callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    /// Where single use of authorizations, result tokens and webhook ids is recorded (default:
    /// this process only, on the client's [`clock`](Self::clock)). With several instances, give every instance the same shared guard
    /// (e.g. `netid::store::redis::RedisStore`), or a result used at one instance passes at
    /// another.
    pub fn replay_guard(mut self, guard: Arc<dyn ReplayGuard>) -> Self {
        self.replay = Some(guard);
        self
    }

    /// The clock result tokens' `iat`/`exp`, webhook signatures, request timestamps and
    /// authorization expiry are read by (default: the system clock). Tests of expiry give it a
    /// [`ManualClock`](crate::clock::ManualClock) instead of sleeping; an app passes the clock
    /// its sessions use ([`SessionManager::clock`](crate::policy::SessionManager::clock)) so
    /// one clock runs the whole login.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Accept a platform whose configuration says `"sandbox": true`. Never in production.
    pub fn allow_sandbox(mut self) -> Self {
        self.allow_sandbox = true;
        self
    }

    /// Reads `/.well-known/netid-configuration`, checks the issuer and protocol version, and
    /// builds the client with the endpoints and key set it names.
    pub async fn discover(mut self) -> Result<NetIdClient, ClientError> {
        let base = self.base_url.clone().unwrap_or_else(|| self.issuer.clone());
        let http = self.http_client()?;
        let url = format!(
            "{}/.well-known/netid-configuration",
            base.trim_end_matches('/')
        );
        let resp = http.get(&url).send().await.map_err(transport)?;
        if !resp.status().is_success() {
            return Err(ClientError::Config(format!(
                "discovery answered HTTP {}",
                resp.status().as_u16()
            )));
        }
        let bytes = resp.bytes().await.map_err(transport)?;
        if bytes.len() > MAX_RESPONSE {
            return Err(ClientError::InvalidResponse(
                "configuration over 64 KiB".into(),
            ));
        }
        #[derive(Deserialize)]
        struct Config {
            issuer: String,
            protocol_versions: Vec<String>,
            jwks_uri: String,
            #[serde(default)]
            sandbox: bool,
        }
        let c: Config = serde_json::from_slice(&bytes)
            .map_err(|_| ClientError::InvalidResponse("configuration document".into()))?;
        if c.issuer != self.issuer {
            return Err(ClientError::Config(
                "the platform's configuration names another issuer".into(),
            ));
        }
        if !c.protocol_versions.iter().any(|v| v == "1") {
            return Err(ClientError::Config(
                "the platform does not speak protocol v1".into(),
            ));
        }
        if c.sandbox && !self.allow_sandbox {
            // Said so that whoever points a client at a sandbox on purpose knows the one call
            // to add, and whoever finds this in production knows it must not be added there.
            return Err(ClientError::Config(
                "the platform's configuration says it is a sandbox (test data for made-up \
                 people); to use it for development or tests, add .allow_sandbox() to the client \
                 builder; never in production"
                    .into(),
            ));
        }
        if self.keys.is_none() {
            self.keys = Some(KeySet::builder().jwks_url(c.jwks_uri).build()?);
        }
        self.base_url = Some(base);
        self.build()
    }

    fn http_client(&self) -> Result<reqwest::Client, ClientError> {
        reqwest::Client::builder()
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|_| ClientError::Config("HTTP client could not be built".into()))
    }

    /// Builds the client without network access.
    pub fn build(self) -> Result<NetIdClient, ClientError> {
        let app_id = self
            .app_id
            .clone()
            .ok_or_else(|| ClientError::Config("app_id is required".into()))?;
        let (kid, key) = self
            .signing
            .clone()
            .ok_or_else(|| ClientError::Config("a request signing key is required".into()))?;
        let base = self
            .base_url
            .clone()
            .unwrap_or_else(|| self.issuer.clone())
            .trim_end_matches('/')
            .to_owned();
        let keys = match self.keys.clone() {
            Some(k) => k,
            None => KeySet::builder()
                .jwks_url(format!("{base}/v1/keys"))
                .build()?,
        };
        if self.leeway.as_secs() > crate::token::MAX_LIFETIME_SECS {
            return Err(ClientError::Config("leeway must be at most 300 s".into()));
        }
        let http = self.http_client()?;
        Ok(NetIdClient {
            inner: Arc::new(Inner {
                http,
                issuer: self.issuer,
                base,
                signer: RequestSigner::new(app_id, kid, key)?,
                decryption: self.decryption,
                keys,
                retry: self.retry,
                poll_interval: self.poll_interval,
                leeway: self.leeway,
                callback_url: self.callback_url,
                replay: self.replay.unwrap_or_else(|| {
                    Arc::new(InMemoryReplayGuard::new().with_clock(Arc::clone(&self.clock)))
                }),
                clock: self.clock,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(body: &str) -> (String, String) {
        match problem(400, body.as_bytes()) {
            ClientError::Rejected { code, detail, .. } => (code, detail),
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn every_platform_code_reported_is_the_registrys() {
        let known = rejected(r#"{"code":"netid.request_stale","detail":"late"}"#);
        assert_eq!(known, ("netid.request_stale".into(), "late".into()));
        // No code, an unreadable one, one the registry does not know: `netid.unknown`, and
        // only a well-formed one is kept, in the detail.
        for body in ["{}", "not json", r#"{"code":"bad code!","detail":"x"}"#] {
            let (code, detail) = rejected(body);
            assert_eq!(code, "netid.unknown", "{body}");
            assert!(!detail.contains("bad code"), "{detail}");
        }
        let (code, detail) = rejected(r#"{"code":"platform.newer_thing","detail":"why"}"#);
        assert_eq!(code, "netid.unknown");
        assert_eq!(detail, "(platform.newer_thing) why");
        assert_eq!(
            crate::problem::ProblemKind::from_code(&code),
            Some(crate::problem::ProblemKind::Unrecognized)
        );
        assert!(matches!(
            problem(410, br#"{"code":"netid.authorization_expired"}"#),
            ClientError::NotAnswered
        ));
    }
}
