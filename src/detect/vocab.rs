//! The built-in field-name vocabulary. `docs/DETECTOR.md` lists every entry with its reason; keep
//! the two in step.
//!
//! Terms are written as a key is read ([`super::fields`]): its words in lower case, run
//! together (`idcard` stands for `idCard`, `ID_CARD`, `id-card`, `IdCard`, `idcard`). A term is
//! found where it starts and ends on word boundaries of a key, so `orderIdCard…` finds `idcard`
//! but `paidcard` does not. What comes after the term decides what the key is (the last words
//! of an English compound name its head): only the *tail* words listed for the term's class may
//! follow (`idCardNo`, `idCardFront`, `realNamePinyin`), anything else makes the key about
//! something else (`idCardVerified`, `birthdayGreeting`, `realNameStatus`). Terms written in
//! Chinese are found anywhere inside a run of Chinese characters (Chinese has no word
//! boundaries), with the same rule for what follows.

use super::fields::IdField;

/// What a term marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Term {
    /// Identity data of this kind.
    Identity(IdField),
    /// A person's name that counts only beside identity data (`name`, `userName`, `lastName`).
    Name,
    /// A company identifier (`creditCode`, `uscc`).
    Company,
    /// A number that may be a document's or anything else's (`docNo`).
    MaybeDocument,
}

use IdField::{BirthDate, DocType, Number, PersonName};

/// Document numbers and documents (`IdField::Number`). Followed by a [`NUMBER_TAIL`] word (or
/// nothing) they are the number; by a [`TYPE_WORDS`] word, the document type; by `name`, the
/// name on it.
pub(super) const DOCUMENT_TERMS: &[&str] = &[
    // ID-FORMATS.md: `idCard`, `idCardNo`, `idNo`, `idNum`, `idNumber`, `id_card_number`.
    "idcard",
    "idno",
    "idnum",
    "idnumber",
    "idnbr",
    // English spelled out (`identityNo`, `identityCard`, `identificationNumber`, `nationalId`).
    "identitycard",
    "identityno",
    "identitynum",
    "identitynumber",
    "identificationno",
    "identificationnumber",
    "nationalid",
    "nationalidno",
    "nationalidnumber",
    "citizenid",
    // `certNo`, `cert_no`, `certificateNo` (ID-FORMATS.md). Not `cert` alone: a TLS certificate.
    "certno",
    "certnum",
    "certnumber",
    "certificateno",
    "certificatenum",
    "certificatenumber",
    // WeChat Pay `cred_id`, `id_doc_number` / `id_doc_name` / `id_doc_type`.
    "credid",
    "credno",
    "credentialno",
    "credentialnumber",
    "iddoc",
    "iddocument",
    // Travel and identity documents by name (`passportNumber`, `documentNumber`, `permitNo`).
    "documentno",
    "documentnumber",
    "passport",
    "permitno",
    "permitnum",
    "permitnumber",
    "residencepermit",
    "travelpermit",
    "homereturnpermit",
    "permanentresidence",
    // A permanent resident card's number (`prCardNo`); not `prCard` alone (a pull request's card).
    "prcardno",
    "prcardnumber",
    // Pinyin initials: 身份证(号/号码), 身份证件号, 公民身份号码, 证件号码, 证件号, 护照号(码),
    // 通行证号码.
    "sfz",
    "sfzh",
    "sfzhm",
    "sfzjh",
    "sfzjhm",
    "gmsfhm",
    "zjhm",
    "zjh",
    "hzhm",
    "hzh",
    "txzhm",
    // Chinese: found inside longer Chinese names (客户身份证号码, 乘客证件号).
    "身份证",
    "身份号码",
    "证件号",
    "证件编号",
    "护照",
    "通行证",
    "居住证",
    "回乡证",
    "台胞证",
    "居留证",
];

/// A person's legal name (`IdField::PersonName`). Not after an organisation or a thing
/// ([`NOT_A_PERSON`]: `companyLegalName`, `productChineseName`).
pub(super) const PERSON_NAME_TERMS: &[&str] = &[
    // `realName`, `trueName` (ID-FORMATS.md); `fullName`, `legalName`, `chineseName` (issue 11).
    "realname",
    "truename",
    "fullname",
    "legalname",
    "chinesename",
    // The name on a card or document is its holder's legal name: documents and bank cards are
    // issued in it (`holderName`, `cardholderName`, `accountHolderName`).
    "holdername",
    "cardholdername",
    // `certName`, `idCardName` and `id_doc_name` come from a document term followed by `name`.
    "certname",
    // Pinyin: 姓名, 真实姓名.
    "xm",
    "xingming",
    "zsxm",
    // Chinese.
    "姓名",
    "真名",
];

/// A document type (`IdField::DocType`): `certType`, `zjlx`, 证件类型 (ID-FORMATS.md); `idType`
/// and `idCardType` come from a document term followed by a type word, and so does
/// `id_doc_type`.
pub(super) const DOC_TYPE_TERMS: &[&str] = &["certtype", "idtype", "zjlx", "证件类型", "证件种类"];

/// A birth date (`IdField::BirthDate`, one of netid's own `FieldName`s).
pub(super) const BIRTH_DATE_TERMS: &[&str] = &[
    // `birthday`, `birthDate`, `dateOfBirth`, `dob`, `bday`; `birth` followed by a date word
    // (`birth_date`, `birthYear`), or alone.
    "birth",
    "birthday",
    "birthdate",
    "dateofbirth",
    "dob",
    "bday",
    // Pinyin: 出生日期, 出生年月.
    "csrq",
    "csny",
    // Chinese: 出生日期, 出生年月 (出生 + a date word), 生日.
    "出生",
    "生日",
];

/// A person's name that is identity data only beside identity data in the same object or form
/// (ID-FORMATS.md: "`name` alone is ambiguous"). `name` itself only alone or after a
/// [`PERSON`] word (`userName`, `buyer_name`, `lastName`); the others unless after a
/// [`NOT_A_PERSON`] word.
pub(super) const NAME_TERMS: &[&str] = &[
    "name",
    "username",
    "firstname",
    "lastname",
    "givenname",
    "familyname",
    "middlename",
    "surname",
    "名字",
];

/// Company identifiers: a number under one that passes both the resident-ID and the GB 32100
/// check is a unified social credit code.
pub(super) const COMPANY_TERMS: &[&str] = &[
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

/// Numbers that may be a document's or anything else's: `docNo` is the passenger's travel
/// document number in airline records (`docType` + `docNo`) and a voucher number (单据号) in
/// ERP systems. A value under one is not identity data by the name alone (that would refuse
/// every ERP voucher), but the name gives context to the numbers that need it and pass their
/// own checks: the 15-digit ID (province, date). Not the 8-digit Taiwan permit or the
/// letter-prefixed ones (`E20240517`, `INV202405170001` are voucher shapes).
pub(super) const MAYBE_DOCUMENT_TERMS: &[&str] = &["docno", "docnum", "docnumber", "docnbr"];

/// Every built-in term with what it marks.
pub(super) fn built_in() -> impl Iterator<Item = (&'static str, Term)> {
    let tag = |list: &'static [&'static str], term: Term| list.iter().map(move |&t| (t, term));
    tag(DOCUMENT_TERMS, Term::Identity(Number))
        .chain(tag(PERSON_NAME_TERMS, Term::Identity(PersonName)))
        .chain(tag(DOC_TYPE_TERMS, Term::Identity(DocType)))
        .chain(tag(BIRTH_DATE_TERMS, Term::Identity(BirthDate)))
        .chain(tag(MAYBE_DOCUMENT_TERMS, Term::MaybeDocument))
}

/// The terms that are not identity data by themselves; they stay when the identity terms are
/// replaced.
pub(super) fn context_terms() -> impl Iterator<Item = (&'static str, Term)> {
    let tag = |list: &'static [&'static str], term: Term| list.iter().map(move |&t| (t, term));
    tag(NAME_TERMS, Term::Name).chain(tag(COMPANY_TERMS, Term::Company))
}

/// Words that may follow a document term: the number itself, its parts, pictures and copies of
/// the document, and the Chinese for them (号码, 正面, 复印件).
pub(super) const NUMBER_TAIL: &[&str] = &[
    "no",
    "num",
    "number",
    "nbr",
    "nr",
    "val",
    "value",
    "str",
    "string",
    "text",
    "txt",
    "info",
    "data",
    "card",
    "img",
    "image",
    "images",
    "imgs",
    "pic",
    "pics",
    "picture",
    "photo",
    "photos",
    "front",
    "back",
    "file",
    "files",
    "url",
    "copy",
    "scan",
    "plain",
    "plaintext",
    "raw",
    "list",
    "号",
    "号码",
    "编号",
    "码",
    "照片",
    "图片",
    "正面",
    "反面",
    "背面",
    "复印件",
    "扫描件",
    "信息",
];

/// Words that turn a document term into its type (`idType`, `idCardType`, 证件类型).
pub(super) const TYPE_WORDS: &[&str] = &["type", "typ", "kind", "category", "类型", "种类"];

/// Words that may follow a document type.
pub(super) const VALUE_TAIL: &[&str] = &[
    "code", "val", "value", "str", "text", "name", "desc", "编码", "代码", "名称",
];

/// Words that may follow a name: its spellings and scripts (`realNameEn`, `xmPinyin`, 姓名拼音).
pub(super) const NAME_TAIL: &[&str] = &[
    "cn", "zh", "chn", "en", "pinyin", "py", "spell", "full", "text", "str", "val", "value",
    "拼音", "全拼",
];

/// Words that may follow a birth term (`birthDate`, `birth_day`, `birthYear`, 出生日期).
pub(super) const DATE_TAIL: &[&str] = &[
    "date",
    "day",
    "dt",
    "time",
    "ymd",
    "year",
    "month",
    "str",
    "text",
    "val",
    "value",
    "日期",
    "年月",
    "年月日",
    "时间",
    "年份",
];

/// Words before `name` that make it a person's name (`userName`, `buyerName`, `lastName`).
pub(super) const PERSON: &[&str] = &[
    "user",
    "customer",
    "cust",
    "person",
    "holder",
    "cardholder",
    "owner",
    "applicant",
    "member",
    "buyer",
    "payer",
    "payee",
    "contact",
    "guest",
    "passenger",
    "patient",
    "student",
    "employee",
    "emp",
    "staff",
    "driver",
    "insured",
    "policyholder",
    "beneficiary",
    "client",
    "account",
    "receiver",
    "recipient",
    "consignee",
    "sender",
    "first",
    "last",
    "given",
    "family",
    "middle",
    "my",
];

/// Words before a name term that make it the name of a thing or an organisation
/// (`companyLegalName`, `productChineseName`, `displayName`, `fileName`).
pub(super) const NOT_A_PERSON: &[&str] = &[
    "company",
    "corp",
    "corporate",
    "org",
    "organization",
    "organisation",
    "merchant",
    "mch",
    "business",
    "biz",
    "enterprise",
    "entity",
    "shop",
    "store",
    "firm",
    "brand",
    "bank",
    "vendor",
    "supplier",
    "product",
    "goods",
    "item",
    "sku",
    "category",
    "file",
    "host",
    "domain",
    "app",
    "device",
    "display",
    "nick",
    "screen",
    "city",
    "country",
    "province",
    "region",
    "street",
    "project",
    "group",
    "team",
    "channel",
    "event",
    "tag",
    "role",
    "dept",
    "department",
];

/// First words that make a key a yes/no flag about identity data rather than the data
/// (`isRealName`, `hasIdCard`, `needBirthday`).
pub(super) const FLAG_PREFIX: &[&str] = &[
    "is", "has", "have", "need", "needs", "show", "hide", "enable", "enabled", "disable", "allow",
    "can", "should", "must", "require", "requires", "use",
];

/// Words that may be glued in front of a term in a key written in one lower-case word
/// (`userrealname`, `custidcard`): the [`PERSON`] words.
pub(super) const GLUE_PREFIX: &[&str] = PERSON;

/// Pinyin terms found at the end of a lower-case word whatever comes before (`khsfzh` for
/// 客户身份证号, `brcsrq` for 病人出生日期): Pinyin keys are written as one run of initials.
pub(super) const PINYIN_SUFFIX: &[&str] = &[
    "sfzh", "sfzhm", "sfzjh", "sfzjhm", "gmsfhm", "zjhm", "hzhm", "csrq", "zjlx",
];
