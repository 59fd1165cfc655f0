//! The quick test that lets most lines of stored data skip the matcher: a word-at-a-time (SWAR,
//! eight bytes per `u64`) pass that proves a line can hold nothing the matcher would report.
//!
//! Why it is exact, for ASCII text scanned without field context ([`super::StreamFormat::Text`],
//! and the values of a JSON line whose keys are not identity-bearing): every pattern the matcher
//! reports without context is an 18-character number with a check character (17 or 18 digits
//! chained by the separators `rules::Matcher::separator` allows), or a masked number (3 `*` or
//! more). The patterns without a check character (legacy 15-digit, permits, passports, the 2017
//! card) are reported only after a label (`passport`, `id no`, 身份证, …). So a line is quiet when
//! it is ASCII, has fewer than 3 `*`, no ASCII label anywhere (case-insensitively, wherever it
//! starts), and no run of chain bytes (digits, spaces, `-./_+`, tab and line-break controls, and
//! `X`) holding 17 digits or more. Anything else goes to the matcher, as before.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;
/// Turns ASCII upper-case letters into lower case (and leaves the high bit alone).
const CASE: u64 = 0x2020_2020_2020_2020;

/// The fewest digits of a number the matcher reports without context (17 and an `X`).
const LONG_RUN: u32 = 17;

/// ASCII labels (`rules::ASCII_LABELS`), lower case: a line with one of these anywhere goes to
/// the matcher.
const LABELS: &[&[u8]] = &[
    b"passport",
    b"id card",
    b"idcard",
    b"id no",
    b"idno",
    b"id number",
];

/// The high bit of each byte of `x` (bytes below 0x80) that is in `lo..=hi`.
#[inline(always)]
fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
    // Per byte, x + (0x80 - lo) reaches 0x80 exactly when x >= lo, and x + (0x7f - hi) when
    // x > hi; neither sum leaves its byte (x < 0x80), so bytes do not carry into each other.
    let ge = x.wrapping_add(LO * u64::from(0x80 - lo));
    let gt = x.wrapping_add(LO * u64::from(0x7f - hi));
    ge & !gt & HI
}

/// How many bytes of `m` (a mask of high bits) are set: one multiply, no `popcnt` needed.
#[inline(always)]
fn count(m: u64) -> u32 {
    ((m >> 7).wrapping_mul(LO) >> 56) as u32
}

/// What the quick pass saw in a line.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Seen {
    /// Only the matcher can tell: a non-ASCII byte, 3 `*` or a label (the pass stops there).
    pub(super) busy: bool,
    /// A backslash (a JSON escape: a key or digit may hide behind it).
    pub(super) backslash: bool,
    /// An `e` or `E` right after a digit (a JSON exponent: `1.1e17` is 18 digits).
    pub(super) exponent: bool,
}

/// Reads `bytes` eight at a time, putting in `runs` the runs of chain bytes with 17 digits or
/// more (`start..end`); stops early once it is `busy` (`runs` then means nothing). When it is
/// not, the matcher can find only 18-character numbers, each inside one of `runs`, and finds
/// the same there as in the whole line: a chain never crosses a byte outside the runs, and
/// without a label or `*` nothing else counts.
///
/// `JSON`: also note backslashes and exponents (text mode has no use for them).
pub(super) fn look<const JSON: bool>(bytes: &[u8], runs: &mut Vec<(usize, usize)>) -> Seen {
    runs.clear();
    let mut state = State::default();
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0usize;
    for c in chunks.by_ref() {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        if state.step::<JSON>(u64::from_le_bytes(w), at, bytes, runs) {
            state.seen.busy = true;
            return state.seen;
        }
        at += 8;
    }
    // The rest padded with NUL, which is no chain byte: a run ends with the line.
    let rest = chunks.remainder();
    let mut w = [0u8; 8];
    w[..rest.len()].copy_from_slice(rest);
    if state.step::<JSON>(u64::from_le_bytes(w), at, bytes, runs) {
        state.seen.busy = true;
    }
    state.seen
}

/// The pass's state between words.
#[derive(Default)]
struct State {
    seen: Seen,
    /// Digits in the current run, and where it started.
    run: u32,
    run_start: usize,
    stars: u32,
    /// The high bit of the previous word's last byte when it was a digit, at bit 7.
    prev_digit: u64,
}

impl State {
    /// One word of the line, at `at`; whether only the matcher can tell (`busy`).
    #[inline(always)]
    fn step<const JSON: bool>(
        &mut self,
        w: u64,
        at: usize,
        bytes: &[u8],
        runs: &mut Vec<(usize, usize)>,
    ) -> bool {
        if w & HI != 0 {
            return true;
        }
        let lower = w | CASE;
        let digits = in_range(w, b'0', b'9');
        let chain = in_range(w, b'-', b'9')
            | in_range(w, b'\t', b'\r')
            | in_range(w, b' ', b' ')
            | in_range(w, b'+', b'+')
            | in_range(w, b'_', b'_')
            | in_range(lower, b'x', b'x');
        self.stars += count(in_range(w, b'*', b'*'));
        if self.stars >= 3 {
            return true;
        }
        if JSON {
            self.seen.backslash |= in_range(w, b'\\', b'\\') != 0;
            // The digit flags moved up one byte (and the last byte of the previous word in).
            let before = (digits << 8) | self.prev_digit;
            self.prev_digit = digits >> 56;
            self.seen.exponent |= before & in_range(lower, b'e', b'e') != 0;
        }
        // Every label starts `id` or `pa`: a byte `i` before a `d`, or `p` before `a` (a last
        // `i` or `p` of the word is checked whatever follows it).
        let (i, p) = (in_range(lower, b'i', b'i'), in_range(lower, b'p', b'p'));
        let (d, a) = (in_range(lower, b'd', b'd'), in_range(lower, b'a', b'a'));
        let mut starts = (i & (d >> 8)) | (p & (a >> 8)) | ((i | p) & (0x80 << 56));
        while starts != 0 {
            let i = at + (starts.trailing_zeros() / 8) as usize;
            starts &= starts - 1;
            if label_at(bytes, i) {
                return true;
            }
        }
        let other = !chain & HI;
        if other == 0 {
            self.run += count(digits);
        } else {
            // Digits before the first other byte end the run; those after the last one start
            // the next. Between them, at most six: never a long run.
            let first = other.trailing_zeros();
            self.run += count(digits & ((1u64 << first) - 1));
            if self.run >= LONG_RUN {
                runs.push((self.run_start, at + (first / 8) as usize));
            }
            let last = 63 - other.leading_zeros();
            self.run = count(digits.checked_shr(last + 1).unwrap_or(0));
            self.run_start = at + (last / 8) as usize + 1;
        }
        false
    }
}

/// Whether an ASCII label starts at `i` (case-insensitively).
fn label_at(bytes: &[u8], i: usize) -> bool {
    let rest = &bytes[i..];
    // Most `id` and `pa` pairs begin no label (`uid`, `paid`): rule them out on the third byte.
    match rest.get(2).map(u8::to_ascii_lowercase) {
        Some(b's' | b' ' | b'c' | b'n') => {}
        _ => return false,
    }
    LABELS
        .iter()
        .any(|l| rest.len() >= l.len() && rest[..l.len()].eq_ignore_ascii_case(l))
}

/// The keys of a JSON line with no backslash, where it is valid JSON: each string followed by
/// `:` (after spaces). On a line that is not JSON the result means nothing, and nothing uses it:
/// such a line is read as text.
pub(super) fn keys(line: &[u8], mut each: impl FnMut(&[u8]) -> bool) -> bool {
    // Without backslashes, quotes pair up: each string is between two of them.
    let mut quotes = memchr::memchr_iter(b'"', line);
    while let (Some(open), Some(close)) = (quotes.next(), quotes.next()) {
        let tail = &line[close + 1..];
        let colon = match tail.first() {
            Some(b':') => true,
            Some(b' ' | b'\t' | b'\r' | b'\n') => {
                tail.iter()
                    .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                    == Some(&b':')
            }
            _ => false,
        };
        if colon && !each(&line[open + 1..close]) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the matcher must look: busy, or a long run.
    fn busy(s: &str) -> bool {
        let mut runs = Vec::new();
        let seen = look::<true>(s.as_bytes(), &mut runs);
        seen.busy || !runs.is_empty()
    }

    fn runs(s: &str) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        assert!(!look::<true>(s.as_bytes(), &mut runs).busy);
        runs
    }

    #[test]
    fn counts_per_byte() {
        for m in [0u64, HI, 0x80, 0x80 << 56, (0x80 << 8) | (0x80 << 40)] {
            assert_eq!(count(m), m.count_ones());
        }
    }

    #[test]
    fn ranges_per_byte() {
        let w = u64::from_le_bytes(*b"a0/9:X x");
        let d = in_range(w, b'0', b'9');
        assert_eq!(d, (0x80 << 8) | (0x80 << 24));
    }

    #[test]
    fn what_is_quiet() {
        assert!(!busy(
            r#"{"ts":"2026-01-05T12:34:56.789Z","order":"20240001234567","uid":12345678}"#
        ));
        assert!(!busy("1234567890123456"), "16 digits");
        assert!(busy("12345678901234567"), "17 digits");
        assert!(
            busy("x 110105 1949 1231 002X y"),
            "digits chained by spaces"
        );
        assert!(busy("110105-19491231-002"), "chained by dashes");
        assert!(!busy("110105:19491231:002"), "':' is no separator");
        assert!(busy("a * b * c *"), "three stars");
        assert!(busy("my PassPort G1234"), "a label");
        assert!(busy("xidno"), "a label anywhere");
        for n in 0..12 {
            // Labels across word boundaries at every alignment.
            assert!(busy(&format!("{}PassPort", "-".repeat(n))), "{n}");
            assert!(busy(&format!("{}iD nO", "-".repeat(n))), "{n}");
        }
        assert!(busy("身份证"), "not ASCII");
        for n in 0..40 {
            // Runs across word boundaries at every alignment.
            let s = format!("{}{}", "a".repeat(n), "1".repeat(17));
            assert!(busy(&s), "{n}");
            let s = format!("{}{}b", "a".repeat(n), "1".repeat(16));
            assert!(!busy(&s), "{n}");
        }
        let mut r = Vec::new();
        assert!(look::<true>(b"1e17", &mut r).exponent);
        assert!(!look::<true>(b"level", &mut r).exponent);
        assert!(look::<true>(br#""a\"b""#, &mut r).backslash);
        assert_eq!(
            runs("a:110105 1949 1231 002X;12345678901234567"),
            [(2, 23), (24, 41)]
        );
        assert_eq!(runs(r#"{"n":"11010519491231002X"}"#), [(6, 24)]);
        assert!(runs("1234567890123456:1234567890123456").is_empty());
    }

    #[test]
    fn labels_are_the_matchers() {
        let matcher: Vec<&[u8]> = crate::detect::rules::ASCII_LABELS
            .iter()
            .map(|(l, _)| *l)
            .collect();
        assert_eq!(LABELS, matcher.as_slice());
        // `step` and `label_at` find them by their first three bytes.
        for l in LABELS {
            assert!(l.starts_with(b"id") || l.starts_with(b"pa"));
            assert!(matches!(l[2], b's' | b' ' | b'c' | b'n'));
        }
    }

    #[test]
    fn keys_of_a_line() {
        let mut got = Vec::new();
        keys(br#"{"a":1,"b" : {"c":"d:"},"e":[":"]}"#, |k| {
            got.push(String::from_utf8_lossy(k).into_owned());
            true
        });
        assert_eq!(got, ["a", "b", "c", "e"]);
    }
}
