//! Shared state: the traits every backend implements, the error they share, and the in-memory
//! defaults for a single instance.
//!
//! One instance can keep everything in memory. Several instances of an application must share
//! state, or the rules hold per instance only (a token used at A would pass at B). The `redis`
//! feature adds `store::redis::RedisStore` (replay guard, session
//! revocations); the `postgres` feature adds the PostgreSQL consent ledger, field vault and
//! audit log.
//!
//! Nothing is kept without an end: every consent and every sealed field carries an expiry from
//! its purpose's [`RetentionPolicy`], and `erasure::Sweeper` deletes what has expired.
//!
//! Every store fails closed: when a backend cannot answer, the operation returns a
//! [`StoreError::Unavailable`] (retryable), and the rule that needed it refuses rather than
//! passes.

mod consent;
mod pending;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod postgres;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;
mod replay;
mod retention;
mod revocation;
mod vault;

pub use crate::error::StoreError;
pub use consent::{ConsentError, ConsentLedger, ConsentRecord, Consented, InMemoryConsentLedger};
pub use pending::{
    InMemoryPendingLogins, LoginKey, NewPendingLogin, PendingError, PendingLimits,
    PendingLoginStore,
};
pub use replay::{InMemoryReplayGuard, ReplayGuard, ReplayKind};
pub use retention::RetentionPolicy;
pub use revocation::{InMemoryRevocations, RevocationStore};
pub use vault::{InMemorySealedFields, SealedFieldStore, Vault, VaultError, Withdrawal};
