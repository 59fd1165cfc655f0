//! The plaintext-identity detector (Art. 7 §2): each kind with positive and negative examples,
//! normalisation, locations, redaction, a measured false-positive rate, and no panics or leaks.

use netid::Actor;
use netid::ErrorCode;
use netid::detect::{Confidence, Detector, Finding, FindingKind, PermitRegion, Scan, ScanError};
use netid::model::{FieldName, IdDocumentType};
use proptest::prelude::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Independent implementations of the two checks, to build test numbers and to prove that the
// look-alikes used below really pass the check they are meant to pass.

fn mod11(d17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = d17
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    "10X98765432".as_bytes()[(sum % 11) as usize] as char
}

fn with_check(d17: &str) -> String {
    format!("{d17}{}", mod11(d17))
}

fn uscc_check(c17: &str) -> char {
    const C: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let sum: usize = c17
        .chars()
        .zip(W)
        .map(|(c, w)| C.find(c).unwrap() * w)
        .sum();
    C.as_bytes()[(31 - sum % 31) % 31] as char
}

fn uscc_valid(code: &str) -> bool {
    code.len() == 18 && code.ends_with(uscc_check(&code[..17]))
}

fn luhn_valid(n: &str) -> bool {
    let sum: u32 = n
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = c.to_digit(10).unwrap();
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The standard's own examples.
const ID_A: &str = "11010519491231002X";
const ID_B: &str = "440524188001010014";

fn det() -> Detector {
    Detector::new()
}

fn json_value(key: &str, value: &str) -> Scan {
    det()
        .scan_json(json!({ key: value }).to_string().as_bytes())
        .unwrap()
}

fn only(scan: &Scan) -> (FindingKind, Confidence) {
    assert_eq!(scan.findings.len(), 1, "{scan:?}");
    (scan.findings[0].kind, scan.findings[0].confidence)
}

fn clean(scan: &Scan, what: &str) {
    assert!(scan.is_clean(), "{what}: {scan:?}");
}

// ---------------------------------------------------------------------------------------------
// Kinds with a check character.

#[test]
fn standard_examples_are_checked_resident_ids() {
    assert_eq!(with_check("11010519491231002"), ID_A);
    assert_eq!(with_check("44052418800101001"), ID_B);
    for id in [ID_A, ID_B, &ID_A.to_lowercase()] {
        for (key, value) in [
            ("orderId", id.to_owned()),
            ("remark", format!("客户身份证{id}，已核验")),
            ("note", format!("see {id} please")),
        ] {
            let scan = json_value(key, &value);
            assert_eq!(
                only(&scan),
                (FindingKind::ResidentId, Confidence::Checked),
                "{key}"
            );
            let f = &scan.findings[0];
            assert_eq!(f.location, format!("$.{key}"));
            assert_eq!(f.kind.document(), Some(IdDocumentType::ResidentIdCard));
            assert_eq!(f.field, FieldName::IdNumber);
            assert!(scan.should_block());
        }
    }
    // As a JSON number, too.
    let scan = det().scan_json(br#"{"n":440524188001010014}"#).unwrap();
    assert_eq!(only(&scan), (FindingKind::ResidentId, Confidence::Checked));
}

#[test]
fn wrong_check_digit_is_not_flagged() {
    for id in [
        "110105194912310021",
        "11010519491231002Y",
        "440524188001010015",
    ] {
        clean(&json_value("remark", id), id);
        clean(&json_value("remark", &format!("身份证 {id}")), id);
    }
    // Under an identity field it is still identity data, by the field name.
    assert_eq!(
        only(&json_value("idNo", "110105194912310021")),
        (FindingKind::IdentityFieldName, Confidence::Contextual)
    );
}

#[test]
fn dates_and_provinces_must_be_plausible() {
    for d17 in [
        "11010517991231002", // 1799
        "11010520991231002", // the future
        "11010519490230002", // 30 February
        "10010519491231002", // province 10
        "70010519491231002", // province 70
        "84010519491231002", // province 84
        "81010519491231002", // 81 without 0000
    ] {
        clean(&json_value("remark", &with_check(d17)), d17);
    }
    // Leap day, and the province ends of the range.
    for d17 in [
        "11010520000229001",
        "65010519491231002",
        "71010519491231002",
    ] {
        assert_eq!(
            only(&json_value("remark", &with_check(d17))).1,
            Confidence::Checked,
            "{d17}"
        );
    }
}

#[test]
fn residence_permits() {
    for (d17, region, doc) in [
        (
            "81000019900101002",
            PermitRegion::HongKong,
            IdDocumentType::HkMacauResidencePermit,
        ),
        (
            "82000019850615002",
            PermitRegion::Macau,
            IdDocumentType::HkMacauResidencePermit,
        ),
        (
            "83000020000229003",
            PermitRegion::Taiwan,
            IdDocumentType::TaiwanResidencePermit,
        ),
    ] {
        let id = with_check(d17);
        assert!(
            !uscc_valid(&id),
            "pick numbers that are not also credit codes"
        );
        let scan = json_value("remark", &id);
        assert_eq!(
            only(&scan),
            (FindingKind::ResidencePermit(region), Confidence::Checked)
        );
        assert_eq!(scan.findings[0].kind.document(), Some(doc));
        assert_eq!(scan.findings[0].kind.as_str(), "residence_permit");
        // Wrong check character.
        let wrong = format!("{d17}{}", if id.ends_with('0') { '1' } else { '0' });
        clean(&json_value("remark", &wrong), &wrong);
    }
}

#[test]
fn foreigner_2023_form() {
    let id = with_check("91184019900101001");
    assert!(!uscc_valid(&id));
    let scan = json_value("remark", &id);
    assert_eq!(
        only(&scan),
        (
            FindingKind::ForeignPermanentResidence2023,
            Confidence::Checked
        )
    );
    assert_eq!(
        scan.findings[0].kind.document(),
        Some(IdDocumentType::ForeignPermanentResidenceCard)
    );
    // Province after the 9 must be plausible; the date must be real.
    clean(
        &json_value("remark", &with_check("90084019900101001")),
        "9+00",
    );
    clean(
        &json_value("remark", &with_check("91184019901301001")),
        "month 13",
    );
    clean(&json_value("remark", "911840199001010010"), "wrong check");
}

// ---------------------------------------------------------------------------------------------
// Normalisation.

#[test]
fn full_width_spaced_and_dashed_forms() {
    for text in [
        "１１０１０５１９４９１２３１００２Ｘ",
        "１１０１０５１９４９１２３１００２ｘ",
        "110105 1949 1231 002X",
        "110105-19491231-002X",
        "1101 0519 4912 3100 2X",
        "110105\u{3000}19491231\u{3000}002X",
        "110105\u{200b}19491231002X",
        "4405 2418 8001 0100 14",
        "证件号：４４０５２４－１８８００１０１－００１４。",
        "ordered 2024-05-17 10:30, ID 110105 1949 1231 002X, thanks",
    ] {
        assert_eq!(
            only(&json_value("remark", text)),
            (FindingKind::ResidentId, Confidence::Checked),
            "{text}"
        );
    }
    // JSON escapes are decoded before matching.
    let scan = det()
        .scan_json(br#"{"r":"\u0031\u0031\u0030105 1949 1231 002\u0058"}"#)
        .unwrap();
    assert_eq!(only(&scan).0, FindingKind::ResidentId);
}

#[test]
fn digit_boundaries() {
    for text in [
        "911010519491231002X",       // a longer run before
        "11010519491231002X7",       // a digit after the check character
        "4405241880010100145",       // 19 digits
        "14405241880010100145",      // 20 digits
        "4405241880010100140000000", // inside a longer run
    ] {
        clean(&json_value("remark", text), text);
    }
    // Letters around it are not digits.
    assert_eq!(
        only(&json_value("remark", "ID11010519491231002Xok")).0,
        FindingKind::ResidentId
    );
}

#[test]
fn percent_encoded_in_a_form_and_a_query() {
    let scan = det()
        .scan_form(b"orderId=42&remark=%E8%BA%AB%E4%BB%BD%E8%AF%81+110105%2019491231%20002X&x=")
        .unwrap();
    assert_eq!(only(&scan), (FindingKind::ResidentId, Confidence::Checked));
    assert_eq!(scan.findings[0].location, "remark");

    // Full-width digits, percent-encoded.
    let fw: String = ID_B
        .chars()
        .map(|c| {
            let full = char::from_u32(c as u32 + 0xfee0).unwrap();
            let mut b = [0; 4];
            full.encode_utf8(&mut b)
                .bytes()
                .map(|x| format!("%{x:02X}"))
                .collect::<String>()
        })
        .collect();
    let scan = det().scan_query(&format!("?page=2&q={fw}")).unwrap();
    assert_eq!(only(&scan), (FindingKind::ResidentId, Confidence::Checked));
    assert_eq!(scan.findings[0].location, "q");

    let scan = det().scan_query("user%5BidNo%5D=110105491231002").unwrap();
    assert_eq!(
        only(&scan),
        (FindingKind::LegacyResidentId, Confidence::Contextual)
    );
    assert_eq!(scan.findings[0].location, "user[idNo]");

    clean(
        &det()
            .scan_query("page=2&sort=desc&ts=1700000000000")
            .unwrap(),
        "plain query",
    );
}

// ---------------------------------------------------------------------------------------------
// Locations.

#[test]
fn nested_json_paths() {
    let body = json!({
        "data": {"users": [
            {"id": 1},
            {"profile": {"cert": ID_A, "my-key": ID_B}},
        ]},
        "items": [[{"sfzh": "x"}]],
        ID_A: true,
        "a\"b\u{1}": ID_B,
    });
    let scan = det().scan_json(body.to_string().as_bytes()).unwrap();
    let mut locations: Vec<_> = scan.findings.iter().map(|f| f.location.as_str()).collect();
    locations.sort_unstable();
    assert_eq!(
        locations,
        vec![
            r#"$.data.users[1].profile.cert"#,
            r#"$.data.users[1].profile["my-key"]"#,
            r#"$.items[0][0].sfzh"#,
            r#"$["<18 bytes>"]"#,
            r#"$["<4 bytes>"]"#,
        ]
    );
    // Keys that are people's names are not shown; known Chinese field names are.
    let body = json!({"李四": {"身份证号": ID_A}});
    let scan = det().scan_json(body.to_string().as_bytes()).unwrap();
    assert_eq!(scan.findings[0].location, r#"$["<6 bytes>"].身份证号"#);
    // A top-level scalar is at `$`.
    let scan = det().scan_json(format!("\"{ID_A}\"").as_bytes()).unwrap();
    assert_eq!(scan.findings[0].location, "$");
    // Findings come in document order.
    let scan = det()
        .scan_json(format!(r#"{{"b":"{ID_B}","a":"{ID_A}"}}"#).as_bytes())
        .unwrap();
    assert_eq!(scan.findings[0].location, "$.b");
    assert_eq!(scan.findings[1].location, "$.a");
}

#[test]
fn identity_context_is_inherited_by_nested_values() {
    let body = json!({"idCard": {"number": "110105491231002", "front": "img-1"},
                      "idNo": ["E12345678", ""]});
    let scan = det().scan_json(body.to_string().as_bytes()).unwrap();
    let got: Vec<_> = scan
        .findings
        .iter()
        .map(|f| (f.location.as_str(), f.kind))
        .collect();
    assert_eq!(
        got,
        vec![
            // Any string under an identity field is identity data (a photo reference too).
            ("$.idCard.front", FindingKind::IdentityFieldName),
            ("$.idCard.number", FindingKind::LegacyResidentId),
            ("$.idNo[0]", FindingKind::ChinesePassport),
        ]
    );
    // Numbers and booleans under one count only when they match a pattern.
    clean(
        &det()
            .scan_json(br#"{"idCard":{"type":1,"verified":true,"images":[]}}"#)
            .unwrap(),
        "numbers under an identity field",
    );
    let scan = det()
        .scan_json(br#"{"realName":{"first":"San","last":"Zhang"}}"#)
        .unwrap();
    assert_eq!(scan.findings.len(), 2);
    assert!(scan.findings.iter().all(|f| f.field == FieldName::Name));
}

// ---------------------------------------------------------------------------------------------
// Report-only kinds.

#[test]
fn masked_ids_are_reported_not_blocking() {
    for (key, value) in [
        ("remark", "110101********1233"),
        ("remark", "证件号 1101**********123X 已脱敏"),
        ("remark", "110***********1233"),
        ("remark", "110101*****1233"),
        ("idNo", "110101********1233"),
        ("realName", "张*"),
        ("idNo", "1************3"),
    ] {
        let scan = json_value(key, value);
        assert_eq!(
            only(&scan),
            (FindingKind::MaskedId, Confidence::Report),
            "{key}={value}"
        );
        assert!(!scan.should_block());
        assert!(scan.blocking().is_empty());
        assert!(!scan.is_clean());
    }
    // Masked phone numbers and short star runs are nothing.
    clean(&json_value("phone", "138****8000"), "masked phone");
    clean(&json_value("remark", "rating ***** 12"), "stars");
}

#[test]
fn uscc_that_also_passes_the_id_check_is_ambiguous() {
    // All-digit strings that pass both checks, found by construction.
    let both: Vec<String> = ["11010519491231", "91184019900101"]
        .iter()
        .map(|prefix| {
            (0..1000)
                .map(|seq| format!("{prefix}{seq:03}"))
                .map(|d17| with_check(&d17))
                .find(|id| uscc_valid(id))
                .unwrap()
        })
        .collect();
    for id in &both {
        assert!(uscc_valid(id) && id.ends_with(mod11(&id[..17])));
        assert_eq!(
            only(&json_value("orderId", id)),
            (FindingKind::Ambiguous, Confidence::Report),
            "{id}"
        );
        assert_eq!(only(&json_value("idNo", id)).1, Confidence::Checked, "{id}");
        assert_eq!(
            only(&json_value("remark", &format!("身份证号 {id}"))).1,
            Confidence::Checked
        );
        clean(&json_value("creditCode", id), id);
    }
    assert_eq!(
        only(&json_value("remark", &both[1])).0,
        FindingKind::Ambiguous
    );
    assert_eq!(
        only(&json_value("zjhm", &both[1])).0,
        FindingKind::ForeignPermanentResidence2023
    );
}

// ---------------------------------------------------------------------------------------------
// Look-alikes.

#[test]
fn look_alikes_are_not_flagged() {
    let uscc = "91350100M000100Y43";
    assert!(uscc_valid(uscc), "the sample code's GB 32100 check");
    // All-digit codes with a valid GB 32100 check that fail MOD 11-2, under neutral names.
    let digit_uscc: Vec<String> = (0..200_000u32)
        .map(|n| format!("9111000060{n:07}"))
        .filter(|c17| uscc_check(c17).is_ascii_digit())
        .map(|c17| format!("{c17}{}", uscc_check(&c17)))
        .filter(|code| !code.ends_with(mod11(&code[..17])))
        .take(3)
        .collect();
    assert_eq!(digit_uscc.len(), 3);
    let card = (0..10)
        .map(|d| format!("622202100112345678{d}"))
        .find(|c| luhn_valid(c))
        .unwrap();
    let mut cases: Vec<(&str, String)> = vec![
        ("phone", "13800138000".into()),
        ("mobile", "+86 138 0013 8000".into()),
        ("remark", "call 13912345678 or 15800001111".into()),
        ("uscc", uscc.into()),
        ("remark", format!("统一社会信用代码 {uscc}")),
        ("createdAt", "1700000000".into()),
        ("createdAtMs", "1700000000000".into()),
        ("amount", "12345678.90".into()),
        ("cardNo", card.clone()),
        ("bankCard", "6222 0210 0112 3456 789".into()),
        ("orderId", "1790123456789012345".into()),
        ("traceId", "4bf92f3577b34da6a3ce929d0e0e4736".into()),
        ("remark", "订单 20240517103000123 已发货".into()),
        ("code", "H12345678".into()),
        ("remark", "E12345678 M12345678 12345678".into()),
        ("orderNo", "110105491231002".into()),
        ("name", "张三".into()),
        ("date", "2024-05-17T10:30:00+08:00".into()),
    ];
    for code in &digit_uscc {
        cases.push(("creditCode", code.clone()));
        cases.push(("orderId", code.clone()));
    }
    for (key, value) in &cases {
        clean(&json_value(key, value), &format!("{key}={value}"));
    }
    // Numbers as JSON numbers.
    clean(
        &det()
            .scan_json(br#"{"ts":1700000000000,"amount":1234567.5,"phone":13800138000,"big":1790123456789012345}"#)
            .unwrap(),
        "numbers",
    );
    // A card number with a valid MOD 11-2 ID inside is an ID.
    assert_eq!(only(&json_value("cardNo", ID_B)).0, FindingKind::ResidentId);
}

// ---------------------------------------------------------------------------------------------
// Kinds that need context.

#[test]
fn legacy_15_digit_needs_a_field_name_or_label() {
    let legacy = "110105491231002";
    clean(&json_value("orderNo", legacy), "neutral");
    clean(
        &json_value("remark", &format!("编号 {legacy}")),
        "neutral label",
    );
    for (key, value) in [
        ("idNo", legacy.to_owned()),
        ("gmsfhm", legacy.to_owned()),
        ("SFZH", legacy.to_owned()),
        ("remark", format!("身份证：{legacy}")),
        ("remark", format!("ID No. {legacy}")),
        ("remark", "证件号码 110105 491231 002".to_owned()),
    ] {
        let scan = json_value(key, &value);
        assert_eq!(
            only(&scan),
            (FindingKind::LegacyResidentId, Confidence::Contextual),
            "{key}={value}"
        );
        assert_eq!(
            scan.findings[0].kind.document(),
            Some(IdDocumentType::ResidentIdCard)
        );
    }
    // The date must be valid (19491331); the field name still flags it.
    clean(&json_value("remark", "身份证 110105491331002"), "bad date");
    assert_eq!(
        only(&json_value("idNo", "110105491331002")).0,
        FindingKind::IdentityFieldName
    );
}

#[test]
fn passports_need_context() {
    for p in [
        "E12345678",
        "EA1234567",
        "G12345678",
        "PE1234567",
        "SE1234567",
        "DE1234567",
    ] {
        clean(&json_value("code", p), p);
        for key in ["passportNo", "hzhm", "passport_no", "zjhm"] {
            let scan = json_value(key, p);
            assert_eq!(
                only(&scan),
                (FindingKind::ChinesePassport, Confidence::Contextual),
                "{key}={p}"
            );
            assert_eq!(
                scan.findings[0].kind.document(),
                Some(IdDocumentType::PassportSettledAbroad)
            );
        }
        assert_eq!(
            only(&json_value("remark", &format!("护照号码：{p}"))).0,
            FindingKind::ChinesePassport
        );
        assert_eq!(
            only(&json_value("remark", &format!("Passport No: {p}"))).0,
            FindingKind::ChinesePassport
        );
    }
    // Not the passport form: under the field it is still identity data, elsewhere nothing.
    for not in ["EI1234567", "EO1234567", "E1234567", "X12345678"] {
        assert_eq!(
            only(&json_value("passportNo", not)).0,
            FindingKind::IdentityFieldName
        );
        clean(&json_value("remark", &format!("护照 {not}")), not);
    }
    // A passport label does not make a permit number a passport.
    clean(&json_value("remark", "护照 H12345678"), "label kind");
}

#[test]
fn travel_permits_need_context() {
    for (p, kind) in [
        ("H12345678", FindingKind::HkMacauTravelPermit),
        ("M12345678", FindingKind::HkMacauTravelPermit),
        ("H1234567801", FindingKind::HkMacauTravelPermit),
        ("HA1234567", FindingKind::HkMacauTravelPermit),
        ("12345678", FindingKind::TaiwanTravelPermit),
        ("0561682001(D)", FindingKind::TaiwanTravelPermit),
    ] {
        clean(&json_value("code", p), p);
        let scan = json_value("certNo", p);
        assert_eq!(only(&scan), (kind, Confidence::Contextual), "{p}");
        assert!(scan.findings[0].kind.document().is_some());
        assert_eq!(
            only(&json_value("remark", &format!("通行证号码 {p}"))).0,
            kind,
            "{p}"
        );
    }
    assert_eq!(
        only(&json_value("remark", "台胞证：12345678")).0,
        FindingKind::TaiwanTravelPermit
    );
    assert_eq!(
        only(&json_value("remark", "回乡证 M12345678")).0,
        FindingKind::HkMacauTravelPermit
    );
    // Labels too far away do not count.
    clean(
        &json_value(
            "remark",
            "通行证已过期，请于三十日内携带材料到窗口办理，单号 12345678",
        ),
        "far label",
    );
}

#[test]
fn foreigner_2017_form_needs_context() {
    let p = "USA110019900101";
    clean(&json_value("sku", p), p);
    let scan = json_value("zjhm", p);
    assert_eq!(
        only(&scan),
        (
            FindingKind::ForeignPermanentResidence2017,
            Confidence::Contextual
        )
    );
    assert_eq!(
        only(&json_value("remark", &format!("永久居留证 {p}"))).0,
        FindingKind::ForeignPermanentResidence2017
    );
}

// ---------------------------------------------------------------------------------------------
// Field names.

#[test]
fn identity_field_names() {
    for (key, field) in [
        ("idCard", FieldName::IdNumber),
        ("ID_CARD", FieldName::IdNumber),
        ("id-card-number", FieldName::IdNumber),
        ("certNo", FieldName::IdNumber),
        ("cred_id", FieldName::IdNumber),
        ("gmsfhm", FieldName::IdNumber),
        ("身份证号", FieldName::IdNumber),
        ("realName", FieldName::Name),
        ("real_name", FieldName::Name),
        ("trueName", FieldName::Name),
        ("xm", FieldName::Name),
        ("certName", FieldName::Name),
        ("csrq", FieldName::BirthDate),
        ("certType", FieldName::IdType),
        ("zjlx", FieldName::IdType),
    ] {
        let scan = json_value(key, "某值");
        assert_eq!(
            only(&scan),
            (FindingKind::IdentityFieldName, Confidence::Contextual),
            "{key}"
        );
        assert_eq!(scan.findings[0].field, field, "{key}");
        assert_eq!(scan.findings[0].kind.document(), None);
        clean(&json_value(key, ""), key);
        clean(&json_value(key, "  "), key);
        clean(
            &det()
                .scan_json(json!({ key: null, "x": true }).to_string().as_bytes())
                .unwrap(),
            key,
        );
    }
    // A number under a type field.
    assert_eq!(
        only(&det().scan_json(br#"{"certType":1}"#).unwrap()).0,
        FindingKind::IdentityFieldName
    );
    for key in [
        "nickname",
        "userName",
        "idempotencyKey",
        "orderId",
        "video_id",
    ] {
        clean(&json_value(key, "张三"), key);
    }
}

#[test]
fn name_only_beside_an_id_field() {
    clean(&json_value("name", "张三"), "name alone");
    clean(
        &det()
            .scan_json(
                json!({"name": "张三", "phone": "13800138000", "idNo": ""})
                    .to_string()
                    .as_bytes(),
            )
            .unwrap(),
        "empty id beside",
    );
    let body = json!({"orders": [{"name": "张三", "idNo": ID_A}, {"name": "Acme", "sku": "x"}],
                      "name": "top"});
    let scan = det().scan_json(body.to_string().as_bytes()).unwrap();
    let got: Vec<_> = scan
        .findings
        .iter()
        .map(|f| (f.location.as_str(), f.kind, f.field))
        .collect();
    assert_eq!(
        got,
        vec![
            // `json!` sorts keys: idNo comes first in the body.
            (
                "$.orders[0].idNo",
                FindingKind::ResidentId,
                FieldName::IdNumber
            ),
            (
                "$.orders[0].name",
                FindingKind::IdentityFieldName,
                FieldName::Name
            ),
        ]
    );
    // Beside an identity field whose value is an object or array with identity data.
    let body = json!({"Name": "张三", "idCard": {"no": ID_B}});
    let scan = det().scan_json(body.to_string().as_bytes()).unwrap();
    assert_eq!(scan.findings[0].location, "$.Name");
    // Forms and multipart fields: the whole body is one object.
    let scan = det()
        .scan_form(format!("name=%E5%BC%A0%E4%B8%89&sfzh={ID_A}").as_bytes())
        .unwrap();
    assert_eq!(scan.findings.len(), 2);
    assert_eq!(scan.findings[0].location, "name");
    clean(
        &det().scan_form(b"name=Zhang&city=Beijing").unwrap(),
        "form name alone",
    );
    let scan = det().scan_fields([("name", "张三"), ("file_note", ID_A)]);
    assert_eq!(scan.findings.len(), 2);
}

#[test]
fn custom_field_names() {
    let d = Detector::new().with_field_names(["memberCode", "pid"]);
    let scan = d
        .scan_json(br#"{"member_code":"abc","idNo":"abc","PID":"E12345678"}"#)
        .unwrap();
    let got: Vec<_> = scan
        .findings
        .iter()
        .map(|f| (f.location.as_str(), f.kind))
        .collect();
    assert_eq!(
        got,
        vec![
            ("$.member_code", FindingKind::IdentityFieldName),
            ("$.PID", FindingKind::ChinesePassport),
        ]
    );
    // Checked numbers are found whatever the names.
    assert_eq!(
        only(
            &d.scan_json(format!(r#"{{"idNo":"{ID_A}"}}"#).as_bytes())
                .unwrap()
        )
        .0,
        FindingKind::ResidentId
    );
    let d = Detector::new().add_field_names(["memberCode"]);
    assert_eq!(
        d.scan_json(br#"{"memberCode":"a","idNo":"b"}"#)
            .unwrap()
            .findings
            .len(),
        2
    );
}

#[test]
fn multipart_text_parts() {
    let d = det();
    assert_eq!(
        only(&d.scan_text(Some("passportNo"), "E12345678")),
        (FindingKind::ChinesePassport, Confidence::Contextual)
    );
    assert_eq!(
        d.scan_text(Some("passportNo"), "E12345678").findings[0].location,
        "passportNo"
    );
    clean(&d.scan_text(Some("comment"), "E12345678"), "no context");
    let scan = d.scan_text(None, &format!("上传说明：本人身份证 {ID_A}"));
    assert_eq!(only(&scan).0, FindingKind::ResidentId);
    assert_eq!(scan.findings[0].location, "(text)");
    let scan = d.scan_text(Some(ID_A), "x");
    assert_eq!(scan.findings[0].location, "<18 bytes>");
    // A part named after a person is not shown; a known Chinese field name is.
    let scan = d.scan_text(Some("张三"), ID_A);
    assert_eq!(scan.findings[0].location, "<6 bytes>");
    let scan = d.scan_text(Some("身份证号"), "E12345678");
    assert_eq!(scan.findings[0].location, "身份证号");
}

// ---------------------------------------------------------------------------------------------
// Field vocabulary (issue 11): compound names in every case style, bracket and array forms,
// keys at any depth, birth dates, a name beside a masked ID, and the look-alikes that must stay
// clean. The vocabulary and its reasons are in docs/DETECTOR.md.

/// A 15-digit legacy ID: found only with context, so a finding proves the key gave it.
const LEGACY: &str = "110105491231002";

/// Keys whose value is a document number: a legacy ID under them is a legacy ID.
const NUMBER_KEYS: &[&str] = &[
    "idNo",
    "identityNo",
    "identity_number",
    "passportNumber",
    "passport",
    "PASSPORT_NO",
    "permitNo",
    "documentNumber",
    "document-number",
    "id_card_no",
    "ID-CARD",
    "IDCardNo",
    "idcardno",
    "id.card.no",
    "userIdCard",
    "holderIdNo",
    "legalPersonIdNo",
    "custidcard",
    "nationalId",
    "certificateNumber",
    "sfzh",
    "sfzhm",
    "SFZJH",
    "gmsfhm",
    "zjhm",
    "khsfzh",
    "hzhm",
    "身份证号",
    "身份证号码",
    "证件号码",
    "护照号",
    "客户身份证号",
    "乘客证件号",
    "idCard2",
    "idNo[]",
    "idNo[0]",
    "user[idCardNo]",
    "user.idCardNo",
];

/// Keys whose value is a person's legal name.
const NAME_KEYS: &[&str] = &[
    "realName",
    "fullName",
    "full_name",
    "legalName",
    "userRealName",
    "user_real_name",
    "USER_REAL_NAME",
    "user-real-name",
    "UserRealName",
    "userrealname",
    "chineseName",
    "trueName",
    "certName",
    "idCardName",
    "realNamePinyin",
    "realName[]",
    "realName[0]",
    "user[realName]",
    "user.realName",
    "xm",
    "XM",
    "姓名",
    "真实姓名",
    "乘客姓名",
];

/// Keys whose value is a birth date.
const BIRTH_KEYS: &[&str] = &[
    "birthday",
    "Birthday",
    "birthDate",
    "birth_date",
    "BIRTH-DATE",
    "dateOfBirth",
    "date_of_birth",
    "dob",
    "DOB",
    "userBirthday",
    "birthYear",
    "csrq",
    "出生日期",
    "出生年月",
    "生日",
    "user[birthday]",
    "profile.dob",
];

/// Keys whose value is a document type.
const TYPE_KEYS: &[&str] = &[
    "certType",
    "idType",
    "idCardType",
    "id_doc_type",
    "zjlx",
    "证件类型",
];

#[test]
fn compound_keys_are_flagged() {
    for key in NUMBER_KEYS {
        let scan = json_value(key, LEGACY);
        assert_eq!(
            only(&scan),
            (FindingKind::LegacyResidentId, Confidence::Contextual),
            "{key}"
        );
        assert_eq!(scan.findings[0].field, FieldName::IdNumber, "{key}");
    }
    for (keys, value, field) in [
        (NAME_KEYS, "张三", FieldName::Name),
        (BIRTH_KEYS, "1990-01-01", FieldName::BirthDate),
        (TYPE_KEYS, "1", FieldName::IdType),
    ] {
        for key in keys {
            let scan = json_value(key, value);
            assert_eq!(
                only(&scan),
                (FindingKind::IdentityFieldName, Confidence::Contextual),
                "{key}"
            );
            assert_eq!(scan.findings[0].field, field, "{key}");
        }
    }
    // A passport under a compound key is a passport.
    assert_eq!(
        only(&json_value("applicantPassportNumber", "E12345678")).0,
        FindingKind::ChinesePassport
    );
    // Numbers too (`{"birthYear":1990}`, `{"certType":1}`).
    assert_eq!(
        only(&det().scan_json(br#"{"birthYear":1990}"#).unwrap()).1,
        Confidence::Contextual
    );
}

#[test]
fn compound_keys_in_forms_queries_and_multipart() {
    for (body, location) in [
        ("realName%5B%5D=%E5%BC%A0%E4%B8%89", "realName[]"),
        ("realName[]=%E5%BC%A0%E4%B8%89", "realName[]"),
        ("realName[0]=%E5%BC%A0%E4%B8%89", "realName[0]"),
        ("user[realName]=%E5%BC%A0%E4%B8%89", "user[realName]"),
        ("user.realName=%E5%BC%A0%E4%B8%89", "user.realName"),
        ("form[user][fullName]=Zhang+San", "form[user][fullName]"),
        ("dateOfBirth=1990-01-01", "dateOfBirth"),
        ("idCard[front]=img-1", "idCard[front]"),
    ] {
        let scan = det().scan_form(body.as_bytes()).unwrap();
        assert_eq!(scan.findings.len(), 1, "{body}: {scan:?}");
        assert!(scan.should_block(), "{body}");
        assert_eq!(scan.findings[0].location, location);
        let scan = det().scan_query(&format!("?{body}")).unwrap();
        assert!(scan.should_block(), "query {body}");
    }
    let scan = det().scan_query(&format!("permitNo={LEGACY}")).unwrap();
    assert_eq!(only(&scan).0, FindingKind::LegacyResidentId);
    let scan = det().scan_fields([("legal_name", "张三"), ("note", "hi")]);
    assert_eq!(scan.findings[0].location, "legal_name");
    let scan = scan_mp(&[(
        &["Content-Disposition: form-data; name=\"user[birthDate]\""],
        b"1990-01-01",
    )]);
    assert_eq!(
        located(&scan),
        vec![("user[birthDate]", FindingKind::IdentityFieldName)]
    );
}

#[test]
fn keys_at_any_depth() {
    let body = json!({"a": {"b": [{"c": {"userRealName": "张三", "profile": {"dob": "1990-01-01"}}}]},
                      "list": [[{"passportNo": "E12345678"}]]});
    let scan = det().scan_json(body.to_string().as_bytes()).unwrap();
    let got: Vec<_> = scan
        .findings
        .iter()
        .map(|f| (f.location.as_str(), f.field))
        .collect();
    assert_eq!(
        got,
        vec![
            ("$.a.b[0].c.profile.dob", FieldName::BirthDate),
            ("$.a.b[0].c.userRealName", FieldName::Name),
            ("$.list[0][0].passportNo", FieldName::IdNumber),
        ]
    );
    // A Chinese compound key is found, but shown only when nothing stands before its term: the
    // words before could be a person's name.
    let scan = json_value("张三身份证号", LEGACY);
    assert_eq!(only(&scan).0, FindingKind::LegacyResidentId);
    assert_eq!(scan.findings[0].location, r#"$["<18 bytes>"]"#);
    assert_eq!(
        json_value("身份证号码", LEGACY).findings[0].location,
        "$.身份证号码"
    );
    // A birth date in parts: numbers under a birth-date field count, as strings do.
    let scan = det()
        .scan_json(br#"{"birthday":{"year":1990,"month":1,"day":1},"idCard":{"type":1}}"#)
        .unwrap();
    assert_eq!(scan.findings.len(), 3, "{scan:?}");
    assert!(
        scan.findings
            .iter()
            .all(|f| f.field == FieldName::BirthDate)
    );
    let scan = det().scan_form(b"dob=%5B1990%2C1%2C1%5D").unwrap();
    assert!(scan.should_block(), "{scan:?}");
    // A dotted key in JSON is one key, read as a path.
    let scan = json_value("user.idCard.number", LEGACY);
    assert_eq!(only(&scan).0, FindingKind::LegacyResidentId);
    assert_eq!(scan.findings[0].location, r#"$["user.idCard.number"]"#);
}

#[test]
fn look_alike_keys_are_not_flagged() {
    for key in [
        "username",
        "userName",
        "nickname",
        "nickName",
        "displayName",
        "fileName",
        "filename",
        "hostname",
        "productName",
        "companyLegalName",
        "orderId",
        "order_id",
        "id",
        "ID",
        "idempotencyKey",
        "identifier",
        "identity",
        "uuid",
        "birthdayGreeting",
        "birthday_coupon",
        "birthPlace",
        "idCardVerified",
        "realNameStatus",
        "passportExpiry",
        "isRealName",
        "hasIdCard",
        "cardNo",
        "bankCardNo",
        "prepaidCardNo",
        "validNo",
        "credentialId",
        "cert",
        "xmlns",
        "xmmc",
        "adobe",
        "remark",
        "身份证有效期",
        "生日祝福",
        "出生地",
    ] {
        for value in ["张三", "E12345678", LEGACY, "1990-01-01"] {
            clean(&json_value(key, value), &format!("{key}={value}"));
        }
        let form = format!("{key}=E12345678");
        clean(&det().scan_form(form.as_bytes()).unwrap(), &form);
    }
    // Ordinary traffic with these keys side by side.
    let body = json!({"orderId": "202405170001", "username": "lucky_cat", "nickname": "小明",
                      "fileName": "a.png", "birthdayGreeting": "生日快乐", "idempotencyKey": "k-1",
                      "identifier": "u-42", "displayName": "Mia", "hostname": "api.example.com"});
    clean(
        &det().scan_json(body.to_string().as_bytes()).unwrap(),
        "ordinary body",
    );
}

#[test]
fn a_name_beside_a_masked_id_is_identity_data() {
    let body = json!({"name": "张三", "idNo": "110101********1233"});
    let scan = det().scan_json(body.to_string().as_bytes()).unwrap();
    let got: Vec<_> = scan
        .findings
        .iter()
        .map(|f| (f.location.as_str(), f.kind, f.confidence))
        .collect();
    assert_eq!(
        got,
        vec![
            ("$.idNo", FindingKind::MaskedId, Confidence::Report),
            (
                "$.name",
                FindingKind::IdentityFieldName,
                Confidence::Contextual
            ),
        ]
    );
    // A masked number in free text counts too, and so do `userName`, `lastName`.
    let body = json!({"userName": "张三", "remark": "证件号 1101**********123X 已脱敏"});
    let scan = det().scan_json(body.to_string().as_bytes()).unwrap();
    assert!(scan.should_block());
    assert_eq!(scan.blocking()[0].location, "$.userName");
    // A masked name beside a masked number is reported, not blocking.
    let body = json!({"name": "张*", "idNo": "110101********1233"});
    let scan = det().scan_json(body.to_string().as_bytes()).unwrap();
    assert!(!scan.should_block(), "{scan:?}");
    assert_eq!(scan.findings.len(), 2);
    let scan = det()
        .scan_json(br#"{"name":"\u5f20\u002a","idNo":"110101********1233"}"#)
        .unwrap();
    assert!(!scan.should_block(), "escaped: {scan:?}");
    // Beside a masked number nested under an identity field, in a form, across multipart parts.
    let body = json!({"lastName": "Zhang", "idCard": {"no": "110101********1233"}});
    assert!(
        det()
            .scan_json(body.to_string().as_bytes())
            .unwrap()
            .should_block()
    );
    let scan = det()
        .scan_form("name=%E5%BC%A0%E4%B8%89&sfzh=110101********1233".as_bytes())
        .unwrap();
    assert_eq!(scan.blocking()[0].location, "name");
    let scan = scan_mp(&[
        (
            &["Content-Disposition: form-data; name=\"name\""],
            "张三".as_bytes(),
        ),
        (
            &[&file("doc", "a.json"), "Content-Type: application/json"],
            br#"{"idNo":"110101********1233"}"#,
        ),
    ]);
    assert_eq!(scan.blocking()[0].location, "name");
    // Without a masked number or an ID, a name is nothing.
    clean(
        &det()
            .scan_json(br#"{"name":"Acme","remark":"rating ***** 12"}"#)
            .unwrap(),
        "no masked number",
    );
}

#[test]
fn the_vocabulary_can_be_extended_and_narrowed() {
    let d = Detector::new()
        .add_field_names(["memberCertCode", "会员证件号"])
        .add_field_names_as(FieldName::BirthDate, ["shengri"])
        .add_field_names_as(FieldName::Name, ["legalPersonName"])
        .ignore_field_names(["documentNumber"]);
    for (key, value, kind, field) in [
        (
            "vip_member_cert_code",
            LEGACY,
            FindingKind::LegacyResidentId,
            FieldName::IdNumber,
        ),
        (
            "会员证件号",
            LEGACY,
            FindingKind::LegacyResidentId,
            FieldName::IdNumber,
        ),
        (
            "user[shengri]",
            "1990-01-01",
            FindingKind::IdentityFieldName,
            FieldName::BirthDate,
        ),
        (
            "legalPersonName",
            "张三",
            FindingKind::IdentityFieldName,
            FieldName::Name,
        ),
    ] {
        let scan = d
            .scan_json(json!({ key: value }).to_string().as_bytes())
            .unwrap();
        assert_eq!(only(&scan).0, kind, "{key}");
        assert_eq!(scan.findings[0].field, field, "{key}");
    }
    // Followed by other words, an added name is about something else.
    clean(
        &d.scan_json(br#"{"memberCertCodeVerified":"yes"}"#).unwrap(),
        "tail",
    );
    // Ignored: the name does not count, a checked number still does.
    for key in ["documentNumber", "document_number", "order[documentNumber]"] {
        clean(
            &d.scan_json(json!({ key: "INV-2024-0001" }).to_string().as_bytes())
                .unwrap(),
            key,
        );
        assert_eq!(
            only(
                &d.scan_json(json!({ key: ID_A }).to_string().as_bytes())
                    .unwrap()
            )
            .0,
            FindingKind::ResidentId
        );
    }
    assert!(
        d.scan_json(br#"{"passengerDocumentNumber":"x"}"#)
            .unwrap()
            .should_block()
    );
    // The built-in detector is unchanged.
    assert!(
        det()
            .scan_json(br#"{"documentNumber":"INV-2024-0001"}"#)
            .unwrap()
            .should_block()
    );
}

// ---------------------------------------------------------------------------------------------
// Normalisation (issue 11): other separators, digits of other scripts, numbers in exponent form,
// JSON inside JSON strings.

/// `id` written in the digits of the script whose zero is `zero`; `X` stays.
fn in_script(id: &str, zero: u32) -> String {
    id.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(zero + d).unwrap(),
            None => c,
        })
        .collect()
}

#[test]
fn other_separators_are_read_through() {
    for text in [
        "110105.19491231.002X",
        "110105/1949/1231/002X",
        "110105_19491231_002X",
        "110105\t19491231\t002X",
        "110105\n19491231\n002X",
        "110105\r\n19491231\r\n002X",
        "110105     19491231          002X",
        "110105 / 19491231 / 002X",
        "1101.0519.4912.3100.2X",
        "110105 -- 19491231 -- 002X",
        "证件号\n110105\n1949\n1231\n002X",
        "110105\u{2028}19491231\u{2028}002X",
        "110105·19491231·002X",
        "110105\u{1680}19491231\u{205f}002X",
        "110105\x0c19491231\x0c002X",
        // A check character that only looks like X (Cyrillic Х, Greek Χ, Roman Ⅹ).
        "11010519491231002Х",
        "11010519491231002χ",
        "11010519491231002Ⅹ",
    ] {
        assert_eq!(
            only(&json_value("remark", text)),
            (FindingKind::ResidentId, Confidence::Checked),
            "{text:?}"
        );
    }
    // In a form and a multipart text file, the same.
    let scan = det()
        .scan_form(b"note=110105.19491231.002X&b=110105%0A19491231%0A002X")
        .unwrap();
    assert_eq!(scan.findings.len(), 2);
    let scan = scan_mp(&[(
        &[&file("roster", "a.txt"), "Content-Type: text/plain"],
        b"440524\t18800101\t0014\r\n",
    )]);
    assert_eq!(
        located(&scan),
        vec![("roster (file)", FindingKind::ResidentId)]
    );
    // A legacy number split by dots under an identity field.
    assert_eq!(
        only(&json_value("idNo", "110105.491231.002")).0,
        FindingKind::LegacyResidentId
    );
    // Look-alikes: mixed marks, more than three marks, IP addresses, dates, amounts per line.
    for text in [
        "110105.19491231-002X",
        "110105/19491231.002X",
        "110105....19491231002X",
        "192.168.100.200",
        "2024/05/17 10:30",
        "1234567.89\n2345678.90",
        "v1.2.3.4.5.6.7.8",
        "13800138000\n13912345678",
    ] {
        clean(&json_value("remark", text), &format!("{text:?}"));
    }
}

#[test]
fn digits_of_every_script_are_digits() {
    for zero in [
        0x660,   // Arabic-Indic
        0x6f0,   // Extended Arabic-Indic
        0x966,   // Devanagari
        0x9e6,   // Bengali
        0xe50,   // Thai
        0x1040,  // Myanmar
        0xff10,  // full-width
        0x1d7ce, // mathematical bold
        0x1d7ec, // mathematical sans-serif bold
        0x1fbf0, // segmented
    ] {
        let text = in_script(ID_A, zero);
        assert_eq!(
            only(&json_value("remark", &text)),
            (FindingKind::ResidentId, Confidence::Checked),
            "{zero:x}"
        );
        assert_eq!(
            only(&det().scan_text(None, &format!("身份证 {text}"))).0,
            FindingKind::ResidentId
        );
        // Escaped in JSON, percent-encoded in a form.
        let escaped: String = text.encode_utf16().map(|u| format!("\\u{u:04x}")).collect();
        let scan = det()
            .scan_json(format!(r#"{{"r":"{escaped}"}}"#).as_bytes())
            .unwrap();
        assert_eq!(only(&scan).0, FindingKind::ResidentId, "{zero:x} escaped");
        let encoded: String = text.bytes().map(|b| format!("%{b:02X}")).collect();
        let scan = det().scan_form(format!("q={encoded}").as_bytes()).unwrap();
        assert_eq!(only(&scan).0, FindingKind::ResidentId, "{zero:x} form");
        // Needing context, too.
        assert_eq!(
            only(&json_value("idNo", &in_script(LEGACY, zero))).0,
            FindingKind::LegacyResidentId
        );
    }
    // Mixed scripts in one number.
    let mixed = format!(
        "{}{}",
        in_script(&ID_A[..9], 0x660),
        in_script(&ID_A[9..], 0x966)
    );
    assert_eq!(
        only(&json_value("remark", &mixed)).0,
        FindingKind::ResidentId
    );
    // Characters that stand for one digit without being `Nd` (Numeric_Type=Digit): superscripts,
    // circled, negative circled, subscripts, with a full stop.
    for text in [
        "¹¹⁰¹⁰⁵¹⁹⁴⁹¹²³¹⁰⁰²X",
        "①①⓪①⓪⑤①⑨④⑨①②③①⓪⓪②X",
        "❶❶⓿❶⓿❺❶❾❹❾❶❷❸❶⓿⓿❷X",
        "₁₁₀₁₀₅₁₉₄₉₁₂₃₁₀₀₂X",
        "⒈⒈0⒈0⒌⒈⒐⒋⒐⒈⒉⒊⒈00⒉X",
    ] {
        assert_eq!(
            only(&json_value("remark", text)),
            (FindingKind::ResidentId, Confidence::Checked),
            "{text}"
        );
    }
    // Numerals that are not one digit each: Roman, CJK numerals, numbers of two digits.
    for text in [
        "ⅠⅠⅩⅠⅩⅤ",
        "一一〇一〇五一九四九一二三一〇〇二X",
        "⑪⓪⑤⑲④⑨⑫③①⓪⓪②X",
    ] {
        clean(&json_value("remark", text), text);
    }
}

#[test]
fn numbers_in_exponent_form_are_read_as_their_value() {
    for body in [
        r#"{"n":4.40524188001010014e17}"#,
        r#"{"n":4.40524188001010014E+17}"#,
        r#"{"n":440524188001010014.0}"#,
        r#"{"n":44052418800101001.4e1}"#,
        r#"{"n":440524188001010014000e-3}"#,
        r#"{"n":0.440524188001010014e18}"#,
        r#"[-4.40524188001010014e17]"#,
    ] {
        assert_eq!(
            only(&det().scan_json(body.as_bytes()).unwrap()),
            (FindingKind::ResidentId, Confidence::Checked),
            "{body}"
        );
    }
    // A 15-digit legacy ID (exact even as an f64) under an identity field.
    let scan = det().scan_json(br#"{"idNo":1.10105491231002e14}"#).unwrap();
    assert_eq!(only(&scan).0, FindingKind::LegacyResidentId);
    // Redaction covers the number as written.
    let (out, _) = det()
        .redact_json(br#"{"n":4.40524188001010014e17,"m":1}"#)
        .unwrap();
    assert_eq!(out, br#"{"n":"[redacted]","m":1}"#);
    // Not whole, too large, or nothing: clean.
    clean(
        &det()
            .scan_json(br#"[12345678.90,1234567890123456.78,1e400,1e-400,0.0,1.5e3,-0.5E-3,4.40524188001010014e16]"#)
            .unwrap(),
        "numbers",
    );
    // An amount under an identity field is still a value under it.
    assert_eq!(
        only(&det().scan_json(br#"{"idNo":12.5}"#).unwrap()).0,
        FindingKind::IdentityFieldName
    );
}

#[test]
fn json_inside_json_strings_is_scanned_as_json() {
    let inner = json!({"idNo": LEGACY, "name": "张三"}).to_string();
    let body = json!({"data": inner, "page": 1}).to_string();
    let scan = det().scan_json(body.as_bytes()).unwrap();
    assert_eq!(
        located(&scan),
        vec![
            ("$.data (json) $.idNo", FindingKind::LegacyResidentId),
            ("$.data (json) $.name", FindingKind::IdentityFieldName),
        ]
    );
    // Two levels, an array, and a JSON text under an identity field.
    let level2 = json!({"payload": json!([{"passportNo": "E12345678"}]).to_string()}).to_string();
    let body = json!({"outer": {"msg": level2}}).to_string();
    let scan = det().scan_json(body.as_bytes()).unwrap();
    assert_eq!(
        located(&scan),
        vec![(
            "$.outer.msg (json) $.payload (json) $[0].passportNo",
            FindingKind::ChinesePassport
        )]
    );
    let body = json!({"idCard": json!({"front": "img-1"}).to_string()}).to_string();
    let scan = det().scan_json(body.as_bytes()).unwrap();
    assert_eq!(
        located(&scan),
        vec![("$.idCard (json) $.front", FindingKind::IdentityFieldName)]
    );
    // A name beside a nested ID number counts.
    let body = json!({"name": "张三", "ext": json!({"sfzh": ID_A}).to_string()}).to_string();
    let scan = det().scan_json(body.as_bytes()).unwrap();
    assert_eq!(scan.findings.len(), 2);
    assert!(scan.findings.iter().any(|f| f.location == "$.name"));
    // Redaction replaces the whole string.
    let body = json!({"data": json!({"idNo": ID_A}).to_string(), "x": 1}).to_string();
    let (out, _) = det().redact_json(body.as_bytes()).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"data":"[redacted]","x":1}"#
    );
    // Text that only looks like JSON is text; JSON without identity data is clean.
    for value in [
        "{not json}",
        "[1, 2",
        "{\"a\":1} trailing",
        "[]",
        "{}",
        "[\"E12345678\"]",
    ] {
        clean(&json_value("remark", value), value);
    }
    // In a form value (Alipay's `biz_content`) and a multipart text field.
    let form = format!(
        "method=pay&biz_content={}",
        json!({"cert_no": LEGACY})
            .to_string()
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect::<String>()
    );
    let scan = det().scan_form(form.as_bytes()).unwrap();
    assert_eq!(
        located(&scan),
        vec![(
            "biz_content (json) $.cert_no",
            FindingKind::LegacyResidentId
        )]
    );
    let scan = scan_mp(&[(
        &["Content-Disposition: form-data; name=\"meta\""],
        br#"{"user":{"realName":"x"}}"#,
    )]);
    assert_eq!(
        located(&scan),
        vec![(
            "meta (json) $.user.realName",
            FindingKind::IdentityFieldName
        )]
    );
    // Nesting is bounded: the depth limit counts from the outside, and at most four levels of
    // JSON in strings are read.
    let mut nested = json!({"idNo": LEGACY}).to_string();
    for _ in 0..4 {
        nested = json!({ "s": nested }).to_string();
    }
    assert!(det().scan_json(nested.as_bytes()).unwrap().should_block());
    let deeper = json!({ "s": nested }).to_string();
    assert_eq!(
        det().scan_json(deeper.as_bytes()),
        Err(ScanError::JsonTooDeep { max: 32 })
    );
    let d = Detector::new().max_depth(3);
    let body = json!({"a": {"b": json!([[1]]).to_string()}}).to_string();
    assert_eq!(
        d.scan_json(body.as_bytes()),
        Err(ScanError::JsonTooDeep { max: 3 })
    );
}

// ---------------------------------------------------------------------------------------------
// Multipart bodies: fields and uploaded files.

/// A `multipart/form-data` body with boundary `B`: each part is its header lines and content.
fn multipart(parts: &[(&[&str], &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (headers, content) in parts {
        body.extend_from_slice(b"--B\r\n");
        for h in *headers {
            body.extend_from_slice(h.as_bytes());
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--B--\r\n");
    body
}

/// Content-Disposition of a file part.
fn file(name: &str, filename: &str) -> String {
    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"")
}

fn scan_mp(parts: &[(&[&str], &[u8])]) -> Scan {
    det().scan_multipart(&multipart(parts), "B").unwrap()
}

fn located(scan: &Scan) -> Vec<(&str, FindingKind)> {
    scan.findings
        .iter()
        .map(|f| (f.location.as_str(), f.kind))
        .collect()
}

/// Bytes that look like a PNG: its signature, then bytes that are not UTF-8, a few digits.
fn png_like() -> Vec<u8> {
    let mut b = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    for i in 0..2048u32 {
        b.push((i.wrapping_mul(2_654_435_761) >> 13) as u8);
    }
    b.extend_from_slice(b"2024:05:17 10:20:30\x00\xff");
    b
}

#[test]
fn multipart_text_files_are_scanned_and_named_by_their_field() {
    let csv = format!("name,phone,id\r\nZhang,13800138000,{ID_A}\r\n");
    let cases: Vec<(String, Option<&str>, Vec<u8>)> = vec![
        (
            file("roster", "staff.csv"),
            Some("text/csv"),
            csv.clone().into_bytes(),
        ),
        (
            file("roster", "staff.txt"),
            Some("text/plain"),
            csv.clone().into_bytes(),
        ),
        // No content type, but a file name: a file, read as text.
        (file("roster", "staff"), None, csv.clone().into_bytes()),
        (
            file("roster", "a.bin"),
            Some("application/octet-stream"),
            csv.clone().into_bytes(),
        ),
    ];
    for (disposition, content_type, content) in cases {
        let ct = content_type.map(|t| format!("Content-Type: {t}"));
        let mut headers = vec![disposition.as_str()];
        headers.extend(ct.as_deref());
        let scan = scan_mp(&[(&headers, &content)]);
        assert_eq!(
            located(&scan),
            vec![("roster (file)", FindingKind::ResidentId)],
            "{content_type:?}"
        );
        // Named by the field, never by the file name or the content.
        let shown = show(&scan);
        assert!(
            !shown.contains("staff") && !shown.contains("Zhang"),
            "{shown}"
        );
        assert_hidden(&shown, ID_A);
    }
    // The same file without an ID number is clean.
    let clean_csv = b"name,phone,order\r\nZhang,13800138000,110105194912310021\r\n";
    clean(
        &scan_mp(&[(
            &[&file("roster", "a.csv"), "Content-Type: text/csv"],
            clean_csv,
        )]),
        "phone and order id",
    );
}

#[test]
fn multipart_json_and_form_files_go_through_their_own_scanner() {
    // A passport number is found only with context: the JSON key gives it, so the JSON scanner
    // read this part (text scanning would not know `passportNo`).
    let json = br#"{"user":{"passportNo":"E12345678"}}"#;
    let scan = scan_mp(&[(
        &[&file("meta", "m.json"), "Content-Type: application/json"],
        json,
    )]);
    assert_eq!(
        located(&scan),
        vec![(
            "meta (file) $.user.passportNo",
            FindingKind::ChinesePassport
        )]
    );
    // A JSON field (no file name) and a `+json` type; UTF-16 with a byte order mark decoded.
    let mut utf16 = vec![0xff, 0xfe];
    for unit in r#"{"idNo":"E12345678"}"#.encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let scan = scan_mp(&[
        (
            &[
                "Content-Disposition: form-data; name=\"profile\"",
                "Content-Type: application/vnd.api+json",
            ],
            json,
        ),
        (
            &[&file("doc", "d.json"), "Content-Type: application/json"],
            &utf16,
        ),
    ]);
    assert_eq!(
        located(&scan),
        vec![
            ("profile $.user.passportNo", FindingKind::ChinesePassport),
            ("doc (file) $.idNo", FindingKind::ChinesePassport),
        ]
    );
    // A form file is percent-decoded by the form scanner.
    let scan = scan_mp(&[(
        &[
            &file("f", "f.txt"),
            "Content-Type: application/x-www-form-urlencoded",
        ],
        b"note=110105%2019491231002X&page=1",
    )]);
    assert_eq!(
        located(&scan),
        vec![("f (file) note", FindingKind::ResidentId)]
    );
    // An unnamed JSON part.
    let scan = scan_mp(&[(
        &["Content-Type: application/json"],
        format!(r#"{{"x":"{ID_A}"}}"#).as_bytes(),
    )]);
    assert_eq!(
        located(&scan),
        vec![("(part) $.x", FindingKind::ResidentId)]
    );
}

#[test]
fn multipart_binary_parts_that_are_really_text_are_scanned() {
    let text = format!("身份证 {ID_A}");
    // Declared binary, bytes are UTF-8 text.
    for ct in ["application/octet-stream", "image/png", "application/pdf"] {
        let scan = scan_mp(&[(
            &[&file("upload", "x"), &format!("Content-Type: {ct}")],
            text.as_bytes(),
        )]);
        assert_eq!(
            located(&scan),
            vec![("upload (file)", FindingKind::ResidentId)],
            "{ct}"
        );
    }
    // UTF-16LE with a byte order mark: decoded, so the Chinese label gives the 15-digit legacy
    // number its context.
    let mut utf16 = vec![0xff, 0xfe];
    for unit in "身份证：110105491231002".encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let scan = scan_mp(&[(&[&file("u", "a.txt"), "Content-Type: text/plain"], &utf16)]);
    assert_eq!(
        located(&scan),
        vec![("u (file)", FindingKind::LegacyResidentId)]
    );
    // UTF-16 without a byte order mark, declared binary: the NULs between the digits go.
    let no_bom: Vec<u8> = ID_A.bytes().flat_map(|b| [b, 0]).collect();
    let scan = scan_mp(&[(
        &[&file("u", "a"), "Content-Type: application/octet-stream"],
        &no_bom,
    )]);
    assert_eq!(located(&scan), vec![("u (file)", FindingKind::ResidentId)]);
    // A GBK `.csv` (身份证号,姓名 in GBK): not UTF-8, read lossily; the digits are ASCII.
    let mut gbk = b"\xc9\xed\xb7\xdd\xd6\xa4\xba\xc5,\xd0\xd5\xc3\xfb\r\n".to_vec();
    gbk.extend_from_slice(format!("{ID_B},x\r\n").as_bytes());
    let scan = scan_mp(&[(&[&file("u", "a.csv"), "Content-Type: text/csv"], &gbk)]);
    assert_eq!(located(&scan), vec![("u (file)", FindingKind::ResidentId)]);
}

#[test]
fn multipart_binary_parts_cannot_be_inspected_but_pass_only_when_nothing_shows() {
    let png = png_like();
    assert!(std::str::from_utf8(&png).is_err());
    // A photo passes: nothing in its bytes is identity data (an ID card in the pixels would not
    // be found either; that is the platform's duty).
    for ct in [
        "image/png",
        "image/jpeg",
        "application/pdf",
        "application/zip",
    ] {
        clean(
            &scan_mp(&[(
                &[&file("avatar", "me.png"), &format!("Content-Type: {ct}")],
                &png,
            )]),
            ct,
        );
    }
    // An ID number in ASCII inside binary bytes is still found.
    let mut with_id = png.clone();
    with_id.extend_from_slice(format!("\x00{ID_A}\x00").as_bytes());
    let scan = scan_mp(&[(
        &[&file("avatar", "me.png"), "Content-Type: image/png"],
        &with_id,
    )]);
    assert_eq!(
        located(&scan),
        vec![("avatar (file)", FindingKind::ResidentId)]
    );
    // Any non-empty file under an identity-bearing field name is identity data, as any value is.
    let scan = scan_mp(&[(
        &[&file("idCard", "front.jpg"), "Content-Type: image/jpeg"],
        &png,
    )]);
    assert_eq!(
        located(&scan),
        vec![("idCard (file)", FindingKind::IdentityFieldName)]
    );
    // An empty file input (browsers send `filename=""`) is nothing.
    clean(
        &scan_mp(&[(
            &[
                &file("idCard", ""),
                "Content-Type: application/octet-stream",
            ],
            b"",
        )]),
        "empty file",
    );
}

#[test]
fn multipart_file_names_and_headers_are_scanned_never_shown() {
    let png = png_like();
    let scan = scan_mp(&[(
        &[
            &file("avatar", &format!("{ID_A}.jpg")),
            "Content-Type: image/jpeg",
        ],
        &png,
    )]);
    assert_eq!(
        located(&scan),
        vec![("avatar (filename)", FindingKind::ResidentId)]
    );
    // RFC 8187 `filename*`, percent-encoded.
    let scan = scan_mp(&[(
        &[
            &format!(
                "Content-Disposition: form-data; name=\"a\"; filename*=UTF-8''%E8%BA%AB%E4%BB%BD%E8%AF%81{ID_B}.png"
            ),
            "Content-Type: image/png",
        ],
        &png,
    )]);
    assert_eq!(
        located(&scan),
        vec![("a (filename)", FindingKind::ResidentId)]
    );
    // Another part header.
    let scan = scan_mp(&[(
        &[
            "Content-Disposition: form-data; name=\"a\"",
            &format!("X-Note: {ID_A}"),
        ],
        b"hello",
    )]);
    assert_eq!(
        located(&scan),
        vec![("a (header)", FindingKind::ResidentId)]
    );
    assert_hidden(&show(&scan), ID_A);
}

#[test]
fn multipart_name_counts_beside_an_id_in_any_part() {
    let name = "Content-Disposition: form-data; name=\"name\"";
    // Beside an ID number in a text file.
    let scan = scan_mp(&[
        (&[name], "张三".as_bytes()),
        (
            &[&file("doc", "a.txt"), "Content-Type: text/plain"],
            ID_A.as_bytes(),
        ),
    ]);
    assert_eq!(
        located(&scan),
        vec![
            ("name", FindingKind::IdentityFieldName),
            ("doc (file)", FindingKind::ResidentId)
        ]
    );
    // Beside one in a JSON file.
    let scan = scan_mp(&[
        (&[name], "张三".as_bytes()),
        (
            &[&file("doc", "a.json"), "Content-Type: application/json"],
            format!(r#"{{"x":"{ID_A}"}}"#).as_bytes(),
        ),
    ]);
    assert_eq!(
        located(&scan),
        vec![
            ("name", FindingKind::IdentityFieldName),
            ("doc (file) $.x", FindingKind::ResidentId)
        ]
    );
    // Alone, or beside a clean file, a name is not identity data.
    clean(
        &scan_mp(&[
            (&[name], "张三".as_bytes()),
            (
                &[&file("doc", "a.txt"), "Content-Type: text/plain"],
                b"hello",
            ),
        ]),
        "name beside a clean file",
    );
}

#[test]
fn multipart_limits_and_malformed_bodies() {
    let d = Detector::new().max_depth(4).max_body(4096);
    let code = |r: Result<Scan, ScanError>| r.unwrap_err().code();
    let json_part = |content: &[u8]| {
        multipart(&[(
            &[&file("j", "j.json"), "Content-Type: application/json"],
            content,
        )])
    };
    // The body limit counts the whole body.
    let big = multipart(&[(&[&file("f", "f.txt")], &vec![b'x'; 5000])]);
    assert_eq!(code(d.scan_multipart(&big, "B")), "detect.body_too_large");
    // The depth limit holds inside a JSON file.
    assert_eq!(
        code(d.scan_multipart(&json_part(b"[[[[[1]]]]]"), "B")),
        "detect.json_too_deep"
    );
    // A malformed JSON file is refused as a JSON body is, at an offset in the whole body.
    let body = json_part(format!(r#"{{"x":"{ID_A}" "#).as_bytes());
    match d.scan_multipart(&body, "B").unwrap_err() {
        ScanError::InvalidJson { offset } => assert!(offset > 60 && offset < body.len()),
        e => panic!("{e:?}"),
    }
    assert_eq!(
        code(d.scan_multipart(&json_part(b"{\"a\":\"\xff\"}"), "B")),
        "detect.invalid_utf8"
    );
    // A text field must be UTF-8; a text file need not be.
    let field = multipart(&[(
        &["Content-Disposition: form-data; name=\"a\""],
        b"\xff\xfe\xfd",
    )]);
    assert_eq!(code(d.scan_multipart(&field, "B")), "detect.invalid_utf8");
    let file_part = multipart(&[(
        &[&file("a", "a.txt"), "Content-Type: text/plain"],
        b"\xff\xfe\xfd",
    )]);
    assert!(d.scan_multipart(&file_part, "B").unwrap().is_clean());
    // A base64 part would hide its content: refused.
    let b64 = multipart(&[(
        &[&file("a", "a.txt"), "Content-Transfer-Encoding: base64"],
        b"MTEwMTA1MTk0OTEyMzEwMDJY",
    )]);
    assert_eq!(
        code(d.scan_multipart(&b64, "B")),
        "detect.invalid_multipart"
    );
    for broken in [
        &b"no delimiter"[..],
        b"--B\r\nContent-Disposition: form-data; name=a\r\n\r\nunterminated",
        b"--B\r\nheader without colon\r\n\r\nx\r\n--B--",
    ] {
        let e = d.scan_multipart(broken, "B").unwrap_err();
        assert_eq!(e.code(), "detect.invalid_multipart");
        assert_eq!(e.actor(), Actor::Configuration);
    }
    // Wrong boundary: nothing is a part.
    assert_eq!(
        code(d.scan_multipart(&json_part(b"{}"), "C")),
        "detect.invalid_multipart"
    );
}

// ---------------------------------------------------------------------------------------------
// Redaction.

#[test]
fn redact_json_keeps_everything_else() {
    let body = format!(
        "{{\n  \"user\": {{\"name\": \"张三\", \"idNo\": \"{ID_A}\", \"age\": 30}},\n  \"n\": 440524188001010014,\n  \"masked\": \"110101********1233\", \"ok\": [1, \"x\"]\n}}"
    );
    let (out, scan) = det().redact_json(body.as_bytes()).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(scan.findings.len(), 4);
    assert_eq!(
        out,
        "{\n  \"user\": {\"name\": \"[redacted]\", \"idNo\": \"[redacted]\", \"age\": 30},\n  \"n\": \"[redacted]\",\n  \"masked\": \"[redacted]\", \"ok\": [1, \"x\"]\n}"
    );
    // A redacted body scans clean.
    let again = det().scan_json(out.as_bytes()).unwrap();
    assert!(again.is_clean(), "{again:?}");
    let (same, scan) = det().redact_json(br#"{"a":1}"#).unwrap();
    assert!(scan.is_clean());
    assert_eq!(same, br#"{"a":1}"#);
}

#[test]
fn redact_form_and_query() {
    let (out, scan) = det()
        .redact_form(format!("a=1&idNo={ID_A}&b=%E4%BD%A0&remark=ID+{ID_B}").as_bytes())
        .unwrap();
    assert_eq!(scan.findings.len(), 2);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "a=1&idNo=%5Bredacted%5D&b=%E4%BD%A0&remark=%5Bredacted%5D"
    );
    let (out, _) = det().redact_query(&format!("?q={ID_B}&page=1")).unwrap();
    assert_eq!(out, "?q=%5Bredacted%5D&page=1");
    let (out, scan) = det().redact_query("page=1").unwrap();
    assert!(scan.is_clean());
    assert_eq!(out, "page=1");
}

// ---------------------------------------------------------------------------------------------
// Errors.

#[test]
fn errors_have_stable_codes_and_no_content() {
    let d = Detector::new().max_body(64).max_depth(4);
    let cases: Vec<(Result<Scan, ScanError>, &str)> = vec![
        (
            d.scan_json(format!("[\"{ID_A}\"{}]", " ".repeat(64)).as_bytes()),
            "detect.body_too_large",
        ),
        (d.scan_json(b"[[[[[1]]]]]"), "detect.json_too_deep"),
        (
            d.scan_json(&[&b"[\""[..], ID_A.as_bytes(), &b"\xff\"]"[..]].concat()),
            "detect.invalid_utf8",
        ),
        (
            d.scan_json(format!("[\"{ID_A}\" \"{ID_B}\"]").as_bytes()),
            "detect.invalid_json",
        ),
        (
            d.scan_form(format!("idNo={ID_A}%G0").as_bytes()),
            "detect.invalid_form",
        ),
        (
            d.scan_form(format!("idNo={ID_A}%FF").as_bytes()),
            "detect.invalid_utf8",
        ),
        (
            d.scan_query(&format!("q={ID_A}{}", "x".repeat(64))),
            "detect.body_too_large",
        ),
    ];
    for (result, code) in cases {
        let e = result.unwrap_err();
        assert_eq!(e.code(), code);
        assert_eq!(e.actor(), Actor::Configuration);
        for shown in [e.to_string(), format!("{e:?}")] {
            assert!(
                !shown.contains("1949") && !shown.contains("4405"),
                "{shown}"
            );
        }
    }
}

#[test]
fn detector_is_cheap_to_share() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Detector>();
    assert_send_sync::<Scan>();
    assert_send_sync::<ScanError>();
    let d = Detector::default();
    let d2 = d.clone();
    std::thread::spawn(move || d2.scan_json(b"{}").unwrap())
        .join()
        .unwrap();
    assert!(d.scan_json(b"{}").unwrap().is_clean());
}

// ---------------------------------------------------------------------------------------------
// Measured false-positive rate.

/// splitmix64: a deterministic PRNG, so the measured rate is reproducible.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next() % 10) as u8))
            .collect()
    }
}

#[test]
fn random_18_digit_numbers_rarely_pass() {
    const N: usize = 200_000;
    const CHUNK: usize = 10_000;
    let d = Detector::new().max_body(4 << 20);
    let mut rng = SplitMix(0x6e65_7469_6400_0001);
    let (mut checked_resident, mut checked_any, mut ambiguous, mut other) = (0, 0, 0, 0);
    for _ in 0..N / CHUNK {
        let mut body = String::from("[");
        for i in 0..CHUNK {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&format!(r#"{{"orderId":"{}"}}"#, rng.digits(18)));
        }
        body.push(']');
        let scan = d.scan_json(body.as_bytes()).unwrap();
        for f in &scan.findings {
            match (f.kind, f.confidence) {
                (FindingKind::ResidentId, Confidence::Checked) => checked_resident += 1,
                (_, Confidence::Checked) => {}
                (FindingKind::Ambiguous, _) => ambiguous += 1,
                _ => other += 1,
            }
            if f.confidence == Confidence::Checked {
                checked_any += 1;
            }
        }
    }
    let rate = checked_resident as f64 / N as f64;
    eprintln!(
        "false positives: {checked_resident} of {N} random 18-digit numbers flagged as checked \
         resident IDs = {:.4}% ({checked_any} checked of any kind = {:.4}%; {ambiguous} \
         ambiguous, report-only)",
        rate * 100.0,
        checked_any as f64 / N as f64 * 100.0,
    );
    assert_eq!(other, 0);
    assert!(rate < 0.0005, "rate {rate}");
    assert!(
        (checked_any as f64 / N as f64) < 0.0005,
        "rate of checked findings of any kind"
    );
}

/// Lists of look-alikes (phone numbers, timestamps, amounts, order numbers, dates) written one
/// after another with the separators that now chain digit groups: the rate at which a chain of
/// them passes as a checked ID number.
#[test]
fn separator_chains_of_look_alikes_rarely_make_ids() {
    const N: usize = 100_000;
    const PER_VALUE: usize = 10;
    let d = Detector::new().max_body(4 << 20);
    let mut rng = SplitMix(0x6e65_7469_6400_0002);
    let separators = [".", "/", "_", "\t", "\n", "\r\n", " ", "   ", " / ", "-"];
    let mut flagged = 0;
    let mut body = String::from("[");
    for i in 0..N / PER_VALUE {
        let sep = separators[(rng.next() % separators.len() as u64) as usize];
        let mut value = String::new();
        for j in 0..PER_VALUE {
            if j > 0 {
                value.push_str(sep);
            }
            let look_alike = match rng.next() % 6 {
                0 => {
                    let second = 3 + rng.next() % 7;
                    format!("1{second}{}", rng.digits(9))
                }
                1 => format!("17{}", rng.digits(8)),
                2 => format!("17{}", rng.digits(11)),
                3 => {
                    let int = 1 + (rng.next() % 7) as usize;
                    format!("{}.{}", rng.digits(int), rng.digits(2))
                }
                4 => {
                    let n = 6 + (rng.next() % 7) as usize;
                    rng.digits(n)
                }
                _ => {
                    let (y, m) = (rng.next() % 27, 1 + rng.next() % 12);
                    format!("20{y:02}{m:02}{}", rng.digits(2))
                }
            };
            value.push_str(&look_alike);
        }
        if i > 0 {
            body.push(',');
        }
        body.push_str(&json!({ "remark": value }).to_string());
        if body.len() > 3 << 20 {
            body.push(']');
            flagged += d.scan_json(body.as_bytes()).unwrap().blocking().len();
            body = String::from("[");
        }
    }
    body.push(']');
    if body.len() > 2 {
        flagged += d.scan_json(body.as_bytes()).unwrap().blocking().len();
    }
    let rate = flagged as f64 / N as f64;
    eprintln!(
        "separator chains: {flagged} checked IDs made from {N} look-alikes in lists = {:.4}%",
        rate * 100.0
    );
    assert!(rate <= 0.0001, "rate {rate}");
}

// ---------------------------------------------------------------------------------------------
// Properties.

/// A valid 18-character ID number (resident, residence permit or 2023 foreigner form).
fn arb_id() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "11", "12", "31", "44", "50", "65", "71", "810000", "830000", "911840",
        ]),
        0u32..10_000,
        1900u32..2020,
        1u32..13,
        1u32..29,
        0u32..1000,
    )
        .prop_map(|(prefix, area, y, m, d, seq)| {
            let area = format!("{prefix}{area:04}");
            with_check(&format!("{}{y}{m:02}{d:02}{seq:03}", &area[..6]))
        })
}

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        arb_id().prop_map(Value::String),
        "[a-z 张三证件号：0-9*]{0,20}".prop_map(Value::String),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        "1[3-9][0-9]{9}".prop_map(Value::String),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let keys = prop::sample::select(vec![
        "name", "idNo", "remark", "orderId", "items", "realName", "a", "b", "c", "phone",
    ]);
    arb_leaf().prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..6).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

/// Same structure and keys; each leaf is equal or `"[redacted]"`.
fn same_shape(original: &Value, redacted: &Value) -> bool {
    match (original, redacted) {
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b.iter())
                    .all(|((ka, va), (kb, vb))| ka == kb && same_shape(va, vb))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_shape(x, y))
        }
        (a, b) => a == b || b == "[redacted]",
    }
}

fn ids_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s)
            if s.len() == 18
                && s.as_bytes()[..17].iter().all(u8::is_ascii_digit)
                && s.ends_with(mod11(&s[..17])) =>
        {
            out.push(s.clone())
        }
        Value::Array(a) => a.iter().for_each(|x| ids_in(x, out)),
        Value::Object(m) => m.values().for_each(|x| ids_in(x, out)),
        _ => {}
    }
}

fn assert_hidden(shown: &str, id: &str) {
    assert!(!shown.contains(id), "{shown}");
    for w in id.as_bytes().windows(8) {
        let w = std::str::from_utf8(w).unwrap();
        assert!(!shown.contains(w), "{w} in {shown}");
    }
}

fn show(scan: &Scan) -> String {
    let mut s = format!("{scan:?} {scan}");
    for f in &scan.findings {
        let f: &Finding = f;
        s.push_str(&format!(" {f} {f:?} {}", f.kind));
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        let d = Detector::new().max_depth(8);
        let _ = d.scan_json(&bytes);
        let _ = d.redact_json(&bytes);
        let _ = d.scan_form(&bytes);
        let _ = d.redact_form(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = d.scan_query(&text);
        let _ = d.redact_query(&text);
        let _ = d.scan_text(None, &text);
        let _ = d.scan_text(Some(&text), &text);
        let _ = d.scan_fields([(text.as_ref(), text.as_ref()), ("name", "x")]);
        let _ = d.scan_multipart(&bytes, "B");
    }

    #[test]
    fn multipart_like_bodies_never_panic(
        pieces in prop::collection::vec(
            prop_oneof![
                Just("--B".to_owned()),
                Just("--B--".to_owned()),
                Just("\r\n".to_owned()),
                Just("\r\n\r\n".to_owned()),
                Just("Content-Disposition: form-data; name=\"idNo\"; filename=\"a\"".to_owned()),
                Just("Content-Type: application/json".to_owned()),
                Just("Content-Type: application/x-www-form-urlencoded".to_owned()),
                Just("filename*=UTF-8''%E5%".to_owned()),
                "[ -~]{0,12}",
                "[\\x00-\\xff]{0,8}",
            ],
            0..24,
        )
    ) {
        let body = pieces.concat();
        let d = Detector::new().max_depth(4);
        let _ = d.scan_multipart(body.as_bytes(), "B");
        let _ = d.scan_multipart(body.as_bytes(), "");
    }

    #[test]
    fn json_like_text_never_panics(text in r#"[\[\]{}":,0-9a-zX\\u* .eE+\-]{0,400}"#) {
        let d = Detector::new().max_depth(6);
        let _ = d.scan_json(text.as_bytes());
        let _ = d.redact_json(text.as_bytes());
        let _ = d.scan_form(text.as_bytes());
        let _ = d.scan_text(Some("idNo"), &text);
    }

    #[test]
    fn numberish_text_never_panics(text in "[0-9Xx*（）() 　\\-—E-HMPS身份证护照通行台胞１２Ｘ]{0,200}") {
        let d = Detector::new();
        let _ = d.scan_text(None, &text);
        let _ = d.scan_text(Some("idNo"), &text);
        let _ = d.scan_json(serde_json::to_string(&text).unwrap().as_bytes()).unwrap();
    }

    #[test]
    fn redact_json_keeps_keys_and_hides_every_id(value in arb_json(), pretty in any::<bool>()) {
        let body = if pretty { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) }.unwrap();
        let (out, scan) = Detector::new().redact_json(body.as_bytes()).unwrap();
        let redacted: Value = serde_json::from_slice(&out).unwrap();
        prop_assert!(same_shape(&value, &redacted), "{}", String::from_utf8_lossy(&out));
        let mut ids = Vec::new();
        ids_in(&value, &mut ids);
        let out = String::from_utf8(out).unwrap();
        for id in &ids {
            prop_assert!(!out.contains(id.as_str()), "{id} survived in {out}");
            assert_hidden(&show(&scan), id);
        }
        // Redacting twice finds nothing new to hide.
        let (again, _) = Detector::new().redact_json(out.as_bytes()).unwrap();
        prop_assert_eq!(again, out.into_bytes());
    }

    #[test]
    fn values_never_appear_in_findings_or_errors(
        id in arb_id(),
        key in "[a-zA-Z_]{1,10}",
        before in "[a-z 证件号：]{0,8}",
        spot in 0u8..5,
    ) {
        let d = Detector::new().max_depth(3);
        let text = format!("{before}{id}");
        let bodies = [
            json!({ &key: &text }).to_string(),
            json!({ &id: 1, "idNo": &text }).to_string(),
            json!({ "a": [{ &key: &text, "name": "张三" }] }).to_string(),
            format!("{{\"{key}\":\"{text}\"}} trailing"),
            format!("[[[[\"{text}\"]]]]"),
        ];
        let body = &bodies[usize::from(spot)];
        match d.scan_json(body.as_bytes()) {
            Ok(scan) => assert_hidden(&show(&scan), &id),
            Err(e) => assert_hidden(&format!("{e} {e:?}"), &id),
        }
        let form = format!("{key}={text}&{id}=x&name=n");
        assert_hidden(&show(&d.scan_form(form.as_bytes()).unwrap()), &id);
        assert_hidden(&show(&d.scan_text(Some(&id), &text)), &id);
        let upload = multipart(&[
            (&[&file(&key, &format!("{id}.csv")), "Content-Type: text/csv"], text.as_bytes()),
            (&[&file("j", "j.json"), "Content-Type: application/json"], json!({ &key: &text }).to_string().as_bytes()),
        ]);
        match d.scan_multipart(&upload, "B") {
            Ok(scan) => assert_hidden(&show(&scan), &id),
            Err(e) => assert_hidden(&format!("{e} {e:?}"), &id),
        }
        if let Err(e) = d.scan_form(format!("{key}={text}%").as_bytes()) {
            assert_hidden(&format!("{e} {e:?}"), &id);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Compound keys generated from the vocabulary, in every case style.

/// Vocabulary terms as words, with the field each names.
const TERMS: &[(&[&str], FieldName)] = &[
    (&["id", "card"], FieldName::IdNumber),
    (&["id", "no"], FieldName::IdNumber),
    (&["id", "number"], FieldName::IdNumber),
    (&["identity", "no"], FieldName::IdNumber),
    (&["passport"], FieldName::IdNumber),
    (&["passport", "number"], FieldName::IdNumber),
    (&["permit", "no"], FieldName::IdNumber),
    (&["document", "number"], FieldName::IdNumber),
    (&["cert", "no"], FieldName::IdNumber),
    (&["certificate", "number"], FieldName::IdNumber),
    (&["national", "id"], FieldName::IdNumber),
    (&["residence", "permit"], FieldName::IdNumber),
    (&["sfzh"], FieldName::IdNumber),
    (&["zjhm"], FieldName::IdNumber),
    (&["gmsfhm"], FieldName::IdNumber),
    (&["real", "name"], FieldName::Name),
    (&["full", "name"], FieldName::Name),
    (&["legal", "name"], FieldName::Name),
    (&["true", "name"], FieldName::Name),
    (&["chinese", "name"], FieldName::Name),
    (&["xm"], FieldName::Name),
    (&["birthday"], FieldName::BirthDate),
    (&["birth", "date"], FieldName::BirthDate),
    (&["date", "of", "birth"], FieldName::BirthDate),
    (&["dob"], FieldName::BirthDate),
    (&["csrq"], FieldName::BirthDate),
    (&["cert", "type"], FieldName::IdType),
    (&["id", "type"], FieldName::IdType),
    (&["zjlx"], FieldName::IdType),
];

/// Words a compound key may start with: whose the data is.
const OWNERS: &[&str] = &[
    "user",
    "customer",
    "applicant",
    "holder",
    "passenger",
    "buyer",
    "member",
    "contact",
    "payer",
    "my",
];

/// Words that may end a compound key of each field without changing what it is.
fn tails(field: FieldName) -> &'static [&'static str] {
    match field {
        FieldName::IdNumber => &["no", "number", "img", "front", "2"],
        FieldName::Name => &["pinyin", "en", "cn"],
        FieldName::BirthDate => &["str", "value"],
        _ => &["code", "name"],
    }
}

/// Words that make a compound key about the data, not the data.
const HEADS: &[&str] = &[
    "verified", "status", "greeting", "expiry", "count", "enabled",
];

/// The case styles a key is written in.
#[derive(Debug, Clone, Copy)]
enum Style {
    Camel,
    Pascal,
    Snake,
    Kebab,
    UpperSnake,
    Dotted,
    /// All lower case, no separators (`userrealname`); no tail.
    Flat,
}

fn styled(words: &[&str], style: Style) -> String {
    let cap = |w: &str| {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
            .unwrap_or_default()
    };
    match style {
        Style::Camel => words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == 0 { (*w).to_owned() } else { cap(w) })
            .collect(),
        Style::Pascal => words.iter().map(|w| cap(w)).collect(),
        Style::Snake => words.join("_"),
        Style::Kebab => words.join("-"),
        Style::UpperSnake => words.join("_").to_ascii_uppercase(),
        Style::Dotted => words.join("."),
        Style::Flat => words.concat(),
    }
}

fn arb_style() -> impl Strategy<Value = Style> {
    prop::sample::select(vec![
        Style::Camel,
        Style::Pascal,
        Style::Snake,
        Style::Kebab,
        Style::UpperSnake,
        Style::Dotted,
        Style::Flat,
    ])
}

/// A JSON body with `key: value` at `depth` under neutral containers.
fn nested_body(key: &str, value: &str, depth: usize) -> String {
    let mut v = json!({ key: value, "orderId": "202405170001" });
    for level in 0..depth {
        v = if level % 2 == 0 {
            json!({ "data": v })
        } else {
            json!([v])
        };
    }
    v.to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, .. ProptestConfig::default() })]

    #[test]
    fn compound_keys_from_the_vocabulary_are_flagged(
        term in prop::sample::select(TERMS.to_vec()),
        owner in prop::option::of(prop::sample::select(OWNERS.to_vec())),
        tail in any::<prop::sample::Index>(),
        with_tail in any::<bool>(),
        style in arb_style(),
        depth in 0usize..4,
        in_form in any::<bool>(),
    ) {
        let (words, field) = term;
        let mut all: Vec<&str> = owner.into_iter().collect();
        all.extend_from_slice(words);
        if with_tail && !matches!(style, Style::Flat) {
            all.push(*tail.get(tails(field)));
        }
        let key = styled(&all, style);
        let value = if field == FieldName::IdNumber { LEGACY } else { "某值" };
        let d = Detector::new();
        let scan = if in_form {
            d.scan_form(format!("page=1&user[{key}]={value}").as_bytes()).unwrap()
        } else {
            d.scan_json(nested_body(&key, value, depth).as_bytes()).unwrap()
        };
        let blocking = scan.blocking();
        prop_assert_eq!(blocking.len(), 1, "{} in {:?}: {:?}", key, style, scan);
        prop_assert_eq!(blocking[0].field, field, "{}", key);
        if field == FieldName::IdNumber {
            prop_assert_eq!(blocking[0].kind, FindingKind::LegacyResidentId, "{}", key);
        }
    }

    #[test]
    fn compound_keys_about_identity_data_are_not_flagged(
        term in prop::sample::select(TERMS.to_vec()),
        owner in prop::option::of(prop::sample::select(OWNERS.to_vec())),
        head in prop::sample::select(HEADS.to_vec()),
        style in arb_style(),
    ) {
        // Dotted keys are also paths: `passport.verified` is under `passport`, as
        // `{"passport":{"verified":…}}` is, and is identity data like it.
        prop_assume!(!matches!(style, Style::Dotted));
        let (words, _) = term;
        let mut all: Vec<&str> = owner.into_iter().collect();
        all.extend_from_slice(words);
        all.push(head);
        let key = styled(&all, style);
        for value in [LEGACY, "某值", "E12345678"] {
            let scan = Detector::new()
                .scan_json(json!({ &key: value }).to_string().as_bytes())
                .unwrap();
            prop_assert!(scan.is_clean(), "{} in {:?}: {:?}", key, style, scan);
        }
    }
}
