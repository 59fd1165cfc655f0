//! The one clock every rule reads: Unix seconds.
//!
//! `unix_now` is the one place that asks the operating system for the time; everything else
//! reads a [`Clock`], so a test sets the time with a [`ManualClock`] instead of sleeping:
//! - the application's clock is the session manager's (`SessionManagerBuilder::clock`): the
//!   login flow (pending-login expiry, consents recorded, other-method verification times), the
//!   gate's consent lookup (`Rules::check_at`) and erasure read it too;
//! - the platform client's (`ClientBuilder::clock`): result tokens' `iat`/`exp`, webhook
//!   signatures, its request timestamps and authorization expiry — pass it the session
//!   manager's to run the whole login on one clock;
//! - the sandbox's (`SandboxOptions::clock`, feature `sandbox`).
//!
//! Lower layers take the time as an argument (`KeySet::verify_at`, `ConsentLedger::withdraw`,
//! `ConsentLedger::live_consent`, `Consented::get_at`); their argument-free conveniences
//! (`KeySet::verify`, `Consented::get`, `RequestSigner::authorization_now`) read the system
//! clock. So do the store methods that take no time argument (`SealedFieldStore::get`,
//! `ReplayGuard::first_use`, the in-memory revocation list's pruning) and the audit entry of
//! an erasure without a subject; Redis key expiry is Redis's own time.

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
