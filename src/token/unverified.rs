use serde_json::Value;

use super::claims::{self, ResultClaims};
use super::{ALG, TokenError, Validation, Verified, error::Segment};
use crate::b64;
use crate::crypto::check_kid;
use crate::crypto::{Signature, SignatureFormatError, VerifyingKey, sm3};
use crate::error::printable_name;
use crate::json::{StrictJsonError, parse_object};

const MAX_HEADER_LEN: usize = 1024;
pub(crate) const MAX_JSON_DEPTH: usize = 8;

/// A compact token whose header has been read strictly but whose signature and claims have not
/// been checked. The only thing to do with it is look up its key and [`verify`](Self::verify).
#[derive(Debug, Clone)]
pub struct UnverifiedToken {
    raw: String,
    /// End of `header.payload` in `raw`.
    signing_input_end: usize,
    /// Start of the payload segment.
    payload_start: usize,
    kid: String,
}

impl UnverifiedToken {
    /// Reads the token's structure and header.
    ///
    /// Checks, in order: length, three segments and nothing after them, canonical base64url and
    /// strict JSON in the header, the forbidden members `crit` `jku` `jwk` `x5u` `x5c`, no other
    /// members than `alg` `kid` `typ`, `alg` = `SM2-SM3`, `typ`, and the form of `kid`.
    pub fn parse(token: &str, validation: &Validation) -> Result<Self, TokenError> {
        if token.len() > validation.max_token_len {
            return Err(TokenError::TooLarge {
                what: "token",
                len: token.len(),
                max: validation.max_token_len,
            });
        }
        if token.trim_end() != token {
            return Err(TokenError::TrailingData("signature"));
        }
        let mut parts = token.splitn(4, '.');
        let (Some(h), Some(p), Some(_s)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(TokenError::Malformed);
        };
        if parts.next().is_some() {
            return Err(TokenError::TrailingData("signature"));
        }
        if h.is_empty() || p.is_empty() {
            return Err(TokenError::Malformed);
        }
        let header = b64::decode(h).ok_or(TokenError::Base64(Segment::Header))?;
        if header.len() > MAX_HEADER_LEN {
            return Err(TokenError::TooLarge {
                what: "header",
                len: header.len(),
                max: MAX_HEADER_LEN,
            });
        }
        let header = strict_object(&header, Segment::Header)?;

        for (name, err) in [
            ("crit", TokenError::HeaderCrit),
            ("jku", TokenError::HeaderJku),
            ("jwk", TokenError::HeaderJwk),
            ("x5u", TokenError::HeaderX5u),
            ("x5c", TokenError::HeaderX5c),
        ] {
            if header.contains_key(name) {
                return Err(err);
            }
        }
        if let Some(other) = header
            .keys()
            .find(|k| !matches!(k.as_str(), "alg" | "kid" | "typ"))
        {
            return Err(TokenError::HeaderUnknown(printable_name(other)));
        }
        match header.get("alg") {
            Some(Value::String(alg)) if alg == ALG => {}
            Some(Value::String(alg)) => return Err(TokenError::Alg(printable_name(alg))),
            _ => return Err(TokenError::Alg("<missing or not a string>".into())),
        }
        match header.get("typ") {
            Some(Value::String(typ)) if *typ == validation.typ => {}
            _ => {
                return Err(TokenError::Typ {
                    expected: validation.typ.clone(),
                });
            }
        }
        let kid = match header.get("kid") {
            Some(Value::String(kid)) if check_kid(kid).is_ok() => kid.clone(),
            _ => return Err(TokenError::Kid),
        };
        Ok(Self {
            raw: token.to_owned(),
            signing_input_end: h.len() + 1 + p.len(),
            payload_start: h.len() + 1,
            kid,
        })
    }

    /// The key id the platform signed with.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Verifies with `key` against the system clock.
    pub fn verify(
        self,
        key: &VerifyingKey,
        validation: &Validation,
    ) -> Result<Verified<ResultClaims>, TokenError> {
        self.verify_at(key, validation, crate::clock::unix_now())
    }

    /// Verifies with `key` as if the time were `now` (Unix seconds).
    ///
    /// Checks, in order: the validation settings, signature length and range, the signature,
    /// payload base64url and strict JSON, claim types (unknown claims are refused), `iss`,
    /// `aud`, `exp`/`iat`/`nbf` with leeway, the lifetime, `nonce`, and the consistency rules
    /// between claims.
    pub fn verify_at(
        self,
        key: &VerifyingKey,
        validation: &Validation,
        now: u64,
    ) -> Result<Verified<ResultClaims>, TokenError> {
        validation.check()?;
        self.verify_signature(key)?;
        let payload = self.payload()?;
        let claims = claims::parse(&payload)?;
        claims::validate(&claims, validation, now)?;
        claims::check_consistency(&claims)?;
        Ok(Verified {
            token_sm3: sm3(self.raw.as_bytes()),
            kid: self.kid,
            claims,
            token: self.raw,
        })
    }

    /// Checks the SM2-SM3 signature with `key`, and nothing else: not a single claim, not the
    /// time. For checking again, long after the fact, a token that was fully verified when it
    /// was received — what `netid audit verify --keys` does with the tokens an audit log keeps.
    /// A relying party deciding whether to accept a token calls [`verify`](Self::verify).
    pub fn verify_signature(&self, key: &VerifyingKey) -> Result<(), TokenError> {
        let sig_b64 = &self.raw[self.signing_input_end + 1..];
        let sig = b64::decode(sig_b64).ok_or(TokenError::Base64(Segment::Signature))?;
        let sig = Signature::from_bytes(&sig).map_err(|e| match e {
            SignatureFormatError::Length => TokenError::SignatureLength(sig.len()),
            _ => TokenError::SignatureScalar,
        })?;
        key.verify(&self.raw.as_bytes()[..self.signing_input_end], &sig)
            .map_err(|_| TokenError::SignatureInvalid {
                kid: self.kid.clone(),
            })
    }

    /// The payload as a strict JSON object, its claims not checked.
    pub(crate) fn payload(&self) -> Result<serde_json::Map<String, Value>, TokenError> {
        let payload = &self.raw[self.payload_start..self.signing_input_end];
        let payload = b64::decode(payload).ok_or(TokenError::Base64(Segment::Payload))?;
        strict_object(&payload, Segment::Payload)
    }
}

fn strict_object(
    bytes: &[u8],
    segment: Segment,
) -> Result<serde_json::Map<String, Value>, TokenError> {
    parse_object(bytes, MAX_JSON_DEPTH).map_err(|e| match e {
        // Bytes after the object make it "not one JSON object" rather than trailing token data.
        StrictJsonError::Utf8 | StrictJsonError::Syntax | StrictJsonError::TrailingData => {
            TokenError::Json(segment)
        }
        StrictJsonError::DuplicateKey(key) => TokenError::JsonDuplicateKey {
            segment,
            key: printable_name(&key),
        },
        StrictJsonError::TooDeep => TokenError::JsonTooDeep(segment),
    })
}
