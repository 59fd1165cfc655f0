use proptest::prelude::*;

use super::*;
use crate::detect::FindingKind;

const TODAY: u32 = 2026_01_01;

fn scanner(format: StreamFormat, window: usize) -> StreamScanner {
    let mut s = StreamScanner::new(Detector::new().every(), format, TODAY);
    s.window = window;
    s.max_line = 4 * window;
    s
}

/// Scans `input` fed in the pieces that `cuts` (sorted offsets) make.
fn scan_split(format: StreamFormat, window: usize, input: &[u8], cuts: &[usize]) -> Vec<Located> {
    let mut s = scanner(format, window);
    let mut out = Vec::new();
    let mut at = 0;
    for &cut in cuts {
        let cut = cut.clamp(at, input.len());
        s.feed(&input[at..cut], &mut out);
        at = cut;
    }
    s.feed(&input[at..], &mut out);
    s.finish(&mut out);
    out
}

fn whole(format: StreamFormat, window: usize, input: &[u8]) -> Vec<Located> {
    scan_split(format, window, input, &[])
}

#[test]
fn offsets_lines_and_columns() {
    let input = "first line\r\nname 张三 身份证 11010519491231002X\nnothing 13800138000\n";
    let found = whole(StreamFormat::Text, WINDOW, input.as_bytes());
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f.finding.kind, FindingKind::ResidentId);
    let at = input.find("1101").unwrap_or_default();
    assert_eq!(f.offset, at as u64);
    assert_eq!(f.line, 2);
    assert_eq!(
        f.column,
        (at - input.find("name").unwrap_or_default()) as u64 + 1
    );
    assert_eq!(f.redacted.as_str(), "1…X");
}

#[test]
fn every_number_in_a_line_is_reported() {
    let input = b"a 11010519491231002X b 440524188001010014 c 11010519491231002X\n";
    let found = whole(StreamFormat::Text, WINDOW, input);
    let columns: Vec<u64> = found.iter().map(|f| f.column).collect();
    assert_eq!(columns, vec![3, 24, 45]);
}

#[test]
fn labels_give_context_in_text() {
    let input = "护照号 E12345678\nE12345678\n".as_bytes();
    let found = whole(StreamFormat::Text, WINDOW, input);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].finding.kind, FindingKind::ChinesePassport);
    assert_eq!(found[0].line, 1);
}

#[test]
fn json_lines_have_paths() {
    let input = b"{\"a\":1}\n\n{\"user\":{\"idNo\":\"H12345678\"}}\nnot json 11010519491231002X\n";
    let found = whole(StreamFormat::JsonLines, WINDOW, input);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].finding.location, "$.user.idNo");
    assert_eq!(found[0].finding.kind, FindingKind::HkMacauTravelPermit);
    assert_eq!(found[0].line, 3);
    assert_eq!(found[0].column, 18);
    assert_eq!(found[0].redacted.as_str(), "H…8");
    assert_eq!(found[1].finding.location, "(text)");
    assert_eq!(found[1].line, 4);
}

#[test]
fn a_long_line_is_scanned_in_windows() {
    // Numbers around every window edge, with a label reaching across one.
    let mut line = vec![b'a'; 1000];
    let id = b"11010519491231002X";
    for at in [0usize, 50, 60, 63, 64, 100, 127, 128, 129, 200] {
        line[at * 3 + 10..at * 3 + 10 + 1].copy_from_slice(b" ");
    }
    let mut at = 5;
    let mut expected = Vec::new();
    while at + 20 < line.len() {
        line[at - 1] = b' ';
        line[at..at + 18].copy_from_slice(id);
        line[at + 18] = b' ';
        expected.push(at as u64);
        at += 37;
    }
    let found = whole(StreamFormat::Text, 64, &line);
    let offsets: Vec<u64> = found.iter().map(|f| f.offset).collect();
    assert_eq!(offsets, expected);
}

#[test]
fn memory_stays_bounded() {
    let mut s = scanner(StreamFormat::Text, WINDOW);
    let mut out = Vec::new();
    let chunk = vec![b'7'; 4096];
    for _ in 0..1024 {
        s.feed(&chunk, &mut out);
        assert!(s.pending.len() <= WINDOW + OVERLAP + CONTEXT + 4 + chunk.len());
    }
    s.finish(&mut out);
    assert!(out.is_empty());
    assert_eq!(s.bytes(), 4096 * 1024);
    assert_eq!(s.lines(), 1);
}

#[test]
fn invalid_utf8_keeps_offsets() {
    let input = b"\xff\xfe GBK \xc9\xed 11010519491231002X\n";
    let found = whole(StreamFormat::Text, WINDOW, input);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].offset, 10);
}

/// Pieces the generated inputs are made of: numbers of every kind, labels, separators, line
/// breaks, CJK and invalid bytes.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"11010519491231002X".to_vec()),
        Just(b"440524188001010014".to_vec()),
        Just(b"810000199001010019".to_vec()),
        Just(b"110105 1949 1231 002X".to_vec()),
        Just(b"110101********1233".to_vec()),
        Just("身份证".as_bytes().to_vec()),
        Just("护照 E12345678".as_bytes().to_vec()),
        Just(b"passport G12345678".to_vec()),
        Just(b"{\"idNo\":\"110105491231002\",\"name\":\"x\"}".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b" ".to_vec()),
        Just(b"-".to_vec()),
        Just("张三".as_bytes().to_vec()),
        Just(b"\xff\xc3".to_vec()),
        "[0-9]{1,20}".prop_map(String::into_bytes),
        "[a-zA-Z ]{1,30}".prop_map(String::into_bytes),
    ]
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(piece(), 0..60).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn splitting_anywhere_finds_the_same(
        input in input(),
        cuts in prop::collection::vec(0usize..2000, 0..12),
        json in any::<bool>(),
        window in prop_oneof![Just(WINDOW), 32usize..200],
    ) {
        let format = if json { StreamFormat::JsonLines } else { StreamFormat::Text };
        let mut cuts = cuts;
        cuts.sort_unstable();
        let expected = whole(format, window, &input);
        let split = scan_split(format, window, &input, &cuts);
        prop_assert_eq!(split, expected);
    }

    #[test]
    fn byte_by_byte_finds_the_same(input in input(), json in any::<bool>()) {
        let format = if json { StreamFormat::JsonLines } else { StreamFormat::Text };
        let cuts: Vec<usize> = (0..input.len()).collect();
        prop_assert_eq!(scan_split(format, 40, &input, &cuts), whole(format, 40, &input));
    }

    #[test]
    fn windows_find_what_a_whole_line_scan_finds(input in input()) {
        // On text mode, small windows must give the findings of one window over the line.
        let small = whole(StreamFormat::Text, 48, &input);
        let large = whole(StreamFormat::Text, WINDOW, &input);
        prop_assert_eq!(small, large);
    }
}

#[test]
fn redaction_keeps_first_and_last_only() {
    assert_eq!(Redacted::of("11010519491231002X").as_str(), "1…X");
    assert_eq!(Redacted::of("王小明").as_str(), "王…");
    assert_eq!(Redacted::of("张三").as_str(), "张…");
    assert_eq!(Redacted::of("x").as_str(), "…");
    assert_eq!(Redacted::of("").as_str(), "…");
    assert_eq!(Redacted::of(" 1990-01-01 ").as_str(), "1…1");
    assert_eq!(
        format!("{:?}", Redacted::of("E12345678")),
        "Redacted(\"E…8\")"
    );
}

#[test]
fn remembered_key_classes_follow_the_vocabulary() {
    // The JSON-lines scanner remembers key classes across lines, per thread and per
    // vocabulary: a detector with another vocabulary must not see the first one's answers.
    let body = br#"{"memberCode":"A-1"}"#;
    let plain = Detector::new();
    let extended = Detector::new().add_field_names(["memberCode"]);
    for _ in 0..2 {
        assert!(plain.locate_json(body).unwrap_or_default().is_empty());
        let found = extended.locate_json(body).unwrap_or_default();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].finding.kind, FindingKind::IdentityFieldName);
    }
}

/// Pieces of JSON-like and log-like lines for comparing the quick path with the matcher alone:
/// identity values, look-alikes (wrong check characters, 16-digit runs, phone numbers), labels
/// of both scripts and cases, identity and neutral field names, escapes and exponents.
fn line_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"{\"idNo\":\"".to_vec()),
        Just(b"{\"id_card\":".to_vec()),
        Just(b"\"name\":\"".to_vec()),
        Just(b"\"userName\":\"x\",".to_vec()),
        Just(b"\"creditCode\":\"".to_vec()),
        Just(b"{\"uid\":".to_vec()),
        Just(b"\"note\":\"".to_vec()),
        Just(b"\"phone\":\"13812345678\"".to_vec()),
        Just(b"\"birthday\":{\"year\":1990}".to_vec()),
        Just(b"\",".to_vec()),
        Just(b"\"}".to_vec()),
        Just(b"}".to_vec()),
        Just(b":".to_vec()),
        Just(b"11010519491231002X".to_vec()),
        Just(b"11010519491231002".to_vec()),
        Just(b"110105194912310021".to_vec()),
        Just(b"1101051949123100".to_vec()),
        Just(b"91350100M000100Y43".to_vec()),
        Just(b"110105 1949 1231 002x".to_vec()),
        Just(b"110105_19491231_002X".to_vec()),
        Just(b"110101********1233".to_vec()),
        Just(b"1.1010519491231002e17".to_vec()),
        Just(b"1e17".to_vec()),
        Just(b"\\u0031\\u0031".to_vec()),
        Just(b"\\\"idNo\\\":\\\"".to_vec()),
        Just(b"PASSPORT G12345678".to_vec()),
        Just(b"Id No 110105491231002".to_vec()),
        Just(b"e12345678".to_vec()),
        Just(b"H12345678".to_vec()),
        Just(b"0561682001(D)".to_vec()),
        Just("身份证".as_bytes().to_vec()),
        Just("台胞证".as_bytes().to_vec()),
        Just("居住证".as_bytes().to_vec()),
        Just("１１０１０５".as_bytes().to_vec()),
        Just(b"*".to_vec()),
        Just(b"\n".to_vec()),
        Just(b" ".to_vec()),
        Just(b"-".to_vec()),
        Just(b".".to_vec()),
        "[0-9]{1,20}".prop_map(String::into_bytes),
        "[a-zA-Z ]{1,12}".prop_map(String::into_bytes),
    ]
}

/// Scans with the quick test (`fast`) or with the matcher on every line.
fn scan_path(format: StreamFormat, fast: bool, input: &[u8], cuts: &[usize]) -> Vec<Located> {
    let mut s = scanner(format, WINDOW);
    s.fast = fast;
    let mut out = Vec::new();
    let mut at = 0;
    for &cut in cuts {
        let cut = cut.clamp(at, input.len());
        s.feed(&input[at..cut], &mut out);
        at = cut;
    }
    s.feed(&input[at..], &mut out);
    s.finish(&mut out);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn the_quick_path_finds_what_the_matcher_finds(
        input in prop::collection::vec(line_piece(), 0..40).prop_map(|p| p.concat()),
        cuts in prop::collection::vec(0usize..600, 0..8),
        json in any::<bool>(),
    ) {
        let format = if json { StreamFormat::JsonLines } else { StreamFormat::Text };
        let mut cuts = cuts;
        cuts.sort_unstable();
        // The matcher alone, on the whole input; the quick path, split anywhere (field names
        // and numbers cut across chunks).
        let plain = scan_path(format, false, &input, &[]);
        let fast = scan_path(format, true, &input, &cuts);
        prop_assert_eq!(fast, plain);
    }
}

#[test]
fn the_quick_path_reads_key_value_objects_and_document_context_as_the_matcher_does() {
    // Found by merging the quick test with the key/value reading: neither line has an
    // identity-bearing key, yet both hold identity data.
    for line in [
        &br#"{"id":7,"attrs":[{"key":"realName","value":"Zhang Wei"}]}
"#[..],
        &br#"{"value":"110105491231002","label":"idNo"}
"#[..],
        &br#"{"docNo":"110105491231002"}
"#[..],
    ] {
        let fast = scan_path(StreamFormat::JsonLines, true, line, &[]);
        assert_eq!(fast, scan_path(StreamFormat::JsonLines, false, line, &[]));
        assert_eq!(fast.len(), 1, "{}", String::from_utf8_lossy(line));
    }
    // A label member alone, or a value member alone, is not a key/value object: still quiet.
    let plain = br#"{"name":"Bob","note":"hello"}
{"value":"12","unit":"kg"}
"#;
    assert!(scan_path(StreamFormat::JsonLines, true, plain, &[]).is_empty());
}

#[test]
fn the_quick_path_skips_nothing_of_a_known_corpus_line() {
    // A line of benches' corpus with a valid ID under idNo, and one with a wrong check
    // character in free text: both paths agree, and the first is found.
    let line = br#"{"ts":"2026-01-05T01:02:03.004Z","level":"INFO","order":"20240001234567","user":{"uid":12345678,"phone":"13812345678","idNo":"11010519491231002X"},"amount":12.34,"note":"ref 110105194912310021 checked"}
"#;
    for format in [StreamFormat::Text, StreamFormat::JsonLines] {
        let fast = scan_path(format, true, line, &[]);
        assert_eq!(fast, scan_path(format, false, line, &[]));
        assert_eq!(fast.len(), 1, "{format:?}");
        assert_eq!(fast[0].finding.kind, FindingKind::ResidentId);
    }
}

/// A JSON line: an object of generated fields, some nested, with identity and neutral keys and
/// values made of identity numbers, look-alikes and words.
fn json_line() -> impl Strategy<Value = Vec<u8>> {
    let key = prop_oneof![
        Just("idNo"),
        Just("name"),
        Just("uid"),
        Just("note"),
        Just("phone"),
        Just("creditCode"),
        Just("passport"),
        Just("ts"),
        Just("order"),
        // Key/value objects (a field named in a label member's value) and `docNo`, whose
        // class gives a 15-digit number context.
        Just("key"),
        Just("value"),
        Just("label"),
        Just("content"),
        Just("docNo"),
    ];
    let text = prop_oneof![
        Just("realName".to_owned()),
        Just("idNo".to_owned()),
        Just("Zhang Wei".to_owned()),
        Just("110105491231002".to_owned()),
        Just("11010519491231002X".to_owned()),
        Just("110105194912310021".to_owned()),
        Just("810000199801234563".to_owned()),
        Just("91350100M000100Y43".to_owned()),
        Just("110105 1949 1231 002x".to_owned()),
        Just("ref 110105-19491231-002X ok".to_owned()),
        Just("passport E12345678".to_owned()),
        Just("身份证 440524188001010014".to_owned()),
        Just("110101********1233".to_owned()),
        Just("\\u0031\\u0031".to_owned()),
        Just("13812345678".to_owned()),
        "[0-9]{1,20}",
        "[a-z ]{0,12}",
    ];
    let value = prop_oneof![
        prop::collection::vec(text, 1..4).prop_map(|t| format!("\"{}\"", t.concat())),
        Just("1e17".to_owned()),
        Just("1.1010519491231002e17".to_owned()),
        Just("110105194912310021".to_owned()),
        Just("440524188001010014".to_owned()),
        Just("12.5".to_owned()),
        "[1-9][0-9]{0,19}",
    ];
    let field = (key, value).prop_map(|(k, v)| format!("\"{k}\":{v}"));
    prop::collection::vec((field, any::<bool>()), 1..6).prop_map(|fields| {
        let mut line = String::from("{");
        for (i, (f, nest)) in fields.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            if *nest {
                line.push_str(&format!("\"user\":{{{f}}}"));
            } else {
                line.push_str(f);
            }
        }
        line.push_str("}\n");
        line.into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn the_quick_path_finds_what_the_matcher_finds_in_json_lines(
        lines in prop::collection::vec(json_line(), 1..8).prop_map(|l| l.concat()),
        cuts in prop::collection::vec(0usize..1000, 0..8),
    ) {
        let mut cuts = cuts;
        cuts.sort_unstable();
        for format in [StreamFormat::JsonLines, StreamFormat::Text] {
            let plain = scan_path(format, false, &lines, &[]);
            let fast = scan_path(format, true, &lines, &cuts);
            prop_assert_eq!(fast, plain);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn a_quiet_record_has_no_findings(
        values in prop::collection::vec(
            prop::collection::vec(line_piece(), 0..8).prop_map(|p| String::from_utf8_lossy(&p.concat()).into_owned()),
            1..4,
        ),
        names in prop::collection::vec(
            prop_oneof![Just("note"), Just("name"), Just("creditCode"), Just("idNo"), Just("body")],
            4,
        ),
        percent in any::<bool>(),
    ) {
        let det = Detector::new();
        let mut values = values;
        if percent {
            values.push("%31%31%30%31%30%35%31%39%34%39%31%32%33%31%30%30%32%58".to_owned());
        }
        let fields: Vec<(&str, &str)> = values
            .iter()
            .zip(names.iter().cycle())
            .map(|(v, n)| (*n, v.as_str()))
            .collect();
        let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
        let vals: Vec<&str> = fields.iter().map(|(_, v)| *v).collect();
        if det.quiet_record(&names, &vals) {
            prop_assert!(det.locate_fields(&fields).is_empty(), "{fields:?}");
        }
        prop_assert_eq!(
            det.quiet_record(&names, &vals),
            det.quiet_record(&names, &[]) && det.quiet_values(&vals)
        );
    }
}

#[test]
fn quiet_records() {
    let det = Detector::new();
    assert!(det.quiet_record(
        &["body"],
        &["order 12 shipped to desk 3, signed by recipient"]
    ));
    // A JSON text is read as JSON (keys and all), an escape may be decoded again.
    assert!(!det.quiet_record(&["body"], &[r#"{"idNo":"x"}"#]));
    assert!(!det.quiet_record(&["body"], &["%31%31"]));
    assert!(!det.quiet_record(&["full_name"], &["x"]));
    // A number split across lines is one number to the matcher.
    assert!(!det.quiet_record(&["body"], &["110105\n19491231002X"]));
    assert!(
        !det.locate_fields(&[("body", "110105\n19491231002X")])
            .is_empty()
    );
}

/// Lines written against the 64-byte quick pass: a key whose `:` follows white space (a space,
/// a tab), a key hidden by an escape, a key/value object, a number split by spaces, a label or
/// key starting at the last byte of a block or crossing into the next, a `":"` string before a
/// key, an exponent, masking stars. Every one is found as the matcher alone finds it, whole or
/// split at every byte of its first 130.
#[test]
fn hostile_json_lines_take_the_matcher_where_they_must() {
    let pad = |n: usize| "a".repeat(n);
    let lines = [
        (r#"{"idNo" : "110105194912310028"}"#.to_owned(), 1),
        (
            "{\"a\":\"x\",\"idNo\"\t:\"110105194912310028\"}".to_owned(),
            1,
        ),
        (r#"{"id\u004eo":"110105194912310028"}"#.to_owned(), 1),
        (r#"{"key":"realName","value":"x"}"#.to_owned(), 1),
        (r#"{"k":"v","x":"110105 19491231 002X"}"#.to_owned(), 1),
        (r#"{"a":":","idNo":"110105194912310028"}"#.to_owned(), 1),
        (r#"{"docNo":"110105491231002"}"#.to_owned(), 1),
        // The key's closing quote the last byte of the first block, its `:` the next block's
        // first; a label split across blocks the same way.
        (
            format!(r#"{{"p":"{}","idNo":"110105194912310028"}}"#, pad(49)),
            1,
        ),
        (
            format!(r#"{{"p":"{}","idNo":"110105194912310028"}}"#, pad(50)),
            1,
        ),
        (format!(r#"{{"p":"{} passport G12345678"}}"#, pad(56)), 1),
        (
            format!(r#"{{"p":"{}","passport":"G12345678"}}"#, pad(54)),
            1,
        ),
        (format!(r#"{{"p":"{} 11010519491231002X"}}"#, pad(50)), 1),
        (r#"{"n":1.10105194912310028e17}"#.to_owned(), 0),
        (r#"{"note":"***"}"#.to_owned(), 0),
    ];
    // The edges the padded lines aim at: byte 63 is the last of the first block.
    assert_eq!(&lines[8].0.as_bytes()[63..65], b"\":");
    assert_eq!(&lines[9].0.as_bytes()[63..65], b"pa");
    assert_eq!(&lines[10].0.as_bytes()[63..65], b"pa");
    for (line, expected) in &lines {
        let mut input = line.clone().into_bytes();
        input.push(b'\n');
        let plain = scan_path(StreamFormat::JsonLines, false, &input, &[]);
        assert_eq!(plain.len(), *expected, "{line}");
        for cut in 0..input.len().min(130) {
            let fast = scan_path(StreamFormat::JsonLines, true, &input, &[cut]);
            assert_eq!(fast, plain, "{line} cut at {cut}");
        }
    }
}
