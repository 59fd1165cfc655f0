//! Consent (Art. 8 §3): per field and purpose, recorded, withdrawable, and required to use the
//! data it covers.
//!
//! The right to withdraw comes from PIPL Art. 15 §1 (《个人信息保护法》第十五条第一款: 基于个人
//! 同意处理个人信息的，个人有权撤回其同意), not from the 管理办法. After a withdrawal the
//! processor must delete the data it covered (PIPL Art. 47 §1 item 3), unless Art. 47 §2 applies:
//! [`Vault::withdraw`](super::Vault::withdraw) deletes the sealed fields and withdraws the consent.
//!
//! Every consent ends: it expires at the end of its purpose's retention period
//! ([`RetentionPolicy`](super::RetentionPolicy), PIPL Art. 19), and a ledger records one given
//! without an expiry with the default period. An expired consent is not live, and
//! [`ConsentLedger::sweep_expired`] deletes it.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::retention::with_default_expiry;
use crate::clock::unix_now;
use crate::error::StoreError;
use crate::model::{FieldName, FieldSet};

/// A user's consent to the processing of specific identity fields for one purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// The consent's id (the platform's receipt id, or one the RP made).
    pub id: String,
    /// Whose consent (the subject id of a [`VerifiedUser`](crate::policy::VerifiedUser)).
    pub subject: String,
    /// The fields covered.
    pub fields: Vec<FieldName>,
    /// What for.
    pub purpose: String,
    /// The law requiring the processing, if the consent rests on one too.
    pub legal_basis: Option<String>,
    /// When given (Unix seconds).
    pub granted_at: u64,
    /// When it lapses (Unix seconds): the end of its purpose's retention period
    /// ([`RetentionPolicy::apply`](super::RetentionPolicy::apply)). `None` only before it is
    /// recorded: a ledger records it with the default period
    /// ([`RetentionPolicy::DEFAULT_PERIOD`](super::RetentionPolicy::DEFAULT_PERIOD) from
    /// `granted_at`).
    pub expires_at: Option<u64>,
    /// When withdrawn, if it was.
    pub withdrawn_at: Option<u64>,
}

impl ConsentRecord {
    /// Whether it covers `field` for `purpose` at `now`: not withdrawn, not expired.
    pub fn covers(&self, field: FieldName, purpose: &str, now: u64) -> bool {
        self.is_live(now) && self.purpose == purpose && self.fields.contains(&field)
    }

    /// Neither withdrawn nor expired at `now`.
    pub fn is_live(&self, now: u64) -> bool {
        self.withdrawn_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }

    /// The fields as a set.
    pub fn field_set(&self) -> FieldSet {
        self.fields.iter().copied().collect()
    }

    /// A record from the receipt the platform signed with a verification result, with no
    /// expiry yet: give it one with [`RetentionPolicy::apply`](super::RetentionPolicy::apply)
    /// (the login flow does).
    pub fn from_receipt(subject: &str, receipt: &crate::model::ConsentReceipt) -> Self {
        Self {
            id: receipt.id.clone(),
            subject: subject.to_owned(),
            fields: receipt.fields.iter().collect(),
            purpose: receipt.purpose.clone(),
            legal_basis: Some(receipt.legal_basis.clone()),
            granted_at: receipt.granted_at,
            expires_at: None,
            withdrawn_at: None,
        }
    }
}

/// Where consents live. Every instance of the application must see the same ledger.
#[async_trait::async_trait]
pub trait ConsentLedger: Send + Sync + 'static {
    /// Records a consent (replacing one with the same id and subject). One without
    /// `expires_at` is recorded with the default retention period from its `granted_at`
    /// ([`RetentionPolicy::DEFAULT_PERIOD`](super::RetentionPolicy::DEFAULT_PERIOD)): nothing is
    /// kept without an end.
    async fn record(&self, consent: ConsentRecord) -> Result<(), StoreError>;
    /// Withdraws a consent; `false` if there was no live one with that id.
    ///
    /// The fields kept under it must go too (PIPL Art. 47 §1 item 3): withdraw through
    /// [`Vault::withdraw`](super::Vault::withdraw), which deletes them first. (The PostgreSQL
    /// ledger also deletes them itself, in the same transaction.)
    async fn withdraw(&self, subject: &str, consent_id: &str, at: u64) -> Result<bool, StoreError>;
    /// Every consent of a subject, live or not.
    async fn for_subject(&self, subject: &str) -> Result<Vec<ConsentRecord>, StoreError>;
    /// Withdraws every live consent of a subject (deletion on request, PIPL Art. 47); returns
    /// how many.
    async fn withdraw_all(&self, subject: &str, at: u64) -> Result<usize, StoreError>;
    /// Deletes every consent whose retention period has ended (`expires_at <= now`), withdrawn
    /// or not (PIPL Art. 47 §1 item 2); returns how many. Safe to run from several instances at
    /// once: each record is deleted, and counted, by one of them.
    async fn sweep_expired(&self, now: u64) -> Result<usize, StoreError>;

    /// The consent covering `field` for `purpose` that is live at `now` (Unix seconds, by the
    /// application's clock), if any.
    async fn live_consent(
        &self,
        subject: &str,
        field: FieldName,
        purpose: &str,
        now: u64,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        Ok(self
            .for_subject(subject)
            .await?
            .into_iter()
            .find(|c| c.covers(field, purpose, now)))
    }
}

/// A consent ledger in this process's memory (one instance, tests, development).
#[derive(Debug, Default)]
pub struct InMemoryConsentLedger {
    by_subject: Mutex<HashMap<String, Vec<ConsentRecord>>>,
}

impl InMemoryConsentLedger {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Vec<ConsentRecord>>) -> T) -> T {
        f(&mut self.by_subject.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[async_trait::async_trait]
impl ConsentLedger for InMemoryConsentLedger {
    async fn record(&self, consent: ConsentRecord) -> Result<(), StoreError> {
        let consent = with_default_expiry(consent);
        self.with(|m| {
            let list = m.entry(consent.subject.clone()).or_default();
            list.retain(|c| c.id != consent.id);
            list.push(consent);
        });
        Ok(())
    }

    async fn withdraw(&self, subject: &str, consent_id: &str, at: u64) -> Result<bool, StoreError> {
        Ok(self.with(|m| {
            m.get_mut(subject)
                .and_then(|list| {
                    list.iter_mut()
                        .find(|c| c.id == consent_id && c.withdrawn_at.is_none())
                })
                .map(|c| c.withdrawn_at = Some(at))
                .is_some()
        }))
    }

    async fn for_subject(&self, subject: &str) -> Result<Vec<ConsentRecord>, StoreError> {
        Ok(self.with(|m| m.get(subject).cloned().unwrap_or_default()))
    }

    async fn withdraw_all(&self, subject: &str, at: u64) -> Result<usize, StoreError> {
        Ok(self.with(|m| {
            m.get_mut(subject).map_or(0, |list| {
                list.iter_mut()
                    .filter(|c| c.withdrawn_at.is_none())
                    .map(|c| c.withdrawn_at = Some(at))
                    .count()
            })
        }))
    }

    async fn sweep_expired(&self, now: u64) -> Result<usize, StoreError> {
        Ok(self.with(|m| {
            let mut swept = 0;
            m.retain(|_, list| {
                let before = list.len();
                list.retain(|c| c.expires_at.is_none_or(|e| now < e));
                swept += before - list.len();
                !list.is_empty()
            });
            swept
        }))
    }
}

/// Data handed out only together with the consent that covers it. Reading it asks the ledger
/// first, so a withdrawn or expired consent makes the data unusable at once.
#[derive(Debug, Clone)]
pub struct Consented<T> {
    value: T,
    subject: String,
    consent_id: String,
}

/// Why consented data could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsentError {
    /// The consent was withdrawn, has expired, or is unknown.
    #[error("the consent covering this data is no longer live")]
    NotLive,
    /// The ledger could not be asked; the data stays locked.
    #[error("consent ledger unavailable: {0}")]
    Store(#[from] StoreError),
}

impl<T> Consented<T> {
    /// Binds `value` to the consent `consent_id` of `subject`.
    pub fn new(value: T, subject: impl Into<String>, consent_id: impl Into<String>) -> Self {
        Self {
            value,
            subject: subject.into(),
            consent_id: consent_id.into(),
        }
    }

    /// The value, if its consent is still live in `ledger` (by the system clock).
    pub async fn get(&self, ledger: &dyn ConsentLedger) -> Result<&T, ConsentError> {
        self.get_at(ledger, unix_now()).await
    }

    /// The value, if its consent is live in `ledger` at `now` (Unix seconds): for an
    /// application that reads time through its own [`Clock`](crate::clock::Clock).
    pub async fn get_at(&self, ledger: &dyn ConsentLedger, now: u64) -> Result<&T, ConsentError> {
        let live = ledger
            .for_subject(&self.subject)
            .await?
            .iter()
            .any(|c| c.id == self.consent_id && c.is_live(now));
        if live {
            Ok(&self.value)
        } else {
            Err(ConsentError::NotLive)
        }
    }

    /// The consent's id.
    pub fn consent_id(&self) -> &str {
        &self.consent_id
    }
}
