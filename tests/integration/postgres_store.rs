//! `PgStore` against the real PostgreSQL: migrations, the consent ledger across instances, one
//! audit chain from concurrent instances (and tampering caught), and deletion on request that
//! leaves nothing of the user behind.

use std::sync::Arc;
use std::time::Duration;

use netid::audit::{AuditAction, AuditError, AuditEvent, AuditLog, ChainError, verify_log};
use netid::client::{LegalBasis, VerificationRequest};
use netid::crypto::{DecryptionKey, PrivateKey};
use netid::erasure::Erasure;
use netid::model::{AuthzId, FieldName};
use netid::pii::ExposeSecret;
use netid::policy::{
    ConsentError, ConsentLedger, ConsentRecord, Consented, LoginFlow, LoginStatus, SessionManager,
};
use netid::sandbox::{Persona, Sandbox};
use netid::store::postgres::PgStore;
use netid::store::{StoreError, Vault, VaultError};
use netid::{Actor, ErrorCode};

use crate::servers::pg_scope::PgScope;

fn consent(subject: &str, id: &str) -> ConsentRecord {
    ConsentRecord {
        id: id.into(),
        subject: subject.into(),
        fields: vec![FieldName::Name, FieldName::IdNumber],
        purpose: "实名登记".into(),
        legal_basis: Some("《中华人民共和国网络安全法》第二十四条".into()),
        granted_at: 1_700_000_000,
        expires_at: Some(4_000_000_000),
        withdrawn_at: None,
    }
}

#[tokio::test]
async fn migrations_apply_once_even_from_racing_instances() {
    let Some(scope) = PgScope::new().await else {
        return;
    };
    let url = crate::servers::pg_scope::postgres_url();
    let a = PgStore::builder(&url)
        .schema(&scope.schema)
        .build()
        .unwrap();
    let b = PgStore::builder(&url)
        .schema(&scope.schema)
        .build()
        .unwrap();
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.unwrap();
    rb.unwrap();
    a.migrate().await.unwrap();
    let applied: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {}._sqlx_migrations",
        scope.schema
    ))
    .fetch_one(&scope.admin)
    .await
    .unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .filter(|f| {
            f.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".sql")
        })
        .count();
    assert_eq!(usize::try_from(applied).unwrap(), files);

    // Before migrations, a store says what to do, not what PostgreSQL said.
    let other = PgScope::new().await.unwrap();
    let bare = PgStore::builder(&url)
        .schema(&other.schema)
        .build()
        .unwrap();
    sqlx::query(&format!("CREATE SCHEMA {}", other.schema))
        .execute(&other.admin)
        .await
        .unwrap();
    let e = bare.for_subject("pw_1").await.unwrap_err();
    assert_eq!(e.code(), "store.misconfigured", "{e}");
    assert!(e.to_string().contains("migrate"), "{e}");
}

#[tokio::test]
async fn a_consent_given_at_one_instance_is_honoured_and_withdrawn_at_another() {
    let Some(scope) = PgScope::new().await else {
        return;
    };
    let (a, b) = (scope.store().await, scope.store().await);
    let c = consent("pw_alice", "cr_1");
    a.record(c.clone()).await.unwrap();
    assert_eq!(b.for_subject("pw_alice").await.unwrap(), vec![c.clone()]);
    let live = b
        .live_consent(
            "pw_alice",
            FieldName::IdNumber,
            "实名登记",
            crate::retention::now(),
        )
        .await
        .unwrap();
    assert_eq!(live.map(|c| c.id), Some("cr_1".to_owned()));

    let data = Consented::new("kept value", "pw_alice", "cr_1");
    assert_eq!(*data.get(&a).await.unwrap(), "kept value");
    assert!(b.withdraw("pw_alice", "cr_1", 1_800_000_000).await.unwrap());
    assert!(!a.withdraw("pw_alice", "cr_1", 1_800_000_001).await.unwrap());
    assert_eq!(data.get(&a).await.unwrap_err(), ConsentError::NotLive);
    let stored = a.for_subject("pw_alice").await.unwrap();
    assert_eq!(stored[0].withdrawn_at, Some(1_800_000_000));

    a.record(consent("pw_alice", "cr_2")).await.unwrap();
    a.record(consent("pw_alice", "cr_3")).await.unwrap();
    assert_eq!(b.withdraw_all("pw_alice", 1_800_000_002).await.unwrap(), 2);
    assert!(
        a.for_subject("pw_alice")
            .await
            .unwrap()
            .iter()
            .all(|c| c.withdrawn_at.is_some())
    );
}

fn event(i: usize) -> AuditEvent {
    AuditEvent::new(
        AuditAction::Verification,
        format!("pw_{}", i % 7),
        "verified",
        if i.is_multiple_of(2) {
            "netid"
        } else {
            "bank_card"
        },
    )
    .assurance(3)
    .authz_id(format!("az_{i}"))
    .token_sm3(&[u8::try_from(i % 256).unwrap(); 32])
}

/// A sealed record is handed out until its expiry at the time the vault gives (its clock, moved
/// by the test), and not after; the sweep deletes it.
#[tokio::test]
async fn sealed_fields_expire_at_the_time_the_vault_gives() {
    use netid::store::SealedFieldStore;
    let Some(scope) = PgScope::new().await else {
        return;
    };
    let pg = scope.store().await;
    const T: u64 = 1_800_000_000;
    pg.put("pw_exp", "cr_exp", b"sealed", T, T + 60)
        .await
        .unwrap();
    let at = |now| pg.get_at("pw_exp", "cr_exp", now);
    assert_eq!(at(T + 59).await.unwrap().as_deref(), Some(&b"sealed"[..]));
    assert_eq!(at(T + 60).await.unwrap(), None);
    assert_eq!(
        SealedFieldStore::sweep_expired(&pg, T + 60).await.unwrap(),
        1
    );
    assert_eq!(at(T).await.unwrap(), None);
}

#[tokio::test]
async fn concurrent_appends_from_two_instances_form_one_chain_and_tampering_is_caught() {
    let Some(scope) = PgScope::new().await else {
        return;
    };
    let (a, b) = (Arc::new(scope.store().await), Arc::new(scope.store().await));
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..8 {
        let log: Arc<dyn AuditLog> = if t % 2 == 0 { a.clone() } else { b.clone() };
        tasks.spawn(async move {
            for i in 0..25 {
                log.append(event(t * 100 + i)).await.unwrap();
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let head = verify_log(a.as_ref()).await.unwrap();
    assert_eq!((head.entries, head.last_seq), (200, 200));
    let entries = b.read(1, 1000).await.unwrap();
    assert_eq!(entries.len(), 200);
    assert!(entries.windows(2).all(|w| w[1].prev == w[0].hash));

    // Append-only: the table refuses edits and deletions outright…
    assert!(
        scope
            .exec("UPDATE netid_audit SET outcome = 'declined' WHERE seq = 5")
            .await
            .is_err()
    );
    assert!(
        scope
            .exec("DELETE FROM netid_audit WHERE seq = 5")
            .await
            .is_err()
    );
    assert!(scope.exec("TRUNCATE netid_audit").await.is_err());
    // …and whoever switches that off (the table's owner) is caught by the chain.
    scope
        .exec("ALTER TABLE netid_audit DISABLE TRIGGER USER")
        .await
        .unwrap();
    scope
        .exec("UPDATE netid_audit SET outcome = 'declined' WHERE seq = 57")
        .await
        .unwrap();
    match verify_log(a.as_ref()).await.unwrap_err() {
        AuditError::Chain(ChainError::Edited { seq }) => assert_eq!(seq, 57),
        other => panic!("expected an edit at 57, got {other:?}"),
    }
    scope
        .exec("UPDATE netid_audit SET outcome = 'verified' WHERE seq = 57")
        .await
        .unwrap();
    verify_log(a.as_ref()).await.unwrap();
    scope
        .exec("DELETE FROM netid_audit WHERE seq = 120")
        .await
        .unwrap();
    let e = verify_log(b.as_ref()).await.unwrap_err();
    assert!(
        matches!(e, AuditError::Chain(ChainError::Deleted { .. })),
        "{e:?}"
    );
    assert_eq!(e.actor(), Actor::SecurityEvent);
}

#[tokio::test]
async fn an_unreachable_database_fails_closed_with_a_retryable_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = PgStore::builder(format!("postgres://u:hunter2@127.0.0.1:{port}/db"))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let e = store.for_subject("pw_1").await.unwrap_err();
    assert!(matches!(e, StoreError::Unavailable { .. }), "{e:?}");
    assert_eq!(e.actor(), Actor::RetryLater);
    let e = store.append(event(1)).await.unwrap_err();
    assert_eq!(e.code(), "store.unavailable");
    assert!(!format!("{e} {e:?}").contains("hunter2"));
    let e = PgStore::builder("postgres://x/y")
        .schema("Bad-Name")
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "store.misconfigured");
}

/// Erasure leaves nothing of the user in any store, and holds across instances.
#[cfg(feature = "redis")]
#[tokio::test]
async fn erase_subject_leaves_nothing_behind_in_redis_or_postgres() {
    use crate::servers::redis_scope::RedisScope;
    use netid::store::redis::RedisStore;

    let Some(pg) = PgScope::new().await else {
        return;
    };
    let Some(redis) = RedisScope::new().await else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.register_app("app_erase");
    let vault_key = DecryptionKey::new(PrivateKey::generate());

    // Two instances sharing Redis and PostgreSQL.
    let mut instances = Vec::new();
    for _ in 0..2 {
        let r = Arc::new(
            RedisStore::builder(redis.url())
                .key_prefix(&redis.prefix)
                .connect()
                .await
                .unwrap(),
        );
        let p = Arc::new(pg.store().await);
        let client = sandbox
            .client_builder(&app)
            .replay_guard(r.clone())
            .build()
            .unwrap();
        let sessions = SessionManager::builder("shop")
            .key("k1", &[9; 32])
            .revocations(r)
            .build()
            .unwrap();
        let vault = Vault::new(p.clone(), p.clone(), vault_key.clone());
        let basis = LegalBasis::new(
            "《中华人民共和国网络安全法》第二十四条",
            [FieldName::Name, FieldName::IdNumber],
        )
        .unwrap();
        let flow = LoginFlow::builder(client, sessions.clone())
            .request(
                VerificationRequest::fields(
                    "实名登记",
                    [FieldName::Name, FieldName::IdNumber],
                    basis,
                )
                .unwrap(),
            )
            .consents(p.clone())
            .audit(p.clone())
            .vault(vault.clone())
            .build();
        let erasure = Erasure::new(sessions, p.clone(), p.clone()).with_vault(vault.clone());
        instances.push((flow, vault, erasure, p));
    }
    let (a, b) = (&instances[0], &instances[1]);

    // Log in at A with fields released under consent.
    let start = a.0.start().await.unwrap();
    sandbox
        .approve(&AuthzId::parse(&start.authz_id).unwrap(), Persona::Adult)
        .unwrap();
    let (user, session) = match a.0.poll(&start.browser_binding).await.unwrap() {
        LoginStatus::Completed { user, session } => (user, session),
        other => panic!("not completed: {other:?}"),
    };
    let subject = user.subject().to_owned();
    let consents = b.3.for_subject(&subject).await.unwrap();
    assert_eq!(consents.len(), 1);
    // B opens what A kept: the persona's real name, sealed at rest.
    let fields = b.1.open(&subject, &consents[0].id).await.unwrap();
    let kept = fields.get(b.3.as_ref()).await.unwrap();
    let name = kept.name.as_ref().unwrap().expose_secret().to_owned();
    let id_number = kept.id_number.as_ref().unwrap().expose_secret().to_owned();
    assert_eq!(name, Persona::Adult.name());
    let before = pg.dump().await;
    assert!(
        !before.contains(&name) && !before.contains(&id_number),
        "sealed at rest"
    );
    // The verification (the signed token kept, fields encrypted in it), then the consent.
    let log = b.3.read(1, 100).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        log[0].event.fields,
        vec![FieldName::Name, FieldName::IdNumber]
    );
    assert_eq!(
        log[0].event.consent_id.as_deref(),
        Some(consents[0].id.as_str())
    );
    assert!(log[0].event.token.is_some());
    assert_eq!(log[1].event.action, AuditAction::ConsentGranted);
    assert_eq!(
        log[1].event.consent_id.as_deref(),
        Some(consents[0].id.as_str())
    );

    // The user asks B to erase them.
    let receipt = b.2.erase_subject(&subject).await.unwrap();
    assert_eq!(
        (receipt.consents_withdrawn, receipt.sealed_records_erased),
        (1, 1)
    );
    assert_eq!(receipt.audit_seq, 3);

    // Nothing usable is left, at either instance.
    let e = a.0.sessions().authenticate(&session).await.unwrap_err();
    assert_eq!(e.code(), "netid.session_revoked");
    assert_eq!(a.1.count_for_subject(&subject).await.unwrap(), 0);
    assert_eq!(
        a.1.open(&subject, &consents[0].id).await.unwrap_err(),
        VaultError::NotLive
    );
    assert_eq!(
        fields.get(a.3.as_ref()).await.unwrap_err(),
        ConsentError::NotLive
    );
    assert!(
        a.3.for_subject(&subject)
            .await
            .unwrap()
            .iter()
            .all(|c| c.withdrawn_at.is_some())
    );
    let after = pg.dump().await;
    assert!(!after.contains(&name) && !after.contains(&id_number));
    assert!(!after.contains(hex::encode(name.as_bytes()).as_str()));
    let sealed_rows: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {}.netid_sealed_fields",
        pg.schema
    ))
    .fetch_one(&pg.admin)
    .await
    .unwrap();
    assert_eq!(sealed_rows, 0);
    for (k, _) in redis.keys().await {
        assert!(!k.contains(&subject));
    }
    for v in redis.values().await {
        assert!(!v.contains(&subject) && !v.contains(&name) && !v.contains(&id_number));
    }
    // The erasure is the chain's newest link, and the chain is whole.
    let head = verify_log(a.3.as_ref()).await.unwrap();
    assert_eq!(
        (head.last_seq, head.head.as_str()),
        (3, receipt.audit_hash.as_str())
    );
    let last = a.3.read(3, 1).await.unwrap().remove(0);
    assert_eq!(last.event.action, AuditAction::Erasure);

    // Erasing again is harmless and says nothing was left.
    let again = a.2.erase_subject(&subject).await.unwrap();
    assert_eq!(
        (again.consents_withdrawn, again.sealed_records_erased),
        (0, 0)
    );
}

#[tokio::test]
async fn an_erasure_interrupted_by_a_failing_store_completes_when_run_again() {
    let Some(scope) = PgScope::new().await else {
        return;
    };
    let good = Arc::new(scope.store().await);
    good.record(consent("pw_bob", "cr_b")).await.unwrap();
    let down = Arc::new(
        PgStore::builder("postgres://postgres@127.0.0.1:1/test")
            .timeout(Duration::from_millis(200))
            .build()
            .unwrap(),
    );
    let sessions = SessionManager::builder("shop")
        .key("k", &[4; 32])
        .build()
        .unwrap();
    // The ledger is down: the erasure stops with a retryable error and records nothing.
    let broken = Erasure::new(sessions.clone(), down, good.clone());
    let e = broken.erase_subject("pw_bob").await.unwrap_err();
    assert_eq!(e.actor(), Actor::RetryLater, "{e}");
    assert!(
        good.read(1, 10).await.unwrap().is_empty(),
        "no receipt for half an erasure"
    );
    assert!(
        good.for_subject("pw_bob").await.unwrap()[0]
            .withdrawn_at
            .is_none()
    );
    // Run again with the store back: done, once, and recorded.
    let receipt = Erasure::new(sessions, good.clone(), good.clone())
        .erase_subject("pw_bob")
        .await
        .unwrap();
    assert_eq!(receipt.consents_withdrawn, 1);
    assert_eq!(verify_log(good.as_ref()).await.unwrap().entries, 1);
    // A subject the log cannot record (here: an ID number) is refused before anything changes.
    let e = Erasure::new(
        SessionManager::builder("shop")
            .key("k", &[4; 32])
            .build()
            .unwrap(),
        good.clone(),
        good.clone(),
    )
    .erase_subject("11010519491231002X")
    .await
    .unwrap_err();
    assert_eq!(e.code(), "erasure.invalid_subject");
    assert!(!e.to_string().contains("11010519491231002X"));
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn the_cli_migrates_and_verifies_a_postgres_log() {
    use std::process::Command;
    let Some(scope) = PgScope::new().await else {
        return;
    };
    let url = crate::servers::pg_scope::postgres_url();
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
    let (code, out, err) = netid(&["migrate", "--postgres", &url, "--schema", &scope.schema]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("ok: migrations applied"), "{out}");
    // Idempotent.
    assert_eq!(
        netid(&["migrate", "--postgres", &url, "--schema", &scope.schema]).0,
        Some(0)
    );

    let store = PgStore::builder(&url)
        .schema(&scope.schema)
        .build()
        .unwrap();
    let mut last = None;
    for i in 0..3 {
        last = Some(store.append(event(i)).await.unwrap());
    }
    let last = last.unwrap();
    let verify = [
        "audit",
        "verify",
        "--postgres",
        &url,
        "--schema",
        &scope.schema,
    ];
    let (code, out, err) = netid(&verify);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        format!("ok: 3 entries, last seq 3, head {}\n", last.hash)
    );
    let anchor = format!("3:{}", last.hash);
    let mut anchored = verify.to_vec();
    anchored.extend(["--expect-head", &anchor]);
    assert_eq!(netid(&anchored).0, Some(0));

    scope
        .exec("ALTER TABLE netid_audit DISABLE TRIGGER USER")
        .await
        .unwrap();
    scope
        .exec("UPDATE netid_audit SET subject = 'pw_mallory' WHERE seq = 2")
        .await
        .unwrap();
    let (code, _, err) = netid(&verify);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.starts_with("error: audit.edited:"), "{err}");
    assert!(!err.contains("pw_mallory"), "{err}");

    let (code, _, err) = netid(&[
        "migrate",
        "--postgres",
        "postgres://u:hunter2@127.0.0.1:1/x",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("store.unavailable") && !err.contains("hunter2"),
        "{err}"
    );
}

/// A log of version 1 rows, as netid wrote them before migration 0002: the migration adds what
/// version 2 needs, the old rows still verify, new logins append version 2 entries that keep the
/// platform's signed token, and a token tampered with by the table's owner — the chain re-hashed
/// after it — is caught by the signature check (`netid audit verify --postgres … --keys`).
#[tokio::test]
async fn a_postgres_log_keeps_tokens_and_its_version_1_rows_still_verify() {
    use crate::audit_record::{assert_no_identity_data, flip_a_byte, flow, forge, login};
    use netid::audit::{TokenCheckError, TokenVerifier, verify_log_and_tokens};

    let Some(scope) = PgScope::new().await else {
        return;
    };
    let url = crate::servers::pg_scope::postgres_url();
    let store = PgStore::builder(&url)
        .schema(&scope.schema)
        .build()
        .unwrap();
    // Only migration 0001, as an earlier netid left the database.
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        manifest.join("migrations/postgres/0001_netid.sql"),
        dir.path().join("0001_netid.sql"),
    )
    .unwrap();
    sqlx::query(&format!("CREATE SCHEMA {}", scope.schema))
        .execute(&scope.admin)
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(dir.path())
        .await
        .unwrap()
        .run(store.pool())
        .await
        .unwrap();
    // Its rows: the version 1 fixture (made by an independent implementation).
    let fixture = std::fs::read_to_string(manifest.join("tests/data/audit-v1.jsonl")).unwrap();
    for line in fixture.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let fields: Vec<String> = serde_json::from_value(v["fields"].clone()).unwrap();
        sqlx::query(
            "INSERT INTO netid_audit (seq, prev, action, subject, outcome, method, assurance, \
             fields, consent_id, authz_id, token_sm3, at, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(v["seq"].as_i64())
        .bind(v["prev"].as_str())
        .bind(v["action"].as_str())
        .bind(v["subject"].as_str())
        .bind(v["outcome"].as_str())
        .bind(v["method"].as_str())
        .bind(v["assurance"].as_i64().map(|a| i16::try_from(a).unwrap()))
        .bind(fields)
        .bind(v["consent_id"].as_str())
        .bind(v["authz_id"].as_str())
        .bind(v["token_sm3"].as_str())
        .bind(v["at"].as_i64())
        .bind(v["hash"].as_str())
        .execute(store.pool())
        .await
        .unwrap();
    }
    store.migrate().await.unwrap();
    let head = verify_log(&store).await.unwrap();
    assert_eq!(
        (head.last_seq, head.head.as_str()),
        (
            4,
            "fb456101648792da658bd50576fb19cea67f5dd8207e5525162965a0a5558a0b"
        )
    );
    assert!(
        store
            .read(1, 10)
            .await
            .unwrap()
            .iter()
            .all(|e| e.version == 1)
    );

    // Logins through the sandbox append version 2 entries with the signed token.
    let sandbox = Sandbox::start().await.unwrap();
    let store = Arc::new(store);
    let flow = flow(
        &sandbox,
        store.clone(),
        VerificationRequest::verify_only("登录"),
        store.clone(),
    );
    login(&flow, &sandbox, Persona::Adult).await.unwrap();
    login(&flow, &sandbox, Persona::Minor13WithoutGuardian)
        .await
        .unwrap_err();
    let start = flow.start().await.unwrap();
    sandbox
        .approve(&AuthzId::parse(&start.authz_id).unwrap(), Persona::Declines)
        .unwrap();
    flow.poll(&start.browser_binding).await.unwrap_err();
    let entries = store.read(1, 100).await.unwrap();
    assert_eq!(entries.len(), 7);
    assert_eq!(
        entries
            .iter()
            .map(|e| (e.version, e.event.outcome.as_str(), e.event.token.is_some()))
            .collect::<Vec<_>>()[4..],
        [
            (2, "verified", true),
            (2, "not_verified", true),
            (2, "declined", false)
        ]
    );
    assert_eq!(entries[6].event.subject, None, "stored as NULL");
    let versions: Vec<Option<i16>> = sqlx::query_scalar(&format!(
        "SELECT v FROM {}.netid_audit ORDER BY seq",
        scope.schema
    ))
    .fetch_all(&scope.admin)
    .await
    .unwrap();
    assert_eq!(
        versions,
        [None, None, None, None, Some(2), Some(2), Some(2)]
    );
    let mut tokens = TokenVerifier::new(&sandbox.pinned_key_set());
    verify_log_and_tokens(store.as_ref(), None, &mut tokens)
        .await
        .unwrap();
    assert_eq!(tokens.checked(), 2);
    assert_no_identity_data(&entries);
    let dump = scope.dump().await;
    let detector = netid::detect::Detector::new();
    for row in dump.lines().filter(|l| !l.is_empty()) {
        assert!(
            !detector.scan_json(row.as_bytes()).unwrap().should_block(),
            "{row}"
        );
    }

    // The table's owner flips a byte of the first token and re-hashes the chain after it.
    let mut forged = entries.clone();
    forge(&mut forged, 5, flip_a_byte);
    scope
        .exec("ALTER TABLE netid_audit DISABLE TRIGGER USER")
        .await
        .unwrap();
    for e in &forged[4..] {
        let mut tx = scope.admin.begin().await.unwrap();
        sqlx::query(&format!(
            "UPDATE {}.netid_audit SET prev = $2, token = $3, token_sm3 = $4, hash = $5 \
             WHERE seq = $1",
            scope.schema
        ))
        .bind(i64::try_from(e.seq).unwrap())
        .bind(&e.prev)
        .bind(&e.event.token)
        .bind(&e.event.token_sm3)
        .bind(&e.hash)
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    // The chain alone is perfect again; the signature is not.
    assert_eq!(verify_log(store.as_ref()).await.unwrap().last_seq, 7);
    let mut tokens = TokenVerifier::new(&sandbox.pinned_key_set());
    let e = verify_log_and_tokens(store.as_ref(), None, &mut tokens)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            AuditError::Token(TokenCheckError::Invalid { seq: 5, .. })
        ),
        "{e:?}"
    );

    #[cfg(feature = "cli")]
    {
        let dir = tempfile::tempdir().unwrap();
        let jwks = dir.path().join("jwks.json");
        std::fs::write(&jwks, sandbox.jwks()).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_netid"))
            .args([
                "audit",
                "verify",
                "--postgres",
                &url,
                "--schema",
                &scope.schema,
                "--keys",
                jwks.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("error: audit.token_invalid: the token kept in audit entry 5 "),
            "{err}"
        );
        // Put back as it was: the CLI verifies the chain and both signatures.
        for e in &entries[4..] {
            sqlx::query(&format!(
                "UPDATE {}.netid_audit SET prev = $2, token = $3, token_sm3 = $4, hash = $5 \
                 WHERE seq = $1",
                scope.schema
            ))
            .bind(i64::try_from(e.seq).unwrap())
            .bind(&e.prev)
            .bind(&e.event.token)
            .bind(&e.event.token_sm3)
            .bind(&e.hash)
            .execute(&scope.admin)
            .await
            .unwrap();
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_netid"))
            .args([
                "audit",
                "verify",
                "--postgres",
                &url,
                "--schema",
                &scope.schema,
                "--keys",
                jwks.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout)
                .ends_with("\nok: 2 signed result tokens verified\n"),
            "{out:?}"
        );
    }
}

/// 协助义务 (the Q&A, part 四) on the shared PostgreSQL log: `netid audit find --postgres` gives
/// an authorization with the platform's signed answer, and a subject's entries, from a log it
/// checked whole; an edited row answers nothing.
#[cfg(feature = "cli")]
#[tokio::test]
async fn audit_find_searches_a_checked_postgres_log() {
    use crate::audit_record::flow;
    use std::process::Command;

    let Some(scope) = PgScope::new().await else {
        return;
    };
    let url = crate::servers::pg_scope::postgres_url();
    let store = Arc::new(
        PgStore::builder(&url)
            .schema(&scope.schema)
            .build()
            .unwrap(),
    );
    store.migrate().await.unwrap();
    let sandbox = Sandbox::start().await.unwrap();
    let flow = flow(
        &sandbox,
        store.clone(),
        VerificationRequest::verify_only("登录"),
        store.clone(),
    );
    let mut ids = Vec::new();
    let mut subjects = Vec::new();
    for persona in [Persona::Adult, Persona::Senior67, Persona::Adult] {
        let start = flow.start().await.unwrap();
        sandbox
            .approve(&AuthzId::parse(&start.authz_id).unwrap(), persona)
            .unwrap();
        let LoginStatus::Completed { user, .. } = flow.poll(&start.browser_binding).await.unwrap()
        else {
            panic!("{persona} signs in")
        };
        ids.push(start.authz_id.clone());
        subjects.push(user.subject().to_owned());
    }
    assert_eq!(subjects[0], subjects[2], "one adult, two sign-ins");
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, sandbox.jwks()).unwrap();
    let netid = |extra: &[&str]| {
        let mut args = vec![
            "audit",
            "find",
            "--postgres",
            &url,
            "--schema",
            &scope.schema,
            "--keys",
            jwks.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_netid"))
            .args(&args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    let (code, out, err) = netid(&["--authorization", &ids[1]]);
    assert_eq!(code, Some(0), "{err}");
    let found: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(found.len(), 1, "{out}");
    assert_eq!(found[0]["authz_id"], ids[1].as_str());
    assert_eq!(found[0]["subject"], subjects[1].as_str());
    assert_eq!(found[0]["outcome"], "verified");
    assert!(
        found[0]["token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3)
    );
    assert!(err.contains("ok: 1 matching entries; 3 entries"), "{err}");
    assert!(err.contains("ok: 3 signed result tokens verified"), "{err}");

    let (code, out, err) = netid(&["--subject", &subjects[0]]);
    assert_eq!(code, Some(0), "{err}");
    let authz: Vec<String> = out
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["authz_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(authz, [ids[0].clone(), ids[2].clone()]);

    // The handover, recorded, is read back from PostgreSQL and found with the rest.
    store
        .append(
            AuditEvent::new(
                AuditAction::Disclosure,
                subjects[0].as_str(),
                "disclosed",
                "authority_request",
            )
            .authz_id(ids[0].as_str()),
        )
        .await
        .unwrap();
    let (code, out, err) = netid(&["--authorization", &ids[0]]);
    assert_eq!(code, Some(0), "{err}");
    let actions: Vec<String> = out
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["action"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(actions, ["verification", "disclosure"]);

    // Someone with the database's owner rights edits a row: nothing is answered.
    scope
        .exec("ALTER TABLE netid_audit DISABLE TRIGGER USER")
        .await
        .unwrap();
    scope
        .exec("UPDATE netid_audit SET outcome = 'declined' WHERE seq = 1")
        .await
        .unwrap();
    let (code, out, err) = netid(&["--authorization", &ids[2]]);
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.starts_with("error: audit.edited:"), "{err}");
}
