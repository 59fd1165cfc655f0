//! Shared state on the real servers: replay-guard checks against Redis from two instances, and
//! audit appends to PostgreSQL, each beside a reference measured in the same run on the same
//! server (a bare `SET NX`; a bare `INSERT`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use netid::audit::{AuditAction, AuditEvent, AuditLog};
use netid::store::postgres::PgStore;
use netid::store::redis::RedisStore;
use netid::store::{ReplayGuard, ReplayKind};

const CONCURRENCY: usize = 32;

fn redis_url() -> String {
    std::env::var("NETID_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn pg_url() -> String {
    std::env::var("NETID_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

static NEXT: AtomicU64 = AtomicU64::new(0);

/// Runs `n` operations spread over `CONCURRENCY` tasks, alternating two instances.
async fn spread<F, Fut>(n: u64, op: F) -> Duration
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let per = n.div_ceil(CONCURRENCY as u64);
    for t in 0..CONCURRENCY {
        let op = op.clone();
        tasks.spawn(async move {
            for _ in 0..per {
                op(t % 2, NEXT.fetch_add(1, Ordering::Relaxed)).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    start
        .elapsed()
        .mul_f64(n as f64 / (per * CONCURRENCY as u64) as f64)
}

fn redis_replay(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let prefix = format!("bench_{}", std::process::id());
    let stores: Arc<[RedisStore; 2]> = Arc::new(rt.block_on(async {
        [
            RedisStore::builder(redis_url())
                .key_prefix(&prefix)
                .connect()
                .await
                .unwrap(),
            RedisStore::builder(redis_url())
                .key_prefix(&prefix)
                .connect()
                .await
                .unwrap(),
        ]
    }));
    let raw = rt.block_on(async {
        redis::Client::open(redis_url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    });
    let mut g = c.benchmark_group("redis_replay");
    g.throughput(Throughput::Elements(1));
    g.bench_function("first_use_two_instances_32_concurrent", |b| {
        b.to_async(&rt).iter_custom(|n| {
            let stores = stores.clone();
            async move {
                spread(n, move |i, k| {
                    let s = stores[i].clone();
                    async move {
                        let v = format!("az-{k}");
                        assert!(
                            s.first_use(ReplayKind::Authorization, &v, Duration::from_secs(60))
                                .await
                                .unwrap()
                        );
                    }
                })
                .await
            }
        })
    });
    // The reference: the bare command a replay check needs, on one multiplexed connection.
    g.bench_function("reference_set_nx_ex_32_concurrent", |b| {
        b.to_async(&rt).iter_custom(|n| {
            let raw = raw.clone();
            let prefix = prefix.clone();
            async move {
                spread(n, move |_, k| {
                    let mut conn = raw.clone();
                    let key = format!("{prefix}:raw:{k}");
                    async move {
                        let _: Option<String> = redis::cmd("SET")
                            .arg(key)
                            .arg(1)
                            .arg("NX")
                            .arg("EX")
                            .arg(60)
                            .query_async(&mut conn)
                            .await
                            .unwrap();
                    }
                })
                .await
            }
        })
    });
    g.finish();
}

fn pg_audit(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let schema = format!("bench_{}", std::process::id());
    let stores: Arc<[PgStore; 2]> = Arc::new(rt.block_on(async {
        let a = PgStore::builder(pg_url()).schema(&schema).build().unwrap();
        a.migrate().await.unwrap();
        let b = PgStore::builder(pg_url()).schema(&schema).build().unwrap();
        sqlx::query(&format!(
            "CREATE TABLE {schema}.plain (id bigserial PRIMARY KEY, subject text, outcome text, at bigint)"
        ))
        .execute(a.pool())
        .await
        .unwrap();
        [a, b]
    }));
    let event = |k: u64| {
        AuditEvent::new(
            AuditAction::Verification,
            format!("pw_{k}"),
            "verified",
            "netid",
        )
        .assurance(3)
        .authz_id(format!("az_{k}"))
        .token_sm3(&[7; 32])
    };
    let mut g = c.benchmark_group("pg_audit");
    g.throughput(Throughput::Elements(1));
    g.bench_function("append_two_instances_32_concurrent", |b| {
        b.to_async(&rt).iter_custom(|n| {
            let stores = stores.clone();
            async move {
                spread(n, move |i, k| {
                    let s = stores[i].clone();
                    async move {
                        s.append(event(k)).await.unwrap();
                    }
                })
                .await
            }
        })
    });
    g.bench_function("reference_plain_insert_32_concurrent", |b| {
        b.to_async(&rt).iter_custom(|n| {
            let stores = stores.clone();
            let schema = schema.clone();
            async move {
                spread(n, move |i, k| {
                    let s = stores[i].clone();
                    let sql = format!(
                        "INSERT INTO {schema}.plain (subject, outcome, at) VALUES ($1, 'verified', $2)"
                    );
                    async move {
                        sqlx::query(&sql)
                            .bind(format!("pw_{k}"))
                            .bind(i64::try_from(k).unwrap())
                            .execute(s.pool())
                            .await
                            .unwrap();
                    }
                })
                .await
            }
        })
    });
    g.finish();
    rt.block_on(async {
        let head = netid::audit::verify_log(&stores[0]).await.unwrap();
        eprintln!(
            "audit chain after the bench: {} entries, verified",
            head.entries
        );
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(stores[0].pool())
            .await
            .unwrap();
    });
}

criterion_group!(benches, redis_replay, pg_audit);
criterion_main!(benches);
