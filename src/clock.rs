//! The one clock every rule reads: Unix seconds.
//!
//! Every expiry, replay window and retention period in the crate is measured with
//! [`unix_now`], so there is exactly one place that asks the operating system for the time.
//! Components that tests drive through time take a time argument instead (`KeySet::verify_at`,
//! `Validation::now`), never a clock of their own.

/// Seconds since the Unix epoch; 0 if the system clock is set before it (every expiry check
/// then fails closed, as everything looks expired or not yet valid).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
