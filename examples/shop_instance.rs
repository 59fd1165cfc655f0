//! One instance of a shop as a platform runs several behind a load balancer: configured from
//! the environment, pointed at an identity platform it does not embed, with every piece of
//! shared state in Redis — the replay guard, session revocations and pending logins. No sticky
//! sessions: a login started at one instance finishes by the webhook at another or the browser's
//! poll at a third, and a logout at one is refused at all of them.
//!
//! ```text
//! netid sandbox --port 8600 &                 # or any platform; writes the app's keys
//! NETID_APP_DIR=target/netid-sandbox/app_demo NETID_SESSION_SECRET=$(openssl rand -hex 32) \
//!   NETID_PORT=3001 cargo run --example shop_instance --features axum,redis
//! ```
//!
//! Environment (all instances of one shop share every value but the port):
//! - `NETID_APP_DIR`: the app's registration, as `netid sandbox` writes it: `app.json`
//!   (`issuer`, `app_id`, `signing_kid`, `encryption_kid`), `request-signing.private.pem`,
//!   `encryption.private.pem`.
//! - `NETID_SESSION_SECRET`: 64 hex digits, the key that signs the shop's sessions.
//! - `NETID_REDIS_URL` (default `redis://127.0.0.1:6379`), `NETID_REDIS_PREFIX` (default `shop`).
//! - `NETID_CALLBACK_URL`: where the platform sends webhooks (the load balancer's
//!   `/netid/callback`); without it logins finish by polling only.
//! - `NETID_PORT` (default 3000): serves on 127.0.0.1 until Ctrl-C or SIGTERM.
//! - `RUST_LOG`: e.g. `netid=debug` shows every refusal.
//!
//! Routes: `GET /` (who is signed in, if anyone, and which instance answered), `POST /wine`
//! (adults only, by age band), `POST /profile` (no extra plaintext from 网证 users), and
//! netid's login routes under `/netid`.

#[path = "common/logging.rs"]
mod logging;
#[path = "common/signal.rs"]
mod signal;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use netid::axum::NetId;
use netid::client::{NetIdClient, VerificationRequest};
use netid::crypto::{DecryptionKey, DistId, PrivateKey, SigningKey};
use netid::policy::{AgeGate, LoginFlow, RoutePolicy, Rules, SessionManager, VerifiedUser};
use netid::store::redis::RedisStore;

type Error = Box<dyn std::error::Error>;

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| format!("{name} is not set (see the example's docs)").into())
}

fn read(dir: &std::path::Path, file: &str) -> Result<String, Error> {
    let path = dir.join(file);
    std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()).into())
}

/// The client for the app registered in `NETID_APP_DIR`.
fn client(redis: Arc<RedisStore>) -> Result<NetIdClient, Error> {
    let dir = std::path::PathBuf::from(env("NETID_APP_DIR")?);
    let app: serde_json::Value = serde_json::from_str(&read(&dir, "app.json")?)?;
    let field = |name: &str| -> Result<String, Error> {
        app[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("app.json has no {name}").into())
    };
    let signing = PrivateKey::from_pkcs8_pem(&read(&dir, "request-signing.private.pem")?)?;
    let decryption = PrivateKey::from_pkcs8_pem(&read(&dir, "encryption.private.pem")?)?;
    let mut builder = NetIdClient::builder(field("issuer")?)
        .app_id(field("app_id")?)
        .signing_key(
            field("signing_kid")?,
            SigningKey::new(signing, DistId::default()),
        )
        .decryption_key(field("encryption_kid")?, DecryptionKey::new(decryption))
        .replay_guard(redis);
    if let Ok(url) = std::env::var("NETID_CALLBACK_URL") {
        builder = builder.callback_url(url);
    }
    let issuer = field("issuer")?;
    if issuer.starts_with("http://127.0.0.1") || issuer.starts_with("http://localhost") {
        // A sandbox on this machine: test identities only.
        builder = builder.allow_sandbox();
    }
    Ok(builder.build()?)
}

fn session_secret() -> Result<Vec<u8>, Error> {
    let secret = hex::decode(env("NETID_SESSION_SECRET")?)
        .map_err(|_| "NETID_SESSION_SECRET must be hex digits")?;
    if secret.len() < 32 {
        return Err("NETID_SESSION_SECRET must be at least 32 bytes (64 hex digits)".into());
    }
    Ok(secret)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    logging::init("warn,netid=info");

    let redis_url =
        std::env::var("NETID_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = std::env::var("NETID_REDIS_PREFIX").unwrap_or_else(|_| "shop".to_owned());
    // `build`, not `connect`: an instance starts while Redis is down, and fails closed until it
    // is back.
    let redis = Arc::new(RedisStore::builder(redis_url).key_prefix(prefix).build()?);
    let sessions = SessionManager::builder("shop")
        .key("session-1", &session_secret()?)
        .revocations(redis.clone())
        .build()?;
    let login = LoginFlow::builder(client(redis.clone())?, sessions)
        .request(VerificationRequest::age_tag(
            "购买酒类的年龄核验 / age check for wine",
        ))
        .pending_logins(redis)
        .build();
    let rules = Rules::builder()
        .route(
            "/wine",
            RoutePolicy::default().with_age_gate(AgeGate::adults_only()),
        )
        .build();
    let netid = NetId::new(login, rules).insecure_cookies_for_local_development();
    let port: u16 = std::env::var("NETID_PORT")
        .ok()
        .map(|p| p.parse())
        .transpose()
        .map_err(|_| "NETID_PORT must be a port number")?
        .unwrap_or(3000);
    let me = format!("instance :{port}");
    let app = Router::new()
        .route(
            "/",
            get({
                let me = me.clone();
                move |user: Option<VerifiedUser>| async move {
                    match user {
                        Some(user) => format!("{me}: signed in as {}", user.subject()),
                        None => format!("{me}: not signed in"),
                    }
                }
            }),
        )
        .route(
            "/wine",
            post(
                |user: VerifiedUser| async move { format!("order placed for {}", user.subject()) },
            ),
        )
        .route(
            "/profile",
            post(|user: VerifiedUser, body: String| async move {
                format!(
                    "profile of {} updated ({} bytes)",
                    user.subject(),
                    body.len()
                )
            }),
        )
        .merge(netid.routes())
        .layer(netid.layer());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(signal::shutdown())
    .await?;
    Ok(())
}
