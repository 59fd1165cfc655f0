//! Checking again, long after the fact, the platform's signatures on the tokens a log keeps.

use std::collections::HashMap;

use super::AuditEntry;
use crate::crypto::{VerifyingKey, sm3};
use crate::error::{Actor, ErrorCode};
use crate::keys::KeySet;
use crate::token::{UnverifiedToken, Validation};

/// Re-checks the SM2-SM3 signature of every token kept in a log ([`AuditEvent::token`]), one
/// entry at a time, beside a [`ChainVerifier`](super::ChainVerifier): what
/// `netid audit verify --keys` runs.
///
/// For each entry that keeps a token, in this order: its SM3 must be the entry's `token_sm3`
/// ([`TokenCheckError::Mismatch`]); it must be a compact token of protocol v1 whose key id is
/// in the keys given ([`TokenCheckError::UnknownKey`]) and whose signature verifies
/// ([`TokenCheckError::Invalid`]); its `sub` and `authz_id` must be the entry's `subject` and
/// `authz_id` (`Mismatch`). Only the signature is checked, not the time or the other claims:
/// they were checked when the token was received, and a token is long expired when its record
/// is read. Entries without a token (failed attempts, logouts, entries of version 1) are
/// skipped.
///
/// The keys are the platform's keys *of the time the tokens were signed*: keep the key sets
/// the platform published. A [`KeySet`] is used for its pinned keys only
/// ([`KeySetBuilder::pin_jwks`](crate::keys::KeySetBuilder::pin_jwks)); nothing is fetched, so
/// the verdict does not depend on what the platform serves today.
///
/// [`AuditEvent::token`]: super::AuditEvent::token
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    keys: Keys,
    checked: u64,
}

#[derive(Debug, Clone)]
enum Keys {
    /// Keys by id.
    ById(HashMap<String, VerifyingKey>),
    /// One key, trusted under whatever key id a token names.
    Any(VerifyingKey),
}

impl TokenVerifier {
    /// Checks with the pinned keys of `keys`, looked up by the token's `kid`.
    pub fn new(keys: &KeySet) -> Self {
        let by_id = keys
            .kids()
            .into_iter()
            .filter_map(|kid| keys.pinned_key(&kid).map(|key| (kid, key)))
            .collect();
        Self {
            keys: Keys::ById(by_id),
            checked: 0,
        }
    }

    /// Checks with one key whatever `kid` a token names: for a platform key given as a single
    /// PEM file.
    pub fn with_key(key: VerifyingKey) -> Self {
        Self {
            keys: Keys::Any(key),
            checked: 0,
        }
    }

    /// How many tokens verified so far.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// Checks the token `entry` keeps, if it keeps one.
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), TokenCheckError> {
        let e = &entry.event;
        let Some(token) = e.token.as_deref() else {
            return Ok(());
        };
        let seq = entry.seq;
        let digest = hex::encode(sm3(token.as_bytes()));
        if e.token_sm3.as_deref() != Some(digest.as_str()) {
            return Err(TokenCheckError::Mismatch { seq });
        }
        let invalid = |e: &dyn ErrorCode| TokenCheckError::Invalid {
            seq,
            code: e.code(),
        };
        // Only the length limit and the `typ` of a validation are used to read the header.
        let unverified =
            UnverifiedToken::parse(token, &Validation::new("-", "-")).map_err(|e| invalid(&e))?;
        let key = match &self.keys {
            Keys::Any(key) => key,
            Keys::ById(keys) => {
                keys.get(unverified.kid())
                    .ok_or_else(|| TokenCheckError::UnknownKey {
                        seq,
                        kid: unverified.kid().to_owned(),
                    })?
            }
        };
        unverified.verify_signature(key).map_err(|e| invalid(&e))?;
        let claims = unverified.payload().map_err(|e| invalid(&e))?;
        let claim = |name: &str| claims.get(name).and_then(|v| v.as_str());
        if claim("sub") != e.subject.as_deref() || claim("authz_id") != e.authz_id.as_deref() {
            return Err(TokenCheckError::Mismatch { seq });
        }
        self.checked += 1;
        Ok(())
    }
}

/// Why a token kept in the log was not accepted again. Names the entry by `seq`, never a claim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenCheckError {
    /// The token is not a well-formed protocol v1 token, or its signature does not verify with
    /// the key its `kid` names: it is not what the platform signed.
    #[error("the token kept in audit entry {seq} does not verify ({code})")]
    Invalid {
        /// The entry.
        seq: u64,
        /// The token error (`token.signature_invalid`, `token.base64`, …).
        code: &'static str,
    },
    /// The token is not the one its entry names: its SM3 is not `token_sm3`, or its `sub` or
    /// `authz_id` is not the entry's.
    #[error("the token kept in audit entry {seq} is not the one the entry names")]
    Mismatch {
        /// The entry.
        seq: u64,
    },
    /// No key with the token's `kid` among the keys given.
    #[error("no key `{kid}` among the keys given, for the token kept in audit entry {seq}")]
    UnknownKey {
        /// The entry.
        seq: u64,
        /// The key id the token names (of the checked form: letters, digits, `.` `_` `-`).
        kid: String,
    },
}

impl ErrorCode for TokenCheckError {
    fn code(&self) -> &'static str {
        match self {
            TokenCheckError::Invalid { .. } => "audit.token_invalid",
            TokenCheckError::Mismatch { .. } => "audit.token_mismatch",
            TokenCheckError::UnknownKey { .. } => "audit.token_key_unknown",
        }
    }

    fn actor(&self) -> Actor {
        match self {
            // The operator must find the platform's keys of that time.
            TokenCheckError::UnknownKey { .. } => Actor::Configuration,
            _ => Actor::SecurityEvent,
        }
    }
}
