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

use wide::u8x16;

/// The fewest digits of a number the matcher reports without context (17 and an `X`).
const LONG_RUN: usize = 17;

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

/// The bytes that chain the digits of one number (`rules::Matcher::separator`, and `X`).
const CHAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = matches!(c, b'-'..=b'9' | b'\t'..=b'\r' | b' ' | b'+' | b'_' | b'x' | b'X');
        b += 1;
    }
    t
};

/// What the quick pass saw in a line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Seen {
    /// Only the matcher can tell: a non-ASCII byte, 3 `*` or a label (the pass stops there).
    pub(super) busy: bool,
    /// A backslash (a JSON escape: a key or digit may hide behind it).
    pub(super) backslash: bool,
    /// An `e` or `E` right after a digit (a JSON exponent: `1.1e17` is 18 digits).
    pub(super) exponent: bool,
    /// JSON: white space before a `:`, after which a key may end (`"a" : 1`) that the pass does
    /// not collect; the caller reads the keys with [`keys`] instead.
    pub(super) spaced: bool,
}

/// What the pass collects of a line; reused from line to line.
#[derive(Debug, Default)]
pub(super) struct Marks {
    /// The runs of chain bytes with 17 digits or more (`start..end`).
    pub(super) runs: Vec<(usize, usize)>,
    /// JSON: each key (the bytes between its quotes), in order, unless [`Seen::spaced`].
    pub(super) keys: Vec<(usize, usize)>,
}

/// A block: 64 bytes of the line and the byte after them (NUL past the line's end), so that a
/// class can look at a byte's successor.
type Block = [u8; 65];

/// The classes of one block, bit `i` for byte `i`.
#[derive(Default, Clone, Copy)]
struct Classes {
    /// Something rare that needs a closer look ([`Rare`]): a non-ASCII byte, `*`, and in JSON a
    /// backslash, a digit before `e`/`E`, or white space before `:`.
    rare: u64,
    chain: u64,
    /// An `i` or `p` before a `d` or `a` (any case): where a label may start.
    starts: u64,
    quote: u64,
    colon: u64,
}

/// The rare classes of a block, bit `i` for byte `i`.
#[derive(Default, Clone, Copy)]
struct Rare {
    high: u64,
    star: u64,
    backslash: u64,
    /// A digit before an `e` or `E`.
    exponent: u64,
    /// White space before a `:` (a key may end in white space: `"a" : 1`).
    spaced: u64,
}

/// The bytes of lane `lane` of `block` shifted by `by` (0: each byte, 1: the byte after each).
#[inline(always)]
fn lane(block: &Block, lane: usize, by: usize) -> u8x16 {
    let mut a = [0u8; 16];
    a.copy_from_slice(&block[16 * lane + by..16 * lane + by + 16]);
    u8x16::from(a)
}

#[inline(always)]
fn is(v: u8x16, b: u8) -> u8x16 {
    v.cmp_eq(u8x16::splat(b))
}

#[inline(always)]
fn within(v: u8x16, lo: u8, hi: u8) -> u8x16 {
    let x = v - u8x16::splat(lo);
    x.min(u8x16::splat(hi - lo)).cmp_eq(x)
}

#[inline(always)]
fn bits(m: u8x16, lane: usize) -> u64 {
    u64::from(m.move_mask() as u16) << (16 * lane)
}

/// Only letters are changed by setting 0x20 into one of the letters compared with it.
#[inline(always)]
fn lower(v: u8x16) -> u8x16 {
    v | u8x16::splat(0x20)
}

#[inline(always)]
fn high(v: u8x16) -> u8x16 {
    v.max(u8x16::splat(0x80)).cmp_eq(v)
}

#[inline(always)]
fn exponent(v: u8x16, after: u8x16) -> u8x16 {
    within(v, b'0', b'9') & is(lower(after), b'e')
}

#[inline(always)]
fn spaced(v: u8x16, after: u8x16) -> u8x16 {
    (within(v, b'\t', b'\r') | is(v, b' ')) & is(after, b':')
}

/// Classifies a block sixteen bytes at a time (SSE2 through `wide`, which stays safe Rust: a
/// few compares per class and lane, one `movemask` per class and lane; the rare classes share
/// one).
#[inline(always)]
fn classify<const JSON: bool>(block: &Block) -> Classes {
    let mut c = Classes::default();
    for k in 0..4 {
        let v = lane(block, k, 0);
        let after = lane(block, k, 1);
        let lower_v = lower(v);
        let chain = within(v, b'-', b'9')
            | within(v, b'\t', b'\r')
            | is(v, b' ')
            | is(v, b'+')
            | is(v, b'_')
            | is(lower_v, b'x');
        let lower_after = lower(after);
        let starts = (is(lower_v, b'i') | is(lower_v, b'p'))
            & (is(lower_after, b'd') | is(lower_after, b'a'));
        let mut rare = high(v) | is(v, b'*');
        if JSON {
            rare = rare | is(v, b'\\') | exponent(v, after) | spaced(v, after);
            c.quote |= bits(is(v, b'"'), k);
            c.colon |= bits(is(v, b':'), k);
        }
        c.rare |= bits(rare, k);
        c.chain |= bits(chain, k);
        c.starts |= bits(starts, k);
    }
    c
}

/// The rare classes one by one, for a block whose `rare` is not empty.
#[cold]
fn classify_rare(block: &Block) -> Rare {
    let mut r = Rare::default();
    for k in 0..4 {
        let (v, after) = (lane(block, k, 0), lane(block, k, 1));
        r.high |= bits(high(v), k);
        r.star |= bits(is(v, b'*'), k);
        r.backslash |= bits(is(v, b'\\'), k);
        r.exponent |= bits(exponent(v, after), k);
        r.spaced |= bits(spaced(v, after), k);
    }
    r
}

/// Bit `i` of the result: whether bits `0..=i` of `x` hold an odd number of ones.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// Bit `j` of the result: whether bits `j..j + 17` of `x` are all set (a run of 17 inside `x`).
#[inline(always)]
fn runs_of_17(x: u64) -> u64 {
    let mut r = x & (x >> 1);
    r &= r >> 2;
    r &= r >> 4;
    r &= r >> 8;
    r & (r >> 1)
}

/// Reads `bytes` 64 at a time, putting in `marks.runs` the runs of chain bytes with 17 digits or
/// more and, with `JSON`, in `marks.keys` the keys; stops early once it is `busy` (`marks` then
/// means nothing). When it is not, the matcher can find only 18-character numbers, each inside
/// one of the runs, and finds the same there as in the whole line: a chain never crosses a byte
/// outside the runs, and without a label or `*` nothing else counts.
///
/// `JSON`: also note backslashes and exponents, and collect keys (text mode has no use for
/// them). Keys are what [`keys`] finds on a line without a backslash: strings closed by a quote
/// right before a `:`; white space before a `:` sets [`Seen::spaced`] instead.
pub(super) fn look<const JSON: bool>(bytes: &[u8], marks: &mut Marks) -> Seen {
    marks.runs.clear();
    marks.keys.clear();
    let mut pass = Pass::default();
    let mut at = 0usize;
    // Blocks read in place while the line holds the byte after them; the last one from a copy,
    // its rest NUL, which is in no class: a run or a key ends with the line.
    while let Some(block) = bytes.get(at..at + 65) {
        let block: &Block = block.try_into().unwrap_or(&[0; 65]);
        if pass.block::<JSON>(block, at, bytes, marks) {
            pass.seen.busy = true;
            return pass.seen;
        }
        at += 64;
    }
    if at < bytes.len() {
        let mut b: Block = [0; 65];
        b[..bytes.len() - at].copy_from_slice(&bytes[at..]);
        if pass.block::<JSON>(&b, at, bytes, marks) {
            pass.seen.busy = true;
        }
    }
    pass.seen
}

/// The pass's state between blocks.
#[derive(Default)]
struct Pass {
    seen: Seen,
    stars: u32,
    /// Chain bytes that end the previous block, and where the last run the pass walked ends.
    run_len: usize,
    walked: usize,
    /// Whether the previous block's last byte is inside a string (all ones), or closes one
    /// (where its opening quote was).
    in_string: u64,
    closed: Option<usize>,
    /// The last quote of the blocks before.
    last_quote: usize,
}

impl Pass {
    /// One block of the line, at `at`; whether only the matcher can tell (`busy`).
    #[inline(always)]
    fn block<const JSON: bool>(
        &mut self,
        b: &Block,
        at: usize,
        bytes: &[u8],
        marks: &mut Marks,
    ) -> bool {
        let c = classify::<JSON>(b);
        if c.rare != 0 {
            let r = classify_rare(b);
            if r.high != 0 {
                return true;
            }
            self.stars += r.star.count_ones();
            if self.stars >= 3 {
                return true;
            }
            if JSON {
                self.seen.backslash |= r.backslash != 0;
                self.seen.exponent |= r.exponent != 0;
                self.seen.spaced |= r.spaced != 0;
            }
        }
        // Every label starts `id` or `pa`; `label_at` tells which.
        let mut starts = c.starts;
        while starts != 0 {
            let i = at + starts.trailing_zeros() as usize;
            starts &= starts - 1;
            if label_at(bytes, i) {
                return true;
            }
        }
        self.runs(c.chain, at, bytes, &mut marks.runs);
        if JSON {
            self.keys(&c, at, &mut marks.keys);
        }
        false
    }

    /// Finds where a run of 17 chain bytes or more may be (inside the block, or across its
    /// start), and walks each such run byte by byte to count its digits.
    #[inline(always)]
    fn runs(&mut self, chain: u64, at: usize, bytes: &[u8], runs: &mut Vec<(usize, usize)>) {
        let lead = chain.trailing_ones() as usize;
        if self.run_len > 0 && self.run_len + lead >= LONG_RUN {
            self.walk(at - 1, bytes, runs);
        }
        let mut inside = runs_of_17(chain);
        while inside != 0 {
            let i = at + inside.trailing_zeros() as usize;
            inside &= inside - 1;
            if i >= self.walked {
                self.walk(i, bytes, runs);
            }
        }
        self.run_len = if chain == u64::MAX {
            self.run_len + 64
        } else {
            chain.leading_ones() as usize
        };
    }

    /// The whole run of chain bytes around `i`, unless walked already; kept when it holds 17
    /// digits or more.
    #[cold]
    fn walk(&mut self, i: usize, bytes: &[u8], runs: &mut Vec<(usize, usize)>) {
        if i < self.walked {
            return;
        }
        let mut start = i;
        while start > 0 && CHAIN[usize::from(bytes[start - 1])] {
            start -= 1;
        }
        let mut end = i;
        while end < bytes.len() && CHAIN[usize::from(bytes[end])] {
            end += 1;
        }
        let digits = bytes[start..end]
            .iter()
            .filter(|b| b.is_ascii_digit())
            .count();
        if digits >= LONG_RUN {
            runs.push((start, end));
        }
        self.walked = end;
    }

    /// The keys of the block: the strings whose closing quote a `:` follows. Without a
    /// backslash, quotes pair up: a quote closes a string when the quotes up to it are even.
    #[inline(always)]
    fn keys(&mut self, c: &Classes, at: usize, keys: &mut Vec<(usize, usize)>) {
        if c.quote == 0 && self.closed.is_none() {
            return;
        }
        let inside = prefix_xor(c.quote) ^ self.in_string;
        self.in_string = 0u64.wrapping_sub(inside >> 63);
        let closing = c.quote & !inside;
        // The previous block's last byte closed a string: this block's first byte tells.
        if let Some(open) = self.closed.take()
            && c.colon & 1 != 0
        {
            keys.push((open + 1, at - 1));
        }
        let mut key_ends = closing & (c.colon >> 1);
        while key_ends != 0 {
            let k = key_ends.trailing_zeros();
            key_ends &= key_ends - 1;
            keys.push((self.quote_before(c.quote, k, at) + 1, at + k as usize));
        }
        if closing >> 63 != 0 {
            self.closed = Some(self.quote_before(c.quote, 63, at));
        }
        if c.quote != 0 {
            self.last_quote = at + 63 - c.quote.leading_zeros() as usize;
        }
    }

    /// Where the quote before bit `k` of this block is (the string's opening quote).
    #[inline(always)]
    fn quote_before(&self, quote: u64, k: u32, at: usize) -> usize {
        let below = quote & ((1u64 << k) - 1);
        if below == 0 {
            self.last_quote
        } else {
            at + 63 - below.leading_zeros() as usize
        }
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
mod reference;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Whether the matcher must look: busy, or a long run.
    fn busy(s: &str) -> bool {
        let mut marks = Marks::default();
        let seen = look::<true>(s.as_bytes(), &mut marks);
        seen.busy || !marks.runs.is_empty()
    }

    fn runs(s: &str) -> Vec<(usize, usize)> {
        let mut marks = Marks::default();
        assert!(!look::<true>(s.as_bytes(), &mut marks).busy);
        marks.runs
    }

    #[test]
    fn classes_per_byte() {
        let mut block: Block = [0; 65];
        block[..11].copy_from_slice(b"a0/9:X x\\id");
        block[63] = b'"';
        block[64] = b'a';
        let c = classify::<true>(&block);
        assert_eq!(c.chain, 0b1110_1110);
        assert_eq!(c.colon, 1 << 4);
        assert_eq!(c.quote, 1 << 63);
        assert_eq!(c.starts, 1 << 9);
        assert_eq!(c.rare, 1 << 8);
        let r = classify_rare(&block);
        assert_eq!((r.backslash, r.high, r.star), (1 << 8, 0, 0));
        block[..5].copy_from_slice(b"1e \t:");
        let r = classify_rare(&block);
        assert_eq!((r.exponent, r.spaced), (1, 1 << 3));
        assert_eq!(prefix_xor(0b1001_0010), 0b1000_1110 | (u64::MAX << 8));
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
        let mut r = Marks::default();
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

    /// Lines made of the bytes every class cares about, at every alignment: digits,
    /// separators, quotes, colons, white space, label pieces, stars, backslashes, `e`, and a
    /// non-ASCII character now and then.
    fn line() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            8 => "[0-9]{1,20}",
            3 => "[ \t\r\x0b\x0c._/+-]{1,3}",
            2 => Just("\"".to_owned()),
            2 => Just(":".to_owned()),
            2 => Just(",".to_owned()),
            2 => "[a-zA-Z]{1,6}",
            1 => prop::sample::select(vec![
                "passport", "PassPort", "id card", "idcard", "ID no", "idno", "id number",
                "uid", "paid", "ida", "pa", "id", "p", "i",
            ])
            .prop_map(str::to_owned),
            1 => Just("*".to_owned()),
            1 => Just("\\".to_owned()),
            1 => "[eE][+-]?[0-9]{1,2}",
            1 => Just("{\"k\":".to_owned()),
            1 => Just("\" : ".to_owned()),
            1 => Just("\"\n".to_owned()),
        ];
        (
            prop::collection::vec(piece, 0..40),
            any::<u8>(),
            0..300usize,
        )
            .prop_map(|(pieces, odd, where_)| {
                let mut line = pieces.concat().into_bytes();
                if odd >= 250 {
                    let at = where_.min(line.len());
                    line.splice(at..at, "身".bytes());
                }
                line
            })
    }

    /// What the pass the SIMD one replaced reports about `line`: its `Seen`, and the runs and
    /// keys when it is not busy.
    fn by_reference<const JSON: bool>(line: &[u8]) -> (bool, Vec<(usize, usize)>, bool, bool) {
        let mut runs = Vec::new();
        let seen = reference::look::<JSON>(line, &mut runs);
        (seen.busy, runs, seen.backslash, seen.exponent)
    }

    /// The comparison below means something only if the lines it draws reach every outcome:
    /// busy and not, with long runs, with keys, spaced, with escapes and exponents.
    #[test]
    fn the_generated_lines_reach_every_outcome() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let strategy = line();
        let (mut busy, mut runs, mut keys, mut spaced, mut escapes, mut exponents) =
            (0, 0, 0, 0, 0, 0);
        for _ in 0..2048 {
            let line = strategy
                .new_tree(&mut runner)
                .map(|t| t.current())
                .unwrap_or_default();
            let mut marks = Marks::default();
            let seen = look::<true>(&line, &mut marks);
            busy += usize::from(seen.busy);
            if !seen.busy {
                runs += usize::from(!marks.runs.is_empty());
                keys += usize::from(!marks.keys.is_empty());
                spaced += usize::from(seen.spaced);
                escapes += usize::from(seen.backslash);
                exponents += usize::from(seen.exponent);
            }
        }
        for (what, n) in [
            ("busy", busy),
            ("not busy", 2048 - busy),
            ("long runs", runs),
            ("keys", keys),
            ("spaced", spaced),
            ("escapes", escapes),
            ("exponents", exponents),
        ] {
            assert!(n >= 100, "{what}: {n} of 2048");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn the_simd_pass_sees_what_the_swar_pass_saw(line in line()) {
            for json in [false, true] {
                let mut marks = Marks::default();
                let seen = if json {
                    look::<true>(&line, &mut marks)
                } else {
                    look::<false>(&line, &mut marks)
                };
                let (busy, runs, backslash, exponent) = if json {
                    by_reference::<true>(&line)
                } else {
                    by_reference::<false>(&line)
                };
                prop_assert_eq!(seen.busy, busy);
                if busy {
                    continue;
                }
                prop_assert_eq!(&marks.runs, &runs);
                if json {
                    prop_assert_eq!((seen.backslash, seen.exponent), (backslash, exponent));
                    if !seen.backslash && !seen.spaced {
                        let mut expected = Vec::new();
                        keys(&line, |k| {
                            let start = k.as_ptr() as usize - line.as_ptr() as usize;
                            expected.push((start, start + k.len()));
                            true
                        });
                        prop_assert_eq!(&marks.keys, &expected);
                    }
                }
            }
        }
    }
}
