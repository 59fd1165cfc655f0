//! What a relying party may ask for (Art. 8 §1–2: minimal provision).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ClientError;
use crate::model::{Assurance, FieldName, FieldSet};

/// The law that requires the relying party to keep plaintext identity fields, and which fields
/// it covers. Without one, plaintext fields cannot be requested at all.
///
/// Art. 8 §2 asks for a law or an administrative regulation (法律、行政法规); a ministerial rule
/// (部门规章) is not enough.
///
/// ```
/// use netid::client::LegalBasis;
/// use netid::model::FieldName;
///
/// let basis = LegalBasis::new("《网络游戏管理办法》第十条", [FieldName::Name, FieldName::IdNumber]).unwrap();
/// assert!(basis.permits().contains(FieldName::Name));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalBasis {
    citation: String,
    permits: Vec<FieldName>,
}

impl LegalBasis {
    /// `citation` names the law and article (1–256 bytes, shown to the user); `permits` lists
    /// the fields that law requires the relying party to keep.
    pub fn new(
        citation: impl Into<String>,
        permits: impl IntoIterator<Item = FieldName>,
    ) -> Result<Self, ClientError> {
        let citation = citation.into();
        if citation.trim().is_empty()
            || citation.len() > 256
            || citation.chars().any(char::is_control)
        {
            return Err(ClientError::Config(
                "a legal basis cites a law in 1-256 bytes of text".into(),
            ));
        }
        let permits: FieldSet = permits.into_iter().collect();
        if permits.is_empty() {
            return Err(ClientError::Config(
                "a legal basis must name the fields it requires".into(),
            ));
        }
        Ok(Self {
            citation,
            permits: permits.iter().collect(),
        })
    }

    /// The citation.
    pub fn citation(&self) -> &str {
        &self.citation
    }

    /// The fields the law covers.
    pub fn permits(&self) -> FieldSet {
        self.permits.iter().copied().collect()
    }
}

/// What to ask the platform for: the verification result only ([`verify_only`]), the result and
/// an age band ([`age_tag`]), or the result and plaintext fields under a law ([`fields`]) —
/// each answer carries exactly what its request named (protocol v1 §6.4), and an answer with
/// more is refused. Every request starts at the lowest assurance, R01 (see
/// [`min_assurance`](Self::min_assurance)).
///
/// [`verify_only`]: Self::verify_only
/// [`age_tag`]: Self::age_tag
/// [`fields`]: Self::fields
///
/// ```compile_fail
/// // Plaintext fields without a legal basis do not compile:
/// use netid::client::VerificationRequest;
/// use netid::model::FieldName;
/// let r = VerificationRequest::fields("开户", [FieldName::Name]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationRequest {
    pub(crate) kind: RequestKind,
    pub(crate) min_assurance: u8,
    pub(crate) purpose: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum RequestKind {
    VerifyOnly,
    AgeTag,
    Fields {
        fields: Vec<FieldName>,
        legal_basis: LegalBasis,
    },
    Reverify {
        sub: String,
        reason: String,
    },
}

impl VerificationRequest {
    /// The verification result only (the default the law wants, Art. 8 §1).
    pub fn verify_only(purpose: impl Into<String>) -> Self {
        Self::new(RequestKind::VerifyOnly, purpose.into())
    }

    /// The result and the user's age band (and, for minors, whether a guardian consented). Ask
    /// for it where a service is for some age bands only (an [`AgeGate`] on a route, Art. 10):
    /// refusing an under-14 without a guardian's consent needs no age band (Art. 5 §2: the
    /// platform answers `not_verified` for them whatever is asked).
    ///
    /// [`AgeGate`]: crate::policy::AgeGate
    pub fn age_tag(purpose: impl Into<String>) -> Self {
        Self::new(RequestKind::AgeTag, purpose.into())
    }

    /// The result and plaintext `fields`, which `legal_basis` must cover — and nothing else: no
    /// age band (a law that needs the age asks for [`FieldName::BirthDate`]). Asking for more
    /// than the basis names fails here, before any network call.
    pub fn fields(
        purpose: impl Into<String>,
        fields: impl IntoIterator<Item = FieldName>,
        legal_basis: LegalBasis,
    ) -> Result<Self, ClientError> {
        let fields: FieldSet = fields.into_iter().collect();
        if fields.is_empty() {
            return Err(ClientError::Minimization(
                "ask for at least one field, or use verify_only".into(),
            ));
        }
        if let Some(extra) = fields.iter().find(|f| !legal_basis.permits().contains(*f)) {
            return Err(ClientError::Minimization(format!(
                "field `{extra}` is not covered by the legal basis"
            )));
        }
        Ok(Self::new(
            RequestKind::Fields {
                fields: fields.iter().collect(),
                legal_basis,
            },
            purpose.into(),
        ))
    }

    pub(crate) fn reverify(sub: String, reason: String) -> Self {
        let mut r = Self::new(RequestKind::Reverify { sub, reason }, String::new());
        // The platform runs at least face verification for a re-verification (§6.6).
        r.min_assurance = Assurance::CredentialFace.level();
        r
    }

    fn new(kind: RequestKind, purpose: String) -> Self {
        Self {
            kind,
            min_assurance: Assurance::Credential.level(),
            purpose,
        }
    }

    /// The least assurance to accept. The default is the lowest, R01 (`acr` 1): the user shows a
    /// valid 网证 — enough to verify a real identity, which is what a login asks. Raise it only
    /// where the purpose needs more: R02 adds the credential's PIN, R03 a live face check (for
    /// example opening a payment account, or re-verifying an account flagged for fraud, which
    /// the platform always runs at R03 or above). A face is biometric data, sensitive personal
    /// information that may be processed only for a specific purpose with sufficient necessity
    /// (PIPL Art. 28), and every extra step costs the user effort and fails more often.
    pub fn min_assurance(mut self, assurance: Assurance) -> Self {
        self.min_assurance = assurance.level();
        self
    }

    /// The requested fields, if any.
    pub fn requested_fields(&self) -> FieldSet {
        match &self.kind {
            RequestKind::Fields { fields, .. } => fields.iter().copied().collect(),
            _ => FieldSet::new(),
        }
    }

    /// For a re-verification, the pseudonym it re-verifies.
    pub(crate) fn reverified_subject(&self) -> Option<&str> {
        match &self.kind {
            RequestKind::Reverify { sub, .. } => Some(sub),
            _ => None,
        }
    }

    /// Whether the answer carries an age band: only for an age-tag request (protocol v1 §6.4).
    pub(crate) fn wants_age_tag(&self) -> bool {
        matches!(self.kind, RequestKind::AgeTag)
    }

    pub(crate) fn check(&self) -> Result<(), ClientError> {
        let reverify = matches!(self.kind, RequestKind::Reverify { .. });
        if !reverify
            && (self.purpose.trim().is_empty()
                || self.purpose.len() > 256
                || self.purpose.chars().any(char::is_control))
        {
            return Err(ClientError::Config(
                "the purpose is shown to the user: 1-256 bytes of text".into(),
            ));
        }
        Ok(())
    }

    /// The JSON body of `POST /v1/authorizations` (or `/v1/reverifications`).
    pub(crate) fn body(&self, nonce: &str, callback_url: Option<&str>) -> Value {
        let mut body = match &self.kind {
            RequestKind::Reverify { sub, reason } => {
                json!({ "sub": sub, "reason": reason, "nonce": nonce })
            }
            kind => {
                let mut request = json!({
                    "kind": match kind {
                        RequestKind::AgeTag => "age_tag",
                        RequestKind::Fields { .. } => "fields",
                        _ => "verify_only",
                    },
                    "min_assurance": self.min_assurance,
                    "purpose": self.purpose,
                });
                if let RequestKind::Fields {
                    fields,
                    legal_basis,
                } = kind
                {
                    request["fields"] = json!(fields);
                    request["legal_basis"] = json!(legal_basis.citation);
                }
                json!({ "request": request, "nonce": nonce })
            }
        };
        if let Some(url) = callback_url {
            body["callback_url"] = json!(url);
        }
        body
    }
}
