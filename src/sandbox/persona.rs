//! The sandbox's people: synthetic, with valid-looking documents, never real.

use std::fmt;
use std::str::FromStr;

use crate::model::{AgeTag, IdDocumentType, UnknownValue};

/// Who plays the user in the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Persona {
    /// An adult with a resident ID card.
    Adult,
    /// A 13-year-old whose guardian consented: verified like anyone else; an age-tag answer
    /// says `under_14` with `guardian_consent: true`.
    Minor13WithGuardian,
    /// A 13-year-old whose parent or guardian has not consented: every request, whatever it asks
    /// for, is answered `not_verified` with the reason `guardian_consent_required` and a one-time
    /// `sub` (Art. 5 §2; protocol v1 §4.3.1).
    Minor13WithoutGuardian,
    /// A 16-year-old.
    Minor16,
    /// A 67-year-old.
    Senior67,
    /// A Hong Kong resident with a travel permit.
    HkResident,
    /// A foreigner with a permanent residence ID card.
    ForeignPermanentResident,
    /// Someone who declines every request.
    Declines,
    /// Someone who never answers (the authorization expires).
    NeverAnswers,
}

impl Persona {
    /// Every persona.
    pub const ALL: [Persona; 9] = [
        Persona::Adult,
        Persona::Minor13WithGuardian,
        Persona::Minor13WithoutGuardian,
        Persona::Minor16,
        Persona::Senior67,
        Persona::HkResident,
        Persona::ForeignPermanentResident,
        Persona::Declines,
        Persona::NeverAnswers,
    ];

    /// The persona id used on the wire and in the sandbox page.
    pub fn id(self) -> &'static str {
        match self {
            Persona::Adult => "adult",
            Persona::Minor13WithGuardian => "minor_13_with_guardian",
            Persona::Minor13WithoutGuardian => "minor_13_without_guardian",
            Persona::Minor16 => "minor_16",
            Persona::Senior67 => "senior_67",
            Persona::HkResident => "hk_resident",
            Persona::ForeignPermanentResident => "foreign_permanent_resident",
            Persona::Declines => "declines",
            Persona::NeverAnswers => "never_answers",
        }
    }

    /// How old the persona is.
    pub fn age(self) -> u32 {
        match self {
            Persona::Minor13WithGuardian | Persona::Minor13WithoutGuardian => 13,
            Persona::Minor16 => 16,
            Persona::Senior67 => 67,
            _ => 34,
        }
    }

    /// The persona's age band.
    pub fn age_tag(self) -> AgeTag {
        match self.age() {
            0..=13 => AgeTag::Under14,
            14..=17 => AgeTag::Age14To17,
            18..=59 => AgeTag::Adult,
            _ => AgeTag::Senior,
        }
    }

    /// Whether a guardian consented (minors only; `None` for adults and for 14–17, where the
    /// platform reports it only if a guardian acted). `Some(false)` is never put in a token:
    /// such a person is not verified at all (see [`Persona::Minor13WithoutGuardian`]), except
    /// under [`Fault::MinorWithoutConsentVerified`](super::Fault::MinorWithoutConsentVerified).
    pub fn guardian_consent(self) -> Option<bool> {
        match self {
            Persona::Minor13WithGuardian => Some(true),
            Persona::Minor13WithoutGuardian => Some(false),
            _ => None,
        }
    }

    /// The document the persona's 网证 was issued from.
    pub fn document(self) -> IdDocumentType {
        match self {
            Persona::HkResident => IdDocumentType::HkMacauTravelPermit,
            Persona::ForeignPermanentResident => IdDocumentType::ForeignPermanentResidenceCard,
            _ => IdDocumentType::ResidentIdCard,
        }
    }

    /// The persona's name (synthetic).
    pub fn name(self) -> &'static str {
        match self {
            Persona::Adult => "张三",
            Persona::Minor13WithGuardian => "李小明",
            Persona::Minor13WithoutGuardian => "王小红",
            Persona::Minor16 => "赵小刚",
            Persona::Senior67 => "刘淑芬",
            Persona::HkResident => "陳大文",
            Persona::ForeignPermanentResident => "JOHN SMITH",
            Persona::Declines => "孙不愿",
            Persona::NeverAnswers => "周无声",
        }
    }

    /// The persona's 网号 (network number): letters and digits, no identity data in it.
    pub(crate) fn network_number(self) -> String {
        format!(
            "SBX{:0>12}",
            self.id().len() * 7919 + self as usize * 104_729
        )
    }

    /// Birth date `YYYY-MM-DD` for someone of this age on `today` (y, m, d): same month and day,
    /// a few months earlier in the year so the age holds all year round.
    pub(crate) fn birth_date(self, today: (i64, u32, u32)) -> (i64, u32, u32) {
        let (y, m, _) = today;
        let month = if m > 1 { m - 1 } else { 12 };
        let year = if m > 1 { y } else { y - 1 } - i64::from(self.age());
        (year, month, 15)
    }

    /// The document number (synthetic; check digits are valid where the document has one).
    pub(crate) fn document_number(self, birth: (i64, u32, u32)) -> String {
        let ymd = format!("{:04}{:02}{:02}", birth.0, birth.1, birth.2);
        match self.document() {
            IdDocumentType::HkMacauTravelPermit => "H12345678".to_owned(),
            IdDocumentType::ForeignPermanentResidenceCard => {
                with_check_digit(&format!("911840{ymd}001"))
            }
            _ => with_check_digit(&format!("110105{ymd}{:03}", 10 + self as usize * 2 + 1)),
        }
    }
}

/// Appends the ISO 7064 MOD 11-2 check character (GB 11643) to 17 digits.
pub(crate) fn with_check_digit(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

impl fmt::Display for Persona {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Persona {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        Persona::ALL
            .into_iter()
            .find(|p| p.id() == s)
            .ok_or(UnknownValue {
                kind: "sandbox persona",
                allowed: "adult minor_13_with_guardian minor_13_without_guardian minor_16 senior_67 hk_resident foreign_permanent_resident declines never_answers",
            })
    }
}

/// The civil date (y, m, d) of a Unix time (Howard Hinnant's days-to-civil).
pub(crate) fn civil_date(unix_secs: u64) -> (i64, u32, u32) {
    let z = (unix_secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_match_the_standards_examples() {
        assert_eq!(with_check_digit("11010519491231002"), "11010519491231002X");
        assert_eq!(with_check_digit("44052418800101001"), "440524188001010014");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(951_782_400), (2000, 2, 29));
        assert_eq!(civil_date(1_767_229_200), (2026, 1, 1));
    }

    #[test]
    fn personas_have_consistent_bands() {
        assert_eq!(Persona::Minor13WithGuardian.age_tag(), AgeTag::Under14);
        assert_eq!(Persona::Minor16.age_tag(), AgeTag::Age14To17);
        assert_eq!(Persona::Senior67.age_tag(), AgeTag::Senior);
        assert_eq!(Persona::Adult.age_tag(), AgeTag::Adult);
        for p in Persona::ALL {
            assert_eq!(p.id().parse::<Persona>(), Ok(p));
            let n = p.network_number();
            assert!(n.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
        let nums: std::collections::HashSet<_> =
            Persona::ALL.iter().map(|p| p.network_number()).collect();
        assert_eq!(
            nums.len(),
            Persona::ALL.len(),
            "every persona is a different person"
        );
    }
}
