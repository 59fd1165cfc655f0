//! Many instances as processes: three `shop_instance` processes (examples/shop_instance.rs)
//! share a Redis of the test's own and one identity platform (the sandbox, in this process),
//! and nothing else. Browsers reach them through a round-robin proxy on loopback, one
//! connection per request, so consecutive requests land on different instances.
//!
//! - A login started at instance 1 is finished by the webhook at instance 3 and the poll at
//!   instance 2; through the proxy, logins complete wherever their requests land.
//! - A logout at one instance is refused at the others (within the revocation bound).
//! - Redis stopped mid-login: polls get retryable 503s, nothing is accepted; restarted (its
//!   append-only file keeps the state, as a production Redis would), the login completes once
//!   and only once.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use netid::model::AuthzId;
use netid::sandbox::{Persona, Sandbox, SandboxApp};

use crate::servers::{free_port, skip_or_fail};

/// The example's binary, built by `cargo test` beside the test binary.
fn instance_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe
        .parent()?
        .parent()?
        .join("examples")
        .join("shop_instance");
    bin.exists().then_some(bin)
}

/// A Redis of the test's own that keeps its data on disk, to stop and restart.
struct DurableRedis {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl DurableRedis {
    fn start() -> std::io::Result<Self> {
        let mut redis = DurableRedis {
            port: free_port(),
            dir: tempfile::tempdir()?,
            child: None,
        };
        redis.restart()?;
        Ok(redis)
    }

    fn restart(&mut self) -> std::io::Result<()> {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(self.dir.path())
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .args(["--daemonize", "no"])
            .stdout(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        wait_for_port(self.port);
        Ok(())
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for DurableRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wait_for_port(port: u16) {
    for _ in 0..250 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing listens on {port}");
}

/// One `shop_instance` process.
struct Instance {
    port: u16,
    child: Child,
}

impl Instance {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes the app's registration as `netid sandbox` does.
fn write_app_dir(dir: &Path, sandbox: &Sandbox, app: &SandboxApp) {
    std::fs::write(
        dir.join("request-signing.private.pem"),
        app.signing_key.private_key().to_pkcs8_pem().as_bytes(),
    )
    .unwrap();
    std::fs::write(
        dir.join("encryption.private.pem"),
        app.decryption_key.private_key().to_pkcs8_pem().as_bytes(),
    )
    .unwrap();
    let config = serde_json::json!({
        "issuer": sandbox.url(),
        "app_id": app.app_id,
        "signing_kid": app.signing_kid,
        "encryption_kid": app.encryption_kid,
    });
    std::fs::write(dir.join("app.json"), config.to_string()).unwrap();
}

fn spawn_instance(bin: &Path, port: u16, app_dir: &Path, redis: &str, callback: &str) -> Instance {
    let child = Command::new(bin)
        .env("NETID_APP_DIR", app_dir)
        .env("NETID_SESSION_SECRET", "07".repeat(32))
        .env("NETID_REDIS_URL", redis)
        .env("NETID_REDIS_PREFIX", "shop")
        .env("NETID_CALLBACK_URL", callback)
        .env("NETID_PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Instance { port, child }
}

/// Round robin over `backends`, one backend per connection.
async fn round_robin(backends: Vec<u16>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut next = 0usize;
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            let backend = backends[next % backends.len()];
            next += 1;
            tokio::spawn(async move {
                if let Ok(mut outbound) =
                    tokio::net::TcpStream::connect(("127.0.0.1", backend)).await
                {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    port
}

fn cookie_of(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .find(|(k, _)| *k == name && !k.is_empty())
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// A browser: no connection reuse, so every request is a new connection (a new backend
/// behind the proxy).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Starts a login at `base`: (binding cookie, authorization id).
async fn start(http: &reqwest::Client, base: &str) -> (String, AuthzId) {
    let resp = http
        .post(format!("{base}/netid/login/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "start at {base}");
    let binding = cookie_of(&resp, "netid_login").unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    let authz = AuthzId::parse(body["authz_id"].as_str().unwrap()).unwrap();
    (binding, authz)
}

/// One poll: the status and the session cookie, if one was set.
async fn poll(http: &reqwest::Client, base: &str, binding: &str) -> (u16, Option<String>, String) {
    let resp = http
        .post(format!("{base}/netid/login/poll"))
        .header("cookie", format!("netid_login={binding}"))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let session = cookie_of(&resp, "netid_session");
    (status, session, resp.text().await.unwrap_or_default())
}

/// Polls as a browser does, while the answer is 202 (pending): the session cookie.
async fn poll_until_done(http: &reqwest::Client, base: &str, binding: &str) -> String {
    for _ in 0..250 {
        let (status, session, body) = poll(http, base, binding).await;
        match status {
            200 => return session.expect("a session cookie with the 200"),
            202 => tokio::time::sleep(Duration::from_millis(20)).await,
            other => panic!("poll at {base}: {other} {body}"),
        }
    }
    panic!("the login at {base} never completed");
}

async fn whoami(http: &reqwest::Client, base: &str, session: &str) -> String {
    http.get(format!("{base}/"))
        .header("cookie", format!("netid_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn three_instance_processes_share_logins_logouts_and_survive_a_redis_restart() {
    let Some(bin) = instance_binary() else {
        skip_or_fail(
            "the shop_instance example",
            "target/*/examples",
            &"not built (cargo test --all-features builds it)",
        );
        return;
    };
    let mut redis = match DurableRedis::start() {
        Ok(r) => r,
        Err(e) => {
            skip_or_fail("redis-server", "PATH", &e);
            return;
        }
    };
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.register_app("app_instances");
    let app_dir = tempfile::tempdir().unwrap();
    write_app_dir(app_dir.path(), &sandbox, &app);
    let ports = [free_port(), free_port(), free_port()];
    // Every instance gives the platform instance 3's webhook address.
    let callback = format!("http://127.0.0.1:{}/netid/callback", ports[2]);
    let instances: Vec<Instance> = ports
        .iter()
        .map(|&p| spawn_instance(&bin, p, app_dir.path(), &redis.url(), &callback))
        .collect();
    for i in &instances {
        wait_for_port(i.port);
    }
    let [one, two, three] = [instances[0].url(), instances[1].url(), instances[2].url()];
    let http = browser();

    // Started at 1; the webhook reaches 3 (which never saw the login); the poll at 2 finishes
    // it. The webhook used the platform's answer up: 2 can only have it from Redis.
    let (binding, authz) = start(&http, &one).await;
    sandbox.approve(&authz, Persona::Adult).unwrap();
    // The login's state in Redis says when instance 3 has finished it.
    let state_key = format!(
        "shop:{{shop.pending}}:l:{}",
        hex::encode(netid::crypto::sm3(binding.as_bytes()))
    );
    let mut admin = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut delivered = false;
    for _ in 0..250 {
        let state: Option<String> = redis::cmd("HGET")
            .arg(&state_key)
            .arg("s")
            .query_async(&mut admin)
            .await
            .unwrap();
        if state.is_some_and(|s| s.contains("\"finished\"")) {
            delivered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        delivered,
        "the webhook never finished the login at instance 3"
    );
    // 202 while instance 3 still holds the login it just finished; then the session.
    let session = poll_until_done(&http, &two, &binding).await;
    for base in [&one, &two, &three] {
        assert!(
            whoami(&http, base, &session).await.contains("signed in as"),
            "{base} does not know the session"
        );
    }
    let (status, _, body) = poll(&http, &three, &binding).await;
    assert_eq!(status, 401, "the login was accepted once: {body}");

    // Logout at 3; refused at 1 and 2 once the revocation bound (500 ms) has passed.
    let out = http
        .post(format!("{three}/netid/logout"))
        .header("cookie", format!("netid_session={session}"))
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success(), "logout: {}", out.status());
    tokio::time::sleep(Duration::from_millis(600)).await;
    for base in [&one, &two, &three] {
        assert!(
            whoami(&http, base, &session)
                .await
                .contains("not signed in"),
            "{base} still accepts a session logged out at instance 3"
        );
        let wine = http
            .post(format!("{base}/wine"))
            .header("cookie", format!("netid_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(wine.status(), 401, "{base}");
    }

    // Through the round-robin proxy: each request of a login lands on another instance.
    let proxy = format!("http://127.0.0.1:{}", round_robin(ports.to_vec()).await);
    for _ in 0..3 {
        let (binding, authz) = start(&http, &proxy).await;
        sandbox.approve(&authz, Persona::Adult).unwrap();
        let session = poll_until_done(&http, &proxy, &binding).await;
        assert!(
            whoami(&http, &proxy, &session)
                .await
                .contains("signed in as")
        );
    }

    // Redis stops mid-login. The login was started (at 1) before; while Redis is down, polls
    // anywhere are refused retryably and nothing is accepted.
    let (binding, authz) = start(&http, &one).await;
    redis.stop();
    sandbox.approve(&authz, Persona::Adult).unwrap();
    for base in [&one, &two, &three] {
        let (status, session, body) = poll(&http, base, &binding).await;
        assert_eq!(status, 503, "{base} while Redis is down: {body}");
        assert!(session.is_none());
        assert!(body.contains("netid.unavailable"), "{body}");
    }
    // Back, with its data: the login completes once, at whichever instance asks first.
    redis.restart().unwrap();
    let mut sessions = Vec::new();
    for _ in 0..100 {
        for base in [&two, &three, &one] {
            let (status, session, _) = poll(&http, base, &binding).await;
            if status == 200 {
                sessions.push(session.unwrap());
            }
        }
        if !sessions.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sessions.len(), 1, "accepted {} times", sessions.len());
    assert!(
        sandbox.webhook_attempts(&authz) > 1,
        "a webhook refused while Redis was down is answered 503, and the platform retries it"
    );
    assert!(
        whoami(&http, &one, &sessions[0])
            .await
            .contains("signed in as")
    );
    let (status, _, _) = poll(&http, &two, &binding).await;
    assert_eq!(status, 401, "accepted once");
}
