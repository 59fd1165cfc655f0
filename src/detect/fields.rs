//! Field names: which ones bear identity data, and how a name is shown in a finding's location.
//!
//! A key is read as words, the way people write compound names: it is cut into segments at `.`,
//! `[` and `]` (`user.realName`, `user[realName]`, `realName[]`, `realName[0]`; segments that are
//! only digits are array indexes), and each segment into words at `_`, `-`, spaces and other
//! punctuation, at a lower-case letter followed by a capital (`realName`), at the last capital
//! of a run followed by a lower-case letter (`IDCard`), between letters and digits, and around
//! runs of Chinese characters. Full-width letters count as ASCII and zero-width characters are
//! dropped. A word written all in lower case that is a term glued to a tail or to a person word
//! (`idcardno`, `userrealname`), or that ends in a Pinyin term (`khsfzh`), is cut there too.
//!
//! The vocabulary ([`super::vocab`]) is then looked for on word boundaries: a term must start
//! at a word and end at a word, and the words after it must be tails of its class (see
//! [`super::vocab`]). The key's class is the best match of its last segment, or, if that is not
//! identity-bearing, the nearest identity-bearing segment before it (`idCard[front]` is under
//! `idCard` as `{"idCard":{"front":…}}` is); a key with dots or brackets is also read whole, as
//! one name (`id.card.no`), and the better of the two readings counts.

use std::fmt::Write as _;

use super::vocab::{self, Term};

/// What an identity-bearing field holds. Decides which patterns its value is matched against;
/// any non-empty value under any of them is a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IdField {
    /// A document number (`idNo`, `zjhm`, `passportNo`, and every name added by the caller).
    Number,
    /// A person's name (`realName`, `xm`).
    PersonName,
    /// A document type (`certType`, `zjlx`).
    DocType,
    /// A birth date (`csrq`, `birthday`).
    BirthDate,
}

/// What a field name says about its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum FieldClass {
    /// Nothing.
    #[default]
    Neutral,
    /// `name`: identity data only beside an identity field.
    Name,
    /// A number that may be a document's or anything else's (`docNo`: a travel document's in
    /// airline passenger records, a voucher's in ERP systems): it gives context to the numbers
    /// that need it and pass their own checks (the 15-digit ID with its province and date), but
    /// a value under it is not identity data by the name alone.
    MaybeDocument,
    /// A company identifier (`creditCode`, `uscc`): an 18-character code under it that passes both
    /// checks is a unified social credit code.
    Company,
    /// Identity-bearing.
    Identity(IdField),
}

impl FieldClass {
    /// Which of two matches in one key wins: identity over company over `name`.
    fn rank(self) -> u8 {
        match self {
            FieldClass::Neutral => 0,
            FieldClass::Name => 1,
            FieldClass::MaybeDocument => 2,
            FieldClass::Company => 3,
            FieldClass::Identity(_) => 4,
        }
    }
}

/// Longest term, in bytes; longer names given to the detector are not kept.
const MAX_TERM: usize = 63;
/// How much of a segment is read: its last `MAX_SEGMENT` bytes (its head is at the end).
const MAX_SEGMENT: usize = 96;
/// Most words a term may span (`unified social credit code`).
const MAX_TERM_WORDS: usize = 6;
/// Most words after a term that are still read as its tail.
const MAX_TAIL_WORDS: usize = 6;

/// The field names one [`Detector`](super::Detector) knows: its vocabulary (identity-bearing
/// terms, `name` terms, company terms), sorted, and the keys it was told to ignore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FieldNames {
    /// Terms with an ASCII byte, matched on word boundaries.
    table: Vec<(Box<[u8]>, Term)>,
    /// Terms written in Chinese (no ASCII byte), found inside a run of Chinese characters.
    cjk: Vec<(Box<[u8]>, Term)>,
    /// Bit `len` of `by_first[b]` is set when some term of length `len` starts with byte `b`;
    /// `by_last` likewise for the last byte. Most candidate spans miss one of them and skip the
    /// search.
    by_first: Box<[u64; 256]>,
    by_last: Box<[u64; 256]>,
    /// Segments (their words run together) that are never identity-bearing, sorted.
    ignored: Vec<Box<[u8]>>,
}

impl FieldNames {
    pub(super) fn built_in() -> Self {
        let mut me = Self::empty();
        for (term, what) in vocab::built_in() {
            me.insert(term, what);
        }
        me
    }

    /// No identity-bearing names; the `name` and company-code terms only.
    pub(super) fn empty() -> Self {
        let mut me = Self {
            table: Vec::new(),
            cjk: Vec::new(),
            by_first: Box::new([0; 256]),
            by_last: Box::new([0; 256]),
            ignored: Vec::new(),
        };
        for (term, what) in vocab::context_terms() {
            me.insert(term, what);
        }
        me
    }

    fn insert(&mut self, name: &str, what: Term) {
        let words = Words::read(name);
        let mut buf = [0u8; MAX_SEGMENT];
        let n = words.compact(&mut buf);
        let term = &buf[..n];
        let (Some(&first), Some(&last)) = (term.first(), term.last()) else {
            return;
        };
        if term.len() > MAX_TERM {
            return;
        }
        let list = if term.iter().all(|&b| b >= 0x80) {
            &mut self.cjk
        } else {
            self.by_first[usize::from(first)] |= 1 << term.len();
            self.by_last[usize::from(last)] |= 1 << term.len();
            &mut self.table
        };
        match list.binary_search_by(|(m, _)| (**m).cmp(term)) {
            // An identity term replaces a `name` or company term; otherwise the first one stays.
            Ok(i) => {
                if matches!(what, Term::Identity(_)) && !matches!(list[i].1, Term::Identity(_)) {
                    list[i].1 = what;
                }
            }
            Err(i) => list.insert(i, (term.into(), what)),
        }
    }

    /// Adds identity-bearing names (any spelling: `id_card`, `ID-CARD` and `idCard` are one
    /// name). A name already present as identity-bearing keeps its class.
    pub(super) fn extend<'a>(&mut self, names: impl IntoIterator<Item = (&'a str, IdField)>) {
        for (name, field) in names {
            self.insert(name, Term::Identity(field));
        }
    }

    /// Keys that are never identity-bearing by their own name (any spelling), whatever terms
    /// they contain. Their values are still matched against every pattern.
    pub(super) fn ignore<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        for name in names {
            let mut buf = [0u8; MAX_SEGMENT];
            let n = Words::read(name).compact(&mut buf);
            if n == 0 {
                continue;
            }
            if let Err(i) = self.ignored.binary_search_by(|m| (**m).cmp(&buf[..n])) {
                self.ignored.insert(i, buf[..n].into());
            }
        }
    }

    /// Whether a key is one of the names the detector knows (identity-bearing, `name`, company
    /// code), so that it may be shown in a location even with Chinese characters in it. Every
    /// run of Chinese characters in it must then be a Chinese term and its tails, with nothing
    /// before the term: `身份证号码` is shown, `张三身份证号` is not (a map keyed by people's names
    /// must not put the names in a log).
    pub(super) fn known(&self, key: &str) -> bool {
        self.classify(key) != FieldClass::Neutral
            && key
                .split(|c: char| c.is_ascii() || !c.is_alphanumeric())
                .filter(|run| !run.is_empty())
                .all(|run| self.plain_chinese(run.as_bytes()))
    }

    /// A run of Chinese characters that is a Chinese term followed by tails, or tails only.
    fn plain_chinese(&self, run: &[u8]) -> bool {
        let tails_only = |mut rest: &[u8]| {
            while !rest.is_empty() {
                match chinese_tail(rest) {
                    Some(n) => rest = &rest[n..],
                    None => return false,
                }
            }
            true
        };
        tails_only(run)
            || self
                .cjk
                .iter()
                .any(|(term, _)| run.strip_prefix(&**term).is_some_and(tails_only))
    }

    /// Classifies a key: its last segment, or the nearest identity-bearing segment before it.
    pub(super) fn classify(&self, key: &str) -> FieldClass {
        let mut last = FieldClass::Neutral;
        let mut last_ignored = false;
        let mut enclosing = None;
        for segment in key.split(['.', '[', ']']) {
            if segment.is_empty() || segment.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            if let FieldClass::Identity(f) = last {
                enclosing = Some(f);
            }
            (last, last_ignored) = match self.classify_segment(segment) {
                Some(class) => (class, false),
                None => (FieldClass::Neutral, true),
            };
        }
        let by_path = match (last, enclosing) {
            (FieldClass::Identity(_), _) | (_, None) => last,
            (_, Some(f)) => FieldClass::Identity(f),
        };
        if !last_ignored && key.contains(['.', '[', ']']) {
            // Dots may also be how words are written (`id.card.no`): the whole key as one name.
            better(by_path, self.classify_segment(key).unwrap_or_default())
        } else {
            by_path
        }
    }

    /// The class of one segment; `None` when it is an ignored name.
    fn classify_segment(&self, segment: &str) -> Option<FieldClass> {
        let words = Words::read(segment);
        if words.count == 0 {
            return Some(FieldClass::Neutral);
        }
        if !self.ignored.is_empty() {
            let mut buf = [0u8; MAX_SEGMENT];
            let n = words.compact(&mut buf);
            if self
                .ignored
                .binary_search_by(|m| (**m).cmp(&buf[..n]))
                .is_ok()
            {
                return None;
            }
        }
        let words = self.unglue(&words);
        let mut best = FieldClass::Neutral;
        for i in 0..words.count {
            let word = words.word(i);
            if word[0] >= 0x80 {
                best = better(best, self.chinese_terms(&words, i));
                continue;
            }
            let start = words.start(i);
            for j in i + 1..=words.count.min(i + MAX_TERM_WORDS) {
                let span = &words.buf[start..words.end(j - 1)];
                if span.len() > MAX_TERM {
                    break;
                }
                if let Some(term) = self.lookup(span) {
                    let class = decide(&words, term, span, i, j, &[]);
                    best = better(best, class);
                }
            }
        }
        Some(best)
    }

    /// Chinese terms inside word `i` (a run of Chinese characters).
    fn chinese_terms(&self, words: &Words, i: usize) -> FieldClass {
        let word = words.word(i);
        let mut best = FieldClass::Neutral;
        for (term, what) in &self.cjk {
            let mut from = 0;
            while let Some(at) = find(&word[from..], term) {
                let end = from + at + term.len();
                let class = decide(words, *what, term, i, i + 1, &word[end..]);
                best = better(best, class);
                from += at + 1;
                // Char boundaries: a match starts on one, `from` may not; `find` compares bytes,
                // and a term cannot start in the middle of a character it does not contain.
            }
        }
        best
    }

    /// The term spelled exactly `span`, if any.
    fn lookup(&self, span: &[u8]) -> Option<Term> {
        let (&first, &last) = (span.first()?, span.last()?);
        let bit = 1u64.checked_shl(u32::try_from(span.len()).ok()?)?;
        if self.by_first[usize::from(first)] & bit == 0
            || self.by_last[usize::from(last)] & bit == 0
        {
            return None;
        }
        self.table
            .binary_search_by(|(m, _)| (**m).cmp(span))
            .ok()
            .map(|i| self.table[i].1)
    }

    /// Cuts lower-case words that are a term glued to a tail (`idcardno`) or to a person word
    /// (`userrealname`), or that end in a Pinyin term (`khsfzh`), into their parts.
    fn unglue(&self, words: &Words) -> Words {
        let mut out = Words::default();
        for i in 0..words.count {
            let word = words.word(i);
            match self.glue_cuts(word) {
                Some(cuts) => {
                    let mut at = 0;
                    for cut in cuts.into_iter().chain([word.len()]) {
                        if cut > at {
                            out.push(&word[at..cut]);
                            at = cut;
                        }
                    }
                }
                None => out.push(word),
            }
        }
        out
    }

    /// Where to cut a glued word: before and after its term.
    fn glue_cuts(&self, word: &[u8]) -> Option<[usize; 2]> {
        if word.len() < 4 || !word[0].is_ascii_lowercase() || self.lookup(word).is_some() {
            return None;
        }
        if let Some(k) = self.term_then_tail(word) {
            return Some([0, k]);
        }
        for prefix in vocab::GLUE_PREFIX {
            let Some(rest) = word.strip_prefix(prefix.as_bytes()) else {
                continue;
            };
            if rest.len() < 2 {
                continue;
            }
            if self.lookup(rest).is_some() {
                return Some([prefix.len(), word.len()]);
            }
            if let Some(k) = self.term_then_tail(rest) {
                return Some([prefix.len(), prefix.len() + k]);
            }
        }
        vocab::PINYIN_SUFFIX
            .iter()
            .find(|p| word.len() > p.len() && word.ends_with(p.as_bytes()))
            .map(|p| [word.len() - p.len(), word.len()])
    }

    /// The length of a term that starts `word` and is followed by one tail word.
    fn term_then_tail(&self, word: &[u8]) -> Option<usize> {
        (2..word.len())
            .rev()
            .find(|&k| self.lookup(&word[..k]).is_some() && any_tail(&word[k..]))
    }
}

/// The better of two classes for one key: the higher rank; of equal rank, the later match (the
/// head of the name).
fn better(a: FieldClass, b: FieldClass) -> FieldClass {
    if b.rank() >= a.rank() && b.rank() > 0 {
        b
    } else {
        a
    }
}

/// What a match of `term` (spelled `text`) over words `i..j` makes of the key. `rest`: what
/// follows the term inside its own (Chinese) word.
fn decide(words: &Words, term: Term, text: &[u8], i: usize, j: usize, rest: &[u8]) -> FieldClass {
    let before = i.checked_sub(1).map(|b| words.word(b));
    if i > 0 && is_in(words.word(0), vocab::FLAG_PREFIX) {
        return FieldClass::Neutral;
    }
    // The words after the term: the rest of its own word (Chinese: cut into tails), then the
    // following words.
    let mut after: [&[u8]; MAX_TAIL_WORDS] = [&[]; MAX_TAIL_WORDS];
    let mut n = 0;
    let mut rest = rest;
    while !rest.is_empty() {
        let Some(tail) = chinese_tail(rest) else {
            return FieldClass::Neutral;
        };
        if n == MAX_TAIL_WORDS {
            return FieldClass::Neutral;
        }
        after[n] = &rest[..tail];
        n += 1;
        rest = &rest[tail..];
    }
    for k in j..words.count {
        if n == MAX_TAIL_WORDS {
            return FieldClass::Neutral;
        }
        after[n] = words.word(k);
        n += 1;
    }
    let after = &after[..n];
    let tails = |list: &[&str], words: &[&[u8]]| words.iter().all(|w| is_tail(w, list));
    let person = || !before.is_some_and(|b| is_in(b, vocab::NOT_A_PERSON));
    match term {
        Term::Identity(IdField::Number) => {
            if tails(vocab::NUMBER_TAIL, after) {
                return FieldClass::Identity(IdField::Number);
            }
            let (first, more) = (after[0], &after[1..]);
            if is_in(first, vocab::TYPE_WORDS) && tails(vocab::VALUE_TAIL, more) {
                FieldClass::Identity(IdField::DocType)
            } else if (first == b"name" || first == "姓名".as_bytes())
                && tails(vocab::NAME_TAIL, more)
            {
                FieldClass::Identity(IdField::PersonName)
            } else {
                FieldClass::Neutral
            }
        }
        Term::Identity(IdField::PersonName) if person() && tails(vocab::NAME_TAIL, after) => {
            FieldClass::Identity(IdField::PersonName)
        }
        Term::Identity(IdField::BirthDate) if tails(vocab::DATE_TAIL, after) => {
            FieldClass::Identity(IdField::BirthDate)
        }
        Term::Identity(IdField::DocType) if tails(vocab::VALUE_TAIL, after) => {
            FieldClass::Identity(IdField::DocType)
        }
        Term::Name if tails(vocab::NAME_TAIL, after) => {
            let ok = if text == b"name" {
                before.is_none_or(|b| is_in(b, vocab::PERSON))
            } else {
                person()
            };
            if ok {
                FieldClass::Name
            } else {
                FieldClass::Neutral
            }
        }
        Term::Company if tails(vocab::NUMBER_TAIL, after) => FieldClass::Company,
        // `docNo`, `doc_no2`: nothing may follow but digits (`docNoPrefix` is about the number).
        Term::MaybeDocument if tails(&[], after) => FieldClass::MaybeDocument,
        _ => FieldClass::Neutral,
    }
}

fn is_in(word: &[u8], list: &[&str]) -> bool {
    list.iter().any(|w| w.as_bytes() == word)
}

/// A tail word: digits (`realName2`), or one of `list`.
fn is_tail(word: &[u8], list: &[&str]) -> bool {
    word.iter().all(u8::is_ascii_digit) || is_in(word, list)
}

/// Whether `word` is a tail word of any class (to cut a glued word).
fn any_tail(word: &[u8]) -> bool {
    [
        vocab::NUMBER_TAIL,
        vocab::TYPE_WORDS,
        vocab::NAME_TAIL,
        vocab::DATE_TAIL,
    ]
    .iter()
    .any(|list| is_in(word, list))
}

/// The length of the longest Chinese tail word `rest` starts with.
fn chinese_tail(rest: &[u8]) -> Option<usize> {
    [
        vocab::NUMBER_TAIL,
        vocab::TYPE_WORDS,
        vocab::VALUE_TAIL,
        vocab::NAME_TAIL,
        vocab::DATE_TAIL,
    ]
    .iter()
    .flat_map(|list| list.iter())
    .filter(|t| t.as_bytes()[0] >= 0x80 && rest.starts_with(t.as_bytes()))
    .map(|t| t.len())
    .max()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The words of one key segment, in lower case, run together in `buf`; word `i` ends at
/// `ends[i]`.
struct Words {
    buf: [u8; MAX_SEGMENT],
    len: usize,
    ends: [u8; MAX_SEGMENT],
    count: usize,
}

impl Default for Words {
    fn default() -> Self {
        Self {
            buf: [0; MAX_SEGMENT],
            len: 0,
            ends: [0; MAX_SEGMENT],
            count: 0,
        }
    }
}

/// What a character is to the tokenizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Lower,
    Upper,
    Digit,
    Chinese,
}

impl Words {
    fn start(&self, i: usize) -> usize {
        if i == 0 {
            0
        } else {
            usize::from(self.ends[i - 1])
        }
    }

    fn end(&self, i: usize) -> usize {
        usize::from(self.ends[i])
    }

    fn word(&self, i: usize) -> &[u8] {
        &self.buf[self.start(i)..self.end(i)]
    }

    /// Appends a word (dropped if it does not fit).
    fn push(&mut self, word: &[u8]) {
        let end = self.len + word.len();
        if word.is_empty() || end > MAX_SEGMENT || self.count == MAX_SEGMENT {
            return;
        }
        self.buf[self.len..end].copy_from_slice(word);
        self.len = end;
        // `end` is at most MAX_SEGMENT, which fits in a byte.
        self.ends[self.count] = u8::try_from(end).unwrap_or(u8::MAX);
        self.count += 1;
    }

    /// The words run together into `out`; their length.
    fn compact(&self, out: &mut [u8; MAX_SEGMENT]) -> usize {
        out[..self.len].copy_from_slice(&self.buf[..self.len]);
        self.len
    }

    /// Reads a segment's words (its last [`MAX_SEGMENT`] bytes).
    fn read(segment: &str) -> Self {
        let mut from = segment.len().saturating_sub(MAX_SEGMENT);
        while !segment.is_char_boundary(from) {
            from += 1;
        }
        let segment = &segment[from..];
        let mut me = Self::default();
        let mut word = [0u8; MAX_SEGMENT];
        let mut n = 0;
        let mut prev: Option<Kind> = None;
        let mut chars = segment.chars().peekable();
        while let Some(c) = chars.next() {
            let c = match c {
                // Full-width ASCII letters and digits.
                '\u{ff10}'..='\u{ff19}' | '\u{ff21}'..='\u{ff3a}' | '\u{ff41}'..='\u{ff5a}' => {
                    char::from_u32(c as u32 - 0xfee0).unwrap_or(c)
                }
                // Zero-width characters join what is around them.
                '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}' => continue,
                c => c,
            };
            let kind = match c {
                'a'..='z' => Kind::Lower,
                'A'..='Z' => Kind::Upper,
                '0'..='9' => Kind::Digit,
                c if !c.is_ascii() && c.is_alphanumeric() => Kind::Chinese,
                // Chinese has no word boundaries: characters split by a separator are one run
                // (`身份_证号`, `证件·号码`).
                _ if prev == Some(Kind::Chinese) => continue,
                _ => {
                    me.push(&word[..n]);
                    n = 0;
                    prev = None;
                    continue;
                }
            };
            let boundary = match (prev, kind) {
                (None, _) => false,
                (Some(Kind::Lower), Kind::Upper) => true,
                (Some(Kind::Upper), Kind::Upper) => {
                    chars.peek().is_some_and(char::is_ascii_lowercase)
                }
                (Some(Kind::Upper), Kind::Lower) => false,
                (Some(p), k) => p != k,
            };
            if boundary {
                me.push(&word[..n]);
                n = 0;
            }
            prev = Some(kind);
            let mut utf8 = [0u8; 4];
            let bytes = c.to_ascii_lowercase().encode_utf8(&mut utf8).as_bytes();
            if let Some(slot) = word.get_mut(n..n + bytes.len()) {
                slot.copy_from_slice(bytes);
                n += bytes.len();
            }
        }
        me.push(&word[..n]);
        me
    }
}

/// Longest key shown as is in a location.
const MAX_SHOWN: usize = 48;
/// A key with a longer run of ASCII digits is not shown: it could be a number smuggled into a key.
const MAX_DIGIT_RUN: usize = 4;

/// Whether `key` may appear in a location verbatim, and whether it is a plain identifier
/// (shown as `.key` rather than `["key"]`). Non-ASCII letters are shown only in a `known` field
/// name (`身份证号`): a map keyed by people's names must not put the names in a log.
fn shown(key: &str, known: bool) -> Option<bool> {
    if key.is_empty() || key.len() > MAX_SHOWN {
        return None;
    }
    let mut run = 0;
    let mut plain = true;
    for (i, c) in key.chars().enumerate() {
        if c.is_ascii_digit() {
            run += 1;
            if run > MAX_DIGIT_RUN {
                return None;
            }
            if i == 0 {
                plain = false;
            }
            continue;
        }
        run = 0;
        if c.is_ascii_alphabetic() || c == '_' || (known && !c.is_ascii() && c.is_alphabetic()) {
            continue;
        }
        if matches!(c, '-' | '.' | ':' | '@' | '$' | '[' | ']') {
            plain = false;
            continue;
        }
        return None;
    }
    Some(plain)
}

/// Appends one object key to a JSON path: `.key`, `["key-1"]` or `["<N bytes>"]`. `known`: the
/// key is a field name the detector knows.
pub(super) fn push_json_key(path: &mut String, key: &str, known: bool) {
    // Writing to a String cannot fail.
    let _ = match shown(key, known) {
        Some(true) => write!(path, ".{key}"),
        Some(false) => write!(path, "[\"{key}\"]"),
        None => write!(path, "[\"<{} bytes>\"]", key.len()),
    };
}

/// Appends an array index to a JSON path.
pub(super) fn push_index(path: &mut String, index: usize) {
    let _ = write!(path, "[{index}]");
}

/// A form field or multipart part name as a location: the name, or `<N bytes>`. `known`: the
/// name is a field name the detector knows.
pub(super) fn field_location(key: &str, known: bool) -> String {
    match shown(key, known) {
        Some(_) => key.to_owned(),
        None => format!("<{} bytes>", key.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use IdField::{BirthDate, DocType, Number, PersonName};

    fn class(key: &str) -> FieldClass {
        FieldNames::built_in().classify(key)
    }

    #[track_caller]
    fn all(keys: &[&str], want: FieldClass) {
        let names = FieldNames::built_in();
        for key in keys {
            assert_eq!(names.classify(key), want, "{key}");
        }
    }

    #[test]
    fn spellings_are_one_name() {
        all(
            &[
                "idCard",
                "id_card",
                "ID-CARD",
                "IdCardNo",
                "IDCardNo",
                "idcardno",
                "ID_CARD_NO",
                "id.card",
                "id_card_number",
                "user[idNo]",
                "user.sfzh",
                "身份证号",
                "ｉｄＮｏ",
                "id\u{200b}No",
            ],
            FieldClass::Identity(Number),
        );
        assert_eq!(class("real_name"), FieldClass::Identity(PersonName));
        assert_eq!(class("Name"), FieldClass::Name);
        assert_eq!(class("nickname"), FieldClass::Neutral);
        assert_eq!(class("creditCode"), FieldClass::Company);
        assert_eq!(class(&"x".repeat(500)), FieldClass::Neutral);
    }

    #[test]
    fn compound_names_in_every_case_style() {
        all(
            &[
                "passportNumber",
                "passport_number",
                "PASSPORT_NO",
                "passport",
                "permitNo",
                "documentNumber",
                "identityNo",
                "identity_number",
                "holderIdNo",
                "applicantIdCardNo",
                "custidcard",
                "legal-person-id-no",
                "nationalId",
                "idCardFront",
                "idCardImg",
                "id_card_back_url",
                "idCard2",
                "IdCard[]",
                "idCard[0]",
                "form[user][idCard]",
                "data.user.idCardNumber",
                "sfzhm",
                "khsfzh",
                "ZJHM",
                "user_zjhm",
                "客户身份证号码",
                "乘客证件号",
                "护照号码",
                "user_身份证号",
                "身份_证号",
                "证件 号码",
                "证件·号码",
                "homeReturnPermitNo",
                "residence_permit_number",
            ],
            FieldClass::Identity(Number),
        );
        all(
            &[
                "fullName",
                "legalName",
                "userRealName",
                "userrealname",
                "chineseName",
                "real_name_pinyin",
                "REAL_NAME",
                "realName[]",
                "realName[0]",
                "user[realName]",
                "user.realName",
                "certName",
                "idCardName",
                "id_doc_name",
                "passportName",
                "xm",
                "userXm",
                "XM",
                "姓名",
                "真实姓名",
                "乘客姓名",
                "姓名拼音",
            ],
            FieldClass::Identity(PersonName),
        );
        all(
            &[
                "birthday",
                "birthDate",
                "birth_date",
                "dateOfBirth",
                "date_of_birth",
                "DOB",
                "dob",
                "userBirthday",
                "birthYear",
                "birth",
                "csrq",
                "brcsrq",
                "出生日期",
                "出生年月",
                "生日",
                "user[birthday]",
            ],
            FieldClass::Identity(BirthDate),
        );
        all(
            &[
                "certType",
                "idType",
                "idCardType",
                "id_doc_type",
                "zjlx",
                "证件类型",
                "passportType",
            ],
            FieldClass::Identity(DocType),
        );
        all(
            &[
                "userName",
                "user_name",
                "username",
                "lastName",
                "first_name",
                "surname",
                "buyerName",
                "名字",
            ],
            FieldClass::Name,
        );
        all(
            &[
                "companyCreditCode",
                "uscc",
                "unified_social_credit_code",
                "统一社会信用代码",
            ],
            FieldClass::Company,
        );
    }

    #[test]
    fn look_alike_names_are_neutral() {
        all(
            &[
                // Not a person's name.
                "nickname",
                "nickName",
                "displayName",
                "fileName",
                "filename",
                "hostname",
                "hostName",
                "productName",
                "companyLegalName",
                "shop_full_name",
                "namecard",
                // Ids of things, and words that contain a term's letters.
                "id",
                "ID",
                "orderId",
                "order_id",
                "idempotencyKey",
                "identifier",
                "identity",
                "userId",
                "video_id",
                "paidcard",
                "prepaidCardNo",
                "valid",
                "validNo",
                "concertNo",
                "cardNo",
                "bankCardNo",
                "credentialId",
                "cert",
                "certificate",
                "adobe",
                "dobby",
                "xmlns",
                "xmmc",
                "video",
                "idle",
                // About identity data, not the data.
                "birthdayGreeting",
                "birthday_coupon",
                "birthPlace",
                "birthplace",
                "idCardVerified",
                "idcardverified",
                "realNameStatus",
                "realNameAuth",
                "passportExpiry",
                "idCardExpireDate",
                "isRealName",
                "hasIdCard",
                "needBirthday",
                "身份证有效期",
                "生日祝福",
                "出生地",
                "",
                "[]",
                "0",
                "..",
            ],
            FieldClass::Neutral,
        );
    }

    #[test]
    fn an_identity_segment_covers_what_is_under_it() {
        assert_eq!(class("idCard[front]"), FieldClass::Identity(Number));
        // Read whole, it is the name on the card.
        assert_eq!(class("idCard.name"), FieldClass::Identity(PersonName));
        assert_eq!(class("realName[first]"), FieldClass::Identity(PersonName));
        assert_eq!(class("idCard[realName]"), FieldClass::Identity(PersonName));
        assert_eq!(class("user[name]"), FieldClass::Name);
        assert_eq!(class("items[0][sku]"), FieldClass::Neutral);
    }

    #[test]
    fn ignored_names_are_neutral_in_any_spelling() {
        let mut names = FieldNames::built_in();
        names.ignore(["documentNumber", "PASSPORT"]);
        for key in [
            "documentNumber",
            "document_number",
            "order[DocumentNumber]",
            "passport",
        ] {
            assert_eq!(names.classify(key), FieldClass::Neutral, "{key}");
        }
        assert_eq!(
            names.classify("passengerDocumentNumber"),
            FieldClass::Identity(Number)
        );
        assert_eq!(names.classify("passportNo"), FieldClass::Identity(Number));
    }

    #[test]
    fn long_keys_are_read_by_their_end() {
        let key = format!("{}_idNo", "padding".repeat(40));
        assert_eq!(class(&key), FieldClass::Identity(Number));
        let key = format!("{}.realName", "a.".repeat(1000));
        assert_eq!(class(&key), FieldClass::Identity(PersonName));
        let key = format!("{}_idNo_verified", "x".repeat(200));
        assert_eq!(class(&key), FieldClass::Neutral);
        // Many one-letter words.
        let key = "aB".repeat(200);
        assert_eq!(class(&key), FieldClass::Neutral);
    }

    #[test]
    fn added_names_win_and_replaced_names_go() {
        let mut names = FieldNames::built_in();
        names.extend([("name", IdField::Number), ("uscc", IdField::Number)]);
        assert_eq!(
            names.classify("name"),
            FieldClass::Identity(IdField::Number)
        );
        assert_eq!(
            names.classify("USCC"),
            FieldClass::Identity(IdField::Number)
        );
        let mut names = FieldNames::empty();
        names.extend([("memberCode", IdField::Number)]);
        assert_eq!(names.classify("idNo"), FieldClass::Neutral);
        assert_eq!(names.classify("name"), FieldClass::Name);
        assert_eq!(
            names.classify("member_code"),
            FieldClass::Identity(IdField::Number)
        );
    }

    #[test]
    fn locations_hide_odd_keys() {
        let mut p = String::from("$");
        push_json_key(&mut p, "idNo", true);
        push_index(&mut p, 2);
        push_json_key(&mut p, "x-y", false);
        push_json_key(&mut p, "11010519491231002X", false);
        push_json_key(&mut p, "a\"b", false);
        push_json_key(&mut p, "身份证号", true);
        push_json_key(&mut p, "张三", false);
        assert_eq!(
            p,
            r#"$.idNo[2]["x-y"]["<18 bytes>"]["<3 bytes>"].身份证号["<6 bytes>"]"#
        );
        assert_eq!(field_location("user[idNo]", true), "user[idNo]");
        assert_eq!(field_location("a\u{0}b", false), "<3 bytes>");
        assert_eq!(field_location("１２３４５６", true), "<18 bytes>");
        assert_eq!(field_location("姓名", true), "姓名");
        let names = FieldNames::built_in();
        assert!(names.known("身份证号码"));
        assert!(names.known("user_身份证号"));
        assert!(names.known("出生日期"));
        assert!(!names.known("张三身份证号"));
        assert!(!names.known("客户姓名"));
        assert!(!names.known("张三"));
        assert_eq!(field_location("李四", false), "<6 bytes>");
    }
}
