//! Test helpers for relying parties. [`EqualService`] proves that every route serves a user who
//! verified with 网号/网证 exactly as it serves a user verified another lawful way (Art. 7 §3).
//!
//! List the requests your routes take, then run them against your app — the same app, with the
//! netid layer or middleware, that you serve:
//!
//! - [`EqualService::check_axum`] (feature `axum`) takes your axum `Router`.
//! - [`EqualService::check_actix`] (feature `actix`) takes your actix-web `App` — what the
//!   factory you give `HttpServer::new` returns.
//! - [`EqualService::check_with`] takes any closure that delivers a request, for other
//!   frameworks or a server over the network.
//!
//! Each request is sent twice: once with a session of a 网号/网证 user, once with a session of a
//! user verified another way (same assurance, same age band), both issued by the
//! [`SessionManager`] you pass, which must be the one your app's login flow uses
//! ([`LoginFlow::sessions`](crate::policy::LoginFlow::sessions)). The check fails with
//! [`UnequalService`], one readable line per request that was served differently:
//!
//! ```text
//! unequal service on 2 request(s):
//! POST /profile: status 422 (网证) vs 200 (other)
//! GET /badge: body shape differs at $.verified_badge (present for one user only)
//! ```
//!
//! One difference is lawful and shows up like any other: a 网号/网证 user's request carrying an
//! ID number is refused (Art. 7 §2) while the other user's passes. Leave such requests out of the
//! list, or assert on that exact line, as this crate's own tests do.

use crate::model::{AgeTag, Assurance};
use crate::policy::user::Method;
use crate::policy::{SessionManager, VerifiedUser};
use serde_json::Value;

/// One request to replay as both kinds of user.
#[derive(Debug, Clone)]
pub struct ServiceRequest {
    /// HTTP method.
    pub method: &'static str,
    /// Path and query.
    pub path: String,
    /// `Content-Type`, if there is a body.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// A response as the comparison sees it.
#[derive(Debug, Clone)]
pub struct ServiceResponse {
    /// HTTP status; `0` when the request could not be sent (an invalid method, path or header),
    /// which the check reports as a failure.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// Runs requests as a 网号/网证 user and as a user of another method — same assurance, same age
/// band — and reports every route whose status, content type or body *shape* differs. Body
/// shape: JSON keys and value types (values differ legitimately: the subject ids do); non-JSON
/// bodies must be byte-identical once each user's subject id is masked.
///
/// Routes that are method-specific by nature (the login routes) are declared and skipped.
#[derive(Debug, Clone, Default)]
pub struct EqualService {
    requests: Vec<ServiceRequest>,
    method_specific: Vec<String>,
    assurance: Option<Assurance>,
    age_tag: Option<AgeTag>,
}

/// Where the two kinds of user were served differently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unequal service on {} request(s):\n{}", .0.len(), .0.join("\n"))]
pub struct UnequalService(pub Vec<String>);

impl EqualService {
    /// An empty check (users at assurance R03, age band adult).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a request without a body.
    pub fn get(mut self, path: impl Into<String>) -> Self {
        self.requests.push(ServiceRequest {
            method: "GET",
            path: path.into(),
            content_type: None,
            body: Vec::new(),
        });
        self
    }

    /// Adds a request with a body.
    pub fn send(
        mut self,
        method: &'static str,
        path: impl Into<String>,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Self {
        self.requests.push(ServiceRequest {
            method,
            path: path.into(),
            content_type: Some(content_type.to_owned()),
            body: body.into(),
        });
        self
    }

    /// Declares a path prefix method-specific (skipped), e.g. `/netid/`.
    pub fn method_specific(mut self, prefix: impl Into<String>) -> Self {
        self.method_specific.push(prefix.into());
        self
    }

    /// The users' age band (default adult).
    pub fn age_tag(mut self, tag: AgeTag) -> Self {
        self.age_tag = Some(tag);
        self
    }

    /// Runs the check with `send`, which delivers one request carrying a session token and
    /// returns the response (a closure over the app; `check_axum` wraps an axum `Router`).
    pub async fn check_with<F, Fut>(
        &self,
        sessions: &SessionManager,
        mut send: F,
    ) -> Result<usize, UnequalService>
    where
        F: FnMut(ServiceRequest, String) -> Fut,
        Fut: std::future::Future<Output = ServiceResponse>,
    {
        let user = |subject: &str, method| VerifiedUser {
            subject: subject.into(),
            assurance: self.assurance.unwrap_or(Assurance::CredentialFace),
            age_tag: Some(self.age_tag.unwrap_or(AgeTag::Adult)),
            guardian_consent: None,
            verified_at: sessions.clock().now(),
            method,
        };
        let netid_user = user("pw_equal_service_netid", Method::NetId);
        let other_user = user(
            "equal-service-other",
            Method::Other("equal_service_test".into()),
        );
        let issue = |u: &VerifiedUser| {
            sessions
                .issue(u)
                .map_err(|e| UnequalService(vec![format!("cannot issue a session: {e}")]))
        };
        let (a, b) = (issue(&netid_user)?, issue(&other_user)?);
        let mut diffs = Vec::new();
        let mut compared = 0;
        for req in &self.requests {
            if self
                .method_specific
                .iter()
                .any(|p| req.path.starts_with(p.as_str()))
            {
                continue;
            }
            let ra = send(req.clone(), a.clone()).await;
            let rb = send(req.clone(), b.clone()).await;
            compared += 1;
            let what = format!("{} {}", req.method, req.path);
            if ra.status == 0 || rb.status == 0 {
                diffs.push(format!(
                    "{what}: could not be sent (invalid method, path or header)"
                ));
                continue;
            }
            if ra.status != rb.status {
                diffs.push(format!(
                    "{what}: status {} (网证) vs {} (other)",
                    ra.status, rb.status
                ));
                continue;
            }
            if ra.content_type != rb.content_type {
                diffs.push(format!(
                    "{what}: content type {:?} vs {:?}",
                    ra.content_type, rb.content_type
                ));
                continue;
            }
            let mask = |body: &[u8], subject: &str| {
                String::from_utf8_lossy(body).replace(subject, "<subject>")
            };
            let (ba, bb) = (
                mask(&ra.body, &netid_user.subject),
                mask(&rb.body, &other_user.subject),
            );
            match (
                serde_json::from_str::<Value>(&ba),
                serde_json::from_str::<Value>(&bb),
            ) {
                (Ok(ja), Ok(jb)) => {
                    if let Some(d) = shape_diff("$", &ja, &jb) {
                        diffs.push(format!("{what}: body shape differs at {d}"));
                    }
                }
                _ if ba != bb => diffs.push(format!("{what}: bodies differ")),
                _ => {}
            }
        }
        if diffs.is_empty() {
            Ok(compared)
        } else {
            Err(UnequalService(diffs))
        }
    }

    /// Runs the check against an axum app: the `Router` you serve, with the netid layer. Each
    /// request goes through a clone of it (`tower::ServiceExt::oneshot`), carrying the session
    /// cookie. Returns how many requests were compared.
    ///
    /// ```no_run
    /// # async fn demo(login: netid::policy::LoginFlow, rules: netid::policy::Rules) {
    /// use axum::{Router, routing::{get, post}};
    /// use netid::axum::NetId;
    /// use netid::policy::VerifiedUser;
    /// use netid::testing::EqualService;
    ///
    /// async fn me(user: VerifiedUser) -> String { user.subject().to_owned() }
    ///
    /// let netid = NetId::new(login.clone(), rules);
    /// let app = Router::new()
    ///     .route("/me", get(me))
    ///     .route("/orders", post(|| async { "ok" }))
    ///     .merge(netid.routes())
    ///     .layer(netid.layer());
    /// let compared = EqualService::new()
    ///     .get("/me")
    ///     .send("POST", "/orders", "application/json", r#"{"sku":"wine-1"}"#)
    ///     .check_axum(app, login.sessions())
    ///     .await
    ///     .unwrap_or_else(|diff| panic!("{diff}"));
    /// assert_eq!(compared, 2);
    /// # }
    /// ```
    #[cfg(feature = "axum")]
    pub async fn check_axum(
        &self,
        router: ::axum::Router,
        sessions: &SessionManager,
    ) -> Result<usize, UnequalService> {
        use tower::ServiceExt;
        self.check_with(sessions, |req, token| {
            let router = router.clone();
            async move {
                let mut b = ::axum::http::Request::builder()
                    .method(req.method)
                    .uri(&req.path)
                    .header("cookie", format!("{}={token}", crate::axum::SESSION_COOKIE));
                if let Some(ct) = &req.content_type {
                    b = b.header("content-type", ct);
                }
                let Ok(request) = b.body(::axum::body::Body::from(req.body)) else {
                    return ServiceResponse {
                        status: 0,
                        content_type: None,
                        body: b"invalid request".to_vec(),
                    };
                };
                match router.oneshot(request).await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let content_type = resp
                            .headers()
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned);
                        let body = ::axum::body::to_bytes(resp.into_body(), 16 << 20)
                            .await
                            .map(|b| b.to_vec())
                            .unwrap_or_default();
                        ServiceResponse {
                            status,
                            content_type,
                            body,
                        }
                    }
                    Err(never) => match never {},
                }
            }
        })
        .await
    }

    /// Runs the check against an actix-web app: the `App` you serve (call the factory you give
    /// `HttpServer::new` once), with the netid middleware. The app is started in process with
    /// `actix_web::test::init_service` and every request goes through it, carrying the session
    /// cookie. Returns how many requests were compared.
    ///
    /// actix services are not `Send`: await this on the thread that runs the test, as
    /// `#[actix_web::test]` or `#[tokio::test]` (current-thread) do.
    ///
    /// A request whose method, path or content type is not valid HTTP is not sent; it is
    /// reported as a failure line (`could not be sent`).
    ///
    /// # Panics
    ///
    /// If the app fails to start (a failing `App::data_factory`), as
    /// `actix_web::test::init_service` does.
    ///
    /// ```no_run
    /// # async fn demo(login: netid::policy::LoginFlow, rules: netid::policy::Rules) {
    /// use actix_web::{App, HttpResponse, web};
    /// use netid::actix::NetId;
    /// use netid::policy::VerifiedUser;
    /// use netid::testing::EqualService;
    ///
    /// async fn me(user: VerifiedUser) -> String { user.subject().to_owned() }
    ///
    /// let netid = NetId::new(login.clone(), rules);
    /// let app = App::new()
    ///     .route("/me", web::get().to(me))
    ///     .route("/orders", web::post().to(|| async { HttpResponse::Ok().body("ok") }))
    ///     .configure(|cfg| netid.configure(cfg))
    ///     .wrap(netid.middleware());
    /// let compared = EqualService::new()
    ///     .get("/me")
    ///     .send("POST", "/orders", "application/json", r#"{"sku":"wine-1"}"#)
    ///     .method_specific("/netid/")
    ///     .check_actix(app, login.sessions())
    ///     .await
    ///     .unwrap_or_else(|diff| panic!("{diff}"));
    /// assert_eq!(compared, 2);
    /// # }
    /// ```
    #[cfg(feature = "actix")]
    pub async fn check_actix<T, B>(
        &self,
        app: ::actix_web::App<T>,
        sessions: &SessionManager,
    ) -> Result<usize, UnequalService>
    where
        T: ::actix_web::dev::ServiceFactory<
                ::actix_web::dev::ServiceRequest,
                Config = (),
                Response = ::actix_web::dev::ServiceResponse<B>,
                Error = ::actix_web::Error,
                InitError = (),
            > + 'static,
        B: ::actix_web::body::MessageBody + 'static,
    {
        use ::actix_web::dev::Service;
        use ::actix_web::http::header::{self, HeaderValue};
        use ::actix_web::http::{Method, Uri};

        let service = std::rc::Rc::new(::actix_web::test::init_service(app).await);
        let invalid = || ServiceResponse {
            status: 0,
            content_type: None,
            body: b"invalid request".to_vec(),
        };
        self.check_with(sessions, |req, token| {
            let service = std::rc::Rc::clone(&service);
            async move {
                // `TestRequest` panics on what it cannot parse: check first.
                let cookie =
                    HeaderValue::from_str(&format!("{}={token}", crate::policy::SESSION_COOKIE));
                let content_type = req.content_type.as_deref().map(HeaderValue::from_str);
                let (Ok(method), Ok(_), Ok(cookie)) = (
                    Method::from_bytes(req.method.as_bytes()),
                    req.path.parse::<Uri>(),
                    cookie,
                ) else {
                    return invalid();
                };
                let mut b = ::actix_web::test::TestRequest::default()
                    .method(method)
                    .uri(&req.path)
                    .insert_header((header::COOKIE, cookie));
                match content_type {
                    Some(Ok(ct)) => b = b.insert_header((header::CONTENT_TYPE, ct)),
                    Some(Err(_)) => return invalid(),
                    None => {}
                }
                let request = b.set_payload(req.body).to_request();
                match service.call(request).await {
                    Ok(resp) => {
                        let (status, content_type) = actix_head(resp.status(), resp.headers());
                        let body = actix_body(resp.into_body()).await;
                        ServiceResponse {
                            status,
                            content_type,
                            body,
                        }
                    }
                    // What actix's server sends for an error that reaches it.
                    Err(e) => {
                        let resp = e.error_response();
                        let (status, content_type) = actix_head(resp.status(), resp.headers());
                        let body = actix_body(resp.into_body()).await;
                        ServiceResponse {
                            status,
                            content_type,
                            body,
                        }
                    }
                }
            }
        })
        .await
    }
}

/// Status and content type of an actix response.
#[cfg(feature = "actix")]
fn actix_head(
    status: ::actix_web::http::StatusCode,
    headers: &::actix_web::http::header::HeaderMap,
) -> (u16, Option<String>) {
    let content_type = headers
        .get(::actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status.as_u16(), content_type)
}

/// An actix response body, up to 16 MiB (empty if it fails or is larger).
#[cfg(feature = "actix")]
async fn actix_body<B: ::actix_web::body::MessageBody>(body: B) -> Vec<u8> {
    match ::actix_web::body::to_bytes_limited(body, 16 << 20).await {
        Ok(Ok(bytes)) => bytes.to_vec(),
        _ => Vec::new(),
    }
}

/// The first place two JSON values differ in keys or types.
fn shape_diff(path: &str, a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            if let Some(k) = x
                .keys()
                .find(|k| !y.contains_key(*k))
                .or_else(|| y.keys().find(|k| !x.contains_key(*k)))
            {
                return Some(format!("{path}.{k} (present for one user only)"));
            }
            x.iter()
                .find_map(|(k, v)| shape_diff(&format!("{path}.{k}"), v, &y[k]))
        }
        (Value::Array(x), Value::Array(y)) if x.len() != y.len() => {
            Some(format!("{path} (array lengths {} vs {})", x.len(), y.len()))
        }
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| shape_diff(&format!("{path}[{i}]"), v, w)),
        (x, y) if std::mem::discriminant(x) != std::mem::discriminant(y) => {
            Some(format!("{path} (types differ)"))
        }
        _ => None,
    }
}
