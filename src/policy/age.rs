//! The age gate (Art. 5 §2, Art. 10): decides on age bands, never on birth dates.
//!
//! Art. 5 §2: a person under 14 who registers or verifies with 网号/网证 needs a parent's or
//! guardian's consent. (Art. 4 is about *applying* for a 网号/网证 at the national platform.)
//! Art. 10 lets the national platform give age tags for minors, the elderly and others.

use super::{Problem, ProblemKind, VerifiedUser};
use crate::model::AgeTag;

/// Who may use a route, by age band.
///
/// ```
/// use netid::policy::AgeGate;
/// let gate = AgeGate::allow_minors().with_guardian_consent_for_under_14();
/// # let _ = gate;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeGate {
    allowed: Vec<AgeTag>,
    under_14_with_guardian: bool,
}

impl AgeGate {
    /// Adults and seniors only.
    pub fn adults_only() -> Self {
        Self {
            allowed: vec![AgeTag::Adult, AgeTag::Senior],
            under_14_with_guardian: false,
        }
    }

    /// Everyone from 14 up; under-14s are refused (see [`AgeGate::with_guardian_consent_for_under_14`]).
    pub fn allow_minors() -> Self {
        Self {
            allowed: vec![AgeTag::Age14To17, AgeTag::Adult, AgeTag::Senior],
            under_14_with_guardian: false,
        }
    }

    /// Also admit under-14s whose parent or guardian consented (Art. 5 §2).
    pub fn with_guardian_consent_for_under_14(mut self) -> Self {
        self.under_14_with_guardian = true;
        self
    }

    /// Exactly these bands (e.g. seniors-only services, Art. 10).
    pub fn bands(allowed: impl IntoIterator<Item = AgeTag>) -> Self {
        Self {
            allowed: allowed.into_iter().collect(),
            under_14_with_guardian: false,
        }
    }

    /// The gate that admits only whom both admit.
    pub(crate) fn meet(&self, other: &AgeGate) -> AgeGate {
        let under_14 =
            |g: &AgeGate| g.under_14_with_guardian || g.allowed.contains(&AgeTag::Under14);
        AgeGate {
            allowed: self
                .allowed
                .iter()
                .filter(|t| other.allowed.contains(t))
                .copied()
                .collect(),
            under_14_with_guardian: under_14(self) && under_14(other),
        }
    }

    /// Lets `user` through or says why not (403, with a code per refusal). A user whose band is
    /// unknown is refused: the gate fails closed.
    pub fn check(&self, user: &VerifiedUser) -> Result<(), Problem> {
        let refuse = |kind| Err(Problem::of(kind));
        match user.age_tag {
            None => refuse(ProblemKind::AgeUnknown),
            // Under 14 always needs a guardian's consent (Art. 5 §2), whatever bands are allowed.
            Some(AgeTag::Under14)
                if self.under_14_with_guardian || self.allowed.contains(&AgeTag::Under14) =>
            {
                match user.guardian_consent {
                    Some(true) => Ok(()),
                    _ => refuse(ProblemKind::AgeGuardianConsentRequired),
                }
            }
            Some(tag) if self.allowed.contains(&tag) => Ok(()),
            Some(AgeTag::Under14) => refuse(ProblemKind::AgeUnder14),
            Some(AgeTag::Age14To17) => refuse(ProblemKind::AgeMinor),
            Some(_) => refuse(ProblemKind::AgeBandNotAllowed),
        }
    }
}
