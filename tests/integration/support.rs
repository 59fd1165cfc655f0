//! Shared helpers: the committed vectors, and the `openssl` command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

pub(crate) fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/vectors/v1")
}

pub(crate) fn load(name: &str) -> Value {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

pub(crate) fn read_vector_file(rel: &str) -> String {
    std::fs::read_to_string(vectors_dir().join(rel)).expect("vector file")
}

pub(crate) fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector member `{key}` is not a string"))
}

pub(crate) fn unhex(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(s(v, key)).expect("hex in vector")
}

/// The `openssl` binary, or `None` to skip. Under `CI=true` a missing openssl fails the run:
/// `.ci/run` installs it, so its absence there is a broken pipeline, not a reason to skip.
pub(crate) fn openssl() -> Option<&'static str> {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some("openssl");
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "openssl is required under CI=true (.ci/run installs it)"
    );
    eprintln!("skipping: openssl not installed");
    None
}

/// Runs openssl with `args` and `stdin`, returning stdout; panics with stderr on failure.
pub(crate) fn run_openssl(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let out = run_openssl_status(args, stdin);
    assert!(
        out.0,
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.2)
    );
    out.1
}

/// Runs openssl, returning (success, stdout, stderr).
pub(crate) fn run_openssl_status(args: &[&str], stdin: &[u8]) -> (bool, Vec<u8>, Vec<u8>) {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn openssl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("openssl output");
    (out.status.success(), out.stdout, out.stderr)
}
