//! The login flow, framework-free: start a 网号/网证 verification bound to the browser that
//! asked, finish it by poll or webhook, and issue the relying party's own session — or log in a
//! user verified another lawful way into the very same kind of session.
//!
//! Art. 5 §2: login refuses a user under 14 whose parent or guardian has not consented, with
//! 403 `netid.guardian_consent_required` ([`Problem::guardian_consent_required`]) — whether the
//! platform says so (`not_verified`, reason `guardian_consent_required`, even for a verify-only
//! request), its token says `under_14` without consent, or another lawful method reports that
//! band without consent. Completed by poll or by webhook alike; counted in
//! `netid_verification_outcomes_total` with the outcome `guardian_consent_required`.
//!
//! Binding: `start` returns a random browser secret the adapter sets as an `HttpOnly` cookie;
//! only a request carrying it can complete that authorization. An attacker who starts an
//! authorization and lures a victim to approve it cannot plant the session in anyone's
//! browser but their own (no login CSRF), and the session token is always freshly issued on
//! completion (no session fixation).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::age::lacks_guardian_consent;
use super::session::SessionManager;
use super::user::{IdentityVerifier, Method, VerifiedUser};
use super::{Problem, ProblemKind};
use crate::audit::{AuditAction, AuditEvent, AuditLog};
use crate::client::{
    ClientError, IdentityResult, NetIdClient, PendingAuthorization, VerificationRequest,
    WebhookKind,
};
use crate::crypto::sm3;
use crate::error::{Actor, ErrorCode};
use crate::model::{Assurance, NotVerifiedReason, Pseudonym, VerificationOutcome};
use crate::store::{
    ConsentLedger, ConsentRecord, InMemoryPendingLogins, LoginKey, NewPendingLogin, PendingError,
    PendingLimits, PendingLoginStore, RetentionPolicy, StoreError, Vault,
};
use crate::token::Verified;

/// A started login: what the page shows, and the secret that binds it to this browser.
#[derive(Clone)]
pub struct LoginStart {
    /// The authorization id.
    pub authz_id: String,
    /// Render as a QR code for the identity app.
    pub qr_payload: String,
    /// Opens the identity app on the same device.
    pub app_link: String,
    /// When it lapses (Unix seconds).
    pub expires_at: u64,
    /// Set this as an `HttpOnly`, `SameSite=Lax` cookie; never show it.
    pub browser_binding: String,
}

impl std::fmt::Debug for LoginStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginStart")
            .field("authz_id", &self.authz_id)
            .field("browser_binding", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// Where a login stands.
#[derive(Debug, Clone)]
pub enum LoginStatus {
    /// The user has not finished in the identity app.
    Pending,
    /// Signed in: the user and a fresh session token.
    Completed {
        /// The verified user.
        user: VerifiedUser,
        /// The new session token (set it as the session cookie).
        session: String,
    },
}

/// A pending login as the store keeps it (JSON): any instance can finish it.
#[derive(Serialize, Deserialize)]
struct PendingLogin {
    pending: PendingAuthorization,
    /// Set when the login ended before the browser's poll could finish it: by webhook, or with
    /// audit records the log could not take yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    finished: Option<StoredFinished>,
}

/// How long one instance may hold a login while it concludes it (asks the platform, writes the
/// record). Another instance's poll meanwhile answers "pending", its webhook 503 (retried).
const CONCLUDE_LEASE: Duration = Duration::from_secs(30);

/// How long after its authorization lapses a login is kept, for the browser's last poll.
const PENDING_GRACE_SECS: u64 = 300;

/// [`Finished`] as the store keeps it: the user's facts (no plaintext fields: those went to
/// the vault, or were dropped) or the refusal's code and words.
#[derive(Serialize, Deserialize)]
struct StoredFinished {
    outcome: StoredOutcome,
    records: Vec<AuditEvent>,
}

#[derive(Serialize, Deserialize)]
enum StoredOutcome {
    SignedIn {
        subject: String,
        acr: u8,
        age: Option<crate::model::AgeTag>,
        gc: Option<bool>,
        vat: u64,
        mth: Method,
    },
    Refused {
        code: String,
        detail: String,
        detail_zh: String,
    },
}

impl From<Finished> for StoredFinished {
    fn from(f: Finished) -> Self {
        let outcome = match f.outcome {
            Ok(user) => StoredOutcome::SignedIn {
                subject: user.subject.to_string(),
                acr: user.assurance.level(),
                age: user.age_tag,
                gc: user.guardian_consent,
                vat: user.verified_at,
                mth: user.method,
            },
            Err(p) => StoredOutcome::Refused {
                code: p.code.to_owned(),
                detail: p.detail.into_owned(),
                detail_zh: p.detail_zh.into_owned(),
            },
        };
        StoredFinished {
            outcome,
            records: f.records,
        }
    }
}

impl StoredFinished {
    /// Back to the answer; a state no version of netid wrote is corrupt (fails closed).
    fn into_finished(self) -> Result<Finished, Problem> {
        let corrupt = || {
            tracing::error!("a pending login's stored state is unreadable");
            Problem::internal()
        };
        let outcome = match self.outcome {
            StoredOutcome::SignedIn {
                subject,
                acr,
                age,
                gc,
                vat,
                mth,
            } => Ok(VerifiedUser {
                subject: subject.into(),
                assurance: Assurance::from_level(u64::from(acr)).map_err(|_| corrupt())?,
                age_tag: age,
                guardian_consent: gc,
                verified_at: vat,
                method: mth,
            }),
            StoredOutcome::Refused {
                code,
                detail,
                detail_zh,
            } => Err(
                Problem::of(ProblemKind::from_code(&code).ok_or_else(corrupt)?)
                    .with_detail(detail, detail_zh),
            ),
        };
        Ok(Finished {
            outcome,
            records: self.records,
        })
    }
}

/// How an attempt ended, and its audit records still to write.
#[derive(Clone)]
struct Finished<T = VerifiedUser> {
    /// Signed in (the user), or refused for good.
    outcome: Result<T, Problem>,
    /// Records not written yet, in order. An attempt's answer is given only once they are.
    records: Vec<AuditEvent>,
}

impl<T> Finished<T> {
    /// Its records dated `now` (the flow's clock): when the answer came.
    fn at(mut self, now: u64) -> Self {
        for record in &mut self.records {
            record.at = now;
        }
        self
    }
}

/// Where a re-verification ([`LoginFlow::start_reverification`]) stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReverificationStatus {
    /// The user has not answered yet.
    Pending,
    /// The same person verified again, live, at this assurance.
    Confirmed {
        /// How strongly they verified (R03 or above for a re-verification).
        assurance: Assurance,
    },
    /// The platform did not confirm the account's holder: `identity_mismatch` when someone
    /// else verified.
    NotConfirmed {
        /// The platform's reason.
        reason: NotVerifiedReason,
    },
}

/// A re-verification answered, held until its record is written.
struct HeldReverification {
    expires_at: u64,
    finished: Finished<ReverificationStatus>,
}

/// The login flow. Cheap to clone.
#[derive(Clone)]
pub struct LoginFlow {
    inner: Arc<Inner>,
}

struct Inner {
    client: NetIdClient,
    sessions: SessionManager,
    request: VerificationRequest,
    consents: Option<Arc<dyn ConsentLedger>>,
    retention: RetentionPolicy,
    audit: Option<Arc<dyn AuditLog>>,
    vault: Option<Vault>,
    verifiers: HashMap<&'static str, Arc<dyn IdentityVerifier>>,
    pending_limits: PendingLimits,
    /// SM3(browser binding) → login, shared by the instances that share the store.
    logins: Arc<dyn PendingLoginStore>,
    /// authz_id → a re-verification answered whose record is not written yet.
    reverifications: Mutex<HashMap<String, HeldReverification>>,
}

impl std::fmt::Debug for LoginFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginFlow").finish_non_exhaustive()
    }
}

/// Builds a [`LoginFlow`].
pub struct LoginFlowBuilder {
    pending_limits: PendingLimits,
    client: NetIdClient,
    sessions: SessionManager,
    request: VerificationRequest,
    consents: Option<Arc<dyn ConsentLedger>>,
    retention: RetentionPolicy,
    audit: Option<Arc<dyn AuditLog>>,
    vault: Option<Vault>,
    verifiers: HashMap<&'static str, Arc<dyn IdentityVerifier>>,
    logins: Option<Arc<dyn PendingLoginStore>>,
}

impl std::fmt::Debug for LoginFlowBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginFlowBuilder").finish_non_exhaustive()
    }
}

impl LoginFlowBuilder {
    /// What each login asks the platform for. The default is the verification result only, at
    /// the lowest assurance (R01): `VerificationRequest::verify_only("登录 / sign-in")`
    /// (Art. 8 §1: only the result unless more is needed). An app whose routes have an
    /// [`AgeGate`](super::AgeGate) asks for the age band here
    /// (`VerificationRequest::age_tag(…)`); one whose purpose needs a live person raises the
    /// assurance (`.min_assurance(Assurance::CredentialFace)`). An under-14 without a guardian's
    /// consent is refused whatever is asked (Art. 5 §2).
    pub fn request(mut self, request: VerificationRequest) -> Self {
        self.request = request;
        self
    }

    /// Caps on logins started but not finished: `total` in the pending-login store (all
    /// instances sharing it together), `per_client` from one client address (defaults 10,000
    /// and 32). Unauthenticated starts cost the platform a request and the store memory, so
    /// they are bounded before anything is asked. The per-client cap counts the socket's peer
    /// address: behind a reverse proxy every client has the proxy's, so raise it there (or have
    /// the proxy limit starts per client).
    pub fn pending_limits(mut self, total: usize, per_client: usize) -> Self {
        self.pending_limits = PendingLimits { total, per_client };
        self
    }

    /// Where logins started and not finished are kept. The default,
    /// [`InMemoryPendingLogins`], is right for one instance. Behind a load balancer, share
    /// them (`RedisStore`, feature `redis`): a login started at one instance is then finished
    /// by the webhook or the poll at any other, with no sticky sessions.
    pub fn pending_logins(mut self, store: Arc<dyn PendingLoginStore>) -> Self {
        self.logins = Some(store);
        self
    }

    /// Where consent receipts that come with plaintext fields are recorded.
    pub fn consents(mut self, ledger: Arc<dyn ConsentLedger>) -> Self {
        self.consents = Some(ledger);
        self
    }

    /// How long the consents recorded from the platform's receipts, and the fields kept under
    /// them, may be kept, by purpose (PIPL Art. 19, Art. 47 §1 item 2). Default:
    /// [`RetentionPolicy::new`], every purpose [`RetentionPolicy::DEFAULT_PERIOD`] (30 days).
    /// State the period for the purpose of a fields request: the one the law you cite sets.
    pub fn retention(mut self, policy: RetentionPolicy) -> Self {
        self.retention = policy;
        self
    }

    /// Where every attempt is recorded (docs/AUDIT.md): each verification and its outcome
    /// (verified, not verified, refused, declined, expired, failed), by 网号/网证 or another
    /// method, with the platform's signed result token when it passed verification; each
    /// re-verification, consent granted or withdrawn, and logout. An attempt's answer — a
    /// session or a refusal — is held with a retryable 503 until its record is written (fail
    /// closed), and given on the browser's next poll.
    pub fn audit(mut self, log: Arc<dyn AuditLog>) -> Self {
        self.audit = Some(log);
        self
    }

    /// Where plaintext fields released with consent are kept (sealed). Without a vault they
    /// are dropped, and zeroized, after login. The flow gives the vault its session manager's
    /// clock ([`Vault::with_clock`]).
    pub fn vault(mut self, vault: Vault) -> Self {
        self.vault = Some(vault);
        self
    }

    /// Adds another lawful way of verifying users (equal service, Art. 7 §3).
    pub fn verifier(mut self, verifier: Arc<dyn IdentityVerifier>) -> Self {
        self.verifiers.insert(verifier.method(), verifier);
        self
    }

    /// Builds the flow. Warns (`tracing`) when it asks for fields, to be kept, for a purpose
    /// the retention policy does not name.
    pub fn build(self) -> LoginFlow {
        let purpose = &self.request.purpose;
        if !self.request.requested_fields().is_empty()
            && self.consents.is_some()
            && !self.retention.states(purpose)
        {
            tracing::warn!(
                purpose = %purpose,
                default_days = RetentionPolicy::DEFAULT_PERIOD.as_secs() / 86_400,
                "the login asks for fields for a purpose the retention policy does not name: \
                 consents and kept fields expire after the default period \
                 (LoginFlowBuilder::retention)"
            );
        }
        // One clock for the whole flow: the session manager's, handed to the vault too.
        let clock = Arc::clone(self.sessions.clock());
        LoginFlow {
            inner: Arc::new(Inner {
                client: self.client,
                sessions: self.sessions,
                request: self.request,
                consents: self.consents,
                retention: self.retention,
                audit: self.audit,
                vault: self.vault.map(|v| v.with_clock(clock)),
                verifiers: self.verifiers,
                pending_limits: self.pending_limits,
                logins: self
                    .logins
                    .unwrap_or_else(|| Arc::new(InMemoryPendingLogins::new())),
                reverifications: Mutex::new(HashMap::new()),
            }),
        }
    }
}

/// Records one verification outcome per method, so a platform can show parity (Art. 7 §3).
pub(crate) fn record_outcome(method: &Method, outcome: &'static str) {
    metrics::counter!(
        "netid_verification_outcomes_total",
        "method" => method.label().to_owned(),
        "outcome" => outcome
    )
    .increment(1);
}

/// A start past the caps, or a store that cannot answer, as the browser sees it.
fn refuse_start(e: PendingError) -> Problem {
    let refuse = |reason: &'static str, problem: Problem| {
        metrics::counter!("netid_login_start_refused_total", "reason" => reason).increment(1);
        tracing::warn!(reason, "login start refused: too many pending logins");
        problem
    };
    match e {
        PendingError::Full => refuse(
            "total",
            Problem::unavailable("the sign-in service", "登录服务"),
        ),
        PendingError::ClientFull => refuse(
            "per_client",
            Problem::of(ProblemKind::RateLimited).with_detail(
                "too many sign-ins in progress from this address; finish or wait for one",
                "此地址进行中的登录过多，请先完成或等待已有的登录。",
            ),
        ),
        PendingError::Store(e) => store_problem(e),
    }
}

/// The pending-login store failed: retry later if it was unreachable; else an operator looks.
fn store_problem(e: StoreError) -> Problem {
    if e.actor() == Actor::RetryLater {
        tracing::warn!(code = e.code(), "pending-login store unavailable");
        Problem::unavailable("the sign-in store", "登录状态存储")
    } else {
        tracing::error!(code = e.code(), error = %e, "pending-login store failed");
        Problem::internal()
    }
}

fn encode(login: &PendingLogin) -> Vec<u8> {
    // Plain data with string keys: serialising it cannot fail.
    serde_json::to_vec(login).unwrap_or_default()
}

fn client_problem(e: &ClientError) -> Problem {
    match e {
        ClientError::Declined => Problem::of(ProblemKind::LoginDeclined),
        ClientError::NotAnswered => Problem::of(ProblemKind::LoginExpired),
        e => match e.kind() {
            Actor::RetryLater => Problem::unavailable("the identity platform", "身份认证平台"),
            Actor::SecurityEvent => {
                tracing::warn!(code = e.code(), "identity platform answer refused");
                Problem::of(ProblemKind::PlatformInvalid)
            }
            _ => {
                tracing::error!(code = e.code(), error = %e, "login misconfigured");
                Problem::internal()
            }
        },
    }
}

impl LoginFlow {
    /// A flow that logs users in with `client` and issues sessions with `sessions`.
    pub fn builder(client: NetIdClient, sessions: SessionManager) -> LoginFlowBuilder {
        LoginFlowBuilder {
            pending_limits: PendingLimits::default(),
            client,
            sessions,
            request: VerificationRequest::verify_only("登录 / sign-in"),
            consents: None,
            retention: RetentionPolicy::new(),
            audit: None,
            vault: None,
            verifiers: HashMap::new(),
            logins: None,
        }
    }

    /// Whether attempts are recorded: an audit log was given ([`LoginFlowBuilder::audit`]).
    pub fn has_audit_log(&self) -> bool {
        self.inner.audit.is_some()
    }

    /// The session manager.
    pub fn sessions(&self) -> &SessionManager {
        &self.inner.sessions
    }

    /// Now, by the session manager's clock ([`SessionManagerBuilder::clock`]).
    ///
    /// [`SessionManagerBuilder::clock`]: super::SessionManagerBuilder::clock
    pub(crate) fn now(&self) -> u64 {
        self.inner.sessions.clock().now()
    }

    /// What each login asks the platform for.
    pub fn request(&self) -> &VerificationRequest {
        &self.inner.request
    }

    /// Starts a 网号/网证 login for one browser.
    pub async fn start(&self) -> Result<LoginStart, Problem> {
        self.start_from(None).await
    }

    /// Starts a 网号/网证 login for one browser at `client` (the peer address, for the
    /// per-client cap). Pending logins are capped ([`LoginFlowBuilder::pending_limits`]) before
    /// the platform is asked anything: past the per-client cap a start is refused with 429
    /// `netid.rate_limited`, past the overall cap with 503 `netid.unavailable`, and each refusal
    /// is counted (`netid_login_start_refused_total{reason}`).
    pub async fn start_from(
        &self,
        client: Option<std::net::IpAddr>,
    ) -> Result<LoginStart, Problem> {
        let limits = self.inner.pending_limits;
        self.inner
            .logins
            .admits(client, limits, self.now())
            .await
            .map_err(refuse_start)?;
        let pending = self
            .inner
            .client
            .authorize(self.inner.request.clone())
            .await
            .map_err(|e| client_problem(&e))?;
        let binding = crate::random::token(24);
        let start = LoginStart {
            authz_id: pending.authz_id().to_string(),
            qr_payload: pending.qr_payload().to_owned(),
            app_link: pending.app_link().to_owned(),
            expires_at: pending.expires_at(),
            browser_binding: binding.clone(),
        };
        let login = NewPendingLogin {
            key: sm3(binding.as_bytes()),
            authz_id: pending.authz_id().to_string(),
            client,
            forget_at: pending.expires_at() + PENDING_GRACE_SECS,
            state: encode(&PendingLogin {
                pending,
                finished: None,
            }),
        };
        // Checked again, atomically: other starts, at any instance, may have filled the store
        // while the platform answered.
        self.inner
            .logins
            .insert(login, limits, self.now())
            .await
            .map_err(refuse_start)?;
        Ok(start)
    }

    /// Asks whether the login bound to `browser_binding` is done; on success issues a session.
    /// However the attempt ends, its record is written first (with an audit log configured).
    /// While another request, at any instance, is concluding the same login, the answer is
    /// [`LoginStatus::Pending`]: a login is accepted once.
    pub async fn poll(&self, browser_binding: &str) -> Result<LoginStatus, Problem> {
        let key = sm3(browser_binding.as_bytes());
        let holder = crate::random::token(12);
        if !self.claim(&key, &holder).await? {
            return Ok(LoginStatus::Pending);
        }
        let status = self.poll_claimed(&key).await;
        self.release(&key, &holder).await;
        status
    }

    async fn poll_claimed(&self, key: &LoginKey) -> Result<LoginStatus, Problem> {
        let login = self
            .load(key)
            .await?
            .ok_or_else(|| Problem::of(ProblemKind::LoginUnknown))?;
        let pending = login.pending;
        let mut finished = match login.finished {
            Some(finished) => finished.into_finished()?,
            // A store or network that cannot answer now keeps the login: the browser's next
            // poll finishes it. Anything else ends it.
            None => match self.inner.client.poll_token(&pending).await {
                Ok(None) => return Ok(LoginStatus::Pending),
                Ok(Some(token)) => {
                    let result = self.inner.client.complete(&pending, &token).await;
                    self.conclude(&pending, Some(&token), result).await?
                }
                Err(e) => self.conclude(&pending, None, Err(e)).await?,
            },
        };
        if let Err(problem) = self.write(&mut finished.records).await {
            // The answer is used up at the platform: keep it, and write the rest of its
            // records on the browser's next poll.
            self.keep_finished(key, pending, finished).await?;
            return Err(problem);
        }
        // Exactly one remover gets the answer.
        if !self.inner.logins.remove(key).await.map_err(store_problem)? {
            return Err(Problem::of(ProblemKind::LoginUnknown));
        }
        let user = finished.outcome?;
        let session = self
            .inner
            .sessions
            .issue(&user)
            .map_err(|e| e.to_problem())?;
        Ok(LoginStatus::Completed { user, session })
    }

    /// Completes a login from the platform's signed webhook, and records the attempt. The
    /// browser that started it still has to poll to receive its session, or its refusal. The
    /// login may have been started at any instance sharing the pending-login store.
    pub async fn callback(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<(), Problem> {
        let event = self
            .inner
            .client
            .verify_callback(headers, body)
            .await
            .map_err(|e| {
                if e.kind() == Actor::RetryLater {
                    // The replay guard could not answer: the platform retries later.
                    tracing::warn!(code = e.code(), "webhook held: a store is unavailable");
                    return Problem::unavailable("the replay guard", "防重放存储");
                }
                tracing::warn!(code = e.code(), "webhook refused");
                // The platform's own code where it is one of ours (a replay, a stale
                // signature), else: the sender is not the platform.
                let kind = ProblemKind::from_code(e.code())
                    .filter(|k| k.status() == 401)
                    .unwrap_or(ProblemKind::Unauthenticated);
                Problem::of(kind).with_detail(
                    "the webhook's signature or form is invalid",
                    "回调的签名或格式无效。",
                )
            })?;
        if event.duplicate {
            return Ok(());
        }
        let Some(key) = self
            .inner
            .logins
            .find(event.authz_id.as_str())
            .await
            .map_err(store_problem)?
        else {
            return Ok(()); // not ours, or already finished by polling
        };
        let holder = crate::random::token(12);
        if !self.claim(&key, &holder).await? {
            // A poll is concluding it now; the platform retries, and finds it done.
            return Err(Problem::unavailable("the sign-in store", "登录状态存储"));
        }
        let taken = self.callback_claimed(&key, &event).await;
        self.release(&key, &holder).await;
        taken
    }

    async fn callback_claimed(
        &self,
        key: &LoginKey,
        event: &crate::client::WebhookEvent,
    ) -> Result<(), Problem> {
        let Some(login) = self.load(key).await? else {
            return Ok(());
        };
        if login.finished.is_some() {
            return Ok(());
        }
        let pending = login.pending;
        let token = match &event.kind {
            WebhookKind::Approved { token } => Some(token.as_str()),
            _ => None,
        };
        let result = self.inner.client.complete_callback(&pending, event).await;
        // Only what may succeed later is the webhook's error (the platform retries it). Any
        // other ending — a refusal too — is the login's answer: the webhook is taken (2xx) and
        // the browser's next poll gets it.
        let mut finished = self.conclude(&pending, token, result).await?;
        // Recorded now, so the attempt is on record even if the browser never comes back; what
        // the log cannot take yet is written on the browser's poll.
        if let Err(problem) = self.write(&mut finished.records).await {
            tracing::debug!(
                code = problem.code,
                "attempt recorded at the browser's poll"
            );
        }
        self.keep_finished(key, pending, finished).await
    }

    async fn claim(&self, key: &LoginKey, holder: &str) -> Result<bool, Problem> {
        self.inner
            .logins
            .claim(key, holder, CONCLUDE_LEASE)
            .await
            .map_err(store_problem)
    }

    /// Gives the login back; if the store cannot hear it, the lease ends by itself.
    async fn release(&self, key: &LoginKey, holder: &str) {
        if let Err(e) = self.inner.logins.release(key, holder).await {
            tracing::debug!(code = e.code(), "claim left to lapse");
        }
    }

    async fn load(&self, key: &LoginKey) -> Result<Option<PendingLogin>, Problem> {
        let Some(state) = self.inner.logins.get(key).await.map_err(store_problem)? else {
            return Ok(None);
        };
        serde_json::from_slice(&state).map(Some).map_err(|_| {
            tracing::error!("a pending login's stored state is unreadable");
            Problem::internal()
        })
    }

    /// Keeps the answer of a login for the browser's poll.
    async fn keep_finished(
        &self,
        key: &LoginKey,
        pending: PendingAuthorization,
        finished: Finished,
    ) -> Result<(), Problem> {
        let state = encode(&PendingLogin {
            pending,
            finished: Some(finished.into()),
        });
        self.inner
            .logins
            .update(key, state)
            .await
            .map_err(store_problem)?;
        Ok(())
    }

    /// How a login attempt ended, counted, with the records to write, dated by the flow's
    /// clock: the answer, or an error worth retrying (the login stays as it was).
    async fn conclude(
        &self,
        pending: &PendingAuthorization,
        token: Option<&str>,
        result: Result<Verified<IdentityResult>, ClientError>,
    ) -> Result<Finished, Problem> {
        let finished = self.conclude_undated(pending, token, result).await?;
        Ok(finished.at(self.now()))
    }

    async fn conclude_undated(
        &self,
        pending: &PendingAuthorization,
        token: Option<&str>,
        result: Result<Verified<IdentityResult>, ClientError>,
    ) -> Result<Finished, Problem> {
        let result = match result {
            Err(e) if e.kind() == Actor::RetryLater => return Err(client_problem(&e)),
            Err(e) => {
                record_outcome(&Method::NetId, outcome_label(&e));
                let record = failed_attempt(AuditAction::Verification, None, pending, token, &e);
                return Ok(Finished {
                    outcome: Err(client_problem(&e)),
                    records: vec![record],
                });
            }
            Ok(result) => result,
        };
        match judge(&result.claims) {
            Err(refusal) => Ok(Finished {
                outcome: Err(refusal),
                records: vec![refused_answer(AuditAction::Verification, &result)],
            }),
            Ok(user) => {
                let (user, records) = self.accept(user, &result).await?;
                Ok(Finished {
                    outcome: Ok(user),
                    records,
                })
            }
        }
    }

    /// Appends `records` to the audit log in order, removing each once written; the first that
    /// cannot be written stops it (the rest stay for the next try).
    async fn write(&self, records: &mut Vec<AuditEvent>) -> Result<(), Problem> {
        while let Some(event) = records.first() {
            self.record(event.clone()).await?;
            records.remove(0);
        }
        Ok(())
    }

    /// Appends `event` to the audit log, if there is one.
    async fn record(&self, event: AuditEvent) -> Result<(), Problem> {
        let Some(log) = &self.inner.audit else {
            return Ok(());
        };
        match log.append(event).await {
            Ok(_) => Ok(()),
            Err(e) if e.actor() == Actor::RetryLater => {
                tracing::warn!(code = e.code(), "audit log unavailable; answer held");
                Err(Problem::unavailable("the audit log", "审计日志"))
            }
            Err(e) => {
                tracing::error!(code = e.code(), error = %e, "audit log refused a record");
                Err(Problem::internal())
            }
        }
    }

    /// Records a verified user's consent receipt (and keeps the fields it covers, sealed),
    /// counts the verification, and returns the user with their audit records: the
    /// verification (keeping the signed token), then the consent granted, if a receipt came.
    async fn accept(
        &self,
        user: VerifiedUser,
        result: &Verified<IdentityResult>,
    ) -> Result<(VerifiedUser, Vec<AuditEvent>), Problem> {
        let mut event = AuditEvent::new(
            AuditAction::Verification,
            user.subject(),
            "verified",
            Method::NetId.label(),
        )
        .assurance(user.assurance().level())
        .authz_id(result.authz_id.as_str());
        event = keep_token(event, result);
        if let Some(fields) = &result.fields {
            event = event.fields(fields.names().iter());
        }
        let mut granted = None;
        if let Some(receipt) = &result.consent {
            if let Some(ledger) = &self.inner.consents {
                let consent = self
                    .inner
                    .retention
                    .apply(ConsentRecord::from_receipt(user.subject(), receipt));
                ledger
                    .record(consent.clone())
                    .await
                    .map_err(|_| Problem::unavailable("the consent ledger", "同意记录"))?;
                if let (Some(vault), Some(fields)) = (&self.inner.vault, &result.fields) {
                    vault.keep(&consent, fields).await.map_err(|e| {
                        tracing::warn!(code = e.code(), "consented fields not kept");
                        Problem::unavailable("the field vault", "字段保管库")
                    })?;
                }
            }
            event = event.consent_id(&receipt.id);
            // The receipt is in the signed token the verification's record keeps.
            granted = Some(
                AuditEvent::new(
                    AuditAction::ConsentGranted,
                    user.subject(),
                    "granted",
                    Method::NetId.label(),
                )
                .fields(receipt.fields.iter())
                .consent_id(&receipt.id)
                .authz_id(result.authz_id.as_str())
                .token_sm3(result.token_sm3()),
            );
        }
        record_outcome(&Method::NetId, "verified");
        Ok((user, std::iter::once(event).chain(granted).collect()))
    }

    /// Logs in a user verified by the platform's own lawful method `method`, and records the
    /// attempt however it ends.
    pub async fn login_other(
        &self,
        method: &str,
        evidence: &[u8],
    ) -> Result<(VerifiedUser, String), Problem> {
        let verifier = self
            .inner
            .verifiers
            .get(method)
            .ok_or_else(|| Problem::of(ProblemKind::MethodUnknown))?;
        let label = Method::Other(verifier.method().to_owned());
        let now = self.now();
        let attempt = |subject: Option<&str>, outcome: &str| {
            match subject {
                Some(s) => AuditEvent::new(AuditAction::Verification, s, outcome, label.label()),
                None => {
                    AuditEvent::without_subject(AuditAction::Verification, outcome, label.label())
                }
            }
            .at(now)
        };
        let verified = match verifier.verify(evidence).await {
            Ok(verified) => verified,
            Err(_) => {
                record_outcome(&label, "not_verified");
                // The verifier's message is its own text: not recorded.
                self.record(attempt(None, "not_verified")).await?;
                return Err(Problem::of(ProblemKind::NotVerified)
                    .with_detail("the verification failed", "核验未通过。"));
            }
        };
        let (age_tag, guardian_consent, assurance) = (
            verified.age_tag,
            verified.guardian_consent,
            verified.assurance,
        );
        let user = VerifiedUser::from_other(verifier.method(), verified, self.now());
        // However the child verified: Art. 5 §2 for 网号/网证, PIPL Art. 31 §1 for the rest.
        if lacks_guardian_consent(age_tag, guardian_consent) {
            record_outcome(&label, GUARDIAN_CONSENT_REQUIRED);
            let subject = user.as_ref().map(VerifiedUser::subject);
            self.record(
                attempt(subject, "refused")
                    .reason(GUARDIAN_CONSENT_REQUIRED)
                    .assurance(assurance.level()),
            )
            .await?;
            return Err(Problem::guardian_consent_required());
        }
        let Some(user) = user else {
            // The verifier's code must be fixed; the user cannot.
            tracing::error!(
                method = verifier.method(),
                "an identity verifier gave a method name or subject netid cannot namespace"
            );
            record_outcome(&label, "not_verified");
            self.record(attempt(None, "failed").reason(VERIFIER_OUTPUT_INVALID))
                .await?;
            return Err(Problem::internal());
        };
        self.record(attempt(Some(user.subject()), "verified").assurance(user.assurance().level()))
            .await?;
        record_outcome(&label, "verified");
        let session = self
            .inner
            .sessions
            .issue(&user)
            .map_err(|e| e.to_problem())?;
        Ok((user, session))
    }

    /// Starts a re-verification of the 网号/网证 user `subject`: a fresh, live verification (R03
    /// or above) that must come from the same person. The Anti-Telecom-Fraud Law Art. 33
    /// (《反电信网络诈骗法》第三十三条) says a provider *may* (可以) re-verify an account showing
    /// fraud-related anomalies; `reason` is shown to the user. Show the user the returned
    /// authorization's QR code or app link, keep it server-side, and finish with
    /// [`poll_reverification`](Self::poll_reverification), which records the outcome.
    pub async fn start_reverification(
        &self,
        subject: &Pseudonym,
        reason: &str,
    ) -> Result<PendingAuthorization, Problem> {
        self.inner
            .client
            .reverify(subject, reason)
            .await
            .map_err(|e| client_problem(&e))
    }

    /// Asks whether the re-verification `pending` is answered. Every ending is recorded in the
    /// audit log (action `reverification`) before it is returned: confirmed (`verified`, with
    /// the signed token), not confirmed (`not_verified` and the platform's reason), or — as an
    /// error — declined, expired or failed. An answer the log cannot take yet is held, with a
    /// retryable 503, and given on the next call.
    pub async fn poll_reverification(
        &self,
        pending: &PendingAuthorization,
    ) -> Result<ReverificationStatus, Problem> {
        let Some(subject) = pending.request().reverified_subject() else {
            tracing::error!("poll_reverification was given a login's authorization");
            return Err(Problem::internal());
        };
        let key = pending.authz_id().as_str().to_owned();
        let held = self.held().remove(&key);
        let mut finished = match held {
            Some(held) => held.finished,
            None => match self.inner.client.poll_token(pending).await {
                Ok(None) => return Ok(ReverificationStatus::Pending),
                Ok(Some(token)) => {
                    let result = self.inner.client.complete(pending, &token).await;
                    conclude_reverification(subject, pending, Some(&token), result)?.at(self.now())
                }
                Err(e) => conclude_reverification(subject, pending, None, Err(e))?.at(self.now()),
            },
        };
        if let Err(problem) = self.write(&mut finished.records).await {
            let now = self.now();
            let mut held = self.held();
            held.retain(|_, h| h.expires_at + 300 > now);
            held.insert(
                key,
                HeldReverification {
                    expires_at: pending.expires_at(),
                    finished,
                },
            );
            return Err(problem);
        }
        finished.outcome
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, HeldReverification>> {
        self.inner
            .reverifications
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Records a consent the application collected itself — the user agreed, on the
    /// application's own page, to provide or let it process identity data (Art. 7 §2, Art. 8
    /// §3) — in the audit log (`consent_granted`, method `app`), then in the consent ledger.
    /// Consents that come with a 网号/网证 result are recorded by the login itself.
    pub async fn record_consent(&self, consent: ConsentRecord) -> Result<(), Problem> {
        self.record_consent_in(self.ledger()?.as_ref(), consent)
            .await
    }

    /// [`record_consent`](Self::record_consent) into `ledger` (the rules' own, for the consent
    /// route).
    pub(crate) async fn record_consent_in(
        &self,
        ledger: &dyn ConsentLedger,
        consent: ConsentRecord,
    ) -> Result<(), Problem> {
        self.record(
            AuditEvent::new(
                AuditAction::ConsentGranted,
                consent.subject.as_str(),
                "granted",
                "app",
            )
            .fields(consent.fields.iter().copied())
            .consent_id(consent.id.as_str())
            .at(consent.granted_at),
        )
        .await?;
        ledger
            .record(consent)
            .await
            .map_err(|_| Problem::unavailable("the consent ledger", "同意记录"))
    }

    /// Withdraws the consent `consent_id` of `subject` (PIPL Art. 15 §1: 个人有权撤回其同意)
    /// and records the withdrawal (`consent_withdrawn`, method `user_request`). `false` when
    /// there is no live consent with that id (nothing is recorded). The record is written
    /// before the ledger changes: if the ledger then fails, the retry records the withdrawal a
    /// second time — the log may show it twice, never miss it.
    pub async fn withdraw_consent(&self, subject: &str, consent_id: &str) -> Result<bool, Problem> {
        self.withdraw_consent_in(self.ledger()?.as_ref(), subject, consent_id)
            .await
    }

    /// [`withdraw_consent`](Self::withdraw_consent) in `ledger` (the rules' own, for the
    /// consent route). With a vault, the sealed fields the consent covered are deleted first
    /// (PIPL Art. 47 §1 item 3).
    pub(crate) async fn withdraw_consent_in(
        &self,
        ledger: &dyn ConsentLedger,
        subject: &str,
        consent_id: &str,
    ) -> Result<bool, Problem> {
        let unavailable = |_| Problem::unavailable("the consent ledger", "同意记录");
        let now = self.now();
        let live = ledger
            .for_subject(subject)
            .await
            .map_err(unavailable)?
            .into_iter()
            .find(|c| c.id == consent_id && c.is_live(now));
        let Some(consent) = live else {
            return Ok(false);
        };
        self.record(
            AuditEvent::new(
                AuditAction::ConsentWithdrawn,
                subject,
                "withdrawn",
                "user_request",
            )
            .fields(consent.fields.iter().copied())
            .consent_id(consent_id)
            .at(now),
        )
        .await?;
        if let Some(vault) = &self.inner.vault {
            vault
                .store()
                .erase_consent(subject, consent_id)
                .await
                .map_err(|_| Problem::unavailable("the field vault", "字段保管库"))?;
        }
        ledger
            .withdraw(subject, consent_id, now)
            .await
            .map_err(unavailable)
    }

    /// The consent ledger, which the consent calls need.
    /// How long consents may be kept, by purpose.
    pub(crate) fn retention(&self) -> &RetentionPolicy {
        &self.inner.retention
    }

    fn ledger(&self) -> Result<&Arc<dyn ConsentLedger>, Problem> {
        self.inner.consents.as_ref().ok_or_else(|| {
            tracing::error!("a consent call on a LoginFlow built without .consents(…)");
            Problem::internal()
        })
    }

    /// Ends a session, and records the logout in the audit log. Safe to repeat.
    pub async fn logout(&self, session: &str) -> Result<(), Problem> {
        let user = self
            .inner
            .sessions
            .revoke(session)
            .await
            .map_err(|e| e.to_problem())?;
        self.record(
            AuditEvent::new(
                AuditAction::Logout,
                user.subject(),
                "logged_out",
                user.method.label(),
            )
            .at(self.now()),
        )
        .await
    }
}

/// How a re-verification ended, with its record: the answer, or an error worth retrying.
fn conclude_reverification(
    subject: &str,
    pending: &PendingAuthorization,
    token: Option<&str>,
    result: Result<Verified<IdentityResult>, ClientError>,
) -> Result<Finished<ReverificationStatus>, Problem> {
    let result = match result {
        Err(e) if e.kind() == Actor::RetryLater => return Err(client_problem(&e)),
        Err(e) => {
            let record = failed_attempt(
                AuditAction::Reverification,
                Some(subject),
                pending,
                token,
                &e,
            );
            return Ok(Finished {
                outcome: Err(client_problem(&e)),
                records: vec![record],
            });
        }
        Ok(result) => result,
    };
    let claims = &result.claims;
    let (outcome, record) = match claims.outcome {
        VerificationOutcome::Verified => {
            let record = AuditEvent::new(
                AuditAction::Reverification,
                claims.subject.as_str(),
                "verified",
                Method::NetId.label(),
            )
            .assurance(claims.assurance.level())
            .authz_id(claims.authz_id.as_str());
            (
                ReverificationStatus::Confirmed {
                    assurance: claims.assurance,
                },
                keep_token(record, &result),
            )
        }
        VerificationOutcome::NotVerified(reason) => (
            ReverificationStatus::NotConfirmed { reason },
            refused_answer(AuditAction::Reverification, &result),
        ),
    };
    Ok(Finished {
        outcome: Ok(outcome),
        records: vec![record],
    })
}

/// The record of an answer that ended an attempt without verifying: declined, expired, or
/// `failed` with the error code. A token received is recorded by its SM3 only: it failed
/// verification, so it may be anyone's bytes, and its `sub` names no one for sure.
fn failed_attempt(
    action: AuditAction,
    subject: Option<&str>,
    pending: &PendingAuthorization,
    token: Option<&str>,
    error: &ClientError,
) -> AuditEvent {
    let outcome = match error {
        ClientError::Declined => "declined",
        ClientError::NotAnswered => "expired",
        _ => "failed",
    };
    let method = Method::NetId.label();
    let mut event = match subject {
        Some(subject) => AuditEvent::new(action, subject, outcome, method),
        None => AuditEvent::without_subject(action, outcome, method),
    }
    .authz_id(pending.authz_id().as_str());
    if outcome == "failed" {
        event = event.reason(error.code());
    }
    if let Some(token) = token {
        event = event.token_sm3(&sm3(token.as_bytes()));
    }
    event
}

/// The record of a checked answer that does not sign anyone in: `not_verified` with the
/// platform's reason, or `refused` (a `verified` answer for an under-14 without a guardian's
/// consent, Art. 5 §2). The signed token is kept: the refusal rests on it.
fn refused_answer(action: AuditAction, result: &Verified<IdentityResult>) -> AuditEvent {
    let claims = &result.claims;
    let (outcome, reason) = match claims.outcome {
        VerificationOutcome::NotVerified(reason) => ("not_verified", reason.as_str()),
        VerificationOutcome::Verified => ("refused", GUARDIAN_CONSENT_REQUIRED),
    };
    let event = AuditEvent::new(
        action,
        claims.subject.as_str(),
        outcome,
        Method::NetId.label(),
    )
    .reason(reason)
    .assurance(claims.assurance.level())
    .authz_id(claims.authz_id.as_str());
    keep_token(event, result)
}

/// Keeps the signed token in `event`; should the token not scan clean for identity data (no
/// protocol v1 token fails), only its SM3.
fn keep_token(event: AuditEvent, result: &Verified<IdentityResult>) -> AuditEvent {
    match crate::audit::check_token(result.token()) {
        Ok(()) => event.token(result.token()),
        Err(_) => {
            tracing::warn!("a result token was not kept in the audit log, only its SM3");
            event.token_sm3(result.token_sm3())
        }
    }
}

/// The reason recorded when another method's verifier returned a subject or method name netid
/// cannot use.
const VERIFIER_OUTPUT_INVALID: &str = "login.verifier_output_invalid";

/// The outcome label of a login refused under Art. 5 §2.
const GUARDIAN_CONSENT_REQUIRED: &str = "guardian_consent_required";

/// Whether a checked result lets its user sign in: it must be a verification (Art. 5 §2: not
/// one of an under-14 without a guardian's consent, in either shape the platform may send). A
/// refusal is counted here.
fn judge(claims: &crate::token::ResultClaims) -> Result<VerifiedUser, Problem> {
    if claims.guardian_consent_missing() {
        record_outcome(&Method::NetId, GUARDIAN_CONSENT_REQUIRED);
        return Err(Problem::guardian_consent_required());
    }
    VerifiedUser::from_netid(claims).ok_or_else(|| {
        record_outcome(&Method::NetId, "not_verified");
        Problem::of(ProblemKind::NotVerified)
    })
}

fn outcome_label(e: &ClientError) -> &'static str {
    match e {
        ClientError::Declined => "declined",
        ClientError::NotAnswered => "expired",
        _ => "error",
    }
}
