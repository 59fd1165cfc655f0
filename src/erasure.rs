//! Deletion on the user's request — everything held for a user, by pseudonym, in one call that
//! returns a receipt — on withdrawal, and at the end of the retention period.
//!
//! The relying platform's own duty to delete is PIPL Art. 47 (《个人信息保护法》第四十七条):
//! it deletes on its own when the purpose is reached, the retention period ends or consent is
//! withdrawn, and the user may request it. Art. 9 §3 of the 管理办法 binds the national platform
//! (公共服务平台), not the relying platform.
//!
//! [`Erasure::erase_subject`] revokes the user's sessions, deletes the sealed fields kept for
//! them, withdraws their consents, and records the erasure in the audit log. The steps run in
//! that order and each is idempotent: if one fails (a store is down), the call returns a
//! retryable error and running it again completes the erasure. The audit entry comes last, so
//! a receipt always points at a record of a finished erasure.
//!
//! [`Erasure::withdraw_consent`] deletes the fields kept under one consent and withdraws it
//! (item 3 of Art. 47 §1), and records the withdrawal.
//!
//! [`Sweeper::sweep`] (or [`Erasure::sweep_expired`], or `netid sweep` from cron) deletes every
//! sealed field and consent whose retention period has ended (item 2; the periods come from a
//! [`RetentionPolicy`](crate::store::RetentionPolicy)), and records the run in the audit log.
//!
//! What stays, on purpose: the audit log's entries (pseudonym, outcomes, field *names* — never
//! values; they are the platform's own record of what it relied on, its side of the
//! 可追溯、抗抵赖 of the Ministry's Q&A, part 七) and the withdrawn consent records (proof that
//! consent existed and was withdrawn). Neither holds plaintext identity data, but a pseudonym is
//! still personal information: PIPL Art. 47 §2 lets a processor keep data after a deletion
//! request only while a retention period set by law or administrative regulation runs (or where
//! deletion is technically infeasible), and then only store and protect it. Whether that holds
//! for these records is the platform's call.

use std::sync::Arc;

use serde::Serialize;

use crate::audit::{AuditAction, AuditError, AuditEvent, AuditLog};
use crate::error::{Actor, ErrorCode};
use crate::policy::{ConsentLedger, SessionError, SessionManager};
use crate::store::{SealedFieldStore, StoreError, Vault, VaultError, Withdrawal};

/// Proof of an erasure, for the user and the regulator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DeletionReceipt {
    /// This receipt's id.
    pub id: String,
    /// Whose data (the pseudonym).
    pub subject: String,
    /// When (Unix seconds).
    pub erased_at: u64,
    /// Sealed field records deleted by this call.
    pub sealed_records_erased: usize,
    /// Consents withdrawn by this call.
    pub consents_withdrawn: usize,
    /// Every session issued before this time is refused (Unix seconds).
    pub sessions_accepted_from: u64,
    /// The audit entry recording the erasure: its place…
    pub audit_seq: u64,
    /// …and its chain hash, which commits to every entry before it.
    pub audit_hash: String,
}

/// Why an erasure did not finish. Every step done so far stays done; run it again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErasureError {
    /// The subject is not a valid pseudonym; nothing was changed.
    #[error("the subject is not a valid pseudonym; nothing was changed")]
    InvalidSubject,
    /// The consent id cannot be recorded (empty, too long, spaces, an identity number);
    /// nothing was changed.
    #[error("the consent id is not valid; nothing was changed")]
    InvalidConsentId,
    /// The sweep's time is beyond what the audit log records (year 9999); nothing was changed.
    #[error("the sweep time is out of range; nothing was changed")]
    InvalidTime,
    /// The sessions could not be revoked.
    #[error("revoking the sessions: {0}")]
    Sessions(#[from] SessionError),
    /// The consent ledger or the sealed-field store failed.
    #[error("erasing stored data: {0}")]
    Store(#[from] StoreError),
    /// The erasure could not be recorded in the audit log.
    #[error("recording the erasure: {0}")]
    Audit(#[from] AuditError),
}

impl ErrorCode for ErasureError {
    fn code(&self) -> &'static str {
        match self {
            ErasureError::InvalidSubject => "erasure.invalid_subject",
            ErasureError::InvalidConsentId => "erasure.invalid_consent_id",
            ErasureError::InvalidTime => "erasure.invalid_time",
            ErasureError::Sessions(e) => e.code(),
            ErasureError::Store(e) => e.code(),
            ErasureError::Audit(e) => e.code(),
        }
    }

    fn actor(&self) -> Actor {
        match self {
            ErasureError::InvalidSubject
            | ErasureError::InvalidConsentId
            | ErasureError::InvalidTime => Actor::Configuration,
            ErasureError::Sessions(e) => e.actor(),
            ErasureError::Store(e) => e.actor(),
            ErasureError::Audit(e) => e.actor(),
        }
    }
}

impl From<VaultError> for ErasureError {
    fn from(e: VaultError) -> Self {
        match e {
            VaultError::Store(s) => ErasureError::Store(s),
            other => ErasureError::Store(StoreError::corrupt("vault", other)),
        }
    }
}

/// Erases users on request. Give it the same stores the application uses.
#[derive(Clone)]
pub struct Erasure {
    sessions: SessionManager,
    consents: Arc<dyn ConsentLedger>,
    audit: Arc<dyn AuditLog>,
    vault: Option<Vault>,
}

impl std::fmt::Debug for Erasure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Erasure")
            .field("vault", &self.vault.is_some())
            .finish_non_exhaustive()
    }
}

impl Erasure {
    /// Erasure over the application's sessions, consent ledger and audit log.
    pub fn new(
        sessions: SessionManager,
        consents: Arc<dyn ConsentLedger>,
        audit: Arc<dyn AuditLog>,
    ) -> Self {
        Self {
            sessions,
            consents,
            audit,
            vault: None,
        }
    }

    /// Also deletes the sealed fields kept in `vault`, which reads the session manager's clock
    /// from then on ([`Vault::with_clock`]).
    pub fn with_vault(mut self, vault: Vault) -> Self {
        self.vault = Some(vault.with_clock(Arc::clone(self.sessions.clock())));
        self
    }

    /// Erases everything held for `subject` and returns the receipt.
    pub async fn erase_subject(&self, subject: &str) -> Result<DeletionReceipt, ErasureError> {
        let now = self.sessions.clock().now();
        let event =
            AuditEvent::new(AuditAction::Erasure, subject, "erased", "user_request").at(now);
        // Checked before anything changes: a subject the log cannot record is refused whole.
        event.validate().map_err(|_| ErasureError::InvalidSubject)?;
        let sessions_accepted_from = self.sessions.revoke_subject(subject).await?;
        // The plaintext first: a failure later leaves nothing readable behind.
        let sealed_records_erased = match &self.vault {
            Some(v) => v.erase_subject(subject).await?,
            None => 0,
        };
        let consents_withdrawn = self.consents.withdraw_all(subject, now).await?;
        let entry = self.audit.append(event).await?;
        tracing::info!(
            audit_seq = entry.seq,
            consents_withdrawn,
            sealed_records_erased,
            "subject erased on request"
        );
        Ok(DeletionReceipt {
            id: crate::random::token(16),
            subject: subject.to_owned(),
            erased_at: entry.event.at,
            sealed_records_erased,
            consents_withdrawn,
            sessions_accepted_from,
            audit_seq: entry.seq,
            audit_hash: entry.hash,
        })
    }

    /// Withdraws the consent `consent_id` of `subject` at the user's request (PIPL Art. 15 §1):
    /// deletes the fields kept under it (Art. 47 §1 item 3; needs [`with_vault`](Self::with_vault)
    /// to reach them), marks it withdrawn, and records `consent_withdrawn` in the audit log.
    /// Each step is idempotent and the record comes last: after a retryable error, run it
    /// again. Withdrawing a consent that is already withdrawn (or unknown) records nothing and
    /// says so (`consent_withdrawn: false`).
    pub async fn withdraw_consent(
        &self,
        subject: &str,
        consent_id: &str,
    ) -> Result<Withdrawal, ErasureError> {
        let event = AuditEvent::new(
            AuditAction::ConsentWithdrawn,
            subject,
            "withdrawn",
            "user_request",
        )
        .consent_id(consent_id)
        .at(self.sessions.clock().now());
        event.validate().map_err(|e| match e {
            AuditError::Invalid("consent_id") => ErasureError::InvalidConsentId,
            _ => ErasureError::InvalidSubject,
        })?;
        let done = match &self.vault {
            Some(v) => v.withdraw(subject, consent_id).await?,
            None => Withdrawal {
                consent_withdrawn: self
                    .consents
                    .withdraw(subject, consent_id, self.sessions.clock().now())
                    .await?,
                sealed_records_erased: 0,
            },
        };
        if done.consent_withdrawn {
            self.audit.append(event).await?;
        }
        Ok(done)
    }

    /// A [`Sweeper`] over this erasure's consent ledger, audit log and vault.
    pub fn sweeper(&self) -> Sweeper {
        let sweeper = Sweeper::new(Arc::clone(&self.consents), Arc::clone(&self.audit));
        match &self.vault {
            Some(v) => sweeper.with_sealed(v.sealed_store()),
            None => sweeper,
        }
    }

    /// Deletes what has outlived its retention period by `now`: [`Sweeper::sweep`].
    pub async fn sweep_expired(&self, now: u64) -> Result<SweepReport, ErasureError> {
        self.sweeper().sweep(now).await
    }
}

/// Deletes the consents and sealed fields whose retention period has ended (PIPL Art. 47 §1
/// item 2). Needs no session keys or vault key: `netid sweep` runs it from cron.
///
/// Safe to run on many instances at once: each backend deletes each expired record in exactly
/// one of the sweeps running (PostgreSQL: `FOR UPDATE SKIP LOCKED` batches, see
/// [`store::postgres`](crate::store::postgres)), so the counts of concurrent sweeps add up to
/// what was expired, and no sweep waits for another.
#[derive(Clone)]
pub struct Sweeper {
    consents: Arc<dyn ConsentLedger>,
    audit: Arc<dyn AuditLog>,
    sealed: Option<Arc<dyn SealedFieldStore>>,
}

impl std::fmt::Debug for Sweeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sweeper")
            .field("sealed", &self.sealed.is_some())
            .finish_non_exhaustive()
    }
}

/// What one sweep did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SweepReport {
    /// Everything that expired at or before this time is gone (Unix seconds).
    pub swept_to: u64,
    /// Sealed field records this sweep deleted.
    pub sealed_records_erased: usize,
    /// Consent records this sweep deleted.
    pub consents_erased: usize,
    /// The audit entry recording the sweep: its place…
    pub audit_seq: u64,
    /// …and its chain hash.
    pub audit_hash: String,
}

impl Sweeper {
    /// Sweeps `consents`, recording each run in `audit`.
    pub fn new(consents: Arc<dyn ConsentLedger>, audit: Arc<dyn AuditLog>) -> Self {
        Self {
            consents,
            audit,
            sealed: None,
        }
    }

    /// Also sweeps the sealed fields in `store`.
    pub fn with_sealed(mut self, store: Arc<dyn SealedFieldStore>) -> Self {
        self.sealed = Some(store);
        self
    }

    /// Deletes every sealed record, then every consent record, whose `expires_at` is at or
    /// before `now` (the current Unix time; a later `now` deletes early), and
    /// appends one `retention_sweep` entry to the audit log, at `now`, with subject `*`.
    ///
    /// The entry says that nothing expired by its `at` is left; the counts are in the report
    /// (and the `tracing` log), not in the entry. Each step is idempotent and the entry comes
    /// last: after an error (retryable when a store is down), run it again.
    pub async fn sweep(&self, now: u64) -> Result<SweepReport, ErasureError> {
        let event = AuditEvent::new(AuditAction::RetentionSweep, "*", "swept", "retention").at(now);
        event.validate().map_err(|_| ErasureError::InvalidTime)?;
        let sealed_records_erased = match &self.sealed {
            Some(store) => store.sweep_expired(now).await?,
            None => 0,
        };
        let consents_erased = self.consents.sweep_expired(now).await?;
        let entry = self.audit.append(event).await?;
        tracing::info!(
            audit_seq = entry.seq,
            sealed_records_erased,
            consents_erased,
            swept_to = now,
            "retention sweep"
        );
        Ok(SweepReport {
            swept_to: now,
            sealed_records_erased,
            consents_erased,
            audit_seq: entry.seq,
            audit_hash: entry.hash,
        })
    }
}
