//! `netid keygen`: a fresh SM2 key pair in the three files a platform or a test needs.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use netid::crypto::{Jwk, KeyUse, PrivateKey};

use crate::{Failure, print_stderr, print_stdout};

/// The long help of `netid keygen`.
pub(crate) const LONG_ABOUT: &str = "\
Generate an SM2 key pair and write it to DIR (created if needed):

  private.pem  the private key, PKCS#8 PEM, file mode 0600 (owner only)
  public.pem   the public key, SubjectPublicKeyInfo PEM (as `openssl pkey -pubout` writes)
  jwks.json    a JWKS holding the one public key, with --kid and --use

Existing files are never replaced unless --force is given. Prints the kid and the public key in \
hex (04‖X‖Y) on standard output; the private key is only ever written to private.pem.";

/// The examples shown after `netid keygen --help`.
pub(crate) const EXAMPLES: &str = "\
Examples:
  # A signing key for a test platform
  netid keygen --kid platform-2026-01 --out keys/

  # A relying party's field-encryption key
  netid keygen --kid rp-enc-1 --use enc --out rp-keys/

  # Rotate: replace the files in keys/
  netid keygen --kid platform-2026-02 --out keys/ --force";

/// What the key is for (the JWK `use`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Use {
    /// Signatures (SM2-SM3): a platform's result-token key, or a request-signing key.
    Sig,
    /// Encryption (SM2-C1C3C2): a relying party's field-encryption key.
    Enc,
}

impl From<Use> for KeyUse {
    fn from(u: Use) -> Self {
        match u {
            Use::Sig => KeyUse::Signature,
            Use::Enc => KeyUse::Encryption,
        }
    }
}

/// Arguments of `netid keygen`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The key id: 1–64 characters from A-Z a-z 0-9 . _ -
    #[arg(long, value_name = "KID")]
    kid: String,
    /// The directory to write private.pem, public.pem and jwks.json to (created if needed).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// What the key is for; written as the JWK's `use` (and `alg`).
    #[arg(long = "use", value_name = "USE", value_enum, default_value_t = Use::Sig)]
    key_use: Use,
    /// Replace files that already exist.
    #[arg(long)]
    force: bool,
}

/// Runs `netid keygen`.
pub(crate) fn run(args: Args) -> Result<(), Failure> {
    let private = PrivateKey::generate();
    // Checks the kid before anything touches the disk.
    let jwk = Jwk::new(
        args.kid.clone(),
        args.key_use.into(),
        private.public_key().clone(),
    )
    .map_err(|e| Failure::setup(&e))?;

    let private_path = args.out.join("private.pem");
    let public_path = args.out.join("public.pem");
    let jwks_path = args.out.join("jwks.json");
    if !args.force {
        // All three are checked first, so a refusal leaves no half-written key pair behind.
        for path in [&private_path, &public_path, &jwks_path] {
            if path.symlink_metadata().is_ok() {
                return Err(Failure::other(
                    "io",
                    format!(
                        "{} already exists; pass --force to replace it",
                        path.display()
                    ),
                ));
            }
        }
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| Failure::io("creating directory", &args.out, &e))?;

    write_file(
        &private_path,
        private.to_pkcs8_pem().as_bytes(),
        args.force,
        true,
    )?;
    write_file(
        &public_path,
        private.public_key().to_spki_pem().as_bytes(),
        args.force,
        false,
    )?;
    let mut jwks = netid::keys::to_jwks(std::slice::from_ref(&jwk));
    jwks.push('\n');
    write_file(&jwks_path, jwks.as_bytes(), args.force, false)?;

    print_stderr(&format!(
        "wrote {}, {} and {}",
        private_path.display(),
        public_path.display(),
        jwks_path.display()
    ));
    print_stdout(&format!(
        "kid: {}\npublic_key: {}\n",
        jwk.kid,
        private.public_key().to_hex()
    ))
}

/// Writes a new file at `path`. With `replace`, an existing file is removed first (so a private
/// key never inherits a looser mode from the file it replaces); without it, an existing file is
/// an error, even one that appeared after the up-front check. A `private` file is created with
/// mode 0600 on Unix.
fn write_file(path: &Path, contents: &[u8], replace: bool, private: bool) -> Result<(), Failure> {
    if replace {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Failure::io("replacing", path, &e)),
        }
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Failure::other(
                "io",
                format!(
                    "{} already exists; pass --force to replace it",
                    path.display()
                ),
            )
        } else {
            Failure::io("creating", path, &e)
        }
    })?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| Failure::io("writing", path, &e))
}
