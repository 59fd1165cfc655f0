//! `netid`: the command line of the netid SDK.
//!
//! Make SM2 keys, sign result tokens the way a platform (or a test fixture) does, and verify them
//! as strictly as a relying party must. One subcommand per module under `src/bin/netid/`: each
//! has an `Args` struct (clap derive) and a `run(Args) -> Result<(), Failure>` function, so a new
//! subcommand is one [`Command`] variant, one match arm and one module.
//!
//! Exit status: 0 on success; 1 when `verify` rejects the token, `audit verify` or `audit find` finds the chain
//! broken or a kept token that does not verify, or `scan --fail-on-findings` finds something; 2 for usage errors, unreadable files, invalid
//! keys or claims, and anything else that stopped the command before a verdict.
#![forbid(unsafe_code)]

// A crate root finds its modules beside itself (src/bin/), so the paths are spelt out: the
// subcommands live in src/bin/netid/, where Cargo does not take them for binaries of their own.
#[path = "netid/audit.rs"]
mod audit;
#[path = "netid/keygen.rs"]
mod keygen;
#[cfg(not(feature = "postgres"))]
#[path = "netid/missing.rs"]
mod missing;
#[cfg(feature = "postgres")]
#[path = "netid/pg.rs"]
mod pg;
#[path = "netid/sandbox.rs"]
mod sandbox;
#[path = "netid/scan.rs"]
mod scan;
#[path = "netid/sign.rs"]
mod sign;
#[cfg(feature = "postgres")]
#[path = "netid/sweep.rs"]
mod sweep;
#[path = "netid/verify.rs"]
mod verify;

use std::fmt;
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use netid::ErrorCode;

/// Most bytes read from a file or standard input. Every legitimate input (a key, a JWKS of at
/// most 64 KiB, claims, a token of at most 16 KiB) is far smaller; the cap keeps a wrong path
/// such as `/dev/zero` from eating the machine's memory.
const MAX_INPUT_BYTES: u64 = 1024 * 1024;

/// Exit statuses and an example, shown under `netid --help`.
const EXIT_HELP: &str = "\
Exit status:
  0  success
  1  verify: the token was rejected; audit verify, audit find: the log's chain is
     broken, or a token it keeps does not verify;
     stderr holds `error: <code>: <message>`
  2  usage error, unreadable file, invalid key file or claims, refused overwrite,
     empty standard input, a command this build leaves out;
     migrate, sweep, audit verify/find --postgres: the database cannot be reached or
     refuses (store.unavailable, naming host:port; store.auth_failed, naming the
     user and host:port)

Example, a round trip with a fresh test key:
  netid keygen --kid test-2026-01 --out keys/
  netid sign --key keys/private.pem --kid test-2026-01 claims.json > token.txt
  netid verify --keys keys/jwks.json --aud app_4f9d2c \\
      --iss https://sandbox.netid.example --nonce n-0S6_WzA2Mj - < token.txt

Run `netid <command> --help` for each command's options and examples.";

/// Which feature adds which command, shown under `netid --help`.
#[cfg(feature = "postgres")]
const FEATURES: &str = "\
Commands by the Cargo feature that adds them:
  cli       keygen, sign, verify, sandbox, audit verify/find FILE.jsonl
  postgres  migrate, sweep, audit verify/find --postgres (in this build)
Logs go to standard error; RUST_LOG sets what is shown (default warn,netid=info;
RUST_LOG=netid=debug for more).";

/// Which feature adds which command, shown under `netid --help`.
#[cfg(not(feature = "postgres"))]
const FEATURES: &str = "\
Commands by the Cargo feature that adds them:
  cli       keygen, sign, verify, sandbox, audit verify/find FILE.jsonl
  postgres  migrate, sweep, audit verify/find --postgres: NOT in this build; install
            with `cargo install netid --features cli,postgres`
Logs go to standard error; RUST_LOG sets what is shown (default warn,netid=info;
RUST_LOG=netid=debug for more).";

/// The top-level command line.
#[derive(Debug, Parser)]
#[command(
    name = "netid",
    version,
    about = "Make SM2 keys, sign and strictly verify 网号/网证 result tokens (netid protocol v1).",
    long_about = "Make SM2 keys, sign and strictly verify 网号/网证 result tokens (netid protocol v1).\n\n\
        `keygen` and `sign` are the platform's side, for tests and sandboxes; `verify` is what a \
        relying party does with every result token: SM2-SM3 signature, closed header, strict \
        claims, issuer, audience, time and nonce, each failure with a stable code \
        (docs/PROTOCOL.md §9.4).",
    after_long_help = format!("{EXIT_HELP}\n\n{FEATURES}"),
    after_help = FEATURES
)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands. Each variant's arguments and behaviour live in the module of the same name.
#[derive(Debug, Subcommand)]
enum Command {
    /// Generate an SM2 key pair: private.pem (0600), public.pem and jwks.json.
    #[command(long_about = keygen::LONG_ABOUT, after_long_help = keygen::EXAMPLES)]
    Keygen(keygen::Args),
    /// Sign a JSON object of claims as a result token (platform side; no claim checks).
    #[command(long_about = sign::LONG_ABOUT, after_long_help = sign::EXAMPLES)]
    Sign(sign::Args),
    /// Run the sandbox platform on 127.0.0.1, with a page that plays the identity app.
    #[command(long_about = sandbox::LONG_ABOUT, after_long_help = sandbox::EXAMPLES)]
    Sandbox(sandbox::Args),
    /// Verify a result token strictly and print its claims as JSON.
    #[command(long_about = verify::LONG_ABOUT, after_long_help = verify::EXAMPLES)]
    Verify(verify::Args),
    /// Check a tamper-evident audit log's hash chain and the signatures of the tokens it keeps.
    #[command(long_about = audit::LONG_ABOUT, after_long_help = audit::EXAMPLES)]
    Audit(audit::Args),
    /// Find plaintext identity data in files, directories, stdin or PostgreSQL tables.
    #[command(long_about = scan::LONG_ABOUT, after_long_help = scan::EXAMPLES)]
    Scan(scan::Args),
    /// Apply netid's PostgreSQL migrations (feature `postgres`).
    #[cfg(feature = "postgres")]
    #[command(long_about = pg::LONG_ABOUT, after_long_help = pg::EXAMPLES)]
    Migrate(pg::Args),
    /// Apply netid's PostgreSQL migrations [requires --features postgres: not in this build].
    #[cfg(not(feature = "postgres"))]
    Migrate(missing::Args),
    /// Delete consents and sealed fields whose retention period has ended (feature `postgres`).
    #[cfg(feature = "postgres")]
    #[command(long_about = sweep::LONG_ABOUT, after_long_help = sweep::EXAMPLES)]
    Sweep(sweep::Args),
    /// Delete consents and sealed fields whose retention has ended [requires --features
    /// postgres: not in this build].
    #[cfg(not(feature = "postgres"))]
    Sweep(missing::Args),
}

impl Command {
    /// Runs the chosen subcommand.
    fn run(self) -> Result<(), Failure> {
        match self {
            Command::Keygen(args) => keygen::run(args),
            Command::Sign(args) => sign::run(args),
            Command::Sandbox(args) => sandbox::run(args),
            Command::Verify(args) => verify::run(args),
            Command::Audit(args) => audit::run(args),
            Command::Scan(args) => scan::run(args),
            #[cfg(feature = "postgres")]
            Command::Migrate(args) => pg::run(args),
            #[cfg(feature = "postgres")]
            Command::Sweep(args) => sweep::run(args),
            #[cfg(not(feature = "postgres"))]
            Command::Migrate(args) => missing::run("migrate", "postgres", args),
            #[cfg(not(feature = "postgres"))]
            Command::Sweep(args) => missing::run("sweep", "postgres", args),
        }
    }
}

/// Why a command failed: decides the exit status and the `error: <code>: <message>` line.
#[derive(Debug)]
pub(crate) struct Failure {
    /// Exit 1 (a verdict: the token was rejected) or exit 2 (no verdict could be reached).
    kind: FailureKind,
    /// A stable code: one of the library's (`token.expired`, `crypto.key_pem`, …) or `io`, `json`.
    code: &'static str,
    /// What went wrong. Never key material, a claim value or a decrypted field.
    message: String,
    /// What to do about it, printed as `hint: …` after the error line.
    hint: Option<String>,
}

/// The two ways a command can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailureKind {
    /// The token was checked and refused (exit 1).
    Rejected,
    /// The command could not do its job: bad input, bad key, file system (exit 2).
    Setup,
}

impl Failure {
    /// The token was refused for `error` (exit 1).
    pub(crate) fn rejected<E: ErrorCode + fmt::Display>(error: &E) -> Self {
        Self {
            kind: FailureKind::Rejected,
            code: error.code(),
            message: error.to_string(),
            hint: None,
        }
    }

    /// `scan --fail-on-findings` found something (exit 1).
    pub(crate) fn found(message: String) -> Self {
        Self {
            kind: FailureKind::Rejected,
            code: "scan.found",
            message,
            hint: None,
        }
    }

    /// A library error that stopped the command before any verdict (exit 2).
    pub(crate) fn setup<E: ErrorCode + fmt::Display>(error: &E) -> Self {
        Self {
            kind: FailureKind::Setup,
            code: error.code(),
            message: error.to_string(),
            hint: None,
        }
    }

    /// A failure of the command itself, with its own code (`io`, `json`; exit 2).
    pub(crate) fn other(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Setup,
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// The failure, with a hint on what to do.
    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A file-system or stream error while doing `what` with `path`.
    pub(crate) fn io(what: &str, path: &Path, error: &std::io::Error) -> Self {
        Self::other("io", format!("{what} {}: {error}", path.display()))
    }

    /// The process exit status for this failure.
    fn exit_code(&self) -> ExitCode {
        match self.kind {
            FailureKind::Rejected => ExitCode::from(1),
            FailureKind::Setup => ExitCode::from(2),
        }
    }
}

/// Reads `path` whole, or standard input when `path` is `-`; at most [`MAX_INPUT_BYTES`].
pub(crate) fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    let limit = MAX_INPUT_BYTES + 1;
    let result = if path.as_os_str() == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut buf)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut buf))
    };
    let shown: &Path = if path.as_os_str() == "-" {
        Path::new("standard input")
    } else {
        path
    };
    result.map_err(|e| Failure::io("reading", shown, &e))?;
    if buf.len() as u64 > MAX_INPUT_BYTES {
        return Err(Failure::other(
            "io",
            format!("{} is larger than 1 MiB", shown.display()),
        ));
    }
    Ok(buf)
}

/// Writes `text` to standard output; a closed pipe is reported, not a panic.
pub(crate) fn print_stdout(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::io("writing to", Path::new("standard output"), &e))
}

/// Writes one line to standard error, ignoring failure (there is nowhere left to report it).
pub(crate) fn print_stderr(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Logs to standard error, filtered by `RUST_LOG` (default: netid's events at info, such as the
/// sandbox's authorizations and decisions, and the warnings of everything else). Standard
/// output stays the command's answer alone.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours for a terminal only, not for a file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// What is logged when `RUST_LOG` is not set.
const DEFAULT_LOG_FILTER: &str = "warn,netid=info";

fn main() -> ExitCode {
    // Usage errors exit 2 from here, `--help` and `--version` exit 0.
    let cli = Cli::parse();
    init_logging();
    match cli.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            print_stderr(&format!("error: {}: {}", failure.code, failure.message));
            if let Some(hint) = &failure.hint {
                print_stderr(&format!("hint: {hint}"));
            }
            failure.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
