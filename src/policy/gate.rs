//! The request pipeline and the login routes, written once for every framework.
//!
//! An adapter turns its framework's request into a [`RequestHead`] (and, when the gate asks, the
//! body's bytes), and the gate's answer back into its framework's response. Everything that
//! decides — which session, which route policy, whether the body is read, the detector, the
//! consent lookup, the status and code of a refusal, the cookies and bodies of the login routes —
//! happens here, so the axum and actix adapters cannot drift apart, and an adapter for another
//! framework is a few dozen lines.
//!
//! The pipeline, in order:
//! 1. the session (`Authorization: Bearer …` or the session cookie) — a remembered,
//!    cleared session is answered without waiting ([`Gate::decide_now`]);
//! 2. the route policy: the route the framework matched if a policy is declared for it, else
//!    the declared pattern the path falls under, else the default ([`Rules::route_policy`]) —
//!    the same on every adapter;
//! 3. the age gate;
//! 4. for every signed-in user: a body declared longer than [`Rules::max_body`] is refused
//!    (413; equal limits, Art. 7 §3), and a body of unknown length (chunked, or HTTP/2 without
//!    `Content-Length`) is read up to the limit, never further, so that one over it gets the
//!    same 413 whichever way the user verified, before any handler sees a byte of it;
//! 5. for a 网号/网证 user only (Art. 7 §2): the body, read up to [`Rules::max_body`], the
//!    query, the path, the headers and cookies, and the detector;
//! 6. the consent ledger, where the route allows data under a consent;
//! 7. the verdict: pass (the body unchanged, as read, or redacted) or a [`Problem`].

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};

use super::rules::{RequestFacts, RoutePolicy, Rules, Verdict};
use super::web;
use super::{LoginFlow, LoginStatus, Problem, ProblemKind, SessionError, VerifiedUser};
use crate::problem::Lang;

/// The headers of a request, as the adapter's framework holds them. Implemented for
/// [`http::HeaderMap`]; the actix adapter implements it for its own map (actix-web 4 is on
/// `http` 0.2), so no request's headers are copied.
pub trait HeaderSource {
    /// The values of one header, in order.
    type Values<'a>: Iterator<Item = &'a [u8]>
    where
        Self: 'a;

    /// Every value of the header `name` (lower case), in order.
    fn values<'a>(&'a self, name: &'static str) -> Self::Values<'a>;

    /// Calls `f` with every header's name (lower case) and value, in order.
    fn for_each(&self, f: &mut dyn FnMut(&str, &[u8]));

    /// The first value of `name`.
    fn first(&self, name: &'static str) -> Option<&[u8]> {
        self.values(name).next()
    }

    /// The first value of `name`, if it is visible ASCII text.
    fn first_str(&self, name: &'static str) -> Option<&str> {
        self.first(name)
            .filter(|v| v.iter().all(|b| *b == b'\t' || (b' '..0x7f).contains(b)))
            .and_then(|v| std::str::from_utf8(v).ok())
    }
}

impl HeaderSource for http::HeaderMap {
    type Values<'a> =
        std::iter::Map<http::header::ValueIter<'a, HeaderValue>, fn(&'a HeaderValue) -> &'a [u8]>;

    fn values<'a>(&'a self, name: &'static str) -> Self::Values<'a> {
        // The names the gate asks on every request, as `http`'s constants: a lookup by `&str`
        // parses the name first (callgrind: ~100 instructions a lookup, a few a request).
        use http::header;
        let values = match name {
            "cookie" => self.get_all(header::COOKIE),
            "authorization" => self.get_all(header::AUTHORIZATION),
            "content-length" => self.get_all(header::CONTENT_LENGTH),
            "content-type" => self.get_all(header::CONTENT_TYPE),
            "content-encoding" => self.get_all(header::CONTENT_ENCODING),
            "transfer-encoding" => self.get_all(header::TRANSFER_ENCODING),
            "accept-language" => self.get_all(header::ACCEPT_LANGUAGE),
            other => self.get_all(other),
        };
        values.iter().map(HeaderValue::as_bytes)
    }

    fn for_each(&self, f: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in self {
            f(name.as_str(), value.as_bytes());
        }
    }
}

/// What the gate needs to know of a request before its body.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a, H: ?Sized> {
    /// The path the framework's router matches (for actix, its percent-decoded match path).
    pub path: &'a str,
    /// The route pattern the framework matched (axum's `MatchedPath`), if it has one yet.
    pub matched_route: Option<&'a str>,
    /// The query string, without `?`.
    pub query: Option<&'a str>,
    /// The headers.
    pub headers: &'a H,
    /// Whether the body is known to be empty (a known length of 0, or no body at all).
    pub body_known_empty: bool,
}

/// The socket peer's address, where the adapter knows it (for the cap on pending logins per
/// client).
pub type ClientAddr = Option<std::net::IpAddr>;

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Longer than the limit the gate gave.
    TooLarge,
    /// The stream failed (the client went away, a malformed chunk).
    Unreadable,
}

/// What becomes of the body when a request is admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdmittedBody {
    /// Not read: pass the framework's body on as it is.
    Untouched,
    /// Read and found acceptable: pass these bytes on.
    Read(Bytes),
    /// Redacted: pass these bytes on instead, with a new `Content-Length`.
    Replaced(Bytes),
}

/// A request the rules let through, and what the handler gets.
#[derive(Debug, Clone)]
pub struct Admission {
    /// The signed-in user, for the `VerifiedUser` extractor.
    pub user: Option<VerifiedUser>,
    /// Why a session token that came with the request was not accepted (the extractor's
    /// refusal on routes that need a user).
    pub no_user: Option<Problem>,
    /// The body to pass on.
    pub body: AdmittedBody,
    /// A `Set-Cookie` the adapter adds to the handler's response: the session cookie with a
    /// renewed token, when the one the request came with was due for renewal (sliding expiry,
    /// see [`SessionManager::authenticate_and_renew`](super::SessionManager::authenticate_and_renew)).
    pub set_cookie: Option<HeaderValue>,
}

/// [`Gate::decide_now`]'s answer.
#[derive(Debug)]
pub enum Immediate {
    /// Every rule passed without waiting.
    Pass(Admission),
    /// A rule refused the request.
    Refuse(Problem),
    /// Deciding needs a store, the body or the consent ledger: call [`Gate::admit`].
    Wait,
}

/// The login routes, all `POST`, under `/netid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRoute {
    /// `/netid/login/start`: starts a 网号/网证 login bound to this browser (201, with the
    /// QR payload and app link, and the login cookie).
    Start,
    /// `/netid/login/poll`: 202 while pending; 200 and the session cookie when done.
    Poll,
    /// `/netid/login/other/{method}`: a login verified the platform's other lawful way.
    Other,
    /// `/netid/callback`: the platform's signed webhook (204).
    Callback,
    /// `/netid/logout`: ends the session (204) and clears its cookie.
    Logout,
    /// `/netid/consent`: the signed-in user agrees to provide plaintext identity data for a
    /// purpose a route offers (Art. 7 §2, 用户同意提供的除外); 201 with the receipt.
    Consent,
    /// `/netid/consent/withdraw`: the user withdraws a consent by its id (PIPL Art. 15 §1); 204.
    ConsentWithdraw,
}

impl LoginRoute {
    /// Every login route.
    pub const ALL: [LoginRoute; 7] = [
        LoginRoute::Start,
        LoginRoute::Poll,
        LoginRoute::Other,
        LoginRoute::Callback,
        LoginRoute::Logout,
        LoginRoute::Consent,
        LoginRoute::ConsentWithdraw,
    ];

    /// The route's path, in the syntax both axum and actix register (`{method}`).
    pub fn path(self) -> &'static str {
        match self {
            LoginRoute::Start => "/netid/login/start",
            LoginRoute::Poll => "/netid/login/poll",
            LoginRoute::Other => "/netid/login/other/{method}",
            LoginRoute::Callback => "/netid/callback",
            LoginRoute::Logout => "/netid/logout",
            LoginRoute::Consent => "/netid/consent",
            LoginRoute::ConsentWithdraw => "/netid/consent/withdraw",
        }
    }
}

/// A login route's answer: the response, or a refusal for the adapter to render.
pub type Reply = Result<Response<Bytes>, Problem>;

/// The largest body a login route reads (the other-method evidence, the platform's webhook).
pub const LOGIN_BODY_LIMIT: usize = 64 * 1024;

/// The request pipeline and login routes of one app. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Gate {
    login: LoginFlow,
    rules: Rules,
    secure_cookies: bool,
    type_base: Option<Arc<str>>,
}

impl Gate {
    /// A gate with this login flow and these rules; cookies are `Secure`. Logs a warning when a
    /// route has an age gate but the login asks for no age band: every 网号/网证 user would be
    /// refused there (`netid.age_unknown`); and when the login has no audit log: no attempt,
    /// consent or logout would be recorded (the Ministry's Q&A, part 七). The rules read the
    /// login flow's clock from then on ([`RulesBuilder::clock`](super::RulesBuilder::clock)).
    pub fn new(login: LoginFlow, rules: Rules) -> Self {
        let rules = rules.with_clock(Arc::clone(login.sessions().clock()));
        if !login.has_audit_log() {
            tracing::warn!(
                "the login flow has no audit log, so no verification attempt, consent, \
                 withdrawal or logout is recorded and the platform's signed answers are not \
                 kept (docs/COMPLIANCE.md, Q&A 七); give it one with LoginFlowBuilder::audit"
            );
        }
        if rules.has_age_gate() && !login.request().wants_age_tag() {
            tracing::warn!(
                "a route has an age gate, but the login asks for no age band, so every 网号/网证 \
                 user is refused there (netid.age_unknown); ask for one with \
                 LoginFlowBuilder::request(VerificationRequest::age_tag(…))"
            );
        }
        Self {
            login,
            rules,
            secure_cookies: true,
            type_base: None,
        }
    }

    /// Refusals' `type` URIs under `base` (`https://shop.example/problems/`), for an app that
    /// documents them; the default is [`DEFAULT_TYPE_BASE`](crate::problem::DEFAULT_TYPE_BASE).
    pub fn problem_type_base(mut self, base: impl Into<Arc<str>>) -> Self {
        self.type_base = Some(base.into());
        self
    }

    /// `problem` in the language the request prefers, under the app's `type` base.
    pub fn localize<H: HeaderSource>(&self, mut problem: Problem, headers: &H) -> Problem {
        problem.lang = Lang::negotiate(headers.first("accept-language"));
        if let Some(base) = &self.type_base {
            problem.type_base = Some(Arc::clone(base));
        }
        problem
    }

    /// A refusal of the pipeline, localized. It is logged by the adapter that sends it
    /// ([`log_refusal`]), which knows the route by then.
    fn refusal<H: HeaderSource>(&self, problem: Problem, head: &RequestHead<'_, H>) -> Problem {
        self.localize(problem, head.headers)
    }

    /// Why a request has no user, for the extractor: the session's refusal, or "sign in".
    fn no_user<H: HeaderSource>(&self, why: Option<Problem>, headers: &H) -> Problem {
        self.localize(why.unwrap_or_else(Problem::unauthenticated), headers)
    }

    /// Cookies without the `Secure` flag, for plain-http development on localhost only.
    pub fn insecure_cookies_for_local_development(mut self) -> Self {
        self.secure_cookies = false;
        self
    }

    /// The login flow.
    pub fn login(&self) -> &LoginFlow {
        &self.login
    }

    /// The rules.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The rules applied without waiting, where nothing needs waiting: no session, or one
    /// remembered and cleared of revocation on this thread; no body to read (a 网号/网证 user's
    /// body is read unless known to be empty); no consent to look up. Otherwise
    /// [`Immediate::Wait`]: [`admit`](Self::admit) applies the same rules and awaits what they
    /// need. Only what cannot change the outcome is skipped here.
    pub fn decide_now<H: HeaderSource + Sync>(&self, head: &RequestHead<'_, H>) -> Immediate {
        let user = match session_token_bytes(head.headers) {
            None => None,
            Some(token) => match self.login.sessions().authenticate_now(token) {
                Some(user) => Some(user),
                None => return Immediate::Wait,
            },
        };
        if user.is_some() && self.declared_too_large(head) {
            return Immediate::Refuse(self.refusal(super::rules::too_large(), head));
        }
        if reads_body(user.as_ref(), head) || measures_body(user.as_ref(), head) {
            return Immediate::Wait;
        }
        let policy = self.policy(head);
        match self
            .rules
            .check_now_with(&policy, self.facts(head, user.as_ref(), &[]))
        {
            None | Some(Ok(Verdict::Replace(_))) => Immediate::Wait,
            Some(Err(problem)) => Immediate::Refuse(self.refusal(problem, head)),
            Some(Ok(Verdict::Pass)) => Immediate::Pass(Admission {
                no_user: user.is_none().then(|| self.no_user(None, head.headers)),
                user,
                body: AdmittedBody::Untouched,
                set_cookie: None,
            }),
        }
    }

    /// [`decide_now`](Self::decide_now), and [`admit`](Self::admit) where it says to wait: for
    /// an adapter that has no cheaper path for requests decided at once.
    pub async fn decide<H, R, F>(
        &self,
        head: &RequestHead<'_, H>,
        read_body: R,
    ) -> Result<Admission, Problem>
    where
        H: HeaderSource + Sync,
        R: FnOnce(usize) -> F,
        F: Future<Output = Result<Bytes, BodyError>>,
    {
        match self.decide_now(head) {
            Immediate::Pass(admission) => Ok(admission),
            Immediate::Refuse(problem) => Err(problem),
            Immediate::Wait => self.admit(head, read_body).await,
        }
    }

    /// Authenticates the request and applies every rule. `read_body(limit)` is called at most
    /// once, only when the body must be inspected (a 网号/网证 user's) or measured (any signed-in
    /// user's body of unknown length), and must stop at `limit` bytes.
    pub async fn admit<H, R, F>(
        &self,
        head: &RequestHead<'_, H>,
        read_body: R,
    ) -> Result<Admission, Problem>
    where
        H: HeaderSource + Sync,
        R: FnOnce(usize) -> F,
        F: Future<Output = Result<Bytes, BodyError>>,
    {
        self.admit_unlocalized(head, read_body)
            .await
            .map_err(|p| self.refusal(p, head))
    }

    async fn admit_unlocalized<H, R, F>(
        &self,
        head: &RequestHead<'_, H>,
        read_body: R,
    ) -> Result<Admission, Problem>
    where
        H: HeaderSource + Sync,
        R: FnOnce(usize) -> F,
        F: Future<Output = Result<Bytes, BodyError>>,
    {
        let mut no_user = None;
        let mut renewed = None;
        let user = match session_token(head.headers) {
            None => None,
            Some(token) => match self.authenticate(token, head).await {
                Ok((user, renewal)) => {
                    renewed = renewal;
                    Some(user)
                }
                Err(e @ SessionError::Store(_)) => return Err(e.to_problem()),
                Err(e) => {
                    no_user = Some(e.to_problem());
                    None
                }
            },
        };
        if user.is_some() && self.declared_too_large(head) {
            return Err(super::rules::too_large());
        }
        let bytes = if reads_body(user.as_ref(), head) || measures_body(user.as_ref(), head) {
            Some(
                read_body(self.rules.max_body())
                    .await
                    .map_err(Problem::from)?,
            )
        } else {
            None
        };
        let body = bytes.as_deref().unwrap_or_default();
        let policy = self.policy(head);
        let verdict = self
            .rules
            .check_with(
                &policy,
                self.facts(head, user.as_ref(), body),
                self.login.now(),
            )
            .await?;
        let body = match (verdict, bytes) {
            (Verdict::Replace(new), _) => AdmittedBody::Replaced(Bytes::from(new)),
            (Verdict::Pass, Some(bytes)) => AdmittedBody::Read(bytes),
            (Verdict::Pass, None) => AdmittedBody::Untouched,
        };
        let set_cookie = match renewed {
            Some(r) => Some(self.cookie(web::SESSION_COOKIE, r.token(), "/", r.max_age())?),
            None => None,
        };
        Ok(Admission {
            no_user: user.is_none().then(|| self.no_user(no_user, head.headers)),
            user,
            body,
            set_cookie,
        })
    }

    /// The session's user, renewing a session cookie that is due (sliding expiry). A token
    /// sent as `Authorization: Bearer` is not renewed: an API client cannot be handed a cookie,
    /// and signs in again when its token expires. Nor is one sent to the login routes, which
    /// set or clear the session cookie themselves (a renewal would undo a logout's clearing).
    async fn authenticate<H: HeaderSource>(
        &self,
        token: &str,
        head: &RequestHead<'_, H>,
    ) -> Result<(VerifiedUser, Option<super::RenewedSession>), SessionError> {
        let sessions = self.login.sessions();
        let bearer = head
            .headers
            .first("authorization")
            .is_some_and(|v| v.starts_with(b"Bearer "));
        if bearer || is_login_route(head) {
            return Ok((sessions.authenticate(token).await?, None));
        }
        sessions.authenticate_and_renew(token).await
    }

    /// Equal limits (Art. 7 §3): a body declared longer than [`Rules::max_body`] is refused for
    /// every signed-in user, not only for the 网号/网证 user whose body is read (413).
    fn declared_too_large<H: HeaderSource>(&self, head: &RequestHead<'_, H>) -> bool {
        !head.body_known_empty
            && head
                .headers
                .first_str("content-length")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .is_some_and(|len| len > self.rules.max_body() as u64)
    }

    /// The request as the rules see it. Body headers count only when there is a body.
    fn facts<'a, H: HeaderSource + Sync>(
        &'a self,
        head: &RequestHead<'a, H>,
        user: Option<&'a VerifiedUser>,
        body: &'a [u8],
    ) -> RequestFacts<'a> {
        let body_header = |name| {
            if body.is_empty() {
                None
            } else {
                head.headers.first_str(name)
            }
        };
        RequestFacts {
            route: head.matched_route.unwrap_or(head.path),
            path: head.path,
            headers: Some(head.headers),
            user,
            content_type: body_header("content-type"),
            content_encoding: if body.is_empty() {
                None
            } else {
                content_coding(head.headers)
            },
            query: head.query,
            body,
        }
    }

    /// The policy that applies: the framework's match where a policy is declared for it, else
    /// that of the declared pattern the path falls under (failing closed where the routers read
    /// the path differently), else the default ([`Rules::route_policy`]). Both adapters thus
    /// give an undeclared route the policy of a declared catch-all around it.
    fn policy<'a, H: ?Sized>(&'a self, head: &RequestHead<'a, H>) -> Cow<'a, RoutePolicy> {
        self.rules.route_policy(head.matched_route, head.path)
    }

    /// Answers one of the login routes: `method` is the `{method}` path parameter of
    /// [`LoginRoute::Other`], `body` the request body as the adapter read it (up to
    /// [`LOGIN_BODY_LIMIT`]). A refusal comes back localized, for the adapter to render.
    pub async fn login_route<H: HeaderSource>(
        &self,
        route: LoginRoute,
        method: Option<&str>,
        client: ClientAddr,
        headers: &H,
        body: Result<Bytes, BodyError>,
    ) -> Reply {
        let reply = match (route, body) {
            (_, Err(e)) => Err(e.into()),
            (LoginRoute::Start, Ok(_)) => self.login_start(client).await,
            (LoginRoute::Poll, Ok(_)) => self.login_poll(headers).await,
            (LoginRoute::Other, Ok(body)) => {
                self.login_other(method.unwrap_or_default(), &body).await
            }
            (LoginRoute::Callback, Ok(body)) => self.callback(headers, &body).await,
            (LoginRoute::Logout, Ok(_)) => self.logout(headers).await,
            (LoginRoute::Consent, Ok(body)) => self.grant_consent(headers, &body).await,
            (LoginRoute::ConsentWithdraw, Ok(body)) => self.withdraw_consent(headers, &body).await,
        };
        reply.map_err(|p| {
            log_refusal(&p, Some(route.path()));
            self.localize(p, headers)
        })
    }

    /// `POST /netid/login/start`: starts a 网号/网证 login bound to this browser (201).
    async fn login_start(&self, client: ClientAddr) -> Reply {
        let start = self.login.start_from(client).await?;
        let mut response = json_response(StatusCode::CREATED, &web::start_body(&start));
        self.set_cookie(
            &mut response,
            web::LOGIN_COOKIE,
            &start.browser_binding,
            web::LOGIN_COOKIE_PATH,
            web::LOGIN_COOKIE_MAX_AGE,
        )?;
        Ok(response)
    }

    /// `POST /netid/login/poll`: 202 while pending; 200 and the session cookie when done.
    async fn login_poll<H: HeaderSource>(&self, headers: &H) -> Reply {
        let binding = web::cookie_value(headers.values("cookie"), web::LOGIN_COOKIE)
            .ok_or_else(web::login_unknown)?;
        match self.login.poll(binding).await? {
            LoginStatus::Pending => Ok(json_response(StatusCode::ACCEPTED, &web::pending_body())),
            LoginStatus::Completed { user, session } => self.signed_in(&user, &session),
        }
    }

    /// `POST /netid/login/other/{method}`: a login verified the platform's other lawful way.
    async fn login_other(&self, method: &str, evidence: &[u8]) -> Reply {
        let (user, session) = self.login.login_other(method, evidence).await?;
        self.signed_in(&user, &session)
    }

    /// `POST /netid/callback`: the platform's signed webhook (204).
    async fn callback<H: HeaderSource>(&self, headers: &H, body: &[u8]) -> Reply {
        let mut map = http::HeaderMap::new();
        headers.for_each(&mut |name, value| {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_bytes(value),
            ) {
                map.append(name, value);
            }
        });
        self.login.callback(&map, body).await?;
        Ok(empty_response(StatusCode::NO_CONTENT))
    }

    /// `POST /netid/logout`: ends the session (204) and clears its cookie. A session that is
    /// already invalid is cleared all the same; only an unreachable store is an error.
    async fn logout<H: HeaderSource>(&self, headers: &H) -> Reply {
        if let Some(token) = session_token(headers)
            && let Err(p) = self.login.logout(token).await
            && p.status >= 500
        {
            return Err(p);
        }
        let mut response = empty_response(StatusCode::NO_CONTENT);
        self.set_cookie(&mut response, web::SESSION_COOKIE, "", "/", 0)?;
        Ok(response)
    }

    /// The signed-in user of a request to the consent routes, or the refusal.
    async fn consenting_user<H: HeaderSource>(&self, headers: &H) -> Result<VerifiedUser, Problem> {
        let token = session_token(headers).ok_or_else(Problem::unauthenticated)?;
        self.login
            .sessions()
            .authenticate(token)
            .await
            .map_err(|e| e.to_problem())
    }

    /// Records the user's agreement to provide `fields` for `purpose` (a purpose some route
    /// offers), and answers with the receipt: who, which fields, what for, when.
    async fn grant_consent<H: HeaderSource>(&self, headers: &H, body: &[u8]) -> Reply {
        let user = self.consenting_user(headers).await?;
        let grant: ConsentGrant = crate::json::from_slice_strict(body).map_err(|_| {
            Problem::of(ProblemKind::BadRequest).with_detail(
                "send {\"purpose\": …, \"fields\": [field names], \"agree\": true}",
                "请发送 {\"purpose\": …, \"fields\": [字段名], \"agree\": true}。",
            )
        })?;
        if !grant.agree || grant.fields.is_empty() || !self.rules.offers_consent_for(&grant.purpose)
        {
            return Err(Problem::of(ProblemKind::BadRequest).with_detail(
                "agree to fields for a purpose this service offers",
                "请对本服务提供的用途及其字段表示同意。",
            ));
        }
        let fields: crate::model::FieldSet = grant.fields.iter().copied().collect();
        let consent = crate::store::ConsentRecord {
            id: crate::random::token(16),
            subject: user.subject().to_owned(),
            fields: fields.iter().collect(),
            purpose: grant.purpose,
            legal_basis: None,
            granted_at: self.login.now(),
            expires_at: None,
            withdrawn_at: None,
        };
        let consent = self.login.retention().apply(consent);
        self.login
            .record_consent_in(self.rules.consents().as_ref(), consent.clone())
            .await?;
        tracing::info!(fields = consent.fields.len(), "consent recorded");
        let receipt = serde_json::json!({
            "id": consent.id, "subject": consent.subject, "fields": consent.fields,
            "purpose": consent.purpose, "granted_at": consent.granted_at,
            "expires_at": consent.expires_at,
            "withdraw": LoginRoute::ConsentWithdraw.path(),
        });
        Ok(json_response(StatusCode::CREATED, &receipt))
    }

    /// Withdraws one of the user's consents (`{"id": …}`); 204, or 404 if the user has none
    /// with that id.
    async fn withdraw_consent<H: HeaderSource>(&self, headers: &H, body: &[u8]) -> Reply {
        let user = self.consenting_user(headers).await?;
        let withdrawal: ConsentWithdrawal = crate::json::from_slice_strict(body).map_err(|_| {
            Problem::of(ProblemKind::BadRequest)
                .with_detail("send {\"id\": …}", "请发送 {\"id\": …}。")
        })?;
        let withdrawn = self
            .login
            .withdraw_consent_in(
                self.rules.consents().as_ref(),
                user.subject(),
                &withdrawal.id,
            )
            .await?;
        if !withdrawn {
            return Err(Problem::of(ProblemKind::NotFound));
        }
        Ok(empty_response(StatusCode::NO_CONTENT))
    }

    /// 200 with the subject, the session cookie (as long-lived as the session without use:
    /// renewals send a new one), and the login cookie cleared.
    fn signed_in(&self, user: &VerifiedUser, session: &str) -> Reply {
        let mut response = json_response(StatusCode::OK, &web::signed_in_body(user));
        let max_age = self.login.sessions().ttl().as_secs();
        self.set_cookie(&mut response, web::SESSION_COOKIE, session, "/", max_age)?;
        self.set_cookie(
            &mut response,
            web::LOGIN_COOKIE,
            "",
            web::LOGIN_COOKIE_PATH,
            0,
        )?;
        Ok(response)
    }

    fn set_cookie(
        &self,
        response: &mut Response<Bytes>,
        name: &str,
        value: &str,
        path: &str,
        max_age: u64,
    ) -> Result<(), Problem> {
        let value = self.cookie(name, value, path, max_age)?;
        response.headers_mut().append(header::SET_COOKIE, value);
        Ok(())
    }

    /// A `Set-Cookie` value with this gate's flags.
    fn cookie(
        &self,
        name: &str,
        value: &str,
        path: &str,
        max_age: u64,
    ) -> Result<HeaderValue, Problem> {
        let text = web::set_cookie(name, value, path, max_age, self.secure_cookies);
        // Tokens and bindings are ASCII; a value that is not is a bug here, never sent.
        HeaderValue::from_str(&text).map_err(|_| Problem::internal())
    }
}

/// The body of `POST /netid/consent`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentGrant {
    purpose: String,
    fields: Vec<crate::model::FieldName>,
    agree: bool,
}

/// The body of `POST /netid/consent/withdraw`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentWithdrawal {
    id: String,
}

/// Whether the body is read: only a 网号/网证 user's (Art. 7 §2), and only if there may be one.
/// Other users' bodies stream through untouched, unless their length is unknown
/// ([`measures_body`]).
fn reads_body<H: ?Sized>(user: Option<&VerifiedUser>, head: &RequestHead<'_, H>) -> bool {
    user.is_some_and(VerifiedUser::is_netid) && !head.body_known_empty
}

/// Whether the body is read only to hold it to [`Rules::max_body`] (equal limits, Art. 7 §3):
/// a signed-in user's body of unknown length. A declared length is checked without reading
/// ([`Gate::declared_too_large`]); a body without one (chunked, or HTTP/2 without
/// `Content-Length`) can only be measured by reading it. Reading stops at the limit, so memory
/// stays bounded by it, as for a 网号/网证 user's body; the body is then passed on as read.
fn measures_body<H: HeaderSource + ?Sized>(
    user: Option<&VerifiedUser>,
    head: &RequestHead<'_, H>,
) -> bool {
    user.is_some() && !head.body_known_empty && head.headers.first("content-length").is_none()
}

impl From<BodyError> for Problem {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge => super::rules::too_large(),
            BodyError::Unreadable => Problem::of(ProblemKind::BadRequest)
                .with_detail("the request body could not be read", "无法读取请求体。"),
        }
    }
}

/// A JSON response that no cache keeps (login answers carry a subject or set a session).
fn json_response(status: StatusCode, body: &serde_json::Value) -> Response<Bytes> {
    let mut response = empty_response(status);
    *response.body_mut() = Bytes::from(body.to_string());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn empty_response(status: StatusCode) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The request's content coding, for the rules: the first `Content-Encoding` line that names a
/// coding other than `identity` — in any line of the header and any item of its list, so that
/// `identity` before `gzip` hides nothing (a line that is not text counts as a coding). `None`
/// when there is no coding but `identity`.
fn content_coding<H: HeaderSource>(headers: &H) -> Option<&str> {
    headers.values("content-encoding").find_map(|value| {
        let Ok(text) = std::str::from_utf8(value) else {
            return Some("unreadable");
        };
        text.split(',')
            .map(str::trim)
            .any(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"))
            .then_some(text)
    })
}

/// Logs a refusal netid sends: one `request refused` event (target `netid::policy::gate`, level
/// info) with its code, status and the route pattern the framework matched — never the path or
/// a value, which may hold identity data. Called once per refusal: by the login routes, and by
/// `Frontend::refuse` for the refusals of [`Gate::decide_now`] and [`Gate::admit`], with the
/// route the adapter knows (axum's `MatchedPath`; actix's middleware runs before routing, so its
/// adapter reads the app's resource map, for refusals only).
pub(crate) fn log_refusal(problem: &Problem, route: Option<&str>) {
    tracing::info!(
        code = problem.code,
        status = problem.status,
        route = route.unwrap_or("(unmatched)"),
        "request refused"
    );
}

/// Whether the request is for one of the login routes (by the framework's match, or by the path
/// where there is none yet).
fn is_login_route<H: ?Sized>(head: &RequestHead<'_, H>) -> bool {
    LoginRoute::ALL.iter().any(|r| {
        head.matched_route == Some(r.path())
            || head.path == r.path()
            || (*r == LoginRoute::Other && head.path.starts_with("/netid/login/other/"))
    })
}

/// The session token: `Authorization: Bearer …` or the session cookie.
fn session_token<H: HeaderSource>(headers: &H) -> Option<&str> {
    web::session_token(headers.first("authorization"), headers.values("cookie"))
}

/// [`session_token`] unchecked, for the lookup among remembered tokens.
fn session_token_bytes<H: HeaderSource>(headers: &H) -> Option<&[u8]> {
    web::session_token_bytes(headers.first("authorization"), headers.values("cookie"))
}

/// netid for one web framework: the [`Gate`] and how refusals are rendered in the framework's
/// response type `R`. `netid::axum::NetId` and `netid::actix::NetId` are this type; each adapter
/// adds what is its framework's own (a layer or middleware, and the login routes).
pub struct Frontend<R> {
    pub(crate) gate: Gate,
    renderer: Option<Renderer<R>>,
}

/// An app's own rendering of a refusal; left among a request's extensions for the extractor.
struct Renderer<R>(Arc<dyn Fn(&Problem) -> R + Send + Sync>);

impl<R> Clone for Renderer<R> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<R> Frontend<R> {
    /// netid with this login flow and these rules.
    pub fn new(login: LoginFlow, rules: Rules) -> Self {
        Self {
            gate: Gate::new(login, rules),
            renderer: None,
        }
    }

    /// Cookies without the `Secure` flag, for plain-http development on localhost only.
    pub fn insecure_cookies_for_local_development(mut self) -> Self {
        self.gate = self.gate.insecure_cookies_for_local_development();
        self
    }

    /// Refusals' `type` URIs under `base` ([`Gate::problem_type_base`]).
    pub fn problem_type_base(mut self, base: impl Into<Arc<str>>) -> Self {
        self.gate = self.gate.problem_type_base(base);
        self
    }

    /// Renders every refusal (the middleware's, the extractor's and the login routes') with `f`
    /// instead of the default `application/problem+json` — for an app with its own error format.
    pub fn with_problem_renderer(
        mut self,
        f: impl Fn(&Problem) -> R + Send + Sync + 'static,
    ) -> Self {
        self.renderer = Some(Renderer(Arc::new(f)));
        self
    }

    /// The gate every request of this app goes through.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }
}

/// A framework's response type, made from the core's (`http` 1, a byte body): the one
/// conversion an adapter writes; rendering refusals and login replies is then done here.
#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) trait FromCore {
    /// The framework's response for `response`.
    fn from_core(response: Response<Bytes>) -> Self;
}

/// A request's extensions, where the layer leaves what the `VerifiedUser` extractor reads:
/// implemented for `http`'s (axum) here, and for actix's in its adapter.
#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) trait Extensions {
    /// Keeps `value`.
    fn put<T: Clone + Send + Sync + 'static>(&mut self, value: T);
    /// The value of type `T`, if one was kept.
    fn read<T: Send + Sync + 'static>(&self) -> Option<&T>;
}

/// Implements [`Extensions`] for a type map with `insert` and `get` (`http`'s, actix's).
#[cfg(any(feature = "axum", feature = "actix"))]
macro_rules! impl_extensions {
    ($map:ty) => {
        impl $crate::policy::gate::Extensions for $map {
            fn put<T: Clone + Send + Sync + 'static>(&mut self, value: T) {
                self.insert(value);
            }
            fn read<T: Send + Sync + 'static>(&self) -> Option<&T> {
                self.get()
            }
        }
    };
}
#[cfg(feature = "actix")]
pub(crate) use impl_extensions;

#[cfg(feature = "axum")]
impl_extensions!(http::Extensions);

/// Why a request has no user, left among the request's extensions for the `VerifiedUser`
/// extractor to report precisely (an expired session, a revoked one, or none at all).
#[cfg(any(feature = "axum", feature = "actix"))]
#[derive(Debug, Clone)]
struct NoUser(Problem);

/// An admitted request as the adapter passes it on to the handler ([`Frontend::hand_over`]).
#[cfg(any(feature = "axum", feature = "actix"))]
#[derive(Debug)]
pub(crate) struct Handover {
    /// The body to pass on instead of the framework's (read, or redacted); `None`: the
    /// framework's body as it came.
    pub(crate) body: Option<Bytes>,
    /// A new `Content-Length` to set: the body was redacted.
    pub(crate) content_length: Option<usize>,
    /// A `Set-Cookie` to add to the handler's response ([`Admission::set_cookie`]).
    pub(crate) set_cookie: Option<HeaderValue>,
}

// The bound sits on each method, not on the impl: a `pub(crate)` trait may bound only items
// that are themselves crate-private (`private_bounds`).
#[cfg(any(feature = "axum", feature = "actix"))]
impl<R: 'static> Frontend<R> {
    /// A refusal as the framework's response: the app's renderer, or `application/problem+json`.
    pub(crate) fn refusal(&self, problem: &Problem) -> R
    where
        R: FromCore,
    {
        render(self.renderer.as_ref(), problem)
    }

    /// A refusal of the layer's ([`Gate::decide_now`], [`Gate::admit`]), logged with the route
    /// the framework matched ([`log_refusal`]) and rendered.
    pub(crate) fn refuse(&self, problem: &Problem, route: Option<&str>) -> R
    where
        R: FromCore,
    {
        log_refusal(problem, route);
        self.refusal(problem)
    }

    /// Answers a login route ([`Gate::login_route`]) with the framework's response, reading
    /// the body with `read` up to [`LOGIN_BODY_LIMIT`].
    pub(crate) async fn login_reply<H: HeaderSource, F>(
        &self,
        route: LoginRoute,
        method: Option<&str>,
        client: ClientAddr,
        headers: &H,
        read: impl FnOnce(usize) -> F,
    ) -> R
    where
        R: FromCore,
        F: Future<Output = Result<Bytes, BodyError>>,
    {
        let body = read(LOGIN_BODY_LIMIT).await;
        match self
            .gate
            .login_route(route, method, client, headers, body)
            .await
        {
            Ok(response) => R::from_core(response),
            Err(problem) => self.refusal(&problem),
        }
    }

    /// [`Gate::admit`] (after [`Gate::decide_now`] when `now_first`) with the framework's body
    /// taken by value: `read(body, limit)` reads it if the gate asks; the body comes back
    /// unread otherwise.
    pub(crate) async fn admit_body<H, B, F>(
        &self,
        head: &RequestHead<'_, H>,
        now_first: bool,
        body: B,
        read: impl FnOnce(B, usize) -> F,
    ) -> (Result<Admission, Problem>, Option<B>)
    where
        H: HeaderSource + Sync,
        F: Future<Output = Result<Bytes, BodyError>>,
    {
        let mut body = Some(body);
        let read = |limit| {
            let taken = body.take();
            async move {
                match taken {
                    Some(body) => read(body, limit).await,
                    None => Err(BodyError::Unreadable), // never: the gate reads it once
                }
            }
        };
        let admitted = match now_first {
            true => self.gate.decide(head, read).await,
            false => self.gate.admit(head, read).await,
        };
        (admitted, body)
    }

    /// Leaves in `extensions` what the `VerifiedUser` extractor needs (the user, or why there
    /// is none, and the app's renderer if it has one), and returns the rest for the adapter.
    pub(crate) fn hand_over(
        &self,
        admission: Admission,
        extensions: &mut impl Extensions,
    ) -> Handover {
        let (body, content_length) = match admission.body {
            AdmittedBody::Untouched => (None, None),
            AdmittedBody::Read(bytes) => (Some(bytes), None),
            AdmittedBody::Replaced(bytes) => {
                let len = bytes.len();
                (Some(bytes), Some(len))
            }
        };
        if let Some(user) = admission.user {
            extensions.put(user);
        }
        if let Some(problem) = admission.no_user {
            extensions.put(NoUser(problem));
        }
        if let Some(renderer) = &self.renderer {
            extensions.put(renderer.clone());
        }
        Handover {
            body,
            content_length,
            set_cookie: admission.set_cookie,
        }
    }

    /// The `VerifiedUser` extractor's answer from what the layer left in the request: the
    /// user, or the refusal (with its code, for frameworks that log one) — why there is no user
    /// if the layer said, else "sign in", rendered by the app's renderer where the layer left
    /// one, else as `application/problem+json`.
    pub(crate) fn extract(extensions: &impl Extensions) -> Result<VerifiedUser, (&'static str, R)>
    where
        R: FromCore,
    {
        if let Some(user) = extensions.read::<VerifiedUser>() {
            return Ok(user.clone());
        }
        let problem = extensions
            .read::<NoUser>()
            .map_or_else(Problem::unauthenticated, |n| n.0.clone());
        let renderer = extensions.read::<Renderer<R>>();
        Err((problem.code, render(renderer, &problem)))
    }
}

/// `problem` rendered by the app's renderer, or as `application/problem+json`.
#[cfg(any(feature = "axum", feature = "actix"))]
fn render<R: FromCore>(renderer: Option<&Renderer<R>>, problem: &Problem) -> R {
    match renderer {
        Some(Renderer(f)) => f(problem),
        None => R::from_core(problem.to_response()),
    }
}

impl<R> Clone for Frontend<R> {
    fn clone(&self) -> Self {
        Self {
            gate: self.gate.clone(),
            renderer: self.renderer.clone(),
        }
    }
}

impl<R> std::fmt::Debug for Frontend<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetId")
            .field("gate", &self.gate)
            .field("custom_renderer", &self.renderer.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_content_encoding_line_and_item_counts() {
        let coding = |values: &[&[u8]]| {
            let mut map = http::HeaderMap::new();
            for v in values {
                map.append(
                    header::CONTENT_ENCODING,
                    HeaderValue::from_bytes(v).unwrap(),
                );
            }
            content_coding(&map).map(str::to_owned)
        };
        assert_eq!(coding(&[]), None);
        assert_eq!(coding(&[b"identity"]), None);
        assert_eq!(coding(&[b" Identity "]), None);
        assert_eq!(coding(&[b"gzip"]).as_deref(), Some("gzip"));
        // `identity` first hides nothing: a later line, a later item.
        assert_eq!(coding(&[b"identity", b"gzip"]).as_deref(), Some("gzip"));
        assert_eq!(coding(&[b"identity, br"]).as_deref(), Some("identity, br"));
        // A line that is not text is a coding the rules cannot read.
        assert_eq!(coding(&[b"gz\xffip"]).as_deref(), Some("unreadable"));
    }
}
