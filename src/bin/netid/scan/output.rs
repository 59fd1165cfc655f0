//! The output formats of `netid scan`, each written as findings arrive (SARIF too: its results
//! array is streamed between a fixed head and tail), so memory stays flat.

use std::io::{self, BufWriter, Write};

use serde_json::{Value, json};

use super::Report;

/// How findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns for people: `path:line:column  kind  confidence  value  location`.
    Table,
    /// One JSON object per finding per line.
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
    /// CSV with a header row.
    Csv,
}

/// Every `kind` a report can have, with its description: the SARIF rules.
const KINDS: &[(&str, &str)] = &[
    (
        "resident_id_card",
        "Resident identity card number (居民身份证)",
    ),
    (
        "passport_settled_abroad",
        "Chinese passport number (定居国外的中国公民护照)",
    ),
    (
        "hk_macau_travel_permit",
        "Hong Kong and Macao residents' travel permit number (港澳居民来往内地通行证)",
    ),
    (
        "taiwan_travel_permit",
        "Taiwan residents' travel permit number (台湾居民来往大陆通行证)",
    ),
    (
        "hk_macau_residence_permit",
        "Hong Kong and Macao residents' residence permit number (港澳居民居住证)",
    ),
    (
        "taiwan_residence_permit",
        "Taiwan residents' residence permit number (台湾居民居住证)",
    ),
    (
        "foreign_permanent_residence_card",
        "Foreigner's permanent residence ID card number (外国人永久居留身份证)",
    ),
    ("name", "A person's name under an identity field"),
    ("birth_date", "A birth date under an identity field"),
    (
        "identity_field_name",
        "A value under an identity-bearing field name",
    ),
    ("masked_id", "A masked identity number (not plaintext)"),
    (
        "ambiguous",
        "A number valid both as a resident ID and as a unified social credit code",
    ),
];

/// A writer for one format, to standard output.
pub(crate) struct Writer {
    format: Format,
    out: BufWriter<io::Stdout>,
    csv: Option<csv::Writer<io::Stdout>>,
    results: u64,
    error: Option<io::Error>,
}

impl Writer {
    pub(crate) fn new(format: Format) -> Self {
        let mut w = Writer {
            format,
            out: BufWriter::new(io::stdout()),
            csv: None,
            results: 0,
            error: None,
        };
        match format {
            Format::Csv => {
                let mut csv = csv::Writer::from_writer(io::stdout());
                let _ = csv.write_record([
                    "path",
                    "line",
                    "column",
                    "location",
                    "field",
                    "table",
                    "key",
                    "kind",
                    "finding",
                    "confidence",
                    "redacted",
                ]);
                w.csv = Some(csv);
            }
            Format::Sarif => {
                let head = sarif_head();
                w.put(head.as_bytes());
            }
            Format::Table | Format::Json => {}
        }
        w
    }

    fn put(&mut self, bytes: &[u8]) {
        if self.error.is_none()
            && let Err(e) = self.out.write_all(bytes)
        {
            self.error = Some(e);
        }
    }

    /// Writes one report.
    pub(crate) fn write(&mut self, r: &Report) {
        match self.format {
            Format::Table => {
                let at = match (r.line, r.column) {
                    (Some(l), Some(c)) => format!("{}:{l}:{c}", r.path),
                    (Some(l), None) => format!("{}:{l}", r.path),
                    _ => r.path.clone(),
                };
                let mut location = r.location.clone();
                if let Some(key) = &r.key {
                    location.push_str(&format!(" [{key}]"));
                }
                let line = format!(
                    "{at}  {:<32} {:<10} {:<6} {location}\n",
                    r.kind, r.confidence, r.redacted
                );
                self.put(line.as_bytes());
            }
            Format::Json => {
                let mut line = json_object(r).to_string();
                line.push('\n');
                self.put(line.as_bytes());
            }
            Format::Csv => {
                let line = r.line.map(|l| l.to_string()).unwrap_or_default();
                let column = r.column.map(|c| c.to_string()).unwrap_or_default();
                if let Some(csv) = &mut self.csv
                    && let Err(e) = csv.write_record([
                        r.path.as_str(),
                        &line,
                        &column,
                        &r.location,
                        r.field.as_deref().unwrap_or(""),
                        r.table.as_deref().unwrap_or(""),
                        r.key.as_deref().unwrap_or(""),
                        r.kind,
                        r.finding,
                        r.confidence,
                        &r.redacted,
                    ])
                    && self.error.is_none()
                {
                    self.error = Some(e.into());
                }
            }
            Format::Sarif => {
                let result = sarif_result(r).to_string();
                if self.results > 0 {
                    self.put(b",");
                }
                self.results += 1;
                self.put(result.as_bytes());
            }
        }
    }

    /// Ends the output (closes the SARIF document) and flushes it.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        if self.format == Format::Sarif {
            self.put(b"]}]}\n");
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(csv) = &mut self.csv {
            csv.flush()?;
        }
        self.out.flush()
    }
}

/// A report as one JSON object.
pub(crate) fn json_object(r: &Report) -> Value {
    let mut v = json!({
        "path": r.path,
        "line": r.line,
        "column": r.column,
        "location": r.location,
        "kind": r.kind,
        "finding": r.finding,
        "confidence": r.confidence,
        "redacted": r.redacted,
    });
    if let Some(field) = &r.field {
        v["field"] = json!(field);
    }
    if let Some(table) = &r.table {
        v["table"] = json!(table);
    }
    if let Some(key) = &r.key {
        v["key"] = json!(key);
    }
    v
}

/// The SARIF log up to its results array, left open: one run of the netid tool, its rules.
/// [`Writer::finish`] closes it with `]}]}`.
fn sarif_head() -> String {
    let rules: Vec<Value> = KINDS
        .iter()
        .map(|(id, text)| {
            json!({
                "id": id,
                "shortDescription": {"text": text},
                "helpUri": "https://docs.rs/netid/latest/netid/detect/index.html",
            })
        })
        .collect();
    let tool = json!({"driver": {
        "name": "netid scan",
        "version": env!("CARGO_PKG_VERSION"),
        "informationUri": "https://docs.rs/netid",
        "rules": rules,
    }});
    format!(
        "{{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\",\
         \"runs\":[{{\"tool\":{tool},\"columnKind\":\"utf16CodeUnits\",\"results\":["
    )
}

/// One SARIF result. SARIF columns count UTF-16 code units and ours count bytes, so the
/// region has the line only and the byte column goes in the properties.
fn sarif_result(r: &Report) -> Value {
    let level = if r.blocking() { "error" } else { "note" };
    let rule_index = KINDS.iter().position(|(id, _)| *id == r.kind).unwrap_or(0);
    let mut region = serde_json::Map::new();
    if let Some(line) = r.line {
        region.insert("startLine".to_owned(), json!(line.max(1)));
    }
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": {"uri": uri_reference(&r.path)},
        },
        "logicalLocations": [{"fullyQualifiedName": r.location, "kind": "member"}],
    });
    if !region.is_empty() {
        location["physicalLocation"]["region"] = Value::Object(region);
    }
    let mut properties = json!({
        "confidence": r.confidence,
        "finding": r.finding,
        "redacted": r.redacted,
    });
    if let Some(column) = r.column {
        properties["byteColumn"] = json!(column);
    }
    if let Some(key) = &r.key {
        properties["key"] = json!(key);
    }
    if let Some(table) = &r.table {
        properties["table"] = json!(table);
    }
    json!({
        "ruleId": r.kind,
        "ruleIndex": rule_index,
        "level": level,
        "message": {"text": format!(
            "{} ({}, {}) at {}",
            r.kind, r.redacted, r.confidence, r.location
        )},
        "locations": [location],
        "properties": properties,
    })
}

/// A path as a URI reference: `/`, letters, digits and `-._~` kept, everything else
/// percent-encoded.
fn uri_reference(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
