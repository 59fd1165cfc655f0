//! Parser differential tests (issue 11, item 8): the detector's own JSON, form and multipart
//! readers against the parsers handlers use — `serde_json` (axum's `Json`, actix's `web::Json`),
//! `serde_urlencoded` / `form_urlencoded` (axum's `Form` and `Query`) and `multer` (axum's
//! `Multipart`). A field the handler's parser reads that the detector did not see, or saw under
//! another name, is identity data reaching the handler unseen: a bypass.
//!
//! Each generated input plants a valid resident ID number (GB 11643, check character computed
//! here independently) and a person's name under an identity-bearing key. Whenever the handler's
//! parser accepts the input, every place in *its* view that holds the number must carry a blocking
//! finding whose location is that place as the parser names it, rendered with the detector's
//! documented location rules (re-implemented below from `Finding::location`'s docs); every
//! substantive value under an identity-bearing name (in the parser's view) must be flagged at its
//! place too. Where the parser rejects, no handler reads the input: the detector's answer is
//! tallied, never required.
//!
//! Refusing what the parser reads is the safe side (the request is refused, the handler never
//! runs), but it is checked too: the detector reads every JSON document `serde_json` reads
//! (unless deeper than its limit); it refuses exactly the form bodies with a malformed `%` escape
//! or non-UTF-8 after decoding (which `serde_urlencoded` reads lossily); multipart bodies it
//! refuses are tallied. Every disagreement found is one case, with a comment, in
//! `json_tricky_documents`, `form_and_query_tricky_cases` and `multipart_tricky_bodies`; the
//! only ones left change a location, never what is found, and leave the detector on the safe
//! side. One is tolerated by the generic multipart check: which parts are files (multer sees no
//! file name in `filename*=` alone), which only changes ` (file)` in a location; it is tallied.
//!
//! The case counts are bounded so the file runs in well under a minute in a debug build;
//! `PROPTEST_CASES=N` runs every generator with N cases instead. Run with `--nocapture` to see
//! the tallies.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use netid::detect::{Detector, FindingKind, Scan, ScanError};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Identity numbers, built independently of the detector.

fn mod11(d17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = d17
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    "10X98765432".as_bytes()[(sum % 11) as usize] as char
}

/// GB 32100 check: an all-digit ID that also passes it is only reported (ambiguous), so the
/// generators avoid it.
fn uscc_valid(code: &str) -> bool {
    const C: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let sum: usize = code[..17]
        .chars()
        .zip(W)
        .map(|(c, w)| C.find(c).unwrap() * w)
        .sum();
    code.ends_with(C.as_bytes()[(31 - sum % 31) % 31] as char)
}

/// Area codes of real counties in provinces 11–65 (no residence permits, no foreigner cards).
const AREAS: &[&str] = &[
    "110105", "310104", "440524", "510107", "650102", "330106", "120101", "420102",
];

/// A valid 18-character resident ID: real date, valid check character, not a credit code.
fn arb_id() -> impl Strategy<Value = String> {
    (
        select(AREAS),
        1930u32..2010,
        1u32..=12,
        1u32..=28,
        0u32..1000,
    )
        .prop_map(|(a, y, m, d, s)| {
            let d17 = format!("{a}{y:04}{m:02}{d:02}{s:03}");
            format!("{d17}{}", mod11(&d17))
        })
        .prop_filter("also a credit code", |id| !uscc_valid(id))
}

/// The number split as people write it: `110105 19491231 002X`.
fn grouped(id: &str, sep: char) -> String {
    format!("{}{sep}{}{sep}{}", &id[..6], &id[6..14], &id[14..])
}

/// Whether `text` holds the number, whole or in its grouped forms, not glued to letters or
/// digits.
fn holds_id(text: &str, id: &str) -> bool {
    let forms = [id.to_owned(), grouped(id, ' '), grouped(id, '-')];
    forms.iter().any(|f| {
        text.match_indices(f.as_str()).any(|(i, _)| {
            let before = text[..i].chars().next_back();
            let after = text[i + f.len()..].chars().next();
            !before.is_some_and(|c| c.is_ascii_alphanumeric())
                && !after.is_some_and(|c| c.is_ascii_alphanumeric())
        })
    })
}

/// Built-in identity-bearing names (`ID-FORMATS.md`); the detector's vocabulary only grows.
const IDENTITY_KEYS: &[&str] = &["idNo", "realName", "xm", "姓名", "certNo", "身份证号"];
/// The non-ASCII ones: a known field name with non-ASCII letters is shown in a location.
const KNOWN_NON_ASCII: &[&str] = &["姓名", "身份证号"];

/// A value the detector must flag under an identity-bearing name: it has a letter or a digit,
/// is not masked and is not the detector's own `[redacted]`.
fn substantive(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric) && !text.contains('*') && text != "[redacted]"
}

// ---------------------------------------------------------------------------------------------
// Locations, as `Finding::location` documents them: a key or name is shown as is unless it is
// empty or longer than 48 bytes, holds a run of more than four ASCII digits, or has a character
// other than ASCII letters, digits, `_`, `-.:@$[]` (and non-ASCII letters in a known field name);
// then it is `<N bytes>`. In a JSON path a key of letters, digits (not first) and `_` is `.key`,
// any other shown key `["key"]`, a hidden one `["<N bytes>"]`; an index is `[i]`.

/// `Some(plain)` when `key` is shown, `None` when it is replaced by its length.
fn shown(key: &str) -> Option<bool> {
    // Known as the detector reads names: by segments at `.`, `[` and `]` (`姓名[`, `a.姓名`).
    let known = key
        .split(['.', '[', ']'])
        .any(|segment| KNOWN_NON_ASCII.contains(&segment));
    if key.is_empty() || key.len() > 48 {
        return None;
    }
    let mut plain = !key.starts_with(|c: char| c.is_ascii_digit());
    let mut run = 0;
    for c in key.chars() {
        if c.is_ascii_digit() {
            run += 1;
            if run > 4 {
                return None;
            }
            continue;
        }
        run = 0;
        if c.is_ascii_alphabetic() || c == '_' || (known && !c.is_ascii() && c.is_alphabetic()) {
            continue;
        }
        if "-.:@$[]".contains(c) {
            plain = false;
            continue;
        }
        return None;
    }
    Some(plain)
}

/// A form field or part name as a location.
fn name_location(name: &str) -> String {
    match shown(name) {
        Some(_) => name.to_owned(),
        None => format!("<{} bytes>", name.len()),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// A JSON path as a location.
fn json_location(path: &[Seg]) -> String {
    let mut out = String::from("$");
    for seg in path {
        match seg {
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
            Seg::Key(k) => match shown(k) {
                Some(true) => out.push_str(&format!(".{k}")),
                Some(false) => out.push_str(&format!("[\"{k}\"]")),
                None => out.push_str(&format!("[\"<{} bytes>\"]", k.len())),
            },
        }
    }
    out
}

fn blocking_at(scan: &Scan, location: &str) -> bool {
    scan.findings
        .iter()
        .any(|f| f.is_blocking() && f.location == location)
}

fn id_at(scan: &Scan, location: &str) -> bool {
    scan.findings
        .iter()
        .any(|f| f.is_blocking() && f.kind == FindingKind::ResidentId && f.location == location)
}

fn locations(scan: &Scan) -> Vec<String> {
    scan.findings
        .iter()
        .map(|f| format!("{} {} {}", f.location, f.kind, f.confidence))
        .collect()
}

fn error_kind(e: &ScanError) -> &'static str {
    match e {
        ScanError::BodyTooLarge { .. } => "too_large",
        ScanError::JsonTooDeep { .. } => "too_deep",
        ScanError::InvalidUtf8 { .. } => "invalid_utf8",
        ScanError::InvalidJson { .. } => "invalid_json",
        ScanError::InvalidForm { .. } => "invalid_form",
        ScanError::InvalidMultipart { .. } => "invalid_multipart",
        _ => "other",
    }
}

// ---------------------------------------------------------------------------------------------
// Running and tallying.

#[derive(Default)]
struct Tally(Mutex<BTreeMap<String, u64>>);

impl Tally {
    fn add(&self, what: impl Into<String>) {
        *self.0.lock().unwrap().entry(what.into()).or_default() += 1;
    }

    fn print(&self, name: &str) {
        let map = self.0.lock().unwrap();
        eprintln!("--- {name}");
        for (k, v) in map.iter() {
            eprintln!("{v:>8}  {k}");
        }
    }
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn run<S: Strategy>(
    name: &str,
    default_cases: u32,
    strategy: S,
    test: impl Fn(S::Value, &Tally) -> Result<(), TestCaseError>,
) {
    let tally = Tally::default();
    let mut runner = TestRunner::new(Config {
        cases: cases(default_cases),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |v| test(v, &tally));
    tally.print(name);
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

/// A small deterministic generator for rendering choices (whitespace, escapes, case), seeded by
/// proptest.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn rng(seed: u64) -> Rng {
    Rng(seed | 1)
}

// =============================================================================================
// JSON against serde_json.

#[derive(Debug, Clone)]
enum J {
    Null,
    Bool(bool),
    /// A number, as written.
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
    /// The planted number as a string value (`padded`: inside a sentence), or as a JSON number.
    Id {
        padded: bool,
        number: bool,
    },
    /// A person's name (the member's key is identity-bearing).
    Name,
}

fn arb_json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-zA-Z0-9_]{0,8}",
        3 => select(vec!["a", "b", "dup"]).prop_map(String::from),
        1 => Just(String::new()),
        1 => "[0-9]{1,8}",
        1 => "[a-z]{1,3}[-.:@$ #\"\\\\/\\[\\]]{1,2}[a-z0-9]{0,3}",
        1 => select(vec![
            "备注", "商品", "ключ", "é", "😀x", "a\u{0}b", "tab\tkey", "nl\nkey", "\u{7f}",
            "\u{200b}", "name", "uscc", "idNo", "realName", "姓名", "身份证号", "user.idNo",
            "user[xm]",
        ])
        .prop_map(String::from),
        1 => "[a-z]{45,70}",
        1 => "\\PC{1,6}",
    ]
}

fn arb_json_leaf() -> impl Strategy<Value = J> {
    prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        "-?(0|[1-9][0-9]{0,12})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,2})?".prop_map(J::Num),
        "[a-zA-Z 张三李四_.,:/\\\\\"\t\n-]{0,12}".prop_map(J::Str),
        "\\PC{0,8}".prop_map(J::Str),
    ]
}

fn arb_json_tree() -> impl Strategy<Value = J> {
    arb_json_leaf().prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(J::Arr),
            prop::collection::vec((arb_json_key(), inner), 0..6).prop_map(J::Obj),
        ]
    })
}

/// Inserts `(key, value)` into the `target`-th container (pre-order) at `pos`; into an array as
/// the bare value, or as `{key: value}` when `wrap`.
fn insert(j: &mut J, target: &mut usize, pos: usize, key: &str, value: &J, wrap: bool) -> bool {
    let here = *target == 0;
    match j {
        J::Arr(items) => {
            if here {
                let at = pos % (items.len() + 1);
                let item = if wrap {
                    J::Obj(vec![(key.to_owned(), value.clone())])
                } else {
                    value.clone()
                };
                items.insert(at, item);
                return true;
            }
            *target -= 1;
            items
                .iter_mut()
                .any(|i| insert(i, target, pos, key, value, wrap))
        }
        J::Obj(members) => {
            if here {
                let at = pos % (members.len() + 1);
                members.insert(at, (key.to_owned(), value.clone()));
                return true;
            }
            *target -= 1;
            members
                .iter_mut()
                .any(|(_, v)| insert(v, target, pos, key, value, wrap))
        }
        _ => false,
    }
}

fn containers(j: &J) -> usize {
    match j {
        J::Arr(items) => 1 + items.iter().map(containers).sum::<usize>(),
        J::Obj(members) => 1 + members.iter().map(|(_, v)| containers(v)).sum::<usize>(),
        _ => 0,
    }
}

/// What the renderer planted, and where (the generator's own view, duplicates included).
#[derive(Debug, Clone, PartialEq)]
enum Planted {
    Id,
    Name,
}

type PlantedPlaces = Vec<(Planted, Vec<Seg>)>;

struct JsonWriter<'a> {
    rng: Rng,
    out: String,
    path: Vec<Seg>,
    /// Percent of characters written as escapes.
    escape: u64,
    /// Write the planted number `\u`-escaped digit by digit.
    escape_id: bool,
    id: &'a str,
    planted: PlantedPlaces,
}

impl JsonWriter<'_> {
    fn ws(&mut self) {
        let w = *self
            .rng
            .pick(&["", "", "", "", " ", "\n", "\t", "\r\n", "  \n\t "]);
        self.out.push_str(w);
    }

    fn escaped(&mut self, c: char) {
        let mut buf = [0u16; 2];
        for unit in c.encode_utf16(&mut buf) {
            if self.rng.chance(50) {
                self.out.push_str(&format!("\\u{unit:04x}"));
            } else {
                self.out.push_str(&format!("\\u{unit:04X}"));
            }
        }
    }

    fn string(&mut self, s: &str, all_escaped: bool) {
        self.out.push('"');
        for c in s.chars() {
            if all_escaped || self.rng.chance(self.escape) {
                match (c, self.rng.below(3)) {
                    ('"', 0) => self.out.push_str("\\\""),
                    ('\\', 0) => self.out.push_str("\\\\"),
                    ('/', 0) => self.out.push_str("\\/"),
                    ('\n', 0) => self.out.push_str("\\n"),
                    ('\t', 0) => self.out.push_str("\\t"),
                    _ => self.escaped(c),
                }
                continue;
            }
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                '\u{8}' => self.out.push_str("\\b"),
                '\u{c}' => self.out.push_str("\\f"),
                c if (c as u32) < 0x20 => self.escaped(c),
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    fn value(&mut self, j: &J) {
        match j {
            J::Null => self.out.push_str("null"),
            J::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            J::Num(n) => self.out.push_str(n),
            J::Str(s) => self.string(s, false),
            J::Id { padded, number } => {
                self.planted.push((Planted::Id, self.path.clone()));
                let id = self.id.to_owned();
                if *number && !id.ends_with('X') {
                    self.out.push_str(&id);
                } else if *padded {
                    let text = format!("身份证：{id}。 tel 138");
                    self.string(&text, false);
                } else {
                    self.string(&id, self.escape_id);
                }
            }
            J::Name => {
                self.planted.push((Planted::Name, self.path.clone()));
                self.string("张三", false);
            }
            J::Arr(items) => {
                self.out.push('[');
                self.ws();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                        self.ws();
                    }
                    self.path.push(Seg::Index(i));
                    self.value(item);
                    self.path.pop();
                    self.ws();
                }
                self.out.push(']');
            }
            J::Obj(members) => {
                self.out.push('{');
                self.ws();
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                        self.ws();
                    }
                    self.path.push(Seg::Key(k.clone()));
                    if k == self.id {
                        self.planted.push((Planted::Id, self.path.clone()));
                        self.string(k, self.escape_id);
                    } else {
                        self.string(k, false);
                    }
                    self.ws();
                    self.out.push(':');
                    self.ws();
                    self.value(v);
                    self.path.pop();
                    self.ws();
                }
                self.out.push('}');
            }
        }
    }
}

#[derive(Debug, Clone)]
struct JsonCase {
    tree: J,
    id: String,
    /// Where the number goes: container index, position, key; how it is written.
    id_at: (usize, usize),
    id_key: String,
    id_form: u8,
    /// Where the name goes, under which identity-bearing key.
    name_at: (usize, usize),
    name_key: &'static str,
    seed: u64,
    /// A mutation of the rendered bytes (malformed documents): kind, position, byte.
    mutation: Option<(u8, usize, u8)>,
}

fn arb_json_case() -> impl Strategy<Value = JsonCase> {
    (
        arb_json_tree(),
        arb_id(),
        (any::<usize>(), any::<usize>()),
        arb_json_key(),
        0u8..5,
        (any::<usize>(), any::<usize>()),
        select(IDENTITY_KEYS),
        any::<u64>(),
        prop::option::weighted(0.3, (0u8..4, any::<usize>(), any::<u8>())),
    )
        .prop_map(
            |(tree, id, id_at, id_key, id_form, name_at, name_key, seed, mutation)| JsonCase {
                tree,
                id,
                id_at,
                id_key,
                id_form,
                name_at,
                name_key,
                seed,
                mutation,
            },
        )
}

/// The document, and what the generator planted where.
fn render_json(case: &JsonCase) -> (Vec<u8>, PlantedPlaces, bool) {
    let mut tree = case.tree.clone();
    if containers(&tree) == 0 {
        tree = J::Arr(vec![tree]);
    }
    let (id_key, id_value, wrap) = match case.id_form {
        0 => (
            case.id_key.clone(),
            J::Id {
                padded: false,
                number: false,
            },
            false,
        ),
        1 => (
            case.id_key.clone(),
            J::Id {
                padded: true,
                number: false,
            },
            false,
        ),
        2 => (
            case.id_key.clone(),
            J::Id {
                padded: false,
                number: true,
            },
            false,
        ),
        // The number as a key.
        3 => (case.id.clone(), J::Null, true),
        _ => (
            case.id_key.clone(),
            J::Id {
                padded: false,
                number: false,
            },
            true,
        ),
    };
    let mut target = case.id_at.0 % containers(&tree);
    insert(
        &mut tree,
        &mut target,
        case.id_at.1,
        &id_key,
        &id_value,
        wrap,
    );
    let mut target = case.name_at.0 % containers(&tree);
    insert(
        &mut tree,
        &mut target,
        case.name_at.1,
        case.name_key,
        &J::Name,
        true,
    );
    let mut r = rng(case.seed);
    let escape = *r.pick(&[0, 0, 5, 30, 100]);
    let escape_id = r.chance(30);
    let mut w = JsonWriter {
        rng: r,
        out: String::new(),
        path: Vec::new(),
        escape,
        escape_id,
        id: &case.id,
        planted: Vec::new(),
    };
    w.ws();
    w.value(&tree);
    w.ws();
    let mut doc = w.out.into_bytes();
    let mutated = match case.mutation {
        None => false,
        Some((kind, pos, byte)) => {
            let at = pos % (doc.len() + 1);
            let junk = [
                b'{', b'}', b'[', b']', b',', b':', b'"', b'\\', b'0', b' ', 0, 0x7f, 0xff,
            ];
            match kind {
                0 => {
                    if at < doc.len() {
                        doc.remove(at);
                    }
                }
                1 => doc.insert(at, junk[usize::from(byte) % junk.len()]),
                2 => doc.truncate(at),
                _ => {
                    let piece: &[u8] = [
                        &b"\\ud800"[..],
                        b"\\udc00",
                        b"\\u00",
                        b",,",
                        b"\xef\xbb\xbf",
                        b"\xed\xa0\x80",
                    ][usize::from(byte) % 6];
                    doc.splice(at..at, piece.iter().copied());
                }
            }
            true
        }
    };
    (doc, w.planted, mutated)
}

/// Where serde_json's view holds the number (a string, a number or a key) and where it holds a
/// substantive string under an identity-bearing key (at any depth).
fn serde_json_places(
    v: &Value,
    id: &str,
    path: &mut Vec<Seg>,
    under_identity: bool,
    ids: &mut Vec<Vec<Seg>>,
    names: &mut Vec<Vec<Seg>>,
) {
    match v {
        Value::String(s) => {
            if holds_id(s, id) {
                ids.push(path.clone());
            } else if under_identity && substantive(s) {
                names.push(path.clone());
            }
        }
        Value::Number(n) if holds_id(&n.to_string(), id) => ids.push(path.clone()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                serde_json_places(item, id, path, under_identity, ids, names);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                path.push(Seg::Key(k.clone()));
                if holds_id(k, id) {
                    ids.push(path.clone());
                }
                let identity = under_identity || IDENTITY_KEYS.contains(&k.as_str());
                serde_json_places(item, id, path, identity, ids, names);
                path.pop();
            }
        }
        _ => {}
    }
}

fn json_depth(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(json_depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The check for one JSON document; `planted`: the generator's own places (unmutated
/// documents only).
fn check_json(
    doc: &[u8],
    id: &str,
    planted: &[(Planted, Vec<Seg>)],
    tally: &Tally,
) -> Result<(), TestCaseError> {
    let det = Detector::new();
    let ours = det.scan_json(doc);
    let text = String::from_utf8_lossy(doc);
    match serde_json::from_slice::<Value>(doc) {
        Ok(v) => {
            tally.add("serde_json accepts");
            let scan = match ours {
                Ok(scan) => scan,
                Err(ScanError::JsonTooDeep { .. })
                    if json_depth(&v) > Detector::DEFAULT_MAX_DEPTH =>
                {
                    tally.add("serde_json accepts, detector: too deep (refused)");
                    return Ok(());
                }
                Err(e) => {
                    return Err(TestCaseError::fail(format!(
                        "serde_json reads {text:?}, the detector refuses it: {e}"
                    )));
                }
            };
            let (mut ids, mut names) = (Vec::new(), Vec::new());
            serde_json_places(&v, id, &mut Vec::new(), false, &mut ids, &mut names);
            if ids.is_empty() && planted.is_empty() {
                tally.add("serde_json accepts, number destroyed by the mutation");
            }
            for path in &ids {
                let at = json_location(path);
                prop_assert!(
                    id_at(&scan, &at),
                    "serde_json holds the ID at {at}, the detector found {:?} in {text:?}",
                    locations(&scan)
                );
                tally.add("ID found where serde_json has it");
            }
            for path in &names {
                let at = json_location(path);
                prop_assert!(
                    blocking_at(&scan, &at),
                    "serde_json holds identity data under {at}, the detector found {:?} in {text:?}",
                    locations(&scan)
                );
                tally.add("identity-named value found where serde_json has it");
            }
            // Duplicate keys: serde_json keeps the last copy; every copy must be flagged.
            for (what, path) in planted {
                let at = json_location(path);
                let ok = match what {
                    Planted::Id => id_at(&scan, &at),
                    Planted::Name => blocking_at(&scan, &at),
                };
                prop_assert!(
                    ok,
                    "planted {what:?} at {at} not found: {:?} in {text:?}",
                    locations(&scan)
                );
                let shadowed = match what {
                    Planted::Id => !ids.contains(path),
                    Planted::Name => !names.contains(path),
                };
                if shadowed {
                    tally.add("planted copy shadowed by a later duplicate key, still found");
                }
            }
        }
        Err(_) => {
            tally.add(match &ours {
                Err(e) => format!("serde_json rejects, detector rejects ({})", error_kind(e)),
                Ok(s) if s.should_block() => "serde_json rejects, detector blocks".to_owned(),
                Ok(_) => "serde_json rejects, detector clean (no handler reads it)".to_owned(),
            });
        }
    }
    Ok(())
}

#[test]
fn json_scanner_agrees_with_serde_json() {
    run(
        "json vs serde_json",
        3000,
        arb_json_case(),
        |case, tally| {
            let (doc, planted, mutated) = render_json(&case);
            if mutated {
                tally.add("mutated");
                check_json(&doc, &case.id, &[], tally)
            } else {
                check_json(&doc, &case.id, &planted, tally)
            }
        },
    );
}

/// Hand-written documents: each is read by serde_json; what it holds must be found where
/// serde_json has it.
#[test]
fn json_tricky_documents() {
    const ID: &str = "11010519491231002X";
    let esc: String = ID.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
    let cases: Vec<(&str, String, &[&str])> = vec![
        // Duplicate keys: serde_json keeps the last; the first copy is flagged too.
        ("dup", format!(r#"{{"a":"{ID}","a":"x"}}"#), &["$.a"]),
        ("dup last", format!(r#"{{"a":"x","a":"{ID}"}}"#), &["$.a"]),
        // The number written as `\u` escapes, digit by digit.
        ("escaped", format!(r#"{{"k":"{esc}"}}"#), &["$.k"]),
        // A key written with escapes is the same key.
        (
            "escaped key",
            r#"{"real\u004eame":"张三"}"#.to_owned(),
            &["$.realName"],
        ),
        (
            "escaped key 2",
            r#"{"\u59d3\u540d":"张三"}"#.to_owned(),
            &["$.姓名"],
        ),
        // A known name with a bracket suffix is still known, and shown (a proptest found it).
        (
            "bracket suffix",
            r#"{"姓名[":"张三"}"#.to_owned(),
            &["$[\"姓名[\"]"],
        ),
        // A surrogate pair in a key; the key is hidden (emoji are not letters).
        (
            "surrogates",
            format!(r#"{{"\ud83d\ude00":"{ID}"}}"#),
            &["$[\"<4 bytes>\"]"],
        ),
        // The number as a key, and as a JSON number.
        ("key", format!(r#"{{"{ID}":1}}"#), &["$[\"<18 bytes>\"]"]),
        ("number", r#"{"n":440524188001010014}"#.to_owned(), &["$.n"]),
        // Empty, very long and digit keys are hidden by length.
        (
            "empty key",
            format!(r#"{{"":"{ID}"}}"#),
            &["$[\"<0 bytes>\"]"],
        ),
        (
            "long key",
            format!(r#"{{"{}":"{ID}"}}"#, "k".repeat(300)),
            &["$[\"<300 bytes>\"]"],
        ),
        (
            "digits key",
            format!(r#"{{"12345":"{ID}"}}"#),
            &["$[\"<5 bytes>\"]"],
        ),
        ("digit first", format!(r#"{{"1a":"{ID}"}}"#), &["$[\"1a\"]"]),
        // A top-level string, deep arrays, whitespace everywhere.
        ("scalar", format!(" \r\n\t\"{ID}\" \n"), &["$"]),
        (
            "arrays",
            format!("[[],[{{}},[1,\"{ID}\"]]]"),
            &["$[1][1][1]"],
        ),
        // `\/` and `\u0000` in keys.
        (
            "slash",
            format!(r#"{{"a\/b":"{ID}"}}"#),
            &["$[\"<3 bytes>\"]"],
        ),
        (
            "nul",
            format!(r#"{{"a\u0000":"{ID}"}}"#),
            &["$[\"<2 bytes>\"]"],
        ),
    ];
    for (what, doc, expect) in &cases {
        // serde_json reads every one of them.
        serde_json::from_str::<Value>(doc).unwrap_or_else(|e| panic!("{what}: {e}"));
        let scan = Detector::new().scan_json(doc.as_bytes()).unwrap();
        for at in *expect {
            assert!(
                blocking_at(&scan, at),
                "{what}: {at} not in {:?}",
                locations(&scan)
            );
        }
        // And the same through the generic checker.
        let id = if doc.contains("440524188001010014") {
            "440524188001010014"
        } else {
            ID
        };
        check_json(doc.as_bytes(), id, &[], &Tally::default()).unwrap();
    }
    // What serde_json rejects, the detector rejects too (nothing any handler would read).
    for doc in [
        r#"{"a":"\ud800"}"#,
        r#"{"a":"\udc00\ud800"}"#,
        "{\"a\":\"x\u{1}\"}",
        r#"{"a":1,}"#,
        r#"[1,]"#,
        r#"{"a" 1}"#,
        r#"01"#,
        r#"1."#,
        r#"-"#,
        r#".5"#,
        r#"+1"#,
        "\u{feff}{}",
        r#"{"a":tru}"#,
        r#"{} {}"#,
        r#"{"a":"\x"}"#,
        r#"{'a':1}"#,
        r#"NaN"#,
    ] {
        assert!(serde_json::from_str::<Value>(doc).is_err(), "{doc}");
        assert!(Detector::new().scan_json(doc.as_bytes()).is_err(), "{doc}");
    }
    // Invalid UTF-8 and a lone surrogate encoded in UTF-8 (CESU): both refuse.
    for doc in [&b"{\"a\":\"\xff\"}"[..], b"{\"a\":\"\xed\xa0\x80\"}"] {
        assert!(serde_json::from_slice::<Value>(doc).is_err());
        assert!(Detector::new().scan_json(doc).is_err());
    }
    // Deeper than the detector's limit (32), within serde_json's (128): refused, never passed.
    let deep = format!("{}\"{ID}\"{}", "[".repeat(40), "]".repeat(40));
    assert!(serde_json::from_str::<Value>(&deep).is_ok());
    assert!(matches!(
        Detector::new().scan_json(deep.as_bytes()),
        Err(ScanError::JsonTooDeep { .. })
    ));
}

// =============================================================================================
// Forms and queries against serde_urlencoded / form_urlencoded.

#[derive(Debug, Clone)]
enum Tok {
    /// Characters that need no encoding.
    Lit(String),
    /// `+` (a space).
    Plus,
    /// `%XX` of a byte, upper- or lower-case hex.
    Pct(u8, bool),
    /// A `%` not followed by two hex digits.
    BadPct(&'static str),
    /// Raw bytes: UTF-8 text, or bytes that are not UTF-8.
    Raw(Vec<u8>),
    /// `;` (not a separator for serde_urlencoded).
    Semi,
    /// `=` (only in values).
    Eq,
}

fn arb_tok(raw: bool, eq: bool) -> impl Strategy<Value = Tok> {
    let mut options: Vec<(u32, BoxedStrategy<Tok>)> = vec![
        (8, "[a-zA-Z0-9_.\\-\\[\\]~]{1,6}".prop_map(Tok::Lit).boxed()),
        (2, Just(Tok::Plus).boxed()),
        (
            3,
            (0x20u8..0x7f, any::<bool>())
                .prop_map(|(b, u)| Tok::Pct(b, u))
                .boxed(),
        ),
        (
            1,
            (any::<u8>(), any::<bool>())
                .prop_map(|(b, u)| Tok::Pct(b, u))
                .boxed(),
        ),
        (
            2,
            (
                select(vec![
                    0x00u8, 0x20, 0x25, 0x26, 0x2b, 0x3d, 0x3b, 0xe5, 0xbc, 0xa0,
                ]),
                any::<bool>(),
            )
                .prop_map(|(b, u)| Tok::Pct(b, u))
                .boxed(),
        ),
        (
            1,
            select(vec!["%", "%G1", "%4", "%zz", "%%"])
                .prop_map(Tok::BadPct)
                .boxed(),
        ),
        // A percent-encoded Chinese character (张).
        (2, Just(Tok::Lit("%E5%BC%A0".to_owned())).boxed()),
        (1, Just(Tok::Semi).boxed()),
    ];
    if raw {
        options.push((
            1,
            select(vec![
                "张三".as_bytes().to_vec(),
                "é".as_bytes().to_vec(),
                vec![0xff],
                vec![0xe5, 0xbc],
            ])
            .prop_map(Tok::Raw)
            .boxed(),
        ));
    }
    if eq {
        options.push((1, Just(Tok::Eq).boxed()));
    }
    prop::strategy::Union::new_weighted(options)
}

fn render_toks(toks: &[Tok]) -> Vec<u8> {
    let mut out = Vec::new();
    for t in toks {
        match t {
            Tok::Lit(s) => out.extend_from_slice(s.as_bytes()),
            Tok::Plus => out.push(b'+'),
            Tok::Pct(b, upper) => {
                let s = if *upper {
                    format!("%{b:02X}")
                } else {
                    format!("%{b:02x}")
                };
                out.extend_from_slice(s.as_bytes());
            }
            Tok::BadPct(s) => out.extend_from_slice(s.as_bytes()),
            Tok::Raw(b) => out.extend_from_slice(b),
            Tok::Semi => out.push(b';'),
            Tok::Eq => out.push(b'='),
        }
    }
    out
}

/// The planted number, encoded: raw, every byte percent-encoded, grouped with `+`, `%20` or
/// `-`, inside a sentence.
fn encode_id(id: &str, how: u8) -> Vec<u8> {
    let pct = |s: &str| -> String { s.bytes().map(|b| format!("%{b:02X}")).collect() };
    match how % 6 {
        0 => id.as_bytes().to_vec(),
        1 => pct(id).into_bytes(),
        2 => grouped(id, '+').into_bytes(),
        3 => grouped(id, ' ').replace(' ', "%20").into_bytes(),
        4 => grouped(id, '-').into_bytes(),
        _ => format!("id%3A+{}%E3%80%82", pct(id)).into_bytes(),
    }
}

/// One field: name tokens, value tokens (`None`: no `=`).
type Pair = (Vec<Tok>, Option<Vec<Tok>>);

#[derive(Debug, Clone)]
struct FormCase {
    pairs: Vec<Pair>,
    /// Separators before each pair, and after the last: `&`, `&&`, or none at the start.
    seps: Vec<u8>,
    id: String,
    /// Which pair's value gets the number, how it is encoded, and where in the value.
    id_at: (usize, u8, bool),
    /// Which pair becomes an identity-bearing name with a person's name, and how the name is
    /// encoded.
    name_at: (usize, &'static str, bool),
}

fn arb_form_case(raw: bool) -> impl Strategy<Value = FormCase> {
    // Mostly well-formed fields (both parsers read them); some with anything in them.
    let clean = || "[a-zA-Z0-9_.\\-\\[\\]~]{1,8}".prop_map(|s| vec![Tok::Lit(s)]);
    let name = prop_oneof![
        2 => clean(),
        1 => prop::collection::vec(arb_tok(raw, false), 0..4),
    ];
    let value = prop::option::weighted(
        0.9,
        prop_oneof![
            2 => clean(),
            1 => prop::collection::vec(arb_tok(raw, true), 0..5),
        ],
    );
    (
        prop::collection::vec((name, value), 1..7),
        prop::collection::vec(0u8..4, 8),
        arb_id(),
        (any::<usize>(), any::<u8>(), any::<bool>()),
        (any::<usize>(), select(IDENTITY_KEYS), any::<bool>()),
    )
        .prop_map(|(pairs, seps, id, id_at, name_at)| FormCase {
            pairs,
            seps,
            id,
            id_at,
            name_at,
        })
}

fn render_form(case: &FormCase) -> Vec<u8> {
    let mut pairs: Vec<(Vec<u8>, Option<Vec<u8>>)> = case
        .pairs
        .iter()
        .map(|(n, v)| (render_toks(n), v.as_ref().map(|v| render_toks(v))))
        .collect();
    let n = pairs.len();
    // The number, alone or after the value's own text.
    let (at, how, after) = case.id_at;
    let slot = &mut pairs[at % n].1;
    let mut value = if after {
        slot.take().unwrap_or_default()
    } else {
        Vec::new()
    };
    if after && !value.is_empty() {
        value.push(b'+');
    }
    value.extend(encode_id(&case.id, how));
    *slot = Some(value);
    // An identity-bearing name (maybe percent-encoded) with a person's name, as a new pair.
    let (at, key, encoded) = case.name_at;
    let key: Vec<u8> = if encoded {
        key.bytes()
            .flat_map(|b| format!("%{b:02x}").into_bytes())
            .collect()
    } else {
        key.as_bytes().to_vec()
    };
    pairs.insert(at % (n + 1), (key, Some(b"%E5%BC%A0+San".to_vec())));
    let mut body = Vec::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        match case.seps[i % case.seps.len()] {
            0 if i == 0 => {}
            0 | 1 => body.push(b'&'),
            2 => body.extend_from_slice(b"&&"),
            _ => body.extend_from_slice(b"&;"),
        }
        body.extend_from_slice(name);
        if let Some(v) = value {
            body.push(b'=');
            body.extend_from_slice(v);
        }
    }
    if case.seps[0] == 3 {
        body.push(b'&');
    }
    body
}

/// Whether the detector can read the body: every `%` has two hex digits after it and every
/// decoded name and value is UTF-8 (the detector's documented strictness; serde_urlencoded is
/// lenient on both and never refuses).
fn strictly_decodable(body: &[u8]) -> bool {
    body.split(|&b| b == b'&').all(|pair| {
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &pair[pair.len()..]),
        };
        [name, value].iter().all(|part| {
            let mut out = Vec::new();
            let mut i = 0;
            while i < part.len() {
                match part[i] {
                    b'%' => {
                        let hex = |j: usize| part.get(j).is_some_and(u8::is_ascii_hexdigit);
                        if !(hex(i + 1) && hex(i + 2)) {
                            return false;
                        }
                        let s = std::str::from_utf8(&part[i + 1..i + 3]).unwrap();
                        out.push(u8::from_str_radix(s, 16).unwrap());
                        i += 3;
                    }
                    b'+' => {
                        out.push(b' ');
                        i += 1;
                    }
                    b => {
                        out.push(b);
                        i += 1;
                    }
                }
            }
            std::str::from_utf8(&out).is_ok()
        })
    })
}

/// The check for one form body (`query`: scanned with `scan_query`, as axum's `Query` reads
/// it).
fn check_form(body: &[u8], id: &str, query: bool, tally: &Tally) -> Result<(), TestCaseError> {
    let det = Detector::new();
    let shown = String::from_utf8_lossy(body);
    let theirs: Vec<(String, String)> = if query {
        let q = std::str::from_utf8(body).unwrap();
        serde_urlencoded::from_str(q).unwrap()
    } else {
        serde_urlencoded::from_bytes(body).unwrap()
    };
    // form_urlencoded is what serde_urlencoded uses; the two readings agree.
    let raw: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    prop_assert_eq!(&theirs, &raw);
    let ours = if query {
        det.scan_query(std::str::from_utf8(body).unwrap())
    } else {
        det.scan_form(body)
    };
    let scan = match ours {
        Ok(scan) => {
            prop_assert!(
                strictly_decodable(body),
                "the detector read a body with a malformed escape or non-UTF-8: {shown:?}"
            );
            scan
        }
        Err(e) => {
            prop_assert!(
                !strictly_decodable(body),
                "the detector refused a well-formed body ({e}): {shown:?}"
            );
            // serde_urlencoded reads it (lossily): the detector's refusal is the safe side.
            let holds = theirs
                .iter()
                .any(|(n, v)| holds_id(n, id) || holds_id(v, id));
            tally.add(format!(
                "serde reads lossily, detector refuses ({}){}",
                error_kind(&e),
                if holds { ", ID inside" } else { "" }
            ));
            return Ok(());
        }
    };
    tally.add("both read it");
    let mut found_id = false;
    for (name, value) in &theirs {
        let at = name_location(name);
        if holds_id(value, id) || holds_id(name, id) {
            found_id = true;
            prop_assert!(
                id_at(&scan, &at),
                "serde_urlencoded reads the ID under {name:?}, the detector found {:?} in {shown:?}",
                locations(&scan)
            );
        } else if IDENTITY_KEYS.contains(&name.as_str()) && substantive(value) {
            prop_assert!(
                blocking_at(&scan, &at),
                "serde_urlencoded reads identity data under {name:?}, the detector found {:?} in {shown:?}",
                locations(&scan)
            );
            tally.add("identity-named value found under serde's name");
        }
    }
    if found_id {
        tally.add("ID found under serde's name");
    } else {
        tally.add("ID not in serde's view (glued to other characters)");
    }
    Ok(())
}

#[test]
fn form_scanner_agrees_with_serde_urlencoded() {
    run(
        "form vs serde_urlencoded",
        3000,
        arb_form_case(true),
        |case, tally| {
            let body = render_form(&case);
            check_form(&body, &case.id, false, tally)
        },
    );
}

#[test]
fn query_scanner_agrees_with_serde_urlencoded() {
    run(
        "query vs serde_urlencoded",
        1500,
        arb_form_case(false),
        |case, tally| {
            let body = render_form(&case);
            // A query that starts with `?` (a URI `/p??a=1`): see `form_and_query_tricky_cases`.
            prop_assume!(!body.starts_with(b"?"));
            check_form(&body, &case.id, true, tally)
        },
    );
}

#[test]
fn form_and_query_tricky_cases() {
    const ID: &str = "11010519491231002X";
    let det = Detector::new();
    // Bodies serde_urlencoded and the detector both read: the ID under serde's name.
    for (body, name) in [
        // `;` is not a separator: the name is `a;b` (hidden: `;` is not shown).
        (format!("a;b={ID}"), "<3 bytes>"),
        // Leading, doubled and trailing `&`.
        (format!("&&x=1&&k={ID}&"), "k"),
        // `=` in a value; the first `=` splits.
        (format!("k=a={ID}"), "k"),
        // `+` and `%20` are spaces; `%2B` is a plus.
        ("k=110105+19491231+002X".to_owned(), "k"),
        (format!("a%2Bb={ID}"), "<3 bytes>"),
        // An empty name.
        (format!("={ID}"), "<0 bytes>"),
        // `%00` in a name: hidden.
        (format!("a%00={ID}"), "<2 bytes>"),
        // The number in the name.
        (ID.to_owned(), "<18 bytes>"),
        // Percent-encoded name and digits.
        (
            "%69%64%4e%6f=%31%31%30%31%30%35%31%39%34%39%31%32%33%31%30%30%32%58".to_owned(),
            "idNo",
        ),
    ] {
        let theirs: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap();
        assert!(
            theirs
                .iter()
                .any(|(n, v)| name_location(n) == name && (holds_id(v, ID) || holds_id(n, ID))),
            "{body}: {theirs:?}"
        );
        for scan in [
            det.scan_form(body.as_bytes()).unwrap(),
            det.scan_query(&body).unwrap(),
        ] {
            assert!(id_at(&scan, name), "{body}: {:?}", locations(&scan));
        }
    }
    // serde_urlencoded decodes lossily, the detector refuses: the safe side (the request is
    // refused, no handler reads it).
    for body in [
        &format!("k={ID}%")[..],
        &format!("k={ID}%zz"),
        &format!("k%={ID}"),
        &format!("k={ID}%FF"),
        &format!("k={ID}%E5%BC"),
    ] {
        let theirs: Vec<(String, String)> = serde_urlencoded::from_str(body).unwrap();
        assert!(theirs.iter().any(|(_, v)| v.contains(ID)), "{body}");
        assert!(det.scan_form(body.as_bytes()).is_err(), "{body}");
        assert!(det.scan_query(body).is_err(), "{body}");
    }
    let raw = [b"k=".as_slice(), ID.as_bytes(), b"\xff"].concat();
    assert!(serde_urlencoded::from_bytes::<Vec<(String, String)>>(&raw).is_ok());
    assert!(det.scan_form(&raw).is_err());
    // Disagreement (location only, the detector on the safe side): a query that itself starts
    // with `?` (the URI `/p??idNo=…`). serde_urlencoded (axum's `Query`) names the field
    // `?idNo`; `scan_query` strips one leading `?` and names it `idNo`. Every value is still
    // scanned, and `idNo` is classified as identity-bearing where `?idNo` would not be.
    let q = "?idNo=E12345678";
    let theirs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap();
    assert_eq!(theirs, vec![("?idNo".to_owned(), "E12345678".to_owned())]);
    let scan = det.scan_query(q).unwrap();
    assert!(blocking_at(&scan, "idNo"), "{:?}", locations(&scan));
    let q = format!("?k={ID}");
    assert!(id_at(&det.scan_query(&q).unwrap(), "k"));
}

// =============================================================================================
// Multipart against multer (axum's `Multipart`).

/// What a handler using axum's `Multipart` sees of one field.
#[derive(Debug, Clone)]
struct MulterField {
    name: Option<String>,
    file_name: Option<String>,
    /// The raw `Content-Type` header value.
    content_type: Option<String>,
    data: Vec<u8>,
}

/// Reads a body with multer as axum's `Multipart` does, every field to its end.
fn multer_read(body: &[u8], boundary: &str) -> Result<Vec<MulterField>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let body = Bytes::copy_from_slice(body);
    let boundary = boundary.to_owned();
    runtime.block_on(async move {
        let read = async move {
            let stream = futures_util::stream::once(async move { Ok::<_, Infallible>(body) });
            let mut multipart = multer::Multipart::new(stream, boundary);
            let mut fields = Vec::new();
            while let Some(field) = multipart.next_field().await.map_err(|e| e.to_string())? {
                let name = field.name().map(str::to_owned);
                let file_name = field.file_name().map(str::to_owned);
                let content_type = field
                    .headers()
                    .get(http::header::CONTENT_TYPE)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
                let data = field.bytes().await.map_err(|e| e.to_string())?.to_vec();
                fields.push(MulterField {
                    name,
                    file_name,
                    content_type,
                    data,
                });
            }
            Ok(fields)
        };
        match tokio::time::timeout(Duration::from_secs(5), read).await {
            Ok(result) => result,
            Err(_) => Err("multer did not finish".to_owned()),
        }
    })
}

/// How the detector reads a part, by its declared type (the detector's documented rule).
enum Reading {
    Json,
    Form,
    Text,
}

fn reading(content_type: Option<&str>) -> Reading {
    let essence = content_type
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        Reading::Json
    } else if essence == "application/x-www-form-urlencoded" {
        Reading::Form
    } else {
        Reading::Text
    }
}

/// The documented location of what is found in a multipart field: `name`, `name (file)`,
/// `(text)`, `(file)`; inside a JSON or form part, `name $.path` / `(part) $.path`.
fn part_base(field: &MulterField, structured: bool, flip_file: bool) -> String {
    match (
        field.name.as_deref(),
        field.file_name.is_some() != flip_file,
    ) {
        (Some(n), true) => format!("{} (file)", name_location(n)),
        (Some(n), false) => name_location(n),
        (None, true) => "(file)".to_owned(),
        (None, false) if structured => "(part)".to_owned(),
        (None, false) => "(text)".to_owned(),
    }
}

/// Where, in multer's view, the number is and which fields hold identity data: the locations
/// the detector must flag. `None` when a JSON part multer delivers is not JSON (the detector
/// refuses it; that is the safe side).
///
/// `flip_file`: with every field's file-ness flipped (see `multipart_tricky_bodies`: the two
/// readers differ on which parts are files, which only changes the ` (file)` in a location).
fn multer_places(
    fields: &[MulterField],
    id: &str,
    flip_file: bool,
) -> Option<(Vec<String>, Vec<String>)> {
    let (mut ids, mut names) = (Vec::new(), Vec::new());
    for field in fields {
        match reading(field.content_type.as_deref()) {
            Reading::Json => {
                let v: Value = serde_json::from_slice(&field.data).ok()?;
                let (mut p_ids, mut p_names) = (Vec::new(), Vec::new());
                serde_json_places(&v, id, &mut Vec::new(), false, &mut p_ids, &mut p_names);
                let base = part_base(field, true, flip_file);
                ids.extend(p_ids.iter().map(|p| format!("{base} {}", json_location(p))));
                names.extend(
                    p_names
                        .iter()
                        .map(|p| format!("{base} {}", json_location(p))),
                );
            }
            Reading::Form => {
                let pairs: Vec<(String, String)> =
                    serde_urlencoded::from_bytes(&field.data).ok()?;
                let base = part_base(field, true, flip_file);
                for (n, v) in pairs {
                    let at = format!("{base} {}", name_location(&n));
                    if holds_id(&v, id) {
                        ids.push(at);
                    } else if IDENTITY_KEYS.contains(&n.as_str()) && substantive(&v) {
                        names.push(at);
                    }
                }
            }
            Reading::Text => {
                let text = String::from_utf8_lossy(&field.data);
                let at = part_base(field, false, flip_file);
                if holds_id(&text, id) {
                    ids.push(at);
                } else if field
                    .name
                    .as_deref()
                    .is_some_and(|n| IDENTITY_KEYS.contains(&n))
                    && substantive(&text)
                {
                    names.push(at);
                }
            }
        }
    }
    Some((ids, names))
}

/// How a part's name is written in its `Content-Disposition`.
#[derive(Debug, Clone)]
struct PartSpec {
    name: Option<&'static str>,
    filename: Option<&'static str>,
    /// `filename*=UTF-8''…` as well.
    filename_star: bool,
    content_type: Option<&'static str>,
    /// Other parameters of the `Content-Disposition`, written as is.
    params: Vec<&'static str>,
    /// Other header lines.
    headers: Vec<&'static str>,
    /// A second `Content-Disposition` header with this name.
    second_disposition: Option<&'static str>,
    text: &'static str,
}

const PART_NAMES: &[&str] = &[
    "nick",
    "comment",
    "file",
    "x",
    "a b",
    "a;b",
    "a\"b",
    "a\\b",
    "",
    "user[idNo]",
    "数据",
    "idNo",
    "realName",
    "xm",
    "姓名",
    "real name",
    "idNo x",
];

const PART_PARAMS: &[&str] = &[
    "size=123",
    "creation-date=\"Wed, 12 Feb 1997 16:29:51 -0500\"",
    "foo=\"bar name=realName baz\"",
    "x=\"; name=idNo;\"",
    "NAME=\"nick\"",
    "Name=\"realName\"",
    "name*=UTF-8''realName",
    "filename*=UTF-8''%E5%BC%A0.txt",
    "name",
    "modification-date=\"x;name=xm\"",
];

const PART_HEADERS: &[&str] = &[
    "X-Custom: abc",
    "Content-Length: 3",
    "content-language: zh-CN",
    "X-Note: name=\"realName\"",
];

/// Parameters every reader takes alike.
const PLAIN_PARAMS: &[&str] = &[
    "size=123",
    "creation-date=\"Wed, 12 Feb 1997 16:29:51 -0500\"",
    "filename*=UTF-8''%E5%BC%A0.txt",
];

/// A part; `plain`: only what a browser or a common client would send (no traps).
fn arb_part(plain: bool) -> impl Strategy<Value = PartSpec> {
    let names: Vec<&str> = if plain {
        PART_NAMES
            .iter()
            .copied()
            .filter(|n| !n.contains('\\'))
            .collect()
    } else {
        PART_NAMES.to_vec()
    };
    let params = if plain { PLAIN_PARAMS } else { PART_PARAMS };
    (
        prop::option::weighted(0.9, select(names)),
        prop::option::weighted(
            0.3,
            select(vec![
                "a.txt",
                "张三.csv",
                "a\"b.txt",
                "x; name=realName.txt",
                "",
                "c:\\a.txt",
            ]),
        ),
        prop::bool::weighted(0.1),
        prop::option::weighted(
            0.5,
            select(vec![
                "text/plain",
                "text/plain; charset=utf-8",
                "TEXT/PLAIN",
                "application/octet-stream",
                "image/png",
                "application/json",
                "application/ld+json",
                "application/x-www-form-urlencoded",
            ]),
        ),
        prop_oneof![
            3 => Just(Vec::new()),
            1 => prop::collection::vec(select(params), 1..3),
        ],
        prop::collection::vec(select(PART_HEADERS), 0..2),
        prop::option::weighted(if plain { 0.001 } else { 0.1 }, select(PART_NAMES)),
        select(vec![
            "",
            "bob",
            "张三",
            "hello world",
            "a\r\nb",
            "x--y",
            "\r\n",
            "-- --",
        ]),
    )
        .prop_map(
            |(name, filename, filename_star, content_type, params, headers, second, text)| {
                PartSpec {
                    name,
                    filename,
                    filename_star,
                    content_type,
                    params,
                    headers,
                    second_disposition: second,
                    text,
                }
            },
        )
}

/// RFC 2046 `bchars`: a boundary is 1–70 of them, not ending with a space.
fn arb_boundary() -> impl Strategy<Value = String> {
    "[0-9a-zA-Z'()+_,./:=? -]{0,69}[0-9a-zA-Z'()+_,./:=?-]"
}

#[derive(Debug, Clone)]
struct MultipartCase {
    /// No traps: no folded lines, bare LFs or boundary inside the preamble.
    plain: bool,
    boundary: String,
    parts: Vec<PartSpec>,
    id: String,
    /// Which part gets the number in its content; which gets a person's name under an
    /// identity-bearing name.
    id_part: usize,
    seed: u64,
}

fn arb_multipart_case() -> impl Strategy<Value = MultipartCase> {
    any::<bool>()
        .prop_flat_map(|plain| {
            (
                Just(plain),
                arb_boundary(),
                prop::collection::vec(arb_part(plain), 1..5),
                arb_id(),
                any::<usize>(),
                any::<u64>(),
            )
        })
        .prop_map(
            |(plain, boundary, parts, id, id_part, seed)| MultipartCase {
                plain,
                boundary,
                parts,
                id,
                id_part,
                seed,
            },
        )
}

/// A quoted or unquoted parameter value.
fn param_value(r: &mut Rng, v: &str) -> String {
    let token = !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~[]".contains(&b));
    match r.below(4) {
        0 if token => v.to_owned(),
        // RFC 7578 / HTML: `"` as %22, CR LF as %0D%0A.
        1 => format!("\"{}\"", v.replace('"', "%22")),
        _ => format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")),
    }
}

fn disposition(r: &mut Rng, name: Option<&str>, spec: &PartSpec) -> String {
    let mut params: Vec<String> = Vec::new();
    if let Some(n) = name {
        let key = *r.pick(&["name=", "name=", "name=", "name =", "name= ", "name = "]);
        params.push(format!("{key}{}", param_value(r, n)));
    }
    if let Some(f) = spec.filename {
        params.push(format!("filename={}", param_value(r, f)));
    }
    if spec.filename_star {
        params.push("filename*=UTF-8''%E6%96%87.txt".to_owned());
    }
    params.extend(spec.params.iter().map(|p| (*p).to_owned()));
    // Shuffle a little: the name is not always first.
    if params.len() > 1 && r.chance(30) {
        let i = r.below(params.len() as u64) as usize;
        params.swap(0, i);
    }
    let mut out = (*r.pick(&["form-data", "form-data", "FORM-DATA", "attachment"])).to_owned();
    for p in params {
        out.push_str(r.pick::<&str>(&["; ", ";", " ; ", ";\t"]));
        out.push_str(&p);
    }
    out
}

fn render_multipart(case: &MultipartCase) -> Vec<u8> {
    let mut r = rng(case.seed);
    let b = &case.boundary;
    // Line endings: mostly CRLF; sometimes LF in places.
    let lf_headers = !case.plain && r.chance(15);
    let lf_everywhere = !case.plain && r.chance(5);
    let eol = |lf: bool| if lf { "\n" } else { "\r\n" };
    let mut body = String::new();
    match r.below(10) {
        0 => body.push_str("This is a preamble.\r\n"),
        1 if !case.plain => body.push_str("preamble "),
        2 => body.push_str("\r\n"),
        _ => {}
    }
    let id_part = case.id_part % case.parts.len();
    for (i, part) in case.parts.iter().enumerate() {
        body.push_str(&format!("--{b}"));
        if r.chance(10) {
            body.push_str(r.pick::<&str>(&[" ", "\t", "  \t"]));
        }
        body.push_str(eol(lf_everywhere));
        let header_eol = eol(lf_everywhere || lf_headers);
        let mut lines: Vec<String> = Vec::new();
        let cd_name = *r.pick(&[
            "Content-Disposition",
            "content-disposition",
            "CONTENT-DISPOSITION",
        ]);
        let value = disposition(&mut r, part.name, part);
        if !case.plain && r.chance(10) {
            // A folded header line (obs-fold).
            let (head, tail) = value.split_at(value.find(';').unwrap_or(value.len()));
            lines.push(format!("{cd_name}: {head}{header_eol} {tail}"));
        } else {
            lines.push(format!("{cd_name}:{}{value}", r.pick(&[" ", "", "  "])));
        }
        if let Some(second) = part.second_disposition.filter(|_| !case.plain) {
            let value = disposition(&mut r, Some(second), part);
            lines.push(format!("Content-Disposition: {value}"));
        }
        if let Some(t) = part.content_type {
            lines.push(format!("Content-Type: {t}"));
        }
        lines.extend(part.headers.iter().map(|h| (*h).to_owned()));
        if lines.len() > 1 && r.chance(30) {
            lines.swap(0, 1);
        }
        for line in &lines {
            body.push_str(line);
            body.push_str(header_eol);
        }
        body.push_str(eol(lf_everywhere));
        let id = &case.id;
        let json = matches!(reading(part.content_type), Reading::Json);
        let form = matches!(reading(part.content_type), Reading::Form);
        let content = match (i == id_part, json, form) {
            (true, true, _) => format!("{{\"k\":{{\"身份证号\":\"{id}\"}}}}"),
            (false, true, _) => "{\"k\":\"v\"}".to_owned(),
            (true, _, true) => format!("a=1&k={}", grouped(id, '+')),
            (false, _, true) => "a=1&b=2".to_owned(),
            // After the part's own text, never glued to it.
            (true, _, _) => format!("{}{}{id}", part.text, r.pick(&[" ", "\r\n", ", "])),
            (false, _, _) => part.text.to_owned(),
        };
        body.push_str(&content);
        body.push_str(eol(lf_everywhere));
    }
    body.push_str(&format!("--{b}--"));
    match r.below(6) {
        0 => body.push_str("\r\nepilogue"),
        1 => body.push_str(&format!(
            "\r\n--{b}\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n{}\r\n--{b}--\r\n",
            case.id
        )),
        2 => {}
        _ => body.push_str("\r\n"),
    }
    body.into_bytes()
}

/// The check for one multipart body.
fn check_multipart(
    body: &[u8],
    boundary: &str,
    id: &str,
    tally: &Tally,
) -> Result<(), TestCaseError> {
    let shown = String::from_utf8_lossy(body);
    let ours = Detector::new().scan_multipart(body, boundary);
    let theirs = match multer_read(body, boundary) {
        Ok(fields) => fields,
        Err(e) => {
            tally.add(match &ours {
                Err(d) => format!("multer rejects, detector rejects ({})", error_kind(d)),
                Ok(s) if s.should_block() => "multer rejects, detector blocks".to_owned(),
                Ok(_) => "multer rejects, detector clean (no handler reads it)".to_owned(),
            });
            if e.contains("did not finish") {
                tally.add("multer hangs");
            }
            return Ok(());
        }
    };
    tally.add("multer accepts");
    let Some((ids, names)) = multer_places(&theirs, id, false) else {
        prop_assert!(
            ours.is_err(),
            "a JSON or form part multer delivers is malformed, yet the detector read it: {shown:?}"
        );
        return Ok(());
    };
    let (ids_flipped, names_flipped) = multer_places(&theirs, id, true).unwrap();
    let scan = match ours {
        Ok(scan) => scan,
        Err(e) => {
            // Refused: nothing reaches the handler.
            tally.add(format!(
                "multer accepts, detector refuses ({}){}",
                error_kind(&e),
                if ids.is_empty() && names.is_empty() {
                    ""
                } else {
                    " with identity data inside"
                }
            ));
            return Ok(());
        }
    };
    tally.add("both accept");
    if ids.is_empty() {
        tally.add("both accept, the number not in any field multer delivers");
    }
    let fields = || {
        theirs
            .iter()
            .map(|f| (&f.name, &f.file_name, &f.content_type))
            .collect::<Vec<_>>()
    };
    for (at, flipped) in ids.iter().zip(&ids_flipped) {
        if !id_at(&scan, at) && id_at(&scan, flipped) {
            tally.add("ID found under multer's name, file-ness differs");
            continue;
        }
        prop_assert!(
            id_at(&scan, at),
            "multer delivers the ID in {at}, the detector found {:?}\nmulter: {:?}\nbody: {shown:?}",
            locations(&scan),
            fields()
        );
        tally.add("ID found under multer's name");
    }
    for (at, flipped) in names.iter().zip(&names_flipped) {
        if !blocking_at(&scan, at) && blocking_at(&scan, flipped) {
            tally.add("identity-named field found under multer's name, file-ness differs");
            continue;
        }
        prop_assert!(
            blocking_at(&scan, at),
            "multer delivers identity data in {at}, the detector found {:?}\nmulter: {:?}\nbody: {shown:?}",
            locations(&scan),
            fields()
        );
        tally.add("identity-named field found under multer's name");
    }
    Ok(())
}

#[test]
fn multipart_scanner_agrees_with_multer() {
    run(
        "multipart vs multer",
        3000,
        arb_multipart_case(),
        |case, tally| {
            let body = render_multipart(&case);
            check_multipart(&body, &case.boundary, &case.id, tally)
        },
    );
}

/// What the detector does with a hand-written body.
#[derive(Debug)]
enum Outcome {
    /// Refuses it (`InvalidMultipart`): no handler reads it.
    Refuses,
    /// Flags these locations (blocking).
    Flags(&'static [&'static str]),
    /// Reads it and finds nothing.
    Clean,
}

/// Every disagreement found between multer and the detector, one body each, with what multer
/// reads (name, content) and what the detector does now. `FIXED` marks the bypasses closed in
/// this change (the detector used to read the body differently and pass the field unseen).
#[test]
fn multipart_tricky_bodies() {
    use Outcome::*;
    type Reading = Option<&'static [(Option<&'static str>, &'static str)]>;
    let cases: &[(&str, &[u8], Reading, Outcome)] = &[
        // FIXED: `--B` in the middle of a preamble line. multer starts there and reads the part;
        // the detector looked for a delimiter at the start of a line and skipped it all.
        (
            "boundary inside the preamble",
            b"junk--B\r\nContent-Disposition: form-data; name=\"realName\"\r\n\r\nZhang San\r\n--B--",
            Some(&[(Some("realName"), "Zhang San")]),
            Refuses,
        ),
        // FIXED: header lines ending in a bare LF. httparse (multer) reads two headers; the
        // detector read one, `Content-Type`, and no name.
        (
            "LF between header lines",
            b"--B\r\nContent-Type: text/plain\nContent-Disposition: form-data; name=\"realName\"\r\n\r\nZhang San\r\n--B--",
            Some(&[(Some("realName"), "Zhang San")]),
            Flags(&["realName"]),
        ),
        // An empty line (LF LF) inside the header block: multer stops reading headers there
        // (name `nick`); the detector read the second header too (`realName`). Now refused.
        (
            "empty line inside the header block",
            b"--B\r\nContent-Disposition: form-data; name=\"nick\"\n\nContent-Disposition: form-data; name=\"realName\"\r\n\r\nZhang San\r\n--B--",
            Some(&[(Some("nick"), "Zhang San")]),
            Refuses,
        ),
        // FIXED: no disposition type. multer finds `name` at the start; the detector read the
        // parameters after the first `;` only, and there was none.
        (
            "no disposition type",
            b"--B\r\nContent-Disposition: name=\"realName\"\r\n\r\nZhang San\r\n--B--",
            Some(&[(Some("realName"), "Zhang San")]),
            Refuses,
        ),
        // FIXED: `name` at the end of a longer parameter name. multer skips the `name` inside
        // `filename`, then takes the next `name` without checking what precedes it.
        (
            "filenamename",
            b"--B\r\nContent-Disposition: form-data; filenamename=\"realName\"; name=\"nick\"\r\n\r\nZhang San\r\n--B--",
            Some(&[(Some("realName"), "Zhang San")]),
            Refuses,
        ),
        // FIXED: an unquoted name with a space. multer stops at the space (`realName`); the
        // detector read `realName junk`, which is no identity-bearing name.
        (
            "unquoted name with a space",
            b"--B\r\nContent-Disposition: form-data; name=realName junk\r\n\r\nZhang San\r\n--B--",
            Some(&[(Some("realName"), "Zhang San")]),
            Refuses,
        ),
        // FIXED: `name=` inside another parameter's quoted value, before the real name. multer
        // takes the first `name` after a space or `;`, wherever it is.
        (
            "name inside another parameter",
            b"--B\r\nContent-Disposition: form-data; foo=\"a name=realName b\"; name=\"nick\"\r\n\r\nZhang San\r\n--B--",
            Some(&[(Some("realName"), "Zhang San")]),
            Refuses,
        ),
        // FIXED: two `name` parameters. multer takes the first, the detector took the last
        // (parameter names compare without case: `NAME` too).
        (
            "two name parameters",
            b"--B\r\nContent-Disposition: form-data; name=\"realName\"; NAME=\"nick\"\r\n\r\nZhang San\r\n--B--",
            Some(&[(Some("realName"), "Zhang San")]),
            Refuses,
        ),
        // Two `Content-Disposition` headers: multer keeps the last; the detector took the last
        // one's name, or an earlier one's when the last had none. Parsers differ: refused.
        (
            "two Content-Disposition headers",
            b"--B\r\nContent-Disposition: form-data; name=\"nick\"\r\nContent-Disposition: form-data; name=\"realName\"\r\n\r\nZhang San\r\n--B--",
            Some(&[(Some("realName"), "Zhang San")]),
            Refuses,
        ),
        (
            "two Content-Disposition headers, the last without a name",
            b"--B\r\nContent-Disposition: form-data; name=\"realName\"\r\nContent-Disposition: form-data\r\n\r\nZhang San\r\n--B--",
            Some(&[(None, "Zhang San")]),
            Refuses,
        ),
        // `Name=` (parameter names are case-insensitive): multer looks for `name` only and sees
        // no name; the detector read `realName` (the safe side). Now refused as ambiguous.
        (
            "Name with a capital",
            b"--B\r\nContent-Disposition: form-data; Name=\"realName\"\r\n\r\nZhang San\r\n--B--",
            Some(&[(None, "Zhang San")]),
            Refuses,
        ),
        // `name*` (RFC 8187): multer sees no name, a parser that honours it sees `realName`.
        (
            "name*",
            b"--B\r\nContent-Disposition: form-data; name*=UTF-8''realName\r\n\r\nZhang San\r\n--B--",
            Some(&[(None, "Zhang San")]),
            Refuses,
        ),
        // Backslashes: multer keeps them but for `\"` (`a\\b`), the detector unescaped (`a\b`).
        (
            "backslash in a quoted name",
            b"--B\r\nContent-Disposition: form-data; name=\"a\\\\b\"\r\n\r\n11010519491231002X\r\n--B--",
            Some(&[(Some("a\\\\b"), "11010519491231002X")]),
            Refuses,
        ),
        // `\"` is read alike by both.
        (
            "escaped quote in a name",
            b"--B\r\nContent-Disposition: form-data; name=\"a\\\"b\"\r\n\r\n11010519491231002X\r\n--B--",
            Some(&[(Some("a\"b"), "11010519491231002X")]),
            Flags(&["<3 bytes>"]),
        ),
        // Location only: `filename*` without `filename`. multer sees no file name (a field);
        // the detector calls it a file (` (file)`). The content is scanned alike.
        (
            "filename* alone",
            b"--B\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''a.txt\r\n\r\n11010519491231002X\r\n--B--",
            Some(&[(Some("f"), "11010519491231002X")]),
            Flags(&["f (file)"]),
        ),
        // Location only, the detector on the safe side: a name that is not UTF-8. multer
        // gives no name; the detector hides it by length.
        (
            "name not UTF-8",
            b"--B\r\nContent-Disposition: form-data; name=\"a\xffb\"\r\n\r\n11010519491231002X\r\n--B--",
            Some(&[(None, "11010519491231002X")]),
            Flags(&["<5 bytes>"]),
        ),
        // A part without headers: multer reads its header block up to the next blank line,
        // swallowing the next part's headers (no name); the detector reads two parts and
        // flags `realName` (the safe side).
        (
            "part without headers",
            b"--B\r\n\r\nhello\r\n--B\r\nContent-Disposition: form-data; name=\"realName\"\r\n\r\nZhang San\r\n--B--",
            Some(&[(None, "Zhang San")]),
            Flags(&["realName"]),
        ),
        // Base64 content: multer hands the handler the base64 text; the detector refuses it
        // (RFC 7578 §4.7), as it did.
        (
            "Content-Transfer-Encoding: base64",
            b"--B\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Transfer-Encoding: base64\r\n\r\nMTEw\r\n--B--",
            Some(&[(Some("a"), "MTEw")]),
            Refuses,
        ),
        // Agreements worth keeping: transport padding, the epilogue (a part after the close
        // delimiter is read by neither), a content that starts with the boundary.
        (
            "padding and epilogue",
            b"--B  \t\r\nContent-Disposition: form-data; name=\"realName\"\r\n\r\nZhang San\r\n--B--  \r\n--B\r\nContent-Disposition: form-data; name=\"idNo\"\r\n\r\n11010519491231002X\r\n--B--",
            Some(&[(Some("realName"), "Zhang San")]),
            Flags(&["realName"]),
        ),
        (
            "content starting with the boundary",
            b"--B\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n--B\r\n\r\n--B--",
            Some(&[(Some("f"), "--B\r\n")]),
            Clean,
        ),
        // What multer rejects, no handler reads: whatever the detector does is fine.
        (
            "space before the colon",
            b"--B\r\nContent-Disposition : form-data; name=\"realName\"\r\n\r\nZhang San\r\n--B--",
            None,
            Flags(&["realName"]),
        ),
        (
            "folded header",
            b"--B\r\nContent-Disposition: form-data;\r\n name=\"realName\"\r\n\r\nZhang San\r\n--B--",
            None,
            Refuses,
        ),
        (
            "LF after the delimiter",
            b"--B\nContent-Disposition: form-data; name=\"realName\"\r\n\r\nZhang San\r\n--B--",
            None,
            Refuses,
        ),
        (
            "LF before the delimiter",
            b"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\n--B--",
            None,
            Refuses,
        ),
        (
            "no close delimiter",
            b"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B\r\n",
            None,
            Refuses,
        ),
    ];
    for (what, body, multer_reads, outcome) in cases {
        let theirs = multer_read(body, "B");
        match (multer_reads, &theirs) {
            (Some(expected), Ok(fields)) => {
                let got: Vec<(Option<&str>, String)> = fields
                    .iter()
                    .map(|f| {
                        (
                            f.name.as_deref(),
                            String::from_utf8_lossy(&f.data).into_owned(),
                        )
                    })
                    .collect();
                let expected: Vec<(Option<&str>, String)> = expected
                    .iter()
                    .map(|(n, d)| (*n, (*d).to_owned()))
                    .collect();
                assert_eq!(got, expected, "{what}: multer");
            }
            (None, Err(_)) => {}
            _ => panic!("{what}: multer read {theirs:?}"),
        }
        let ours = Detector::new().scan_multipart(body, "B");
        match (outcome, &ours) {
            (Refuses, Err(ScanError::InvalidMultipart { .. })) => {}
            (Flags(at), Ok(scan)) => {
                for at in *at {
                    assert!(
                        blocking_at(scan, at),
                        "{what}: {at} not in {:?}",
                        locations(scan)
                    );
                }
            }
            (Clean, Ok(scan)) if scan.is_clean() => {}
            _ => panic!("{what}: expected {outcome:?}, the detector gave {ours:?}"),
        }
        // And the generic check, where multer reads it.
        if multer_reads.is_some() {
            let tally = Tally::default();
            let id = "11010519491231002X";
            if let Err(e) = check_multipart(body, "B", id, &tally) {
                // Location-only disagreements are listed above; everything else must pass.
                assert!(
                    matches!(
                        *what,
                        "filename* alone" | "name not UTF-8" | "part without headers"
                    ),
                    "{what}: {e}"
                );
            }
        }
    }
}
