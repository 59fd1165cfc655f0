//! The verified principal, blind to how the user verified (Art. 7 §3: equal service).

use serde::{Deserialize, Serialize};

use crate::model::{AgeTag, Assurance};

/// How a user proved their identity. Kept out of [`VerifiedUser`]'s public API on purpose: the
/// application must treat every lawful way alike. Only the audit log and the outcome metrics
/// see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) enum Method {
    /// 网号/网证 through the national platform.
    NetId,
    /// Another lawful way, named by the platform's [`IdentityVerifier`].
    Other(String),
}

impl Method {
    pub(crate) fn label(&self) -> &str {
        match self {
            Method::NetId => "netid",
            Method::Other(name) => name,
        }
    }
}

/// A user whose real identity was verified, by whatever lawful way.
///
/// The same type for a 网号/网证 user and for a user of the platform's own real-name check, with
/// no way to tell them apart: that is what makes equal service the default. Get one from the
/// session extractor of your framework adapter. Not `Serialize`: put its public facts into
/// your own types if you need them elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedUser {
    /// Shared, not copied: the layer hands a clone to every request of a signed-in user.
    pub(crate) subject: std::sync::Arc<str>,
    pub(crate) assurance: Assurance,
    pub(crate) age_tag: Option<AgeTag>,
    pub(crate) guardian_consent: Option<bool>,
    pub(crate) verified_at: u64,
    pub(crate) method: Method,
}

impl VerifiedUser {
    /// The user's stable id at this relying party (for 网号/网证 users, their pairwise pseudonym).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// How strongly the user was verified.
    pub fn assurance(&self) -> Assurance {
        self.assurance
    }

    /// The user's age band, if known.
    pub fn age_tag(&self) -> Option<AgeTag> {
        self.age_tag
    }

    /// For minors: whether a guardian consented.
    pub fn guardian_consent(&self) -> Option<bool> {
        self.guardian_consent
    }

    /// When the verification happened (Unix seconds).
    pub fn verified_at(&self) -> u64 {
        self.verified_at
    }

    pub(crate) fn is_netid(&self) -> bool {
        self.method == Method::NetId
    }

    /// From a verified 网号/网证 result.
    pub(crate) fn from_netid(result: &crate::token::ResultClaims) -> Option<Self> {
        result.outcome.is_verified().then(|| Self {
            subject: result.subject.as_str().into(),
            assurance: result.assurance,
            age_tag: result.age_tag,
            guardian_consent: result.guardian_consent,
            verified_at: result.issued_at,
            method: Method::NetId,
        })
    }

    /// From another lawful verification, with the subject in the verifier's own namespace:
    /// `{method}:{subject}`. A 网号/网证 pseudonym has no `:` and a method name none either, so
    /// no verifier can produce a subject that equals a pseudonym or another verifier's subject
    /// (a login the other way never becomes someone else's account). `None` when the method
    /// name or the subject is not of the documented form.
    pub(crate) fn from_other(method: &str, v: OtherVerification, now: u64) -> Option<Self> {
        let method_ok = (1..=32).contains(&method.len())
            && method
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        let subject_ok =
            (1..=128).contains(&v.subject.len()) && v.subject.bytes().all(|b| b.is_ascii_graphic());
        (method_ok && subject_ok).then(|| Self {
            subject: format!("{method}:{}", v.subject).into(),
            assurance: v.assurance,
            age_tag: v.age_tag,
            guardian_consent: v.guardian_consent,
            verified_at: now,
            method: Method::Other(method.to_owned()),
        })
    }
}

/// What a platform's own lawful verification established, in netid's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherVerification {
    /// The user's id in the verifier's own records: 1–128 visible ASCII characters. netid
    /// prefixes it with the method name (`counter_check:c-42`), so it can never equal a
    /// 网号/网证 pseudonym or another verifier's id.
    pub subject: String,
    /// The strength of the check, mapped to the same levels as 网证 (e.g. ID document plus face
    /// comparison ≈ [`Assurance::CredentialFace`]).
    pub assurance: Assurance,
    /// The user's age band (derive it from the birth date you hold; do not pass the date on).
    pub age_tag: Option<AgeTag>,
    /// For minors: whether a guardian consented.
    pub guardian_consent: Option<bool>,
}

/// Why another lawful verification failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct VerifierError(pub String);

/// A platform's other lawful way to verify users (its existing real-name check). Users it
/// verifies get the same [`VerifiedUser`] as 网号/网证 users.
#[async_trait::async_trait]
pub trait IdentityVerifier: Send + Sync + 'static {
    /// A short stable name for the audit log, metrics and the subject's namespace
    /// (`bank_card`, `id_card_face`): 1–32 characters from `a-z 0-9 _`.
    fn method(&self) -> &'static str;

    /// Checks the evidence the user submitted (opaque to netid: the request body of the
    /// adapter's "other method" login route).
    async fn verify(&self, evidence: &[u8]) -> Result<OtherVerification, VerifierError>;
}
