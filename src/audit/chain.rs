//! Hashing an entry, and checking that entries form one unbroken chain.

use serde::{Deserialize, Serialize};

use super::{AuditAction, AuditEntry, AuditError, AuditEvent, AuditLog};
use crate::crypto::sm3;
use crate::error::{Actor, ErrorCode};
use crate::model::FieldName;

/// The `prev` of the first entry: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The entry version netid writes (docs/AUDIT.md, "The bytes that are hashed"). Version 1
/// entries, written before it, still verify.
pub const ENTRY_VERSION: u8 = 2;

/// How many entries [`verify_log`] reads at a time.
const PAGE: usize = 1000;

/// The hashed form of a version 1 entry: every key but `hash`, in this order. `serde_json`
/// writes struct fields in declaration order, so this order *is* the format (docs/AUDIT.md).
#[derive(Serialize)]
struct HashedV1<'a> {
    seq: u64,
    prev: &'a str,
    action: AuditAction,
    subject: Option<&'a str>,
    outcome: &'a str,
    method: &'a str,
    assurance: Option<u8>,
    fields: &'a [FieldName],
    consent_id: Option<&'a str>,
    authz_id: Option<&'a str>,
    token_sm3: Option<&'a str>,
    at: u64,
}

/// The hashed form of a version 2 entry: `v` after `prev`, `reason` after `outcome`, `token`
/// after `token_sm3`, and `subject` may be `null`.
#[derive(Serialize)]
struct HashedV2<'a> {
    seq: u64,
    prev: &'a str,
    v: u8,
    action: AuditAction,
    subject: Option<&'a str>,
    outcome: &'a str,
    reason: Option<&'a str>,
    method: &'a str,
    assurance: Option<u8>,
    fields: &'a [FieldName],
    consent_id: Option<&'a str>,
    authz_id: Option<&'a str>,
    token_sm3: Option<&'a str>,
    token: Option<&'a str>,
    at: u64,
}

/// The hashed form of an entry, whichever its version.
#[derive(Serialize)]
#[serde(untagged)]
enum Hashed<'a> {
    V1(HashedV1<'a>),
    V2(HashedV2<'a>),
}

impl<'a> Hashed<'a> {
    fn of(entry: &'a AuditEntry) -> Self {
        let e = &entry.event;
        if entry.version == 1 {
            Hashed::V1(HashedV1 {
                seq: entry.seq,
                prev: &entry.prev,
                action: e.action,
                subject: e.subject.as_deref(),
                outcome: &e.outcome,
                method: &e.method,
                assurance: e.assurance,
                fields: &e.fields,
                consent_id: e.consent_id.as_deref(),
                authz_id: e.authz_id.as_deref(),
                token_sm3: e.token_sm3.as_deref(),
                at: e.at,
            })
        } else {
            Hashed::V2(HashedV2 {
                seq: entry.seq,
                prev: &entry.prev,
                v: entry.version,
                action: e.action,
                subject: e.subject.as_deref(),
                outcome: &e.outcome,
                reason: e.reason.as_deref(),
                method: &e.method,
                assurance: e.assurance,
                fields: &e.fields,
                consent_id: e.consent_id.as_deref(),
                authz_id: e.authz_id.as_deref(),
                token_sm3: e.token_sm3.as_deref(),
                token: e.token.as_deref(),
                at: e.at,
            })
        }
    }
}

/// An entry as a JSONL line (without its `\n`): the hashed form, then `hash`.
#[derive(Serialize)]
pub(super) struct Line<'a> {
    #[serde(flatten)]
    hashed: Hashed<'a>,
    hash: &'a str,
}

impl<'a> Line<'a> {
    pub(super) fn of(entry: &'a AuditEntry) -> Self {
        Self {
            hashed: Hashed::of(entry),
            hash: &entry.hash,
        }
    }
}

/// An entry as read: either version (no `v` key: version 1).
#[derive(Deserialize)]
pub(super) struct RawEntry {
    seq: u64,
    prev: String,
    #[serde(default)]
    v: Option<u8>,
    #[serde(flatten)]
    event: AuditEvent,
    hash: String,
}

impl From<RawEntry> for AuditEntry {
    fn from(raw: RawEntry) -> Self {
        AuditEntry {
            seq: raw.seq,
            prev: raw.prev,
            version: raw.v.unwrap_or(1),
            event: raw.event,
            hash: raw.hash,
        }
    }
}

impl AuditEntry {
    /// Links `event` after entry `seq - 1` whose hash is `prev` ([`GENESIS`] for `seq` 1), as
    /// an entry of the current version ([`ENTRY_VERSION`]), and computes the entry's hash. Does
    /// not validate the event ([`super::AuditLog::append`] does).
    pub fn link(seq: u64, prev: &str, event: AuditEvent) -> AuditEntry {
        let mut entry = AuditEntry {
            seq,
            prev: prev.to_owned(),
            version: ENTRY_VERSION,
            event,
            hash: String::new(),
        };
        entry.hash = entry.computed_hash();
        entry
    }

    /// The exact bytes hashed: the compact JSON object of every key but `hash`, absent values
    /// as `null`, `fields` as an array of wire names (`["name","id_number"]`). For version 2,
    /// in the order `seq, prev, v, action, subject, outcome, reason, method, assurance, fields,
    /// consent_id, authz_id, token_sm3, token, at`; for version 1 (no `v`), `seq, prev, action,
    /// subject, outcome, method, assurance, fields, consent_id, authz_id, token_sm3, at`.
    /// `openssl dgst -sm3` of these bytes is the entry's hash.
    pub fn hashed_bytes(&self) -> Vec<u8> {
        // Strings, integers and unit enums only: serde_json cannot fail on them. Were it ever
        // to, the empty output's hash matches no entry and verification fails closed.
        serde_json::to_vec(&Hashed::of(self)).unwrap_or_default()
    }

    /// Whether the entry has the shape of its version: a version 1 entry has a subject, and no
    /// `reason` or `token` (they did not exist, and its hash would not cover them).
    fn fits_its_version(&self) -> bool {
        let e = &self.event;
        self.version != 1 || (e.subject.is_some() && e.reason.is_none() && e.token.is_none())
    }

    /// The hash recomputed from the content: lowercase hex SM3 of
    /// [`hashed_bytes`](Self::hashed_bytes). Equal to [`hash`](Self::hash) unless the entry
    /// was changed.
    pub fn computed_hash(&self) -> String {
        hex::encode(sm3(&self.hashed_bytes()))
    }

    /// The entry as one JSONL line: [`hashed_bytes`](Self::hashed_bytes) with `,"hash":"…"`
    /// before the closing brace, then `\n`. The same bytes as `serde_json::to_string(self)`.
    pub(crate) fn to_line(&self) -> Vec<u8> {
        let mut line = self.hashed_bytes();
        if line.last() == Some(&b'}') {
            line.pop();
        }
        // The stored hash goes in as written; serde_json escapes it should it not be hex.
        let hash = serde_json::to_string(&self.hash).unwrap_or_default();
        line.extend_from_slice(b",\"hash\":");
        line.extend_from_slice(hash.as_bytes());
        line.extend_from_slice(b"}\n");
        line
    }
}

/// Where a verified chain ends. Copy it somewhere the log's writer cannot change (an anchor);
/// [`verify_chain_to`] and [`verify_log_to`] check later that it is still part of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// How many entries were checked.
    pub entries: u64,
    /// The `seq` of the last entry (0 if there is none).
    pub last_seq: u64,
    /// The `hash` of the last entry, or [`GENESIS`] if there is none.
    pub head: String,
}

impl ChainHead {
    /// The head of an empty log.
    pub fn empty() -> Self {
        Self {
            entries: 0,
            last_seq: 0,
            head: GENESIS.to_owned(),
        }
    }
}

/// Where a chain is broken: the first broken link found, by `seq`, never by content.
///
/// Every variant but [`ChainError::UnknownVersion`] is a security event: someone changed the
/// log, or a writer that does not serialise appends forked it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The entry's stored hash does not match its content (or, in a JSONL file, the line is not
    /// exactly what was hashed): it was edited.
    #[error("audit entry {seq} was edited: its content is not what its hash covers")]
    Edited {
        /// The `seq` the edited entry carries.
        seq: u64,
    },
    /// `seq` jumps forward: the entries between were deleted.
    #[error("audit entries between seq {after_seq} and seq {next_seq} are missing")]
    Deleted {
        /// The last entry before the gap (0: the log starts after the gap).
        after_seq: u64,
        /// The first entry after the gap.
        next_seq: u64,
    },
    /// `seq` goes backwards: entries were moved.
    #[error("audit entry {seq} comes after entry {after_seq}: entries were moved")]
    Reordered {
        /// The entry out of place.
        seq: u64,
        /// The higher `seq` it follows.
        after_seq: u64,
    },
    /// The `seq` repeats, or the entry's `prev` is not the hash of the entry before it although
    /// its own hash is right: an entry was inserted or replaced before it.
    #[error(
        "audit entry {seq} does not link to the entry before it: an entry was inserted or replaced"
    )]
    Inserted {
        /// The entry whose link is broken.
        seq: u64,
    },
    /// The first entry does not start a chain: its `seq` is 0, or it is 1 with a `prev` other
    /// than [`GENESIS`]. (A first entry with `seq` above 1 is [`ChainError::Deleted`].)
    #[error("the first audit entry (seq {seq}) does not start a chain at seq 1 from GENESIS")]
    BrokenGenesis {
        /// The first entry's `seq`.
        seq: u64,
    },
    /// The entry says it is of a version this netid does not know (a newer netid wrote it):
    /// its hash cannot be checked. Upgrade netid.
    #[error("audit entry {seq} is of entry version {version}, which this netid does not know")]
    UnknownVersion {
        /// The entry.
        seq: u64,
        /// The version it names.
        version: u8,
    },
    /// The log ends before the anchored entry: entries were removed from its end.
    #[error(
        "the audit log ends at seq {last_seq}, before the anchored entry {anchored_seq}: its end was removed"
    )]
    Truncated {
        /// The last `seq` in the log.
        last_seq: u64,
        /// The anchored head's `seq`.
        anchored_seq: u64,
    },
    /// The entry at the anchored `seq` is not the anchored one: the log was rewritten from
    /// there on (or it is another log).
    #[error("audit entry {seq} is not the anchored head: the log was rewritten")]
    HeadMismatch {
        /// The anchored `seq`.
        seq: u64,
    },
}

impl ErrorCode for ChainError {
    fn code(&self) -> &'static str {
        match self {
            ChainError::Edited { .. } => "audit.edited",
            ChainError::Deleted { .. } => "audit.deleted",
            ChainError::Reordered { .. } => "audit.reordered",
            ChainError::Inserted { .. } => "audit.inserted",
            ChainError::BrokenGenesis { .. } => "audit.genesis",
            ChainError::UnknownVersion { .. } => "audit.unknown_version",
            ChainError::Truncated { .. } => "audit.truncated",
            ChainError::HeadMismatch { .. } => "audit.head_mismatch",
        }
    }

    fn actor(&self) -> Actor {
        match self {
            ChainError::UnknownVersion { .. } => Actor::Configuration,
            _ => Actor::SecurityEvent,
        }
    }
}

/// Checks entries one at a time, in the order they are stored, without holding them: for logs
/// too large to load ([`verify_log`] and `JsonlAuditLog::verify_file` use it).
///
/// For each entry, in this order: a `seq` jump seen at the entry before is decided (the entry
/// goes back into the gap: [`ChainError::Reordered`]; otherwise [`ChainError::Deleted`]); the
/// entry's own hash ([`ChainError::Edited`]); its `seq` against the one before (backwards:
/// `Reordered`; repeated: [`ChainError::Inserted`]; a jump: decided at the next entry or at
/// [`finish`](Self::finish)); its `prev` against the hash before (`Inserted`, or
/// [`ChainError::BrokenGenesis`] for the first entry).
///
/// So a verdict on a jump can come one [`push`](Self::push) late; the first error is kept and
/// returned again by every later call.
#[derive(Debug, Clone, Default)]
pub struct ChainVerifier {
    entries: u64,
    /// `seq` and `hash` of the last entry accepted.
    last: Option<(u64, String)>,
    /// A jump in `seq` (after, next) waiting for the next entry to say how to name it.
    gap: Option<(u64, u64)>,
    /// The anchored `seq` and hash, if any, and whether it was reached.
    anchor: Option<(u64, String)>,
    anchor_seen: bool,
    failed: Option<ChainError>,
}

impl ChainVerifier {
    /// A verifier expecting the first entry (seq 1, prev [`GENESIS`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// A verifier that also requires the entry `anchor.last_seq` to have hash `anchor.head`
    /// ([`ChainError::HeadMismatch`]) and to be present ([`ChainError::Truncated`]). An empty
    /// anchor (`last_seq` 0) requires nothing more.
    pub fn anchored(anchor: &ChainHead) -> Self {
        Self {
            anchor: (anchor.last_seq > 0).then(|| (anchor.last_seq, anchor.head.clone())),
            ..Self::default()
        }
    }

    /// Checks the next entry.
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), ChainError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.step(entry);
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    fn step(&mut self, entry: &AuditEntry) -> Result<(), ChainError> {
        let seq = entry.seq;
        if let Some((after_seq, next_seq)) = self.gap {
            return Err(if seq < next_seq {
                ChainError::Reordered {
                    seq,
                    after_seq: next_seq,
                }
            } else {
                ChainError::Deleted {
                    after_seq,
                    next_seq,
                }
            });
        }
        if !(1..=ENTRY_VERSION).contains(&entry.version) {
            return Err(ChainError::UnknownVersion {
                seq,
                version: entry.version,
            });
        }
        // A version 1 hash does not cover `reason` or `token`: such an entry holding them was
        // changed after it was written.
        if !entry.fits_its_version() || entry.computed_hash() != entry.hash {
            return Err(ChainError::Edited { seq });
        }
        match &self.last {
            None if seq == 1 && entry.prev != GENESIS => {
                return Err(ChainError::BrokenGenesis { seq });
            }
            None if seq == 0 => return Err(ChainError::BrokenGenesis { seq }),
            None if seq > 1 => self.gap = Some((0, seq)),
            None => {}
            Some((last_seq, last_hash)) => {
                let last_seq = *last_seq;
                if Some(seq) == last_seq.checked_add(1) {
                    if entry.prev != *last_hash {
                        return Err(ChainError::Inserted { seq });
                    }
                } else if seq == last_seq {
                    return Err(ChainError::Inserted { seq });
                } else if seq < last_seq {
                    return Err(ChainError::Reordered {
                        seq,
                        after_seq: last_seq,
                    });
                } else {
                    self.gap = Some((last_seq, seq));
                }
            }
        }
        if let Some((anchored_seq, anchored_hash)) = &self.anchor
            && seq == *anchored_seq
        {
            if entry.hash != *anchored_hash {
                return Err(ChainError::HeadMismatch { seq });
            }
            self.anchor_seen = true;
        }
        self.entries += 1;
        self.last = Some((seq, entry.hash.clone()));
        Ok(())
    }

    /// The verdict once every entry was pushed: the head, or the first broken link.
    pub fn finish(self) -> Result<ChainHead, ChainError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        if let Some((after_seq, next_seq)) = self.gap {
            return Err(ChainError::Deleted {
                after_seq,
                next_seq,
            });
        }
        let (last_seq, head) = self.last.unwrap_or_else(|| (0, GENESIS.to_owned()));
        if let Some((anchored_seq, _)) = self.anchor
            && !self.anchor_seen
        {
            return Err(ChainError::Truncated {
                last_seq,
                anchored_seq,
            });
        }
        Ok(ChainHead {
            entries: self.entries,
            last_seq,
            head,
        })
    }
}

/// Checks that `entries`, ascending as stored, form one unbroken chain from [`GENESIS`], and
/// returns its head. An empty sequence is a valid, empty chain.
///
/// A chain alone cannot show that its *last* entries were removed; compare the head with an
/// anchored one ([`verify_chain_to`]).
pub fn verify_chain<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
) -> Result<ChainHead, ChainError> {
    run(ChainVerifier::new(), entries)
}

/// [`verify_chain`], and the anchored entry (`anchor.last_seq`, `anchor.head`, from an earlier
/// [`ChainHead`]) must still be in the chain, unchanged. The log may have grown since.
pub fn verify_chain_to<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
    anchor: &ChainHead,
) -> Result<ChainHead, ChainError> {
    run(ChainVerifier::anchored(anchor), entries)
}

fn run<'a>(
    mut verifier: ChainVerifier,
    entries: impl IntoIterator<Item = &'a AuditEntry>,
) -> Result<ChainHead, ChainError> {
    for entry in entries {
        verifier.push(entry)?;
    }
    verifier.finish()
}

/// Reads a whole log, 1000 entries at a time, and checks it like [`verify_chain`].
pub async fn verify_log(log: &dyn AuditLog) -> Result<ChainHead, AuditError> {
    page_through(log, ChainVerifier::new(), None).await
}

/// Reads a whole log and checks it like [`verify_chain_to`].
pub async fn verify_log_to(
    log: &dyn AuditLog,
    anchor: &ChainHead,
) -> Result<ChainHead, AuditError> {
    page_through(log, ChainVerifier::anchored(anchor), None).await
}

/// Reads a whole log and checks its chain (to `anchor`, if given) and, entry by entry, the
/// signature of every token it keeps ([`TokenVerifier`](super::TokenVerifier)). The first
/// failure is returned: a broken link as [`AuditError::Chain`], a token that does not verify
/// as [`AuditError::Token`]. `tokens` counts the tokens checked.
pub async fn verify_log_and_tokens(
    log: &dyn AuditLog,
    anchor: Option<&ChainHead>,
    tokens: &mut super::TokenVerifier,
) -> Result<ChainHead, AuditError> {
    let verifier = anchor.map_or_else(ChainVerifier::new, ChainVerifier::anchored);
    page_through(log, verifier, Some(tokens)).await
}

async fn page_through(
    log: &dyn AuditLog,
    verifier: ChainVerifier,
    tokens: Option<&mut super::TokenVerifier>,
) -> Result<ChainHead, AuditError> {
    page_through_visiting(log, verifier, tokens, &mut |_| {}).await
}

/// Reads a whole log and checks it like [`verify_log_and_tokens`] (without `tokens`, the chain
/// only), and returns the entries `query` matches, in log order. A log whose chain is broken,
/// or whose kept tokens do not verify, is an error and nothing is returned: an answer to the
/// authorities is only given from a record that checks. What `netid audit find --postgres`
/// runs.
pub async fn find_in_log(
    log: &dyn AuditLog,
    anchor: Option<&ChainHead>,
    tokens: Option<&mut super::TokenVerifier>,
    query: &super::AuditQuery,
) -> Result<super::Found, AuditError> {
    let verifier = anchor.map_or_else(ChainVerifier::new, ChainVerifier::anchored);
    let mut entries = Vec::new();
    let head = page_through_visiting(log, verifier, tokens, &mut |entry| {
        if query.matches(entry) {
            entries.push(entry.clone());
        }
    })
    .await?;
    Ok(super::Found { entries, head })
}

async fn page_through_visiting(
    log: &dyn AuditLog,
    mut verifier: ChainVerifier,
    mut tokens: Option<&mut super::TokenVerifier>,
    visit: &mut (dyn FnMut(&AuditEntry) + Send),
) -> Result<ChainHead, AuditError> {
    let mut from = 1;
    loop {
        let page = log.read(from, PAGE).await?;
        for entry in &page {
            verifier.push(entry)?;
            if let Some(tokens) = tokens.as_deref_mut() {
                tokens.push(entry)?;
            }
            visit(entry);
        }
        // Every entry pushed without error is above the previous page, so `from` only grows.
        match page.last().and_then(|e| e.seq.checked_add(1)) {
            Some(next) if next > from => from = next,
            _ => break,
        }
    }
    Ok(verifier.finish()?)
}
