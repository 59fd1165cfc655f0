//! Small async store traits for the state the rules need, with in-memory defaults. Redis and
//! PostgreSQL implementations plug in behind the same traits.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::request_auth::unix_now;

pub use crate::store::StoreError;

/// Where ended sessions are remembered until they would have expired anyway.
#[async_trait::async_trait]
pub trait RevocationStore: Send + Sync + 'static {
    /// Remembers `jti` as revoked until `until` (Unix seconds).
    async fn revoke(&self, jti: &str, until: u64) -> Result<(), StoreError>;
    /// Whether `jti` was revoked.
    async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError>;
}

/// Revocations held in this process.
#[derive(Debug, Default)]
pub struct InMemoryRevocations {
    revoked: Mutex<HashMap<String, u64>>,
}

#[async_trait::async_trait]
impl RevocationStore for InMemoryRevocations {
    async fn revoke(&self, jti: &str, until: u64) -> Result<(), StoreError> {
        let now = unix_now();
        let mut r = self.revoked.lock().unwrap_or_else(|p| p.into_inner());
        r.retain(|_, u| *u >= now);
        r.insert(jti.to_owned(), until);
        Ok(())
    }

    async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self
            .revoked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(jti))
    }
}
