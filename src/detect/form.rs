//! Named text fields: `application/x-www-form-urlencoded` bodies, query strings, and the text of
//! multipart parts (fields and textual uploads alike; see `multipart`).
//!
//! A value that is a JSON object or array (`biz_content={"cert_no":…}`, a text part holding
//! JSON) is scanned as JSON as well, its findings located `field (json) $.cert_no`; one that only
//! looks like JSON, or nests deeper than the detector's limits, is text.
//!
//! Percent-decoding is strict: a `%` must be followed by two hex digits, and the decoded bytes
//! must be UTF-8. `+` is a space. Pairs are split on `&`; a pair without `=` is a name with an
//! empty value.

use std::borrow::Cow;
use std::ops::Range;

use super::fields::{FieldClass, IdField, field_location};
use super::finding::{Confidence, Finding, FindingKind};
use super::json::{self, Outer};
use super::rules::{Scratch, ValueCtx, digit_like, looks_masked, match_value, worth_matching};
use super::{Detector, Excerpt, Found, REDACTED, ScanError};
use crate::model::FieldName;

/// One field to scan.
pub(super) struct Field<'a> {
    /// The field or part name; `None` for text with no name.
    pub(super) name: Option<Cow<'a, str>>,
    pub(super) value: Cow<'a, str>,
    /// Where the name and the value are in the body (for redaction; field order otherwise).
    pub(super) name_span: Range<usize>,
    pub(super) value_span: Range<usize>,
}

/// Splits and decodes a form body or query string.
pub(super) fn parse(body: &[u8]) -> Result<Vec<Field<'_>>, ScanError> {
    let mut fields = Vec::new();
    let mut at = 0;
    for pair in body.split(|&b| b == b'&') {
        let start = at;
        at += pair.len() + 1;
        if pair.is_empty() {
            continue;
        }
        let (name, value, eq) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..], i),
            None => (pair, &pair[pair.len()..], pair.len()),
        };
        let name_span = start..start + eq;
        let value_span = (start + eq + 1).min(start + pair.len())..start + pair.len();
        fields.push(Field {
            name: Some(decode(name, name_span.start)?),
            value: decode(value, value_span.start)?,
            name_span,
            value_span,
        });
    }
    Ok(fields)
}

fn decode(raw: &[u8], offset: usize) -> Result<Cow<'_, str>, ScanError> {
    let utf8 = |bytes| ScanError::InvalidUtf8 { offset: bytes };
    if !raw.iter().any(|&b| b == b'%' || b == b'+') {
        return std::str::from_utf8(raw)
            .map(Cow::Borrowed)
            .map_err(|e| utf8(offset + e.valid_up_to()));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |j: usize| raw.get(j).and_then(|&c| char::from(c).to_digit(16));
                match (hex(i + 1), hex(i + 2)) {
                    (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                    _ => return Err(ScanError::InvalidForm { offset: offset + i }),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| utf8(offset))
}

/// Scans named fields as the members of one object: a `name` field is identity data only when
/// another field of the same body blocks.
pub(super) fn scan(det: &Detector, fields: &[Field<'_>], today: u32) -> Vec<Found> {
    scan_with(det, fields, today, false)
}

/// Like [`scan`]; `evidence_elsewhere`: something outside these fields (a JSON part of the same
/// multipart body) blocks or is a masked number, so a `name` field here is identity data too.
pub(super) fn scan_with(
    det: &Detector,
    fields: &[Field<'_>],
    today: u32,
    evidence_elsewhere: bool,
) -> Vec<Found> {
    let mut out = Vec::new();
    let mut scratch = Scratch::new(det.every);
    let mut pending = Vec::new();
    // Something blocks, or is a masked number: a `name` field is then a person's name.
    let mut evidence = evidence_elsewhere;
    let labelled = labelled_prefixes(det, fields);
    for field in fields {
        let location = || {
            field.name.as_deref().map_or_else(
                || "(text)".to_owned(),
                |n| field_location(n, det.names.known(n)),
            )
        };
        let mut record =
            |scratch: &Scratch, text: &str, span: &Range<usize>, out: &mut Vec<Found>| {
                let mut blocks = false;
                for hit in &scratch.hits {
                    blocks |= hit.confidence.is_blocking();
                    evidence |= hit.confidence.is_blocking() || hit.kind == FindingKind::MaskedId;
                    out.push(Found {
                        span: span.clone(),
                        excerpt: scratch.every.then(|| Excerpt::of(text, hit.span)),
                        finding: Finding {
                            location: location(),
                            kind: hit.kind,
                            confidence: hit.confidence,
                            field: hit.field,
                        },
                    });
                }
                blocks
            };
        let class = match field.name.as_deref() {
            Some(name) => {
                let (digits, stars) = counts(name);
                if worth_matching(digits, stars) {
                    match_value(&mut scratch, name, ValueCtx::default(), today);
                    record(&scratch, name, &field.name_span, &mut out);
                }
                det.names.classify(name)
            }
            None => FieldClass::Neutral,
        };
        // A value member of a key/value pair whose label names an identity field.
        let class = match (class, labelled_by(&labelled, field.name.as_deref())) {
            (FieldClass::Identity(_), _) | (_, None) => class,
            (_, Some(f)) => FieldClass::Identity(f),
        };
        let direct = match class {
            FieldClass::Identity(f) => Some(f),
            _ => None,
        };
        let ctx = ValueCtx {
            direct,
            inherited: None,
            whole: direct,
            company: class == FieldClass::Company,
            maybe_document: class == FieldClass::MaybeDocument,
        };
        // Encoded twice (`%2531%2531…`): a handler that decodes once more reads digits.
        let again = decoded_again(&field.value);
        let value = again.as_deref().unwrap_or(&field.value);
        if let Some(found) = embedded(det, value, class, today) {
            // A JSON text: its findings, under this field's name.
            let base = location();
            for f in found {
                evidence |= f.finding.is_blocking() || f.finding.kind == FindingKind::MaskedId;
                out.push(Found {
                    span: field.value_span.clone(),
                    excerpt: f.excerpt.map(Excerpt::unplaced),
                    finding: Finding {
                        location: format!("{base} (json) {}", f.finding.location),
                        ..f.finding
                    },
                });
            }
            continue;
        }
        let (digits, stars) = counts(value);
        let blocks = if ctx.direct.is_some() || worth_matching(digits, stars) {
            match_value(&mut scratch, value, ctx, today);
            record(&scratch, value, &field.value_span, &mut out)
        } else {
            false
        };
        // A label (`f[0][name]=idNo`) names a field; it is not a person's `name`.
        let label = !labelled.is_empty()
            && field
                .name
                .as_deref()
                .and_then(last_segment)
                .is_some_and(|(p, l)| {
                    json::member_role(l.as_bytes()) == json::Role::Label
                        && labelled.iter().any(|(q, _)| *q == p)
                });
        if class == FieldClass::Name
            && !label
            && !blocks
            && !value.trim().is_empty()
            && value != REDACTED
        {
            let excerpt = det.every.then(|| Excerpt::of(value, (0, value.len())));
            pending.push((
                location(),
                field.value_span.clone(),
                looks_masked(value),
                excerpt,
            ));
        }
    }
    if evidence {
        for (location, span, masked, excerpt) in pending {
            let (kind, confidence) = if masked {
                (FindingKind::MaskedId, Confidence::Report)
            } else {
                (FindingKind::IdentityFieldName, Confidence::Contextual)
            };
            out.push(Found {
                span,
                excerpt,
                finding: Finding {
                    location,
                    kind,
                    confidence,
                    field: FieldName::Name,
                },
            });
        }
    }
    out
}

/// A value that still holds percent-escapes after the form's own decoding (`%31%31%30…`, sent as
/// `%2531%2531%2530…`), decoded once more, lossily, for matching only: a handler that decodes
/// again reads the digits. `None` when there is no escape (`%` and two hex digits) in it.
fn decoded_again(value: &str) -> Option<String> {
    if !value.contains('%') {
        return None;
    }
    let b = value.as_bytes();
    let hex = |c: u8| char::from(c).to_digit(16);
    let escape_at = |i: usize| {
        b[i] == b'%'
            && b.get(i + 1).copied().and_then(hex).is_some()
            && b.get(i + 2).copied().and_then(hex).is_some()
    };
    if !(0..b.len()).any(escape_at) {
        return None;
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if escape_at(i) {
            let (hi, lo) = (hex(b[i + 1]).unwrap_or(0), hex(b[i + 2]).unwrap_or(0));
            out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// A form key cut before its last segment: `f[0][key]` → (`f[0]`, `key`), `f.0.key` → (`f.0`,
/// `key`). `None` without brackets or dots.
fn last_segment(name: &str) -> Option<(&str, &str)> {
    if let Some(inner) = name.strip_suffix(']') {
        let open = inner.rfind('[')?;
        return Some((&name[..open], &inner[open + 1..]));
    }
    let dot = name.rfind('.')?;
    Some((&name[..dot], &name[dot + 1..]))
}

/// Key/value pairs spelled as form keys (`f[0][key]=realName&f[0][value]=…`, as a form
/// serialiser writes `[{"key":"realName","value":…}]`): the prefix of each label field
/// (`f[0]`) whose value names an identity field, and that field. Empty for most forms.
fn labelled_prefixes<'f>(det: &Detector, fields: &'f [Field<'_>]) -> Vec<(&'f str, IdField)> {
    let mut out = Vec::new();
    for field in fields {
        let Some((prefix, last)) = field.name.as_deref().and_then(last_segment) else {
            continue;
        };
        if field.value.len() > 64 || json::member_role(last.as_bytes()) != json::Role::Label {
            continue;
        }
        if let FieldClass::Identity(f) = det.names.classify(&field.value) {
            out.push((prefix, f));
        }
    }
    out
}

/// The identity field a value member is labelled with, if any (see [`labelled_prefixes`]).
fn labelled_by(labelled: &[(&str, IdField)], name: Option<&str>) -> Option<IdField> {
    if labelled.is_empty() {
        return None;
    }
    let (prefix, last) = last_segment(name?)?;
    if json::member_role(last.as_bytes()) != json::Role::Value {
        return None;
    }
    labelled.iter().find(|(p, _)| *p == prefix).map(|&(_, f)| f)
}

/// The findings of a value that is a JSON text, scanned as JSON under the field's class; `None`
/// when it is not JSON (or nests too deep to read: it is then scanned as text).
fn embedded(det: &Detector, value: &str, class: FieldClass, today: u32) -> Option<Vec<Found>> {
    if !json::looks_like_json(value) {
        return None;
    }
    let outer = Outer {
        class: Some(class),
        inherited: match class {
            FieldClass::Identity(f) => Some(f),
            _ => None::<IdField>,
        },
        depth: 0,
        embedded: 0,
    };
    json::scan_embedded(det, value, today, outer).ok().flatten()
}

fn counts(text: &str) -> (usize, usize) {
    let mut digits = 0;
    let mut stars = 0;
    for &b in text.as_bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b'*' => stars += 1,
            _ => {}
        }
    }
    // Digits of other scripts (full-width `１`, Arabic-Indic `١`, …) count too; they are rare
    // enough to count separately.
    if text.len() != digits + stars && !text.is_ascii() {
        digits += text
            .chars()
            .filter(|&c| !c.is_ascii() && digit_like(c).is_some())
            .count();
    }
    (digits, stars)
}
