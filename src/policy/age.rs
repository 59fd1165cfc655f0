//! The age gate (Art. 5 §2, Art. 10): decides on age bands, never on birth dates.
//!
//! Art. 5 §2: a person under 14 who registers or verifies with 网号/网证 needs a parent's or
//! guardian's consent. (Art. 4 is about *applying* for a 网号/网证 at the national platform.)
//! Art. 10 lets the national platform give age tags for minors, the elderly and others.

use super::{Problem, ProblemKind, VerifiedUser};
use crate::model::AgeTag;

/// Whether a user of this age band and guardian consent is under 14 without a parent's or
/// guardian's consent (Art. 5 §2): login refuses them, and so does every age gate that admits
/// under-14s at all.
pub(crate) fn lacks_guardian_consent(
    age_tag: Option<AgeTag>,
    guardian_consent: Option<bool>,
) -> bool {
    age_tag == Some(AgeTag::Under14) && guardian_consent != Some(true)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Assurance;
    use crate::policy::user::Method;

    fn user(age_tag: Option<AgeTag>, guardian_consent: Option<bool>) -> VerifiedUser {
        VerifiedUser {
            subject: "pw_x".into(),
            assurance: Assurance::Credential,
            age_tag,
            guardian_consent,
            verified_at: 0,
            method: Method::NetId,
        }
    }

    /// Login refuses an under-14 without consent; the gate still does too, for a session made
    /// before that (or by the application itself).
    #[test]
    fn the_gate_refuses_an_under_14_without_consent_even_where_under_14s_may_come() {
        let kids = AgeGate::allow_minors().with_guardian_consent_for_under_14();
        for consent in [None, Some(false)] {
            assert!(lacks_guardian_consent(Some(AgeTag::Under14), consent));
            let refusal = kids
                .check(&user(Some(AgeTag::Under14), consent))
                .unwrap_err();
            assert_eq!(
                (refusal.status, refusal.code),
                (403, "netid.age_guardian_consent_required")
            );
        }
        assert!(!lacks_guardian_consent(Some(AgeTag::Under14), Some(true)));
        assert!(kids.check(&user(Some(AgeTag::Under14), Some(true))).is_ok());
        // Only under-14s need it.
        assert!(!lacks_guardian_consent(
            Some(AgeTag::Age14To17),
            Some(false)
        ));
        assert!(!lacks_guardian_consent(None, None));
        assert!(kids.check(&user(Some(AgeTag::Age14To17), None)).is_ok());
        assert_eq!(
            kids.check(&user(None, None)).unwrap_err().code,
            "netid.age_unknown",
            "an unknown band fails closed"
        );
    }
}
