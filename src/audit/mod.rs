//! The tamper-evident audit log: who verified, consented, withdrew or was erased, and when —
//! without a single byte of plaintext identity data.
//!
//! # The chain
//! Every [`AuditEntry`] carries a sequence number (`seq`, the first is 1), the hash of the entry
//! before it (`prev`; [`GENESIS`], 64 zeros, for the first) and its own `hash`: the lowercase hex
//! SM3 of [`AuditEntry::hashed_bytes`], the entry's compact JSON without `hash`, keys in a fixed
//! order. Changing any byte of an entry breaks its own hash; deleting, moving or inserting an
//! entry breaks the `seq` run or the `prev` link of the entry after it. [`verify_chain`] walks
//! the entries and names the first broken link ([`ChainError`]).
//!
//! ```text
//! seq 1: prev = 000…0      hash = SM3({"seq":1,"prev":"000…0",…,"at":…})   = h1
//! seq 2: prev = h1         hash = SM3({"seq":2,"prev":"h1",…})             = h2
//! seq 3: prev = h2         hash = SM3(…)                                   = h3   ← the head
//! ```
//!
//! Anyone can re-check a chain without netid: `docs/AUDIT.md` gives the exact bytes and a shell
//! loop around `openssl dgst -sm3`.
//!
//! # What a chain cannot prove
//! Removing the *last* entries leaves a shorter chain that is still perfect, and whoever can
//! rewrite the whole file can recompute every hash. Anchor the head: copy the [`ChainHead`] that
//! [`verify_log`] returns (or [`AuditEntry::hash`] of the newest entry) somewhere the log's
//! writer cannot change — a ticket, another system's log, a signed daily report — and check later
//! with [`verify_chain_to`] / [`verify_log_to`] that the anchored entry is still there,
//! unchanged.
//!
//! # The signed answer, kept
//! An entry of a verification the relying party relied on keeps the platform's signed result
//! token itself ([`AuditEvent::token`]), not only its SM3, so the platform can show later what
//! it relied on (可追溯、抗抵赖, the Ministry's Q&A, part 七): [`TokenVerifier`] — run by
//! [`verify_log_and_tokens`], [`JsonlAuditLog::verify_file_and_tokens`] and
//! `netid audit verify --keys` — checks every kept token's SM2 signature again with the
//! platform's keys. Entries written before tokens were kept are of entry version 1
//! ([`AuditEntry::version`]) and still verify.
//!
//! # Finding an authorization or a subject
//! [`find_in_log`] and [`JsonlAuditLog::find_in_file`] (`netid audit find`) return the entries
//! of one authorization, subject or consent ([`AuditQuery`]) from a log whose whole chain — and,
//! given the platform's keys, every kept signature — they have just checked: the relying
//! platform's record for a request to assist the authorities (协助义务, the Ministry's Q&A,
//! part 四; docs/COMPLIANCE.md gives the procedure).
//!
//! # No identity data
//! An [`AuditEvent`] holds the pseudonym (never a name or an ID number), the *names* of the
//! plaintext fields received (never their values), ids, digests, and the platform's token,
//! whose claims hold a pseudonym and SM2-encrypted fields only. [`AuditEvent::validate`]
//! bounds every field, refuses a subject, id, outcome, reason or method in which the
//! identity-number detector finds a number ([`crate::detect`]), and a token whose header or
//! claims the detector would block ([`check_token`]); errors name the field, never the value.
//!
//! # Backends
//! - [`InMemoryAuditLog`]: tests and development; gone when the process ends.
//! - [`JsonlAuditLog`]: one JSON object per line in a local file, for a single process. Several
//!   instances of an application must share the PostgreSQL log (`postgres` feature), whose
//!   appends are serialised in the database.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), netid::audit::AuditError> {
//! use netid::audit::{AuditAction, AuditEvent, AuditLog, InMemoryAuditLog, verify_log};
//! use netid::model::FieldName;
//!
//! let log = InMemoryAuditLog::new();
//! let event = AuditEvent::new(AuditAction::Verification, "pw_8Kq2xZ", "verified", "netid")
//!     .assurance(2)
//!     .fields([FieldName::Name])
//!     .authz_id("Q7bX2kP9mZ4vR8tW1nY6cH3sJ5dF0gLa");
//! let entry = log.append(event).await?;
//! assert_eq!(entry.seq, 1);
//!
//! let head = verify_log(&log).await?;
//! assert_eq!(head.head, entry.hash);   // anchor this somewhere else
//! # Ok(()) }
//! ```

mod chain;
mod find;
mod jsonl;
mod memory;
mod tokens;

use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::crypto::sm3;
use crate::detect::Detector;
use crate::error::{Actor, ErrorCode};
use crate::model::FieldName;

pub use crate::error::StoreError;
pub use chain::{
    ChainError, ChainHead, ChainVerifier, ENTRY_VERSION, GENESIS, find_in_log, verify_chain,
    verify_chain_to, verify_log, verify_log_and_tokens, verify_log_to,
};
pub use find::{AuditQuery, Found};
pub use jsonl::JsonlAuditLog;
pub use memory::InMemoryAuditLog;
pub use tokens::{TokenCheckError, TokenVerifier};

/// What happened. The wire spelling is snake_case (`consent_granted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditAction {
    /// A user verified (with 网号/网证 or another lawful method) — or tried to.
    Verification,
    /// A verified user was asked to verify again (a sensitive operation, a long session).
    Reverification,
    /// The user consented to something (the `consent_id` says what).
    ConsentGranted,
    /// The user withdrew a consent.
    ConsentWithdrawn,
    /// The user's session ended.
    Logout,
    /// Data about the user was erased on request or at the end of its retention.
    Erasure,
    /// A retention sweep deleted every consent and sealed field whose period had ended by `at`
    /// (subject `*`: it concerns no one user; `erasure::Sweeper`).
    RetentionSweep,
    /// The platform handed its record of a subject to an authority under a law or
    /// administrative regulation (协助义务, the Ministry's Q&A, part 四): one entry per
    /// authorization disclosed (`authz_id`), or per subject, written by the application when
    /// it hands the entries over (outcome `disclosed`, method `authority_request`; `fields`:
    /// the names of any sealed fields handed over with them). The request's own reference
    /// stays in the platform's files: an entry holds no free text.
    Disclosure,
}

impl AuditAction {
    /// The wire spelling (`verification`, `consent_granted`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Verification => "verification",
            AuditAction::Reverification => "reverification",
            AuditAction::ConsentGranted => "consent_granted",
            AuditAction::ConsentWithdrawn => "consent_withdrawn",
            AuditAction::Logout => "logout",
            AuditAction::Erasure => "erasure",
            AuditAction::RetentionSweep => "retention_sweep",
            AuditAction::Disclosure => "disclosure",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened, as the caller reports it. Never holds plaintext identity data: the subject is
/// the pseudonym, `fields` are the *names* of the plaintext fields received, and the token kept
/// is the platform's signed answer, which holds a pseudonym and SM2-encrypted fields only.
///
/// Build one with [`AuditEvent::new`] (or [`AuditEvent::without_subject`]) and the chainable
/// setters; [`AuditLog::append`] checks it with [`validate`](Self::validate). Field order here
/// is the order of the hashed JSON (docs/AUDIT.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// What happened.
    pub action: AuditAction,
    /// Who it happened to: the pseudonym ([`VerifiedUser::subject`](crate::policy::VerifiedUser::subject)).
    /// 1 to 128 printable ASCII characters, no space. `None` for an attempt that established
    /// no one (declined, expired, or an answer that failed verification: its `sub` is not to be
    /// believed).
    pub subject: Option<String>,
    /// How it ended: `verified`, `not_verified`, `refused`, `declined`, `expired`, `failed`,
    /// `granted`, `withdrawn`, `erased`, `logged_out`, … (docs/AUDIT.md lists them).
    /// 1 to 32 characters from `a-z 0-9 _`.
    pub outcome: String,
    /// Why, for an outcome that is not a success: the platform's `not_verified` reason
    /// (`guardian_consent_required`, `identity_mismatch`, …) or the error code an answer was
    /// refused with (`token.signature_invalid`, `client.mismatch`, …). 1 to 64 characters from
    /// `a-z 0-9 _ .`.
    #[serde(default)]
    pub reason: Option<String>,
    /// How the user verified: `netid`, or another lawful method's name; for a consent, who
    /// collected it (`netid`: the platform's signed receipt; `app`: the application); for a
    /// withdrawal or an erasure, `user_request`. 1 to 64 characters from `a-z 0-9 _ . -`.
    pub method: String,
    /// The assurance level (1 to 4), when known.
    pub assurance: Option<u8>,
    /// The names of the plaintext fields received, never their values. No duplicates.
    pub fields: Vec<FieldName>,
    /// The consent record this event concerns: 1 to 128 printable ASCII characters, no space.
    pub consent_id: Option<String>,
    /// The platform's authorization id: 1 to 128 printable ASCII characters, no space.
    pub authz_id: Option<String>,
    /// The SM3 of the signed result token relied on, 64 lowercase hex digits
    /// ([`Verified::token_sm3`](crate::token::Verified::token_sm3)); for an answer that failed
    /// verification, the SM3 of what was received.
    pub token_sm3: Option<String>,
    /// The platform's signed result token itself (compact JWS), for an answer that passed
    /// verification: `netid audit verify --keys` checks its signature again. At most 16 KiB of
    /// base64url in three segments; its header and claims must scan clean for identity data
    /// ([`check_token`]); `token_sm3` must be its SM3. Set with [`token`](Self::token).
    #[serde(default)]
    pub token: Option<String>,
    /// When, in Unix seconds (at most 253402300799, the end of year 9999).
    pub at: u64,
}

/// Longest subject, consent id or authorization id.
const MAX_ID: usize = 128;
/// Longest outcome.
const MAX_OUTCOME: usize = 32;
/// Longest reason code.
const MAX_REASON: usize = 64;
/// Longest method name.
const MAX_METHOD: usize = 64;
/// 9999-12-31T23:59:59Z: keeps `at` well inside every JSON reader's exact integers.
const MAX_AT: u64 = 253_402_300_799;

impl AuditEvent {
    /// An event happening now to `subject`, with no optional part set.
    pub fn new(
        action: AuditAction,
        subject: impl Into<String>,
        outcome: impl Into<String>,
        method: impl Into<String>,
    ) -> Self {
        let mut event = Self::without_subject(action, outcome, method);
        event.subject = Some(subject.into());
        event
    }

    /// An event happening now that established no subject: an attempt declined or expired
    /// before anyone was verified, or an answer refused (whose `sub` cannot be believed).
    pub fn without_subject(
        action: AuditAction,
        outcome: impl Into<String>,
        method: impl Into<String>,
    ) -> Self {
        Self {
            action,
            subject: None,
            outcome: outcome.into(),
            reason: None,
            method: method.into(),
            assurance: None,
            fields: Vec::new(),
            consent_id: None,
            authz_id: None,
            token_sm3: None,
            token: None,
            at: crate::clock::unix_now(),
        }
    }

    /// Sets the reason code (a `not_verified` reason, or the error code of a refusal).
    pub fn reason(mut self, code: impl Into<String>) -> Self {
        self.reason = Some(code.into());
        self
    }

    /// Sets the assurance level (1 to 4).
    pub fn assurance(mut self, level: u8) -> Self {
        self.assurance = Some(level);
        self
    }

    /// Sets the names of the plaintext fields received.
    pub fn fields(mut self, fields: impl IntoIterator<Item = FieldName>) -> Self {
        self.fields = fields.into_iter().collect();
        self
    }

    /// Sets the consent record's id.
    pub fn consent_id(mut self, id: impl Into<String>) -> Self {
        self.consent_id = Some(id.into());
        self
    }

    /// Sets the platform's authorization id.
    pub fn authz_id(mut self, id: impl Into<String>) -> Self {
        self.authz_id = Some(id.into());
        self
    }

    /// Sets the SM3 digest of the result token relied on (or received and refused).
    pub fn token_sm3(mut self, digest: &[u8; 32]) -> Self {
        self.token_sm3 = Some(hex::encode(digest));
        self
    }

    /// Keeps the platform's signed result token itself, and sets `token_sm3` to its SM3. Only
    /// for a token that passed verification: one that failed may be anyone's bytes, and is
    /// recorded by [`token_sm3`](Self::token_sm3) alone.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        let token = token.into();
        self.token_sm3 = Some(hex::encode(sm3(token.as_bytes())));
        self.token = Some(token);
        self
    }

    /// Sets the time (Unix seconds) instead of now.
    pub fn at(mut self, unix: u64) -> Self {
        self.at = unix;
        self
    }

    /// Checks the bounds documented on each field, and that no subject or id holds an identity
    /// number. The error names the first field that fails, never its value.
    pub fn validate(&self) -> Result<(), AuditError> {
        check(self.subject.as_deref().is_none_or(id_like), "subject")?;
        check(
            bounded(&self.outcome, MAX_OUTCOME, |b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'
            }),
            "outcome",
        )?;
        check(
            self.reason.as_deref().is_none_or(|r| {
                bounded(r, MAX_REASON, |b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.')
                })
            }),
            "reason",
        )?;
        check(
            bounded(&self.method, MAX_METHOD, |b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-')
            }),
            "method",
        )?;
        check(
            self.assurance.is_none_or(|a| (1..=4).contains(&a)),
            "assurance",
        )?;
        check(
            self.fields
                .iter()
                .enumerate()
                .all(|(i, f)| !self.fields[..i].contains(f)),
            "fields",
        )?;
        check(self.consent_id.as_deref().is_none_or(id_like), "consent_id")?;
        check(self.authz_id.as_deref().is_none_or(id_like), "authz_id")?;
        check(
            self.token_sm3.as_deref().is_none_or(|d| {
                d.len() == 64
                    && d.bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            }),
            "token_sm3",
        )?;
        if let Some(token) = &self.token {
            check_token(token)?;
            let digest = hex::encode(sm3(token.as_bytes()));
            check(
                self.token_sm3.as_deref() == Some(digest.as_str()),
                "token_sm3",
            )?;
        }
        check(self.at <= MAX_AT, "at")?;
        for (value, name) in [
            (self.subject.as_deref(), "subject"),
            (Some(self.outcome.as_str()), "outcome"),
            (self.reason.as_deref(), "reason"),
            (Some(self.method.as_str()), "method"),
            (self.consent_id.as_deref(), "consent_id"),
            (self.authz_id.as_deref(), "authz_id"),
        ] {
            if let Some(value) = value {
                check(!holds_identity_number(value), name)?;
            }
        }
        Ok(())
    }
}

/// Checks a result token before an audit log keeps it: a compact JWS of at most 16 KiB
/// ([`DEFAULT_MAX_TOKEN_LEN`](crate::token::DEFAULT_MAX_TOKEN_LEN)) in three non-empty
/// base64url segments, whose header and claims are JSON in which the identity-number detector
/// finds nothing to block ([`Detector::scan_json`]). A protocol v1 result token passes: its
/// claims hold a pseudonym and SM2-encrypted fields, never plaintext. The error is
/// [`AuditError::Invalid`]`("token")`; it never shows the token.
pub fn check_token(token: &str) -> Result<(), AuditError> {
    let form = (1..=crate::token::DEFAULT_MAX_TOKEN_LEN).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    check(form, "token")?;
    let segments: Vec<&str> = token.split('.').collect();
    check(
        segments.len() == 3 && segments.iter().all(|s| !s.is_empty()),
        "token",
    )?;
    for segment in &segments[..2] {
        let json = crate::b64::decode(segment).ok_or(AuditError::Invalid("token"))?;
        let clean = detector()
            .scan_json(&json)
            .is_ok_and(|scan| !scan.should_block());
        check(clean, "token")?;
    }
    Ok(())
}

/// `Ok` if `ok`, else the field's [`AuditError::Invalid`].
fn check(ok: bool, field: &'static str) -> Result<(), AuditError> {
    if ok {
        Ok(())
    } else {
        Err(AuditError::Invalid(field))
    }
}

/// 1 to `max` bytes, each allowed by `allowed`.
fn bounded(text: &str, max: usize, allowed: impl Fn(u8) -> bool) -> bool {
    (1..=max).contains(&text.len()) && text.bytes().all(allowed)
}

/// A subject or id: 1 to 128 printable ASCII characters, no space.
fn id_like(text: &str) -> bool {
    bounded(text, MAX_ID, |b| b.is_ascii_graphic())
}

/// Whether the identity-number detector blocks `text` (a resident ID with a valid check
/// character, a residence permit, a foreigner's card…, even inside other characters).
fn holds_identity_number(text: &str) -> bool {
    detector().scan_text(None, text).should_block()
}

/// The detector with its built-in field names, made once.
fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(Detector::new)
}

/// One link of the chain: an [`AuditEvent`] with its place and hashes.
///
/// Serialised (a JSONL line, `serde_json`), it is exactly [`hashed_bytes`](Self::hashed_bytes)
/// with `hash` last; read back, a line of either entry version is accepted
/// ([`version`](Self::version)).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "chain::RawEntry")]
pub struct AuditEntry {
    /// The position in the log; the first entry is 1.
    pub seq: u64,
    /// The `hash` of entry `seq - 1`, or [`GENESIS`] for the first.
    pub prev: String,
    /// The form of the hashed bytes (docs/AUDIT.md): 2 for every entry netid writes now
    /// ([`ENTRY_VERSION`]); 1 for entries written before `reason`, `token` and entries without
    /// a subject existed, which carry no `v` key. Both verify.
    pub version: u8,
    /// What happened.
    pub event: AuditEvent,
    /// Lowercase hex SM3 of [`hashed_bytes`](Self::hashed_bytes).
    pub hash: String,
}

impl Serialize for AuditEntry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        chain::Line::of(self).serialize(serializer)
    }
}

/// Appends to and reads one chain. Implemented by [`InMemoryAuditLog`], [`JsonlAuditLog`] and
/// the PostgreSQL log.
///
/// On [`AuditError::Store`] nothing is known to have been written; a caller that must not act
/// without a record (a verification, an erasure) refuses, like every netid store (fail closed).
#[async_trait::async_trait]
pub trait AuditLog: Send + Sync + 'static {
    /// Appends `event` as the next link, after [`AuditEvent::validate`]. Atomic with respect
    /// to concurrent appends through the same store: one chain, never a fork.
    async fn append(&self, event: AuditEvent) -> Result<AuditEntry, AuditError>;

    /// Up to `limit` entries with `seq >= from_seq`, ascending.
    async fn read(&self, from_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, AuditError>;
}

/// Why an audit operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The event breaks the named field's bounds (or the field holds an identity number).
    /// Nothing was written. The value is never shown.
    #[error("audit event field `{0}` is out of bounds or holds identity data; nothing was written")]
    Invalid(&'static str),
    /// The log's chain is broken: a security event.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A token the log keeps does not verify again ([`TokenVerifier`]).
    #[error(transparent)]
    Token(#[from] TokenCheckError),
    /// The store could not be used, or holds something that is not an audit log.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ErrorCode for AuditError {
    fn code(&self) -> &'static str {
        match self {
            AuditError::Invalid(_) => "audit.invalid_event",
            AuditError::Chain(e) => e.code(),
            AuditError::Token(e) => e.code(),
            AuditError::Store(e) => e.code(),
        }
    }

    fn actor(&self) -> Actor {
        match self {
            // The application built the event: its code must change.
            AuditError::Invalid(_) => Actor::Configuration,
            AuditError::Chain(e) => e.actor(),
            AuditError::Token(e) => e.actor(),
            AuditError::Store(e) => e.actor(),
        }
    }
}

#[cfg(test)]
mod tests;
