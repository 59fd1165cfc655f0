//! A strict, iterative, single-pass JSON walker that matches values as it reads them.
//!
//! It does not build a tree: objects and arrays are frames on an explicit stack bounded by the
//! detector's depth limit, strings are read in place and copied only when they have escapes, and
//! the JSON path of a value is rendered only when something is found in it. Work is linear in the
//! body's length.
//!
//! A string whose text is itself a JSON object or array (`{"data":"{\"idNo\":\"…\"}"}`) is
//! scanned as JSON too, as a handler that decodes it would read it, under the same context and
//! depth limit; its findings are located `$.data (json) $.idNo` and cover the whole string. A
//! string that only looks like JSON is text. At most [`MAX_EMBEDDED`] levels of JSON in strings
//! are read; deeper is refused as too deep. A number with a fraction or an exponent that is a
//! whole number (`1.1010519491231002e17`) is matched as the digits of its exact value.
//!
//! Strictness follows RFC 8259 as `serde_json` reads it: UTF-8, no control characters in
//! strings, valid escapes, no lone surrogates, the number grammar, one value and only whitespace
//! after it. Duplicate keys are accepted and every copy is scanned: whichever one the
//! application's parser keeps has been looked at.

use std::ops::Range;

use super::fields::{FieldClass, FieldNames, IdField, push_index, push_json_key};
use super::finding::{Confidence, Finding, FindingKind};
use super::rules::{
    Scratch, ValueCtx, digit_like, looks_masked, match_value, may_be_digit, may_start_digit,
    worth_matching,
};
use super::{Detector, Excerpt, Found, ScanError};
use crate::model::FieldName;

/// How many levels of JSON inside JSON strings are read (`{"a":"{\"b\":\"{…}\"}"}` is two).
pub(super) const MAX_EMBEDDED: usize = 4;

/// Scans a JSON body. An empty or all-whitespace body has nothing in it.
pub(super) fn scan(det: &Detector, body: &[u8], today: u32) -> Result<Vec<Found>, ScanError> {
    scan_nested(det, body, today, Outer::default())
}

/// Where a JSON text sits: in a body (the default), or in a string of another JSON text or a
/// form field.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Outer {
    /// The class of the field holding the string.
    pub(super) class: Option<FieldClass>,
    /// The nearest identity-bearing field around it.
    pub(super) inherited: Option<IdField>,
    /// Containers already open around it.
    pub(super) depth: usize,
    /// JSON texts around it.
    pub(super) embedded: usize,
}

fn scan_nested(
    det: &Detector,
    body: &[u8],
    today: u32,
    outer: Outer,
) -> Result<Vec<Found>, ScanError> {
    let text = std::str::from_utf8(body).map_err(|e| ScanError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    Walker {
        det,
        b: body,
        text,
        pos: 0,
        stack: Vec::new(),
        pending: Vec::new(),
        out: Vec::new(),
        scratch: Scratch::new(det.every),
        decoded: String::new(),
        today,
        outer,
        keys: KeyCache::default(),
    }
    .run()
}

/// How many distinct keys a thread remembers across bodies.
const MEMO_KEYS: usize = 4096;

/// The vocabulary and the classes of the keys seen under it.
type Memo = (
    std::sync::Arc<FieldNames>,
    std::collections::HashMap<Box<[u8]>, FieldClass>,
);

thread_local! {
    /// Key classes remembered across bodies, for stored data read line by line (NDJSON, JSON
    /// columns): the same few keys recur on every line. Kept with the vocabulary they were
    /// classified under, so another detector's vocabulary starts afresh.
    static MEMO: std::cell::RefCell<Option<Memo>> =
        const { std::cell::RefCell::new(None) };
}

/// `det.names.classify(key)`, remembered per thread by the key's raw bytes.
fn memo_classify(det: &Detector, raw: &[u8], key: &str) -> FieldClass {
    MEMO.with_borrow_mut(|memo| {
        let fresh = !matches!(memo, Some((names, _)) if std::sync::Arc::ptr_eq(names, &det.names));
        if fresh {
            *memo = Some((det.names.clone(), std::collections::HashMap::new()));
        }
        let Some((_, map)) = memo else {
            return det.names.classify(key);
        };
        if let Some(&class) = map.get(raw) {
            return class;
        }
        let class = det.names.classify(key);
        if map.len() >= MEMO_KEYS {
            map.clear();
        }
        map.insert(raw.into(), class);
        class
    })
}

/// Whether a string's text could be a JSON object or array: `{…}` or `[…]`, spaces around.
pub(super) fn looks_like_json(text: &str) -> bool {
    let t = text.trim_matches([' ', '\t', '\n', '\r']).as_bytes();
    matches!(
        (t.first(), t.last()),
        (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']'))
    )
}

/// Scans a string's text as JSON when it is JSON; `None` when it is not (it is then text).
/// `Err` only when it is JSON nested too deep.
pub(super) fn scan_embedded(
    det: &Detector,
    text: &str,
    today: u32,
    outer: Outer,
) -> Result<Option<Vec<Found>>, ScanError> {
    if !looks_like_json(text) {
        return Ok(None);
    }
    let outer = Outer {
        embedded: outer.embedded + 1,
        ..outer
    };
    match scan_nested(det, text.as_bytes(), today, outer) {
        Ok(found) => Ok(Some(found)),
        Err(e @ ScanError::JsonTooDeep { .. }) => Err(e),
        Err(_) => Ok(None),
    }
}

/// Classes of object keys already met in this body, by their bytes: a body repeats its keys,
/// and classifying one is the dearest thing done per key.
#[derive(Debug)]
struct KeyCache {
    slots: [(usize, usize, FieldClass, Role); 64],
}

impl Default for KeyCache {
    fn default() -> Self {
        Self {
            slots: [(0, 0, FieldClass::Neutral, Role::Other); 64],
        }
    }
}

impl KeyCache {
    fn slot(key: &[u8]) -> usize {
        let (Some(&a), Some(&z)) = (key.first(), key.last()) else {
            return 0;
        };
        let mid = key[key.len() / 2];
        (key.len()
            .wrapping_mul(31)
            .wrapping_add(usize::from(a))
            .wrapping_add(usize::from(z) << 3)
            .wrapping_add(usize::from(mid) << 1))
            & 63
    }
}

/// What a member does in a key/value object (`{"key":"idNo","value":"…"}`, `{"name":"姓名",
/// "value":"…"}`), where a field's name is the value of one member and its value another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// Its string value names the field: `key`, `name`, `field`, `label`, `attr`, …
    Label,
    /// It holds the named field's value: `value`, `val`, `v`, `content`, …
    Value,
    Other,
}

/// Keys of the members that name a field, and of those that hold its value, written as keys
/// are compared here: ASCII lower case, `_` and `-` dropped. Not `type` or `code` (`{"type":
/// "passport","number":…}` is a document type beside its number, matched as such), not `data`
/// (an envelope, not one value), not `text` (rich-text blocks named `birthday` or `passport`
/// are page content, not a birth date or a passport).
const LABEL_KEYS: &[&[u8]] = &[
    b"key",
    b"k",
    b"name",
    b"field",
    b"fieldname",
    b"fieldkey",
    b"fieldcode",
    b"label",
    b"attr",
    b"attrname",
    b"attrkey",
    b"attribute",
    b"attributename",
    b"attributekey",
    b"prop",
    b"propname",
    b"property",
    b"propertyname",
    b"param",
    b"paramname",
    b"paramkey",
    b"itemname",
    b"itemkey",
    b"column",
    b"columnname",
    "字段".as_bytes(),
    "字段名".as_bytes(),
    "字段名称".as_bytes(),
    "标签".as_bytes(),
    "名称".as_bytes(),
    "键".as_bytes(),
];
const VALUE_KEYS: &[&[u8]] = &[
    b"value",
    b"val",
    b"v",
    b"values",
    b"fieldvalue",
    b"attrvalue",
    b"attributevalue",
    b"propvalue",
    b"propertyvalue",
    b"paramvalue",
    b"itemvalue",
    b"content",
    "值".as_bytes(),
    "字段值".as_bytes(),
    "内容".as_bytes(),
];

/// The role of a member by its key (see [`Role`]).
pub(super) fn member_role(key: &[u8]) -> Role {
    if key.is_empty() || key.len() > 16 {
        return Role::Other;
    }
    let mut buf = [0u8; 16];
    let mut n = 0;
    for &b in key {
        if b != b'_' && b != b'-' {
            buf[n] = b.to_ascii_lowercase();
            n += 1;
        }
    }
    let k = &buf[..n];
    if LABEL_KEYS.contains(&k) {
        Role::Label
    } else if VALUE_KEYS.contains(&k) {
        Role::Value
    } else {
        Role::Other
    }
}

/// An object key: in place in the body, or decoded (it had escapes).
#[derive(Debug, Clone)]
enum Key {
    None,
    Raw(usize, usize),
    Owned(String),
}

#[derive(Debug)]
struct Frame {
    array: bool,
    /// Arrays: the index of the current element.
    index: usize,
    /// Objects: the current key.
    key: Key,
    /// Objects: the current key's class. Arrays: the class of the key holding the array, which
    /// its elements inherit.
    class: FieldClass,
    /// The nearest key enclosing this container that is identity-bearing.
    inherited: Option<IdField>,
    /// Objects: a direct scalar child blocks, or a container under an identity-bearing key in it
    /// holds something that blocks. A `name` in this object is then identity data.
    id_beside: bool,
    /// Anything in this container blocks.
    blocking: bool,
    /// Something in this container is a masked number: a `name` beside it is a person's name.
    masked: bool,
    /// Objects: the current key's [`Role`].
    role: Role,
    /// Objects: the identity field a label member named (`{"key":"idNo",…}`): a value member
    /// holds it.
    named: Option<IdField>,
    /// Objects: a value member's scalar read before any label member named it, to be matched
    /// when one does.
    early: Option<(Key, Range<usize>)>,
    /// Objects: the first label member's string, read (classified) only when the object turns
    /// out to have a value member: most objects with a `name` have none, and classifying every
    /// product or person name as a key would double the scan's cost.
    label: Label,
}

/// The first label member of an object (see [`Frame::label`]).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Label {
    Unseen,
    /// Its string's span (quotes included), not yet classified.
    Seen(Range<usize>),
    /// Classified (into [`Frame::named`]).
    Read(Range<usize>),
}

/// A non-empty `name` waiting for its object to close.
#[derive(Debug)]
struct Pending {
    depth: usize,
    key: Key,
    span: Range<usize>,
}

/// What [`Walker::string`] learned about a string while finding its end.
struct Str {
    start: usize,
    end: usize,
    escaped: bool,
    digits: usize,
    stars: usize,
}

struct Walker<'a> {
    det: &'a Detector,
    b: &'a [u8],
    text: &'a str,
    pos: usize,
    stack: Vec<Frame>,
    pending: Vec<Pending>,
    out: Vec<Found>,
    scratch: Scratch,
    decoded: String,
    today: u32,
    outer: Outer,
    keys: KeyCache,
}

impl<'a> Walker<'a> {
    fn invalid(&self) -> ScanError {
        ScanError::InvalidJson { offset: self.pos }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn run(mut self) -> Result<Vec<Found>, ScanError> {
        self.ws();
        if self.pos == self.b.len() {
            return Ok(Vec::new());
        }
        'value: loop {
            match self.peek() {
                Some(b'{') => {
                    self.open(false)?;
                    self.pos += 1;
                    self.ws();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        self.close();
                    } else {
                        self.key()?;
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    self.open(true)?;
                    self.pos += 1;
                    self.ws();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        self.close();
                    } else {
                        continue 'value;
                    }
                }
                Some(b'"') => self.string_value()?,
                Some(b'-' | b'0'..=b'9') => self.number_value()?,
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                _ => return Err(self.invalid()),
            }
            // After a value: close containers until one expects another value.
            loop {
                self.ws();
                let next = self.peek();
                let Some(top) = self.stack.last_mut() else {
                    if next.is_some() {
                        return Err(self.invalid());
                    }
                    return Ok(self.out);
                };
                match (top.array, next) {
                    (false, Some(b',')) => {
                        self.pos += 1;
                        self.ws();
                        self.key()?;
                        continue 'value;
                    }
                    (true, Some(b',')) => {
                        top.index += 1;
                        self.pos += 1;
                        self.ws();
                        continue 'value;
                    }
                    (false, Some(b'}')) | (true, Some(b']')) => {
                        self.pos += 1;
                        self.close();
                    }
                    _ => return Err(self.invalid()),
                }
            }
        }
    }

    /// The class of the field the next value belongs to, and the nearest enclosing
    /// identity-bearing field.
    fn value_class(&self) -> (FieldClass, Option<IdField>) {
        self.stack.last().map_or(
            (
                self.outer.class.unwrap_or(FieldClass::Neutral),
                self.outer.inherited,
            ),
            |f| (f.class, f.inherited),
        )
    }

    fn open(&mut self, array: bool) -> Result<(), ScanError> {
        if self.outer.depth + self.stack.len() >= self.det.max_depth {
            return Err(ScanError::JsonTooDeep {
                max: self.det.max_depth,
            });
        }
        let (class, inherited) = self.value_class();
        self.stack.push(Frame {
            array,
            index: 0,
            key: Key::None,
            class: if array { class } else { FieldClass::Neutral },
            inherited: match class {
                FieldClass::Identity(f) => Some(f),
                _ => inherited,
            },
            id_beside: false,
            blocking: false,
            masked: false,
            role: Role::Other,
            named: None,
            early: None,
            label: Label::Unseen,
        });
        Ok(())
    }

    fn close(&mut self) {
        let Some(mut frame) = self.stack.pop() else {
            return;
        };
        if !frame.array {
            let depth = self.stack.len() + 1;
            while self.pending.last().is_some_and(|p| p.depth == depth) {
                let Some(p) = self.pending.pop() else { break };
                // A label naming an identity field is a field name, not a person's `name`.
                let label = frame.named.is_some() && frame.label == Label::Read(p.span.clone());
                if frame.id_beside && !label {
                    let location = self.path(Some(&p.key));
                    let (kind, confidence) = if self.masked_string(&p.span) {
                        (FindingKind::MaskedId, Confidence::Report)
                    } else {
                        frame.blocking = true;
                        (FindingKind::IdentityFieldName, Confidence::Contextual)
                    };
                    self.out.push(Found {
                        excerpt: None,
                        span: p.span,
                        finding: Finding {
                            location,
                            kind,
                            confidence,
                            field: FieldName::Name,
                        },
                    });
                }
            }
        }
        if let Some(parent) = self.stack.last_mut()
            && (frame.blocking || frame.masked)
        {
            parent.blocking |= frame.blocking;
            parent.masked |= frame.masked;
            if !parent.array && matches!(parent.class, FieldClass::Identity(_)) {
                parent.id_beside = true;
            }
        }
    }

    /// Whether the string at `span` (quotes included) is masked (`张*`). Rare: asked only of a
    /// `name` beside identity data.
    fn masked_string(&self, span: &Range<usize>) -> bool {
        let raw = self.text.get(span.clone()).unwrap_or("");
        if raw.contains('\\') {
            serde_json::from_str::<String>(raw).is_ok_and(|text| looks_masked(&text))
        } else {
            looks_masked(raw.trim_matches('"'))
        }
    }

    fn key_str<'k>(&'k self, key: &'k Key) -> &'k str {
        match key {
            Key::None => "",
            Key::Raw(s, e) => self.text.get(*s..*e).unwrap_or(""),
            Key::Owned(k) => k,
        }
    }

    /// The JSON path of the current value, with `extra` as one more key.
    fn path(&self, extra: Option<&Key>) -> String {
        let mut p = String::from("$");
        for f in &self.stack {
            if f.array {
                push_index(&mut p, f.index);
            } else {
                let key = self.key_str(&f.key);
                // An ASCII key is known exactly when its class (kept from when it was read)
                // is not neutral: no need to classify it again for every finding under it.
                let known = if key.is_ascii() {
                    f.class != FieldClass::Neutral
                } else {
                    self.det.names.known(key)
                };
                push_json_key(&mut p, key, known);
            }
        }
        if let Some(k) = extra {
            let key = self.key_str(k);
            push_json_key(&mut p, key, self.det.names.known(key));
        }
        p
    }

    /// Whether the character at `i` (a lead byte) is a decimal digit of another script. Kept out
    /// of [`string`](Self::string)'s loop: rare.
    #[inline(never)]
    fn other_script_digit(&self, i: usize) -> bool {
        self.text
            .get(i..)
            .and_then(|t| t.chars().next())
            .and_then(digit_like)
            .is_some()
    }

    /// Whether the character at `i`, whose lead byte may start a digit ([`may_start_digit`]),
    /// is one. Out of [`string`](Self::string)'s loop, which must stay small to be inlined.
    #[inline(never)]
    fn lead_digit(&self, i: usize) -> bool {
        let b = self.b;
        let c = b[i];
        // C2, E2 and EF also start punctuation common in Chinese text (`·`, `“`, `…`, `，`): the
        // next byte rules most of it out before any decoding.
        if !may_be_digit(c, b.get(i + 1).copied().unwrap_or(0)) {
            false
        } else if c == 0xef {
            // U+F000..U+FFFF: only the full-width digits, EF BC 90..99.
            matches!(b.get(i + 2), Some(0x90..=0x99))
        } else {
            self.other_script_digit(i)
        }
    }

    /// Reads a string from its opening quote; `pos` ends past the closing quote.
    #[inline(always)]
    fn string(&mut self) -> Result<Str, ScanError> {
        let b = self.b;
        let start = self.pos + 1;
        let mut i = start;
        let (mut digits, mut stars, mut escaped) = (0, 0, false);
        loop {
            // Skip the bytes that need nothing (most of them) a few at a time.
            while let Some(&c) = b.get(i) {
                if BYTE_CLASS[usize::from(c)] != PLAIN {
                    break;
                }
                i += 1;
            }
            let Some(&c) = b.get(i) else {
                self.pos = i;
                return Err(self.invalid());
            };
            match BYTE_CLASS[usize::from(c)] {
                QUOTE => break,
                DIGIT => digits += 1,
                BACKSLASH => {
                    escaped = true;
                    i += 2;
                    continue;
                }
                CONTROL => {
                    self.pos = i;
                    return Err(self.invalid());
                }
                STAR => stars += 1,
                // A lead byte that may start a decimal digit of another script (full-width
                // `１`, Arabic-Indic `١`, Devanagari `१`, circled `①`, …).
                _ => digits += usize::from(self.lead_digit(i)),
            }
            i += 1;
        }
        self.pos = i + 1;
        Ok(Str {
            start,
            end: i,
            escaped,
            digits,
            stars,
        })
    }

    /// Decodes the escapes of the string at `s` into `out`, with the digit and `*` counts of the
    /// decoded text.
    fn decode(&self, s: &Str, out: &mut String) -> Result<(usize, usize), ScanError> {
        let raw = &self.b[s.start..s.end];
        let err = |i: usize| ScanError::InvalidJson {
            offset: s.start + i,
        };
        out.clear();
        let mut i = 0;
        while i < raw.len() {
            if raw[i] != b'\\' {
                let from = i;
                while i < raw.len() && raw[i] != b'\\' {
                    i += 1;
                }
                // Splitting valid UTF-8 at ASCII backslashes leaves valid UTF-8.
                out.push_str(std::str::from_utf8(&raw[from..i]).map_err(|_| err(from))?);
                continue;
            }
            let c = match raw.get(i + 1) {
                Some(b'"') => '"',
                Some(b'\\') => '\\',
                Some(b'/') => '/',
                Some(b'b') => '\u{8}',
                Some(b'f') => '\u{c}',
                Some(b'n') => '\n',
                Some(b'r') => '\r',
                Some(b't') => '\t',
                Some(b'u') => {
                    let hi = hex4(raw, i + 2).ok_or_else(|| err(i))?;
                    i += 6;
                    let code = match hi {
                        0xd800..=0xdbff => {
                            if raw.get(i..i + 2) != Some(b"\\u") {
                                return Err(err(i));
                            }
                            let lo = hex4(raw, i + 2).ok_or_else(|| err(i))?;
                            if !(0xdc00..=0xdfff).contains(&lo) {
                                return Err(err(i));
                            }
                            i += 6;
                            0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                        }
                        0xdc00..=0xdfff => return Err(err(i - 6)),
                        _ => hi,
                    };
                    out.push(char::from_u32(code).ok_or_else(|| err(i))?);
                    continue;
                }
                _ => return Err(err(i)),
            };
            out.push(c);
            i += 2;
        }
        Ok(counts(out))
    }

    fn key(&mut self) -> Result<(), ScanError> {
        if self.peek() != Some(b'"') {
            return Err(self.invalid());
        }
        let quote = self.pos;
        let s = self.string()?;
        let (key, digits, stars) = if s.escaped {
            let mut decoded = std::mem::take(&mut self.decoded);
            let (d, st) = self.decode(&s, &mut decoded)?;
            let key = Key::Owned(decoded.clone());
            self.decoded = decoded;
            (key, d, st)
        } else {
            (Key::Raw(s.start, s.end), s.digits, s.stars)
        };
        let (class, role) = match key {
            Key::Raw(s, e) => {
                let body = self.b;
                let bytes = &body[s..e];
                let slot = KeyCache::slot(bytes);
                let (cs, ce, cached, role) = self.keys.slots[slot];
                if ce > cs && body[cs..ce] == *bytes {
                    (cached, role)
                } else {
                    let class = if self.det.every {
                        memo_classify(self.det, bytes, self.key_str(&key))
                    } else {
                        self.det.names.classify(self.key_str(&key))
                    };
                    let role = member_role(bytes);
                    self.keys.slots[slot] = (s, e, class, role);
                    (class, role)
                }
            }
            _ => {
                let k = self.key_str(&key);
                (self.det.names.classify(k), member_role(k.as_bytes()))
            }
        };
        if role == Role::Value
            && let Some(Frame {
                label: Label::Seen(span),
                ..
            }) = self.stack.last()
        {
            let span = span.clone();
            let named = self.read_label(&span);
            if let Some(top) = self.stack.last_mut() {
                top.named = named;
                top.label = Label::Read(span);
            }
        }
        if let Some(top) = self.stack.last_mut() {
            top.key = key;
            top.class = match (role, top.named) {
                // A value member of an object whose label member named an identity field.
                (Role::Value, Some(f)) if !matches!(class, FieldClass::Identity(_)) => {
                    FieldClass::Identity(f)
                }
                _ => class,
            };
            top.role = role;
        }
        if worth_matching(digits, stars) {
            // A number can hide in a key too (`{"11010519491231002X": …}`).
            let text = match self.stack.last() {
                Some(Frame {
                    key: Key::Owned(k), ..
                }) => k.clone(),
                _ => self.text.get(s.start..s.end).unwrap_or("").to_owned(),
            };
            self.matched(&text, quote..self.pos, ValueCtx::default());
        }
        self.ws();
        if self.peek() != Some(b':') {
            return Err(self.invalid());
        }
        self.pos += 1;
        self.ws();
        Ok(())
    }

    fn string_value(&mut self) -> Result<(), ScanError> {
        let quote = self.pos;
        let s = self.string()?;
        let span = quote..self.pos;
        if s.escaped {
            let mut decoded = std::mem::take(&mut self.decoded);
            let (digits, stars) = self.decode(&s, &mut decoded)?;
            if !self.embedded(&decoded, &span)? {
                self.scalar(&decoded, span, digits, stars, true);
            }
            self.decoded = decoded;
        } else {
            let text = self.text.get(s.start..s.end).unwrap_or("");
            if !self.embedded(text, &span)? {
                self.scalar(text, span, s.digits, s.stars, true);
            }
        }
        Ok(())
    }

    /// Scans a string that holds a JSON text as JSON. Whether it did.
    #[inline]
    fn embedded(&mut self, text: &str, span: &Range<usize>) -> Result<bool, ScanError> {
        // Most strings are not JSON: a look at the first byte says so.
        if !matches!(
            text.as_bytes().first(),
            Some(b'{' | b'[' | b' ' | b'\t' | b'\n' | b'\r')
        ) || !looks_like_json(text)
        {
            return Ok(false);
        }
        self.embedded_json(text, span)
    }

    #[inline(never)]
    fn embedded_json(&mut self, text: &str, span: &Range<usize>) -> Result<bool, ScanError> {
        if self.outer.embedded >= MAX_EMBEDDED {
            return Err(ScanError::JsonTooDeep {
                max: self.det.max_depth,
            });
        }
        let (class, inherited) = self.value_class();
        let outer = Outer {
            class: Some(class),
            inherited: match class {
                FieldClass::Identity(f) => Some(f),
                _ => inherited,
            },
            depth: self.outer.depth + self.stack.len(),
            embedded: self.outer.embedded,
        };
        let Some(found) = scan_embedded(self.det, text, self.today, outer)? else {
            return Ok(false);
        };
        if found.is_empty() {
            return Ok(true);
        }
        let base = self.path(None);
        let (mut blocks, mut masked) = (false, false);
        for f in found {
            blocks |= f.finding.is_blocking();
            masked |= f.finding.kind == FindingKind::MaskedId;
            self.out.push(Found {
                span: span.clone(),
                excerpt: f.excerpt.map(Excerpt::unplaced),
                finding: Finding {
                    location: format!("{base} (json) {}", f.finding.location),
                    ..f.finding
                },
            });
        }
        self.evidence(blocks, masked);
        Ok(true)
    }

    /// Records that the current value blocks, or holds a masked number, for a `name` beside it.
    fn evidence(&mut self, blocks: bool, masked: bool) {
        if let Some(top) = self.stack.last_mut() {
            top.blocking |= blocks;
            top.masked |= masked;
            if !top.array && (blocks || masked) {
                top.id_beside = true;
            }
        }
    }

    fn number_value(&mut self) -> Result<(), ScanError> {
        let start = self.pos;
        let digit = |w: &Self| w.peek().is_some_and(|c| c.is_ascii_digit());
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while digit(self) {
                    self.pos += 1;
                }
            }
            _ => return Err(self.invalid()),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !digit(self) {
                return Err(self.invalid());
            }
            while digit(self) {
                self.pos += 1;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !digit(self) {
                return Err(self.invalid());
            }
            while digit(self) {
                self.pos += 1;
            }
        }
        let text = self.text.get(start..self.pos).unwrap_or("");
        if !text.contains(['.', 'e', 'E']) {
            let digits = text.bytes().filter(u8::is_ascii_digit).count();
            self.scalar(text, start..self.pos, digits, 0, false);
            return Ok(());
        }
        // A fraction or an exponent: what a handler reads is the number's value. A whole
        // number is matched as its digits; any other is matched only under an identity field.
        // Most are amounts (`12.50`): a fraction with a digit other than 0 and no exponent.
        let amount = !text.contains(['e', 'E'])
            && text
                .split_once('.')
                .is_some_and(|(_, frac)| frac.bytes().any(|b| b != b'0'));
        let mut whole = std::mem::take(&mut self.decoded);
        if !amount && whole_number_digits(text, &mut whole) {
            self.scalar(&whole, start..self.pos, whole.len(), 0, false);
        } else {
            self.scalar(text, start..self.pos, 0, 0, false);
        }
        self.decoded = whole;
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), ScanError> {
        if self
            .b
            .get(self.pos..)
            .is_some_and(|rest| rest.starts_with(word))
        {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.invalid())
        }
    }

    /// A string or number value.
    fn scalar(
        &mut self,
        text: &str,
        span: Range<usize>,
        digits: usize,
        stars: usize,
        string: bool,
    ) {
        let (class, inherited) = self.value_class();
        let direct = match class {
            FieldClass::Identity(f) => Some(f),
            _ => None,
        };
        let role = self
            .stack
            .last()
            .filter(|f| !f.array)
            .map_or(Role::Other, |f| f.role);
        if role == Role::Label
            && string
            && let Some(top) = self.stack.last_mut()
            && top.label == Label::Unseen
        {
            if top.early.is_some() {
                // A value member came first: read the label now.
                self.label(span.clone());
            } else {
                top.label = Label::Seen(span.clone());
            }
        }
        if role == Role::Value
            && direct.is_none()
            && let Some(top) = self.stack.last_mut()
            && top.named.is_none()
            && top.early.is_none()
            && top.label == Label::Unseen
        {
            // Its label may come after it (`{"value":…,"key":"idNo"}`).
            top.early = Some((top.key.clone(), span.clone()));
        }
        let ctx = ValueCtx {
            direct,
            inherited,
            // A string anywhere under an identity field is identity data; a number there only
            // when it matches a pattern (`idCard: {type: 1}`), except under a birth date, whose
            // parts are numbers (`birthday: {year: 1990, month: 1, day: 1}`).
            whole: direct.or(if string || inherited == Some(IdField::BirthDate) {
                inherited
            } else {
                None
            }),
            company: class == FieldClass::Company,
            maybe_document: class == FieldClass::MaybeDocument,
        };
        if ctx.whole.is_none() {
            let in_object = self.stack.last().is_some_and(|f| !f.array);
            let wait = string
                && in_object
                && class == FieldClass::Name
                && !text.trim().is_empty()
                && text != super::REDACTED;
            let blocks = worth_matching(digits, stars) && self.matched(text, span.clone(), ctx);
            if wait && !blocks {
                let key = self.stack.last().map_or(Key::None, |f| f.key.clone());
                self.pending.push(Pending {
                    depth: self.stack.len(),
                    key,
                    span,
                });
            }
            return;
        }
        self.matched(text, span, ctx);
    }

    /// The string at `span` (quotes included), decoded.
    fn string_at(&self, span: &Range<usize>) -> String {
        let raw = self.text.get(span.clone()).unwrap_or("");
        if !raw.starts_with('"') {
            raw.to_owned()
        } else if raw.contains('\\') {
            serde_json::from_str::<String>(raw).unwrap_or_default()
        } else {
            raw.trim_matches('"').to_owned()
        }
    }

    /// The identity field a label member's string (at `span`) names, if any.
    #[inline(never)]
    fn read_label(&self, span: &Range<usize>) -> Option<IdField> {
        // A key, not a sentence: longer labels name nothing.
        if span.len() > 2 + 64 * 6 {
            return None;
        }
        let text = self.string_at(span);
        match self.det.names.classify(&text) {
            FieldClass::Identity(f) if text.len() <= 64 => Some(f),
            _ => None,
        }
    }

    /// A label member's string (at `span`) in an object whose value member came first: when it
    /// names an identity field, that value is matched as it, located at its own key.
    #[inline(never)]
    fn label(&mut self, span: Range<usize>) {
        let named = self.read_label(&span);
        let Some(top) = self.stack.last_mut() else {
            return;
        };
        top.named = named;
        top.label = Label::Read(span);
        let Some(f) = named else {
            return;
        };
        let Some((key, span)) = top.early.take() else {
            return;
        };
        // The value came first: match it now, located at its own key.
        let label_key = std::mem::replace(&mut top.key, key);
        let inherited = top.inherited;
        let ctx = ValueCtx {
            direct: Some(f),
            inherited,
            whole: Some(f),
            company: false,
            maybe_document: false,
        };
        let value = self.string_at(&span);
        self.matched(&value, span, ctx);
        if let Some(top) = self.stack.last_mut() {
            top.key = label_key;
        }
    }

    /// Matches `text` and records what it holds at the current path. Whether any of it blocks.
    fn matched(&mut self, text: &str, span: Range<usize>, ctx: ValueCtx) -> bool {
        match_value(&mut self.scratch, text, ctx, self.today);
        if self.scratch.hits.is_empty() {
            return false;
        }
        let location = self.path(None);
        let mut blocks = false;
        let mut masked = false;
        for hit in &self.scratch.hits {
            blocks |= hit.confidence.is_blocking();
            masked |= hit.kind == FindingKind::MaskedId;
            self.out.push(Found {
                span: span.clone(),
                excerpt: self.scratch.every.then(|| Excerpt::of(text, hit.span)),
                finding: Finding {
                    location: location.clone(),
                    kind: hit.kind,
                    confidence: hit.confidence,
                    field: hit.field,
                },
            });
        }
        self.evidence(blocks, masked);
        blocks
    }
}

// What a byte inside a string means to [`Walker::string`].
const PLAIN: u8 = 0;
const QUOTE: u8 = 1;
const BACKSLASH: u8 = 2;
const CONTROL: u8 = 3;
const DIGIT: u8 = 4;
const STAR: u8 = 5;
/// A lead byte that may start a decimal digit of another script ([`may_start_digit`]).
const LEAD_DIGIT: u8 = 6;

static BYTE_CLASS: [u8; 256] = {
    let mut t = [PLAIN; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = CONTROL;
        i += 1;
    }
    let mut d = b'0';
    while d <= b'9' {
        t[d as usize] = DIGIT;
        d += 1;
    }
    t[b'"' as usize] = QUOTE;
    t[b'\\' as usize] = BACKSLASH;
    t[b'*' as usize] = STAR;
    let mut lead = 0xc0;
    while lead <= 0xff {
        if may_start_digit(lead as u8) {
            t[lead] = LEAD_DIGIT;
        }
        lead += 1;
    }
    t
};

fn hex4(raw: &[u8], at: usize) -> Option<u32> {
    let h = raw.get(at..at + 4)?;
    h.iter()
        .try_fold(0u32, |n, &c| Some(n * 16 + char::from(c).to_digit(16)?))
}

/// Digits (of any script) and `*` in decoded text.
fn counts(text: &str) -> (usize, usize) {
    let mut digits = 0;
    let mut stars = 0;
    for c in text.chars() {
        match c {
            '0'..='9' => digits += 1,
            '*' => stars += 1,
            c if !c.is_ascii() && digit_like(c).is_some() => digits += 1,
            _ => {}
        }
    }
    (digits, stars)
}

/// Most digits a whole number is written out with; longer ones are no identity number.
const MAX_WHOLE_DIGITS: usize = 40;

/// The digits of a JSON number's exact value, when it is a whole number (`1.1010519491231002e17`
/// → `110105194912310020`, `110105491231002.0` → `110105491231002`), without sign or leading
/// zeros, into `out`. `false` when it is not whole, or would take more than
/// [`MAX_WHOLE_DIGITS`] digits.
pub(super) fn whole_number_digits(text: &str, out: &mut String) -> bool {
    out.clear();
    let t = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => {
            let exp = &t[i + 1..];
            let exp = exp.strip_prefix('+').unwrap_or(exp);
            match exp.parse::<i64>() {
                Ok(e) => (&t[..i], e),
                // Beyond i64: nothing a handler reads as an identity number.
                Err(_) => return false,
            }
        }
        None => (t, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let Ok(frac_len) = i64::try_from(frac.len()) else {
        return false;
    };
    for b in int.bytes().chain(frac.bytes()) {
        if !b.is_ascii_digit() {
            out.clear();
            return false;
        }
        // Leading zeros are not written.
        if !(out.is_empty() && b == b'0') {
            out.push(char::from(b));
        }
    }
    // The value is `out × 10^shift`.
    let shift = exp.saturating_sub(frac_len);
    if out.is_empty() {
        out.push('0');
        return true;
    }
    let whole = if shift >= 0 {
        let zeros = usize::try_from(shift).unwrap_or(usize::MAX);
        let fits = out.len().saturating_add(zeros) <= MAX_WHOLE_DIGITS;
        if fits {
            out.extend(std::iter::repeat_n('0', zeros));
        }
        fits
    } else {
        let cut = usize::try_from(shift.unsigned_abs()).unwrap_or(usize::MAX);
        // Only zeros may be cut off; the first digit is not one.
        let fits = cut < out.len()
            && out.as_bytes()[out.len() - cut..].iter().all(|&b| b == b'0')
            && out.len() - cut <= MAX_WHOLE_DIGITS;
        if fits {
            out.truncate(out.len() - cut);
        }
        fits
    };
    if !whole {
        out.clear();
    }
    whole
}
