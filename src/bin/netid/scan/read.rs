//! Inputs: walking paths, decompressing, telling formats apart, and scanning each format as a
//! stream.

use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use netid::detect::{Detector, Located, StreamFormat};

use super::{Report, Sink};

/// How many reports a worker keeps before writing them out.
const BATCH: usize = 1024;
/// Read size.
const CHUNK: usize = 256 * 1024;
/// The largest JSON document read whole (for its JSON paths); a larger one is read as lines.
const MAX_JSON_DOCUMENT: usize = 64 << 20;
/// The longest SQL statement or COPY row read as one record; a longer one is read as text.
const MAX_RECORD: usize = 1 << 20;

/// How to read an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum InputFormat {
    /// By extension (`.json`, `.ndjson`/`.jsonl`, `.csv`, `.tsv`, `.sql`, after `.gz`/`.zst`),
    /// else by the first bytes.
    Auto,
    /// Plain text and logs.
    Text,
    /// One JSON document.
    Json,
    /// JSON Lines.
    Ndjson,
    /// Comma-separated values with a header row.
    Csv,
    /// Tab-separated values with a header row.
    Tsv,
    /// A pg_dump plain-format dump.
    Sql,
}

/// Options for every input.
pub(crate) struct Options {
    pub(crate) format: InputFormat,
}

/// One file to scan (or standard input).
pub(crate) struct Input {
    path: PathBuf,
    stdin: bool,
}

/// What walking the paths gave.
pub(crate) struct Inputs {
    pub(crate) files: Vec<Input>,
    pub(crate) errors: Vec<(String, String)>,
    pub(crate) total_bytes: u64,
}

/// Expands `paths` into files: directories recursively, with .gitignore rules unless
/// `no_ignore`, hidden entries only with `hidden`, minus `exclude` globs.
pub(crate) fn inputs(
    paths: &[PathBuf],
    hidden: bool,
    no_ignore: bool,
    exclude: &[String],
) -> Inputs {
    let mut out = Inputs {
        files: Vec::new(),
        errors: Vec::new(),
        total_bytes: 0,
    };
    for path in paths {
        if path.as_os_str() == "-" {
            out.files.push(Input {
                path: path.clone(),
                stdin: true,
            });
            continue;
        }
        let mut walk = ignore::WalkBuilder::new(path);
        walk.hidden(!hidden)
            .ignore(!no_ignore)
            .git_ignore(!no_ignore)
            .git_global(!no_ignore)
            .git_exclude(!no_ignore)
            .parents(!no_ignore)
            .require_git(false);
        if !exclude.is_empty() {
            let mut overrides = ignore::overrides::OverrideBuilder::new(path);
            for glob in exclude {
                if let Err(e) = overrides.add(&format!("!{glob}")) {
                    out.errors
                        .push((format!("--exclude {glob}"), e.to_string()));
                }
            }
            match overrides.build() {
                Ok(o) => {
                    walk.overrides(o);
                }
                Err(e) => out.errors.push(("--exclude".to_owned(), e.to_string())),
            }
        }
        for entry in walk.build() {
            match entry {
                Ok(entry) => {
                    if entry.file_type().is_some_and(|t| t.is_file()) {
                        out.total_bytes += entry.metadata().map_or(0, |m| m.len());
                        out.files.push(Input {
                            path: entry.into_path(),
                            stdin: false,
                        });
                    }
                }
                Err(e) => out.errors.push((path.display().to_string(), e.to_string())),
            }
        }
    }
    out
}

/// Counts the bytes read from a source, for the progress bar.
struct Counted<'s, R> {
    inner: R,
    sink: &'s Sink,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(bar) = &self.sink.progress {
            bar.inc(n as u64);
        }
        Ok(n)
    }
}

/// Scans one input; an unreadable one is reported and skipped.
pub(crate) fn scan_input(input: &Input, options: &Options, detector: &Detector, sink: &Sink) {
    let name = if input.stdin {
        "-".to_owned()
    } else {
        input.path.display().to_string()
    };
    let result = (|| {
        let raw: Box<dyn Read + Send> = if input.stdin {
            Box::new(io::stdin())
        } else {
            Box::new(std::fs::File::open(&input.path)?)
        };
        let (reader, compressed) = decompress(Box::new(Counted { inner: raw, sink }))?;
        let format = match options.format {
            InputFormat::Auto => by_extension(&input.path, compressed),
            f => Some(f),
        };
        let mut reader = BufReader::with_capacity(CHUNK, reader);
        let format = match format {
            Some(f) => f,
            None => sniff(reader.fill_buf()?),
        };
        let mut scan = FileScan {
            name: &name,
            detector,
            sink,
            batch: Vec::new(),
            bytes: 0,
            rows: 0,
        };
        let outcome = scan.run(format, reader);
        scan.flush();
        sink.totals.bytes.fetch_add(scan.bytes, Ordering::Relaxed);
        sink.progress_rows(scan.rows);
        outcome
    })();
    sink.totals.files.fetch_add(1, Ordering::Relaxed);
    if let Err(e) = result {
        sink.unreadable(&name, &e);
    }
}

/// Wraps `reader` in a gzip or zstd decoder when its first bytes say so.
fn decompress(reader: Box<dyn Read + Send + '_>) -> io::Result<(Box<dyn Read + Send + '_>, bool)> {
    let mut reader = BufReader::with_capacity(CHUNK, reader);
    let head = reader.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        return Ok((Box::new(flate2::read::MultiGzDecoder::new(reader)), true));
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Ok((
            Box::new(zstd::stream::read::Decoder::with_buffer(reader)?),
            true,
        ));
    }
    Ok((Box::new(reader), false))
}

/// The format an extension names (`.gz` and `.zst` looked through); `None`: sniff.
fn by_extension(path: &Path, compressed: bool) -> Option<InputFormat> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let name = if compressed {
        name.strip_suffix(".gz")
            .or_else(|| name.strip_suffix(".zst"))
            .or_else(|| name.strip_suffix(".zstd"))
            .unwrap_or(&name)
            .to_owned()
    } else {
        name
    };
    let ext = name.rsplit_once('.')?.1;
    Some(match ext {
        "json" => InputFormat::Json,
        "ndjson" | "jsonl" => InputFormat::Ndjson,
        "csv" => InputFormat::Csv,
        "tsv" | "tab" => InputFormat::Tsv,
        "sql" => InputFormat::Sql,
        "txt" | "log" | "md" | "html" | "xml" | "yaml" | "yml" => InputFormat::Text,
        _ => return None,
    })
}

/// Guesses a format from the first bytes: a pg_dump header, JSON lines, a JSON document, else
/// text (CSV without an extension is read as text: its numbers are still found).
fn sniff(head: &[u8]) -> InputFormat {
    let text = String::from_utf8_lossy(&head[..head.len().min(64 * 1024)]);
    let trimmed = text.trim_start();
    if trimmed.starts_with("--") && text.contains("PostgreSQL database dump") {
        return InputFormat::Sql;
    }
    if trimmed.starts_with('{') {
        let first = trimmed.lines().next().unwrap_or_default().trim_end();
        if first.ends_with('}') && serde_json::from_str::<serde_json::Value>(first).is_ok() {
            return InputFormat::Ndjson;
        }
        return InputFormat::Json;
    }
    if trimmed.starts_with('[') {
        return InputFormat::Json;
    }
    InputFormat::Text
}

/// The state of scanning one input.
struct FileScan<'a> {
    name: &'a str,
    detector: &'a Detector,
    sink: &'a Sink,
    batch: Vec<Report>,
    bytes: u64,
    rows: u64,
}

impl FileScan<'_> {
    fn flush(&mut self) {
        self.sink.emit(&mut self.batch);
    }

    fn push(&mut self, report: Report) {
        self.batch.push(report);
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    fn located(&mut self, found: Vec<Located>) {
        for f in found {
            let mut r = Report::new(self.name, &f.finding, &f.redacted);
            r.line = Some(f.line);
            r.column = Some(f.column);
            self.push(r);
        }
    }

    fn run(&mut self, format: InputFormat, reader: impl BufRead) -> io::Result<()> {
        match format {
            InputFormat::Auto | InputFormat::Text => self.stream(StreamFormat::Text, reader),
            InputFormat::Ndjson => self.stream(StreamFormat::JsonLines, reader),
            InputFormat::Json => self.json(reader),
            InputFormat::Csv => self.csv(b',', reader),
            InputFormat::Tsv => self.csv(b'\t', reader),
            InputFormat::Sql => self.sql(reader),
        }
    }

    /// Text or JSON lines, through the detector's stream scanner.
    fn stream(&mut self, format: StreamFormat, mut reader: impl Read) -> io::Result<()> {
        let mut scanner = self.detector.stream(format);
        let mut buf = vec![0u8; CHUNK];
        let mut found = Vec::new();
        // Rows already counted in the totals (the progress bar shows them as they come).
        let mut reported = 0;
        loop {
            let lines = scanner.lines();
            if lines - reported >= 100_000 {
                self.sink.progress_rows(lines - reported);
                reported = lines;
            }
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            scanner.feed(&buf[..n], &mut found);
            if !found.is_empty() {
                self.located(std::mem::take(&mut found));
            }
        }
        scanner.finish(&mut found);
        self.located(found);
        self.bytes += scanner.bytes();
        self.rows += scanner.lines() - reported;
        Ok(())
    }

    /// One JSON document: whole (for its paths) when it is at most 64 MiB and valid, else as
    /// JSON lines (an `.json` file of NDJSON, or one too large to hold).
    fn json(&mut self, reader: impl Read) -> io::Result<()> {
        let mut doc = Vec::new();
        let mut limited = reader.take(MAX_JSON_DOCUMENT as u64 + 1);
        limited.read_to_end(&mut doc)?;
        let reader = limited.into_inner();
        if doc.len() <= MAX_JSON_DOCUMENT {
            let detector = self
                .detector
                .clone()
                .max_body(MAX_JSON_DOCUMENT)
                .max_depth(256);
            if let Ok(found) = detector.locate_json(&doc) {
                self.bytes += doc.len() as u64;
                self.rows +=
                    memchr_count(&doc) + u64::from(!doc.ends_with(b"\n") && !doc.is_empty());
                self.located(found);
                return Ok(());
            }
        }
        self.stream(StreamFormat::JsonLines, io::Cursor::new(doc).chain(reader))
    }

    /// CSV or TSV with a header row: each row's cells under their column names.
    fn csv(&mut self, delimiter: u8, reader: impl Read) -> io::Result<()> {
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(false)
            .from_reader(reader);
        let mut record = csv::ByteRecord::new();
        let mut header: Vec<String> = Vec::new();
        let mut first = true;
        loop {
            match csv.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
            let line = record.position().map_or(0, csv::Position::line);
            self.bytes = csv.position().byte();
            if first {
                first = false;
                header = record
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                // The header itself may hold an ID number (a key someone typed a value into).
                self.text_record(&header.join(","), line);
                continue;
            }
            self.rows += 1;
            let cells: Vec<String> = record
                .iter()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            let fields: Vec<(&str, &str)> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| (header.get(i).map_or("", String::as_str), c.as_str()))
                .collect();
            self.fields(&fields, line, None);
        }
        self.bytes = csv.position().byte();
        Ok(())
    }

    /// One record of named values, found at `line`, in `table` when it is SQL.
    fn fields(&mut self, fields: &[(&str, &str)], line: u64, table: Option<&str>) {
        for f in self.detector.locate_fields(fields) {
            let mut r = Report::new(self.name, &f.finding, &f.redacted);
            r.line = Some(line);
            let column = f
                .field
                .and_then(|i| fields.get(i))
                .map(|(n, _)| (*n).to_owned());
            if let Some(table) = table {
                r.table = Some(table.to_owned());
                r.location = format!("{table}.{}", f.finding.location);
            }
            r.field = column;
            self.push(r);
        }
    }

    /// A line read as text on its own (line and column from it).
    fn text_record(&mut self, text: &str, line: u64) {
        let mut scanner = self.detector.stream(StreamFormat::Text);
        let mut found = Vec::new();
        scanner.feed(text.as_bytes(), &mut found);
        scanner.finish(&mut found);
        for f in &mut found {
            f.line = line;
        }
        self.located(found);
    }

    /// A pg_dump plain dump: `COPY … FROM stdin` rows and `INSERT` statements under their
    /// table's column names (from the statement, or from the `CREATE TABLE` before it);
    /// everything else as text.
    fn sql(&mut self, mut reader: impl BufRead) -> io::Result<()> {
        let mut tables: std::collections::HashMap<String, Vec<String>> = Default::default();
        let mut state = SqlState::Top;
        let mut line_no = 0u64;
        let mut raw = Vec::new();
        let mut statement = String::new();
        let mut statement_line = 0;
        loop {
            raw.clear();
            let n = (&mut reader)
                .take(MAX_RECORD as u64)
                .read_until(b'\n', &mut raw)?;
            if n == 0 {
                break;
            }
            self.bytes += n as u64;
            line_no += 1;
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\n', '\r']);
            match &mut state {
                SqlState::Copy { table, columns } => {
                    if line == "\\." {
                        state = SqlState::Top;
                        continue;
                    }
                    self.rows += 1;
                    let cells: Vec<String> = line.split('\t').map(copy_unescape).collect();
                    let fields: Vec<(&str, &str)> = cells
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (columns.get(i).map_or("", String::as_str), c.as_str()))
                        .collect();
                    let table = table.clone();
                    self.fields(&fields, line_no, Some(&table));
                }
                SqlState::Create { table, columns } => {
                    let t = line.trim();
                    if t.starts_with(')') {
                        tables.insert(table.clone(), std::mem::take(columns));
                        state = SqlState::Top;
                    } else if let Some(col) = create_column(t) {
                        columns.push(col);
                    }
                }
                SqlState::Insert => {
                    statement.push('\n');
                    statement.push_str(line);
                    if statement.len() > MAX_RECORD {
                        let text = std::mem::take(&mut statement);
                        self.text_record(&text, statement_line);
                        state = SqlState::Top;
                    } else if statement_complete(&statement) {
                        let text = std::mem::take(&mut statement);
                        self.insert(&text, statement_line, &tables);
                        state = SqlState::Top;
                    }
                }
                SqlState::Top => {
                    if let Some((table, columns)) = copy_header(line) {
                        state = SqlState::Copy { table, columns };
                    } else if let Some(table) = line
                        .strip_prefix("CREATE TABLE ")
                        .and_then(|r| r.strip_suffix(" ("))
                    {
                        state = SqlState::Create {
                            table: unquote_name(table),
                            columns: Vec::new(),
                        };
                    } else if line.starts_with("INSERT INTO ") {
                        statement.clear();
                        statement.push_str(line);
                        statement_line = line_no;
                        if statement_complete(&statement) {
                            let text = std::mem::take(&mut statement);
                            self.insert(&text, statement_line, &tables);
                        } else {
                            state = SqlState::Insert;
                        }
                    } else if !line.starts_with("--") {
                        self.text_record(line, line_no);
                    }
                }
            }
        }
        if matches!(state, SqlState::Insert) && !statement.is_empty() {
            let text = std::mem::take(&mut statement);
            self.text_record(&text, statement_line);
        }
        Ok(())
    }

    /// One `INSERT INTO t [(cols)] VALUES (…)[, (…)];` statement.
    fn insert(
        &mut self,
        text: &str,
        line: u64,
        tables: &std::collections::HashMap<String, Vec<String>>,
    ) {
        let Some(parsed) = parse_insert(text) else {
            self.text_record(text, line);
            return;
        };
        let columns = parsed
            .columns
            .or_else(|| tables.get(&parsed.table).cloned())
            .unwrap_or_default();
        for row in parsed.rows {
            self.rows += 1;
            let fields: Vec<(&str, &str)> = row
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    (
                        columns.get(i).map_or("", String::as_str),
                        v.as_deref().unwrap_or(""),
                    )
                })
                .collect();
            self.fields(&fields, line, Some(&parsed.table));
        }
    }
}

fn memchr_count(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Where a SQL dump reader is.
enum SqlState {
    Top,
    Copy { table: String, columns: Vec<String> },
    Create { table: String, columns: Vec<String> },
    Insert,
}

/// `COPY public.users (id, name) FROM stdin;` → the table and its columns.
fn copy_header(line: &str) -> Option<(String, Vec<String>)> {
    let rest = line.strip_prefix("COPY ")?.strip_suffix(" FROM stdin;")?;
    let (table, cols) = rest.split_once(" (")?;
    let cols = cols.strip_suffix(')')?;
    Some((unquote_name(table), split_names(cols)))
}

fn split_names(list: &str) -> Vec<String> {
    list.split(',').map(|c| unquote_name(c.trim())).collect()
}

/// `public."Users"` → `public.Users`.
fn unquote_name(name: &str) -> String {
    name.trim().replace('"', "")
}

/// The column a `CREATE TABLE` body line defines, if it defines one.
fn create_column(line: &str) -> Option<String> {
    let first = line.split_whitespace().next()?;
    let upper = first.to_ascii_uppercase();
    if matches!(
        upper.as_str(),
        "CONSTRAINT" | "PRIMARY" | "UNIQUE" | "CHECK" | "FOREIGN" | "EXCLUDE" | "LIKE"
    ) {
        return None;
    }
    Some(unquote_name(first))
}

/// Undoes COPY text-format escapes; `\N` (NULL) is empty.
fn copy_unescape(cell: &str) -> String {
    if cell == "\\N" {
        return String::new();
    }
    if !cell.contains('\\') {
        return cell.to_owned();
    }
    let mut out = String::with_capacity(cell.len());
    let mut chars = cell.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Whether an `INSERT` statement is complete: it ends with `;` outside a string literal.
fn statement_complete(text: &str) -> bool {
    let mut in_string = false;
    let mut last = ' ';
    for c in text.chars() {
        if c == '\'' {
            in_string = !in_string;
        }
        if !c.is_whitespace() {
            last = c;
        }
    }
    !in_string && last == ';'
}

/// A parsed `INSERT`.
struct Insert {
    table: String,
    columns: Option<Vec<String>>,
    rows: Vec<Vec<Option<String>>>,
}

/// Parses `INSERT INTO t [(cols)] VALUES (v, …)[, (…)];` with SQL literals: `'…'` (with `''`),
/// `E'…'` (with backslash escapes), numbers, `NULL`, `true`/`false`, and `::type` casts.
fn parse_insert(text: &str) -> Option<Insert> {
    let rest = text.trim().strip_prefix("INSERT INTO ")?;
    let values_at = find_values(rest)?;
    let head = rest[..values_at].trim();
    let (table, columns) = match head.split_once(" (") {
        Some((t, cols)) => (
            unquote_name(t),
            Some(split_names(cols.trim_end().strip_suffix(')')?)),
        ),
        None => (unquote_name(head), None),
    };
    let body = &rest[values_at + " VALUES ".len()..];
    let mut rows = Vec::new();
    let b: Vec<char> = body.chars().collect();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            '(' => {
                let mut row = Vec::new();
                i += 1;
                loop {
                    while i < b.len() && b[i].is_whitespace() {
                        i += 1;
                    }
                    let (value, next) = literal(&b, i)?;
                    row.push(value);
                    i = next;
                    // Skip a cast (`::jsonb`) and anything else up to `,` or `)`.
                    let mut depth = 0;
                    while i < b.len() && !(depth == 0 && (b[i] == ',' || b[i] == ')')) {
                        match b[i] {
                            '(' => depth += 1,
                            ')' => depth -= 1,
                            _ => {}
                        }
                        i += 1;
                    }
                    match b.get(i) {
                        Some(',') => i += 1,
                        Some(')') => {
                            i += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
                rows.push(row);
            }
            _ => i += 1,
        }
    }
    Some(Insert {
        table,
        columns,
        rows,
    })
}

/// Where ` VALUES ` is, outside quotes.
fn find_values(text: &str) -> Option<usize> {
    let mut in_quotes = false;
    for (i, c) in text.char_indices() {
        if c == '"' {
            in_quotes = !in_quotes;
        } else if !in_quotes && text[i..].starts_with(" VALUES ") {
            return Some(i);
        }
    }
    None
}

/// One literal starting at `i`: its text (`None` for NULL) and where it ends.
fn literal(b: &[char], mut i: usize) -> Option<(Option<String>, usize)> {
    let escapes = matches!(b.get(i), Some('E' | 'e')) && b.get(i + 1) == Some(&'\'');
    if escapes {
        i += 1;
    }
    if b.get(i) == Some(&'\'') {
        let mut out = String::new();
        i += 1;
        loop {
            match b.get(i)? {
                '\'' if b.get(i + 1) == Some(&'\'') => {
                    out.push('\'');
                    i += 2;
                }
                '\'' => return Some((Some(out), i + 1)),
                '\\' if escapes => {
                    match b.get(i + 1)? {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        c => out.push(*c),
                    }
                    i += 2;
                }
                c => {
                    out.push(*c);
                    i += 1;
                }
            }
        }
    }
    let start = i;
    while i < b.len() && !matches!(b[i], ',' | ')' | ':') {
        i += 1;
    }
    let word: String = b[start..i].iter().collect();
    let word = word.trim();
    if word.eq_ignore_ascii_case("null") {
        Some((None, i))
    } else {
        Some((Some(word.to_owned()), i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_parse() {
        let p = parse_insert(
            "INSERT INTO public.users (id, note, doc) VALUES (1, 'it''s, (x)', '{\"a\":1}'::jsonb), (2, NULL, E'a\\'b');",
        )
        .expect("parses");
        assert_eq!(p.table, "public.users");
        assert_eq!(
            p.columns,
            Some(vec!["id".to_owned(), "note".to_owned(), "doc".to_owned()])
        );
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows[0][1].as_deref(), Some("it's, (x)"));
        assert_eq!(p.rows[0][2].as_deref(), Some("{\"a\":1}"));
        assert_eq!(p.rows[1][1], None);
        assert_eq!(p.rows[1][2].as_deref(), Some("a'b"));
    }

    #[test]
    fn copy_headers_and_escapes() {
        let (t, c) = copy_header("COPY public.\"Users\" (id, \"idNo\") FROM stdin;").expect("copy");
        assert_eq!(t, "public.Users");
        assert_eq!(c, vec!["id", "idNo"]);
        assert_eq!(copy_unescape("a\\tb\\\\c"), "a\tb\\c");
        assert_eq!(copy_unescape("\\N"), "");
    }

    #[test]
    fn formats_by_extension_and_content() {
        assert_eq!(
            by_extension(Path::new("a.csv.gz"), true),
            Some(InputFormat::Csv)
        );
        assert_eq!(
            by_extension(Path::new("a.jsonl"), false),
            Some(InputFormat::Ndjson)
        );
        assert_eq!(by_extension(Path::new("a.bin"), false), None);
        assert_eq!(sniff(b"{\"a\":1}\n{\"a\":2}\n"), InputFormat::Ndjson);
        assert_eq!(sniff(b"{\n \"a\": 1\n}\n"), InputFormat::Json);
        assert_eq!(
            sniff(b"--\n-- PostgreSQL database dump\n"),
            InputFormat::Sql
        );
        assert_eq!(sniff(b"2026-01-01 INFO hello\n"), InputFormat::Text);
    }
}
