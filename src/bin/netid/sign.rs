//! `netid sign`: a result token over claims given as JSON, as the platform would sign it.

use std::path::PathBuf;

use netid::crypto::{DEFAULT_DISTID, DistId, PrivateKey, SigningKey};
use netid::token::TokenSigner;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::{Failure, print_stdout, read_input};

/// The long help of `netid sign`.
pub(crate) const LONG_ABOUT: &str = "\
Sign a JSON object of claims as a compact result token (SM2-SM3, header \
{\"alg\":\"SM2-SM3\",\"kid\":KID,\"typ\":\"netid-result+jwt\"}) and print it with a newline.

This is the platform's side, for tests, fixtures and sandboxes. The claims are signed as given: \
nothing is added or checked, so invalid tokens can be made on purpose. Only a non-object (an \
array, a string, …) is refused. Claims are read from CLAIMS_JSON_FILE, or from standard input \
when it is `-`.";

/// The examples shown after `netid sign --help`.
pub(crate) const EXAMPLES: &str = r#"Examples:
  # Sign claims from a file
  netid sign --key keys/private.pem --kid platform-2026-01 claims.json > token.txt

  # Claims from standard input; valid ones look like this (exp at most iat + 300)
  now=$(date +%s)
  cat <<EOF | netid sign --key keys/private.pem --kid platform-2026-01 -
  {"iss":"https://sandbox.netid.example","aud":"app_4f9d2c","iat":$now,"exp":$((now+120)),
   "jti":"jti-1","nonce":"n-0S6_WzA2Mj","authz_id":"Q7bX2kP9mZ4vR8tW1nY6cH3sJ5dF0gLa",
   "sub":"pw_3Jk8Qm2ZxV7nR4tYw9LbC1Ae6Ud0Hs","result":{"status":"verified"},
   "acr":3,"amr":["cred","face"]}
  EOF

  # A key made by OpenSSL works as it is
  openssl genpkey -algorithm SM2 -out sm2.pem
  netid sign --key sm2.pem --kid k1 claims.json"#;

/// Arguments of `netid sign`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The private key: a PKCS#8 PEM file (`netid keygen`, `openssl genpkey -algorithm SM2`).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The key id to put in the header (the verifier looks the key up by it).
    #[arg(long, value_name = "KID")]
    kid: String,
    /// The SM2 distinguishing identifier to sign with.
    #[arg(long, value_name = "ID", default_value = DEFAULT_DISTID)]
    distid: String,
    /// A file holding the claims as one JSON object, or `-` for standard input.
    #[arg(value_name = "CLAIMS_JSON_FILE")]
    claims: PathBuf,
}

/// Runs `netid sign`.
pub(crate) fn run(args: Args) -> Result<(), Failure> {
    let distid = DistId::new(args.distid).map_err(|e| Failure::setup(&e))?;
    let pem = Zeroizing::new(read_input(&args.key)?);
    let pem = std::str::from_utf8(&pem).map_err(|_| {
        Failure::other(
            "crypto.key_pem",
            format!("{} is not a PEM text file", args.key.display()),
        )
    })?;
    let private = PrivateKey::from_pkcs8_pem(pem).map_err(|e| Failure::setup(&e))?;
    let signer = TokenSigner::new(args.kid, SigningKey::new(private, distid))
        .map_err(|e| Failure::setup(&e))?;

    let claims = read_input(&args.claims)?;
    let claims: Value = serde_json::from_slice(&claims).map_err(|e| {
        // serde_json's syntax messages give a position, not content.
        Failure::other("json", format!("the claims are not valid JSON: {e}"))
    })?;
    let Value::Object(claims) = claims else {
        return Err(Failure::other(
            "json",
            "the claims must be a JSON object ({...})",
        ));
    };
    let token = signer.sign(&claims).map_err(|e| Failure::setup(&e))?;
    print_stdout(&format!("{token}\n"))
}
