//! Every refusal that goes on the wire, in one registry: RFC 9457 problem details.
//!
//! A [`ProblemKind`] fixes a refusal's stable `code`, its HTTP status, and its title and
//! standard detail in zh-CN and English. The relying party's middleware and login routes, the
//! embedded sandbox (the platform's side of protocol v1) and the client's reading of the
//! platform's answers all use this one table, so a code means one thing everywhere.
//!
//! # Naming
//! Codes on the wire are `netid.<condition>`. Errors that stay in Rust (a bad key file, a
//! token that fails a rule, a store that is down) carry `<module>.<condition>` codes through
//! [`ErrorCode`](crate::ErrorCode) (`crypto.key_pem`, `token.expired`, `store.unavailable`): the
//! module that raised it.
//!
//! # Language
//! A [`Problem`] is rendered in the language the request prefers (`Accept-Language`): zh-CN by
//! default, English when the client prefers it ([`Lang::negotiate`]). Its `Display`, and
//! therefore logs, are English.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{Value, json};

/// The language a refusal is written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    /// 简体中文, the default.
    #[default]
    ZhCn,
    /// English.
    En,
}

impl Lang {
    /// The language an `Accept-Language` header prefers between zh-CN and English: English only
    /// when an `en` range has a higher weight than every `zh` range; zh-CN otherwise, including
    /// when the header is absent or names neither. Malformed ranges are skipped, never an error.
    pub fn negotiate(accept_language: Option<&[u8]>) -> Self {
        let Some(header) = accept_language else {
            return Self::ZhCn;
        };
        let (mut zh, mut en) = (-1i32, -1i32);
        // At most 32 ranges are read: the header is client-controlled.
        for range in header.split(|b| *b == b',').take(32) {
            let mut parts = range.split(|b| *b == b';');
            let tag = parts.next().unwrap_or_default().trim_ascii();
            let weight = parts
                .find_map(|p| p.trim_ascii().strip_prefix(b"q="))
                .map_or(Some(1000), parse_weight);
            let Some(weight) = weight else { continue };
            let primary = tag.split(|b| *b == b'-').next().unwrap_or_default();
            if primary.eq_ignore_ascii_case(b"zh") {
                zh = zh.max(weight);
            } else if primary.eq_ignore_ascii_case(b"en") {
                en = en.max(weight);
            }
        }
        if en > zh && en > 0 {
            Self::En
        } else {
            Self::ZhCn
        }
    }

    /// The `Content-Language` value.
    pub fn tag(self) -> &'static str {
        match self {
            Self::ZhCn => "zh-CN",
            Self::En => "en",
        }
    }
}

/// An RFC 9110 weight (`0`, `0.5`, `1.000`) in thousandths; `None` when malformed.
fn parse_weight(text: &[u8]) -> Option<i32> {
    let text = std::str::from_utf8(text).ok()?;
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let frac = format!("{frac:0<3}").parse::<i32>().ok()?;
    let weight = int + frac;
    (weight <= 1000).then_some(weight)
}

macro_rules! problem_kinds {
    ($( $(#[$doc:meta])* $kind:ident = $code:literal, $status:literal,
        $zh_title:literal, $en_title:literal, $zh_detail:literal, $en_detail:literal; )*) => {
        /// A refusal, by meaning. See the [module docs](self) for the naming scheme.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ProblemKind {
            $( $(#[$doc])* $kind, )*
        }

        impl ProblemKind {
            /// Every kind, in the registry's order.
            pub const ALL: &'static [ProblemKind] = &[$(ProblemKind::$kind),*];

            /// The stable code, `netid.<condition>`.
            pub fn code(self) -> &'static str {
                match self { $(ProblemKind::$kind => $code,)* }
            }

            /// The HTTP status.
            pub fn status(self) -> u16 {
                match self { $(ProblemKind::$kind => $status,)* }
            }

            /// The short title.
            pub fn title(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((ProblemKind::$kind, Lang::ZhCn) => $zh_title,
                      (ProblemKind::$kind, Lang::En) => $en_title,)*
                }
            }

            /// The standard detail: what happened and who must act.
            pub fn detail(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((ProblemKind::$kind, Lang::ZhCn) => $zh_detail,
                      (ProblemKind::$kind, Lang::En) => $en_detail,)*
                }
            }
        }
    };
}

problem_kinds! {
    // The relying party's middleware and login routes.
    /// No session, or no valid one.
    Unauthenticated = "netid.unauthenticated", 401, "需要登录", "Sign-in required",
        "请先登录。", "sign in first";
    /// The session token is malformed, forged or for another app.
    SessionInvalid = "netid.session_invalid", 401, "需要登录", "Sign-in required",
        "会话无效，请重新登录。", "the session is invalid; sign in again";
    /// The session token has expired.
    SessionExpired = "netid.session_expired", 401, "会话已过期", "Session expired",
        "会话已过期，请重新登录。", "the session has expired; sign in again";
    /// The session was ended (logout, deletion).
    SessionRevoked = "netid.session_revoked", 401, "会话已结束", "Session ended",
        "会话已结束（已退出登录或数据已删除），请重新登录。",
        "the session was ended (signed out or data deleted); sign in again";
    /// Polling without the browser binding of a login in progress.
    LoginUnknown = "netid.login_unknown", 401, "没有进行中的登录", "No sign-in in progress",
        "此浏览器没有发起登录，请重新开始。", "no sign-in was started from this browser";
    /// The user declined in the identity app.
    LoginDeclined = "netid.login_declined", 403, "已拒绝登录", "Sign-in declined",
        "您在国家网络身份认证App中拒绝了本次核验。",
        "the verification was declined in the identity app";
    /// The authorization lapsed before the user answered.
    LoginExpired = "netid.login_expired", 410, "登录已过期", "Sign-in expired",
        "本次核验已过期，请重新开始。", "the verification expired; start again";
    /// The platform's answer was refused (signature, claims, replay).
    PlatformInvalid = "netid.platform_invalid", 502, "核验失败", "Verification failed",
        "身份认证平台的应答未通过校验，请稍后重试。",
        "the identity platform's answer was refused; retry later";
    /// The platform could not verify the user.
    NotVerified = "netid.not_verified", 403, "未通过核验", "Not verified",
        "身份认证平台未能核验您的身份。", "the identity platform could not verify you";
    /// No such other lawful verification method.
    MethodUnknown = "netid.method_unknown", 404, "未知的核验方式", "Unknown verification method",
        "没有这种核验方式。", "no such verification method";
    /// The route is for other age bands.
    AgeMinor = "netid.age_minor", 403, "您的年龄不适用", "Not available at your age",
        "此服务不向未成年人提供。", "this service is not available to minors";
    /// The route needs an age band the user's verification did not carry.
    AgeUnknown = "netid.age_unknown", 403, "需要年龄信息", "Age band needed",
        "此服务需要年龄段信息，请重新核验并提供年龄段。",
        "this service needs an age band; verify again with one";
    /// The route is not for under-14s.
    AgeUnder14 = "netid.age_under_14", 403, "您的年龄不适用", "Not available at your age",
        "此服务不向不满十四周岁的用户提供。", "this service is not available under 14";
    /// Login refused: an under-14 without a parent's or guardian's consent (Art. 5 §2 for
    /// 网号/网证; PIPL Art. 31 §1 for any other way of verifying a child).
    GuardianConsentRequired = "netid.guardian_consent_required", 403, "需要监护人同意",
        "A parent's or guardian's consent is needed",
        "不满十四周岁的用户登录须取得父母或者其他监护人同意。请监护人在国家网络身份认证App中（或按本服务自有核验方式的要求）表示同意后，再重新登录。",
        "Users under 14 need the consent of a parent or guardian to sign in. A parent or guardian can give it in the national network identity app (or the way this service's own verification asks); then sign in again.";
    /// The user's age band is not among the route's.
    AgeBandNotAllowed = "netid.age_band_not_allowed", 403, "您的年龄不适用",
        "Not available at your age", "此服务不向您所在的年龄段提供。",
        "this service is not available to your age band";
    /// An under-14 without a guardian's consent (Art. 5 §2).
    AgeGuardianConsentRequired = "netid.age_guardian_consent_required", 403,
        "需要监护人同意", "Guardian's consent required",
        "不满十四周岁的用户需取得父母或者其他监护人同意：请监护人在国家网络身份认证App中同意后再试。",
        "a user under 14 needs a parent's or guardian's consent: ask them to consent in the identity app, then try again";
    /// Plaintext identity data from a 网号/网证 user (Art. 7 §2).
    ExtraPlaintext = "netid.extra_plaintext", 422, "不收集明文身份信息",
        "Extra plaintext identity data",
        "您已使用网号、网证核验身份，本服务不再收集明文身份信息（《国家网络身份认证公共服务管理办法》第七条第二款）：请删除后再提交。",
        "you verified with 网号/网证, so this service does not take plaintext identity data (Art. 7 §2 of the measures): remove it and send again";
    /// The body is over the limit.
    PayloadTooLarge = "netid.payload_too_large", 413, "请求体过大", "Body too large",
        "请求体超过了大小上限。", "the request body is over the limit";
    /// The body's type cannot be inspected.
    UnsupportedMediaType = "netid.unsupported_media_type", 415, "不支持的内容类型",
        "Unsupported content type", "无法检查这种内容类型的请求体。",
        "this content type cannot be inspected for identity data";
    /// A compressed body, which cannot be inspected.
    CompressedBody = "netid.compressed_body", 415, "不支持压缩的请求体", "Compressed body",
        "压缩的请求体无法检查，请以未压缩形式发送。",
        "compressed request bodies cannot be inspected; send them uncompressed";
    /// A body that is not valid JSON.
    InvalidJson = "netid.invalid_json", 400, "JSON 格式错误", "Invalid JSON",
        "请求体不是有效的 JSON。", "the request body is not valid JSON";
    /// JSON nested deeper than the limit.
    JsonTooDeep = "netid.json_too_deep", 400, "JSON 嵌套过深", "JSON too deep",
        "请求体的 JSON 嵌套层数超过上限。", "the request body's JSON is nested too deeply";
    /// A body that is not a valid form.
    InvalidForm = "netid.invalid_form", 400, "表单格式错误", "Invalid form",
        "请求体不是有效的表单。", "the request body is not a valid form";
    /// A body that is not valid multipart.
    InvalidMultipart = "netid.invalid_multipart", 400, "multipart 格式错误",
        "Invalid multipart body", "请求体不是有效的 multipart/form-data。",
        "the request body is not valid multipart/form-data";
    /// A text body that is not UTF-8.
    InvalidUtf8 = "netid.invalid_utf8", 400, "文本编码错误", "Invalid text",
        "请求体不是 UTF-8 文本。", "the request body is not UTF-8";
    /// A request that cannot be read or is malformed.
    BadRequest = "netid.bad_request", 400, "请求无效", "Bad request",
        "请求无效或无法读取。", "the request is malformed or could not be read";
    /// Too many requests; retry later.
    RateLimited = "netid.rate_limited", 429, "请求过多", "Too many requests",
        "请求过多，请稍后重试。", "too many requests; retry later";
    /// A backing store is unreachable; retry.
    Unavailable = "netid.unavailable", 503, "服务暂不可用", "Temporarily unavailable",
        "服务暂时不可用，请稍后重试。", "the service is temporarily unavailable; retry";
    /// An internal error; what went wrong is in the log only.
    Internal = "netid.internal", 500, "内部错误", "Internal error",
        "请求无法处理。", "the request could not be processed";

    // The platform's side of protocol v1 (the sandbox sends these; the client reads them).
    /// The RP's request signature is stale.
    RequestStale = "netid.request_stale", 401, "请求已过期", "Stale request",
        "请求时间戳超出允许范围。", "the request's timestamp is outside the window";
    /// The RP's request nonce was used before.
    RequestReplayed = "netid.request_replayed", 401, "重复的请求", "Replayed request",
        "请求的随机数已使用过。", "the request's nonce was used before";
    /// The RP's request signature does not verify.
    SignatureInvalid = "netid.signature_invalid", 401, "签名无效", "Invalid signature",
        "请求签名未通过验证。", "the request's signature does not verify";
    /// The authorization lapsed.
    AuthorizationExpired = "netid.authorization_expired", 410, "授权已过期",
        "Authorization expired", "该授权已过期。", "the authorization has expired";
    /// The authorization was already decided or used.
    AuthorizationUsed = "netid.authorization_used", 409, "授权已使用", "Authorization used",
        "该授权已被使用。", "the authorization was already used";
    /// No such authorization or resource.
    NotFound = "netid.not_found", 404, "未找到", "Not found",
        "没有找到所请求的资源。", "no such resource";
    /// Plaintext fields were asked for without a legal basis (Art. 8 §2).
    LegalBasisRequired = "netid.legal_basis_required", 422, "需要法律依据",
        "Legal basis required", "请求明文身份字段须说明法律、行政法规依据。",
        "plaintext fields need a legal basis (Art. 8 §2)";
    /// More fields were asked for than the legal basis covers.
    FieldsExceedBasis = "netid.fields_exceed_basis", 403, "超出法律依据",
        "Fields exceed the legal basis", "请求的字段超出所述法律依据的范围。",
        "the fields asked for exceed what the legal basis covers";

    // The client's own reading of the platform's answers; never sent.
    /// A refusal from the platform whose problem body has no code the registry knows (none,
    /// an unreadable one, or one of a newer protocol): the client reports this code, with the
    /// platform's own code, if it was well-formed, at the start of the detail.
    Unrecognized = "netid.unknown", 502, "无法识别的拒绝", "Unrecognized refusal",
        "平台的拒绝没有可识别的代码。", "the platform refused without a code this SDK knows";
}

impl ProblemKind {
    /// The kind with this code, if it is registered.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.code() == code)
    }
}

/// The default base of a problem's `type` URI: a URN, stable and not a placeholder domain.
/// Applications that document their refusals set their own ([`Problem::with_type_base`]).
pub const DEFAULT_TYPE_BASE: &str = "urn:netid:problem:";

/// A refusal, framework-free. Adapters turn it into an HTTP response
/// (`application/problem+json`, [`Problem::to_response`]); applications can replace the
/// rendering. It is also a [`std::error::Error`], so code that drives the login flow directly
/// can use `?`; its `Display` is `status code: detail` in English, which never holds personal
/// data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {detail}")]
pub struct Problem {
    /// What kind of refusal.
    pub kind: ProblemKind,
    /// HTTP status (the kind's).
    pub status: u16,
    /// Stable code, e.g. `netid.extra_plaintext` (the kind's).
    pub code: &'static str,
    /// The English title (the kind's).
    pub title: &'static str,
    /// What was wrong, in English — names paths and fields, never values.
    pub detail: Cow<'static, str>,
    /// The same in zh-CN.
    pub detail_zh: Cow<'static, str>,
    /// Extra members (e.g. `locations` for extra plaintext); boxed, as most problems have
    /// none and a `Result<_, Problem>` should stay small.
    pub extra: Option<Box<Value>>,
    /// The language the response is written in.
    pub lang: Lang,
    /// The base of the `type` URI; `None` is [`DEFAULT_TYPE_BASE`].
    pub type_base: Option<Arc<str>>,
}

impl Problem {
    /// A problem of `kind` with its standard detail.
    pub fn of(kind: ProblemKind) -> Self {
        Self {
            kind,
            status: kind.status(),
            code: kind.code(),
            title: kind.title(Lang::En),
            detail: Cow::Borrowed(kind.detail(Lang::En)),
            detail_zh: Cow::Borrowed(kind.detail(Lang::ZhCn)),
            extra: None,
            lang: Lang::default(),
            type_base: None,
        }
    }

    /// The same problem with a more specific detail, in English and zh-CN.
    pub fn with_detail(
        mut self,
        en: impl Into<Cow<'static, str>>,
        zh: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.detail = en.into();
        self.detail_zh = zh.into();
        self
    }

    /// The same problem with extra members.
    pub fn with_extra(mut self, extra: Value) -> Self {
        self.extra = Some(Box::new(extra));
        self
    }

    /// The same problem written in `lang`.
    pub fn in_lang(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    /// The same problem with `type` URIs under `base` (`https://shop.example/problems/`).
    pub fn with_type_base(mut self, base: Arc<str>) -> Self {
        self.type_base = Some(base);
        self
    }

    /// 401: no (valid) session.
    pub fn unauthenticated() -> Self {
        Self::of(ProblemKind::Unauthenticated)
    }

    /// 403: an under-14 without a guardian's consent cannot sign in (Art. 5 §2).
    pub fn guardian_consent_required() -> Self {
        Self::of(ProblemKind::GuardianConsentRequired)
    }

    /// 500 without internals: what went wrong stays in the log.
    pub fn internal() -> Self {
        Self::of(ProblemKind::Internal)
    }

    /// 503: a backing store is unreachable; retry. `what` names it (`the consent ledger`).
    pub fn unavailable(what_en: &str, what_zh: &str) -> Self {
        Self::of(ProblemKind::Unavailable).with_detail(
            format!("{what_en} is unreachable; retry"),
            format!("{what_zh}暂时无法访问，请稍后重试。"),
        )
    }

    /// The title in the problem's language.
    pub fn localized_title(&self) -> &'static str {
        self.kind.title(self.lang)
    }

    /// The detail in the problem's language.
    pub fn localized_detail(&self) -> &str {
        match self.lang {
            Lang::ZhCn => &self.detail_zh,
            Lang::En => &self.detail,
        }
    }

    /// The JSON body, in the problem's language.
    pub fn to_json(&self) -> Value {
        let base = self.type_base.as_deref().unwrap_or(DEFAULT_TYPE_BASE);
        let mut body = json!({
            "type": format!("{base}{}", self.code),
            "title": self.localized_title(),
            "status": self.status,
            "detail": self.localized_detail(),
            "code": self.code,
        });
        if let (Some(Value::Object(extra)), Some(map)) =
            (self.extra.as_deref(), body.as_object_mut())
        {
            for (k, v) in extra {
                map.insert(k.clone(), v.clone());
            }
        }
        body
    }

    /// The problem as an HTTP response: its status, `application/problem+json`, its language
    /// in `Content-Language`, and only the members of [`Problem::to_json`] (an internal error
    /// stays opaque). Never cached.
    pub fn to_response(&self) -> http::Response<bytes::Bytes> {
        use http::header::{self, HeaderValue};
        let status = http::StatusCode::from_u16(self.status)
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = http::Response::new(bytes::Bytes::from(self.to_json().to_string()));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(self.lang.tag()),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_status_code_and_detail_in_english_and_is_an_error() {
        let p = Problem::unavailable("the consent ledger", "同意记录");
        assert_eq!(
            p.to_string(),
            "503 netid.unavailable: the consent ledger is unreachable; retry"
        );
        let boxed: Box<dyn std::error::Error> = Box::new(p);
        assert!(boxed.source().is_none());
    }

    #[test]
    fn the_registry_is_consistent() {
        let mut codes = std::collections::HashSet::new();
        for kind in ProblemKind::ALL {
            assert!(codes.insert(kind.code()), "{} twice", kind.code());
            assert!(kind.code().starts_with("netid."), "{}", kind.code());
            assert!((400..600).contains(&kind.status()), "{}", kind.code());
            assert_eq!(ProblemKind::from_code(kind.code()), Some(*kind));
            for lang in [Lang::ZhCn, Lang::En] {
                assert!(!kind.title(lang).is_empty() && !kind.detail(lang).is_empty());
            }
            // The zh-CN text is Chinese, the English is not.
            assert!(
                kind.title(Lang::ZhCn)
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
            );
            assert!(kind.title(Lang::En).is_ascii(), "{}", kind.code());
        }
        assert_eq!(ProblemKind::from_code("netid.body_too_large"), None);
    }

    /// Every `"netid.…"` string literal in the crate's sources and tests is a registered code:
    /// nothing on the wire or in an error is made up beside the registry.
    #[test]
    fn every_code_the_crate_writes_is_registered() {
        fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, files);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["src", "tests", "examples", "benches"] {
            if root.join(dir).is_dir() {
                walk(&root.join(dir), &mut files);
            }
        }
        // Named here only to say it is not a code.
        let not_codes = ["netid.body_too_large"];
        let mut seen = 0;
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            for (at, _) in text.match_indices("\"netid.") {
                let rest = &text[at + 1..];
                let len = rest[6..]
                    .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                    .map_or(rest.len(), |n| n + 6);
                if rest[len..].starts_with('"') && len > 6 {
                    let code = &rest[..len];
                    seen += 1;
                    assert!(
                        ProblemKind::from_code(code).is_some() || not_codes.contains(&code),
                        "{code} in {} is not in the registry",
                        file.display()
                    );
                }
            }
        }
        assert!(
            seen > 30,
            "only {seen} codes found: is the scan reading the sources?"
        );
    }

    #[test]
    fn accept_language_picks_english_only_when_preferred() {
        let pick = |h: &str| Lang::negotiate(Some(h.as_bytes()));
        assert_eq!(Lang::negotiate(None), Lang::ZhCn);
        assert_eq!(pick(""), Lang::ZhCn);
        assert_eq!(pick("en-US,en;q=0.9"), Lang::En);
        assert_eq!(pick("zh-CN,zh;q=0.9,en;q=0.8"), Lang::ZhCn);
        assert_eq!(pick("en;q=0.5, zh-Hans;q=0.8"), Lang::ZhCn);
        assert_eq!(pick("zh;q=0.2, EN-gb;q=0.7"), Lang::En);
        assert_eq!(pick("fr-FR, de"), Lang::ZhCn);
        assert_eq!(pick("en;q=0"), Lang::ZhCn, "q=0 means not acceptable");
        assert_eq!(
            pick("en;q=2, zh;q=0.1"),
            Lang::ZhCn,
            "a malformed weight is skipped"
        );
        assert_eq!(
            pick("en;q=0.1234"),
            Lang::ZhCn,
            "more than three decimals is malformed"
        );
        assert_eq!(pick(&"x,".repeat(10_000)), Lang::ZhCn);
    }

    #[test]
    fn renders_in_the_chosen_language_under_the_chosen_base() {
        let p = Problem::of(ProblemKind::ExtraPlaintext);
        let zh = p.to_json();
        assert_eq!(zh["title"], "不收集明文身份信息");
        assert_eq!(zh["type"], "urn:netid:problem:netid.extra_plaintext");
        let en = p
            .clone()
            .in_lang(Lang::En)
            .with_type_base("https://shop.example/problems/".into())
            .to_json();
        assert_eq!(en["title"], "Extra plaintext identity data");
        assert_eq!(
            en["type"],
            "https://shop.example/problems/netid.extra_plaintext"
        );
        let r = p.to_response();
        assert_eq!(r.status(), 422);
        assert_eq!(r.headers()["content-language"], "zh-CN");
        assert_eq!(r.headers()["cache-control"], "no-store");
    }
}
