//! What the audit log records of real logins through the sandbox: every attempt and how it
//! ended (verified, not verified, refused, declined, expired, failed), re-verifications,
//! consents granted and withdrawn, logouts and erasures; the platform's signed token kept and
//! verified again; tampering with a kept token caught by `netid audit verify --keys`; and no
//! plaintext identity data anywhere in the log.

use std::sync::Arc;
use std::time::Duration;

use netid::audit::{
    AuditAction, AuditEntry, AuditError, AuditLog, InMemoryAuditLog, JsonlAuditLog,
    TokenCheckError, TokenVerifier, verify_chain, verify_log_and_tokens,
};
use netid::client::{LegalBasis, VerificationRequest};
use netid::crypto::sm3;
use netid::detect::Detector;
use netid::erasure::Erasure;
use netid::model::{AuthzId, FieldName, NotVerifiedReason, Pseudonym};
use netid::policy::{
    ConsentLedger, ConsentRecord, IdentityVerifier, LoginFlow, LoginStatus, OtherVerification,
    ReverificationStatus, SessionManager, VerifierError,
};
use netid::sandbox::{Fault, Persona, Sandbox, SandboxOptions};
use netid::store::InMemoryConsentLedger;
use serde_json::Value;

/// Another lawful way to verify: `{"ok":true,"subject":…,"age_tag":…}`.
struct CounterCheck;

#[async_trait::async_trait]
impl IdentityVerifier for CounterCheck {
    fn method(&self) -> &'static str {
        "counter_check"
    }
    async fn verify(&self, evidence: &[u8]) -> Result<OtherVerification, VerifierError> {
        let v: Value =
            serde_json::from_slice(evidence).map_err(|_| VerifierError("json".into()))?;
        if v["ok"] != true {
            // Free text a verifier may return: must never reach the log.
            return Err(VerifierError(
                "holder 张三 11010519491231002X refused".into(),
            ));
        }
        Ok(OtherVerification {
            subject: v["subject"].as_str().unwrap_or("c-1").to_owned(),
            assurance: netid::model::Assurance::CredentialFace,
            age_tag: v["age_tag"].as_str().and_then(|t| t.parse().ok()),
            guardian_consent: v["guardian_consent"].as_bool(),
        })
    }
}

/// A login flow of app `app_audit` at `sandbox`, recording to `log`, with a consent ledger.
pub(crate) fn flow(
    sandbox: &Sandbox,
    log: Arc<dyn AuditLog>,
    request: VerificationRequest,
    consents: Arc<dyn ConsentLedger>,
) -> LoginFlow {
    let app = sandbox.register_app("app_audit");
    let client = sandbox.client_builder(&app).build().unwrap();
    let sessions = SessionManager::builder("app_audit")
        .key("k", &[3; 32])
        .build()
        .unwrap();
    LoginFlow::builder(client, sessions)
        .request(request)
        .audit(log)
        .consents(consents)
        .verifier(Arc::new(CounterCheck))
        .build()
}

/// A login `persona` answers (approves, or whatever the persona does); the poll's answer.
pub(crate) async fn login(
    flow: &LoginFlow,
    sandbox: &Sandbox,
    persona: Persona,
) -> Result<LoginStatus, netid::policy::Problem> {
    let start = flow.start().await.unwrap();
    sandbox
        .approve(&AuthzId::parse(&start.authz_id).unwrap(), persona)
        .unwrap();
    flow.poll(&start.browser_binding).await
}

/// The claims of a compact token, unverified (for comparing with the entry).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = netid_b64(payload);
    serde_json::from_slice(&bytes).unwrap()
}

/// base64url without padding, decoded (independently of netid).
fn netid_b64(text: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in text.bytes() {
        let v = alphabet.iter().position(|&a| a == c).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

/// The entry's token is the platform's, kept whole: its SM3 is `token_sm3`, its `sub` and
/// `authz_id` are the entry's.
fn assert_token_kept(entry: &AuditEntry) {
    let e = &entry.event;
    let token = e.token.as_deref().expect("the signed token is kept");
    assert_eq!(
        e.token_sm3.as_deref(),
        Some(hex::encode(sm3(token.as_bytes())).as_str())
    );
    let c = claims(token);
    assert_eq!(c["sub"].as_str(), e.subject.as_deref());
    assert_eq!(c["authz_id"].as_str(), e.authz_id.as_deref());
}

/// Nothing in the log is identity data: every line, and the header and claims of every token
/// it keeps, scan clean with the detector; no persona's name appears anywhere.
pub(crate) fn assert_no_identity_data(entries: &[AuditEntry]) {
    let detector = Detector::new();
    for entry in entries {
        let line = serde_json::to_vec(entry).unwrap();
        let scan = detector.scan_json(&line).unwrap();
        assert!(!scan.should_block(), "entry {}: {scan:?}", entry.seq);
        let mut texts = vec![String::from_utf8(line).unwrap()];
        if let Some(token) = &entry.event.token {
            for segment in token.split('.').take(2) {
                let json = netid_b64(segment);
                let scan = detector.scan_json(&json).unwrap();
                assert!(
                    !scan.should_block(),
                    "token of entry {}: {scan:?}",
                    entry.seq
                );
                texts.push(String::from_utf8(json).unwrap());
            }
        }
        for text in texts {
            for persona in Persona::ALL {
                assert!(!text.contains(persona.name()), "entry {}", entry.seq);
            }
            assert!(!text.contains("11010519491231002X"), "entry {}", entry.seq);
        }
    }
}

/// The newest entry of `log`.
async fn last(log: &dyn AuditLog) -> AuditEntry {
    let all = log.read(1, 10_000).await.unwrap();
    all.last().cloned().expect("an entry")
}

/// Every kind of 网号/网证 and other-method attempt a login sees, each ending in its entry.
async fn every_attempt_is_recorded(log: Arc<dyn AuditLog>) -> Vec<AuditEntry> {
    let sandbox = Sandbox::start().await.unwrap();
    let ledger: Arc<dyn ConsentLedger> = Arc::new(InMemoryConsentLedger::default());
    let flow = flow(
        &sandbox,
        log.clone(),
        VerificationRequest::age_tag("登录 / sign-in"),
        ledger,
    );

    // Verified: the token kept, its sub the entry's subject.
    let user = match login(&flow, &sandbox, Persona::Adult).await.unwrap() {
        LoginStatus::Completed { user, .. } => user,
        other => panic!("{other:?}"),
    };
    let e = last(log.as_ref()).await;
    assert_eq!(
        (
            e.event.action,
            e.event.outcome.as_str(),
            e.event.method.as_str()
        ),
        (AuditAction::Verification, "verified", "netid")
    );
    assert_eq!(e.event.subject.as_deref(), Some(user.subject()));
    assert_eq!(e.event.assurance, Some(1));
    assert_eq!(e.event.reason, None);
    assert_token_kept(&e);
    assert_eq!(
        claims(e.event.token.as_deref().unwrap())["age_tag"],
        "adult"
    );

    // Not verified, with the platform's reason: a child without a guardian's consent.
    let refused = login(&flow, &sandbox, Persona::Minor13WithoutGuardian)
        .await
        .unwrap_err();
    assert_eq!(refused.code, "netid.guardian_consent_required");
    let e = last(log.as_ref()).await;
    assert_eq!(
        (e.event.outcome.as_str(), e.event.reason.as_deref()),
        ("not_verified", Some("guardian_consent_required"))
    );
    assert_token_kept(&e);
    assert_eq!(
        claims(e.event.token.as_deref().unwrap())["result"]["status"],
        "not_verified"
    );

    // Refused by the relying party: a `verified` answer for an under-14 without consent.
    sandbox.inject(Fault::MinorWithoutConsentVerified);
    let refused = login(&flow, &sandbox, Persona::Minor13WithoutGuardian)
        .await
        .unwrap_err();
    assert_eq!(refused.code, "netid.guardian_consent_required");
    let e = last(log.as_ref()).await;
    assert_eq!(
        (e.event.outcome.as_str(), e.event.reason.as_deref()),
        ("refused", Some("guardian_consent_required"))
    );
    assert_token_kept(&e);

    // Declined: nobody was verified, no subject.
    let start = flow.start().await.unwrap();
    sandbox
        .approve(&AuthzId::parse(&start.authz_id).unwrap(), Persona::Declines)
        .unwrap();
    let declined = flow.poll(&start.browser_binding).await.unwrap_err();
    assert_eq!(declined.code, "netid.login_declined");
    let e = last(log.as_ref()).await;
    assert_eq!(
        (e.event.outcome.as_str(), e.event.subject.as_deref()),
        ("declined", None)
    );
    assert_eq!(e.event.authz_id.as_deref(), Some(start.authz_id.as_str()));
    assert_eq!(
        (e.event.token.as_deref(), e.event.token_sm3.as_deref()),
        (None, None)
    );

    // Failed: the answer did not verify. Its token may be anyone's: SM3 only, no subject,
    // and the error code as the reason.
    for (fault, code) in [
        (Fault::BadSignature, "token.signature_invalid"),
        (Fault::ExpiredToken, "token.expired"),
        (Fault::OverShare, "client.mismatch"),
    ] {
        sandbox.inject(fault);
        let start = flow.start().await.unwrap();
        sandbox
            .approve(&AuthzId::parse(&start.authz_id).unwrap(), Persona::Adult)
            .unwrap();
        assert!(flow.poll(&start.browser_binding).await.is_err(), "{code}");
        let e = last(log.as_ref()).await;
        assert_eq!(
            (
                e.event.outcome.as_str(),
                e.event.reason.as_deref(),
                e.event.subject.as_deref()
            ),
            ("failed", Some(code), None),
            "{code}"
        );
        assert_eq!(e.event.token, None, "{code}: a refused token is not kept");
        let digest = e.event.token_sm3.as_deref().expect("its SM3 is");
        assert_eq!(digest.len(), 64, "{code}");
        assert_eq!(e.event.authz_id.as_deref(), Some(start.authz_id.as_str()));
    }

    // Another lawful method: verified, not verified (the verifier's text is not kept), refused.
    let (other, _) = flow
        .login_other(
            "counter_check",
            br#"{"ok":true,"subject":"c-9","age_tag":"adult"}"#,
        )
        .await
        .unwrap();
    let e = last(log.as_ref()).await;
    assert_eq!(
        (
            e.event.outcome.as_str(),
            e.event.method.as_str(),
            e.event.subject.as_deref()
        ),
        ("verified", "counter_check", Some(other.subject()))
    );
    assert_eq!(other.subject(), "counter_check:c-9");
    assert!(
        flow.login_other("counter_check", br#"{"ok":false}"#)
            .await
            .is_err()
    );
    let e = last(log.as_ref()).await;
    assert_eq!(
        (
            e.event.outcome.as_str(),
            e.event.method.as_str(),
            e.event.subject.as_deref(),
            e.event.reason.as_deref()
        ),
        ("not_verified", "counter_check", None, None)
    );
    let p = flow
        .login_other(
            "counter_check",
            br#"{"ok":true,"subject":"c-10","age_tag":"under_14"}"#,
        )
        .await
        .unwrap_err();
    assert_eq!(p.code, "netid.guardian_consent_required");
    let e = last(log.as_ref()).await;
    assert_eq!(
        (
            e.event.outcome.as_str(),
            e.event.reason.as_deref(),
            e.event.subject.as_deref()
        ),
        (
            "refused",
            Some("guardian_consent_required"),
            Some("counter_check:c-10")
        )
    );

    // Expired: nobody answered in time (a sandbox whose authorizations last a second).
    let quick = Sandbox::start_with(SandboxOptions {
        authorization_ttl: 1,
        ..Default::default()
    })
    .await
    .unwrap();
    let quick_flow = self::flow(
        &quick,
        log.clone(),
        VerificationRequest::verify_only("登录"),
        Arc::new(InMemoryConsentLedger::default()),
    );
    let start = quick_flow.start().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let expired = quick_flow.poll(&start.browser_binding).await.unwrap_err();
    assert_eq!(expired.code, "netid.login_expired");
    let e = last(log.as_ref()).await;
    assert_eq!(
        (e.event.outcome.as_str(), e.event.subject.as_deref()),
        ("expired", None)
    );

    let entries = log.read(1, 1000).await.unwrap();
    assert_eq!(entries.len(), 11, "one entry per attempt");
    // The chain holds, and every kept token verifies again with the platform's keys.
    let mut tokens = TokenVerifier::new(&sandbox.pinned_key_set());
    let head = verify_log_and_tokens(log.as_ref(), None, &mut tokens)
        .await
        .unwrap();
    assert_eq!(head.last_seq, 11);
    assert_eq!(tokens.checked(), 3, "verified, not verified, refused");
    assert_no_identity_data(&entries);
    entries
}

#[tokio::test]
async fn every_login_attempt_ends_in_its_entry_in_memory() {
    every_attempt_is_recorded(Arc::new(InMemoryAuditLog::new())).await;
}

#[tokio::test]
async fn every_login_attempt_ends_in_its_entry_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let entries = every_attempt_is_recorded(Arc::new(JsonlAuditLog::open(&path).unwrap())).await;
    // The file holds the same entries, line for line, and verifies on its own.
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), entries.len());
    for (line, entry) in lines.iter().zip(&entries) {
        assert_eq!(*line, serde_json::to_string(entry).unwrap());
    }
    assert_eq!(
        JsonlAuditLog::verify_file(&path, None).unwrap().last_seq,
        11
    );
}

#[tokio::test]
async fn re_verifications_are_recorded_with_their_outcome() {
    let sandbox = Sandbox::start().await.unwrap();
    let log = Arc::new(InMemoryAuditLog::new());
    let flow = flow(
        &sandbox,
        log.clone(),
        VerificationRequest::verify_only("开户"),
        Arc::new(InMemoryConsentLedger::default()),
    );
    let user = match login(&flow, &sandbox, Persona::Adult).await.unwrap() {
        LoginStatus::Completed { user, .. } => user,
        other => panic!("{other:?}"),
    };
    let subject = Pseudonym::parse(user.subject()).unwrap();
    let reason = "账户被反诈系统标记 / flagged by anti-fraud review";

    // The holder, live.
    let pending = flow.start_reverification(&subject, reason).await.unwrap();
    assert_eq!(
        flow.poll_reverification(&pending).await.unwrap(),
        ReverificationStatus::Pending
    );
    sandbox.approve(pending.authz_id(), Persona::Adult).unwrap();
    let status = flow.poll_reverification(&pending).await.unwrap();
    assert!(
        matches!(status, ReverificationStatus::Confirmed { assurance } if assurance.level() >= 3),
        "{status:?}"
    );
    let e = last(log.as_ref()).await;
    assert_eq!(
        (
            e.event.action,
            e.event.outcome.as_str(),
            e.event.subject.as_deref()
        ),
        (
            AuditAction::Reverification,
            "verified",
            Some(user.subject())
        )
    );
    assert_eq!(e.event.assurance, Some(3));
    assert_token_kept(&e);

    // Someone else.
    let pending = flow.start_reverification(&subject, reason).await.unwrap();
    sandbox
        .approve(pending.authz_id(), Persona::Senior67)
        .unwrap();
    assert_eq!(
        flow.poll_reverification(&pending).await.unwrap(),
        ReverificationStatus::NotConfirmed {
            reason: NotVerifiedReason::IdentityMismatch
        }
    );
    let e = last(log.as_ref()).await;
    assert_eq!(
        (
            e.event.action,
            e.event.outcome.as_str(),
            e.event.reason.as_deref(),
            e.event.subject.as_deref()
        ),
        (
            AuditAction::Reverification,
            "not_verified",
            Some("identity_mismatch"),
            Some(user.subject())
        )
    );
    assert_token_kept(&e);

    // Declined: recorded against the account being re-verified.
    let pending = flow.start_reverification(&subject, reason).await.unwrap();
    sandbox
        .approve(pending.authz_id(), Persona::Declines)
        .unwrap();
    let p = flow.poll_reverification(&pending).await.unwrap_err();
    assert_eq!(p.code, "netid.login_declined");
    let e = last(log.as_ref()).await;
    assert_eq!(
        (
            e.event.action,
            e.event.outcome.as_str(),
            e.event.subject.as_deref()
        ),
        (
            AuditAction::Reverification,
            "declined",
            Some(user.subject())
        )
    );

    let mut tokens = TokenVerifier::new(&sandbox.pinned_key_set());
    verify_log_and_tokens(log.as_ref(), None, &mut tokens)
        .await
        .unwrap();
    assert_eq!(tokens.checked(), 3, "the login and two answers");
    assert_no_identity_data(&log.read(1, 100).await.unwrap());
}

#[tokio::test]
async fn consents_granted_and_withdrawn_are_recorded() {
    let sandbox = Sandbox::start().await.unwrap();
    let log = Arc::new(InMemoryAuditLog::new());
    let ledger: Arc<dyn ConsentLedger> = Arc::new(InMemoryConsentLedger::default());
    let basis = LegalBasis::new(
        "《反洗钱法》第二十八条",
        [FieldName::Name, FieldName::IdNumber],
    )
    .unwrap();
    let request =
        VerificationRequest::fields("开户", [FieldName::Name, FieldName::IdNumber], basis).unwrap();
    let flow = flow(&sandbox, log.clone(), request, ledger.clone());
    let user = match login(&flow, &sandbox, Persona::Adult).await.unwrap() {
        LoginStatus::Completed { user, .. } => user,
        other => panic!("{other:?}"),
    };
    let consents = ledger.for_subject(user.subject()).await.unwrap();
    assert_eq!(consents.len(), 1);
    let consent_id = consents[0].id.clone();

    // The verification, then the consent its receipt carries.
    let entries = log.read(1, 10).await.unwrap();
    assert_eq!(entries.len(), 2);
    let (verification, granted) = (&entries[0].event, &entries[1].event);
    assert_eq!(verification.action, AuditAction::Verification);
    assert_eq!(verification.fields, [FieldName::Name, FieldName::IdNumber]);
    assert_eq!(
        verification.consent_id.as_deref(),
        Some(consent_id.as_str())
    );
    assert_token_kept(&entries[0]);
    // The kept token holds the fields encrypted, and the receipt.
    let c = claims(verification.token.as_deref().unwrap());
    assert_eq!(c["fields"]["alg"], "SM2-C1C3C2");
    assert_eq!(c["consent"]["id"].as_str(), Some(consent_id.as_str()));
    assert_eq!(
        (
            granted.action,
            granted.outcome.as_str(),
            granted.method.as_str()
        ),
        (AuditAction::ConsentGranted, "granted", "netid")
    );
    assert_eq!(granted.subject.as_deref(), Some(user.subject()));
    assert_eq!(granted.consent_id.as_deref(), Some(consent_id.as_str()));
    assert_eq!(granted.fields, [FieldName::Name, FieldName::IdNumber]);
    assert_eq!(granted.authz_id, verification.authz_id);
    assert_eq!(granted.token_sm3, verification.token_sm3, "names the token");
    assert_eq!(granted.token, None, "kept once, in the verification");

    // Withdrawn: recorded, then withdrawn in the ledger. A second time: nothing to withdraw.
    assert!(
        flow.withdraw_consent(user.subject(), &consent_id)
            .await
            .unwrap()
    );
    let e = last(log.as_ref()).await;
    assert_eq!(
        (
            e.event.action,
            e.event.outcome.as_str(),
            e.event.method.as_str()
        ),
        (AuditAction::ConsentWithdrawn, "withdrawn", "user_request")
    );
    assert_eq!(e.event.consent_id.as_deref(), Some(consent_id.as_str()));
    assert_eq!(e.event.fields, [FieldName::Name, FieldName::IdNumber]);
    let stored = ledger.for_subject(user.subject()).await.unwrap();
    assert_eq!(stored[0].withdrawn_at, Some(e.event.at));
    assert!(
        !flow
            .withdraw_consent(user.subject(), &consent_id)
            .await
            .unwrap()
    );
    assert!(!flow.withdraw_consent(user.subject(), "nope").await.unwrap());
    assert_eq!(log.read(1, 10).await.unwrap().len(), 3, "nothing more");

    // A consent the application collected itself.
    let own = ConsentRecord {
        id: "app-c-1".into(),
        subject: user.subject().into(),
        fields: vec![FieldName::IdNumber],
        purpose: "会员实名".into(),
        legal_basis: None,
        granted_at: 1_767_229_200,
        expires_at: None,
        withdrawn_at: None,
    };
    flow.record_consent(own.clone()).await.unwrap();
    let e = last(log.as_ref()).await;
    assert_eq!(
        (
            e.event.action,
            e.event.method.as_str(),
            e.event.consent_id.as_deref(),
            e.event.at
        ),
        (
            AuditAction::ConsentGranted,
            "app",
            Some("app-c-1"),
            1_767_229_200
        )
    );
    // In the ledger, with an expiry the ledger set (a consent recorded without one gets the
    // default retention period from when it was granted).
    let stored = ledger.for_subject(user.subject()).await.unwrap();
    let stored = stored.iter().find(|c| c.id == own.id).expect("recorded");
    assert_eq!(
        (&stored.purpose, &stored.fields, stored.granted_at),
        (&own.purpose, &own.fields, own.granted_at)
    );
    assert!(stored.expires_at.is_some_and(|t| t > own.granted_at));

    // An erasure.
    let erasure = Erasure::new(flow.sessions().clone(), ledger.clone(), log.clone());
    let receipt = erasure.erase_subject(user.subject()).await.unwrap();
    let e = last(log.as_ref()).await;
    assert_eq!(
        (e.event.action, e.seq),
        (AuditAction::Erasure, receipt.audit_seq)
    );

    let entries = log.read(1, 100).await.unwrap();
    verify_chain(&entries).unwrap();
    assert_no_identity_data(&entries);
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn a_declined_webhook_is_recorded_before_the_browser_returns() {
    let sandbox = Sandbox::start_with(SandboxOptions {
        webhook_retry_base: Duration::from_millis(50),
        ..Default::default()
    })
    .await
    .unwrap();
    let app = sandbox.register_app("app_hook");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/netid/callback", listener.local_addr().unwrap());
    let client = sandbox
        .client_builder(&app)
        .callback_url(url)
        .build()
        .unwrap();
    let sessions = SessionManager::builder("app_hook")
        .key("k", &[4; 32])
        .build()
        .unwrap();
    let log = Arc::new(InMemoryAuditLog::new());
    let flow = LoginFlow::builder(client, sessions)
        .audit(log.clone())
        .build();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let hooked = flow.clone();
    let receiver = axum::Router::new().route(
        "/netid/callback",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let (hooked, tx) = (hooked.clone(), tx.clone());
                async move {
                    let status = match hooked.callback(&headers, &body).await {
                        Ok(()) => 204,
                        Err(p) => p.status,
                    };
                    tx.send(status).unwrap();
                    axum::http::StatusCode::from_u16(status).unwrap()
                }
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let start = flow.start().await.unwrap();
    let authz = AuthzId::parse(&start.authz_id).unwrap();
    sandbox.approve(&authz, Persona::Declines).unwrap();
    let answered = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answered, 204, "the webhook is taken");
    // On record before the browser polls (it may never come back).
    let e = last(log.as_ref()).await;
    assert_eq!(
        (
            e.event.outcome.as_str(),
            e.event.authz_id.as_deref(),
            e.event.subject.as_deref()
        ),
        ("declined", Some(start.authz_id.as_str()), None)
    );
    // The browser's poll gets the answer, once; nothing is recorded twice.
    assert_eq!(
        flow.poll(&start.browser_binding).await.unwrap_err().code,
        "netid.login_declined"
    );
    assert_eq!(
        flow.poll(&start.browser_binding).await.unwrap_err().code,
        "netid.login_unknown"
    );
    assert_eq!(log.read(1, 10).await.unwrap().len(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sandbox.webhook_attempts(&authz), 1, "not retried");
}

/// An audit log that refuses appends while `down` is set (a database that is away).
#[derive(Default)]
struct Flaky {
    log: InMemoryAuditLog,
    down: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl AuditLog for Flaky {
    async fn append(&self, event: netid::audit::AuditEvent) -> Result<AuditEntry, AuditError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(netid::audit::StoreError::unavailable("test", "down").into());
        }
        self.log.append(event).await
    }
    async fn read(&self, from: u64, limit: usize) -> Result<Vec<AuditEntry>, AuditError> {
        self.log.read(from, limit).await
    }
}

#[tokio::test]
async fn an_answer_is_held_until_its_record_is_written() {
    use std::sync::atomic::Ordering;
    let sandbox = Sandbox::start().await.unwrap();
    let log = Arc::new(Flaky::default());
    let flow = flow(
        &sandbox,
        log.clone(),
        VerificationRequest::verify_only("登录"),
        Arc::new(InMemoryConsentLedger::default()),
    );
    // A refusal: held with a retryable 503, given once the log is back.
    log.down.store(true, Ordering::SeqCst);
    let start = flow.start().await.unwrap();
    sandbox
        .approve(&AuthzId::parse(&start.authz_id).unwrap(), Persona::Declines)
        .unwrap();
    let held = flow.poll(&start.browser_binding).await.unwrap_err();
    assert_eq!((held.status, held.code), (503, "netid.unavailable"));
    assert!(log.read(1, 10).await.unwrap().is_empty());
    log.down.store(false, Ordering::SeqCst);
    let answer = flow.poll(&start.browser_binding).await.unwrap_err();
    assert_eq!(answer.code, "netid.login_declined");
    assert_eq!(last(log.as_ref()).await.event.outcome, "declined");

    // A re-verification's answer likewise.
    let user = match login(&flow, &sandbox, Persona::Adult).await.unwrap() {
        LoginStatus::Completed { user, .. } => user,
        other => panic!("{other:?}"),
    };
    let subject = Pseudonym::parse(user.subject()).unwrap();
    let pending = flow.start_reverification(&subject, "复核").await.unwrap();
    sandbox.approve(pending.authz_id(), Persona::Adult).unwrap();
    log.down.store(true, Ordering::SeqCst);
    let held = flow.poll_reverification(&pending).await.unwrap_err();
    assert_eq!(held.status, 503);
    log.down.store(false, Ordering::SeqCst);
    assert!(matches!(
        flow.poll_reverification(&pending).await.unwrap(),
        ReverificationStatus::Confirmed { .. }
    ));
    let e = last(log.as_ref()).await;
    assert_eq!(
        (e.event.action, e.event.outcome.as_str()),
        (AuditAction::Reverification, "verified")
    );
    let mut tokens = TokenVerifier::new(&sandbox.pinned_key_set());
    verify_log_and_tokens(log.as_ref(), None, &mut tokens)
        .await
        .unwrap();
    assert_eq!(tokens.checked(), 2);
}

/// Rewrites entry `seq` of `entries` with `change`, and re-links every entry from there on:
/// what an attacker who can write the whole file does. The chain verifies again.
pub(crate) fn forge(entries: &mut [AuditEntry], seq: u64, change: impl FnOnce(&mut AuditEntry)) {
    let i = usize::try_from(seq - 1).unwrap();
    change(&mut entries[i]);
    for j in i..entries.len() {
        if j > 0 {
            entries[j].prev = entries[j - 1].hash.clone();
        }
        entries[j].hash = entries[j].computed_hash();
    }
    verify_chain(entries.iter()).expect("a re-hashed chain verifies");
}

/// One byte of the token's claims flipped (a base64url character swapped for another), and
/// `token_sm3` recomputed to match.
pub(crate) fn flip_a_byte(entry: &mut AuditEntry) {
    let token = entry.event.token.clone().unwrap();
    let dot = token.find('.').unwrap();
    let at = dot + 12;
    let mut bytes = token.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let token = String::from_utf8(bytes).unwrap();
    entry.event.token_sm3 = Some(hex::encode(sm3(token.as_bytes())));
    entry.event.token = Some(token);
}

#[tokio::test]
async fn a_tampered_token_is_caught_though_the_chain_was_rehashed() {
    let sandbox = Sandbox::start().await.unwrap();
    let log = Arc::new(InMemoryAuditLog::new());
    let flow = flow(
        &sandbox,
        log.clone(),
        VerificationRequest::verify_only("登录"),
        Arc::new(InMemoryConsentLedger::default()),
    );
    for persona in [Persona::Adult, Persona::Senior67, Persona::HkResident] {
        login(&flow, &sandbox, persona).await.unwrap();
    }
    let entries = log.read(1, 10).await.unwrap();
    let keys = sandbox.pinned_key_set();
    let check = |entries: &[AuditEntry]| {
        let mut tokens = TokenVerifier::new(&keys);
        verify_chain(entries.iter()).unwrap();
        entries.iter().try_for_each(|e| tokens.push(e))
    };
    assert_eq!(check(&entries), Ok(()));

    // One byte flipped, token_sm3 and the chain recomputed: the signature no longer holds.
    let mut forged = entries.clone();
    forge(&mut forged, 2, flip_a_byte);
    assert!(
        matches!(
            check(&forged),
            Err(TokenCheckError::Invalid { seq: 2, code }) if code.starts_with("token.")
        ),
        "{:?}",
        check(&forged)
    );
    // The token flipped but token_sm3 left: not the token the entry names.
    let mut forged = entries.clone();
    forge(&mut forged, 2, |e| {
        let sm3 = e.event.token_sm3.clone();
        flip_a_byte(e);
        e.event.token_sm3 = sm3;
    });
    assert_eq!(check(&forged), Err(TokenCheckError::Mismatch { seq: 2 }));
    // Another genuine token put in its place: its authz_id and sub give it away.
    let mut forged = entries.clone();
    let other = entries[2].event.token.clone().unwrap();
    forge(&mut forged, 2, |e| {
        e.event.token_sm3 = Some(hex::encode(sm3(other.as_bytes())));
        e.event.token = Some(other);
    });
    assert_eq!(check(&forged), Err(TokenCheckError::Mismatch { seq: 2 }));
    // Another platform's keys under the same key id: the signature does not hold.
    let stranger = Sandbox::start().await.unwrap();
    let mut tokens = TokenVerifier::new(&stranger.pinned_key_set());
    assert_eq!(
        tokens.push(&entries[0]),
        Err(TokenCheckError::Invalid {
            seq: 1,
            code: "token.signature_invalid"
        })
    );
    // Keys without the token's key id.
    let key = netid::crypto::PrivateKey::generate().public_key().clone();
    let mut tokens = TokenVerifier::new(&netid::keys::KeySet::pinned([("other-1", key)]).unwrap());
    let kid = claims_kid(entries[0].event.token.as_deref().unwrap());
    assert_eq!(
        tokens.push(&entries[0]),
        Err(TokenCheckError::UnknownKey { seq: 1, kid })
    );
    assert_eq!(tokens.checked(), 0);
}

/// The `kid` in a compact token's header.
fn claims_kid(token: &str) -> String {
    let header: Value =
        serde_json::from_slice(&netid_b64(token.split('.').next().unwrap())).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[cfg(feature = "cli")]
mod cli {
    use std::path::Path;
    use std::process::{Command, Output};

    use super::*;

    pub(crate) fn netid(args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_netid"))
            .args(args)
            .output()
            .unwrap()
    }

    pub(crate) fn text(bytes: &[u8]) -> String {
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn write_entries(path: &Path, entries: &[AuditEntry]) {
        let mut text = String::new();
        for e in entries {
            text.push_str(&serde_json::to_string(e).unwrap());
            text.push('\n');
        }
        std::fs::write(path, text).unwrap();
    }

    #[tokio::test]
    async fn audit_verify_with_keys_checks_every_kept_signature() {
        let sandbox = Sandbox::start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = Arc::new(JsonlAuditLog::open(&path).unwrap());
        let flow = flow(
            &sandbox,
            log.clone(),
            VerificationRequest::verify_only("登录"),
            Arc::new(InMemoryConsentLedger::default()),
        );
        login(&flow, &sandbox, Persona::Adult).await.unwrap();
        login(&flow, &sandbox, Persona::Minor13WithoutGuardian)
            .await
            .unwrap_err();
        let start = flow.start().await.unwrap();
        sandbox
            .approve(&AuthzId::parse(&start.authz_id).unwrap(), Persona::Declines)
            .unwrap();
        flow.poll(&start.browser_binding).await.unwrap_err();
        // Keys rotated since: the old key is still in the JWKS the operator kept.
        sandbox.rotate_keys();
        login(&flow, &sandbox, Persona::Senior67).await.unwrap();
        let jwks = dir.path().join("jwks.json");
        std::fs::write(&jwks, sandbox.jwks()).unwrap();
        let file = path.to_str().unwrap();
        let keys = jwks.to_str().unwrap();

        let head = JsonlAuditLog::verify_file(&path, None).unwrap();
        let out = netid(&["audit", "verify", file, "--keys", keys]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert_eq!(
            text(&out.stdout),
            format!(
                "ok: 4 entries, last seq 4, head {}\nok: 3 signed result tokens verified\n",
                head.head
            )
        );
        // Without keys: the chain only, and it says so.
        let out = netid(&["audit", "verify", file]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert_eq!(
            text(&out.stdout),
            format!("ok: 4 entries, last seq 4, head {}\n", head.head)
        );
        assert!(
            text(&out.stderr).contains("signatures were not"),
            "{}",
            text(&out.stderr)
        );

        // The attacker controls the file: one byte of the second token flipped, token_sm3 and
        // every hash after it recomputed. The chain is perfect; the signature is not.
        let mut entries = log.read(1, 10).await.unwrap();
        forge(&mut entries, 2, flip_a_byte);
        let tampered = dir.path().join("tampered.jsonl");
        write_entries(&tampered, &entries);
        let tampered = tampered.to_str().unwrap();
        assert_eq!(netid(&["audit", "verify", tampered]).status.code(), Some(0));
        let out = netid(&["audit", "verify", tampered, "--keys", keys]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(out.stdout.is_empty());
        let err = text(&out.stderr);
        assert!(
            err.starts_with("error: audit.token_invalid: the token kept in audit entry 2 "),
            "{err}"
        );

        // One platform key as PEM, trusted under any kid: the tokens signed with the other
        // key do not verify with it.
        let first = netid::keys::parse_jwks(sandbox.jwks().as_bytes()).unwrap();
        let pem = dir.path().join("platform.pub.pem");
        std::fs::write(&pem, first[0].key.to_spki_pem()).unwrap();
        let out = netid(&["audit", "verify", file, "--keys", pem.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(
            text(&out.stderr)
                .starts_with("error: audit.token_invalid: the token kept in audit entry 4 "),
            "{}",
            text(&out.stderr)
        );
        // Keys that are not the platform's: exit 1 at the first token.
        let other = Sandbox::start().await.unwrap();
        let other_jwks = dir.path().join("other.json");
        std::fs::write(&other_jwks, other.jwks()).unwrap();
        let out = netid(&[
            "audit",
            "verify",
            file,
            "--keys",
            other_jwks.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(
            text(&out.stderr).starts_with("error: audit.token_"),
            "{}",
            text(&out.stderr)
        );
        // A key file that is no key file: exit 2.
        let out = netid(&["audit", "verify", file, "--keys", file]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
    }

    /// A login through `flow` that `persona` answers: its authorization id, as the platform
    /// issued it, and the poll's answer.
    async fn login_with_id(
        flow: &LoginFlow,
        sandbox: &Sandbox,
        persona: Persona,
    ) -> (String, Result<LoginStatus, netid::policy::Problem>) {
        let start = flow.start().await.unwrap();
        sandbox
            .approve(&AuthzId::parse(&start.authz_id).unwrap(), persona)
            .unwrap();
        (
            start.authz_id.clone(),
            flow.poll(&start.browser_binding).await,
        )
    }

    /// The lines `netid audit find` printed, as JSON.
    fn lines(out: &Output) -> Vec<Value> {
        text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// 协助义务 (the Q&A, part 四): an authorization and the platform's signed answer found by
    /// its id, everything about an account by its pseudonym, from a log checked whole first;
    /// a tampered log answers nothing.
    #[tokio::test]
    async fn audit_find_gives_an_authorization_and_a_subject_from_a_checked_log() {
        let sandbox = Sandbox::start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = Arc::new(JsonlAuditLog::open(&path).unwrap());
        let ledger = Arc::new(InMemoryConsentLedger::default());
        let flow = flow(
            &sandbox,
            log.clone(),
            VerificationRequest::verify_only("登录"),
            ledger.clone(),
        );
        let (adult_authz, adult) = login_with_id(&flow, &sandbox, Persona::Adult).await;
        let LoginStatus::Completed { user, .. } = adult.unwrap() else {
            panic!("the adult signs in")
        };
        let adult_sub = user.subject().to_string();
        let (child_authz, child) =
            login_with_id(&flow, &sandbox, Persona::Minor13WithoutGuardian).await;
        child.unwrap_err();
        let (senior_authz, senior) = login_with_id(&flow, &sandbox, Persona::Senior67).await;
        senior.unwrap();
        // The adult signs in again: a second authorization of the same subject.
        let (again_authz, again) = login_with_id(&flow, &sandbox, Persona::Adult).await;
        again.unwrap();
        let erasure = Erasure::new(flow.sessions().clone(), ledger.clone(), log.clone());
        erasure.erase_subject(user.subject()).await.unwrap();
        let jwks = dir.path().join("jwks.json");
        std::fs::write(&jwks, sandbox.jwks()).unwrap();
        let (file, keys) = (path.to_str().unwrap(), jwks.to_str().unwrap());
        let head = JsonlAuditLog::verify_file(&path, None).unwrap();
        let all = log.read(1, 100).await.unwrap();
        assert_eq!(all.len() as u64, head.entries);

        // By authorization: exactly its entry, with the platform's token, verified again.
        let out = netid(&[
            "audit",
            "find",
            file,
            "--authorization",
            &adult_authz,
            "--keys",
            keys,
        ]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let found = lines(&out);
        assert_eq!(found.len(), 1, "{found:?}");
        let entry = &found[0];
        assert_eq!(entry["authz_id"], adult_authz.as_str());
        assert_eq!(entry["action"], "verification");
        assert_eq!(entry["outcome"], "verified");
        assert_eq!(entry["subject"], adult_sub.as_str());
        let token = entry["token"].as_str().expect("the signed answer is kept");
        assert_eq!(claims(token)["authz_id"], adult_authz.as_str());
        assert_eq!(
            entry["token_sm3"].as_str(),
            Some(hex::encode(sm3(token.as_bytes())).as_str())
        );
        // Printed exactly as the log holds it.
        let line = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .find(|l| l.contains(&adult_authz))
            .unwrap()
            .to_owned();
        assert_eq!(text(&out.stdout), format!("{line}\n"));
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!(
                "ok: 1 matching entries; {} entries, last seq {}, head {}",
                head.entries, head.last_seq, head.head
            )) && err.contains("signed result tokens verified"),
            "{err}"
        );

        // The refused child's authorization: its own entry, the refusal and its reason.
        let out = netid(&["audit", "find", file, "--authorization", &child_authz]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let found = lines(&out);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0]["reason"], "guardian_consent_required");
        assert_ne!(found[0]["subject"], adult_sub.as_str());

        // By subject: both of the adult's sign-ins and the erasure, in log order; nobody
        // else's.
        let out = netid(&[
            "audit",
            "find",
            file,
            "--subject",
            &adult_sub,
            "--keys",
            keys,
        ]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let found = lines(&out);
        let expected: Vec<u64> = all
            .iter()
            .filter(|e| e.event.subject.as_deref() == Some(adult_sub.as_str()))
            .map(|e| e.seq)
            .collect();
        assert!(expected.len() >= 3, "{expected:?}");
        assert_eq!(
            found
                .iter()
                .map(|e| e["seq"].as_u64().unwrap())
                .collect::<Vec<_>>(),
            expected
        );
        let authz: Vec<&str> = found
            .iter()
            .filter_map(|e| e["authz_id"].as_str())
            .collect();
        assert_eq!(authz, [adult_authz.as_str(), again_authz.as_str()]);
        assert!(!authz.contains(&senior_authz.as_str()));
        assert_eq!(found.last().unwrap()["action"], "erasure");

        // No match: nothing printed, not an error.
        let out = netid(&["audit", "find", file, "--subject", "pw_nobody"]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(out.stdout.is_empty());
        assert!(text(&out.stderr).contains("ok: 0 matching entries"));

        // One query at a time, and one is needed: usage errors.
        let out = netid(&[
            "audit",
            "find",
            file,
            "--subject",
            "a",
            "--authorization",
            "b",
        ]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let out = netid(&["audit", "find", file]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");

        // A tampered log answers nothing: the senior's entry (after the adult's) edited, or
        // the adult's token forged with the chain re-hashed: exit 1, no line printed.
        let mut entries = all.clone();
        let senior_seq = entries
            .iter()
            .find(|e| e.event.authz_id.as_deref() == Some(senior_authz.as_str()))
            .unwrap()
            .seq;
        entries[usize::try_from(senior_seq - 1).unwrap()]
            .event
            .outcome = "declined".into();
        let edited = dir.path().join("edited.jsonl");
        write_entries(&edited, &entries);
        let out = netid(&[
            "audit",
            "find",
            edited.to_str().unwrap(),
            "--authorization",
            &adult_authz,
        ]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(out.stdout.is_empty());
        assert!(
            text(&out.stderr).starts_with("error: audit.edited:"),
            "{}",
            text(&out.stderr)
        );

        let mut entries = all.clone();
        let adult_seq = entries
            .iter()
            .find(|e| e.event.authz_id.as_deref() == Some(adult_authz.as_str()))
            .unwrap()
            .seq;
        forge(&mut entries, adult_seq, flip_a_byte);
        let forged = dir.path().join("forged.jsonl");
        write_entries(&forged, &entries);
        let forged = forged.to_str().unwrap();
        let out = netid(&[
            "audit",
            "find",
            forged,
            "--authorization",
            &adult_authz,
            "--keys",
            keys,
        ]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(out.stdout.is_empty());
        assert!(
            text(&out.stderr).starts_with("error: audit.token_invalid:"),
            "{}",
            text(&out.stderr)
        );
        // An anchor the log no longer holds: exit 1.
        let anchor = format!("{}:{}", head.last_seq + 5, head.head);
        let out = netid(&[
            "audit",
            "find",
            file,
            "--subject",
            &adult_sub,
            "--expect-head",
            &anchor,
        ]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(out.stdout.is_empty());

        // The library call it rests on: the same entries.
        let found = JsonlAuditLog::find_in_file(
            &path,
            None,
            None,
            &netid::audit::AuditQuery::Authorization(again_authz.clone()),
        )
        .unwrap();
        assert_eq!(found.head, head);
        assert_eq!(found.entries.len(), 1);
        assert_eq!(
            found.entries[0].event.authz_id.as_deref(),
            Some(again_authz.as_str())
        );
        assert_no_identity_data(&found.entries);

        // The handover is recorded too (docs/COMPLIANCE.md, step 4), and found with the rest.
        let disclosed = log
            .append(
                netid::audit::AuditEvent::new(
                    AuditAction::Disclosure,
                    adult_sub.as_str(),
                    "disclosed",
                    "authority_request",
                )
                .authz_id(adult_authz.as_str()),
            )
            .await
            .unwrap();
        let out = netid(&[
            "audit",
            "find",
            file,
            "--subject",
            &adult_sub,
            "--keys",
            keys,
        ]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let found = lines(&out);
        assert_eq!(found.len(), expected.len() + 1);
        let last = found.last().unwrap();
        assert_eq!(
            (&last["action"], &last["seq"], &last["authz_id"]),
            (
                &Value::from("disclosure"),
                &Value::from(disclosed.seq),
                &Value::from(adult_authz.as_str())
            )
        );
        let out = netid(&["audit", "find", file, "--authorization", &adult_authz]);
        assert_eq!(lines(&out).len(), 2, "the verification and its disclosure");
    }

    #[test]
    fn a_version_1_log_still_verifies_and_grows_in_version_2() {
        // Written by an independent implementation of the version 1 form (Python's SM3; the
        // netid of that time accepts it too), never by this netid.
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/audit-v1.jsonl");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::copy(&fixture, &path).unwrap();
        let head = JsonlAuditLog::verify_file(&path, None).unwrap();
        assert_eq!(
            head.head,
            "fb456101648792da658bd50576fb19cea67f5dd8207e5525162965a0a5558a0b"
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let log = JsonlAuditLog::open(&path).unwrap();
        let old = rt.block_on(log.read(1, 10)).unwrap();
        assert!(old.iter().all(|e| e.version == 1));
        let appended = rt
            .block_on(log.append(netid::audit::AuditEvent::without_subject(
                AuditAction::Verification,
                "declined",
                "netid",
            )))
            .unwrap();
        assert_eq!((appended.seq, appended.version), (5, 2));
        assert_eq!(appended.prev, head.head);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(&std::fs::read_to_string(&fixture).unwrap()));
        let out = netid(&["audit", "verify", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(text_of(&out).starts_with("ok: 5 entries, last seq 5, head "));
        // The shell loop of docs/AUDIT.md reads both versions too.
        if crate::support::openssl().is_some() {
            let out = crate::audit::run_documented_script(&path);
            assert!(out.status.success(), "{out:?}");
        }
        // A version 1 line given a reason (which its hash does not cover) is an edit.
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines[1] = lines[1].replace(
            r#""outcome":"verified","#,
            r#""outcome":"verified","reason":"x","#,
        );
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        assert_eq!(
            JsonlAuditLog::verify_file(&path, None).unwrap_err(),
            AuditError::Chain(netid::audit::ChainError::Edited { seq: 2 })
        );
    }

    fn text_of(out: &Output) -> String {
        text(&out.stdout)
    }
}
