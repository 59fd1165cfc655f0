//! The number rules (check characters, dates, provinces) and the matcher that finds numbers in
//! one value's text.
//!
//! The matcher works on a normalised copy of the text, one byte per character: ASCII stays,
//! full-width forms (`１２３`, `Ｘ`, `（`) become ASCII, Unicode spaces and dashes become `' '` and
//! `'-'`, zero-width characters are dropped, the few CJK characters that make up labels
//! (身份证, 护照, …) become reserved bytes, and everything else becomes one placeholder byte.
//! Every pass over it is linear.

use super::fields::IdField;
use super::finding::{Confidence, FindingKind, PermitRegion};
use crate::model::FieldName;

/// One match in a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Hit {
    pub(super) kind: FindingKind,
    pub(super) confidence: Confidence,
    pub(super) field: FieldName,
    /// Where the match is in the value's text, in bytes (`start..end`): what `netid scan`
    /// reports and redacts. The whole value for a finding by field name.
    pub(super) span: (usize, usize),
}

impl Hit {
    fn number(kind: FindingKind, confidence: Confidence, span: (usize, usize)) -> Self {
        Self {
            kind,
            confidence,
            field: FieldName::IdNumber,
            span,
        }
    }
}

/// The plaintext field an identity-bearing field name stands for.
pub(super) fn field_name(field: IdField) -> FieldName {
    match field {
        IdField::Number => FieldName::IdNumber,
        IdField::PersonName => FieldName::Name,
        IdField::DocType => FieldName::IdType,
        IdField::BirthDate => FieldName::BirthDate,
    }
}

/// What surrounds a value.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ValueCtx {
    /// The value's own field is identity-bearing (or it is an element of an array under one).
    pub(super) direct: Option<IdField>,
    /// The nearest enclosing field that is identity-bearing (`idCard: {number: …}`).
    pub(super) inherited: Option<IdField>,
    /// The value, if not blank, is identity data as a whole, as this field: its own field is
    /// identity-bearing, or (for strings) an enclosing one is.
    pub(super) whole: Option<IdField>,
    /// The value's own field names a company identifier.
    pub(super) company: bool,
    /// The value's own field may name a document number (`docNo`): context for the 15-digit ID.
    pub(super) maybe_document: bool,
}

impl ValueCtx {
    /// Kinds the field context alone allows (label context is looked up per match).
    fn kinds(&self) -> u8 {
        match self.direct {
            Some(IdField::Number) => ALL,
            Some(_) => ID18,
            None if self.inherited.is_some() => ALL,
            None if self.maybe_document => LEGACY,
            None => 0,
        }
    }
}

// Kind masks for context: which kinds a field or label lets through.
const LEGACY: u8 = 1;
const HK_MACAU: u8 = 2;
const TAIWAN: u8 = 4;
const PASSPORT: u8 = 8;
const F2017: u8 = 16;
/// Decides an 18-character number that is also a valid unified social credit code.
const ID18: u8 = 32;
const ALL: u8 = 0xff;

/// Reusable buffers for one scan.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    norm: Vec<u8>,
    /// For each byte of `norm` (and one past its end), where its character starts in the text:
    /// maps match spans back to the text when it is not ASCII.
    pos: Vec<usize>,
    groups: Vec<(usize, usize)>,
    pub(super) hits: Vec<Hit>,
    /// Keep every match, not one per kind: a scan of stored data reports each number, a
    /// request check needs only to know that there is one.
    pub(super) every: bool,
}

impl Scratch {
    /// Buffers for a scan; `every`: keep every match (see the field).
    pub(super) fn new(every: bool) -> Self {
        Scratch {
            every,
            ..Scratch::default()
        }
    }
}

/// Whether a value with these counts (taken while reading it) can hold anything the matcher
/// would report without field context: every pattern has at least 7 digits; a masked number has
/// at least 2 digits and 3 `*`.
pub(super) fn worth_matching(digits: usize, stars: usize) -> bool {
    digits >= 7 || (digits >= 2 && stars >= 3)
}

/// Fills `scratch.hits` with what `text` holds, given its context. `today` is `YYYYMMDD`.
pub(super) fn match_value(scratch: &mut Scratch, text: &str, ctx: ValueCtx, today: u32) {
    let Scratch {
        norm,
        pos,
        groups,
        hits,
        every,
    } = scratch;
    hits.clear();
    let every = *every;
    let field_kinds = ctx.kinds();
    let bytes = text.as_bytes();
    if ctx.whole.is_none() && field_kinds == 0 && bytes.iter().all(u8::is_ascii_digit) {
        // A bare digit run without context (order ids, timestamps, phone numbers): only an
        // 18-digit number can be anything.
        if let Ok(d) = <&[u8; 18]>::try_from(bytes) {
            let m = Matcher {
                norm: bytes,
                pos: None,
                ctx,
                today,
                field_kinds,
                every,
            };
            m.id18(d, 0, 18, hits);
        }
        return;
    }
    let (norm, pos): (&[u8], Option<&[usize]>) = if text.is_ascii() {
        (text.as_bytes(), None)
    } else {
        normalise(text, norm, pos);
        (norm, Some(pos))
    };
    let m = Matcher {
        norm,
        pos,
        ctx,
        today,
        field_kinds,
        every,
    };
    m.numbers(groups, hits);
    if norm.contains(&b'*') {
        m.masked(hits);
    }
    if let Some(field) = ctx.whole
        && !hits.iter().any(|h| h.confidence.is_blocking())
    {
        let (kind, confidence) = if masked_shape(norm) {
            (FindingKind::MaskedId, Confidence::Report)
        } else if text.trim().is_empty() || text == super::REDACTED {
            // Blank, or already redacted by this detector: nothing personal in it.
            return;
        } else {
            (FindingKind::IdentityFieldName, Confidence::Contextual)
        };
        push(
            hits,
            Hit {
                kind,
                confidence,
                field: field_name(field),
                span: (0, text.len()),
            },
            every,
        );
    }
}

/// Adds `hit` unless an equal one is there: the same kind, confidence and field (and, with
/// `every`, the same span).
fn push(hits: &mut Vec<Hit>, hit: Hit, every: bool) {
    let same = |h: &Hit| {
        h.kind == hit.kind
            && h.confidence == hit.confidence
            && h.field == hit.field
            && (!every || h.span == hit.span)
    };
    if !hits.iter().any(same) {
        hits.push(hit);
    }
}

// Reserved bytes for the CJK characters labels are made of.
const PLACEHOLDER: u8 = 0x80;
const SHEN: u8 = 0x81; // 身
const FEN: u8 = 0x82; // 份
const ZHENG: u8 = 0x83; // 证 證
const JIAN: u8 = 0x84; // 件
const HU: u8 = 0x85; // 护 護
const ZHAO: u8 = 0x86; // 照
const TONG: u8 = 0x87; // 通
const XING: u8 = 0x88; // 行
const HUI: u8 = 0x89; // 回
const XIANG: u8 = 0x8a; // 乡 鄉
const BAO: u8 = 0x8b; // 胞
const JU: u8 = 0x8c; // 居
const LIU: u8 = 0x8d; // 留
const GONG: u8 = 0x8e; // 公
const MIN: u8 = 0x8f; // 民
const XING_NAME: u8 = 0x90; // 姓
const MING: u8 = 0x91; // 名
const ZHU: u8 = 0x92; // 住

fn normalise(text: &str, out: &mut Vec<u8>, pos: &mut Vec<usize>) {
    out.clear();
    out.reserve(text.len());
    pos.clear();
    pos.reserve(text.len() + 1);
    for (at, c) in text.char_indices() {
        let b = match c {
            '\0'..='\x7f' => c as u8,
            // Full-width ASCII variants: １ Ｘ （ ＊ －.
            '\u{ff01}'..='\u{ff5e}' => (c as u32 - 0xfee0) as u8,
            '\u{3000}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2002}'..='\u{200a}'
            | '\u{202f}'
            | '\u{205f}' => b' ',
            // Line and paragraph separators, next line: line breaks.
            '\u{85}' | '\u{2028}' | '\u{2029}' => b'\n',
            // Middle dots (张·三, 110105·19491231): dots.
            '\u{b7}' | '\u{2027}' | '\u{30fb}' | '\u{ff65}' => b'.',
            // Letters that look like the check character X: Cyrillic, Greek, Roman numeral ten.
            'Х' | 'х' | 'Χ' | 'χ' | 'Ⅹ' | 'ⅹ' => b'X',
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{fe63}' => b'-',
            '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}' => continue,
            '●' | '•' | '\u{d7}' => b'*',
            '身' => SHEN,
            '份' => FEN,
            '证' | '證' => ZHENG,
            '件' => JIAN,
            '护' | '護' => HU,
            '照' => ZHAO,
            '通' => TONG,
            '行' => XING,
            '回' => HUI,
            '乡' | '鄉' => XIANG,
            '胞' => BAO,
            '居' => JU,
            '留' => LIU,
            '公' => GONG,
            '民' => MIN,
            '姓' => XING_NAME,
            '名' => MING,
            '住' => ZHU,
            // The rest of the CJK ideographs, the bulk of Chinese text: no digit among them.
            '\u{3400}'..='\u{9fff}' => PLACEHOLDER,
            // Decimal digits of every other script (Unicode `Nd`: ٣, ३, ໓, 𝟑, …), and the
            // characters that stand for one digit (circled ①, ⓪, superscript ², …).
            _ => digit_like(c).map_or(PLACEHOLDER, |d| b'0' + d),
        };
        out.push(b);
        pos.push(at);
    }
    pos.push(text.len());
}

/// The zero of every block of ten Unicode decimal digits (general category `Nd`) outside ASCII,
/// from the Unicode 18.0 tables (the same ten digits follow each zero). Full-width digits are
/// among them.
const ND_ZEROS: &[u32] = &[
    0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6,
    0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50,
    0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10,
    0x104a0, 0x10d30, 0x10d40, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0,
    0x11650, 0x116c0, 0x116d0, 0x116da, 0x11730, 0x118e0, 0x11950, 0x11bf0, 0x11c50, 0x11d50,
    0x11da0, 0x11de0, 0x11f50, 0x16130, 0x16a60, 0x16ac0, 0x16b50, 0x16d70, 0x1ccf0, 0x1d7ce,
    0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e4f0, 0x1e5f1, 0x1e950, 0x1fbf0,
];

/// The value of a decimal digit of any script other than ASCII (Unicode `Nd`), or `None`.
pub(super) fn nd_digit(c: char) -> Option<u8> {
    let c = c as u32;
    if c < 0x660 {
        return None;
    }
    let i = ND_ZEROS.partition_point(|&z| z <= c).checked_sub(1)?;
    // Less than 10 after its block's zero: a digit of that block.
    u8::try_from(c - ND_ZEROS[i]).ok().filter(|&d| d < 10)
}

/// Characters outside `Nd` that stand for one decimal digit: Unicode's `Numeric_Type=Digit`
/// (superscripts, circled, parenthesised digits, …; most of them NFKC-fold to the digit), and the
/// two circled sans-serif zeros of U+1F10B. ² ³ ¹ (U+00B2, B3, B9) are handled apart. `(first,
/// value of first, how many)`, each run counting up from its first.
const DIGIT_LIKE: &[(u32, u8, u32)] = &[
    (0x1369, 1, 9),   // Ethiopic ፩..፱
    (0x19da, 1, 1),   // New Tai Lue ᧚
    (0x2070, 0, 1),   // ⁰
    (0x2074, 4, 6),   // ⁴..⁹
    (0x2080, 0, 10),  // ₀..₉
    (0x2460, 1, 9),   // ①..⑨
    (0x2474, 1, 9),   // ⑴..⑼
    (0x2488, 1, 9),   // ⒈..⒐
    (0x24ea, 0, 1),   // ⓪
    (0x24f5, 1, 9),   // ⓵..⓽ (double circled)
    (0x24ff, 0, 1),   // ⓿
    (0x2776, 1, 9),   // ❶..❾
    (0x2780, 1, 9),   // ➀..➈
    (0x278a, 1, 9),   // ➊..➒
    (0x10a40, 1, 4),  // Kharoshthi 𐩀..𐩃
    (0x10e60, 1, 9),  // Rumi 𐹠..𐹨
    (0x11052, 1, 9),  // Brahmi numbers 𑁒..𑁚
    (0x1f100, 0, 1),  // 🄀 (0.)
    (0x1f101, 0, 10), // 🄁..🄊 (0, .. 9,)
    (0x1f10b, 0, 1),  // 🄋 (circled sans-serif zero)
    (0x1f10c, 0, 1),  // 🄌
];

/// The value of a character that is a decimal digit: any `Nd` digit outside ASCII
/// ([`nd_digit`]), or one of [`DIGIT_LIKE`] (`①` is 1, `²` is 2, `⓪` is 0). `None` for ASCII.
pub(super) fn digit_like(c: char) -> Option<u8> {
    let n = c as u32;
    if n < 0xb2 {
        return None;
    }
    match n {
        0xb2 => return Some(2),
        0xb3 => return Some(3),
        0xb9 => return Some(1),
        _ => {}
    }
    if let Some(d) = nd_digit(c) {
        return Some(d);
    }
    if !matches!(n, 0x1369..=0x19da | 0x2070..=0x27bf | 0x10a40..=0x1f10c) {
        return None;
    }
    DIGIT_LIKE.iter().find_map(|&(first, value, count)| {
        let k = n.checked_sub(first).filter(|&k| k < count)?;
        u8::try_from((u32::from(value) + k) % 10).ok()
    })
}

/// Whether a non-ASCII lead byte can start a character that is a decimal digit
/// ([`digit_like`]): the `Nd` blocks of [`ND_ZEROS`] are in U+0660..U+07FF (lead bytes D9, DB,
/// DF), U+0800..U+1FFF (E0, E1), U+A000..U+AFFF (EA), U+FF10 (EF) and above U+FFFF (F0); the
/// superscripts ² ³ ¹ are C2, the circled, parenthesised, sub- and superscript digits of
/// U+2070..U+27BF are E2, the Ethiopic and New Tai Lue ones E1. Chinese text (E3..E9) never is. C2 and E2 also start common
/// punctuation (`·`, `“`, `…`): [`may_be_digit`] looks at the next byte.
pub(super) const fn may_start_digit(lead: u8) -> bool {
    matches!(
        lead,
        0xc2 | 0xd9 | 0xdb | 0xdf | 0xe0 | 0xe1 | 0xe2 | 0xea | 0xef | 0xf0
    )
}

/// Whether the character whose first two bytes are `lead` and `next` may be a digit
/// ([`digit_like`]), where the lead alone leaves it open: C2 only for ² ³ ¹, E2 only in
/// U+2070..U+20BF, U+2440..U+24FF and U+2740..U+27BF (so `“ ” — …`, E2 80, are not), EF only
/// for the full-width digits (EF BC 90..99 need a third byte). Other leads: `true`.
pub(super) const fn may_be_digit(lead: u8, next: u8) -> bool {
    match lead {
        0xc2 => matches!(next, 0xb2 | 0xb3 | 0xb9),
        0xe2 => matches!(next, 0x81 | 0x82 | 0x91 | 0x92 | 0x93 | 0x9d | 0x9e),
        0xef => next == 0xbc,
        _ => true,
    }
}

/// Whether a value is masked rather than plaintext: it has mask characters (`*`, `●`, `•`,
/// `×`) and at least a third of its non-space characters are masks (`张*`, `110101********1233`).
pub(super) fn looks_masked(text: &str) -> bool {
    let (mut stars, mut solid) = (0usize, 0usize);
    for c in text.chars() {
        match c {
            '*' | '＊' | '●' | '•' | '\u{d7}' => {
                stars += 1;
                solid += 1;
            }
            c if c.is_whitespace() => {}
            _ => solid += 1,
        }
    }
    stars > 0 && stars * 3 >= solid
}

/// Labels that give context to a number right after them, and the kinds each lets through.
const LABELS: &[(&[u8], u8)] = &[
    (&[SHEN, FEN, ZHENG], LEGACY | ID18),
    (&[GONG, MIN, SHEN, FEN], LEGACY | ID18),
    (&[ZHENG, JIAN], ALL),
    (&[HU, ZHAO], PASSPORT),
    (&[TONG, XING, ZHENG], HK_MACAU | TAIWAN),
    (&[HUI, XIANG, ZHENG], HK_MACAU),
    (&[BAO, ZHENG], TAIWAN),
    (&[JU, LIU], F2017 | ID18),
    // A person's name and, after it, a number: the 15-digit ID of a roster line
    // (`姓名：张伟 110105491231002`). Nothing else: an 8-digit number after a name is as
    // likely a phone extension or an order number as a Taiwan permit.
    (&[XING_NAME, MING], LEGACY | ID18),
    // 居住证: the residence permit of Hong Kong, Macau and Taiwan residents (an 18-character
    // number with a check character, area 810000/820000/830000), and the mainland residence
    // permit, which carries the holder's resident ID number. Only an 18-character number can
    // follow it: it decides one that is also a valid credit code.
    (&[JU, ZHU, ZHENG], ID18),
];

/// ASCII labels, matched case-insensitively at a word start. `stream::quiet` keeps a copy.
pub(super) const ASCII_LABELS: &[(&[u8], u8)] = &[
    (b"passport", PASSPORT),
    (b"id card", LEGACY | ID18),
    (b"idcard", LEGACY | ID18),
    (b"id no", LEGACY | ID18),
    (b"idno", LEGACY | ID18),
    (b"id number", LEGACY | ID18),
];

/// How many characters before a number a label may start.
const LABEL_WINDOW: usize = 20;

/// Plausible province prefixes: 11–65, 71, 81–83.
fn province_ok(a: u8, b: u8) -> bool {
    let v = (a - b'0') * 10 + (b - b'0');
    (11..=65).contains(&v) || v == 71 || (81..=83).contains(&v)
}

fn num(d: &[u8]) -> u32 {
    d.iter().fold(0, |n, &c| n * 10 + u32::from(c - b'0'))
}

/// `YYYYMMDD` is a real date from 1800-01-01 to `today`.
///
/// Not 1900: GB 11643's own example `440524188001010014` was born on 1880-01-01.
fn date_ok(d: &[u8], today: u32) -> bool {
    let (y, m, day) = (num(&d[0..4]), num(&d[4..6]), num(&d[6..8]));
    y >= 1800
        && (1..=12).contains(&m)
        && day >= 1
        && day <= days_in_month(y, m)
        && y * 10000 + m * 100 + day <= today
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        _ => 31,
    }
}

const MOD11_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The ISO 7064 MOD 11-2 check character of 17 ASCII digits.
pub(super) fn mod11_check(d17: &[u8]) -> u8 {
    let sum: u32 = d17
        .iter()
        .zip(MOD11_WEIGHTS)
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize]
}

const USCC_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Whether 18 characters are a unified social credit code with a valid GB 32100 check.
pub(super) fn uscc_ok(code: &[u8]) -> bool {
    if code.len() != 18 {
        return false;
    }
    let value = |c: u8| {
        let c = c.to_ascii_uppercase();
        USCC_CHARS.iter().position(|&x| x == c)
    };
    let mut sum = 0u32;
    for (&c, w) in code[..17].iter().zip(USCC_WEIGHTS) {
        match value(c) {
            Some(v) => sum += v as u32 * w,
            None => return false,
        }
    }
    let check = (31 - sum % 31) % 31;
    value(code[17]) == Some(check as usize)
}

/// Classifies an 18-character candidate (17 digits and a digit or `X`) by its form alone.
fn form18(d: &[u8; 18], today: u32) -> Option<FindingKind> {
    if d[17].to_ascii_uppercase() != mod11_check(&d[..17]) {
        return None;
    }
    let kind = match &d[..6] {
        b"810000" => FindingKind::ResidencePermit(PermitRegion::HongKong),
        b"820000" => FindingKind::ResidencePermit(PermitRegion::Macau),
        b"830000" => FindingKind::ResidencePermit(PermitRegion::Taiwan),
        _ if d[0] == b'9' && province_ok(d[1], d[2]) && &d[3..6] != b"000" => {
            FindingKind::ForeignPermanentResidence2023
        }
        _ if d[0] != b'9' && d[0] != b'8' && province_ok(d[0], d[1]) => FindingKind::ResidentId,
        _ => return None,
    };
    date_ok(&d[6..14], today).then_some(kind)
}

/// Whether a whole value looks masked: it has mask characters and at least a third of its
/// non-space characters are masks (`张*`, `110101********1233`).
fn masked_shape(norm: &[u8]) -> bool {
    let stars = norm.iter().filter(|&&b| b == b'*').count();
    let solid = norm.iter().filter(|&&b| b != b' ').count();
    stars > 0 && stars * 3 >= solid
}

struct Matcher<'n> {
    norm: &'n [u8],
    /// `Scratch::pos` when `norm` is not the text itself.
    pos: Option<&'n [usize]>,
    ctx: ValueCtx,
    today: u32,
    field_kinds: u8,
    every: bool,
}

impl Matcher<'_> {
    /// `norm[s..e]` as a span of the text.
    fn span(&self, s: usize, e: usize) -> (usize, usize) {
        match self.pos {
            Some(pos) => (pos[s], pos[e]),
            None => (s, e),
        }
    }

    fn push(
        &self,
        hits: &mut Vec<Hit>,
        kind: FindingKind,
        confidence: Confidence,
        s: usize,
        e: usize,
    ) {
        push(
            hits,
            Hit::number(kind, confidence, self.span(s, e)),
            self.every,
        );
    }

    fn digit(&self, i: usize) -> bool {
        self.norm.get(i).is_some_and(u8::is_ascii_digit)
    }

    fn alnum(&self, i: usize) -> bool {
        self.norm.get(i).is_some_and(u8::is_ascii_alphanumeric)
    }

    /// Kinds the context allows for a match starting at `start`: the field's, plus any label
    /// just before it.
    fn kinds_at(&self, start: usize) -> u8 {
        let mut kinds = self.field_kinds;
        if kinds == ALL {
            return kinds;
        }
        let window = &self.norm[start.saturating_sub(LABEL_WINDOW)..start];
        // Most numbers have no label before them: one pass over the window rules both kinds
        // of label out (CJK labels are reserved bytes; every ASCII label starts with p or i).
        let cjk = window.iter().any(|&b| (SHEN..=ZHU).contains(&b));
        let ascii = window.iter().any(|&b| matches!(b | 0x20, b'p' | b'i'));
        if !cjk && !ascii {
            return kinds;
        }
        for (label, k) in LABELS.iter().filter(|_| cjk) {
            if window.windows(label.len()).any(|w| w == *label) {
                kinds |= k;
            }
        }
        for (label, k) in ASCII_LABELS.iter().filter(|_| ascii) {
            let n = label.len();
            if window.len() < n {
                continue;
            }
            for i in 0..=window.len() - n {
                if window[i..i + n].eq_ignore_ascii_case(label)
                    && (i == 0 || !window[i - 1].is_ascii_alphabetic())
                {
                    kinds |= k;
                }
            }
        }
        kinds
    }

    /// Finds digit runs, chains runs split by separators (see [`separator`]), and matches the
    /// number patterns on them.
    fn numbers(&self, groups: &mut Vec<(usize, usize)>, hits: &mut Vec<Hit>) {
        let n = self.norm.len();
        let mut i = 0;
        while i < n {
            if !self.digit(i) {
                i += 1;
                continue;
            }
            groups.clear();
            let mut s = i;
            // The mark the chain is split by so far (`None`: spaces only).
            let mut chain_mark = None;
            // Where the next chain starts when this one ends at a separator of another mark:
            // at its last group, which may begin a number of its own (`0_ 110105-19491231-…`).
            let mut restart = None;
            loop {
                let mut e = s;
                while self.digit(e) {
                    e += 1;
                }
                groups.push((s, e));
                let Some((j, run_mark)) = self.separator(e) else {
                    break;
                };
                let fits = match (chain_mark, run_mark) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                if !fits {
                    if groups.len() > 1 {
                        restart = groups.last().map(|g| g.0);
                    }
                    break;
                }
                if !self.digit(j) {
                    break;
                }
                chain_mark = chain_mark.or(run_mark);
                s = j;
            }
            self.chain(groups, hits);
            i = restart.unwrap_or_else(|| groups.last().map_or(n, |g| g.1));
        }
    }

    /// The separator between two digit groups starting at `e`: where it ends and its mark. A
    /// separator is spaces (any number: `110105    19491231`) and at most three of one mark:
    /// `-`, `.`, `/`, `_`, `+`, a tab, or line breaks (`\r`, `\n`, vertical tab and form feed are
    /// one mark; Unicode spaces, line separators and middle dots were mapped to these). `None` when
    /// there is none at `e`, or it mixes marks.
    fn separator(&self, e: usize) -> Option<(usize, Option<u8>)> {
        let mut j = e;
        let mut run_mark = None;
        let mut marks = 0;
        while let Some(&b) = self.norm.get(j) {
            let m = match b {
                b' ' => {
                    j += 1;
                    continue;
                }
                // `+`: a form's space, written `%2B` by an encoder that kept it literal.
                b'-' | b'.' | b'/' | b'_' | b'+' | b'\t' => b,
                b'\n' | b'\r' | b'\x0b' | b'\x0c' => b'\n',
                _ => break,
            };
            if run_mark.is_some_and(|r| r != m) || marks == 3 {
                return None;
            }
            run_mark = Some(m);
            marks += 1;
            j += 1;
        }
        (j > e).then_some((j, run_mark))
    }

    fn chain(&self, groups: &[(usize, usize)], hits: &mut Vec<Hit>) {
        let mut long = false;
        let mut d = [0u8; 18];
        for a in 0..groups.len() {
            let mut total = 0;
            for &(s, e) in &groups[a..] {
                let len = e - s;
                if total + len > 18 {
                    break;
                }
                d[total..total + len].copy_from_slice(&self.norm[s..e]);
                total += len;
                let start = groups[a].0;
                match total {
                    18 => long |= self.id18(&d, start, e, hits),
                    17 if matches!(self.norm.get(e), Some(b'X' | b'x')) && !self.digit(e + 1) => {
                        d[17] = b'X';
                        long |= self.id18(&d, start, e + 1, hits);
                    }
                    15 => long |= self.legacy(&d[..15], start, e, hits),
                    _ => {}
                }
            }
        }
        if long {
            // The chain is a long number: its groups are not short numbers of their own.
            return;
        }
        for (idx, &(s, e)) in groups.iter().enumerate() {
            let prefix = if idx == 0 { self.prefix(s) } else { Some(s) };
            if let Some(p) = prefix {
                self.short(p, s, e, hits);
            }
        }
    }

    /// Whether `d` is an 18-character number (reported or, under a company field, deliberately
    /// not).
    fn id18(&self, d: &[u8; 18], start: usize, end: usize, hits: &mut Vec<Hit>) -> bool {
        let Some(kind) = form18(d, self.today) else {
            return false;
        };
        // A valid credit code too: an identity field or label decides, else a company field,
        // else it is only reported.
        let (kind, confidence) = if !uscc_ok(d) || self.kinds_at(start) & ID18 != 0 {
            (kind, Confidence::Checked)
        } else if self.ctx.company {
            return true;
        } else {
            (FindingKind::Ambiguous, Confidence::Report)
        };
        self.push(hits, kind, confidence, start, end);
        true
    }

    /// Whether `d` is a 15-digit legacy number in context.
    fn legacy(&self, d: &[u8], start: usize, end: usize, hits: &mut Vec<Hit>) -> bool {
        if d[0] == b'8' || d[0] == b'9' || !province_ok(d[0], d[1]) {
            return false;
        }
        let mut date = [b'1', b'9', 0, 0, 0, 0, 0, 0];
        date[2..].copy_from_slice(&d[6..12]);
        let found = date_ok(&date, self.today) && self.kinds_at(start) & LEGACY != 0;
        if found {
            self.push(
                hits,
                FindingKind::LegacyResidentId,
                Confidence::Contextual,
                start,
                end,
            );
        }
        found
    }

    /// Where the letters just before the digit run at `s` start (`s` itself when there are
    /// none), or `None` when they are not a separate word of at most three letters.
    fn prefix(&self, s: usize) -> Option<usize> {
        let mut p = s;
        while p > 0 && self.norm[p - 1].is_ascii_alphabetic() {
            if s - p == 3 {
                return None;
            }
            p -= 1;
        }
        if p > 0 && self.alnum(p - 1) {
            return None;
        }
        Some(p)
    }

    /// The patterns without a check character: travel permits, passports, the 2017 foreigner
    /// card. `p..s` are the prefix letters, `s..e` the digits.
    fn short(&self, p: usize, s: usize, e: usize, hits: &mut Vec<Hit>) {
        let letters = &self.norm[p..s];
        let digits = e - s;
        let after_ok = !self.alnum(e);
        let mut up = [0u8; 3];
        for (u, &l) in up.iter_mut().zip(letters) {
            *u = l.to_ascii_uppercase();
        }
        let up = &up[..letters.len()];
        let mut end = e;
        let (kind, mask) = match (up, digits) {
            (b"", 8) if after_ok => (FindingKind::TaiwanTravelPermit, TAIWAN),
            (b"", 10) if self.bracketed_letter(e) => {
                end = e + 3;
                (FindingKind::TaiwanTravelPermit, TAIWAN)
            }
            (b"H" | b"M", 8 | 10) if after_ok => (FindingKind::HkMacauTravelPermit, HK_MACAU),
            (b"HA" | b"MA", 7) if after_ok => (FindingKind::HkMacauTravelPermit, HK_MACAU),
            (b"E" | b"G", 8) if after_ok => (FindingKind::ChinesePassport, PASSPORT),
            (b"PE" | b"SE" | b"DE", 7) if after_ok => (FindingKind::ChinesePassport, PASSPORT),
            ([b'E', l], 7) if after_ok && !matches!(l, b'I' | b'O') => {
                (FindingKind::ChinesePassport, PASSPORT)
            }
            ([_, _, _], 12) if after_ok => (FindingKind::ForeignPermanentResidence2017, F2017),
            _ => return,
        };
        if self.kinds_at(p) & mask != 0 {
            self.push(hits, kind, Confidence::Contextual, p, end);
        }
    }

    /// `(D)` right after position `e`.
    fn bracketed_letter(&self, e: usize) -> bool {
        matches!(self.norm.get(e..e + 3), Some([b'(', l, b')']) if l.is_ascii_alphabetic())
    }

    /// Masked numbers in free text: 15 or 18 characters of digits and `*` (and a final `X`),
    /// starting with a digit, with at least 3 `*` and 2 digits, not inside a longer run.
    fn masked(&self, hits: &mut Vec<Hit>) {
        let norm = self.norm;
        let n = norm.len();
        let in_run = |b: u8| b.is_ascii_digit() || b == b'*';
        let mut i = 0;
        while i < n {
            if !in_run(norm[i]) {
                i += 1;
                continue;
            }
            let s = i;
            while i < n && in_run(norm[i]) {
                i += 1;
            }
            let mut e = i;
            if matches!(norm.get(e), Some(b'X' | b'x')) {
                e += 1;
                i = e;
            }
            let run = &norm[s..e];
            if !matches!(run.len(), 15 | 18) {
                continue;
            }
            let stars = run.iter().filter(|&&b| b == b'*').count();
            let digits = run.iter().filter(|b| b.is_ascii_digit()).count();
            let starts_ok = run[0].is_ascii_digit()
                && (!run[1].is_ascii_digit()
                    || province_ok(run[0], run[1])
                    || (run[0] == b'9' && run.get(2).is_some_and(u8::is_ascii_digit)));
            if stars >= 3
                && digits >= 2
                && starts_ok
                && (s == 0 || !norm[s - 1].is_ascii_alphanumeric())
                && !self.alnum(e)
            {
                self.push(hits, FindingKind::MaskedId, Confidence::Report, s, e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: u32 = 2026_01_01;

    fn hits(text: &str, ctx: ValueCtx) -> Vec<Hit> {
        let mut s = Scratch::default();
        match_value(&mut s, text, ctx, TODAY);
        s.hits
    }

    #[test]
    fn check_characters() {
        assert_eq!(mod11_check(b"11010519491231002"), b'X');
        assert_eq!(mod11_check(b"44052418800101001"), b'4');
    }

    #[test]
    fn uscc_check() {
        // The code on a well-known sample licence; its check is computed, not trusted.
        let ok = uscc_ok(b"91350100M000100Y43");
        let mut bad = *b"91350100M000100Y43";
        bad[17] = if bad[17] == b'3' { b'4' } else { b'3' };
        assert!(ok, "sample USCC check");
        assert!(!uscc_ok(&bad));
        assert!(!uscc_ok(b"91350100I000100Y43"), "I is not in the charset");
    }

    #[test]
    fn dates() {
        assert!(date_ok(b"19491231", TODAY));
        assert!(date_ok(b"20000229", TODAY));
        assert!(!date_ok(b"19000229", TODAY));
        assert!(date_ok(b"18800101", TODAY));
        assert!(!date_ok(b"17991231", TODAY));
        assert!(!date_ok(b"20260102", TODAY));
        assert!(!date_ok(b"19491232", TODAY));
    }

    #[test]
    fn free_text_and_boundaries() {
        let neutral = ValueCtx::default();
        let h = hits("身份证号11010519491231002X，谢谢", neutral);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].kind, FindingKind::ResidentId);
        assert!(hits("911010519491231002X", neutral).is_empty());
        assert!(hits("11010519491231002X1", neutral).is_empty());
        assert_eq!(hits("a 110105 1949 1231 002x b", neutral).len(), 1);
        assert_eq!(
            hits("１１０１０５１９４９１２３１００２Ｘ", neutral).len(),
            1
        );
    }

    #[test]
    fn decimal_digits_of_every_script() {
        assert_eq!(nd_digit('٣'), Some(3));
        assert_eq!(nd_digit('९'), Some(9));
        assert_eq!(nd_digit('０'), Some(0));
        assert_eq!(nd_digit('𝟕'), Some(7));
        for c in ['3', 'a', '一', '①', '²', 'Ⅷ', '〇', '٫'] {
            assert_eq!(nd_digit(c), None, "{c}");
        }
        let mut last = 0;
        for &zero in ND_ZEROS {
            assert!(zero >= last + 10, "sorted, blocks of ten: {zero:x}");
            last = zero;
            for d in 0..10 {
                let c = char::from_u32(zero + d).unwrap_or('a');
                assert!(c.is_numeric(), "{zero:x}+{d}");
                assert_eq!(nd_digit(c), u8::try_from(d).ok());
                let mut utf8 = [0; 4];
                let lead = c.encode_utf8(&mut utf8).as_bytes()[0];
                assert!(may_start_digit(lead), "{c}: lead byte {lead:x}");
            }
        }
        // Chinese text never starts a digit.
        for c in ['中', '。', '「', '身'] {
            let mut utf8 = [0; 4];
            assert!(!may_start_digit(c.encode_utf8(&mut utf8).as_bytes()[0]));
        }
    }

    #[test]
    fn characters_that_stand_for_a_digit() {
        // Every character outside `Nd` with a digit value, as Python's `unicodedata.digit`
        // (UCD 14.0, Numeric_Type=Digit) gives it: runs of (first, value of first, length).
        let ucd: &[(u32, u32, u32)] = &[
            (0xb2, 2, 2),
            (0xb9, 1, 1),
            (0x1369, 1, 9),
            (0x19da, 1, 1),
            (0x2070, 0, 1),
            (0x2074, 4, 6),
            (0x2080, 0, 10),
            (0x2460, 1, 9),
            (0x2474, 1, 9),
            (0x2488, 1, 9),
            (0x24ea, 0, 1),
            (0x24f5, 1, 9),
            (0x24ff, 0, 1),
            (0x2776, 1, 9),
            (0x2780, 1, 9),
            (0x278a, 1, 9),
            (0x10a40, 1, 4),
            (0x10e60, 1, 9),
            (0x11052, 1, 9),
            (0x1f100, 0, 1),
            (0x1f101, 0, 10),
        ];
        let mut listed = std::collections::HashSet::new();
        for &(first, value, len) in ucd {
            for k in 0..len {
                let c = char::from_u32(first + k).unwrap_or('a');
                listed.insert(c);
                assert_eq!(
                    digit_like(c),
                    u8::try_from(value + k).ok(),
                    "{c} U+{:x}",
                    first + k
                );
                let mut utf8 = [0; 4];
                let bytes = c.encode_utf8(&mut utf8).as_bytes();
                assert!(may_start_digit(bytes[0]), "{c}: lead {:x}", bytes[0]);
                assert!(may_be_digit(bytes[0], bytes[1]), "{c}: next {:x}", bytes[1]);
            }
        }
        // The Nd digits too; nothing else in the planes that hold any of them.
        assert_eq!(digit_like('٣'), Some(3));
        assert_eq!(digit_like('３'), Some(3));
        for c in [
            '3', 'a', '一', '〇', '⑩', 'Ⅷ', '½', '“', '…', '·', '，', '中',
        ] {
            assert_eq!(digit_like(c), None, "{c}");
        }
        for n in (0x80..0x3000).chain(0x10000..0x1f200) {
            if let Some(c) = char::from_u32(n)
                && !listed.contains(&c)
                && nd_digit(c).is_none()
                && !(0x1f10b..=0x1f10c).contains(&n)
            {
                assert_eq!(digit_like(c), None, "U+{n:x}");
            }
        }
        // Punctuation common in Chinese text is ruled out by its second byte (full-width `，`
        // `！`, EF BC like the full-width digits, by its third: the JSON scanner looks at it).
        for c in ['“', '”', '—', '…', '·', '。', '、', '《'] {
            let mut utf8 = [0; 4];
            let b = c.encode_utf8(&mut utf8).as_bytes();
            assert!(!may_start_digit(b[0]) || !may_be_digit(b[0], b[1]), "{c}");
        }
        let neutral = ValueCtx::default();
        for text in [
            "①①⓪①⓪⑤①⑨④⑨①②③①⓪⓪②X",
            "¹¹⁰¹⁰⁵¹⁹⁴⁹¹²³¹⁰⁰²X",
            "❶❶⓿❶⓿❺❶❾❹❾❶❷❸❶⓿⓿❷X",
        ] {
            assert_eq!(hits(text, neutral).len(), 1, "{text}");
        }
    }

    #[test]
    fn a_name_label_gives_context_to_a_15_digit_id() {
        let neutral = ValueCtx::default();
        let h = hits("姓名：张伟 110105491231002", neutral);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].kind, FindingKind::LegacyResidentId);
        // Not to the shapes a name is as often followed by.
        assert!(hits("姓名：张伟 87654321", neutral).is_empty());
        assert!(hits("姓名：张伟 E12345678", neutral).is_empty());
        assert!(hits("名称：张伟 110105491231002", neutral).is_empty());
    }

    #[test]
    fn a_maybe_document_field_gives_context_to_the_15_digit_id_only() {
        let doc = ValueCtx {
            maybe_document: true,
            ..ValueCtx::default()
        };
        assert_eq!(
            hits("110105491231002", doc)[0].kind,
            FindingKind::LegacyResidentId
        );
        for voucher in [
            "SO-20240517-0001",
            "20240517",
            "E20240517",
            "INV202405170001",
            "202405170001234",
        ] {
            assert!(hits(voucher, doc).is_empty(), "{voucher}");
        }
    }

    #[test]
    fn separators_keep_to_one_mark() {
        let neutral = ValueCtx::default();
        for text in [
            "110105.19491231.002X",
            "110105_1949_1231_002X",
            "110105\t19491231\t002X",
            "110105\r\n19491231\r\n002X",
            "110105          19491231 002X",
            "110105 - 19491231-002X",
            "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",
        ] {
            assert_eq!(hits(text, neutral).len(), 1, "{text:?}");
        }
        for text in [
            "110105.19491231/002X",
            "110105-19491231.002X",
            "110105....19491231002X",
            "110105\n\n\n\n19491231002X",
        ] {
            assert!(hits(text, neutral).is_empty(), "{text:?}");
        }
    }

    #[test]
    fn masked_values() {
        assert!(looks_masked("张*"));
        assert!(looks_masked("110101********1233"));
        assert!(looks_masked("李●●"));
        assert!(!looks_masked("张三"));
        assert!(!looks_masked(
            "rating ***** for a very long review text here"
        ));
        assert!(!looks_masked(""));
    }

    #[test]
    fn labels_give_context() {
        let neutral = ValueCtx::default();
        assert!(hits("E12345678", neutral).is_empty());
        assert_eq!(
            hits("护照号：E12345678", neutral)[0].kind,
            FindingKind::ChinesePassport
        );
        assert_eq!(
            hits("Passport No. EA1234567", neutral)[0].kind,
            FindingKind::ChinesePassport
        );
        assert!(hits("valid no 110105491231002", neutral).is_empty());
        assert_eq!(
            hits("身份证 110105491231002", neutral)[0].kind,
            FindingKind::LegacyResidentId
        );
        assert_eq!(
            hits("台胞证 0561682001(D)", neutral)[0].kind,
            FindingKind::TaiwanTravelPermit
        );
    }

    #[test]
    fn a_residence_permit_label_decides_a_credit_code_look_alike() {
        // Both checks pass on these (computed with an independent script, and here): alone
        // they are ambiguous, after 居住证 (a residence permit) they are identity numbers.
        for (number, kind) in [
            (
                "810000199801234563",
                FindingKind::ResidencePermit(PermitRegion::HongKong),
            ),
            ("110105199307188524", FindingKind::ResidentId),
        ] {
            assert!(uscc_ok(number.as_bytes()), "{number}");
            assert_eq!(mod11_check(&number.as_bytes()[..17]), number.as_bytes()[17]);
            let alone = hits(number, ValueCtx::default());
            assert_eq!(alone.len(), 1);
            assert_eq!(alone[0].kind, FindingKind::Ambiguous);
            let labelled = hits(&format!("港澳居民居住证：{number}"), ValueCtx::default());
            assert_eq!(labelled.len(), 1);
            assert_eq!(
                (labelled[0].kind, labelled[0].confidence),
                (kind, Confidence::Checked)
            );
        }
    }
}
