//! axum adapter (feature `axum`): a tower [`Layer`](tower::Layer) that runs the rules, the
//! [`VerifiedUser`] extractor, and the login routes. Every rule lives in [`crate::policy`];
//! this module only translates HTTP.
//!
//! ```no_run
//! # async fn demo(login: netid::policy::LoginFlow, rules: netid::policy::Rules) {
//! use axum::{Router, routing::get};
//! use netid::axum::NetId;
//! use netid::policy::VerifiedUser;
//!
//! async fn me(user: VerifiedUser) -> String {
//!     format!("hello {}", user.subject())
//! }
//!
//! let netid = NetId::new(login, rules);
//! let app: Router = Router::new()
//!     .route("/me", get(me))
//!     .merge(netid.routes())
//!     .layer(netid.layer());
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ::axum::Router;
use ::axum::body::{Body, Bytes, HttpBody};
use ::axum::extract::{FromRequestParts, MatchedPath, Path, Request};
use ::axum::http::request::Parts;
use ::axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use ::axum::response::{IntoResponse, Response};
use ::axum::routing::post;

use crate::policy::web;
use crate::policy::{
    LoginFlow, LoginStatus, Problem, RequestFacts, Rules, SessionError, Verdict, VerifiedUser,
};

pub use crate::policy::web::{LOGIN_COOKIE, SESSION_COOKIE};

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            self.to_json().to_string(),
        )
            .into_response()
    }
}

/// Why there is no user on a request, kept for the extractor to report precisely.
#[derive(Debug, Clone)]
struct NoUser(Problem);

/// How refusals are rendered: the app's renderer if it set one, else problem+json.
#[derive(Clone, Default)]
struct Renderer(Option<Arc<RenderFn>>);

/// An app's own rendering of a refusal.
type RenderFn = dyn Fn(&Problem) -> Response + Send + Sync;

impl Renderer {
    fn render(&self, problem: Problem) -> Response {
        match &self.0 {
            Some(f) => f(&problem),
            None => problem.into_response(),
        }
    }
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Renderer(custom)"
        } else {
            "Renderer(problem+json)"
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for VerifiedUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        if let Some(user) = parts.extensions.get::<VerifiedUser>() {
            return Ok(user.clone());
        }
        let renderer = parts
            .extensions
            .get::<Renderer>()
            .cloned()
            .unwrap_or_default();
        Err(renderer.render(
            parts
                .extensions
                .get::<NoUser>()
                .map(|n| n.0.clone())
                .unwrap_or_else(|| Problem::unauthenticated("sign in first")),
        ))
    }
}

/// netid for an axum app: the layer and the login routes share one configuration.
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

    /// Renders every refusal (the layer's, the extractor's and the login routes') with `f`
    /// instead of the default `application/problem+json` — for an app with its own error format.
    pub fn with_problem_renderer(
        mut self,
        f: impl Fn(&Problem) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.renderer = Renderer(Some(Arc::new(f)));
        self
    }

    fn render(&self, problem: Problem) -> Response {
        self.renderer.render(problem)
    }

    /// The layer: authenticates the session, then applies the rules (age gate, no extra
    /// plaintext) before the handler. Apply it with `Router::layer`, after the routes.
    pub fn layer(&self) -> NetIdLayer {
        NetIdLayer {
            netid: Arc::new(self.clone()),
        }
    }

    /// The login routes, under `/netid`: `POST login/start`, `POST login/poll`,
    /// `POST login/other/{method}`, `POST callback` (the platform's webhook), `POST logout`.
    pub fn routes(&self) -> Router {
        let n = self.clone();
        let (n1, n2, n3, n4, n5) = (n.clone(), n.clone(), n.clone(), n.clone(), n);
        Router::new()
            .route("/netid/login/start", post(move || async move { n1.start().await }))
            .route("/netid/login/poll", post(move |h: HeaderMap| async move { n2.poll(&h).await }))
            .route(
                "/netid/login/other/{method}",
                post(move |Path(m): Path<String>, body: Bytes| async move { n3.other(&m, &body).await }),
            )
            .route(
                "/netid/callback",
                post(move |h: HeaderMap, body: Bytes| async move { n4.callback(&h, &body).await }),
            )
            .route("/netid/logout", post(move |h: HeaderMap| async move { n5.logout(&h).await }))
    }

    fn cookie(&self, name: &str, value: &str, path: &str, max_age: u64) -> HeaderValue {
        let text = web::set_cookie(name, value, path, max_age, self.secure_cookies);
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    async fn start(&self) -> Response {
        match self.login.start().await {
            Ok(start) => {
                let body = web::start_body(&start);
                let mut r = (StatusCode::CREATED, ::axum::Json(body)).into_response();
                r.headers_mut().append(
                    header::SET_COOKIE,
                    self.cookie(
                        LOGIN_COOKIE,
                        &start.browser_binding,
                        web::LOGIN_COOKIE_PATH,
                        web::LOGIN_COOKIE_MAX_AGE,
                    ),
                );
                r
            }
            Err(p) => self.render(p),
        }
    }

    async fn poll(&self, headers: &HeaderMap) -> Response {
        let Some(binding) = web::cookie_value(cookie_headers(headers), LOGIN_COOKIE) else {
            return self.render(web::login_unknown());
        };
        match self.login.poll(binding).await {
            Ok(LoginStatus::Pending) => {
                (StatusCode::ACCEPTED, ::axum::Json(web::pending_body())).into_response()
            }
            Ok(LoginStatus::Completed { user, session }) => self.signed_in(&user, &session),
            Err(p) => self.render(p),
        }
    }

    fn signed_in(&self, user: &VerifiedUser, session: &str) -> Response {
        let mut r = (StatusCode::OK, ::axum::Json(web::signed_in_body(user))).into_response();
        let h = r.headers_mut();
        h.append(
            header::SET_COOKIE,
            self.cookie(SESSION_COOKIE, session, "/", web::SESSION_COOKIE_MAX_AGE),
        );
        h.append(
            header::SET_COOKIE,
            self.cookie(LOGIN_COOKIE, "", web::LOGIN_COOKIE_PATH, 0),
        );
        r
    }

    async fn other(&self, method: &str, evidence: &[u8]) -> Response {
        match self.login.login_other(method, evidence).await {
            Ok((user, session)) => self.signed_in(&user, &session),
            Err(p) => self.render(p),
        }
    }

    async fn callback(&self, headers: &HeaderMap, body: &[u8]) -> Response {
        match self.login.callback(headers, body).await {
            Ok(()) => StatusCode::NO_CONTENT.into_response(),
            Err(p) => self.render(p),
        }
    }

    async fn logout(&self, headers: &HeaderMap) -> Response {
        if let Some(token) = session_token(headers) {
            if let Err(p) = self.login.logout(token).await {
                if p.status >= 500 {
                    return self.render(p);
                }
            }
        }
        let mut r = StatusCode::NO_CONTENT.into_response();
        r.headers_mut()
            .append(header::SET_COOKIE, self.cookie(SESSION_COOKIE, "", "/", 0));
        r
    }
}

fn cookie_headers(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .map(HeaderValue::as_bytes)
}

/// The session token: `Authorization: Bearer …` or the session cookie.
fn session_token(headers: &HeaderMap) -> Option<&str> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    web::session_token(authorization, cookie_headers(headers))
}

/// [`session_token`] unchecked, for the lookup among remembered tokens.
fn session_token_bytes(headers: &HeaderMap) -> Option<&[u8]> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    web::session_token_bytes(authorization, cookie_headers(headers))
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
        let req = match decide_now(&self.netid, req) {
            Now::Pass(req) => {
                return NetIdFuture::new(State::Direct {
                    inner: self.inner.call(req),
                });
            }
            Now::Refuse(problem) => {
                return NetIdFuture::new(State::Refused {
                    response: Some(self.netid.render(problem)),
                });
            }
            Now::Wait(req) => req,
        };
        // The clone that was polled ready is the one to call (tower's usual dance).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let netid = Arc::clone(&self.netid);
        NetIdFuture::new(State::Waiting {
            inner: Box::pin(async move {
                match prepare(&netid, req).await {
                    Ok(req) => inner.call(req).await,
                    Err(problem) => Ok(netid.render(problem)),
                }
            }),
        })
    }
}

pin_project_lite::pin_project! {
    /// The future of [`NetIdService`]: the handler's own when the request could be decided
    /// without waiting (a remembered session, no body to read, no consent to look up — most
    /// requests), else one that first waits on the stores.
    pub struct NetIdFuture<F, E> {
        #[pin]
        state: State<F, E>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F, E> {
        // Decided at once; the handler runs.
        Direct { #[pin] inner: F },
        // Refused at once.
        Refused { response: Option<Response> },
        // Waiting on the session store, the body or the consent ledger first.
        Waiting { inner: Pin<Box<dyn Future<Output = Result<Response, E>> + Send>> },
    }
}

impl<F, E> NetIdFuture<F, E> {
    fn new(state: State<F, E>) -> Self {
        Self { state }
    }
}

impl<F, E> Future for NetIdFuture<F, E>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Direct { inner } => inner.poll(cx),
            // Polled again after it answered: tower forbids it; answer 500 rather than panic.
            StateProj::Refused { response } => Poll::Ready(Ok(response
                .take()
                .unwrap_or_else(|| Problem::internal().into_response()))),
            StateProj::Waiting { inner } => inner.as_mut().poll(cx),
        }
    }
}

/// What [`decide_now`] found.
enum Now {
    /// Every rule passed; the request carries its user.
    Pass(Request),
    /// A rule refused it.
    Refuse(Problem),
    /// Deciding needs waiting (a store, the body, the consent ledger): [`prepare`] does.
    Wait(Request),
}

/// The rules applied without waiting, where nothing needs waiting: the session is remembered and
/// cleared of revocation on this thread (or there is none), no body is read (none is inspected,
/// or it is known to be empty) and no consent needs looking up. Everything else goes to
/// [`prepare`], which applies the same rules and awaits what they need; here only what cannot
/// change the outcome is skipped.
fn decide_now(netid: &NetId, mut req: Request) -> Now {
    let user = match session_token_bytes(req.headers()) {
        None => None,
        Some(token) => match netid.login.sessions().authenticate_now(token) {
            Some(user) => Some(user),
            None => return Now::Wait(req),
        },
    };
    let body_is_read = user.as_ref().is_some_and(VerifiedUser::is_netid)
        && req.body().size_hint().exact() != Some(0);
    if body_is_read {
        return Now::Wait(req);
    }
    let verdict = {
        let facts = facts(
            req.headers(),
            req.uri(),
            req.extensions(),
            user.as_ref(),
            &[],
        );
        netid.rules.check_now(facts)
    };
    match verdict {
        None | Some(Ok(Verdict::Replace(_))) => Now::Wait(req),
        Some(Err(problem)) => Now::Refuse(problem),
        Some(Ok(Verdict::Pass)) => {
            pass_on(netid, req.extensions_mut(), user, None);
            Now::Pass(req)
        }
    }
}

/// The request as the rules see it. Body headers are read only when there is a body.
fn facts<'a>(
    headers: &'a HeaderMap,
    uri: &'a ::axum::http::Uri,
    extensions: &'a ::axum::http::Extensions,
    user: Option<&'a VerifiedUser>,
    body: &'a [u8],
) -> RequestFacts<'a> {
    let header = |name| {
        headers
            .get(name)
            .filter(|_| !body.is_empty())
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    RequestFacts {
        route: extensions
            .get::<MatchedPath>()
            .map_or(uri.path(), MatchedPath::as_str),
        user,
        content_type: header(header::CONTENT_TYPE),
        content_encoding: header(header::CONTENT_ENCODING),
        query: uri.query(),
        body,
    }
}

/// What the extractor reads: the user, or why there is none, and a custom renderer if any (the
/// extractor falls back to problem+json itself).
fn pass_on(
    netid: &NetId,
    extensions: &mut ::axum::http::Extensions,
    user: Option<VerifiedUser>,
    no_user: Option<NoUser>,
) {
    if let Some(user) = user {
        extensions.insert(user);
    }
    if let Some(no_user) = no_user {
        extensions.insert(no_user);
    }
    if netid.renderer.0.is_some() {
        extensions.insert(netid.renderer.clone());
    }
}

/// Authenticates and applies the rules; the request to pass on, or the refusal.
async fn prepare(netid: &NetId, req: Request) -> Result<Request, Problem> {
    let (mut parts, body) = req.into_parts();
    let mut no_user = None;
    let user = match session_token(&parts.headers) {
        None => None,
        Some(token) => match netid.login.sessions().authenticate(token).await {
            Ok(user) => Some(user),
            Err(e @ SessionError::Store(_)) => return Err(e.to_problem()),
            Err(e) => {
                no_user = Some(NoUser(e.to_problem()));
                None
            }
        },
    };
    // Only bodies of 网号/网证 users are inspected (Art. 7 §2); others, and bodies known to be
    // empty (most GETs), stream through untouched.
    let inspect_body =
        user.as_ref().is_some_and(VerifiedUser::is_netid) && body.size_hint().exact() != Some(0);
    let (bytes, untouched) = if inspect_body {
        let bytes = ::axum::body::to_bytes(body, netid.rules.max_body())
            .await
            .map_err(|_| {
                Problem::new(
                    413,
                    "netid.payload_too_large",
                    "Body too large",
                    "the request body is over the limit",
                )
            })?;
        (bytes, None)
    } else {
        (Bytes::new(), Some(body))
    };
    let verdict = {
        let facts = facts(
            &parts.headers,
            &parts.uri,
            &parts.extensions,
            user.as_ref(),
            &bytes,
        );
        netid.rules.check(facts).await?
    };
    let body = match verdict {
        Verdict::Pass => untouched.unwrap_or_else(|| Body::from(bytes)),
        Verdict::Replace(new_body) => {
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(new_body.len()));
            Body::from(new_body)
        }
    };
    pass_on(netid, &mut parts.extensions, user, no_user);
    Ok(Request::from_parts(parts, body))
}
