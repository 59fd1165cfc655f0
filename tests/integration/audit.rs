//! The audit log: chains in memory and in JSONL files, every kind of tampering by name, SM3
//! known answers from the openssl command line (and the shell loop of docs/AUDIT.md),
//! concurrent appends, reopening, invalid events, and `netid audit verify`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use netid::ErrorCode;
use netid::audit::{
    AuditAction, AuditEntry, AuditError, AuditEvent, AuditLog, ChainError, ChainHead,
    InMemoryAuditLog, JsonlAuditLog, StoreError, verify_chain, verify_log, verify_log_to,
};
use netid::model::FieldName;

use crate::support::{openssl, run_openssl};

/// A varied event: every action, optional parts on some.
fn event(i: u64) -> AuditEvent {
    let actions = [
        AuditAction::Verification,
        AuditAction::Reverification,
        AuditAction::ConsentGranted,
        AuditAction::ConsentWithdrawn,
        AuditAction::Logout,
        AuditAction::Erasure,
    ];
    let mut e = AuditEvent::new(
        actions[(i % 6) as usize],
        format!("pw_{:x}", i * 7919),
        ["verified", "declined", "withdrawn"][(i % 3) as usize],
        if i.is_multiple_of(4) {
            "sms.otp"
        } else {
            "netid"
        },
    )
    .at(1_767_229_200 + i);
    if i.is_multiple_of(2) {
        e = e
            .assurance((i % 4 + 1) as u8)
            .fields([FieldName::Name, FieldName::BirthDate])
            .authz_id(format!("az_{i}"))
            .token_sm3(&netid::crypto::sm3(&i.to_be_bytes()));
    }
    if i.is_multiple_of(3) {
        e = e.consent_id(format!("consent/{i}"));
    }
    e
}

/// A JSONL log of `n` entries in a fresh directory.
async fn jsonl_log(n: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = JsonlAuditLog::open(&path).unwrap();
    for i in 1..=n {
        assert_eq!(log.append(event(i)).await.unwrap().seq, i);
    }
    (dir, path)
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

fn entry(line: &str) -> AuditEntry {
    serde_json::from_str(line).unwrap()
}

/// Asserts the file's verdict, both from `verify_file` and from `open`.
fn assert_file_fails(path: &Path, expected: &AuditError) {
    assert_eq!(
        &JsonlAuditLog::verify_file(path, None).unwrap_err(),
        expected
    );
    assert_eq!(&JsonlAuditLog::open(path).unwrap_err(), expected);
}

/// The detail of a `StoreError::Corrupt`.
fn corrupt_detail(error: &AuditError) -> &str {
    match error {
        AuditError::Store(StoreError::Corrupt { backend, detail }) => {
            assert_eq!(*backend, "file");
            detail
        }
        other => panic!("expected store.corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn a_chain_of_many_events_in_memory_verifies() {
    let log = InMemoryAuditLog::new();
    let mut appended = Vec::new();
    for i in 1..=2500 {
        appended.push(log.append(event(i)).await.unwrap());
    }
    let head = verify_log(&log).await.unwrap();
    assert_eq!(
        head,
        ChainHead {
            entries: 2500,
            last_seq: 2500,
            head: appended[2499].hash.clone()
        }
    );
    assert_eq!(verify_chain(&appended), Ok(head.clone()));
    assert_eq!(log.read(1, 3000).await.unwrap(), appended);
    assert_eq!(
        log.read(1001, 2).await.unwrap(),
        appended[1000..1002].to_vec()
    );
    // An anchor taken earlier still holds once the log has grown.
    let early = verify_chain(&appended[..1234]).unwrap();
    assert_eq!(verify_log_to(&log, &early).await, Ok(head));
}

#[tokio::test]
async fn an_intact_jsonl_file_verifies_and_reads_as_appended() {
    let (_dir, path) = jsonl_log(6).await;
    let log = JsonlAuditLog::open(&path).unwrap();
    let all = log.read(1, 100).await.unwrap();
    assert_eq!(all.len(), 6);
    let head = JsonlAuditLog::verify_file(&path, None).unwrap();
    assert_eq!(head.last_seq, 6);
    assert_eq!(head.head, all[5].hash);
    assert_eq!(verify_log(&log).await.unwrap(), head);
    // Each line is exactly the entry's serde form.
    for (line, entry) in lines(&path).iter().zip(&all) {
        assert_eq!(line, &serde_json::to_string(entry).unwrap());
    }
}

#[tokio::test]
async fn an_edited_value_in_the_file_is_named_by_seq() {
    let (_dir, path) = jsonl_log(6).await;
    let mut l = lines(&path);
    assert!(l[2].contains(r#""outcome":"verified""#), "{}", l[2]);
    l[2] = l[2].replace(r#""outcome":"verified""#, r#""outcome":"declined""#);
    write_lines(&path, &l);
    assert_file_fails(&path, &ChainError::Edited { seq: 3 }.into());

    // A key the hash does not cover, or the same entry with spaces, is an edit too.
    let (_dir, path) = jsonl_log(6).await;
    let mut l = lines(&path);
    l[4] = l[4].replacen("{", r#"{"note":"ok","#, 1);
    write_lines(&path, &l);
    assert_file_fails(&path, &ChainError::Edited { seq: 5 }.into());

    let (_dir, path) = jsonl_log(6).await;
    let mut l = lines(&path);
    l[1] = l[1].replace(",", ", ");
    write_lines(&path, &l);
    assert_file_fails(&path, &ChainError::Edited { seq: 2 }.into());
}

#[tokio::test]
async fn a_deleted_middle_line_is_named_by_the_gap() {
    let (_dir, path) = jsonl_log(6).await;
    let mut l = lines(&path);
    l.remove(3);
    write_lines(&path, &l);
    assert_file_fails(
        &path,
        &ChainError::Deleted {
            after_seq: 3,
            next_seq: 5,
        }
        .into(),
    );
}

#[tokio::test]
async fn swapped_lines_are_reordered() {
    let (_dir, path) = jsonl_log(6).await;
    let mut l = lines(&path);
    l.swap(2, 3);
    write_lines(&path, &l);
    assert_file_fails(
        &path,
        &ChainError::Reordered {
            seq: 3,
            after_seq: 4,
        }
        .into(),
    );
}

#[tokio::test]
async fn a_forged_line_with_a_correct_hash_is_an_insertion() {
    // Linked correctly to entry 3 and given seq 4: the real entry 4 after it repeats the seq.
    let (_dir, path) = jsonl_log(6).await;
    let mut l = lines(&path);
    let third = entry(&l[2]);
    let forged = AuditEntry::link(
        4,
        &third.hash,
        AuditEvent::new(AuditAction::Erasure, "pw_forged", "erased", "netid"),
    );
    assert_eq!(forged.computed_hash(), forged.hash, "self-consistent");
    l.insert(3, serde_json::to_string(&forged).unwrap());
    write_lines(&path, &l);
    assert_file_fails(&path, &ChainError::Inserted { seq: 4 }.into());

    // Replacing entry 4 instead: entry 5 no longer links.
    let (_dir, path) = jsonl_log(6).await;
    let mut l = lines(&path);
    l[3] = serde_json::to_string(&forged).unwrap();
    write_lines(&path, &l);
    assert_file_fails(&path, &ChainError::Inserted { seq: 5 }.into());
}

#[tokio::test]
async fn a_torn_last_line_is_refused_by_line_number() {
    let (_dir, path) = jsonl_log(6).await;
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 40]).unwrap();
    let error = JsonlAuditLog::verify_file(&path, None).unwrap_err();
    assert_eq!(error.code(), "store.corrupt");
    let detail = corrupt_detail(&error);
    assert!(detail.contains("line 6 is incomplete"), "{detail}");
    assert_file_fails(&path, &error);
    // Without its last line the file is a perfect, shorter chain: only an anchor tells.
    let (_dir2, full) = jsonl_log(6).await;
    let anchor = JsonlAuditLog::verify_file(&full, None).unwrap();
    let mut l = lines(&full);
    l.pop();
    write_lines(&full, &l);
    assert_eq!(JsonlAuditLog::verify_file(&full, None).unwrap().last_seq, 5);
    assert_eq!(
        JsonlAuditLog::verify_file(&full, Some(&anchor)).unwrap_err(),
        ChainError::Truncated {
            last_seq: 5,
            anchored_seq: 6
        }
        .into()
    );
}

#[tokio::test]
async fn unreadable_lines_are_named_by_number_never_by_content() {
    let (_dir, path) = jsonl_log(3).await;
    let mut l = lines(&path);
    l.insert(1, "name=张三 id=11010519491231002X SECRET".to_owned());
    write_lines(&path, &l);
    let error = JsonlAuditLog::verify_file(&path, None).unwrap_err();
    let detail = corrupt_detail(&error).to_owned();
    assert!(detail.contains("line 2"), "{detail}");
    for shown in [error.to_string(), format!("{error:?}")] {
        for secret in ["张三", "11010519491231002X", "SECRET"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
    // An empty line and an endless one.
    let (_dir, path) = jsonl_log(3).await;
    let mut l = lines(&path);
    l.insert(2, String::new());
    write_lines(&path, &l);
    let error = JsonlAuditLog::verify_file(&path, None).unwrap_err();
    assert!(corrupt_detail(&error).contains("line 3"), "{error}");
    let (_dir, path) = jsonl_log(3).await;
    let mut l = lines(&path);
    l.push("x".repeat(100_000));
    write_lines(&path, &l);
    let error = JsonlAuditLog::verify_file(&path, None).unwrap_err();
    assert!(
        corrupt_detail(&error).contains("line 4 is longer"),
        "{error}"
    );
}

#[test]
fn hashes_are_sm3_of_the_hashed_bytes_by_openssl() {
    if openssl().is_none() {
        return;
    }
    let mut prev = netid::audit::GENESIS.to_owned();
    for i in 1..=5 {
        let entry = AuditEntry::link(i, &prev, event(i));
        let bytes = entry.hashed_bytes();
        let digest = hex::encode(run_openssl(&["dgst", "-sm3", "-binary"], &bytes));
        assert_eq!(digest, entry.hash, "entry {i}");
        assert_eq!(
            entry.prev,
            prev,
            "entry {i} links to the digest of entry {}",
            i - 1
        );
        // The line is the hashed bytes with the hash member before the last brace.
        let line = serde_json::to_string(&entry).unwrap();
        assert_eq!(
            line,
            format!(
                "{},\"hash\":\"{digest}\"}}",
                std::str::from_utf8(&bytes[..bytes.len() - 1]).unwrap()
            )
        );
        prev = digest;
    }
}

#[test]
fn hashed_bytes_have_the_documented_key_order() {
    let entry = AuditEntry::link(1, netid::audit::GENESIS, event(6));
    let text = String::from_utf8(entry.hashed_bytes()).unwrap();
    assert!(text.starts_with(r#"{"seq":1,"prev":"000"#), "{text}");
    assert!(text.ends_with('}') && !text.contains(' ') && !text.contains("\"hash\""));
    let keys = [
        "seq",
        "prev",
        "v",
        "action",
        "subject",
        "outcome",
        "reason",
        "method",
        "assurance",
        "fields",
        "consent_id",
        "authz_id",
        "token_sm3",
        "token",
        "at",
    ];
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| {
            text.find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("{k} in {text}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    // Absent values are null, fields are wire names.
    let bare = AuditEntry::link(
        1,
        netid::audit::GENESIS,
        AuditEvent::new(AuditAction::Logout, "pw_1", "ok", "netid").at(5),
    );
    assert_eq!(
        String::from_utf8(bare.hashed_bytes()).unwrap(),
        format!(
            "{{\"seq\":1,\"prev\":\"{}\",\"v\":2,\"action\":\"logout\",\"subject\":\"pw_1\",\
             \"outcome\":\"ok\",\"reason\":null,\"method\":\"netid\",\"assurance\":null,\
             \"fields\":[],\"consent_id\":null,\"authz_id\":null,\"token_sm3\":null,\
             \"token\":null,\"at\":5}}",
            "0".repeat(64)
        )
    );
    assert!(text.contains(r#""fields":["name","birth_date"]"#), "{text}");
}

/// The `sh` block of docs/AUDIT.md after the `verify.sh` marker.
fn documented_script() -> String {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/AUDIT.md"))
        .unwrap();
    let after = doc
        .split_once("<!-- verify.sh")
        .expect("marker in AUDIT.md")
        .1;
    let block = after.split_once("```sh\n").expect("sh block").1;
    block.split_once("```").expect("end of block").0.to_owned()
}

/// Runs the documented script on `file`.
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) fn run_documented_script(file: &Path) -> std::process::Output {
    run_script(&documented_script(), file)
}

/// Changes the lines of a log file.
type Tamper = fn(&mut Vec<String>);

fn run_script(script: &str, file: &Path) -> std::process::Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("verify.sh")
        .arg(file)
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_documented_shell_loop_agrees_with_netid() {
    if openssl().is_none() {
        return;
    }
    let script = documented_script();
    let (_dir, path) = jsonl_log(7).await;
    let head = JsonlAuditLog::verify_file(&path, None).unwrap();
    let out = run_script(&script, &path);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("ok: 7 entries, head {}\n", head.head)
    );
    let tampered: [(&str, Tamper); 4] = [
        ("line 4: edited", |l| l[3] = l[3].replace("pw_", "pw_x")),
        ("line 3: not linked to line 2", |l| {
            l.remove(2);
        }),
        ("line 3: not linked to line 2", |l| l.swap(2, 3)),
        ("line 7: edited", |l| {
            let last = l.pop().unwrap();
            l.push(last[..last.len() - 10].to_owned());
        }),
    ];
    for (expected, tamper) in tampered {
        let mut l = lines(&path);
        tamper(&mut l);
        let tampered_path = path.with_extension("tampered");
        write_lines(&tampered_path, &l);
        let out = run_script(&script, &tampered_path);
        assert_eq!(out.status.code(), Some(1), "{expected}: {out:?}");
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("{expected}\n")
        );
        assert!(JsonlAuditLog::verify_file(&tampered_path, None).is_err());
    }
}

/// 8 tasks × 50 appends to one log: one chain, seq 1..=400.
async fn append_concurrently(log: Arc<dyn AuditLog>) -> Vec<AuditEntry> {
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let log = Arc::clone(&log);
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                log.append(event(t * 1000 + i)).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let entries = log.read(1, 1000).await.unwrap();
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=400).collect::<Vec<_>>()
    );
    let head = verify_chain(&entries).unwrap();
    assert_eq!(head.entries, 400);
    assert_eq!(verify_log(log.as_ref()).await.unwrap(), head);
    entries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_form_one_chain_in_memory() {
    append_concurrently(Arc::new(InMemoryAuditLog::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_form_one_chain_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let entries = append_concurrently(Arc::new(JsonlAuditLog::open(&path).unwrap())).await;
    assert_eq!(lines(&path).len(), 400);
    let head = JsonlAuditLog::verify_file(&path, None).unwrap();
    assert_eq!(head.head, entries[399].hash);
}

#[tokio::test]
async fn reopening_a_file_continues_the_chain() {
    let (_dir, path) = jsonl_log(3).await;
    let log = JsonlAuditLog::open(&path).unwrap();
    let third = log.read(3, 1).await.unwrap().remove(0);
    let fourth = log.append(event(4)).await.unwrap();
    assert_eq!((fourth.seq, fourth.prev.as_str()), (4, third.hash.as_str()));
    drop(log);
    let log = JsonlAuditLog::open(&path).unwrap();
    assert_eq!(log.append(event(5)).await.unwrap().prev, fourth.hash);
    assert_eq!(JsonlAuditLog::verify_file(&path, None).unwrap().last_seq, 5);
    assert_eq!(lines(&path).len(), 5);
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, path) = jsonl_log(1).await;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test]
async fn a_multi_megabyte_file_is_streamed_and_read_by_seq() {
    // Written directly (no fsync per entry), then opened: open verifies it line by line.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let mut text = String::new();
    let mut prev = netid::audit::GENESIS.to_owned();
    let mut all = Vec::new();
    for i in 1..=12_000 {
        let entry = AuditEntry::link(i, &prev, event(i));
        text.push_str(&serde_json::to_string(&entry).unwrap());
        text.push('\n');
        prev.clone_from(&entry.hash);
        all.push(entry);
    }
    assert!(text.len() > 3_000_000, "{} bytes", text.len());
    std::fs::write(&path, &text).unwrap();

    let log = JsonlAuditLog::open(&path).unwrap();
    for (from, limit) in [
        (1, 3),
        (1023, 4),
        (1025, 2),
        (5000, 1),
        (11_999, 10),
        (1, 0),
    ] {
        let got = log.read(from, limit).await.unwrap();
        let start = (from - 1) as usize;
        let end = (start + limit).min(all.len());
        assert_eq!(got, all[start..end].to_vec(), "read({from}, {limit})");
    }
    assert!(log.read(12_001, 5).await.unwrap().is_empty());
    let appended = log.append(event(12_001)).await.unwrap();
    assert_eq!(appended.prev, all[11_999].hash);
    assert_eq!(log.read(12_001, 5).await.unwrap(), vec![appended.clone()]);
    let head = verify_log(&log).await.unwrap();
    assert_eq!((head.last_seq, head.head), (12_001, appended.hash));
}

#[tokio::test]
async fn invalid_events_are_refused_and_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let file_log = JsonlAuditLog::open(&path).unwrap();
    let memory_log = InMemoryAuditLog::new();
    let logs: [&dyn AuditLog; 2] = [&file_log, &memory_log];
    let base = || AuditEvent::new(AuditAction::Verification, "pw_ok", "verified", "netid");
    let mut bad_digest = base();
    bad_digest.token_sm3 = Some("not-a-digest-NOT-HEX".repeat(3) + "abcd");
    let cases: Vec<(AuditEvent, &str, &str)> = vec![
        (
            AuditEvent::new(
                AuditAction::Verification,
                "pw_1\nforged",
                "verified",
                "netid",
            ),
            "subject",
            "forged",
        ),
        (
            AuditEvent::new(AuditAction::Verification, "pw_1", "VERIFIED", "netid"),
            "outcome",
            "VERIFIED",
        ),
        (
            AuditEvent::new(AuditAction::Verification, "pw_1", "ok", "Net/ID"),
            "method",
            "Net/ID",
        ),
        (bad_digest, "token_sm3", "NOT-HEX"),
        (base().assurance(7), "assurance", ""),
        (base().authz_id("az 1"), "authz_id", "az 1"),
        // Identity numbers where a pseudonym or an id belongs.
        (
            AuditEvent::new(
                AuditAction::Verification,
                "11010519491231002X",
                "verified",
                "netid",
            ),
            "subject",
            "11010519491231002X",
        ),
        (
            base().consent_id("user:11010519491231002X"),
            "consent_id",
            "11010519491231002X",
        ),
    ];
    for log in logs {
        for (event, field, value) in &cases {
            let error = log.append(event.clone()).await.unwrap_err();
            assert_eq!(error, AuditError::Invalid(field), "{event:?}");
            assert_eq!(error.code(), "audit.invalid_event");
            let text = error.to_string();
            assert!(text.contains(field), "{text}");
            if !value.is_empty() {
                assert!(!text.contains(value), "{text} shows the value");
            }
        }
        assert!(log.read(1, 10).await.unwrap().is_empty(), "nothing written");
    }
    assert_eq!(std::fs::read(&path).unwrap().len(), 0);
}

#[cfg(feature = "cli")]
mod cli {
    use std::process::{Command, Output};

    use super::*;

    fn netid(args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_netid"))
            .args(args)
            .output()
            .unwrap()
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn run(path: &Path, extra: &[&str]) -> Output {
        let mut args = vec!["audit", "verify", path.to_str().unwrap()];
        args.extend_from_slice(extra);
        netid(&args)
    }

    #[tokio::test]
    async fn audit_verify_prints_the_head_of_a_good_file() {
        let (_dir, path) = jsonl_log(5).await;
        let head = JsonlAuditLog::verify_file(&path, None).unwrap();
        let out = run(&path, &[]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert_eq!(
            text(&out.stdout),
            format!("ok: 5 entries, last seq 5, head {}\n", head.head)
        );
        let anchor = format!("5:{}", head.head);
        assert_eq!(
            run(&path, &["--expect-head", &anchor]).status.code(),
            Some(0)
        );
    }

    #[tokio::test]
    async fn audit_verify_exits_1_on_a_tampered_file() {
        let (_dir, path) = jsonl_log(5).await;
        let head = JsonlAuditLog::verify_file(&path, None).unwrap();
        let mut l = lines(&path);
        l[2] = l[2].replace("\"at\":", "\"at\":1");
        write_lines(&path, &l);
        let out = run(&path, &[]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(out.stdout.is_empty());
        let err = text(&out.stderr);
        assert!(
            err.starts_with("error: audit.edited: audit entry 3 was edited"),
            "{err}"
        );

        // A removed tail: the chain is fine, the anchor is not.
        let (_dir, path) = jsonl_log(5).await;
        let mut l = lines(&path);
        l.truncate(4);
        write_lines(&path, &l);
        let anchor = format!("5:{}", head.head);
        assert_eq!(run(&path, &[]).status.code(), Some(0));
        let out = run(&path, &["--expect-head", &anchor]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(text(&out.stderr).starts_with("error: audit.truncated: "));

        // A torn line.
        let (_dir, path) = jsonl_log(5).await;
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let out = run(&path, &[]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let err = text(&out.stderr);
        assert!(
            err.starts_with("error: store.corrupt: ") && err.contains("line 5"),
            "{err}"
        );
    }

    #[test]
    fn audit_verify_usage_and_missing_files_exit_2() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.jsonl");
        let out = run(&missing, &[]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(text(&out.stderr).starts_with("error: store.unavailable: "));
        assert!(!missing.exists(), "verify creates nothing");
        assert_eq!(netid(&["audit", "verify"]).status.code(), Some(2));
        let bad_anchor = run(&missing, &["--expect-head", "5:xyz"]);
        assert_eq!(bad_anchor.status.code(), Some(2));
        let help = netid(&["audit", "verify", "--help"]);
        assert_eq!(help.status.code(), Some(0));
        assert!(text(&help.stdout).contains("Examples:"));
    }
}
