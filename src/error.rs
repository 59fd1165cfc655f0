//! What every netid error has in common: a stable code and the party who must act.

use std::fmt;

/// Who has to do something about an error.
///
/// Every error in this crate says which of these it is, so an application can route it without
/// matching on variants: show a message to the user, retry later, page the operator, or raise a
/// security alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Actor {
    /// The end user declined, did not answer, or must do something in the identity app.
    User,
    /// A transient failure (network, platform overload): the same call may succeed later.
    RetryLater,
    /// The relying party's own setup is wrong (keys, app id, validation settings): fix and redeploy.
    Configuration,
    /// The platform (or something pretending to be it) sent something invalid. Treat it as a
    /// security event: log it, alert, and never act on the data.
    SecurityEvent,
}

impl Actor {
    /// A short, stable, machine-readable name (`user`, `retry`, `configuration`, `security`).
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::User => "user",
            Actor::RetryLater => "retry",
            Actor::Configuration => "configuration",
            Actor::SecurityEvent => "security",
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Implemented by every error enum of this crate.
pub trait ErrorCode {
    /// The stable code documented in `docs/PROTOCOL.md`, e.g. `token.expired`.
    fn code(&self) -> &'static str;
    /// Who must act on this error.
    fn actor(&self) -> Actor;
}

/// Renders an attacker-controlled name (a JSON key, an `alg` value) so it can go into an error
/// message: short printable ASCII passes, anything else is summarised. Values never go through
/// here — only names, which the protocol bounds and which carry no personal data.
pub(crate) fn printable_name(name: &str) -> String {
    const MAX: usize = 32;
    // Protocol names hold at most a couple of digits (`x5c`, `HS256`); a longer digit run could be
    // an identity number smuggled into a key, so it is not echoed.
    const MAX_DIGITS: usize = 3;
    let printable = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+' | b':'));
    let digits = name.bytes().filter(u8::is_ascii_digit).count();
    if printable && !name.is_empty() && name.len() <= MAX && digits <= MAX_DIGITS {
        name.to_owned()
    } else {
        format!("<{} bytes, not shown>", name.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_name_passes_protocol_names_and_hides_the_rest() {
        assert_eq!(printable_name("x5c"), "x5c");
        assert_eq!(printable_name("HS256"), "HS256");
        assert_eq!(
            printable_name("11010519491231002X张"),
            "<21 bytes, not shown>"
        );
        assert_eq!(
            printable_name("11010519491231002X"),
            "<18 bytes, not shown>"
        );
        assert_eq!(printable_name(""), "<0 bytes, not shown>");
        assert_eq!(printable_name(&"a".repeat(33)), "<33 bytes, not shown>");
    }
}

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
    /// The backend refused the credentials (a wrong user or password, a role that does not
    /// exist, an ACL that does not admit it). Fix the URL or the server's access rules;
    /// retrying does not help.
    #[error("{backend} refused the credentials: {detail}")]
    AuthFailed {
        /// Which backend.
        backend: &'static str,
        /// Which user at which host and port, and why (never the password).
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

    /// The backend refused the credentials.
    pub fn auth_failed(backend: &'static str, detail: impl std::fmt::Display) -> Self {
        StoreError::AuthFailed {
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
            StoreError::AuthFailed { .. } => "store.auth_failed",
        }
    }

    fn actor(&self) -> Actor {
        match self {
            StoreError::Unavailable { .. } => Actor::RetryLater,
            StoreError::Corrupt { .. }
            | StoreError::Misconfigured { .. }
            | StoreError::AuthFailed { .. } => Actor::Configuration,
        }
    }
}
