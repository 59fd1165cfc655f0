//! The demo site's pages: plain HTML and CSS (no script, no asset from outside), zh-CN by
//! default and English on request, laid out for a phone first.

use axum::http::header::{CACHE_CONTROL, CONTENT_LANGUAGE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use netid::audit::{AuditEntry, AuditError, ChainHead};
use netid::erasure::DeletionReceipt;
use netid::model::{AgeTag, Assurance, IdDocumentType};
use netid::policy::{Problem, VerifiedUser};
use netid::problem::Lang;
use netid::sandbox::{Asks, PendingRequest, Persona};

use super::{INVOICE_PURPOSE, Shown};

/// A finished page: status, language and markup; never cached (it shows who is signed in).
pub(crate) struct Page {
    status: StatusCode,
    lang: Lang,
    markup: Markup,
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut r = (self.status, Html(self.markup.into_string())).into_response();
        r.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r.headers_mut()
            .insert(CONTENT_LANGUAGE, HeaderValue::from_static(self.lang.tag()));
        r
    }
}

/// The text in the page's language.
pub(crate) fn t<'a>(l: Lang, zh: &'a str, en: &'a str) -> &'a str {
    match l {
        Lang::En => en,
        _ => zh,
    }
}

const STYLE: &str = "*{box-sizing:border-box}\
body{margin:0;font:16px/1.55 system-ui,-apple-system,'PingFang SC','Noto Sans CJK SC','Microsoft YaHei',sans-serif;color:#1f2328;background:#f4f6f8}\
header{background:#0b5d6b;color:#fff;padding:.6rem 0}header a{color:#fff}\
.top{display:flex;justify-content:space-between;align-items:baseline;gap:.5rem;max-width:56rem;margin:0 auto;padding:0 1rem}\
.brand{font-weight:700;font-size:1.1rem;text-decoration:none}.langs a{margin-left:.4rem}\
nav{display:flex;flex-wrap:wrap;gap:.15rem .9rem;max-width:56rem;margin:.35rem auto 0;padding:0 1rem;font-size:.95rem}\
main{max-width:56rem;margin:0 auto;padding:1rem}h1{font-size:1.45rem;margin:.3rem 0 .8rem}h2{font-size:1.15rem;margin:.2rem 0 .5rem}\
.ways{display:grid;grid-template-columns:repeat(auto-fit,minmax(17rem,1fr));gap:1rem;align-items:start}\
.card{background:#fff;border:1px solid #d0d7de;border-radius:12px;padding:1rem;margin:0 0 1rem}\
.ok{border-left:5px solid #1a7f37}.refused{border-left:5px solid #cf222e}.info{border-left:5px solid #0b5d6b}\
.qr{background:#fff;text-align:center}.qr svg{width:100%;max-width:14rem;height:auto}\
label{display:block;margin:.6rem 0 .2rem;font-weight:600}\
input[type=text]{width:100%;padding:.55rem;font-size:1rem;border:1px solid #8c959f;border-radius:8px}\
label.check,label.persona{font-weight:400;display:flex;gap:.5rem;align-items:flex-start}\
button,.button{display:inline-block;margin:.6rem .4rem 0 0;padding:.6rem 1.1rem;font-size:1rem;border-radius:8px;border:0;background:#0969da;color:#fff;cursor:pointer;text-decoration:none}\
button.danger{background:#cf222e}button.quiet{background:#57606a}\
.note{color:#57606a;font-size:.9rem}.code{font-family:ui-monospace,monospace;font-size:.85rem;word-break:break-all}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:.4rem 0}dt{color:#57606a}dd{margin:0;word-break:break-all}\
ul{padding-left:1.2rem;margin:.3rem 0}ol.card{padding-left:1rem;list-style:none}\
li.entry{padding:.45rem 0;border-bottom:1px solid #d0d7de}li.entry:last-child{border-bottom:0}\
blockquote{margin:.5rem 0;padding:.4rem .8rem;border-left:4px solid #d0d7de;color:#424a53}\
@media (max-width:30rem){dl{grid-template-columns:1fr}dt{margin-top:.3rem}}";

/// The frame of every page. `refresh`: reload at this URL after two seconds.
fn layout(l: Lang, title: &str, refresh: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(l.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                @if let Some(url) = refresh {
                    meta http-equiv="refresh" content=(format!("2;url={url}"));
                }
                title { (title) " — " (t(l, "示例商城", "Demo shop")) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    div.top {
                        a.brand href="/" { (t(l, "示例商城 · netid 演示", "Demo shop · netid demo")) }
                        span.langs {
                            a #lang-zh href="/lang/zh" lang="zh-CN" { "中文" }
                            a #lang-en href="/lang/en" lang="en" { "English" }
                        }
                    }
                    nav {
                        a href="/" { (t(l, "登录", "Sign in")) }
                        a href="/account" { (t(l, "我的账户", "Account")) }
                        a href="/adults" { (t(l, "酒类专区", "Wine (18+)")) }
                        a href="/profile" { (t(l, "个人资料", "Profile")) }
                        a href="/invoice" { (t(l, "实名发票", "Invoice")) }
                        a href="/audit" { (t(l, "审计链", "Audit chain")) }
                        a href="/phone" { (t(l, "手机（身份App）", "Phone (identity app)")) }
                    }
                }
                main { (body) }
            }
        }
    }
}

fn page(l: Lang, status: StatusCode, title: &str, refresh: Option<&str>, body: Markup) -> Page {
    Page {
        status,
        lang: l,
        markup: layout(l, title, refresh, body),
    }
}

/// A QR code of `payload` as inline SVG.
fn qr_svg(payload: &str) -> Markup {
    let svg = qrcode::QrCode::new(payload.as_bytes()).map(|code| {
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build()
    });
    match svg {
        // The renderer starts with an XML declaration, which has no place inside HTML.
        Ok(svg) => PreEscaped(
            svg.find("<svg")
                .map_or(svg.clone(), |i| svg[i..].to_owned()),
        ),
        Err(_) => PreEscaped(String::new()),
    }
}

/// The sign-in page: both ways side by side, equal in place, size and wording. With `shown`,
/// the 网号/网证 way shows its QR code and the page reloads until the sign-in ends.
pub(crate) fn sign_in(
    l: Lang,
    user: Option<&VerifiedUser>,
    shown: Option<&Shown>,
    error: Option<&Problem>,
) -> Page {
    let wait = shown.map(|s| format!("/netid/signin/wait?authz={}", s.authz_id));
    let body = html! {
        h1 { (t(l, "登录", "Sign in")) }
        p {
            (t(l, "两种方式任选其一，服务完全相同。", "Choose either way: the service is the same."))
            " "
            span.note { (t(l, "（《国家网络身份认证公共服务管理办法》第七条第三款）", "(Art. 7 §3 of the measures on the national network identity service)")) }
        }
        @if let Some(user) = user {
            div.card.info #signed-in {
                (t(l, "您已登录：", "You are signed in: "))
                a href="/account" { (short(user.subject())) }
            }
        }
        @if let Some(p) = error {
            div.card.refused #sign-in-refused {
                h2 { (p.localized_title()) }
                p { (p.localized_detail()) }
                p.note { (t(l, "代码 ", "code ")) span.code { (p.code) } }
            }
        }
        div.ways {
            section.card #way-netid {
                h2 { (t(l, "网号 / 网证", "网号 / 网证 (national network ID)")) }
                p { (t(l,
                    "用国家网络身份认证App扫码。本站只收到核验结果、年龄段和一个只在本站有效的代号，收不到您的姓名和证件号码。",
                    "Scan with the national network identity app. The site receives the result, your age band and a code valid here only — never your name or ID number.")) }
                @if let Some(s) = shown {
                    div.qr #qr role="img" aria-label=(t(l, "登录二维码", "sign-in QR code")) { (qr_svg(&s.qr_payload)) }
                    p {
                        (t(l, "用手机扫码，或 ", "Scan it with your phone, or "))
                        a #app-link href=(format!("/phone?authz={}", s.authz_id)) {
                            (t(l, "在本机打开身份App", "open the identity app on this device"))
                        }
                    }
                    p.note {
                        (t(l, "演示中，“身份App”是本站的手机页；真实网站链接到 ", "In this demo the “identity app” is the site's phone page; a real site links to "))
                        span.code { (s.app_link) }
                    }
                    p #waiting { (t(l, "等待您在App中确认……本页每两秒刷新。", "Waiting for you to answer in the app… this page refreshes every two seconds.")) }
                } @else {
                    form method="post" action="/netid/signin" {
                        button #start-netid type="submit" { (t(l, "用网号/网证登录", "Sign in with 网号/网证")) }
                    }
                }
            }
            section.card #way-other {
                h2 { (t(l, "证件核验", "ID document check")) }
                p { (t(l,
                    "本站自有的实名核验：姓名和居民身份证号码。本站只保存由号码算出的代号和年龄段，不保存姓名和号码。",
                    "The site's own real-name check: your name and resident ID number. The site keeps only a code derived from the number and your age band — not the name or the number.")) }
                form method="post" action="/signin/other" {
                    label for="name" { (t(l, "姓名", "Name")) }
                    input #name type="text" name="name" autocomplete="name" required;
                    label for="id_number" { (t(l, "居民身份证号码", "Resident ID number")) }
                    input #id_number type="text" name="id_number" inputmode="text" required;
                    label.check {
                        input type="checkbox" name="guardian_signed" value="yes";
                        span { (t(l, "不满十四周岁：监护人已签字同意", "Under 14: a parent or guardian has signed")) }
                    }
                    button #sign-in-other type="submit" { (t(l, "核验并登录", "Check and sign in")) }
                }
            }
        }
        p.note {
            (t(l,
                "这是演示：身份认证平台是内嵌的沙箱，“手机”页扮演身份App。证件核验可用 GB 11643 的示例号码 11010519491231002X（任意姓名）。",
                "This is a demo: the identity platform is the embedded sandbox, and the “phone” page plays the identity app. For the ID check, GB 11643's sample number 11010519491231002X works (any name)."))
        }
    };
    page(
        l,
        StatusCode::OK,
        t(l, "登录", "Sign in"),
        wait.as_deref(),
        body,
    )
}

fn persona_line(l: Lang, p: Persona) -> String {
    let doc = match p.document() {
        IdDocumentType::HkMacauTravelPermit => {
            t(l, "港澳居民来往内地通行证", "HK/Macau travel permit")
        }
        IdDocumentType::ForeignPermanentResidenceCard => t(
            l,
            "外国人永久居留身份证",
            "foreign permanent residence ID card",
        ),
        _ => t(l, "居民身份证", "resident ID card"),
    };
    let note = match p {
        Persona::Minor13WithGuardian => t(l, "，监护人已同意", ", guardian consented"),
        Persona::Minor13WithoutGuardian => t(l, "，监护人未同意", ", no guardian consent"),
        Persona::Declines => t(l, "，总是拒绝", ", always declines"),
        Persona::NeverAnswers => t(l, "，从不回答", ", never answers"),
        _ => "",
    };
    match l {
        Lang::En => format!("{} — {}, {} years, {doc}{note}", p.id(), p.name(), p.age()),
        _ => format!("{} — {}，{} 岁，{doc}{note}", p.id(), p.name(), p.age()),
    }
}

fn asks_text(l: Lang, asks: &Asks) -> String {
    match asks {
        Asks::VerifyOnly => t(l, "核验结果", "the verification result").to_owned(),
        Asks::AgeTag => t(
            l,
            "核验结果和年龄段（不含出生日期）",
            "the result and your age band (not your birth date)",
        )
        .to_owned(),
        Asks::Fields {
            fields,
            legal_basis,
        } => format!(
            "{}{}{}{legal_basis}",
            t(
                l,
                "核验结果和明文字段：",
                "the result and the plaintext fields "
            ),
            fields
                .iter()
                .map(|f| field_text(l, f.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
            t(l, "；依据 ", " under "),
        ),
        _ => t(
            l,
            "重新核验账户持有人",
            "a re-verification of the account's holder",
        )
        .to_owned(),
    }
}

fn field_text(l: Lang, wire: &str) -> String {
    match wire {
        "name" => t(l, "姓名", "name").to_owned(),
        "id_number" => t(l, "证件号码", "ID number").to_owned(),
        "id_type" => t(l, "证件类型", "document type").to_owned(),
        "birth_date" => t(l, "出生日期", "birth date").to_owned(),
        other => other.to_owned(),
    }
}

fn assurance_text(l: Lang, a: Assurance) -> String {
    let how = match a {
        Assurance::Credential => t(l, "仅网证", "the credential alone"),
        Assurance::CredentialPin => t(l, "网证 + 口令", "credential + PIN"),
        Assurance::CredentialFace => t(l, "网证 + 人脸", "credential + face"),
        _ => t(l, "网证 + 口令 + 人脸", "credential + PIN + face"),
    };
    format!("{} ({how})", a.mode_code())
}

/// The phone: the identity app as the sandbox plays it.
pub(crate) fn phone(
    l: Lang,
    pending: &[PendingRequest],
    done: Option<&str>,
    back: Option<&str>,
) -> Page {
    let body = html! {
        h1 { (t(l, "国家网络身份认证（演示App）", "National network identity (demo app)")) }
        p.note { (t(l, "本页扮演用户手机上的身份App：选择一个沙箱身份，查看网站请求什么、为什么，然后同意或拒绝。", "This page plays the identity app on the user's phone: pick a sandbox persona, see what the site asks for and why, then approve or decline.")) }
        @if let Some(done) = done {
            div.card.ok #answered {
                p { (if done == "denied" { t(l, "已拒绝。", "Declined.") } else { t(l, "已同意。", "Approved.") }) }
                @if let Some(authz) = back {
                    a.button #back-to-site href=(format!("/netid/signin/wait?authz={authz}")) { (t(l, "回到网站", "Back to the site")) }
                }
            }
        }
        @if pending.is_empty() {
            div.card #nothing-pending {
                (t(l, "没有待确认的请求。在网站上点“用网号/网证登录”后，请求会出现在这里。", "Nothing to answer. Press “Sign in with 网号/网证” on the site and the request appears here."))
            }
        }
        @for (i, p) in pending.iter().enumerate() {
            section.card.info.request #(format!("request-{}", p.authz_id)) {
                h2 { (if p.app_id == "app_demo_site" { t(l, "示例商城", "Demo shop") } else { &p.app_id }) " " span.note { "(" (p.app_id) ")" } }
                dl {
                    dt { (t(l, "用途（网站说明的理由）", "Why (the site's purpose)")) }
                    dd.purpose { (p.purpose) }
                    dt { (t(l, "请求", "Asks for")) }
                    dd.asks { (asks_text(l, &p.asks)) }
                    dt { (t(l, "核验方式", "How you verify")) }
                    dd { (assurance_text(l, p.min_assurance)) }
                }
                p { strong { (t(l, "网站将得到：", "The site will get: ")) }
                    (t(l, "核验结果；", "the result; "))
                    @if matches!(p.asks, Asks::AgeTag) { (t(l, "年龄段；", "your age band; ")) }
                    (t(l, "一个只在该网站有效的代号。", "a code valid at that site only.")) }
                p { strong { (t(l, "网站不会得到：", "The site will not get: ")) }
                    @if matches!(p.asks, Asks::Fields { .. }) {
                        (t(l, "上面未列出的任何身份信息；网号本身。", "any identity data not listed above; your 网号 itself."))
                    } @else {
                        (t(l, "您的姓名、证件号码、出生日期、网号本身。", "your name, ID number, birth date, or your 网号 itself."))
                    }
                }
                form method="post" action="/phone/decide" {
                    input type="hidden" name="authz" value=(p.authz_id.as_str());
                    fieldset {
                        legend { (t(l, "以哪个沙箱身份回答", "Answer as sandbox persona")) }
                        @for (j, persona) in Persona::ALL.iter().enumerate() {
                            label.persona {
                                @if j == 0 {
                                    input type="radio" name="persona" value=(persona.id()) checked;
                                } @else {
                                    input type="radio" name="persona" value=(persona.id());
                                }
                                span { (persona_line(l, *persona)) }
                            }
                        }
                    }
                    button.approve #(format!("approve-{i}")) name="decision" value="approve" { (t(l, "同意", "Approve")) }
                    button.quiet.decline #(format!("decline-{i}")) name="decision" value="deny" { (t(l, "拒绝", "Decline")) }
                }
            }
        }
    };
    page(
        l,
        StatusCode::OK,
        t(l, "身份App", "Identity app"),
        None,
        body,
    )
}

fn short(subject: &str) -> String {
    if subject.chars().count() > 24 {
        format!("{}…", subject.chars().take(24).collect::<String>())
    } else {
        subject.to_owned()
    }
}

fn band_text(l: Lang, band: Option<AgeTag>) -> &'static str {
    match band {
        Some(AgeTag::Under14) => t(l, "不满十四周岁", "under 14"),
        Some(AgeTag::Age14To17) => t(l, "十四至十七周岁", "14 to 17"),
        Some(AgeTag::Adult) => t(l, "成年", "adult"),
        Some(AgeTag::Senior) => t(l, "老年（60 岁以上）", "senior (60+)"),
        Some(_) => t(l, "其他", "other"),
        None => t(l, "未询问", "not asked"),
    }
}

/// `YYYY-MM-DD HH:MM` in China Standard Time (UTC+8).
fn beijing_time(unix: u64) -> String {
    let secs = unix + 8 * 3600;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // H. Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rem / 3600,
        rem / 60 % 60
    )
}

/// How the user signed in, from the subject's namespace: the other way's subjects are
/// `method:id` (netid prefixes them), 网号/网证 pseudonyms have no `:`.
fn other_way(user: &VerifiedUser) -> bool {
    user.subject().contains(':')
}

/// What the site knows about the signed-in user, and what it does not.
pub(crate) fn account(l: Lang, user: &VerifiedUser) -> Page {
    let body = html! {
        h1 { (t(l, "我的账户", "Your account")) }
        section.card.ok #account {
            h2 { (t(l, "本站知道的", "What the site knows")) }
            dl {
                dt { (t(l, "登录方式", "Signed in with")) }
                dd #method { (if other_way(user) { t(l, "证件核验（本站自有方式）", "ID document check (the site's own way)") } else { t(l, "网号/网证", "网号/网证") }) }
                dt { (t(l, "代号", "Pseudonym")) }
                dd.code #subject { (user.subject()) }
                dt { (t(l, "核验等级", "Assurance")) }
                dd #assurance { (assurance_text(l, user.assurance())) }
                dt { (t(l, "年龄段", "Age band")) }
                dd #age-band { (band_text(l, user.age_tag())) }
                dt { (t(l, "核验时间", "Verified at")) }
                dd { (beijing_time(user.verified_at())) " (UTC+8)" }
            }
        }
        section.card #not-known {
            h2 { (t(l, "本站不知道的", "What the site does not know")) }
            ul {
                @if other_way(user) {
                    li { (t(l, "您的姓名和证件号码：核验时用过，没有保存。代号是由号码算出的密钥摘要，算不回号码。", "Your name and ID number: used for the check, not kept. The pseudonym is a keyed digest of the number and cannot be turned back into it.")) }
                    li { (t(l, "您的出生日期：只保存了由它得出的年龄段。", "Your birth date: only the age band derived from it is kept.")) }
                } @else {
                    li { (t(l, "您的姓名、证件号码、证件类型：身份认证平台没有给本站。", "Your name, ID number and document type: the identity platform did not give them to the site.")) }
                    li { (t(l, "您的出生日期：只有年龄段。", "Your birth date: only your age band.")) }
                    li { (t(l, "您的网号：本站的代号只在本站有效，别的网站看到的是另一个代号，无法互相关联。", "Your 网号: the pseudonym is valid at this site only; other sites see a different one and cannot link them.")) }
                }
                li { (t(l, "您的手机号、住址和其他任何信息。", "Your phone number, address, or anything else.")) }
            }
        }
        section.card {
            form method="post" action="/signout" style="display:inline" {
                button.quiet #sign-out type="submit" { (t(l, "退出登录", "Sign out")) }
            }
            form method="post" action="/erase" style="display:inline" {
                button.danger #erase type="submit" { (t(l, "删除我的数据", "Delete my data")) }
            }
            p.note { (t(l,
                "删除会撤回您在本站的全部同意、使所有会话失效，并给您一张删除回执（《个人信息保护法》第四十七条）。审计链保留这次删除的记录（只有代号和结果）。",
                "Deleting withdraws all your consents here, ends every session, and gives you a deletion receipt (PIPL Art. 47). The audit chain keeps a record of the deletion (pseudonym and outcome only).")) }
        }
    };
    page(
        l,
        StatusCode::OK,
        t(l, "我的账户", "Your account"),
        None,
        body,
    )
}

/// The age-restricted page; netid's age gate has already let the user through.
pub(crate) fn adults(l: Lang, user: &VerifiedUser) -> Page {
    let body = html! {
        h1 { (t(l, "酒类专区（仅限成年人）", "Wine (adults only)")) }
        section.card.ok #adults-ok {
            p { (t(l, "欢迎。您的年龄段：", "Welcome. Your age band: ")) strong { (band_text(l, user.age_tag())) } }
            ul {
                li { (t(l, "宁夏贺兰山东麓干红 2021 — ¥168", "Helan Mountain dry red 2021 — ¥168")) }
                li { (t(l, "绍兴黄酒（十年陈）— ¥88", "Shaoxing yellow wine, 10 years — ¥88")) }
            }
            p.note { (t(l,
                "本页由 netid 的年龄关卡保护：只看年龄段，不看出生日期；未成年人和没有年龄段的核验都会被拒绝（403）。",
                "netid's age gate guards this page: it reads the age band, never a birth date; minors, and verifications without an age band, are refused (403).")) }
        }
    };
    page(l, StatusCode::OK, t(l, "酒类专区", "Wine"), None, body)
}

/// What the profile form received.
pub(crate) struct Saved {
    pub(crate) nickname: String,
    pub(crate) id_number_chars: usize,
}

/// A profile form that asks for an ID number: refused by netid for 网号/网证 users.
pub(crate) fn profile(l: Lang, _user: &VerifiedUser, saved: Option<&Saved>) -> Page {
    let body = html! {
        h1 { (t(l, "个人资料", "Profile")) }
        @if let Some(s) = saved {
            section.card.ok #profile-saved {
                p { (t(l, "已保存昵称：", "Nickname saved: ")) strong { (s.nickname) } }
                p { @if s.id_number_chars > 0 {
                    (t(l, "收到证件号码（", "ID number received ("))
                    (s.id_number_chars)
                    (t(l, " 位；本演示不保存，也不显示）。", " characters; this demo neither keeps nor shows it)."))
                } @else {
                    (t(l, "没有填写证件号码。", "No ID number was given."))
                } }
            }
        }
        section.card {
            form method="post" action="/profile" {
                label for="nickname" { (t(l, "昵称", "Nickname")) }
                input #nickname type="text" name="nickname" required;
                label for="profile_id_number" { (t(l, "身份证号码（选填）", "ID number (optional)")) }
                input #profile_id_number type="text" name="id_number";
                button #save-profile type="submit" { (t(l, "保存", "Save")) }
            }
            p.note { (t(l,
                "用网号/网证登录的用户，本站不得要求另行提供明文身份信息（第七条第二款）：带证件号码的提交会被 netid 拒绝。用证件核验登录的用户可以填写。",
                "A user who signed in with 网号/网证 may not be asked for plaintext identity data again (Art. 7 §2): netid refuses a submission with an ID number. A user of the ID check may fill it in.")) }
        }
    };
    page(l, StatusCode::OK, t(l, "个人资料", "Profile"), None, body)
}

/// The consent page: what the invoice needs, why, under which rule, and the receipt.
pub(crate) fn invoice(
    l: Lang,
    _user: &VerifiedUser,
    receipt: Option<&serde_json::Value>,
    issued: Option<bool>,
) -> Page {
    let body = html! {
        h1 { (t(l, "实名发票", "Invoice in your legal name")) }
        section.card.info #consent {
            h2 { (t(l, "需要您同意提供的信息", "What we ask you to agree to provide")) }
            dl {
                dt { (t(l, "用途", "Purpose")) }
                dd #consent-purpose { (INVOICE_PURPOSE) (t(l, "", " (issue an invoice in your legal name)")) }
                dt { (t(l, "字段", "Fields")) }
                dd { (t(l, "姓名、证件号码", "name, ID number")) }
                dt { (t(l, "依据", "Legal basis")) }
                dd #legal-basis {
                    (t(l, "您的同意：《国家网络身份认证公共服务管理办法》第七条第二款的“用户同意提供的除外”；《个人信息保护法》第十三条第一款第一项（取得个人的同意）。",
                          "Your consent: the exception “unless the user agrees to provide it” of Art. 7 §2 of the measures; PIPL Art. 13 §1 item 1 (the individual's consent)."))
                }
            }
            blockquote lang="zh-CN" { "互联网平台接入公共服务后，用户选择使用网号、网证登记、核验真实身份信息并通过验证的，互联网平台不得要求用户另行提供明文身份信息，法律、行政法规另有规定或者用户同意提供的除外。" }
            p.note { (t(l,
                "不同意也可以：不开实名发票，其他服务不受影响。同意可随时撤回（POST /netid/consent/withdraw，或在账户页删除数据）。",
                "You may say no: no invoice in your name, and nothing else changes. You can withdraw at any time (POST /netid/consent/withdraw, or delete your data on the account page).")) }
            form method="post" action="/invoice/consent" {
                button #agree type="submit" { (t(l, "我同意为开具发票提供姓名和证件号码", "I agree to provide my name and ID number for the invoice")) }
            }
        }
        @if let Some(r) = receipt {
            section.card.ok #consent-receipt {
                h2 { (t(l, "同意回执", "Consent receipt")) }
                dl {
                    dt { (t(l, "回执编号", "Receipt id")) } dd.code #receipt-id { (r["id"].as_str().unwrap_or_default()) }
                    dt { (t(l, "用途", "Purpose")) } dd { (r["purpose"].as_str().unwrap_or_default()) }
                    dt { (t(l, "字段", "Fields")) } dd { (r["fields"].as_array().map(|a| a.iter().filter_map(|f| f.as_str()).map(|f| field_text(l, f)).collect::<Vec<_>>().join(t(l, "、", ", "))).unwrap_or_default()) }
                    dt { (t(l, "时间", "When")) } dd { (beijing_time(r["granted_at"].as_u64().unwrap_or_default())) " (UTC+8)" }
                }
            }
        }
        @if let Some(ok) = issued {
            section.card.ok #invoice-issued {
                @if ok { (t(l, "发票已开具（演示：未保存您的姓名和号码）。", "Invoice issued (demo: your name and number were not kept).")) }
                @else { (t(l, "请填写姓名和证件号码。", "Fill in your name and ID number.")) }
            }
        }
        section.card {
            form method="post" action="/invoice" {
                label for="real_name" { (t(l, "姓名", "Name")) }
                input #real_name type="text" name="real_name" required;
                label for="invoice_id_number" { (t(l, "证件号码", "ID number")) }
                input #invoice_id_number type="text" name="id_number" required;
                button #issue-invoice type="submit" { (t(l, "开具发票", "Issue the invoice")) }
            }
            p.note { (t(l,
                "用网号/网证登录的用户须先在上面同意，否则提交会被拒绝；用证件核验登录的用户可直接填写。",
                "A 网号/网证 user must agree above first, or the submission is refused; a user of the ID check may fill it in directly.")) }
        }
    };
    page(l, StatusCode::OK, t(l, "实名发票", "Invoice"), None, body)
}

/// The deletion receipt.
pub(crate) fn erased(l: Lang, r: &DeletionReceipt) -> Page {
    let body = html! {
        h1 { (t(l, "您的数据已删除", "Your data has been deleted")) }
        section.card.ok #deletion-receipt {
            h2 { (t(l, "删除回执", "Deletion receipt")) }
            dl {
                dt { (t(l, "回执编号", "Receipt id")) } dd.code { (r.id) }
                dt { (t(l, "代号", "Pseudonym")) } dd.code { (r.subject) }
                dt { (t(l, "删除时间", "Deleted at")) } dd { (beijing_time(r.erased_at)) " (UTC+8)" }
                dt { (t(l, "撤回的同意", "Consents withdrawn")) } dd #consents-withdrawn { (r.consents_withdrawn) }
                dt { (t(l, "删除的密封字段", "Sealed fields deleted")) } dd { (r.sealed_records_erased) }
                dt { (t(l, "会话", "Sessions")) } dd { (t(l, "此前签发的全部失效", "every one issued before now is refused")) }
                dt { (t(l, "审计记录", "Audit entry")) } dd.code #audit-seq { "seq " (r.audit_seq) " · " (r.audit_hash) }
            }
            p.note { (t(l,
                "审计记录的哈希涵盖它之前的每一条记录：这张回执可以在审计链上核对。",
                "The audit entry's hash covers every entry before it: this receipt can be checked against the audit chain.")) }
            a.button href="/audit" { (t(l, "查看审计链", "See the audit chain")) }
            a.button href="/" { (t(l, "回到登录", "Back to sign-in")) }
        }
    };
    page(
        l,
        StatusCode::OK,
        t(l, "删除回执", "Deletion receipt"),
        None,
        body,
    )
}

/// The audit log and the verdict on its chain.
pub(crate) fn audit(
    l: Lang,
    _user: Option<&VerifiedUser>,
    entries: &[AuditEntry],
    verdict: &Result<ChainHead, AuditError>,
) -> Page {
    let body = html! {
        h1 { (t(l, "审计链", "Audit chain")) }
        @match verdict {
            Ok(head) => {
                section.card.ok #chain-ok {
                    h2 { "✓ " (t(l, "链完整", "The chain verifies")) }
                    p { (head.entries) (t(l, " 条记录，最后一条 seq ", " entries, last seq ")) (head.last_seq) }
                    p.code { (t(l, "链头 ", "head ")) (head.head) }
                }
            }
            Err(e) => {
                section.card.refused #chain-broken {
                    h2 { "✗ " (t(l, "链已断开", "The chain is broken")) }
                    p.code { (e.to_string()) }
                }
            }
        }
        p.note { (t(l,
            "每条记录的 SM3 哈希涵盖上一条的哈希：改动或删除任何一条，从头验证时都会在那一条失败。记录只有代号、结果和字段名，从不含姓名或号码。命令行也能检查：netid audit verify。",
            "Each entry's SM3 hash covers the previous entry's hash: editing or deleting any entry makes verification from the start fail at that entry. Entries hold pseudonyms, outcomes and field names, never names or numbers. The command line checks the same: netid audit verify.")) }
        ol.card #audit-entries {
            @for e in entries {
                li.entry {
                    strong { "#" (e.seq) " " (e.event.action.as_str()) " → " (e.event.outcome) }
                    " " span.note { (e.event.method) " · " (beijing_time(e.event.at)) }
                    @if let Some(r) = &e.event.reason { " " span.note { "(" (r) ")" } }
                    @if !e.event.fields.is_empty() {
                        " " span.note { (t(l, "字段名：", "field names: ")) (e.event.fields.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")) }
                    }
                    br;
                    span.code { (e.event.subject.as_deref().map(short).unwrap_or_else(|| "—".to_owned())) }
                    " · " span.code { "SM3 " (e.hash.get(..16).unwrap_or(&e.hash)) "…" }
                }
            }
        }
    };
    page(l, StatusCode::OK, t(l, "审计链", "Audit chain"), None, body)
}

/// A refusal from netid, as a page: what was refused, why, its code, and what to do next.
pub(crate) fn refusal(p: &Problem) -> Page {
    let l = p.lang;
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let consent = p.extra.as_deref().and_then(|e| e.get("consent")).is_some();
    let body = html! {
        h1 { (p.localized_title()) }
        section.card.refused #refusal {
            p #refusal-detail { (p.localized_detail()) }
            p.note { (t(l, "代码 ", "code ")) span.code #refusal-code { (p.code) } " · HTTP " (p.status) }
            @match p.code {
                "netid.extra_plaintext" => {
                    p { (t(l,
                        "您用网号/网证登录，本站已经知道您通过了实名核验，不需要您的证件号码。请删掉它再提交。",
                        "You signed in with 网号/网证: the site already knows you passed a real-name check and does not need your ID number. Remove it and submit again.")) }
                    @if consent {
                        p { (t(l, "如果您愿意提供，请先", "If you want to provide it, first ")) a #consent-link href="/invoice" { (t(l, "在同意页表示同意", "agree on the consent page")) } (t(l, "。", ".")) }
                    }
                }
                "netid.unauthenticated" | "netid.session_invalid" | "netid.session_expired" | "netid.session_revoked" => {
                    a.button href="/" { (t(l, "去登录", "Sign in")) }
                }
                "netid.age_minor" | "netid.age_unknown" | "netid.age_under_14" | "netid.age_band_not_allowed" => {
                    p { (t(l, "本站只根据年龄段判断，不知道您的出生日期。", "The site decides on your age band alone; it does not know your birth date.")) }
                }
                _ => {}
            }
            p { a href="/account" { (t(l, "回到我的账户", "Back to your account")) } }
        }
    };
    page(l, status, p.localized_title(), None, body)
}

/// A plain message page.
pub(crate) fn message(l: Lang, status: StatusCode, title: &str, text: &str) -> Page {
    let body = html! {
        h1 { (title) }
        section.card.refused #message { p { (text) } }
    };
    page(l, status, title, None, body)
}
