//! What a scan reports: findings, their kind and confidence, and the scan as a whole.
//!
//! Nothing here holds a value from the scanned body. A [`Finding`] carries a location (a JSON
//! path or a field name, sanitised), a kind and a confidence, so `Debug` and `Display` are safe to
//! log.

use std::fmt;

use crate::model::{FieldName, IdDocumentType};

/// Which region a residence permit (居住证) number belongs to: its area code is `810000` (Hong
/// Kong), `820000` (Macao) or `830000` (Taiwan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PermitRegion {
    /// `810000`: Hong Kong.
    HongKong,
    /// `820000`: Macao.
    Macau,
    /// `830000`: Taiwan.
    Taiwan,
}

/// What a finding is.
///
/// Kinds with a check character ([`ResidentId`](Self::ResidentId),
/// [`ResidencePermit`](Self::ResidencePermit),
/// [`ForeignPermanentResidence2023`](Self::ForeignPermanentResidence2023)) are found anywhere,
/// including inside free text. The others have no check character and are reported only with
/// context: an identity-bearing field name, or a label such as 身份证 or 护照 just before the
/// number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FindingKind {
    /// An 18-character resident identity number (GB 11643-1999): valid MOD 11-2 check character,
    /// valid birth date, plausible province.
    ResidentId,
    /// A Hong Kong, Macao or Taiwan residents' residence permit number: the 18-character form
    /// with area code `810000`, `820000` or `830000`.
    ResidencePermit(PermitRegion),
    /// A 15-digit first-generation resident identity number (`19YYMMDD` birth date). Needs
    /// context.
    LegacyResidentId,
    /// A Hong Kong and Macao residents' travel permit (回乡证): `H`/`M` + 8 or 10 digits, or
    /// `HA`/`MA` + 7 digits. Needs context.
    HkMacauTravelPermit,
    /// A Taiwan residents' travel permit (台胞证): 8 digits, or 10 digits and a bracketed letter.
    /// Needs context.
    TaiwanTravelPermit,
    /// A PRC passport number: `E`/`G` + 8 digits, `E` + letter + 7 digits, `PE`/`SE`/`DE` + 7
    /// digits. Needs context.
    ChinesePassport,
    /// A foreigner's permanent residence ID card, 2017 form: 3 letters + 12 digits. Needs context.
    ForeignPermanentResidence2017,
    /// A foreigner's permanent residence ID card, 2023 form: 18 digits starting with `9`, with a
    /// valid MOD 11-2 check.
    ForeignPermanentResidence2023,
    /// A non-empty value under an identity-bearing field name (`idNo`, `realName`, `xm`,
    /// `csrq`, …) that is not one of the numbers above, or `name` beside an identity field.
    IdentityFieldName,
    /// A masked number such as `110101********1233`, or a masked value under an identity field.
    /// Not plaintext: reported, never blocking.
    MaskedId,
    /// A number that passes both the resident-ID check and the unified social credit code check
    /// (GB 32100), with nothing around it to decide which it is. Reported, not blocking.
    Ambiguous,
}

impl FindingKind {
    /// A short, stable, machine-readable name (`resident_id`, `masked_id`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::ResidentId => "resident_id",
            FindingKind::ResidencePermit(_) => "residence_permit",
            FindingKind::LegacyResidentId => "legacy_resident_id",
            FindingKind::HkMacauTravelPermit => "hk_macau_travel_permit",
            FindingKind::TaiwanTravelPermit => "taiwan_travel_permit",
            FindingKind::ChinesePassport => "chinese_passport",
            FindingKind::ForeignPermanentResidence2017 => "foreign_permanent_residence_2017",
            FindingKind::ForeignPermanentResidence2023 => "foreign_permanent_residence_2023",
            FindingKind::IdentityFieldName => "identity_field_name",
            FindingKind::MaskedId => "masked_id",
            FindingKind::Ambiguous => "ambiguous",
        }
    }

    /// The legal identity document this kind of number belongs to, where there is one.
    ///
    /// [`ChinesePassport`](Self::ChinesePassport) maps to
    /// [`IdDocumentType::PassportSettledAbroad`], the only passport among the seven documents;
    /// a passport number alone does not say whether its holder is settled abroad.
    pub fn document(&self) -> Option<IdDocumentType> {
        Some(match self {
            FindingKind::ResidentId | FindingKind::LegacyResidentId => {
                IdDocumentType::ResidentIdCard
            }
            FindingKind::ResidencePermit(PermitRegion::Taiwan) => {
                IdDocumentType::TaiwanResidencePermit
            }
            FindingKind::ResidencePermit(_) => IdDocumentType::HkMacauResidencePermit,
            FindingKind::HkMacauTravelPermit => IdDocumentType::HkMacauTravelPermit,
            FindingKind::TaiwanTravelPermit => IdDocumentType::TaiwanTravelPermit,
            FindingKind::ChinesePassport => IdDocumentType::PassportSettledAbroad,
            FindingKind::ForeignPermanentResidence2017
            | FindingKind::ForeignPermanentResidence2023 => {
                IdDocumentType::ForeignPermanentResidenceCard
            }
            FindingKind::IdentityFieldName | FindingKind::MaskedId | FindingKind::Ambiguous => {
                return None;
            }
        })
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure the detector is, and whether the finding should block the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Confidence {
    /// The number carries its own proof: check character, valid birth date (1800-01-01 to
    /// today; GB 11643's own example was born in 1880), plausible province prefix (11–65, 71, 81–83; for the 2023 foreigner form, `9`
    /// and such a prefix). Blocking.
    Checked,
    /// No check character: matched because the field name or a nearby label says identity.
    /// Blocking.
    Contextual,
    /// Worth reporting (masked, ambiguous), not plaintext identity data. Not blocking.
    Report,
}

impl Confidence {
    /// A short, stable, machine-readable name (`checked`, `contextual`, `report`).
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Checked => "checked",
            Confidence::Contextual => "contextual",
            Confidence::Report => "report",
        }
    }

    /// Whether a finding with this confidence should block the request.
    pub fn is_blocking(self) -> bool {
        !matches!(self, Confidence::Report)
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One piece of identity data found in a body: where, what, how sure. Never the value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Finding {
    /// Where it is: a JSON path (`$.user.idNo`, `$.items[2].cert`), a form or query field name,
    /// or a multipart part name. Key names that are long, unprintable, hold a run of more than
    /// four digits, or have non-ASCII letters without being a known field name (a map keyed by
    /// people's names) are replaced by their length (`$["<18 bytes>"]`).
    pub location: String,
    /// What it is.
    pub kind: FindingKind,
    /// How sure, and whether it blocks.
    pub confidence: Confidence,
    /// The plaintext identity field (Art. 8 §2) the value is: the document number for every number
    /// kind; for [`FindingKind::IdentityFieldName`], what the field name says (`realName` →
    /// [`FieldName::Name`], `csrq` → [`FieldName::BirthDate`], `certType` →
    /// [`FieldName::IdType`]).
    pub field: FieldName,
}

impl Finding {
    /// Whether this finding should block the request (its confidence is not
    /// [`Confidence::Report`]).
    pub fn is_blocking(&self) -> bool {
        self.confidence.is_blocking()
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {} ({})",
            self.kind, self.location, self.confidence
        )
    }
}

/// The result of scanning one body: every finding, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Scan {
    /// Every finding, blocking or not, in the order their values appear in the body.
    pub findings: Vec<Finding>,
}

impl Scan {
    /// Nothing found at all, not even report-only findings.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// The findings that should block the request (all but [`Confidence::Report`] ones).
    pub fn blocking(&self) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.is_blocking()).collect()
    }

    /// Whether any finding should block the request.
    pub fn should_block(&self) -> bool {
        self.findings.iter().any(Finding::is_blocking)
    }
}

impl fmt::Display for Scan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.findings.is_empty() {
            return f.write_str("no identity data found");
        }
        for (i, finding) in self.findings.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{finding}")?;
        }
        Ok(())
    }
}

/// A value reduced to what a report may show: its first and last character, with `…` between
/// (`1…X` for `11010519491231002X`). A value of two or three characters keeps only its first
/// (`张…`: a short name would otherwise be shown whole) and a single character none (`…`).
///
/// Neither `Display` nor `Debug` can show more than that: the value itself is never kept.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Redacted(String);

impl Redacted {
    /// Redacts `value`.
    pub fn of(value: &str) -> Self {
        let mut chars = value.trim().chars();
        let first = chars.next();
        let last = chars.next_back();
        let middle = chars.next().is_some();
        let mut out = String::new();
        match (first, last) {
            (Some(f), Some(l)) if middle && value.trim().chars().count() >= 4 => {
                out.push(f);
                out.push('…');
                out.push(l);
            }
            (Some(f), Some(_)) => {
                out.push(f);
                out.push('…');
            }
            _ => out.push('…'),
        }
        Redacted(out)
    }

    /// The redacted form, e.g. `1…X`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redacted({:?})", self.0)
    }
}

/// A finding and where its value is in the scanned input: what `netid scan` reports.
///
/// Offsets count bytes from the start of the input (for
/// [`Detector::locate_fields`](super::Detector::locate_fields), from the start of the field's
/// value). Lines count from 1 and are separated by `\n`; columns count bytes from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Located {
    /// What was found and where, as a path or field name (the [`Finding`]'s location).
    pub finding: Finding,
    /// The byte offset of the value (or of the match inside it) from the start of the input.
    pub offset: u64,
    /// The line it starts on, from 1.
    pub line: u64,
    /// Its byte column in that line, from 1.
    pub column: u64,
    /// The value, redacted.
    pub redacted: Redacted,
    /// For [`Detector::locate_fields`](super::Detector::locate_fields): the index of the field
    /// it is in.
    pub field: Option<usize>,
}
