//! The word-at-a-time (SWAR) quick pass the SIMD one replaced, kept as the reference a
//! property test compares it with (`the_simd_pass_sees_what_the_swar_pass_saw`).

use super::label_at;

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;
/// Turns ASCII upper-case letters into lower case (and leaves the high bit alone).
const CASE: u64 = 0x2020_2020_2020_2020;

/// The fewest digits of a number the matcher reports without context (17 and an `X`).
const LONG_RUN: u32 = 17;

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
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct SeenRef {
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
pub(super) fn look<const JSON: bool>(bytes: &[u8], runs: &mut Vec<(usize, usize)>) -> SeenRef {
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
    seen: SeenRef,
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
