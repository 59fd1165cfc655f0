//! Deletion on the user's request: everything held for a user, by pseudonym, in one call that
//! returns a receipt.
//!
//! The relying platform's own duty to delete is PIPL Art. 47 (《个人信息保护法》第四十七条):
//! it deletes on its own when the purpose is reached, the retention period ends or consent is
//! withdrawn, and the user may request it. Art. 9 §3 of the 管理办法 binds the national platform
//! (公共服务平台), not the relying platform.
//!
//! [`Erasure::erase_subject`] revokes the user's sessions, withdraws their consents, deletes the
//! sealed fields kept under them, and records the erasure in the audit log. The steps run in
//! that order and each is idempotent: if one fails (a store is down), the call returns a
//! retryable error and running it again completes the erasure. The audit entry comes last, so
//! a receipt always points at a record of a finished erasure.
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
use crate::clock::unix_now;
use crate::error::{Actor, ErrorCode};
use crate::policy::{ConsentLedger, SessionError, SessionManager};
use crate::store::{StoreError, Vault, VaultError};

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
            ErasureError::Sessions(e) => e.code(),
            ErasureError::Store(e) => e.code(),
            ErasureError::Audit(e) => e.code(),
        }
    }

    fn actor(&self) -> Actor {
        match self {
            ErasureError::InvalidSubject => Actor::Configuration,
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

    /// Also deletes the sealed fields kept in `vault`.
    pub fn with_vault(mut self, vault: Vault) -> Self {
        self.vault = Some(vault);
        self
    }

    /// Erases everything held for `subject` and returns the receipt.
    pub async fn erase_subject(&self, subject: &str) -> Result<DeletionReceipt, ErasureError> {
        let event = AuditEvent::new(AuditAction::Erasure, subject, "erased", "user_request");
        // Checked before anything changes: a subject the log cannot record is refused whole.
        event.validate().map_err(|_| ErasureError::InvalidSubject)?;
        let sessions_accepted_from = self.sessions.revoke_subject(subject).await?;
        let consents_withdrawn = self.consents.withdraw_all(subject, unix_now()).await?;
        let sealed_records_erased = match &self.vault {
            Some(v) => v.erase_subject(subject).await?,
            None => 0,
        };
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
}
