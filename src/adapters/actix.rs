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
//! request's route pattern with [`Rules::route_policy`](crate::policy::Rules::route_policy) on the path the router will see:
//! declare route policies with the full pattern the request path falls under (`/users/{id}`,
//! including any scope prefix). Catch-alls are understood in actix's forms, `/files/{tail:.*}`
//! and `/files/{tail}*` (see [route patterns](crate::policy::Rules#route-patterns) for every form and the
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

use ::actix_web::body::{BodyStream, BoxBody, EitherBody, MessageBody, to_bytes_limited};
use ::actix_web::dev::{
    Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready,
};
use ::actix_web::http::StatusCode;
use ::actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use ::actix_web::web::{self, Bytes};
use ::actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, Responder, ResponseError};

use crate::policy::gate::log_refusal;
use crate::policy::{
    Admission, AdmittedBody, BodyError, Frontend, HeaderSource, Immediate, LOGIN_BODY_LIMIT,
    LoginRoute, Problem, Reply, RequestHead, VerifiedUser,
};

pub use crate::policy::{LOGIN_COOKIE, SESSION_COOKIE};

/// actix-web 4 is on `http` 0.2: its header map is read in place, never copied.
impl HeaderSource for HeaderMap {
    type Values<'a> =
        std::iter::Map<std::slice::Iter<'a, HeaderValue>, fn(&'a HeaderValue) -> &'a [u8]>;

    fn values<'a>(&'a self, name: &'static str) -> Self::Values<'a> {
        self.get_all(name).map(HeaderValue::as_bytes)
    }

    fn for_each(&self, f: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in self {
            f(name.as_str(), value.as_bytes());
        }
    }
}

/// A core response (`http` 1) as actix's.
fn to_actix(response: http::Response<Bytes>) -> HttpResponse {
    let (parts, body) = response.into_parts();
    let status =
        StatusCode::from_u16(parts.status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = HttpResponse::with_body(status, body);
    for (name, value) in &parts.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.headers_mut().append(name, value);
        }
    }
    out.map_into_boxed_body()
}

/// The problem document as a response (`application/problem+json`, its status).
fn render(problem: &Problem) -> HttpResponse {
    to_actix(problem.to_response())
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

impl FromRequest for VerifiedUser {
    type Error = ::actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let extensions = req.extensions();
        if let Some(user) = extensions.get::<VerifiedUser>() {
            return ready(Ok(user.clone()));
        }
        let problem = extensions
            .get::<NoUser>()
            .map(|n| n.0.clone())
            .unwrap_or_else(Problem::unauthenticated);
        ready(Err(match extensions.get::<Rc<NetId>>() {
            Some(netid) => ::actix_web::error::InternalError::from_response(
                problem.code,
                netid.render(&problem, render),
            )
            .into(),
            None => problem.into(),
        }))
    }
}

/// netid for an actix-web app: the middleware and the login routes share one configuration
/// ([`Frontend`]: `new`, `insecure_cookies_for_local_development`, `problem_type_base`,
/// `with_problem_renderer`).
pub type NetId = Frontend<HttpResponse>;

impl Frontend<HttpResponse> {
    /// The middleware: authenticates the session, then applies the rules (age gate, no extra
    /// plaintext) before the handler. Register it with `App::wrap`.
    pub fn middleware(&self) -> NetIdMiddleware {
        NetIdMiddleware {
            netid: Rc::new(self.clone()),
        }
    }

    /// Registers the login routes ([`LoginRoute`]), all `POST` under `/netid`. Use it with
    /// `App::configure`.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        for route in LoginRoute::ALL {
            let n = self.clone();
            let handler = move |req: HttpRequest, body: web::Payload| {
                let n = n.clone();
                async move {
                    let body = read(body.into_inner(), LOGIN_BODY_LIMIT).await;
                    let method = req.match_info().get("method");
                    let client = req.peer_addr().map(|a| a.ip());
                    let reply = n
                        .gate
                        .login_route(route, method, client, req.headers(), body);
                    n.reply(reply.await)
                }
            };
            cfg.route(route.path(), web::post().to(handler));
        }
    }

    fn reply(&self, reply: Reply) -> HttpResponse {
        match reply {
            Ok(response) => to_actix(response),
            Err(problem) => self.render(&problem, render),
        }
    }
}

/// Reads a payload up to `limit` bytes.
async fn read(payload: Payload, limit: usize) -> Result<Bytes, BodyError> {
    match to_bytes_limited(BodyStream::new(payload), limit).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(BodyError::Unreadable),
        Err(_) => Err(BodyError::TooLarge),
    }
}

/// The middleware factory made by [`NetId::middleware`]; register it with `App::wrap`.
#[derive(Clone, Debug)]
pub struct NetIdMiddleware {
    netid: Rc<NetId>,
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
            netid: Rc::clone(&self.netid),
        }))
    }
}

/// The service made by [`NetIdMiddleware`] around the app.
#[derive(Debug)]
pub struct NetIdService<S> {
    service: Rc<S>,
    netid: Rc<NetId>,
}

/// The request as the gate sees it. actix runs `App::wrap` middleware before routing, so the
/// route is found from the path the router will match (percent-decoded except `%`, `/`, `+`),
/// not the raw one, or `/adult/%73hop` would reach `/adult/shop` without its policy.
fn head(req: &ServiceRequest, body_known_empty: bool) -> RequestHead<'_, HeaderMap> {
    RequestHead {
        path: req.match_info().as_str(),
        matched_route: None,
        query: Some(req.query_string()).filter(|q| !q.is_empty()),
        headers: req.headers(),
        body_known_empty,
    }
}

/// Whether the request has no body: actix gives a request without one no payload at all (an
/// HTTP/2 body without `Content-Length` still has one, so the header alone is not enough).
fn no_body(req: &mut ServiceRequest) -> bool {
    let payload = req.take_payload();
    let none = matches!(payload, Payload::None);
    req.set_payload(payload);
    none
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
        let netid = Rc::clone(&self.netid);
        let empty = no_body(&mut req);
        let immediate = netid.gate.decide_now(&head(&req, empty));
        Box::pin(async move {
            let admitted = match immediate {
                Immediate::Pass(admission) => Ok(admission),
                Immediate::Refuse(problem) => Err(problem),
                Immediate::Wait => {
                    let payload = req.take_payload();
                    let mut payload = Some(payload);
                    let admitted = netid
                        .gate
                        .admit(&head(&req, empty), |limit| {
                            read(payload.take().unwrap_or(Payload::None), limit)
                        })
                        .await;
                    if let Some(payload) = payload {
                        req.set_payload(payload);
                    }
                    admitted
                }
            };
            match admitted {
                Ok(mut admission) => {
                    let renewed = admission.set_cookie.take();
                    pass_on(&netid, &mut req, admission);
                    let mut response = service.call(req).await?;
                    if let Some(cookie) =
                        renewed.and_then(|c| HeaderValue::from_bytes(c.as_bytes()).ok())
                    {
                        response.headers_mut().append(header::SET_COOKIE, cookie);
                    }
                    Ok(response.map_into_left_body())
                }
                Err(problem) => {
                    log_refusal(&problem, req.match_pattern().as_deref());
                    Ok(req
                        .into_response(netid.render(&problem, render))
                        .map_into_right_body())
                }
            }
        })
    }
}

/// Leaves the request ready for the handler: the body the gate chose, the user (or why there
/// is none) and a custom renderer if any, for the extractor.
fn pass_on(netid: &Rc<NetId>, req: &mut ServiceRequest, admission: Admission) {
    match admission.body {
        AdmittedBody::Untouched => {}
        AdmittedBody::Read(bytes) => req.set_payload(Payload::from(bytes)),
        AdmittedBody::Replaced(bytes) => {
            req.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            req.set_payload(Payload::from(bytes));
        }
    }
    let mut extensions = req.extensions_mut();
    if let Some(user) = admission.user {
        extensions.insert(user);
    }
    if let Some(problem) = admission.no_user {
        extensions.insert(NoUser(problem));
    }
    if netid.has_custom_renderer() {
        extensions.insert(Rc::clone(netid));
    }
}
