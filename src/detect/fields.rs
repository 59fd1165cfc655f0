//! Field names: which ones bear identity data, and how a name is shown in a finding's location.

use std::fmt::Write as _;

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
    /// A birth date (`csrq`).
    BirthDate,
}

/// What a field name says about its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldClass {
    /// Nothing.
    Neutral,
    /// `name`: identity data only beside an identity field.
    Name,
    /// A company identifier (`creditCode`, `uscc`): an 18-character code under it that passes both
    /// checks is a unified social credit code.
    Company,
    /// Identity-bearing.
    Identity(IdField),
}

/// The built-in identity-bearing names, normalised (ASCII lower case, no `_`, `-`, spaces).
/// From ID-FORMATS.md, plus the same fields spelled in Chinese.
const BUILT_IN: &[(&str, IdField)] = &[
    ("idcard", IdField::Number),
    ("idcardno", IdField::Number),
    ("idno", IdField::Number),
    ("idnum", IdField::Number),
    ("idnumber", IdField::Number),
    ("idcardnumber", IdField::Number),
    ("certno", IdField::Number),
    ("certificateno", IdField::Number),
    ("credid", IdField::Number),
    ("iddocnumber", IdField::Number),
    ("sfzh", IdField::Number),
    ("sfzjh", IdField::Number),
    ("gmsfhm", IdField::Number),
    ("zjhm", IdField::Number),
    ("passportno", IdField::Number),
    ("hzhm", IdField::Number),
    ("身份证", IdField::Number),
    ("身份证号", IdField::Number),
    ("身份证号码", IdField::Number),
    ("公民身份号码", IdField::Number),
    ("证件号", IdField::Number),
    ("证件号码", IdField::Number),
    ("护照号", IdField::Number),
    ("护照号码", IdField::Number),
    ("certname", IdField::PersonName),
    ("iddocname", IdField::PersonName),
    ("realname", IdField::PersonName),
    ("truename", IdField::PersonName),
    ("xm", IdField::PersonName),
    ("姓名", IdField::PersonName),
    ("真实姓名", IdField::PersonName),
    ("certtype", IdField::DocType),
    ("zjlx", IdField::DocType),
    ("证件类型", IdField::DocType),
    ("csrq", IdField::BirthDate),
    ("出生日期", IdField::BirthDate),
];

/// Company-identifier names, normalised.
const COMPANY: &[&str] = &[
    "uscc",
    "creditcode",
    "socialcreditcode",
    "unifiedsocialcreditcode",
    "tyshxydm",
    "shxydm",
    "orgcode",
    "organizationcode",
    "taxno",
    "taxid",
    "taxpayerid",
    "nsrsbh",
    "统一社会信用代码",
    "信用代码",
];

/// Longest normalised name the classifier looks at; longer keys are neutral.
const MAX_NAME: usize = 63;

/// The field names one [`Detector`](super::Detector) knows, normalised and sorted: its
/// identity-bearing names, then `name` and the company-code names (an identity name of the same
/// spelling wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FieldNames {
    table: Vec<(Box<[u8]>, FieldClass)>,
    /// Bit `len` of `by_first[b]` is set when some name of length `len` starts with byte `b`;
    /// `by_last` likewise for the last byte. Most keys miss one of them and skip the search.
    by_first: Box<[u64; 256]>,
    by_last: Box<[u64; 256]>,
}

impl FieldNames {
    pub(super) fn built_in() -> Self {
        let mut me = Self::empty();
        me.extend(BUILT_IN.iter().map(|&(n, c)| (n, c)));
        me
    }

    /// No identity-bearing names; `name` and the company-code names only.
    pub(super) fn empty() -> Self {
        let mut me = Self {
            table: Vec::new(),
            by_first: Box::new([0; 256]),
            by_last: Box::new([0; 256]),
        };
        me.insert("name", FieldClass::Name);
        for name in COMPANY {
            me.insert(name, FieldClass::Company);
        }
        me
    }

    fn insert(&mut self, name: &str, class: FieldClass) {
        let mut buf = [0; MAX_NAME];
        let Some(n) = normalise(name, &mut buf) else {
            return;
        };
        let (Some(&first), Some(&last)) = (n.first(), n.last()) else {
            return;
        };
        self.by_first[usize::from(first)] |= 1 << n.len();
        self.by_last[usize::from(last)] |= 1 << n.len();
        match self.table.binary_search_by(|(m, _)| (**m).cmp(n)) {
            // An identity name replaces `name` or a company name; otherwise the first one stays.
            Ok(i) => {
                if matches!(class, FieldClass::Identity(_))
                    && !matches!(self.table[i].1, FieldClass::Identity(_))
                {
                    self.table[i].1 = class;
                }
            }
            Err(i) => self.table.insert(i, (n.into(), class)),
        }
    }

    /// Adds identity-bearing names (any spelling: `id_card`, `ID-CARD` and `idCard` are one
    /// name). A name already present as identity-bearing keeps its class.
    pub(super) fn extend<'a>(&mut self, names: impl IntoIterator<Item = (&'a str, IdField)>) {
        for (name, class) in names {
            self.insert(name, FieldClass::Identity(class));
        }
    }

    /// Whether a key is one of the names the detector knows (identity-bearing, `name`, company
    /// code).
    pub(super) fn known(&self, key: &str) -> bool {
        self.classify(key) != FieldClass::Neutral
    }

    /// Classifies a key.
    pub(super) fn classify(&self, key: &str) -> FieldClass {
        let mut buf = [0; MAX_NAME];
        let Some(n) = normalise(key, &mut buf) else {
            return FieldClass::Neutral;
        };
        let (Some(&first), Some(&last)) = (n.first(), n.last()) else {
            return FieldClass::Neutral;
        };
        let bit = 1 << n.len();
        if self.by_first[usize::from(first)] & bit == 0
            || self.by_last[usize::from(last)] & bit == 0
        {
            return FieldClass::Neutral;
        }
        match self.table.binary_search_by(|(m, _)| (**m).cmp(n)) {
            Ok(i) => self.table[i].1,
            Err(_) => FieldClass::Neutral,
        }
    }
}

/// The last segment of a key (`user[idNo]` and `user.idNo` → `idNo`), in ASCII lower case without
/// `_`, `-`, spaces and `]`, as bytes in `buf`. `None` if it is too long to be a field name.
fn normalise<'b>(key: &str, buf: &'b mut [u8; MAX_NAME]) -> Option<&'b [u8]> {
    let mut n = 0;
    let mut too_long = false;
    for &b in key.as_bytes() {
        match b {
            b'.' | b'[' => {
                n = 0;
                too_long = false;
            }
            b'_' | b'-' | b' ' | b']' => {}
            _ => match buf.get_mut(n) {
                Some(slot) => {
                    *slot = b.to_ascii_lowercase();
                    n += 1;
                }
                None => too_long = true,
            },
        }
    }
    (!too_long).then_some(&buf[..n])
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

    #[test]
    fn spellings_are_one_name() {
        let names = FieldNames::built_in();
        for key in [
            "idCard",
            "id_card",
            "ID-CARD",
            "IdCardNo",
            "id_card_number",
            "user[idNo]",
            "user.sfzh",
            "身份证号",
        ] {
            assert_eq!(
                names.classify(key),
                FieldClass::Identity(IdField::Number),
                "{key}"
            );
        }
        assert_eq!(
            names.classify("real_name"),
            FieldClass::Identity(IdField::PersonName)
        );
        assert_eq!(names.classify("Name"), FieldClass::Name);
        assert_eq!(names.classify("nickname"), FieldClass::Neutral);
        assert_eq!(names.classify("creditCode"), FieldClass::Company);
        assert_eq!(names.classify(&"x".repeat(500)), FieldClass::Neutral);
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
        assert_eq!(field_location("李四", false), "<6 bytes>");
    }
}
