//! axum adapter (feature `axum`): a tower [`Layer`](tower::Layer) that runs the rules, the
//! [`VerifiedUser`] extractor, and the login routes. Every rule, the login routes and the
//! rendering of refusals live in [`crate::policy`] ([`Gate`](crate::policy::Gate)); this module
//! only converts axum's requests and responses. Its three lines are the crate's first example:
//! `NetId::new(login, rules)`, `router.merge(netid.routes())`, `.layer(netid.layer())`.

use std::sync::Arc;
use std::task::{Context, Poll};

use ::axum::Router;
use ::axum::body::{Body, Bytes, HttpBody};
use ::axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Path, Request};
use ::axum::http::request::Parts;
use ::axum::http::{HeaderMap, HeaderValue, header};
use ::axum::response::{IntoResponse, Response};
use ::axum::routing::post;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::policy::gate::FromCore;
use crate::policy::{
    Admission, BodyError, Frontend, GateFuture, Immediate, LoginRoute, Problem, RequestHead,
    VerifiedUser,
};

pub use crate::policy::{LOGIN_COOKIE, SESSION_COOKIE};

/// netid for an axum app: the layer and the login routes share one configuration
/// ([`Frontend`]: `new`, `insecure_cookies_for_local_development`, `problem_type_base`,
/// `with_problem_renderer`).
pub type NetId = Frontend<Response>;

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        Response::from_core(self.to_response())
    }
}

impl FromCore for Response {
    fn from_core(response: http::Response<Bytes>) -> Self {
        response.map(Body::from)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for VerifiedUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        NetId::extract(&parts.extensions).map_err(|(_, response)| response)
    }
}

/// `Option<VerifiedUser>`: the user on a page that serves everyone (a home page that greets
/// whoever is signed in); `None` when no valid session came with the request, whatever the
/// reason. The rules still applied before the handler.
impl<S: Send + Sync> ::axum::extract::OptionalFromRequestParts<S> for VerifiedUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<VerifiedUser>().cloned())
    }
}

impl Frontend<Response> {
    /// The layer: authenticates the session, then applies the rules (age gate, no extra
    /// plaintext) before the handler. Apply it with `Router::layer`, after the routes.
    pub fn layer(&self) -> NetIdLayer {
        NetIdLayer {
            netid: Arc::new(self.clone()),
        }
    }

    /// The login routes ([`LoginRoute`]), all `POST` under `/netid`.
    pub fn routes(&self) -> Router {
        let netid = Arc::new(self.clone());
        let handler = |route: LoginRoute| {
            let n = Arc::clone(&netid);
            post(
                move |method: Option<Path<String>>, req: Request| async move {
                    let (parts, body) = req.into_parts();
                    let method = method.as_ref().map(|Path(m)| m.as_str());
                    // Known when the app serves with `into_make_service_with_connect_info`.
                    let client = parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>();
                    let client = client.map(|c| c.0.ip());
                    let read = |limit| read(body, limit);
                    (n.login_reply(route, method, client, &parts.headers, read)).await
                },
            )
        };
        LoginRoute::ALL
            .into_iter()
            .fold(Router::new(), |router, route| {
                router.route(route.path(), handler(route))
            })
    }
}

/// Reads a body up to `limit` bytes.
async fn read(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Unreadable),
    }
}

/// The tower layer made by [`NetId::layer`].
#[derive(Clone, Debug)]
pub struct NetIdLayer {
    // One shared count to touch per request, not one per part: on many cores every atomic
    // increment of a shared count is a cache line passed between them.
    netid: Arc<NetId>,
}

impl<S> tower::Layer<S> for NetIdLayer {
    type Service = NetIdService<S>;
    fn layer(&self, inner: S) -> NetIdService<S> {
        NetIdService {
            inner,
            netid: Arc::clone(&self.netid),
        }
    }
}

/// The service made by [`NetIdLayer`].
#[derive(Clone, Debug)]
pub struct NetIdService<S> {
    inner: S,
    netid: Arc<NetId>,
}

/// The route pattern axum matched, if any.
fn matched(parts: &Parts) -> Option<&str> {
    parts
        .extensions
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
}

/// The request as the gate sees it.
fn head<'a>(parts: &'a Parts, body_known_empty: bool) -> RequestHead<'a, HeaderMap> {
    RequestHead {
        path: parts.uri.path(),
        matched_route: matched(parts),
        query: parts.uri.query(),
        headers: &parts.headers,
        body_known_empty,
    }
}

impl<S> tower::Service<Request> for NetIdService<S>
where
    S: tower::Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send,
{
    type Response = Response;
    type Error = S::Error;
    type Future = NetIdFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let (parts, body) = req.into_parts();
        let empty = body.size_hint().exact() == Some(0);
        match self.netid.gate.decide_now(&head(&parts, empty)) {
            Immediate::Pass(admission) => {
                let (req, _) = pass_on(&self.netid, parts, body, admission);
                return NetIdFuture::direct(self.inner.call(req));
            }
            Immediate::Refuse(problem) => {
                let response = self.netid.refuse(&problem, matched(&parts));
                return NetIdFuture::waiting(Box::pin(std::future::ready(Ok(response))));
            }
            Immediate::Wait => {}
        }
        // The clone that was polled ready is the one to call (tower's usual dance).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let netid = Arc::clone(&self.netid);
        NetIdFuture::waiting(Box::pin(async move {
            let (admitted, body) = netid
                .admit_body(&head(&parts, empty), false, body, read)
                .await;
            match admitted {
                Ok(admission) => {
                    let body = body.unwrap_or_default();
                    let (req, renewed) = pass_on(&netid, parts, body, admission);
                    let mut response = inner.call(req).await?;
                    if let Some(cookie) = renewed {
                        response.headers_mut().append(header::SET_COOKIE, cookie);
                    }
                    Ok(response)
                }
                Err(problem) => Ok(netid.refuse(&problem, matched(&parts))),
            }
        }))
    }
}

/// The future of [`NetIdService`] ([`GateFuture`]): the handler's own when the gate let the
/// request through at once, else a boxed one.
pub type NetIdFuture<F, E> = GateFuture<F, Response, E>;

/// The request for the handler (the body the gate chose, what the extractor needs), and the
/// `Set-Cookie` for its response ([`NetId::hand_over`]).
fn pass_on(netid: &NetId, mut parts: Parts, body: Body, admission: Admission) -> Passed {
    let handover = netid.hand_over(admission, &mut parts.extensions);
    if let Some(len) = handover.content_length {
        parts.headers.insert(header::CONTENT_LENGTH, len.into());
    }
    let body = handover.body.map_or(body, Body::from);
    (Request::from_parts(parts, body), handover.set_cookie)
}

/// A request passed on, and the `Set-Cookie` for its response.
type Passed = (Request, Option<HeaderValue>);
