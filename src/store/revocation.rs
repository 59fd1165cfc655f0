//! Where ended sessions are remembered. Session tokens are stateless; what a shared store adds is
//! the list of sessions that ended early (logout, deletion), seen by every instance at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::clock::{Clock, SystemClock};

use crate::error::StoreError;

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

    /// A number that changes whenever this store records a revocation — if the store can read
    /// it without a round trip and sees every revocation (one process). With `Some`,
    /// [`SessionManager`](crate::policy::SessionManager) does not ask [`is_revoked`](Self::is_revoked)
    /// again about a session it found not revoked at the same number. The default, `None`,
    /// means ask on every request: right for a store shared between instances, which cannot
    /// see the others' revocations without asking.
    fn generation(&self) -> Option<u64> {
        None
    }
}

/// Revocations held in this process. A revocation is forgotten after its `until` by the store's
/// clock ([`with_clock`](Self::with_clock); the system clock by default, the session manager's
/// when [`SessionManagerBuilder`](crate::policy::SessionManagerBuilder) makes it).
#[derive(Debug)]
pub struct InMemoryRevocations {
    // One lock, read-mostly: every signed-in request may ask, logouts are rare.
    state: RwLock<Revoked>,
    /// Bumped, under the write lock, after every change: see `generation`.
    generation: AtomicU64,
    clock: Arc<dyn Clock>,
}

impl Default for InMemoryRevocations {
    fn default() -> Self {
        Self {
            state: RwLock::default(),
            generation: AtomicU64::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

#[derive(Debug, Default)]
struct Revoked {
    sessions: HashMap<String, u64>,
    /// subject → (revoked at or before, remembered until).
    subjects: HashMap<String, (u64, u64)>,
}

impl InMemoryRevocations {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same store, reading the time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How many revocations are remembered (sessions, subjects).
    #[cfg(test)]
    fn remembered(&self) -> (usize, usize) {
        let r = self.state.read().unwrap_or_else(|p| p.into_inner());
        (r.sessions.len(), r.subjects.len())
    }
}

#[async_trait::async_trait]
impl RevocationStore for InMemoryRevocations {
    async fn revoke(&self, jti: &str, until: u64) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut r = self.state.write().unwrap_or_else(|p| p.into_inner());
        r.sessions.retain(|_, u| *u >= now);
        r.sessions.insert(jti.to_owned(), until);
        self.generation.fetch_add(1, Ordering::Release);
        Ok(())
    }

    async fn revoke_subject(&self, subject: &str, at: u64, until: u64) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut r = self.state.write().unwrap_or_else(|p| p.into_inner());
        r.subjects.retain(|_, (_, u)| *u >= now);
        let entry = r.subjects.entry(subject.to_owned()).or_insert((at, until));
        *entry = (entry.0.max(at), entry.1.max(until));
        self.generation.fetch_add(1, Ordering::Release);
        Ok(())
    }

    async fn is_revoked(
        &self,
        jti: &str,
        subject: &str,
        issued_at: u64,
    ) -> Result<bool, StoreError> {
        let r = self.state.read().unwrap_or_else(|p| p.into_inner());
        Ok(r.sessions.contains_key(jti)
            || r.subjects
                .get(subject)
                .is_some_and(|(at, _)| issued_at <= *at))
    }

    fn generation(&self) -> Option<u64> {
        Some(self.generation.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test]
    async fn revocations_are_forgotten_after_until_by_the_stores_clock() {
        let clock = Arc::new(ManualClock::new(1_000));
        let store = InMemoryRevocations::new().with_clock(clock.clone());
        store.revoke("j1", 1_100).await.unwrap();
        store.revoke_subject("s1", 1_000, 1_100).await.unwrap();
        assert!(store.is_revoked("j1", "other", 900).await.unwrap());
        assert!(store.is_revoked("j2", "s1", 1_000).await.unwrap());
        // Still remembered at `until`, pruned after it, at the next change.
        clock.set(1_100);
        store.revoke("j3", 1_200).await.unwrap();
        store.revoke_subject("s2", 1_100, 1_200).await.unwrap();
        assert_eq!(store.remembered(), (2, 2));
        clock.set(1_101);
        store.revoke("j4", 1_200).await.unwrap();
        store.revoke_subject("s3", 1_100, 1_200).await.unwrap();
        assert_eq!(store.remembered(), (2, 2));
        assert!(!store.is_revoked("j1", "other", 900).await.unwrap());
        assert!(!store.is_revoked("j2", "s1", 1_000).await.unwrap());
        assert!(store.is_revoked("j3", "other", 900).await.unwrap());
    }
}
