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

/// What to ask the platform for.
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

    /// The result and the user's age band (and, for minors, whether a guardian consented).
    pub fn age_tag(purpose: impl Into<String>) -> Self {
        Self::new(RequestKind::AgeTag, purpose.into())
    }

    /// The result, the age band and plaintext `fields`, which `legal_basis` must cover.
    /// Asking for more than the basis names fails here, before any network call.
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
            min_assurance: Assurance::CredentialFace.level(),
            purpose,
        }
    }

    /// The least assurance to accept (default R03: credential and face).
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

    pub(crate) fn wants_age_tag(&self) -> bool {
        matches!(self.kind, RequestKind::AgeTag | RequestKind::Fields { .. })
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
