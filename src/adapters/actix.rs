//! actix-web 4 adapter (feature `actix`): a middleware that runs the rules, the
//! [`VerifiedUser`] extractor, and the login routes. Every rule lives in [`crate::policy`];
//! this module only translates HTTP, exactly as the axum adapter does (same routes, cookies,
//! statuses and problem codes).
//!
//! ```no_run
//! # fn demo(login: netid::policy::LoginFlow, rules: netid::policy::Rules) -> std::io::Result<()> {
//! use actix_web::{App, HttpServer, web};
//! use netid::actix::NetId;
//! use netid::policy::VerifiedUser;
//!
//! async fn me(user: VerifiedUser) -> String {
//!     format!("hello {}", user.subject())
//! }
//!
//! let netid = NetId::new(login, rules);
//! let server = HttpServer::new(move || {
//!     App::new()
//!         .route("/me", web::get().to(me))
//!         .configure(|cfg| netid.configure(cfg))
//!         .wrap(netid.middleware())
//! })
//! .bind(("127.0.0.1", 8080))?
//! .run();
//! # let _ = server;
//! # Ok(()) }
//! ```
//!
//! actix runs middleware registered with `App::wrap` before routing, so the rules find a
//! request's route pattern with [`Rules::match_route`] on the path the router will see:
//! declare route policies with the full pattern the request path falls under (`/users/{id}`,
//! including any scope prefix). Catch-alls are understood in actix's forms, `/files/{tail:.*}`
//! and `/files/{tail}*` (see [route patterns](Rules#route-patterns) for every form and the
//! order). Where declared patterns overlap the most specific wins, while actix's router takes
//! the first registered route that matches: register static routes before the catch-alls around
//! them, so both pick the same one, and declare a policy for every route — an undeclared route
//! gets the policy of the declared pattern its path matches (a catch-all around it included), or
//! the default. Middleware that rewrites the path, such as
//! `actix_web::middleware::NormalizePath`, must run before this one: `wrap` it after
//! `netid.middleware()` (the last `wrap` runs first).
//!
//! A [`Problem`] renders as `application/problem+json` with its status. Handlers may return
//! `Result<_, Problem>`, and the extractor's refusal is that same rendering.

use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use ::actix_web::body::{BodyStream, BoxBody, EitherBody, MessageBody, to_bytes_limited};
use ::actix_web::dev::{
    Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready,
};
use ::actix_web::http::StatusCode;
use ::actix_web::http::header::{self, HeaderMap, HeaderValue};
use ::actix_web::web::{self, Bytes};
use ::actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, Responder, ResponseError};

use crate::policy::web as conventions;
use crate::policy::{
    LoginFlow, LoginStatus, Problem, RequestFacts, Rules, SessionError, Verdict, VerifiedUser,
};

pub use crate::policy::web::{LOGIN_COOKIE, SESSION_COOKIE};

/// The problem document as a response: its status, `application/problem+json`, and only the
/// members of [`Problem::to_json`] (an internal error stays opaque).
fn render(problem: &Problem) -> HttpResponse {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .content_type("application/problem+json")
        .body(problem.to_json().to_string())
}

impl From<Problem> for HttpResponse {
    fn from(problem: Problem) -> Self {
        render(&problem)
    }
}

impl Responder for Problem {
    type Body = BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        render(&self)
    }
}

impl From<Problem> for ::actix_web::Error {
    fn from(problem: Problem) -> Self {
        ProblemError(problem).into()
    }
}

/// A [`Problem`] as an actix error. Its `Display` (what actix logs) is the stable code only.
#[derive(Debug)]
struct ProblemError(Problem);

impl fmt::Display for ProblemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.code)
    }
}

impl ResponseError for ProblemError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        render(&self.0)
    }
}

/// Why there is no user on a request, kept for the extractor to report precisely.
#[derive(Debug, Clone)]
struct NoUser(Problem);

/// How refusals are rendered: the app's renderer if it set one, else problem+json.
#[derive(Clone, Default)]
struct Renderer(Option<Arc<RenderFn>>);

/// An app's own rendering of a refusal.
type RenderFn = dyn Fn(&Problem) -> HttpResponse + Send + Sync;

impl Renderer {
    fn render(&self, problem: &Problem) -> HttpResponse {
        match &self.0 {
            Some(f) => f(problem),
            None => render(problem),
        }
    }
}

impl fmt::Debug for Renderer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Renderer(custom)"
        } else {
            "Renderer(problem+json)"
        })
    }
}

impl FromRequest for VerifiedUser {
    type Error = ::actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let extensions = req.extensions();
        let result = match extensions.get::<VerifiedUser>() {
            Some(user) => Ok(user.clone()),
            None => {
                let problem = extensions
                    .get::<NoUser>()
                    .map(|n| n.0.clone())
                    .unwrap_or_else(|| Problem::unauthenticated("sign in first"));
                Err(match extensions.get::<Renderer>() {
                    Some(r @ Renderer(Some(_))) => {
                        ::actix_web::error::InternalError::from_response(
                            problem.code,
                            r.render(&problem),
                        )
                        .into()
                    }
                    _ => problem.into(),
                })
            }
        };
        ready(result)
    }
}

/// netid for an actix-web app: the middleware and the login routes share one configuration.
#[derive(Clone, Debug)]
pub struct NetId {
    login: LoginFlow,
    rules: Rules,
    secure_cookies: bool,
    renderer: Renderer,
}

impl NetId {
    /// netid with this login flow and these rules.
    pub fn new(login: LoginFlow, rules: Rules) -> Self {
        Self {
            login,
            rules,
            secure_cookies: true,
            renderer: Renderer::default(),
        }
    }

    /// Cookies without the `Secure` flag, for plain-http development on localhost only.
    pub fn insecure_cookies_for_local_development(mut self) -> Self {
        self.secure_cookies = false;
        self
    }

    /// Renders every refusal (the middleware's, the extractor's and the login routes') with `f`
    /// instead of the default `application/problem+json` — for an app with its own error format.
    pub fn with_problem_renderer(
        mut self,
        f: impl Fn(&Problem) -> HttpResponse + Send + Sync + 'static,
    ) -> Self {
        self.renderer = Renderer(Some(Arc::new(f)));
        self
    }

    /// The middleware: authenticates the session, then applies the rules (age gate, no extra
    /// plaintext) before the handler. Register it with `App::wrap`.
    pub fn middleware(&self) -> NetIdMiddleware {
        NetIdMiddleware {
            netid: self.clone(),
        }
    }

    /// Registers the login routes, under `/netid`: `POST login/start`, `POST login/poll`,
    /// `POST login/other/{method}`, `POST callback` (the platform's webhook), `POST logout`.
    /// Use it with `App::configure`.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        let n = self.clone();
        cfg.route(
            "/netid/login/start",
            web::post().to(move || {
                let n = n.clone();
                async move { n.start().await }
            }),
        );
        let n = self.clone();
        cfg.route(
            "/netid/login/poll",
            web::post().to(move |req: HttpRequest| {
                let n = n.clone();
                async move { n.poll(req.headers()).await }
            }),
        );
        let n = self.clone();
        cfg.route(
            "/netid/login/other/{method}",
            web::post().to(move |method: web::Path<String>, body: Bytes| {
                let n = n.clone();
                async move { n.other(&method, &body).await }
            }),
        );
        let n = self.clone();
        cfg.route(
            "/netid/callback",
            web::post().to(move |req: HttpRequest, body: Bytes| {
                let n = n.clone();
                async move { n.callback(req.headers(), &body).await }
            }),
        );
        let n = self.clone();
        cfg.route(
            "/netid/logout",
            web::post().to(move |req: HttpRequest| {
                let n = n.clone();
                async move { n.logout(req.headers()).await }
            }),
        );
    }

    fn cookie(&self, name: &str, value: &str, path: &str, max_age: u64) -> Option<HeaderValue> {
        let text = conventions::set_cookie(name, value, path, max_age, self.secure_cookies);
        HeaderValue::from_str(&text).ok()
    }

    async fn start(&self) -> HttpResponse {
        match self.login.start().await {
            Ok(start) => {
                let body = conventions::start_body(&start);
                let mut r = HttpResponse::Created();
                if let Some(c) = self.cookie(
                    LOGIN_COOKIE,
                    &start.browser_binding,
                    conventions::LOGIN_COOKIE_PATH,
                    conventions::LOGIN_COOKIE_MAX_AGE,
                ) {
                    r.append_header((header::SET_COOKIE, c));
                }
                r.json(body)
            }
            Err(p) => self.renderer.render(&p),
        }
    }

    async fn poll(&self, headers: &HeaderMap) -> HttpResponse {
        let Some(binding) = conventions::cookie_value(cookie_headers(headers), LOGIN_COOKIE) else {
            return self.renderer.render(&conventions::login_unknown());
        };
        match self.login.poll(binding).await {
            Ok(LoginStatus::Pending) => HttpResponse::Accepted().json(conventions::pending_body()),
            Ok(LoginStatus::Completed { user, session }) => self.signed_in(&user, &session),
            Err(p) => self.renderer.render(&p),
        }
    }

    fn signed_in(&self, user: &VerifiedUser, session: &str) -> HttpResponse {
        let mut r = HttpResponse::Ok();
        let session_cookie = self.cookie(
            SESSION_COOKIE,
            session,
            "/",
            conventions::SESSION_COOKIE_MAX_AGE,
        );
        let clear_login = self.cookie(LOGIN_COOKIE, "", conventions::LOGIN_COOKIE_PATH, 0);
        for c in [session_cookie, clear_login].into_iter().flatten() {
            r.append_header((header::SET_COOKIE, c));
        }
        r.json(conventions::signed_in_body(user))
    }

    async fn other(&self, method: &str, evidence: &[u8]) -> HttpResponse {
        match self.login.login_other(method, evidence).await {
            Ok((user, session)) => self.signed_in(&user, &session),
            Err(p) => self.renderer.render(&p),
        }
    }

    async fn callback(&self, headers: &HeaderMap, body: &[u8]) -> HttpResponse {
        match self.login.callback(&to_http_headers(headers), body).await {
            Ok(()) => HttpResponse::NoContent().finish(),
            Err(p) => self.renderer.render(&p),
        }
    }

    async fn logout(&self, headers: &HeaderMap) -> HttpResponse {
        if let Some(token) = session_token(headers) {
            if let Err(p) = self.login.logout(token).await {
                if p.status >= 500 {
                    return self.renderer.render(&p);
                }
            }
        }
        let mut r = HttpResponse::NoContent();
        if let Some(c) = self.cookie(SESSION_COOKIE, "", "/", 0) {
            r.append_header((header::SET_COOKIE, c));
        }
        r.finish()
    }
}

/// actix's header map as the `http` 1 map the core takes (actix-web 4 is on `http` 0.2).
fn to_http_headers(headers: &HeaderMap) -> http::HeaderMap {
    let mut out = http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_str().as_bytes()),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append(name, value);
        }
    }
    out
}

fn cookie_headers(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers.get_all(header::COOKIE).map(HeaderValue::as_bytes)
}

/// The session token: `Authorization: Bearer …` or the session cookie.
fn session_token(headers: &HeaderMap) -> Option<&str> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    conventions::session_token(authorization, cookie_headers(headers))
}

/// The middleware factory made by [`NetId::middleware`]; register it with `App::wrap`.
#[derive(Clone, Debug)]
pub struct NetIdMiddleware {
    netid: NetId,
}

impl<S, B> Transform<S, ServiceRequest> for NetIdMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = ::actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = ::actix_web::Error;
    type Transform = NetIdService<S>;
    type InitError = ();
    type Future = Ready<Result<NetIdService<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(NetIdService {
            service: Rc::new(service),
            netid: self.netid.clone(),
        }))
    }
}

/// The service made by [`NetIdMiddleware`] around the app.
#[derive(Debug)]
pub struct NetIdService<S> {
    service: Rc<S>,
    netid: NetId,
}

impl<S, B> Service<ServiceRequest> for NetIdService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = ::actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = ::actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let netid = self.netid.clone();
        Box::pin(async move {
            match prepare(&netid, &mut req).await {
                Ok(()) => service
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_left_body),
                Err(problem) => Ok(req
                    .into_response(netid.renderer.render(&problem))
                    .map_into_right_body()),
            }
        })
    }
}

fn too_large() -> Problem {
    Problem::new(
        413,
        "netid.payload_too_large",
        "Body too large",
        "the request body is over the limit",
    )
}

/// Authenticates and applies the rules, leaving the request ready for the handler (user in
/// its extensions, body put back or replaced), or says why it is refused.
async fn prepare(netid: &NetId, req: &mut ServiceRequest) -> Result<(), Problem> {
    let user = match session_token(req.headers()) {
        None => None,
        Some(token) => match netid.login.sessions().authenticate(token).await {
            Ok(user) => Some(user),
            Err(e @ SessionError::Store(_)) => return Err(e.to_problem()),
            Err(e) => {
                req.extensions_mut().insert(NoUser(e.to_problem()));
                None
            }
        },
    };
    // Middleware runs before routing in actix: the rules name the route pattern. Match the
    // path the router will match (percent-decoded except `%`, `/`, `+`), not the raw one, or
    // `/adult/%73hop` would reach `/adult/shop` without its policy.
    let route = netid
        .rules
        .match_route(req.match_info().as_str())
        .to_owned();
    // Only bodies of 网号/网证 users are inspected (Art. 7 §2); others stream through untouched.
    let inspect_body = user.as_ref().is_some_and(VerifiedUser::is_netid);
    let bytes = if inspect_body {
        let stream = BodyStream::new(req.take_payload());
        match to_bytes_limited(stream, netid.rules.max_body()).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(_)) | Err(_) => return Err(too_large()),
        }
    } else {
        Bytes::new()
    };
    let verdict = {
        let header = |name| {
            req.headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        let facts = RequestFacts {
            route: &route,
            user: user.as_ref(),
            content_type: header(header::CONTENT_TYPE),
            content_encoding: header(header::CONTENT_ENCODING),
            query: req.uri().query(),
            body: &bytes,
        };
        netid.rules.check(facts).await?
    };
    if inspect_body {
        match verdict {
            Verdict::Pass => req.set_payload(Payload::from(bytes)),
            Verdict::Replace(new_body) => {
                req.headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(new_body.len()));
                req.set_payload(Payload::from(new_body));
            }
        }
    }
    if let Some(user) = user {
        req.extensions_mut().insert(user);
    }
    req.extensions_mut().insert(netid.renderer.clone());
    Ok(())
}
