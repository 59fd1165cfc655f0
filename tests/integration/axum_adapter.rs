//! The scenario table through the axum adapter.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::routing::{get, post};
use netid::axum::NetId;
use netid::policy::VerifiedUser;
use tower::ServiceExt;

use crate::scenarios::{Harness, Req, Resp, World, run_table, world};

async fn me(user: VerifiedUser) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "subject": user.subject(), "age_tag": user.age_tag() }))
}

async fn echo(user: VerifiedUser, body: Bytes) -> axum::Json<serde_json::Value> {
    axum::Json(
        serde_json::json!({ "subject": user.subject(), "body": String::from_utf8_lossy(&body) }),
    )
}

async fn ok(_user: VerifiedUser) -> &'static str {
    "ok"
}

/// Treats the two kinds of user differently: only pseudonyms of 网号/网证 users (`pw_…`) get a
/// badge. `EqualService` must catch it.
async fn badge(user: VerifiedUser) -> axum::Json<serde_json::Value> {
    axum::Json(if user.subject().starts_with("pw_") {
        serde_json::json!({ "subject": user.subject(), "verified_badge": true })
    } else {
        serde_json::json!({ "subject": user.subject() })
    })
}

pub(crate) fn app(w: &World) -> Router {
    app_for(&w.login, &w.rules)
}

/// The test app for this login flow and these rules.
pub(crate) fn app_for(login: &netid::policy::LoginFlow, rules: &netid::policy::Rules) -> Router {
    let netid = NetId::new(login.clone(), rules.clone()).insecure_cookies_for_local_development();
    Router::new()
        .route("/me", get(me))
        .route("/profile", post(echo))
        .route("/notes", post(echo))
        .route("/kyc", post(echo))
        .route("/vip", post(echo))
        .route("/upload", post(echo))
        .route("/adult/shop", get(ok))
        .route("/teen/forum", get(ok))
        .route("/kids/club", get(ok))
        .route("/seniors", get(ok))
        .route("/files/{*path}", get(ok))
        .route("/files/public", get(ok))
        // Registered, but no policy declared for it: the catch-all's applies.
        .route("/files/readme", get(ok))
        .route("/archive/{*rest}", get(ok))
        .route("/badge", get(badge))
        .merge(netid.routes())
        .layer(netid.layer())
}

pub(crate) struct AxumHarness(pub(crate) Router);

#[async_trait::async_trait]
impl Harness for AxumHarness {
    async fn send(&self, r: Req) -> Resp {
        let mut b = axum::http::Request::builder().method(r.method).uri(&r.path);
        for (k, v) in &r.headers {
            b = b.header(k, v);
        }
        let resp = self
            .0
            .clone()
            .oneshot(b.body(Body::from(r.body)).unwrap())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let body = axum::body::to_bytes(resp.into_body(), 4 << 20)
            .await
            .unwrap()
            .to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }
}

/// Sliding sessions through axum: two instances, one clock moved by hand.
#[tokio::test]
async fn sessions_renew_while_in_use_across_instances_through_axum() {
    let w = crate::scenarios::renewal_world().await;
    let (a, b) = (
        AxumHarness(app_for(&w.a, &w.rules)),
        AxumHarness(app_for(&w.b, &w.rules)),
    );
    crate::scenarios::session_renewal(&a, &b, &w).await;
}

#[tokio::test]
async fn scenario_table_through_axum() {
    let w = world().await;
    let h = AxumHarness(app(&w));
    let n = run_table(&h, &w).await;
    eprintln!("axum: {n} scenarios passed");
    assert!(n >= 40, "the table has {n} scenarios");
}

/// Art. 5 §2 with a login that asks for the verification result only.
#[tokio::test]
async fn a_verify_only_login_refuses_a_child_without_guardian_consent_through_axum() {
    let w = crate::scenarios::verify_only_world().await;
    crate::scenarios::verify_only_logins(&AxumHarness(app(&w)), &w).await;
}

#[tokio::test]
async fn equal_service_holds_and_its_violations_are_reported() {
    let w = world().await;
    let app = app(&w);
    let sessions = w.login.sessions().clone();
    let compared = crate::scenarios::equal_service_requests()
        .check_axum(app.clone(), &sessions)
        .await
        .unwrap();
    assert_eq!(compared, 4, "the login route is skipped as method-specific");
    let err = crate::scenarios::unequal_service_requests()
        .check_axum(app, &sessions)
        .await
        .unwrap_err();
    assert_eq!(err.0, crate::scenarios::UNEQUAL_SERVICE_REPORT, "{err}");
}

#[tokio::test]
async fn the_app_can_render_refusals_its_own_way() {
    use axum::response::IntoResponse;
    let w = world().await;
    let netid = NetId::new(w.login.clone(), w.rules.clone()).with_problem_renderer(|p| {
        (
            axum::http::StatusCode::IM_A_TEAPOT,
            format!("custom:{}", p.code),
        )
            .into_response()
    });
    let app = Router::new()
        .route("/me", get(me))
        .route("/profile", post(echo))
        .merge(netid.routes())
        .layer(netid.layer());
    crate::scenarios::custom_renderer_shapes_every_refusal(&AxumHarness(app), &w).await;
}

/// Revocations held in memory that count the questions asked (to see the fast path taken).
#[derive(Debug, Default)]
struct CountingRevocations {
    inner: netid::policy::InMemoryRevocations,
    asked: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl netid::policy::RevocationStore for CountingRevocations {
    async fn revoke(&self, jti: &str, until: u64) -> Result<(), netid::policy::StoreError> {
        self.inner.revoke(jti, until).await
    }
    async fn revoke_subject(
        &self,
        subject: &str,
        at: u64,
        until: u64,
    ) -> Result<(), netid::policy::StoreError> {
        self.inner.revoke_subject(subject, at, until).await
    }
    async fn is_revoked(
        &self,
        jti: &str,
        subject: &str,
        iat: u64,
    ) -> Result<bool, netid::policy::StoreError> {
        self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.is_revoked(jti, subject, iat).await
    }
    fn generation(&self) -> Option<u64> {
        self.inner.generation()
    }
}

#[tokio::test]
async fn a_remembered_session_is_answered_without_waiting_until_something_is_revoked() {
    use netid::policy::{AgeGate, LoginFlow, LoginStatus, RoutePolicy, Rules, SessionManager};
    use netid::sandbox::{Persona, Sandbox};
    use std::sync::Arc;
    use std::sync::atomic::Ordering::SeqCst;

    let sandbox = Sandbox::start().await.unwrap();
    let keys = sandbox.register_app("app_fast");
    let client = sandbox.client_builder(&keys).build().unwrap();
    let store = Arc::new(CountingRevocations::default());
    let sessions = SessionManager::builder("app_fast")
        .key("k", &[9; 32])
        .revocations(store.clone())
        .build()
        .unwrap();
    // The adult shop's gate needs the age band.
    let login = LoginFlow::builder(client, sessions.clone())
        .request(netid::client::VerificationRequest::age_tag("登录"))
        .build();
    let mut tokens = Vec::new();
    for persona in [Persona::Adult, Persona::Minor16] {
        let start = login.start().await.unwrap();
        sandbox
            .approve(
                &netid::model::AuthzId::parse(&start.authz_id).unwrap(),
                persona,
            )
            .unwrap();
        let LoginStatus::Completed { session, .. } =
            login.poll(&start.browser_binding).await.unwrap()
        else {
            panic!("the sandbox login did not complete")
        };
        tokens.push(session);
    }
    let (adult, minor) = (&tokens[0], &tokens[1]);
    let rules = Rules::builder()
        .route(
            "/adult/shop",
            RoutePolicy::default().with_age_gate(AgeGate::adults_only()),
        )
        .try_build()
        .unwrap();
    let netid = NetId::new(login, rules);
    let router = Router::new()
        .route("/me", get(me))
        .route("/adult/shop", get(ok))
        .route("/profile", post(echo))
        .layer(netid.layer());
    let send = |path: &str, token: &str, body: &str| {
        let r = axum::http::Request::builder()
            .method(if body.is_empty() { "GET" } else { "POST" })
            .uri(path)
            .header("cookie", format!("netid_session={token}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        let router = router.clone();
        async move {
            let resp = router.oneshot(r).await.unwrap();
            let status = resp.status().as_u16();
            let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
                .await
                .unwrap();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    let asked = || store.asked.load(SeqCst);

    // The first request asks the store; the next ones are answered at once, with the same result.
    let first = send("/me", adult, "").await;
    assert_eq!(first.0, 200);
    assert_eq!(asked(), 1);
    for _ in 0..3 {
        assert_eq!(send("/me", adult, "").await, first);
    }
    assert_eq!(
        asked(),
        1,
        "a remembered, cleared session is not asked about again"
    );
    // The rules still apply on the fast path: the age gate refuses the 16-year-old every time.
    for _ in 0..3 {
        let (status, body) = send("/adult/shop", minor, "").await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("netid.age_minor"), "{body}");
    }
    // A body to inspect takes the waiting path, and is still scanned.
    let (status, body) = send("/profile", adult, r#"{"idNo":"11010519491231002X"}"#).await;
    assert_eq!(status, 422, "{body}");
    // A logout anywhere in the process is seen by the very next request.
    let before = asked();
    sessions.revoke(adult).await.unwrap();
    let (status, body) = send("/me", adult, "").await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("netid.session_revoked"), "{body}");
    assert!(
        asked() > before,
        "the store was asked again after a revocation"
    );
    // Other sessions are asked once more, then answered at once again.
    assert_eq!(send("/adult/shop", minor, "").await.0, 403);
    let settled = asked();
    assert_eq!(send("/adult/shop", minor, "").await.0, 403);
    assert_eq!(asked(), settled);
}
