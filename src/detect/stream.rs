//! The streaming entry point: bytes of any length in, located findings out, in constant memory.
//!
//! Input is read as lines (`\n`). A line is scanned whole when it is short; a long line (a
//! minified dump, a binary file) is scanned in overlapping windows placed by their offset in the
//! line, never by where the chunks happened to end, so the findings do not depend on how the
//! input was split. A window reaches [`CONTEXT`] bytes back for labels (身份证, `passport`) and
//! [`OVERLAP`] bytes forward for a number that crosses its end; a finding is reported by the
//! window it starts in, so none is reported twice.

use super::finding::{Finding, Located, Redacted};
use super::rules::{Scratch, ValueCtx, match_value, may_start_digit, worth_matching};
use super::{Detector, ScanError};

mod quiet;

/// How far a window reaches back for a label: the matcher looks 20 characters back, up to 3
/// bytes each in UTF-8.
const CONTEXT: usize = 64;
/// How far a window reaches past its end, for a number (with its separators) that starts
/// inside it.
const OVERLAP: usize = 256;
/// The window length of a long line.
const WINDOW: usize = 64 * 1024;
/// The longest NDJSON line read as JSON; a longer one is scanned as text.
const DEFAULT_MAX_LINE: usize = 1 << 20;

/// How a [`StreamScanner`] reads each line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamFormat {
    /// Text and logs: every number with a check character anywhere, and every number without
    /// one after a label (身份证, 护照, `passport`, `ID no`, …) in the same line. Located
    /// `(text)`.
    Text,
    /// NDJSON (JSON Lines): each line that is a JSON value is scanned as JSON, field names and
    /// JSON paths included (`$.user.idNo`); a line that is not (or is longer than 1 MiB) is
    /// scanned as text.
    JsonLines,
}

/// Scans a stream in constant memory: feed it chunks split anywhere, get findings with their
/// byte offset, line and column.
///
/// Memory is bounded by the longest line it must hold (1 MiB for [`StreamFormat::JsonLines`],
/// about 64 KiB for text) plus the chunk it is fed; time is linear in the input.
/// Splitting the input at any points gives the findings of scanning it whole (a property test
/// proves it).
///
/// ```
/// use netid::detect::{Detector, FindingKind, StreamFormat};
///
/// let mut scanner = Detector::new().stream(StreamFormat::Text);
/// let mut found = Vec::new();
/// // An ID number split across two chunks is found once, where it starts.
/// scanner.feed(b"ok\nuser 110105194912", &mut found);
/// scanner.feed(b"31002X logged in\n", &mut found);
/// scanner.finish(&mut found);
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].finding.kind, FindingKind::ResidentId);
/// assert_eq!((found[0].offset, found[0].line, found[0].column), (8, 2, 6));
/// assert_eq!(found[0].redacted.as_str(), "1…X");
/// ```
#[derive(Debug)]
pub struct StreamScanner {
    det: Detector,
    format: StreamFormat,
    today: u32,
    scratch: Scratch,
    /// The current line's bytes not yet scanned, from `pending_base` in the line.
    pending: Vec<u8>,
    pending_base: usize,
    /// Where the current line starts in the stream, and its number (from 1).
    line_start: u64,
    line: u64,
    /// Text mode: where in the line the next window's reported range starts.
    next: usize,
    /// The current line is scanned as text in windows already (it is too long for JSON).
    windowed: bool,
    window: usize,
    max_line: usize,
    /// The length of the line `complete` last finished.
    line_len: usize,
    /// Lines finished so far.
    lines: u64,
    bytes: u64,
    /// Skip the matcher on lines the quick test proves quiet (see [`quiet`]); off only in the
    /// tests that compare both paths.
    fast: bool,
    /// The long digit runs and the keys of the current line (reused).
    marks: quiet::Marks,
    /// Whether each key seen on a JSON line is identity-bearing, by a cheap hash of its bytes.
    key_slots: Vec<KeySlot>,
}

/// Slots of the key-class cache (a power of two).
const KEY_SLOTS: usize = 512;

impl StreamScanner {
    pub(super) fn new(det: Detector, format: StreamFormat, today: u32) -> Self {
        let det = det.max_body(DEFAULT_MAX_LINE);
        StreamScanner {
            det,
            format,
            today,
            scratch: Scratch::new(true),
            pending: Vec::new(),
            pending_base: 0,
            line_start: 0,
            line: 1,
            next: 0,
            windowed: false,
            window: WINDOW,
            max_line: DEFAULT_MAX_LINE,
            line_len: 0,
            lines: 0,
            bytes: 0,
            fast: true,
            marks: quiet::Marks::default(),
            key_slots: Vec::new(),
        }
    }

    /// Lines read so far (a last line without `\n` counts after [`finish`](Self::finish)).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Scans the next `chunk` of the stream, appending what it finds to `out` (in stream order
    /// for text; in line order for JSON lines). A match that `chunk` leaves unfinished is
    /// reported by a later call.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Located>) {
        self.bytes += chunk.len() as u64;
        let mut rest = chunk;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            let piece = &rest[..i];
            if self.pending.is_empty() && self.pending_base == 0 {
                // The common case: a whole line inside the chunk, scanned where it lies.
                self.complete(piece, 0, out);
            } else {
                let mut buf = std::mem::take(&mut self.pending);
                buf.extend_from_slice(piece);
                let base = self.pending_base;
                self.complete(&buf, base, out);
                buf.clear();
                self.pending = buf;
            }
            self.line_start += self.line_len as u64 + 1;
            self.lines += 1;
            self.new_line();
            rest = &rest[i + 1..];
        }
        if !rest.is_empty() {
            self.pending.extend_from_slice(rest);
            self.progress(out);
        }
    }

    /// Scans what is left: a last line without `\n`.
    pub fn finish(&mut self, out: &mut Vec<Located>) {
        if !self.pending.is_empty() || self.pending_base != 0 {
            let buf = std::mem::take(&mut self.pending);
            let base = self.pending_base;
            self.complete(&buf, base, out);
            self.line_start += self.line_len as u64;
            self.lines += 1;
            self.new_line();
        }
    }

    fn new_line(&mut self) {
        self.line += 1;
        self.pending.clear();
        self.pending_base = 0;
        self.next = 0;
        self.windowed = false;
    }

    /// The rest of a line, `buf`, which starts at `base` in it; the line ends with `buf`.
    fn complete(&mut self, buf: &[u8], base: usize, out: &mut Vec<Located>) {
        let len = base + buf.len();
        self.line_len = len;
        // A line that is not JSON is read as text.
        if self.format == StreamFormat::JsonLines && !self.windowed && len <= self.max_line {
            if self.fast && self.quiet_json(buf) {
                // Nothing either way: as JSON its values are read without identity context,
                // as text (were it not JSON) the quick test proved it quiet.
                return;
            }
            if self.json_line(buf, out).is_ok() {
                return;
            }
        }
        self.windows(buf, base, true, out);
    }

    /// Scans the windows of the current (unfinished) line that are complete, and drops the
    /// bytes no later window needs.
    fn progress(&mut self, out: &mut Vec<Located>) {
        let known = self.pending_base + self.pending.len();
        if self.format == StreamFormat::JsonLines && !self.windowed {
            if known <= self.max_line {
                return;
            }
            self.windowed = true;
        }
        let buf = std::mem::take(&mut self.pending);
        let base = self.pending_base;
        self.windows(&buf, base, false, out);
        // Keep what the next window reaches back to.
        let keep_from = self.next.saturating_sub(CONTEXT).max(base);
        let mut buf = buf;
        buf.drain(..keep_from - base);
        self.pending = buf;
        self.pending_base = keep_from;
    }

    /// Scans `buf` (bytes `base..` of the line) window by window; with `last`, through the end.
    fn windows(&mut self, buf: &[u8], base: usize, last: bool, out: &mut Vec<Located>) {
        let len = base + buf.len();
        let byte = |i: usize| buf.get(i.wrapping_sub(base)).copied();
        let continuation = |i: usize| byte(i).is_some_and(|b| b & 0xc0 == 0x80);
        // A window is placed by the line alone: [next - CONTEXT, next + window + OVERLAP),
        // its edges moved off the middle of a UTF-8 character.
        while len >= self.next + self.window + OVERLAP + 4 {
            let mut start = self.next.saturating_sub(CONTEXT).max(base);
            while start < self.next && continuation(start) {
                start += 1;
            }
            let mut end = self.next + self.window + OVERLAP;
            while end > self.next && continuation(end) {
                end -= 1;
            }
            let report = self.next..self.next + self.window;
            self.text(&buf[start - base..end - base], start, report, out);
            self.next += self.window;
        }
        if last {
            let mut start = self.next.saturating_sub(CONTEXT).max(base);
            while start < self.next && continuation(start) {
                start += 1;
            }
            let report = self.next..len + 1;
            if start < len {
                self.text(&buf[start - base..], start, report, out);
            }
            self.next = len;
        }
    }

    /// Scans one window of text that starts at `at` in the line, reporting matches that start
    /// in `report`.
    fn text(
        &mut self,
        bytes: &[u8],
        at: usize,
        report: std::ops::Range<usize>,
        out: &mut Vec<Located>,
    ) {
        if self.fast {
            let mut marks = std::mem::take(&mut self.marks);
            let seen = quiet::look::<false>(bytes, &mut marks);
            if !seen.busy {
                // ASCII, no label, fewer than 3 `*`: the matcher finds, in the whole window,
                // what it finds in each long run of digits (see `quiet`), nothing elsewhere.
                for &(s, e) in &marks.runs {
                    let text = std::str::from_utf8(&bytes[s..e]).unwrap_or_default();
                    self.emit(text, at + s, &report, out);
                }
                self.marks = marks;
                return;
            }
            self.marks = marks;
        }
        let (mut digits, mut stars) = (0usize, 0usize);
        for &b in bytes {
            digits += usize::from(b.is_ascii_digit() || (b >= 0xc0 && may_start_digit(b)));
            stars += usize::from(b == b'*' || b >= 0xe2);
        }
        if !worth_matching(digits, stars) {
            return;
        }
        let decoded;
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                decoded = lossy_same_length(bytes);
                decoded.as_str()
            }
        };
        self.emit(text, at, &report, out);
    }

    /// Matches `text`, which starts at `at` in the line, reporting matches that start in
    /// `report`.
    fn emit(
        &mut self,
        text: &str,
        at: usize,
        report: &std::ops::Range<usize>,
        out: &mut Vec<Located>,
    ) {
        match_value(&mut self.scratch, text, ValueCtx::default(), self.today);
        // In the order they start, whichever pass found them (numbers, then masked numbers).
        self.scratch.hits.sort_by_key(|h| h.span.0);
        for hit in &self.scratch.hits {
            let start = at + hit.span.0;
            if !report.contains(&start) {
                continue;
            }
            let value = text.get(hit.span.0..hit.span.1).unwrap_or_default();
            out.push(Located {
                finding: Finding {
                    location: "(text)".to_owned(),
                    kind: hit.kind,
                    confidence: hit.confidence,
                    field: hit.field,
                },
                offset: self.line_start + start as u64,
                line: self.line,
                column: start as u64 + 1,
                redacted: Redacted::of(value),
                field: None,
            });
        }
    }

    /// Whether a whole JSON line is proved to hold nothing: quiet as text (see [`quiet`]), no
    /// escape that could hide a key or digit, no exponent that could make a long number
    /// (`1.1e17`), and no identity-bearing key (whose values count whatever they hold).
    fn quiet_json(&mut self, line: &[u8]) -> bool {
        let mut marks = std::mem::take(&mut self.marks);
        let seen = quiet::look::<true>(line, &mut marks);
        let mut quiet = !(seen.busy || seen.backslash || seen.exponent);
        // A long run of digits: quiet still when the matcher finds nothing in it (a value's
        // numbers are the line's, in the same runs, and keys without identity context add
        // nothing a value would need).
        for &(s, e) in &marks.runs {
            if !quiet {
                break;
            }
            let text = std::str::from_utf8(&line[s..e]).unwrap_or_default();
            match_value(&mut self.scratch, text, ValueCtx::default(), self.today);
            quiet = self.scratch.hits.is_empty();
        }
        if quiet {
            if self.key_slots.is_empty() {
                // Made on the first JSON line only: text scanners never need it.
                self.key_slots = vec![KeySlot::default(); KEY_SLOTS];
            }
            let mut keys = KeyCheck::default();
            quiet = if seen.spaced {
                quiet::keys(line, |key| {
                    let s = key.as_ptr() as usize - line.as_ptr() as usize;
                    keys.quiet(&self.det, &mut self.key_slots, line, (s, s + key.len()))
                })
            } else {
                marks
                    .keys
                    .iter()
                    .all(|&span| keys.quiet(&self.det, &mut self.key_slots, line, span))
            };
        }
        self.marks = marks;
        quiet
    }

    /// Scans a whole line as JSON; an error when it is not JSON. A blank line is clean.
    fn json_line(&mut self, line: &[u8], out: &mut Vec<Located>) -> Result<(), ScanError> {
        let found = self.det.locate_json(line)?;
        out.extend(found.into_iter().map(|mut f| {
            f.offset += self.line_start;
            f.line = self.line;
            f
        }));
        Ok(())
    }
}

/// Whether a value read under a field that is not identity-bearing is proved to hold nothing
/// (see [`quiet`]): no percent escape (a value may be decoded once more), not a JSON text (it
/// would be read as JSON, keys and all), and quiet as text.
pub(super) fn quiet_value(value: &str, scratch: &mut Scratch, today: u32) -> bool {
    let bytes = value.as_bytes();
    if bytes.contains(&b'%') || super::json::looks_like_json(value) {
        return false;
    }
    let mut marks = quiet::Marks::default();
    if quiet::look::<false>(bytes, &mut marks).busy {
        return false;
    }
    marks.runs.iter().all(|&(s, e)| {
        let text = value.get(s..e).unwrap_or_default();
        match_value(scratch, text, ValueCtx::default(), today);
        scratch.hits.is_empty()
    })
}

/// `bytes` as text of the same length: each byte of an invalid UTF-8 sequence becomes `?`, so
/// offsets in the text are offsets in the bytes.
fn lossy_same_length(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(std::iter::repeat_n('?', chunk.invalid().len()));
    }
    out
}

#[cfg(test)]
mod tests;

/// The keys of one JSON line, read by the quick test one at a time.
#[derive(Default)]
struct KeyCheck {
    /// A key/value object (`{"key":"realName","value":"…"}`) names its field in a value,
    /// which the quick test does not read: a line with both a label and a value member is not
    /// proved quiet.
    label: bool,
    value: bool,
}

impl KeyCheck {
    /// Whether the line is still quiet after its key `line[s..e]` (ASCII: the line is).
    fn quiet(
        &mut self,
        det: &Detector,
        slots: &mut [KeySlot],
        line: &[u8],
        (s, e): (usize, usize),
    ) -> bool {
        let key = &line[s..e];
        // Keys are short and the same few recur on every line: their first 8 bytes, last 8
        // bytes and length tell a key of up to 16 bytes exactly, and place any key well enough
        // once mixed by one multiply.
        let (head, tail) = ends(line, s, e);
        let mixed =
            (head ^ tail.rotate_left(29) ^ key.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let slot = &mut slots[(mixed >> 55) as usize & (KEY_SLOTS - 1)];
        let same = slot.len == key.len()
            && slot.head == head
            && slot.tail == tail
            && (key.len() <= 16 || *slot.long == *key);
        if !same {
            let text = std::str::from_utf8(key).unwrap_or_default();
            let kind = match (det.names.classify(text), super::json::member_role(key)) {
                // Identity-bearing, or context a value's number may need (`docNo`).
                (
                    super::fields::FieldClass::Identity(_)
                    | super::fields::FieldClass::MaybeDocument,
                    _,
                ) => KeyKind::Busy,
                (_, super::json::Role::Label) => KeyKind::Label,
                (_, super::json::Role::Value) => KeyKind::Value,
                _ => KeyKind::Plain,
            };
            *slot = KeySlot {
                len: key.len(),
                head,
                tail,
                long: if key.len() > 16 {
                    key.into()
                } else {
                    Box::default()
                },
                kind,
            };
        }
        match slot.kind {
            KeyKind::Busy => return false,
            KeyKind::Label => self.label = true,
            KeyKind::Value => self.value = true,
            KeyKind::Plain => {}
        }
        !(self.label && self.value)
    }
}

/// The first and the last 8 bytes of `line[s..e]` (little-endian; a shorter key zero-padded,
/// the same twice).
#[inline(always)]
fn ends(line: &[u8], s: usize, e: usize) -> (u64, u64) {
    let load = |at: usize| {
        line.get(at..at + 8)
            .map_or(0, |w| u64::from_le_bytes(w.try_into().unwrap_or_default()))
    };
    let len = e - s;
    if len >= 8 {
        return (load(s), load(e - 8));
    }
    let head = if s + 8 <= line.len() {
        // The bytes after a key (its quote, `:`) are in the line: read 8, keep the key's.
        load(s) & ((1u64 << (8 * len)) - 1)
    } else {
        line[s..e]
            .iter()
            .rev()
            .fold(0u64, |w, &b| (w << 8) | u64::from(b))
    };
    (head, head)
}

/// One slot of the key-class cache: a key by its length, first and last 8 bytes (and, when it
/// is longer than 16 bytes, all of them).
#[derive(Debug, Clone)]
struct KeySlot {
    len: usize,
    head: u64,
    tail: u64,
    long: Box<[u8]>,
    kind: KeyKind,
}

impl Default for KeySlot {
    /// An empty slot: no key has this length.
    fn default() -> Self {
        KeySlot {
            len: usize::MAX,
            head: 0,
            tail: 0,
            long: Box::default(),
            kind: KeyKind::Busy,
        }
    }
}

/// What a JSON line's key means to the quick test ([`StreamScanner`]'s `quiet_json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum KeyKind {
    /// Nothing: its value counts only for what it holds.
    #[default]
    Plain,
    /// Identity-bearing, or context for a number (`docNo`): the line takes the full scan.
    Busy,
    /// Names a field in its value (`key`, `name`, `label`…).
    Label,
    /// Holds the value of a field a label member names (`value`, `content`…).
    Value,
}
