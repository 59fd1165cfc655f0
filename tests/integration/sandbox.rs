//! Every persona and every fault of the embedded sandbox, driven through the public client API.

use std::sync::Arc;
use std::time::Duration;

use netid::client::{
    ClientError, LegalBasis, NetIdClient, PollOutcome, RetryPolicy, VerificationRequest,
    WebhookKind,
};
use netid::crypto::Signature;
use netid::model::{
    AgeTag, Assurance, FieldName, IdDocumentType, NotVerifiedReason, VerificationOutcome,
};
use netid::pii::ExposeSecret;
use netid::request_auth::RequestSigner;
use netid::sandbox::{Decision, Fault, Persona, Sandbox, SandboxApp, SandboxOptions};
use netid::{Actor, ErrorCode};

async fn setup() -> (Sandbox, SandboxApp, NetIdClient) {
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.register_app("app_test");
    let client = sandbox.client_builder(&app).build().unwrap();
    (sandbox, app, client)
}

async fn run(
    sandbox: &Sandbox,
    client: &NetIdClient,
    request: VerificationRequest,
    persona: Persona,
) -> Result<netid::token::Verified<netid::client::IdentityResult>, ClientError> {
    let pending = client.authorize(request).await?;
    sandbox.approve(pending.authz_id(), persona).unwrap();
    client.wait(&pending).await
}

#[tokio::test]
async fn every_persona_gets_its_documented_outcome() {
    let (sandbox, _, client) = setup().await;
    let cases = [
        (Persona::Adult, AgeTag::Adult, None),
        (Persona::Minor13WithGuardian, AgeTag::Under14, Some(true)),
        (Persona::Minor16, AgeTag::Age14To17, None),
        (Persona::Senior67, AgeTag::Senior, None),
        (Persona::HkResident, AgeTag::Adult, None),
        (Persona::ForeignPermanentResident, AgeTag::Adult, None),
    ];
    for (persona, tag, guardian) in cases {
        let r = run(
            &sandbox,
            &client,
            VerificationRequest::age_tag("注册"),
            persona,
        )
        .await
        .unwrap();
        assert_eq!(r.outcome, VerificationOutcome::Verified, "{persona}");
        assert_eq!(r.age_tag, Some(tag), "{persona}");
        assert_eq!(r.guardian_consent, guardian, "{persona}");
        assert_eq!(
            r.assurance,
            Assurance::Credential,
            "the default asks for R01, the 网证 alone"
        );
        assert!(
            r.fields.is_none() && r.consent.is_none(),
            "nothing beyond what was asked"
        );
    }
    // Verify-only: no age tag at all.
    let r = run(
        &sandbox,
        &client,
        VerificationRequest::verify_only("登录"),
        Persona::Minor16,
    )
    .await
    .unwrap();
    assert_eq!(r.age_tag, None);
    assert_eq!(r.guardian_consent, None);
}

/// Art. 5 §2 (protocol v1 §4.3.1): whatever is asked, an under-14 without a guardian's consent
/// is `not_verified` with the reason `guardian_consent_required`, nothing rides along, and every
/// answer has its own `sub`.
#[tokio::test]
async fn a_child_without_guardian_consent_is_not_verified_whatever_is_asked() {
    let (sandbox, _, client) = setup().await;
    let basis = LegalBasis::new("《反洗钱法》第二十八条", [FieldName::Name]).unwrap();
    let requests = [
        VerificationRequest::verify_only("登录"),
        VerificationRequest::age_tag("注册"),
        VerificationRequest::fields("开户", [FieldName::Name], basis).unwrap(),
    ];
    let mut subs = std::collections::HashSet::new();
    for request in requests.iter().chain(&requests) {
        let r = run(
            &sandbox,
            &client,
            request.clone(),
            Persona::Minor13WithoutGuardian,
        )
        .await
        .unwrap();
        assert_eq!(
            r.outcome,
            VerificationOutcome::NotVerified(NotVerifiedReason::GuardianConsentRequired),
            "{request:?}"
        );
        assert!(r.guardian_consent_missing());
        assert_eq!((r.age_tag, r.guardian_consent), (None, None), "{request:?}");
        assert!(r.fields.is_none() && r.consent.is_none(), "{request:?}");
        subs.insert(r.subject.clone());
    }
    assert_eq!(subs.len(), 6, "a one-time sub for every answer: {subs:?}");

    // A re-verification answers for the requested sub, before comparing persons.
    let adult = run(
        &sandbox,
        &client,
        VerificationRequest::verify_only("登录"),
        Persona::Adult,
    )
    .await
    .unwrap();
    assert!(!adult.guardian_consent_missing());
    let pending = client.reverify(&adult.subject, "账户异常").await.unwrap();
    sandbox
        .approve(pending.authz_id(), Persona::Minor13WithoutGuardian)
        .unwrap();
    let r = client.wait(&pending).await.unwrap();
    assert_eq!(
        (r.outcome, &r.subject),
        (
            VerificationOutcome::NotVerified(NotVerifiedReason::GuardianConsentRequired),
            &adult.subject
        )
    );

    // The older answer (verified, under_14, guardian_consent false) is read the same way...
    sandbox.inject(Fault::MinorWithoutConsentVerified);
    let r = run(
        &sandbox,
        &client,
        VerificationRequest::age_tag("注册"),
        Persona::Minor13WithoutGuardian,
    )
    .await
    .unwrap();
    assert_eq!(
        (r.outcome, r.age_tag, r.guardian_consent),
        (
            VerificationOutcome::Verified,
            Some(AgeTag::Under14),
            Some(false)
        )
    );
    assert!(r.guardian_consent_missing());
    // ...and refused outright where nobody asked for an age band.
    sandbox.inject(Fault::MinorWithoutConsentVerified);
    let err = run(
        &sandbox,
        &client,
        VerificationRequest::verify_only("登录"),
        Persona::Minor13WithoutGuardian,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "client.mismatch");
}

#[tokio::test]
async fn declining_and_never_answering_are_user_errors_with_messages() {
    let (sandbox, _, client) = setup().await;
    let err = run(
        &sandbox,
        &client,
        VerificationRequest::verify_only("登录"),
        Persona::Declines,
    )
    .await
    .unwrap_err();
    assert_eq!(err, ClientError::Declined);
    assert_eq!(err.kind(), Actor::User);
    let msg = err.user_message().unwrap();
    assert!(msg.zh_cn.contains("取消") && msg.en.contains("cancelled"));

    let sandbox = Sandbox::start_with(SandboxOptions {
        authorization_ttl: 1,
        ..Default::default()
    })
    .await
    .unwrap();
    let app = sandbox.register_app("app_ttl");
    let client = sandbox.client_builder(&app).build().unwrap();
    let pending = client
        .authorize(VerificationRequest::verify_only("登录"))
        .await
        .unwrap();
    sandbox
        .approve(pending.authz_id(), Persona::NeverAnswers)
        .unwrap();
    let err = client.wait(&pending).await.unwrap_err();
    assert_eq!(err, ClientError::NotAnswered);
    assert_eq!(err.kind(), Actor::User);
}

#[tokio::test]
async fn pseudonyms_are_pairwise() {
    let sandbox = Sandbox::start().await.unwrap();
    let (a, b) = (sandbox.register_app("app_a"), sandbox.register_app("app_b"));
    let ca = sandbox.client_builder(&a).build().unwrap();
    let cb = sandbox.client_builder(&b).build().unwrap();
    let req = || VerificationRequest::verify_only("登录");
    let a1 = run(&sandbox, &ca, req(), Persona::Adult).await.unwrap();
    let a2 = run(&sandbox, &ca, req(), Persona::Adult).await.unwrap();
    let b1 = run(&sandbox, &cb, req(), Persona::Adult).await.unwrap();
    let other = run(&sandbox, &ca, req(), Persona::Senior67).await.unwrap();
    assert_eq!(a1.subject, a2.subject, "stable at one relying party");
    assert_ne!(a1.subject, b1.subject, "different at another relying party");
    assert_ne!(a1.subject, other.subject, "different people differ");
}

#[tokio::test]
async fn fields_under_a_legal_basis_arrive_encrypted_with_their_receipt() {
    let (sandbox, _, client) = setup().await;
    let basis = LegalBasis::new("《反洗钱法》第二十八条", FieldName::ALL.iter().copied()).unwrap();
    let all = FieldName::ALL.iter().copied();
    for (persona, doc) in [
        (Persona::Adult, IdDocumentType::ResidentIdCard),
        (Persona::HkResident, IdDocumentType::HkMacauTravelPermit),
        (
            Persona::ForeignPermanentResident,
            IdDocumentType::ForeignPermanentResidenceCard,
        ),
    ] {
        let req = VerificationRequest::fields("开立账户", all.clone(), basis.clone()).unwrap();
        let r = run(&sandbox, &client, req, persona).await.unwrap();
        let fields = r.fields.as_ref().expect("fields");
        assert_eq!(fields.id_type, Some(doc));
        assert_eq!(
            fields.name.as_ref().unwrap().expose_secret(),
            persona.name()
        );
        let id = fields
            .id_number
            .as_ref()
            .unwrap()
            .expose_secret()
            .to_owned();
        if doc != IdDocumentType::HkMacauTravelPermit {
            assert!(
                mod11_2_valid(&id),
                "{persona}: synthetic ID has a valid check digit"
            );
        }
        let receipt = r.consent.as_ref().unwrap();
        assert_eq!(receipt.purpose, "开立账户");
        assert_eq!(receipt.legal_basis, basis.citation());
        assert_eq!(receipt.fields, fields.names());
        assert!(
            !format!("{r:?}").contains(&id),
            "debug output keeps the ID number out"
        );
    }
}

fn mod11_2_valid(id: &str) -> bool {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let b = id.as_bytes();
    b.len() == 18 && {
        let sum: u32 = b[..17]
            .iter()
            .zip(W)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        b[17] == b"10X98765432"[(sum % 11) as usize]
    }
}

#[tokio::test]
async fn asking_beyond_the_legal_basis_fails_before_any_request() {
    let (sandbox, _, _client) = setup().await;
    let basis =
        LegalBasis::new("《中华人民共和国网络安全法》第二十四条", [FieldName::Name]).unwrap();
    let err =
        VerificationRequest::fields("游戏实名", [FieldName::Name, FieldName::IdNumber], basis)
            .unwrap_err();
    assert_eq!(err.code(), "client.minimization");
    assert_eq!(err.kind(), Actor::Configuration);
    assert!(sandbox.pending().is_empty(), "nothing reached the platform");
    assert!(LegalBasis::new("", [FieldName::Name]).is_err());
    assert!(LegalBasis::new("某法", []).is_err());
    // Art. 8 §2: a ministerial rule cannot make a platform keep plaintext fields.
    let rule = LegalBasis::new("《网络游戏管理办法》第十条", [FieldName::Name]).unwrap_err();
    assert_eq!(rule.kind(), Actor::Configuration);
    assert!(rule.to_string().contains("法律、行政法规"), "{rule}");
}

#[tokio::test]
async fn transient_faults_are_retried_and_lasting_ones_reported() {
    let (sandbox, app, client) = setup().await;
    sandbox.inject(Fault::HttpStatus(503));
    sandbox.inject(Fault::DropConnection);
    let r = run(
        &sandbox,
        &client,
        VerificationRequest::verify_only("登录"),
        Persona::Adult,
    )
    .await;
    assert!(
        r.is_ok(),
        "a 503 and a dropped connection are retried: {r:?}"
    );

    for _ in 0..3 {
        sandbox.inject(Fault::HttpStatus(503));
    }
    let err = client
        .authorize(VerificationRequest::verify_only("登录"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), Actor::RetryLater);
    assert!(err.user_message().unwrap().zh_cn.contains("稍后"));

    let slow = sandbox
        .client_builder(&app)
        .timeout(Duration::from_millis(300))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    sandbox.inject(Fault::Delay(Duration::from_millis(1500)));
    let err = slow
        .authorize(VerificationRequest::verify_only("登录"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        ("client.unavailable", Actor::RetryLater)
    );
}

#[tokio::test]
async fn malformed_and_oversized_responses_are_security_events() {
    let (sandbox, _, client) = setup().await;
    for fault in [Fault::MalformedBody, Fault::OversizedBody] {
        let pending = client
            .authorize(VerificationRequest::verify_only("登录"))
            .await
            .unwrap();
        sandbox.inject(fault.clone());
        let err = client.poll(&pending).await.unwrap_err();
        assert_eq!(
            (err.code(), err.kind()),
            ("client.invalid_response", Actor::SecurityEvent),
            "{fault:?}"
        );
    }
}

#[tokio::test]
async fn token_faults_are_refused_with_their_codes() {
    let (sandbox, _, client) = setup().await;
    let req = || VerificationRequest::verify_only("登录");
    // A first good result, so ReplayToken has something to replay.
    run(&sandbox, &client, req(), Persona::Adult).await.unwrap();
    for (fault, code) in [
        // The previous (good) token, handed out for a new authorization: its nonce is not ours.
        (Fault::ReplayToken, "token.nonce"),
        (Fault::BadSignature, "token.signature_invalid"),
        (Fault::UnknownKid, "token.unknown_kid"),
        (Fault::ExpiredToken, "token.expired"),
    ] {
        sandbox.inject(fault.clone());
        let err = run(&sandbox, &client, req(), Persona::Adult)
            .await
            .unwrap_err();
        assert_eq!(err.code(), code, "{fault:?}");
    }
}

#[tokio::test]
async fn answers_beyond_the_request_are_refused_not_trimmed() {
    let (sandbox, _, client) = setup().await;
    let basis =
        LegalBasis::new("《中华人民共和国网络安全法》第二十四条", [FieldName::Name]).unwrap();
    let requests = [
        VerificationRequest::verify_only("登录"),
        VerificationRequest::age_tag("注册"),
        VerificationRequest::fields("开户", [FieldName::Name], basis).unwrap(),
    ];
    for request in requests {
        sandbox.inject(Fault::OverShare);
        let err = run(&sandbox, &client, request.clone(), Persona::Adult)
            .await
            .unwrap_err();
        assert_eq!(
            (err.code(), err.kind()),
            ("client.mismatch", Actor::SecurityEvent),
            "{request:?}"
        );
        // A face check asked for, and only the credential reported.
        sandbox.inject(Fault::LowerAssurance);
        let face = request.min_assurance(Assurance::CredentialFace);
        let err = run(&sandbox, &client, face, Persona::Adult)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "client.mismatch");
        assert!(err.to_string().contains("assurance"), "{err}");
    }
}

/// Art. 8 §2 (最小化): a fields request gets exactly its fields, and an age band nobody asked for
/// is refused even when every field is as asked.
#[tokio::test]
async fn a_fields_answer_carries_its_fields_and_no_age_band() {
    let (sandbox, _, client) = setup().await;
    let all: Vec<FieldName> = FieldName::ALL.to_vec();
    let basis = LegalBasis::new("《反洗钱法》第二十八条", all.clone()).unwrap();
    let request = VerificationRequest::fields("开立账户", all.clone(), basis).unwrap();
    let r = run(&sandbox, &client, request.clone(), Persona::Minor16)
        .await
        .unwrap();
    assert_eq!(r.fields.as_ref().unwrap().names().len(), all.len());
    assert_eq!((r.age_tag, r.guardian_consent), (None, None));
    // Every field as asked, plus an age band: refused, not trimmed.
    sandbox.inject(Fault::OverShare);
    let err = run(&sandbox, &client, request, Persona::Minor16)
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        ("client.mismatch", Actor::SecurityEvent)
    );
    assert!(err.to_string().contains("age tag"), "{err}");
}

/// The default assurance is R01, and a request that needs a live person says so.
#[tokio::test]
async fn the_assurance_is_what_the_request_asks_r01_unless_raised() {
    let (sandbox, _, client) = setup().await;
    let plain = run(
        &sandbox,
        &client,
        VerificationRequest::verify_only("登录"),
        Persona::Adult,
    )
    .await
    .unwrap();
    assert_eq!(
        (plain.assurance, plain.assurance.mode_code()),
        (Assurance::Credential, "R01")
    );
    for level in [Assurance::CredentialPin, Assurance::CredentialFace] {
        let r = run(
            &sandbox,
            &client,
            VerificationRequest::verify_only("开通支付").min_assurance(level),
            Persona::Adult,
        )
        .await
        .unwrap();
        assert_eq!(r.assurance, level);
    }
}

#[tokio::test]
async fn key_rotation_and_clock_skew() {
    let (sandbox, _, client) = setup().await;
    let req = || VerificationRequest::verify_only("登录");
    run(&sandbox, &client, req(), Persona::Adult).await.unwrap();
    let new_kid = sandbox.rotate_keys();
    let r = run(&sandbox, &client, req(), Persona::Adult).await.unwrap();
    assert_eq!(
        r.kid(),
        new_kid,
        "the rotated key was fetched on its first use"
    );

    sandbox.set_clock_skew(30);
    assert!(
        run(&sandbox, &client, req(), Persona::Adult).await.is_ok(),
        "30 s is within the leeway"
    );
    sandbox.set_clock_skew(600);
    assert_eq!(
        run(&sandbox, &client, req(), Persona::Adult)
            .await
            .unwrap_err()
            .code(),
        "token.not_yet_valid"
    );
    sandbox.set_clock_skew(-1000);
    assert_eq!(
        run(&sandbox, &client, req(), Persona::Adult)
            .await
            .unwrap_err()
            .code(),
        "token.expired"
    );
}

#[tokio::test]
async fn a_result_is_used_once() {
    let (sandbox, _, client) = setup().await;
    let pending = client
        .authorize(VerificationRequest::verify_only("登录"))
        .await
        .unwrap();
    sandbox.approve(pending.authz_id(), Persona::Adult).unwrap();
    assert!(matches!(
        client.poll(&pending).await.unwrap(),
        PollOutcome::Done(_)
    ));
    let err = client.poll(&pending).await.unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        ("client.mismatch", Actor::SecurityEvent)
    );
    // The sandbox refuses a second decision too.
    let again = sandbox
        .decide(pending.authz_id(), Persona::Adult, Decision::Approve)
        .unwrap_err();
    assert_eq!(again.code(), "netid.authorization_used");
}

#[tokio::test]
async fn reverification_confirms_the_same_person_or_reports_a_mismatch() {
    let (sandbox, _, client) = setup().await;
    let first = run(
        &sandbox,
        &client,
        VerificationRequest::verify_only("登录"),
        Persona::Adult,
    )
    .await
    .unwrap();
    let pending = client
        .reverify(&first.subject, "账户被反诈系统标记")
        .await
        .unwrap();
    sandbox.approve(pending.authz_id(), Persona::Adult).unwrap();
    let same = client.wait(&pending).await.unwrap();
    assert!(same.outcome.is_verified());
    assert_eq!(same.subject, first.subject);
    assert!(
        same.assurance >= Assurance::CredentialFace,
        "re-verification is live, with face"
    );

    let pending = client
        .reverify(&first.subject, "账户被反诈系统标记")
        .await
        .unwrap();
    sandbox
        .approve(pending.authz_id(), Persona::Minor16)
        .unwrap();
    let other = client.wait(&pending).await.unwrap();
    assert_eq!(
        other.outcome,
        VerificationOutcome::NotVerified(NotVerifiedReason::IdentityMismatch)
    );

    let unknown = netid::model::Pseudonym::parse("pw_nobody").unwrap();
    let err = client.reverify(&unknown, "x").await.unwrap_err();
    assert!(
        matches!(err, ClientError::Rejected { status: 404, .. }),
        "{err:?}"
    );
}

/// Raw signed requests, to see the platform's side of request authentication.
#[tokio::test]
async fn the_platform_refuses_stale_replayed_and_forged_requests() {
    let (sandbox, app, _) = setup().await;
    let signer =
        RequestSigner::new(&app.app_id, &app.signing_kid, app.signing_key.clone()).unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/v1/authorizations/{}", sandbox.url(), "A".repeat(32));
    let path = format!("/v1/authorizations/{}", "A".repeat(32));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let send = |auth: String| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let r = http
                .get(&url)
                .header("authorization", auth)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let v: serde_json::Value = r.json().await.unwrap();
            (status, v["code"].as_str().unwrap_or("").to_owned())
        }
    };
    let fresh = signer
        .authorization("GET", &path, b"", now, "nonce-0123456789ab")
        .unwrap();
    assert_eq!(
        send(fresh.clone()).await,
        (404, "netid.not_found".into()),
        "authenticated, then not found"
    );
    assert_eq!(send(fresh).await, (401, "netid.request_replayed".into()));
    let stale = signer
        .authorization("GET", &path, b"", now - 301, "nonce-0123456789cd")
        .unwrap();
    assert_eq!(send(stale).await, (401, "netid.request_stale".into()));
    let other_path = signer
        .authorization(
            "GET",
            "/v1/authorizations/x",
            b"",
            now,
            "nonce-0123456789ef",
        )
        .unwrap();
    assert_eq!(
        send(other_path).await,
        (401, "netid.signature_invalid".into())
    );
    let stranger = RequestSigner::new("app_unknown", "k", app.signing_key.clone()).unwrap();
    let auth = stranger
        .authorization("GET", &path, b"", now, "nonce-0123456789gh")
        .unwrap();
    assert_eq!(send(auth).await, (401, "netid.unauthenticated".into()));
    assert_eq!(
        send("Bearer abc".into()).await,
        (401, "netid.unauthenticated".into())
    );
}

#[tokio::test]
async fn idempotent_retries_return_the_same_authorization() {
    let (sandbox, app, _) = setup().await;
    let signer =
        RequestSigner::new(&app.app_id, &app.signing_kid, app.signing_key.clone()).unwrap();
    let body = br#"{"request":{"kind":"verify_only","min_assurance":3,"purpose":"p"},"nonce":"nonce-12345678"}"#;
    let post = |body: &'static [u8]| {
        let auth = signer
            .authorization_now("POST", "/v1/authorizations", body)
            .unwrap();
        let url = format!("{}/v1/authorizations", sandbox.url());
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .header("authorization", auth)
                .header("idempotency-key", "idem-1")
                .body(body)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (s1, a) = post(body).await;
    let (s2, b) = post(body).await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(a["authz_id"], b["authz_id"]);
    assert_eq!(sandbox.pending().len(), 1);
    let (s3, c) = post(br#"{"request":{"kind":"age_tag","min_assurance":3,"purpose":"p"},"nonce":"nonce-12345678"}"#).await;
    assert_eq!((s3, c["code"].as_str()), (400, Some("netid.bad_request")));
    let (s4, d) = {
        let body: &'static [u8] = br#"{"request":{"kind":"fields","min_assurance":3,"purpose":"p","fields":["name"]},"nonce":"nonce-12345678"}"#;
        let auth = signer
            .authorization_now("POST", "/v1/authorizations", body)
            .unwrap();
        let r = reqwest::Client::new()
            .post(format!("{}/v1/authorizations", sandbox.url()))
            .header("authorization", auth)
            .header("idempotency-key", "idem-2")
            .body(body)
            .send()
            .await
            .unwrap();
        (
            r.status().as_u16(),
            r.json::<serde_json::Value>().await.unwrap(),
        )
    };
    assert_eq!(
        (s4, d["code"].as_str()),
        (422, Some("netid.legal_basis_required"))
    );
}

#[tokio::test]
async fn webhooks_are_signed_retried_and_deduplicated() {
    use axum::routing::post;
    let sandbox = Sandbox::start_with(SandboxOptions {
        webhook_retry_base: Duration::from_millis(50),
        ..Default::default()
    })
    .await
    .unwrap();
    let app = sandbox.register_app("app_hook");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = sandbox
        .client_builder(&app)
        .callback_url(format!("http://{addr}/netid/callback"))
        .build()
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let receiver = {
        let client = client.clone();
        let calls = calls.clone();
        axum::Router::new().route(
            "/netid/callback",
            post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let client = client.clone();
                    let tx = tx.clone();
                    let calls = calls.clone();
                    async move {
                        let event = client.verify_callback(&headers, &body).await;
                        let first = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
                        tx.send(event).unwrap();
                        // Fail the first delivery to make the platform retry.
                        if first {
                            axum::http::StatusCode::INTERNAL_SERVER_ERROR
                        } else {
                            axum::http::StatusCode::NO_CONTENT
                        }
                    }
                },
            ),
        )
    };
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let pending = client
        .authorize(VerificationRequest::age_tag("注册"))
        .await
        .unwrap();
    sandbox
        .approve(pending.authz_id(), Persona::Minor16)
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(!first.duplicate);
    assert!(matches!(first.kind, WebhookKind::Approved { .. }));
    let second = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        second.duplicate,
        "the retry carries the same id and is recognised"
    );
    assert_eq!(second.id, first.id);
    assert!(sandbox.webhook_attempts(pending.authz_id()) >= 2);
    let r = client.complete_callback(&pending, &first).await.unwrap();
    assert_eq!(r.age_tag, Some(AgeTag::Age14To17));

    // A forged webhook: right shape, wrong signature.
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("netid-webhook-id", "wh_forged".parse().unwrap());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let sig = format!(
        "kid=\"sbx-sign-1\",timestamp=\"{now}\",signature=\"{}\"",
        "A".repeat(86)
    );
    headers.insert("netid-signature", sig.parse().unwrap());
    let err = client.verify_callback(&headers, br#"{"id":"wh_forged","event":"authorization.denied","authz_id":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#).await.unwrap_err();
    assert!(
        matches!(
            err.code(),
            "netid.signature_invalid" | "netid.unauthenticated"
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), Actor::SecurityEvent);
}

#[tokio::test]
async fn discovery_checks_issuer_and_refuses_a_sandbox_by_default() {
    let (sandbox, app, _) = setup().await;
    let ok = sandbox.client_builder(&app).discover().await;
    assert!(ok.is_ok(), "{ok:?}");
    let prod = NetIdClient::builder(sandbox.url())
        .app_id(&app.app_id)
        .signing_key(&app.signing_kid, app.signing_key.clone())
        .discover()
        .await
        .unwrap_err();
    assert_eq!(prod.kind(), Actor::Configuration);
    let wrong = NetIdClient::builder("https://other.example")
        .base_url(sandbox.url())
        .app_id(&app.app_id)
        .signing_key(&app.signing_kid, app.signing_key.clone())
        .allow_sandbox()
        .discover()
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), "client.config");
}

/// Sandbox-issued tokens verify under the `openssl` command line too.
#[tokio::test]
async fn sandbox_tokens_verify_under_openssl() {
    if crate::support::openssl().is_none() {
        return;
    }
    let (sandbox, app, client) = setup().await;
    let pending = client
        .authorize(VerificationRequest::verify_only("登录"))
        .await
        .unwrap();
    sandbox.approve(pending.authz_id(), Persona::Adult).unwrap();
    let signer =
        RequestSigner::new(&app.app_id, &app.signing_kid, app.signing_key.clone()).unwrap();
    let path = format!("/v1/authorizations/{}", pending.authz_id());
    let auth = signer.authorization_now("GET", &path, b"").unwrap();
    let v: serde_json::Value = reqwest::Client::new()
        .get(format!("{}{path}", sandbox.url()))
        .header("authorization", auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = v["token"].as_str().unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    let sig = Signature::from_bytes(&base64_url(sig)).unwrap();
    let jwks = netid::keys::parse_jwks(sandbox.jwks().as_bytes()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (pub_path, sig_path) = (dir.path().join("p.pem"), dir.path().join("s.der"));
    std::fs::write(&pub_path, jwks[0].key.to_spki_pem()).unwrap();
    std::fs::write(&sig_path, sig.to_der()).unwrap();
    let (ok, out, _) = crate::support::run_openssl_status(
        &[
            "dgst",
            "-sm3",
            "-verify",
            pub_path.to_str().unwrap(),
            "-sigopt",
            "distid:1234567812345678",
            "-signature",
            sig_path.to_str().unwrap(),
        ],
        input.as_bytes(),
    );
    assert!(ok && String::from_utf8_lossy(&out).contains("Verified OK"));
}

fn base64_url(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

/// The sandbox-only decision endpoint (PROTOCOL §6.8), over signed HTTP.
#[tokio::test]
async fn decision_endpoint_follows_the_protocol() {
    let (sandbox, app, client) = setup().await;
    let signer =
        RequestSigner::new(&app.app_id, &app.signing_kid, app.signing_key.clone()).unwrap();
    let pending = client
        .authorize(VerificationRequest::verify_only("登录"))
        .await
        .unwrap();
    let decide = |id: String, body: &'static str| {
        let path = format!("/sandbox/authorizations/{id}/decision");
        let auth = signer
            .authorization_now("POST", &path, body.as_bytes())
            .unwrap();
        let url = format!("{}{path}", sandbox.url());
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .header("authorization", auth)
                .body(body)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let id = pending.authz_id().to_string();
    let (s, v) = decide(id.clone(), r#"{"persona":"nobody","decision":"approve"}"#).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("netid.bad_request")));
    let (s, v) = decide(id.clone(), r#"{"persona":"adult","decision":"approve"}"#).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("approved")));
    let (s, v) = decide(id, r#"{"persona":"adult","decision":"deny"}"#).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("netid.authorization_used"))
    );
    let (s, v) = decide("B".repeat(32), r#"{"persona":"adult","decision":"deny"}"#).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("netid.not_found")));
    assert!(client.wait(&pending).await.unwrap().outcome.is_verified());
}

/// The client's and the platform's clocks are injected (`ClientBuilder::clock`,
/// `SandboxOptions::clock`): token expiry and not-yet-valid, stale request signatures and
/// authorization expiry are reached by setting the time, never by sleeping.
#[tokio::test]
async fn the_client_and_the_platform_read_the_clocks_they_are_given() {
    use netid::clock::ManualClock;
    // 2026-01-01T00:00:00Z: years from when this runs, so a side that read the system clock
    // instead would see every token expired or not yet valid, and every request stale.
    const T: u64 = 1_767_225_600;
    let platform = Arc::new(ManualClock::new(T));
    let sandbox = Sandbox::start_with(SandboxOptions {
        clock: platform.clone(),
        authorization_ttl: 60,
        ..Default::default()
    })
    .await
    .unwrap();
    let app = sandbox.register_app("app_clock");
    let rp = Arc::new(ManualClock::new(T));
    let client = sandbox
        .client_builder(&app)
        .clock(rp.clone())
        .build()
        .unwrap();
    let verify_only = || VerificationRequest::verify_only("登录");

    // One time on both sides: the whole flow, and the token is dated by the platform's clock.
    let r = run(&sandbox, &client, verify_only(), Persona::Adult)
        .await
        .unwrap();
    assert_eq!((r.issued_at, r.expires_at), (T, T + 120));

    // The client's clock alone decides the token's validity (exp T+120, leeway 60 s); 200 s
    // apart is still inside the 300 s window for request timestamps, so the platform answers.
    rp.set(T + 200);
    let err = run(&sandbox, &client, verify_only(), Persona::Adult)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "token.expired");
    rp.set(T - 200);
    let err = run(&sandbox, &client, verify_only(), Persona::Adult)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "token.not_yet_valid");

    // The client signs its requests with its clock: 400 s apart, the platform refuses them.
    rp.set(T + 400);
    match client.authorize(verify_only()).await.unwrap_err() {
        ClientError::Rejected { status, code, .. } => {
            assert_eq!((status, code.as_str()), (401, "netid.request_stale"))
        }
        other => panic!("expected a stale-request refusal, got {other:?}"),
    }

    // Authorization expiry by the client's clock: pending at the platform, given up on by the
    // client once past its expiry (+5 s), at the first poll, without sleeping.
    rp.set(T);
    let pending = client.authorize(verify_only()).await.unwrap();
    assert_eq!(pending.expires_at(), T + 60);
    sandbox
        .approve(pending.authz_id(), Persona::NeverAnswers)
        .unwrap();
    rp.set(T + 66);
    assert!(matches!(
        client.wait(&pending).await,
        Err(ClientError::NotAnswered)
    ));

    // …and by the platform's: once its clock passes the expiry it says so, and a decision
    // comes too late.
    rp.set(T);
    let pending = client.authorize(verify_only()).await.unwrap();
    platform.advance(61);
    rp.advance(61);
    assert!(matches!(
        client.poll(&pending).await,
        Err(ClientError::NotAnswered)
    ));
    assert!(sandbox.approve(pending.authz_id(), Persona::Adult).is_err());
}
