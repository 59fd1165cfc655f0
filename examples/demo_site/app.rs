//! The demo site's routes and state: a small shop on axum with netid, its own sign-in pages
//! over netid's login routes, and a page that plays the identity app against the embedded
//! sandbox. Shared by `main.rs` and the browser test (`tests/integration/browser.rs`).

#[path = "../common/shop.rs"]
#[allow(dead_code)] // the scripted tour is the shops'; the demo uses the setup pieces
pub(crate) mod shop;

#[path = "pages.rs"]
mod pages;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Form, Path, Query, Request, State};
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use netid::audit::{AuditLog, InMemoryAuditLog, verify_log};
use netid::axum::NetId;
use netid::client::VerificationRequest;
use netid::erasure::Erasure;
use netid::model::{AuthzId, FieldName};
use netid::policy::{
    AgeGate, InMemoryConsentLedger, LoginFlow, LoginRoute, PlaintextRule, Problem, RoutePolicy,
    Rules, SessionManager, VerifiedUser,
};
use netid::problem::Lang;
use netid::sandbox::{Decision, Persona, Sandbox};
use serde::Deserialize;

/// What the site asks the platform for at every 网号/网证 sign-in: the result and an age band,
/// because one page has an age gate (Art. 8 §1: nothing more).
pub(crate) const SIGN_IN_PURPOSE: &str = "登录示例商城（含年龄段，用于酒类页面）";
/// The purpose a user may agree to provide their name and ID number for (Art. 7 §2).
pub(crate) const INVOICE_PURPOSE: &str = "开具实名发票";
/// The site's other lawful way to verify (the shared shop's counter check).
const OTHER_METHOD: &str = "counter_check";
/// The cookie that holds the chosen language.
const LANG_COOKIE: &str = "demo_lang";

/// The demo: the sandbox platform it runs against, and netid wired into the site.
pub(crate) struct Demo {
    pub(crate) sandbox: Sandbox,
    netid: NetId,
    erasure: Erasure,
    audit: Arc<InMemoryAuditLog>,
    /// What the sign-in page shows for each 网号/网证 sign-in in progress, by authorization id.
    shown: Mutex<HashMap<String, Shown>>,
}

/// A 网号/网证 sign-in in progress, as the page shows it.
#[derive(Clone)]
pub(crate) struct Shown {
    pub(crate) authz_id: String,
    pub(crate) qr_payload: String,
    pub(crate) app_link: String,
}

type Shared = Arc<Demo>;

/// The site, with a fresh sandbox and in-memory stores, ready to serve (with
/// `into_make_service_with_connect_info::<SocketAddr>`, so sign-ins are capped per address).
pub(crate) async fn site() -> Result<(Router, Shared), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start().await?;
    let app_keys = sandbox.register_app("app_demo_site");
    let client = sandbox.client_builder(&app_keys).discover().await?;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)?;
    let sessions = SessionManager::builder("app_demo_site")
        .key("session-1", &secret)
        .build()?;
    let audit = Arc::new(InMemoryAuditLog::new());
    let consents = Arc::new(InMemoryConsentLedger::default());
    let login = LoginFlow::builder(client, sessions.clone())
        .request(VerificationRequest::age_tag(SIGN_IN_PURPOSE))
        .verifier(Arc::new(shop::CounterCheck::new()?))
        .consents(consents.clone())
        .audit(audit.clone())
        .build();
    let rules = Rules::builder()
        .route(
            "/adults",
            RoutePolicy::default().with_age_gate(AgeGate::adults_only()),
        )
        // A user who verified with 网号/网证 may still agree to provide their name and ID number
        // for an invoice (Art. 7 §2, 用户同意提供的除外); without that agreement, refused.
        .route(
            "/invoice",
            RoutePolicy::plaintext(PlaintextRule::AllowWithConsent {
                purpose: INVOICE_PURPOSE.to_owned(),
            }),
        )
        .consents(consents.clone())
        .build();
    let netid = NetId::new(login, rules)
        .insecure_cookies_for_local_development()
        .with_problem_renderer(|problem| pages::refusal(problem).into_response());
    let erasure = Erasure::new(sessions, consents, audit.clone());
    let demo = Arc::new(Demo {
        sandbox,
        netid: netid.clone(),
        erasure,
        audit,
        shown: Mutex::new(HashMap::new()),
    });
    let router = Router::new()
        .route("/", get(home))
        .route("/netid/signin", post(netid_start))
        .route("/netid/signin/wait", get(netid_wait))
        .route("/signin/other", post(other_sign_in))
        .route("/signout", post(sign_out))
        .route("/phone", get(phone))
        .route("/phone/decide", post(phone_decide))
        .route("/account", get(account))
        .route("/adults", get(adults))
        .route("/profile", get(profile_form).post(profile_submit))
        .route("/invoice", get(invoice_page).post(invoice_submit))
        .route("/invoice/consent", post(invoice_consent))
        .route("/erase", post(erase))
        .route("/audit", get(audit_page))
        .route("/lang/{lang}", get(set_lang))
        .with_state(demo.clone())
        .merge(netid.routes())
        .layer(netid.layer())
        .layer(middleware::from_fn(language));
    Ok((router, demo))
}

/// The language the visitor chose (`demo_lang` cookie), written into `Accept-Language` before
/// netid sees the request, so its refusals speak the page's language. zh-CN unless `en`.
async fn language(mut req: Request, next: Next) -> Response {
    let en = cookie(req.headers(), LANG_COOKIE) == Some("en");
    req.headers_mut().insert(
        ACCEPT_LANGUAGE,
        HeaderValue::from_static(if en { "en" } else { "zh-CN" }),
    );
    next.run(req).await
}

fn lang(headers: &HeaderMap) -> Lang {
    Lang::negotiate(headers.get(ACCEPT_LANGUAGE).map(HeaderValue::as_bytes))
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn user_of(req: &Request) -> Option<VerifiedUser> {
    req.extensions().get::<VerifiedUser>().cloned()
}

fn client_of(req: &Request) -> Option<std::net::IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// A 303 to `to`, carrying the `Set-Cookie` headers of netid's answer.
fn see_other(to: &str, cookies_from: Option<&HeaderMap>) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    copy_cookies(&mut r, cookies_from);
    r
}

fn copy_cookies(r: &mut Response, from: Option<&HeaderMap>) {
    for v in from.into_iter().flat_map(|h| h.get_all(SET_COOKIE)) {
        r.headers_mut().append(SET_COOKIE, v.clone());
    }
}

/// Calls one of netid's login routes from a page of the site, so the pages reuse netid's own
/// cookies, bindings and checks rather than copying them.
async fn login_route(
    d: &Demo,
    route: LoginRoute,
    method: Option<&str>,
    client: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<axum::http::Response<Bytes>, Problem> {
    d.netid
        .gate()
        .login_route(route, method, client, headers, Ok(body))
        .await
}

async fn home(State(_d): State<Shared>, req: Request) -> Response {
    let l = lang(req.headers());
    pages::sign_in(l, user_of(&req).as_ref(), None, None).into_response()
}

/// Starts a 网号/网证 sign-in and shows its QR code beside the other way.
async fn netid_start(State(d): State<Shared>, req: Request) -> Response {
    let l = lang(req.headers());
    let reply = login_route(
        &d,
        LoginRoute::Start,
        None,
        client_of(&req),
        req.headers(),
        Bytes::new(),
    )
    .await;
    match reply {
        Ok(answer) => {
            let v: serde_json::Value = serde_json::from_slice(answer.body()).unwrap_or_default();
            let shown = Shown {
                authz_id: v["authz_id"].as_str().unwrap_or_default().to_owned(),
                qr_payload: v["qr_payload"].as_str().unwrap_or_default().to_owned(),
                app_link: v["app_link"].as_str().unwrap_or_default().to_owned(),
            };
            {
                let mut map = d.shown.lock().unwrap_or_else(|p| p.into_inner());
                // Bounded like netid's own table of pending logins.
                if map.len() >= 10_000 {
                    map.clear();
                }
                map.insert(shown.authz_id.clone(), shown.clone());
            }
            let mut r = pages::sign_in(l, None, Some(&shown), None).into_response();
            copy_cookies(&mut r, Some(answer.headers()));
            r
        }
        Err(problem) => pages::sign_in(l, None, None, Some(&problem)).into_response(),
    }
}

#[derive(Deserialize)]
struct Waiting {
    authz: String,
}

/// Asks netid whether the sign-in is done: the page again (reloading itself) while it is not,
/// the account once it is, the reason if it ended otherwise.
async fn netid_wait(State(d): State<Shared>, Query(q): Query<Waiting>, req: Request) -> Response {
    let l = lang(req.headers());
    let reply = login_route(
        &d,
        LoginRoute::Poll,
        None,
        client_of(&req),
        req.headers(),
        Bytes::new(),
    )
    .await;
    let shown = d
        .shown
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&q.authz)
        .cloned();
    match reply {
        Ok(answer) if answer.status() == StatusCode::ACCEPTED => {
            pages::sign_in(l, None, shown.as_ref(), None).into_response()
        }
        Ok(answer) => {
            d.shown
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&q.authz);
            see_other("/account", Some(answer.headers()))
        }
        Err(problem) => {
            d.shown
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&q.authz);
            pages::sign_in(l, None, None, Some(&problem)).into_response()
        }
    }
}

#[derive(Deserialize)]
struct OtherSignIn {
    name: String,
    id_number: String,
    #[serde(default)]
    guardian_signed: Option<String>,
}

/// The site's other lawful way: its counter check of a name and a resident ID number, through
/// netid's `POST /netid/login/other/counter_check`, into the very same kind of session.
async fn other_sign_in(
    State(d): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<OtherSignIn>,
) -> Response {
    let l = lang(&headers);
    let evidence = serde_json::json!({
        "name": form.name,
        "id_number": form.id_number.trim(),
        "guardian_signed": form.guardian_signed.is_some(),
    });
    let reply = login_route(
        &d,
        LoginRoute::Other,
        Some(OTHER_METHOD),
        None,
        &headers,
        Bytes::from(evidence.to_string()),
    )
    .await;
    match reply {
        Ok(answer) => see_other("/account", Some(answer.headers())),
        Err(problem) => pages::sign_in(l, None, None, Some(&problem)).into_response(),
    }
}

async fn sign_out(State(d): State<Shared>, headers: HeaderMap) -> Response {
    match login_route(&d, LoginRoute::Logout, None, None, &headers, Bytes::new()).await {
        Ok(answer) => see_other("/", Some(answer.headers())),
        Err(problem) => pages::refusal(&problem).into_response(),
    }
}

#[derive(Deserialize)]
struct PhoneQuery {
    authz: Option<String>,
    done: Option<String>,
}

/// The identity app, played by the sandbox: what each site asks and why, and an answer.
async fn phone(State(d): State<Shared>, Query(q): Query<PhoneQuery>, req: Request) -> Response {
    let l = lang(req.headers());
    let mut pending = d.sandbox.pending_requests();
    if let Some(authz) = &q.authz {
        // The authorization the QR code or app link named first.
        pending.sort_by_key(|p| p.authz_id.as_str() != authz);
    }
    let back = q.done.as_ref().and(q.authz.as_deref());
    pages::phone(l, &pending, q.done.as_deref(), back).into_response()
}

#[derive(Deserialize)]
struct PhoneDecision {
    authz: String,
    persona: String,
    decision: String,
}

async fn phone_decide(
    State(d): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<PhoneDecision>,
) -> Response {
    let l = lang(&headers);
    let (Ok(authz), Ok(persona)) = (AuthzId::parse(&form.authz), form.persona.parse::<Persona>())
    else {
        return pages::message(
            l,
            StatusCode::BAD_REQUEST,
            pages::t(l, "无效的请求", "Invalid request"),
            pages::t(
                l,
                "没有这项授权或这个身份。",
                "No such authorization or persona.",
            ),
        )
        .into_response();
    };
    let decision = if form.decision == "deny" {
        Decision::Deny
    } else {
        Decision::Approve
    };
    match d.sandbox.decide(&authz, persona, decision) {
        Ok(()) => see_other(
            &format!(
                "/phone?done={}&authz={}",
                if decision == Decision::Deny {
                    "denied"
                } else {
                    "approved"
                },
                authz.as_str()
            ),
            None,
        ),
        Err(e) => pages::message(
            l,
            StatusCode::CONFLICT,
            pages::t(l, "无法完成", "Could not answer"),
            &e.to_string(),
        )
        .into_response(),
    }
}

async fn account(user: VerifiedUser, headers: HeaderMap) -> Response {
    pages::account(lang(&headers), &user).into_response()
}

async fn adults(user: VerifiedUser, headers: HeaderMap) -> Response {
    pages::adults(lang(&headers), &user).into_response()
}

async fn profile_form(user: VerifiedUser, headers: HeaderMap) -> Response {
    pages::profile(lang(&headers), &user, None).into_response()
}

#[derive(Deserialize)]
struct Profile {
    nickname: String,
    #[serde(default)]
    id_number: String,
}

/// Reached by a 网号/网证 user only without an ID number (netid refuses it before this runs);
/// a user of the other way may send one. Nothing is kept: the page says what arrived.
async fn profile_submit(
    user: VerifiedUser,
    headers: HeaderMap,
    Form(form): Form<Profile>,
) -> Response {
    let saved = pages::Saved {
        nickname: form.nickname,
        id_number_chars: form.id_number.trim().chars().count(),
    };
    pages::profile(lang(&headers), &user, Some(&saved)).into_response()
}

async fn invoice_page(user: VerifiedUser, headers: HeaderMap) -> Response {
    pages::invoice(lang(&headers), &user, None, None).into_response()
}

/// Records the user's agreement through netid's `POST /netid/consent` and shows the receipt.
async fn invoice_consent(
    State(d): State<Shared>,
    user: VerifiedUser,
    headers: HeaderMap,
) -> Response {
    let l = lang(&headers);
    let grant = serde_json::json!({
        "purpose": INVOICE_PURPOSE,
        "fields": [FieldName::Name, FieldName::IdNumber],
        "agree": true,
    });
    match login_route(
        &d,
        LoginRoute::Consent,
        None,
        None,
        &headers,
        Bytes::from(grant.to_string()),
    )
    .await
    {
        Ok(answer) => {
            let receipt: serde_json::Value =
                serde_json::from_slice(answer.body()).unwrap_or_default();
            pages::invoice(l, &user, Some(&receipt), None).into_response()
        }
        Err(problem) => pages::refusal(&problem).into_response(),
    }
}

#[derive(Deserialize)]
struct Invoice {
    real_name: String,
    id_number: String,
}

/// Reached by a 网号/网证 user only with a live consent for the invoice (netid checks it).
async fn invoice_submit(
    user: VerifiedUser,
    headers: HeaderMap,
    Form(form): Form<Invoice>,
) -> Response {
    let issued = !form.real_name.trim().is_empty() && !form.id_number.trim().is_empty();
    pages::invoice(lang(&headers), &user, None, Some(issued)).into_response()
}

/// Deletes everything the site holds for the user and shows the receipt (PIPL Art. 47).
async fn erase(State(d): State<Shared>, user: VerifiedUser, headers: HeaderMap) -> Response {
    let l = lang(&headers);
    match d.erasure.erase_subject(user.subject()).await {
        Ok(receipt) => {
            let mut r = pages::erased(l, &receipt).into_response();
            // The session is already refused everywhere; the cookie goes too.
            r.headers_mut().append(
                SET_COOKIE,
                HeaderValue::from_static(
                    "netid_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0",
                ),
            );
            r
        }
        Err(e) => pages::message(
            l,
            StatusCode::SERVICE_UNAVAILABLE,
            pages::t(l, "删除未完成", "Deletion not finished"),
            &format!("{e} ({})", netid::ErrorCode::code(&e)),
        )
        .into_response(),
    }
}

/// The audit log, and its hash chain checked from the first entry to the last.
async fn audit_page(State(d): State<Shared>, req: Request) -> Response {
    let l = lang(req.headers());
    let entries = d.audit.read(1, 1000).await.unwrap_or_default();
    let verdict = verify_log(d.audit.as_ref()).await;
    pages::audit(l, user_of(&req).as_ref(), &entries, &verdict).into_response()
}

async fn set_lang(Path(to): Path<String>, headers: HeaderMap) -> Response {
    let value = if to == "en" { "en" } else { "zh" };
    // Back to the page the switch was on (its path only, never another site).
    let back = headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| u.path().to_owned())
        // Only pages that a GET shows again; a form's answer goes back to the start.
        .filter(|p| {
            [
                "/account", "/adults", "/profile", "/invoice", "/audit", "/phone",
            ]
            .contains(&p.as_str())
        })
        .unwrap_or_else(|| "/".to_owned());
    let mut r = see_other(&back, None);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={value}; SameSite=Lax; Path=/; Max-Age=31536000"
    )) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    r
}
