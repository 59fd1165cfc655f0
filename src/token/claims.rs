//! The claims of a result token: reading them by type, then checking them against the
//! validation settings and against each other.

use serde_json::{Map, Value};

use super::validation::{MAX_LIFETIME_SECS, NonceCheck};
use super::{TokenError, Validation};
use crate::b64;
use crate::crypto::check_kid;
use crate::error::printable_name;
use crate::model::{
    AgeTag, Assurance, AuthMethod, AuthzId, ConsentReceipt, EncryptedFields, FieldName, FieldSet,
    NotVerifiedReason, Pseudonym, VerificationOutcome,
};

/// The claims of a verified result token, as types.
///
/// Only reachable through [`Verified`](super::Verified), so holding one means the signature and
/// every rule of protocol v1 were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResultClaims {
    /// `iss`: the platform.
    pub issuer: String,
    /// `aud`: the relying parties the token is for (one, normally).
    pub audience: Vec<String>,
    /// `iat`.
    pub issued_at: u64,
    /// `exp`.
    pub expires_at: u64,
    /// `nbf`, if present.
    pub not_before: Option<u64>,
    /// `jti`: the token's unique id (for replay protection).
    pub token_id: String,
    /// `nonce`: echoed from the request.
    pub nonce: String,
    /// `authz_id`: the authorization this result answers. Single use.
    pub authz_id: AuthzId,
    /// `sub`: the user's pseudonym at this relying party.
    pub subject: Pseudonym,
    /// `result`: verified or not, and why not.
    pub outcome: VerificationOutcome,
    /// `acr`: how strongly the user authenticated.
    pub assurance: Assurance,
    /// `amr`: the methods used (always exactly those of `assurance`).
    pub methods: Vec<AuthMethod>,
    /// `age_tag`, only when asked for.
    pub age_tag: Option<AgeTag>,
    /// `guardian_consent`, for minors.
    pub guardian_consent: Option<bool>,
    /// `fields`, encrypted; only when asked for under a legal basis.
    pub fields: Option<EncryptedFields>,
    /// `consent`: the receipt covering `fields`.
    pub consent: Option<ConsentReceipt>,
}

impl ResultClaims {
    /// Whether this answers for a person under 14 whose parent or guardian has not consented to
    /// their verifying with 网号/网证 (Art. 5 §2): the platform's `not_verified` reason
    /// `guardian_consent_required` (protocol v1 §4.3.1), given whatever was asked — or, from a
    /// platform that predates that reason, a `verified` result with the age tag `under_14` and
    /// `guardian_consent` not `true`. Such a person must not be signed in;
    /// [`LoginFlow`](crate::policy::LoginFlow) refuses them with
    /// `netid.guardian_consent_required`.
    pub fn guardian_consent_missing(&self) -> bool {
        match self.outcome {
            VerificationOutcome::NotVerified(reason) => {
                reason == NotVerifiedReason::GuardianConsentRequired
            }
            VerificationOutcome::Verified => {
                self.age_tag == Some(AgeTag::Under14) && self.guardian_consent != Some(true)
            }
        }
    }

    /// The claims in their wire form (as in protocol v1 §4.3), for display and logs. The
    /// encrypted fields stay encrypted; nothing here is personal data beyond the pseudonym.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("iss".into(), self.issuer.clone().into());
        m.insert(
            "aud".into(),
            match self.audience.as_slice() {
                [one] => one.clone().into(),
                many => many.to_vec().into(),
            },
        );
        m.insert("iat".into(), self.issued_at.into());
        m.insert("exp".into(), self.expires_at.into());
        if let Some(nbf) = self.not_before {
            m.insert("nbf".into(), nbf.into());
        }
        m.insert("jti".into(), self.token_id.clone().into());
        m.insert("nonce".into(), self.nonce.clone().into());
        m.insert("authz_id".into(), self.authz_id.as_str().into());
        m.insert("sub".into(), self.subject.as_str().into());
        m.insert(
            "result".into(),
            match self.outcome {
                VerificationOutcome::Verified => serde_json::json!({"status": "verified"}),
                VerificationOutcome::NotVerified(r) => {
                    serde_json::json!({"status": "not_verified", "reason": r.as_str()})
                }
            },
        );
        m.insert("acr".into(), self.assurance.level().into());
        m.insert(
            "amr".into(),
            self.methods
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .into(),
        );
        if let Some(t) = self.age_tag {
            m.insert("age_tag".into(), t.as_str().into());
        }
        if let Some(g) = self.guardian_consent {
            m.insert("guardian_consent".into(), g.into());
        }
        if let Some(f) = &self.fields {
            m.insert(
                "fields".into(),
                serde_json::json!({
                    "alg": "SM2-C1C3C2",
                    "kid": f.kid,
                    "names": f.names.iter().map(FieldName::as_str).collect::<Vec<_>>(),
                    "ct": b64::encode(&f.ciphertext),
                }),
            );
        }
        if let Some(c) = &self.consent {
            m.insert(
                "consent".into(),
                serde_json::json!({
                    "id": c.id, "purpose": c.purpose, "legal_basis": c.legal_basis,
                    "fields": c.fields.iter().map(FieldName::as_str).collect::<Vec<_>>(),
                    "granted_at": c.granted_at,
                }),
            );
        }
        Value::Object(m)
    }
}

/// The largest integer JSON can carry exactly (2^53 - 1): NumericDates beyond it are refused.
const MAX_SAFE_INT: u64 = (1 << 53) - 1;
const MAX_AUDIENCES: usize = 8;
const MAX_FIELDS_CT: usize = 8 * 1024;

fn invalid(claim: &'static str, rule: impl Into<String>) -> TokenError {
    TokenError::ClaimInvalid {
        claim,
        rule: rule.into(),
    }
}

/// Text rules for identifiers and free text on the wire.
#[derive(Clone, Copy)]
enum Chars {
    /// `A-Z a-z 0-9 _ -`
    Base64Url,
    /// `0x21..=0x7e`
    PrintableAscii,
    /// Any text without control characters.
    Text,
}

fn text_ok(s: &str, min: usize, max: usize, chars: Chars) -> bool {
    let len_ok = (min..=max).contains(&s.len());
    len_ok
        && match chars {
            Chars::Base64Url => s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
            Chars::PrintableAscii => s.bytes().all(|b| (0x21..=0x7e).contains(&b)),
            Chars::Text => !s.chars().any(char::is_control),
        }
}

fn string<'a>(
    obj: &'a Map<String, Value>,
    claim: &'static str,
    min: usize,
    max: usize,
    chars: Chars,
) -> Result<Option<&'a str>, TokenError> {
    match obj.get(claim) {
        None => Ok(None),
        Some(Value::String(s)) if text_ok(s, min, max, chars) => Ok(Some(s)),
        Some(Value::String(_)) => Err(invalid(
            claim,
            format!(
                "must be {min}-{max} {}",
                match chars {
                    Chars::Base64Url => "characters from A-Z a-z 0-9 _ -",
                    Chars::PrintableAscii => "printable ASCII characters",
                    Chars::Text => "bytes of text without control characters",
                }
            ),
        )),
        Some(_) => Err(invalid(claim, "must be a string")),
    }
}

fn required<T>(value: Option<T>, claim: &'static str) -> Result<T, TokenError> {
    value.ok_or(TokenError::ClaimMissing(claim))
}

fn numeric_date(obj: &Map<String, Value>, claim: &'static str) -> Result<Option<u64>, TokenError> {
    match obj.get(claim) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v) if v <= MAX_SAFE_INT => Ok(Some(v)),
            _ => Err(invalid(
                claim,
                "must be a whole number of seconds from 0 to 2^53-1",
            )),
        },
        Some(_) => Err(invalid(claim, "must be a number (Unix seconds)")),
    }
}

fn field_names(value: &Value, claim: &'static str) -> Result<FieldSet, TokenError> {
    let Value::Array(items) = value else {
        return Err(invalid(claim, "field names must be an array"));
    };
    let mut set = FieldSet::new();
    for item in items {
        let name = item
            .as_str()
            .ok_or_else(|| invalid(claim, "field names must be strings"))?
            .parse::<FieldName>()
            .map_err(|e| invalid(claim, e.to_string()))?;
        if set.contains(name) {
            return Err(invalid(claim, "field names must not repeat"));
        }
        set = set.iter().chain([name]).collect();
    }
    if set.is_empty() {
        return Err(invalid(claim, "at least one field name is required"));
    }
    Ok(set)
}

fn only_members(
    obj: &Map<String, Value>,
    claim: &'static str,
    allowed: &[&str],
) -> Result<(), TokenError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(invalid(
            claim,
            format!("unexpected member `{}`", printable_name(k)),
        )),
        None => Ok(()),
    }
}

const KNOWN: [&str; 16] = [
    "iss",
    "aud",
    "iat",
    "exp",
    "nbf",
    "jti",
    "nonce",
    "authz_id",
    "sub",
    "result",
    "acr",
    "amr",
    "age_tag",
    "guardian_consent",
    "fields",
    "consent",
];

/// Reads every claim by type. Unknown claims are refused.
pub(crate) fn parse(obj: &Map<String, Value>) -> Result<ResultClaims, TokenError> {
    if let Some(k) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(TokenError::ClaimUnknown(printable_name(k)));
    }
    let issuer = required(string(obj, "iss", 1, 256, Chars::Text)?, "iss")?.to_owned();
    let audience = match obj.get("aud") {
        None => return Err(TokenError::ClaimMissing("aud")),
        Some(Value::String(s)) if text_ok(s, 1, 128, Chars::Text) => vec![s.clone()],
        Some(Value::Array(items)) if (1..=MAX_AUDIENCES).contains(&items.len()) => items
            .iter()
            .map(|v| match v {
                Value::String(s) if text_ok(s, 1, 128, Chars::Text) => Ok(s.clone()),
                _ => Err(invalid(
                    "aud",
                    "array entries must be strings of 1-128 bytes",
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(invalid(
                "aud",
                "must be a string of 1-128 bytes or an array of 1-8 such strings",
            ));
        }
    };
    let issued_at = required(numeric_date(obj, "iat")?, "iat")?;
    let expires_at = required(numeric_date(obj, "exp")?, "exp")?;
    let not_before = numeric_date(obj, "nbf")?;
    let token_id = required(string(obj, "jti", 1, 128, Chars::PrintableAscii)?, "jti")?.to_owned();
    let nonce = required(string(obj, "nonce", 8, 128, Chars::Base64Url)?, "nonce")?.to_owned();
    let authz_id = required(obj.get("authz_id"), "authz_id")?;
    let authz_id = authz_id
        .as_str()
        .and_then(|s| AuthzId::parse(s).ok())
        .ok_or_else(|| invalid("authz_id", "must be exactly 32 characters from A-Z a-z 0-9"))?;
    let subject = required(obj.get("sub"), "sub")?;
    let subject = subject
        .as_str()
        .and_then(|s| Pseudonym::parse(s).ok())
        .ok_or_else(|| invalid("sub", "must be 1-128 characters from A-Z a-z 0-9 _ -"))?;
    // Art. 2 §2: a 网号 holds no plaintext identity data, and neither may its pseudonym.
    if crate::detect::holds_identity_number(subject.as_str()) {
        return Err(invalid(
            "sub",
            "holds an identity number (protocol v1 §4.3.2); a pseudonym of a 网号 carries no \
             plaintext identity data (Art. 2 §2)",
        ));
    }
    let outcome = parse_result(required(obj.get("result"), "result")?)?;
    let assurance = match required(obj.get("acr"), "acr")? {
        Value::Number(n) => n
            .as_u64()
            .and_then(|l| Assurance::from_level(l).ok())
            .ok_or_else(|| invalid("acr", "must be the integer 1, 2, 3 or 4"))?,
        _ => return Err(invalid("acr", "must be the integer 1, 2, 3 or 4")),
    };
    let methods = parse_amr(required(obj.get("amr"), "amr")?)?;
    let age_tag = match string(obj, "age_tag", 1, 32, Chars::Base64Url) {
        Ok(Some(s)) => Some(
            s.parse::<AgeTag>()
                .map_err(|e| invalid("age_tag", e.to_string()))?,
        ),
        Ok(None) => None,
        Err(_) => {
            return Err(invalid(
                "age_tag",
                "must be under_14, age_14_to_17, adult or senior",
            ));
        }
    };
    let guardian_consent = match obj.get("guardian_consent") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(invalid("guardian_consent", "must be true or false")),
    };
    let fields = obj.get("fields").map(parse_fields).transpose()?;
    let consent = obj.get("consent").map(parse_consent).transpose()?;
    Ok(ResultClaims {
        issuer,
        audience,
        issued_at,
        expires_at,
        not_before,
        token_id,
        nonce,
        authz_id,
        subject,
        outcome,
        assurance,
        methods,
        age_tag,
        guardian_consent,
        fields,
        consent,
    })
}

fn parse_result(value: &Value) -> Result<VerificationOutcome, TokenError> {
    let Value::Object(obj) = value else {
        return Err(invalid("result", "must be an object with `status`"));
    };
    only_members(obj, "result", &["status", "reason"])?;
    match (obj.get("status").and_then(Value::as_str), obj.get("reason")) {
        (Some("verified"), None) => Ok(VerificationOutcome::Verified),
        (Some("verified"), Some(_)) => Err(invalid("result", "a verified result has no reason")),
        (Some("not_verified"), Some(Value::String(r))) => r
            .parse::<NotVerifiedReason>()
            .map(VerificationOutcome::NotVerified)
            .map_err(|e| invalid("result", e.to_string())),
        (Some("not_verified"), _) => Err(invalid("result", "not_verified needs a string reason")),
        _ => Err(invalid(
            "result",
            "status must be \"verified\" or \"not_verified\"",
        )),
    }
}

fn parse_amr(value: &Value) -> Result<Vec<AuthMethod>, TokenError> {
    let Value::Array(items) = value else {
        return Err(invalid("amr", "must be an array of method names"));
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let m = item
            .as_str()
            .ok_or_else(|| invalid("amr", "methods must be strings"))?
            .parse::<AuthMethod>()
            .map_err(|e| invalid("amr", e.to_string()))?;
        if out.contains(&m) {
            return Err(invalid("amr", "methods must not repeat"));
        }
        out.push(m);
    }
    Ok(out)
}

fn parse_fields(value: &Value) -> Result<EncryptedFields, TokenError> {
    let Value::Object(obj) = value else {
        return Err(invalid("fields", "must be an object"));
    };
    only_members(obj, "fields", &["alg", "kid", "names", "ct"])?;
    if obj.get("alg").and_then(Value::as_str) != Some("SM2-C1C3C2") {
        return Err(invalid("fields", "`alg` must be \"SM2-C1C3C2\""));
    }
    let kid = obj
        .get("kid")
        .and_then(Value::as_str)
        .filter(|k| check_kid(k).is_ok())
        .ok_or_else(|| {
            invalid(
                "fields",
                "`kid` must name the relying party's encryption key",
            )
        })?
        .to_owned();
    let names = field_names(
        obj.get("names")
            .ok_or_else(|| invalid("fields", "`names` is missing"))?,
        "fields",
    )?;
    let ciphertext = obj
        .get("ct")
        .and_then(Value::as_str)
        .filter(|ct| ct.len() <= MAX_FIELDS_CT)
        .and_then(b64::decode)
        .filter(|ct| ct.len() > crate::crypto::CIPHERTEXT_OVERHEAD)
        .ok_or_else(|| {
            invalid(
                "fields",
                "`ct` must be canonical base64url of an SM2 ciphertext, at most 8 KiB",
            )
        })?;
    Ok(EncryptedFields {
        kid,
        names,
        ciphertext,
    })
}

fn parse_consent(value: &Value) -> Result<ConsentReceipt, TokenError> {
    let Value::Object(obj) = value else {
        return Err(invalid("consent", "must be an object"));
    };
    only_members(
        obj,
        "consent",
        &["id", "purpose", "legal_basis", "fields", "granted_at"],
    )?;
    let text = |name: &str, min, max, chars| match obj.get(name) {
        Some(Value::String(s)) if text_ok(s, min, max, chars) => Ok(s.clone()),
        _ => Err(invalid(
            "consent",
            format!("`{name}` must be a string of {min}-{max} bytes"),
        )),
    };
    let granted_at = match obj.get("granted_at").and_then(Value::as_u64) {
        Some(t) if t <= MAX_SAFE_INT => t,
        _ => return Err(invalid("consent", "`granted_at` must be Unix seconds")),
    };
    Ok(ConsentReceipt {
        id: text("id", 1, 64, Chars::Base64Url)?,
        purpose: text("purpose", 1, 256, Chars::Text)?,
        legal_basis: text("legal_basis", 1, 256, Chars::Text)?,
        fields: field_names(
            obj.get("fields")
                .ok_or_else(|| invalid("consent", "`fields` is missing"))?,
            "consent",
        )?,
        granted_at,
    })
}

/// `iss`, `aud`, time and `nonce` against the relying party's expectations.
pub(crate) fn validate(c: &ResultClaims, v: &Validation, now: u64) -> Result<(), TokenError> {
    if v.issuer.as_ref().is_some_and(|iss| *iss != c.issuer) {
        return Err(TokenError::Issuer);
    }
    if !c.audience.contains(&v.audience) {
        return Err(TokenError::Audience);
    }
    let leeway = v.leeway_secs;
    if now > c.expires_at.saturating_add(leeway) {
        return Err(TokenError::Expired {
            exp: c.expires_at,
            now,
            leeway,
        });
    }
    for (claim, t) in [("iat", Some(c.issued_at)), ("nbf", c.not_before)] {
        if let Some(t) = t.filter(|t| *t > now.saturating_add(leeway)) {
            return Err(TokenError::NotYetValid {
                claim,
                secs: t - now,
            });
        }
    }
    let lifetime = c.expires_at.saturating_sub(c.issued_at);
    if lifetime == 0 || lifetime > MAX_LIFETIME_SECS {
        return Err(TokenError::Lifetime);
    }
    match &v.nonce {
        NonceCheck::Expect(n) if constant_time_eq(n.as_bytes(), c.nonce.as_bytes()) => Ok(()),
        NonceCheck::Skip => Ok(()),
        _ => Err(TokenError::Nonce),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Rules between claims: what a well-behaved platform never sends together.
pub(crate) fn check_consistency(c: &ResultClaims) -> Result<(), TokenError> {
    let expected = c.assurance.methods();
    if c.methods.len() != expected.len() || !expected.iter().all(|m| c.methods.contains(m)) {
        return Err(TokenError::Inconsistent(
            "`amr` must list exactly the methods of the `acr` level",
        ));
    }
    if !c.outcome.is_verified()
        && (c.age_tag.is_some()
            || c.guardian_consent.is_some()
            || c.fields.is_some()
            || c.consent.is_some())
    {
        return Err(TokenError::Inconsistent(
            "a not_verified result carries no age tag, guardian consent, fields or consent",
        ));
    }
    match (c.age_tag, c.guardian_consent) {
        (Some(AgeTag::Under14), None) => {
            return Err(TokenError::Inconsistent(
                "an under_14 age tag needs `guardian_consent`",
            ));
        }
        (Some(AgeTag::Under14 | AgeTag::Age14To17), _) | (_, None) => {}
        (_, Some(_)) => {
            return Err(TokenError::Inconsistent(
                "`guardian_consent` is only for under_14 and age_14_to_17",
            ));
        }
    }
    match (&c.fields, &c.consent) {
        (None, None) => Ok(()),
        (Some(f), Some(r)) if f.names == r.fields => Ok(()),
        (Some(_), Some(_)) => Err(TokenError::Inconsistent(
            "`consent.fields` must name exactly the fields delivered",
        )),
        (Some(_), None) => Err(TokenError::Inconsistent(
            "plaintext fields come only with the consent receipt that covers them",
        )),
        (None, Some(_)) => Err(TokenError::Inconsistent("a consent receipt without fields")),
    }
}
