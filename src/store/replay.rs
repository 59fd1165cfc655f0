//! Single use: an `authz_id`, a result token's `jti`, a webhook id or a request nonce is
//! accepted once, on whichever instance sees it first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::StoreError;
use crate::clock::{Clock, SystemClock};

/// What a single-use value is. Each kind has its own namespace, so an `authz_id` can never
/// collide with a webhook id of the same spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReplayKind {
    /// An authorization whose result the relying party accepted.
    Authorization,
    /// A result token's `jti`.
    ResultToken,
    /// A webhook delivery's id.
    Webhook,
    /// A nonce the relying party sent (or received) once.
    Nonce,
}

impl ReplayKind {
    /// A short, stable tag used in storage keys.
    pub fn tag(self) -> &'static str {
        match self {
            ReplayKind::Authorization => "az",
            ReplayKind::ResultToken => "jti",
            ReplayKind::Webhook => "wh",
            ReplayKind::Nonce => "nc",
        }
    }
}

/// Remembers single-use values for a while and says whether one was seen before.
///
/// Implementations must be atomic across every instance that shares them: of two concurrent
/// `first_use` calls with the same value, exactly one returns `Ok(true)`.
#[async_trait::async_trait]
pub trait ReplayGuard: Send + Sync + std::fmt::Debug + 'static {
    /// Records `value` of `kind` as used for `ttl`; `Ok(true)` if this is its first use,
    /// `Ok(false)` if it was used before. On [`StoreError`] nothing is known, and the caller
    /// must refuse (fail closed).
    async fn first_use(
        &self,
        kind: ReplayKind,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError>;
}

/// Single-use values remembered in this process (one instance, tests, development). A value is
/// forgotten once its `ttl` has passed by the guard's clock ([`with_clock`](Self::with_clock);
/// the system clock by default, the client's when [`ClientBuilder`](crate::client::ClientBuilder)
/// makes it).
#[derive(Debug)]
pub struct InMemoryReplayGuard {
    seen: Mutex<HashMap<(ReplayKind, String), u64>>,
    clock: Arc<dyn Clock>,
}

impl Default for InMemoryReplayGuard {
    fn default() -> Self {
        Self {
            seen: Mutex::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl InMemoryReplayGuard {
    /// An empty guard.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same guard, reading the time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

#[async_trait::async_trait]
impl ReplayGuard for InMemoryReplayGuard {
    async fn first_use(
        &self,
        kind: ReplayKind,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, until| *until > now);
        Ok(seen
            .insert((kind, value.to_owned()), now + ttl.as_secs().max(1))
            .is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test]
    async fn a_value_is_single_use_until_its_ttl_passes_by_the_guards_clock() {
        let clock = Arc::new(ManualClock::new(1_700_000_000));
        let guard = InMemoryReplayGuard::new().with_clock(clock.clone());
        let ttl = Duration::from_secs(60);
        assert!(guard.first_use(ReplayKind::Nonce, "n1", ttl).await.unwrap());
        assert!(!guard.first_use(ReplayKind::Nonce, "n1", ttl).await.unwrap());
        // Another kind is another namespace.
        assert!(
            guard
                .first_use(ReplayKind::Webhook, "n1", ttl)
                .await
                .unwrap()
        );
        guard.first_use(ReplayKind::Nonce, "n2", ttl).await.unwrap();
        clock.advance(59);
        assert!(
            !guard
                .first_use(ReplayKind::Webhook, "n1", ttl)
                .await
                .unwrap()
        );
        // Remembered for `ttl` from its last use, then forgotten.
        clock.advance(1);
        assert!(guard.first_use(ReplayKind::Nonce, "n2", ttl).await.unwrap());
        assert!(!guard.first_use(ReplayKind::Nonce, "n2", ttl).await.unwrap());
        // Used again at +59 s: remembered past +60 s.
        assert!(
            !guard
                .first_use(ReplayKind::Webhook, "n1", ttl)
                .await
                .unwrap()
        );
    }
}
