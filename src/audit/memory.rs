//! The audit log in this process's memory: tests and development.

use std::sync::Mutex;

use super::{AuditEntry, AuditError, AuditEvent, AuditLog, GENESIS};

/// An audit log kept in memory (one process; lost when it ends). Appends are serialised by a
/// mutex, so concurrent appends form one chain.
#[derive(Debug, Default)]
pub struct InMemoryAuditLog {
    /// Entry `seq` is at index `seq - 1`.
    entries: Mutex<Vec<AuditEntry>>,
}

impl InMemoryAuditLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl AuditLog for InMemoryAuditLog {
    async fn append(&self, event: AuditEvent) -> Result<AuditEntry, AuditError> {
        event.validate()?;
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let prev = entries.last().map_or(GENESIS, |e| e.hash.as_str());
        let entry = AuditEntry::link(entries.len() as u64 + 1, prev, event);
        entries.push(entry.clone());
        Ok(entry)
    }

    async fn read(&self, from_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, AuditError> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let start = usize::try_from(from_seq.saturating_sub(1))
            .unwrap_or(usize::MAX)
            .min(entries.len());
        Ok(entries[start..].iter().take(limit).cloned().collect())
    }
}
