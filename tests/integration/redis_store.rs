//! `RedisStore` against the real Redis: single use across instances and racers, revocation seen
//! by every instance, fail closed when Redis is gone, and recovery without a restart.

use std::sync::Arc;
use std::time::Duration;

use netid::client::{NetIdClient, VerificationRequest};
use netid::model::AuthzId;
use netid::policy::{LoginFlow, LoginStatus, RevocationStore, SessionManager, VerifiedUser};
use netid::sandbox::{Persona, Sandbox, SandboxApp};
use netid::store::redis::{RedisStore, RedisStoreBuilder};
use netid::store::{
    NewPendingLogin, PendingError, PendingLimits, PendingLoginStore, ReplayGuard, ReplayKind,
    StoreError,
};
use netid::{Actor, ErrorCode};

use crate::servers::redis_cluster::RedisCluster;
use crate::servers::redis_scope::RedisScope;
use crate::servers::skip_or_fail;

const MINUTE: Duration = Duration::from_secs(60);

/// Where the stores of a test share their state: one Redis (as an ACL user of the test's own,
/// allowed only its prefix), or a Redis Cluster the test starts.
trait Shared {
    /// A store's settings, prefix included.
    fn builder(&self) -> RedisStoreBuilder;
    /// Every key under the prefix, with its remaining lifetime in seconds.
    async fn keys(&self) -> Vec<(String, i64)>;
    /// Every string value under the prefix.
    async fn values(&self) -> Vec<String>;
    /// Closes every connection the stores hold, as a failing network would.
    async fn kill_connections(&self) -> i64;
}

impl Shared for RedisScope {
    fn builder(&self) -> RedisStoreBuilder {
        RedisStore::builder(self.url()).key_prefix(&self.prefix)
    }
    async fn keys(&self) -> Vec<(String, i64)> {
        RedisScope::keys(self).await
    }
    async fn values(&self) -> Vec<String> {
        RedisScope::values(self).await
    }
    async fn kill_connections(&self) -> i64 {
        RedisScope::kill_connections(self).await
    }
}

impl Shared for RedisCluster {
    fn builder(&self) -> RedisStoreBuilder {
        RedisStore::cluster_builder(self.urls()).key_prefix(&self.prefix)
    }
    async fn keys(&self) -> Vec<(String, i64)> {
        RedisCluster::keys(self)
            .await
            .into_iter()
            .map(|(_, k, ttl)| (k, ttl))
            .collect()
    }
    async fn values(&self) -> Vec<String> {
        RedisCluster::values(self).await
    }
    async fn kill_connections(&self) -> i64 {
        RedisCluster::kill_connections(self).await
    }
}

/// So that a body given `scope: &impl Shared` reads like one given the scope itself.
impl<T: Shared> Shared for &T {
    fn builder(&self) -> RedisStoreBuilder {
        (*self).builder()
    }
    async fn keys(&self) -> Vec<(String, i64)> {
        (*self).keys().await
    }
    async fn values(&self) -> Vec<String> {
        (*self).values().await
    }
    async fn kill_connections(&self) -> i64 {
        (*self).kill_connections().await
    }
}

async fn store(scope: &impl Shared) -> RedisStore {
    scope.builder().connect().await.unwrap()
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
    if let Some(scope) = RedisScope::new().await {
        single_use_holds_across_instances_and_racers_on(&scope).await;
    }
}

#[tokio::test]
async fn single_use_holds_across_instances_and_racers_in_a_cluster() {
    if let Some(cluster) = RedisCluster::start().await {
        single_use_holds_across_instances_and_racers_on(&cluster).await;
        // Replay keys are independent: they spread over the nodes (the store follows the
        // cluster's redirections). 30 values all in one node's third would be a 1 in 3^29
        // coincidence.
        let guard = store(&cluster).await;
        for n in 0..30 {
            let value = format!("spread-{n}");
            assert!(
                guard
                    .first_use(ReplayKind::Nonce, &value, MINUTE)
                    .await
                    .unwrap()
            );
            assert!(
                !guard
                    .first_use(ReplayKind::Nonce, &value, MINUTE)
                    .await
                    .unwrap()
            );
        }
        let nodes: std::collections::HashSet<u16> = RedisCluster::keys(&cluster)
            .await
            .into_iter()
            .map(|(port, _, _)| port)
            .collect();
        assert_eq!(nodes.len(), 3, "{nodes:?}");
    }
}

/// A cluster no node of which answers: `connect` names it and says to retry; a store built
/// anyway fails closed.
#[tokio::test]
async fn an_unreachable_cluster_is_named_and_fails_closed() {
    let closed: Vec<String> = (0..2)
        .map(|_| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("127.0.0.1:{}", l.local_addr().unwrap().port())
        })
        .collect();
    let urls = closed.iter().map(|a| format!("redis://:hunter2@{a}"));
    let e = RedisStore::cluster_builder(urls.clone())
        .timeout(Duration::from_millis(500))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.code(), "store.unavailable", "{e}");
    assert!(e.is_retryable());
    let text = e.to_string();
    assert!(
        text.contains(&format!("the cluster at {}", closed[0])) && !text.contains("hunter2"),
        "{text}"
    );
    let guard = RedisStore::cluster_builder(urls)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = guard
        .first_use(ReplayKind::Authorization, "az-down", MINUTE)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(guard.revoke("jti", 10).await.unwrap_err().is_retryable());
    let e = RedisStore::cluster_builder(Vec::<String>::new())
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "store.misconfigured");
    let e = RedisStore::cluster_builder(["http://:hunter2@example/"])
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "store.misconfigured");
    assert!(!e.to_string().contains("hunter2"));
}

async fn single_use_holds_across_instances_and_racers_on(scope: &impl Shared) {
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
}

#[tokio::test]
async fn a_result_used_at_one_instance_is_refused_at_another() {
    if let Some(scope) = RedisScope::new().await {
        a_result_used_at_one_instance_is_refused_at_another_on(&scope).await;
    }
}

#[tokio::test]
async fn a_result_used_at_one_instance_is_refused_at_another_in_a_cluster() {
    if let Some(cluster) = RedisCluster::start().await {
        a_result_used_at_one_instance_is_refused_at_another_on(&cluster).await;
    }
}

async fn a_result_used_at_one_instance_is_refused_at_another_on(scope: &impl Shared) {
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
}

#[tokio::test]
async fn logout_and_erasure_revoke_sessions_on_every_instance() {
    if let Some(scope) = RedisScope::new().await {
        logout_and_erasure_revoke_sessions_on_every_instance_on(&scope).await;
    }
}

#[tokio::test]
async fn logout_and_erasure_revoke_sessions_on_every_instance_in_a_cluster() {
    if let Some(cluster) = RedisCluster::start().await {
        logout_and_erasure_revoke_sessions_on_every_instance_on(&cluster).await;
    }
}

async fn logout_and_erasure_revoke_sessions_on_every_instance_on(scope: &impl Shared) {
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.register_app("app_sessions");
    // Every check asks Redis, so a revocation counts at the other instance at once (with the
    // revocation watch it counts within the staleness bound: the tests further down).
    let direct = async || {
        scope
            .builder()
            .revocation_staleness(None)
            .connect()
            .await
            .unwrap()
    };
    let (a, b) = (
        instance(&sandbox, &app, &direct().await),
        instance(&sandbox, &app, &direct().await),
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

/// One application instance whose pending logins are in Redis too: nothing of a login stays
/// in the process that started it.
fn shared_instance(
    sandbox: &Sandbox,
    app: &SandboxApp,
    redis: &RedisStore,
    callback: Option<String>,
) -> LoginFlow {
    let shared = Arc::new(redis.clone());
    let mut client = sandbox.client_builder(app).replay_guard(shared.clone());
    if let Some(url) = callback {
        client = client.callback_url(url);
    }
    let sessions = SessionManager::builder("shop")
        .key("k1", &[7; 32])
        .revocations(shared.clone())
        .build()
        .unwrap();
    LoginFlow::builder(client.build().unwrap(), sessions)
        .pending_logins(shared)
        .pending_limits(4, 2)
        .build()
}

fn pending_login(n: u8, client: Option<std::net::IpAddr>, forget_at: u64) -> NewPendingLogin {
    NewPendingLogin {
        key: [n; 32],
        authz_id: format!("az_{n}"),
        client,
        forget_at,
        state: vec![n, 0, 255],
    }
}

#[tokio::test]
async fn pending_logins_in_redis_keep_the_caps_across_instances_and_one_remover_wins() {
    if let Some(scope) = RedisScope::new().await {
        pending_logins_in_redis_keep_the_caps_across_instances_and_one_remover_wins_on(&scope)
            .await;
    }
}

#[tokio::test]
async fn pending_logins_in_redis_keep_the_caps_across_instances_and_one_remover_wins_in_a_cluster()
{
    if let Some(cluster) = RedisCluster::start().await {
        pending_logins_in_redis_keep_the_caps_across_instances_and_one_remover_wins_on(&cluster)
            .await;
        // The scripts touch several keys at once: all of them share one slot, on one node.
        let nodes: std::collections::HashSet<u16> = RedisCluster::keys(&cluster)
            .await
            .into_iter()
            .filter(|(_, k, _)| k.contains(".pending}"))
            .map(|(port, _, _)| port)
            .collect();
        assert_eq!(nodes.len(), 1, "{nodes:?}");
    }
}

/// The pending count leaves out lapsed logins by the store's clock, which the test moves
/// instead of waiting.
#[tokio::test]
async fn the_pending_count_leaves_out_lapsed_logins_by_the_stores_clock() {
    let Some(scope) = RedisScope::new().await else {
        return;
    };
    let now = netid_now();
    let clock = Arc::new(netid::clock::ManualClock::new(now));
    let s = scope
        .builder()
        .clock(clock.clone())
        .connect()
        .await
        .unwrap();
    let limits = PendingLimits {
        total: 10,
        per_client: 10,
    };
    s.insert(pending_login(1, None, now + 60), limits, now)
        .await
        .unwrap();
    s.insert(pending_login(2, None, now + 120), limits, now)
        .await
        .unwrap();
    assert_eq!(s.count().await.unwrap(), 2);
    clock.advance(59);
    assert_eq!(s.count().await.unwrap(), 2);
    clock.advance(1);
    assert_eq!(s.count().await.unwrap(), 1);
    clock.advance(60);
    assert_eq!(s.count().await.unwrap(), 0);
}

async fn pending_logins_in_redis_keep_the_caps_across_instances_and_one_remover_wins_on(
    scope: &impl Shared,
) {
    let (a, b) = (store(&scope).await, store(&scope).await);
    let now = netid_now();
    let limits = PendingLimits {
        total: 3,
        per_client: 2,
    };
    let (x, y) = (
        Some("192.0.2.1".parse().unwrap()),
        Some("192.0.2.2".parse().unwrap()),
    );
    a.insert(pending_login(1, x, now + 60), limits, now)
        .await
        .unwrap();
    b.insert(pending_login(2, x, now + 60), limits, now)
        .await
        .unwrap();
    // The third from x is refused at either instance, before and at the insert.
    assert!(matches!(
        b.admits(x, limits, now).await,
        Err(PendingError::ClientFull)
    ));
    assert!(matches!(
        a.insert(pending_login(3, x, now + 60), limits, now).await,
        Err(PendingError::ClientFull)
    ));
    b.insert(pending_login(4, y, now + 60), limits, now)
        .await
        .unwrap();
    assert!(matches!(
        a.insert(pending_login(5, None, now + 60), limits, now)
            .await,
        Err(PendingError::Full)
    ));
    assert_eq!(a.count().await.unwrap(), 3);

    // Found by authorization id at the other instance; the state is the bytes given.
    assert_eq!(b.find("az_1").await.unwrap(), Some([1; 32]));
    assert_eq!(b.get(&[1; 32]).await.unwrap(), Some(vec![1, 0, 255]));
    assert_eq!(a.find("az_3").await.unwrap(), None);
    assert!(b.update(&[1; 32], vec![9]).await.unwrap());
    assert_eq!(a.get(&[1; 32]).await.unwrap(), Some(vec![9]));

    // A claim is one holder's at a time, across instances; the holder renews it.
    let lease = Duration::from_secs(30);
    assert!(a.claim(&[1; 32], "ha", lease).await.unwrap());
    assert!(!b.claim(&[1; 32], "hb", lease).await.unwrap());
    b.release(&[1; 32], "hb").await.unwrap();
    assert!(
        !b.claim(&[1; 32], "hb", lease).await.unwrap(),
        "not hb's to release"
    );
    a.release(&[1; 32], "ha").await.unwrap();
    assert!(b.claim(&[1; 32], "hb", lease).await.unwrap());

    // Eight racers at two instances remove one login: exactly one succeeds, and its place
    // under both caps is free again.
    let racers = (0..8).map(|i| {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move { s.remove(&[1; 32]).await.unwrap() })
    });
    let mut won = 0;
    for r in racers {
        won += usize::from(r.await.unwrap());
    }
    assert_eq!(won, 1);
    assert_eq!(a.find("az_1").await.unwrap(), None);
    a.insert(pending_login(6, x, now + 60), limits, now)
        .await
        .unwrap();

    // Lapsed logins free their places: at now + 60, every one above has lapsed.
    for n in 7..=9 {
        a.insert(
            pending_login(n, x.filter(|_| n == 7), now + 120),
            limits,
            now + 60,
        )
        .await
        .unwrap();
    }
    assert_eq!(b.count().await.unwrap(), 3);

    // Every key expires, and none names an address, an id or a binding.
    let keys = scope.keys().await;
    assert!(!keys.is_empty());
    for (k, ttl) in keys {
        assert!(ttl > 0, "{k} has no expiry");
        assert!(!k.contains("192.0.2") && !k.contains("az_"), "{k}");
    }
}

/// A browser's login started at instance A finishes by poll at B; a login whose webhook
/// reaches C is finished there and handed out by poll at A; polls racing at two instances
/// accept a login once.
#[tokio::test]
async fn a_login_started_at_one_instance_finishes_at_any_other() {
    if let Some(scope) = RedisScope::new().await {
        a_login_started_at_one_instance_finishes_at_any_other_on(&scope).await;
    }
}

#[tokio::test]
async fn a_login_started_at_one_instance_finishes_at_any_other_in_a_cluster() {
    if let Some(cluster) = RedisCluster::start().await {
        a_login_started_at_one_instance_finishes_at_any_other_on(&cluster).await;
    }
}

async fn a_login_started_at_one_instance_finishes_at_any_other_on(scope: &impl Shared) {
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.register_app("app_pending");
    let redis = store(&scope).await;
    let (a, b) = (
        shared_instance(&sandbox, &app, &redis, None),
        shared_instance(&sandbox, &app, &store(&scope).await, None),
    );

    // Started at A, polled at B.
    let start = a.start().await.unwrap();
    assert!(matches!(
        b.poll(&start.browser_binding).await.unwrap(),
        LoginStatus::Pending
    ));
    sandbox
        .approve(&AuthzId::parse(&start.authz_id).unwrap(), Persona::Adult)
        .unwrap();
    let LoginStatus::Completed { session, .. } = b.poll(&start.browser_binding).await.unwrap()
    else {
        panic!("not completed at B");
    };
    assert!(a.sessions().authenticate(&session).await.is_ok());
    assert_eq!(
        a.poll(&start.browser_binding).await.unwrap_err().code,
        "netid.login_unknown",
        "finished once, gone everywhere"
    );

    // Racing polls at A and B, many times over: each login completes exactly once.
    for _ in 0..5 {
        let start = a.start().await.unwrap();
        sandbox
            .approve(&AuthzId::parse(&start.authz_id).unwrap(), Persona::Adult)
            .unwrap();
        let polls = (0..6).map(|i| {
            let flow = if i % 2 == 0 { a.clone() } else { b.clone() };
            let binding = start.browser_binding.clone();
            tokio::spawn(async move { flow.poll(&binding).await })
        });
        let mut completed = 0;
        for p in polls {
            match p.await.unwrap() {
                Ok(LoginStatus::Completed { .. }) => completed += 1,
                Ok(LoginStatus::Pending) => {}
                Err(p) => assert_eq!(p.code, "netid.login_unknown", "{p}"),
            }
        }
        assert!(completed <= 1, "a login accepted {completed} times");
        if completed == 0 {
            // Every racer found it claimed: the next poll finishes it.
            assert!(matches!(
                b.poll(&start.browser_binding).await.unwrap(),
                LoginStatus::Completed { .. }
            ));
        }
    }

    // The webhook reaches C, which never saw the login; the browser polls A.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/netid/callback", listener.local_addr().unwrap());
    let c = shared_instance(&sandbox, &app, &store(&scope).await, None);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let receiver = axum::Router::new().route(
        "/netid/callback",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let (c, tx) = (c.clone(), tx.clone());
                async move {
                    let status = match c.callback(&headers, &body).await {
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
    let hooked_a = shared_instance(&sandbox, &app, &redis, Some(url));
    let start = hooked_a.start().await.unwrap();
    sandbox
        .approve(&AuthzId::parse(&start.authz_id).unwrap(), Persona::Adult)
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, 204, "C took the webhook");
    // The platform's answer was used up by C: A's poll must get it from the store.
    let LoginStatus::Completed { user, .. } = hooked_a.poll(&start.browser_binding).await.unwrap()
    else {
        panic!("the webhook's answer was lost");
    };
    assert_eq!(user.assurance(), netid::model::Assurance::Credential);
    assert_eq!(redis.count().await.unwrap(), 0, "nothing left pending");

    // The caps hold across instances: 2 from one address (the test's), whichever instance.
    let here = Some("192.0.2.9".parse().unwrap());
    a.start_from(here).await.unwrap();
    b.start_from(here).await.unwrap();
    let refused = a.start_from(here).await.unwrap_err();
    assert_eq!((refused.status, refused.code), (429, "netid.rate_limited"));
}

/// Counts the questions a store is asked, passing its generation through.
struct Counting {
    inner: RedisStore,
    asked: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl RevocationStore for Counting {
    async fn revoke(&self, jti: &str, until: u64) -> Result<(), StoreError> {
        self.inner.revoke(jti, until).await
    }
    async fn revoke_subject(&self, subject: &str, at: u64, until: u64) -> Result<(), StoreError> {
        self.inner.revoke_subject(subject, at, until).await
    }
    async fn is_revoked(&self, jti: &str, s: &str, iat: u64) -> Result<bool, StoreError> {
        self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.is_revoked(jti, s, iat).await
    }
    fn generation(&self) -> Option<u64> {
        self.inner.generation()
    }
}

impl Counting {
    fn asked(&self) -> usize {
        self.asked.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Polls `done` every 20 ms for up to `limit`: a deadline for something asynchronous to
/// happen, not a measurement.
async fn eventually(limit: Duration, mut done: impl AsyncFnMut() -> bool) -> bool {
    let until = std::time::Instant::now() + limit;
    while std::time::Instant::now() < until {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Signed-in requests make no round trip while the revocation channel is live; a logout at A
/// is refused at B within the stated bound; when the channel drops, every check asks Redis
/// (and fails closed while it cannot answer); when it is back, checks are local again.
#[tokio::test]
async fn revocations_are_checked_locally_and_a_logout_reaches_every_instance_within_the_bound() {
    let Some(scope) = RedisScope::new().await else {
        return;
    };
    let Watched {
        a,
        b,
        b_store,
        user,
    } = revocations_are_checked_locally_on(&scope).await;

    // The channel drops and cannot come back (every connection of the app killed, and logins
    // refused): checks ask Redis, and fail closed while it cannot answer.
    let other = a.issue(&user).unwrap();
    b.authenticate(&other).await.unwrap();
    scope.set_enabled(false).await;
    scope.kill_connections().await;
    assert!(
        eventually(Duration::from_secs(5), async || b_store
            .generation()
            .is_none())
        .await,
        "the channel's loss was never noticed"
    );
    let err = b.authenticate(&other).await.unwrap_err();
    assert_eq!(err.code(), "store.unavailable", "{err}");

    // Back: the subscription returns by itself, and checks are local again.
    scope.set_enabled(true).await;
    assert!(
        eventually(Duration::from_secs(10), async || b_store
            .generation()
            .is_some())
        .await,
        "the channel never came back"
    );
    b.authenticate(&other).await.unwrap();
    let asked = b_store.asked();
    for _ in 0..50 {
        b.authenticate(&other).await.unwrap();
    }
    assert!(b_store.asked() - asked <= 1);
}

/// The same in a Redis Cluster, through the sharded channel: no round trip per request, a
/// logout at A refused at B within the bound, and after every connection to every node was
/// killed (the cluster client reconnects and resubscribes by itself), the decisions made
/// before are asked again and a later logout still arrives within the bound.
#[tokio::test]
async fn revocations_are_checked_locally_in_a_cluster() {
    if let Some(cluster) = RedisCluster::start().await {
        let Watched { b_store, .. } = revocations_are_checked_locally_on(&cluster).await;
        // Every revocation key and the channel share one slot, so one node holds them all.
        let nodes: std::collections::HashSet<u16> = RedisCluster::keys(&cluster)
            .await
            .into_iter()
            .filter(|(_, k, _)| k.contains(".revocations}"))
            .map(|(port, _, _)| port)
            .collect();
        assert_eq!(nodes.len(), 1, "{nodes:?}");
        drop(b_store);
    }
}

const BOUND: Duration = Duration::from_millis(500);

struct Watched {
    a: SessionManager,
    b: SessionManager,
    b_store: Arc<Counting>,
    user: VerifiedUser,
}

async fn revocations_are_checked_locally_on(scope: &impl Shared) -> Watched {
    let connect = || async {
        scope
            .builder()
            .revocation_staleness(Some(BOUND))
            .connect()
            .await
            .unwrap()
    };
    let counting = |redis: RedisStore| {
        Arc::new(Counting {
            inner: redis,
            asked: Default::default(),
        })
    };
    let (a_store, b_store) = (counting(connect().await), counting(connect().await));
    let manager = |store: Arc<Counting>| {
        SessionManager::builder("shop")
            .key("k1", &[7; 32])
            .revocations(store)
            .build()
            .unwrap()
    };
    let (a, b) = (manager(a_store.clone()), manager(b_store.clone()));
    // The subscription proves itself live within a heartbeat or two.
    assert!(
        eventually(Duration::from_secs(5), async || b_store
            .generation()
            .is_some())
        .await,
        "the revocation channel never became live"
    );
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.register_app("app_watch");
    let flow = LoginFlow::builder(sandbox.client_builder(&app).build().unwrap(), a.clone()).build();
    let (user, session) = login(&flow, &sandbox).await;
    b.authenticate(&session).await.unwrap();
    let asked = b_store.asked();
    for _ in 0..200 {
        b.authenticate(&session).await.unwrap();
    }
    assert!(
        b_store.asked() - asked <= 1,
        "{} round trips for 200 requests while nothing was revoked",
        b_store.asked() - asked
    );
    logout_reaches_the_other_within_the_bound(&a, &b, &session).await;

    // Every connection dropped, the channel's included: it comes back by itself, and what B
    // decided before the gap (during which announcements may have been missed) is asked
    // again: the generation has moved on.
    let other = a.issue(&user).unwrap();
    b.authenticate(&other).await.unwrap();
    let before = b_store.generation().unwrap();
    assert!(scope.kill_connections().await >= 1);
    assert!(
        eventually(Duration::from_secs(10), async || b_store
            .generation()
            .is_some_and(|g| g > before))
        .await,
        "the channel did not come back, or came back without a new generation"
    );
    let asked = b_store.asked();
    b.authenticate(&other).await.unwrap();
    assert_eq!(b_store.asked() - asked, 1, "asked again after the gap");
    for _ in 0..50 {
        b.authenticate(&other).await.unwrap();
    }
    assert_eq!(b_store.asked() - asked, 1, "local again");
    // The resubscribed channel carries announcements.
    logout_reaches_the_other_within_the_bound(&a, &b, &other).await;
    Watched {
        a,
        b,
        b_store,
        user,
    }
}

/// Logout at A: A refuses the session at once, B once the bound has passed.
async fn logout_reaches_the_other_within_the_bound(
    a: &SessionManager,
    b: &SessionManager,
    session: &str,
) {
    let revoked_at = std::time::Instant::now();
    a.revoke(session).await.unwrap();
    assert_eq!(
        a.authenticate(session).await.unwrap_err().code(),
        "netid.session_revoked",
        "A's own revocation counts at once"
    );
    tokio::time::sleep(BOUND.saturating_sub(revoked_at.elapsed())).await;
    assert_eq!(
        b.authenticate(session).await.unwrap_err().code(),
        "netid.session_revoked"
    );
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
