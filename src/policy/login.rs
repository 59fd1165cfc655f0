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

use super::age::lacks_guardian_consent;
use super::session::SessionManager;
use super::user::{IdentityVerifier, Method, VerifiedUser};
use super::{Problem, ProblemKind};
use crate::audit::{AuditAction, AuditEvent, AuditLog};
use crate::client::{
    ClientError, NetIdClient, PendingAuthorization, PollOutcome, VerificationRequest,
};
use crate::clock::unix_now;
use crate::crypto::sm3;
use crate::error::{Actor, ErrorCode};
use crate::store::Vault;
use crate::store::{ConsentLedger, ConsentRecord, RetentionPolicy};

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

struct PendingLogin {
    pending: PendingAuthorization,
    /// Set when a webhook completed the authorization before the browser polled, or when the
    /// audit log could not record it yet.
    completed: Option<Finished>,
}

/// How an authorization ended, for the browser's next poll.
#[derive(Clone)]
enum Finished {
    /// Signed in: the user, and the record still to append.
    User(VerifiedUser, Option<AuditEvent>),
    /// Refused for good (not verified; under 14 without a guardian's consent).
    Refused(Problem),
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
    /// SM3(browser binding) → login.
    logins: Mutex<HashMap<[u8; 32], PendingLogin>>,
}

impl std::fmt::Debug for LoginFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginFlow").finish_non_exhaustive()
    }
}

/// Builds a [`LoginFlow`].
pub struct LoginFlowBuilder {
    client: NetIdClient,
    sessions: SessionManager,
    request: VerificationRequest,
    consents: Option<Arc<dyn ConsentLedger>>,
    retention: RetentionPolicy,
    audit: Option<Arc<dyn AuditLog>>,
    vault: Option<Vault>,
    verifiers: HashMap<&'static str, Arc<dyn IdentityVerifier>>,
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

    /// Where every verification the application relies on is recorded (and every logout): a
    /// login is refused with a retryable 503 until its record is written (fail closed).
    pub fn audit(mut self, log: Arc<dyn AuditLog>) -> Self {
        self.audit = Some(log);
        self
    }

    /// Where plaintext fields released with consent are kept (sealed). Without a vault they
    /// are dropped, and zeroized, after login.
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
        LoginFlow {
            inner: Arc::new(Inner {
                client: self.client,
                sessions: self.sessions,
                request: self.request,
                consents: self.consents,
                retention: self.retention,
                audit: self.audit,
                vault: self.vault,
                verifiers: self.verifiers,
                logins: Mutex::new(HashMap::new()),
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
            client,
            sessions,
            request: VerificationRequest::verify_only("登录 / sign-in"),
            consents: None,
            retention: RetentionPolicy::new(),
            audit: None,
            vault: None,
            verifiers: HashMap::new(),
        }
    }

    /// The session manager.
    pub fn sessions(&self) -> &SessionManager {
        &self.inner.sessions
    }

    /// What each login asks the platform for.
    pub fn request(&self) -> &VerificationRequest {
        &self.inner.request
    }

    fn logins(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], PendingLogin>> {
        self.inner.logins.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a 网号/网证 login for one browser.
    pub async fn start(&self) -> Result<LoginStart, Problem> {
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
        let now = unix_now();
        let mut logins = self.logins();
        logins.retain(|_, l| l.pending.expires_at() + 300 > now);
        logins.insert(
            sm3(binding.as_bytes()),
            PendingLogin {
                pending,
                completed: None,
            },
        );
        Ok(start)
    }

    /// Asks whether the login bound to `browser_binding` is done; on success issues a session.
    pub async fn poll(&self, browser_binding: &str) -> Result<LoginStatus, Problem> {
        let key = sm3(browser_binding.as_bytes());
        let (pending, completed) = {
            let logins = self.logins();
            let login = logins
                .get(&key)
                .ok_or_else(|| Problem::of(ProblemKind::LoginUnknown))?;
            (login.pending.clone(), login.completed.clone())
        };
        let (user, record) = match completed {
            Some(Finished::User(user, record)) => (user, record),
            Some(Finished::Refused(refusal)) => {
                self.logins().remove(&key);
                return Err(refusal);
            }
            None => match self.inner.client.poll(&pending).await {
                Ok(PollOutcome::Pending) => return Ok(LoginStatus::Pending),
                Ok(PollOutcome::Done(result)) => match judge(&result.claims) {
                    Err(refusal) => {
                        self.logins().remove(&key);
                        return Err(refusal);
                    }
                    Ok(user) => {
                        let (user, event) = self.accept(user, &result).await?;
                        (user, Some(event))
                    }
                },
                // A store or network that cannot answer now keeps the login: the browser's
                // next poll finishes it. Anything else ends it.
                Err(e) if e.kind() == Actor::RetryLater => return Err(client_problem(&e)),
                Err(e) => {
                    self.logins().remove(&key);
                    record_outcome(&Method::NetId, outcome_label(&e));
                    return Err(client_problem(&e));
                }
            },
        };
        if let Some(event) = record
            && let Err(problem) = self.record(event.clone()).await
        {
            // The result is used up at the platform: keep the user, and write the record
            // on the browser's next poll.
            if let Some(l) = self.logins().get_mut(&key) {
                l.completed = Some(Finished::User(user, Some(event)));
            }
            return Err(problem);
        }
        self.logins().remove(&key);
        let session = self
            .inner
            .sessions
            .issue(&user)
            .map_err(|e| e.to_problem())?;
        Ok(LoginStatus::Completed { user, session })
    }

    /// Completes a login from the platform's signed webhook. The browser that started it still
    /// has to poll to receive its session.
    pub async fn callback(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<(), Problem> {
        let event = self
            .inner
            .client
            .verify_callback(headers, body)
            .await
            .map_err(|e| {
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
        let found = {
            let logins = self.logins();
            logins
                .iter()
                .find(|(_, l)| l.pending.authz_id() == &event.authz_id)
                .map(|(k, l)| (*k, l.pending.clone()))
        };
        let Some((key, pending)) = found else {
            return Ok(()); // not ours, or already finished by polling
        };
        match self.inner.client.complete_callback(&pending, &event).await {
            Ok(result) => {
                // A refusal is the login's answer, not the webhook's: the webhook is taken (2xx,
                // so the platform does not retry it) and the browser's next poll gets the refusal.
                let finished = match judge(&result.claims) {
                    Err(refusal) => Finished::Refused(refusal),
                    Ok(user) => {
                        let (user, event) = self.accept(user, &result).await?;
                        Finished::User(user, Some(event))
                    }
                };
                if let Some(l) = self.logins().get_mut(&key) {
                    l.completed = Some(finished);
                }
                Ok(())
            }
            Err(e) if e.kind() == Actor::RetryLater => Err(client_problem(&e)),
            Err(e) => {
                self.logins().remove(&key);
                record_outcome(&Method::NetId, outcome_label(&e));
                Err(client_problem(&e))
            }
        }
    }

    /// Appends `event` to the audit log, if there is one.
    async fn record(&self, event: AuditEvent) -> Result<(), Problem> {
        let Some(log) = &self.inner.audit else {
            return Ok(());
        };
        match log.append(event).await {
            Ok(_) => Ok(()),
            Err(e) if e.actor() == Actor::RetryLater => {
                tracing::warn!(code = e.code(), "audit log unavailable; login held");
                Err(Problem::unavailable("the audit log", "审计日志"))
            }
            Err(e) => {
                tracing::error!(code = e.code(), error = %e, "audit log refused a record");
                Err(Problem::internal())
            }
        }
    }

    /// Records a verified user's consent receipt (and keeps the fields it covers, sealed),
    /// counts the verification, and returns the user with their audit record.
    async fn accept(
        &self,
        user: VerifiedUser,
        result: &crate::token::Verified<crate::client::IdentityResult>,
    ) -> Result<(VerifiedUser, AuditEvent), Problem> {
        let mut event = AuditEvent::new(
            AuditAction::Verification,
            user.subject(),
            "verified",
            Method::NetId.label(),
        )
        .assurance(user.assurance().level())
        .authz_id(result.authz_id.as_str())
        .token_sm3(result.token_sm3());
        if let Some(fields) = &result.fields {
            event = event.fields(fields.names().iter());
        }
        if let (Some(ledger), Some(receipt)) = (&self.inner.consents, &result.consent) {
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
            event = event.consent_id(&receipt.id);
        }
        record_outcome(&Method::NetId, "verified");
        Ok((user, event))
    }

    /// Logs in a user verified by the platform's own lawful method `method`.
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
        let verified = verifier.verify(evidence).await.map_err(|_| {
            record_outcome(&label, "not_verified");
            Problem::of(ProblemKind::NotVerified)
                .with_detail("the verification failed", "核验未通过。")
        })?;
        // However the child verified: Art. 5 §2 for 网号/网证, PIPL Art. 31 for the rest.
        if lacks_guardian_consent(verified.age_tag, verified.guardian_consent) {
            record_outcome(&label, GUARDIAN_CONSENT_REQUIRED);
            return Err(Problem::guardian_consent_required());
        }
        let user =
            VerifiedUser::from_other(verifier.method(), verified, unix_now()).ok_or_else(|| {
                // The verifier's code must be fixed; the user cannot.
                tracing::error!(
                    method = verifier.method(),
                    "an identity verifier gave a method name or subject netid cannot namespace"
                );
                record_outcome(&label, "not_verified");
                Problem::internal()
            })?;
        self.record(
            AuditEvent::new(
                AuditAction::Verification,
                user.subject(),
                "verified",
                label.label(),
            )
            .assurance(user.assurance().level()),
        )
        .await?;
        record_outcome(&label, "verified");
        let session = self
            .inner
            .sessions
            .issue(&user)
            .map_err(|e| e.to_problem())?;
        Ok((user, session))
    }

    /// Ends a session, and records the logout in the audit log. Safe to repeat.
    pub async fn logout(&self, session: &str) -> Result<(), Problem> {
        let user = self
            .inner
            .sessions
            .revoke(session)
            .await
            .map_err(|e| e.to_problem())?;
        self.record(AuditEvent::new(
            AuditAction::Logout,
            user.subject(),
            "logged_out",
            user.method.label(),
        ))
        .await
    }
}

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
