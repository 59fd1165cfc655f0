//! Redis: the replay guard, session revocations and pending logins, shared by every instance of
//! an application; one Redis server or a Redis Cluster.
//!
//! ```no_run
//! # async fn demo() -> Result<(), netid::store::StoreError> {
//! use std::sync::Arc;
//! use netid::store::redis::RedisStore;
//!
//! let redis = Arc::new(RedisStore::builder("redis://127.0.0.1:6379").key_prefix("shop").connect().await?);
//! // The same store is the client's replay guard and the sessions' revocation list:
//! // `ClientBuilder::replay_guard(redis.clone())`, `SessionManagerBuilder::revocations(redis)`.
//! # let _ = redis; Ok(()) }
//! ```
//!
//! # Failure
//! Every operation has a deadline (default 500 ms, retries included). When Redis cannot answer
//! in time, the operation returns [`StoreError::Unavailable`]: a result is not accepted and a
//! session is not trusted (fail closed), and the caller can retry. There is deliberately no
//! "fail open" switch: a replay guard that lets values through while it cannot see them is no
//! guard. The connection re-establishes itself in the background (`redis`'s
//! `ConnectionManager`, or its cluster client), so service recovers without a restart when
//! Redis is back.
//!
//! # Keys
//! `{prefix}:{kind}:{SM3 of the value, hex}`, each with an expiry, so nothing outlives its use
//! and no pseudonym or id appears in a key name. Keys that one operation touches together share
//! a hash tag: revocations `{prefix}:{{prefix}.revocations}:…`, pending logins
//! `{prefix}:{{prefix}.pending}:…`. The replay guard's keys are independent and have none.
//!
//! # Redis Cluster
//! [`RedisStore::cluster_builder`] takes some of the cluster's nodes (Redis 7 or later); every
//! other setting is as for one server:
//!
//! ```no_run
//! # async fn demo() -> Result<(), netid::store::StoreError> {
//! use netid::store::redis::RedisStore;
//!
//! let redis = RedisStore::cluster_builder([
//!     "redis://:password@10.0.0.1:6379",
//!     "redis://:password@10.0.0.2:6379",
//! ])
//! .key_prefix("shop")
//! .connect()
//! .await?;
//! # let _ = redis; Ok(()) }
//! ```
//!
//! - The replay guard's keys spread over the cluster; each check is one command on one key.
//! - Revocation keys share the hash tag `{prefix.revocations}`, and pending-login keys
//!   `{prefix.pending}`: each kind lives in one slot, on one node (and its replicas), so that
//!   a check reads both of its keys in one `MGET` and the scripts that record a revocation or
//!   keep the pending-login caps run atomically. Both are small (a key per revoked session
//!   until it would have expired; about 1 KB per pending login, capped), and with the
//!   revocation watch a node is asked about a session only once per revocation anywhere.
//! - Revocations are announced on a *sharded* channel (`SPUBLISH`/`SSUBSCRIBE`) in that same
//!   slot, from the script that records them. Plain `PUBLISH` would be broadcast between
//!   nodes, and a heartbeat published at one node could arrive before a revocation published
//!   at another, which would break the staleness proof; a sharded channel has one node, so
//!   the proof and the bound ([`RedisStoreBuilder::revocation_staleness`]) hold as on one
//!   server. While the cluster client reconnects or the slot moves (a failover, a
//!   resharding), the subscription cannot prove itself live and every check asks Redis; when
//!   it is back, every decision made before is asked again.
//! - Redis replicates asynchronously and netid does not wait for replicas (`WAIT`): a
//!   revocation or a first use acknowledged by a primary just before it fails over can be
//!   lost with it. That is Redis Cluster's documented write-loss window, the same as for one
//!   server with a replica.
//!
//! Redis Sentinel is not supported yet: a store follows a primary that moves only through an
//! address that moves with it (a proxy or a DNS name that your failover updates).

mod pending;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{ErrorKind, RedisError};

use super::RevocationStore;
use super::{ReplayGuard, ReplayKind, StoreError};
use crate::clock::{Clock, SystemClock};
use crate::crypto::sm3;

const BACKEND: &str = "redis";

/// One server through a `ConnectionManager`, or a cluster through redis-rs' cluster client
/// (which follows `MOVED`/`ASK` and re-reads the slot map by itself). Both are multiplexed
/// and cheap to clone.
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Conn {
    fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }
}

impl redis::aio::ConnectionLike for Conn {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// Where the store connects.
enum Nodes {
    Single(String),
    /// Seed nodes: any reachable one tells the client the rest.
    Cluster(Vec<String>),
}

/// The replay guard and session revocations in Redis. Cheap to clone: clones share one
/// multiplexed connection.
#[derive(Clone)]
pub struct RedisStore {
    conn: Conn,
    prefix: String,
    timeout: Duration,
    attempts: u32,
    /// Revocations announced on the channel; `None`: every check asks Redis.
    watch: Option<Arc<watch::Watch>>,
    /// `host:port` (or the socket's path), as errors name it; the user, if the URL names one.
    target: std::sync::Arc<(String, Option<String>)>,
    /// What `PendingLoginStore::count` reads (the other operations are given the time).
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: it is not kept, and never printed.
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// Settings for a [`RedisStore`].
pub struct RedisStoreBuilder {
    nodes: Nodes,
    prefix: String,
    timeout: Duration,
    attempts: u32,
    staleness: Option<Duration>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Settings for the Redis at `url` (`redis://[:password@]host:port[/db]`).
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            nodes: Nodes::Single(url.into()),
            prefix: "netid".to_owned(),
            timeout: Duration::from_millis(500),
            attempts: 2,
            staleness: Some(Duration::from_millis(500)),
            clock: Arc::new(SystemClock),
        }
    }

    /// Settings for a Redis Cluster (Redis 7 or later), given some of its primaries as
    /// `redis://[[user]:password@]host:port` (one is enough, more let the store start while
    /// one is down; the credentials of the first are used for every node). Every other setting
    /// is the same as for one server. The keys an operation touches together share a hash
    /// tag, and revocations are announced on a sharded channel in their slot; see the
    /// [module documentation](self#redis-cluster).
    pub fn cluster_builder<S: Into<String>>(
        nodes: impl IntoIterator<Item = S>,
    ) -> RedisStoreBuilder {
        RedisStoreBuilder {
            nodes: Nodes::Cluster(nodes.into_iter().map(Into::into).collect()),
            ..Self::builder(String::new())
        }
    }

    /// Connects with the default settings and checks Redis answers.
    pub async fn connect(url: impl Into<String>) -> Result<Self, StoreError> {
        Self::builder(url).connect().await
    }

    /// The prefix of every key this store writes.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// Checks Redis answers (a readiness probe).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|| redis::cmd("PING"), |_: String| ()).await
    }

    fn channel(&self) -> String {
        revocation_channel(&self.prefix)
    }

    /// `PUBLISH` on one server, `SPUBLISH` (sharded, Redis 7) in a cluster: see
    /// [`revocation_channel`].
    fn publish_command(&self) -> &'static str {
        if self.conn.is_cluster() {
            "SPUBLISH"
        } else {
            "PUBLISH"
        }
    }

    /// A revocation key: every one shares the hash tag `{prefix.revocations}`, so that
    /// `is_revoked` reads both of its keys in one `MGET` and a revocation is recorded and
    /// announced in one script, on one Redis Cluster node.
    fn revocation_key(&self, tag: &str, value: &str) -> String {
        format!(
            "{p}:{{{p}.revocations}}:{tag}:{}",
            hex::encode(sm3(value.as_bytes())),
            p = self.prefix
        )
    }

    /// Runs a revocation `script` on `key`, which records it and announces it in one step: a
    /// revocation every instance has not been told of would be one some of them do not see.
    /// The script gets the announcement first — ARGV[1] `PUBLISH` (or, in a cluster,
    /// `SPUBLISH`, legal in a script since the channel is in the key's slot), ARGV[2] the
    /// channel, ARGV[3] the message — then `values` from ARGV[4].
    async fn record_and_announce(
        &self,
        script: &'static str,
        key: &str,
        values: &[u64],
    ) -> Result<(), StoreError> {
        let channel = self.channel();
        self.run(
            || {
                let mut c = redis::cmd("EVAL");
                c.arg(script)
                    .arg(1)
                    .arg(key)
                    .arg(self.publish_command())
                    .arg(&channel)
                    .arg(watch::REVOKED);
                for v in values {
                    c.arg(*v);
                }
                c
            },
            |_: redis::Value| (),
        )
        .await?;
        self.revoked_here();
        Ok(())
    }

    /// This instance's own revocation counts at once, before its announcement comes back.
    fn revoked_here(&self) {
        if let Some(watch) = &self.watch {
            watch.bump();
        }
    }

    fn key(&self, tag: &str, value: &str) -> String {
        format!(
            "{}:{tag}:{}",
            self.prefix,
            hex::encode(sm3(value.as_bytes()))
        )
    }

    /// Runs one command, retrying once a dropped connection has been replaced, all within the
    /// deadline. Only used for commands that are safe to repeat (see `first_use`).
    async fn run<T: redis::FromRedisValue, R>(
        &self,
        command: impl Fn() -> redis::Cmd,
        then: impl FnOnce(T) -> R,
    ) -> Result<R, StoreError> {
        let attempt = async {
            let mut last = None;
            for _ in 0..self.attempts {
                let mut conn = self.conn.clone();
                match command().query_async::<T>(&mut conn).await {
                    Ok(v) => return Ok(v),
                    Err(e) if is_transient(&e) => last = Some(e),
                    Err(e) => return Err(self.describe(&e)),
                }
            }
            Err(last.map_or_else(
                || StoreError::unavailable(BACKEND, "no attempt was made"),
                |e| self.describe(&e),
            ))
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(r) => r.map(then),
            Err(_) => Err(StoreError::unavailable(
                BACKEND,
                format!(
                    "no answer from {} within {} ms",
                    self.target.0,
                    self.timeout.as_millis()
                ),
            )),
        }
    }

    /// The error's kind, never its text (a server error may quote a key, a client error the
    /// URL), with the address it concerns.
    fn describe(&self, e: &RedisError) -> StoreError {
        let (addr, user) = (&self.target.0, &self.target.1);
        let kind = format!("{:?}", e.kind());
        let code = e.code().unwrap_or_default();
        if e.kind() == ErrorKind::AuthenticationFailed
            || matches!(code, "NOAUTH" | "WRONGPASS" | "NOPERM")
        {
            let who = user
                .as_deref()
                .map_or_else(|| "the default user".to_owned(), |u| format!("user {u}"));
            let why = match code {
                "NOAUTH" => "NOAUTH: the server wants a password and the URL gives none",
                "NOPERM" => "NOPERM: the ACL does not allow netid's commands or keys",
                _ => "wrong password, or no such ACL user",
            };
            StoreError::auth_failed(
                BACKEND,
                format!("authentication failed for {who} at {addr} ({why})"),
            )
        } else if e.is_connection_refusal() {
            StoreError::unavailable(
                BACKEND,
                format!("connection refused by {addr}: is Redis running there?"),
            )
        } else if e.is_timeout() {
            StoreError::unavailable(BACKEND, format!("no answer from {addr} ({kind})"))
        } else if is_transient(e) {
            StoreError::unavailable(BACKEND, format!("connection to {addr} failed ({kind})"))
        } else if matches!(e.kind(), ErrorKind::UnexpectedReturnType | ErrorKind::Parse) {
            StoreError::corrupt(BACKEND, format!("unexpected reply from {addr} ({kind})"))
        } else {
            StoreError::unavailable(BACKEND, format!("command failed at {addr} ({kind})"))
        }
    }
}

impl RedisStoreBuilder {
    /// The prefix of every key (default `netid`): 1–64 of `A-Z a-z 0-9 _ - . :`. Give each
    /// application sharing a Redis its own.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long one operation may take, retries included (default 500 ms; 10 ms to 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many times an operation is tried when the connection drops under it (default 2:
    /// one retry on the re-established connection; 1 to 5).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// How stale a "not revoked" answered from memory may be (default 500 ms, 50 ms to 60 s),
    /// or `None` to ask Redis on every signed-in request.
    ///
    /// With a bound, the store subscribes to `{prefix}:{{prefix}.revocations}:channel` (sharded
    /// in a cluster), on which every revocation is announced, and [`SessionManager`](crate::policy::SessionManager) asks Redis about a
    /// session only once per revocation anywhere: a signed-in request makes no round trip. A
    /// logout acknowledged at one instance is refused at every other within the bound at the
    /// latest. While the subscription cannot prove itself live within the bound (Redis down,
    /// the channel late), every check asks Redis, and fails closed if it cannot answer. The
    /// subscription needs a Tokio runtime: [`connect`](Self::connect), or
    /// [`build`](Self::build) inside one (outside, every check asks Redis).
    pub fn revocation_staleness(mut self, bound: Option<Duration>) -> Self {
        self.staleness = bound;
        self
    }

    /// The clock the store reads where it is not given the time (default: the system clock):
    /// `PendingLoginStore::count`, which leaves out lapsed logins. Give it the session
    /// manager's ([`SessionManagerBuilder::clock`](crate::policy::SessionManagerBuilder::clock)),
    /// which dates the logins. Keys still expire by Redis's own time.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the store without contacting Redis: the connection is made on first use and
    /// re-made whenever it drops. An application can start while Redis is down; until it is
    /// back, operations fail closed.
    pub fn build(self) -> Result<RedisStore, StoreError> {
        let valid_prefix = (1..=64).contains(&self.prefix.len())
            && self
                .prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b));
        if !valid_prefix {
            return Err(StoreError::misconfigured(
                BACKEND,
                "the key prefix must be 1-64 of A-Z a-z 0-9 _ - . :",
            ));
        }
        if self.timeout < Duration::from_millis(10) || self.timeout > Duration::from_secs(30) {
            return Err(StoreError::misconfigured(
                BACKEND,
                "the operation timeout must be 10 ms to 30 s",
            ));
        }
        if !(1..=5).contains(&self.attempts) {
            return Err(StoreError::misconfigured(
                BACKEND,
                "attempts must be 1 to 5",
            ));
        }
        if let Some(bound) = self.staleness
            && (bound < Duration::from_millis(50) || bound > Duration::from_secs(60))
        {
            return Err(StoreError::misconfigured(
                BACKEND,
                "the revocation staleness bound must be 50 ms to 60 s",
            ));
        }
        let (conn, target, subscriber) = match &self.nodes {
            Nodes::Single(url) => {
                let client = open(url)?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.timeout))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(3)
                    .set_max_delay(Duration::from_secs(2));
                let target = describe_target(&client, None);
                let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
                    .map_err(|e| StoreError::misconfigured(BACKEND, format!("{:?}", e.kind())))?;
                (
                    Conn::Single(conn),
                    target,
                    watch::Subscriber::Single(client),
                )
            }
            Nodes::Cluster(urls) => {
                let Some(first) = urls.first() else {
                    return Err(StoreError::misconfigured(
                        BACKEND,
                        "a Redis Cluster needs at least one node's URL",
                    ));
                };
                for url in urls {
                    open(url)?;
                }
                let target = describe_target(&open(first)?, Some(urls.len()));
                let client = watch::cluster_client(urls, self.timeout, None)
                    .map_err(|e| StoreError::misconfigured(BACKEND, format!("{:?}", e.kind())))?;
                // Connected in the background: like one server, a cluster may come up after
                // the application.
                let conn = client.get_pending_async_connection_with_config(
                    redis::cluster::ClusterConfig::new()
                        .set_connection_timeout(self.timeout)
                        .set_response_timeout(self.timeout),
                );
                (
                    Conn::Cluster(conn),
                    target,
                    watch::Subscriber::Cluster(urls.clone()),
                )
            }
        };
        let watch = match (self.staleness, tokio::runtime::Handle::try_current()) {
            (Some(bound), Ok(runtime)) => {
                let watch = Arc::new(watch::Watch::new(bound));
                runtime.spawn(watch::run(
                    Arc::downgrade(&watch),
                    subscriber,
                    conn.clone(),
                    revocation_channel(&self.prefix),
                    self.timeout,
                ));
                Some(watch)
            }
            (Some(_), Err(_)) => {
                tracing::warn!(
                    "RedisStore built outside a Tokio runtime: every session check asks Redis"
                );
                None
            }
            (None, _) => None,
        };
        Ok(RedisStore {
            conn,
            prefix: self.prefix,
            timeout: self.timeout,
            attempts: self.attempts,
            watch,
            target: std::sync::Arc::new(target),
            clock: self.clock,
        })
    }

    /// Builds the store and checks Redis answers: a deployment finds a wrong URL at start-up.
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        let store = self.build()?;
        store.ping().await?;
        Ok(store)
    }
}

/// A client for `url`, without contacting it.
fn open(url: &str) -> Result<redis::Client, StoreError> {
    // The error would quote the URL, password included: say only what kind it was.
    redis::Client::open(url)
        .map_err(|_| StoreError::misconfigured(BACKEND, "a Redis URL is not valid"))
}

/// `host:port` (or the socket's path) as errors name it, and the user the URL names.
fn describe_target(
    client: &redis::Client,
    cluster_nodes: Option<usize>,
) -> (String, Option<String>) {
    let info = client.get_connection_info();
    let addr = match info.addr() {
        redis::ConnectionAddr::Tcp(host, port)
        | redis::ConnectionAddr::TcpTls { host, port, .. } => format!("{host}:{port}"),
        other => format!("{other}"),
    };
    let addr = match cluster_nodes {
        None => addr,
        Some(1) => format!("the cluster at {addr}"),
        Some(n) => format!("the cluster at {addr} (and {} more seed nodes)", n - 1),
    };
    (addr, info.redis_settings().username().map(str::to_owned))
}

/// The channel revocations are announced on. It carries the revocation keys' hash tag: in a
/// cluster, a sharded channel lives in its slot, so the script that records a revocation can
/// announce it (same slot), and announcements and pings pass through one node, in order.
fn revocation_channel(prefix: &str) -> String {
    format!("{prefix}:{{{prefix}.revocations}}:channel")
}

/// A failure that a fresh connection may not repeat.
fn is_transient(e: &RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_timeout() || e.is_connection_refusal()
}

#[async_trait::async_trait]
impl ReplayGuard for RedisStore {
    async fn first_use(
        &self,
        kind: ReplayKind,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let key = self.key(kind.tag(), value);
        // A plain SET NX cannot be retried: if the first attempt was applied but its reply
        // lost with the connection, the retry would see the key and call our own first use a
        // replay. So each call writes a token of its own and asks for the previous value
        // (`SET … NX GET`, Redis 7): nothing before, or our own token, means first use.
        let token = crate::random::token(16);
        let ttl = ttl.as_secs().max(1);
        let previous: Option<String> = self
            .run(
                || {
                    let mut c = redis::cmd("SET");
                    c.arg(&key)
                        .arg(&token)
                        .arg("NX")
                        .arg("GET")
                        .arg("EX")
                        .arg(ttl);
                    c
                },
                |v| v,
            )
            .await?;
        Ok(previous.is_none_or(|p| p == token))
    }
}

#[async_trait::async_trait]
impl RevocationStore for RedisStore {
    async fn revoke(&self, jti: &str, until: u64) -> Result<(), StoreError> {
        const REVOKE: &str = "\
            redis.call('SET', KEYS[1], 1, 'EXAT', ARGV[4]) \
            redis.call(ARGV[1], ARGV[2], ARGV[3]) \
            return 1";
        let key = self.revocation_key("rv", jti);
        self.record_and_announce(REVOKE, &key, &[until.max(1)])
            .await
    }

    async fn revoke_subject(&self, subject: &str, at: u64, until: u64) -> Result<(), StoreError> {
        // Two instances may erase at once: keep the later cut-off and the later expiry, in one
        // atomic step.
        const KEEP_LATER: &str = "\
            local cut = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(ARGV[4])) \
            local untl = math.max(tonumber(redis.call('EXPIRETIME', KEYS[1])), tonumber(ARGV[5])) \
            redis.call('SET', KEYS[1], cut, 'EXAT', untl) \
            redis.call(ARGV[1], ARGV[2], ARGV[3]) \
            return 1";
        let key = self.revocation_key("rs", subject);
        self.record_and_announce(KEEP_LATER, &key, &[at, until.max(1)])
            .await
    }

    async fn is_revoked(
        &self,
        jti: &str,
        subject: &str,
        issued_at: u64,
    ) -> Result<bool, StoreError> {
        // One slot (the shared hash tag): one `MGET`, in a cluster too.
        let (session, subject_key) = (
            self.revocation_key("rv", jti),
            self.revocation_key("rs", subject),
        );
        let (session, cut_off): (Option<String>, Option<u64>) = self
            .run(
                || {
                    let mut c = redis::cmd("MGET");
                    c.arg(&session).arg(&subject_key);
                    c
                },
                |v| v,
            )
            .await?;
        Ok(session.is_some() || cut_off.is_some_and(|at| issued_at <= at))
    }

    /// Changes with every revocation at any instance, while the revocation channel is proven
    /// live within the staleness bound ([`RedisStoreBuilder::revocation_staleness`]); else
    /// `None`, and every check asks Redis.
    fn generation(&self) -> Option<u64> {
        self.watch.as_ref()?.generation()
    }
}
