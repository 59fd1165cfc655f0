//! The `netid` binary, run as a subprocess: keygen, sign and verify, their exit statuses and
//! messages, OpenSSL-made keys, and every committed token vector.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine;

use netid::crypto::{KeyUse, PrivateKey, PublicKey, sm3};
use serde_json::{Value, json};

use crate::support::{load, openssl, run_openssl, s, vectors_dir};

const ISS: &str = "https://sandbox.netid.example";
const AUD: &str = "app_4f9d2c";
const NONCE: &str = "n-0S6_WzA2Mj";
/// The clock of every token made here (2026-01-01T00:00:00Z).
const NOW: u64 = 1_767_225_600;

/// Runs `netid args…` with `stdin` (empty when `None`).
fn netid(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netid"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn netid");
    let mut pipe = child.stdin.take().expect("stdin");
    // A command that fails before reading its input closes the pipe: that is not an error here.
    let _ = pipe.write_all(stdin.unwrap_or_default());
    drop(pipe);
    child.wait_with_output().expect("netid output")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

/// Asserts the exit status, showing both streams when it is wrong.
fn assert_status(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

/// Asserts a rejection: exit 1, nothing on stdout, `error: <code>: …` as the last stderr line.
fn assert_rejected(o: &Output, code: &str) {
    assert_status(o, 1);
    assert!(o.stdout.is_empty(), "no output on rejection");
    let err = stderr(o);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("error: {code}: ")),
        "expected `error: {code}: …`, got:\n{err}"
    );
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// Valid claims, shaped like the `valid_verify_only` vector, issued at `iat`.
fn claims(iat: u64) -> Value {
    json!({
        "iss": ISS, "aud": AUD, "iat": iat, "exp": iat + 120,
        "jti": "jti.cli-test", "nonce": NONCE, "authz_id": "Q7bX2kP9mZ4vR8tW1nY6cH3sJ5dF0gLa",
        "sub": "pw_3Jk8Qm2ZxV7nR4tYw9LbC1Ae6Ud0Hs", "result": {"status": "verified"},
        "acr": 3, "amr": ["cred", "face"],
    })
}

/// `netid keygen --kid kid --out dir`, which must succeed.
fn keygen(dir: &Path, kid: &str) -> Output {
    let o = netid(&["keygen", "--kid", kid, "--out", path_str(dir)], None);
    assert_status(&o, 0);
    o
}

/// Signs `claims` with `key` under `kid` through `netid sign`, claims from a file.
fn sign(dir: &Path, key: &Path, kid: &str, claims: &Value) -> String {
    let file = dir.join("claims.json");
    std::fs::write(&file, claims.to_string()).unwrap();
    let o = netid(
        &[
            "sign",
            "--key",
            path_str(key),
            "--kid",
            kid,
            path_str(&file),
        ],
        None,
    );
    assert_status(&o, 0);
    let out = stdout(&o);
    let token = out.strip_suffix('\n').expect("token ends with a newline");
    assert!(!token.contains(['\n', ' ']), "one token, one line");
    token.to_owned()
}

/// `netid verify` with every check (iss, nonce, --now) and the given key file and extra args.
fn verify(keys: &Path, token: &str, now: u64, extra: &[&str]) -> Output {
    let now = now.to_string();
    let mut args = vec![
        "verify",
        "--keys",
        path_str(keys),
        "--aud",
        AUD,
        "--iss",
        ISS,
        "--nonce",
        NONCE,
        "--now",
        &now,
    ];
    args.extend_from_slice(extra);
    args.push(token);
    netid(&args, None)
}

/// A fresh key in a temp dir, and a valid token it signed at [`NOW`].
fn signed_fixture(kid: &str) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    keygen(&keys, kid);
    let token = sign(dir.path(), &keys.join("private.pem"), kid, &claims(NOW));
    (dir, keys, token)
}

/// The parsed success output of `netid verify`.
fn accepted(o: &Output) -> Value {
    assert_status(o, 0);
    serde_json::from_str(&stdout(o)).expect("verify prints JSON")
}

#[test]
fn help_lists_the_commands_with_examples() {
    let o = netid(&["--help"], None);
    assert_status(&o, 0);
    let out = stdout(&o);
    for cmd in ["keygen", "sign", "verify", "Exit status"] {
        assert!(out.contains(cmd), "--help mentions {cmd}");
    }
    for cmd in ["keygen", "sign", "verify"] {
        let o = netid(&[cmd, "--help"], None);
        assert_status(&o, 0);
        assert!(
            stdout(&o).contains("Examples:"),
            "{cmd} --help has examples"
        );
    }
}

#[test]
fn keygen_writes_the_key_pair_and_a_jwks_that_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("new/keys");
    let o = keygen(&out_dir, "platform-2026-01");

    let private =
        PrivateKey::from_pkcs8_pem(&std::fs::read_to_string(out_dir.join("private.pem")).unwrap())
            .unwrap();
    let public =
        PublicKey::from_spki_pem(&std::fs::read_to_string(out_dir.join("public.pem")).unwrap())
            .unwrap();
    assert_eq!(private.public_key(), &public);

    let jwks = netid::keys::parse_jwks(&std::fs::read(out_dir.join("jwks.json")).unwrap())
        .expect("strict JWKS");
    assert_eq!(jwks.len(), 1);
    assert_eq!(jwks[0].kid, "platform-2026-01");
    assert_eq!(jwks[0].key_use, KeyUse::Signature);
    assert_eq!(jwks[0].key, public);

    let out = stdout(&o);
    assert!(out.contains("platform-2026-01"), "prints the kid: {out}");
    assert!(out.contains(&public.to_hex()), "prints the public key hex");
    let secret = private.to_hex();
    for stream in [stdout(&o), stderr(&o)] {
        assert!(
            !stream.contains(secret.as_str()),
            "the private key is never printed"
        );
        assert!(!stream.contains("PRIVATE KEY"));
    }

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |name: &str| {
            std::fs::metadata(out_dir.join(name))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("private.pem"), 0o600, "private key is owner-only");
        assert_eq!(
            mode("public.pem") & 0o600,
            0o600,
            "public files are readable"
        );
        assert_eq!(mode("jwks.json") & 0o600, 0o600);
    }
}

#[test]
fn keygen_enc_key_is_marked_for_encryption() {
    let dir = tempfile::tempdir().unwrap();
    let o = netid(
        &[
            "keygen",
            "--kid",
            "rp-enc-1",
            "--use",
            "enc",
            "--out",
            path_str(dir.path()),
        ],
        None,
    );
    assert_status(&o, 0);
    let jwks: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("jwks.json")).unwrap())
            .unwrap();
    let jwk = netid::crypto::Jwk::from_json_object(jwks["keys"][0].as_object().unwrap()).unwrap();
    assert_eq!(jwk.key_use, KeyUse::Encryption);
    assert_eq!(jwks["keys"][0]["alg"], "SM2-C1C3C2");
    // A key set of signature keys only skips it.
    assert!(
        netid::keys::parse_jwks(&std::fs::read(dir.path().join("jwks.json")).unwrap())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn keygen_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    keygen(dir.path(), "k1");
    let before = std::fs::read(dir.path().join("private.pem")).unwrap();

    let o = netid(
        &["keygen", "--kid", "k2", "--out", path_str(dir.path())],
        None,
    );
    assert_status(&o, 2);
    assert!(stderr(&o).starts_with("error: io: "), "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"));
    assert_eq!(
        std::fs::read(dir.path().join("private.pem")).unwrap(),
        before
    );
    assert!(
        std::fs::read_to_string(dir.path().join("jwks.json"))
            .unwrap()
            .contains("\"k1\""),
        "nothing was replaced"
    );

    // One existing file is enough to refuse, and nothing else is written.
    let partial = tempfile::tempdir().unwrap();
    std::fs::write(partial.path().join("jwks.json"), "keep me").unwrap();
    let o = netid(
        &["keygen", "--kid", "k2", "--out", path_str(partial.path())],
        None,
    );
    assert_status(&o, 2);
    assert!(!partial.path().join("private.pem").exists());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.path().join("private.pem"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
    }
    let o = netid(
        &[
            "keygen",
            "--kid",
            "k2",
            "--out",
            path_str(dir.path()),
            "--force",
        ],
        None,
    );
    assert_status(&o, 0);
    assert_ne!(
        std::fs::read(dir.path().join("private.pem")).unwrap(),
        before
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("private.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "a replaced private key is owner-only");
    }
}

#[test]
fn keygen_rejects_a_bad_kid() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keys");
    let o = netid(
        &["keygen", "--kid", "bad kid!", "--out", path_str(&out)],
        None,
    );
    assert_status(&o, 2);
    assert!(
        stderr(&o).starts_with("error: crypto.key_jwk: "),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists(), "nothing written");
}

#[test]
fn sign_then_verify_round_trip() {
    let (_dir, keys, token) = signed_fixture("k1");
    let o = verify(&keys.join("jwks.json"), &token, NOW + 10, &[]);
    let report = accepted(&o);
    assert!(
        o.stderr.is_empty(),
        "every check on, no warning: {}",
        stderr(&o)
    );
    assert_eq!(report["claims"], claims(NOW));
    assert_eq!(report["kid"], "k1");
    assert_eq!(report["token_sm3"], hex::encode(sm3(token.as_bytes())));
    assert_eq!(
        report.as_object().unwrap().len(),
        3,
        "kid, token_sm3, claims"
    );
}

#[test]
fn sign_reads_claims_from_stdin_and_refuses_non_objects() {
    let dir = tempfile::tempdir().unwrap();
    keygen(dir.path(), "k1");
    let key = dir.path().join("private.pem");
    let args = ["sign", "--key", path_str(&key), "--kid", "k1", "-"];
    let o = netid(&args, Some(claims(NOW).to_string().as_bytes()));
    assert_status(&o, 0);
    let token = stdout(&o);
    let o = verify(&dir.path().join("jwks.json"), token.trim_end(), NOW, &[]);
    assert_eq!(accepted(&o)["claims"], claims(NOW));

    for bad in [&b"[1,2]"[..], b"\"text\"", b"{\"iss\":", b""] {
        let o = netid(&args, Some(bad));
        assert_status(&o, 2);
        assert!(stderr(&o).starts_with("error: json: "), "{}", stderr(&o));
        assert!(o.stdout.is_empty());
    }

    // Not a private key: the public PEM, then a missing file.
    let public = dir.path().join("public.pem");
    let o = netid(
        &["sign", "--key", path_str(&public), "--kid", "k1", "-"],
        Some(b"{}"),
    );
    assert_status(&o, 2);
    assert!(
        stderr(&o).starts_with("error: crypto.key_pem: "),
        "{}",
        stderr(&o)
    );
    let missing = dir.path().join("missing.pem");
    let o = netid(
        &["sign", "--key", path_str(&missing), "--kid", "k1", "-"],
        Some(b"{}"),
    );
    assert_status(&o, 2);
    assert!(stderr(&o).starts_with("error: io: "), "{}", stderr(&o));
}

#[test]
fn verify_with_a_pem_public_key_warns_about_skipped_checks() {
    let (_dir, keys, token) = signed_fixture("platform-2026-07");
    let now = NOW.to_string();
    let o = netid(
        &[
            "verify",
            "--keys",
            path_str(&keys.join("public.pem")),
            "--aud",
            AUD,
            "--now",
            &now,
            &token,
        ],
        None,
    );
    let report = accepted(&o);
    assert_eq!(
        report["kid"], "platform-2026-07",
        "pinned under the token's kid"
    );
    assert_eq!(report["claims"], claims(NOW));
    let err = stderr(&o);
    let warnings: Vec<&str> = err.lines().collect();
    assert_eq!(warnings.len(), 2, "{err}");
    assert!(warnings.iter().all(|l| l.starts_with("warning: ")));
    assert!(err.contains("--iss") && err.contains("--nonce"));

    // With every check given, the PEM form is silent too.
    let o = verify(&keys.join("public.pem"), &token, NOW, &[]);
    accepted(&o);
    assert!(o.stderr.is_empty());
}

#[test]
fn verify_reads_the_token_from_stdin() {
    let (_dir, keys, token) = signed_fixture("k1");
    let jwks = keys.join("jwks.json");
    let now = NOW.to_string();
    let args = [
        "verify",
        "--keys",
        path_str(&jwks),
        "--aud",
        AUD,
        "--iss",
        ISS,
        "--nonce",
        NONCE,
        "--now",
        &now,
        "-",
    ];
    for input in [token.clone(), format!("{token}\n")] {
        let o = netid(&args, Some(input.as_bytes()));
        assert_eq!(accepted(&o)["claims"], claims(NOW));
    }
    // Only one newline is forgiven; a CR or a second newline is trailing data.
    for input in [format!("{token}\n\n"), format!("{token}\r\n")] {
        let o = netid(&args, Some(input.as_bytes()));
        assert_rejected(&o, "token.trailing_data");
    }
}

#[test]
fn tampered_token_is_rejected() {
    let (_dir, keys, token) = signed_fixture("k1");
    let jwks = keys.join("jwks.json");
    let parts: Vec<&str> = token.split('.').collect();
    // Flip one character in the middle of the payload: the signature no longer matches.
    let mut payload = parts[1].to_owned().into_bytes();
    let i = payload.len() / 2;
    payload[i] = if payload[i] == b'A' { b'B' } else { b'A' };
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        String::from_utf8(payload).unwrap(),
        parts[2]
    );
    let o = verify(&jwks, &tampered, NOW, &[]);
    assert_rejected(&o, "token.signature_invalid");
    assert_eq!(stderr(&o).lines().count(), 1, "exactly the error line");

    // Signed by another key under the same kid.
    let other = tempfile::tempdir().unwrap();
    keygen(other.path(), "k1");
    let o = verify(&other.path().join("public.pem"), &token, NOW, &[]);
    assert_rejected(&o, "token.signature_invalid");
}

#[test]
fn wrong_audience_issuer_or_nonce_is_rejected() {
    let (_dir, keys, token) = signed_fixture("k1");
    let jwks = keys.join("jwks.json");
    let now = NOW.to_string();
    let base = |aud: &str, iss: &str, nonce: &str| {
        netid(
            &[
                "verify",
                "--keys",
                path_str(&jwks),
                "--aud",
                aud,
                "--iss",
                iss,
                "--nonce",
                nonce,
                "--now",
                &now,
                &token,
            ],
            None,
        )
    };
    assert_rejected(&base("app_other", ISS, NONCE), "token.aud");
    assert_rejected(
        &base(AUD, "https://sandbox.netid.example/", NONCE),
        "token.iss",
    );
    assert_rejected(&base(AUD, ISS, "n-someone-else"), "token.nonce");
    accepted(&base(AUD, ISS, NONCE));
}

#[test]
fn expiry_follows_now_and_leeway() {
    let (_dir, keys, token) = signed_fixture("k1");
    let jwks = keys.join("jwks.json");
    let exp = NOW + 120;
    // Expired iff now > exp + leeway (60 by default).
    assert_rejected(&verify(&jwks, &token, exp + 61, &[]), "token.expired");
    accepted(&verify(&jwks, &token, exp + 60, &[]));
    accepted(&verify(&jwks, &token, NOW + 5, &[]));
    accepted(&verify(&jwks, &token, exp + 61, &["--leeway", "61"]));
    assert_rejected(
        &verify(&jwks, &token, exp + 1, &["--leeway", "0"]),
        "token.expired",
    );
    assert_rejected(&verify(&jwks, &token, NOW - 61, &[]), "token.not_yet_valid");

    // A leeway over 300 s is a configuration error, not a verdict.
    let o = verify(&jwks, &token, NOW, &["--leeway", "301"]);
    assert_status(&o, 2);
    assert!(
        stderr(&o).starts_with("error: token.config: "),
        "{}",
        stderr(&o)
    );

    // Without --now, the system clock: a token from 2026-01-01 has long expired.
    let o = netid(
        &[
            "verify",
            "--keys",
            path_str(&jwks),
            "--aud",
            AUD,
            "--iss",
            ISS,
            "--nonce",
            NONCE,
            &token,
        ],
        None,
    );
    assert_rejected(&o, "token.expired");
}

#[test]
fn usage_and_input_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    keygen(dir.path(), "k1");
    let jwks = dir.path().join("jwks.json");
    let jwks = path_str(&jwks);
    for args in [
        &[][..],
        &["verify"],
        &["verify", "--keys", jwks, "--aud", AUD],
        &["verify", "--keys", jwks, "tok"],
        &["verify", "--keys", jwks, "--aud", "", "tok"],
        &[
            "verify",
            "--keys",
            jwks,
            "--aud",
            AUD,
            "--now",
            "yesterday",
            "tok",
        ],
        &["sign", "--kid", "k1", "-"],
        &["sign", "--key", "k.pem", "-"],
        &["keygen", "--out", "x"],
        &["keygen", "--kid", "k1"],
        &["keygen", "--kid", "k1", "--out", "x", "--use", "auth"],
        &["frobnicate"],
    ] {
        let o = netid(args, None);
        assert_status(&o, 2);
        assert!(o.stdout.is_empty(), "{args:?}");
    }

    let token = "eyJhbGciOiJTTTItU00zIn0.e30.AA";
    let missing = dir.path().join("missing.json");
    let garbage = dir.path().join("garbage");
    std::fs::write(&garbage, "{\"keys\":[{\"kty\":\"RSA\"}]}").unwrap();
    let bad_pem = dir.path().join("bad.pem");
    std::fs::write(
        &bad_pem,
        "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n",
    )
    .unwrap();
    let private_pem = dir.path().join("private.pem");
    let enc_dir = dir.path().join("enc");
    let o = netid(
        &[
            "keygen",
            "--kid",
            "e1",
            "--use",
            "enc",
            "--out",
            path_str(&enc_dir),
        ],
        None,
    );
    assert_status(&o, 0);
    let enc_only = enc_dir.join("jwks.json");
    for (keys, code) in [
        (&missing, "io"),
        (&garbage, "keys.jwks_invalid"),
        (&bad_pem, "crypto.key_der"),
        (&private_pem, "crypto.key_pem"),
        (&enc_only, "keys.jwks_invalid"),
    ] {
        let o = netid(
            &["verify", "--keys", path_str(keys), "--aud", AUD, token],
            None,
        );
        assert_status(&o, 2);
        let err = stderr(&o);
        assert!(
            err.lines()
                .last()
                .unwrap_or_default()
                .starts_with(&format!("error: {code}: ")),
            "{keys:?}: {err}"
        );
        assert!(!err.contains("BEGIN"), "no key material echoed");
    }
}

#[test]
fn openssl_key_signs_through_netid_and_verifies_both_ways() {
    if openssl().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("sm2.pem");
    let public = dir.path().join("sm2.pub.pem");
    run_openssl(
        &["genpkey", "-algorithm", "SM2", "-out", path_str(&key)],
        b"",
    );
    run_openssl(
        &[
            "pkey",
            "-in",
            path_str(&key),
            "-pubout",
            "-out",
            path_str(&public),
        ],
        b"",
    );

    let token = sign(dir.path(), &key, "ossl-1", &claims(NOW));
    let report = accepted(&verify(&public, &token, NOW, &[]));
    assert_eq!(report["kid"], "ossl-1");
    assert_eq!(report["claims"], claims(NOW));

    // OpenSSL agrees the token's signature is SM2-SM3 with the default distinguishing ID.
    let (signing_input, sig) = token.rsplit_once('.').unwrap();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig)
        .unwrap();
    let der = netid::crypto::Signature::from_bytes(&raw).unwrap().to_der();
    let sig_path = dir.path().join("sig.der");
    std::fs::write(&sig_path, der).unwrap();
    let out = run_openssl(
        &[
            "dgst",
            "-sm3",
            "-verify",
            path_str(&public),
            "-sigopt",
            "distid:1234567812345678",
            "-signature",
            path_str(&sig_path),
        ],
        signing_input.as_bytes(),
    );
    assert!(String::from_utf8_lossy(&out).contains("Verified OK"));
}

#[test]
fn every_token_vector_gets_its_verdict_from_the_cli() {
    let v = load("tokens.json");
    let val = &v["validation"];
    assert_eq!(
        s(val, "typ"),
        netid::token::RESULT_TYP,
        "the CLI's default typ"
    );
    assert_eq!(
        val["max_token_bytes"].as_u64().unwrap(),
        netid::token::DEFAULT_MAX_TOKEN_LEN as u64,
        "the CLI's default size limit"
    );
    let jwks = vectors_dir().join(s(val, "jwks"));
    let now = v["now"].as_u64().unwrap().to_string();
    let leeway = val["leeway"].as_u64().unwrap().to_string();
    let fixed = [
        "verify",
        "--keys",
        path_str(&jwks),
        "--iss",
        s(val, "issuer"),
        "--aud",
        s(val, "audience"),
        "--nonce",
        s(val, "nonce"),
        "--now",
        &now,
        "--leeway",
        &leeway,
        "--distid",
        s(val, "distid"),
        // Some vectors are empty or start oddly; after `--` every token is the positional.
        "--",
    ];
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 100, "all the vectors: {}", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let name = s(case, "name");
        let expect = s(case, "expect");
        let mut args = fixed.to_vec();
        args.push(s(case, "token"));
        let o = netid(&args, None);
        let err = stderr(&o);
        let verdict_ok = match expect {
            "valid" => {
                o.status.code() == Some(0)
                    && serde_json::from_slice::<Value>(&o.stdout)
                        .is_ok_and(|r| r["claims"] == case["claims"] && r["kid"].is_string())
                    && err.is_empty()
            }
            code => {
                o.status.code() == Some(1)
                    && o.stdout.is_empty()
                    && err.lines().count() == 1
                    && err.starts_with(&format!("error: {code}: "))
            }
        };
        if !verdict_ok {
            failures.push(format!(
                "{name}: expected {expect}, got exit {:?}, stderr {err:?}",
                o.status.code()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// `netid sandbox` serves protocol v1 and a page that plays the identity app; a relying party
/// in another process uses the keys it wrote.
#[tokio::test]
async fn sandbox_command_serves_the_protocol_and_the_identity_app_page() {
    use netid::client::{NetIdClient, VerificationRequest};
    use netid::crypto::{DecryptionKey, PrivateKey, SigningKey};
    use std::io::BufRead;

    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_netid"))
        .args(["sandbox", "--port", "0", "--app", "app_cli", "--out"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    // The keys are written right after the URL is printed.
    let app_dir = dir.path().join("app_cli");
    let mut config = None;
    for _ in 0..100 {
        if let Ok(text) = std::fs::read_to_string(app_dir.join("app.json")) {
            config = serde_json::from_str::<serde_json::Value>(&text).ok();
            if config.is_some() {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let config = config.expect("app.json written");
    let pem = |name: &str| std::fs::read_to_string(app_dir.join(name)).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(app_dir.join("request-signing.private.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let client = NetIdClient::builder(&url)
        .app_id("app_cli")
        .signing_key(
            config["signing_kid"].as_str().unwrap(),
            SigningKey::from(
                PrivateKey::from_pkcs8_pem(&pem("request-signing.private.pem")).unwrap(),
            ),
        )
        .decryption_key(
            config["encryption_kid"].as_str().unwrap(),
            DecryptionKey::new(PrivateKey::from_pkcs8_pem(&pem("encryption.private.pem")).unwrap()),
        )
        .allow_sandbox()
        .poll_interval(std::time::Duration::from_millis(50))
        .discover()
        .await
        .unwrap();
    let pending = client
        .authorize(VerificationRequest::age_tag("cli"))
        .await
        .unwrap();

    // The page lists the pending authorization; its form approves it as a persona.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{url}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(pending.authz_id().as_str()),
        "the page lists the authorization"
    );
    assert!(page.contains("senior_67"), "and offers the personas");
    let answer = http
        .post(format!("{url}/sandbox/ui/{}", pending.authz_id()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("persona=senior_67&decision=approve")
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_redirection());
    let result = client.wait(&pending).await.unwrap();
    assert_eq!(result.age_tag, Some(netid::model::AgeTag::Senior));
    let page = http
        .get(format!("{url}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains(&format!("id=\"authz-{}\"", pending.authz_id())),
        "decided authorizations leave the pending list"
    );
    assert!(
        page.contains(pending.authz_id().as_str()) && page.contains("senior_67"),
        "for the latest decisions"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn help_lists_every_command_with_the_feature_that_adds_it() {
    for flag in ["--help", "-h"] {
        let o = netid(&[flag], None);
        assert_status(&o, 0);
        let out = stdout(&o);
        for cmd in [
            "keygen", "sign", "verify", "sandbox", "audit", "migrate", "sweep",
        ] {
            assert!(
                out.lines().any(|l| l.trim_start().starts_with(cmd)),
                "{flag} lists {cmd}:\n{out}"
            );
        }
        assert!(
            out.contains("postgres  migrate, sweep, audit verify/find --postgres"),
            "{flag} says which feature adds the PostgreSQL commands:\n{out}"
        );
        assert!(out.contains("RUST_LOG"), "{flag} says how to see the logs");
    }
}

/// A closed port on this machine: bound by the system, then released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

/// Asserts exit 2 and a last stderr line `error: <code>: …` holding every one of `parts`.
fn assert_setup_error(o: &Output, code: &str, parts: &[&str]) {
    assert_status(o, 2);
    assert!(o.stdout.is_empty());
    let err = stderr(o);
    let line = err
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    assert!(
        line.starts_with(&format!("error: {code}: ")),
        "expected `error: {code}: …`, got:\n{err}"
    );
    for part in parts {
        assert!(line.contains(part), "{part:?} named in:\n{err}");
    }
}

#[test]
#[cfg(feature = "postgres")]
fn postgres_errors_name_the_user_and_host_and_tell_auth_from_unreachable() {
    use crate::servers::pg_scope::postgres_url;
    let base = url::Url::parse(&postgres_url()).unwrap();
    let host = base.host_str().unwrap().to_owned();
    let port = base.port().unwrap_or(5432);
    let addr = format!("{host}:{port}");
    if let Err(e) = std::net::TcpStream::connect(&addr) {
        crate::servers::skip_or_fail("PostgreSQL", &addr, &e);
        return;
    }
    // A role the server does not have. Under trust authentication PostgreSQL refuses it with
    // SQLSTATE 28000 ("role does not exist"), under password authentication with 28P01 or
    // 28000: either way an authentication failure, never "corrupt" or "unavailable".
    let mut wrong_user = base.clone();
    wrong_user.set_username("nosuchuser").unwrap();
    wrong_user
        .set_password(Some("s3cret-never-printed"))
        .unwrap();
    let wrong_user = wrong_user.to_string();
    for args in [
        vec!["migrate", "--postgres", &wrong_user],
        vec!["sweep", "--postgres", &wrong_user],
        vec!["audit", "verify", "--postgres", &wrong_user],
    ] {
        let o = netid(&args, None);
        assert_setup_error(
            &o,
            "store.auth_failed",
            &[
                "authentication failed for user nosuchuser",
                &addr,
                "SQLSTATE 28",
            ],
        );
        assert!(
            !stderr(&o).contains("s3cret"),
            "the password is never printed"
        );
    }

    // A closed port: refused, named, and told as such (not a timeout of the pool).
    let closed = format!("127.0.0.1:{}", closed_port());
    let url = format!("postgres://postgres@{closed}/test");
    for args in [
        vec!["migrate", "--postgres", &url],
        vec!["audit", "verify", "--postgres", &url],
    ] {
        let o = netid(&args, None);
        assert_setup_error(
            &o,
            "store.unavailable",
            &[&format!("connection refused by {closed}")],
        );
    }

    // A database that does not exist.
    let mut no_db = base.clone();
    no_db.set_path("/no_such_database_netid");
    let o = netid(&["migrate", "--postgres", no_db.as_str()], None);
    assert_setup_error(
        &o,
        "store.misconfigured",
        &["database no_such_database_netid does not exist", &addr],
    );
}

#[test]
fn a_missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("audit.jsonl");
    let missing = path_str(&missing);
    let o = netid(&["audit", "verify", missing], None);
    assert_setup_error(&o, "store.unavailable", &[missing]);
    let o = netid(&["verify", "--keys", missing, "--aud", AUD, "x.y.z"], None);
    assert_setup_error(&o, "io", &[missing]);
}

#[test]
fn verify_hints_when_given_a_path_or_an_empty_stdin() {
    let (dir, keys, token) = signed_fixture("k1");
    let jwks = keys.join("jwks.json");
    let file = dir.path().join("token.txt");
    std::fs::write(&file, &token).unwrap();
    // A file where the token belongs: refused as malformed, with a hint naming the file and
    // the way the CLI reads one.
    let o = verify(&jwks, path_str(&file), NOW, &[]);
    assert_status(&o, 1);
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines[0].starts_with("error: token."),
        "rejected as a token: {err}"
    );
    assert!(lines[1].starts_with("hint: "), "{err}");
    assert!(
        lines[1].contains("(it is a file)")
            && lines[1].contains(&format!("- < {}", path_str(&file))),
        "{err}"
    );
    // A name that only looks like one.
    let o = verify(&jwks, "tokens/today.txt", NOW, &[]);
    assert_status(&o, 1);
    assert!(
        stderr(&o).contains("hint: TOKEN is the token itself"),
        "{}",
        stderr(&o)
    );
    // The redirect the hint suggests works.
    let mut args = vec![
        "verify",
        "--keys",
        path_str(&jwks),
        "--aud",
        AUD,
        "--iss",
        ISS,
    ];
    let now = NOW.to_string();
    args.extend(["--nonce", NONCE, "--now", &now, "-"]);
    accepted(&netid(
        &args,
        Some(std::fs::read(&file).unwrap().as_slice()),
    ));
    // Empty standard input: a usage error (exit 2), not a rejected token.
    for empty in [&b""[..], b"\n"] {
        let o = netid(&args, Some(empty));
        assert_status(&o, 2);
        let err = stderr(&o);
        assert!(
            err.contains("error: usage: standard input is empty"),
            "{err}"
        );
        assert!(err.contains("hint: pipe or redirect it in"), "{err}");
    }
}

/// `netid sandbox` on its own, as a newcomer meets it: the keys go under `target/netid-sandbox`
/// of the current directory; the page says how to point a client at it and starts a test login
/// whose request it shows (what and why) and whose answer the app verifies; the README's client,
/// pointed at it, is refused without `.allow_sandbox()` with a message naming the call, and
/// works with it; each authorization and decision is logged, never a persona's name.
#[tokio::test]
async fn sandbox_command_is_usable_on_its_own() {
    use netid::client::{NetIdClient, VerificationRequest};
    use netid::crypto::{PrivateKey, SigningKey};
    use std::io::BufRead;

    let cwd = tempfile::tempdir().unwrap();
    let log_path = cwd.path().join("stderr.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_netid"))
        .args(["sandbox", "--port", "0"])
        .current_dir(cwd.path())
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim().to_owned();
    let app_dir = cwd.path().join("target/netid-sandbox/app_demo");
    let mut config = None;
    for _ in 0..100 {
        if let Ok(text) = std::fs::read_to_string(app_dir.join("app.json")) {
            config = serde_json::from_str::<serde_json::Value>(&text).ok();
            if config.is_some() {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let config = config.expect("app.json under target/netid-sandbox/app_demo");
    assert_eq!(config["issuer"], url.as_str());
    let kid = config["signing_kid"].as_str().unwrap().to_owned();

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get_page = || async {
        http.get(format!("{url}/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let page = get_page().await;
    for needle in [
        url.as_str(),
        "app_demo",
        kid.as_str(),
        ".allow_sandbox()",
        "request-signing.private.pem",
        "http-equiv=refresh",
        "/sandbox/ui/test-login",
    ] {
        assert!(page.contains(needle), "the page shows {needle:?}");
    }
    let shown_dir = std::path::absolute(&app_dir).unwrap();
    assert!(
        page.contains(&shown_dir.display().to_string()),
        "the page names the key directory"
    );

    // The README's client, as written (no allow_sandbox): refused, and told what to add.
    let pem = std::fs::read_to_string(app_dir.join("request-signing.private.pem")).unwrap();
    let key = SigningKey::from(PrivateKey::from_pkcs8_pem(&pem).unwrap());
    let err = NetIdClient::builder(&url)
        .app_id("app_demo")
        .signing_key(&kid, key.clone())
        .discover()
        .await
        .expect_err("a sandbox is refused without allow_sandbox()");
    assert_eq!(netid::ErrorCode::code(&err), "client.config");
    assert!(err.to_string().contains(".allow_sandbox()"), "{err}");
    // With it, the README's snippet works end to end.
    let client = NetIdClient::builder(&url)
        .app_id("app_demo")
        .signing_key(&kid, key)
        .allow_sandbox()
        .poll_interval(std::time::Duration::from_millis(50))
        .discover()
        .await
        .unwrap();
    let pending = client
        .authorize(VerificationRequest::age_tag("注册账号"))
        .await
        .unwrap();
    let page = get_page().await;
    assert!(page.contains(pending.authz_id().as_str()));
    assert!(page.contains("注册账号"), "the page shows why the app asks");
    assert!(page.contains("age band"), "and what it asks for");
    http.post(format!("{url}/sandbox/ui/{}", pending.authz_id()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("persona=minor_16&decision=approve")
        .send()
        .await
        .unwrap();
    let result = client.wait(&pending).await.unwrap();
    assert_eq!(result.age_tag, Some(netid::model::AgeTag::Age14To17));

    // A test login from the page: the sandbox asks as app_demo, the page shows the request,
    // a persona approves, and the app's verification of the answer is shown.
    let started = http
        .post(format!("{url}/sandbox/ui/test-login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("app=app_demo&kind=age_tag")
        .send()
        .await
        .unwrap();
    assert!(started.status().is_redirection());
    let page = get_page().await;
    assert!(
        page.contains("sandbox test login"),
        "the test login is listed"
    );
    let start = page.find("id=\"authz-").expect("a pending card") + "id=\"authz-".len();
    let test_authz = page[start..start + 32].to_owned();
    http.post(format!("{url}/sandbox/ui/{test_authz}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("persona=senior_67&decision=approve")
        .send()
        .await
        .unwrap();
    let mut verified = false;
    for _ in 0..100 {
        if get_page().await.contains("verified by the app") {
            verified = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(verified, "the page shows the test login verified");
    let page = get_page().await;
    assert!(
        page.contains("age band senior"),
        "with what the app learned"
    );

    child.kill().unwrap();
    child.wait().unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert_eq!(
        log.matches("sandbox: authorization requested").count(),
        2,
        "{log}"
    );
    assert_eq!(
        log.matches("sandbox: authorization decided").count(),
        2,
        "{log}"
    );
    assert!(
        log.contains("persona=\"senior_67\"") || log.contains("persona=senior_67"),
        "{log}"
    );
    for name in ["刘淑芬", "赵小刚", "注册账号"] {
        assert!(
            !log.contains(name),
            "the log holds no name or purpose: {log}"
        );
    }
}
