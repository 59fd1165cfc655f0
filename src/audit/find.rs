//! Finding entries in a log — an authorization, everything about one subject, one consent —
//! while its whole chain is checked: the relying platform's part of the duty to assist the
//! authorities (协助义务, the Ministry's Q&A, part 四) is to show its own record, and a record
//! is only worth showing when it has not been changed.

use super::{AuditEntry, ChainHead};

/// What to look for ([`find_in_log`](super::find_in_log),
/// [`JsonlAuditLog::find_in_file`](super::JsonlAuditLog::find_in_file), `netid audit find`).
/// Matching is exact: ids and pseudonyms are compared byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditQuery {
    /// The entries of one authorization: its `authz_id` (the platform's 32-character id). A
    /// verification keeps the platform's signed answer (`token`) beside it.
    Authorization(String),
    /// Every entry about one subject (the pseudonym, [`AuditEvent::subject`](super::AuditEvent::subject)):
    /// its verifications, consents, withdrawals, logouts and erasure.
    Subject(String),
    /// The entries of one consent record (`consent_id`): granted, withdrawn.
    Consent(String),
}

impl AuditQuery {
    /// Whether `entry` is one this query looks for.
    pub fn matches(&self, entry: &AuditEntry) -> bool {
        let e = &entry.event;
        match self {
            AuditQuery::Authorization(id) => e.authz_id.as_deref() == Some(id),
            AuditQuery::Subject(s) => e.subject.as_deref() == Some(s),
            AuditQuery::Consent(id) => e.consent_id.as_deref() == Some(id),
        }
    }
}

/// The entries a query found, in log order, and the head of the chain they were found in —
/// which was checked whole, from its first entry to this head, before they were returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The matching entries, ascending by `seq`.
    pub entries: Vec<AuditEntry>,
    /// The head of the whole, verified chain (anchor it with the answer handed over).
    pub head: ChainHead,
}
