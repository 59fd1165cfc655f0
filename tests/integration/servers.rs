//! The real Redis and PostgreSQL every machine of this project runs. Tests read
//! `NETID_TEST_REDIS_URL` / `NETID_TEST_POSTGRES_URL` (defaults: 127.0.0.1:6379, and
//! 127.0.0.1:5432 database `test`). Without a server a test is skipped, except under `CI=true`,
//! where a missing server fails the run.
//!
//! Each test gets a scope of its own — a Redis ACL user allowed only its key prefix, a
//! PostgreSQL schema — so tests run in parallel and leave nothing behind.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name no other test (or test run) uses.
pub(crate) fn unique(stem: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{stem}_{}_{}_{nanos:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A loopback port nothing listens on right now (for a child process to take).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Fails under `CI=true`, else says why the test is skipped.
pub(crate) fn skip_or_fail(what: &str, url: &str, e: &dyn std::fmt::Display) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{what} at {url} is required under CI=true: {e}"
    );
    eprintln!("skipping: {what} at {url} unreachable: {e}");
}

#[cfg(feature = "redis")]
pub(crate) mod redis_scope {
    use super::*;

    pub(crate) fn redis_url() -> String {
        std::env::var("NETID_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
    }

    /// A Redis ACL user of its own, allowed only keys under its prefix: a test can kill its
    /// own connections (`CLIENT KILL USER`) or lock itself out without touching another test.
    pub(crate) struct RedisScope {
        pub(crate) prefix: String,
        pub(crate) user: String,
        admin: redis::aio::MultiplexedConnection,
    }

    impl RedisScope {
        /// `None` (skip) when Redis is unreachable outside CI.
        pub(crate) async fn new() -> Option<Self> {
            let url = redis_url();
            let connected = match redis::Client::open(url.as_str()) {
                Ok(c) => c.get_multiplexed_async_connection().await,
                Err(e) => Err(e),
            };
            let admin = match connected {
                Ok(conn) => conn,
                Err(e) => {
                    skip_or_fail("Redis", &url, &e);
                    return None;
                }
            };
            let name = unique("t");
            let scope = RedisScope {
                prefix: name.clone(),
                user: format!("netid_{name}"),
                admin,
            };
            scope
                .admin_cmd(
                    redis::cmd("ACL")
                        .arg("SETUSER")
                        .arg(&scope.user)
                        .arg("reset")
                        .arg("on")
                        .arg("nopass")
                        .arg(format!("~{}:*", scope.prefix))
                        // The revocation channel, `{prefix}:{{prefix}.revocations}:channel`.
                        .arg(format!("&{}:*", scope.prefix))
                        .arg("+@all"),
                )
                .await;
            Some(scope)
        }

        /// The URL that logs in as this scope's user.
        pub(crate) fn url(&self) -> String {
            let mut url = url::Url::parse(&redis_url()).unwrap();
            url.set_username(&self.user).unwrap();
            // redis-rs logs in only with a password; the user is `nopass`, so any will do.
            url.set_password(Some("any")).unwrap();
            url.to_string()
        }

        pub(crate) async fn admin_cmd(&self, cmd: &redis::Cmd) -> redis::Value {
            let mut conn = self.admin.clone();
            cmd.query_async(&mut conn).await.unwrap()
        }

        /// Closes every connection of this scope's user, as a failing network would.
        pub(crate) async fn kill_connections(&self) -> i64 {
            let v = self
                .admin_cmd(redis::cmd("CLIENT").arg("KILL").arg("USER").arg(&self.user))
                .await;
            redis::from_redis_value(v).unwrap()
        }

        /// Refuses (`false`) or allows this scope's user to log in.
        pub(crate) async fn set_enabled(&self, on: bool) {
            self.admin_cmd(redis::cmd("ACL").arg("SETUSER").arg(&self.user).arg(if on {
                "on"
            } else {
                "off"
            }))
            .await;
        }

        /// Every key under the prefix, with its remaining lifetime in seconds.
        pub(crate) async fn keys(&self) -> Vec<(String, i64)> {
            let v = self
                .admin_cmd(redis::cmd("KEYS").arg(format!("{}:*", self.prefix)))
                .await;
            let keys: Vec<String> = redis::from_redis_value(v).unwrap();
            let mut out = Vec::new();
            for k in keys {
                let ttl: i64 =
                    redis::from_redis_value(self.admin_cmd(redis::cmd("TTL").arg(&k)).await)
                        .unwrap();
                out.push((k, ttl));
            }
            out
        }

        /// Every value under the prefix, as text.
        pub(crate) async fn values(&self) -> Vec<String> {
            let mut out = Vec::new();
            for (k, _) in self.keys().await {
                let v: Option<String> =
                    redis::from_redis_value(self.admin_cmd(redis::cmd("GET").arg(&k)).await)
                        .unwrap();
                out.extend(v);
            }
            out
        }

        /// Deletes the keys and the user (also done on drop, so a failed test leaves
        /// nothing behind either).
        pub(crate) async fn cleanup(self) {
            drop(self);
        }
    }
}

#[cfg(feature = "redis")]
impl Drop for redis_scope::RedisScope {
    fn drop(&mut self) {
        // A blocking connection: drop cannot await, and may run while a test unwinds.
        let Ok(client) = redis::Client::open(redis_scope::redis_url()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query(&mut conn)
            .unwrap_or_default();
        for k in keys {
            let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(&k).query(&mut conn);
        }
        let _: redis::RedisResult<i64> = redis::cmd("ACL")
            .arg("DELUSER")
            .arg(&self.user)
            .query(&mut conn);
    }
}

#[cfg(feature = "redis")]
pub(crate) mod redis_cluster {
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use super::skip_or_fail;

    /// A Redis Cluster of the test's own: three primaries (no replicas) on free local ports,
    /// made with `redis-cli --cluster create`, every process killed on drop.
    pub(crate) struct RedisCluster {
        pub(crate) ports: Vec<u16>,
        pub(crate) prefix: String,
        children: Vec<Child>,
        _dir: tempfile::TempDir,
    }

    /// A port that is free, and whose cluster bus port (+10000) is free too.
    fn free_pair() -> u16 {
        loop {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = l.local_addr().unwrap().port();
            if port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
                return port;
            }
        }
    }

    impl RedisCluster {
        /// `None` (skip) when `redis-server` or `redis-cli` is missing, outside CI.
        pub(crate) async fn start() -> Option<Self> {
            let dir = tempfile::tempdir().unwrap();
            let mut cluster = RedisCluster {
                ports: Vec::new(),
                prefix: super::unique("c"),
                children: Vec::new(),
                _dir: dir,
            };
            for n in 0..3 {
                let port = free_pair();
                let conf = cluster._dir.path().join(format!("nodes-{n}.conf"));
                let spawned = Command::new("redis-server")
                    .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                    .args(["--cluster-enabled", "yes", "--cluster-config-file"])
                    .arg(&conf)
                    .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                    .current_dir(cluster._dir.path())
                    .stdout(Stdio::null())
                    .spawn();
                match spawned {
                    Ok(child) => cluster.children.push(child),
                    Err(e) => {
                        skip_or_fail("redis-server", "PATH", &e);
                        return None;
                    }
                }
                cluster.ports.push(port);
            }
            for &port in &cluster.ports {
                cluster.wait_for(port, |_| true).await;
            }
            let mut create = Command::new("redis-cli");
            create.arg("--cluster").arg("create");
            for port in &cluster.ports {
                create.arg(format!("127.0.0.1:{port}"));
            }
            let created = create
                .args(["--cluster-replicas", "0", "--cluster-yes"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            match created {
                Ok(status) => assert!(status.success(), "redis-cli --cluster create: {status}"),
                Err(e) => {
                    skip_or_fail("redis-cli", "PATH", &e);
                    return None;
                }
            }
            for &port in &cluster.ports {
                cluster
                    .wait_for(port, |info| info.contains("cluster_state:ok"))
                    .await;
            }
            Some(cluster)
        }

        /// Waits (up to 20 s) until `CLUSTER INFO` at `port` satisfies `ready`.
        async fn wait_for(&self, port: u16, ready: impl Fn(&str) -> bool) {
            let until = Instant::now() + Duration::from_secs(20);
            loop {
                if let Ok(info) = self
                    .node_cmd(port, redis::cmd("CLUSTER").arg("INFO"))
                    .await
                    .and_then(|v| redis::from_redis_value::<String>(v).map_err(Into::into))
                    && ready(&info)
                {
                    return;
                }
                assert!(
                    Instant::now() < until,
                    "the cluster node at {port} never got ready"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }

        /// The seed URLs a store is given.
        pub(crate) fn urls(&self) -> Vec<String> {
            self.ports
                .iter()
                .map(|p| format!("redis://127.0.0.1:{p}"))
                .collect()
        }

        /// One command at one node (not routed).
        pub(crate) async fn node_cmd(
            &self,
            port: u16,
            cmd: &redis::Cmd,
        ) -> redis::RedisResult<redis::Value> {
            let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
            let mut conn = client.get_multiplexed_async_connection().await?;
            cmd.query_async(&mut conn).await
        }

        /// Every key under the prefix on every node, with its node and remaining lifetime.
        pub(crate) async fn keys(&self) -> Vec<(u16, String, i64)> {
            let mut out = Vec::new();
            for &port in &self.ports {
                let v = self
                    .node_cmd(port, redis::cmd("KEYS").arg(format!("{}:*", self.prefix)))
                    .await
                    .unwrap();
                let keys: Vec<String> = redis::from_redis_value(v).unwrap();
                for k in keys {
                    let ttl = self
                        .node_cmd(port, redis::cmd("TTL").arg(&k))
                        .await
                        .unwrap();
                    out.push((port, k, redis::from_redis_value(ttl).unwrap()));
                }
            }
            out
        }

        /// Every string value under the prefix, as text.
        pub(crate) async fn values(&self) -> Vec<String> {
            let mut out = Vec::new();
            for (port, k, _) in self.keys().await {
                let v = self.node_cmd(port, redis::cmd("GET").arg(&k)).await;
                if let Ok(Some(v)) =
                    v.and_then(|v| redis::from_redis_value::<Option<String>>(v).map_err(Into::into))
                {
                    out.push(v);
                }
            }
            out
        }

        /// Closes every client connection at every node, as a failing network would.
        pub(crate) async fn kill_connections(&self) -> i64 {
            let mut killed = 0;
            for &port in &self.ports {
                for kind in ["pubsub", "normal"] {
                    // Our own admin connection goes too: it is made per command.
                    if let Ok(v) = self
                        .node_cmd(
                            port,
                            redis::cmd("CLIENT")
                                .arg("KILL")
                                .arg("TYPE")
                                .arg(kind)
                                .arg("SKIPME")
                                .arg("yes"),
                        )
                        .await
                    {
                        killed += redis::from_redis_value::<i64>(v).unwrap_or(0);
                    }
                }
            }
            killed
        }
    }

    impl Drop for RedisCluster {
        fn drop(&mut self) {
            for child in &mut self.children {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

#[cfg(feature = "postgres")]
pub(crate) mod pg_scope {
    use super::*;
    use netid::store::postgres::PgStore;

    pub(crate) fn postgres_url() -> String {
        std::env::var("NETID_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
    }

    /// A schema of its own, dropped (with everything in it) when the scope is dropped.
    pub(crate) struct PgScope {
        pub(crate) schema: String,
        pub(crate) admin: sqlx::PgPool,
    }

    impl PgScope {
        /// `None` (skip) when PostgreSQL is unreachable outside CI.
        pub(crate) async fn new() -> Option<Self> {
            let url = postgres_url();
            let admin = match sqlx::postgres::PgPoolOptions::new()
                .max_connections(2)
                .acquire_timeout(std::time::Duration::from_secs(5))
                .connect(&url)
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    skip_or_fail("PostgreSQL", &url, &e);
                    return None;
                }
            };
            Some(PgScope {
                schema: unique("t").to_lowercase(),
                admin,
            })
        }

        /// One application instance's store, migrated.
        pub(crate) async fn store(&self) -> PgStore {
            let store = PgStore::builder(postgres_url())
                .schema(&self.schema)
                .build()
                .unwrap();
            store.migrate().await.unwrap();
            store
        }

        /// Runs `sql` in the scope's schema (as the owner: triggers can be switched off).
        pub(crate) async fn exec(&self, sql: &str) -> Result<u64, sqlx::Error> {
            let mut tx = self.admin.begin().await?;
            sqlx::query(&format!("SET LOCAL search_path TO {}", self.schema))
                .execute(&mut *tx)
                .await?;
            let n = sqlx::query(sql).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok(n)
        }

        /// Every row of every table in the schema, as JSON text.
        pub(crate) async fn dump(&self) -> String {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
            )
            .bind(&self.schema)
            .fetch_all(&self.admin)
            .await
            .unwrap();
            let mut out = String::new();
            for t in tables {
                let rows: Vec<String> = sqlx::query_scalar(&format!(
                    "SELECT row_to_json(r)::text FROM {}.{t} r",
                    self.schema
                ))
                .fetch_all(&self.admin)
                .await
                .unwrap();
                out.push_str(&rows.join("\n"));
                out.push('\n');
            }
            out
        }
    }

    impl Drop for PgScope {
        fn drop(&mut self) {
            let schema = self.schema.clone();
            // Drop cannot await: a thread with a runtime of its own does it.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                // A connection of its own: the test's pool belongs to the test's runtime.
                rt.block_on(async {
                    use sqlx::Connection;
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_url()).await {
                        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                            .execute(&mut conn)
                            .await;
                    }
                });
            })
            .join();
        }
    }
}
