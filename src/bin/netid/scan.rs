//! `netid scan`: find the plaintext identity data a platform should no longer hold — in files,
//! directories, standard input and PostgreSQL tables.
//!
//! Everything is read through `netid::detect` (the detector the middleware runs), as a stream:
//! memory stays flat whatever the size of a file or a table. Findings carry where, what, a
//! redacted value and a confidence, never the value itself.

#[cfg(feature = "postgres")]
#[path = "scan/copy_text.rs"]
mod copy_text;
#[path = "scan/output.rs"]
mod output;
#[cfg(feature = "postgres")]
#[path = "scan/postgres.rs"]
mod postgres;
#[path = "scan/read.rs"]
mod read;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use netid::detect::{Confidence, Detector, Finding, FindingKind};
use netid::model::FieldName;
use rayon::prelude::*;

use crate::{Failure, print_stderr};

pub(crate) use output::Format;

/// The long help of `netid scan`.
pub(crate) const LONG_ABOUT: &str = "\
Find plaintext identity data — ID numbers of the seven Art. 15 documents, names, birth dates, \
values under identity field names — in files, directories, standard input (`-`) or PostgreSQL \
tables, with the detector the netid middleware runs. A platform that moved to 网号/网证 uses it \
to find what it should no longer hold (Art. 7 §2, Art. 8 §2; PIPL Art. 47).

Files are read as JSON (with JSON paths), NDJSON, CSV/TSV (with column names), pg_dump plain SQL \
(table and column from COPY and INSERT) or text (line and column), by their extension or, \
failing that, their first bytes; gzip and zstd are decompressed on the fly. Directories are \
walked recursively, honouring .gitignore, .ignore and hidden-file rules like ripgrep.

Each finding says where, what (the document type, or `name`, `birth_date`, \
`identity_field_name`, `masked_id`), how sure (`checked`: the number's own check character; \
`contextual`: a field name or label says so; `report`: masked or ambiguous) and the value \
redacted to its first and last character. The value itself is never printed.";

/// The examples shown after `netid scan --help`.
pub(crate) const EXAMPLES: &str = "\
Exit status:
  0  scanned (findings or not, unless --fail-on-findings)
  1  --fail-on-findings and something was found
  2  usage error; or a file or table could not be read (each is reported on stderr and
     skipped; the rest is still scanned)

Examples:
  netid scan exports/ logs/app.log.gz
  zcat dump.sql.gz | netid scan --input-format sql -
  netid scan --format sarif --fail-on-findings . > netid.sarif
  netid scan --postgres postgres://app@db/app --schema public --table users --table orders";

/// Arguments of `netid scan`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Files and directories to scan; `-` is standard input.
    #[arg(value_name = "PATH", required_unless_present = "postgres")]
    paths: Vec<PathBuf>,
    /// Output format (default: `table`).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// How to read inputs; `auto` goes by extension, then by the first bytes.
    #[arg(long, value_enum, default_value_t = read::InputFormat::Auto)]
    input_format: read::InputFormat,
    /// Exit with status 1 when anything was found (for CI).
    #[arg(long)]
    fail_on_findings: bool,
    /// Print only the summary, not each finding.
    #[arg(long)]
    summary_only: bool,
    /// Never show a progress bar (it is shown only when stderr is a terminal).
    #[arg(long)]
    no_progress: bool,
    /// Also scan hidden files and directories.
    #[arg(long)]
    hidden: bool,
    /// Do not honour .gitignore, .ignore and similar files.
    #[arg(long)]
    no_ignore: bool,
    /// Skip paths matching this glob (repeatable), e.g. `--exclude '*.png'`.
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    threads: Option<usize>,
    /// Scan a PostgreSQL database instead of files (feature `postgres`):
    /// `postgres://user[:password]@host[:port]/db`.
    #[arg(long, value_name = "URL", conflicts_with = "paths")]
    postgres: Option<String>,
    /// PostgreSQL: only tables in this schema (repeatable; default: every schema but the
    /// system ones).
    #[arg(long, value_name = "SCHEMA", requires = "postgres")]
    schema: Vec<String>,
    /// PostgreSQL: only these tables (`name` or `schema.name`; repeatable).
    #[arg(long, value_name = "TABLE", requires = "postgres")]
    table: Vec<String>,
    /// PostgreSQL: only these columns (comma-separated or repeated; default: every text,
    /// varchar, char, json and jsonb column).
    #[arg(
        long,
        value_name = "COLUMN",
        value_delimiter = ',',
        requires = "postgres"
    )]
    columns: Vec<String>,
}

/// One finding as reported: where, what, how sure, the redacted value. Never the value.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    /// The file (`-` for standard input) or, for PostgreSQL, `schema.table`.
    pub(crate) path: String,
    pub(crate) line: Option<u64>,
    pub(crate) column: Option<u64>,
    /// A JSON path, a CSV or SQL column, `(text)`.
    pub(crate) location: String,
    /// The CSV, SQL or PostgreSQL column the value is in.
    pub(crate) field: Option<String>,
    /// PostgreSQL: the table and the row's primary key (`id=42`, or `ctid=(0,1)`).
    pub(crate) table: Option<String>,
    pub(crate) key: Option<String>,
    pub(crate) kind: &'static str,
    pub(crate) finding: &'static str,
    pub(crate) confidence: &'static str,
    pub(crate) redacted: String,
}

impl Report {
    /// A report of `finding` at `path`; the caller fills in the rest.
    pub(crate) fn new(path: &str, finding: &Finding, redacted: &netid::detect::Redacted) -> Self {
        Report {
            path: path.to_owned(),
            line: None,
            column: None,
            location: finding.location.clone(),
            field: None,
            table: None,
            key: None,
            kind: kind_of(finding),
            finding: finding.kind.as_str(),
            confidence: finding.confidence.as_str(),
            redacted: redacted.as_str().to_owned(),
        }
    }

    /// Whether it is a finding that a request would be refused for.
    pub(crate) fn blocking(&self) -> bool {
        self.confidence != Confidence::Report.as_str()
    }
}

/// What a finding is, for the report: the Art. 15 document its number belongs to, or what the
/// field name says (`name`, `birth_date`, `identity_field_name`), or `masked_id`, `ambiguous`.
pub(crate) fn kind_of(finding: &Finding) -> &'static str {
    if let Some(doc) = finding.kind.document() {
        return doc.as_str();
    }
    match (finding.kind, finding.field) {
        (FindingKind::IdentityFieldName, FieldName::Name) => "name",
        (FindingKind::IdentityFieldName, FieldName::BirthDate) => "birth_date",
        (FindingKind::MaskedId, _) => "masked_id",
        (FindingKind::Ambiguous, _) => "ambiguous",
        _ => "identity_field_name",
    }
}

/// Counters shared by the workers.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub(crate) files: AtomicU64,
    pub(crate) rows: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) unreadable: AtomicU64,
    pub(crate) kinds: Mutex<BTreeMap<&'static str, u64>>,
}

/// Where reports go: the output format's writer, behind a lock, plus the counters.
pub(crate) struct Sink {
    out: Mutex<output::Writer>,
    pub(crate) totals: Totals,
    summary_only: bool,
    pub(crate) progress: Option<indicatif::ProgressBar>,
}

impl Sink {
    /// Writes a batch of reports (one file's, or part of one) and counts them.
    pub(crate) fn emit(&self, reports: &mut Vec<Report>) {
        if reports.is_empty() {
            return;
        }
        {
            let mut kinds = self
                .totals
                .kinds
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for r in reports.iter() {
                *kinds.entry(r.kind).or_default() += 1;
            }
        }
        if !self.summary_only {
            let mut out = self
                .out
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let suspend = |f: &mut dyn FnMut()| match &self.progress {
                Some(bar) => bar.suspend(f),
                None => f(),
            };
            suspend(&mut || {
                for r in reports.iter() {
                    out.write(r);
                }
            });
        }
        reports.clear();
    }

    /// Reports a file or table that could not be read, and counts it.
    pub(crate) fn unreadable(&self, what: &str, why: &dyn std::fmt::Display) {
        self.totals.unreadable.fetch_add(1, Ordering::Relaxed);
        let line = format!("netid scan: skipped {what}: {why}");
        match &self.progress {
            Some(bar) => bar.suspend(|| print_stderr(&line)),
            None => print_stderr(&line),
        }
    }

    /// Counts rows and bytes read, for the summary and the progress bar.
    pub(crate) fn progress_rows(&self, rows: u64) {
        let total = self.totals.rows.fetch_add(rows, Ordering::Relaxed) + rows;
        if let Some(bar) = &self.progress {
            let secs = bar.elapsed().as_secs_f64();
            let rate = if secs > 0.0 { total as f64 / secs } else { 0.0 };
            bar.set_message(format!("{total} rows ({rate:.0} rows/s)"));
        }
    }
}

/// Runs `netid scan`.
pub(crate) fn run(args: Args) -> Result<(), Failure> {
    let started = Instant::now();
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .map_err(|e| Failure::other("usage", format!("--threads: {e}")))?;
    }
    let terminal = std::io::stdout().is_terminal();
    let show_progress = !args.no_progress && std::io::stderr().is_terminal();
    let detector = Detector::new();
    let writer = output::Writer::new(args.format);
    let sink = Sink {
        out: Mutex::new(writer),
        totals: Totals::default(),
        summary_only: args.summary_only,
        progress: None,
    };

    let sink = if let Some(url) = &args.postgres {
        #[cfg(feature = "postgres")]
        {
            let mut sink = sink;
            if show_progress {
                sink.progress = Some(progress_bar(None));
            }
            let filter = postgres::Filter {
                schemas: args.schema.clone(),
                tables: args.table.clone(),
                columns: args.columns.clone(),
            };
            postgres::scan(url, &filter, &detector, &sink)?;
            sink
        }
        #[cfg(not(feature = "postgres"))]
        {
            let _ = (url, sink);
            return Err(Failure::other(
                "usage",
                "--postgres needs a netid built with the `postgres` feature",
            ));
        }
    } else {
        let inputs = read::inputs(&args.paths, args.hidden, args.no_ignore, &args.exclude);
        let mut sink = sink;
        for (path, error) in &inputs.errors {
            sink.unreadable(path, error);
        }
        if show_progress {
            sink.progress = Some(progress_bar(Some(inputs.total_bytes)));
        }
        let options = read::Options {
            format: args.input_format,
        };
        inputs.files.par_iter().for_each(|input| {
            read::scan_input(input, &options, &detector, &sink);
        });
        sink
    };

    if let Some(bar) = &sink.progress {
        bar.finish_and_clear();
    }
    let found: u64 = sink
        .totals
        .kinds
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .values()
        .sum();
    let writer = sink
        .out
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    writer
        .finish()
        .map_err(|e| Failure::io("writing to", std::path::Path::new("standard output"), &e))?;
    let summary = summary(&sink.totals, started.elapsed());
    if args.summary_only || (args.format == Format::Table && terminal) {
        crate::print_stdout(&summary)?;
    } else {
        for line in summary.lines() {
            print_stderr(line);
        }
    }
    if args.fail_on_findings && found > 0 {
        return Err(Failure::found(format!(
            "{found} finding(s) of plaintext identity data"
        )));
    }
    let unreadable = sink.totals.unreadable.load(Ordering::Relaxed);
    if unreadable > 0 {
        return Err(Failure::other(
            "io",
            format!("{unreadable} input(s) could not be read (see above)"),
        ));
    }
    Ok(())
}

fn progress_bar(total: Option<u64>) -> indicatif::ProgressBar {
    let bar = match total {
        Some(total) => indicatif::ProgressBar::new(total),
        None => indicatif::ProgressBar::new_spinner(),
    };
    let template = if total.is_some() {
        "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} {msg} eta {eta}"
    } else {
        "{spinner} {msg} ({elapsed})"
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The summary: files, rows, bytes, findings per kind, time.
fn summary(totals: &Totals, elapsed: Duration) -> String {
    let files = totals.files.load(Ordering::Relaxed);
    let rows = totals.rows.load(Ordering::Relaxed);
    let bytes = totals.bytes.load(Ordering::Relaxed);
    let unreadable = totals.unreadable.load(Ordering::Relaxed);
    let kinds = totals
        .kinds
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let found: u64 = kinds.values().sum();
    let secs = elapsed.as_secs_f64();
    let mut out = format!(
        "scanned {files} file(s)/table(s), {rows} row(s), {bytes} byte(s) in {secs:.2} s \
         ({:.1} MB/s); {found} finding(s)",
        if secs > 0.0 {
            bytes as f64 / secs / 1e6
        } else {
            0.0
        }
    );
    if unreadable > 0 {
        out.push_str(&format!("; {unreadable} unreadable"));
    }
    out.push('\n');
    for (kind, n) in kinds.iter() {
        out.push_str(&format!("  {kind}: {n}\n"));
    }
    out
}
