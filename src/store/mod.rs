//! Shared state: the traits every backend implements, the error they share, and the in-memory
//! defaults for a single instance.
//!
//! One instance can keep everything in memory. Several instances of an application must share
//! state, or the rules hold per instance only (a token used at A would pass at B). The `redis`
//! feature adds `store::redis::RedisStore` (replay guard, session
//! revocations); the `postgres` feature adds the PostgreSQL consent ledger, field vault and
//! audit log.
//!
//! Every store fails closed: when a backend cannot answer, the operation returns a
//! [`StoreError::Unavailable`] (retryable), and the rule that needed it refuses rather than
//! passes.

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod postgres;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;
mod replay;
mod vault;

pub use replay::{InMemoryReplayGuard, ReplayGuard, ReplayKind};
pub use vault::{InMemorySealedFields, SealedFieldStore, Vault, VaultError};

use crate::error::{Actor, ErrorCode};

/// A backing store could not do what was asked. Rules that depend on it fail closed.
///
/// The detail never holds a key, a value or personal data: only what kind of failure it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend is unreachable, timed out or refused the connection. Nothing was changed;
    /// retry later.
    #[error("{backend} is unavailable: {detail}")]
    Unavailable {
        /// Which backend (`redis`, `postgres`, `file`, `memory`).
        backend: &'static str,
        /// What went wrong, without keys or values.
        detail: String,
    },
    /// The store's settings are unusable (a malformed URL, a bad key prefix or schema name).
    #[error("{backend} is misconfigured: {detail}")]
    Misconfigured {
        /// Which backend.
        backend: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The backend holds data netid cannot read (another writer, a wrong schema, a damaged
    /// file). An operator must look; retrying does not help.
    #[error("{backend} holds data netid cannot read: {detail}")]
    Corrupt {
        /// Which backend.
        backend: &'static str,
        /// What was wrong, without keys or values.
        detail: String,
    },
}

impl StoreError {
    /// The backend could not be reached or did not answer.
    pub fn unavailable(backend: &'static str, detail: impl std::fmt::Display) -> Self {
        StoreError::Unavailable {
            backend,
            detail: detail.to_string(),
        }
    }

    /// The backend answered with something netid cannot read.
    pub fn corrupt(backend: &'static str, detail: impl std::fmt::Display) -> Self {
        StoreError::Corrupt {
            backend,
            detail: detail.to_string(),
        }
    }

    /// The store's settings are unusable.
    pub fn misconfigured(backend: &'static str, detail: impl std::fmt::Display) -> Self {
        StoreError::Misconfigured {
            backend,
            detail: detail.to_string(),
        }
    }

    /// Whether retrying later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

impl ErrorCode for StoreError {
    fn code(&self) -> &'static str {
        match self {
            StoreError::Unavailable { .. } => "store.unavailable",
            StoreError::Corrupt { .. } => "store.corrupt",
            StoreError::Misconfigured { .. } => "store.misconfigured",
        }
    }

    fn actor(&self) -> Actor {
        match self {
            StoreError::Unavailable { .. } => Actor::RetryLater,
            StoreError::Corrupt { .. } | StoreError::Misconfigured { .. } => Actor::Configuration,
        }
    }
}
