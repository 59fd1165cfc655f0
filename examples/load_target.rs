//! A server for load tests (`bash benches/wrk.sh` drives it with `wrk`): the same hello-world
//! axum app, bare or behind the full netid stack, so the two can be compared in one run.
//!
//! ```text
//! cargo run --release --example load_target --features axum -- bare  [PORT]
//! cargo run --release --example load_target --features axum -- noop  [PORT]
//! cargo run --release --example load_target --features axum -- netid [PORT]
//! cargo run --release --example load_target --features axum,redis -- netid-redis [PORT]
//! ```
//!
//! `netid-redis` is the stack as many instances run it: session revocations and pending logins
//! in Redis (`NETID_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`, under a key prefix of
//! its own), revocations checked locally while the revocation channel is live.
//!
//! `noop` puts the cheapest possible middleware in front of the same app (`axum::middleware::
//! from_fn` that only calls the next service): what any axum middleware costs before it does
//! anything, the floor under netid's figure.
//!
//! In `netid` mode it signs a sandbox 网证 user in first and prints the session cookie, which
//! the load generator sends with every request: each request then pays for what a signed-in
//! request costs in production — the session check, the revocation lookup, the rules (age gate,
//! query and body scan) and the extensions the extractors read.
//!
//! Routes: `GET /` (hello world) and `POST /profile` (echoes the body's length; through netid
//! the body is scanned for identity data first); in the netid modes also `GET /whoami`, which
//! answers 200 only to a signed-in user (the scripts check their cookie with it first).
//!
//! It listens on http://127.0.0.1:8088 (or PORT) and prints the address; Ctrl-C or SIGTERM (what
//! `benches/wrk.sh` sends when it is done) ends it after the requests in flight. Logs go to
//! standard error, netid's refusals and warnings by default (`RUST_LOG`); a signed-in request
//! that passes logs nothing, so the figures are not the logger's.

#[path = "common/logging.rs"]
mod logging;
#[path = "common/signal.rs"]
mod signal;

use axum::Router;
use axum::body::Bytes;
use axum::routing::{get, post};
use netid::axum::NetId;
use netid::model::AuthzId;
use netid::policy::{LoginFlow, LoginStatus, Rules, SessionManager};
use netid::sandbox::{Persona, Sandbox};

async fn hello() -> &'static str {
    "Hello, World!"
}

async fn profile(body: Bytes) -> String {
    body.len().to_string()
}

/// Answers only a signed-in user: the load scripts ask it once before measuring, so a figure is
/// never taken with a cookie the server does not accept (a refused cookie makes every request
/// pay for a full token check and is served as anonymous, which is not what is measured).
async fn whoami(_user: netid::policy::VerifiedUser) -> &'static str {
    "signed in"
}

fn app() -> Router {
    Router::new()
        .route("/", get(hello))
        .route("/profile", post(profile))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    logging::init("warn,netid=info");
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let port: u16 = match args.next() {
        Some(p) => p.parse().map_err(|_| format!("not a port: {p}"))?,
        None => 8088,
    };
    // Kept alive for the process: the login went through it.
    let mut _sandbox = None;
    let app = match mode.as_str() {
        "bare" => app(),
        "noop" => app().layer(axum::middleware::from_fn(
            |req: axum::extract::Request, next: axum::middleware::Next| next.run(req),
        )),
        "netid" | "netid-redis" => {
            let sandbox = Sandbox::start().await?;
            let keys = sandbox.register_app("app_load");
            let client = sandbox.client_builder(&keys).discover().await?;
            let mut secret = [0u8; 32];
            getrandom::fill(&mut secret)?;
            let sessions = SessionManager::builder("app_load").key("session-1", &secret);
            let login = if mode == "netid-redis" {
                redis_stack(client, sessions).await?
            } else {
                LoginFlow::builder(client, sessions.build()?).build()
            };
            let start = login.start().await?;
            sandbox.approve(&AuthzId::parse(&start.authz_id)?, Persona::Adult)?;
            let LoginStatus::Completed { session, .. } = login.poll(&start.browser_binding).await?
            else {
                return Err("the sandbox login did not complete".into());
            };
            println!("cookie: netid_session={session}");
            _sandbox = Some(sandbox);
            let netid = NetId::new(login, Rules::builder().try_build()?);
            app()
                .route("/whoami", get(whoami))
                .merge(netid.routes())
                .layer(netid.layer())
        }
        other => {
            return Err(format!(
                "usage: load_target bare|noop|netid|netid-redis [PORT] (got {other:?})"
            )
            .into());
        }
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(signal::shutdown())
        .await?;
    Ok(())
}

/// Revocations and pending logins in Redis.
#[cfg(feature = "redis")]
async fn redis_stack(
    client: netid::client::NetIdClient,
    sessions: netid::policy::SessionManagerBuilder,
) -> Result<LoginFlow, Box<dyn std::error::Error>> {
    let url = std::env::var("NETID_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let redis = std::sync::Arc::new(
        netid::store::redis::RedisStore::builder(url)
            .key_prefix(format!("load_{}", std::process::id()))
            .connect()
            .await?,
    );
    // Wait for the revocation channel, as a deployment's readiness probe would.
    for _ in 0..100 {
        if netid::policy::RevocationStore::generation(redis.as_ref()).is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let sessions = sessions.revocations(redis.clone()).build()?;
    Ok(LoginFlow::builder(client, sessions)
        .pending_logins(redis)
        .build())
}

#[cfg(not(feature = "redis"))]
async fn redis_stack(
    _: netid::client::NetIdClient,
    _: netid::policy::SessionManagerBuilder,
) -> Result<LoginFlow, Box<dyn std::error::Error>> {
    Err("netid-redis needs the redis feature: --features axum,redis".into())
}
