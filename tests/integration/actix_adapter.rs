//! The scenario table through the actix-web adapter: the same app and the same table as
//! `axum_adapter`, so both adapters are held to one behaviour.
//!
//! actix services are `!Send` (they live on one thread's runtime) while the scenario harness is
//! `Send + Sync`, so the app runs on its own actix system thread and the harness hands it each
//! request over a channel.

use actix_web::http::Method;
use actix_web::{App, HttpResponse, test, web};
use netid::actix::NetId;
use netid::policy::{LoginFlow, Problem, Rules, VerifiedUser};
use tokio::sync::{mpsc, oneshot};

use crate::scenarios::{Harness, Req, Resp, World, run_table, world};

async fn me(user: VerifiedUser) -> HttpResponse {
    HttpResponse::Ok()
        .json(serde_json::json!({ "subject": user.subject(), "age_tag": user.age_tag() }))
}

async fn echo(user: VerifiedUser, body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok().json(
        serde_json::json!({ "subject": user.subject(), "body": String::from_utf8_lossy(&body) }),
    )
}

async fn ok(_user: VerifiedUser) -> &'static str {
    "ok"
}

/// A handler that treats the two kinds of user differently: it sniffs the subject's shape
/// (pseudonyms of 网号/网证 users start with `pw_`) and gives only them a badge.
async fn badge(user: VerifiedUser) -> HttpResponse {
    if user.subject().starts_with("pw_") {
        HttpResponse::Ok()
            .json(serde_json::json!({ "subject": user.subject(), "verified_badge": true }))
    } else {
        HttpResponse::Ok().json(serde_json::json!({ "subject": user.subject() }))
    }
}

/// A handler that fails the way an application's own code might.
async fn broken(_user: VerifiedUser) -> Result<HttpResponse, Problem> {
    Err(Problem::internal())
}

type Job = (Req, oneshot::Sender<Resp>);

/// The app of `axum_adapter::app`, on its own actix system thread.
pub(crate) struct ActixHarness(mpsc::UnboundedSender<Job>);

fn spawn_app(login: LoginFlow, rules: Rules, custom_renderer: bool) -> ActixHarness {
    spawn_app_logging_to(login, rules, custom_renderer, None)
}

/// The app on its own thread, its events sent to `dispatch` (the thread's default subscriber)
/// when given.
pub(crate) fn spawn_app_logging_to(
    login: LoginFlow,
    rules: Rules,
    custom_renderer: bool,
    dispatch: Option<tracing::Dispatch>,
) -> ActixHarness {
    let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
    std::thread::spawn(move || {
        let _logs = dispatch.map(|d| tracing::dispatcher::set_default(&d));
        actix_web::rt::System::new().block_on(async move {
            let mut netid = NetId::new(login, rules).insecure_cookies_for_local_development();
            if custom_renderer {
                netid = netid.with_problem_renderer(|p| {
                    HttpResponse::build(actix_web::http::StatusCode::IM_A_TEAPOT)
                        .body(format!("custom:{}", p.code))
                });
            }
            let app = test::init_service(
                App::new()
                    .route("/me", web::get().to(me))
                    .route("/profile", web::post().to(echo))
                    .route("/notes", web::post().to(echo))
                    .route("/kyc", web::post().to(echo))
                    .route("/vip", web::post().to(echo))
                    .route("/upload", web::post().to(echo))
                    .route("/adult/shop", web::get().to(ok))
                    .route("/teen/forum", web::get().to(ok))
                    .route("/kids/club", web::get().to(ok))
                    .route("/seniors", web::get().to(ok))
                    // actix matches in registration order: the static route first.
                    .route("/files/public", web::get().to(ok))
                    // Registered, but no policy declared for it: the catch-all's applies.
                    .route("/files/readme", web::get().to(ok))
                    .route("/files/{tail:.*}", web::get().to(ok))
                    .route("/archive/{tail:.*}", web::get().to(ok))
                    .route("/broken", web::get().to(broken))
                    .configure(|cfg| netid.configure(cfg))
                    .wrap(netid.middleware()),
            )
            .await;
            while let Some((r, reply)) = rx.recv().await {
                let mut b = test::TestRequest::default()
                    .method(Method::from_bytes(r.method.as_bytes()).unwrap())
                    .uri(&r.path);
                for (k, v) in &r.headers {
                    b = b.append_header((k.as_str(), v.as_str()));
                }
                if !r.body.is_empty() {
                    b = b.set_payload(r.body);
                }
                let resp = test::call_service(&app, b.to_request()).await;
                let status = resp.status().as_u16();
                let headers = resp
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                    .collect();
                let body = test::read_body(resp).await.to_vec();
                let _ = reply.send(Resp {
                    status,
                    headers,
                    body,
                });
            }
        });
    });
    ActixHarness(tx)
}

#[async_trait::async_trait]
impl Harness for ActixHarness {
    async fn send(&self, r: Req) -> Resp {
        let (tx, rx) = oneshot::channel();
        self.0
            .send((r, tx))
            .expect("the actix app thread is running");
        rx.await
            .expect("the actix app answered (see its panic above)")
    }
}

fn app(w: &World) -> ActixHarness {
    spawn_app(w.login.clone(), w.rules.clone(), false)
}

/// Sliding sessions through actix: two instances, one clock moved by hand.
#[tokio::test]
async fn sessions_renew_while_in_use_across_instances_through_actix() {
    let w = crate::scenarios::renewal_world().await;
    let a = spawn_app(w.a.clone(), w.rules.clone(), false);
    let b = spawn_app(w.b.clone(), w.rules.clone(), false);
    crate::scenarios::session_renewal(&a, &b, &w).await;
}

#[tokio::test]
async fn scenario_table_through_actix() {
    let w = world().await;
    let h = app(&w);
    let n = run_table(&h, &w).await;
    assert!(n >= 40, "the table has {n} scenarios");
}

/// Art. 5 §2 with a login that asks for the verification result only.
#[tokio::test]
async fn a_verify_only_login_refuses_a_child_without_guardian_consent_through_actix() {
    let w = crate::scenarios::verify_only_world().await;
    crate::scenarios::verify_only_logins(&app(&w), &w).await;
}

#[tokio::test]
async fn actix_problems_are_problem_json_and_internal_errors_stay_opaque() {
    let w = world().await;
    let h = app(&w);
    let other = crate::scenarios::sign_in_other(&h, "staff-9", Some("adult")).await;
    let r = h
        .send(Req {
            method: "GET",
            path: "/broken".into(),
            headers: vec![("cookie".into(), format!("netid_session={other}"))],
            body: Vec::new(),
        })
        .await;
    assert_eq!(r.status, 500);
    assert!(
        r.headers
            .iter()
            .any(|(k, v)| k == "content-type" && v == "application/problem+json")
    );
    let body = r.json();
    assert_eq!(body["code"], "netid.internal");
    let mut keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["code", "detail", "status", "title", "type"]);
    // A handler's own problem has no request to negotiate with: zh-CN, the default.
    assert_eq!(body["detail"], "请求无法处理。");
}

#[tokio::test]
async fn actix_session_cookies_have_the_flags_of_the_axum_adapter() {
    let w = world().await;
    let h = app(&w);
    let start = h
        .send(Req {
            method: "POST",
            path: "/netid/login/start".into(),
            headers: Vec::new(),
            body: Vec::new(),
        })
        .await;
    let login = start
        .headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(login.starts_with("netid_login="), "{login}");
    assert!(
        login.contains("HttpOnly; SameSite=Lax; Path=/netid; Max-Age=600"),
        "{login}"
    );
    assert!(!login.contains("Secure"), "insecure dev mode: {login}");
    let evidence =
        serde_json::json!({"approved": true, "subject": "staff-3", "age_tag": "adult"}).to_string();
    let r = h
        .send(Req {
            method: "POST",
            path: "/netid/login/other/staff_check".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: evidence.into_bytes(),
        })
        .await;
    let cookies: Vec<_> = r
        .headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("netid_session=")
            // The session lasts 15 minutes without use (the default ttl): so does its cookie.
            && c.contains("HttpOnly; SameSite=Lax; Path=/; Max-Age=900")),
        "{cookies:?}"
    );
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("netid_login=;") && c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    // A bearer token works as well as the cookie.
    let session = r.set_cookie("netid_session").unwrap();
    let me = h
        .send(Req {
            method: "GET",
            path: "/me".into(),
            headers: vec![("authorization".into(), format!("Bearer {session}"))],
            body: Vec::new(),
        })
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["subject"], "staff_check:staff-3");
}

/// actix routes on the percent-decoded path (`/adult/%73hop` reaches `/adult/shop`): the rules
/// must see the route the router will pick, or an encoded path would skip the age gate.
#[tokio::test]
async fn actix_percent_encoded_path_does_not_skip_the_age_gate() {
    let w = world().await;
    let h = app(&w);
    let minor =
        crate::scenarios::sign_in_netid(&h, &w.sandbox, netid::sandbox::Persona::Minor16).await;
    for path in ["/adult/shop", "/adult/%73hop", "/%61dult/shop"] {
        let r = h
            .send(Req {
                method: "GET",
                path: path.into(),
                headers: vec![("cookie".into(), format!("netid_session={minor}"))],
                body: Vec::new(),
            })
            .await;
        assert_eq!(
            (r.status, r.code().as_deref()),
            (403, Some("netid.age_minor")),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_app_can_render_refusals_its_own_way() {
    let w = crate::scenarios::world().await;
    let h = spawn_app(w.login.clone(), w.rules.clone(), true);
    crate::scenarios::custom_renderer_shapes_every_refusal(&h, &w).await;
}

/// `EqualService::check_actix` on the app the scenario table runs (plus one route that sniffs
/// the kind of user): equal where it is equal, and every difference reported on its own line.
#[tokio::test]
async fn equal_service_holds_through_actix_and_its_violations_are_reported() {
    let w = world().await;
    let sessions = w.login.sessions().clone();
    let netid =
        NetId::new(w.login.clone(), w.rules.clone()).insecure_cookies_for_local_development();
    let app = || {
        App::new()
            .route("/me", web::get().to(me))
            .route("/profile", web::post().to(echo))
            .route("/notes", web::post().to(echo))
            .route("/adult/shop", web::get().to(ok))
            .route("/badge", web::get().to(badge))
            .configure(|cfg| netid.configure(cfg))
            .wrap(netid.middleware())
    };
    let compared = crate::scenarios::equal_service_requests()
        .check_actix(app(), &sessions)
        .await
        .unwrap();
    assert_eq!(compared, 4, "the login route is skipped as method-specific");
    let err = crate::scenarios::unequal_service_requests()
        .check_actix(app(), &sessions)
        .await
        .unwrap_err();
    assert_eq!(err.0, crate::scenarios::UNEQUAL_SERVICE_REPORT, "{err}");
    assert!(
        err.to_string()
            .starts_with("unequal service on 3 request(s):\n")
    );
}
