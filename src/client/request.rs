//! What a relying party may ask for (Art. 8 §1–2: minimal provision).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ClientError;
use crate::model::{Assurance, FieldName, FieldSet};

/// The kind of instrument a [`LegalBasis`] cites. Art. 7 §2 and Art. 8 §2 speak of
/// 法律、行政法规: a law of the National People's Congress or its Standing Committee, or an
/// administrative regulation of the State Council. Nothing lower (a ministerial rule, 部门规章;
/// a local regulation, 地方性法规; a normative document) can make a platform keep plaintext
/// identity fields — for those, only the user's own separate consent can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Instrument {
    /// 法律: `《中华人民共和国网络安全法》`, `《反洗钱法》`.
    Law,
    /// 行政法规: a State Council 条例 (`《征信业管理条例》`), not a local one.
    AdministrativeRegulation,
}

/// The law that requires the relying party to keep plaintext identity fields, and which fields
/// it covers. Without one, plaintext fields cannot be requested at all.
///
/// Art. 8 §2 asks for a law or an administrative regulation (法律、行政法规); the citation is
/// read for which it is ([`Instrument`]), and a ministerial rule (部门规章), a local regulation
/// or a normative document is refused with a clear error.
///
/// ```
/// use netid::client::{Instrument, LegalBasis};
/// use netid::model::FieldName;
///
/// // The Cybersecurity Law's real-name duty (网络安全法第二十四条).
/// let basis = LegalBasis::new(
///     "《中华人民共和国网络安全法》第二十四条",
///     [FieldName::Name, FieldName::IdNumber],
/// )
/// .unwrap();
/// assert_eq!(basis.instrument(), Instrument::Law);
/// assert!(basis.permits().contains(FieldName::Name));
///
/// // A ministerial rule is not enough (Art. 8 §2: 法律、行政法规).
/// assert!(LegalBasis::new("《网络游戏管理办法》第十条", [FieldName::Name]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LegalBasisWire", into = "LegalBasisWire")]
pub struct LegalBasis {
    citation: String,
    instrument: Instrument,
    permits: Vec<FieldName>,
}

/// [`LegalBasis`] as stored: read back through [`LegalBasis::new`], so a stored basis is checked
/// as a new one is.
#[derive(Serialize, Deserialize)]
struct LegalBasisWire {
    citation: String,
    permits: Vec<FieldName>,
}

impl TryFrom<LegalBasisWire> for LegalBasis {
    type Error = ClientError;
    fn try_from(w: LegalBasisWire) -> Result<Self, ClientError> {
        LegalBasis::new(w.citation, w.permits)
    }
}

impl From<LegalBasis> for LegalBasisWire {
    fn from(b: LegalBasis) -> Self {
        Self {
            citation: b.citation,
            permits: b.permits,
        }
    }
}

impl LegalBasis {
    /// `citation` names the instrument by its title in 《》 and the article (`第二十四条`), in
    /// 1–256 bytes (shown to the user); `permits` lists the fields it requires the relying party
    /// to keep. Refused: a citation without a title in 《》 or without an article, and any
    /// instrument below a 法律 or 行政法规 (titles ending in 办法, 规定, 规则, 细则, 通知, 意见, …;
    /// a 条例 of a province, city or autonomous region).
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
        let instrument = classify(&citation)?;
        let permits: FieldSet = permits.into_iter().collect();
        if permits.is_empty() {
            return Err(ClientError::Config(
                "a legal basis must name the fields it requires".into(),
            ));
        }
        Ok(Self {
            citation,
            instrument,
            permits: permits.iter().collect(),
        })
    }

    /// The citation.
    pub fn citation(&self) -> &str {
        &self.citation
    }

    /// Whether it is a law or an administrative regulation.
    pub fn instrument(&self) -> Instrument {
        self.instrument
    }

    /// The fields the law covers.
    pub fn permits(&self) -> FieldSet {
        self.permits.iter().copied().collect()
    }
}

/// Which instrument a citation names, from its title (the text in 《》): Art. 8 §2 admits only
/// 法律 and 行政法规. The error says what was wrong without quoting the citation (it is the
/// app's own text, but errors stay free of anything a user typed).
fn classify(citation: &str) -> Result<Instrument, ClientError> {
    let refuse = |why: &str| ClientError::Config(format!("legal basis: {why}"));
    let (title, rest) = citation
        .split_once('《')
        .and_then(|(_, t)| t.split_once('》'))
        .ok_or_else(|| refuse("cite the instrument by its full title in 《》, then the article"))?;
    let title = title.trim();
    if !rest.contains('第') || !rest.contains('条') {
        return Err(refuse("name the article (第…条) that requires the fields"));
    }
    const LOWER: [&str; 10] = [
        "办法", "规定", "规则", "细则", "通知", "意见", "指引", "指南", "标准", "解释",
    ];
    if LOWER.iter().any(|end| title.ends_with(end)) {
        return Err(refuse(
            "Art. 8 §2 needs a law or an administrative regulation (法律、行政法规); a ministerial rule or a normative document is not one: only the user's own separate consent can cover these fields",
        ));
    }
    if title.ends_with('法') {
        return Ok(Instrument::Law);
    }
    if title.ends_with("条例") {
        const LOCAL: [&str; 5] = ["省", "市", "自治区", "自治州", "县"];
        if LOCAL.iter().any(|place| title.contains(place)) {
            return Err(refuse(
                "a local regulation (地方性法规) is not a law or an administrative regulation (Art. 8 §2)",
            ));
        }
        return Ok(Instrument::AdministrativeRegulation);
    }
    if title.starts_with("全国人民代表大会") && title.ends_with("决定") {
        // The Standing Committee's decisions on legal questions have the force of law.
        return Ok(Instrument::Law);
    }
    Err(refuse(
        "cannot tell that this is a law or an administrative regulation (法律、行政法规): cite one by its full title",
    ))
}

#[cfg(test)]
mod legal_basis_tests {
    use super::*;
    use crate::error::ErrorCode;

    fn kind(citation: &str) -> Option<Instrument> {
        LegalBasis::new(citation, [FieldName::Name])
            .ok()
            .map(|b| b.instrument())
    }

    #[test]
    fn laws_and_administrative_regulations_only() {
        assert_eq!(
            kind("《中华人民共和国网络安全法》第二十四条"),
            Some(Instrument::Law)
        );
        assert_eq!(kind("《反洗钱法》第二十八条"), Some(Instrument::Law));
        assert_eq!(
            kind("《征信业管理条例》第十三条"),
            Some(Instrument::AdministrativeRegulation)
        );
        assert_eq!(
            kind("《全国人民代表大会常务委员会关于加强网络信息保护的决定》第六条"),
            Some(Instrument::Law)
        );
        // 部门规章 and normative documents: not enough, however they end.
        assert_eq!(kind("《网络游戏管理办法》第十条"), None);
        assert_eq!(kind("《互联网用户账号信息管理规定》第九条"), None);
        assert_eq!(kind("《国家网络身份认证公共服务管理办法》第八条"), None);
        // 地方性法规.
        assert_eq!(kind("《上海市数据条例》第十条"), None);
        // Malformed.
        assert_eq!(kind("网络安全法第二十四条"), None, "no 《》");
        assert_eq!(kind("《中华人民共和国网络安全法》"), None, "no article");
        assert_eq!(kind("某法第一条"), None);
    }

    #[test]
    fn refusals_read_as_one_sentence_and_never_quote_the_citation() {
        for citation in [
            "《网络游戏管理办法》第十条",
            "《上海市数据条例》第十条",
            "《某某汇编》第一条",
            "网络安全法第二十四条",
            "《中华人民共和国网络安全法》",
        ] {
            let err = LegalBasis::new(citation, [FieldName::Name]).unwrap_err();
            let text = err.to_string();
            assert!(!text.contains("  "), "{citation}: {text:?}");
            assert!(
                !text.contains("网络游戏") && !text.contains("上海"),
                "{text}"
            );
            assert_eq!(err.code(), "client.config", "{citation}");
        }
    }

    #[test]
    fn a_stored_basis_is_checked_again_when_read() {
        let good = LegalBasis::new("《反洗钱法》第二十八条", [FieldName::Name]).unwrap();
        let json = serde_json::to_string(&good).unwrap();
        assert_eq!(serde_json::from_str::<LegalBasis>(&json).unwrap(), good);
        let forged = r#"{"citation":"《网络游戏管理办法》第十条","permits":["name"]}"#;
        assert!(serde_json::from_str::<LegalBasis>(forged).is_err());
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
