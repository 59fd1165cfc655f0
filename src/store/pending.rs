//! Logins started and not finished, shared by every instance: a login started at instance A
//! completes when the platform's webhook reaches B or the browser's poll reaches C.
//!
//! The store keeps each login as an opaque state (the login flow's own serialized form) under
//! the SM3 of the browser's binding secret, with an index by authorization id (the webhook's
//! only handle), both O(1). It enforces the caps on unauthenticated starts
//! ([`PendingLimits`]) in the same atomic step as the insert, so many instances together keep
//! them. A login concluded by one instance is not concluded again by another at the same time:
//! a short claim ([`PendingLoginStore::claim`]) serialises them, which is what keeps a login
//! from being accepted twice when a webhook and a poll arrive at once.
//!
//! The in-memory store ([`InMemoryPendingLogins`]) is for one instance; `RedisStore` (feature
//! `redis`) shares them.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use crate::error::StoreError;

/// The key of a pending login: SM3 of the browser binding secret. The secret itself is never
/// stored.
pub type LoginKey = [u8; 32];

/// Caps on logins started and not finished (see `LoginFlowBuilder::pending_limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingLimits {
    /// Logins pending in all instances together.
    pub total: usize,
    /// Logins pending from one client address.
    pub per_client: usize,
}

impl Default for PendingLimits {
    /// 10,000 in all, 32 per client address.
    fn default() -> Self {
        Self {
            total: 10_000,
            per_client: 32,
        }
    }
}

/// A login to keep: where it came from, until when, and the flow's state.
#[derive(Clone)]
pub struct NewPendingLogin {
    /// SM3 of the browser binding.
    pub key: LoginKey,
    /// The platform's authorization id, for the webhook's lookup.
    pub authz_id: String,
    /// The peer address it was started from, for the per-client cap.
    pub client: Option<IpAddr>,
    /// When the store may forget it (Unix seconds).
    pub forget_at: u64,
    /// The login flow's state (JSON; holds pseudonyms and the platform's signed answer once
    /// finished, never plaintext identity fields).
    pub state: Vec<u8>,
}

impl std::fmt::Debug for NewPendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewPendingLogin")
            .field("authz_id", &self.authz_id)
            .field("forget_at", &self.forget_at)
            .finish_non_exhaustive()
    }
}

/// Why a login was not kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PendingError {
    /// The overall cap is reached: the platform must wait for logins to finish or lapse (or
    /// raise the cap).
    #[error("too many logins pending in all")]
    Full,
    /// The cap for this client address is reached: the client must finish or wait for one.
    #[error("too many logins pending from one client address")]
    ClientFull,
    /// The store could not answer.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where pending logins are kept. Object-safe; every method is one atomic step.
#[async_trait::async_trait]
pub trait PendingLoginStore: Send + Sync + 'static {
    /// Keeps `login`, after forgetting those whose `forget_at` is not after `now`, unless the
    /// total or the client's count would pass `limits`.
    async fn insert(
        &self,
        login: NewPendingLogin,
        limits: PendingLimits,
        now: u64,
    ) -> Result<(), PendingError>;

    /// Whether a login from `client` would be kept now (the caps, as [`insert`](Self::insert)
    /// checks them, but without keeping anything): lets a start be refused before the platform
    /// is asked. Not atomic; `insert` decides.
    async fn admits(
        &self,
        client: Option<IpAddr>,
        limits: PendingLimits,
        now: u64,
    ) -> Result<(), PendingError>;

    /// The state of the login under `key`, if kept.
    async fn get(&self, key: &LoginKey) -> Result<Option<Vec<u8>>, StoreError>;

    /// The key of the login of authorization `authz_id`, if kept.
    async fn find(&self, authz_id: &str) -> Result<Option<LoginKey>, StoreError>;

    /// Replaces the state of the login under `key`; `false` if it is no longer kept.
    async fn update(&self, key: &LoginKey, state: Vec<u8>) -> Result<bool, StoreError>;

    /// Forgets the login under `key`; `true` if this call removed it (exactly one caller does).
    async fn remove(&self, key: &LoginKey) -> Result<bool, StoreError>;

    /// Takes the login under `key` for `holder` for at most `lease`: `false` if another holder
    /// has it. A holder that dies loses it when the lease ends.
    async fn claim(
        &self,
        key: &LoginKey,
        holder: &str,
        lease: Duration,
    ) -> Result<bool, StoreError>;

    /// Gives up `holder`'s claim on `key` (no effect if it is not theirs).
    async fn release(&self, key: &LoginKey, holder: &str) -> Result<(), StoreError>;

    /// How many logins are kept (for metrics and tests), lapsed ones included until the next
    /// insert forgets them.
    async fn count(&self) -> Result<usize, StoreError>;
}

struct Kept {
    authz_id: String,
    client: Option<IpAddr>,
    forget_at: u64,
    state: Vec<u8>,
    claim: Option<(String, std::time::Instant)>,
}

#[derive(Default)]
struct Table {
    logins: HashMap<LoginKey, Kept>,
    by_authz: HashMap<String, LoginKey>,
    per_client: HashMap<IpAddr, usize>,
    /// (forget_at, key): the lapsed ones first, so forgetting them costs what it removes.
    by_expiry: BTreeSet<(u64, LoginKey)>,
}

impl Table {
    fn remove(&mut self, key: &LoginKey) -> bool {
        let Some(kept) = self.logins.remove(key) else {
            return false;
        };
        self.by_authz.remove(&kept.authz_id);
        self.by_expiry.remove(&(kept.forget_at, *key));
        if let Some(client) = kept.client
            && let Some(n) = self.per_client.get_mut(&client)
        {
            *n -= 1;
            if *n == 0 {
                self.per_client.remove(&client);
            }
        }
        true
    }

    fn check(&self, client: Option<IpAddr>, limits: PendingLimits) -> Result<(), PendingError> {
        if self.logins.len() >= limits.total {
            return Err(PendingError::Full);
        }
        if let Some(client) = client
            && self.per_client.get(&client).copied().unwrap_or(0) >= limits.per_client
        {
            return Err(PendingError::ClientFull);
        }
        Ok(())
    }

    fn forget_lapsed(&mut self, now: u64) {
        while let Some(&(at, key)) = self.by_expiry.first() {
            if at > now {
                break;
            }
            self.remove(&key);
        }
    }
}

/// Pending logins in this process: right for one instance only.
#[derive(Default)]
pub struct InMemoryPendingLogins {
    table: Mutex<Table>,
}

impl std::fmt::Debug for InMemoryPendingLogins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryPendingLogins")
            .finish_non_exhaustive()
    }
}

impl InMemoryPendingLogins {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait::async_trait]
impl PendingLoginStore for InMemoryPendingLogins {
    async fn insert(
        &self,
        login: NewPendingLogin,
        limits: PendingLimits,
        now: u64,
    ) -> Result<(), PendingError> {
        let mut table = self.table();
        table.forget_lapsed(now);
        // A key or authorization seen again replaces the old login (it cannot happen with
        // random bindings; if it did, one login per key is what the lookups assume).
        table.remove(&login.key);
        if let Some(old) = table.by_authz.get(&login.authz_id).copied() {
            table.remove(&old);
        }
        table.check(login.client, limits)?;
        if let Some(client) = login.client {
            *table.per_client.entry(client).or_default() += 1;
        }
        table.by_authz.insert(login.authz_id.clone(), login.key);
        table.by_expiry.insert((login.forget_at, login.key));
        table.logins.insert(
            login.key,
            Kept {
                authz_id: login.authz_id,
                client: login.client,
                forget_at: login.forget_at,
                state: login.state,
                claim: None,
            },
        );
        Ok(())
    }

    async fn admits(
        &self,
        client: Option<IpAddr>,
        limits: PendingLimits,
        now: u64,
    ) -> Result<(), PendingError> {
        let mut table = self.table();
        table.forget_lapsed(now);
        table.check(client, limits)
    }

    async fn get(&self, key: &LoginKey) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.table().logins.get(key).map(|k| k.state.clone()))
    }

    async fn find(&self, authz_id: &str) -> Result<Option<LoginKey>, StoreError> {
        Ok(self.table().by_authz.get(authz_id).copied())
    }

    async fn update(&self, key: &LoginKey, state: Vec<u8>) -> Result<bool, StoreError> {
        Ok(match self.table().logins.get_mut(key) {
            Some(kept) => {
                kept.state = state;
                true
            }
            None => false,
        })
    }

    async fn remove(&self, key: &LoginKey) -> Result<bool, StoreError> {
        Ok(self.table().remove(key))
    }

    async fn claim(
        &self,
        key: &LoginKey,
        holder: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let mut table = self.table();
        let Some(kept) = table.logins.get_mut(key) else {
            // Nothing to conclude: the caller finds it gone when it looks.
            return Ok(true);
        };
        let now = std::time::Instant::now();
        match &kept.claim {
            Some((other, until)) if other != holder && *until > now => Ok(false),
            _ => {
                kept.claim = Some((holder.to_owned(), now + lease));
                Ok(true)
            }
        }
    }

    async fn release(&self, key: &LoginKey, holder: &str) -> Result<(), StoreError> {
        if let Some(kept) = self.table().logins.get_mut(key)
            && kept.claim.as_ref().is_some_and(|(h, _)| h == holder)
        {
            kept.claim = None;
        }
        Ok(())
    }

    async fn count(&self) -> Result<usize, StoreError> {
        Ok(self.table().logins.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(n: u8, client: Option<IpAddr>, forget_at: u64) -> NewPendingLogin {
        NewPendingLogin {
            key: [n; 32],
            authz_id: format!("az_{n}"),
            client,
            forget_at,
            state: vec![n],
        }
    }

    const LIMITS: PendingLimits = PendingLimits {
        total: 3,
        per_client: 2,
    };

    #[tokio::test]
    async fn caps_hold_per_client_and_in_all_and_lapsed_logins_free_their_places() {
        let store = InMemoryPendingLogins::new();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        store
            .insert(login(1, Some(a), 100), LIMITS, 0)
            .await
            .unwrap();
        store
            .insert(login(2, Some(a), 200), LIMITS, 0)
            .await
            .unwrap();
        assert!(matches!(
            store.insert(login(3, Some(a), 100), LIMITS, 0).await,
            Err(PendingError::ClientFull)
        ));
        store
            .insert(login(4, Some(b), 100), LIMITS, 0)
            .await
            .unwrap();
        assert!(matches!(
            store.insert(login(5, None, 100), LIMITS, 0).await,
            Err(PendingError::Full)
        ));
        // At 100, logins 1 and 4 lapse: a's count and the total go down with them.
        store
            .insert(login(6, Some(a), 300), LIMITS, 100)
            .await
            .unwrap();
        assert_eq!(store.count().await.unwrap(), 2);
        assert_eq!(store.find("az_1").await.unwrap(), None);
        assert_eq!(store.find("az_6").await.unwrap(), Some([6; 32]));
    }

    #[tokio::test]
    async fn exactly_one_remover_and_one_claim_holder() {
        let store = InMemoryPendingLogins::new();
        store.insert(login(1, None, 100), LIMITS, 0).await.unwrap();
        let lease = Duration::from_secs(5);
        assert!(store.claim(&[1; 32], "x", lease).await.unwrap());
        assert!(!store.claim(&[1; 32], "y", lease).await.unwrap());
        assert!(store.claim(&[1; 32], "x", lease).await.unwrap());
        store.release(&[1; 32], "y").await.unwrap();
        assert!(!store.claim(&[1; 32], "y", lease).await.unwrap());
        store.release(&[1; 32], "x").await.unwrap();
        assert!(store.claim(&[1; 32], "y", lease).await.unwrap());
        assert!(store.update(&[1; 32], vec![9]).await.unwrap());
        assert_eq!(store.get(&[1; 32]).await.unwrap(), Some(vec![9]));
        assert!(store.remove(&[1; 32]).await.unwrap());
        assert!(!store.remove(&[1; 32]).await.unwrap());
        assert!(!store.update(&[1; 32], vec![9]).await.unwrap());
        assert_eq!(store.find("az_1").await.unwrap(), None);
    }
}
