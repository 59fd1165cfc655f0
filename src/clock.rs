//! The one clock every rule reads: Unix seconds.
//!
//! Every expiry, replay window and retention period in the crate is measured with
//! `unix_now`, so there is exactly one place that asks the operating system for the time.
//! The application's clock is the session manager's (`SessionManagerBuilder::clock`): the
//! login flow (pending-login expiry, consents recorded, other-method verification times) and
//! erasure read it too, so a test moves the whole application's time at once. Stores and the
//! token checks take a time argument (`KeySet::verify_at`, `ConsentLedger::withdraw`).

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
