//! actix-web 4 adapter (feature `actix`): a middleware that runs the rules, the
//! [`VerifiedUser`] extractor, and the login routes. Every rule, the login routes and the
//! rendering of refusals live in [`crate::policy`] ([`Gate`](crate::policy::Gate)); this module
//! only converts actix's requests and responses, as the axum adapter does (same routes, cookies,
//! statuses and problem codes). Its three lines are on the crate's front page:
//! `NetId::new(login, rules)`, `.configure(|cfg| netid.configure(cfg))`,
//! `.wrap(netid.middleware())`.
//!
//! actix runs `App::wrap` middleware before routing: which policy applies, and how to declare
//! and register routes so that actix and the rules pick the same one, is told under
//! [route patterns](crate::policy::Rules#route-patterns). A [`Problem`] renders as
//! `application/problem+json` with its status; handlers may return `Result<_, Problem>`.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;

use ::actix_web::body::{BodyStream, BoxBody, EitherBody, MessageBody, to_bytes_limited};
use ::actix_web::dev::{
    Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready,
};
use ::actix_web::error::InternalError;
use ::actix_web::http::StatusCode;
use ::actix_web::http::header::{self, HeaderMap, HeaderValue};
use ::actix_web::web::{self, Bytes};
use ::actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, Responder, ResponseError};

use crate::policy::gate::FromCore;
use crate::policy::{
    Admission, BodyError, Frontend, HeaderSource, LoginRoute, Problem, RequestHead, VerifiedUser,
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

/// A core response (`http` 1) as actix's (`http` 0.2).
impl FromCore for HttpResponse {
    fn from_core(response: http::Response<Bytes>) -> Self {
        let (parts, body) = response.into_parts();
        let status = StatusCode::from_u16(parts.status.as_u16());
        let mut out = HttpResponse::build(status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
        for (name, value) in &parts.headers {
            out.append_header((name.as_str(), value.as_bytes()));
        }
        out.body(body)
    }
}

impl From<Problem> for HttpResponse {
    fn from(problem: Problem) -> Self {
        HttpResponse::from_core(problem.to_response())
    }
}

impl Responder for Problem {
    type Body = BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        self.into()
    }
}

impl From<Problem> for ::actix_web::Error {
    fn from(problem: Problem) -> Self {
        ProblemError(problem).into()
    }
}

/// A [`Problem`] as an actix error. Its `Display` (what actix logs) is the stable code only.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.code)]
struct ProblemError(Problem);

impl ResponseError for ProblemError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        self.0.clone().into()
    }
}

impl FromRequest for VerifiedUser {
    type Error = ::actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let extracted = NetId::extract(&*req.extensions());
        ready(extracted.map_err(|(code, r)| InternalError::from_response(code, r).into()))
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
                    let read = |limit| read(body.into_inner(), limit);
                    let (method, client) = (req.match_info().get("method"), req.peer_addr());
                    let client = client.map(|a| a.ip());
                    (n.login_reply(route, method, client, req.headers(), read)).await
                }
            };
            cfg.route(route.path(), web::post().to(handler));
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
        Box::pin(async move {
            // actix runs `App::wrap` middleware before routing, so the route is found from the
            // path the router will match (percent-decoded except `%`, `/`, `+`), not the raw
            // one, or `/adult/%73hop` would reach `/adult/shop` without its policy. A request
            // without a body has no payload at all (an HTTP/2 body without `Content-Length`
            // still has one).
            let payload = req.take_payload();
            let head = RequestHead {
                path: req.match_info().as_str(),
                matched_route: None,
                query: Some(req.query_string()).filter(|q| !q.is_empty()),
                headers: req.headers(),
                body_known_empty: matches!(payload, Payload::None),
            };
            let (admitted, payload) = netid.admit_body(&head, true, payload, read).await;
            match admitted {
                Ok(admission) => {
                    let renewed = pass_on(&netid, &mut req, admission, payload);
                    let mut response = service.call(req).await?;
                    if let Some(cookie) = renewed {
                        response.headers_mut().append(header::SET_COOKIE, cookie);
                    }
                    Ok(response.map_into_left_body())
                }
                Err(problem) => {
                    let response = netid.refuse(&problem, req.match_pattern().as_deref());
                    Ok(req.into_response(response).map_into_right_body())
                }
            }
        })
    }
}

/// Leaves the request ready for the handler ([`NetId::hand_over`]): the body the gate chose (or
/// the `unread` one), what the extractor needs; returns the `Set-Cookie` for its response.
fn pass_on(
    netid: &NetId,
    req: &mut ServiceRequest,
    admitted: Admission,
    unread: Option<Payload>,
) -> Option<HeaderValue> {
    let handover = netid.hand_over(admitted, &mut *req.extensions_mut());
    if let Some(len) = handover.content_length {
        req.headers_mut().insert(header::CONTENT_LENGTH, len.into());
    }
    if let Some(payload) = handover.body.map(Payload::from).or(unread) {
        req.set_payload(payload);
    }
    (handover.set_cookie).and_then(|c| HeaderValue::from_bytes(c.as_bytes()).ok())
}

// actix's request extensions, where the middleware leaves the user for the extractor.
crate::policy::gate::impl_extensions!(::actix_web::dev::Extensions);
