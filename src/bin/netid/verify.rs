//! `netid verify`: the relying party's check of a result token, from the command line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::builder::NonEmptyStringValueParser;
use netid::crypto::{DEFAULT_DISTID, DistId, PublicKey};
use netid::keys::KeySet;
use netid::token::{DEFAULT_LEEWAY_SECS, UnverifiedToken, Validation};

use crate::{Failure, print_stderr, print_stdout, read_input};

/// The long help of `netid verify`.
pub(crate) const LONG_ABOUT: &str = "\
Verify a result token exactly as a relying party must (docs/PROTOCOL.md §4.8): size, structure, \
closed header, key by kid, SM2-SM3 signature, strict claims, issuer, audience, time, nonce and \
consistency.

--keys is a JWKS file (the platform's key set), or a single public key as SPKI PEM (a file \
starting with -----BEGIN), which is then trusted under whatever kid the token names. TOKEN is \
the compact token itself, or `-` to read it from standard input (one trailing newline is \
removed; anything else, including a CR, stays and is refused as trailing data). To verify a \
token kept in a file, redirect it: `- < token.txt`. Empty standard input exits 2.

Without --iss the issuer is not checked and without --nonce the nonce is not checked; a warning \
says so on standard error. A login flow must always check both.

On success prints {\"kid\", \"token_sm3\", \"claims\"} as JSON and exits 0: the key id that \
signed, the token's SM3 in hex (what an audit log records) and the verified claims in their wire \
form (encrypted fields stay encrypted). A rejected token exits 1 with `error: <code>: <message>` \
on standard error; the codes are listed in docs/PROTOCOL.md §9.4. Bad options, unreadable files \
and invalid key files exit 2.";

/// The examples shown after `netid verify --help`.
pub(crate) const EXAMPLES: &str = "\
Examples:
  # Verify as the relying party app_4f9d2c, with every check
  netid verify --keys jwks.json --aud app_4f9d2c \\
      --iss https://sandbox.netid.example --nonce n-0S6_WzA2Mj \"$TOKEN\"

  # Token from standard input, key as a PEM file
  netid verify --keys platform.pub.pem --aud app_4f9d2c \\
      --iss https://sandbox.netid.example --nonce n-0S6_WzA2Mj - < token.txt

  # Inspect an old token: clock set to when it was received, issuer and nonce unchecked
  netid verify --keys jwks.json --aud app_4f9d2c --now 1767229200 \"$TOKEN\"

  # The verdict only
  netid verify --keys jwks.json --aud app_4f9d2c --iss https://sandbox.netid.example \\
      --nonce n-0S6_WzA2Mj \"$TOKEN\" > /dev/null && echo accepted";

/// Arguments of `netid verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The platform's keys: a JWKS file, or one SPKI PEM public key.
    #[arg(long, value_name = "FILE")]
    keys: PathBuf,
    /// Your app id: the token's `aud` must be or contain it.
    #[arg(long, value_name = "APP_ID", value_parser = NonEmptyStringValueParser::new())]
    aud: String,
    /// The platform's issuer: `iss` must equal it byte for byte. Unchecked when absent.
    #[arg(long, value_name = "ISS", value_parser = NonEmptyStringValueParser::new())]
    iss: Option<String>,
    /// The nonce sent with the request: `nonce` must equal it. Unchecked when absent.
    #[arg(long, value_name = "N", value_parser = NonEmptyStringValueParser::new())]
    nonce: Option<String>,
    /// Check times as if the clock read this (Unix seconds) instead of the system clock.
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,
    /// Clock leeway in seconds for exp, iat and nbf (at most 300).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_LEEWAY_SECS)]
    leeway: u64,
    /// The SM2 distinguishing identifier the platform signs with.
    #[arg(long, value_name = "ID", default_value = DEFAULT_DISTID)]
    distid: String,
    /// The compact token, or `-` to read it from standard input.
    #[arg(value_name = "TOKEN")]
    token: String,
}

/// The keys given with `--keys`, before the token's kid is known.
pub(crate) enum Keys {
    /// A JWKS, already read into a key set.
    Set(KeySet),
    /// One public key, to be pinned under the token's own kid.
    Single(PublicKey),
}

/// Runs `netid verify`.
pub(crate) fn run(args: Args) -> Result<(), Failure> {
    let validation = validation(&args)?;
    let distid = DistId::new(args.distid.as_str()).map_err(|e| Failure::setup(&e))?;
    let keys = read_keys(&args.keys, distid.clone())?;
    let token = read_token(&args.token)?;

    // The settings, not the token, can be wrong: then no verdict is reached (exit 2).
    validation.check().map_err(|e| Failure::setup(&e))?;
    let unverified = UnverifiedToken::parse(&token, &validation).map_err(|e| {
        let failure = Failure::rejected(&e);
        match path_hint(&args.token) {
            Some(hint) => failure.with_hint(hint),
            None => failure,
        }
    })?;
    let keys = match keys {
        Keys::Set(set) => set,
        Keys::Single(key) => KeySet::builder()
            .distid(distid)
            .pin(unverified.kid(), key)
            .build()
            .map_err(|e| Failure::setup(&e))?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| Failure::other("io", format!("starting the async runtime: {e}")))?;
    let key = runtime
        .block_on(keys.key(unverified.kid()))
        .map_err(|e| Failure::rejected(&e))?;
    let now = args.now.unwrap_or_else(unix_now);
    let verified = unverified
        .verify_at(&key, &validation, now)
        .map_err(|e| Failure::rejected(&e))?;

    let report = serde_json::json!({
        "kid": verified.kid(),
        "token_sm3": hex::encode(verified.token_sm3()),
        "claims": verified.to_json(),
    });
    let text = serde_json::to_string_pretty(&report)
        .map_err(|e| Failure::other("json", format!("printing the claims: {e}")))?;
    print_stdout(&format!("{text}\n"))
}

/// The validation settings from the options, warning about each check left out.
fn validation(args: &Args) -> Result<Validation, Failure> {
    let mut validation = match &args.iss {
        Some(iss) => Validation::new(iss.as_str(), args.aud.as_str()),
        None => {
            print_stderr("warning: no --iss given: the token's issuer is not checked");
            Validation::new("", args.aud.as_str()).dangerous_skip_issuer()
        }
    };
    validation = match &args.nonce {
        Some(nonce) => validation.expect_nonce(nonce.as_str()),
        None => {
            print_stderr(
                "warning: no --nonce given: the token's nonce is not checked \
                 (a login flow must always check it)",
            );
            validation.dangerous_skip_nonce()
        }
    };
    validation
        .with_leeway(Duration::from_secs(args.leeway))
        .map_err(|e| Failure::setup(&e))
}

/// Reads `--keys`: SPKI PEM if the file starts with `-----BEGIN`, a JWKS otherwise.
pub(crate) fn read_keys(path: &Path, distid: DistId) -> Result<Keys, Failure> {
    let bytes = read_input(path)?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Err(Failure::other(
            "keys.jwks_invalid",
            format!(
                "{} is neither a JWKS nor a PEM public key (not UTF-8 text)",
                path.display()
            ),
        ));
    };
    if text.trim_start().starts_with("-----BEGIN") {
        let key = PublicKey::from_spki_pem(text).map_err(|e| Failure::setup(&e))?;
        return Ok(Keys::Single(key));
    }
    let jwks = netid::keys::parse_jwks(text.as_bytes()).map_err(|e| Failure::setup(&e))?;
    if jwks.is_empty() {
        // Said here, in the file's terms, rather than as the builder's "no keys" complaint.
        return Err(Failure::other(
            "keys.jwks_invalid",
            format!(
                "{} holds no signature key (a JWK with \"use\":\"sig\")",
                path.display()
            ),
        ));
    }
    let set = jwks
        .into_iter()
        .fold(KeySet::builder().distid(distid), |b, jwk| {
            b.pin(jwk.kid, jwk.key)
        })
        .build()
        .map_err(|e| Failure::setup(&e))?;
    Ok(Keys::Set(set))
}

/// The token from the argument, or from standard input for `-` (minus one trailing `\n`).
fn read_token(arg: &str) -> Result<String, Failure> {
    if arg != "-" {
        return Ok(arg.to_owned());
    }
    let bytes = read_input(Path::new("-"))?;
    // Not UTF-8 cannot be a token; lossy conversion lets the verifier say which rule it breaks.
    let mut token = String::from_utf8_lossy(&bytes).into_owned();
    if token.ends_with('\n') {
        token.pop();
    }
    if token.is_empty() {
        // No token at all is a mistake in the command, not a token to reject.
        return Err(Failure::other(
            "usage",
            "standard input is empty: TOKEN `-` reads the token from standard input",
        )
        .with_hint("pipe or redirect it in: netid verify --keys … --aud … - < token.txt"));
    }
    Ok(token)
}

/// A hint when the TOKEN argument that was refused looks like a file name rather than a token:
/// a file that exists, a name with a path separator, or one ending like a file; a compact
/// token has exactly two dots and none of these.
fn path_hint(arg: &str) -> Option<String> {
    if arg == "-" {
        return None;
    }
    let exists = Path::new(arg).is_file();
    let separator = arg.contains(['/', '\\']) && arg.matches('.').count() != 2;
    let extension = [".txt", ".jwt", ".jws", ".token", ".json"]
        .iter()
        .any(|ext| arg.to_ascii_lowercase().ends_with(ext));
    (exists || separator || extension).then(|| {
        let shown = if exists || arg.len() <= 80 {
            arg
        } else {
            "the argument"
        };
        format!(
            "TOKEN is the token itself, and {shown} looks like a file name{}; to verify the \
             token in a file, give `-` and redirect the file: netid verify --keys … --aud … - < {}",
            if exists { " (it is a file)" } else { "" },
            if exists { arg } else { "FILE" },
        )
    })
}

/// Seconds since the Unix epoch by the system clock (0 if the clock is before 1970).
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
