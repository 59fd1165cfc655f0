//! The field vault: plaintext identity fields a user released with separate consent (Art. 8
//! §2), kept sealed and handed out only while that consent is live (Art. 8 §3).
//!
//! Fields are sealed with SM2 encryption (GB/T 32918.4) to the relying party's vault key before
//! they reach any store, so a database dump holds ciphertext only; opening asks the
//! [`ConsentLedger`] first, so a withdrawn or expired consent locks the data at once; and
//! [`Vault::erase_subject`] deletes everything kept for a user (PIPL Art. 47, 《个人信息保护法》
//! 第四十七条; Art. 9 §3 of the 管理办法 binds the national platform, not the relying party).
//!
//! Deletion without a request, PIPL Art. 47 §1: each record carries the expiry of the consent
//! it was kept under (item 2, the retention period: [`RetentionPolicy`](super::RetentionPolicy));
//! an expired record is never handed out, and [`SealedFieldStore::sweep_expired`] deletes it.
//! [`Vault::withdraw`] deletes the records of a consent as it withdraws it (item 3).

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::StoreError;
use super::retention::with_default_expiry;
use super::{ConsentLedger, ConsentRecord, Consented};
use crate::clock::{Clock, SystemClock};
use crate::crypto::DecryptionKey;
use crate::error::{Actor, ErrorCode};
use crate::model::{FieldName, IdentityFields};
use crate::pii::{BirthDate, ExposeSecret, IdNumber, PersonalName};

/// Where sealed fields are kept. Implementations store opaque ciphertext; they never see a
/// plaintext value.
#[async_trait::async_trait]
pub trait SealedFieldStore: Send + Sync + 'static {
    /// Keeps `sealed` for (`subject`, `consent_id`) until `expires_at` (Unix seconds),
    /// replacing what was there.
    async fn put(
        &self,
        subject: &str,
        consent_id: &str,
        sealed: &[u8],
        at: u64,
        expires_at: u64,
    ) -> Result<(), StoreError>;
    /// The sealed fields for (`subject`, `consent_id`), if any are kept and not expired now, by
    /// the store's own clock (the system clock, or the one it was given).
    async fn get(&self, subject: &str, consent_id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// [`get`](Self::get) at `now` (Unix seconds): the record, if kept and `now < expires_at`.
    /// The [`Vault`] asks this, with its own clock. The default asks [`get`](Self::get), for a
    /// store written before this method, which then reads its own clock; the stores of this
    /// crate implement it.
    async fn get_at(
        &self,
        subject: &str,
        consent_id: &str,
        now: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let _ = now;
        self.get(subject, consent_id).await
    }
    /// Deletes everything kept for `subject`; returns how many records went.
    async fn erase_subject(&self, subject: &str) -> Result<usize, StoreError>;
    /// Deletes what is kept for (`subject`, `consent_id`) (a withdrawal); returns how many
    /// records went (0 or 1).
    async fn erase_consent(&self, subject: &str, consent_id: &str) -> Result<usize, StoreError>;
    /// Deletes every record whose retention period has ended (`expires_at <= now`); returns how
    /// many. Safe to run from several instances at once: each record is deleted, and counted,
    /// by one of them.
    async fn sweep_expired(&self, now: u64) -> Result<usize, StoreError>;
    /// How many records are kept for `subject` (for deletion proofs and tests).
    async fn count_for_subject(&self, subject: &str) -> Result<usize, StoreError>;
}

/// Sealed fields in this process's memory. [`get`](SealedFieldStore::get) reads the store's
/// clock ([`with_clock`](Self::with_clock), the system clock by default); the [`Vault`] asks
/// [`get_at`](SealedFieldStore::get_at) with its own.
#[derive(Debug)]
pub struct InMemorySealedFields {
    records: Mutex<Vec<Sealed>>,
    clock: Arc<dyn Clock>,
}

impl Default for InMemorySealedFields {
    fn default() -> Self {
        Self {
            records: Mutex::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

#[derive(Debug)]
struct Sealed {
    subject: String,
    consent_id: String,
    sealed: Vec<u8>,
    expires_at: u64,
}

impl Sealed {
    fn is(&self, subject: &str, consent_id: &str) -> bool {
        self.subject == subject && self.consent_id == consent_id
    }
}

impl InMemorySealedFields {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same store, reading the time from `clock` in [`get`](SealedFieldStore::get).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn with<T>(&self, f: impl FnOnce(&mut Vec<Sealed>) -> T) -> T {
        f(&mut self.records.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[async_trait::async_trait]
impl SealedFieldStore for InMemorySealedFields {
    async fn put(
        &self,
        subject: &str,
        consent_id: &str,
        sealed: &[u8],
        _at: u64,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        self.with(|r| {
            r.retain(|x| !x.is(subject, consent_id));
            r.push(Sealed {
                subject: subject.to_owned(),
                consent_id: consent_id.to_owned(),
                sealed: sealed.to_vec(),
                expires_at,
            });
        });
        Ok(())
    }

    async fn get(&self, subject: &str, consent_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.get_at(subject, consent_id, self.clock.now()).await
    }

    async fn get_at(
        &self,
        subject: &str,
        consent_id: &str,
        now: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.with(|r| {
            r.iter()
                .find(|x| x.is(subject, consent_id) && now < x.expires_at)
                .map(|x| x.sealed.clone())
        }))
    }

    async fn erase_subject(&self, subject: &str) -> Result<usize, StoreError> {
        Ok(self.with(|r| {
            let before = r.len();
            r.retain(|x| x.subject != subject);
            before - r.len()
        }))
    }

    async fn erase_consent(&self, subject: &str, consent_id: &str) -> Result<usize, StoreError> {
        Ok(self.with(|r| {
            let before = r.len();
            r.retain(|x| !x.is(subject, consent_id));
            before - r.len()
        }))
    }

    async fn sweep_expired(&self, now: u64) -> Result<usize, StoreError> {
        Ok(self.with(|r| {
            let before = r.len();
            r.retain(|x| now < x.expires_at);
            before - r.len()
        }))
    }

    async fn count_for_subject(&self, subject: &str) -> Result<usize, StoreError> {
        Ok(self.with(|r| r.iter().filter(|x| x.subject == subject).count()))
    }
}

/// Why the vault refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// No live consent covers these fields for this subject: nothing is kept or opened.
    #[error("no live consent covers the field `{0}`")]
    NotCovered(FieldName),
    /// The consent is withdrawn, expired or unknown.
    #[error("the consent is not live")]
    NotLive,
    /// Nothing is kept for this subject and consent: never kept, deleted, or past its
    /// retention period.
    #[error("nothing is kept under this consent")]
    NotFound,
    /// The sealed record cannot be opened with the vault key (another key, damaged data).
    #[error("the sealed record cannot be opened with this vault key")]
    Unsealable,
    /// A store could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ErrorCode for VaultError {
    fn code(&self) -> &'static str {
        match self {
            VaultError::NotCovered(_) => "vault.not_covered",
            VaultError::NotLive => "vault.consent_not_live",
            VaultError::NotFound => "vault.not_found",
            VaultError::Unsealable => "vault.unsealable",
            VaultError::Store(e) => e.code(),
        }
    }

    fn actor(&self) -> Actor {
        match self {
            VaultError::NotCovered(_) => Actor::Configuration,
            VaultError::NotLive | VaultError::NotFound => Actor::User,
            VaultError::Unsealable => Actor::SecurityEvent,
            VaultError::Store(e) => e.actor(),
        }
    }
}

/// What [`Vault::withdraw`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Withdrawal {
    /// Whether this call withdrew the consent (`false`: it was withdrawn already, or unknown).
    pub consent_withdrawn: bool,
    /// Sealed records this call deleted.
    pub sealed_records_erased: usize,
}

/// Keeps and opens consented fields. Cheap to clone. Whether a consent is live and a record
/// kept is judged by the vault's clock ([`with_clock`](Self::with_clock), the system clock by
/// default; a [`LoginFlow`](crate::policy::LoginFlow) and an
/// [`Erasure`](crate::erasure::Erasure) give the vault they are handed their session manager's).
#[derive(Clone)]
pub struct Vault {
    store: Arc<dyn SealedFieldStore>,
    ledger: Arc<dyn ConsentLedger>,
    key: Arc<DecryptionKey>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// The sealed form: wire names to values, zeroized after use.
#[derive(Serialize, Deserialize, Default)]
struct Plain {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_type: Option<crate::model::IdDocumentType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    birth_date: Option<String>,
}

impl Drop for Plain {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.name.zeroize();
        self.id_number.zeroize();
        self.birth_date.zeroize();
    }
}

impl Vault {
    /// Where the sealed records are kept.
    pub(crate) fn store(&self) -> &dyn SealedFieldStore {
        self.store.as_ref()
    }

    /// A vault over `store`, checking consents in `ledger`, sealing to `key`.
    pub fn new(
        store: Arc<dyn SealedFieldStore>,
        ledger: Arc<dyn ConsentLedger>,
        key: DecryptionKey,
    ) -> Self {
        Self {
            store,
            ledger,
            key: Arc::new(key),
            clock: Arc::new(SystemClock),
        }
    }

    /// The same vault, reading the time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Keeps `fields` under `consent`, which must be live and cover every field present, until
    /// the consent expires (or, for a consent without an expiry, until the default retention
    /// period from its `granted_at` ends, as the ledger records it).
    pub async fn keep(
        &self,
        consent: &ConsentRecord,
        fields: &IdentityFields,
    ) -> Result<(), VaultError> {
        let now = self.clock.now();
        let expires_at = with_default_expiry(consent.clone()).expires_at.unwrap_or(0);
        if !consent.is_live(now) || expires_at <= now {
            return Err(VaultError::NotLive);
        }
        if let Some(f) = fields.names().iter().find(|f| !consent.fields.contains(f)) {
            return Err(VaultError::NotCovered(f));
        }
        let plain = Plain {
            name: fields.name.as_ref().map(|v| v.expose_secret().to_owned()),
            id_number: fields
                .id_number
                .as_ref()
                .map(|v| v.expose_secret().to_owned()),
            id_type: fields.id_type,
            birth_date: fields
                .birth_date
                .as_ref()
                .map(|v| v.expose_secret().to_owned()),
        };
        let bytes = Zeroizing::new(serde_json::to_vec(&plain).map_err(|_| VaultError::Unsealable)?);
        let sealed = self
            .key
            .encryption_key()
            .encrypt(&bytes)
            .map_err(|_| VaultError::Unsealable)?;
        self.store
            .put(&consent.subject, &consent.id, &sealed, now, expires_at)
            .await?;
        Ok(())
    }

    /// The fields kept under `consent_id`, if that consent is still live — bound to it, so a
    /// later withdrawal locks them again.
    pub async fn open(
        &self,
        subject: &str,
        consent_id: &str,
    ) -> Result<Consented<IdentityFields>, VaultError> {
        let now = self.clock.now();
        let live = self
            .ledger
            .for_subject(subject)
            .await?
            .iter()
            .any(|c| c.id == consent_id && c.is_live(now));
        if !live {
            return Err(VaultError::NotLive);
        }
        let sealed = self
            .store
            .get_at(subject, consent_id, now)
            .await?
            .ok_or(VaultError::NotFound)?;
        let bytes = self
            .key
            .decrypt(&sealed)
            .map_err(|_| VaultError::Unsealable)?;
        let plain: Plain = serde_json::from_slice(&bytes).map_err(|_| VaultError::Unsealable)?;
        let fields = IdentityFields {
            name: plain.name.as_deref().map(PersonalName::new),
            id_number: plain.id_number.as_deref().map(IdNumber::new),
            id_type: plain.id_type,
            birth_date: plain.birth_date.as_deref().map(BirthDate::new),
        };
        Ok(Consented::new(fields, subject, consent_id))
    }

    /// Withdraws the consent `consent_id` of `subject` and deletes the fields kept under it
    /// (PIPL Art. 15 §1, Art. 47 §1 item 3). The fields go first, then the consent is marked
    /// withdrawn; each step is idempotent, so after a failure (a retryable error) running it
    /// again completes the withdrawal. (The PostgreSQL ledger's own `withdraw` deletes the
    /// records in the same transaction as it marks the consent, so a withdrawal made on that
    /// ledger directly leaves nothing either.)
    pub async fn withdraw(
        &self,
        subject: &str,
        consent_id: &str,
    ) -> Result<Withdrawal, VaultError> {
        let sealed_records_erased = self.store.erase_consent(subject, consent_id).await?;
        let consent_withdrawn = self
            .ledger
            .withdraw(subject, consent_id, self.clock.now())
            .await?;
        Ok(Withdrawal {
            consent_withdrawn,
            sealed_records_erased,
        })
    }

    /// The store the sealed records are in.
    pub(crate) fn sealed_store(&self) -> Arc<dyn SealedFieldStore> {
        Arc::clone(&self.store)
    }

    /// Deletes every record kept for `subject`; returns how many went.
    pub async fn erase_subject(&self, subject: &str) -> Result<usize, VaultError> {
        Ok(self.store.erase_subject(subject).await?)
    }

    /// How many records are kept for `subject`.
    pub async fn count_for_subject(&self, subject: &str) -> Result<usize, VaultError> {
        Ok(self.store.count_for_subject(subject).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::crypto::PrivateKey;
    use crate::pii::ExposeSecret;
    use crate::store::InMemoryConsentLedger;

    const T: u64 = 1_800_000_000;

    fn consent(expires_at: u64) -> ConsentRecord {
        ConsentRecord {
            id: "cr_1".into(),
            subject: "pw_a".into(),
            fields: vec![FieldName::IdNumber],
            purpose: "实名登记".into(),
            legal_basis: None,
            granted_at: T,
            expires_at: Some(expires_at),
            withdrawn_at: None,
        }
    }

    #[tokio::test]
    async fn kept_fields_open_until_the_consent_ends_by_the_vaults_clock() {
        let clock = Arc::new(ManualClock::new(T));
        let ledger = Arc::new(InMemoryConsentLedger::default());
        // The store's own clock is the system's: the vault asks it at its own time.
        let sealed = Arc::new(InMemorySealedFields::new());
        let vault = Vault::new(
            sealed.clone(),
            ledger.clone(),
            DecryptionKey::new(PrivateKey::generate()),
        )
        .with_clock(clock.clone());
        let c = consent(T + 100);
        ledger.record(c.clone()).await.unwrap();
        let fields = IdentityFields {
            id_number: Some(IdNumber::new("11010519491231002X")),
            ..Default::default()
        };
        vault.keep(&c, &fields).await.unwrap();
        clock.advance(99);
        let open = vault.open("pw_a", "cr_1").await.unwrap();
        let opened = open.get_at(ledger.as_ref(), T + 99).await.unwrap();
        assert_eq!(
            opened.id_number.as_ref().unwrap().expose_secret(),
            "11010519491231002X"
        );
        clock.advance(1);
        assert_eq!(
            vault.open("pw_a", "cr_1").await.unwrap_err(),
            VaultError::NotLive
        );
        // Nothing new is kept under it either, by the same clock.
        assert_eq!(
            vault.keep(&c, &fields).await.unwrap_err(),
            VaultError::NotLive
        );
    }

    #[tokio::test]
    async fn a_record_past_its_expiry_is_not_handed_out_by_the_stores_clock() {
        let clock = Arc::new(ManualClock::new(T));
        let store = InMemorySealedFields::new().with_clock(clock.clone());
        store
            .put("pw_a", "cr_1", b"sealed", T, T + 60)
            .await
            .unwrap();
        assert_eq!(
            store.get("pw_a", "cr_1").await.unwrap().as_deref(),
            Some(&b"sealed"[..])
        );
        assert!(
            store
                .get_at("pw_a", "cr_1", T + 60)
                .await
                .unwrap()
                .is_none()
        );
        clock.advance(59);
        assert!(store.get("pw_a", "cr_1").await.unwrap().is_some());
        clock.advance(1);
        assert!(store.get("pw_a", "cr_1").await.unwrap().is_none());
        // Expired, not deleted: the sweep deletes it.
        assert_eq!(store.count_for_subject("pw_a").await.unwrap(), 1);
        assert_eq!(store.sweep_expired(T + 60).await.unwrap(), 1);
    }
}
