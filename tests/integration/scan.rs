//! `netid scan`, the real binary: a generated corpus with every Art. 15 document type in every
//! input format (text, JSON, NDJSON, CSV, TSV, pg_dump SQL, gzip and zstd), look-alikes that
//! must not be flagged, every output format (never the full value), exit statuses, SARIF
//! validated against the official schema, and real PostgreSQL tables.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// Runs `netid scan args…` with `stdin`.
fn scan(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netid"))
        .arg("scan")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn netid");
    let mut pipe = child.stdin.take().expect("stdin");
    let _ = pipe.write_all(stdin);
    drop(pipe);
    child.wait_with_output().expect("netid output")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8 output")
}

fn status(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// The findings of `--format json` output.
fn findings(o: &Output) -> Vec<Value> {
    text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

/// The GB 11643 (ISO 7064 MOD 11-2) check character, from the standard's weights.
fn mod11(d17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = d17
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).expect("digit") * w)
        .sum();
    ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize]
}

fn with_check(d17: &str) -> String {
    format!("{d17}{}", mod11(d17))
}

/// One identity value of each Art. 15 document type: the kind `netid scan` must report, the
/// value, a field name that gives it context, and a label that does in free text.
fn documents() -> Vec<(&'static str, String, &'static str, &'static str)> {
    vec![
        // GB 11643's own example.
        (
            "resident_id_card",
            "11010519491231002X".to_owned(),
            "idNo",
            "身份证号",
        ),
        (
            "hk_macau_residence_permit",
            // Not 81000019900101001x: that one is also a valid unified social credit code.
            with_check("81000019900101002"),
            "idNo",
            "居住证",
        ),
        (
            "taiwan_residence_permit",
            with_check("83000019851231002"),
            "idNo",
            "居住证",
        ),
        (
            "foreign_permanent_residence_card",
            with_check("91184019800101001"),
            "idNo",
            "居留证",
        ),
        (
            "passport_settled_abroad",
            "E12345678".to_owned(),
            "passportNo",
            "护照号",
        ),
        (
            "hk_macau_travel_permit",
            "H12345678".to_owned(),
            "permitNo",
            "回乡证",
        ),
        (
            "taiwan_travel_permit",
            "12345678".to_owned(),
            "permitNo",
            "台胞证",
        ),
    ]
}

/// Values that must not be flagged without an identity field or label: an 18-digit number
/// whose check character is wrong, order numbers, phone numbers, a unified social credit code,
/// timestamps, a bank card number.
fn look_alikes() -> Vec<String> {
    let good = "11010519491231002X";
    let wrong = format!(
        "{}{}",
        &good[..17],
        if mod11(&good[..17]) == '1' { '2' } else { '1' }
    );
    vec![
        wrong,
        "202405170001".to_owned(),
        "202405171234567890".to_owned(),
        "13800138000".to_owned(),
        "+86 139 1234 5678".to_owned(),
        "91350100M000100Y43".to_owned(),
        "1767225600123".to_owned(),
        "6222021234567890128".to_owned(),
        "E12345678".to_owned(),
        "12345678".to_owned(),
    ]
}

/// Writes one file per input format holding every document, with context, plus compressed
/// copies; returns the directory.
fn corpus(dir: &Path) {
    let docs = documents();
    let mut log = String::from("2026-01-01T00:00:00Z INFO service started\n");
    let mut ndjson = String::new();
    let mut json_items = Vec::new();
    let mut csv = String::from("row,kind,note,idNo,passportNo,permitNo\n");
    let mut tsv = String::from("row\tkind\tidNo\tpassportNo\tpermitNo\n");
    let mut copy = String::new();
    let mut inserts = String::new();
    for (i, (kind, value, field, label)) in docs.iter().enumerate() {
        log.push_str(&format!(
            "2026-01-01T00:00:0{i}Z INFO user gave {label} {value} at signup\n"
        ));
        ndjson.push_str(&format!(
            "{{\"row\":{i},\"kind\":\"{kind}\",\"user\":{{\"{field}\":\"{value}\"}}}}\n"
        ));
        json_items.push(format!("    {{\"row\": {i}, \"{field}\": \"{value}\"}}"));
        let cell = |f: &str| {
            if f == *field {
                value.clone()
            } else {
                String::new()
            }
        };
        csv.push_str(&format!(
            "{i},{kind},ok,{},{},{}\n",
            cell("idNo"),
            cell("passportNo"),
            cell("permitNo")
        ));
        tsv.push_str(&format!(
            "{i}\t{kind}\t{}\t{}\t{}\n",
            cell("idNo"),
            cell("passportNo"),
            cell("permitNo")
        ));
        copy.push_str(&format!(
            "{i}\t{}\t{}\t{}\n",
            or_null(cell("idNo")),
            or_null(cell("passportNo")),
            or_null(cell("permitNo"))
        ));
        inserts.push_str(&format!(
            "INSERT INTO public.guests VALUES ({}, {}, {}, {});\n",
            i + 100,
            sql_literal(&cell("idNo")),
            sql_literal(&cell("passportNo")),
            sql_literal(&cell("permitNo"))
        ));
    }
    let json = format!("{{\n  \"users\": [\n{}\n  ]\n}}\n", json_items.join(",\n"));
    let sql = format!(
        "--\n-- PostgreSQL database dump\n--\n\nSET client_encoding = 'UTF8';\n\n\
         CREATE TABLE public.guests (\n    id integer NOT NULL,\n    id_no text,\n    \
         passport_no text,\n    permit_no character varying(20)\n);\n\n\
         COPY public.guests (id, id_no, passport_no, permit_no) FROM stdin;\n{copy}\\.\n\n{inserts}"
    );
    let files: [(&str, &str); 6] = [
        ("app.log", &log),
        ("users.ndjson", &ndjson),
        ("users.json", &json),
        ("users.csv", &csv),
        ("users.tsv", &tsv),
        ("dump.sql", &sql),
    ];
    for (name, content) in files {
        std::fs::write(dir.join(name), content).expect("write corpus");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(content.as_bytes()).expect("gzip");
        std::fs::write(dir.join(format!("{name}.gz")), gz.finish().expect("gzip")).expect("write");
        let zst = zstd::encode_all(content.as_bytes(), 3).expect("zstd");
        std::fs::write(dir.join(format!("{name}.zst")), zst).expect("write");
    }
}

fn or_null(v: String) -> String {
    if v.is_empty() { "\\N".to_owned() } else { v }
}

fn sql_literal(v: &str) -> String {
    if v.is_empty() {
        "NULL".to_owned()
    } else {
        format!("'{}'", v.replace('\'', "''"))
    }
}

/// Every file of the corpus, every document type: found, as its kind, with the place the
/// format gives (line and column, JSON path, column name, table), and never the value.
#[test]
fn every_document_type_in_every_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    corpus(dir.path());
    let out = scan(
        &["--format", "json", dir.path().to_str().expect("path")],
        b"",
    );
    assert_eq!(status(&out), 0, "stderr: {}", text(&out.stderr));
    let found = findings(&out);
    let stdout = text(&out.stdout);
    let base = [
        "app.log",
        "users.ndjson",
        "users.json",
        "users.csv",
        "users.tsv",
        "dump.sql",
    ];
    for name in base {
        for suffix in ["", ".gz", ".zst"] {
            let file = format!("{name}{suffix}");
            let in_file: Vec<&Value> = found
                .iter()
                .filter(|f| {
                    f["path"]
                        .as_str()
                        .is_some_and(|p| p.ends_with(&format!("/{file}")))
                })
                .collect();
            for (kind, value, field, _) in documents() {
                let hits: Vec<&&Value> = in_file.iter().filter(|f| f["kind"] == kind).collect();
                // The SQL dump has each document twice: a COPY row and an INSERT.
                let expected = if name == "dump.sql" { 2 } else { 1 };
                assert_eq!(hits.len(), expected, "{kind} in {file}: {in_file:?}");
                let first = hits[0];
                let redacted = first["redacted"].as_str().expect("redacted");
                let mut chars = value.chars();
                let (f, l) = (
                    chars.next().expect("first"),
                    chars.next_back().expect("last"),
                );
                assert_eq!(redacted, format!("{f}…{l}"), "{kind} in {file}");
                assert!(
                    first["line"].as_u64().is_some_and(|l| l > 0),
                    "{file}: a line"
                );
                match name {
                    "app.log" => {
                        assert_eq!(first["location"], "(text)");
                        assert!(first["column"].as_u64().is_some_and(|c| c > 30));
                    }
                    "users.ndjson" => assert_eq!(first["location"], format!("$.user.{field}")),
                    "users.json" => {
                        assert!(
                            first["location"]
                                .as_str()
                                .is_some_and(|l| l.starts_with("$.users[")
                                    && l.ends_with(&format!("].{field}"))),
                            "{first}"
                        );
                    }
                    "users.csv" | "users.tsv" => assert_eq!(first["field"], field),
                    _ => {
                        assert_eq!(first["table"], "public.guests");
                        let column = match field {
                            "idNo" => "id_no",
                            "passportNo" => "passport_no",
                            _ => "permit_no",
                        };
                        assert_eq!(first["field"], column);
                    }
                }
            }
        }
    }
    for (_, value, _, _) in documents() {
        assert!(!stdout.contains(&value), "a full value in the output");
    }
}

/// Look-alikes in unlabelled places, in every format, are not findings.
#[test]
fn look_alikes_are_not_flagged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let values = look_alikes();
    let mut log = String::new();
    let mut ndjson = String::new();
    let mut csv = String::from("order,amount,phone,ref\n");
    let mut copy = String::new();
    for (i, v) in values.iter().enumerate() {
        log.push_str(&format!(
            "2026-01-01 12:00:{i:02} order {v} shipped to 13900001111\n"
        ));
        ndjson.push_str(&format!(
            "{{\"orderNo\":\"{v}\",\"ts\":1767225600,\"n\":{i}}}\n"
        ));
        csv.push_str(&format!("{v},12.50,13800138000,{v}\n"));
        copy.push_str(&format!("{i}\t{v}\t{v}\n"));
    }
    let sql = format!(
        "--\n-- PostgreSQL database dump\n--\nCREATE TABLE public.orders (\n    id integer,\n    \
         order_no text,\n    tracking text\n);\nCOPY public.orders (id, order_no, tracking) FROM \
         stdin;\n{copy}\\.\n"
    );
    std::fs::write(dir.path().join("orders.log"), &log).expect("write");
    std::fs::write(dir.path().join("orders.ndjson"), &ndjson).expect("write");
    std::fs::write(dir.path().join("orders.csv"), &csv).expect("write");
    std::fs::write(dir.path().join("orders.sql"), &sql).expect("write");
    let out = scan(
        &[
            "--format",
            "json",
            "--fail-on-findings",
            dir.path().to_str().expect("path"),
        ],
        b"",
    );
    assert_eq!(status(&out), 0, "findings: {}", text(&out.stdout));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("scanned 4 file(s)"),
        "{}",
        text(&out.stderr)
    );
}

/// Standard input, `--fail-on-findings` (exit 1), bad usage (exit 2), unreadable files
/// (reported, skipped, exit 2), and the summary.
#[test]
fn exit_statuses_stdin_and_summary() {
    let input = b"hello\nuser 110105194912310021 x\nid 11010519491231002X\n";
    let out = scan(&["--fail-on-findings", "--format", "json", "-"], input);
    assert_eq!(status(&out), 1);
    let found = findings(&out);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0]["line"].as_u64(), found[0]["column"].as_u64()),
        (Some(3), Some(4))
    );
    assert_eq!(found[0]["path"], "-");
    let err = text(&out.stderr);
    assert!(
        err.contains("3 row(s)") && err.contains("resident_id_card: 1"),
        "{err}"
    );

    assert_eq!(status(&scan(&["--format", "nope", "-"], b"")), 2);
    assert_eq!(status(&scan(&[], b"")), 2);

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.log"), "身份证 11010519491231002X\n").expect("write");
    let missing = dir.path().join("missing.log");
    let out = scan(
        &[
            "--summary-only",
            dir.path().to_str().expect("path"),
            missing.to_str().expect("path"),
        ],
        b"",
    );
    assert_eq!(status(&out), 2, "an unreadable input is exit 2");
    let err = text(&out.stderr);
    assert!(
        err.contains("skipped") && err.contains("missing.log"),
        "{err}"
    );
    let summary = text(&out.stdout);
    assert!(
        summary.contains("1 finding(s)") && summary.contains("1 unreadable"),
        "{summary}"
    );
    assert!(
        !summary.contains("a.log:"),
        "--summary-only prints no findings"
    );
}

/// `.gitignore` and `--exclude` keep files out; `--no-ignore` brings them back.
#[test]
fn ignore_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = "身份证 11010519491231002X\n";
    std::fs::write(dir.path().join(".gitignore"), "ignored/\n").expect("write");
    std::fs::create_dir_all(dir.path().join("ignored")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("kept/deep")).expect("mkdir");
    std::fs::write(dir.path().join("ignored/a.log"), id).expect("write");
    std::fs::write(dir.path().join("kept/deep/b.log"), id).expect("write");
    std::fs::write(dir.path().join("kept/c.bak"), id).expect("write");
    let root = dir.path().to_str().expect("path");
    let paths = |o: &Output| -> Vec<String> {
        let mut p: Vec<String> = findings(o)
            .iter()
            .map(|f| f["path"].as_str().unwrap_or_default().replace(root, ""))
            .collect();
        p.sort();
        p
    };
    let out = scan(&["--format", "json", "--exclude", "*.bak", root], b"");
    assert_eq!(paths(&out), vec!["/kept/deep/b.log"]);
    let out = scan(&["--format", "json", "--no-ignore", root], b"");
    assert_eq!(
        paths(&out),
        vec!["/ignored/a.log", "/kept/c.bak", "/kept/deep/b.log"]
    );
}

/// Every output format carries the finding and never the value: table, JSON, CSV, SARIF.
#[test]
fn no_output_format_shows_the_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    corpus(dir.path());
    let root = dir.path().to_str().expect("path");
    for format in ["table", "json", "csv", "sarif"] {
        let out = scan(&["--format", format, root], b"");
        assert_eq!(status(&out), 0, "{format}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let stderr = text(&out.stderr);
        assert!(stdout.contains("1…X"), "{format} shows the redacted value");
        for (_, value, _, _) in documents() {
            assert!(!stdout.contains(&value), "{format}: full value on stdout");
            assert!(!stderr.contains(&value), "{format}: full value on stderr");
        }
        if format == "csv" {
            let mut reader = csv::Reader::from_reader(stdout.as_bytes());
            let headers = reader.headers().expect("header").clone();
            assert_eq!(&headers[0], "path");
            assert!(reader.records().count() > 40);
        }
    }
}

/// `--format sarif` is valid SARIF 2.1.0: checked against the official OASIS schema
/// (tests/data/sarif/sarif-schema-2.1.0.json).
#[test]
fn sarif_is_valid_against_the_schema() {
    let schema_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif/sarif-schema-2.1.0.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).expect("schema"))
            .expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let dir = tempfile::tempdir().expect("tempdir");
    corpus(dir.path());
    std::fs::write(
        dir.path().join("名 单 %.log"),
        "身份证 11010519491231002X\n",
    )
    .expect("write");
    let out = scan(
        &["--format", "sarif", dir.path().to_str().expect("path")],
        b"",
    );
    let log: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert!(results.len() > 100, "{}", results.len());
    assert!(results.iter().any(|r| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("%E5%90%8D%20%E5%8D%95%20%25.log"))
    }));
    // An empty scan is a valid log too.
    let out = scan(&["--format", "sarif", "-"], b"nothing here\n");
    let log: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert!(validator.is_valid(&log));
    // A broken document is caught by the validator: the check can fail.
    let mut broken = log.clone();
    broken["version"] = Value::from("2.0.0");
    assert!(!validator.is_valid(&broken));
}

/// An ID number split across the scanner's read chunks (256 KiB) and a very long line are
/// found exactly once, at the right offset.
#[test]
fn large_input_across_chunk_boundaries() {
    let id = "11010519491231002X";
    let mut input = vec![b'a'; 256 * 1024 - 9];
    input.push(b' ');
    input.extend_from_slice(id.as_bytes());
    input.extend_from_slice(b" tail\n");
    let out = scan(&["--format", "json", "-"], &input);
    let found = findings(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["column"].as_u64(), Some(256 * 1024 - 7));
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use crate::servers::pg_scope::{PgScope, postgres_url};

    /// Tables with and without a primary key, text/varchar/json/jsonb columns, a key that is
    /// itself an ID number: found by key and column, never by value; a million rows with flat
    /// memory.
    #[tokio::test(flavor = "multi_thread")]
    async fn scans_real_tables() {
        let Some(scope) = PgScope::new().await else {
            return;
        };
        let s = &scope.schema;
        scope
            .exec(&format!("CREATE SCHEMA {s}"))
            .await
            .expect("schema");
        let setup = [
            format!(
                "CREATE TABLE {s}.customers (id bigint PRIMARY KEY, full_name text, \
                 id_no varchar(18), profile jsonb, notes text, age int)"
            ),
            format!(
                "INSERT INTO {s}.customers VALUES \
                 (1, '张三', '11010519491231002X', '{{\"docs\":{{\"passportNo\":\"E12345678\"}}}}', 'ok', 30), \
                 (2, 'bob', NULL, '{{\"ok\":true}}', 'call 13800138000', 40), \
                 (3, 'x', NULL, NULL, '身份证 440524188001010014', 50)"
            ),
            format!("CREATE TABLE {s}.events (payload json, msg text)"),
            format!(
                "INSERT INTO {s}.events VALUES ('{{\"user\":{{\"idNo\":\"H12345678\"}}}}', 'hi'), \
                 (NULL, 'nothing')"
            ),
            format!("CREATE TABLE {s}.by_id (sfzh text PRIMARY KEY, note text)"),
            format!("INSERT INTO {s}.by_id VALUES ('440524188001010014', '台胞证 12345678')"),
        ];
        for sql in &setup {
            scope.exec(sql).await.expect(sql);
        }
        let url = postgres_url();
        let out = scan(
            &["--postgres", &url, "--schema", s, "--format", "json"],
            b"",
        );
        assert_eq!(status(&out), 0, "{}", text(&out.stderr));
        let found = findings(&out);
        let stdout = text(&out.stdout);
        let get = |table: &str, kind: &str| -> Vec<&Value> {
            found
                .iter()
                .filter(|f| f["table"] == format!("{s}.{table}") && f["kind"] == kind)
                .collect()
        };
        let id = get("customers", "resident_id_card");
        assert_eq!(id.len(), 2, "{found:?}");
        assert_eq!(id[0]["key"], "id=1");
        assert_eq!(id[0]["field"], "id_no");
        assert_eq!(id[1]["key"], "id=3");
        assert_eq!(id[1]["field"], "notes");
        let passport = get("customers", "passport_settled_abroad");
        assert_eq!(passport.len(), 1);
        assert_eq!(passport[0]["field"], "profile");
        assert!(
            passport[0]["location"]
                .as_str()
                .is_some_and(|l| l.ends_with("$.docs.passportNo"))
        );
        // `full_name` is an identity field name: every row's value is a finding.
        let names: Vec<&Value> = get("customers", "name");
        let keys: Vec<&str> = names.iter().filter_map(|f| f["key"].as_str()).collect();
        assert_eq!(keys, vec!["id=1", "id=2", "id=3"]);
        // No primary key: the row is named by its ctid.
        let permit = get("events", "hk_macau_travel_permit");
        assert_eq!(permit.len(), 1);
        assert_eq!(permit[0]["key"], "ctid=(0,1)");
        // A key that is itself an ID number is redacted like any value.
        let tw = get("by_id", "taiwan_travel_permit");
        assert_eq!(tw.len(), 1);
        assert_eq!(tw[0]["key"], "sfzh=4…4");
        for secret in [
            "11010519491231002X",
            "440524188001010014",
            "E12345678",
            "H12345678",
        ] {
            assert!(!stdout.contains(secret), "{secret} in the output");
        }
        // --table and --columns narrow the scan.
        let out = scan(
            &[
                "--postgres",
                &url,
                "--schema",
                s,
                "--table",
                "customers",
                "--columns",
                "notes",
                "--format",
                "json",
            ],
            b"",
        );
        let narrowed = findings(&out);
        assert_eq!(narrowed.len(), 1, "{narrowed:?}");
        assert_eq!(narrowed[0]["field"], "notes");

        // A million rows (~120 MB of text) stream through COPY in flat memory.
        for sql in [
            format!("CREATE TABLE {s}.big (id bigint PRIMARY KEY, body text)"),
            format!(
                "INSERT INTO {s}.big SELECT g, repeat('row ' || g || ' lorem ipsum dolor ', 4) \
                 FROM generate_series(1, 1000000) g"
            ),
            format!(
                "UPDATE {s}.big SET body = body || ' 身份证 11010519491231002X' \
                 WHERE id % 250000 = 0"
            ),
        ] {
            scope.exec(&sql).await.expect("big table");
        }
        let (out, peak_kib) = scan_measured(&[
            "--postgres",
            &url,
            "--schema",
            s,
            "--table",
            "big",
            "--format",
            "json",
        ]);
        assert_eq!(status(&out), 0, "{}", text(&out.stderr));
        let found = findings(&out);
        let keys: Vec<&str> = found.iter().filter_map(|f| f["key"].as_str()).collect();
        assert_eq!(
            keys,
            vec!["id=250000", "id=500000", "id=750000", "id=1000000"]
        );
        assert!(
            text(&out.stderr).contains("1000000 row(s)"),
            "{}",
            text(&out.stderr)
        );
        // The table's text is ~120 MB; the scanner holds one chunk, one row and the findings
        // of at most 1,000 rows.
        assert!(
            peak_kib > 0 && peak_kib < 80 * 1024,
            "peak RSS {peak_kib} KiB"
        );
    }

    /// Values that COPY text must escape — tabs, newlines, carriage returns, backslashes, the
    /// text `\N` — beside NULLs and empty strings, next to ID numbers, in values and in a
    /// composite key: the same findings, columns, keys and positions as the values themselves
    /// give (expected values worked out by hand from the inserted text). A backslash that is
    /// text stays text: `11010519491231002\x58` is no ID (it would be one, wrongly, if the
    /// escape COPY wrote for the backslash were decoded twice).
    #[tokio::test(flavor = "multi_thread")]
    async fn copy_text_escapes_and_nulls() {
        let Some(scope) = PgScope::new().await else {
            return;
        };
        let s = &scope.schema;
        let setup = [
            format!("CREATE SCHEMA {s}"),
            format!(
                "CREATE TABLE {s}.tricky \
                 (id bigint PRIMARY KEY, a text, b text, c varchar(60), j jsonb)"
            ),
            // E'' strings: `\t` `\n` `\r` are the characters, `\\` one backslash.
            format!(
                "INSERT INTO {s}.tricky VALUES \
                 (1, E'tab\there\\\\ 11010519491231002X', NULL, ''), \
                 (2, E'line1\nline2\\\\backslash\r\n', E'\\\\N', NULL), \
                 (3, NULL, E'back\\\\slash\t\\\\N\n second line 440524188001010014\r\nend', 'x'), \
                 (4, '', E'11010519491231002\\\\x58', E'\\\\x41 \\\\101 \\\\t \\\\\\\\'), \
                 (5, E'\\\\', E'\t', E'\n11010519491231002X')"
            ),
            // JSON escapes (`\t`, `\\`) become backslashes that COPY escapes again.
            format!(
                r#"UPDATE {s}.tricky SET j = '{{"note":"tab\there \\N","p":{{"passportNo":"E12345678"}}}}' WHERE id = 2"#
            ),
            format!("CREATE TABLE {s}.tricky_key (a int, b text, note text, PRIMARY KEY (a, b))"),
            format!(
                "INSERT INTO {s}.tricky_key VALUES (7, E'x\ty\\\\z\n', 'ID 11010519491231002X'), \
                 (8, E'\\\\N', 'ID 440524188001010014')"
            ),
        ];
        for sql in &setup {
            scope.exec(sql).await.expect(sql);
        }
        let url = postgres_url();
        let out = scan(
            &["--postgres", &url, "--schema", s, "--format", "json"],
            b"",
        );
        assert_eq!(status(&out), 0, "{}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.contains("7 row(s)"), "{stderr}");
        assert!(!stderr.contains("skipped"), "{stderr}");
        let found = findings(&out);
        let got: Vec<(String, String, String, String)> = found
            .iter()
            .map(|f| {
                let t = |k: &str| f[k].as_str().unwrap_or("").to_owned();
                (t("table"), t("key"), t("field"), t("location"))
            })
            .collect();
        let t = format!("{s}.tricky");
        let k = format!("{s}.tricky_key");
        let row = |table: &str, key: &str, field: &str, location: &str| {
            (
                table.to_owned(),
                key.to_owned(),
                field.to_owned(),
                format!("{table}.{location}"),
            )
        };
        assert_eq!(
            got,
            vec![
                row(&t, "id=1", "a", "a"),
                row(&t, "id=3", "b", "b"),
                row(&t, "id=5", "c", "c"),
                row(&t, "id=2", "j", "j $.p.passportNo"),
                // The key's text keeps its tab, backslash and newline, and `\N` as text.
                row(&k, "a=7,b=x\ty\\z\n", "note", "note"),
                row(&k, "a=8,b=\\N", "note", "note"),
            ],
            "{found:?}"
        );
        let kinds: Vec<&str> = found.iter().filter_map(|f| f["kind"].as_str()).collect();
        assert_eq!(
            kinds,
            [
                "resident_id_card",
                "resident_id_card",
                "resident_id_card",
                "passport_settled_abroad",
                "resident_id_card",
                "resident_id_card"
            ]
        );
        for secret in ["11010519491231002X", "440524188001010014", "E12345678"] {
            assert!(
                !text(&out.stdout).contains(secret),
                "{secret} in the output"
            );
        }
    }

    /// A table the scanning role cannot read is reported and skipped, and the tables after it
    /// are still scanned (the failed COPY leaves no broken connection behind).
    #[tokio::test(flavor = "multi_thread")]
    async fn unreadable_table_is_skipped() {
        let Some(scope) = PgScope::new().await else {
            return;
        };
        let s = &scope.schema;
        let role = format!("{s}_ro");
        let setup = [
            format!("CREATE SCHEMA {s}"),
            format!("CREATE ROLE {role} LOGIN"),
            format!("GRANT USAGE ON SCHEMA {s} TO {role}"),
            // The role sees the column `note` (so the table is listed) but cannot read `id`.
            format!("CREATE TABLE {s}.a_locked (id bigint PRIMARY KEY, note text)"),
            format!("INSERT INTO {s}.a_locked VALUES (1, '身份证 11010519491231002X')"),
            format!("GRANT SELECT (note) ON {s}.a_locked TO {role}"),
            format!("CREATE TABLE {s}.b_open (id bigint PRIMARY KEY, note text)"),
            format!("INSERT INTO {s}.b_open VALUES (1, 'ok'), (2, '身份证 440524188001010014')"),
            format!("GRANT SELECT ON {s}.b_open TO {role}"),
            format!("CREATE TABLE {s}.c_locked (id bigint PRIMARY KEY, note text)"),
            format!("GRANT SELECT (note) ON {s}.c_locked TO {role}"),
        ];
        for sql in &setup {
            scope.exec(sql).await.expect(sql);
        }
        let mut url = url::Url::parse(&postgres_url()).expect("postgres URL");
        url.set_username(&role).expect("user name");
        let out = scan(
            &[
                "--postgres",
                url.as_str(),
                "--schema",
                s,
                "--format",
                "json",
            ],
            b"",
        );
        let stderr = text(&out.stderr);
        for sql in [format!("DROP OWNED BY {role}"), format!("DROP ROLE {role}")] {
            scope.exec(&sql).await.expect(&sql);
        }
        assert_eq!(status(&out), 2, "an unreadable table is exit 2: {stderr}");
        for locked in ["a_locked", "c_locked"] {
            assert!(
                stderr.contains(&format!("skipped {s}.{locked}: permission denied")),
                "{stderr}"
            );
        }
        assert!(stderr.contains("2 unreadable"), "{stderr}");
        let found = findings(&out);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0]["table"], format!("{s}.b_open"));
        assert_eq!(found[0]["key"], "id=2");
    }

    /// Ten million rows (~530 MB of text, ~1.1 GB on disk), generated by the server in a
    /// schema of the test's own, stream through COPY: every planted ID is found by its
    /// key, every row is counted, and the scanner's peak RSS stays under the bound the million
    /// rows above keep to. Not ignored: it took 75–115 s here (load ≈ 2–3), under the 3 minutes
    /// that would move it out of plain `cargo test`.
    #[tokio::test(flavor = "multi_thread")]
    async fn ten_million_rows_in_bounded_memory() {
        let Some(scope) = PgScope::new().await else {
            return;
        };
        let s = &scope.schema;
        for sql in [
            format!("CREATE SCHEMA {s}"),
            format!("CREATE TABLE {s}.big (id bigint PRIMARY KEY, body text)"),
            format!(
                "INSERT INTO {s}.big SELECT g, 'order ' || g || ' shipped to desk ' || (g % 97) \
                 || ', signed by recipient' || CASE WHEN g % 2500000 = 0 \
                 THEN ' 身份证 11010519491231002X' ELSE '' END \
                 FROM generate_series(1, 10000000) g"
            ),
        ] {
            scope.exec(&sql).await.expect(&sql);
        }
        let url = postgres_url();
        let (out, peak_kib) = scan_measured(&[
            "--postgres",
            &url,
            "--schema",
            s,
            "--table",
            "big",
            "--format",
            "json",
        ]);
        assert_eq!(status(&out), 0, "{}", text(&out.stderr));
        let found = findings(&out);
        let keys: Vec<&str> = found.iter().filter_map(|f| f["key"].as_str()).collect();
        assert_eq!(
            keys,
            vec!["id=2500000", "id=5000000", "id=7500000", "id=10000000"]
        );
        assert!(found.iter().all(|f| f["kind"] == "resident_id_card"));
        assert!(!text(&out.stdout).contains("11010519491231002X"));
        assert!(
            text(&out.stderr).contains("10000000 row(s)"),
            "{}",
            text(&out.stderr)
        );
        // Ten times the rows of the million-row table, the same bound: memory does not grow
        // with the table.
        assert!(
            peak_kib > 0 && peak_kib < 80 * 1024,
            "peak RSS {peak_kib} KiB"
        );
    }

    /// Runs `netid scan args…`, sampling its peak RSS (VmHWM) from /proc while it runs.
    fn scan_measured(args: &[&str]) -> (Output, u64) {
        let child = Command::new(env!("CARGO_BIN_EXE_netid"))
            .arg("scan")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn netid");
        let status_path = format!("/proc/{}/status", child.id());
        let sampler = std::thread::spawn(move || {
            let mut peak = 0u64;
            while let Ok(status) = std::fs::read_to_string(&status_path) {
                if let Some(kib) = status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                {
                    peak = peak.max(kib);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            peak
        });
        let out = child.wait_with_output().expect("netid output");
        let peak = sampler.join().unwrap_or(0);
        (out, peak)
    }
}
