use crate::error::{Actor, ErrorCode};

/// Which part of a compact token a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// The JOSE header.
    Header,
    /// The claims.
    Payload,
    /// The signature.
    Signature,
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Segment::Header => "header",
            Segment::Payload => "payload",
            Segment::Signature => "signature",
        })
    }
}

/// Why a result token was rejected.
///
/// Every variant has a stable [`code`](ErrorCode::code) (`token.*`, listed in
/// `docs/PROTOCOL.md`). Messages name the rule and the claim or header member, never a claim
/// value: values may be personal data or attacker-chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token (or its header) is longer than allowed.
    #[error("token {what} is {len} bytes, over the limit of {max}")]
    TooLarge {
        /// `token` or `header`.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not three dot-separated segments, or an empty header or payload.
    #[error("not a compact JWS: expected three base64url segments separated by dots")]
    Malformed,
    /// Something after the token: a fourth segment, whitespace, or bytes after a JSON object.
    #[error("trailing data after the {0}")]
    TrailingData(&'static str),
    /// A segment is not canonical unpadded base64url.
    #[error("the {0} segment is not canonical unpadded base64url")]
    Base64(Segment),
    /// A segment is not a UTF-8 JSON object.
    #[error("the {0} is not a UTF-8 JSON object")]
    Json(Segment),
    /// A JSON object has the same key twice.
    #[error("duplicate key `{key}` in the {segment}")]
    JsonDuplicateKey {
        /// Where.
        segment: Segment,
        /// The key, if it is printable; otherwise its length.
        key: String,
    },
    /// JSON nested deeper than allowed.
    #[error("the {0} nests JSON deeper than 8 levels")]
    JsonTooDeep(Segment),
    /// `alg` is missing or not `SM2-SM3`.
    #[error("algorithm `{0}` is not allowed; only SM2-SM3 is accepted")]
    Alg(String),
    /// `typ` is missing or not the expected type.
    #[error("token type is missing or not the expected `{expected}`")]
    Typ {
        /// The type the validation expects.
        expected: String,
    },
    /// `kid` is missing or malformed.
    #[error("key id `kid` is missing or malformed (1-64 characters from A-Z a-z 0-9 . _ -)")]
    Kid,
    /// The header has `crit`: no extension is understood, so none may be critical.
    #[error("header member `crit` is not accepted")]
    HeaderCrit,
    /// The header has `jku`: keys come only from the configured key set.
    #[error("header member `jku` is not accepted: keys come only from the configured key set")]
    HeaderJku,
    /// The header has `jwk`: a token cannot bring its own key.
    #[error("header member `jwk` is not accepted: a token cannot bring its own key")]
    HeaderJwk,
    /// The header has `x5u`.
    #[error("header member `x5u` is not accepted: keys come only from the configured key set")]
    HeaderX5u,
    /// The header has `x5c`.
    #[error("header member `x5c` is not accepted: a token cannot bring its own certificate")]
    HeaderX5c,
    /// The header has a member other than `alg`, `kid`, `typ`.
    #[error("header member `{0}` is not part of protocol v1")]
    HeaderUnknown(String),
    /// The signature is not 64 bytes.
    #[error("signature is {0} bytes; SM2 raw signatures are exactly 64 (r || s)")]
    SignatureLength(usize),
    /// `r` or `s` is zero or not below the curve order.
    #[error("signature component r or s is zero or not below the curve order")]
    SignatureScalar,
    /// The signature does not verify under the key named by `kid`.
    #[error("signature does not verify under key `{kid}`")]
    SignatureInvalid {
        /// The key id.
        kid: String,
    },
    /// No key with this `kid` is in the key set.
    #[error("no key with id `{kid}` in the platform's key set")]
    UnknownKid {
        /// The key id.
        kid: String,
    },
    /// A required claim is absent.
    #[error("required claim `{0}` is missing")]
    ClaimMissing(&'static str),
    /// A claim has the wrong type, form or range.
    #[error("claim `{claim}` is invalid: {rule}")]
    ClaimInvalid {
        /// The claim.
        claim: &'static str,
        /// The rule it breaks.
        rule: String,
    },
    /// A claim protocol v1 does not define.
    #[error("claim `{0}` is not part of protocol v1")]
    ClaimUnknown(String),
    /// `iss` is not the configured issuer.
    #[error("issuer `iss` is not the configured platform")]
    Issuer,
    /// `aud` does not name this relying party.
    #[error("audience `aud` does not include this relying party's app id")]
    Audience,
    /// `nonce` is not the one this relying party sent.
    #[error("nonce does not match the one sent with the request")]
    Nonce,
    /// `exp` (plus leeway) is in the past.
    #[error("token expired at {exp}, now is {now} (leeway {leeway} s)")]
    Expired {
        /// The `exp` claim.
        exp: u64,
        /// The verifier's clock.
        now: u64,
        /// The leeway applied.
        leeway: u64,
    },
    /// `iat` or `nbf` (minus leeway) is in the future.
    #[error("token is not valid yet ({claim} is {secs} s in the future, beyond the leeway)")]
    NotYetValid {
        /// `iat` or `nbf`.
        claim: &'static str,
        /// How far in the future.
        secs: u64,
    },
    /// `exp` is not after `iat`, or more than 300 s after it.
    #[error("token lifetime exp - iat must be 1 to 300 s")]
    Lifetime,
    /// Claims that are each well-formed but contradict each other.
    #[error("claims are inconsistent: {0}")]
    Inconsistent(&'static str),
    /// The validation settings are unusable; nothing was checked.
    #[error("validation is misconfigured: {0}")]
    Config(&'static str),
}

impl ErrorCode for TokenError {
    fn code(&self) -> &'static str {
        use TokenError::*;
        match self {
            TooLarge { .. } => "token.too_large",
            Malformed => "token.malformed",
            TrailingData(_) => "token.trailing_data",
            Base64(_) => "token.base64",
            Json(_) => "token.json",
            JsonDuplicateKey { .. } => "token.json_duplicate_key",
            JsonTooDeep(_) => "token.json_too_deep",
            Alg(_) => "token.alg",
            Typ { .. } => "token.typ",
            Kid => "token.kid",
            HeaderCrit => "token.header_crit",
            HeaderJku => "token.header_jku",
            HeaderJwk => "token.header_jwk",
            HeaderX5u => "token.header_x5u",
            HeaderX5c => "token.header_x5c",
            HeaderUnknown(_) => "token.header_unknown",
            SignatureLength(_) => "token.signature_length",
            SignatureScalar => "token.signature_scalar",
            SignatureInvalid { .. } => "token.signature_invalid",
            UnknownKid { .. } => "token.unknown_kid",
            ClaimMissing(_) => "token.claim_missing",
            ClaimInvalid { .. } => "token.claim_invalid",
            ClaimUnknown(_) => "token.claim_unknown",
            Issuer => "token.iss",
            Audience => "token.aud",
            Nonce => "token.nonce",
            Expired { .. } => "token.expired",
            NotYetValid { .. } => "token.not_yet_valid",
            Lifetime => "token.lifetime",
            Inconsistent(_) => "token.inconsistent",
            Config(_) => "token.config",
        }
    }

    fn actor(&self) -> Actor {
        match self {
            // The relying party's own settings or clock disagree with a well-signed token.
            TokenError::Config(_)
            | TokenError::Issuer
            | TokenError::Audience
            | TokenError::NotYetValid { .. } => Actor::Configuration,
            // The user took too long: a fresh authorization fixes it.
            TokenError::Expired { .. } => Actor::User,
            // Possibly a key rotation the key set has not caught up with yet.
            TokenError::UnknownKid { .. } => Actor::RetryLater,
            _ => Actor::SecurityEvent,
        }
    }
}
