//! `multipart/form-data` bodies (RFC 7578): every part is inspected, text fields and uploaded
//! files alike, and every part's findings are named by its field name, never by its content or
//! its file name.
//!
//! How a part is read depends on its `Content-Type`:
//!
//! - `application/json` and `application/*+json`: the JSON scanner, with its depth limit; a part
//!   that is not well-formed JSON is refused as a JSON body would be.
//! - `application/x-www-form-urlencoded`: the form scanner.
//! - A field (no `filename`) of type `text/*` or without a type: text, which must be UTF-8
//!   unless the part declares a `charset` (`text/plain; charset=gbk`), which decodes it.
//! - Anything else — every uploaded file that is not JSON or a form (`text/plain`, `text/csv`, no
//!   type, `application/octet-stream`, `image/*`, `application/pdf`, …) and every field of
//!   another type: its bytes are read as text whatever the declared type says. A byte order
//!   mark (UTF-8, UTF-16) wins, then a declared `charset` (GBK, GB 18030, Big5, any WHATWG
//!   label; when UTF-8 reads the bytes otherwise, both readings), then UTF-8; bytes that are
//!   not UTF-8 are read as GB 18030 when they are GB 18030 throughout (a GBK `.csv` exported
//!   without a charset) beside the lossy reading, else lossily (invalid sequences become
//!   U+FFFD). NUL bytes are dropped, so an ID number is found in a GBK `.csv` with its
//!   身份证号码 header, in UTF-16 text without a byte order mark, or in a "photo" that is really
//!   a text file. Nothing is refused for not being text.
//!
//! What cannot be inspected: whatever is not written as characters in the bytes — a photo or a
//! scan of an ID card, compressed data (deflate streams in a PDF, `.docx`, `.xlsx`, `.zip`),
//! encrypted files. A clean scan of such a part says nothing; it is the platform's duty.
//!
//! A part's file name and its other headers are scanned as text too (a file called
//! `11010519491231002X.jpg` is identity data in plaintext). A `Content-Transfer-Encoding` other
//! than `7bit`, `8bit` or `binary` is refused: RFC 7578 forbids it, and a base64 part would hide
//! its content.
//!
//! A body that parsers would read differently is refused, not guessed at: a `--boundary` before
//! the first delimiter line (multer, behind axum's `Multipart`, starts there even mid-line), two
//! `Content-Disposition` headers, two `name` parameters (`name*` counts), or a name that a
//! lenient reader (multer's, ported in `lenient_name`) takes differently from this one
//! (`name=a b`, `foo="x name=idNo"`, `filenamename=…`, `Name=…`, backslashes). Header lines may
//! end in a bare LF, as multer's header parser accepts. `tests/integration/parser_diff.rs`
//! checks all of this against multer.
//!
//! Locations: a field is named as a form field is (`idNo`, `(text)` without a name); an uploaded
//! file adds ` (file)` (`attachment (file)`); a JSON or form part adds the path inside it
//! (`meta (file) $.user.idNo`, `meta $.user.idNo`, `(part) $.idNo` without a name); a file name
//! is `attachment (filename)`, another header `attachment (header)`.

use std::borrow::Cow;
use std::ops::Range;

use super::fields::field_location;
use super::finding::FindingKind;
use super::form::{self, Field};
use super::{Detector, Found, ScanError, json};

/// One part of the body.
struct Part<'a> {
    /// The `name` of its `Content-Disposition`.
    name: Option<String>,
    /// The `filename` (or `filename*`) of its `Content-Disposition`: scanned, never shown.
    filename: Option<String>,
    /// The `Content-Type` essence, lower case.
    content_type: Option<String>,
    /// The encoding its `charset` parameter names, if it names one.
    charset: Option<&'static encoding_rs::Encoding>,
    /// Values of headers other than `Content-Disposition`, `Content-Type` and
    /// `Content-Transfer-Encoding`: scanned, never shown.
    other_headers: Vec<String>,
    /// Where its header block starts in the body.
    header_start: usize,
    content: &'a [u8],
    /// Where its content starts in the body.
    content_start: usize,
}

impl Part<'_> {
    fn is_file(&self) -> bool {
        self.filename.is_some()
    }
}

/// How a part is read.
enum Reading {
    Json,
    Form,
    /// A field of type `text/*` or without a type: UTF-8 or refused.
    StrictText,
    /// Anything else: its bytes as text, lossily if need be.
    Bytes,
}

fn reading(part: &Part<'_>) -> Reading {
    match part.content_type.as_deref() {
        Some("application/json") => Reading::Json,
        Some(t) if t.starts_with("application/") && t.ends_with("+json") => Reading::Json,
        Some("application/x-www-form-urlencoded") => Reading::Form,
        None if !part.is_file() => Reading::StrictText,
        Some(t) if t.starts_with("text/") && !part.is_file() => Reading::StrictText,
        _ => Reading::Bytes,
    }
}

/// What a text field handed to the form scanner came from.
enum Origin {
    /// The content of part `n`.
    Content(usize),
    /// The file name of part `n`.
    Filename(usize),
    /// Another header of part `n`.
    Header(usize),
}

/// Scans a multipart body. Every part is inspected (see the module docs).
pub(super) fn scan(
    det: &Detector,
    body: &[u8],
    boundary: &str,
    today: u32,
) -> Result<Vec<Found>, ScanError> {
    let parts = parse(body, boundary)?;
    let mut out = Vec::new();
    // Text for the form scanner, each identified by its index (its spans are `i..i`) until its
    // findings are mapped back to the part and a body offset.
    let mut fields: Vec<Field<'static>> = Vec::new();
    let mut origins: Vec<(Origin, usize)> = Vec::new();
    let mut push = |name: Option<&str>, value: String, origin: (Origin, usize)| {
        let i = fields.len();
        fields.push(Field {
            name: name.map(|n| Cow::Owned(n.to_owned())),
            value: Cow::Owned(value),
            name_span: i..i,
            value_span: i..i,
        });
        origins.push(origin);
    };
    for (n, part) in parts.iter().enumerate() {
        let start = part.content_start;
        match reading(part) {
            Reading::Json => {
                let found = match decode(part.content) {
                    Some(text) => json::scan(det, text.as_bytes(), today),
                    // Not UTF-8: the JSON scanner says where.
                    None => json::scan(det, part.content, today),
                }
                .map_err(|e| e.shifted(start))?;
                let base = structured_base(det, part);
                out.extend(found.into_iter().map(|f| relocate(f, &base, start)));
            }
            Reading::Form => {
                let fields = form::parse(part.content).map_err(|e| e.shifted(start))?;
                let base = structured_base(det, part);
                out.extend(
                    form::scan(det, &fields, today)
                        .into_iter()
                        .map(|f| relocate(f, &base, start)),
                );
            }
            Reading::StrictText if declared(part).is_some() => push(
                part.name.as_deref(),
                as_text(part.content, declared(part)).into_owned(),
                (Origin::Content(n), start),
            ),
            Reading::StrictText => {
                let text =
                    std::str::from_utf8(part.content).map_err(|e| ScanError::InvalidUtf8 {
                        offset: start + e.valid_up_to(),
                    })?;
                push(
                    part.name.as_deref(),
                    text.to_owned(),
                    (Origin::Content(n), start),
                );
            }
            Reading::Bytes => push(
                part.name.as_deref(),
                as_text(part.content, declared(part)).into_owned(),
                (Origin::Content(n), start),
            ),
        }
        if let Some(filename) = part.filename.as_deref().filter(|f| !f.is_empty()) {
            push(
                None,
                filename.to_owned(),
                (Origin::Filename(n), part.header_start),
            );
        }
        for value in &part.other_headers {
            push(None, value.clone(), (Origin::Header(n), part.header_start));
        }
    }
    // All text together, so a `name` field beside an ID number (or a masked one) in another part
    // counts.
    let elsewhere = out
        .iter()
        .any(|f| f.finding.is_blocking() || f.finding.kind == FindingKind::MaskedId);
    for mut found in form::scan_with(det, &fields, today, elsewhere) {
        let Some((origin, offset)) = origins.get(found.span.start) else {
            continue;
        };
        let part_location = |n: usize| {
            parts
                .get(n)
                .and_then(|p| p.name.as_deref())
                .map(|name| field_location(name, det.names.known(name)))
        };
        found.finding.location = match *origin {
            Origin::Content(n) => match parts.get(n) {
                Some(part) if part.is_file() => match part_location(n) {
                    Some(name) => format!("{name} (file)"),
                    None => "(file)".to_owned(),
                },
                // A field: named as the form scanner named it.
                _ => found.finding.location,
            },
            Origin::Filename(n) => suffixed(part_location(n), "(filename)"),
            Origin::Header(n) => suffixed(part_location(n), "(header)"),
        };
        found.span = *offset..*offset;
        out.push(found);
    }
    Ok(out)
}

/// `name (what)`, or `(what)` without a name.
fn suffixed(name: Option<String>, what: &str) -> String {
    match name {
        Some(name) => format!("{name} {what}"),
        None => what.to_owned(),
    }
}

/// The start of the location of a finding inside a JSON or form part.
fn structured_base(det: &Detector, part: &Part<'_>) -> String {
    let name = part
        .name
        .as_deref()
        .map(|name| field_location(name, det.names.known(name)));
    match (name, part.is_file()) {
        (Some(name), true) => format!("{name} (file)"),
        (Some(name), false) => name,
        (None, true) => "(file)".to_owned(),
        (None, false) => "(part)".to_owned(),
    }
}

/// A finding inside a part, as a finding of the body.
fn relocate(mut found: Found, base: &str, offset: usize) -> Found {
    found.finding.location = format!("{base} {}", found.finding.location);
    found.span = shift_range(&found.span, offset);
    found
}

fn shift_range(span: &Range<usize>, by: usize) -> Range<usize> {
    span.start.saturating_add(by)..span.end.saturating_add(by)
}

/// The part as text, when it is text: UTF-8 (a byte order mark dropped), or UTF-16 with a byte
/// order mark.
fn decode(bytes: &[u8]) -> Option<Cow<'_, str>> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Some(Cow::Borrowed(text.strip_prefix('\u{feff}').unwrap_or(text)));
    }
    let (rest, little_endian) = match bytes {
        [0xff, 0xfe, rest @ ..] => (rest, true),
        [0xfe, 0xff, rest @ ..] => (rest, false),
        _ => return None,
    };
    if rest.len() % 2 != 0 {
        return None;
    }
    let units = rest.chunks_exact(2).map(|c| {
        let pair = [c[0], c[1]];
        if little_endian {
            u16::from_le_bytes(pair)
        } else {
            u16::from_be_bytes(pair)
        }
    });
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
        .map(Cow::Owned)
}

/// The encoding a part declares, when it is not UTF-8 (which needs no decoding).
fn declared(part: &Part<'_>) -> Option<&'static encoding_rs::Encoding> {
    part.charset.filter(|e| *e != encoding_rs::UTF_8)
}

/// Any bytes as text to scan, as a handler would decode them: a byte order mark wins, then the
/// part's declared `charset` (`gbk`, `gb18030`, `big5`, any WHATWG label: what multer's
/// `Field::text` and actix-web decode with); without one, UTF-8; bytes that are not UTF-8 and
/// are GB 18030 throughout (a GBK `.csv` exported without a charset: the commonest Chinese
/// text that is not UTF-8) as GB 18030; anything else lossily. When a declared charset and
/// UTF-8 read the bytes differently, both readings are scanned (a handler may take either).
/// NUL bytes are dropped (UTF-16 without a byte order mark puts one between ASCII digits).
fn as_text<'a>(bytes: &'a [u8], declared: Option<&'static encoding_rs::Encoding>) -> Cow<'a, str> {
    let text = match (encoding_rs::Encoding::for_bom(bytes), declared) {
        (None, Some(encoding)) => {
            let theirs = encoding.decode_without_bom_handling(bytes).0;
            match std::str::from_utf8(bytes) {
                Ok(utf8) if utf8 != theirs => Cow::Owned(format!("{theirs}\n{utf8}")),
                _ => theirs,
            }
        }
        _ => decode(bytes).unwrap_or_else(|| {
            let lossy = String::from_utf8_lossy(bytes);
            // A GB 18030 lead byte takes the next byte as its trail, letters included: in
            // bytes that only happen to decode, the lossy reading keeps what it would eat.
            match encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes) {
                Some(gb) => Cow::Owned(format!("{gb}\n{lossy}")),
                None => lossy,
            }
        }),
    };
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', ""))
    } else {
        text
    }
}

/// Splits the body into parts. Bounded by the body: each search starts where the last ended.
fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, ScanError> {
    let bad = |offset| ScanError::InvalidMultipart { offset };
    let first = format!("--{boundary}");
    let next = format!("\r\n--{boundary}");
    let (first, next) = (first.as_bytes(), next.as_bytes());
    // The first delimiter opens the body or a line (after a preamble, which is ignored).
    let mut at = if body.starts_with(first) {
        first.len()
    } else {
        find(body, next).ok_or(bad(0))? + next.len()
    };
    // A lenient reader (multer, behind axum's `Multipart`) starts at the first `--boundary`
    // anywhere, even in the middle of a preamble line: one before the delimiter line taken here
    // would make it read a part this scan skips as preamble.
    if find(body, first) != Some(at - first.len()) {
        return Err(bad(0));
    }
    let mut parts = Vec::new();
    loop {
        if body[at..].starts_with(b"--") {
            // The close delimiter; the epilogue is ignored.
            return Ok(parts);
        }
        // Transport padding, then the line break.
        at += body[at..]
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        if !body[at..].starts_with(b"\r\n") {
            return Err(bad(at));
        }
        at += 2;
        let header_start = at;
        let (head, content_start) = if body[at..].starts_with(b"\r\n") {
            (&body[at..at], at + 2)
        } else {
            let end = find(&body[at..], b"\r\n\r\n").ok_or(bad(at))?;
            (&body[at..at + end], at + end + 4)
        };
        let len = find(&body[content_start..], next).ok_or(bad(content_start))?;
        if find(head, next).is_some() {
            // A header block that runs over a delimiter: a part without its blank line.
            return Err(bad(header_start));
        }
        let mut part = Part {
            name: None,
            filename: None,
            content_type: None,
            charset: None,
            other_headers: Vec::new(),
            header_start,
            content: &body[content_start..content_start + len],
            content_start,
        };
        read_headers(&mut part, head).ok_or(bad(header_start))?;
        parts.push(part);
        at = content_start + len + next.len();
    }
}

/// Reads a part's header block into `part`; `None` when it is malformed.
fn read_headers(part: &mut Part<'_>, head: &[u8]) -> Option<()> {
    if head.is_empty() {
        return Some(());
    }
    // Header names are ASCII; a file name may be raw UTF-8 (or, from old clients, not UTF-8).
    let head = String::from_utf8_lossy(head);
    let mut dispositions = 0;
    // Lines end with CRLF or, as the header parser of multer (httparse) also accepts, a bare LF.
    for line in head.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-disposition" => {
                // Parsers differ on which of two to take (multer: the last).
                dispositions += 1;
                if dispositions > 1 {
                    return None;
                }
                let mut names = Vec::new();
                let mut filename = None;
                let mut extended = None;
                for (key, v) in disposition_params(value) {
                    match key.as_str() {
                        "name" => names.push(v),
                        "name*" => names.push(extended_value(&v)),
                        "filename" => filename = Some(v),
                        "filename*" => extended = Some(extended_value(&v)),
                        _ => {}
                    }
                }
                // Parsers differ on which of two names to take (multer: the first, as it
                // reads it; this reading: the last).
                if names.len() > 1 {
                    return None;
                }
                part.name = names.pop();
                // A name that a lenient reader takes differently is ambiguous: the handler
                // would see a field under a name this scan did not classify.
                if lenient_name(value.as_bytes()) != part.name {
                    return None;
                }
                part.filename = extended.or(filename);
            }
            "content-type" => {
                let mut params = value.split(';');
                let essence = params.next().unwrap_or("").trim();
                part.content_type = Some(essence.to_ascii_lowercase());
                part.charset = params.find_map(|p| {
                    let (k, v) = p.trim().split_once('=')?;
                    let label = v.trim().trim_matches('"');
                    k.trim()
                        .eq_ignore_ascii_case("charset")
                        .then(|| encoding_rs::Encoding::for_label(label.as_bytes()))
                        .flatten()
                });
            }
            "content-transfer-encoding" => {
                let encoding = value.to_ascii_lowercase();
                if !matches!(encoding.as_str(), "7bit" | "8bit" | "binary") {
                    return None;
                }
            }
            _ => part.other_headers.push(value.to_owned()),
        }
    }
    Some(())
}

/// The field name a lenient reader takes from a `Content-Disposition` value: that of multer 3
/// (what axum's `Multipart` uses), step for step. The first `name` at the start or after
/// whitespace or `;` (anywhere, even inside another parameter's quoted value; after a `name`
/// inside a longer word, the search goes on from its end without that check), then `=`; a
/// quoted value runs to the first `"` not preceded by `\` and only `\"` is unescaped; an
/// unquoted one runs to `;` or a space. `None` when that `name` is not followed by `=`, or the
/// value is not UTF-8.
fn lenient_name(mut header: &[u8]) -> Option<String> {
    fn trim_start(b: &[u8]) -> &[u8] {
        let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
        &b[n..]
    }
    fn then(b: &[u8], c: u8) -> Option<&[u8]> {
        match trim_start(b) {
            [first, rest @ ..] if *first == c => Some(rest),
            _ => None,
        }
    }
    while let Some(i) = find(header, b"name") {
        let suffix = &header[i + 4..];
        if i > 0 && !(header[i - 1].is_ascii_whitespace() || header[i - 1] == b';') {
            header = suffix;
            continue;
        }
        let rest = then(suffix, b'=')?;
        let (bytes, escaped) = if let Some(rest) = then(rest, b'"') {
            let mut k = rest.iter().position(|&c| c == b'"')?;
            let mut escaped = false;
            while k > 0 && rest[k - 1] == b'\\' {
                escaped = true;
                k = k + 1 + rest[k + 1..].iter().position(|&c| c == b'"')?;
            }
            (&rest[..k], escaped)
        } else {
            let rest = trim_start(rest);
            let end = rest
                .iter()
                .position(|&c| c == b';' || c == b' ')
                .unwrap_or(rest.len());
            (&rest[..end], false)
        };
        let name = std::str::from_utf8(bytes).ok()?;
        return Some(if escaped {
            name.replace("\\\"", "\"")
        } else {
            name.to_owned()
        });
    }
    None
}

/// The parameters of a `Content-Disposition` value (`form-data; name="a"; filename="b.csv"`):
/// lower-case keys, values unquoted (backslash escapes honoured inside quotes).
fn disposition_params(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // Past the disposition type.
    let Some((_, mut rest)) = value.split_once(';') else {
        return out;
    };
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            return out;
        }
        let key_end = rest.find(['=', ';']).unwrap_or(rest.len());
        let key = rest[..key_end].trim().to_ascii_lowercase();
        rest = &rest[key_end..];
        let Some(after_eq) = rest.strip_prefix('=') else {
            out.push((key, String::new()));
            continue;
        };
        let after_eq = after_eq.trim_start();
        let mut v = String::new();
        if let Some(quoted) = after_eq.strip_prefix('"') {
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            v.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => v.push(c),
                }
            }
            rest = &quoted[end.min(quoted.len())..];
        } else {
            let end = after_eq.find(';').unwrap_or(after_eq.len());
            v.push_str(after_eq[..end].trim());
            rest = &after_eq[end..];
        }
        out.push((key, v));
    }
}

/// An RFC 8187 extended value (`UTF-8''%E5%BC%A0.csv`), percent-decoded (lossily).
fn extended_value(value: &str) -> String {
    let encoded = value.splitn(3, '\'').nth(2).unwrap_or(value);
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |j: usize| bytes.get(j).and_then(|&c| char::from(c).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                // Two hex digits make at most 0xff.
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part_names(body: &str) -> Vec<(Option<String>, Option<String>, Option<String>)> {
        parse(body.as_bytes(), "B")
            .unwrap()
            .into_iter()
            .map(|p| (p.name, p.filename, p.content_type))
            .collect()
    }

    #[test]
    fn headers_are_read_with_quotes_and_extended_names() {
        let body = "--B\r\nContent-Disposition: form-data; name=\"a;b\"; filename=\"x \\\"y\\\".csv\"\r\nContent-Type: Text/CSV; charset=utf-8\r\n\r\n1\r\n--B\r\ncontent-disposition: form-data; name=c; filename*=UTF-8''%E5%BC%A0.txt\r\n\r\n2\r\n--B--";
        assert_eq!(
            part_names(body),
            vec![
                (
                    Some("a;b".into()),
                    Some("x \"y\".csv".into()),
                    Some("text/csv".into())
                ),
                (Some("c".into()), Some("张.txt".into()), None),
            ]
        );
    }

    #[test]
    fn preamble_padding_and_epilogue() {
        let body = "preamble\r\n--B  \r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--B--\r\nepilogue";
        assert_eq!(part_names(body), vec![(Some("a".into()), None, None)]);
        // A part without headers.
        let body = "--B\r\n\r\nx\r\n--B--";
        assert_eq!(part_names(body), vec![(None, None, None)]);
    }

    #[test]
    fn malformed_bodies_are_refused() {
        for body in [
            "no delimiter at all",
            "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nx",
            "--B\r\nContent-Disposition: form-data; name=a\r\nx\r\n--B--",
            "--B\r\nnot a header\r\n\r\nx\r\n--B--",
            "--Bx\r\n\r\nx\r\n--B--",
            "--B\r\nContent-Transfer-Encoding: base64\r\n\r\nMTEw\r\n--B--",
        ] {
            assert!(
                matches!(
                    parse(body.as_bytes(), "B"),
                    Err(ScanError::InvalidMultipart { .. })
                ),
                "{body:?}"
            );
        }
    }

    /// multer 3.1's own test vectors for `name` (src/constants.rs), and its quirks.
    #[test]
    fn lenient_name_reads_as_multer_does() {
        for (value, name) in [
            (r#"form-data; name="my_field""#, Some("my_field")),
            ("form-data; name=my_field  ", Some("my_field")),
            ("form-data; name  =  my_field  ", Some("my_field")),
            ("form-data; name  =  ", Some("")),
            (
                r#"form-data; name="my_field"; filename="file abc.txt""#,
                Some("my_field"),
            ),
            (r#"form-data; filename="file-name.txt""#, None),
            ("form-data; filename=file-name.txt; name=file", Some("file")),
            (r#"form-data; name="my;f;ield""#, Some("my;f;ield")),
            ("form-data; name=; filename=filename.txt", Some("")),
            (
                r#"form-data; name="my\"field\"name""#,
                Some(r#"my"field"name"#),
            ),
            // The quirks this reading exists for.
            (r#"form-data; foo="a name=idNo b"; name="x""#, Some("idNo")),
            (r#"form-data; filenamename="idNo"; name="x""#, Some("idNo")),
            ("form-data; name=idNo junk", Some("idNo")),
            (r#"name="idNo""#, Some("idNo")),
            (r#"form-data; Name="idNo""#, None),
            ("form-data; name*=UTF-8''idNo; name=x", None),
            // Backslashes stay, but for `\"`; a quote after one does not end the value.
            (r#"form-data; name="a\\b""#, Some(r"a\\b")),
            (r#"form-data; name="a\\""#, None),
        ] {
            assert_eq!(lenient_name(value.as_bytes()).as_deref(), name, "{value}");
        }
    }

    #[test]
    fn ambiguous_bodies_are_refused() {
        for body in [
            // The boundary inside the preamble: multer starts there.
            "junk--B\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--B--",
            "--B\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b\r\n\r\nx\r\n--B--",
            "--B\r\nContent-Disposition: form-data; name=a; NAME=b\r\n\r\nx\r\n--B--",
            "--B\r\nContent-Disposition: form-data; name=a b\r\n\r\nx\r\n--B--",
            "--B\r\nContent-Disposition: name=a\r\n\r\nx\r\n--B--",
            // An empty line inside the header block (multer stops reading headers there).
            "--B\r\nContent-Disposition: form-data; name=a\n\nX: y\r\n\r\nx\r\n--B--",
        ] {
            assert!(
                matches!(
                    parse(body.as_bytes(), "B"),
                    Err(ScanError::InvalidMultipart { .. })
                ),
                "{body:?}"
            );
        }
        // A header block with bare LF line ends is read line by line.
        let body = "--B\r\nContent-Type: text/plain\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--B--";
        assert_eq!(
            part_names(body),
            vec![(Some("a".into()), None, Some("text/plain".into()))]
        );
    }

    #[test]
    fn text_is_decoded_or_read_lossily() {
        assert_eq!(as_text(b"\xef\xbb\xbfabc", None), "abc");
        assert_eq!(as_text(b"\xff\xfea\x00b\x00", None), "ab");
        assert_eq!(as_text(b"\xfe\xff\x00a\x00b", None), "ab");
        // UTF-16 without a byte order mark: the NULs go.
        assert_eq!(as_text(b"1\x002\x003\x00", None), "123");
        // Not text: lossy, the ASCII kept.
        assert_eq!(
            as_text(b"\x89\xffPNG\x00123", None),
            "\u{fffd}\u{fffd}PNG123"
        );
        // GB 18030 throughout, no charset (张伟 D5C5 CEB0): that reading and the lossy one.
        let gbk = as_text(b"\xd5\xc5\xce\xb0 1", None);
        assert!(gbk.starts_with("张伟 1\n"), "{gbk}");
        // A declared charset (any WHATWG label) wins over the guess; a byte order mark over it.
        let gb2312 = encoding_rs::Encoding::for_label(b"gb2312");
        assert_eq!(as_text(b"\xd5\xc5\xce\xb0", gb2312), "张伟");
        assert_eq!(as_text(b"\xff\xfea\x00", gb2312), "a");
        // Declared GBK but UTF-8 bytes: both readings.
        let both = as_text("身份证".as_bytes(), gb2312);
        assert!(both.ends_with("\n身份证") && both.len() > "身份证".len() + 1);
        assert_eq!(extended_value("UTF-8''a%2"), "a%2");
    }
}
