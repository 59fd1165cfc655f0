//! The one clock every rule reads: Unix seconds.
//!
//! `unix_now` is the one place that asks the operating system for the time; everything else
//! reads a [`Clock`], so a test sets the time with a [`ManualClock`] instead of sleeping.
//!
//! # The application's clock, set once
//! The session manager's ([`SessionManagerBuilder::clock`](crate::policy::SessionManagerBuilder::clock))
//! is handed down to everything on the request path of the gate and the login flow:
//! - sessions: issue, expiry, renewal, and the default revocation store
//!   ([`InMemoryRevocations::with_clock`](crate::store::InMemoryRevocations::with_clock));
//! - the login flow ([`LoginFlow`](crate::policy::LoginFlow)): pending-login expiry and caps,
//!   consents recorded and withdrawn, other-method verification times, the dates of its audit
//!   records, and the [`Vault`](crate::store::Vault) it is given
//!   ([`Vault::with_clock`](crate::store::Vault::with_clock));
//! - the gate ([`Gate::new`](crate::policy::Gate::new)): the consent lookup, and its rules
//!   ([`RulesBuilder::clock`](crate::policy::RulesBuilder::clock)), whose detectors read today's
//!   date from it ([`Detector::clock`](crate::detect::Detector::clock));
//! - erasure ([`Erasure`](crate::erasure::Erasure)): the receipt's and the records' dates,
//!   consents withdrawn, and the vault it is given.
//!
//! # The other clocks
//! - The platform client's ([`ClientBuilder::clock`](crate::client::ClientBuilder::clock)):
//!   result tokens' `iat`/`exp`, webhook signatures, its request timestamps, authorization
//!   expiry, and its default replay guard
//!   ([`InMemoryReplayGuard::with_clock`](crate::store::InMemoryReplayGuard::with_clock)) —
//!   pass it the session manager's to run the whole login on one clock.
//! - The sandbox's (`SandboxOptions::clock`, feature `sandbox`).
//! - A store built on its own reads its own, the system clock unless given one:
//!   `InMemoryRevocations::with_clock`, `InMemoryReplayGuard::with_clock`,
//!   [`InMemorySealedFields::with_clock`](crate::store::InMemorySealedFields::with_clock) (for
//!   [`SealedFieldStore::get`](crate::store::SealedFieldStore::get); the vault asks
//!   [`get_at`](crate::store::SealedFieldStore::get_at) with its own), and `RedisStoreBuilder::clock`
//!   (feature `redis`: the pending-login count; every other Redis operation is given the time,
//!   and keys expire by Redis's own).
//! - Rules used without a gate read [`RulesBuilder::clock`](crate::policy::RulesBuilder::clock).
//!
//! # What reads the system clock
//! - The argument-free conveniences that mirror a method taking the time, as `jsonwebtoken`'s
//!   do: [`KeySet::verify`](crate::keys::KeySet::verify) (`verify_at`),
//!   `UnverifiedToken::verify` (`verify_at`), [`Consented::get`](crate::store::Consented::get)
//!   (`get_at`), [`RequestSigner::authorization_now`](crate::request_auth::RequestSigner::authorization_now)
//!   (`authorization`), and `PostgresStore`'s `SealedFieldStore::get` (`get_at`). Nothing in
//!   the gate or the login flow calls them.
//! - [`AuditEvent::new`](crate::audit::AuditEvent::new) and `without_subject` date an event
//!   now by the system clock; [`AuditEvent::at`](crate::audit::AuditEvent::at) sets the time,
//!   and the login flow and erasure set theirs.
//! - The defaults above ([`SystemClock`]) where no clock is given, and the command line.
//!
//! Durations that are not dates are measured on the monotonic clock (`Instant`), which no
//! test needs to move: the key set's cache lifetime, a pending login's claim lease, the Redis
//! revocation subscription's liveness.

use std::sync::atomic::{AtomicU64, Ordering};

/// Seconds since the Unix epoch; 0 if the system clock is set before it (every expiry check
/// then fails closed, as everything looks expired or not yet valid).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Where a component reads the time (Unix seconds).
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// Now, in seconds since the Unix epoch.
    fn now(&self) -> u64;
}

/// The system clock: the default everywhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        unix_now()
    }
}

/// A clock that moves only when told: for tests of expiry, renewal and retention without
/// sleeping.
///
/// ```
/// use netid::clock::{Clock, ManualClock};
/// let clock = ManualClock::new(1_700_000_000);
/// clock.advance(60);
/// assert_eq!(clock.now(), 1_700_000_060);
/// ```
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock that reads `now`.
    pub fn new(now: u64) -> Self {
        Self(AtomicU64::new(now))
    }

    /// Sets the time.
    pub fn set(&self, now: u64) {
        self.0.store(now, Ordering::SeqCst);
    }

    /// Moves the time forward by `secs`.
    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}
