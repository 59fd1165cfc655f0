//! The per-request rules, in one place: the age gate, then — for users who verified with
//! 网号/网证 — no extra plaintext identity data (Art. 7 §2) unless a consent or a law covers it.
//!
//! Adapters hand over the facts of a request ([`RequestFacts`]) and get back either the go-ahead
//! (possibly with a redacted body) or a [`Problem`] to send.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;

use super::{AgeGate, ConsentLedger, InMemoryConsentLedger, Problem, VerifiedUser};
use crate::client::LegalBasis;
use crate::detect::{Detector, Finding, Scan};
use crate::error::{Actor, ErrorCode};
use crate::model::FieldSet;

/// What a route does with plaintext identity data from a 网号/网证 user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlaintextRule {
    /// Refuse the request: 422 `netid.extra_plaintext`, naming where, never what. The default.
    Reject,
    /// Replace the values with `"[redacted]"` and pass the request on.
    Redact,
    /// Allow it where a live consent of the user covers the fields for this purpose.
    AllowWithConsent {
        /// The purpose the consent must name.
        purpose: String,
    },
    /// Allow it where a law requires the fields (the basis must name them).
    AllowUnderLaw(LegalBasis),
}

/// The rules of one route.
#[derive(Debug, Clone)]
pub struct RoutePolicy {
    /// Plaintext identity data from 网号/网证 users.
    pub plaintext: PlaintextRule,
    /// Who may use the route, by age.
    pub age: Option<AgeGate>,
    /// Content types passed without inspection (e.g. `image/`): opaque uploads.
    pub opaque_types: Vec<String>,
    /// This route's detector, when it is not the rules' own ([`RulesBuilder::detector`]): a
    /// route whose field names mean something else, or that needs more of them.
    pub detector: Option<Detector>,
}

impl Default for RoutePolicy {
    fn default() -> Self {
        Self {
            plaintext: PlaintextRule::Reject,
            age: None,
            opaque_types: Vec::new(),
            detector: None,
        }
    }
}

impl RoutePolicy {
    /// The default policy with `rule` for plaintext.
    pub fn plaintext(rule: PlaintextRule) -> Self {
        Self {
            plaintext: rule,
            ..Self::default()
        }
    }

    /// Adds an age gate.
    pub fn with_age_gate(mut self, gate: AgeGate) -> Self {
        self.age = Some(gate);
        self
    }

    /// Passes bodies of this content-type prefix without inspection (`image/`, `application/pdf`).
    pub fn with_opaque_type(mut self, prefix: impl Into<String>) -> Self {
        self.opaque_types.push(prefix.into().to_ascii_lowercase());
        self
    }

    /// Scans this route's requests with `detector` instead of the rules' own: its field-name
    /// vocabulary extended or narrowed for this route (`docs/DETECTOR.md`).
    ///
    /// ```
    /// use netid::detect::Detector;
    /// use netid::policy::{PlaintextRule, RoutePolicy};
    ///
    /// // On the invoicing route, `documentNumber` is an invoice number.
    /// let invoices = RoutePolicy::plaintext(PlaintextRule::Reject)
    ///     .with_detector(Detector::new().ignore_field_names(["documentNumber"]));
    /// # let _ = invoices;
    /// ```
    pub fn with_detector(mut self, detector: Detector) -> Self {
        self.detector = Some(detector);
        self
    }
}

/// What the adapter knows about a request.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    /// The matched route pattern (`/users/{id}`), or the path if unmatched.
    pub route: &'a str,
    /// The signed-in user, if any.
    pub user: Option<&'a VerifiedUser>,
    /// `Content-Type`.
    pub content_type: Option<&'a str>,
    /// `Content-Encoding`.
    pub content_encoding: Option<&'a str>,
    /// The query string, without `?`.
    pub query: Option<&'a str>,
    /// The whole body (the adapter enforces [`Rules::max_body`] while reading it).
    pub body: &'a [u8],
}

/// The go-ahead, and what to pass on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Pass the request on unchanged.
    Pass,
    /// Pass it on with this body instead (redacted).
    Replace(Vec<u8>),
}

/// What the rules decide before any consent is looked up.
enum Decision<'a> {
    /// The verdict.
    Final(Verdict),
    /// Pass, if `subject` has a live consent for each field for `purpose`; else `refusal`.
    IfConsented {
        subject: &'a str,
        fields: FieldSet,
        purpose: &'a str,
        refusal: Problem,
    },
}

/// All routes' rules, with the detector and the consent ledger they need. Cheap to clone.
///
/// # Route patterns
///
/// A policy is declared for a route pattern, written as the router writes it. Segments are split
/// on `/`; each is one of:
///
/// | form | framework | matches |
/// |---|---|---|
/// | `users`, `me.json` | both | exactly that segment (axum's `{{` and `}}` stand for `{` and `}`) |
/// | `{id}` | both | any one non-empty segment |
/// | `{id:\d+}` | actix | any one non-empty segment: the regex is not evaluated, so the policy covers at least the paths actix sends there |
/// | `{*rest}` | axum 0.8 | one or more remaining segments, not empty (`/files/{*rest}` matches `/files/a` and `/files/a/b`, not `/files/` or `/files`) |
/// | `{tail:.*}`, `{tail}*` | actix | the rest of the path, possibly empty (`/files/{tail:.*}` matches `/files/` and `/files/a/b`, not `/files`) |
/// | `{tail:.+}` | actix | the rest of the path, not empty |
///
/// A catch-all must be the last segment and a parameter a whole segment (`/v{version}` is not
/// understood); [`RulesBuilder::try_build`] refuses such patterns, unbalanced braces and unnamed
/// parameters with a [`RouteError`]. An actix regex that can match `/` other than `.*` and `.+`
/// is not understood either: declare such a route with `{name:.*}`.
///
/// When several patterns match a path ([`Rules::match_route`]), the most specific wins, segment
/// by segment from the left: a static segment beats a parameter, which beats a catch-all (and a
/// catch-all that needs a segment beats one that does not). If two patterns are equally specific
/// all along, the one with more segments wins, then the longer pattern, then the one that sorts
/// first — so the choice never depends on declaration order or hashing. This is axum's order;
/// actix picks the first route registered that matches, so register specific routes before
/// catch-alls there (as actix's own documentation advises) and the two agree.
#[derive(Clone)]
pub struct Rules {
    inner: Arc<RulesInner>,
}

struct RulesInner {
    default: RoutePolicy,
    routes: HashMap<String, RoutePolicy>,
    /// Every declared pattern, parsed, most specific first.
    patterns: Vec<Pattern>,
    /// A pattern [`RulesBuilder::build`] could not parse: every request is refused.
    broken: Option<RouteError>,
    detector: Detector,
    consents: Arc<dyn ConsentLedger>,
    max_body: usize,
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules")
            .field("routes", &self.inner.routes.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Builds [`Rules`].
pub struct RulesBuilder {
    default: RoutePolicy,
    /// In declaration order, so the first bad pattern is the one reported.
    routes: Vec<(String, RoutePolicy)>,
    detector: Detector,
    consents: Option<Arc<dyn ConsentLedger>>,
    max_body: usize,
}

impl std::fmt::Debug for RulesBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RulesBuilder").finish_non_exhaustive()
    }
}

impl Rules {
    /// Starts with every route rejecting extra plaintext and no age gate.
    pub fn builder() -> RulesBuilder {
        RulesBuilder {
            default: RoutePolicy::default(),
            routes: Vec::new(),
            detector: Detector::new(),
            consents: None,
            max_body: 1024 * 1024,
        }
    }

    /// The largest body the adapter should read (413 beyond it).
    pub fn max_body(&self) -> usize {
        self.inner.max_body
    }

    /// The consent ledger.
    pub fn consents(&self) -> &Arc<dyn ConsentLedger> {
        &self.inner.consents
    }

    /// The declared route pattern a request path falls under (`/users/{id}` for `/users/7`,
    /// `/files/{*rest}` for `/files/a/b.csv`), for frameworks whose middleware runs before
    /// routing (actix). The most specific pattern wins (see
    /// [route patterns](Rules#route-patterns) for the forms understood and the order); an
    /// unmatched path is returned as is and gets the default policy.
    pub fn match_route<'a>(&'a self, path: &'a str) -> &'a str {
        // Sorted most specific first: the first match is the best one.
        self.inner
            .patterns
            .iter()
            .find(|p| p.matches(path))
            .map_or(path, |p| p.text.as_str())
    }

    /// Whether a policy is declared for `route` itself (exactly, or a pattern of the same shape
    /// with other parameter names), as opposed to its falling back to the default.
    pub fn declares(&self, route: &str) -> bool {
        self.declared(route).is_some()
    }

    /// The policy of `route`: the policy declared for exactly this pattern, else for a pattern
    /// of the same shape with other parameter names (`/users/{user_id}` finds `/users/{id}`;
    /// `/files/{*rest}` finds `/files/{tail:.*}`), else the default policy.
    pub fn route(&self, route: &str) -> &RoutePolicy {
        self.declared(route).unwrap_or(&self.inner.default)
    }

    fn declared(&self, route: &str) -> Option<&RoutePolicy> {
        if let Some(policy) = self.inner.routes.get(route) {
            return Some(policy);
        }
        if !route.contains(['{', '}']) {
            // A plain path (or an undeclared static route): only a static pattern written
            // differently (no leading `/`) has its shape; found without parsing, as this runs on
            // every request to an undeclared route.
            return self
                .inner
                .patterns
                .iter()
                .find(|p| p.is_static_path(route))
                .and_then(|p| self.inner.routes.get(&p.text));
        }
        let segments = parse_pattern(route).ok()?;
        self.inner
            .patterns
            .iter()
            .find(|p| same_shape(&p.segments, &segments))
            .and_then(|p| self.inner.routes.get(&p.text))
    }

    /// Applies the rules to one request.
    pub async fn check(&self, req: RequestFacts<'_>) -> Result<Verdict, Problem> {
        match self.decide(req)? {
            Decision::Final(verdict) => Ok(verdict),
            Decision::IfConsented {
                subject,
                fields,
                purpose,
                refusal,
            } => {
                for field in fields.iter() {
                    let live = self
                        .inner
                        .consents
                        .live_consent(subject, field, purpose)
                        .await
                        .map_err(|_| {
                            Problem::unavailable("the consent ledger is unreachable; retry")
                        })?;
                    if live.is_none() {
                        return Err(refusal);
                    }
                }
                Ok(Verdict::Pass)
            }
        }
    }

    /// The verdict when it needs no consent lookup (`None` when it does): the same rules as
    /// [`check`](Self::check), for adapters that can then answer without waiting.
    pub(crate) fn check_now(&self, req: RequestFacts<'_>) -> Option<Result<Verdict, Problem>> {
        match self.decide(req) {
            Ok(Decision::Final(verdict)) => Some(Ok(verdict)),
            Ok(Decision::IfConsented { .. }) => None,
            Err(problem) => Some(Err(problem)),
        }
    }

    /// Every rule but the consent ledger's answer, which is the one that needs waiting.
    fn decide<'a>(&'a self, req: RequestFacts<'a>) -> Result<Decision<'a>, Problem> {
        if self.inner.broken.is_some() {
            // Logged once at build; a route whose policy is unknown fails closed.
            return Err(Problem::internal());
        }
        let policy = self.route(req.route);
        let detector = policy.detector.as_ref().unwrap_or(&self.inner.detector);
        if let Some(gate) = &policy.age {
            let user = req
                .user
                .ok_or_else(|| Problem::unauthenticated("sign in to use this service"))?;
            gate.check(user)?;
        }
        let Some(user) = req.user.filter(|u| u.is_netid()) else {
            return Ok(Decision::Final(Verdict::Pass));
        };
        if req.body.len() > self.inner.max_body {
            return Err(too_large());
        }
        let mut findings: Vec<Finding> = Vec::new();
        if let Some(q) = req.query.filter(|q| !q.is_empty()) {
            findings.extend(detector.scan_query(q).map_err(scan_problem)?.findings);
        }
        // Remembered for the redact rule: a query string cannot be redacted in place.
        let query_blocks = findings.iter().any(Finding::is_blocking);
        let body_kind = classify(&req, policy)?;
        let body_scan = match body_kind {
            BodyKind::Empty | BodyKind::Opaque => Scan::default(),
            BodyKind::Json => detector.scan_json(req.body).map_err(scan_problem)?,
            BodyKind::Form => detector.scan_form(req.body).map_err(scan_problem)?,
            BodyKind::Text => {
                let text = std::str::from_utf8(req.body).map_err(|_| invalid_utf8())?;
                detector.scan_text(None, text)
            }
            BodyKind::Multipart(ref boundary) => detector
                .scan_multipart(req.body, boundary)
                .map_err(scan_problem)?,
        };
        findings.extend(body_scan.findings);
        let blocking: Vec<&Finding> = findings.iter().filter(|f| f.is_blocking()).collect();
        if blocking.is_empty() {
            return Ok(Decision::Final(Verdict::Pass));
        }
        let needed: FieldSet = blocking.iter().map(|f| f.field).collect();
        match &policy.plaintext {
            PlaintextRule::Reject => Err(extra_plaintext(
                &blocking,
                "this service does not take plaintext identity data from users verified with 网号/网证",
            )),
            PlaintextRule::AllowUnderLaw(basis) if needed.is_subset(&basis.permits()) => {
                Ok(Decision::Final(Verdict::Pass))
            }
            PlaintextRule::AllowUnderLaw(_) => Err(extra_plaintext(
                &blocking,
                "the route's legal basis does not cover these fields",
            )),
            PlaintextRule::AllowWithConsent { purpose } => Ok(Decision::IfConsented {
                subject: user.subject(),
                fields: needed,
                purpose,
                refusal: extra_plaintext(
                    &blocking,
                    "no live consent covers these fields for this purpose",
                ),
            }),
            PlaintextRule::Redact => {
                let body = match body_kind {
                    BodyKind::Json => detector.redact_json(req.body).map_err(scan_problem)?.0,
                    BodyKind::Form => detector.redact_form(req.body).map_err(scan_problem)?.0,
                    // Text, multipart and query strings cannot be redacted in place safely.
                    _ => {
                        return Err(extra_plaintext(
                            &blocking,
                            "identity data here cannot be redacted; remove it",
                        ));
                    }
                };
                if query_blocks {
                    return Err(extra_plaintext(
                        &blocking,
                        "identity data in the query string cannot be redacted; remove it",
                    ));
                }
                Ok(Decision::Final(Verdict::Replace(body)))
            }
        }
    }
}

impl RulesBuilder {
    /// The policy of every route not named by [`RulesBuilder::route`].
    pub fn default_policy(mut self, policy: RoutePolicy) -> Self {
        self.default = policy;
        self
    }

    /// The policy of one route pattern, exactly as the router declares it (`/users/{id}`,
    /// `/files/{*rest}`, actix `/files/{tail:.*}`; see [route patterns](Rules#route-patterns)
    /// for the forms understood). Declaring the same pattern again replaces its policy. Patterns
    /// are checked by [`try_build`](Self::try_build).
    pub fn route(mut self, pattern: impl Into<String>, policy: RoutePolicy) -> Self {
        self.routes.push((pattern.into(), policy));
        self
    }

    /// The detector (default [`Detector::new`]).
    pub fn detector(mut self, detector: Detector) -> Self {
        self.detector = detector;
        self
    }

    /// The consent ledger (default: in memory).
    pub fn consents(mut self, ledger: Arc<dyn ConsentLedger>) -> Self {
        self.consents = Some(ledger);
        self
    }

    /// The largest body accepted (default 1 MiB).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Builds the rules, or says which route pattern cannot be matched: a catch-all before the
    /// last segment, an unbalanced brace, a parameter without a name, a parameter that is not a
    /// whole segment. The first bad pattern in declaration order is reported.
    ///
    /// ```
    /// use netid::policy::{RouteError, RoutePolicy, Rules};
    ///
    /// let rules = Rules::builder()
    ///     .route("/files/{*rest}", RoutePolicy::default())
    ///     .try_build()?;
    /// assert_eq!(rules.match_route("/files/a/b.csv"), "/files/{*rest}");
    ///
    /// let err = Rules::builder()
    ///     .route("/files/{*rest}/meta", RoutePolicy::default())
    ///     .try_build()
    ///     .unwrap_err();
    /// assert!(matches!(err, RouteError::CatchAllNotLast { .. }));
    /// # Ok::<(), RouteError>(())
    /// ```
    pub fn try_build(self) -> Result<Rules, RouteError> {
        let (rules, broken) = self.assemble();
        match broken {
            Some(e) => Err(e),
            None => Ok(rules),
        }
    }

    /// Builds the rules. Prefer [`try_build`](Self::try_build): with a route pattern it refuses,
    /// `build` logs the error (`tracing`, level error) and returns rules that fail closed —
    /// every request is answered 500 `netid.internal` — because the policy meant for that
    /// route is unknown and the default one may be weaker.
    pub fn build(self) -> Rules {
        let (mut rules, broken) = self.assemble();
        if let Some(e) = broken {
            tracing::error!(
                code = e.code(),
                error = %e,
                "route pattern refused; every request will be refused"
            );
            if let Some(inner) = Arc::get_mut(&mut rules.inner) {
                inner.broken = Some(e);
            }
        }
        rules
    }

    /// The rules, and the first route pattern that could not be parsed.
    fn assemble(self) -> (Rules, Option<RouteError>) {
        let mut broken = None;
        let mut routes = HashMap::with_capacity(self.routes.len());
        let mut patterns: Vec<Pattern> = Vec::with_capacity(self.routes.len());
        // In declaration order, so the first bad pattern is the one reported.
        for (text, policy) in self.routes {
            if !routes.contains_key(&text) {
                match parse_pattern(&text) {
                    Ok(segments) => patterns.push(Pattern {
                        text: text.clone(),
                        segments,
                    }),
                    Err(bad) => {
                        broken.get_or_insert(bad.into_error(&text));
                    }
                }
            }
            routes.insert(text, policy);
        }
        patterns.sort_by(Pattern::precedence);
        let rules = Rules {
            inner: Arc::new(RulesInner {
                default: self.default,
                routes,
                patterns,
                broken: None,
                detector: self.detector,
                consents: self
                    .consents
                    .unwrap_or_else(|| Arc::new(InMemoryConsentLedger::default())),
                max_body: self.max_body,
            }),
        };
        (rules, broken)
    }
}

/// A route pattern given to [`RulesBuilder::route`] that the rules cannot match. Refused by
/// [`RulesBuilder::try_build`]; the pattern is the developer's own constant and is shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// A catch-all (`{*rest}`, `{tail:.*}`, `{tail}*`) before the last segment.
    #[error("route pattern `{pattern}`: the catch-all `{segment}` must be the last segment")]
    CatchAllNotLast {
        /// The pattern as declared.
        pattern: String,
        /// The catch-all segment.
        segment: String,
    },
    /// A `{` without its `}`, or a `}` without its `{`.
    #[error("route pattern `{pattern}`: unbalanced brace in segment `{segment}`")]
    UnbalancedBrace {
        /// The pattern as declared.
        pattern: String,
        /// The segment.
        segment: String,
    },
    /// A parameter without a name: `{}`, `{*}`, `{:.*}`, `{}*`.
    #[error("route pattern `{pattern}`: the parameter `{segment}` has no name")]
    EmptyName {
        /// The pattern as declared.
        pattern: String,
        /// The segment.
        segment: String,
    },
    /// A parameter that is only part of a segment (`/v{version}`, `/{id}.json`): neither
    /// router in this crate's adapters matches it the way a whole-segment parameter matches.
    #[error(
        "route pattern `{pattern}`: `{segment}` mixes a parameter with text; a parameter must be a whole segment"
    )]
    PartialSegment {
        /// The pattern as declared.
        pattern: String,
        /// The segment.
        segment: String,
    },
}

impl ErrorCode for RouteError {
    fn code(&self) -> &'static str {
        "netid.invalid_route_pattern"
    }

    fn actor(&self) -> Actor {
        Actor::Configuration
    }
}

/// One segment of a parsed route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Exactly this text.
    Static(String),
    /// Any one non-empty segment.
    Param,
    /// The rest of the path; `empty`: possibly nothing (actix `{tail:.*}`), else at least one
    /// character (axum `{*rest}`).
    CatchAll {
        /// Whether the rest may be empty.
        empty: bool,
    },
}

impl Segment {
    /// Specificity rank: lower wins.
    fn rank(&self) -> u8 {
        match self {
            Segment::Static(_) => 0,
            Segment::Param => 1,
            Segment::CatchAll { empty: false } => 2,
            Segment::CatchAll { empty: true } => 3,
        }
    }
}

/// A declared pattern and its segments.
#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    segments: Vec<Segment>,
}

impl Pattern {
    /// Whether this pattern is all static segments spelling `path` (a path without braces).
    fn is_static_path(&self, path: &str) -> bool {
        let mut parts = path.trim_start_matches('/').split('/');
        self.segments
            .iter()
            .all(|s| matches!((s, parts.next()), (Segment::Static(t), Some(p)) if t == p))
            && parts.next().is_none()
    }

    /// Whether the path, split on `/` (leading slashes removed), falls under this pattern.
    /// Walks the segments without collecting them: it runs on every request to a route the
    /// framework matched without a declared policy.
    fn matches(&self, path: &str) -> bool {
        let mut parts = path.trim_start_matches('/').split('/');
        for segment in &self.segments {
            match segment {
                Segment::CatchAll { empty } => {
                    // The `/` before the catch-all must be there (`/files` is not `/files/…`).
                    return match (parts.next(), parts.next()) {
                        (None, _) => false,
                        (Some(only), None) => *empty || !only.is_empty(),
                        (Some(_), Some(_)) => true,
                    };
                }
                Segment::Static(text) => {
                    if parts.next() != Some(text.as_str()) {
                        return false;
                    }
                }
                Segment::Param => {
                    if parts.next().is_none_or(str::is_empty) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }

    /// Most specific first: segment ranks from the left (running out of segments ranks last),
    /// then the longer pattern, then the text.
    fn precedence(a: &Pattern, b: &Pattern) -> std::cmp::Ordering {
        const END: u8 = u8::MAX;
        let ranks = |p: &Pattern| {
            p.segments
                .iter()
                .map(Segment::rank)
                .chain(std::iter::once(END))
                .collect::<Vec<_>>()
        };
        ranks(a)
            .cmp(&ranks(b))
            .then_with(|| b.text.len().cmp(&a.text.len()))
            .then_with(|| a.text.cmp(&b.text))
    }
}

/// Same statics, parameters in the same places, catch-alls in the same place (of any form).
fn same_shape(a: &[Segment], b: &[Segment]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Segment::Static(x), Segment::Static(y)) => x == y,
            (Segment::Param, Segment::Param) => true,
            (Segment::CatchAll { .. }, Segment::CatchAll { .. }) => true,
            _ => false,
        })
}

/// What is wrong with a pattern, before the pattern is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatternFault {
    CatchAllNotLast,
    UnbalancedBrace,
    EmptyName,
    PartialSegment,
}

/// A fault and the segment it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BadSegment {
    fault: PatternFault,
    segment: String,
}

impl BadSegment {
    fn into_error(self, pattern: &str) -> RouteError {
        let (pattern, segment) = (pattern.to_owned(), self.segment);
        match self.fault {
            PatternFault::CatchAllNotLast => RouteError::CatchAllNotLast { pattern, segment },
            PatternFault::UnbalancedBrace => RouteError::UnbalancedBrace { pattern, segment },
            PatternFault::EmptyName => RouteError::EmptyName { pattern, segment },
            PatternFault::PartialSegment => RouteError::PartialSegment { pattern, segment },
        }
    }
}

/// Parses a route pattern (leading slashes ignored, as in [`Rules::match_route`]).
fn parse_pattern(pattern: &str) -> Result<Vec<Segment>, BadSegment> {
    let raw = split_segments(pattern.trim_start_matches('/'))?;
    let mut segments = Vec::with_capacity(raw.len());
    let last = raw.len().saturating_sub(1);
    for (i, text) in raw.iter().enumerate() {
        let segment = parse_segment(text).map_err(|fault| BadSegment {
            fault,
            segment: (*text).to_owned(),
        })?;
        if matches!(segment, Segment::CatchAll { .. }) && i != last {
            return Err(BadSegment {
                fault: PatternFault::CatchAllNotLast,
                segment: (*text).to_owned(),
            });
        }
        segments.push(segment);
    }
    Ok(segments)
}

/// Splits on `/` outside braces (an actix regex may hold a `/`: `{p:[^/]+}`).
fn split_segments(path: &str) -> Result<Vec<&str>, BadSegment> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            // `{{` and `}}` outside a parameter are escaped braces (axum).
            b'{' | b'}' if depth == 0 && bytes.get(i + 1) == Some(&bytes[i]) => i += 1,
            b'{' => depth += 1,
            b'}' if depth == 0 => {
                return Err(BadSegment {
                    fault: PatternFault::UnbalancedBrace,
                    segment: segment_around(path, i).to_owned(),
                });
            }
            b'}' => depth -= 1,
            b'/' if depth == 0 => {
                out.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if depth != 0 {
        return Err(BadSegment {
            fault: PatternFault::UnbalancedBrace,
            segment: path[start..].to_owned(),
        });
    }
    out.push(&path[start..]);
    Ok(out)
}

/// The `/`-delimited piece of `path` around byte `at`, for an error message.
fn segment_around(path: &str, at: usize) -> &str {
    let start = path[..at].rfind('/').map_or(0, |i| i + 1);
    let end = path[at..].find('/').map_or(path.len(), |i| at + i);
    &path[start..end]
}

/// One segment whose braces are balanced.
fn parse_segment(text: &str) -> Result<Segment, PatternFault> {
    let unescaped = text.replace("{{", "").replace("}}", "");
    if !unescaped.contains(['{', '}']) {
        return Ok(Segment::Static(text.replace("{{", "{").replace("}}", "}")));
    }
    let Some(inner_and_rest) = text.strip_prefix('{').filter(|t| !t.starts_with('{')) else {
        return Err(PatternFault::PartialSegment);
    };
    // The brace that closes the first one.
    let mut depth = 1usize;
    let mut close = None;
    for (i, b) in inner_and_rest.bytes().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let Some(close) = close else {
        return Err(PatternFault::UnbalancedBrace);
    };
    let inner = &inner_and_rest[..close];
    let tail = match &inner_and_rest[close + 1..] {
        "" => false,
        "*" => true,
        _ => return Err(PatternFault::PartialSegment),
    };
    if let Some(name) = inner.strip_prefix('*') {
        // axum 0.8 `{*rest}`.
        return if name.is_empty() || tail {
            Err(if name.is_empty() {
                PatternFault::EmptyName
            } else {
                PatternFault::PartialSegment
            })
        } else {
            Ok(Segment::CatchAll { empty: false })
        };
    }
    let (name, regex) = match inner.split_once(':') {
        Some((name, regex)) => (name, Some(regex)),
        None => (inner, None),
    };
    if name.trim().is_empty() {
        return Err(PatternFault::EmptyName);
    }
    Ok(match (regex.map(str::trim), tail) {
        // actix `{tail}*`.
        (None, true) => Segment::CatchAll { empty: true },
        // actix allows no regex on a tail segment.
        (Some(_), true) => return Err(PatternFault::PartialSegment),
        (Some(".*"), false) => Segment::CatchAll { empty: true },
        (Some(".+"), false) => Segment::CatchAll { empty: false },
        (_, false) => Segment::Param,
    })
}

enum BodyKind {
    Empty,
    Opaque,
    Json,
    Form,
    Text,
    Multipart(String),
}

fn classify(req: &RequestFacts<'_>, policy: &RoutePolicy) -> Result<BodyKind, Problem> {
    if req.body.is_empty() {
        return Ok(BodyKind::Empty);
    }
    if req
        .content_encoding
        .map(str::trim)
        .is_some_and(|e| !e.eq_ignore_ascii_case("identity"))
    {
        return Err(Problem::new(
            415,
            "netid.compressed_body",
            "Compressed body",
            "compressed request bodies cannot be inspected; send them uncompressed",
        ));
    }
    let Some(ct) = req.content_type else {
        return Err(unsupported("a request body needs a Content-Type"));
    };
    let lower = ct.to_ascii_lowercase();
    let essence = lower.split(';').next().unwrap_or("").trim();
    if policy
        .opaque_types
        .iter()
        .any(|p| essence.starts_with(p.as_str()))
    {
        return Ok(BodyKind::Opaque);
    }
    match essence {
        "application/json" => Ok(BodyKind::Json),
        e if e.starts_with("application/") && e.ends_with("+json") => Ok(BodyKind::Json),
        "application/x-www-form-urlencoded" => Ok(BodyKind::Form),
        "multipart/form-data" => ct
            .split(';')
            .find_map(|p| {
                let (k, v) = p.trim().split_once('=')?;
                k.eq_ignore_ascii_case("boundary")
                    .then(|| v.trim_matches('"').to_owned())
            })
            .filter(|b| (1..=70).contains(&b.len()))
            .map(BodyKind::Multipart)
            .ok_or_else(|| {
                Problem::new(
                    400,
                    "netid.invalid_multipart",
                    "Invalid multipart body",
                    "multipart/form-data needs a boundary of 1-70 characters",
                )
            }),
        e if e.starts_with("text/") => Ok(BodyKind::Text),
        _ => Err(unsupported(
            "this content type cannot be inspected for identity data",
        )),
    }
}

fn extra_plaintext(findings: &[&Finding], detail: &str) -> Problem {
    let mut p = Problem::new(
        422,
        "netid.extra_plaintext",
        "Extra plaintext identity data",
        detail,
    );
    let locations: Vec<_> = findings
        .iter()
        .map(|f| json!({ "location": f.location, "kind": f.kind.to_string() }))
        .collect();
    p.extra = Some(json!({ "locations": locations }));
    p
}

pub(super) fn too_large() -> Problem {
    Problem::new(
        413,
        "netid.payload_too_large",
        "Body too large",
        "the request body is over the limit",
    )
}

fn invalid_utf8() -> Problem {
    Problem::new(
        400,
        "netid.invalid_utf8",
        "Invalid text",
        "the request body is not UTF-8",
    )
}

fn unsupported(detail: &str) -> Problem {
    Problem::new(
        415,
        "netid.unsupported_media_type",
        "Unsupported content type",
        detail,
    )
}

fn scan_problem(e: crate::detect::ScanError) -> Problem {
    let status = if e.code() == "netid.body_too_large" {
        413
    } else {
        400
    };
    let code = if status == 413 {
        "netid.payload_too_large"
    } else {
        e.code()
    };
    Problem::new(status, code, "Request body refused", e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[tokio::test]
    async fn a_route_can_have_its_own_detector() {
        let user = VerifiedUser {
            subject: "pw_1".into(),
            assurance: crate::model::Assurance::Credential,
            age_tag: None,
            guardian_consent: None,
            verified_at: 0,
            method: super::super::user::Method::NetId,
        };
        let r = Rules::builder()
            .route(
                "/invoices",
                RoutePolicy::default()
                    .with_detector(Detector::new().ignore_field_names(["documentNumber"])),
            )
            .try_build()
            .unwrap();
        let body = br#"{"documentNumber":"INV-2024-0001"}"#;
        let facts = |route| RequestFacts {
            route,
            user: Some(&user),
            content_type: Some("application/json"),
            content_encoding: None,
            query: None,
            body,
        };
        assert_eq!(r.check(facts("/invoices")).await.unwrap(), Verdict::Pass);
        let refused = r.check(facts("/profile")).await.unwrap_err();
        assert_eq!(refused.code, "netid.extra_plaintext");
        // A checked ID number is found on the route all the same.
        let body = br#"{"documentNumber":"11010519491231002X"}"#;
        let facts = RequestFacts {
            body,
            ..facts("/invoices")
        };
        assert!(r.check(facts).await.is_err());
    }

    fn rules(patterns: &[&str]) -> Rules {
        patterns
            .iter()
            .fold(Rules::builder(), |b, p| b.route(*p, RoutePolicy::default()))
            .try_build()
            .unwrap()
    }

    #[test]
    fn parameters_match_one_non_empty_segment() {
        let r = rules(&["/users/{id}", "/users/{id}/orders/{order:\\d+}"]);
        assert_eq!(r.match_route("/users/7"), "/users/{id}");
        assert_eq!(
            r.match_route("/users/7/orders/9"),
            "/users/{id}/orders/{order:\\d+}"
        );
        for unmatched in ["/users/", "/users", "/users/7/x", "/users//orders/9"] {
            assert_eq!(r.match_route(unmatched), unmatched);
        }
    }

    #[test]
    fn axum_catch_all_needs_at_least_one_character() {
        let r = rules(&["/files/{*rest}"]);
        for path in ["/files/a", "/files/a/b/c.csv", "/files/a/", "/files//a"] {
            assert_eq!(r.match_route(path), "/files/{*rest}", "{path}");
        }
        for path in ["/files/", "/files", "/filesx/a", "/other/a"] {
            assert_eq!(r.match_route(path), path, "{path}");
        }
    }

    #[test]
    fn actix_tail_forms_match_the_rest_even_empty() {
        for pattern in ["/files/{tail:.*}", "/files/{tail}*"] {
            let r = rules(&[pattern]);
            for path in ["/files/", "/files/a", "/files/a/b/c.csv"] {
                assert_eq!(r.match_route(path), pattern, "{pattern} {path}");
            }
            assert_eq!(r.match_route("/files"), "/files", "{pattern}");
        }
        let r = rules(&["/files/{tail:.+}"]);
        assert_eq!(r.match_route("/files/a/b"), "/files/{tail:.+}");
        assert_eq!(r.match_route("/files/"), "/files/");
        // A regex may hold a `/`: it does not split the segment.
        let r = rules(&["/p/{x:[^/]+}"]);
        assert_eq!(r.match_route("/p/a"), "/p/{x:[^/]+}");
    }

    #[test]
    fn static_beats_parameter_beats_catch_all() {
        let r = rules(&[
            "/{*all}",
            "/files/{*rest}",
            "/files/{tail:.*}",
            "/files/{id}",
            "/files/me",
            "/files/{id}/{*rest}",
            "/{section}/me",
        ]);
        let cases = [
            ("/files/me", "/files/me"),
            ("/files/7", "/files/{id}"),
            ("/files/7/a/b", "/files/{id}/{*rest}"),
            // `{*rest}` needs a character; the actix form takes the empty rest.
            ("/files/", "/files/{tail:.*}"),
            ("/docs/me", "/{section}/me"),
            ("/docs/a", "/{*all}"),
            ("/", "/"),
        ];
        for (path, want) in cases {
            assert_eq!(r.match_route(path), want, "{path}");
        }
        // The order of declaration does not matter.
        let mut reversed: Vec<&str> = [
            "/{*all}",
            "/files/{*rest}",
            "/files/{tail:.*}",
            "/files/{id}",
            "/files/me",
            "/files/{id}/{*rest}",
            "/{section}/me",
        ]
        .to_vec();
        reversed.reverse();
        let r2 = rules(&reversed);
        for (path, _) in cases {
            assert_eq!(r.match_route(path), r2.match_route(path), "{path}");
        }
    }

    #[test]
    fn equal_specificity_prefers_the_longer_pattern_then_the_first_alphabetically() {
        let r = rules(&["/users/{id}", "/users/{user_id}", "/users/{a}"]);
        assert_eq!(r.match_route("/users/7"), "/users/{user_id}");
        let r = rules(&["/users/{b}", "/users/{a}"]);
        assert_eq!(r.match_route("/users/7"), "/users/{a}");
    }

    #[test]
    fn escaped_braces_are_literal() {
        let r = rules(&["/a/{{x}}", "/a/{x}"]);
        assert_eq!(r.match_route("/a/{x}"), "/a/{{x}}");
        assert_eq!(r.match_route("/a/y"), "/a/{x}");
    }

    #[test]
    fn bad_patterns_are_refused_at_build() {
        let cases = [
            ("/files/{*rest}/meta", "catch_all_not_last", "{*rest}"),
            ("/files/{tail:.*}/x", "catch_all_not_last", "{tail:.*}"),
            ("/{tail}*/x", "catch_all_not_last", "{tail}*"),
            ("/users/{id", "unbalanced_brace", "{id"),
            ("/users/{id/x", "unbalanced_brace", "{id/x"),
            ("/users/id}", "unbalanced_brace", "id}"),
            ("/users/{}", "empty_name", "{}"),
            ("/files/{*}", "empty_name", "{*}"),
            ("/files/{:.*}", "empty_name", "{:.*}"),
            ("/files/{}*", "empty_name", "{}*"),
            ("/v{version}", "partial_segment", "v{version}"),
            ("/{id}.json", "partial_segment", "{id}.json"),
            ("/{tail:.*}*", "partial_segment", "{tail:.*}*"),
        ];
        for (pattern, kind, segment) in cases {
            let err = Rules::builder()
                .route("/fine/{id}", RoutePolicy::default())
                .route(pattern, RoutePolicy::default())
                .try_build()
                .unwrap_err();
            let (got_kind, got_pattern, got_segment) = match &err {
                RouteError::CatchAllNotLast { pattern, segment } => {
                    ("catch_all_not_last", pattern, segment)
                }
                RouteError::UnbalancedBrace { pattern, segment } => {
                    ("unbalanced_brace", pattern, segment)
                }
                RouteError::EmptyName { pattern, segment } => ("empty_name", pattern, segment),
                RouteError::PartialSegment { pattern, segment } => {
                    ("partial_segment", pattern, segment)
                }
            };
            assert_eq!(
                (got_kind, got_pattern.as_str(), got_segment.as_str()),
                (kind, pattern, segment),
                "{err}"
            );
            assert!(err.to_string().contains(pattern), "{err}");
            assert_eq!(err.code(), "netid.invalid_route_pattern");
            assert_eq!(err.actor(), Actor::Configuration);
        }
    }

    #[test]
    fn the_first_bad_pattern_in_declaration_order_is_reported() {
        let err = Rules::builder()
            .route("/b/{", RoutePolicy::default())
            .route("/a/{}", RoutePolicy::default())
            .try_build()
            .unwrap_err();
        assert!(matches!(err, RouteError::UnbalancedBrace { .. }), "{err}");
    }

    #[tokio::test]
    async fn build_with_a_bad_pattern_fails_closed() {
        let rules = Rules::builder()
            .route("/files/{*rest}/x", RoutePolicy::default())
            .build();
        let facts = RequestFacts {
            route: "/anything",
            user: None,
            content_type: None,
            content_encoding: None,
            query: None,
            body: b"",
        };
        let problem = rules.check(facts).await.unwrap_err();
        assert_eq!((problem.status, problem.code), (500, "netid.internal"));
        // Without the bad pattern, the same request passes.
        let ok = Rules::builder().build();
        assert_eq!(ok.check(facts).await.unwrap(), Verdict::Pass);
    }

    #[test]
    fn a_router_pattern_finds_the_policy_of_the_same_shape() {
        let gated = RoutePolicy::default().with_age_gate(AgeGate::adults_only());
        let r = Rules::builder()
            .route("/users/{id}", gated.clone())
            .route("/files/{tail:.*}", gated)
            .try_build()
            .unwrap();
        for route in [
            "/users/{id}",
            "/users/{user_id}",
            "/files/{*rest}",
            "/files/{tail}*",
        ] {
            assert!(r.route(route).age.is_some(), "{route}");
        }
        for route in ["/users/{id}/x", "/users/me", "/files/{x}", "/elsewhere"] {
            assert!(r.route(route).age.is_none(), "{route}");
        }
    }

    #[test]
    fn a_plain_path_finds_a_static_pattern_of_the_same_shape_only() {
        let gated = RoutePolicy::default().with_age_gate(AgeGate::adults_only());
        let r = Rules::builder()
            .route("shop/wine", gated.clone())
            .route("/users/{id}", gated)
            .try_build()
            .unwrap();
        assert!(r.route("/shop/wine").age.is_some());
        assert!(r.route("//shop/wine").age.is_some());
        for route in ["/shop/wine/", "/shop", "/shop/wine/x", "/users/7", "/", ""] {
            assert!(r.route(route).age.is_none(), "{route}");
        }
    }
}
