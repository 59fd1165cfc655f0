use super::*;

fn kinds(scan: &Scan) -> Vec<(String, FindingKind, Confidence)> {
    scan.findings
        .iter()
        .map(|f| (f.location.clone(), f.kind, f.confidence))
        .collect()
}

#[test]
fn civil_dates() {
    assert_eq!(civil_date(0), 1970_01_01);
    assert_eq!(civil_date(11_016), 2000_02_29);
    assert_eq!(civil_date(20_454), 2026_01_01);
    // 2026-06-30T16:00:00Z is 2026-07-01 in China Standard Time.
    assert_eq!(today_at(1_782_835_200), 2026_07_01);
    assert_eq!(today_at(1_782_835_199), 2026_06_30);
    assert_eq!(today_at(0), 9999_12_31);
}

/// A resident ID number (Beijing, Chaoyang) born on `yyyymmdd`, with its check character.
fn resident_id_born(yyyymmdd: &str) -> String {
    let d17 = format!("110105{yyyymmdd}002");
    let check = rules::mod11_check(d17.as_bytes()) as char;
    format!("{d17}{check}")
}

#[test]
fn a_birth_date_after_today_by_the_detectors_clock_is_no_id_number() {
    use crate::clock::ManualClock;
    // Born 2026-07-01: an ID number from that day on, not the day before (UTC+8).
    let id = resident_id_born("20260701");
    let body = format!(r#"{{"ref":"{id}"}}"#);
    let clock = Arc::new(ManualClock::new(1_782_835_199));
    let d = Detector::new().clock(clock.clone());
    let found = |d: &Detector| {
        d.scan_json(body.as_bytes())
            .unwrap()
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::ResidentId && f.confidence == Confidence::Checked)
    };
    assert!(!found(&d));
    clock.advance(1);
    assert!(found(&d));
}

#[test]
fn json_paths_and_order() {
    let d = Detector::new();
    let body = br#"{"a":[1,{"cert":"11010519491231002X"}],"idNo":"x","b":{"c":null}}"#;
    let scan = d.scan_json(body).unwrap();
    assert_eq!(
        kinds(&scan),
        vec![
            (
                "$.a[1].cert".to_owned(),
                FindingKind::ResidentId,
                Confidence::Checked
            ),
            (
                "$.idNo".to_owned(),
                FindingKind::IdentityFieldName,
                Confidence::Contextual
            ),
        ]
    );
}

#[test]
fn strict_json() {
    let d = Detector::new();
    for bad in [
        &b"{"[..],
        b"[1,]",
        b"{\"a\" 1}",
        b"01",
        b"1.",
        b"-",
        b"\"\\x\"",
        b"\"\\ud800\"",
        b"\"\\udc00\"",
        b"\"a\nb\"",
        b"{} {}",
        b"tru",
        b"\xef\xbb\xbf{}",
        b"{\"a\":1,}",
    ] {
        assert!(
            matches!(d.scan_json(bad), Err(ScanError::InvalidJson { .. })),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    assert!(matches!(
        d.scan_json(b"\"\xff\""),
        Err(ScanError::InvalidUtf8 { offset: 1 })
    ));
    assert!(d.scan_json(b"").unwrap().is_clean());
    assert!(d.scan_json(b" \n").unwrap().is_clean());
    assert!(d.scan_json(br#""\ud83d\ude00""#).unwrap().is_clean());
    assert!(
        d.scan_json(br#"[1e5,-0.5E-3,true,false,null,{}]"#)
            .unwrap()
            .is_clean()
    );
}

#[test]
fn depth_limit() {
    let d = Detector::new().max_depth(3);
    assert!(d.scan_json(b"[[[1]]]").is_ok());
    assert_eq!(
        d.scan_json(b"[[[[1]]]]"),
        Err(ScanError::JsonTooDeep { max: 3 })
    );
    let deep = "[".repeat(100_000);
    assert!(matches!(
        Detector::new().scan_json(deep.as_bytes()),
        Err(ScanError::JsonTooDeep { max: 32 })
    ));
}

#[test]
fn escaped_keys_and_values_are_decoded() {
    let d = Detector::new();
    let scan = d
        .scan_json(br#"{"id\u004eo":"abc","r":"\u0031\u0031010519491231002X"}"#)
        .unwrap();
    assert_eq!(scan.findings.len(), 2);
    assert_eq!(scan.findings[0].location, "$.idNo");
    assert_eq!(scan.findings[1].kind, FindingKind::ResidentId);
}

#[test]
fn form_decoding_is_strict() {
    let d = Detector::new();
    assert_eq!(
        d.scan_form(b"a=%zz"),
        Err(ScanError::InvalidForm { offset: 2 })
    );
    assert_eq!(
        d.scan_form(b"a=%4"),
        Err(ScanError::InvalidForm { offset: 2 })
    );
    assert!(matches!(
        d.scan_form(b"a=%ff"),
        Err(ScanError::InvalidUtf8 { .. })
    ));
    assert!(d.scan_form(b"&&a&=b&").unwrap().is_clean());
}

#[test]
fn splice_replaces_spans() {
    assert_eq!(splice(b"abcdef", &[1..2, 3..5], b"X"), b"aXcXf");
    assert_eq!(splice(b"abc", &[], b"X"), b"abc");
}

#[test]
fn limits() {
    let d = Detector::new().max_body(4);
    assert_eq!(
        d.scan_json(b"[1,2]"),
        Err(ScanError::BodyTooLarge { len: 5, max: 4 })
    );
    assert!(d.scan_query("?a=12").is_ok());
    assert!(d.scan_query("?a=123").is_err());
}

/// The rule a result token's `sub` is held to (protocol v1 §4.3.2).
#[test]
fn identity_numbers_in_identifiers() {
    // GB 11643's check characters, worked out by hand from the weights 7 9 10 5 8 4 2 1 6 3 7 9
    // 10 5 8 4 2: 11010519491231002 → X; 11010520991231001 → 0.
    for text in [
        "11010519491231002X",
        "11010519491231002x",
        "pw_11010519491231002X",
        "pw_11010519491231002Xabc",
        "110105-19491231-002X",
        "pw_110105_1949_1231_002X",
        // Born in 2099: no date test, so the verdict does not change with the day.
        "110105209912310010",
        "abc110105209912310010def",
    ] {
        assert!(holds_identity_number(text), "{text}");
    }
    for text in [
        "pw_3Jk8Qm2ZxV7nR4tYw9LbC1Ae6Ud0Hs",
        // The check character is wrong (X is right).
        "110105194912310021",
        // Part of a longer number.
        "1110105209912310010",
        "11010519491231002X7",
        // Too short.
        "1101052099123100",
        "",
    ] {
        assert!(!holds_identity_number(text), "{text}");
    }
    // What the detector blocks is refused too: a passport number behind an ASCII label.
    assert!(!check_character_number("passport-E12345678"));
    assert!(holds_identity_number("passport-E12345678"));
}

#[test]
fn whole_numbers_from_fractions_and_exponents() {
    let mut out = String::new();
    for (text, want) in [
        ("1.1010519491231002e17", Some("110105194912310020")),
        ("4.40524188001010014E+17", Some("440524188001010014")),
        ("-4.40524188001010014e17", Some("440524188001010014")),
        ("440524188001010014.000", Some("440524188001010014")),
        ("0.0", Some("0")),
        ("0e5", Some("0")),
        ("1e5", Some("100000")),
        ("12500e-2", Some("125")),
        ("1e40", None),
        ("1e39", Some("1000000000000000000000000000000000000000")),
        ("12.5", None),
        ("1e-400", None),
        ("1e99999999999999999999", None),
        ("1.5e-1", None),
    ] {
        let whole = json::whole_number_digits(text, &mut out);
        assert_eq!(whole.then_some(out.as_str()), want, "{text}");
    }
}

#[test]
fn key_value_objects_are_read_by_their_label() {
    let d = Detector::new();
    let field = |body: &str| -> Vec<(String, FieldName)> {
        d.scan_json(body.as_bytes())
            .unwrap()
            .findings
            .iter()
            .filter(|f| f.is_blocking())
            .map(|f| (f.location.clone(), f.field))
            .collect()
    };
    // Label first, value first, Chinese label, nested value, escaped value.
    assert_eq!(
        field(r#"{"f":[{"key":"realName","value":"张伟"}]}"#),
        [("$.f[0].value".to_owned(), FieldName::Name)]
    );
    assert_eq!(
        field(r#"[{"value":"110105491231002","name":"idNo"}]"#),
        [("$[0].value".to_owned(), FieldName::IdNumber)]
    );
    assert_eq!(
        field(r#"{"label":"出生日期","content":"1990-03-07"}"#),
        [("$.content".to_owned(), FieldName::BirthDate)]
    );
    assert_eq!(
        field(r#"{"attrName":"passportNo","attrValue":{"n":"E12345678"}}"#),
        [("$.attrValue.n".to_owned(), FieldName::IdNumber)]
    );
    assert_eq!(
        field(r#"{"v":"\u5f20\u4f1f","k":"xm"}"#),
        [("$.v".to_owned(), FieldName::Name)]
    );
    // The label is a field name, not a person's `name` beside identity data.
    assert_eq!(field(r#"{"name":"idNo","value":"x1"}"#).len(), 1);
    // Labels that name nothing identity-bearing, and members that are neither, change nothing.
    for clean in [
        r#"{"key":"color","value":"红色"}"#,
        r#"{"name":"idCardVerified","value":true}"#,
        r#"{"type":"birthday","value":"2024-06-01"}"#,
        r#"{"key":"realName","note":"张伟"}"#,
        r#"{"key":"realName"}"#,
        r#"[{"key":"realName"},{"value":"张伟"}]"#,
        r#"{"key":"realName","value":""}"#,
    ] {
        assert!(d.scan_json(clean.as_bytes()).unwrap().is_clean(), "{clean}");
    }
}

#[test]
fn doc_no_gives_context_to_the_15_digit_id_only() {
    let d = Detector::new();
    assert!(
        d.scan_json(br#"{"docNo":"110105491231002"}"#)
            .unwrap()
            .should_block()
    );
    assert!(
        d.scan_form(b"doc_no=110105491231002")
            .unwrap()
            .should_block()
    );
    for voucher in [
        r#"{"docNo":"SO-20240517-0001"}"#,
        r#"{"docNo":"20240517"}"#,
        r#"{"DOC_NUMBER":"E20240517"}"#,
        r#"{"docNoPrefix":"110105491231002"}"#,
    ] {
        assert!(
            d.scan_json(voucher.as_bytes()).unwrap().is_clean(),
            "{voucher}"
        );
    }
}

#[test]
fn key_value_pairs_spelled_as_form_keys() {
    let d = Detector::new();
    let scan = d
        .scan_form("f[0][key]=realName&f[0][value]=%E5%BC%A0%E4%BC%9F".as_bytes())
        .unwrap();
    assert_eq!(scan.findings.len(), 1, "{scan:?}");
    assert_eq!(scan.findings[0].field, FieldName::Name);
    assert!(
        d.scan_query("a.1.value=110105491231002&a.1.name=idNo")
            .unwrap()
            .should_block()
    );
    // Another prefix, or a label naming nothing, changes nothing.
    for clean in [
        "f[0][key]=realName&f[1][value]=bob",
        "f[0][key]=color&f[0][value]=red",
    ] {
        assert!(d.scan_form(clean.as_bytes()).unwrap().is_clean(), "{clean}");
    }
}
