//! Retention against the real PostgreSQL (and Redis): expiry from the purpose in the rows
//! themselves, expired consents not live, a sweep that deletes exactly the expired rows and
//! leaves nothing of them, sweeps racing on two instances, withdrawal deleting sealed rows, the
//! migration of an older schema, and `netid sweep` end to end.
//!
//! Redis holds no consent or vault state (only the replay guard and session revocations, each
//! key with its own expiry): the login test checks that every key it left has a TTL and none
//! names the user.

use std::sync::Arc;
use std::time::Duration;

use netid::audit::{AuditAction, AuditLog, verify_log};
use netid::crypto::{DecryptionKey, PrivateKey};
use netid::erasure::{Erasure, SweepReport, Sweeper};
use netid::model::FieldName;
use netid::policy::{ConsentLedger, LoginFlow, SessionManager};
use netid::sandbox::{Persona, Sandbox};
use netid::store::postgres::PgStore;
use netid::store::{RetentionPolicy, Vault, VaultError};
use netid::{Actor, ErrorCode};

use crate::retention::{consent, fields, fields_request, login, now};
use crate::servers::pg_scope::{PgScope, postgres_url};

const DAY: u64 = 86_400;

fn sessions() -> SessionManager {
    SessionManager::builder("shop")
        .key("k1", &[5; 32])
        .build()
        .unwrap()
}

/// One scalar from `sql` (with `$1` = `arg`) in the scope's schema.
async fn scalar<T>(scope: &PgScope, sql: &str, arg: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    let mut tx = scope.admin.begin().await.unwrap();
    sqlx::query(&format!("SET LOCAL search_path TO {}", scope.schema))
        .execute(&mut *tx)
        .await
        .unwrap();
    let v = sqlx::query_scalar(sql)
        .bind(arg)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    v
}

/// Every row of `table`, as JSON text.
async fn rows(scope: &PgScope, table: &str) -> String {
    let rows: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT row_to_json(r)::text FROM {}.{table} r",
        scope.schema
    ))
    .fetch_all(&scope.admin)
    .await
    .unwrap();
    rows.join("\n")
}

#[tokio::test]
async fn consents_and_sealed_rows_carry_the_purpose_s_expiry_and_expired_ones_are_not_live() {
    let Some(scope) = PgScope::new().await else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.register_app("app_pg_expiry");
    let (a, b) = (Arc::new(scope.store().await), Arc::new(scope.store().await));
    let key = DecryptionKey::new(PrivateKey::generate());
    let vault_a = Vault::new(a.clone(), a.clone(), key.clone());
    let vault_b = Vault::new(b.clone(), b.clone(), key);
    let flow = LoginFlow::builder(sandbox.client_builder(&app).build().unwrap(), sessions())
        .request(fields_request("实名登记"))
        .consents(a.clone())
        .vault(vault_a.clone())
        .retention(RetentionPolicy::new().purpose("实名登记", Duration::from_secs(365 * DAY)))
        .build();
    let user = login(&flow, &sandbox, Persona::Adult).await;
    let subject = user.subject();

    // In the rows themselves: 365 days (31 536 000 s) from the grant, the same for both.
    let granted: i64 = scalar(
        &scope,
        "SELECT granted_at FROM netid_consents WHERE subject = $1",
        subject,
    )
    .await;
    let consent_expiry: i64 = scalar(
        &scope,
        "SELECT expires_at FROM netid_consents WHERE subject = $1",
        subject,
    )
    .await;
    let sealed_expiry: i64 = scalar(
        &scope,
        "SELECT expires_at FROM netid_sealed_fields WHERE subject = $1",
        subject,
    )
    .await;
    assert!(u64::try_from(granted).unwrap().abs_diff(now()) < 60);
    assert_eq!(consent_expiry, granted + 31_536_000);
    assert_eq!(sealed_expiry, consent_expiry);

    // B opens what A kept while the consent is live.
    let id = b.for_subject(subject).await.unwrap()[0].id.clone();
    assert!(vault_b.open(subject, &id).await.is_ok());
    // The sealed row's own expiry passing is enough to refuse it, at every instance.
    scope
        .exec(&format!(
            "UPDATE netid_sealed_fields SET expires_at = {} WHERE consent_id = '{id}'",
            now() - 1
        ))
        .await
        .unwrap();
    assert_eq!(
        vault_b.open(subject, &id).await.unwrap_err(),
        VaultError::NotFound
    );

    // A consent that has ended is not live anywhere.
    let t = now();
    a.record(consent("pw_old", "cr_old", t - 100, t - 1))
        .await
        .unwrap();
    assert!(
        b.live_consent("pw_old", FieldName::IdNumber, "实名登记", t)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        vault_b.open("pw_old", "cr_old").await.unwrap_err(),
        VaultError::NotLive
    );
    // One recorded with no expiry gets the default in the row: granted + 2 592 000.
    let mut undated = consent("pw_undated", "cr_u", t - 10, 0);
    undated.expires_at = None;
    a.record(undated).await.unwrap();
    let stored: i64 = scalar(
        &scope,
        "SELECT expires_at FROM netid_consents WHERE subject = $1",
        "pw_undated",
    )
    .await;
    assert_eq!(u64::try_from(stored).unwrap(), t - 10 + 2_592_000);
}

/// A login's data at two instances sharing PostgreSQL and Redis; a sweep at one deletes the
/// expired user's rows, and only theirs.
#[cfg(feature = "redis")]
#[tokio::test]
async fn a_sweep_deletes_exactly_the_expired_rows_and_leaves_nothing_of_them() {
    use crate::servers::redis_scope::RedisScope;
    use netid::pii::ExposeSecret;
    use netid::store::redis::RedisStore;

    let Some(pg) = PgScope::new().await else {
        return;
    };
    let Some(redis) = RedisScope::new().await else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.register_app("app_pg_sweep");
    let key = DecryptionKey::new(PrivateKey::generate());
    let policy = RetentionPolicy::new()
        .purpose("活动报名", Duration::from_secs(DAY))
        .purpose("实名登记", Duration::from_secs(365 * DAY));
    let r = Arc::new(
        RedisStore::builder(redis.url())
            .key_prefix(&redis.prefix)
            .connect()
            .await
            .unwrap(),
    );
    let (a, b) = (Arc::new(pg.store().await), Arc::new(pg.store().await));
    let vault_a = Vault::new(a.clone(), a.clone(), key.clone());
    let vault_b = Vault::new(b.clone(), b.clone(), key);
    let flow = |purpose: &str| {
        LoginFlow::builder(
            sandbox
                .client_builder(&app)
                .replay_guard(r.clone())
                .build()
                .unwrap(),
            SessionManager::builder("shop")
                .key("k1", &[5; 32])
                .revocations(r.clone())
                .build()
                .unwrap(),
        )
        .request(fields_request(purpose))
        .consents(a.clone())
        .audit(a.clone())
        .vault(vault_a.clone())
        .retention(policy.clone())
        .build()
    };
    // A one-day purpose and a one-year purpose.
    let short = login(&flow("活动报名"), &sandbox, Persona::Adult).await;
    let long = login(&flow("实名登记"), &sandbox, Persona::Senior67).await;
    let (short, long) = (short.subject().to_owned(), long.subject().to_owned());

    let short_id = b.for_subject(&short).await.unwrap()[0].id.clone();
    let opened = vault_b.open(&short, &short_id).await.unwrap();
    let kept = opened.get(b.as_ref()).await.unwrap();
    let name = kept.name.as_ref().unwrap().expose_secret().to_owned();
    let id_number = kept.id_number.as_ref().unwrap().expose_secret().to_owned();
    assert_eq!(name, Persona::Adult.name());
    let ciphertext: String = scalar(
        &pg,
        "SELECT encode(sealed, 'hex') FROM netid_sealed_fields WHERE subject = $1",
        &short,
    )
    .await;
    assert!(rows(&pg, "netid_sealed_fields").await.contains(&ciphertext));

    // Two days on: the one-day data has expired, the one-year data has not.
    let report = Sweeper::new(b.clone(), b.clone())
        .with_sealed(b.clone())
        .sweep(now() + 2 * DAY)
        .await
        .unwrap();
    assert_eq!(
        (report.sealed_records_erased, report.consents_erased),
        (1, 1)
    );

    // Nothing of the expired user in the consent or sealed tables: no row, no subject, no
    // ciphertext; no name or ID number anywhere in the database.
    for table in ["netid_consents", "netid_sealed_fields"] {
        let text = rows(&pg, table).await;
        assert!(!text.contains(&short), "{table}");
        assert!(text.contains(&long), "{table} keeps the live user");
        assert!(!text.contains(&ciphertext), "{table}");
    }
    let n: i64 = scalar(
        &pg,
        "SELECT (SELECT count(*) FROM netid_consents WHERE subject = $1) \
         + (SELECT count(*) FROM netid_sealed_fields WHERE subject = $1)",
        &short,
    )
    .await;
    assert_eq!(n, 0);
    let all = pg.dump().await;
    assert!(!all.contains(&name) && !all.contains(&id_number));
    assert_eq!(
        vault_a.open(&short, &short_id).await.unwrap_err(),
        VaultError::NotLive
    );
    // The live user's fields still open, at the other instance.
    let long_id = a.for_subject(&long).await.unwrap()[0].id.clone();
    let fields = vault_a.open(&long, &long_id).await.unwrap();
    assert_eq!(
        fields
            .get(a.as_ref())
            .await
            .unwrap()
            .name
            .as_ref()
            .unwrap()
            .expose_secret(),
        Persona::Senior67.name()
    );

    // Redis: nothing of either user, and every key ends by itself.
    let keys = redis.keys().await;
    assert!(!keys.is_empty(), "the logins left replay markers");
    for (k, ttl) in keys {
        assert!(ttl > 0, "{k} has no expiry");
        assert!(!k.contains(&short) && !k.contains(&long));
    }
    for v in redis.values().await {
        assert!(!v.contains(&short) && !v.contains(&name) && !v.contains(&id_number));
    }

    // The sweep is the chain's newest link.
    let head = verify_log(a.as_ref()).await.unwrap();
    assert_eq!(
        (head.last_seq, head.head.as_str()),
        (report.audit_seq, report.audit_hash.as_str())
    );
    let last = a.read(report.audit_seq, 1).await.unwrap().remove(0);
    assert_eq!(
        (
            last.event.action,
            last.event.subject.as_deref().unwrap_or_default()
        ),
        (AuditAction::RetentionSweep, "*")
    );
}

/// `n` expired and `live` live consents, each with a sealed row, straight into the tables.
async fn fill(scope: &PgScope, n: u32, live: u32) {
    let t = now();
    scope
        .exec(&format!(
            "INSERT INTO netid_consents \
             (subject, id, fields, purpose, legal_basis, granted_at, expires_at, withdrawn_at) \
             SELECT 'pw_' || i, 'cr_' || i, ARRAY['name', 'id_number'], '实名登记', NULL, {g}, \
             CASE WHEN i <= {n} THEN {g} + i ELSE {t} + 86400 END, NULL \
             FROM generate_series(1, {total}) i",
            g = t - 30 * DAY,
            total = n + live,
        ))
        .await
        .unwrap();
    scope
        .exec(
            "INSERT INTO netid_sealed_fields (subject, consent_id, sealed, stored_at, expires_at) \
             SELECT subject, id, sha256(id::bytea), granted_at, expires_at FROM netid_consents",
        )
        .await
        .unwrap();
}

async fn count(scope: &PgScope, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {}.{table}", scope.schema))
        .fetch_one(&scope.admin)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_sweeps_on_two_instances_delete_each_row_once_and_all_finish() {
    let Some(scope) = PgScope::new().await else {
        return;
    };
    let (a, b) = (Arc::new(scope.store().await), Arc::new(scope.store().await));
    // 2 500 expired (three batches' worth), 40 live.
    fill(&scope, 2_500, 40).await;
    let t = now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..4 {
        let pg = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.spawn(async move {
            Sweeper::new(pg.clone(), pg.clone())
                .with_sealed(pg)
                .sweep(t)
                .await
        });
    }
    let mut reports: Vec<SweepReport> = Vec::new();
    let all = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(r) = tasks.join_next().await {
            reports.push(r.unwrap().unwrap());
        }
    })
    .await;
    assert!(all.is_ok(), "a sweep did not finish");
    assert_eq!(reports.len(), 4);
    // Every expired row deleted once: the counts add up exactly.
    let sealed: usize = reports.iter().map(|r| r.sealed_records_erased).sum();
    let consents: usize = reports.iter().map(|r| r.consents_erased).sum();
    assert_eq!((sealed, consents), (2_500, 2_500));
    assert_eq!(count(&scope, "netid_consents").await, 40);
    assert_eq!(count(&scope, "netid_sealed_fields").await, 40);
    let left: i64 = scalar(
        &scope,
        "SELECT count(*) FROM netid_consents WHERE expires_at <= $1::bigint",
        &t.to_string(),
    )
    .await;
    assert_eq!(left, 0);
    // One entry per run, one chain.
    let head = verify_log(a.as_ref()).await.unwrap();
    assert_eq!(head.entries, 4);
    let mut seqs: Vec<u64> = reports.iter().map(|r| r.audit_seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, [1, 2, 3, 4]);
}

#[tokio::test]
async fn withdrawal_deletes_the_sealed_rows_and_a_cut_short_one_completes_when_run_again() {
    let Some(scope) = PgScope::new().await else {
        return;
    };
    let (a, b) = (Arc::new(scope.store().await), Arc::new(scope.store().await));
    let key = DecryptionKey::new(PrivateKey::generate());
    let vault_a = Vault::new(a.clone(), a.clone(), key.clone());
    let t = now();
    for id in ["cr_1", "cr_2", "cr_3"] {
        let c = consent("pw_w", id, t, t + DAY);
        a.record(c.clone()).await.unwrap();
        vault_a.keep(&c, &fields()).await.unwrap();
    }
    let sealed_for = |id: &'static str| {
        let scope = &scope;
        async move {
            scalar::<i64>(
                scope,
                "SELECT count(*) FROM netid_sealed_fields WHERE consent_id = $1",
                id,
            )
            .await
        }
    };
    assert_eq!(sealed_for("cr_1").await, 1);

    // Through the erasure at B: the row is deleted, the consent marked, the withdrawal recorded.
    let erasure = Erasure::new(sessions(), b.clone(), b.clone()).with_vault(Vault::new(
        b.clone(),
        b.clone(),
        key.clone(),
    ));
    let done = erasure.withdraw_consent("pw_w", "cr_1").await.unwrap();
    assert_eq!(
        (done.consent_withdrawn, done.sealed_records_erased),
        (true, 1)
    );
    assert_eq!(sealed_for("cr_1").await, 0);
    let withdrawn: Option<i64> = scalar(
        &scope,
        "SELECT withdrawn_at FROM netid_consents WHERE id = $1",
        "cr_1",
    )
    .await;
    assert!(withdrawn.is_some());
    let log = b.read(1, 10).await.unwrap();
    assert_eq!(
        (log.len(), log[0].event.action),
        (1, AuditAction::ConsentWithdrawn)
    );

    // Straight on the PostgreSQL ledger: the sealed row goes in the same transaction.
    assert!(b.withdraw("pw_w", "cr_2", now()).await.unwrap());
    assert_eq!(sealed_for("cr_2").await, 0);

    // The ledger down mid-way: the fields are gone, the consent not yet marked; run again.
    let down = Arc::new(
        PgStore::builder("postgres://postgres@127.0.0.1:1/test")
            .timeout(Duration::from_millis(200))
            .build()
            .unwrap(),
    );
    let half = Vault::new(a.clone(), down, key.clone());
    let e = half.withdraw("pw_w", "cr_3").await.unwrap_err();
    assert_eq!(e.actor(), Actor::RetryLater, "{e}");
    assert_eq!(sealed_for("cr_3").await, 0);
    assert!(
        a.live_consent("pw_w", FieldName::Name, "实名登记", now())
            .await
            .unwrap()
            .is_some_and(|c| c.id == "cr_3")
    );
    let done = vault_a.withdraw("pw_w", "cr_3").await.unwrap();
    assert_eq!(
        (done.consent_withdrawn, done.sealed_records_erased),
        (true, 0)
    );
    assert!(
        a.live_consent("pw_w", FieldName::Name, "实名登记", now())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(count(&scope, "netid_sealed_fields").await, 0);
}

/// A schema at migration 0001 with data in it, then `migrate`: every row gets an expiry, and
/// the fields of consents withdrawn earlier are deleted.
#[tokio::test]
async fn an_older_schema_migrates_and_its_rows_get_an_expiry() {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use std::str::FromStr;

    let Some(scope) = PgScope::new().await else {
        return;
    };
    // Migration 0001 alone, as an earlier netid applied it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/postgres/0001_netid.sql"
        ),
        dir.path().join("0001_netid.sql"),
    )
    .unwrap();
    sqlx::query(&format!("CREATE SCHEMA {}", scope.schema))
        .execute(&scope.admin)
        .await
        .unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(
            PgConnectOptions::from_str(&postgres_url())
                .unwrap()
                .options([("search_path", scope.schema.as_str())]),
        )
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(dir.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let t = now();
    scope
        .exec(&format!(
            "INSERT INTO netid_consents (subject, id, fields, purpose, granted_at, expires_at, \
             withdrawn_at) VALUES \
             ('pw_1', 'undated', ARRAY['name'], 'p', {g}, NULL, NULL), \
             ('pw_1', 'dated', ARRAY['name'], 'p', {g}, {e}, NULL), \
             ('pw_1', 'withdrawn', ARRAY['name'], 'p', {g}, NULL, {t})",
            g = t - 40 * DAY,
            e = t + DAY,
        ))
        .await
        .unwrap();
    scope
        .exec(&format!(
            "INSERT INTO netid_sealed_fields (subject, consent_id, sealed, stored_at) VALUES \
             ('pw_1', 'undated', '\\x01', {g}), ('pw_1', 'dated', '\\x02', {g}), \
             ('pw_1', 'withdrawn', '\\x03', {g}), ('pw_1', 'elsewhere', '\\x04', {s})",
            g = t - 40 * DAY,
            s = t - DAY,
        ))
        .await
        .unwrap();

    let store = scope.store().await; // applies the rest
    let expiry = |id: &'static str, table: &'static str, column: &'static str| {
        let scope = &scope;
        async move {
            scalar::<Option<i64>>(
                scope,
                &format!("SELECT max(expires_at) FROM {table} WHERE {column} = $1"),
                id,
            )
            .await
            .map(|e| u64::try_from(e).unwrap())
        }
    };
    let forty_days_ago = t - 40 * DAY;
    // Undated: the default, 30 days from the grant (so already over); dated: unchanged.
    assert_eq!(
        expiry("undated", "netid_consents", "id").await,
        Some(forty_days_ago + 2_592_000)
    );
    assert_eq!(expiry("dated", "netid_consents", "id").await, Some(t + DAY));
    // Sealed rows follow their consent; one kept under another ledger's consent gets the
    // default from when it was stored; the withdrawn consent's is gone.
    assert_eq!(
        expiry("undated", "netid_sealed_fields", "consent_id").await,
        Some(forty_days_ago + 2_592_000)
    );
    assert_eq!(
        expiry("dated", "netid_sealed_fields", "consent_id").await,
        Some(t + DAY)
    );
    assert_eq!(
        expiry("elsewhere", "netid_sealed_fields", "consent_id").await,
        Some(t - DAY + 2_592_000)
    );
    assert_eq!(
        expiry("withdrawn", "netid_sealed_fields", "consent_id").await,
        None
    );
    // No row can be without an expiry any more.
    assert!(
        scope
            .exec(
                "INSERT INTO netid_sealed_fields (subject, consent_id, sealed, stored_at) \
                 VALUES ('pw_2', 'x', '\\x05', 1)"
            )
            .await
            .is_err()
    );
    // The first sweep takes what the default ended.
    let report = Sweeper::new(Arc::new(store.clone()), Arc::new(store.clone()))
        .with_sealed(Arc::new(store))
        .sweep(t)
        .await
        .unwrap();
    assert_eq!(
        (report.sealed_records_erased, report.consents_erased),
        (1, 2),
        "undated (sealed and consent) and the withdrawn consent, granted 40 days ago"
    );
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn the_cli_sweeps_and_its_record_verifies() {
    use std::process::Command;

    let Some(scope) = PgScope::new().await else {
        return;
    };
    let url = postgres_url();
    let netid = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_netid"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let sweep = ["sweep", "--postgres", &url, "--schema", &scope.schema];

    // Before `migrate`: says what to do.
    let (code, _, err) = netid(&sweep);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.starts_with("error: store.misconfigured:"), "{err}");

    let (code, _, err) = netid(&["migrate", "--postgres", &url, "--schema", &scope.schema]);
    assert_eq!(code, Some(0), "{err}");
    fill(&scope, 3, 2).await;
    let before = now();
    let (code, out, err) = netid(&sweep);
    let after = now();
    assert_eq!(code, Some(0), "{err}");
    let rest = out
        .strip_prefix("ok: swept to ")
        .unwrap_or_else(|| panic!("{out}"));
    let (to, rest) = rest.split_once(": ").unwrap();
    let to: u64 = to.parse().unwrap();
    assert!((before..=after).contains(&to), "{out}");
    let (counts, head) = rest.split_once("; audit seq 1, head ").unwrap();
    assert_eq!(counts, "3 sealed records, 3 consents erased", "{out}");
    let head = head.strip_suffix('\n').unwrap();
    assert!(head.len() == 64 && head.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(count(&scope, "netid_consents").await, 2);
    assert_eq!(count(&scope, "netid_sealed_fields").await, 2);

    // Again: nothing more; the second run is the second entry, and the chain holds.
    let (code, out, _) = netid(&sweep);
    assert_eq!(code, Some(0));
    assert!(
        out.contains(": 0 sealed records, 0 consents erased; audit seq 2, head "),
        "{out}"
    );
    let (code, out, err) = netid(&[
        "audit",
        "verify",
        "--postgres",
        &url,
        "--schema",
        &scope.schema,
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("ok: 2 entries, last seq 2"), "{out}");

    // An unreachable database: exit 2, retryable code, no password.
    let (code, _, err) = netid(&["sweep", "--postgres", "postgres://u:hunter2@127.0.0.1:1/x"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("store.unavailable") && !err.contains("hunter2"),
        "{err}"
    );
}
