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
    let netid =
        NetId::new(w.login.clone(), w.rules.clone()).insecure_cookies_for_local_development();
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
        .route("/archive/{*rest}", get(ok))
        .route("/badge", get(badge))
        .merge(netid.routes())
        .layer(netid.layer())
}

struct AxumHarness(Router);

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

#[tokio::test]
async fn scenario_table_through_axum() {
    let w = world().await;
    let h = AxumHarness(app(&w));
    let n = run_table(&h, &w).await;
    eprintln!("axum: {n} scenarios passed");
    assert!(n >= 40, "the table has {n} scenarios");
}

#[tokio::test]
async fn equal_service_holds_and_its_violations_are_reported() {
    use netid::testing::EqualService;
    let w = world().await;
    let app = app(&w);
    let sessions = w.login.sessions().clone();
    let compared = EqualService::new()
        .get("/me")
        .get("/adult/shop")
        .send(
            "POST",
            "/profile",
            "application/json",
            r#"{"nickname":"bob"}"#,
        )
        .send(
            "POST",
            "/notes",
            "application/json",
            r#"{"remark":"hello"}"#,
        )
        .method_specific("/netid/")
        .send("POST", "/netid/logout", "application/json", "{}")
        .check_axum(app.clone(), &sessions)
        .await
        .unwrap();
    assert_eq!(compared, 4, "the login route is skipped as method-specific");

    // The one lawful difference (Art. 7 §2) shows up as a readable diff.
    let err = EqualService::new()
        .send(
            "POST",
            "/profile",
            "application/json",
            r#"{"idNo":"11010519491231002X"}"#,
        )
        .check_axum(app.clone(), &sessions)
        .await
        .unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert!(
        err.to_string()
            .contains("POST /profile: status 422 (网证) vs 200 (other)"),
        "{err}"
    );

    // An unlawful difference, and a request that cannot be sent, each on its own line.
    let err = EqualService::new()
        .get("/me")
        .get("/badge")
        .get("/not a path")
        .check_axum(app, &sessions)
        .await
        .unwrap_err();
    assert_eq!(
        err.0,
        vec![
            "GET /badge: body shape differs at $.verified_badge (present for one user only)"
                .to_owned(),
            "GET /not a path: could not be sent (invalid method, path or header)".to_owned(),
        ]
    );
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
    let h = AxumHarness(app);
    let send = |r: Req| h.send(r);
    let mk = |m, p: &str| Req {
        method: m,
        path: p.to_owned(),
        headers: vec![],
        body: vec![],
    };
    // The extractor's refusal, the login routes' refusal.
    for (req, code) in [
        (mk("GET", "/me"), "netid.unauthenticated"),
        (mk("POST", "/netid/login/poll"), "netid.login_unknown"),
    ] {
        let r = send(req).await;
        assert_eq!(
            (r.status, String::from_utf8_lossy(&r.body).into_owned()),
            (418, format!("custom:{code}"))
        );
    }
    // The layer's refusal, for a signed-in 网证 user sending an ID number.
    let session = crate::scenarios::session_for(&w, netid::sandbox::Persona::Adult).await;
    let mut req = mk("POST", "/profile");
    req.headers = vec![
        ("cookie".into(), format!("netid_session={session}")),
        ("content-type".into(), "application/json".into()),
    ];
    req.body = br#"{"idNo":"11010519491231002X"}"#.to_vec();
    let r = h.send(req).await;
    assert_eq!(
        (r.status, String::from_utf8_lossy(&r.body).into_owned()),
        (418, "custom:netid.extra_plaintext".to_owned())
    );
}
