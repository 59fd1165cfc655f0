//! Where ended sessions are remembered. Session tokens are stateless; what a shared store adds is
//! the list of sessions that ended early (logout, deletion), seen by every instance at once.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::request_auth::unix_now;

pub use crate::store::StoreError;

/// Where ended sessions are remembered until they would have expired anyway.
#[async_trait::async_trait]
pub trait RevocationStore: Send + Sync + 'static {
    /// Remembers the session `jti` as revoked until `until` (Unix seconds).
    async fn revoke(&self, jti: &str, until: u64) -> Result<(), StoreError>;

    /// Revokes every session of `subject` issued at or before `at` (deletion on request, a
    /// forced sign-out), remembered until `until`, when every such session has expired.
    async fn revoke_subject(&self, subject: &str, at: u64, until: u64) -> Result<(), StoreError>;

    /// Whether the session `jti` of `subject`, issued at `issued_at`, was revoked, by itself
    /// or with all of its subject's sessions.
    async fn is_revoked(
        &self,
        jti: &str,
        subject: &str,
        issued_at: u64,
    ) -> Result<bool, StoreError>;
}

/// Revocations held in this process.
#[derive(Debug, Default)]
pub struct InMemoryRevocations {
    sessions: Mutex<HashMap<String, u64>>,
    /// subject → (revoked at or before, remembered until).
    subjects: Mutex<HashMap<String, (u64, u64)>>,
}

impl InMemoryRevocations {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl RevocationStore for InMemoryRevocations {
    async fn revoke(&self, jti: &str, until: u64) -> Result<(), StoreError> {
        let now = unix_now();
        let mut r = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        r.retain(|_, u| *u >= now);
        r.insert(jti.to_owned(), until);
        Ok(())
    }

    async fn revoke_subject(&self, subject: &str, at: u64, until: u64) -> Result<(), StoreError> {
        let now = unix_now();
        let mut s = self.subjects.lock().unwrap_or_else(|p| p.into_inner());
        s.retain(|_, (_, u)| *u >= now);
        let entry = s.entry(subject.to_owned()).or_insert((at, until));
        *entry = (entry.0.max(at), entry.1.max(until));
        Ok(())
    }

    async fn is_revoked(
        &self,
        jti: &str,
        subject: &str,
        issued_at: u64,
    ) -> Result<bool, StoreError> {
        if self
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(jti)
        {
            return Ok(true);
        }
        Ok(self
            .subjects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(subject)
            .is_some_and(|(at, _)| issued_at <= *at))
    }
}
