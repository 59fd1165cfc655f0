//! What the law asks of the middleware, as a browser sees it through a real axum server and a
//! real actix-web server, over sockets (issue 13):
//!
//! * Item 7 — every refusal the middleware and its login routes send (400, 401, 403, 413, 415,
//!   422, 429 and 503) in zh-CN and in English, chosen by `Accept-Language` (zh-CN when the
//!   header is absent or names neither), with its stable code and a `type` under the base the
//!   app configured (`problem_type_base`).
//! * Item 3 — a user volunteers plaintext identity data on a route that allows it (Art. 7 §2,
//!   用户同意提供的除外): the refusal says what is asked and why, the user agrees, netid records
//!   the receipt in the consent ledger and the audit log, only then does the data pass; the
//!   withdrawal is recorded too, and the data is refused again.
//!
//! The expected titles are written out here, as the README and docs/COMPLIANCE.md promise them
//! to users, not read back from netid's registry.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use netid::audit::{AuditAction, AuditLog, InMemoryAuditLog};
use netid::client::VerificationRequest;
use netid::model::FieldName;
use netid::policy::{
    AgeGate, ConsentLedger, LoginFlow, PlaintextRule, RoutePolicy, Rules, SessionManager,
};
use netid::sandbox::{Persona, Sandbox};
use netid::store::{InMemoryConsentLedger, RetentionPolicy};

use crate::scenarios::{Harness, Req, Resp, StaffCheck, sign_in_netid, sign_in_other};

/// The problem `type` base both servers are configured with.
const BASE: &str = "https://shop.example/problems/";
/// The body limit of the rules.
const MAX_BODY: usize = 1024;
/// A resident ID number (GB 11643's example, check character X).
const ID: &str = "11010519491231002X";

/// The languages a browser may ask for, and which of the two it must get.
const LANGS: &[(Option<&str>, Lang)] = &[
    (None, Lang::Zh),
    (Some("zh-CN,zh;q=0.9,en;q=0.8"), Lang::Zh),
    (Some("fr-FR,fr;q=0.9"), Lang::Zh),
    (Some("en-US,en;q=0.9"), Lang::En),
    (Some("zh;q=0.3, en-GB;q=0.7"), Lang::En),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Zh,
    En,
}

/// One refusal as a user sees it: status, code, and the title in each language.
struct Expected {
    status: u16,
    code: &'static str,
    zh: &'static str,
    en: &'static str,
}

const UNAUTHENTICATED: Expected = Expected {
    status: 401,
    code: "netid.unauthenticated",
    zh: "需要登录",
    en: "Sign-in required",
};
const SESSION_INVALID: Expected = Expected {
    status: 401,
    code: "netid.session_invalid",
    zh: "需要登录",
    en: "Sign-in required",
};
const GUARDIAN: Expected = Expected {
    status: 403,
    code: "netid.guardian_consent_required",
    zh: "需要监护人同意",
    en: "A parent's or guardian's consent is needed",
};
const AGE_MINOR: Expected = Expected {
    status: 403,
    code: "netid.age_minor",
    zh: "您的年龄不适用",
    en: "Not available at your age",
};
const AGE_UNKNOWN: Expected = Expected {
    status: 403,
    code: "netid.age_unknown",
    zh: "需要年龄信息",
    en: "Age band needed",
};
const TOO_LARGE: Expected = Expected {
    status: 413,
    code: "netid.payload_too_large",
    zh: "请求体过大",
    en: "Body too large",
};
const COMPRESSED: Expected = Expected {
    status: 415,
    code: "netid.compressed_body",
    zh: "不支持压缩的请求体",
    en: "Compressed body",
};
const EXTRA_PLAINTEXT: Expected = Expected {
    status: 422,
    code: "netid.extra_plaintext",
    zh: "不收集明文身份信息",
    en: "Extra plaintext identity data",
};
const INVALID_JSON: Expected = Expected {
    status: 400,
    code: "netid.invalid_json",
    zh: "JSON 格式错误",
    en: "Invalid JSON",
};
const RATE_LIMITED: Expected = Expected {
    status: 429,
    code: "netid.rate_limited",
    zh: "请求过多",
    en: "Too many requests",
};
const UNAVAILABLE: Expected = Expected {
    status: 503,
    code: "netid.unavailable",
    zh: "服务暂不可用",
    en: "Temporarily unavailable",
};

/// Checks one refusal against what it must be in `lang`.
fn check(what: &str, lang: Lang, r: &Resp, e: &Expected) {
    let body = String::from_utf8_lossy(&r.body);
    assert_eq!(r.status, e.status, "{what} ({lang:?}): {body}");
    let json = r.json();
    assert_eq!(json["code"], e.code, "{what} ({lang:?}): {body}");
    assert_eq!(json["status"], e.status, "{what} ({lang:?})");
    assert_eq!(
        json["type"],
        format!("{BASE}{}", e.code),
        "{what}: the configured base"
    );
    let header = |name: &str| {
        r.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        header("content-type"),
        ["application/problem+json"],
        "{what}"
    );
    let (title, tag) = match lang {
        Lang::Zh => (e.zh, "zh-CN"),
        Lang::En => (e.en, "en"),
    };
    assert_eq!(json["title"], title, "{what} ({lang:?})");
    assert_eq!(header("content-language"), [tag], "{what} ({lang:?})");
    // The detail is in the same language: Chinese characters in zh-CN, none in English.
    let detail = json["detail"].as_str().unwrap_or_default();
    let chinese = detail
        .chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    match lang {
        Lang::Zh => assert!(chinese, "{what}: zh-CN detail {detail:?}"),
        // 网号/网证 is a name, kept in Chinese in the English text; nothing else is.
        Lang::En => assert!(
            !detail
                .replace("网号/网证", "")
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
                && !detail.is_empty(),
            "{what}: English detail {detail:?}"
        ),
    }
    assert!(
        !body.contains(ID) && !body.contains("19491231"),
        "{what}: a refusal never echoes the value"
    );
}

struct App {
    sandbox: Sandbox,
    login: LoginFlow,
    rules: Rules,
    audit: Arc<InMemoryAuditLog>,
    consents: Arc<InMemoryConsentLedger>,
}

/// The purpose the `/vip` route offers, and how long its data may be kept.
const VIP: &str = "会员实名";
const VIP_DAYS: u64 = 90;

async fn app() -> App {
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.register_app("app_langs");
    let client = sandbox.client_builder(&app).build().unwrap();
    let sessions = SessionManager::builder("app_langs")
        .key("s1", &[5u8; 32])
        .build()
        .unwrap();
    let audit = Arc::new(InMemoryAuditLog::new());
    let consents = Arc::new(InMemoryConsentLedger::default());
    let login = LoginFlow::builder(client, sessions)
        .verifier(Arc::new(StaffCheck))
        .request(VerificationRequest::age_tag("登录 / sign-in"))
        .audit(audit.clone())
        .consents(consents.clone())
        .retention(
            RetentionPolicy::new()
                .purpose(VIP, std::time::Duration::from_secs(VIP_DAYS * 24 * 3600)),
        )
        // Two logins in progress at once, one per client address: the third start is 503 and
        // a second start from one address 429.
        .pending_limits(2, 1)
        .build();
    let rules = Rules::builder()
        .max_body(MAX_BODY)
        .route(
            "/adult",
            RoutePolicy::default().with_age_gate(AgeGate::adults_only()),
        )
        .route(
            "/vip",
            RoutePolicy::plaintext(PlaintextRule::AllowWithConsent {
                purpose: VIP.into(),
            }),
        )
        .consents(consents.clone())
        .try_build()
        .unwrap();
    App {
        sandbox,
        login,
        rules,
        audit,
        consents,
    }
}

mod axum_app {
    use axum::Router;
    use axum::body::Bytes;
    use axum::routing::{get, post};
    use netid::axum::NetId;
    use netid::policy::VerifiedUser;

    async fn me(u: VerifiedUser) -> String {
        u.subject().to_owned()
    }
    async fn echo(_u: VerifiedUser, b: Bytes) -> Bytes {
        b
    }

    pub(super) fn app(netid: &NetId) -> Router {
        Router::new()
            .route("/me", get(me))
            .route("/adult", get(me))
            .route("/profile", post(echo))
            .route("/vip", post(echo))
            .merge(netid.routes())
            .layer(netid.layer())
    }
}

mod actix_app {
    use actix_web::{HttpResponse, web};
    use netid::policy::VerifiedUser;

    async fn me(u: VerifiedUser) -> HttpResponse {
        HttpResponse::Ok().body(u.subject().to_owned())
    }
    async fn echo(_u: VerifiedUser, b: web::Bytes) -> HttpResponse {
        HttpResponse::Ok().body(b)
    }

    pub(super) fn configure(cfg: &mut web::ServiceConfig) {
        cfg.route("/me", web::get().to(me))
            .route("/adult", web::get().to(me))
            .route("/profile", web::post().to(echo))
            .route("/vip", web::post().to(echo));
    }
}

async fn serve_axum(w: &App) -> SocketAddr {
    let netid = netid::axum::NetId::new(w.login.clone(), w.rules.clone())
        .insecure_cookies_for_local_development()
        .problem_type_base(BASE);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // With the peer's address, as the README asks, so logins are capped per client.
    let app = axum_app::app(&netid).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn serve_actix(w: &App) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (login, rules) = (w.login.clone(), w.rules.clone());
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let netid = netid::actix::NetId::new(login, rules)
                .insecure_cookies_for_local_development()
                .problem_type_base(BASE);
            actix_web::HttpServer::new(move || {
                let netid = netid.clone();
                actix_web::App::new()
                    .configure(actix_app::configure)
                    .configure(|cfg| netid.configure(cfg))
                    .wrap(netid.middleware())
            })
            .workers(1)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run()
            .await
            .unwrap();
        });
    });
    addr
}

/// A browser at a loopback address of its own (127.0.0.x), over a real socket.
struct Socket {
    server: SocketAddr,
    client: reqwest::Client,
}

impl Socket {
    fn from(server: SocketAddr, source: [u8; 4]) -> Self {
        let client = reqwest::Client::builder()
            .local_address(IpAddr::from(source))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Socket { server, client }
    }
}

#[async_trait::async_trait]
impl Harness for Socket {
    async fn send(&self, r: Req) -> Resp {
        let url = format!("http://{}{}", self.server, r.path);
        let mut b = self.client.request(
            reqwest::Method::from_bytes(r.method.as_bytes()).unwrap(),
            url,
        );
        for (k, v) in &r.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        let resp = b.body(r.body).send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let body = resp.bytes().await.unwrap().to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }
}

fn req(method: &'static str, path: &str, lang: Option<&str>) -> Req {
    let mut headers = Vec::new();
    if let Some(lang) = lang {
        headers.push(("accept-language".to_owned(), lang.to_owned()));
    }
    Req {
        method,
        path: path.to_owned(),
        headers,
        body: Vec::new(),
    }
}

fn cookie(mut r: Req, name: &str, value: &str) -> Req {
    r.headers.push(("cookie".into(), format!("{name}={value}")));
    r
}

fn json(mut r: Req, body: &str) -> Req {
    r.headers
        .push(("content-type".into(), "application/json".into()));
    r.body = body.as_bytes().to_vec();
    r
}

/// The whole catalogue of refusals against one server.
async fn every_refusal_in_both_languages(adapter: &str, w: &App, addr: SocketAddr) {
    let one = Socket::from(addr, [127, 0, 0, 1]);
    let netid_adult = sign_in_netid(&one, &w.sandbox, Persona::Adult).await;
    let netid_teen = sign_in_netid(&one, &w.sandbox, Persona::Minor16).await;
    let other = sign_in_other(&one, "staff-7", None).await;

    for &(accept, lang) in LANGS {
        let what = |s: &str| format!("{adapter}: {s}, Accept-Language {accept:?}");
        let session = |r: Req, s: &str| cookie(r, "netid_session", s);

        // 401: no session; a forged one.
        let r = one.send(req("GET", "/me", accept)).await;
        check(&what("no session"), lang, &r, &UNAUTHENTICATED);
        let r = one
            .send(session(req("GET", "/me", accept), "forged.token.value"))
            .await;
        check(&what("forged session"), lang, &r, &SESSION_INVALID);

        // 403: the login of a child without a guardian's consent (Art. 5 §2), and age gates.
        let start = one.send(req("POST", "/netid/login/start", accept)).await;
        assert_eq!(start.status, 201, "{}", what("start"));
        let binding = start.set_cookie("netid_login").unwrap();
        let authz =
            netid::model::AuthzId::parse(start.json()["authz_id"].as_str().unwrap()).unwrap();
        w.sandbox
            .approve(&authz, Persona::Minor13WithoutGuardian)
            .unwrap();
        let r = one
            .send(cookie(
                req("POST", "/netid/login/poll", accept),
                "netid_login",
                &binding,
            ))
            .await;
        check(&what("child without consent"), lang, &r, &GUARDIAN);
        let detail = r.json()["detail"].as_str().unwrap_or_default().to_owned();
        match lang {
            // It tells the family what to do.
            Lang::Zh => assert!(
                detail.contains("监护人") && detail.contains("国家网络身份认证App"),
                "{detail}"
            ),
            Lang::En => assert!(
                detail.contains("parent or guardian") && detail.contains("identity app"),
                "{detail}"
            ),
        }
        let r = one
            .send(session(req("GET", "/adult", accept), &netid_teen))
            .await;
        check(&what("16-year-old at /adult"), lang, &r, &AGE_MINOR);
        let r = one
            .send(session(req("GET", "/adult", accept), &other))
            .await;
        check(&what("no age band at /adult"), lang, &r, &AGE_UNKNOWN);

        // 413: a body over the limit, as declared.
        let big = format!(r#"{{"note":"{}"}}"#, "a".repeat(MAX_BODY * 2));
        let r = one
            .send(session(
                json(req("POST", "/profile", accept), &big),
                &netid_adult,
            ))
            .await;
        check(&what("body over the limit"), lang, &r, &TOO_LARGE);

        // 415: a compressed body from a 网证 user.
        let mut gz = session(
            json(req("POST", "/profile", accept), r#"{"note":"x"}"#),
            &netid_adult,
        );
        gz.headers.push(("content-encoding".into(), "gzip".into()));
        let r = one.send(gz).await;
        check(&what("compressed body"), lang, &r, &COMPRESSED);

        // 422: plaintext identity data from a 网证 user (Art. 7 §2).
        let r = one
            .send(session(
                json(
                    req("POST", "/profile", accept),
                    &format!(r#"{{"idNo":"{ID}"}}"#),
                ),
                &netid_adult,
            ))
            .await;
        check(&what("ID number"), lang, &r, &EXTRA_PLAINTEXT);
        let detail = r.json()["detail"].as_str().unwrap_or_default().to_owned();
        assert_eq!(
            detail.contains("第七条第二款"),
            lang == Lang::Zh,
            "{detail}"
        );

        // 400: a body that is not what it declares.
        let r = one
            .send(session(
                json(req("POST", "/profile", accept), "{\"a\":"),
                &netid_adult,
            ))
            .await;
        check(&what("invalid JSON"), lang, &r, &INVALID_JSON);
    }

    // 429 and 503: the caps on logins in progress (2 in all, 1 per address).
    let first = one.send(req("POST", "/netid/login/start", None)).await;
    assert_eq!(first.status, 201, "{adapter}: first start");
    for &(accept, lang) in LANGS {
        let r = one.send(req("POST", "/netid/login/start", accept)).await;
        check(
            &format!("{adapter}: a second login from one address, {accept:?}"),
            lang,
            &r,
            &RATE_LIMITED,
        );
    }
    let two = Socket::from(addr, [127, 0, 0, 2]);
    let second = two.send(req("POST", "/netid/login/start", None)).await;
    assert_eq!(second.status, 201, "{adapter}: another address may start");
    let three = Socket::from(addr, [127, 0, 0, 3]);
    for &(accept, lang) in LANGS {
        let r = three.send(req("POST", "/netid/login/start", accept)).await;
        check(
            &format!("{adapter}: a login past the total cap, {accept:?}"),
            lang,
            &r,
            &UNAVAILABLE,
        );
    }
}

/// Art. 7 §2's own exception, 用户同意提供的除外, end to end against one server.
async fn a_user_volunteers_plaintext_with_a_recorded_receipt(
    adapter: &str,
    w: &App,
    addr: SocketAddr,
) {
    let h = Socket::from(addr, [127, 0, 0, 1]);
    let session = sign_in_netid(&h, &w.sandbox, Persona::Adult).await;
    let me = h
        .send(cookie(req("GET", "/me", None), "netid_session", &session))
        .await;
    let subject = String::from_utf8(me.body).unwrap();
    let vip = || {
        cookie(
            json(req("POST", "/vip", None), &format!(r#"{{"idNo":"{ID}"}}"#)),
            "netid_session",
            &session,
        )
    };
    // What is asked, and why: the refusal names the purpose, the fields and where to agree.
    let refused = h.send(vip()).await;
    assert_eq!(refused.status, 422, "{adapter}");
    let offer = refused.json()["consent"].clone();
    assert_eq!(offer["purpose"], VIP, "{adapter}: {offer}");
    assert_eq!(
        offer["fields"],
        serde_json::json!(["id_number"]),
        "{adapter}"
    );
    let grant_path = offer["grant"].as_str().unwrap().to_owned();
    let before = w.audit.read(1, 1000).await.unwrap().len();

    // The user agrees: a receipt, in the ledger and in the audit log, before the data passes.
    let grant = cookie(
        json(
            req("POST", &grant_path, None),
            &serde_json::json!({"purpose": VIP, "fields": ["id_number"], "agree": true})
                .to_string(),
        ),
        "netid_session",
        &session,
    );
    let receipt = h.send(grant).await;
    assert_eq!(
        receipt.status,
        201,
        "{adapter}: {}",
        String::from_utf8_lossy(&receipt.body)
    );
    let receipt = receipt.json();
    let id = receipt["id"].as_str().unwrap().to_owned();
    assert_eq!(receipt["subject"], subject.as_str(), "{adapter}");
    assert_eq!(receipt["purpose"], VIP, "{adapter}");
    assert_eq!(
        receipt["fields"],
        serde_json::json!(["id_number"]),
        "{adapter}"
    );
    let granted_at = receipt["granted_at"].as_u64().unwrap();
    // How long it is kept: the purpose's stated period (PIPL Art. 17 §1 item 2, 保存期限).
    assert_eq!(
        receipt["expires_at"].as_u64(),
        Some(granted_at + VIP_DAYS * 24 * 3600),
        "{adapter}: {receipt}"
    );
    let stored = w
        .consents
        .live_consent(&subject, FieldName::IdNumber, VIP, granted_at)
        .await
        .unwrap()
        .expect("the receipt is in the ledger");
    assert_eq!(stored.id, id, "{adapter}");
    let entries = w.audit.read(1, 1000).await.unwrap();
    let new: Vec<_> = entries[before..].iter().map(|e| &e.event).collect();
    assert_eq!(new.len(), 1, "{adapter}: {new:?}");
    assert_eq!(
        (
            new[0].action,
            new[0].outcome.as_str(),
            new[0].method.as_str()
        ),
        (AuditAction::ConsentGranted, "granted", "app"),
        "{adapter}"
    );
    assert_eq!(new[0].subject.as_deref(), Some(subject.as_str()));
    assert_eq!(new[0].consent_id.as_deref(), Some(id.as_str()));
    assert_eq!(new[0].fields, [FieldName::IdNumber]);
    assert_eq!(new[0].at, granted_at);
    // Now the data passes, to the handler.
    let passed = h.send(vip()).await;
    assert_eq!(passed.status, 200, "{adapter}");
    assert!(
        String::from_utf8_lossy(&passed.body).contains(ID),
        "{adapter}"
    );

    // Withdrawn like any consent: recorded, and the data is refused again.
    let withdraw = cookie(
        json(
            req("POST", "/netid/consent/withdraw", None),
            &serde_json::json!({ "id": id }).to_string(),
        ),
        "netid_session",
        &session,
    );
    assert_eq!(h.send(withdraw).await.status, 204, "{adapter}");
    let entries = w.audit.read(1, 1000).await.unwrap();
    let last = &entries.last().unwrap().event;
    assert_eq!(
        (
            last.action,
            last.consent_id.as_deref(),
            last.subject.as_deref()
        ),
        (
            AuditAction::ConsentWithdrawn,
            Some(id.as_str()),
            Some(subject.as_str())
        ),
        "{adapter}"
    );
    assert_eq!(h.send(vip()).await.status, 422, "{adapter}");
    netid::audit::verify_chain(&entries).unwrap();
}

#[tokio::test]
async fn a_user_volunteers_plaintext_with_a_recorded_receipt_through_axum_over_a_socket() {
    let w = app().await;
    let addr = serve_axum(&w).await;
    a_user_volunteers_plaintext_with_a_recorded_receipt("axum", &w, addr).await;
}

#[tokio::test]
async fn a_user_volunteers_plaintext_with_a_recorded_receipt_through_actix_over_a_socket() {
    let w = app().await;
    let addr = serve_actix(&w);
    a_user_volunteers_plaintext_with_a_recorded_receipt("actix", &w, addr).await;
}

#[tokio::test]
async fn every_refusal_speaks_zh_cn_and_english_through_axum_over_a_socket() {
    let w = app().await;
    let addr = serve_axum(&w).await;
    every_refusal_in_both_languages("axum", &w, addr).await;
}

#[tokio::test]
async fn every_refusal_speaks_zh_cn_and_english_through_actix_over_a_socket() {
    let w = app().await;
    let addr = serve_actix(&w);
    every_refusal_in_both_languages("actix", &w, addr).await;
}
