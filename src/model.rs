//! The vocabulary of a verification result, as types.
//!
//! Every enum here has a fixed wire spelling. A value the platform sends that is not in the
//! list is an error ([`UnknownValue`]), never a silent default: a new age band or document type
//! is a protocol change the relying party must decide how to handle.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::crypto::{CryptoError, DecryptionKey};
use crate::error::{Actor, ErrorCode};
use crate::pii::{BirthDate, IdNumber, PersonalName};

/// A wire value that is not one of the values the protocol defines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {kind}; expected one of: {allowed}")]
pub struct UnknownValue {
    /// The type that was being read (`age tag`, `document type`, …).
    pub kind: &'static str,
    /// The accepted spellings.
    pub allowed: &'static str,
}

macro_rules! wire_enum {
    (
        $(#[$doc:meta])*
        $name:ident, $kind:literal {
            $( $(#[$vdoc:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )+
        }

        impl $name {
            /// Every value, in protocol order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        kind: $kind,
                        allowed: concat!($($wire, " "),+),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

wire_enum!(
    /// An age band (Art. 10): what a platform learns instead of a birth date.
    AgeTag, "age tag" {
        /// Under 14: registering or verifying with 网号/网证 needs a parent's or guardian's
        /// consent (Art. 5 §2).
        Under14 => "under_14",
        /// 14 to 17: a minor. (Art. 4 §3 has them apply for a 网号/网证 under a guardian's
        /// supervision; Art. 5 §2's guardian consent is for under-14s only.)
        Age14To17 => "age_14_to_17",
        /// 18 to 59.
        Adult => "adult",
        /// 60 or older (the elderly, Art. 10).
        Senior => "senior",
    }
);

impl AgeTag {
    /// Under 18.
    pub fn is_minor(self) -> bool {
        matches!(self, AgeTag::Under14 | AgeTag::Age14To17)
    }
}

wire_enum!(
    /// How the user authenticated in the identity app (the `amr` values).
    AuthMethod, "authentication method" {
        /// The 网证 credential itself.
        Credential => "cred",
        /// The credential PIN.
        Pin => "pin",
        /// Face recognition with liveness.
        Face => "face",
    }
);

wire_enum!(
    /// Why the platform could not verify the user.
    NotVerifiedReason, "not-verified reason" {
        /// The credential is not valid.
        CredentialInvalid => "credential_invalid",
        /// The credential was revoked.
        CredentialRevoked => "credential_revoked",
        /// The PIN did not match.
        PinMismatch => "pin_mismatch",
        /// The face did not match the document photo.
        FaceMismatch => "face_mismatch",
        /// The liveness check failed.
        LivenessFailed => "liveness_failed",
        /// The person does not match the identity asked about (re-verification).
        IdentityMismatch => "identity_mismatch",
        /// The person is under 14 and no parent or guardian has consented to their verifying
        /// with 网号/网证 (Art. 5 §2). Given for every kind of request, so a relying party
        /// learns it even when it asked for the result only — and learns nothing more: no age
        /// band, and a `sub` used for this answer alone (protocol v1 §4.3.1).
        GuardianConsentRequired => "guardian_consent_required",
    }
);

wire_enum!(
    /// The seven legal identity documents a 网号/网证 can be issued from (Art. 15). The article
    /// ends its list in 等 ("and other"), so the list may grow.
    IdDocumentType, "document type" {
        /// 居民身份证: resident identity card.
        ResidentIdCard => "resident_id_card",
        /// 定居国外的中国公民护照: passport of a Chinese citizen settled abroad.
        PassportSettledAbroad => "passport_settled_abroad",
        /// 港澳居民来往内地通行证: Hong Kong and Macao residents' travel permit.
        HkMacauTravelPermit => "hk_macau_travel_permit",
        /// 台湾居民来往大陆通行证: Taiwan residents' travel permit.
        TaiwanTravelPermit => "taiwan_travel_permit",
        /// 港澳居民居住证: Hong Kong and Macao residents' residence permit.
        HkMacauResidencePermit => "hk_macau_residence_permit",
        /// 台湾居民居住证: Taiwan residents' residence permit.
        TaiwanResidencePermit => "taiwan_residence_permit",
        /// 外国人永久居留身份证: foreigner's permanent residence ID card.
        ForeignPermanentResidenceCard => "foreign_permanent_residence_card",
    }
);

impl IdDocumentType {
    /// The document's name in Chinese, as printed on it.
    pub fn name_zh(self) -> &'static str {
        match self {
            IdDocumentType::ResidentIdCard => "居民身份证",
            IdDocumentType::PassportSettledAbroad => "定居国外的中国公民护照",
            IdDocumentType::HkMacauTravelPermit => "港澳居民来往内地通行证",
            IdDocumentType::TaiwanTravelPermit => "台湾居民来往大陆通行证",
            IdDocumentType::HkMacauResidencePermit => "港澳居民居住证",
            IdDocumentType::TaiwanResidencePermit => "台湾居民居住证",
            IdDocumentType::ForeignPermanentResidenceCard => "外国人永久居留身份证",
        }
    }
}

wire_enum!(
    /// A plaintext identity field a relying party may ask for under a legal basis (Art. 8 §2).
    FieldName, "field name" {
        /// The name on the document.
        Name => "name",
        /// The document number.
        IdNumber => "id_number",
        /// Which of the seven documents.
        IdType => "id_type",
        /// The birth date.
        BirthDate => "birth_date",
    }
);

/// A set of [`FieldName`]s, ordered, without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldSet(BTreeSet<FieldName>);

impl FieldSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `field` is in the set.
    pub fn contains(&self, field: FieldName) -> bool {
        self.0.contains(&field)
    }

    /// Whether every field of `self` is in `other`.
    pub fn is_subset(&self, other: &FieldSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields in protocol order.
    pub fn iter(&self) -> impl Iterator<Item = FieldName> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<FieldName> for FieldSet {
    fn from_iter<I: IntoIterator<Item = FieldName>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// How strongly the user authenticated: the four modes of the national service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Assurance {
    /// Level 1, mode R01: the 网证 credential only.
    Credential = 1,
    /// Level 2, mode R02: credential and PIN.
    CredentialPin = 2,
    /// Level 3, mode R03: credential and face.
    CredentialFace = 3,
    /// Level 4, mode R04: credential, PIN and face.
    CredentialPinFace = 4,
}

impl Assurance {
    /// From the `acr` level 1–4.
    pub fn from_level(level: u64) -> Result<Self, UnknownValue> {
        match level {
            1 => Ok(Assurance::Credential),
            2 => Ok(Assurance::CredentialPin),
            3 => Ok(Assurance::CredentialFace),
            4 => Ok(Assurance::CredentialPinFace),
            _ => Err(UnknownValue {
                kind: "assurance level",
                allowed: "1 2 3 4",
            }),
        }
    }

    /// The `acr` level 1–4.
    pub fn level(self) -> u8 {
        self as u8
    }

    /// The national service's mode code, `R01`–`R04`.
    pub fn mode_code(self) -> &'static str {
        match self {
            Assurance::Credential => "R01",
            Assurance::CredentialPin => "R02",
            Assurance::CredentialFace => "R03",
            Assurance::CredentialPinFace => "R04",
        }
    }

    /// The authentication methods this level consists of (the expected `amr`).
    pub fn methods(self) -> &'static [AuthMethod] {
        use AuthMethod::{Credential, Face, Pin};
        match self {
            Assurance::Credential => &[Credential],
            Assurance::CredentialPin => &[Credential, Pin],
            Assurance::CredentialFace => &[Credential, Face],
            Assurance::CredentialPinFace => &[Credential, Pin, Face],
        }
    }
}

impl fmt::Display for Assurance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (level {})", self.mode_code(), self.level())
    }
}

/// The platform's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationOutcome {
    /// The user is who the credential says.
    Verified,
    /// The user could not be verified, and why.
    NotVerified(NotVerifiedReason),
}

impl VerificationOutcome {
    /// Whether this is [`VerificationOutcome::Verified`].
    pub fn is_verified(self) -> bool {
        matches!(self, VerificationOutcome::Verified)
    }
}

/// A bounded, plain identifier from the wire (`sub`, `authz_id`, consent id).
fn plain_id(text: &str, min: usize, max: usize, extra: &[u8]) -> bool {
    (min..=max).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

/// The user's pairwise pseudonym at this relying party (`sub`).
///
/// The same person has a different pseudonym at every relying party, so pseudonyms cannot be
/// joined across platforms. It is the key to everything an RP keeps about a user.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Pseudonym(String);

impl TryFrom<String> for Pseudonym {
    type Error = UnknownValue;
    fn try_from(s: String) -> Result<Self, UnknownValue> {
        Self::parse(&s)
    }
}

impl From<Pseudonym> for String {
    fn from(v: Pseudonym) -> String {
        v.0
    }
}

impl Pseudonym {
    /// Checks the form: 1–128 characters from `A-Z a-z 0-9 _ -`.
    pub fn parse(text: &str) -> Result<Self, UnknownValue> {
        if plain_id(text, 1, 128, b"_-") {
            Ok(Self(text.to_owned()))
        } else {
            Err(UnknownValue {
                kind: "pseudonym",
                allowed: "1-128 characters from A-Z a-z 0-9 _ -",
            })
        }
    }

    /// The pseudonym.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An authorization's id: 32 letters and digits, like the real service's `bizSeq`. Single use.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct AuthzId(String);

impl TryFrom<String> for AuthzId {
    type Error = UnknownValue;
    fn try_from(s: String) -> Result<Self, UnknownValue> {
        Self::parse(&s)
    }
}

impl From<AuthzId> for String {
    fn from(v: AuthzId) -> String {
        v.0
    }
}

impl AuthzId {
    /// Checks the form.
    pub fn parse(text: &str) -> Result<Self, UnknownValue> {
        if plain_id(text, 32, 32, b"") {
            Ok(Self(text.to_owned()))
        } else {
            Err(UnknownValue {
                kind: "authorization id",
                allowed: "exactly 32 characters from A-Z a-z 0-9",
            })
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AuthzId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The user's separate consent (Art. 8 §2) to hand over specific fields for one purpose; the
/// relying party may process or share them only as far as it covers (Art. 8 §3).
///
/// Plaintext fields only ever come together with the receipt that covers them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentReceipt {
    /// The consent's id at the platform.
    pub id: String,
    /// What the relying party said it needs the fields for.
    pub purpose: String,
    /// The law that requires the relying party to keep the fields.
    pub legal_basis: String,
    /// The fields consented to.
    pub fields: FieldSet,
    /// When the user consented (Unix seconds).
    pub granted_at: u64,
}

/// Plaintext identity fields, encrypted by the platform to the relying party's encryption key.
///
/// Which fields are inside is public (their names are not personal data); the values are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedFields {
    /// The relying party's encryption key the fields are encrypted to.
    pub kid: String,
    /// The fields inside.
    pub names: FieldSet,
    /// Raw `C1 || C3 || C2`.
    pub ciphertext: Vec<u8>,
}

/// Why encrypted fields could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldsError {
    /// Decryption failed.
    #[error(transparent)]
    Decrypt(#[from] CryptoError),
    /// The plaintext is not a JSON object with exactly the announced fields, each well-formed.
    #[error("decrypted fields are malformed: {detail}")]
    Malformed {
        /// Which rule failed (field names only, never values).
        detail: String,
    },
}

impl ErrorCode for FieldsError {
    fn code(&self) -> &'static str {
        match self {
            FieldsError::Decrypt(e) => e.code(),
            FieldsError::Malformed { .. } => "fields.malformed",
        }
    }
    fn actor(&self) -> Actor {
        Actor::SecurityEvent
    }
}

/// The longest a decrypted field value may be, in bytes.
const MAX_FIELD_LEN: usize = 256;

impl EncryptedFields {
    /// Decrypts with the relying party's key into redacting types.
    pub fn decrypt(&self, key: &DecryptionKey) -> Result<IdentityFields, FieldsError> {
        let plain = key.decrypt(&self.ciphertext)?;
        let malformed = |detail: String| FieldsError::Malformed { detail };
        let obj = crate::json::parse_object(&plain, 1)
            .map_err(|_| malformed("not a flat JSON object without duplicate keys".into()))?;
        let mut out = IdentityFields::default();
        for (key, value) in &obj {
            let field: FieldName = key.parse().map_err(|_| {
                malformed(format!(
                    "unknown field `{}`",
                    crate::error::printable_name(key)
                ))
            })?;
            if !self.names.contains(field) {
                return Err(malformed(format!(
                    "field `{field}` is inside but was not announced"
                )));
            }
            let serde_json::Value::String(text) = value else {
                return Err(malformed(format!("field `{field}` is not a string")));
            };
            if text.is_empty() || text.len() > MAX_FIELD_LEN || text.chars().any(char::is_control) {
                return Err(malformed(format!(
                    "field `{field}` is empty, too long or has control characters"
                )));
            }
            match field {
                FieldName::Name => out.name = Some(PersonalName::new(text.as_str())),
                FieldName::IdNumber => out.id_number = Some(IdNumber::new(text.as_str())),
                FieldName::IdType => {
                    out.id_type =
                        Some(text.parse().map_err(|e: UnknownValue| {
                            malformed(format!("field `id_type`: {e}"))
                        })?)
                }
                FieldName::BirthDate => {
                    if !crate::pii::is_valid_date(text) {
                        return Err(malformed(
                            "field `birth_date` is not a YYYY-MM-DD date".into(),
                        ));
                    }
                    out.birth_date = Some(BirthDate::new(text.as_str()));
                }
            }
        }
        if let Some(missing) = self.names.iter().find(|f| !out.has(*f)) {
            return Err(malformed(format!("announced field `{missing}` is missing")));
        }
        Ok(out)
    }
}

/// Decrypted plaintext identity fields. Each value prints as `[redacted]`.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct IdentityFields {
    /// The name on the document.
    pub name: Option<PersonalName>,
    /// The document number.
    pub id_number: Option<IdNumber>,
    /// The document type.
    pub id_type: Option<IdDocumentType>,
    /// The birth date.
    pub birth_date: Option<BirthDate>,
}

impl IdentityFields {
    /// Whether `field` is present.
    pub fn has(&self, field: FieldName) -> bool {
        match field {
            FieldName::Name => self.name.is_some(),
            FieldName::IdNumber => self.id_number.is_some(),
            FieldName::IdType => self.id_type.is_some(),
            FieldName::BirthDate => self.birth_date.is_some(),
        }
    }

    /// The names of the fields present.
    pub fn names(&self) -> FieldSet {
        FieldName::ALL
            .iter()
            .copied()
            .filter(|f| self.has(*f))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_wire_values_are_errors() {
        assert_eq!("under_14".parse::<AgeTag>(), Ok(AgeTag::Under14));
        let e = "child".parse::<AgeTag>().unwrap_err();
        assert_eq!(e.kind, "age tag");
        assert!(e.to_string().contains("under_14 age_14_to_17 adult senior"));
        assert!("Adult".parse::<AgeTag>().is_err(), "case matters");
        assert!(Assurance::from_level(0).is_err());
        assert!(Assurance::from_level(5).is_err());
    }

    #[test]
    fn every_document_type_round_trips() {
        assert_eq!(IdDocumentType::ALL.len(), 7);
        for t in IdDocumentType::ALL {
            assert_eq!(t.as_str().parse::<IdDocumentType>(), Ok(*t));
            assert!(!t.name_zh().is_empty());
        }
    }

    #[test]
    fn assurance_maps_to_modes_and_methods() {
        assert_eq!(Assurance::CredentialFace.mode_code(), "R03");
        assert_eq!(Assurance::CredentialPinFace.methods().len(), 3);
        assert!(Assurance::CredentialPin > Assurance::Credential);
    }

    #[test]
    fn ids_are_checked() {
        assert!(AuthzId::parse("0123456789abcdefABCDEF0123456789").is_ok());
        assert!(AuthzId::parse("0123456789abcdefABCDEF012345678").is_err());
        assert!(AuthzId::parse("0123456789abcdefABCDEF012345678-").is_err());
        assert!(Pseudonym::parse("").is_err());
        assert!(Pseudonym::parse("p_9x-Z").is_ok());
        assert!(Pseudonym::parse("a b").is_err());
    }
}
