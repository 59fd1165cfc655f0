//! Finds plaintext identity data in request bodies and query strings (Art. 7 §2).
//!
//! Once a user has verified with 网号/网证, a platform must not ask them for their identity data
//! in plaintext again. [`Detector`] is the check middleware runs on every request: it reads a JSON
//! body, a form body, a query string or a multipart body (its fields and its uploaded files) and
//! reports every identity number or identity field it finds, by location, never by value.
//!
//! # What is found
//! - Numbers with a check character, anywhere, even inside free text ([`Confidence::Checked`]):
//!   18-character resident ID numbers (GB 11643, ISO 7064 MOD 11-2), residence permits
//!   (`810000`/`820000`/`830000`), foreigner's permanent residence cards of the 2023 form. The
//!   birth date must be real (1800-01-01 to today: the standard's own example
//!   `440524188001010014` was born in 1880) and the province prefix plausible (11–65, 71,
//!   81–83). A match is never part of a longer digit run.
//! - Numbers without one, only with context ([`Confidence::Contextual`]): the 15-digit legacy ID,
//!   travel permits, passports, the 2017 foreigner card. Context is an identity-bearing field
//!   name (`idNo`, `zjhm`, `passportNo`, …), or a label such as 身份证, 证件, 护照, 通行证 up to 20
//!   characters before the number (姓名 too, for the 15-digit ID of a roster line). A `docNo`
//!   (a travel document's or a voucher's number) gives context to the 15-digit ID only.
//! - In key/value objects (`{"key":"realName","value":"张伟"}`, `{"name":"idNo","value":…}`),
//!   the value member under the field its label member names, in either order.
//! - Any non-empty value under an identity-bearing field name
//!   ([`FindingKind::IdentityFieldName`]), any non-empty string nested deeper under one
//!   (`idCard: {front: …}`), and `name` (or `userName`, `lastName`, …) when it sits beside one,
//!   or beside a masked number, in the same object or form.
//!
//! # Field names
//! Keys are read as words in any case style (`userRealName`, `real_name`, `REAL-NAME`,
//! `user.realName`, `user[realName]`, `realName[]`, `realName[0]`, Pinyin initials such as
//! `sfzh` and `xm`, Chinese such as 身份证号 and 姓名), and an identity term is found inside a
//! compound name unless the words after it make the key about something else
//! (`idCardVerified`, `birthdayGreeting`). Birth dates count under their common names
//! (`birthday`, `birthDate`, `dateOfBirth`, `dob`, 出生日期, `csrq`). The vocabulary, with the
//! reason for each entry and the names deliberately left out (`username` alone, `nickname`,
//! `fileName`, `displayName`, `orderId`, `identifier`, …), is in `docs/DETECTOR.md`;
//! [`Detector::add_field_names`], [`Detector::add_field_names_as`] and
//! [`Detector::ignore_field_names`] adapt it to a service.
//! - Masked numbers (`110101********1233`) and numbers that are also valid unified social credit
//!   codes are reported ([`Confidence::Report`]), not blocking.
//!
//! Not found: mobile numbers, random order and snowflake ids (their check fails), unified social
//! credit codes (GB 32100; checked first), timestamps, amounts, bank card numbers.
//!
//! Values are normalised before matching: JSON `\uXXXX` escapes, percent-encoding in forms and
//! queries, full-width digits and letters (`１２３`, `Ｘ`), the decimal digits of every other
//! script (Unicode `Nd`: `١١٠١٠٥…`, `११०१०५…`) and the characters that stand for one digit
//! (`①`, `⓪`, `❶`, `¹`, `₁`, …), zero-width characters, and numbers split into
//! groups by spaces (any number of them) and up to three of one separator: `-`, `.`, `/`, `_`,
//! a tab or line breaks (`110105 1949 1231 002X`, `110105-19491231-002X`,
//! `110105.19491231.002X`, `110105\n19491231\n002X`). JSON numbers written with a fraction or an
//! exponent are matched as the digits of their value when it is whole (`4.40524188001010014e17`),
//! and a JSON string or a form value that holds a JSON object or array is scanned as JSON
//! (`{"data":"{\"idNo\":…}"}` is found at `$.data (json) $.idNo`).
//!
//! # Limits
//! Bodies are bounded ([`Detector::max_body`], 1 MiB by default) and JSON nesting too
//! ([`Detector::max_depth`], 32). The JSON reader is iterative and builds no tree; every pass is
//! linear in the body's length. No input panics.
//!
//! # Measured
//! 200,000 random 18-digit numbers under a neutral key: the rate flagged as checked resident IDs
//! is printed by the `random_18_digit_numbers_rarely_pass` integration test. Throughput against
//! `serde_json`: `benches/detector.rs`.

// Dates are written `YYYY_MM_DD` (`2026_01_01`), not in groups of three.
#![allow(clippy::inconsistent_digit_grouping)]

mod error;
mod fields;
mod finding;
mod form;
mod json;
mod multipart;
mod rules;
mod stream;
mod vocab;

use std::ops::Range;
use std::sync::Arc;

use crate::clock::{Clock, SystemClock};

pub use error::ScanError;
pub use finding::{Confidence, Finding, FindingKind, Located, PermitRegion, Redacted, Scan};
pub use stream::{StreamFormat, StreamScanner};

use crate::model::FieldName;

use fields::{FieldNames, IdField};
use form::Field;

/// What the detector replaces a flagged value with. A value that is exactly this is not
/// identity data, so scanning a redacted body again finds nothing under identity fields.
pub const REDACTED: &str = "[redacted]";

/// Scans request bodies for plaintext identity data.
///
/// Build one at start-up and share it: cloning is a reference-count increment, and it is
/// `Send + Sync`. Each scan is independent and allocates only small scratch buffers.
///
/// ```
/// use netid::detect::{Confidence, Detector, FindingKind};
///
/// let detector = Detector::new().add_field_names(["customerCertNo"]);
/// let body = r#"{"orderId":"202405170001","phone":"13800138000",
///                "user":{"name":"张三","idNo":"11010519491231002X"}}"#.as_bytes();
/// let scan = detector.scan_json(body)?;
/// assert!(scan.should_block());
/// let first = &scan.findings[1];
/// assert_eq!(first.location, "$.user.idNo");
/// assert_eq!(first.kind, FindingKind::ResidentId);
/// assert_eq!(first.confidence, Confidence::Checked);
/// // `name` counts because it sits beside an ID number.
/// assert_eq!(scan.findings[0].location, "$.user.name");
/// // Findings never hold the value.
/// assert!(!format!("{scan:?}").contains("1949"));
///
/// let (redacted, _) = detector.redact_json(body)?;
/// assert!(String::from_utf8(redacted)?.contains(r#""idNo":"[redacted]""#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Detector {
    names: Arc<FieldNames>,
    max_depth: usize,
    max_body: usize,
    /// Report every match with an excerpt (`locate_*`, the stream scanner), not one per kind.
    every: bool,
    /// Says what today is: a birth date after it is no birth date.
    clock: Arc<dyn Clock>,
}

/// One finding and the bytes it covers (for redaction and ordering).
#[derive(Debug)]
struct Found {
    span: Range<usize>,
    finding: Finding,
    /// Where the match is inside the value and its redacted form; only when the detector keeps
    /// every match (`Detector::every`).
    excerpt: Option<Excerpt>,
}

/// A match inside a value: where (in the value's decoded text) and its redacted form.
#[derive(Debug, Clone)]
struct Excerpt {
    /// Byte offset of the match in the decoded value; `None` inside JSON nested in a string.
    at: Option<usize>,
    /// The decoded value's length: equal to the raw value's when nothing was decoded.
    value_len: usize,
    redacted: Redacted,
}

impl Excerpt {
    fn of(text: &str, span: (usize, usize)) -> Self {
        Excerpt {
            at: Some(span.0),
            value_len: text.len(),
            redacted: Redacted::of(text.get(span.0..span.1).unwrap_or(text)),
        }
    }

    /// The same match seen from an enclosing value: its place inside is not known.
    fn unplaced(self) -> Self {
        Excerpt { at: None, ..self }
    }
}

impl Default for Detector {
    fn default() -> Self {
        Self::new()
    }
}

impl Detector {
    /// Default body limit: 1 MiB.
    pub const DEFAULT_MAX_BODY: usize = 1 << 20;
    /// Default JSON nesting limit: 32 objects and arrays.
    pub const DEFAULT_MAX_DEPTH: usize = 32;

    /// A detector with the built-in field-name vocabulary (`docs/DETECTOR.md`: `idCard`, `idNo`,
    /// `certNo`, `passport`, `documentNumber`, `permitNo`, `realName`, `fullName`, `legalName`,
    /// `xm`, `sfzh`, `gmsfhm`, `zjhm`, `zjlx`, `csrq`, `birthday`, `dob`, …, and the same fields
    /// spelled in Chinese, `身份证号`, `姓名`, `出生日期`, …), a 1 MiB body limit and a nesting
    /// limit of 32.
    pub fn new() -> Self {
        Self {
            names: Arc::new(FieldNames::built_in()),
            max_depth: Self::DEFAULT_MAX_DEPTH,
            max_body: Self::DEFAULT_MAX_BODY,
            every: false,
            clock: Arc::new(SystemClock),
        }
    }

    /// This detector, reporting every match with its excerpt.
    fn every(&self) -> Detector {
        Detector {
            every: true,
            ..self.clone()
        }
    }

    /// Replaces the identity-bearing field names with `names`, as document numbers (see
    /// [`add_field_names`](Self::add_field_names) for how they are matched).
    ///
    /// `name` beside an identity field and company-code names (`creditCode`, `uscc`, …) are
    /// built in and stay.
    pub fn with_field_names<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = FieldNames::empty();
        let names: Vec<S> = names.into_iter().collect();
        set.extend(names.iter().map(|n| (n.as_ref(), IdField::Number)));
        self.names = Arc::new(set);
        self
    }

    /// Adds identity-bearing field names, as document numbers (their values are matched against
    /// every number pattern), to the current ones. Use
    /// [`add_field_names_as`](Self::add_field_names_as) for names of other identity fields.
    ///
    /// A name is a term of the vocabulary: written in any case style (`memberCode`,
    /// `member_code` and `MEMBER-CODE` are one name), it is found in keys of any case style and
    /// inside compound keys (`vipMemberCode`, `user[memberCode]`, `memberCodeNo`), but not when
    /// other words follow it (`memberCodeVerified`). A value under it is a finding if it is not
    /// empty. Names longer than 63 bytes are not kept.
    pub fn add_field_names<I, S>(self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.add_field_names_as(FieldName::IdNumber, names)
    }

    /// Adds field names whose values are the identity field `field`: `FieldName::BirthDate` for
    /// `["shengri"]`, `FieldName::Name` for `["holderFullName"]`. Matched as
    /// [`add_field_names`](Self::add_field_names) says; a finding under one names `field`
    /// ([`Finding::field`]), which is what a consent or a legal basis must cover.
    ///
    /// ```
    /// use netid::detect::Detector;
    /// use netid::model::FieldName;
    ///
    /// let detector = Detector::new().add_field_names_as(FieldName::BirthDate, ["shengri"]);
    /// let scan = detector.scan_json(br#"{"member":{"shengri":"1990-01-01"}}"#)?;
    /// assert_eq!(scan.findings[0].field, FieldName::BirthDate);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_field_names_as<I, S>(mut self, field: FieldName, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let field = match field {
            FieldName::Name => IdField::PersonName,
            FieldName::IdNumber => IdField::Number,
            FieldName::IdType => IdField::DocType,
            FieldName::BirthDate => IdField::BirthDate,
        };
        let names: Vec<S> = names.into_iter().collect();
        Arc::make_mut(&mut self.names).extend(names.iter().map(|n| (n.as_ref(), field)));
        self
    }

    /// Keys that are never identity-bearing by their name in this service, whatever terms they
    /// contain: a service whose `documentNumber` is an invoice number, or whose `passport` is a
    /// loyalty programme, lists them here. Matched on a whole key segment in any case style
    /// (`documentNumber` also covers `document_number` and `order[documentNumber]`, not
    /// `passengerDocumentNumber`).
    ///
    /// Only the name stops counting: the value is still matched against every pattern, so an ID
    /// number with a check character under an ignored key is found as anywhere else.
    ///
    /// ```
    /// use netid::detect::Detector;
    ///
    /// let detector = Detector::new().ignore_field_names(["documentNumber"]);
    /// assert!(detector.scan_json(br#"{"documentNumber":"INV-2024-0001"}"#)?.is_clean());
    /// assert!(
    ///     detector
    ///         .scan_json(br#"{"documentNumber":"11010519491231002X"}"#)?
    ///         .should_block()
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ignore_field_names<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let names: Vec<S> = names.into_iter().collect();
        Arc::make_mut(&mut self.names).ignore(names.iter().map(AsRef::as_ref));
        self
    }

    /// Sets the JSON nesting limit (objects and arrays; default 32). Deeper bodies are refused
    /// with [`ScanError::JsonTooDeep`].
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Sets the body limit in bytes (default 1 MiB). Larger bodies and query strings are refused
    /// with [`ScanError::BodyTooLarge`].
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Reads today's date from `clock` (default: the system clock): an ID number whose birth
    /// date is after today is not an ID number. [`RulesBuilder::clock`](crate::policy::RulesBuilder::clock)
    /// hands its clock to the rules' detectors, and a [`Gate`](crate::policy::Gate) its login
    /// flow's.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Today in China Standard Time, as `YYYYMMDD`, by this detector's clock.
    fn today(&self) -> u32 {
        today_at(self.clock.now())
    }

    /// Whether `name` (a header's or a cookie's, say) is an identity-bearing field name of this
    /// detector's vocabulary: a value under it is identity data whatever it looks like.
    pub(crate) fn is_identity_field(&self, name: &str) -> bool {
        matches!(self.names.classify(name), fields::FieldClass::Identity(_))
    }

    fn check_size(&self, len: usize) -> Result<(), ScanError> {
        if len > self.max_body {
            return Err(ScanError::BodyTooLarge {
                len,
                max: self.max_body,
            });
        }
        Ok(())
    }

    /// Scans a JSON body (any JSON value at the top). An empty or all-whitespace body is clean.
    ///
    /// Locations are JSON paths: `$.user.idNo`, `$.items[2].cert`, `$["<18 bytes>"]` for a key
    /// that is not shown.
    pub fn scan_json(&self, body: &[u8]) -> Result<Scan, ScanError> {
        self.check_size(body.len())?;
        Ok(into_scan(json::scan(self, body, self.today())?).0)
    }

    /// Like [`scan_json`](Self::scan_json), and returns the body with every flagged value (and
    /// any key that holds an ID number) replaced by the string `"[redacted]"`. Everything else,
    /// whitespace included, is kept byte for byte. Report-only findings are redacted too.
    pub fn redact_json(&self, body: &[u8]) -> Result<(Vec<u8>, Scan), ScanError> {
        self.check_size(body.len())?;
        let (scan, spans) = into_scan(json::scan(self, body, self.today())?);
        let quoted = format!("\"{REDACTED}\"");
        Ok((splice(body, &spans, quoted.as_bytes()), scan))
    }

    /// Scans an `application/x-www-form-urlencoded` body. Locations are field names.
    pub fn scan_form(&self, body: &[u8]) -> Result<Scan, ScanError> {
        self.check_size(body.len())?;
        let fields = form::parse(body)?;
        Ok(into_scan(form::scan(self, &fields, self.today())).0)
    }

    /// Like [`scan_form`](Self::scan_form), and returns the body with every flagged value
    /// replaced by `%5Bredacted%5D`.
    pub fn redact_form(&self, body: &[u8]) -> Result<(Vec<u8>, Scan), ScanError> {
        self.check_size(body.len())?;
        let fields = form::parse(body)?;
        let (scan, spans) = into_scan(form::scan(self, &fields, self.today()));
        Ok((splice(body, &spans, b"%5Bredacted%5D"), scan))
    }

    /// Scans a URL query string, with or without its leading `?`. Decoded as a form.
    pub fn scan_query(&self, query: &str) -> Result<Scan, ScanError> {
        let query = query.strip_prefix('?').unwrap_or(query);
        self.scan_form(query.as_bytes())
    }

    /// Like [`scan_query`](Self::scan_query), and returns the query with every flagged value
    /// replaced by `%5Bredacted%5D` (a leading `?` is kept).
    pub fn redact_query(&self, query: &str) -> Result<(String, Scan), ScanError> {
        let (prefix, rest) = match query.strip_prefix('?') {
            Some(rest) => ("?", rest),
            None => ("", query),
        };
        let (bytes, scan) = self.redact_form(rest.as_bytes())?;
        // Splicing ASCII into valid UTF-8 at ASCII boundaries keeps it valid.
        let text = String::from_utf8_lossy(&bytes);
        Ok((format!("{prefix}{text}"), scan))
    }

    /// Scans one piece of text, such as one multipart text field. `field` is its name (the part
    /// name), which gives context like a JSON key; the location is that name, or `(text)`.
    ///
    /// Text is not bounded here: the caller has already bounded the part it read.
    pub fn scan_text(&self, field: Option<&str>, text: &str) -> Scan {
        let fields = [Field {
            name: field.map(Into::into),
            value: text.into(),
            name_span: 0..0,
            value_span: 0..0,
        }];
        into_scan(form::scan(self, &fields, self.today())).0
    }

    /// Scans a `multipart/form-data` body (`boundary` from its `Content-Type`). Every part is
    /// inspected — text fields, and uploaded files whatever type they declare:
    ///
    /// - JSON parts (`application/json`, `application/*+json`) with the JSON scanner, form parts
    ///   (`application/x-www-form-urlencoded`) with the form scanner; either is refused if
    ///   malformed, as the same body would be.
    /// - Text fields (no file name; `text/*` or no type) as text; they must be UTF-8.
    /// - Every other part, uploaded files included (`text/plain`, `text/csv`, no type,
    ///   `application/octet-stream`, `image/*`, `application/pdf`, …), as its bytes read as
    ///   text: a byte order mark, else the part's declared `charset` (`gbk`, `gb18030`, any
    ///   WHATWG label), else UTF-8, else GB 18030 when it reads the bytes throughout (with the
    ///   lossy reading beside it), anything else lossily; NUL bytes dropped. So a "binary" part
    ///   that is really text is scanned, and a GBK `.csv` is read with its 身份证号码 header.
    ///   Nothing is refused for not being text. A text field declaring a charset is decoded so.
    /// - File names and other part headers as text.
    ///
    /// **What cannot be inspected:** an ID number that is not written as characters in the bytes
    /// — a photo or scan of an ID card, compressed data (`.docx`, `.xlsx`, `.zip`, most PDF
    /// content), encrypted files. A clean scan of such a part proves nothing; keeping ID card
    /// images out of a service is the platform's own duty. A non-empty file under an
    /// identity-bearing field name (`idCard`) is a finding like any value under that name.
    ///
    /// Locations name the part, never its content or file name: `idNo` for a field,
    /// `attachment (file)` for a file, `meta (file) $.user.idNo` inside a JSON file,
    /// `attachment (filename)` for the file name. A `name` field counts as identity data when
    /// another part blocks. The body is bounded by [`max_body`](Self::max_body) and JSON parts
    /// by [`max_depth`](Self::max_depth); a malformed body, a part with a
    /// `Content-Transfer-Encoding` (RFC 7578 forbids it), or a body that parsers would read
    /// differently (a `--boundary` inside the preamble, two `Content-Disposition` headers or two
    /// `name` parameters, a part name that multer — behind axum's `Multipart` — reads otherwise)
    /// is [`ScanError::InvalidMultipart`].
    ///
    /// ```
    /// use netid::detect::{Detector, FindingKind};
    ///
    /// let body = "--B\r\n\
    ///     Content-Disposition: form-data; name=\"nickname\"\r\n\r\nbob\r\n\
    ///     --B\r\n\
    ///     Content-Disposition: form-data; name=\"roster\"; filename=\"staff.csv\"\r\n\
    ///     Content-Type: text/csv\r\n\r\n\
    ///     name,id\r\nZhang San,11010519491231002X\r\n\
    ///     --B--\r\n";
    /// let scan = Detector::new().scan_multipart(body.as_bytes(), "B")?;
    /// assert!(scan.should_block());
    /// assert_eq!(scan.findings[0].location, "roster (file)");
    /// assert_eq!(scan.findings[0].kind, FindingKind::ResidentId);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scan_multipart(&self, body: &[u8], boundary: &str) -> Result<Scan, ScanError> {
        self.check_size(body.len())?;
        Ok(into_scan(multipart::scan(self, body, boundary, self.today())?).0)
    }

    /// Scans named pieces of text of one body together (for a whole multipart body, use
    /// [`scan_multipart`](Self::scan_multipart)): like
    /// [`scan_text`](Self::scan_text) on each, and a `name` part counts as identity data when
    /// another part blocks.
    pub fn scan_fields<'a, I>(&self, fields: I) -> Scan
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let fields: Vec<Field<'a>> = fields
            .into_iter()
            .enumerate()
            .map(|(i, (name, value))| Field {
                name: Some(name.into()),
                value: value.into(),
                name_span: i..i,
                value_span: i..i,
            })
            .collect();
        into_scan(form::scan(self, &fields, self.today())).0
    }
}

impl Detector {
    /// Like [`scan_json`](Self::scan_json), for stored data rather than a request: every match
    /// is reported (two ID numbers in one string are two findings), each with its byte offset,
    /// line and column in `body` and its value redacted ([`Redacted`]). Bounded by
    /// [`max_body`](Self::max_body) and [`max_depth`](Self::max_depth) as a request is.
    ///
    /// The offset is the match's own when the value holds no escapes, else the value's.
    ///
    /// ```
    /// use netid::detect::{Detector, FindingKind};
    ///
    /// let body = br#"{"note":"call 13800138000",
    ///   "idNo":"11010519491231002X"}"#;
    /// let found = Detector::new().locate_json(body)?;
    /// assert_eq!(found[0].finding.location, "$.idNo");
    /// assert_eq!(found[0].finding.kind, FindingKind::ResidentId);
    /// assert_eq!((found[0].line, found[0].column), (2, 11));
    /// assert_eq!(found[0].redacted.as_str(), "1…X");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn locate_json(&self, body: &[u8]) -> Result<Vec<Located>, ScanError> {
        self.check_size(body.len())?;
        let mut found = json::scan(&self.every(), body, self.today())?;
        found.sort_by_key(|f| f.span.start);
        let mut lines = Lines::default();
        Ok(found
            .into_iter()
            .map(|f| {
                let raw = body.get(f.span.clone()).unwrap_or_default();
                let quoted = raw.len() >= 2 && raw[0] == b'"';
                let inner = if quoted { &raw[1..raw.len() - 1] } else { raw };
                let offset = match &f.excerpt {
                    Some(Excerpt {
                        at: Some(at),
                        value_len,
                        ..
                    }) if *value_len == inner.len() => f.span.start + usize::from(quoted) + at,
                    _ => f.span.start,
                };
                let redacted = f.excerpt.map_or_else(
                    || Redacted::of(&String::from_utf8_lossy(inner)),
                    |e| e.redacted,
                );
                let (line, column) = lines.at(body, offset);
                Located {
                    finding: f.finding,
                    offset: offset as u64,
                    line,
                    column,
                    redacted,
                    field: None,
                }
            })
            .collect())
    }

    /// Like [`scan_fields`](Self::scan_fields) — one record of named values, such as a CSV row
    /// under its header or a database row under its column names — reporting every match with
    /// the index of its field ([`Located::field`]), its byte offset in that field's value and
    /// its value redacted. A column named `idNo` makes any value under it a finding; a `name`
    /// column counts when another field of the record blocks.
    ///
    /// ```
    /// use netid::detect::{Detector, FindingKind};
    ///
    /// let row = [("order", "A-1001"), ("customer", "张三"), ("sfzh", "110105194912310021")];
    /// let found = Detector::new().locate_fields(&row);
    /// assert_eq!(found.len(), 1);
    /// assert_eq!(found[0].field, Some(2));
    /// assert_eq!(found[0].finding.kind, FindingKind::IdentityFieldName);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn locate_fields(&self, fields: &[(&str, &str)]) -> Vec<Located> {
        let fields: Vec<Field<'_>> = fields
            .iter()
            .enumerate()
            .map(|(i, (name, value))| Field {
                name: Some((*name).into()),
                value: (*value).into(),
                // The spans carry the field's index: there is no body to point into.
                name_span: i..i,
                value_span: i..i,
            })
            .collect();
        let mut found = form::scan(&self.every(), &fields, self.today());
        found.sort_by_key(|f| f.span.start);
        found
            .into_iter()
            .map(|f| {
                let value = fields
                    .get(f.span.start)
                    .map_or("", |field| field.value.as_ref());
                let at = f.excerpt.as_ref().and_then(|e| e.at).unwrap_or(0);
                let redacted = f
                    .excerpt
                    .map_or_else(|| Redacted::of(value), |e| e.redacted);
                Located {
                    finding: f.finding,
                    offset: at as u64,
                    line: 1,
                    column: at as u64 + 1,
                    redacted,
                    field: Some(f.span.start),
                }
            })
            .collect()
    }

    /// A quick test for many records with the same fields (table rows, CSV rows): `true` when
    /// [`locate_fields`](Self::locate_fields) is sure to find nothing in a record whose fields
    /// are named by `names` and hold `values`. It reads each value eight bytes at a time and
    /// calls the matcher only on runs of 17 digits or more; `false` means "look with
    /// `locate_fields`", not that something is there. A name that is identity-bearing
    /// (`idNo`, `full_name`) always gives `false`: any value under it counts.
    ///
    /// ```
    /// use netid::detect::Detector;
    ///
    /// let det = Detector::new();
    /// assert!(det.quiet_record(&["note"], &["order 20240001234567 shipped"]));
    /// assert!(!det.quiet_record(&["note"], &["身份证 11010519491231002X"]));
    /// assert!(!det.quiet_record(&["idNo"], &["n/a"]));
    /// ```
    pub fn quiet_record(&self, names: &[&str], values: &[&str]) -> bool {
        let today = self.today();
        let mut scratch = rules::Scratch::new(true);
        names.iter().all(|name| {
            !matches!(self.names.classify(name), fields::FieldClass::Identity(_))
                && stream::quiet_value(name, &mut scratch, today)
        }) && values
            .iter()
            .all(|value| stream::quiet_value(value, &mut scratch, today))
    }

    /// The quick test of [`quiet_record`](Self::quiet_record) for the values alone, when the
    /// names have been checked once (`quiet_record(names, &[])`): `true` when nothing can be
    /// found in `values` under names that are not identity-bearing.
    pub fn quiet_values(&self, values: &[&str]) -> bool {
        let today = self.today();
        let mut scratch = rules::Scratch::new(true);
        values
            .iter()
            .all(|value| stream::quiet_value(value, &mut scratch, today))
    }

    /// A scanner for a stream of any length (files, dumps, logs) in constant memory: feed it
    /// chunks of any size, split anywhere, and it reports the same findings as for the whole.
    /// See [`StreamScanner`].
    pub fn stream(&self, format: StreamFormat) -> StreamScanner {
        StreamScanner::new(self.every(), format, self.today())
    }
}

/// Line and column of offsets asked in increasing order, counting newlines once.
#[derive(Debug, Default)]
struct Lines {
    at: usize,
    line: u64,
    line_start: usize,
}

impl Lines {
    fn at(&mut self, body: &[u8], offset: usize) -> (u64, u64) {
        if offset < self.at {
            *self = Lines::default();
        }
        let end = offset.min(body.len());
        for i in memchr::memchr_iter(b'\n', &body[self.at.min(end)..end]) {
            self.line += 1;
            self.line_start = self.at + i + 1;
        }
        self.at = end;
        (self.line + 1, (offset - self.line_start) as u64 + 1)
    }
}

/// Whether `text` — an identifier such as a result token's `sub` — holds an identity number
/// (protocol v1 §4.3.2). Either:
///
/// - after deleting every `-` and `_`, an 18-character number — a maximal run of 18 ASCII
///   digits, or of 17 followed by `X` or `x` and no further digit — whose last character is the
///   GB 11643 (ISO 7064 MOD 11-2) check character of the first 17. No date or region test, so
///   the answer does not depend on the day; or
/// - anything else [`Detector::scan_text`] blocks (a labelled passport number, …), so what this
///   admits, the audit log can record.
pub(crate) fn holds_identity_number(text: &str) -> bool {
    static DETECTOR: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
    check_character_number(text)
        || DETECTOR
            .get_or_init(Detector::new)
            .scan_text(None, text)
            .should_block()
}

/// The first rule of [`holds_identity_number`].
fn check_character_number(text: &str) -> bool {
    let b: Vec<u8> = text.bytes().filter(|&c| c != b'-' && c != b'_').collect();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let mut i = 0;
    while i < b.len() {
        if !digit(i) {
            i += 1;
            continue;
        }
        let start = i;
        while digit(i) {
            i += 1;
        }
        let run = &b[start..i];
        let found = match run.len() {
            18 => rules::mod11_check(&run[..17]) == run[17],
            17 => {
                matches!(b.get(i), Some(b'X' | b'x'))
                    && !digit(i + 1)
                    && rules::mod11_check(run) == b'X'
            }
            _ => false,
        };
        if found {
            return true;
        }
    }
    false
}

/// Orders findings as their values appear in the body; returns the distinct spans to redact.
fn into_scan(mut found: Vec<Found>) -> (Scan, Vec<Range<usize>>) {
    found.sort_by_key(|f| f.span.start);
    let mut spans: Vec<Range<usize>> = Vec::new();
    let mut findings = Vec::with_capacity(found.len());
    for f in found {
        if spans.last() != Some(&f.span) {
            spans.push(f.span.clone());
        }
        findings.push(f.finding);
    }
    (Scan { findings }, spans)
}

/// `body` with each span (sorted, not overlapping) replaced by `with`.
fn splice(body: &[u8], spans: &[Range<usize>], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut at = 0;
    for span in spans {
        if span.start < at || span.end > body.len() {
            continue;
        }
        out.extend_from_slice(&body[at..span.start]);
        out.extend_from_slice(with);
        at = span.end;
    }
    out.extend_from_slice(&body[at.min(body.len())..]);
    out
}

/// The day of `now` (Unix seconds) in China Standard Time (UTC+8), as `YYYYMMDD`. A clock
/// before 1970 gives no upper bound.
fn today_at(now: u64) -> u32 {
    match now {
        0 => 9999_12_31,
        now => civil_date((now + 8 * 3600) / 86_400),
    }
}

/// Days since 1970-01-01 to `YYYYMMDD` (H. Hinnant's `civil_from_days`).
fn civil_date(days: u64) -> u32 {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    u32::try_from(y * 10_000 + m * 100 + d).unwrap_or(9999_12_31)
}

#[cfg(test)]
mod tests;
