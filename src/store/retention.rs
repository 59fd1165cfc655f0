//! Retention periods (PIPL Art. 19, Art. 47 §1 item 2): [`RetentionPolicy`].

use std::collections::BTreeMap;
use std::time::Duration;

use super::ConsentRecord;

/// The latest time netid stores (9999-12-31T23:59:59Z): fits PostgreSQL's `bigint` and the
/// audit log's `at`.
pub(crate) const MAX_TIME: u64 = 253_402_300_799;

/// How long data for each purpose may be kept, from the moment the user consented (PIPL
/// Art. 19, Art. 47 §1 item 2), so every consent and every sealed field carries the time it
/// must be gone by.
///
/// 《个人信息保护法》第十九条: 除法律、行政法规另有规定外，个人信息的保存期限应当为实现处理目的所必要
/// 的最短时间。 Art. 47 §1 item 2: the processor deletes on its own when 保存期限已届满.
///
/// The application states the period for each purpose it asks fields for — the period the law
/// it cites as the legal basis sets, or the shortest its purpose needs — in a policy given to
/// the login flow (`LoginFlowBuilder::retention`). Each consent recorded from the platform's
/// receipt then expires at `granted_at + period`; the fields kept under it expire with it; an
/// expired consent is not live and its fields are not handed out; and a sweep
/// (`netid::erasure::Sweeper`, `netid sweep` from cron) deletes what has expired.
///
/// # The default period
/// A purpose the policy does not name is kept for [`RetentionPolicy::DEFAULT_PERIOD`], 30 days,
/// and so is a consent recorded with no expiry at all (every
/// [`ConsentLedger`](super::ConsentLedger) fills it in): nothing is kept without an end. Why 30
/// days: netid cannot know what a purpose needs, and what it keeps is among the most sensitive
/// data there is (ID document numbers are 个人敏感信息 in GB/T 35273—2020 Annex B), so the
/// default errs short — long enough for the follow-up a sign-up usually has (a support case, a
/// dispute about the first order), short enough that a forgotten setting does not become
/// keeping for years. A law that
/// requires keeping the data longer (the legal basis of a fields request is such a law) sets its
/// own period: state it. The login flow warns at build time when it asks for fields for a
/// purpose the policy does not name.
///
/// ```
/// use std::time::Duration;
/// use netid::store::RetentionPolicy;
///
/// const DAY: Duration = Duration::from_secs(86_400);
/// let policy = RetentionPolicy::new()
///     // The period the statute cited as the request's legal basis sets.
///     .purpose("商户入驻身份核验", 3 * 365 * DAY)
///     .purpose("会员实名", 180 * DAY);
/// assert_eq!(policy.period("会员实名"), 180 * DAY);
/// assert_eq!(policy.period("something unnamed"), RetentionPolicy::DEFAULT_PERIOD);
/// assert_eq!(policy.expires_at("会员实名", 1_700_000_000), 1_700_000_000 + 180 * 86_400);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    periods: BTreeMap<String, Duration>,
    default: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl RetentionPolicy {
    /// The period of a purpose the policy does not name, and of a consent recorded without an
    /// expiry: 30 days (see [the default period](Self#the-default-period) for why).
    pub const DEFAULT_PERIOD: Duration = Duration::from_secs(30 * 86_400);

    /// The shortest period: one hour. A login takes minutes from the user's consent to the
    /// fields being kept; a shorter period would expire the consent before its fields arrive
    /// and refuse the login. Shorter periods are raised to this.
    pub const MIN_PERIOD: Duration = Duration::from_secs(3_600);

    /// A policy that names no purpose: everything is kept for [`Self::DEFAULT_PERIOD`].
    pub fn new() -> Self {
        Self {
            periods: BTreeMap::new(),
            default: Self::DEFAULT_PERIOD,
        }
    }

    /// Data for `purpose` (exactly as the fields request states it) may be kept for `period`
    /// from the consent (at least [`Self::MIN_PERIOD`]).
    pub fn purpose(mut self, purpose: impl Into<String>, period: Duration) -> Self {
        self.periods
            .insert(purpose.into(), period.max(Self::MIN_PERIOD));
        self
    }

    /// The period for purposes not named (default [`Self::DEFAULT_PERIOD`]; at least
    /// [`Self::MIN_PERIOD`]).
    pub fn default_period(mut self, period: Duration) -> Self {
        self.default = period.max(Self::MIN_PERIOD);
        self
    }

    /// Whether the policy names `purpose`.
    pub fn states(&self, purpose: &str) -> bool {
        self.periods.contains_key(purpose)
    }

    /// How long data for `purpose` may be kept.
    pub fn period(&self, purpose: &str) -> Duration {
        self.periods.get(purpose).copied().unwrap_or(self.default)
    }

    /// When data for `purpose`, consented to at `from` (Unix seconds), must be gone.
    pub fn expires_at(&self, purpose: &str, from: u64) -> u64 {
        from.saturating_add(self.period(purpose).as_secs())
            .min(MAX_TIME)
    }

    /// `consent` with its expiry set from its purpose, counted from `granted_at` — or kept,
    /// where it already ends sooner: a policy never lengthens a consent.
    pub fn apply(&self, mut consent: ConsentRecord) -> ConsentRecord {
        let by_policy = self.expires_at(&consent.purpose, consent.granted_at);
        consent.expires_at = Some(consent.expires_at.map_or(by_policy, |e| e.min(by_policy)));
        consent
    }
}

/// `consent` with the default expiry if it has none (what every ledger records).
pub(crate) fn with_default_expiry(mut consent: ConsentRecord) -> ConsentRecord {
    if consent.expires_at.is_none() {
        consent.expires_at = Some(
            consent
                .granted_at
                .saturating_add(RetentionPolicy::DEFAULT_PERIOD.as_secs())
                .min(MAX_TIME),
        );
    }
    consent
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FieldName;

    const DAY: u64 = 86_400;

    fn consent(purpose: &str, expires_at: Option<u64>) -> ConsentRecord {
        ConsentRecord {
            id: "cr_1".into(),
            subject: "pw_1".into(),
            fields: vec![FieldName::IdNumber],
            purpose: purpose.into(),
            legal_basis: None,
            granted_at: 1_700_000_000,
            expires_at,
            withdrawn_at: None,
        }
    }

    #[test]
    fn a_stated_purpose_gets_its_period_and_others_the_default() {
        let p = RetentionPolicy::new().purpose("会员实名", Duration::from_secs(180 * DAY));
        assert_eq!(
            p.apply(consent("会员实名", None)).expires_at,
            Some(1_700_000_000 + 180 * DAY)
        );
        // 30 days = 2 592 000 s.
        assert_eq!(
            p.apply(consent("抽奖", None)).expires_at,
            Some(1_702_592_000)
        );
        assert!(p.states("会员实名") && !p.states("抽奖"));
        // Exact match only: a purpose is not a prefix.
        assert_eq!(p.period("会员实名 "), RetentionPolicy::DEFAULT_PERIOD);
    }

    #[test]
    fn a_policy_never_lengthens_a_consent() {
        let p = RetentionPolicy::new().purpose("x", Duration::from_secs(365 * DAY));
        assert_eq!(
            p.apply(consent("x", Some(1_700_000_100))).expires_at,
            Some(1_700_000_100)
        );
        let later = 1_700_000_000 + 400 * DAY;
        assert_eq!(
            p.apply(consent("x", Some(later))).expires_at,
            Some(1_700_000_000 + 365 * DAY)
        );
    }

    #[test]
    fn periods_are_bounded_below_and_expiries_above() {
        let p = RetentionPolicy::new()
            .purpose("x", Duration::ZERO)
            .default_period(Duration::from_secs(1));
        assert_eq!(p.period("x"), Duration::from_secs(3_600));
        assert_eq!(p.period("y"), Duration::from_secs(3_600));
        let forever = RetentionPolicy::new().purpose("x", Duration::MAX);
        assert_eq!(forever.expires_at("x", u64::MAX - 1), 253_402_300_799);
        assert_eq!(forever.expires_at("x", 0), 253_402_300_799);
    }

    #[test]
    fn a_consent_without_expiry_gets_the_default_and_one_with_keeps_it() {
        assert_eq!(
            with_default_expiry(consent("x", None)).expires_at,
            Some(1_700_000_000 + 30 * DAY)
        );
        assert_eq!(
            with_default_expiry(consent("x", Some(5))).expires_at,
            Some(5)
        );
    }
}
