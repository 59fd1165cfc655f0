//! Request authentication of protocol v1 (PROTOCOL.md §7, §8): the relying party signs every
//! call to the platform, and the platform signs every webhook to the relying party.
//!
//! Both sides live here, framework-free: the client signs and verifies webhooks; the sandbox
//! verifies requests and signs webhooks.

use std::collections::HashMap;

use crate::b64;
use crate::crypto::{CryptoError, Signature, SigningKey, VerifyingKey, check_kid, sm3};
use crate::error::{Actor, ErrorCode};

/// The authentication scheme of RP requests.
pub const SCHEME: &str = "NETID-SM2-SM3";
/// The first line of a webhook's string to sign.
pub const WEBHOOK_SCHEME: &str = "NETID-WEBHOOK-SM2-SM3";
/// Most seconds a request or webhook timestamp may differ from the receiver's clock.
pub const MAX_SKEW_SECS: u64 = 300;
/// How long a receiver remembers nonces and webhook ids (twice the skew bound).
pub const REPLAY_WINDOW_SECS: u64 = 600;

/// Why a signed request or webhook was refused. Codes are the platform's (`netid.*`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestAuthError {
    /// The header is absent or does not follow the grammar.
    #[error("authentication header is missing or malformed: {0}")]
    Malformed(&'static str),
    /// The timestamp is more than 300 s from the receiver's clock.
    #[error("timestamp is more than 300 s away from the receiver's clock")]
    Stale,
    /// The signature does not verify over the string to sign.
    #[error("signature does not verify over the request as received")]
    SignatureInvalid,
    /// The nonce (or webhook id) was seen within the replay window.
    #[error("nonce already used")]
    Replayed,
}

impl RequestAuthError {
    /// The refusal the receiver answers with.
    pub fn problem_kind(&self) -> crate::problem::ProblemKind {
        use crate::problem::ProblemKind;
        match self {
            RequestAuthError::Malformed(_) => ProblemKind::Unauthenticated,
            RequestAuthError::Stale => ProblemKind::RequestStale,
            RequestAuthError::SignatureInvalid => ProblemKind::SignatureInvalid,
            RequestAuthError::Replayed => ProblemKind::RequestReplayed,
        }
    }
}

impl ErrorCode for RequestAuthError {
    fn code(&self) -> &'static str {
        // The platform's answer on the wire: one code in the registry.
        self.problem_kind().code()
    }
    fn actor(&self) -> Actor {
        match self {
            RequestAuthError::Stale => Actor::Configuration,
            _ => Actor::SecurityEvent,
        }
    }
}

/// The seven-line string an RP request signature covers.
pub fn string_to_sign(
    method: &str,
    path_and_query: &str,
    app_id: &str,
    timestamp: u64,
    nonce: &str,
    body: &[u8],
) -> String {
    format!(
        "{SCHEME}\n{}\n{path_and_query}\n{app_id}\n{timestamp}\n{nonce}\n{}",
        method.to_ascii_uppercase(),
        hex::encode(sm3(body))
    )
}

/// The four-line string a webhook signature covers.
pub fn webhook_string_to_sign(webhook_id: &str, timestamp: u64, body: &[u8]) -> String {
    format!(
        "{WEBHOOK_SCHEME}\n{webhook_id}\n{timestamp}\n{}",
        hex::encode(sm3(body))
    )
}

/// Signs the relying party's requests.
#[derive(Debug, Clone)]
pub struct RequestSigner {
    app_id: String,
    kid: String,
    key: SigningKey,
}

impl RequestSigner {
    /// A signer for `app_id` with the signing key registered at the platform under `kid`.
    pub fn new(
        app_id: impl Into<String>,
        kid: impl Into<String>,
        key: SigningKey,
    ) -> Result<Self, CryptoError> {
        let (app_id, kid) = (app_id.into(), kid.into());
        if !is_token_chars(&app_id, 1, 64) {
            return Err(CryptoError::Jwk {
                detail: "app id must be 1-64 characters from A-Z a-z 0-9 _ -".into(),
            });
        }
        check_kid(&kid).map_err(|d| CryptoError::Jwk { detail: d.into() })?;
        Ok(Self { app_id, kid, key })
    }

    /// The app id.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The `Authorization` header value for one request, with the given timestamp and nonce.
    pub fn authorization(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        timestamp: u64,
        nonce: &str,
    ) -> Result<String, CryptoError> {
        let input = string_to_sign(method, path_and_query, &self.app_id, timestamp, nonce, body);
        let sig = self.key.sign(input.as_bytes())?;
        Ok(format!(
            "{SCHEME} app_id=\"{}\",kid=\"{}\",timestamp=\"{timestamp}\",nonce=\"{nonce}\",signature=\"{}\"",
            self.app_id,
            self.kid,
            b64::encode(&sig.to_bytes())
        ))
    }

    /// The `Authorization` header value with the current time and a fresh random nonce.
    pub fn authorization_now(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
    ) -> Result<String, CryptoError> {
        let nonce = crate::random::token(18);
        self.authorization(
            method,
            path_and_query,
            body,
            crate::clock::unix_now(),
            &nonce,
        )
    }
}

/// The parameters of an `Authorization: NETID-SM2-SM3 …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestCredentials {
    /// The calling app.
    pub app_id: String,
    /// Which of its signing keys.
    pub kid: String,
    /// Unix seconds.
    pub timestamp: u64,
    /// Fresh per request.
    pub nonce: String,
    signature: Signature,
}

impl RequestCredentials {
    /// Parses the header value (receivers accept any parameter order and spaces around commas).
    pub fn parse(header: &str) -> Result<Self, RequestAuthError> {
        let rest = header
            .strip_prefix(SCHEME)
            .filter(|r| r.starts_with(' '))
            .ok_or(RequestAuthError::Malformed(
                "expected the NETID-SM2-SM3 scheme",
            ))?;
        let p = parse_params(rest, &["app_id", "kid", "timestamp", "nonce", "signature"])?;
        let app_id = p["app_id"];
        if !is_token_chars(app_id, 1, 64) {
            return Err(RequestAuthError::Malformed("app_id"));
        }
        let nonce = p["nonce"];
        if !is_token_chars(nonce, 16, 64) {
            return Err(RequestAuthError::Malformed("nonce"));
        }
        Ok(Self {
            app_id: app_id.to_owned(),
            kid: checked_kid(p["kid"])?,
            timestamp: parse_timestamp(p["timestamp"])?,
            nonce: nonce.to_owned(),
            signature: parse_signature(p["signature"])?,
        })
    }

    /// Checks freshness against `now` and the signature over the request as received. Replay
    /// (nonce reuse) is the caller's to check, after this succeeds.
    pub fn verify(
        &self,
        key: &VerifyingKey,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        now: u64,
    ) -> Result<(), RequestAuthError> {
        if now.abs_diff(self.timestamp) > MAX_SKEW_SECS {
            return Err(RequestAuthError::Stale);
        }
        let input = string_to_sign(
            method,
            path_and_query,
            &self.app_id,
            self.timestamp,
            &self.nonce,
            body,
        );
        key.verify(input.as_bytes(), &self.signature)
            .map_err(|_| RequestAuthError::SignatureInvalid)
    }
}

/// Signs a webhook body: returns the `NetID-Signature` header value.
pub fn sign_webhook(
    kid: &str,
    key: &SigningKey,
    webhook_id: &str,
    timestamp: u64,
    body: &[u8],
) -> Result<String, CryptoError> {
    let sig = key.sign(webhook_string_to_sign(webhook_id, timestamp, body).as_bytes())?;
    Ok(format!(
        "kid=\"{kid}\",timestamp=\"{timestamp}\",signature=\"{}\"",
        b64::encode(&sig.to_bytes())
    ))
}

/// The parameters of a `NetID-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSignature {
    /// The platform key that signed.
    pub kid: String,
    /// Unix seconds.
    pub timestamp: u64,
    signature: Signature,
}

impl WebhookSignature {
    /// Parses the header value.
    pub fn parse(header: &str) -> Result<Self, RequestAuthError> {
        let p = parse_params(header, &["kid", "timestamp", "signature"])?;
        Ok(Self {
            kid: checked_kid(p["kid"])?,
            timestamp: parse_timestamp(p["timestamp"])?,
            signature: parse_signature(p["signature"])?,
        })
    }

    /// Checks freshness and the signature over `webhook_id` and the raw body.
    pub fn verify(
        &self,
        key: &VerifyingKey,
        webhook_id: &str,
        body: &[u8],
        now: u64,
    ) -> Result<(), RequestAuthError> {
        if now.abs_diff(self.timestamp) > MAX_SKEW_SECS {
            return Err(RequestAuthError::Stale);
        }
        key.verify(
            webhook_string_to_sign(webhook_id, self.timestamp, body).as_bytes(),
            &self.signature,
        )
        .map_err(|_| RequestAuthError::SignatureInvalid)
    }
}

/// `name="value"` pairs separated by commas; each expected name exactly once, no others.
fn parse_params<'a>(
    text: &'a str,
    expected: &[&'static str],
) -> Result<HashMap<&'a str, &'a str>, RequestAuthError> {
    if text.len() > 1024 {
        return Err(RequestAuthError::Malformed("header longer than 1 KiB"));
    }
    let mut out = HashMap::new();
    for part in text.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or(RequestAuthError::Malformed("parameters are name=\"value\""))?;
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .filter(|v| !v.contains('"'))
            .ok_or(RequestAuthError::Malformed("parameter values are quoted"))?;
        if !expected.contains(&name) {
            return Err(RequestAuthError::Malformed("unknown parameter"));
        }
        if out.insert(name, value).is_some() {
            return Err(RequestAuthError::Malformed("repeated parameter"));
        }
    }
    if out.len() != expected.len() {
        return Err(RequestAuthError::Malformed("missing parameter"));
    }
    Ok(out)
}

fn is_token_chars(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn checked_kid(kid: &str) -> Result<String, RequestAuthError> {
    check_kid(kid)
        .map(|()| kid.to_owned())
        .map_err(|_| RequestAuthError::Malformed("kid"))
}

fn parse_timestamp(t: &str) -> Result<u64, RequestAuthError> {
    let canonical = !t.is_empty()
        && t.len() <= 15
        && t.bytes().all(|b| b.is_ascii_digit())
        && (t == "0" || !t.starts_with('0'));
    canonical
        .then(|| t.parse().ok())
        .flatten()
        .ok_or(RequestAuthError::Malformed("timestamp"))
}

fn parse_signature(s: &str) -> Result<Signature, RequestAuthError> {
    b64::decode(s)
        .and_then(|raw| Signature::from_bytes(&raw).ok())
        .ok_or(RequestAuthError::Malformed("signature"))
}
