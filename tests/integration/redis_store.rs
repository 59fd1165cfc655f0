//! `RedisStore` against the real Redis: single use across instances and racers, revocation seen
//! by every instance, fail closed when Redis is gone, and recovery without a restart.

use std::sync::Arc;
use std::time::Duration;

use netid::client::{NetIdClient, VerificationRequest};
use netid::model::AuthzId;
use netid::policy::{LoginFlow, LoginStatus, RevocationStore, SessionManager, VerifiedUser};
use netid::sandbox::{Persona, Sandbox, SandboxApp};
use netid::store::redis::RedisStore;
use netid::store::{ReplayGuard, ReplayKind, StoreError};
use netid::{Actor, ErrorCode};

use crate::servers::redis_scope::RedisScope;
use crate::servers::skip_or_fail;

const MINUTE: Duration = Duration::from_secs(60);

async fn store(scope: &RedisScope) -> RedisStore {
    RedisStore::builder(scope.url())
        .key_prefix(&scope.prefix)
        .connect()
        .await
        .unwrap()
}

/// One application instance: its own client and session manager, sharing only Redis.
fn instance(sandbox: &Sandbox, app: &SandboxApp, redis: &RedisStore) -> LoginFlow {
    let shared = Arc::new(redis.clone());
    let client = sandbox
        .client_builder(app)
        .replay_guard(shared.clone())
        .build()
        .unwrap();
    let sessions = SessionManager::builder("shop")
        .key("k1", &[7; 32])
        .revocations(shared)
        .build()
        .unwrap();
    LoginFlow::builder(client, sessions).build()
}

async fn login(flow: &LoginFlow, sandbox: &Sandbox) -> (VerifiedUser, String) {
    let start = flow.start().await.unwrap();
    sandbox
        .approve(&AuthzId::parse(&start.authz_id).unwrap(), Persona::Adult)
        .unwrap();
    match flow.poll(&start.browser_binding).await.unwrap() {
        LoginStatus::Completed { user, session } => (user, session),
        other => panic!("not completed: {other:?}"),
    }
}

#[tokio::test]
async fn single_use_holds_across_instances_and_racers() {
    let Some(scope) = RedisScope::new().await else {
        return;
    };
    let (a, b) = (store(&scope).await, store(&scope).await);
    assert!(
        a.first_use(ReplayKind::Authorization, "az-1", MINUTE)
            .await
            .unwrap()
    );
    assert!(
        !b.first_use(ReplayKind::Authorization, "az-1", MINUTE)
            .await
            .unwrap()
    );
    assert!(
        !a.first_use(ReplayKind::Authorization, "az-1", MINUTE)
            .await
            .unwrap()
    );
    // Each kind is its own namespace.
    assert!(
        b.first_use(ReplayKind::Webhook, "az-1", MINUTE)
            .await
            .unwrap()
    );

    // 40 racers on two instances, one value: exactly one first use.
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..40 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        racers.spawn(async move {
            s.first_use(ReplayKind::ResultToken, "jti-race", MINUTE)
                .await
        });
    }
    let mut wins = 0;
    while let Some(r) = racers.join_next().await {
        wins += usize::from(r.unwrap().unwrap());
    }
    assert_eq!(wins, 1);

    // Every key expires, none spells the value it guards (the ACL also refused any key
    // outside the prefix).
    let keys = scope.keys().await;
    assert_eq!(keys.len(), 3);
    for (k, ttl) in keys {
        assert!((1..=60).contains(&ttl), "{k} ttl {ttl}");
        assert!(!k.contains("az-1") && !k.contains("jti-race"), "{k}");
    }
    scope.cleanup().await;
}

#[tokio::test]
async fn a_result_used_at_one_instance_is_refused_at_another() {
    let Some(scope) = RedisScope::new().await else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.register_app("app_redis");
    let client = |redis: RedisStore| -> NetIdClient {
        sandbox
            .client_builder(&app)
            .replay_guard(Arc::new(redis))
            .build()
            .unwrap()
    };
    let (a, b) = (client(store(&scope).await), client(store(&scope).await));
    let pending = a
        .authorize(VerificationRequest::verify_only("登录"))
        .await
        .unwrap();
    sandbox.approve(pending.authz_id(), Persona::Adult).unwrap();
    assert!(a.wait(&pending).await.unwrap().outcome.is_verified());
    // The platform hands the same signed result out again; instance B must refuse it.
    let err = b.wait(&pending).await.unwrap_err();
    assert_eq!(err.code(), "client.mismatch", "{err}");
    assert_eq!(err.kind(), Actor::SecurityEvent);
    scope.cleanup().await;
}

#[tokio::test]
async fn logout_and_erasure_revoke_sessions_on_every_instance() {
    let Some(scope) = RedisScope::new().await else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.register_app("app_sessions");
    let (a, b) = (
        instance(&sandbox, &app, &store(&scope).await),
        instance(&sandbox, &app, &store(&scope).await),
    );
    let (user, first) = login(&a, &sandbox).await;
    assert_eq!(b.sessions().authenticate(&first).await.unwrap(), user);
    a.logout(&first).await.unwrap();
    let err = b.sessions().authenticate(&first).await.unwrap_err();
    assert_eq!(err.code(), "netid.session_revoked");

    // All of a subject's sessions at once (deletion on request), seen by the other instance.
    let second = a.sessions().issue(&user).unwrap();
    let third = b.sessions().issue(&user).unwrap();
    assert!(a.sessions().authenticate(&second).await.is_ok());
    let accepted_from = b.sessions().revoke_subject(user.subject()).await.unwrap();
    for token in [&second, &third] {
        let err = a.sessions().authenticate(token).await.unwrap_err();
        assert_eq!(err.code(), "netid.session_revoked");
    }
    // A later revocation with an earlier cut-off does not shorten the first.
    store(&scope)
        .await
        .revoke_subject(user.subject(), 1, 2)
        .await
        .unwrap();
    assert!(a.sessions().authenticate(&second).await.is_err());
    // Sessions issued after the cut-off are accepted again.
    while netid_now() < accepted_from {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fresh = a.sessions().issue(&user).unwrap();
    assert_eq!(b.sessions().authenticate(&fresh).await.unwrap(), user);
    // Nothing in Redis names the subject.
    for (k, ttl) in scope.keys().await {
        assert!(!k.contains(user.subject()) && ttl > 0, "{k}");
    }
    for v in scope.values().await {
        assert!(!v.contains(user.subject()));
    }
    scope.cleanup().await;
}

fn netid_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn a_connection_killed_mid_login_gives_a_retryable_error_and_loses_nothing() {
    let Some(scope) = RedisScope::new().await else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.register_app("app_kill");
    let redis = store(&scope).await;
    let flow = instance(&sandbox, &app, &redis);
    let start = flow.start().await.unwrap();
    sandbox
        .approve(&AuthzId::parse(&start.authz_id).unwrap(), Persona::Adult)
        .unwrap();

    // Mid-flow, the connection dies and cannot be re-made (the user is locked out for now).
    assert!(scope.kill_connections().await >= 1);
    scope.set_enabled(false).await;
    let problem = flow.poll(&start.browser_binding).await.unwrap_err();
    assert_eq!((problem.status, problem.code), (503, "netid.unavailable"));

    // Redis is back: the same browser's next poll completes the same login.
    scope.set_enabled(true).await;
    let (user, session) = match flow.poll(&start.browser_binding).await.unwrap() {
        LoginStatus::Completed { user, session } => (user, session),
        other => panic!("not completed: {other:?}"),
    };
    assert!(flow.sessions().authenticate(&session).await.is_ok());

    // A kill alone (Redis still reachable) is absorbed: the operation is retried once on the
    // re-made connection, which is safe because single use is checked with the caller's own
    // token.
    assert!(scope.kill_connections().await >= 1);
    assert_eq!(flow.sessions().authenticate(&session).await.unwrap(), user);
    assert!(scope.kill_connections().await >= 1);
    assert!(
        redis
            .first_use(ReplayKind::Nonce, "n-1", MINUTE)
            .await
            .unwrap()
    );
    assert!(
        !redis
            .first_use(ReplayKind::Nonce, "n-1", MINUTE)
            .await
            .unwrap()
    );
    scope.cleanup().await;
}

/// A Redis of the test's own on a free port, to stop and start.
struct PrivateRedis {
    child: Option<std::process::Child>,
}

impl PrivateRedis {
    fn start(port: u16) -> std::io::Result<std::process::Child> {
        std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
    }
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn an_unreachable_redis_fails_closed_and_service_recovers_by_itself() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}");
    // Built while Redis is down: an instance may start before its Redis.
    let guard = RedisStore::builder(&url)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = guard
        .first_use(ReplayKind::Authorization, "az-down", MINUTE)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    assert_eq!(
        (err.code(), err.actor()),
        ("store.unavailable", Actor::RetryLater)
    );
    assert!(err.is_retryable());
    assert!(!err.to_string().contains("az-down"));
    assert!(guard.revoke("jti", 10).await.unwrap_err().is_retryable());

    let mut server = PrivateRedis {
        child: match PrivateRedis::start(port) {
            Ok(c) => Some(c),
            Err(e) => {
                skip_or_fail("redis-server", "PATH", &e);
                return;
            }
        },
    };
    // The same store object recovers once the server is up: no restart, no rebuild.
    let mut recovered = false;
    for _ in 0..100 {
        if let Ok(first) = guard
            .first_use(ReplayKind::Authorization, "az-up", MINUTE)
            .await
        {
            assert!(first);
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the store did not recover within 10 s");
    assert!(
        !guard
            .first_use(ReplayKind::Authorization, "az-up", MINUTE)
            .await
            .unwrap()
    );

    // It goes away again mid-service: refused, retryable; nothing is let through.
    server.stop();
    let err = guard
        .first_use(ReplayKind::Authorization, "az-up", MINUTE)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn bad_settings_are_refused_without_echoing_the_url() {
    let e = RedisStore::builder("redis://:hunter2@127.0.0.1:6379")
        .key_prefix("no spaces")
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "store.misconfigured");
    let e = RedisStore::builder("http://:hunter2@example/")
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "store.misconfigured");
    assert!(!e.to_string().contains("hunter2"), "{e}");
    assert!(!format!("{e:?}").contains("hunter2"));
    let e = RedisStore::builder("redis://127.0.0.1:6379")
        .attempts(0)
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "store.misconfigured");
    let e = RedisStore::builder("redis://127.0.0.1:6379")
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "store.misconfigured");
    let ok = RedisStore::builder("redis://:hunter2@127.0.0.1:6379")
        .build()
        .unwrap();
    assert!(!format!("{ok:?}").contains("hunter2"));
}

/// Connection errors name the address and tell refused credentials from an unreachable server.
#[tokio::test]
async fn errors_name_the_address_and_tell_auth_from_unreachable() {
    let base = url::Url::parse(&crate::servers::redis_scope::redis_url()).unwrap();
    let addr = format!(
        "{}:{}",
        base.host_str().unwrap(),
        base.port().unwrap_or(6379)
    );
    if let Err(e) = std::net::TcpStream::connect(&addr) {
        crate::servers::skip_or_fail("Redis", &addr, &e);
        return;
    }
    // An ACL user the server does not have.
    let mut wrong = base.clone();
    wrong.set_username("nosuchuser").unwrap();
    wrong.set_password(Some("s3cret-never-printed")).unwrap();
    let e = RedisStore::builder(wrong.as_str())
        .timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.code(), "store.auth_failed", "{e}");
    let text = e.to_string();
    assert!(
        text.contains("user nosuchuser") && text.contains(&addr) && !text.contains("s3cret"),
        "{text}"
    );
    // A closed port: refused, and named.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    drop(listener);
    let e = RedisStore::builder(format!("redis://{closed}"))
        .timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.code(), "store.unavailable", "{e}");
    assert!(e.to_string().contains(&closed), "{e}");
}
