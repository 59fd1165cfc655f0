//! The attack catalogue (issue 11): requests an attacker would send to slip plaintext identity
//! data past netid (Art. 7 §2), black-box over real sockets, through a real axum server and a
//! real actix-web server running the same small app, each as a 网证 user and as a user who
//! verified another lawful way (Art. 7 §3).
//!
//! Every row is one request, written byte by byte (so duplicate headers, odd content types,
//! chunked framing, header case and obs-fold are what the row says), with one line saying what
//! it tries, and the outcome it must get for each kind of user:
//!
//! - a 网证 user's request that carries identity data must not reach a handler that would read
//!   it: 422 `netid.extra_plaintext` (or the refusal the row names), with no identity value in
//!   the refusal and a refusal body under 16 KiB whatever the request's size;
//! - the same request from the other-method user is served (netid does not inspect it), unless
//!   the framework itself refuses it;
//! - a clean request gets the same status for both users (equal limits): an exception is named
//!   in the row and in docs/COMPLIANCE.md.
//!
//! Rows marked `known_gap` hold the outcome netid should give but does not yet; each says why,
//! and what closing it would need. They are checked like every row but reported in a table
//! instead of failing; their number must not grow ([`MAX_GAPS`]), and a gap that closes is
//! reported so the mark (and the bound) can go.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use netid::client::{LegalBasis, VerificationRequest};
use netid::model::FieldName;
use netid::policy::{ConsentRecord, LoginFlow, PlaintextRule, RoutePolicy, Rules, SessionManager};
use netid::sandbox::{Persona, Sandbox};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::scenarios::{Harness, Req, Resp, StaffCheck, sign_in_netid, sign_in_other};

/// The rules' body limit (the default, 1 MiB).
const MAX: usize = 1 << 20;
/// The frameworks' own limits, set well above netid's so that netid's is the one tested.
const FRAMEWORK_LIMIT: usize = 4 << 20;
/// A refusal larger than this is an amplification (issue 11, class 5).
const MAX_REFUSAL: usize = 16 * 1024;
/// Known gaps today, per adapter. Lower it when gaps close; a regression fails.
const MAX_GAPS: usize = 0;

// ---------------------------------------------------------------------------------------------
// Identity values (see /work/shared/ID-FORMATS.md; check characters computed by ISO 7064
// MOD 11-2 with the standard's weights, independently of netid).

/// GB 11643's own example.
const ID: &str = "11010519491231002X";
/// The standard's second example (born 1880).
const ID_B: &str = "440524188001010014";
/// All digits, so that it can be a JSON number.
const ID_C: &str = "320102199003071239";
/// A legacy 15-digit resident ID (no check character: found with context only).
const ID15: &str = "110105491231002";
/// HK residents' residence permit (810000).
const HK_RP: &str = "810000199001011230";
/// Macau residents' residence permit (820000).
const MO_RP: &str = "820000198511204566";
/// Taiwan residents' residence permit (830000).
const TW_RP: &str = "830000197707077893";
/// Foreigner's permanent residence ID card, 2023 form (9 + province + nationality + date…).
const FPR23: &str = "931840198506150015";
/// Foreigner's permanent residence ID card, 2017 form (3 letters + 12 digits).
const FPR17: &str = "USA123456789012";
/// A PRC passport (citizen settled abroad): E + 8 digits.
const PASSPORT: &str = "E12345678";
/// The newer form: E + a letter (not I/O) + 7 digits.
const PASSPORT_EA: &str = "EA1234567";
/// HK/Macau residents' travel permit (回乡证): H + 8 digits.
const HK_TP: &str = "H12345678";
/// An older Macau card with a 2-digit renewal count.
const MO_TP: &str = "M1234567801";
/// Taiwan residents' travel permit (台胞证): 8 digits.
const TW_TP: &str = "87654321";
const NAME: &str = "张伟";
const BIRTH: &str = "1990-03-07";

/// Every identity value the catalogue sends: none may come back in a refusal.
const SECRETS: &[&str] = &[
    ID,
    "19491231002",
    ID_B,
    ID_C,
    ID15,
    HK_RP,
    MO_RP,
    TW_RP,
    FPR23,
    FPR17,
    PASSPORT,
    PASSPORT_EA,
    HK_TP,
    MO_TP,
    TW_TP,
    NAME,
    "李娜",
    BIRTH,
    "19900307",
];

// ---------------------------------------------------------------------------------------------
// The catalogue's vocabulary.

/// The classes of issue 11 (and what else was found), for the coverage count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Class {
    /// 1. Declared type vs what the handler reads.
    DeclaredType,
    /// 2. Field names.
    FieldNames,
    /// 3. Normalisation.
    Normalisation,
    /// 4. Places: query, path, headers, cookies, multipart.
    Places,
    /// 5. Amplification: the refusal stays small.
    Amplification,
    /// 6. Sizes and equal limits.
    Sizes,
    /// Compressed bodies.
    Compressed,
    /// Chunked transfer and other framing.
    Framing,
    /// The seven document types of Art. 15.
    DocumentTypes,
    /// Names and birth dates.
    NamesAndDates,
    /// Routes with Redact, AllowUnderLaw, AllowWithConsent, opaque types.
    RoutePolicies,
    /// What no scanner can see: documented as the platform's duty.
    Unscannable,
}

/// An outcome a row expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// 200 from the handler.
    Served,
    /// 200 from the handler, with no identity value in what it got (a redacting route).
    Redacted,
    /// 422 `netid.extra_plaintext`, with locations.
    Plaintext,
    /// This netid refusal.
    Problem(u16, &'static str),
    /// Whatever the framework answers, but an answer, and not a netid refusal.
    Framework,
    /// Any 4xx: the handler did not get it.
    Refused,
}

/// How the body is framed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Framing {
    /// `Content-Length` (for a body, or any POST).
    Length,
    /// `Transfer-Encoding: chunked`, chunks of this size, then these trailer lines.
    Chunked(usize, Vec<String>),
    /// No framing header at all: the row writes its own.
    Raw,
}

/// One request, as bytes on the wire (but for the session, added per user).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Raw {
    method: &'static str,
    target: String,
    /// In order, verbatim. `{session}` in a value stands for the session token; without it,
    /// the session goes in a `Cookie` header of its own.
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    framing: Framing,
}

impl Raw {
    fn get(target: impl Into<String>) -> Self {
        Raw {
            method: "GET",
            target: target.into(),
            headers: Vec::new(),
            body: Vec::new(),
            framing: Framing::Length,
        }
    }
    fn post(target: &str, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Self {
        let mut r = Raw::get(target);
        r.method = "POST";
        r.body = body.into();
        if let Some(ct) = content_type {
            r = r.h("Content-Type", ct);
        }
        r
    }
    fn h(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
    fn method(mut self, m: &'static str) -> Self {
        self.method = m;
        self
    }
    fn chunked(mut self, size: usize) -> Self {
        self.framing = Framing::Chunked(size, Vec::new());
        self
    }
    fn trailer(mut self, line: &str) -> Self {
        if let Framing::Chunked(_, t) = &mut self.framing {
            t.push(line.to_owned());
        }
        self
    }
    fn raw_framing(mut self) -> Self {
        self.framing = Framing::Raw;
        self
    }

    /// The bytes on the wire, with `session` (if any) and `Connection: close`.
    fn render(&self, addr: SocketAddr, session: Option<&str>) -> Vec<u8> {
        let mut out = format!(
            "{} {} HTTP/1.1\r\nHost: {addr}\r\n",
            self.method, self.target
        )
        .into_bytes();
        let marker = b"{session}";
        let placed = self
            .headers
            .iter()
            .any(|(_, v)| v.windows(marker.len()).any(|w| w == marker));
        if let (Some(s), false) = (session, placed) {
            out.extend_from_slice(format!("Cookie: netid_session={s}\r\n").as_bytes());
        }
        for (k, v) in &self.headers {
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(&replace(v, marker, session.unwrap_or("").as_bytes()));
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"Connection: close\r\n");
        match &self.framing {
            Framing::Length => {
                if !self.body.is_empty() || self.method != "GET" {
                    out.extend_from_slice(
                        format!("Content-Length: {}\r\n", self.body.len()).as_bytes(),
                    );
                }
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(&self.body);
            }
            Framing::Chunked(size, trailers) => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                for chunk in self.body.chunks((*size).max(1)) {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n");
                for t in trailers {
                    out.extend_from_slice(t.as_bytes());
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"\r\n");
            }
            Framing::Raw => {
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(&self.body);
            }
        }
        out
    }
}

fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// One catalogue row.
#[derive(Debug, Clone)]
struct Row {
    class: Class,
    /// One line: what the request tries.
    what: String,
    req: Raw,
    netid: Expect,
    other: Expect,
    /// Why netid does not give `netid` yet (reported, not failed).
    known_gap: Option<&'static str>,
}

impl Row {
    fn netid(mut self, e: Expect) -> Self {
        self.netid = e;
        self
    }
    fn other(mut self, e: Expect) -> Self {
        self.other = e;
        self
    }
    fn gap(mut self, why: &'static str) -> Self {
        self.known_gap = Some(why);
        self
    }
    fn clean(&self) -> bool {
        matches!(
            self.netid,
            Expect::Served | Expect::Redacted | Expect::Framework
        )
    }
}

/// Carries identity data: refused for a 网证 user, served for the other.
fn dirty(class: Class, what: impl Into<String>, req: Raw) -> Row {
    Row {
        class,
        what: what.into(),
        req,
        netid: Expect::Plaintext,
        other: Expect::Served,
        known_gap: None,
    }
}

/// Carries none: served for both.
fn clean(class: Class, what: impl Into<String>, req: Raw) -> Row {
    Row {
        class,
        what: what.into(),
        req,
        netid: Expect::Served,
        other: Expect::Served,
        known_gap: None,
    }
}

fn json(path: &str, body: impl Into<String>) -> Raw {
    Raw::post(path, Some("application/json"), body.into())
}

fn form(path: &str, body: impl Into<String>) -> Raw {
    Raw::post(path, Some("application/x-www-form-urlencoded"), body.into())
}

fn text(path: &str, body: impl Into<String>) -> Raw {
    Raw::post(path, Some("text/plain; charset=utf-8"), body.into())
}

/// `%XX` for every byte that is not unreserved.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `%XX` for every byte.
fn pct_all(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

const BOUNDARY: &str = "XyZ";
const MULTIPART: &str = "multipart/form-data; boundary=XyZ";

fn part(name: &str, value: &str) -> String {
    format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
}

fn file_part(name: &str, filename: &str, content_type: &str, content: &[u8]) -> Vec<u8> {
    let mut b = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    b.extend_from_slice(content);
    b.extend_from_slice(b"\r\n");
    b
}

fn multipart(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut b: Vec<u8> = parts.concat();
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

fn utf16le(s: &str) -> Vec<u8> {
    let mut b = vec![0xff, 0xfe];
    b.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
    b
}

/// CRC-32 (ISO 3309, as gzip uses it).
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xedb8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A valid gzip member (RFC 1952) holding `data` compressed with fixed Huffman codes.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend(deflate_fixed(data));
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// One deflate block with the fixed Huffman codes (RFC 1951 §3.2.6), literals only: no byte
/// of `data` appears as itself in the output.
fn deflate_fixed(data: &[u8]) -> Vec<u8> {
    /// Bits, low bit of each byte first; Huffman codes most significant bit first.
    #[derive(Default)]
    struct Bits {
        out: Vec<u8>,
        acc: u8,
        n: u32,
    }
    impl Bits {
        fn bit(&mut self, b: u32) {
            self.acc |= ((b & 1) as u8) << self.n;
            self.n += 1;
            if self.n == 8 {
                self.out.push(self.acc);
                (self.acc, self.n) = (0, 0);
            }
        }
        fn code(&mut self, c: u32, len: u32) {
            for i in (0..len).rev() {
                self.bit(c >> i);
            }
        }
    }
    let mut w = Bits::default();
    // BFINAL = 1, BTYPE = 01 (fixed), low bit first.
    for b in [1, 1, 0] {
        w.bit(b);
    }
    for &b in data {
        match b {
            0..=143 => w.code(0x30 + u32::from(b), 8),
            _ => w.code(0x190 + u32::from(b - 144), 9),
        }
    }
    // End of block (256): seven zero bits, then pad to a byte.
    w.code(0, 7);
    while w.n != 0 {
        w.bit(0);
    }
    w.out
}

/// A zlib stream (RFC 1950), what `Content-Encoding: deflate` means.
fn zlib(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    out.extend(deflate_fixed(data));
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

#[test]
fn the_catalogues_own_encoders_match_their_standards() {
    // RFC 3720 B.4 / the CRC catalogue's check value for "123456789".
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    // Adler-32 of "Wikipedia" (RFC 1950's algorithm; the well-known worked example).
    let z = zlib(b"Wikipedia");
    assert_eq!(&z[z.len() - 4..], &0x11e6_0398u32.to_be_bytes());
    // zlib's own output for "abc" (`zlib.compress(b"abc")` = 78 9c 4b 4c 4a 06 00 02 4d 01 27):
    // the same fixed-Huffman block and Adler-32.
    assert_eq!(deflate_fixed(b"abc"), [0x4b, 0x4c, 0x4a, 0x06, 0x00]);
    assert_eq!(
        &zlib(b"abc")[2..],
        [0x4b, 0x4c, 0x4a, 0x06, 0x00, 0x02, 0x4d, 0x01, 0x27]
    );
    assert_eq!(
        u16::from_be_bytes([0x78, 0x01]) % 31,
        0,
        "a valid zlib header"
    );
    // A compressed body does not hold the ID as text.
    let g = gzip(ID.as_bytes());
    assert!(!g.windows(ID.len()).any(|w| w == ID.as_bytes()));
    assert_eq!(
        utf16le("身1"),
        [0xff, 0xfe, 0xab, 0x8e, 0x31, 0x00],
        "U+8EAB, U+0031"
    );
    assert_eq!(pct("张 1"), "%E5%BC%A0%201");
}

// ---------------------------------------------------------------------------------------------
// The catalogue.

/// The seven Art. 15 documents (and their older forms): what, value, a key that names it, a
/// label in text, whether the number carries a check character (found without context).
const DOCUMENTS: &[(&str, &str, &str, &str, bool)] = &[
    ("resident ID, 18 characters", ID, "idNo", "身份证号", true),
    (
        "resident ID, 18 digits (born 1880)",
        ID_B,
        "sfzh",
        "身份证",
        true,
    ),
    (
        "resident ID, 18 digits",
        ID_C,
        "gmsfhm",
        "公民身份号码",
        true,
    ),
    (
        "resident ID, legacy 15 digits",
        ID15,
        "idCard",
        "身份证号码",
        false,
    ),
    (
        "passport of a citizen settled abroad, E+8",
        PASSPORT,
        "passportNo",
        "护照号码",
        false,
    ),
    ("passport, E+letter+7", PASSPORT_EA, "hzhm", "护照号", false),
    (
        "HK/Macau travel permit, H+8",
        HK_TP,
        "zjhm",
        "港澳居民来往内地通行证",
        false,
    ),
    (
        "Macau travel permit with renewal count",
        MO_TP,
        "certNo",
        "回乡证",
        false,
    ),
    (
        "Taiwan travel permit, 8 digits",
        TW_TP,
        "zjhm",
        "台湾居民来往大陆通行证",
        false,
    ),
    (
        "HK residence permit (810000)",
        HK_RP,
        "idNo",
        "港澳居民居住证",
        true,
    ),
    (
        "Macau residence permit (820000)",
        MO_RP,
        "certNo",
        "居住证号码",
        true,
    ),
    (
        "Taiwan residence permit (830000)",
        TW_RP,
        "idNumber",
        "台湾居民居住证",
        true,
    ),
    (
        "foreigner's permanent residence card, 2023",
        FPR23,
        "certNo",
        "永久居留身份证",
        true,
    ),
    (
        "foreigner's permanent residence card, 2017",
        FPR17,
        "zjhm",
        "永久居留证",
        false,
    ),
];

fn catalogue() -> Vec<Row> {
    let mut rows = Vec::new();
    declared_type(&mut rows);
    field_names(&mut rows);
    normalisation(&mut rows);
    places(&mut rows);
    document_types(&mut rows);
    names_and_dates(&mut rows);
    sizes_and_amplification(&mut rows);
    compressed_and_framing(&mut rows);
    route_policies(&mut rows);
    unscannable(&mut rows);
    second_hunt(&mut rows);
    rows
}

/// The second hunt (issue 11, after the first catalogue's gaps closed): more of each class, one
/// line each.
fn second_hunt(rows: &mut Vec<Row>) {
    use Class::{
        Amplification as A, DeclaredType as T, FieldNames as F, Normalisation as N, Places as P,
        Sizes as S,
    };
    // Key/value shapes: the field's name is the value of a sibling member.
    for (what, body) in [
        (
            "key/value: top-level array, Chinese label 身份证号",
            format!(r#"[{{"key":"身份证号","value":"{ID15}"}}]"#),
        ),
        (
            "key/value: the value member before its label",
            format!(r#"{{"attrs":[{{"value":"{ID15}","name":"idNo"}}]}}"#),
        ),
        (
            "key/value: a birth date under field/val",
            format!(r#"{{"form":[{{"field":"birthday","val":"{BIRTH}"}}]}}"#),
        ),
        (
            "key/value: label 姓名 and content",
            format!(r#"{{"items":[{{"label":"姓名","content":"{NAME}"}}]}}"#),
        ),
        (
            "key/value: attrName/attrValue with a passport",
            format!(r#"{{"attrName":"passportNo","attrValue":"{PASSPORT}"}}"#),
        ),
        (
            "key/value: k/v with Pinyin xm",
            format!(r#"{{"kv":[{{"k":"xm","v":"{NAME}"}}]}}"#),
        ),
        (
            "key/value: the value an array",
            format!(r#"{{"props":[{{"name":"realName","value":["{NAME}"]}}]}}"#),
        ),
    ] {
        rows.push(dirty(F, what, json("/json", body)));
    }
    rows.push(dirty(
        F,
        "key/value pairs as form keys: f[0][key]=realName&f[0][value]=…",
        form(
            "/form",
            format!("f[0][key]=realName&f[0][value]={}", pct(NAME)),
        ),
    ));
    rows.push(dirty(
        P,
        "key/value pairs as query keys, value first: a.1.value=…&a.1.name=idNo",
        Raw::get(format!("/query?a.1.value={ID15}&a.1.name=idNo")),
    ));
    rows.push(clean(
        F,
        "key/value pairs as form keys naming nothing: f[0][key]=color&f[0][value]=red",
        form("/form", "f[0][key]=color&f[0][value]=red"),
    ));
    rows.push(dirty(
        P,
        "key/value JSON in a cookie",
        Raw::get("/headers").h(
            "Cookie",
            format!("u={}", pct(&format!(r#"{{"k":"sfzh","v":"{ID15}"}}"#))),
        ),
    ));
    rows.push(dirty(
        P,
        "key/value JSON in a query parameter",
        Raw::get(format!(
            "/query?filter={}",
            pct(&format!(r#"[{{"name":"idNo","value":"{ID15}"}}]"#))
        )),
    ));
    rows.push(dirty(
        P,
        "key/value JSON in a multipart JSON file",
        Raw::post(
            "/multipart",
            Some(MULTIPART),
            multipart(&[file_part(
                "meta",
                "meta.json",
                "application/json",
                format!(r#"[{{"fieldName":"idCardNo","fieldValue":"{ID15}"}}]"#).as_bytes(),
            )]),
        ),
    ));
    for (what, body) in [
        (
            "key/value: product options stay clean",
            r#"{"items":[{"key":"color","value":"红色"},{"key":"size","value":"XL"}]}"#,
        ),
        (
            "key/value: a flag about identity stays clean",
            r#"{"settings":[{"name":"idCardVerified","value":true},{"name":"nickname","value":"bob"}]}"#,
        ),
    ] {
        rows.push(clean(F, what, json("/json", body)));
    }
    // `docNo`: context for the 15-digit ID, not an identity field by its name.
    rows.push(dirty(
        F,
        "15-digit ID under `doc_no` of a passenger record",
        json(
            "/json",
            format!(r#"{{"passengers":[{{"docType":"NI","doc_no":"{ID15}"}}]}}"#),
        ),
    ));
    for value in ["SO-20240517-0001", "20240517", "E20240517"] {
        rows.push(clean(
            F,
            format!("voucher number `{value}` under `docNo` stays clean"),
            json("/json", format!(r#"{{"docNo":"{value}"}}"#)),
        ));
    }
    // Digits that are not `Nd`: circled, negative circled, super- and subscript.
    for (what, value) in [
        ("negative circled digits", "❶❶⓿❶⓿❺❶❾❹❾❶❷❸❶⓿⓿❷X"),
        ("double circled digits", "⓵⓵⓿⓵⓿⓹⓵⓽⓸⓽⓵⓶⓷⓵⓿⓿⓶X"),
        ("superscript digits", "¹¹⁰¹⁰⁵¹⁹⁴⁹¹²³¹⁰⁰²X"),
        ("subscript digits", "₁₁₀₁₀₅₁₉₄₉₁₂₃₁₀₀₂X"),
        ("circled digits mixed with ASCII", "110105①⑨④⑨1231002X"),
    ] {
        rows.push(dirty(
            N,
            format!("ID in {what}, under a neutral key"),
            json("/json", format!(r#"{{"bio":"{value}"}}"#)),
        ));
    }
    let circled = "①①⓪①⓪⑤①⑨④⑨①②③①⓪⓪②X";
    rows.push(dirty(
        N,
        "ID in circled digits in a form value",
        form("/form", format!("note={}", pct(circled))),
    ));
    rows.push(dirty(
        N,
        "ID in circled digits in a query",
        Raw::get(format!("/query?q={}", pct(circled))),
    ));
    rows.push(dirty(
        N,
        "ID in circled digits in a header",
        Raw::get("/headers").h("X-Note", circled),
    ));
    rows.push(clean(
        N,
        "a remark numbered ①②③ with “quotes” and … stays clean",
        json(
            "/json",
            r#"{"remark":"①请尽快发货 ②周末不在家，放“快递柜”… ③谢谢！订单 20240517"}"#,
        ),
    ));
    rows.push(clean(
        N,
        "footnote marks ¹ ² ³ beside a date stay clean",
        json(
            "/json",
            r#"{"note":"价格¹ 满减² 包邮³ 2024年5月17日 13800138000"}"#,
        ),
    ));
    // GBK without a charset, and charsets declared on multipart parts.
    let gbk = |parts: &[&[u8]]| parts.concat();
    const SFZHM: &[u8] = &[0xc9, 0xed, 0xb7, 0xdd, 0xd6, 0xa4, 0xba, 0xc5, 0xc2, 0xeb];
    const XINGMING: &[u8] = &[0xd0, 0xd5, 0xc3, 0xfb];
    const ZHANGWEI: &[u8] = &[0xd5, 0xc5, 0xce, 0xb0];
    const HUZHAO: &[u8] = &[0xbb, 0xa4, 0xd5, 0xd5];
    rows.push(dirty(
        T,
        "GBK text with no charset, 身份证号码 label and a 15-digit ID",
        Raw::post(
            "/bytes",
            Some("text/plain"),
            gbk(&[SFZHM, b":", ID15.as_bytes()]),
        ),
    ));
    rows.push(dirty(
        P,
        "multipart GBK CSV with no charset: 姓名,身份证号码 header and a 15-digit ID",
        Raw::post(
            "/multipart",
            Some(MULTIPART),
            multipart(&[file_part(
                "roster",
                "staff.csv",
                "text/csv",
                &gbk(&[
                    XINGMING,
                    b",",
                    SFZHM,
                    b"\r\n",
                    ZHANGWEI,
                    b",",
                    ID15.as_bytes(),
                    b"\r\n",
                ]),
            )]),
        ),
    ));
    rows.push(dirty(
        P,
        "multipart text field (no file) declared charset=gb18030: 姓名 and a 15-digit ID",
        Raw::post(
            "/multipart",
            Some(MULTIPART),
            multipart(&[gbk(&[
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"note\"\r\nContent-Type: text/plain; charset=gb18030\r\n\r\n").as_bytes(),
                XINGMING,
                b" ",
                ZHANGWEI,
                b" ",
                ID15.as_bytes(),
                b"\r\n",
            ])]),
        ),
    ));
    rows.push(dirty(
        P,
        "multipart GBK part declared charset=gbk: 护照 label and a passport",
        Raw::post(
            "/multipart",
            Some(MULTIPART),
            multipart(&[gbk(&[
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.txt\"\r\nContent-Type: text/plain; charset=gbk\r\n\r\n").as_bytes(),
                HUZHAO,
                b" ",
                PASSPORT.as_bytes(),
                b"\r\n",
            ])]),
        ),
    ));
    // A name label in free text gives context to the number after it.
    rows.push(dirty(
        N,
        "text: 姓名 label, a name and a 15-digit ID",
        text("/bytes", format!("姓名：{NAME} {ID15}")),
    ));
    rows.push(clean(
        N,
        "text: a consignee's name and phone stay clean",
        text(
            "/bytes",
            format!("收货人：{NAME} 电话 13800138000 订单 202405170001"),
        ),
    ));
    // Bounded refusals and equal limits for the new shapes.
    let mut many = String::from("[");
    while many.len() < 900 * 1024 {
        many.push_str(&format!(r#"{{"key":"idNo","value":"{ID15}"}},"#));
    }
    many.push_str(r#"{"key":"x","value":"y"}]"#);
    rows.push(dirty(
        A,
        "about 21,000 key/value identity members: the refusal stays small",
        Raw::post("/bytes", Some("application/json"), many),
    ));
    let mut prose = String::from(r#"{"remark":""#);
    while prose.len() < 900 * 1024 {
        prose.push_str("①请尽快发货，“周末”不在家…②谢谢！");
    }
    prose.push_str(r#""}"#);
    rows.push(clean(
        S,
        "clean 900 KiB of Chinese prose with ① “ ” …: served to both",
        Raw::post("/bytes", Some("application/json"), prose),
    ));
}

/// Class 1: the body read for what it is, whatever it declares.
fn declared_type(rows: &mut Vec<Row>) {
    use Class::DeclaredType as C;
    // Field names carry the data: a 15-digit ID and a name are found only under their keys.
    let j = format!(r#"{{"realName":"{NAME}","idNo":"{ID15}"}}"#);
    let f = format!("realName={}&idNo={ID15}", pct(NAME));
    for ct in [
        "application/json",
        "text/plain",
        "text/json",
        "application/vnd.api+json",
        "application/ld+json",
        "application/merge-patch+json",
        "image/svg+xml",
        "application/x-www-form-urlencoded",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "Application/Json; Charset=UTF-8",
        "application/json;charset=\"utf-8\"",
        "  application/json  ",
        "text/plain; charset=utf-8",
        "application/octet-stream",
        "text/html",
        "text/csv",
        "application/xml",
        "application/javascript",
        "x-custom/anything",
        "application/json;;;",
        "application/json; boundary=x",
    ] {
        rows.push(dirty(
            C,
            format!("JSON declared `{ct}` to a Bytes handler"),
            Raw::post("/bytes", Some(ct), j.clone()),
        ));
    }
    rows.push(dirty(
        C,
        "JSON with no Content-Type to a Bytes handler",
        Raw::post("/bytes", None, j.clone()),
    ));
    rows.push(dirty(
        C,
        "JSON declared text/plain to a String handler",
        Raw::post("/text", Some("text/plain"), j.clone()),
    ));
    rows.push(
        dirty(
            C,
            "JSON declared text/json to a Json handler (actix takes */json)",
            Raw::post("/json", Some("text/json"), j.clone()),
        )
        .other(Expect::Framework),
    );
    rows.push(dirty(
        C,
        "JSON declared application/problem+json to a Json handler",
        Raw::post("/json", Some("application/problem+json"), j.clone()),
    ));
    rows.push(
        dirty(
            C,
            "JSON declared application/x-www-form-urlencoded to a Form handler (the JSON is a key)",
            Raw::post(
                "/form",
                Some("application/x-www-form-urlencoded"),
                j.clone(),
            ),
        )
        .other(Expect::Framework),
    );
    rows.push(dirty(
        C,
        "two Content-Type headers, text/plain first, JSON body",
        Raw::post("/bytes", Some("text/plain"), j.clone()).h("Content-Type", "application/json"),
    ));
    rows.push(
        dirty(
            C,
            "two Content-Type headers, JSON first, form body",
            Raw::post("/bytes", Some("application/json"), f.clone())
                .h("Content-Type", "application/x-www-form-urlencoded"),
        )
        .netid(Expect::Refused),
    );
    rows.push(
        dirty(
            C,
            "a Content-Type header with a control byte, JSON body",
            Raw::post("/bytes", Some("application/json\x01"), j.clone()),
        )
        .netid(Expect::Refused)
        .other(Expect::Framework),
    );
    rows.push(dirty(
        C,
        "header name in upper case: CONTENT-TYPE: text/plain, JSON body",
        Raw::post("/bytes", None, j.clone()).h("CONTENT-TYPE", "text/plain"),
    ));
    for ct in [
        "text/plain",
        "application/octet-stream",
        "text/html; charset=utf-8",
    ] {
        rows.push(dirty(
            C,
            format!("form body declared `{ct}` to a Bytes handler"),
            Raw::post("/bytes", Some(ct), f.clone()),
        ));
    }
    rows.push(dirty(
        C,
        "form body with no Content-Type to a String handler",
        Raw::post("/text", None, f.clone()),
    ));
    rows.push(
        dirty(
            C,
            "form body declared JSON (not JSON: refused as malformed)",
            Raw::post("/bytes", Some("application/json"), f.clone()),
        )
        .netid(Expect::Refused),
    );
    rows.push(dirty(
        C,
        "multipart body declared text/plain: the part names are lost as text",
        Raw::post(
            "/bytes",
            Some("text/plain"),
            multipart(&[
                part("realName", NAME).into_bytes(),
                part("idNo", ID15).into_bytes(),
            ]),
        ),
    ));
    rows.push(dirty(
        C,
        "multipart body with no Content-Type",
        Raw::post(
            "/bytes",
            None,
            multipart(&[part("idNo", ID15).into_bytes()]),
        ),
    ));
    rows.push(
        dirty(
            C,
            "JSON declared multipart without a boundary",
            Raw::post("/bytes", Some("multipart/form-data"), j.clone()),
        )
        .netid(Expect::Refused),
    );
    // Charsets: what a handler decodes (actix's `String` decodes the declared charset).
    rows.push(
        dirty(
            C,
            "UTF-16LE JSON with a BOM declared application/json; charset=utf-16",
            Raw::post(
                "/bytes",
                Some("application/json; charset=utf-16"),
                utf16le(&format!(r#"{{"bio":"身份证号{ID}"}}"#)),
            ),
        )
        .netid(Expect::Refused),
    );
    rows.push(
        dirty(
            C,
            "UTF-16LE text with a BOM declared text/plain; charset=utf-16le",
            Raw::post(
                "/text",
                Some("text/plain; charset=utf-16le"),
                utf16le(&format!("身份证号 {ID}")),
            ),
        )
        .other(Expect::Framework),
    );
    rows.push(
        dirty(
            C,
            "UTF-16LE text without a BOM declared text/plain; charset=utf-16le",
            Raw::post(
                "/text",
                Some("text/plain; charset=utf-16le"),
                utf16le(&format!("身份证号 {ID}"))[2..].to_vec(),
            ),
        )
        .other(Expect::Framework),
    );
    rows.push(dirty(
        C,
        "UTF-16BE JSON with a BOM, no charset",
        Raw::post("/bytes", Some("application/octet-stream"), {
            let mut b = vec![0xfe, 0xff];
            b.extend(
                format!(r#"{{"idNo":"{ID}"}}"#)
                    .encode_utf16()
                    .flat_map(u16::to_be_bytes),
            );
            b
        }),
    ));
    // GBK: 姓名 D0D5 C3FB, 张伟 D5C5 CEB0, 身份证号码 C9ED B7DD D6A4 BAC5 C2EB.
    let gbk_id = {
        let mut b = vec![
            0xc9, 0xed, 0xb7, 0xdd, 0xd6, 0xa4, 0xba, 0xc5, 0xc2, 0xeb, b':',
        ];
        b.extend_from_slice(ID15.as_bytes());
        b
    };
    rows.push(
        dirty(
            C,
            "GBK text, 身份证号码 label and a 15-digit ID, declared charset=gbk",
            Raw::post("/text", Some("text/plain; charset=gbk"), gbk_id.clone()),
        )
        .other(Expect::Framework),
    );
    rows.push(
        dirty(
            C,
            "GBK text with an 18-character ID, declared charset=gbk",
            Raw::post("/text", Some("text/plain; charset=gbk"), {
                let mut b = vec![0xc9, 0xed, 0xb7, 0xdd, 0xd6, 0xa4, b':'];
                b.extend_from_slice(ID.as_bytes());
                b
            }),
        )
        .other(Expect::Framework),
    );
    rows.push(
        dirty(
            C,
            "GBK form body 姓名=张伟 (raw bytes) declared text/plain; charset=gbk",
            Raw::post(
                "/text",
                Some("text/plain; charset=gbk"),
                vec![0xd0, 0xd5, 0xc3, 0xfb, b'=', 0xd5, 0xc5, 0xce, 0xb0],
            ),
        )
        .other(Expect::Framework),
    );
    rows.push(
        dirty(
            C,
            "GBK JSON {\"姓名\":\"张伟\"} declared application/json; charset=gbk",
            Raw::post(
                "/bytes",
                Some("application/json; charset=gbk"),
                [
                    &b"{\""[..],
                    &[0xd0, 0xd5, 0xc3, 0xfb],
                    b"\":\"",
                    &[0xd5, 0xc5, 0xce, 0xb0],
                    b"\"}",
                ]
                .concat(),
            ),
        )
        .netid(Expect::Refused),
    );
    rows.push(
        dirty(
            C,
            "JSON with a UTF-8 BOM declared application/json (not JSON: refused as malformed)",
            Raw::post("/bytes", Some("application/json"), format!("\u{feff}{j}")),
        )
        .netid(Expect::Refused),
    );
    rows.push(dirty(
        C,
        "JSON with a trailing comma (JSON5) declared text/plain",
        Raw::post(
            "/text",
            Some("text/plain"),
            format!(r#"{{"realName":"{NAME}","idNo":"{ID15}",}}"#),
        ),
    ));
    rows.push(dirty(
        C,
        "JSON with a // comment declared text/plain",
        Raw::post(
            "/text",
            Some("text/plain"),
            format!("{{ // me\n\"realName\":\"{NAME}\"}}"),
        ),
    ));
    rows.push(dirty(
        C,
        "JSON Lines (two objects) declared application/x-ndjson",
        Raw::post(
            "/bytes",
            Some("application/x-ndjson"),
            format!("{{\"nick\":\"bob\"}}\n{{\"realName\":\"{NAME}\"}}\n"),
        ),
    ));
    rows.push(dirty(
        C,
        "YAML body declared application/yaml",
        Raw::post(
            "/bytes",
            Some("application/yaml"),
            format!("realName: {NAME}\nidNo: '{ID15}'\n"),
        ),
    ));
    rows.push(dirty(
        C,
        "XML body declared application/xml",
        Raw::post(
            "/bytes",
            Some("application/xml"),
            format!("<user><realName>{NAME}</realName><idNo>{ID15}</idNo></user>"),
        ),
    ));
    rows.push(dirty(
        C,
        "CSV body with a header row declared text/csv",
        Raw::post(
            "/bytes",
            Some("text/csv"),
            format!("realName,idNo\r\n{NAME},{ID15}\r\n"),
        ),
    ));
    rows.push(clean(
        C,
        "clean JSON declared text/plain: served to both",
        Raw::post(
            "/bytes",
            Some("text/plain"),
            r#"{"nick":"bob","note":"hi"}"#,
        ),
    ));
    rows.push(clean(
        C,
        "clean JSON with no Content-Type: served to both",
        Raw::post("/bytes", None, r#"{"nick":"bob"}"#),
    ));
    rows.push(clean(
        C,
        "clean JSON declared image/svg+xml: served to both",
        Raw::post("/bytes", Some("image/svg+xml"), r#"{"nick":"bob"}"#),
    ));
    rows.push(clean(
        C,
        "clean binary declared application/octet-stream: served to both",
        Raw::post(
            "/bytes",
            Some("application/octet-stream"),
            vec![0u8, 1, 2, 0xff, 0xfe],
        ),
    ));
    rows.push(clean(
        C,
        "clean JSON to the Json handler: served to both",
        json("/json", r#"{"nick":"bob","n":1}"#),
    ));
    rows.push(clean(
        C,
        "clean form to the Form handler: served to both",
        form("/form", "nick=bob&city=%E5%8C%97%E4%BA%AC"),
    ));
}

/// Class 2: identity words in every spelling.
fn field_names(rows: &mut Vec<Row>) {
    use Class::FieldNames as C;
    // A row of these tables that netid cannot meet yet is marked `true` and says why here.
    const VOCAB: &str = "detector: a document-number key the vocabulary does not read";
    // A 15-digit ID needs context: only the key gives it.
    for (key, gap) in [
        ("idNo", false),
        ("id_no", false),
        ("ID-NO", false),
        ("IDNO", false),
        ("idCardNo", false),
        ("identityNo", false),
        ("identityNumber", false),
        ("idCardNumber", false),
        ("id_card_no", false),
        ("ID_CARD_NO", false),
        ("id-card-no", false),
        ("IdCardNo", false),
        ("userIdCard", false),
        ("holderIdNo", false),
        ("customer_id_card", false),
        ("applicantIdNumber", false),
        ("documentNumber", false),
        ("docNo", false),
        ("certificateNumber", false),
        ("credentialNo", false),
        ("sfzhm", false),
        ("SFZH", false),
        ("sfz", false),
        ("gmsfhm", false),
        ("zjhm", false),
        ("ZJHM", false),
        ("身份证号码", false),
        ("证件号码", false),
        ("身份证", false),
        ("用户身份证号", false),
        ("持卡人身份证号码", false),
        ("idcard_number_str", false),
    ] {
        let r = dirty(
            C,
            format!("15-digit ID under `{key}`"),
            json("/json", format!(r#"{{"{key}":"{ID15}"}}"#)),
        );
        rows.push(if gap { r.gap(VOCAB) } else { r });
    }
    // Passport and permit numbers need context too.
    for (key, value, gap) in [
        ("passportNo", PASSPORT, false),
        ("passportNumber", PASSPORT, false),
        ("passport_number", PASSPORT, false),
        ("PASSPORT_NO", PASSPORT, false),
        ("passport", PASSPORT, false),
        ("护照号码", PASSPORT, false),
        ("permitNo", HK_TP, false),
        ("permitNumber", HK_TP, false),
        ("travelPermitNo", HK_TP, false),
        ("hkMacauPermitNo", HK_TP, false),
        ("通行证号码", HK_TP, false),
        ("台胞证号", TW_TP, false),
        ("residencePermitNo", HK_TP, false),
        ("居住证号码", HK_TP, false),
        ("prCardNo", FPR17, false),
        ("永久居留证号码", FPR17, false),
    ] {
        let r = dirty(
            C,
            format!("document number under `{key}`"),
            json("/json", format!(r#"{{"{key}":"{value}"}}"#)),
        );
        rows.push(if gap { r.gap(VOCAB) } else { r });
    }
    // Brackets, arrays, depth, JSON in strings.
    let n = pct(NAME);
    for (what, body, gap) in [
        ("form `realName[]`", format!("realName%5B%5D={n}"), false),
        ("form `realName[0]`", format!("realName[0]={n}"), false),
        (
            "form `user[realName]`",
            format!("user[realName]={n}"),
            false,
        ),
        ("form `user.realName`", format!("user.realName={n}"), false),
        (
            "form `user[idNo]` 15 digits",
            format!("user[idNo]={ID15}"),
            false,
        ),
        ("form `idNo[]` 15 digits", format!("idNo[]={ID15}"), false),
        ("form `ids[0][idNo]`", format!("ids[0][idNo]={ID15}"), false),
        (
            "form key percent-encoded `%72ealName`",
            format!("%72ealName={n}"),
            false,
        ),
        ("form key `real%5Fname`", format!("real%5Fname={n}"), false),
        (
            "form key `real+name` (+ is a space)",
            format!("real+name={n}"),
            false,
        ),
    ] {
        let r = dirty(C, what, form("/form", body));
        rows.push(if gap {
            r.gap("detector: bracket and array key forms (vocab branch)")
        } else {
            r
        });
    }
    for (what, body, gap) in [
        (
            "JSON array under realName",
            format!(r#"{{"realName":["{NAME}"]}}"#),
            false,
        ),
        (
            "JSON object under idCard",
            format!(r#"{{"idCard":{{"number":"{ID15}"}}}}"#),
            false,
        ),
        (
            "JSON key at depth 4",
            format!(r#"{{"a":{{"b":{{"c":{{"idNo":"{ID15}"}}}}}}}}"#),
            false,
        ),
        (
            "JSON key at depth 20",
            format!(
                "{}\"idNo\":\"{ID15}\"{}",
                r#"{"a":"#.repeat(19) + "{",
                "}".repeat(20)
            ),
            false,
        ),
        (
            "JSON in a JSON string (15-digit ID under its key)",
            format!(r#"{{"data":"{{\"idNo\":\"{ID15}\"}}"}}"#),
            false,
        ),
        (
            "JSON in a JSON string (a name under realName)",
            format!(r#"{{"payload":"{{\"realName\":\"{NAME}\"}}"}}"#),
            false,
        ),
        (
            "JSON in a JSON string (an 18-character ID)",
            format!(r#"{{"data":"{{\"x\":\"{ID}\"}}"}}"#),
            false,
        ),
        (
            "JSON in JSON in JSON",
            format!(r#"{{"a":"{{\"b\":\"{{\\\"idNo\\\":\\\"{ID15}\\\"}}\"}}"}}"#),
            false,
        ),
        (
            "key/value pairs: {\"key\":\"realName\",\"value\":…}",
            format!(r#"{{"fields":[{{"key":"realName","value":"{NAME}"}}]}}"#),
            false,
        ),
        (
            "key/value pairs: {\"name\":\"idNo\",\"value\":…}",
            format!(r#"{{"attrs":[{{"name":"idNo","value":"{ID15}"}}]}}"#),
            false,
        ),
        (
            "upper-case key IDNO",
            format!(r#"{{"IDNO":"{ID15}"}}"#),
            false,
        ),
        (
            "key with a space `id no`",
            format!(r#"{{"id no":"{ID15}"}}"#),
            false,
        ),
        (
            "key `id.no` (a dot inside one key)",
            format!(r#"{{"id.no":"{ID15}"}}"#),
            false,
        ),
        (
            "duplicate keys, the second carries it",
            format!(r#"{{"idNo":"","idNo":"{ID15}"}}"#),
            false,
        ),
        (
            "escaped key `\\u0069dNo`",
            format!(r#"{{"\u0069dNo":"{ID15}"}}"#),
            false,
        ),
        (
            "escaped Chinese key 姓名",
            format!(r#"{{"\u59d3\u540d":"{NAME}"}}"#),
            false,
        ),
        (
            "number under idNo (15 digits as a JSON number)",
            format!(r#"{{"idNo":{ID15}}}"#),
            false,
        ),
    ] {
        let r = dirty(C, what, json("/json", body));
        rows.push(if gap {
            r.gap("detector: a field named by a sibling member ({\"key\":\"realName\",\"value\":…}) is not read: the JSON scanner streams and keeps no object, so it would need a per-object slot that gives a `key`/`name`/`field` member's identity name to its `value` sibling, in either order (as the `name`-beside-an-ID rule does for `name`)")
        } else {
            r
        });
    }
    // Everyday names that are not identity fields stay clean.
    for (key, value) in [
        ("nickname", "bob"),
        ("productName", "茶叶"),
        ("orderNo", "202405170001"),
        ("idempotencyKey", "3f2a9c1e-8b7d-4e21"),
        ("userId", "12345678"),
        ("cardNo", "6222021234567890128"),
    ] {
        rows.push(clean(
            C,
            format!("neutral key `{key}` stays clean"),
            json("/json", format!(r#"{{"{key}":"{value}"}}"#)),
        ));
    }
}

/// Class 3: the same number, written otherwise.
fn normalisation(rows: &mut Vec<Row>) {
    use Class::Normalisation as C;
    const NORM: &str = "detector: a way of writing digits the matcher does not read";
    let sep = |s: &str| format!("110105{s}19491231{s}002X");
    for (what, value, gap) in [
        ("ID with spaces", sep(" "), false),
        ("ID with dashes", sep("-"), false),
        ("ID with dots", sep("."), false),
        ("ID with slashes", sep("/"), false),
        ("ID with underscores", sep("_"), false),
        ("ID with tabs", sep("\\t"), false),
        ("ID with newlines", sep("\\n"), false),
        ("ID with runs of 2 spaces", sep("  "), false),
        ("ID with runs of 4 spaces", sep("    "), false),
        ("ID with ' - '", sep(" - "), false),
        (
            "ID in groups of 4",
            "1101 0519 4912 3100 2X".to_owned(),
            false,
        ),
        ("ID with a lower-case x", ID.to_lowercase(), false),
        (
            "ID in full-width digits",
            "１１０１０５１９４９１２３１００２Ｘ".to_owned(),
            false,
        ),
        (
            "ID in full-width with ｘ",
            "１１０１０５１９４９１２３１００２ｘ".to_owned(),
            false,
        ),
        (
            "ID with ideographic spaces",
            "110105\u{3000}19491231\u{3000}002X".to_owned(),
            false,
        ),
        (
            "ID with no-break spaces",
            "110105\u{a0}19491231\u{a0}002X".to_owned(),
            false,
        ),
        (
            "ID with zero-width spaces",
            "1101\u{200b}0519\u{200b}49123\u{200b}1002X".to_owned(),
            false,
        ),
        (
            "ID with soft hyphens",
            "110105\u{ad}19491231\u{ad}002X".to_owned(),
            false,
        ),
        (
            "ID with en dashes",
            "110105\u{2013}19491231\u{2013}002X".to_owned(),
            false,
        ),
        (
            "ID in Arabic-Indic digits",
            "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X".to_owned(),
            false,
        ),
        (
            "ID in Devanagari digits",
            "११०१०५१९४९१२३१००२X".to_owned(),
            false,
        ),
        (
            "ID in mathematical bold digits",
            "𝟏𝟏𝟎𝟏𝟎𝟓𝟏𝟗𝟒𝟗𝟏𝟐𝟑𝟏𝟎𝟎𝟐X".to_owned(),
            false,
        ),
        ("ID in Thai digits", "๑๑๐๑๐๕๑๙๔๙๑๒๓๑๐๐๒X".to_owned(), false),
        (
            "ID in circled digits",
            "①①⓪①⓪⑤①⑨④⑨①②③①⓪⓪②X".to_owned(),
            false,
        ),
        (
            "ID fully \\u-escaped",
            ID.chars().map(|c| format!("\\u{:04x}", c as u32)).collect(),
            false,
        ),
        (
            "ID half \\u-escaped",
            "110105\\u0031\\u0039\\u0034\\u00391231002\\u0058".to_owned(),
            false,
        ),
    ] {
        let r = dirty(
            C,
            format!("{what}, under a neutral key"),
            json("/json", format!(r#"{{"bio":"{value}"}}"#)),
        );
        rows.push(if gap { r.gap(NORM) } else { r });
    }
    // Numbers.
    for (what, body, gap) in [
        (
            "JSON number under a neutral key",
            format!(r#"{{"n":{ID_C}}}"#),
            false,
        ),
        ("JSON number with .0", format!(r#"{{"n":{ID_C}.0}}"#), false),
        (
            "JSON number in exponent form",
            r#"{"sfzh":3.20102199003071239e17}"#.to_owned(),
            false,
        ),
        (
            "JSON number in exponent form, neutral key",
            r#"{"n":3.20102199003071239E+17}"#.to_owned(),
            false,
        ),
        (
            "JSON number with shifted decimal point",
            r#"{"n":32010219900307.1239e4}"#.to_owned(),
            false,
        ),
        ("JSON negative number", format!(r#"{{"n":-{ID_C}}}"#), false),
        (
            "JSON number in an array",
            format!(r#"{{"n":[1,{ID_C},2]}}"#),
            false,
        ),
    ] {
        let r = dirty(C, what, json("/json", body));
        rows.push(if gap {
            r.gap("detector: numbers in exponent form (vocab branch)")
        } else {
            r
        });
    }
    // Percent-encoding and `+`.
    for (what, body, gap) in [
        (
            "form: %20 separators",
            "note=110105%2019491231002X".to_owned(),
            false,
        ),
        (
            "form: `+` separators",
            "note=110105+19491231+002X".to_owned(),
            false,
        ),
        (
            "form: every byte percent-encoded",
            format!("note={}", pct_all(ID)),
            false,
        ),
        (
            "form: double percent-encoding",
            format!("note={}", pct_all(ID).replace('%', "%25")),
            false,
        ),
        (
            "form: full-width digits percent-encoded",
            format!("note={}", pct("１１０１０５１９４９１２３１００２Ｘ")),
            false,
        ),
        ("form: value in a bare key (no `=`)", ID.to_owned(), false),
        ("form: ID as a key", format!("{ID}=1"), false),
        (
            "form: `;` separated pairs",
            format!("a=1;idNo={ID15}"),
            false,
        ),
    ] {
        let r = dirty(C, what, form("/form", body));
        rows.push(if gap {
            r.gap("detector/policy: double encoding and `;` pairs")
        } else {
            r
        });
    }
    for (what, target, gap) in [
        (
            "query: every byte percent-encoded",
            format!("/query?q={}", pct_all(ID)),
            false,
        ),
        (
            "query: double percent-encoding",
            format!("/query?q={}", pct_all(ID).replace('%', "%25")),
            false,
        ),
        (
            "query: `+` separators",
            "/query?q=110105+19491231+002X".to_owned(),
            false,
        ),
        (
            "query: %2B (a literal +) separators",
            "/query?q=110105%2B19491231%2B002X".to_owned(),
            false,
        ),
    ] {
        let r = dirty(C, what, Raw::get(target));
        rows.push(if gap {
            r.gap("detector: double encoding and `+` as a separator")
        } else {
            r
        });
    }
    // Look-alikes stay clean (equal service for a 网证 user's ordinary data).
    for (what, value) in [
        ("mobile number", "13800138000"),
        ("order id that fails the check", "110105194912310021"),
        ("unified social credit code", "91350100M000100Y43"),
        ("bank card number", "6222021234567890128"),
        ("Unix timestamp in ms", "1715930000000"),
        ("UUID", "3f2a9c1e-8b7d-4e21-9a0f-1c2d3e4f5a6b"),
        ("masked ID", "110101********1233"),
    ] {
        rows.push(clean(
            C,
            format!("{what} under a neutral key stays clean"),
            json("/json", format!(r#"{{"ref":"{value}"}}"#)),
        ));
    }
}

/// Class 4: every place a request carries data.
fn places(rows: &mut Vec<Row>) {
    use Class::Places as C;
    let n = pct(NAME);
    // Query.
    for (what, target, gap) in [
        ("query `idNo`", format!("/query?idNo={ID}"), None),
        ("query, neutral key", format!("/query?q={ID}"), None),
        (
            "query `realName` percent-encoded UTF-8",
            format!("/query?realName={n}"),
            None,
        ),
        ("query `xm`", format!("/query?xm={n}"), None),
        (
            "query, second of two `a`",
            format!("/query?a=1&a={ID}"),
            None,
        ),
        (
            "query `user[idNo]` 15 digits",
            format!("/query?user[idNo]={ID15}"),
            None,
        ),
        ("query, ID as the key", format!("/query?{ID}=1"), None),
        (
            "query `sfzh` 15 digits",
            format!("/query?sfzh={ID15}"),
            None,
        ),
        ("query `birthday`", format!("/query?birthday={BIRTH}"), None),
        (
            "query in an absolute-form target",
            format!("http://127.0.0.1/query?idNo={ID}"),
            None,
        ),
    ] {
        let r = dirty(C, what, Raw::get(target));
        rows.push(match gap {
            Some(g) => r.gap(g),
            None => r,
        });
    }
    rows.push(clean(
        C,
        "clean query",
        Raw::get("/query?page=2&sort=price"),
    ));
    // Path segments.
    for (what, target) in [
        ("path segment", format!("/item/{ID}")),
        (
            "path segment, %20-split",
            "/item/110105%2019491231002X".to_owned(),
        ),
        (
            "path segment, every byte percent-encoded",
            format!("/item/{}", pct_all(ID)),
        ),
        ("path segment with an extension", format!("/item/{ID}.json")),
        (
            "path segment with a matrix parameter",
            format!("/item/x;idNo={ID}"),
        ),
        ("path segment, residence permit", format!("/item/{HK_RP}")),
        (
            "path segment, foreigner's card 2023",
            format!("/item/{FPR23}"),
        ),
        (
            "path segment, full-width digits percent-encoded",
            format!("/item/{}", pct("１１０１０５１９４９１２３１００２Ｘ")),
        ),
    ] {
        rows.push(dirty(C, what, Raw::get(target)));
    }
    rows.push(dirty(
        C,
        "path segment, %2F-split",
        Raw::get("/item/110105%2F19491231002X"),
    ));
    rows.push(
        dirty(
            C,
            "path of a route that does not exist",
            Raw::get(format!("/nowhere/{ID}")),
        )
        .netid(Expect::Refused)
        .other(Expect::Framework),
    );
    rows.push(clean(
        C,
        "clean path segment",
        Raw::get("/item/sku-20240517"),
    ));
    // Headers.
    for (what, name, value, gap) in [
        ("header X-Id-Card", "X-Id-Card", ID.to_owned(), None),
        (
            "header in upper case X-ID-CARD",
            "X-ID-CARD",
            ID.to_owned(),
            None,
        ),
        (
            "header X-Real-Name, raw UTF-8",
            "X-Real-Name",
            NAME.to_owned(),
            None,
        ),
        (
            "header `idNo` with a 15-digit ID",
            "idNo",
            ID15.to_owned(),
            None,
        ),
        (
            "header `sfzh` with a 15-digit ID",
            "sfzh",
            ID15.to_owned(),
            None,
        ),
        (
            "header `passportNo`",
            "passportNo",
            PASSPORT.to_owned(),
            None,
        ),
        (
            "header X-Passport-No",
            "X-Passport-No",
            PASSPORT.to_owned(),
            None,
        ),
        ("header X-IdNo", "X-IdNo", ID15.to_owned(), None),
        (
            "header X-Real-Name percent-encoded",
            "X-Real-Name",
            n.clone(),
            None,
        ),
        (
            "header with JSON",
            "X-User",
            format!(r#"{{"realName":"{NAME}","idNo":"{ID15}"}}"#),
            None,
        ),
        (
            "User-Agent",
            "User-Agent",
            format!("Mozilla/5.0 ({ID})"),
            None,
        ),
        (
            "Referer with ?sfzh=",
            "Referer",
            format!("https://shop.example/?sfzh={ID}"),
            None,
        ),
        (
            "Referer with a percent-encoded name",
            "Referer",
            format!("https://shop.example/?realName={n}"),
            None,
        ),
        ("Origin", "Origin", format!("https://{ID}.example"), None),
        (
            "X-Forwarded-For",
            "X-Forwarded-For",
            format!("10.0.0.1, {ID}"),
            None,
        ),
        ("Forwarded", "Forwarded", format!("for=\"{ID}\""), None),
        ("From", "From", format!("{ID}@example.com"), None),
        ("Via", "Via", format!("1.1 {ID}"), None),
        ("X-Birthday", "X-Birthday", BIRTH.to_owned(), None),
        (
            "header with full-width digits",
            "X-Note",
            "１１０１０５１９４９１２３１００２Ｘ".to_owned(),
            None,
        ),
        (
            "header with a label and a passport",
            "X-Note",
            format!("护照 {PASSPORT}"),
            None,
        ),
    ] {
        let r = dirty(C, what, Raw::get("/headers").h(name, value));
        rows.push(match gap {
            Some(g) => r.gap(g),
            None => r,
        });
    }
    rows.push(dirty(
        C,
        "the same header twice, the second carries it",
        Raw::get("/headers").h("X-Note", "hello").h("X-Note", ID),
    ));
    rows.push(
        dirty(
            C,
            "obs-fold: the ID on a continuation line",
            Raw::get("/headers").h("X-Note", format!("hello\r\n {ID}")),
        )
        .netid(Expect::Refused)
        .other(Expect::Framework),
    );
    rows.push(clean(
        C,
        "ordinary browser headers stay clean",
        Raw::get("/headers")
            .h(
                "User-Agent",
                "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.6099.109",
            )
            .h("X-Request-Id", "3f2a9c1e-8b7d-4e21-9a0f-1c2d3e4f5a6b")
            .h("Referer", "https://shop.example/orders/2024/05/17?page=2"),
    ));
    // Cookies.
    for (what, cookie, gap) in [
        ("cookie of the app", format!("kyc={ID}"), None),
        (
            "cookie realName percent-encoded",
            format!("realName={n}"),
            None,
        ),
        (
            "cookie realName raw UTF-8",
            format!("realName={NAME}"),
            None,
        ),
        ("cookie sfzh 15 digits", format!("sfzh={ID15}"), None),
        ("cookie in quotes", format!("kyc=\"{ID}\""), None),
        (
            "cookie, the last of several",
            format!("theme=dark; cart=3; kyc={ID}"),
            None,
        ),
        (
            "cookie holding JSON",
            format!("u={}", pct(&format!(r#"{{"idNo":"{ID15}"}}"#))),
            None,
        ),
        ("cookie birthday", format!("birthday={BIRTH}"), None),
        (
            "cookie in the session's own Cookie header",
            format!("netid_session={{session}}; kyc={ID}"),
            None,
        ),
    ] {
        let r = dirty(C, what, Raw::get("/headers").h("Cookie", cookie));
        rows.push(match gap {
            Some(g) => r.gap(g),
            None => r,
        });
    }
    rows.push(clean(
        C,
        "ordinary cookies stay clean",
        Raw::get("/headers").h("Cookie", "theme=dark; cart=3; lang=zh-CN"),
    ));
    // A header or cookie named as an identity field: its value is identity data whatever it
    // looks like (no digit, no Chinese), as under the same key in a body.
    for (what, name, value) in [
        (
            "header X-Real-Name in Latin letters",
            "X-Real-Name",
            "Zhang Wei",
        ),
        (
            "header X-Full-Name in Latin letters",
            "X-Full-Name",
            "Wei Zhang",
        ),
        (
            "header X-User-Real-Name in lower case",
            "X-User-Real-Name",
            "zhang wei",
        ),
        ("header X-Legal-Name", "X-Legal-Name", "ZHANG WEI"),
        ("header X-Cardholder-Name", "X-Cardholder-Name", "ZHANG WEI"),
        (
            "header X-Id-Card-No with a 15-digit ID",
            "X-Id-Card-No",
            ID15,
        ),
        (
            "header X-Passport with letters only before digits",
            "X-Passport",
            PASSPORT,
        ),
        ("header X-Cert-Type", "X-Cert-Type", "passport"),
        ("header X-Dob spelled out", "X-Dob", "seventh of March"),
        ("header Xm (Pinyin for 姓名)", "Xm", "Zhang Wei"),
    ] {
        rows.push(dirty(
            C,
            format!("{what} (the name is the field)"),
            Raw::get("/headers").h(name, value),
        ));
    }
    for (what, cookie) in [
        (
            "cookie realName in Latin letters",
            "realName=Zhang%20Wei".to_owned(),
        ),
        (
            "cookie idCardNo with a 15-digit ID",
            format!("idCardNo={ID15}"),
        ),
        (
            "cookie legalName quoted",
            "theme=dark; legalName=\"Wei Zhang\"".to_owned(),
        ),
        ("cookie xm (Pinyin 姓名)", "xm=ZhangWei".to_owned()),
        ("cookie passport_no", format!("passport_no={PASSPORT}")),
    ] {
        rows.push(dirty(
            C,
            format!("{what} (the name is the field)"),
            Raw::get("/headers").h("Cookie", cookie),
        ));
    }
    // Look-alikes: standard headers and names about the data, not the data, stay clean.
    for (what, name, value) in [
        (
            "X-Real-Name-Verified, a flag",
            "X-Real-Name-Verified",
            "true",
        ),
        ("X-Real-IP", "X-Real-IP", "10.1.2.3"),
        ("X-User-Name alone (a handle)", "X-User-Name", "bob"),
        ("X-Name of a storefront", "X-Name", "storefront"),
        (
            "X-Id-Token",
            "X-Id-Token",
            "eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo",
        ),
        (
            "X-Client-Cert",
            "X-Client-Cert",
            "MIIBszCCAVmgAwIBAgIUQ0mU3pQb",
        ),
        ("X-Birthday-Campaign", "X-Birthday-Campaign", "spring-sale"),
        ("X-Document-Type", "X-Document-Type", "invoice"),
        ("X-Passport-Theme", "X-Passport-Theme", "dark"),
        (
            "Traceparent",
            "Traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
        ("X-Requested-With", "X-Requested-With", "XMLHttpRequest"),
        ("X-CSRF-Token", "X-CSRF-Token", "Fetch"),
        ("Save-Data", "Save-Data", "on"),
        ("X-Forwarded-Proto", "X-Forwarded-Proto", "https"),
    ] {
        rows.push(clean(
            C,
            format!("look-alike header {what} stays clean"),
            Raw::get("/headers").h(name, value),
        ));
    }
    rows.push(clean(
        C,
        "look-alike cookies (session ids, analytics, flags about identity) stay clean",
        Raw::get("/headers").h(
            "Cookie",
            "JSESSIONID=node01abc; _ga=GA1.2.1234567890.1715930000; csrftoken=x1y2; \
             idCardVerified=true; hasIdCard=1; birthday_coupon=BDAY10; nickname=bob; passportTheme=dark",
        ),
    ));
    // Multipart.
    let png: Vec<u8> = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n']
        .into_iter()
        .chain((0..512u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8))
        .collect();
    for (what, body, gap) in [
        ("multipart part `idNo`", multipart(&[part("idNo", ID15).into_bytes()]), None),
        ("multipart part `realName` beside an ID", multipart(&[part("realName", NAME).into_bytes(), part("x", ID).into_bytes()]), None),
        ("multipart part `realName` alone", multipart(&[part("realName", NAME).into_bytes()]), None),
        ("multipart part `fullName`", multipart(&[part("fullName", NAME).into_bytes()]), None),
        ("multipart part `user[idNo]`", multipart(&[part("user[idNo]", ID15).into_bytes()]), None),
        ("multipart file name is the ID", multipart(&[file_part("photo", &format!("{ID}.png"), "image/png", &png)]), None),
        ("multipart file name in full-width digits", multipart(&[file_part("photo", "１１０１０５１９４９１２３１００２Ｘ.png", "image/png", &png)]), None),
        (
            "multipart filename* (RFC 5987) percent-encoded ID",
            multipart(&[format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"photo\"; filename*=UTF-8''{}.png\r\nContent-Type: image/png\r\n\r\n", pct_all(ID)).into_bytes(), png.clone(), b"\r\n".to_vec()]),
            None,
        ),
        (
            "multipart part header X-Id",
            multipart(&[format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Id: {ID}\r\n\r\nhello\r\n").into_bytes()]),
            None,
        ),
        ("multipart JSON file", multipart(&[file_part("meta", "me.json", "application/json", format!(r#"{{"idNo":"{ID15}"}}"#).as_bytes())]), None),
        ("multipart CSV file", multipart(&[file_part("roster", "staff.csv", "text/csv", format!("name,id\r\n{NAME},{ID}\r\n").as_bytes())]), None),
        ("multipart text file declared octet-stream", multipart(&[file_part("f", "data.bin", "application/octet-stream", format!("身份证 {ID}").as_bytes())]), None),
        ("multipart UTF-16 text file with a BOM", multipart(&[file_part("f", "a.txt", "text/plain", &utf16le(&format!("身份证号 {ID}")))]), None),
        (
            "multipart JSON part declared text/plain",
            multipart(&[file_part("meta", "me.txt", "text/plain", format!(r#"{{"realName":"{NAME}","idNo":"{ID15}"}}"#).as_bytes())]),
            None,
        ),
        (
            "multipart header names in upper case",
            multipart(&[format!("--{BOUNDARY}\r\nCONTENT-DISPOSITION: FORM-DATA; NAME=\"idNo\"\r\n\r\n{ID15}\r\n").into_bytes()]),
            None,
        ),
        (
            "multipart name given twice (nick, then idNo)",
            multipart(&[format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"nick\"; name=\"idNo\"\r\n\r\n{ID15}\r\n").into_bytes()]),
            None,
        ),
        (
            "multipart name unquoted",
            multipart(&[format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=idNo\r\n\r\n{ID15}\r\n").into_bytes()]),
            None,
        ),
        (
            "multipart GBK text part declared charset=gbk",
            multipart(&[[format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"n\"; filename=\"n.txt\"\r\nContent-Type: text/plain; charset=gbk\r\n\r\n").as_bytes(), &[0xd0, 0xd5, 0xc3, 0xfb, b':', 0xd5, 0xc5, 0xce, 0xb0, b' '], ID15.as_bytes(), b"\r\n"].concat()]),
            None,
        ),
    ] {
        let mut r = dirty(C, what, Raw::post("/multipart", Some(MULTIPART), body));
        if what.contains("upper case") || what.contains("given twice") {
            // Parsers disagree on these (multer reads the last name, actix-multipart the first;
            // header names in upper case confuse neither, but the detector refuses what it
            // cannot read as multer does): refused as malformed, never passed.
            r.netid = Expect::Refused;
        }
        rows.push(match gap {
            Some(g) => r.gap(g),
            None => r,
        });
    }
    rows.push(dirty(
        C,
        "multipart with a quoted boundary",
        Raw::post(
            "/multipart",
            Some("multipart/form-data; boundary=\"XyZ\""),
            multipart(&[part("idNo", ID15).into_bytes()]),
        ),
    ));
    rows.push(clean(
        C,
        "clean multipart: a nickname and a PNG",
        Raw::post(
            "/multipart",
            Some(MULTIPART),
            multipart(&[
                part("nick", "bob").into_bytes(),
                file_part("avatar", "me.png", "image/png", &png),
            ]),
        ),
    ));
}

/// The seven Art. 15 documents, in every place.
fn document_types(rows: &mut Vec<Row>) {
    use Class::DocumentTypes as C;
    for &(what, value, key, label, checked) in DOCUMENTS {
        rows.push(dirty(
            C,
            format!("{what} under `{key}` (JSON)"),
            json("/json", format!(r#"{{"{key}":"{value}"}}"#)),
        ));
        rows.push(dirty(
            C,
            format!("{what} after the label {label} in free text (JSON)"),
            json("/json", format!(r#"{{"bio":"我的{label}是{value}"}}"#)),
        ));
        rows.push(dirty(
            C,
            format!("{what} under `{key}` (form)"),
            form("/form", format!("{key}={value}")),
        ));
        rows.push(dirty(
            C,
            format!("{what} under `{key}` (query)"),
            Raw::get(format!("/query?{key}={value}")),
        ));
        rows.push(dirty(
            C,
            format!("{what} in cookie `{key}`"),
            Raw::get("/headers").h("Cookie", format!("{key}={value}")),
        ));
        rows.push(dirty(
            C,
            format!("{what} in header `{key}`"),
            Raw::get("/headers").h(key, value),
        ));
        rows.push(dirty(
            C,
            format!("{what} in multipart part `{key}`"),
            Raw::post(
                "/multipart",
                Some(MULTIPART),
                multipart(&[part(key, value).into_bytes()]),
            ),
        ));
        rows.push(dirty(
            C,
            format!("{what} after its label, text/plain"),
            text("/text", format!("{label}：{value}")),
        ));
        if checked {
            rows.push(dirty(
                C,
                format!("{what} under a neutral key"),
                json("/json", format!(r#"{{"ref":"{value}"}}"#)),
            ));
            rows.push(dirty(
                C,
                format!("{what} in a path segment"),
                Raw::get(format!("/item/{value}")),
            ));
        } else {
            rows.push(clean(
                C,
                format!("{what}-like code under a neutral key stays clean"),
                json("/json", format!(r#"{{"coupon":"{value}"}}"#)),
            ));
        }
    }
}

/// Names next to numbers, and birth dates under their common names.
fn names_and_dates(rows: &mut Vec<Row>) {
    use Class::NamesAndDates as C;
    const VOCAB: &str = "detector: compound and everyday names (vocab branch)";
    for (key, gap) in [
        ("realName", false),
        ("real_name", false),
        ("REAL_NAME", false),
        ("xm", false),
        ("XM", false),
        ("姓名", false),
        ("真实姓名", false),
        ("trueName", false),
        ("certName", false),
        ("fullName", false),
        ("full_name", false),
        ("legalName", false),
        ("userRealName", false),
        ("chineseName", false),
        ("holderName", false),
        ("customerRealName", false),
        ("cardholderName", false),
        ("用户姓名", false),
        ("持卡人姓名", false),
        ("xingming", false),
        ("zsxm", false),
    ] {
        let r = dirty(
            C,
            format!("a name under `{key}`"),
            json("/json", format!(r#"{{"{key}":"{NAME}"}}"#)),
        );
        rows.push(if gap { r.gap(VOCAB) } else { r });
    }
    for (what, body, gap) in [
        (
            "`name` beside an 18-character ID",
            format!(r#"{{"name":"{NAME}","ref":"{ID}"}}"#),
            false,
        ),
        (
            "`name` beside a passport under passportNo",
            format!(r#"{{"name":"{NAME}","passportNo":"{PASSPORT}"}}"#),
            false,
        ),
        (
            "`name` beside a masked ID",
            format!(r#"{{"name":"{NAME}","idNo":"110101********1233"}}"#),
            false,
        ),
        (
            "`name` beside a masked ID with ● marks",
            format!(r#"{{"name":"{NAME}","idNo":"1101●●●●●●●●●●1233"}}"#),
            false,
        ),
        (
            "`Name` beside `IdNo`",
            format!(r#"{{"Name":"{NAME}","IdNo":"{ID15}"}}"#),
            false,
        ),
        (
            "`name` and the ID in different objects",
            format!(r#"{{"a":{{"name":"{NAME}"}},"b":{{"idNo":"{ID}"}}}}"#),
            false,
        ),
    ] {
        let r = dirty(C, what, json("/json", body));
        rows.push(if gap {
            r.gap("detector: a name beside a masked ID (vocab branch)")
        } else {
            r
        });
    }
    rows.push(clean(
        C,
        "`name` of a product alone stays clean",
        json("/json", r#"{"name":"绿茶","price":12}"#),
    ));
    const DATES: &str = "detector: birth-date names (vocab branch)";
    for (key, value, gap) in [
        ("csrq", BIRTH, false),
        ("CSRQ", "19900307", false),
        ("出生日期", BIRTH, false),
        ("csrq", "1990/03/07", false),
        ("csrq", "1990年3月7日", false),
        ("birthday", BIRTH, false),
        ("birthDate", BIRTH, false),
        ("birth_date", BIRTH, false),
        ("dateOfBirth", BIRTH, false),
        ("date_of_birth", BIRTH, false),
        ("dob", BIRTH, false),
        ("DOB", "07/03/1990", false),
        ("birthdate", "19900307", false),
        ("birthDay", BIRTH, false),
        ("生日", BIRTH, false),
        ("出生年月", "1990-03", false),
        ("csny", "199003", false),
    ] {
        let r = dirty(
            C,
            format!("birth date under `{key}` ({value})"),
            json("/json", format!(r#"{{"{key}":"{value}"}}"#)),
        );
        rows.push(if gap { r.gap(DATES) } else { r });
    }
    rows.push(dirty(
        C,
        "birth date under `birthday` in a form",
        form("/form", format!("birthday={BIRTH}")),
    ));
    rows.push(dirty(
        C,
        "document type under `zjlx`",
        json("/json", r#"{"zjlx":"居民身份证"}"#),
    ));
    rows.push(dirty(
        C,
        "document type under `certType`",
        form("/form", "certType=01"),
    ));
    rows.push(clean(
        C,
        "a delivery date stays clean",
        json("/json", format!(r#"{{"deliveryDate":"{BIRTH}"}}"#)),
    ));
}

/// Classes 5 and 6: sizes at and over the limit, and refusals that stay small.
fn sizes_and_amplification(rows: &mut Vec<Row>) {
    use Class::{Amplification as A, Sizes as S};
    let padded = |len: usize, tail: &str| {
        let head = r#"{"pad":""#;
        let end = format!(r#"","tail":"{tail}"}}"#);
        let pad = len - head.len() - end.len();
        format!("{head}{}{end}", "x".repeat(pad))
    };
    rows.push(clean(
        S,
        "clean JSON of exactly the limit (1 MiB)",
        Raw::post("/bytes", Some("application/json"), padded(MAX, "ok")),
    ));
    rows.push(dirty(
        S,
        "ID at the very end of a body of exactly the limit",
        Raw::post("/bytes", Some("application/json"), padded(MAX, ID)),
    ));
    rows.push(dirty(
        S,
        "ID at the end of a text body of exactly the limit",
        Raw::post(
            "/bytes",
            Some("text/plain"),
            format!("{}{ID}", "x".repeat(MAX - ID.len())),
        ),
    ));
    rows.push(
        clean(
            S,
            "clean JSON one byte over the limit: 413 for both (equal limits)",
            Raw::post("/bytes", Some("application/json"), padded(MAX + 1, "ok")),
        )
        .netid(Expect::Problem(413, "netid.payload_too_large"))
        .other(Expect::Problem(413, "netid.payload_too_large")),
    );
    // Chunked bodies carry no length to refuse up front: the gate reads every signed-in user's
    // (up to the limit, never further) so that the limit is the same for both (Art. 7 §3).
    let too_large = Expect::Problem(413, "netid.payload_too_large");
    for (what, req) in [
        (
            "clean chunked body one byte over the limit, to a bytes handler",
            Raw::post(
                "/bytes",
                Some("application/octet-stream"),
                vec![b'a'; MAX + 1],
            ),
        ),
        (
            "clean chunked JSON one byte over the limit, to the Json handler",
            json("/json", padded(MAX + 1, "ok")),
        ),
        (
            "clean chunked form of 2 MiB, to the Form handler",
            form("/form", format!("note={}", "a".repeat(2 * MAX))),
        ),
        (
            "clean chunked multipart with a 1.5 MiB file",
            Raw::post(
                "/multipart",
                Some(MULTIPART),
                multipart(&[file_part(
                    "photo",
                    "me.bin",
                    "application/octet-stream",
                    &vec![7u8; MAX + MAX / 2],
                )]),
            ),
        ),
        (
            "clean chunked text of 3 MiB in 1-KiB chunks, to a handler that never reads it",
            Raw::post("/headers", Some("text/plain"), "x".repeat(3 * MAX)).method("GET"),
        ),
    ] {
        let chunk = if what.contains("1-KiB") {
            1024
        } else {
            64 * 1024
        };
        rows.push(
            clean(
                S,
                format!("{what}: 413 for both (equal limits)"),
                req.chunked(chunk),
            )
            .netid(too_large)
            .other(too_large),
        );
    }
    rows.push(
        dirty(
            S,
            "an ID at the end of a chunked body one byte over the limit: 413 for both",
            Raw::post("/bytes", Some("application/json"), padded(MAX + 1, ID)).chunked(64 * 1024),
        )
        .netid(too_large)
        .other(too_large),
    );
    rows.push(clean(
        S,
        "clean chunked JSON of exactly the limit: served to both",
        Raw::post("/bytes", Some("application/json"), padded(MAX, "ok")).chunked(64 * 1024),
    ));
    rows.push(dirty(
        S,
        "an ID at the end of a chunked body of exactly the limit",
        Raw::post("/bytes", Some("application/json"), padded(MAX, ID)).chunked(4096),
    ));
    rows.push(
        dirty(
            S,
            "ID in a body one byte over the limit",
            Raw::post("/bytes", Some("application/json"), padded(MAX + 1, ID)),
        )
        .netid(Expect::Problem(413, "netid.payload_too_large"))
        .other(Expect::Problem(413, "netid.payload_too_large")),
    );
    let photo: Vec<u8> = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n']
        .into_iter()
        .chain((0..1_500_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8))
        .collect();
    rows.push(
        clean(
            S,
            "a 1.5 MB photo in a multipart upload: 413 for both (equal limits)",
            Raw::post(
                "/multipart",
                Some(MULTIPART),
                multipart(&[file_part("photo", "me.png", "image/png", &photo)]),
            ),
        )
        .netid(Expect::Problem(413, "netid.payload_too_large"))
        .other(Expect::Problem(413, "netid.payload_too_large")),
    );
    rows.push(clean(
        S,
        "a 100 KiB photo in a multipart upload",
        Raw::post(
            "/multipart",
            Some(MULTIPART),
            multipart(&[file_part(
                "photo",
                "me.png",
                "image/png",
                &photo[..100 * 1024],
            )]),
        ),
    ));
    // Amplification: the refusal must not grow with the number of findings.
    let many = |item: &str| {
        let mut s = String::from("[");
        while s.len() + item.len() + 2 < MAX {
            s.push_str(item);
            s.push(',');
        }
        s.pop();
        s.push(']');
        s
    };
    rows.push(dirty(
        A,
        "1 MiB of {\"idNo\":ID} objects",
        json("/json", many(&format!(r#"{{"idNo":"{ID}"}}"#))),
    ));
    rows.push(dirty(
        A,
        "1 MiB of {\"realName\":…} objects",
        json("/json", many(&format!(r#"{{"realName":"{NAME}"}}"#))),
    ));
    rows.push(dirty(
        A,
        "1 MiB of bare IDs in a JSON array",
        json("/json", many(&format!(r#""{ID}""#))),
    ));
    let form_many = {
        let item = format!("idNo={ID}&");
        item.repeat(MAX / item.len())
    };
    rows.push(dirty(
        A,
        "1 MiB of idNo= form fields",
        form("/form", form_many),
    ));
    rows.push(dirty(
        A,
        "1 MiB of IDs in text",
        text("/text", format!("{ID} ").repeat(MAX / (ID.len() + 1))),
    ));
    let parts: Vec<Vec<u8>> = (0..4000).map(|_| part("idNo", ID).into_bytes()).collect();
    rows.push(dirty(
        A,
        "4000 multipart parts named idNo",
        Raw::post("/multipart", Some(MULTIPART), multipart(&parts)),
    ));
    let mut r = Raw::get("/headers");
    for i in 0..60 {
        r = r.h(&format!("X-Id-{i}"), ID);
    }
    rows.push(dirty(A, "60 headers, each an ID", r));
    rows.push(dirty(
        A,
        "200 cookies, each an ID",
        Raw::get("/headers").h(
            "Cookie",
            (0..200)
                .map(|i| format!("c{i}={ID}"))
                .collect::<Vec<_>>()
                .join("; "),
        ),
    ));
    rows.push(dirty(
        A,
        "a query of 300 IDs",
        Raw::get(format!(
            "/query?{}",
            (0..300)
                .map(|i| format!("q{i}={ID}"))
                .collect::<Vec<_>>()
                .join("&")
        )),
    ));
}

/// Compressed bodies, chunked transfer and other framing.
fn compressed_and_framing(rows: &mut Vec<Row>) {
    use Class::{Compressed as Z, Framing as F};
    let j = format!(r#"{{"realName":"{NAME}","idNo":"{ID}"}}"#);
    let compressed = Expect::Problem(415, "netid.compressed_body");
    for (what, ce, body) in [
        ("gzip", "gzip", gzip(j.as_bytes())),
        ("x-gzip", "x-gzip", gzip(j.as_bytes())),
        ("GZIP in upper case", "GZIP", gzip(j.as_bytes())),
        ("deflate (zlib)", "deflate", zlib(j.as_bytes())),
        (
            "br (bytes as sent)",
            "br",
            j.as_bytes().iter().rev().copied().collect(),
        ),
        (
            "zstd (bytes as sent)",
            "zstd",
            j.as_bytes().iter().rev().copied().collect(),
        ),
        (
            "gzip, then identity, as one list",
            "gzip, identity",
            gzip(j.as_bytes()),
        ),
        (
            "identity, then gzip, as one list",
            "identity, gzip",
            gzip(j.as_bytes()),
        ),
        ("an unknown coding", "x-custom", gzip(j.as_bytes())),
    ] {
        rows.push(
            dirty(
                Z,
                format!("Content-Encoding: {what}"),
                Raw::post("/bytes", Some("application/json"), body).h("Content-Encoding", ce),
            )
            .netid(compressed),
        );
    }
    rows.push(
        dirty(
            Z,
            "two Content-Encoding headers: identity, then gzip",
            Raw::post("/bytes", Some("application/json"), gzip(j.as_bytes()))
                .h("Content-Encoding", "identity")
                .h("Content-Encoding", "gzip"),
        )
        .netid(compressed),
    );
    rows.push(
        dirty(
            Z,
            "two Content-Encoding headers, identity then gzip, declared text/plain",
            Raw::post("/bytes", Some("text/plain"), gzip(j.as_bytes()))
                .h("Content-Encoding", "identity")
                .h("Content-Encoding", "gzip"),
        )
        .netid(compressed),
    );
    rows.push(
        dirty(
            Z,
            "gzip, chunked",
            Raw::post("/bytes", Some("application/json"), gzip(j.as_bytes()))
                .h("Content-Encoding", "gzip")
                .chunked(16),
        )
        .netid(compressed),
    );
    rows.push(dirty(
        Z,
        "Content-Encoding: identity is no compression: scanned",
        Raw::post("/bytes", Some("application/json"), j.clone()).h("Content-Encoding", "identity"),
    ));
    rows.push(
        clean(
            Z,
            "a clean gzip body: 415 for a 网证 user (cannot be inspected; COMPLIANCE.md)",
            Raw::post(
                "/bytes",
                Some("application/json"),
                gzip(br#"{"nick":"bob"}"#),
            )
            .h("Content-Encoding", "gzip"),
        )
        .netid(compressed),
    );
    rows.push(
        dirty(
            Z,
            "Transfer-Encoding: gzip, chunked (a compressed transfer coding)",
            Raw::post("/bytes", Some("application/json"), {
                let g = gzip(j.as_bytes());
                let mut b = format!("{:x}\r\n", g.len()).into_bytes();
                b.extend_from_slice(&g);
                b.extend_from_slice(b"\r\n0\r\n\r\n");
                b
            })
            .h("Transfer-Encoding", "gzip, chunked")
            .raw_framing(),
        )
        .netid(Expect::Refused)
        .other(Expect::Framework),
    );
    // Chunked transfer.
    for (what, req) in [
        (
            "JSON in chunks of 7 bytes (the ID split across chunks)",
            json("/json", j.clone()).chunked(7),
        ),
        (
            "JSON in chunks of 1 byte",
            json("/json", j.clone()).chunked(1),
        ),
        (
            "form in chunks",
            form("/form", format!("idNo={ID}")).chunked(5),
        ),
        (
            "text in chunks",
            text("/text", format!("身份证 {ID}")).chunked(3),
        ),
        (
            "multipart in chunks",
            Raw::post(
                "/multipart",
                Some(MULTIPART),
                multipart(&[part("idNo", ID15).into_bytes()]),
            )
            .chunked(11),
        ),
        (
            "chunked with no Content-Type",
            Raw::post("/bytes", None, j.clone()).chunked(9),
        ),
    ] {
        rows.push(dirty(F, what, req));
    }
    rows.push(dirty(
        F,
        "chunked with chunk extensions",
        Raw::post("/bytes", Some("application/json"), {
            let mut b = Vec::new();
            for c in j.as_bytes().chunks(6) {
                b.extend_from_slice(format!("{:x};ext=\"1\"\r\n", c.len()).as_bytes());
                b.extend_from_slice(c);
                b.extend_from_slice(b"\r\n");
            }
            b.extend_from_slice(b"0\r\n\r\n");
            b
        })
        .h("Transfer-Encoding", "chunked")
        .raw_framing(),
    ));
    rows.push(dirty(
        F,
        "Transfer-Encoding: Chunked in mixed case, upper-case hex sizes",
        Raw::post("/bytes", Some("application/json"), {
            let mut b = format!("{:X}\r\n", j.len()).into_bytes();
            b.extend_from_slice(j.as_bytes());
            b.extend_from_slice(b"\r\n0\r\n\r\n");
            b
        })
        .h("Transfer-Encoding", "Chunked")
        .raw_framing(),
    ));
    rows.push(
        dirty(
            F,
            "both Content-Length and chunked (request smuggling shape)",
            Raw::post("/bytes", Some("application/json"), {
                let mut b = format!("{:x}\r\n", j.len()).into_bytes();
                b.extend_from_slice(j.as_bytes());
                b.extend_from_slice(b"\r\n0\r\n\r\n");
                b
            })
            .h("Content-Length", "4")
            .h("Transfer-Encoding", "chunked")
            .raw_framing(),
        )
        .netid(Expect::Refused)
        .other(Expect::Framework),
    );
    rows.push(clean(
        F,
        "a trailer carrying an ID never reaches a handler: the body is re-framed",
        json("/json", r#"{"nick":"bob"}"#)
            .chunked(4)
            .trailer(&format!("X-Id-Card: {ID}")),
    ));
    rows.push(clean(
        F,
        "clean chunked JSON",
        json("/json", r#"{"nick":"bob"}"#).chunked(3),
    ));
    rows.push(clean(
        F,
        "an empty chunked body",
        Raw::post("/bytes", Some("application/json"), Vec::new()).chunked(1),
    ));
    rows.push(dirty(
        F,
        "GET with a JSON body",
        Raw::get("/bytes-get")
            .h("Content-Type", "application/json")
            .method("GET")
            .with_body(j.clone()),
    ));
    rows.push(dirty(
        F,
        "PUT with a JSON body",
        json("/bytes", j.clone()).method("PUT"),
    ));
    rows.push(dirty(
        F,
        "PATCH with a JSON body",
        json("/bytes", j.clone()).method("PATCH"),
    ));
    rows.push(dirty(
        F,
        "DELETE with a JSON body",
        json("/bytes", j.clone()).method("DELETE"),
    ));
    rows.push(dirty(
        F,
        "Expect: 100-continue",
        json("/json", j.clone()).h("Expect", "100-continue"),
    ));
    rows.push(dirty(
        F,
        "session as a Bearer token instead of the cookie",
        json("/json", j.clone()).h("Authorization", "Bearer {session}"),
    ));
}

impl Raw {
    fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

/// Routes with their own plaintext rule.
fn route_policies(rows: &mut Vec<Row>) {
    use Class::RoutePolicies as C;
    let not_redactable = Expect::Plaintext;
    rows.push(
        clean(
            C,
            "Redact: an ID under idNo is redacted before the handler",
            json("/notes", format!(r#"{{"idNo":"{ID}","n":1}}"#)),
        )
        .netid(Expect::Redacted),
    );
    rows.push(
        clean(
            C,
            "Redact: an ID in free text is redacted",
            json("/notes", format!(r#"{{"remark":"身份证{ID}"}}"#)),
        )
        .netid(Expect::Redacted),
    );
    rows.push(
        clean(
            C,
            "Redact: duplicate keys are both redacted",
            json("/notes", format!(r#"{{"idNo":"{ID}","idNo":"{ID_B}"}}"#)),
        )
        .netid(Expect::Redacted),
    );
    rows.push(
        clean(
            C,
            "Redact: an ID as a key is redacted",
            json("/notes", format!(r#"{{"{ID}":1}}"#)),
        )
        .netid(Expect::Redacted),
    );
    rows.push(
        clean(
            C,
            "Redact: a name beside an ID is redacted",
            json("/notes", format!(r#"{{"name":"{NAME}","idNo":"{ID}"}}"#)),
        )
        .netid(Expect::Redacted),
    );
    rows.push(
        clean(
            C,
            "Redact: a form is redacted",
            form("/notes", format!("remark={ID}&n=1")),
        )
        .netid(Expect::Redacted),
    );
    rows.push(
        dirty(
            C,
            "Redact: text cannot be redacted",
            text("/notes", format!("身份证 {ID}")),
        )
        .netid(not_redactable),
    );
    rows.push(
        dirty(
            C,
            "Redact: JSON declared text/plain cannot be redacted",
            Raw::post(
                "/notes",
                Some("text/plain"),
                format!(r#"{{"idNo":"{ID}"}}"#),
            ),
        )
        .netid(not_redactable),
    );
    rows.push(
        dirty(
            C,
            "Redact: the query cannot be redacted",
            json(&format!("/notes?sfzh={ID}"), r#"{"n":1}"#),
        )
        .netid(not_redactable),
    );
    rows.push(
        dirty(
            C,
            "Redact: a header cannot be redacted",
            json("/notes", r#"{"n":1}"#).h("X-Id-Card", ID),
        )
        .netid(not_redactable),
    );
    rows.push(
        dirty(
            C,
            "Redact: multipart cannot be redacted",
            Raw::post(
                "/notes",
                Some(MULTIPART),
                multipart(&[part("idNo", ID).into_bytes()]),
            ),
        )
        .netid(not_redactable),
    );
    rows.push(clean(
        C,
        "AllowUnderLaw: name and ID under the basis",
        json("/kyc", format!(r#"{{"realName":"{NAME}","idNo":"{ID}"}}"#)),
    ));
    rows.push(clean(
        C,
        "AllowUnderLaw: a passport is an ID number under the basis",
        json("/kyc", format!(r#"{{"passportNo":"{PASSPORT}"}}"#)),
    ));
    rows.push(dirty(
        C,
        "AllowUnderLaw: a birth date is beyond the basis",
        json("/kyc", format!(r#"{{"csrq":"{BIRTH}"}}"#)),
    ));
    rows.push(dirty(
        C,
        "AllowUnderLaw: a document type is beyond the basis",
        json("/kyc", r#"{"zjlx":"01"}"#),
    ));
    rows.push(dirty(
        C,
        "AllowUnderLaw: ID and birth date together",
        json("/kyc", format!(r#"{{"idNo":"{ID}","csrq":"{BIRTH}"}}"#)),
    ));
    rows.push(clean(
        C,
        "AllowWithConsent: an ID the user consented to give",
        json("/vip", format!(r#"{{"idNo":"{ID}"}}"#)),
    ));
    rows.push(dirty(
        C,
        "AllowWithConsent: a name the consent does not cover",
        json("/vip", format!(r#"{{"realName":"{NAME}"}}"#)),
    ));
    rows.push(dirty(
        C,
        "AllowWithConsent: ID and name, the name not covered",
        json("/vip", format!(r#"{{"idNo":"{ID}","realName":"{NAME}"}}"#)),
    ));
    rows.push(clean(
        C,
        "opaque image route: a PNG passes uninspected",
        Raw::post(
            "/upload",
            Some("image/png"),
            vec![0x89, b'P', b'N', b'G', 0, 1, 2, 3],
        ),
    ));
    rows.push(dirty(
        C,
        "opaque image route: JSON declared image/png",
        Raw::post(
            "/upload",
            Some("image/png"),
            format!(r#"{{"realName":"{NAME}","idNo":"{ID}"}}"#),
        ),
    ));
    rows.push(dirty(
        C,
        "opaque image route: text declared image/jpeg",
        Raw::post("/upload", Some("image/jpeg"), format!("身份证 {ID}")),
    ));
    rows.push(dirty(
        C,
        "opaque image route: multipart is still scanned",
        Raw::post(
            "/upload",
            Some(MULTIPART),
            multipart(&[part("idNo", ID).into_bytes()]),
        ),
    ));
    rows.push(dirty(
        C,
        "opaque image route: the ID in the query",
        Raw::post(
            &format!("/upload?sfzh={ID}"),
            Some("image/png"),
            vec![0x89, b'P', b'N', b'G'],
        ),
    ));
}

/// What no scanner can see: documented in COMPLIANCE.md as the platform's own duty. These rows
/// pin today's behaviour (served), so a change is noticed.
fn unscannable(rows: &mut Vec<Row>) {
    use Class::Unscannable as C;
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    rows.push(clean(
        C,
        "base64 of an ID (an encoded payload)",
        json("/json", format!(r#"{{"blob":"{}"}}"#, b64.encode(ID))),
    ));
    rows.push(clean(
        C,
        "base64 of a JSON object with a name and an ID",
        json(
            "/json",
            format!(
                r#"{{"blob":"{}"}}"#,
                b64.encode(format!(r#"{{"realName":"{NAME}","idNo":"{ID}"}}"#))
            ),
        ),
    ));
    rows.push(clean(
        C,
        "hex of an ID",
        json("/json", format!(r#"{{"blob":"{}"}}"#, hex::encode(ID))),
    ));
    rows.push(clean(
        C,
        "an ID split over two fields",
        json("/json", r#"{"a":"110105194","b":"91231002X"}"#),
    ));
    rows.push(clean(
        C,
        "an ID reversed",
        json(
            "/json",
            format!(r#"{{"ref":"{}"}}"#, ID.chars().rev().collect::<String>()),
        ),
    ));
    rows.push(clean(
        C,
        "a gzip body the platform unpacks itself (declared application/gzip)",
        Raw::post(
            "/bytes",
            Some("application/gzip"),
            gzip(format!(r#"{{"idNo":"{ID}"}}"#).as_bytes()),
        ),
    ));
    rows.push(clean(
        C,
        "an encrypted blob (bytes as sent)",
        Raw::post(
            "/bytes",
            Some("application/octet-stream"),
            ID.bytes().map(|b| b ^ 0x5a).collect::<Vec<u8>>(),
        ),
    ));
    rows.push(clean(
        C,
        "a photo of an ID card (image bytes only)",
        Raw::post(
            "/multipart",
            Some(MULTIPART),
            multipart(&[file_part(
                "front",
                "front.jpg",
                "image/jpeg",
                &[
                    0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F', 0, 1, 0xff, 0xd9,
                ],
            )]),
        ),
    ));
    rows.push(clean(
        C,
        "an ID card number spelled in Chinese numerals",
        json("/json", r#"{"note":"一一零一零五一九四九一二三一零零二X"}"#),
    ));
    rows.push(clean(
        C,
        "half of an ID in this request (the other half in the next)",
        json("/json", r#"{"part":"110105194912"}"#),
    ));
}

// ---------------------------------------------------------------------------------------------
// The app, the same in both frameworks.

struct App {
    sandbox: Sandbox,
    login: LoginFlow,
    rules: Rules,
}

async fn app_world() -> App {
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.register_app("app_attack");
    let client = sandbox.client_builder(&app).build().unwrap();
    let sessions = SessionManager::builder("app_attack")
        .key("s1", &[9u8; 32])
        .build()
        .unwrap();
    let login = LoginFlow::builder(client, sessions)
        .verifier(Arc::new(StaffCheck))
        .request(VerificationRequest::age_tag("登录 / sign-in"))
        .build();
    let kyc = LegalBasis::new(
        "《反洗钱法》第二十八条",
        [FieldName::Name, FieldName::IdNumber],
    )
    .unwrap();
    let rules = Rules::builder()
        .max_body(MAX)
        .route("/notes", RoutePolicy::plaintext(PlaintextRule::Redact))
        .route(
            "/kyc",
            RoutePolicy::plaintext(PlaintextRule::AllowUnderLaw(kyc)),
        )
        .route(
            "/vip",
            RoutePolicy::plaintext(PlaintextRule::AllowWithConsent {
                purpose: "会员实名".into(),
            }),
        )
        .route("/upload", RoutePolicy::default().with_opaque_type("image/"))
        .route("/item/{id}", RoutePolicy::default())
        .try_build()
        .unwrap();
    App {
        sandbox,
        login,
        rules,
    }
}

mod axum_app {
    use std::collections::HashMap;

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::{DefaultBodyLimit, Form, Multipart, Path, Query};
    use axum::http::HeaderMap;
    use axum::response::{IntoResponse, Response};
    use axum::routing::{get, post};
    use netid::axum::NetId;
    use netid::policy::VerifiedUser;
    use serde_json::{Value, json};

    fn out(h: &str, got: Value) -> Response {
        axum::Json(json!({ "h": h, "got": got })).into_response()
    }
    async fn me(u: VerifiedUser) -> Response {
        axum::Json(json!({ "h": "me", "subject": u.subject() })).into_response()
    }
    async fn json_h(_u: VerifiedUser, axum::Json(v): axum::Json<Value>) -> Response {
        out("json", v)
    }
    async fn text_h(_u: VerifiedUser, s: String) -> Response {
        out("text", json!(s))
    }
    async fn bytes_h(_u: VerifiedUser, b: Bytes) -> Response {
        out("bytes", json!(String::from_utf8_lossy(&b)))
    }
    async fn form_h(_u: VerifiedUser, Form(f): Form<HashMap<String, String>>) -> Response {
        out("form", json!(f))
    }
    async fn query_h(_u: VerifiedUser, Query(q): Query<HashMap<String, String>>) -> Response {
        out("query", json!(q))
    }
    async fn item_h(_u: VerifiedUser, Path(id): Path<String>) -> Response {
        out("item", json!(id))
    }
    async fn headers_h(_u: VerifiedUser, h: HeaderMap) -> Response {
        out(
            "headers",
            json!(
                h.iter()
                    .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
                    .collect::<Vec<_>>()
            ),
        )
    }
    async fn multipart_h(_u: VerifiedUser, mut m: Multipart) -> Response {
        let mut got = Vec::new();
        loop {
            match m.next_field().await {
                Ok(Some(f)) => {
                    let name = f.name().map(str::to_owned);
                    let file = f.file_name().map(str::to_owned);
                    match f.bytes().await {
                        Ok(b) => got.push(json!({"name": name, "file": file, "text": String::from_utf8_lossy(&b)})),
                        Err(e) => return e.into_response(),
                    }
                }
                Ok(None) => break,
                Err(e) => return e.into_response(),
            }
        }
        out("multipart", json!(got))
    }

    pub(super) fn app(netid: NetId) -> Router {
        Router::new()
            .route("/me", get(me))
            .route("/json", post(json_h))
            .route("/text", post(text_h))
            .route(
                "/bytes",
                post(bytes_h).put(bytes_h).patch(bytes_h).delete(bytes_h),
            )
            .route("/bytes-get", get(bytes_h))
            .route("/form", post(form_h))
            .route("/query", get(query_h))
            .route("/item/{id}", get(item_h))
            .route("/headers", get(headers_h))
            .route("/multipart", post(multipart_h))
            .route("/notes", post(bytes_h))
            .route("/kyc", post(bytes_h))
            .route("/vip", post(bytes_h))
            .route("/upload", post(bytes_h))
            .layer(DefaultBodyLimit::max(super::FRAMEWORK_LIMIT))
            .merge(netid.routes())
            .layer(netid.layer())
    }
}

mod actix_app {
    use std::collections::HashMap;

    use actix_web::{HttpRequest, HttpResponse, web};
    use netid::policy::VerifiedUser;
    use serde_json::{Value, json};

    fn out(h: &str, got: Value) -> HttpResponse {
        HttpResponse::Ok().json(json!({ "h": h, "got": got }))
    }
    async fn me(u: VerifiedUser) -> HttpResponse {
        HttpResponse::Ok().json(json!({ "h": "me", "subject": u.subject() }))
    }
    async fn json_h(_u: VerifiedUser, v: web::Json<Value>) -> HttpResponse {
        out("json", v.into_inner())
    }
    async fn text_h(_u: VerifiedUser, s: String) -> HttpResponse {
        out("text", json!(s))
    }
    async fn bytes_h(_u: VerifiedUser, b: web::Bytes) -> HttpResponse {
        out("bytes", json!(String::from_utf8_lossy(&b)))
    }
    async fn multipart_h(_u: VerifiedUser, b: web::Bytes) -> HttpResponse {
        // actix-web has no multipart extractor of its own: the handler gets the bytes.
        out("multipart", json!(String::from_utf8_lossy(&b)))
    }
    async fn form_h(_u: VerifiedUser, f: web::Form<HashMap<String, String>>) -> HttpResponse {
        out("form", json!(f.into_inner()))
    }
    async fn query_h(_u: VerifiedUser, q: web::Query<HashMap<String, String>>) -> HttpResponse {
        out("query", json!(q.into_inner()))
    }
    async fn item_h(_u: VerifiedUser, p: web::Path<String>) -> HttpResponse {
        out("item", json!(p.into_inner()))
    }
    async fn headers_h(_u: VerifiedUser, req: HttpRequest) -> HttpResponse {
        out(
            "headers",
            json!(
                req.headers()
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
                    .collect::<Vec<_>>()
            ),
        )
    }

    pub(super) fn configure(cfg: &mut web::ServiceConfig) {
        let limit = super::FRAMEWORK_LIMIT;
        cfg.app_data(web::PayloadConfig::new(limit))
            .app_data(web::JsonConfig::default().limit(limit))
            .app_data(web::FormConfig::default().limit(limit))
            .route("/me", web::get().to(me))
            .route("/json", web::post().to(json_h))
            .route("/text", web::post().to(text_h))
            .route("/bytes", web::post().to(bytes_h))
            .route("/bytes", web::put().to(bytes_h))
            .route("/bytes", web::patch().to(bytes_h))
            .route("/bytes", web::delete().to(bytes_h))
            .route("/bytes-get", web::get().to(bytes_h))
            .route("/form", web::post().to(form_h))
            .route("/query", web::get().to(query_h))
            .route("/item/{id}", web::get().to(item_h))
            .route("/headers", web::get().to(headers_h))
            .route("/multipart", web::post().to(multipart_h))
            .route("/notes", web::post().to(bytes_h))
            .route("/kyc", web::post().to(bytes_h))
            .route("/vip", web::post().to(bytes_h))
            .route("/upload", web::post().to(bytes_h));
    }
}

async fn serve_axum(w: &App) -> SocketAddr {
    let netid = netid::axum::NetId::new(w.login.clone(), w.rules.clone())
        .insecure_cookies_for_local_development();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum_app::app(netid);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn serve_actix(w: &App) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (login, rules) = (w.login.clone(), w.rules.clone());
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let netid =
                netid::actix::NetId::new(login, rules).insecure_cookies_for_local_development();
            actix_web::HttpServer::new(move || {
                let netid = netid.clone();
                actix_web::App::new()
                    .configure(actix_app::configure)
                    .configure(|cfg| netid.configure(cfg))
                    .wrap(netid.middleware())
            })
            .workers(1)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run()
            .await
            .unwrap();
        });
    });
    addr
}

// ---------------------------------------------------------------------------------------------
// The client: bytes out, one response in.

/// The socket as a [`Harness`], for the login routes (`sign_in_netid`, `sign_in_other`).
struct Socket(SocketAddr);

#[async_trait::async_trait]
impl Harness for Socket {
    async fn send(&self, r: Req) -> Resp {
        let mut raw = Raw::get(r.path.clone());
        raw.method = r.method;
        raw.body = r.body;
        for (k, v) in r.headers {
            raw = raw.h(&k, v);
        }
        exchange(self.0, raw.render(self.0, None)).await
    }
}

/// Sends `bytes` and reads one response. Writing and reading run together: a server may answer
/// (413) before it has read the whole body, and close.
async fn exchange(addr: SocketAddr, bytes: Vec<u8>) -> Resp {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let write = async move {
        let _ = wr.write_all(&bytes).await;
        // Keep the write half open (no FIN) until the answer is read.
        std::future::pending::<()>().await;
    };
    let read = async move {
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            if let Some(resp) = parse_response(&buf, false) {
                return resp;
            }
            match rd.read(&mut chunk).await {
                Ok(0) | Err(_) => {
                    return parse_response(&buf, true).unwrap_or(Resp {
                        status: 0,
                        headers: Vec::new(),
                        body: Vec::new(),
                    });
                }
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    let answer = async {
        tokio::select! {
            r = read => r,
            () = write => unreachable!(),
        }
    };
    tokio::time::timeout(Duration::from_secs(60), answer)
        .await
        .expect("an answer within 60 s")
}

/// A whole response in `buf`, if there is one (`eof`: the connection is closed).
fn parse_response(buf: &[u8], eof: bool) -> Option<Resp> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &buf[end + 4..];
    let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    if status == 100 {
        // Expect: 100-continue: the real answer follows.
        return parse_response(rest, eof);
    }
    let body = if let Some(len) = header("content-length").and_then(|l| l.parse::<usize>().ok()) {
        if rest.len() < len {
            return None;
        }
        rest[..len].to_vec()
    } else if header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        let mut at = 0;
        loop {
            let line_end = rest[at..].windows(2).position(|w| w == b"\r\n")? + at;
            let size = usize::from_str_radix(
                String::from_utf8_lossy(&rest[at..line_end])
                    .split(';')
                    .next()?
                    .trim(),
                16,
            )
            .ok()?;
            at = line_end + 2;
            if size == 0 {
                break;
            }
            if rest.len() < at + size + 2 {
                return None;
            }
            body.extend_from_slice(&rest[at..at + size]);
            at += size + 2;
        }
        body
    } else if eof {
        rest.to_vec()
    } else {
        return None;
    };
    Some(Resp {
        status,
        headers,
        body,
    })
}

// ---------------------------------------------------------------------------------------------
// The run.

fn code(r: &Resp) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(&r.body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
}

fn served(r: &Resp) -> bool {
    r.status == 200 && r.body.windows(5).any(|w| w == b"\"h\":\"")
}

fn leaks(r: &Resp) -> Option<&'static str> {
    let text = String::from_utf8_lossy(&r.body);
    SECRETS
        .iter()
        .copied()
        .find(|s| text.contains(s) || r.headers.iter().any(|(_, v)| v.contains(s)))
}

/// Whether `r` is the outcome `e`; else why not.
fn meets(e: Expect, r: &Resp) -> Result<(), String> {
    let c = code(r);
    let ok = match e {
        Expect::Served => served(r),
        Expect::Redacted => served(r) && leaks(r).is_none(),
        Expect::Plaintext => {
            r.status == 422
                && c.as_deref() == Some("netid.extra_plaintext")
                && serde_json::from_slice::<serde_json::Value>(&r.body)
                    .ok()
                    .is_some_and(|v| v["locations"].as_array().is_some_and(|l| !l.is_empty()))
        }
        Expect::Problem(status, want) => r.status == status && c.as_deref() == Some(want),
        Expect::Framework => {
            r.status != 0 && !c.as_deref().is_some_and(|c| c.starts_with("netid."))
        }
        Expect::Refused => (400..500).contains(&r.status) && !served(r),
    };
    if ok {
        Ok(())
    } else {
        let body = String::from_utf8_lossy(&r.body);
        let body: String = body.chars().take(160).collect();
        Err(format!("expected {e:?}, got {} {c:?} {body}", r.status))
    }
}

/// One adapter's results.
#[derive(Default)]
struct Report {
    requests: usize,
    failures: Vec<String>,
    gaps: Vec<(String, &'static str, String)>,
    closed: Vec<String>,
}

async fn run(adapter: &str, addr: SocketAddr, w: &App) -> Report {
    let h = Socket(addr);
    let netid_session = sign_in_netid(&h, &w.sandbox, Persona::Adult).await;
    let other_session = sign_in_other(&h, "attack-other", Some("adult")).await;
    // A consent for /vip: the ID number only.
    let me = exchange(addr, Raw::get("/me").render(addr, Some(&netid_session))).await;
    let subject = serde_json::from_slice::<serde_json::Value>(&me.body).unwrap()["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    w.rules
        .consents()
        .record(ConsentRecord {
            id: format!("attack-{adapter}"),
            subject,
            fields: vec![FieldName::IdNumber],
            purpose: "会员实名".into(),
            legal_basis: None,
            // Granted now: a consent without an expiry gets the default retention period from then.
            granted_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            expires_at: None,
            withdrawn_at: None,
        })
        .await
        .unwrap();

    let rows = catalogue();
    let mut report = Report::default();
    for row in &rows {
        let as_netid = exchange(addr, row.req.render(addr, Some(&netid_session))).await;
        let as_other = exchange(addr, row.req.render(addr, Some(&other_session))).await;
        report.requests += 2;
        let label = format!("[{adapter}] {:?}: {}", row.class, row.what);
        let mut netid_fault = meets(row.netid, &as_netid).err();
        // Every refusal to a 网证 user is small and names no value.
        if as_netid.status >= 400 {
            if as_netid.body.len() >= MAX_REFUSAL {
                netid_fault.get_or_insert(format!(
                    "refusal of {} bytes (amplification)",
                    as_netid.body.len()
                ));
            }
            if let Some(s) = leaks(&as_netid) {
                report.failures.push(format!(
                    "{label}: the refusal echoes an identity value ({s})"
                ));
            }
        }
        // netid's refusals to the other user (413) name no value either.
        if code(&as_other).is_some_and(|c| c.starts_with("netid."))
            && let Some(s) = leaks(&as_other)
        {
            report
                .failures
                .push(format!("{label}: a refusal echoes an identity value ({s})"));
        }
        let mut faults = Vec::new();
        if let Some(f) = netid_fault {
            faults.push(format!("as 网证 user: {f}"));
        }
        if let Err(f) = meets(row.other, &as_other) {
            faults.push(format!("as other-method user: {f}"));
        }
        // Equal limits: a clean request gets one status, however the user verified.
        if row.clean() && as_netid.status != as_other.status {
            faults.push(format!(
                "clean request, {} for the 网证 user vs {} for the other (equal limits)",
                as_netid.status, as_other.status
            ));
        }
        match (faults.is_empty(), row.known_gap) {
            (false, Some(why)) => report.gaps.push((label, why, faults.join("; "))),
            (false, None) => report
                .failures
                .extend(faults.into_iter().map(|f| format!("{label} {f}"))),
            (true, Some(_)) => report.closed.push(label),
            (true, None) => {}
        }
    }
    report
}

fn summarize(adapter: &str, report: &Report) {
    eprintln!(
        "{adapter}: {} requests, {} failures, {} known gaps, {} gaps closed",
        report.requests,
        report.failures.len(),
        report.gaps.len(),
        report.closed.len()
    );
    if !report.gaps.is_empty() {
        eprintln!("known gaps ({adapter}):");
        let mut by_reason: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (label, why, _) in &report.gaps {
            by_reason.entry(why).or_default().push(label);
        }
        for (why, labels) in by_reason {
            eprintln!("  {why} ({}):", labels.len());
            for l in labels {
                eprintln!("    {l}");
            }
        }
    }
    if !report.closed.is_empty() {
        eprintln!("gaps closed ({adapter}): remove `known_gap` and lower MAX_GAPS:");
        for l in &report.closed {
            eprintln!("    {l}");
        }
    }
    assert!(
        report.failures.is_empty(),
        "{} of the catalogue's requests failed through {adapter}:\n{}",
        report.failures.len(),
        report.failures.join("\n")
    );
    // `MAX_GAPS` may be 0: the comparison is still the rule (more gaps than before fail).
    #[allow(clippy::absurd_extreme_comparisons)]
    let within = report.gaps.len() <= MAX_GAPS;
    assert!(
        within,
        "{} known gaps through {adapter}, more than the {MAX_GAPS} of before: a regression",
        report.gaps.len()
    );
}

#[test]
fn the_catalogue_covers_every_class_with_300_distinct_requests() {
    let rows = catalogue();
    let distinct: HashSet<&Raw> = rows.iter().map(|r| &r.req).collect();
    assert!(
        distinct.len() >= 300,
        "{} distinct requests",
        distinct.len()
    );
    let mut per_class: HashMap<Class, usize> = HashMap::new();
    for r in &rows {
        *per_class.entry(r.class).or_default() += 1;
        assert!(!r.what.contains('\n'), "one line of comment: {}", r.what);
    }
    for class in [
        Class::DeclaredType,
        Class::FieldNames,
        Class::Normalisation,
        Class::Places,
        Class::Amplification,
        Class::Sizes,
        Class::Compressed,
        Class::Framing,
        Class::DocumentTypes,
        Class::NamesAndDates,
        Class::RoutePolicies,
        Class::Unscannable,
    ] {
        assert!(
            per_class.get(&class).copied().unwrap_or(0) >= 5,
            "{class:?}: {per_class:?}"
        );
    }
    let documents: HashSet<&str> = DOCUMENTS.iter().map(|d| d.1).collect();
    assert_eq!(documents.len(), DOCUMENTS.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_catalogue_through_axum_over_a_socket() {
    let w = app_world().await;
    let addr = serve_axum(&w).await;
    let report = run("axum", addr, &w).await;
    summarize("axum", &report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_catalogue_through_actix_over_a_socket() {
    let w = app_world().await;
    let addr = serve_actix(&w);
    let report = run("actix", addr, &w).await;
    summarize("actix", &report);
}
