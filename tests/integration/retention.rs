//! Retention with the in-memory stores (PIPL Art. 19, Art. 47 §1 items 2–3): a consent's expiry
//! comes from its purpose, the fields kept under it expire with it, an expired consent is not
//! live, a withdrawal deletes the fields, and a sweep deletes exactly what has expired and
//! records itself. The same against PostgreSQL and Redis: `postgres_retention.rs`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use netid::audit::{AuditAction, AuditLog, InMemoryAuditLog, verify_log};
use netid::client::{LegalBasis, VerificationRequest};
use netid::crypto::{DecryptionKey, PrivateKey};
use netid::erasure::{Erasure, Sweeper};
use netid::model::{AuthzId, FieldName, IdentityFields};
use netid::pii::{ExposeSecret, IdNumber, PersonalName};
use netid::policy::{
    ConsentError, ConsentLedger, ConsentRecord, Consented, InMemoryConsentLedger, LoginFlow,
    LoginStatus, SessionManager, VerifiedUser,
};
use netid::sandbox::{Persona, Sandbox};
use netid::store::{
    InMemorySealedFields, RetentionPolicy, SealedFieldStore, StoreError, Vault, VaultError,
};
use netid::{Actor, ErrorCode};

const DAY: u64 = 86_400;

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub(crate) fn consent(subject: &str, id: &str, granted_at: u64, expires_at: u64) -> ConsentRecord {
    ConsentRecord {
        id: id.into(),
        subject: subject.into(),
        fields: vec![FieldName::Name, FieldName::IdNumber],
        purpose: "实名登记".into(),
        legal_basis: Some("《中华人民共和国反洗钱法》第二十八条".into()),
        granted_at,
        expires_at: Some(expires_at),
        withdrawn_at: None,
    }
}

pub(crate) fn fields() -> IdentityFields {
    let mut f = IdentityFields::default();
    f.name = Some(PersonalName::new("张三"));
    f.id_number = Some(IdNumber::new("11010519491231002X"));
    f
}

/// A fields request for `purpose`, under a statute.
pub(crate) fn fields_request(purpose: &str) -> VerificationRequest {
    let basis = LegalBasis::new(
        "《中华人民共和国反洗钱法》第二十八条",
        [FieldName::Name, FieldName::IdNumber],
    )
    .unwrap();
    VerificationRequest::fields(purpose, [FieldName::Name, FieldName::IdNumber], basis).unwrap()
}

/// Logs `persona` in through `flow` at the sandbox.
pub(crate) async fn login(flow: &LoginFlow, sandbox: &Sandbox, persona: Persona) -> VerifiedUser {
    let start = flow.start().await.unwrap();
    sandbox
        .approve(&AuthzId::parse(&start.authz_id).unwrap(), persona)
        .unwrap();
    match flow.poll(&start.browser_binding).await.unwrap() {
        LoginStatus::Completed { user, .. } => user,
        other => panic!("not completed: {other:?}"),
    }
}

struct Stores {
    ledger: Arc<InMemoryConsentLedger>,
    sealed: Arc<InMemorySealedFields>,
    audit: Arc<InMemoryAuditLog>,
    vault: Vault,
}

fn stores() -> Stores {
    let ledger = Arc::new(InMemoryConsentLedger::default());
    let sealed = Arc::new(InMemorySealedFields::new());
    let vault = Vault::new(
        sealed.clone(),
        ledger.clone(),
        DecryptionKey::new(PrivateKey::generate()),
    );
    Stores {
        ledger,
        sealed,
        audit: Arc::new(InMemoryAuditLog::new()),
        vault,
    }
}

fn sessions() -> SessionManager {
    SessionManager::builder("shop")
        .key("k1", &[3; 32])
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_login_records_its_consent_and_fields_with_the_purpose_s_period() {
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.register_app("app_retention");
    let s = stores();
    let flow = |purpose: &str, policy: RetentionPolicy| {
        LoginFlow::builder(sandbox.client_builder(&app).build().unwrap(), sessions())
            .request(fields_request(purpose))
            .consents(s.ledger.clone())
            .vault(s.vault.clone())
            .retention(policy)
            .build()
    };
    let policy = RetentionPolicy::new().purpose("实名登记", Duration::from_secs(180 * DAY));

    // A stated purpose: 180 days from the platform's grant.
    let user = login(&flow("实名登记", policy.clone()), &sandbox, Persona::Adult).await;
    let recorded = s.ledger.for_subject(user.subject()).await.unwrap();
    assert_eq!(recorded.len(), 1);
    let c = &recorded[0];
    assert!(c.granted_at.abs_diff(now()) < 60, "granted just now");
    assert_eq!(c.expires_at, Some(c.granted_at + 15_552_000));
    // The fields expire with the consent, to the second: a sweep one second before leaves them,
    // one at the expiry takes them and the consent.
    let sweeper = Sweeper::new(s.ledger.clone(), s.audit.clone()).with_sealed(s.sealed.clone());
    let early = sweeper.sweep(c.granted_at + 15_552_000 - 1).await.unwrap();
    assert_eq!((early.sealed_records_erased, early.consents_erased), (0, 0));
    assert_eq!(s.vault.count_for_subject(user.subject()).await.unwrap(), 1);
    let due = sweeper.sweep(c.granted_at + 15_552_000).await.unwrap();
    assert_eq!((due.sealed_records_erased, due.consents_erased), (1, 1));
    assert_eq!(s.vault.count_for_subject(user.subject()).await.unwrap(), 0);
    assert!(
        s.ledger
            .for_subject(user.subject())
            .await
            .unwrap()
            .is_empty()
    );

    // A purpose the policy does not name: the default, 30 days (2 592 000 s).
    let other = login(&flow("抽奖兑奖", policy), &sandbox, Persona::Senior67).await;
    let c = &s.ledger.for_subject(other.subject()).await.unwrap()[0];
    assert_eq!(c.purpose, "抽奖兑奖");
    assert_eq!(c.expires_at, Some(c.granted_at + 2_592_000));
}

#[tokio::test]
async fn an_expired_consent_is_not_live_and_expired_fields_cannot_be_opened() {
    let s = stores();
    let t = now();
    // Kept while live…
    let c = consent("pw_a", "cr_1", t - 10, t + 3600);
    s.ledger.record(c.clone()).await.unwrap();
    s.vault.keep(&c, &fields()).await.unwrap();
    assert_eq!(
        s.vault
            .open("pw_a", "cr_1")
            .await
            .unwrap()
            .get(s.ledger.as_ref())
            .await
            .unwrap()
            .id_number
            .as_ref()
            .unwrap()
            .expose_secret(),
        "11010519491231002X"
    );
    // …and once the consent has expired (recorded again, ended a second ago) nothing is live.
    s.ledger
        .record(consent("pw_a", "cr_1", t - 10, t - 1))
        .await
        .unwrap();
    assert!(
        s.ledger
            .live_consent("pw_a", FieldName::IdNumber, "实名登记", t)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        Consented::new((), "pw_a", "cr_1")
            .get(s.ledger.as_ref())
            .await
            .unwrap_err(),
        ConsentError::NotLive
    );
    assert_eq!(
        s.vault.open("pw_a", "cr_1").await.unwrap_err(),
        VaultError::NotLive
    );
    // Nothing new is kept under it.
    let expired = consent("pw_a", "cr_1", t - 10, t - 1);
    assert_eq!(
        s.vault.keep(&expired, &fields()).await.unwrap_err(),
        VaultError::NotLive
    );

    // A record whose own expiry has passed is not handed out even under a live consent.
    s.ledger
        .record(consent("pw_b", "cr_2", t, t + 3600))
        .await
        .unwrap();
    s.sealed
        .put("pw_b", "cr_2", b"ciphertext", t - 100, t - 1)
        .await
        .unwrap();
    assert_eq!(
        s.vault.open("pw_b", "cr_2").await.unwrap_err(),
        VaultError::NotFound
    );

    // A consent recorded without an expiry ends after the default period from its grant: one
    // granted 31 days ago is over, one granted 29 days ago is not.
    for (id, days_ago, live) in [("cr_old", 31, false), ("cr_new", 29, true)] {
        let mut c = consent("pw_c", id, t - days_ago * DAY, 0);
        c.expires_at = None;
        s.ledger.record(c).await.unwrap();
        let stored = s.ledger.for_subject("pw_c").await.unwrap();
        let stored = stored.iter().find(|c| c.id == id).unwrap();
        assert_eq!(stored.expires_at, Some(t - days_ago * DAY + 30 * DAY));
        assert_eq!(stored.is_live(t), live, "{id}");
    }
}

#[tokio::test]
async fn withdrawal_deletes_the_sealed_fields_and_is_recorded_once() {
    let s = stores();
    let t = now();
    for id in ["cr_1", "cr_2"] {
        let c = consent("pw_a", id, t, t + 3600);
        s.ledger.record(c.clone()).await.unwrap();
        s.vault.keep(&c, &fields()).await.unwrap();
    }
    let erasure =
        Erasure::new(sessions(), s.ledger.clone(), s.audit.clone()).with_vault(s.vault.clone());
    let done = erasure.withdraw_consent("pw_a", "cr_1").await.unwrap();
    assert_eq!(
        (done.consent_withdrawn, done.sealed_records_erased),
        (true, 1)
    );
    // Deleted, not locked: the store holds only the other consent's record.
    assert_eq!(s.vault.count_for_subject("pw_a").await.unwrap(), 1);
    assert!(s.sealed.get("pw_a", "cr_1").await.unwrap().is_none());
    assert!(s.sealed.get("pw_a", "cr_2").await.unwrap().is_some());
    let stored = s.ledger.for_subject("pw_a").await.unwrap();
    assert!(
        stored
            .iter()
            .any(|c| c.id == "cr_1" && c.withdrawn_at.is_some())
    );
    let log = s.audit.read(1, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].event.action, AuditAction::ConsentWithdrawn);
    assert_eq!(log[0].event.consent_id.as_deref(), Some("cr_1"));
    assert_eq!(log[0].event.subject.as_deref(), Some("pw_a"));

    // Again: nothing left to do, nothing recorded twice.
    let again = erasure.withdraw_consent("pw_a", "cr_1").await.unwrap();
    assert_eq!(
        (again.consent_withdrawn, again.sealed_records_erased),
        (false, 0)
    );
    assert_eq!(s.audit.read(1, 10).await.unwrap().len(), 1);

    // An id the log cannot hold is refused before anything changes.
    let e = erasure.withdraw_consent("pw_a", "cr 2").await.unwrap_err();
    assert_eq!(e.code(), "erasure.invalid_consent_id");
    assert_eq!(s.vault.count_for_subject("pw_a").await.unwrap(), 1);
}

/// A ledger whose withdrawals fail until switched back on.
struct Flaky {
    inner: InMemoryConsentLedger,
    down: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl ConsentLedger for Flaky {
    async fn record(&self, c: ConsentRecord) -> Result<(), StoreError> {
        self.inner.record(c).await
    }
    async fn withdraw(&self, s: &str, id: &str, at: u64) -> Result<bool, StoreError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::unavailable("flaky", "down"));
        }
        self.inner.withdraw(s, id, at).await
    }
    async fn for_subject(&self, s: &str) -> Result<Vec<ConsentRecord>, StoreError> {
        self.inner.for_subject(s).await
    }
    async fn withdraw_all(&self, s: &str, at: u64) -> Result<usize, StoreError> {
        self.inner.withdraw_all(s, at).await
    }
    async fn sweep_expired(&self, now: u64) -> Result<usize, StoreError> {
        self.inner.sweep_expired(now).await
    }
}

#[tokio::test]
async fn a_withdrawal_cut_short_leaves_nothing_readable_and_completes_when_run_again() {
    let ledger = Arc::new(Flaky {
        inner: InMemoryConsentLedger::default(),
        down: true.into(),
    });
    let sealed = Arc::new(InMemorySealedFields::new());
    let vault = Vault::new(
        sealed.clone(),
        ledger.clone(),
        DecryptionKey::new(PrivateKey::generate()),
    );
    let t = now();
    let c = consent("pw_a", "cr_1", t, t + 3600);
    ledger.record(c.clone()).await.unwrap();
    vault.keep(&c, &fields()).await.unwrap();

    let e = vault.withdraw("pw_a", "cr_1").await.unwrap_err();
    assert_eq!(e.actor(), Actor::RetryLater, "{e}");
    // The fields went first: nothing to read, though the consent is not marked yet.
    assert_eq!(sealed.count_for_subject("pw_a").await.unwrap(), 0);
    assert_eq!(
        vault.open("pw_a", "cr_1").await.unwrap_err(),
        VaultError::NotFound
    );
    ledger
        .down
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let done = vault.withdraw("pw_a", "cr_1").await.unwrap();
    assert_eq!(
        (done.consent_withdrawn, done.sealed_records_erased),
        (true, 0),
        "the retry withdraws; the fields were gone already"
    );
    assert!(
        ledger.for_subject("pw_a").await.unwrap()[0]
            .withdrawn_at
            .is_some()
    );
}

#[tokio::test]
async fn a_sweep_deletes_exactly_what_expired_and_records_one_entry_per_run() {
    let s = stores();
    let t = now();
    // Expired (at or before t), and not (after t); one withdrawn but not expired.
    let rows = [
        ("pw_a", "cr_1", t - 5 * DAY, true),
        ("pw_a", "cr_2", t, true),
        ("pw_b", "cr_3", t + 1, false),
        ("pw_c", "cr_4", t + 90 * DAY, false),
    ];
    for (subject, id, expires_at, _) in rows {
        // Sealed while live: kept with a consent that ends later, then recorded with its end.
        let c = consent(subject, id, t - 10 * DAY, t + 100 * DAY);
        s.ledger.record(c.clone()).await.unwrap();
        s.sealed
            .put(subject, id, b"ciphertext", t - 10 * DAY, expires_at)
            .await
            .unwrap();
        s.ledger
            .record(consent(subject, id, t - 10 * DAY, expires_at))
            .await
            .unwrap();
    }
    assert!(s.ledger.withdraw("pw_c", "cr_4", t).await.unwrap());

    let sweeper = Sweeper::new(s.ledger.clone(), s.audit.clone()).with_sealed(s.sealed.clone());
    let report = sweeper.sweep(t).await.unwrap();
    assert_eq!(
        (
            report.swept_to,
            report.sealed_records_erased,
            report.consents_erased
        ),
        (t, 2, 2)
    );
    for (subject, id, _, expired) in rows {
        let kept = s
            .ledger
            .for_subject(subject)
            .await
            .unwrap()
            .iter()
            .any(|c| c.id == id);
        assert_eq!(kept, !expired, "{id}");
        assert_eq!(
            s.sealed.count_for_subject(subject).await.unwrap() > 0,
            !expired,
            "{id}"
        );
    }
    // One entry per run, at the sweep's time, about no one user.
    let log = s.audit.read(1, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    let e = &log[0].event;
    assert_eq!(
        (
            e.action,
            e.subject.as_deref().unwrap_or_default(),
            e.outcome.as_str(),
            e.at
        ),
        (AuditAction::RetentionSweep, "*", "swept", t)
    );
    assert_eq!(
        (report.audit_seq, report.audit_hash.as_str()),
        (1, log[0].hash.as_str())
    );

    // Again: nothing more, and a second entry.
    let again = sweeper.sweep(t).await.unwrap();
    assert_eq!((again.sealed_records_erased, again.consents_erased), (0, 0));
    assert_eq!(verify_log(s.audit.as_ref()).await.unwrap().entries, 2);

    // A time the log cannot record (after 9999) is refused before anything is deleted.
    let e = sweeper.sweep(253_402_300_800).await.unwrap_err();
    assert_eq!(e.code(), "erasure.invalid_time");
    assert_eq!(s.sealed.count_for_subject("pw_b").await.unwrap(), 1);
    assert_eq!(verify_log(s.audit.as_ref()).await.unwrap().entries, 2);

    // `Erasure::sweep_expired` is the same sweep over the erasure's stores.
    let erasure =
        Erasure::new(sessions(), s.ledger.clone(), s.audit.clone()).with_vault(s.vault.clone());
    let later = erasure.sweep_expired(t + 1).await.unwrap();
    assert_eq!((later.sealed_records_erased, later.consents_erased), (1, 1));
}

/// A fields login whose purpose has no stated period is told at build time, not years later.
#[test]
fn a_fields_login_without_a_stated_period_is_warned_about_at_build() {
    use netid::client::NetIdClient;
    use netid::crypto::SigningKey;

    #[derive(Clone, Default)]
    struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Capture {
            self.clone()
        }
    }

    let warned = |request: VerificationRequest, policy: RetentionPolicy| {
        let client = NetIdClient::builder("https://platform.example")
            .app_id("app_w")
            .signing_key("k", SigningKey::from(PrivateKey::generate()))
            .build()
            .unwrap();
        let capture = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(capture.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            drop(
                LoginFlow::builder(client, sessions())
                    .request(request)
                    .consents(Arc::new(InMemoryConsentLedger::default()))
                    .retention(policy)
                    .build(),
            );
        });
        let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        text.contains("WARN") && text.contains("retention policy does not name")
    };
    let stated = RetentionPolicy::new().purpose("实名登记", Duration::from_secs(DAY));
    assert!(warned(fields_request("实名登记"), RetentionPolicy::new()));
    assert!(warned(fields_request("开户"), stated.clone()));
    assert!(!warned(fields_request("实名登记"), stated.clone()));
    assert!(!warned(
        VerificationRequest::verify_only("登录"),
        RetentionPolicy::new()
    ));
}
