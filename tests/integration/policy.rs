//! The framework-free core: sessions (rotation, expiry, revocation), the age gate, consents.

use std::sync::Arc;
use std::time::Duration;

use netid::ErrorCode;
use netid::model::{AgeTag, FieldName};
use netid::policy::{
    ConsentLedger, ConsentRecord, Consented, InMemoryConsentLedger, InMemoryRevocations,
    SessionManager,
};
use netid::sandbox::{Persona, Sandbox};

async fn a_user(sessions: &SessionManager) -> (netid::policy::VerifiedUser, String) {
    // Real users come from a verification: use the sandbox end to end.
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.register_app("app_p");
    let client = sandbox.client_builder(&app).build().unwrap();
    let login = netid::policy::LoginFlow::builder(client, sessions.clone())
        .request(netid::client::VerificationRequest::age_tag("登录"))
        .build();
    let start = login.start().await.unwrap();
    sandbox
        .approve(
            &netid::model::AuthzId::parse(&start.authz_id).unwrap(),
            Persona::Minor16,
        )
        .unwrap();
    match login.poll(&start.browser_binding).await.unwrap() {
        netid::policy::LoginStatus::Completed { user, session } => (user, session),
        other => panic!("not completed: {other:?}"),
    }
}

#[tokio::test]
async fn sessions_rotate_expire_and_revoke_across_instances() {
    let store = Arc::new(InMemoryRevocations::default());
    let old = SessionManager::builder("app")
        .key("k1", &[1; 32])
        .revocations(store.clone())
        .build()
        .unwrap();
    let (user, token) = a_user(&old).await;
    assert_eq!(user.age_tag(), Some(AgeTag::Age14To17));
    // Rotation: the new key signs, the old one still verifies.
    let rotated = SessionManager::builder("app")
        .key("k2", &[2; 32])
        .previous_key("k1", &[1; 32])
        .revocations(store.clone())
        .build()
        .unwrap();
    assert_eq!(rotated.authenticate(&token).await.unwrap(), user);
    let fresh = rotated.issue(&user).unwrap();
    assert_eq!(
        old.authenticate(&fresh).await.unwrap_err().code(),
        "netid.session_invalid",
        "the old instance does not know k2"
    );
    // Another app's sessions are not ours, even with the same key.
    let other_app = SessionManager::builder("other")
        .key("k1", &[1; 32])
        .build()
        .unwrap();
    assert_eq!(
        other_app.authenticate(&token).await.unwrap_err().code(),
        "netid.session_invalid"
    );
    // Revocation at one instance holds at the other (shared store).
    rotated.revoke(&token).await.unwrap();
    assert_eq!(
        old.authenticate(&token).await.unwrap_err().code(),
        "netid.session_revoked"
    );
    // Tampering.
    let mut t = fresh.clone();
    t.pop();
    t.push(if fresh.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(
        rotated.authenticate(&t).await.unwrap_err().code(),
        "netid.session_invalid"
    );
}

#[tokio::test]
async fn sessions_expire() {
    use netid::clock::ManualClock;
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let short = SessionManager::builder("app")
        .key("k", &[3; 32])
        .ttl(Duration::from_secs(60))
        .clock(clock.clone())
        .build()
        .unwrap();
    let (_, token) = a_user(&short).await;
    // Within its lifetime and the 5 s leeway: still valid, remembered or not.
    clock.advance(64);
    short.authenticate(&token).await.unwrap();
    // Past them: expired, both for the remembered token and for a fresh manager decoding it.
    clock.advance(2);
    assert_eq!(
        short.authenticate(&token).await.unwrap_err().code(),
        "netid.session_expired"
    );
    let fresh = SessionManager::builder("app")
        .key("k", &[3; 32])
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(
        fresh.authenticate(&token).await.unwrap_err().code(),
        "netid.session_expired"
    );
}

#[test]
fn session_settings_are_checked() {
    assert!(
        SessionManager::builder("a").build().is_err(),
        "a key is required"
    );
    assert!(
        SessionManager::builder("a")
            .key("k", &[0; 16])
            .build()
            .is_err(),
        "short keys are refused"
    );
    assert!(
        SessionManager::builder("a")
            .key("k", &[0; 32])
            .ttl(Duration::ZERO)
            .build()
            .is_err()
    );
    assert!(
        SessionManager::builder("a")
            .key("k", &[0; 32])
            .previous_key("k", &[1; 32])
            .build()
            .is_err(),
        "duplicate kids"
    );
    let dbg = format!(
        "{:?}",
        SessionManager::builder("a")
            .key("k", &[9; 32])
            .build()
            .unwrap()
    );
    assert!(dbg.contains("[redacted]"));
}

#[tokio::test]
async fn withdrawn_consent_makes_data_unusable() {
    let ledger = InMemoryConsentLedger::default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    ledger
        .record(ConsentRecord {
            id: "c1".into(),
            subject: "s".into(),
            fields: vec![FieldName::Name],
            purpose: "开户".into(),
            legal_basis: None,
            granted_at: now,
            expires_at: None,
            withdrawn_at: None,
        })
        .await
        .unwrap();
    let data = Consented::new("张三".to_owned(), "s", "c1");
    assert_eq!(data.get(&ledger).await.unwrap(), "张三");
    assert!(
        ledger
            .live_consent("s", FieldName::Name, "开户", now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        ledger
            .live_consent("s", FieldName::IdNumber, "开户", now)
            .await
            .unwrap()
            .is_none(),
        "per field"
    );
    assert!(
        ledger
            .live_consent("s", FieldName::Name, "营销", now)
            .await
            .unwrap()
            .is_none(),
        "per purpose"
    );
    assert!(ledger.withdraw("s", "c1", 2).await.unwrap());
    assert!(
        data.get(&ledger).await.is_err(),
        "withdrawn: the data is locked"
    );
    assert!(
        !ledger.withdraw("s", "c1", 3).await.unwrap(),
        "withdrawing twice changes nothing"
    );
    let expired = Consented::new(1, "s", "nope");
    assert!(expired.get(&ledger).await.is_err(), "unknown consent");
}

/// Per-method outcome counters let a platform show parity (Art. 7 §3).
#[test]
fn outcomes_are_counted_per_method() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    struct Counter;
    #[async_trait::async_trait]
    impl netid::policy::IdentityVerifier for Counter {
        fn method(&self) -> &'static str {
            "counter_check"
        }
        async fn verify(
            &self,
            evidence: &[u8],
        ) -> Result<netid::policy::OtherVerification, netid::policy::VerifierError> {
            if evidence == b"ok" {
                Ok(netid::policy::OtherVerification {
                    subject: "c1".into(),
                    assurance: netid::model::Assurance::CredentialFace,
                    age_tag: Some(AgeTag::Adult),
                    guardian_consent: None,
                })
            } else {
                Err(netid::policy::VerifierError("no".into()))
            }
        }
    }

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    // A current-thread runtime keeps every task on this thread, where the local recorder lives.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        rt.block_on(async {
            let sessions = SessionManager::builder("app")
                .key("k", &[4; 32])
                .build()
                .unwrap();
            let sandbox = Sandbox::start().await.unwrap();
            let app = sandbox.register_app("app_m");
            let client = sandbox.client_builder(&app).build().unwrap();
            let login = netid::policy::LoginFlow::builder(client, sessions)
                .verifier(Arc::new(Counter))
                .build();
            for persona in [Persona::Adult, Persona::Declines] {
                let start = login.start().await.unwrap();
                sandbox
                    .approve(
                        &netid::model::AuthzId::parse(&start.authz_id).unwrap(),
                        persona,
                    )
                    .unwrap();
                let _ = login.poll(&start.browser_binding).await;
            }
            assert!(login.login_other("counter_check", b"ok").await.is_ok());
            assert!(login.login_other("counter_check", b"bad").await.is_err());
        })
    });
    let mut counts = std::collections::BTreeMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let labels: Vec<String> = key
            .key()
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        if let DebugValue::Counter(n) = value {
            counts.insert(labels.join(","), n);
        }
    }
    assert_eq!(
        counts.get("method=netid,outcome=verified"),
        Some(&1),
        "{counts:?}"
    );
    assert_eq!(
        counts.get("method=netid,outcome=declined"),
        Some(&1),
        "{counts:?}"
    );
    assert_eq!(
        counts.get("method=counter_check,outcome=verified"),
        Some(&1),
        "{counts:?}"
    );
    assert_eq!(
        counts.get("method=counter_check,outcome=not_verified"),
        Some(&1),
        "{counts:?}"
    );
}

/// Art. 5 §2: login refuses a child under 14 without a guardian's consent whichever way the
/// login ends — by poll, by webhook, with a verify-only request, in the platform's older answer,
/// or through another lawful method — and counts each refusal.
#[test]
fn a_child_without_guardian_consent_is_refused_at_every_login_and_counted() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    use netid::client::VerificationRequest;
    use netid::policy::{LoginFlow, Problem};
    use netid::sandbox::{Fault, SandboxOptions};

    /// Another lawful method that reports the band and consent its evidence states.
    struct Family;
    #[async_trait::async_trait]
    impl netid::policy::IdentityVerifier for Family {
        fn method(&self) -> &'static str {
            "family_check"
        }
        async fn verify(
            &self,
            evidence: &[u8],
        ) -> Result<netid::policy::OtherVerification, netid::policy::VerifierError> {
            let v: serde_json::Value = serde_json::from_slice(evidence).unwrap();
            Ok(netid::policy::OtherVerification {
                subject: "family-1".into(),
                assurance: netid::model::Assurance::Credential,
                age_tag: v["age_tag"].as_str().map(|t| t.parse().unwrap()),
                guardian_consent: v["guardian_consent"].as_bool(),
            })
        }
    }

    fn refused(r: Result<netid::policy::LoginStatus, Problem>, how: &str) {
        let p = r.expect_err(how);
        assert_eq!(
            (p.status, p.code),
            (403, "netid.guardian_consent_required"),
            "{how}"
        );
    }

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        rt.block_on(async {
            let sandbox = Sandbox::start_with(SandboxOptions {
                webhook_retry_base: Duration::from_millis(50),
                ..Default::default()
            })
            .await
            .unwrap();
            let app = sandbox.register_app("app_kids");
            let sessions = SessionManager::builder("app_kids")
                .key("k", &[5; 32])
                .build()
                .unwrap();
            let flow = |request: VerificationRequest, callback: Option<String>| {
                let mut client = sandbox.client_builder(&app);
                if let Some(url) = callback {
                    client = client.callback_url(url);
                }
                LoginFlow::builder(client.build().unwrap(), sessions.clone())
                    .request(request)
                    .verifier(Arc::new(Family))
                    .build()
            };
            let approve = |authz: &str| {
                sandbox
                    .approve(
                        &netid::model::AuthzId::parse(authz).unwrap(),
                        Persona::Minor13WithoutGuardian,
                    )
                    .unwrap()
            };

            // By poll, with an age-tag request: today's answer, then the older shape.
            let polled = flow(VerificationRequest::age_tag("登录"), None);
            for fault in [None, Some(Fault::MinorWithoutConsentVerified)] {
                if let Some(f) = fault.clone() {
                    sandbox.inject(f);
                }
                let start = polled.start().await.unwrap();
                approve(&start.authz_id);
                refused(
                    polled.poll(&start.browser_binding).await,
                    &format!("{fault:?}"),
                );
                assert_eq!(
                    polled.poll(&start.browser_binding).await.unwrap_err().code,
                    "netid.login_unknown",
                    "the refusal ended the login"
                );
            }

            // By poll, with a request for the result only.
            let verify_only = flow(VerificationRequest::verify_only("登录"), None);
            let start = verify_only.start().await.unwrap();
            approve(&start.authz_id);
            refused(
                verify_only.poll(&start.browser_binding).await,
                "verify-only",
            );

            // By webhook: the platform's webhook is taken (2xx, not retried), and the browser's
            // next poll gets the refusal.
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/netid/callback", listener.local_addr().unwrap());
            let hooked = flow(VerificationRequest::verify_only("登录"), Some(url));
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let receiver = {
                let hooked = hooked.clone();
                axum::Router::new().route(
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
                )
            };
            tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
            let start = hooked.start().await.unwrap();
            approve(&start.authz_id);
            let answered = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(answered, 204, "the webhook itself is taken");
            refused(hooked.poll(&start.browser_binding).await, "webhook");
            tokio::time::sleep(Duration::from_millis(400)).await;
            let authz = netid::model::AuthzId::parse(&start.authz_id).unwrap();
            assert_eq!(sandbox.webhook_attempts(&authz), 1, "not retried");

            // Another lawful method that reports an under-14 without consent.
            let p = polled
                .login_other("family_check", br#"{"age_tag":"under_14"}"#)
                .await
                .unwrap_err();
            assert_eq!(p.code, "netid.guardian_consent_required");
            let (user, _) = polled
                .login_other(
                    "family_check",
                    br#"{"age_tag":"under_14","guardian_consent":true}"#,
                )
                .await
                .unwrap();
            assert_eq!(user.guardian_consent(), Some(true));
        })
    });
    let mut counts = std::collections::BTreeMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let labels: Vec<String> = key
            .key()
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        if let DebugValue::Counter(n) = value {
            counts.insert(labels.join(","), n);
        }
    }
    let count = |labels: &str| counts.get(labels).copied();
    assert_eq!(
        count("method=netid,outcome=guardian_consent_required"),
        Some(4),
        "{counts:?}"
    );
    assert_eq!(count("method=netid,outcome=verified"), None, "{counts:?}");
    assert_eq!(
        count("method=family_check,outcome=guardian_consent_required"),
        Some(1),
        "{counts:?}"
    );
    assert_eq!(
        count("method=family_check,outcome=verified"),
        Some(1),
        "{counts:?}"
    );
}

/// The login asks for the result only by default; an app with an age gate that forgot to ask
/// for the age band is told at start-up, not by its users' 403s.
#[test]
fn an_age_gate_without_an_age_band_and_a_login_without_an_audit_log_are_warned_about_at_start_up() {
    use netid::client::{NetIdClient, VerificationRequest};
    use netid::crypto::{PrivateKey, SigningKey};
    use netid::policy::{AgeGate, Gate, LoginFlow, RoutePolicy, Rules};

    #[derive(Clone, Default)]
    struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Capture {
            self.clone()
        }
    }

    let login = |request: Option<VerificationRequest>| {
        let client = NetIdClient::builder("https://platform.example")
            .app_id("app_w")
            .signing_key("k", SigningKey::from(PrivateKey::generate()))
            .build()
            .unwrap();
        let sessions = SessionManager::builder("app_w")
            .key("k", &[6; 32])
            .build()
            .unwrap();
        let mut b = LoginFlow::builder(client, sessions);
        if let Some(r) = request {
            b = b.request(r);
        }
        b.build()
    };
    let gated = || {
        Rules::builder()
            .route(
                "/wine",
                RoutePolicy::default().with_age_gate(AgeGate::adults_only()),
            )
            .build()
    };
    let warned = |login: LoginFlow, rules: Rules| {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(capture.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || drop(Gate::new(login, rules)));
        let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        text.contains("WARN") && text.contains("age gate")
    };
    // Without an audit log nothing is recorded (Q&A 七): said at start-up; with one, not.
    let warned_unrecorded = |login: LoginFlow| {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(capture.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            drop(Gate::new(login, Rules::builder().build()))
        });
        let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        text.contains("WARN") && text.contains("no audit log")
    };
    assert!(!login(None).has_audit_log());
    assert!(warned_unrecorded(login(None)));
    let recorded = {
        let client = NetIdClient::builder("https://platform.example")
            .app_id("app_w")
            .signing_key("k", SigningKey::from(PrivateKey::generate()))
            .build()
            .unwrap();
        let sessions = SessionManager::builder("app_w")
            .key("k", &[6; 32])
            .build()
            .unwrap();
        LoginFlow::builder(client, sessions)
            .audit(Arc::new(netid::audit::InMemoryAuditLog::new()))
            .build()
    };
    assert!(recorded.has_audit_log());
    assert!(!warned_unrecorded(recorded));
    assert!(
        login(None)
            .request()
            .eq(&VerificationRequest::verify_only("登录 / sign-in")),
        "the default asks for the result only"
    );
    assert!(warned(login(None), gated()));
    assert!(!warned(
        login(Some(VerificationRequest::age_tag("登录"))),
        gated()
    ));
    assert!(!warned(login(None), Rules::builder().build()));
}

/// Unauthenticated login starts are bounded before the platform is asked anything: per client
/// address (429) and overall (503), each refusal counted; a lapsed login frees its place.
#[test]
fn pending_logins_are_capped_per_client_and_overall() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    use std::net::{IpAddr, Ipv4Addr};

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        rt.block_on(async {
            // The application's one clock: the login flow reads the session manager's.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let clock = Arc::new(netid::clock::ManualClock::new(now));
            let sessions = SessionManager::builder("app")
                .key("k", &[4; 32])
                .clock(clock.clone())
                .build()
                .unwrap();
            let sandbox = Sandbox::start().await.unwrap();
            let app = sandbox.register_app("app_cap");
            let client = sandbox.client_builder(&app).build().unwrap();
            let login = netid::policy::LoginFlow::builder(client, sessions)
                .pending_limits(5, 2)
                .build();
            let a = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
            let b = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));
            login.start_from(a).await.unwrap();
            login.start_from(a).await.unwrap();
            let third = login.start_from(a).await.unwrap_err();
            assert_eq!((third.status, third.code), (429, "netid.rate_limited"));
            let before = sandbox.pending().len();
            assert!(login.start_from(a).await.is_err());
            assert_eq!(
                sandbox.pending().len(),
                before,
                "refused before asking the platform"
            );
            // Other addresses still get in, up to the overall cap.
            login.start_from(b).await.unwrap();
            login.start_from(b).await.unwrap();
            login.start_from(None).await.unwrap();
            let full = login.start_from(None).await.unwrap_err();
            assert_eq!((full.status, full.code), (503, "netid.unavailable"));
            // An hour later every one of them has lapsed (their authorizations last minutes,
            // plus five for a last poll): their places are free again, for both kinds of cap.
            clock.advance(3600);
            login.start_from(a).await.unwrap();
            login.start_from(a).await.unwrap();
            login.start_from(None).await.unwrap();
        });
    });
    let snapshot = snapshotter.snapshot().into_vec();
    let refused = |reason: &str| {
        snapshot
            .iter()
            .find(|(key, _, _, _)| {
                key.key().name() == "netid_login_start_refused_total"
                    && key.key().labels().any(|l| l.value() == reason)
            })
            .map(|(_, _, _, v)| match v {
                DebugValue::Counter(n) => *n,
                other => panic!("not a counter: {other:?}"),
            })
    };
    assert_eq!(refused("per_client"), Some(2));
    assert_eq!(refused("total"), Some(1));
}

/// A resident ID number (Beijing, Chaoyang) born on `yyyymmdd`, with its GB 11643 check
/// character.
fn resident_id_born(yyyymmdd: &str) -> String {
    let d17 = format!("110105{yyyymmdd}002");
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = d17
        .bytes()
        .zip(weights)
        .map(|(c, w)| u32::from(c - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{d17}{check}")
}

/// The application's one clock, set on the session manager and nowhere else: the login flow
/// dates its audit records by it, and the gate's detector reads today's date from it (an ID
/// number whose birth date is tomorrow is no ID number yet).
#[tokio::test]
async fn one_clock_on_the_session_manager_dates_the_login_records_and_the_gates_detector() {
    use netid::clock::ManualClock;
    use netid::policy::{Gate, RequestHead, Rules};
    // 2026-06-30 23:59:59 in China Standard Time.
    const T: u64 = 1_782_835_199;
    let clock = Arc::new(ManualClock::new(T));
    let sessions = SessionManager::builder("app")
        .key("k", &[6; 32])
        .clock(clock.clone())
        .build()
        .unwrap();
    let audit = Arc::new(netid::audit::InMemoryAuditLog::new());
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.register_app("app_clock");
    let client = sandbox.client_builder(&app).build().unwrap();
    let login = netid::policy::LoginFlow::builder(client, sessions)
        .audit(audit.clone())
        .build();
    let start = login.start().await.unwrap();
    sandbox
        .approve(
            &netid::model::AuthzId::parse(&start.authz_id).unwrap(),
            Persona::Adult,
        )
        .unwrap();
    let session = match login.poll(&start.browser_binding).await.unwrap() {
        netid::policy::LoginStatus::Completed { session, .. } => session,
        other => panic!("not completed: {other:?}"),
    };
    let entries = netid::audit::AuditLog::read(audit.as_ref(), 1, 10)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1, "the verification");
    assert_eq!(entries[0].event.at, T, "dated by the application's clock");

    let gate = Gate::new(login, Rules::builder().try_build().unwrap());
    let body = format!(r#"{{"ref":"{}"}}"#, resident_id_born("20260701"));
    let mut headers = http::HeaderMap::new();
    let bearer = format!("Bearer {session}");
    headers.insert("authorization", bearer.parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert("content-length", body.len().into());
    let head = RequestHead {
        path: "/profile",
        matched_route: None,
        query: None,
        headers: &headers,
        body_known_empty: false,
    };
    let read = |_limit| async { Ok(bytes::Bytes::from(body.clone())) };
    let admitted = gate.decide(&head, read).await;
    assert!(admitted.is_ok(), "born tomorrow: {admitted:?}");
    clock.advance(1);
    let refused = gate.decide(&head, read).await.unwrap_err();
    assert_eq!(
        (refused.status, refused.code),
        (422, "netid.extra_plaintext")
    );
}
