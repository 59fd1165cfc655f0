//! `netid audit`: check an audit log's hash chain, and find entries in it, from the command
//! line.

use std::path::{Path, PathBuf};

use netid::audit::{
    AuditError, AuditQuery, ChainHead, Found, JsonlAuditLog, StoreError, TokenVerifier,
};
use netid::crypto::{DEFAULT_DISTID, DistId, VerifyingKey};

use crate::verify::{Keys, read_keys};
use crate::{Failure, print_stderr, print_stdout};

/// The long help of `netid audit`.
pub(crate) const LONG_ABOUT: &str = "\
Check a tamper-evident audit log (docs/AUDIT.md): every entry's SM3 hash, the run of sequence \
numbers and the link of each entry to the one before it; with --keys, also the platform's \
signature on every result token the log keeps. `find` prints the entries of one authorization, \
subject or consent, from a log it has checked the same way.";

/// The examples shown after `netid audit --help`.
pub(crate) const EXAMPLES: &str = "\
Examples:
  netid audit verify /var/lib/app/audit.jsonl --keys platform-jwks.json
  netid audit find /var/lib/app/audit.jsonl --authorization Q7bX2kP9mZ4vR8tW1nY6cH3sJ5dF0gLa \\
      --keys platform-jwks.json";

/// The long help of `netid audit find`.
const FIND_LONG_ABOUT: &str = "\
Print the entries of one authorization (--authorization, its authz_id), one subject \
(--subject, the pseudonym the app keeps for the account) or one consent record (--consent) \
from an audit log written by netid (FILE.jsonl, or --postgres): what a relying platform shows \
when it must assist the authorities (协助义务; docs/COMPLIANCE.md, the procedure).

The whole log is read and checked as `netid audit verify` checks it — every link of the chain, \
--expect-head if given, and with --keys the platform's signature on every token the log keeps \
— before anything is printed: a log that does not check prints nothing and exits 1, so no \
answer is ever given from a record that was changed.

Prints each matching entry on standard output, one JSON line each, exactly as the log holds \
it (a verification keeps the platform's signed result token in `token`; nothing in an entry is \
plaintext identity data), then on standard error `ok: <M> matching entries; <N> entries, last \
seq <S>, head <hash>` (and, with --keys, the count of signatures verified). No match is not an \
error: it exits 0 with no lines.";

/// The examples shown after `netid audit find --help`.
const FIND_EXAMPLES: &str = "\
Examples:
  # One authorization, and the platform's signed answer it kept, checked again
  netid audit find /var/lib/app/audit.jsonl --authorization Q7bX2kP9mZ4vR8tW1nY6cH3sJ5dF0gLa \\
      --keys platform-jwks.json --expect-head 4711:3f1c0e9a6b2d48f5a0c7e1d9b8a6f4e2c0d8b6a4f2e0c8a6b4d2f0e8c6a4b2d0

  # Everything about one account's pseudonym, from the PostgreSQL log
  netid audit find --postgres postgres://auditor@db.internal/app --schema netid \\
      --subject pw_3Jk8Qm2ZxV7nR4tYw9LbC1Ae6Ud0Hs --keys platform-jwks.json

  # The signed token of one authorization, to check on its own with `netid verify`
  netid audit find audit.jsonl --authorization \"$AUTHZ_ID\" | jq -r 'select(.token) | .token'";

/// The long help of `netid audit verify`.
const VERIFY_LONG_ABOUT: &str = "\
Verify an audit log written by netid's JsonlAuditLog (FILE.jsonl, read line by line, any size, \
nothing written or created) or its PostgreSQL log (--postgres): its entries must form one \
unbroken chain from GENESIS.

With --keys, every result token the log keeps (the platform's signed answer a verification \
rested on) must also verify again: its SM2-SM3 signature with the key its kid names, its SM3 \
the entry's token_sm3, its sub and authz_id the entry's. Only the signature is checked, not the \
time: give the platform's keys of the time the tokens were signed (its JWKS, or one SPKI PEM \
public key trusted under any kid). Without --keys the chain alone is checked, and a note on \
standard error says the signatures were not.

On success prints `ok: <N> entries, last seq <S>, head <hash>` (and, with --keys, `ok: <T> \
signed result tokens verified`) and exits 0. Keep the head somewhere the log's writer cannot \
change: a chain alone cannot show that its last entries were removed, but --expect-head \
SEQ:HASH then can (the log may have grown since).

A broken chain, a line that is not a complete entry, or a token that does not verify exits 1 \
with `error: <code>: <message>` on standard error, naming the sequence or line number, never \
the content: audit.edited, audit.deleted, audit.reordered, audit.inserted, audit.genesis, \
audit.truncated, audit.head_mismatch, audit.unknown_version, store.corrupt, \
audit.token_invalid, audit.token_mismatch, audit.token_key_unknown. An unreadable file, a bad \
key file or a bad option exits 2.";

/// The examples shown after `netid audit verify --help`.
const VERIFY_EXAMPLES: &str = "\
Examples:
  # Check the whole chain, and the platform's signature on every token it keeps
  netid audit verify /var/lib/app/audit.jsonl --keys platform-jwks.json

  # ...and that the head recorded yesterday is still in it, unchanged
  netid audit verify /var/lib/app/audit.jsonl --keys platform-jwks.json \\
      --expect-head 4711:3f1c0e9a6b2d48f5a0c7e1d9b8a6f4e2c0d8b6a4f2e0c8a6b4d2f0e8c6a4b2d0

  # The PostgreSQL log, tables in the schema netid
  netid audit verify --postgres postgres://auditor@db.internal/app --schema netid \\
      --keys platform-jwks.json

  # The verdict only, e.g. from cron
  netid audit verify audit.jsonl --keys jwks.json > /dev/null || echo 'audit log tampered' | mail -s alert ops";

/// Arguments of `netid audit`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// What to do with the log.
    #[command(subcommand)]
    command: AuditCommand,
}

/// The subcommands of `netid audit`.
#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Verify an audit log's hash chain and print its head.
    #[command(long_about = VERIFY_LONG_ABOUT, after_long_help = VERIFY_EXAMPLES)]
    Verify(VerifyArgs),
    /// Print the entries of one authorization, subject or consent, from a log checked whole.
    #[command(long_about = FIND_LONG_ABOUT, after_long_help = FIND_EXAMPLES)]
    Find(FindArgs),
}

/// Arguments of `netid audit find`.
#[derive(Debug, clap::Args)]
struct FindArgs {
    /// What to look for.
    #[command(flatten)]
    query: QueryArgs,
    /// Where the log is.
    #[command(flatten)]
    source: Source,
    /// A head recorded earlier (`SEQ:HASH`): the entry SEQ must still be in the log with this
    /// hash.
    #[arg(long, value_name = "SEQ:HASH", value_parser = parse_anchor)]
    expect_head: Option<ChainHead>,
    /// The platform's keys, to verify the signature of every token the log keeps: a JWKS
    /// file, or one SPKI PEM public key (trusted under any kid).
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
    /// The SM2 distinguishing identifier the platform signs with.
    #[arg(long, value_name = "ID", default_value = DEFAULT_DISTID)]
    distid: String,
    #[command(flatten)]
    pg: PgArgs,
}

/// What `netid audit find` looks for: exactly one.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct QueryArgs {
    /// The authorization id (`authz_id`).
    #[arg(long, value_name = "ID")]
    authorization: Option<String>,
    /// The subject: the pseudonym (`sub`) the app keeps for the account.
    #[arg(long, value_name = "SUBJECT")]
    subject: Option<String>,
    /// The consent record's id (`consent_id`).
    #[arg(long, value_name = "ID")]
    consent: Option<String>,
}

impl QueryArgs {
    fn query(&self) -> AuditQuery {
        match (&self.authorization, &self.subject, &self.consent) {
            (Some(id), _, _) => AuditQuery::Authorization(id.clone()),
            (_, Some(s), _) => AuditQuery::Subject(s.clone()),
            (_, _, Some(id)) => AuditQuery::Consent(id.clone()),
            // clap's group makes exactly one present.
            (None, None, None) => AuditQuery::Authorization(String::new()),
        }
    }
}

/// Arguments of `netid audit verify`.
#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// Where the log is.
    #[command(flatten)]
    source: Source,
    /// A head recorded earlier (`SEQ:HASH`, as printed after `last seq` and `head`): the entry
    /// SEQ must still be in the log with this hash.
    #[arg(long, value_name = "SEQ:HASH", value_parser = parse_anchor)]
    expect_head: Option<ChainHead>,
    /// The platform's keys, to verify the signature of every token the log keeps: a JWKS
    /// file, or one SPKI PEM public key (trusted under any kid).
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
    /// The SM2 distinguishing identifier the platform signs with.
    #[arg(long, value_name = "ID", default_value = DEFAULT_DISTID)]
    distid: String,
    #[command(flatten)]
    pg: PgArgs,
}

/// Where the log to verify is: exactly one source. A PostgreSQL source (`--postgres URL
/// --schema NAME`) joins this group as another optional member.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct Source {
    /// The JSONL log file.
    #[arg(value_name = "FILE.jsonl")]
    file: Option<PathBuf>,
    /// The PostgreSQL log (`postgres://user@host/db`), written by `PgStore`.
    #[cfg(feature = "postgres")]
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// The PostgreSQL log [requires --features postgres: not in this build].
    #[cfg(not(feature = "postgres"))]
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
}

/// Settings of the PostgreSQL source.
#[derive(Debug, clap::Args)]
pub(crate) struct PgArgs {
    /// The schema netid's tables are in (default: the connection's search_path).
    #[arg(long, value_name = "NAME", requires = "postgres")]
    pub(crate) schema: Option<String>,
}

/// Runs `netid audit`.
pub(crate) fn run(args: Args) -> Result<(), Failure> {
    match args.command {
        AuditCommand::Verify(args) => verify(args),
        AuditCommand::Find(args) => find(args),
    }
}

/// Runs `netid audit find`.
fn find(args: FindArgs) -> Result<(), Failure> {
    let mut tokens = match &args.keys {
        Some(path) => Some(token_verifier(path, &args.distid)?),
        None => None,
    };
    let query = args.query.query();
    let found: Result<Found, AuditError> = match &args.source.file {
        Some(path) => {
            JsonlAuditLog::find_in_file(path, args.expect_head.as_ref(), tokens.as_mut(), &query)
        }
        #[cfg(feature = "postgres")]
        None if args.source.postgres.is_some() => {
            let url = args.source.postgres.clone().unwrap_or_default();
            let anchor = args.expect_head.clone();
            let tokens = tokens.as_mut();
            let query = query.clone();
            crate::pg::block_on(async move {
                let store = crate::pg::connect(&url, args.pg.schema.as_deref()).await?;
                netid::audit::find_in_log(&store, anchor.as_ref(), tokens, &query).await
            })
        }
        #[cfg(not(feature = "postgres"))]
        None if args.source.postgres.is_some() => {
            return Err(crate::missing::needs("audit find --postgres", "postgres"));
        }
        None => {
            return Err(Failure::other(
                "usage",
                "name the log to search: FILE.jsonl",
            ));
        }
    };
    let found = found.map_err(|e| failure(&e))?;
    let mut lines = String::new();
    for entry in &found.entries {
        // An entry serialises to exactly its line in the log (docs/AUDIT.md).
        let line = serde_json::to_string(entry)
            .map_err(|e| Failure::other("internal", format!("an entry did not serialise: {e}")))?;
        lines.push_str(&line);
        lines.push('\n');
    }
    print_stdout(&lines)?;
    let head = &found.head;
    let mut summary = format!(
        "ok: {} matching entries; {} entries, last seq {}, head {}",
        found.entries.len(),
        head.entries,
        head.last_seq,
        head.head
    );
    match &tokens {
        Some(tokens) => summary.push_str(&format!(
            "\nok: {} signed result tokens verified",
            tokens.checked()
        )),
        None => summary.push_str(
            "\nnote: the chain was checked, the platform's signatures were not: give --keys \
             (its JWKS or PEM key) to verify the result tokens the log keeps",
        ),
    }
    print_stderr(&summary);
    Ok(())
}

/// Runs `netid audit verify`.
fn verify(args: VerifyArgs) -> Result<(), Failure> {
    let mut tokens = match &args.keys {
        Some(path) => Some(token_verifier(path, &args.distid)?),
        None => None,
    };
    let head = match &args.source.file {
        Some(path) => match tokens.as_mut() {
            Some(tokens) => {
                JsonlAuditLog::verify_file_and_tokens(path, args.expect_head.as_ref(), tokens)
            }
            None => JsonlAuditLog::verify_file(path, args.expect_head.as_ref()),
        },
        #[cfg(feature = "postgres")]
        None if args.source.postgres.is_some() => {
            let url = args.source.postgres.clone().unwrap_or_default();
            let anchor = args.expect_head.clone();
            let tokens = tokens.as_mut();
            crate::pg::block_on(async move {
                let store = crate::pg::connect(&url, args.pg.schema.as_deref()).await?;
                match (tokens, anchor) {
                    (Some(tokens), anchor) => {
                        netid::audit::verify_log_and_tokens(&store, anchor.as_ref(), tokens).await
                    }
                    (None, Some(a)) => netid::audit::verify_log_to(&store, &a).await,
                    (None, None) => netid::audit::verify_log(&store).await,
                }
            })
        }
        #[cfg(not(feature = "postgres"))]
        None if args.source.postgres.is_some() => {
            return Err(crate::missing::needs("audit verify --postgres", "postgres"));
        }
        None => {
            return Err(Failure::other(
                "usage",
                "name the log to verify: FILE.jsonl",
            ));
        }
    }
    .map_err(|e| failure(&e))?;
    let mut report = format!(
        "ok: {} entries, last seq {}, head {}\n",
        head.entries, head.last_seq, head.head
    );
    match &tokens {
        Some(tokens) => {
            report.push_str(&format!(
                "ok: {} signed result tokens verified\n",
                tokens.checked()
            ));
        }
        None => print_stderr(
            "note: the chain was checked, the platform's signatures were not: give --keys \
             (its JWKS or PEM key) to verify the result tokens the log keeps",
        ),
    }
    print_stdout(&report)
}

/// The token verifier for the keys in `path`.
fn token_verifier(path: &Path, distid: &str) -> Result<TokenVerifier, Failure> {
    let distid = DistId::new(distid).map_err(|e| Failure::setup(&e))?;
    Ok(match read_keys(path, distid.clone())? {
        Keys::Set(set) => TokenVerifier::new(&set),
        Keys::Single(key) => TokenVerifier::with_key(VerifyingKey::new(key, distid)),
    })
}

/// A broken chain or a damaged file is a verdict (exit 1); anything else stopped the check
/// before one (exit 2).
fn failure(error: &AuditError) -> Failure {
    match error {
        // A newer netid wrote it: no verdict this netid can give.
        AuditError::Chain(netid::audit::ChainError::UnknownVersion { .. }) => Failure::setup(error),
        AuditError::Chain(_)
        | AuditError::Token(_)
        | AuditError::Store(StoreError::Corrupt { .. }) => Failure::rejected(error),
        _ => Failure::setup(error),
    }
}

/// Reads `SEQ:HASH`: a sequence number from 1 and 64 lowercase hex digits.
fn parse_anchor(text: &str) -> Result<ChainHead, String> {
    let usage = "expected SEQ:HASH, e.g. 42:<64 lowercase hex digits>";
    let (seq, hash) = text.split_once(':').ok_or(usage)?;
    let seq: u64 = seq.parse().map_err(|_| usage)?;
    let hex = hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if seq == 0 || !hex {
        return Err(usage.to_owned());
    }
    Ok(ChainHead {
        entries: seq,
        last_seq: seq,
        head: hash.to_owned(),
    })
}
