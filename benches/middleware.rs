//! What the netid layer adds to an axum handler, in process (no sockets): a bare handler, the
//! same handler behind the layer for a signed-in 网号/网证 user (session check + body scan),
//! and behind the layer with no session; and the same for a GET without a body (session check
//! only). Figures: benches/README.md; over real sockets: benches/wrk.sh.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use axum::Router;
use axum::body::{Body, Bytes};
use axum::routing::{get, post};
use criterion::{Criterion, criterion_group, criterion_main};
use netid::axum::NetId;
use netid::policy::{LoginFlow, LoginStatus, Rules, SessionManager};
use netid::sandbox::{Persona, Sandbox};
use tower::ServiceExt;

async fn handler(body: Bytes) -> String {
    body.len().to_string()
}

const BODY: &str = r#"{"nickname":"bob","address":{"city":"杭州","street":"文三路 90 号"},"phone":"13800138000","items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"note":"请尽快发货"}"#;

fn get_request(cookie: &str) -> axum::http::Request<Body> {
    axum::http::Request::builder()
        .uri("/")
        .header("cookie", format!("netid_session={cookie}"))
        .body(Body::empty())
        .unwrap()
}

fn request(cookie: Option<&str>) -> axum::http::Request<Body> {
    let mut b = axum::http::Request::builder()
        .method("POST")
        .uri("/profile")
        .header("content-type", "application/json");
    if let Some(c) = cookie {
        b = b.header("cookie", format!("netid_session={c}"));
    }
    b.body(Body::from(BODY)).unwrap()
}

fn layer(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (bare, guarded, session, _sandbox) = rt.block_on(async {
        let sandbox = Sandbox::start().await.unwrap();
        let app = sandbox.register_app("app_bench");
        let client = sandbox.client_builder(&app).build().unwrap();
        let sessions = SessionManager::builder("app_bench")
            .key("k", &[5; 32])
            .build()
            .unwrap();
        let login = LoginFlow::builder(client, sessions).build();
        let start = login.start().await.unwrap();
        sandbox
            .approve(
                &netid::model::AuthzId::parse(&start.authz_id).unwrap(),
                Persona::Adult,
            )
            .unwrap();
        let LoginStatus::Completed { session, .. } =
            login.poll(&start.browser_binding).await.unwrap()
        else {
            panic!("login")
        };
        let netid = NetId::new(login, Rules::builder().build());
        let app = || {
            Router::new()
                .route("/profile", post(handler))
                .route("/", get(|| async { "Hello, World!" }))
        };
        let bare = app();
        let guarded = app().layer(netid.layer());
        (bare, guarded, session, sandbox)
    });
    c.bench_function("axum_handler_bare", |b| {
        b.to_async(&rt)
            .iter(|| async { bare.clone().oneshot(request(None)).await.unwrap() })
    });
    c.bench_function("axum_handler_netid_layer_signed_in", |b| {
        b.to_async(&rt).iter(|| async {
            guarded
                .clone()
                .oneshot(request(Some(&session)))
                .await
                .unwrap()
        })
    });
    c.bench_function("axum_get_bare", |b| {
        b.to_async(&rt)
            .iter(|| async { bare.clone().oneshot(get_request(&session)).await.unwrap() })
    });
    c.bench_function("axum_get_netid_layer_signed_in", |b| {
        b.to_async(&rt).iter(|| async {
            guarded
                .clone()
                .oneshot(get_request(&session))
                .await
                .unwrap()
        })
    });
    c.bench_function("axum_handler_netid_layer_anonymous", |b| {
        b.to_async(&rt)
            .iter(|| async { guarded.clone().oneshot(request(None)).await.unwrap() })
    });
    #[cfg(feature = "redis")]
    redis_backed(c, &rt, &_sandbox);
}

/// The stack as many instances run it: revocations and pending logins in the real Redis
/// (`NETID_TEST_REDIS_URL`), revocations checked locally while the channel is live.
#[cfg(feature = "redis")]
fn redis_backed(c: &mut Criterion, rt: &tokio::runtime::Runtime, sandbox: &Sandbox) {
    use std::sync::Arc;
    let (guarded, session) = rt.block_on(async {
        let url = std::env::var("NETID_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
        let redis = Arc::new(
            netid::store::redis::RedisStore::builder(url)
                .key_prefix(format!("bench_{}", std::process::id()))
                .connect()
                .await
                .expect("the middleware bench's Redis case needs Redis"),
        );
        while netid::policy::RevocationStore::generation(redis.as_ref()).is_none() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let app = sandbox.register_app("app_bench_redis");
        let client = sandbox.client_builder(&app).build().unwrap();
        let sessions = SessionManager::builder("app_bench_redis")
            .key("k", &[6; 32])
            .revocations(redis.clone())
            .build()
            .unwrap();
        let login = LoginFlow::builder(client, sessions)
            .pending_logins(redis)
            .build();
        let start = login.start().await.unwrap();
        sandbox
            .approve(
                &netid::model::AuthzId::parse(&start.authz_id).unwrap(),
                Persona::Adult,
            )
            .unwrap();
        let LoginStatus::Completed { session, .. } =
            login.poll(&start.browser_binding).await.unwrap()
        else {
            panic!("login")
        };
        let netid = NetId::new(login, Rules::builder().build());
        let guarded = Router::new()
            .route("/", get(|| async { "Hello, World!" }))
            .layer(netid.layer());
        (guarded, session)
    });
    c.bench_function("axum_get_netid_layer_signed_in_redis", |b| {
        b.to_async(rt).iter(|| async {
            guarded
                .clone()
                .oneshot(get_request(&session))
                .await
                .unwrap()
        })
    });
}

criterion_group!(benches, layer);
criterion_main!(benches);
