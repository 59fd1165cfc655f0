//! The per-request rules, in one place: the age gate, then — for users who verified with
//! 网号/网证 — no extra plaintext identity data (Art. 7 §2) unless a consent or a law covers it.
//!
//! Adapters hand over the facts of a request ([`RequestFacts`]) and get back either the go-ahead
//! (possibly with a redacted body) or a [`Problem`] to send.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;

use super::places::HeaderList;
use super::{
    AgeGate, ConsentLedger, InMemoryConsentLedger, Lang, Problem, ProblemKind, VerifiedUser,
};
use crate::client::LegalBasis;
use crate::clock::{Clock, SystemClock};
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
    /// Content types passed without inspection (e.g. `image/`): opaque uploads, if binary.
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

    /// Passes bodies of this content-type prefix without inspection (`image/`, `application/pdf`),
    /// if they are binary: a body that is text (UTF-8, or with a byte order mark) is read for
    /// what it is whatever it declares, since a handler can read it as text too.
    pub fn with_opaque_type(mut self, prefix: impl Into<String>) -> Self {
        self.opaque_types.push(prefix.into().to_ascii_lowercase());
        self
    }

    /// What passes both policies: both age gates, the plaintext rule if they share it (else
    /// [`PlaintextRule::Reject`]), the opaque types they share. For a request whose route the
    /// two frameworks read differently (see [route patterns](Rules#route-patterns)).
    fn meet(&self, other: &RoutePolicy) -> RoutePolicy {
        RoutePolicy {
            plaintext: if self.plaintext == other.plaintext {
                self.plaintext.clone()
            } else {
                PlaintextRule::Reject
            },
            age: match (&self.age, &other.age) {
                (None, None) => None,
                (Some(a), None) | (None, Some(a)) => Some(a.clone()),
                (Some(a), Some(b)) => Some(a.meet(b)),
            },
            opaque_types: self
                .opaque_types
                .iter()
                .filter(|t| other.opaque_types.contains(t))
                .cloned()
                .collect(),
            // Which of two route detectors is stricter cannot be told: the rules' own applies.
            detector: None,
        }
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
    /// The request path (scanned for identity data, segment by segment, percent-decoded).
    pub path: &'a str,
    /// The headers (scanned, but for [`UNSCANNED_HEADERS`](super::UNSCANNED_HEADERS); each
    /// cookie but netid's own is scanned by name).
    pub headers: Option<&'a (dyn HeaderList + Sync)>,
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
/// | `{id}` | both | any one non-empty segment (axum also takes an empty one before a `/`: see below) |
/// | `{id:\d+}` | actix | any one non-empty segment: the regex is not evaluated (see below) |
/// | `{*rest}` | axum 0.8 | one or more remaining segments, not empty (`/files/{*rest}` matches `/files/a` and `/files/a/b`, not `/files/` or `/files`; but see below) |
/// | `{tail:.*}`, `{tail}*` | actix | the rest of the path, possibly empty (`/files/{tail:.*}` matches `/files/` and `/files/a/b`, not `/files`) |
/// | `{tail:.+}` | actix | the rest of the path, not empty |
///
/// A catch-all must be the last segment and a parameter a whole segment (`/v{version}` is not
/// understood); [`RulesBuilder::try_build`] refuses such patterns, unbalanced braces and unnamed
/// parameters with a [`RouteError`]. An actix regex that can match `/` other than `.*` and `.+`
/// is not understood either: declare such a route with `{name:.*}`.
///
/// When several patterns match a path ([`Rules::match_route`]), the most specific wins, segment
/// by segment from the left: a static segment beats a parameter (a regex one beats a plain one),
/// which beats a catch-all (and a catch-all that needs a segment beats one that does not). If two patterns are equally specific
/// all along, the one with more segments wins, then the longer pattern, then the one that sorts
/// first — so the choice never depends on declaration order or hashing. This is axum's order;
/// actix picks the first route registered that matches, so register its routes in this order
/// (statics before parameters, a regex parameter before a plain one, parameters before
/// catch-alls, segment by segment from the left) and the two agree.
///
/// Paths are matched as the router sees them: axum the raw path (`/adult/%73hop` is not
/// `/adult/shop`), actix its match path, percent-decoded except `%2F`, `%25` and `+`
/// (`/adult/%73hop` is `/adult/shop`). A static segment that a client percent-encodes (`café`)
/// is written as each router matches it: `caf%C3%A9` for axum, `café` for actix; declare both
/// where one rules table serves both. Only the leading `/` is ignored: `//files/a` has an empty
/// first segment in both routers and does not fall under `/files/{*rest}`.
///
/// Where the two routers read a path differently, or the rules cannot tell which route actix
/// picks, the policy that applies ([`Rules::route_policy`], which both adapters use) fails
/// closed: it is what passes the policy of every pattern the path may fall under and of the
/// pattern (or default) it certainly falls under, all at once (both age gates; the plaintext
/// rule only if they share it, else [`PlaintextRule::Reject`]; only the opaque types they
/// share). [`Rules::match_route`] returns only the pattern the path certainly falls under. The
/// cases:
///
/// - an empty segment before a `/` where a pattern has a parameter: axum's `/users/{id}/orders`
///   takes `/users//orders`, actix's does not (the pattern, then the default or a less specific
///   one, apply together);
/// - the empty rest after an axum catch-all: `/files/{*rest}` does not take `/files/` in axum,
///   while the actix route an application may register for it, `/files/{tail:.*}`, does (declare
///   that route as actix writes it, or `/files/` beside `/files/{*rest}`, to say which);
/// - an actix regex parameter that is not a catch-all (`{id:\d+}`): the regex is not
///   evaluated, so a path the regex refuses may go to another route; the regex pattern and the
///   next declared pattern the path falls under (or the default) apply together. Declare the
///   route without its regex (`/notes/{id}` for actix's `/notes/{id:\d+}`) for its policy to
///   apply alone, to any segment.
///
/// On actix, middleware registered with `App::wrap` runs before routing, so the gate finds a
/// request's pattern from the path the router will see: declare policies with the full pattern
/// the path falls under (`/users/{id}`, any scope prefix included), register static routes before
/// the catch-alls around them so that actix picks the route the rules pick, and declare a policy
/// for every route — an undeclared route gets the policy of the declared pattern its path matches
/// (a catch-all around it included), or the default, on both adapters. Middleware that rewrites
/// the path, such as `actix_web::middleware::NormalizePath`, must run before netid's: `wrap` it
/// after `netid.middleware()` (the last `wrap` runs first).
#[derive(Clone)]
pub struct Rules {
    inner: Arc<RulesInner>,
}

#[derive(Clone)]
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
    /// What [`Rules::check`] reads; the detectors read it too when it was given.
    clock: Arc<dyn Clock>,
}

impl RulesInner {
    /// Every detector of these rules, and [`Rules::check`], reading `clock`.
    fn reclock(&mut self, clock: Arc<dyn Clock>) {
        self.detector = self.detector.clone().clock(Arc::clone(&clock));
        for policy in std::iter::once(&mut self.default).chain(self.routes.values_mut()) {
            policy.detector = policy.detector.take().map(|d| d.clock(Arc::clone(&clock)));
        }
        self.clock = clock;
    }
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
    clock: Option<Arc<dyn Clock>>,
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
            clock: None,
        }
    }

    /// These rules with every detector, and [`check`](Self::check), reading `clock`: a
    /// [`Gate`](super::Gate) gives its rules its login flow's clock.
    pub(crate) fn with_clock(&self, clock: Arc<dyn Clock>) -> Rules {
        let mut inner = RulesInner::clone(&self.inner);
        inner.reclock(clock);
        Rules {
            inner: Arc::new(inner),
        }
    }

    /// The largest body the adapter should read (413 beyond it). It bounds every signed-in
    /// user alike (equal limits, Art. 7 §3): a body declared longer is refused whoever sends
    /// it; a 网号/网证 user's body is also read and stopped there. A chunked body without a
    /// declared length from a user who verified another way is not read, and meets only the
    /// framework's own limit.
    pub fn max_body(&self) -> usize {
        self.inner.max_body
    }

    /// Whether a route allows plaintext data under a consent for `purpose`: the purposes a user
    /// may agree to at [`LoginRoute::Consent`](super::LoginRoute::Consent).
    pub fn offers_consent_for(&self, purpose: &str) -> bool {
        let offers = |p: &RoutePolicy| matches!(&p.plaintext, PlaintextRule::AllowWithConsent { purpose: q } if q == purpose);
        offers(&self.inner.default) || self.inner.routes.values().any(offers)
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

    /// The policy that applies to a request: the policy declared for `matched`, the route
    /// pattern the framework's router matched (axum's `MatchedPath`), if there is one; else the
    /// policy of the declared pattern `path` falls under (the path as the router sees it), or
    /// the default. Where the path may fall under patterns that the two routers, or actix's
    /// registration order, tell apart, their policies apply together: see
    /// [route patterns](Rules#route-patterns). Both adapters decide with this.
    pub fn route_policy(&self, matched: Option<&str>, path: &str) -> Cow<'_, RoutePolicy> {
        if let Some(policy) = matched.and_then(|m| self.declared(m)) {
            return Cow::Borrowed(policy);
        }
        let mut merged: Option<Cow<'_, RoutePolicy>> = None;
        let mut with_default = false;
        let mut certain = false;
        // Most specific first: every uncertain pattern before the first certain one counts.
        for pattern in &self.inner.patterns {
            let fit = pattern.fit(path);
            if fit == Fit::No {
                continue;
            }
            let Some(policy) = self.inner.routes.get(&pattern.text) else {
                continue;
            };
            merged = Some(match merged {
                None => Cow::Borrowed(policy),
                Some(m) => Cow::Owned(m.meet(policy)),
            });
            match fit {
                Fit::Certain => {
                    certain = true;
                    break;
                }
                Fit::Loose | Fit::Regex => with_default = true,
                Fit::No => {}
            }
        }
        match merged {
            None => Cow::Borrowed(&self.inner.default),
            Some(m) if with_default && !certain => Cow::Owned(m.meet(&self.inner.default)),
            Some(m) => m,
        }
    }

    /// Whether any route (or the default policy) has an age gate.
    pub(crate) fn has_age_gate(&self) -> bool {
        self.inner.default.age.is_some() || self.inner.routes.values().any(|p| p.age.is_some())
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

    /// Applies the rules to one request, with the policy of [`RequestFacts::route`]; a consent
    /// the route needs must be live by the rules' clock ([`RulesBuilder::clock`]; the system
    /// clock by default, a [`Gate`](super::Gate)'s login flow's in the gate).
    pub async fn check(&self, req: RequestFacts<'_>) -> Result<Verdict, Problem> {
        self.check_at(req, self.inner.clock.now()).await
    }

    /// [`check`](Self::check) at `now` (Unix seconds): a consent the route needs must be live
    /// then. The gate passes its login flow's clock ([`SessionManagerBuilder::clock`](super::SessionManagerBuilder::clock)).
    pub async fn check_at(&self, req: RequestFacts<'_>, now: u64) -> Result<Verdict, Problem> {
        self.check_with(self.route(req.route), req, now).await
    }

    /// Applies the rules to one request under `policy`, at `now`.
    pub(crate) async fn check_with(
        &self,
        policy: &RoutePolicy,
        req: RequestFacts<'_>,
        now: u64,
    ) -> Result<Verdict, Problem> {
        match self.decide(policy, req)? {
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
                        .live_consent(subject, field, purpose, now)
                        .await
                        .map_err(|_| Problem::unavailable("the consent ledger", "同意记录"))?;
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
    pub(crate) fn check_now_with(
        &self,
        policy: &RoutePolicy,
        req: RequestFacts<'_>,
    ) -> Option<Result<Verdict, Problem>> {
        match self.decide(policy, req) {
            Ok(Decision::Final(verdict)) => Some(Ok(verdict)),
            Ok(Decision::IfConsented { .. }) => None,
            Err(problem) => Some(Err(problem)),
        }
    }

    /// Every rule but the consent ledger's answer, which is the one that needs waiting.
    fn decide<'a>(
        &'a self,
        policy: &'a RoutePolicy,
        req: RequestFacts<'a>,
    ) -> Result<Decision<'a>, Problem> {
        if self.inner.broken.is_some() {
            // Logged once at build; a route whose policy is unknown fails closed.
            return Err(Problem::internal());
        }
        let detector = policy.detector.as_ref().unwrap_or(&self.inner.detector);
        if let Some(gate) = &policy.age {
            let user = req.user.ok_or_else(Problem::unauthenticated)?;
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
        findings.extend(super::places::scan(detector, req.path, req.headers));
        // Remembered for the redact rule: the query, the path, headers and cookies cannot be
        // redacted in place.
        let query_blocks = findings.iter().any(Finding::is_blocking);
        let body_kind = classify(&req, policy)?;
        let body_scan = match body_kind {
            BodyKind::Empty | BodyKind::Opaque => Scan::default(),
            BodyKind::Json => detector.scan_json(req.body).map_err(scan_problem)?,
            BodyKind::Form => detector.scan_form(req.body).map_err(scan_problem)?,
            BodyKind::Sniffed => sniff(detector, req.body, req.content_type),
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
            PlaintextRule::Reject => Err(extra_plaintext(&blocking, Refusal::NotTaken)),
            PlaintextRule::AllowUnderLaw(basis) if needed.is_subset(&basis.permits()) => {
                Ok(Decision::Final(Verdict::Pass))
            }
            PlaintextRule::AllowUnderLaw(_) => {
                Err(extra_plaintext(&blocking, Refusal::BeyondBasis))
            }
            PlaintextRule::AllowWithConsent { purpose } => {
                // The user may agree to provide it (Art. 7 §2, 用户同意提供的除外): the refusal
                // says what to ask for and where to record the agreement.
                let mut refusal = extra_plaintext(&blocking, Refusal::NoConsent);
                if let Some(extra) = refusal.extra.as_deref_mut().and_then(|e| e.as_object_mut()) {
                    extra.insert(
                        "consent".into(),
                        json!({
                            "purpose": purpose,
                            "fields": needed.iter().collect::<Vec<_>>(),
                            "grant": super::gate::LoginRoute::Consent.path(),
                        }),
                    );
                }
                Ok(Decision::IfConsented {
                    subject: user.subject(),
                    fields: needed,
                    purpose,
                    refusal,
                })
            }
            PlaintextRule::Redact => {
                let body = match body_kind {
                    BodyKind::Json => detector.redact_json(req.body).map_err(scan_problem)?.0,
                    BodyKind::Form => detector.redact_form(req.body).map_err(scan_problem)?.0,
                    // Text, multipart, sniffed bodies and query strings cannot be redacted in
                    // place safely.
                    _ => {
                        return Err(extra_plaintext(&blocking, Refusal::NotRedactable));
                    }
                };
                if query_blocks {
                    return Err(extra_plaintext(&blocking, Refusal::QueryNotRedactable));
                }
                Ok(Decision::Final(Verdict::Replace(body)))
            }
        }
    }
}

/// A body whose declared type is not parsed as such (text, none, `octet-stream`, an image
/// type that is really JSON, two `Content-Type` headers…): read for what it is, so that a
/// handler that parses it anyway finds nothing the rules did not see. First decoded as a
/// handler would decode it ([`decode_text`]: a byte order mark, else the declared `charset`,
/// else UTF-8, lossily); then JSON if it parses as JSON (field names kept), JSON Lines if every
/// line does, a form if it reads as one, else text.
fn sniff(detector: &Detector, body: &[u8], content_type: Option<&str>) -> Scan {
    let text = decode_text(body, content_type);
    let mut scan = sniff_text(detector, &text);
    if std::str::from_utf8(body).is_err() {
        // Read as GB 18030 or another charset: a handler that takes the bytes as UTF-8 reads
        // them lossily, and a GB 18030 lead byte may have taken a letter as its trail.
        let lossy = String::from_utf8_lossy(body);
        if lossy != text {
            scan.findings.extend(sniff_text(detector, &lossy).findings);
        }
    }
    scan
}

/// [`sniff`] on one reading of the body.
fn sniff_text(detector: &Detector, text: &str) -> Scan {
    let bytes = text.as_bytes();
    let parsed = if matches!(bytes.trim_ascii_start().first(), Some(b'{' | b'[')) {
        detector
            .scan_json(bytes)
            .ok()
            .or_else(|| {
                let lenient = without_comments(bytes)?;
                detector.scan_json(lenient.as_bytes()).ok()
            })
            .or_else(|| scan_json_lines(detector, text))
    } else if looks_like_form(bytes) {
        detector.scan_form(bytes).ok()
    } else {
        None
    };
    if let Some(scan) = parsed {
        return scan;
    }
    detector.scan_text(None, text)
}

/// JSON as the lenient readers take it (JSONC and JSON5 readers such as `json5`,
/// `serde_jsonrc`, `jsonc-parser`): `//` and `/* */` comments and trailing commas dropped, so
/// that a body a handler reads with one is scanned by field name, not as text. `None` when
/// there is nothing to drop. Strings are kept as they are; linear in the body.
fn without_comments(body: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(body.len());
    let mut changed = false;
    let mut in_string = false;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if in_string {
            out.push(b);
            match b {
                b'\\' => {
                    if let Some(&next) = body.get(i + 1) {
                        out.push(next);
                        i += 1;
                    }
                }
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match (b, body.get(i + 1)) {
            (b'"', _) => {
                in_string = true;
                out.push(b);
                i += 1;
            }
            (b'/', Some(b'/')) => {
                changed = true;
                i += body[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .unwrap_or(body.len() - i);
            }
            (b'/', Some(b'*')) => {
                changed = true;
                let end = body[i + 2..].windows(2).position(|w| w == b"*/");
                i = end.map_or(body.len(), |e| i + 2 + e + 2);
                out.push(b' ');
            }
            (b',', _) => {
                let next = body[i + 1..].iter().find(|c| !c.is_ascii_whitespace());
                if matches!(next, Some(b'}' | b']')) {
                    changed = true;
                } else {
                    out.push(b);
                }
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    // Only ASCII was dropped, between characters: what was UTF-8 still is.
    changed.then(|| String::from_utf8_lossy(&out).into_owned())
}

/// JSON Lines (`application/x-ndjson`, `application/jsonl`…): each non-blank line one JSON
/// value, as a handler that splits on newlines reads them. `None` unless every line parses.
/// Locations are `line N $.path`, from 1.
fn scan_json_lines(detector: &Detector, text: &str) -> Option<Scan> {
    let mut scan = Scan::default();
    let mut lines = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        for mut finding in detector.scan_json(line.as_bytes()).ok()?.findings {
            finding.location = format!("line {} {}", i + 1, finding.location);
            scan.findings.push(finding);
        }
    }
    (lines > 1).then_some(scan)
}

/// A body's text as a handler that decodes it would see it: a byte order mark (UTF-8, UTF-16LE,
/// UTF-16BE) wins, else the `charset` parameter of `content_type` (any WHATWG label: `gbk`,
/// `gb18030`, `utf-16le`, `big5`… — the table actix-web's `String` extractor decodes with),
/// else UTF-8, else (bytes that are not UTF-8 but GB 18030 throughout) GB 18030; malformed
/// sequences become U+FFFD. Decoding never fails.
fn decode_text<'a>(body: &'a [u8], content_type: Option<&str>) -> Cow<'a, str> {
    let declared = content_type
        .and_then(|ct| {
            ct.split(';').skip(1).find_map(|p| {
                let (k, v) = p.trim().split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("charset")
                    .then(|| v.trim().trim_matches('"'))
            })
        })
        .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()));
    match (encoding_rs::Encoding::for_bom(body), declared) {
        (Some((encoding, bom)), _) => encoding.decode_without_bom_handling(&body[bom..]).0,
        (None, Some(encoding)) if encoding != encoding_rs::UTF_8 => {
            encoding.decode_without_bom_handling(body).0
        }
        // No charset and not UTF-8: GB 18030 when it reads the bytes throughout (GBK text
        // sent without a charset, the commonest Chinese text that is not UTF-8).
        (None, _) if std::str::from_utf8(body).is_err() => encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(body)
            .unwrap_or_else(|| String::from_utf8_lossy(body)),
        _ => String::from_utf8_lossy(body),
    }
}

/// Whether a body is text rather than binary: UTF-8, or starting with a byte order mark. An
/// image, a PDF or an archive is neither (their first bytes are not valid UTF-8).
fn is_text(body: &[u8]) -> bool {
    encoding_rs::Encoding::for_bom(body).is_some() || std::str::from_utf8(body).is_ok()
}

/// `k=v&k2=v2`: an `=`, and no space or control character (letters beyond ASCII are fine: a
/// form parser takes `姓名=张伟` unencoded).
fn looks_like_form(body: &[u8]) -> bool {
    body.contains(&b'=') && body.iter().all(|b| b.is_ascii_graphic() || *b >= 0x80)
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

    /// The clock the rules read (default: the system clock): [`Rules::check`] (whether a
    /// consent is live) and every detector of the rules (today's date, for birth dates). A
    /// [`Gate`](super::Gate) replaces it with its login flow's
    /// ([`SessionManagerBuilder::clock`](super::SessionManagerBuilder::clock)), so an app sets
    /// the time in one place; this is for rules used without a gate.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
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
        let mut inner = RulesInner {
            default: self.default,
            routes,
            patterns,
            broken: None,
            detector: self.detector,
            consents: self
                .consents
                .unwrap_or_else(|| Arc::new(InMemoryConsentLedger::default())),
            max_body: self.max_body,
            clock: Arc::new(SystemClock),
        };
        if let Some(clock) = self.clock {
            inner.reclock(clock);
        }
        let rules = Rules {
            inner: Arc::new(inner),
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
        "policy.invalid_route_pattern"
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
    Param {
        /// An actix regex (not evaluated): the path may go to another route.
        regex: bool,
    },
    /// The rest of the path; `empty`: possibly nothing (actix `{tail:.*}`), else at least one
    /// character (axum `{*rest}`, actix `{tail:.+}`).
    CatchAll {
        /// Whether the rest may be empty.
        empty: bool,
        /// axum's form, which an application may register in actix as `{tail:.*}`.
        axum: bool,
    },
}

/// How a path falls under a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    /// Not at all.
    No,
    /// In both routers.
    Certain,
    /// If actix's regex takes the segment.
    Regex,
    /// In one router's reading only (an empty parameter, an axum catch-all's empty rest).
    Loose,
}

impl Segment {
    /// Specificity rank: lower wins.
    fn rank(&self) -> u8 {
        match self {
            Segment::Static(_) => 0,
            // As actix must be given them: a regex parameter before a plain one.
            Segment::Param { regex: true } => 1,
            Segment::Param { regex: false } => 2,
            Segment::CatchAll { empty: false, .. } => 3,
            Segment::CatchAll { empty: true, .. } => 4,
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
        let mut parts = segments_of(path);
        self.segments
            .iter()
            .all(|s| matches!((s, parts.next()), (Segment::Static(t), Some(p)) if t == p))
            && parts.next().is_none()
    }

    /// Whether the path falls under this pattern in both routers (a regex parameter taken as
    /// matching): [`Rules::match_route`].
    fn matches(&self, path: &str) -> bool {
        matches!(self.fit(path), Fit::Certain | Fit::Regex)
    }

    /// How the path, split on `/` (its leading slash removed), falls under this pattern.
    /// Walks the segments without collecting them: it runs on every request to a route the
    /// framework matched without a declared policy.
    fn fit(&self, path: &str) -> Fit {
        let mut parts = segments_of(path).peekable();
        let mut fit = Fit::Certain;
        let weaken = |fit: &mut Fit, to: Fit| {
            if *fit == Fit::Certain || to == Fit::Loose {
                *fit = to;
            }
        };
        for segment in &self.segments {
            match segment {
                Segment::CatchAll { empty, axum } => {
                    // The `/` before the catch-all must be there (`/files` is not `/files/…`).
                    return match (parts.next(), parts.peek()) {
                        (None, _) => Fit::No,
                        (Some(""), None) if !empty => {
                            if *axum {
                                weaken(&mut fit, Fit::Loose);
                                fit
                            } else {
                                Fit::No
                            }
                        }
                        _ => fit,
                    };
                }
                Segment::Static(text) => {
                    if parts.next() != Some(text.as_str()) {
                        return Fit::No;
                    }
                }
                Segment::Param { regex } => match parts.next() {
                    None => return Fit::No,
                    // axum's parameter takes an empty segment before a `/`; actix's never.
                    Some("") if parts.peek().is_some() => weaken(&mut fit, Fit::Loose),
                    Some("") => return Fit::No,
                    Some(_) if *regex => weaken(&mut fit, Fit::Regex),
                    Some(_) => {}
                },
            }
        }
        if parts.next().is_none() { fit } else { Fit::No }
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
            (Segment::Param { .. }, Segment::Param { .. }) => true,
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

/// The `/`-separated segments of a path, after its leading `/`. Only one slash is removed: both
/// routers see `//files/a` as an empty segment before `files`, not as `/files/a`.
fn segments_of(path: &str) -> std::str::Split<'_, char> {
    path.strip_prefix('/').unwrap_or(path).split('/')
}

/// Parses a route pattern (its leading `/` ignored, as in [`Rules::match_route`]; a pattern
/// without one is read as if it had one, as actix reads it).
fn parse_pattern(pattern: &str) -> Result<Vec<Segment>, BadSegment> {
    let raw = split_segments(pattern.strip_prefix('/').unwrap_or(pattern))?;
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
            Ok(Segment::CatchAll {
                empty: false,
                axum: true,
            })
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
        (None, true) => Segment::CatchAll {
            empty: true,
            axum: false,
        },
        // actix allows no regex on a tail segment.
        (Some(_), true) => return Err(PatternFault::PartialSegment),
        (Some(".*"), false) => Segment::CatchAll {
            empty: true,
            axum: false,
        },
        (Some(".+"), false) => Segment::CatchAll {
            empty: false,
            axum: false,
        },
        (regex, false) => Segment::Param {
            regex: regex.is_some(),
        },
    })
}

enum BodyKind {
    Empty,
    Opaque,
    Json,
    Form,
    Multipart(String),
    /// A type the rules do not parse as declared: read for what it is.
    Sniffed,
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
        return Err(Problem::of(ProblemKind::CompressedBody));
    }
    // No type, or one that is not text: a handler that takes the bytes or a `String` still
    // reads them, so they are read for what they are.
    let Some(ct) = req.content_type else {
        return Ok(BodyKind::Sniffed);
    };
    let lower = ct.to_ascii_lowercase();
    let essence = lower.split(';').next().unwrap_or("").trim();
    // An opaque type is taken at its word only for a body that is not text: JSON or a name
    // declared `image/png` is read for what it is (an image is binary; SVG is text, and scanned).
    if policy
        .opaque_types
        .iter()
        .any(|p| essence.starts_with(p.as_str()))
        && !is_text(req.body)
    {
        return Ok(BodyKind::Opaque);
    }
    match essence {
        // What actix's `web::Json` accepts (any `*/json`, `*/*+json`) and axum's `Json`
        // (`application/json`, `application/*+json`).
        e if e.ends_with("/json") || e.ends_with("+json") => Ok(BodyKind::Json),
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
                Problem::of(ProblemKind::InvalidMultipart).with_detail(
                    "multipart/form-data needs a boundary of 1-70 characters",
                    "multipart/form-data 须有 1 至 70 个字符的 boundary。",
                )
            }),
        _ => Ok(BodyKind::Sniffed),
    }
}

/// How many places a refusal lists; `count` says how many there were.
pub const MAX_LISTED_LOCATIONS: usize = 16;

/// A location as listed in a refusal: at most 128 bytes (a key name is the client's text).
fn truncated(location: &str) -> String {
    if location.len() <= 128 {
        return location.to_owned();
    }
    let mut end = 125;
    while !location.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &location[..end])
}

/// Why identity data was refused, beyond the standard "we do not take it".
#[derive(Clone, Copy)]
enum Refusal {
    /// The route takes none (the standard detail).
    NotTaken,
    /// The route's legal basis does not name these fields.
    BeyondBasis,
    /// No live consent covers them for the route's purpose.
    NoConsent,
    /// The route redacts, but this kind of body cannot be redacted.
    NotRedactable,
    /// The route redacts, but the query string cannot be.
    QueryNotRedactable,
}

fn extra_plaintext(findings: &[&Finding], why: Refusal) -> Problem {
    let p = Problem::of(ProblemKind::ExtraPlaintext);
    let p = match why {
        Refusal::NotTaken => p,
        Refusal::BeyondBasis => p.with_detail(
            "the route's legal basis does not cover these fields",
            "本接口所依据的法律、行政法规不涵盖这些字段。",
        ),
        Refusal::NoConsent => p.with_detail(
            "no live consent covers these fields for this purpose",
            "没有有效的同意涵盖这些字段及用途。",
        ),
        Refusal::NotRedactable => p.with_detail(
            "identity data here cannot be redacted; remove it",
            "此处的身份信息无法脱敏，请删除后再提交。",
        ),
        Refusal::QueryNotRedactable => p.with_detail(
            "identity data in the path, query, headers or cookies cannot be redacted; remove it",
            "路径、查询字符串、请求头或 Cookie 中的身份信息无法脱敏，请删除后再提交。",
        ),
    };
    // Bounded: a body of a thousand identity fields gets the first few places and a count, not
    // a refusal as large as the request (the cost of answering stays a constant).
    let locations: Vec<_> = findings
        .iter()
        .take(MAX_LISTED_LOCATIONS)
        .map(|f| json!({ "location": truncated(&f.location), "kind": f.kind.to_string() }))
        .collect();
    p.with_extra(json!({ "locations": locations, "count": findings.len() }))
}

pub(super) fn too_large() -> Problem {
    Problem::of(ProblemKind::PayloadTooLarge)
}

fn scan_problem(e: crate::detect::ScanError) -> Problem {
    let kind = e.problem_kind();
    Problem::of(kind).with_detail(e.to_string(), kind.detail(Lang::ZhCn))
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
            path: route,
            headers: None,
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

    /// The consent a route needs is judged at the time the caller gives (the gate gives its
    /// login flow's clock), not at the system's: the same request passes before the consent's
    /// retention period ends and is refused after.
    #[tokio::test]
    async fn a_consent_is_live_at_the_time_given() {
        use crate::model::FieldName;
        use crate::store::ConsentLedger;
        let user = VerifiedUser {
            subject: "pw_1".into(),
            assurance: crate::model::Assurance::Credential,
            age_tag: None,
            guardian_consent: None,
            verified_at: 0,
            method: super::super::user::Method::NetId,
        };
        let ledger = Arc::new(crate::store::InMemoryConsentLedger::default());
        ledger
            .record(crate::store::ConsentRecord {
                id: "c1".into(),
                subject: "pw_1".into(),
                fields: vec![FieldName::IdNumber],
                purpose: "开户".into(),
                legal_basis: None,
                granted_at: 1_000,
                expires_at: Some(2_000),
                withdrawn_at: None,
            })
            .await
            .unwrap();
        let consent = PlaintextRule::AllowWithConsent {
            purpose: "开户".into(),
        };
        let clock = Arc::new(crate::clock::ManualClock::new(1_500));
        let clocked = Rules::builder()
            .consents(ledger.clone())
            .route("/kyc", RoutePolicy::plaintext(consent.clone()))
            .clock(clock.clone())
            .try_build()
            .unwrap();
        let r = Rules::builder()
            .consents(ledger)
            .route("/kyc", RoutePolicy::plaintext(consent))
            .try_build()
            .unwrap();
        let facts = || RequestFacts {
            route: "/kyc",
            path: "/kyc",
            headers: None,
            user: Some(&user),
            content_type: Some("application/json"),
            content_encoding: None,
            query: None,
            body: br#"{"idNo":"11010519491231002X"}"#,
        };
        assert_eq!(r.check_at(facts(), 1_500).await.unwrap(), Verdict::Pass);
        let refused = r.check_at(facts(), 2_000).await.unwrap_err();
        assert_eq!(refused.code, "netid.extra_plaintext");
        // Years later by the system clock: the consent has long ended.
        assert!(r.check(facts()).await.is_err());
        // `check` reads the rules' clock when they were given one.
        assert_eq!(clocked.check(facts()).await.unwrap(), Verdict::Pass);
        clock.set(2_000);
        assert!(clocked.check(facts()).await.is_err());
        // A gate's rules read its login flow's clock instead.
        let regiven = clocked.with_clock(Arc::new(crate::clock::ManualClock::new(1_999)));
        assert_eq!(regiven.check(facts()).await.unwrap(), Verdict::Pass);
    }

    fn rules(patterns: &[&str]) -> Rules {
        patterns
            .iter()
            .fold(Rules::builder(), |b, p| b.route(*p, RoutePolicy::default()))
            .try_build()
            .unwrap()
    }

    fn facts<'a>(content_type: Option<&'a str>, body: &'a [u8]) -> RequestFacts<'a> {
        RequestFacts {
            route: "/p",
            path: "/p",
            headers: None,
            user: None,
            content_type,
            content_encoding: None,
            query: None,
            body,
        }
    }

    #[test]
    fn bodies_are_decoded_as_a_handler_decodes_them() {
        // GBK (GB 2312 code points: 张 D5C5, 伟 CEB0), the table actix-web's `String` uses.
        let gbk = [0xd5, 0xc5, 0xce, 0xb0];
        assert_eq!(decode_text(&gbk, Some("text/plain; charset=GBK")), "张伟");
        assert_eq!(
            decode_text(&gbk, Some("text/plain;charset=\"gb2312\"")),
            "张伟"
        );
        // A byte order mark wins over the declared charset.
        let utf16be = [0xfe, 0xff, 0x5f, 0x20, 0x4f, 0x1f];
        assert_eq!(
            decode_text(&utf16be, Some("text/plain; charset=gbk")),
            "张伟"
        );
        let utf16le = [0xff, 0xfe, 0x20, 0x5f, 0x1f, 0x4f];
        assert_eq!(decode_text(&utf16le, None), "张伟");
        // Without either: UTF-8, lossily; an unknown label is UTF-8 too.
        assert_eq!(
            decode_text("张伟".as_bytes(), Some("text/plain; charset=nope")),
            "张伟"
        );
        assert_eq!(decode_text(&[b'a', 0xff], None), "a\u{fffd}");
    }

    #[test]
    fn sniffed_bodies_keep_their_field_names() {
        let detector = Detector::new();
        let blocking = |ct: Option<&str>, body: &[u8]| {
            sniff(&detector, body, ct)
                .findings
                .into_iter()
                .filter(Finding::is_blocking)
                .map(|f| f.location)
                .collect::<Vec<_>>()
        };
        // JSON Lines: each line is JSON; the keys count.
        assert_eq!(
            blocking(
                None,
                "{\"nick\":\"bob\"}\n{\"realName\":\"张伟\"}\n".as_bytes()
            ),
            ["line 2 $.realName"]
        );
        // A form of raw UTF-8, as a form parser reads it.
        assert_eq!(
            blocking(Some("text/plain"), "姓名=张伟".as_bytes()),
            ["姓名"]
        );
        // GBK JSON declared so.
        let gbk_json = [
            &b"{\""[..],
            &[0xd0, 0xd5, 0xc3, 0xfb],
            b"\":\"",
            &[0xd5, 0xc5, 0xce, 0xb0],
            b"\"}",
        ]
        .concat();
        assert_eq!(
            blocking(Some("text/plain; charset=gbk"), &gbk_json),
            ["$.姓名"]
        );
        // JSON with comments and trailing commas (JSONC, JSON5), as a lenient reader takes it;
        // `//` inside a string is kept.
        assert_eq!(
            blocking(
                Some("text/plain"),
                "{ // me\n\"url\":\"https://a.example/x\", /* who */ \"realName\":\"张伟\",}"
                    .as_bytes()
            ),
            ["$.realName"]
        );
        assert_eq!(
            without_comments(b"[1, /* a */ {\"s\":\"//x\\\"/*\"},]").as_deref(),
            Some("[1,   {\"s\":\"//x\\\"/*\"}]")
        );
        assert_eq!(without_comments(b"{\"a\":\"//\"}"), None);
        // Clean text stays clean; a single line that is not JSON is text.
        assert!(blocking(Some("text/plain"), b"hello = world").is_empty());
        assert!(blocking(None, b"{\"a\":1}\nnot json").is_empty());
    }

    #[test]
    fn an_opaque_type_covers_binary_bodies_only() {
        let policy = RoutePolicy::default().with_opaque_type("image/");
        let kind = |body: &[u8]| classify(&facts(Some("image/png"), body), &policy).ok();
        assert!(matches!(
            kind(&[0x89, b'P', b'N', b'G', 0, 0xff]),
            Some(BodyKind::Opaque)
        ));
        assert!(matches!(
            kind(&[0xff, 0xd8, 0xff, 0xe0]),
            Some(BodyKind::Opaque)
        ));
        assert!(matches!(kind(b"{\"idNo\":1}"), Some(BodyKind::Sniffed)));
        assert!(matches!(
            kind(&[0xff, 0xfe, b'1', 0]),
            Some(BodyKind::Sniffed)
        ));
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
            assert_eq!(err.code(), "policy.invalid_route_pattern");
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
            path: "/anything",
            headers: None,
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
    fn only_the_leading_slash_is_ignored() {
        // Both routers see `//files/a` as an empty segment before `files` (found by the
        // differential test in tests/integration/routes.rs).
        let r = rules(&["/files/{*rest}", "/{*all}"]);
        assert_eq!(r.match_route("//files/a"), "/{*all}");
        assert_eq!(r.match_route("/files/a"), "/files/{*rest}");
        let r = rules(&["//x"]);
        assert_eq!(r.match_route("//x"), "//x");
        assert_eq!(r.match_route("/x"), "/x");
    }

    #[test]
    fn where_the_routers_differ_the_policies_apply_together() {
        let adults = || RoutePolicy::default().with_age_gate(AgeGate::adults_only());
        let r = Rules::builder()
            .route("/files/{*rest}", adults())
            .route("/users/{id}/orders", adults())
            .route(
                "/notes/{id:\\d+}",
                RoutePolicy::plaintext(PlaintextRule::Redact),
            )
            .route(
                "/notes/{tail:.*}",
                RoutePolicy::plaintext(PlaintextRule::Redact),
            )
            .route(
                "/kyc/{id:\\d+}",
                RoutePolicy::plaintext(PlaintextRule::Redact),
            )
            .try_build()
            .unwrap();
        // An actix `{tail:.*}` registered for `{*rest}` takes `/files/`; axum's does not.
        assert!(r.route_policy(None, "/files/").age.is_some());
        assert_eq!(r.match_route("/files/"), "/files/");
        // axum's parameter takes an empty segment before a `/`; actix's does not.
        assert!(r.route_policy(None, "/users//orders").age.is_some());
        // An unevaluated regex with a declared catch-all of the same policy: that policy.
        let notes = r.route_policy(None, "/notes/x");
        assert_eq!(notes.plaintext, PlaintextRule::Redact);
        // With only the default beside it: the two together (the default's Reject).
        assert_eq!(
            r.route_policy(None, "/kyc/7").plaintext,
            PlaintextRule::Reject
        );
        // Certain matches are unchanged; a declared match from the router wins.
        assert!(r.route_policy(None, "/files/a").age.is_some());
        assert!(r.route_policy(None, "/elsewhere").age.is_none());
        assert_eq!(
            r.route_policy(Some("/kyc/{id}"), "/kyc/7").plaintext,
            PlaintextRule::Redact
        );
    }

    #[test]
    fn age_gates_together_admit_whom_both_admit() {
        let a = RoutePolicy::default().with_age_gate(AgeGate::allow_minors());
        let b = RoutePolicy::default()
            .with_age_gate(AgeGate::allow_minors().with_guardian_consent_for_under_14());
        let both = a.meet(&b);
        assert_eq!(both.age, Some(AgeGate::allow_minors()));
        let seniors =
            RoutePolicy::default().with_age_gate(AgeGate::bands([crate::model::AgeTag::Senior]));
        assert_eq!(
            seniors.meet(&a).age,
            Some(AgeGate::bands([crate::model::AgeTag::Senior]))
        );
    }

    #[test]
    fn rules_know_whether_any_route_has_an_age_gate() {
        let gated = RoutePolicy::default().with_age_gate(AgeGate::adults_only());
        assert!(!Rules::builder().build().has_age_gate());
        assert!(
            !Rules::builder()
                .route("/notes", RoutePolicy::plaintext(PlaintextRule::Redact))
                .build()
                .has_age_gate()
        );
        assert!(
            Rules::builder()
                .route("/wine", gated.clone())
                .build()
                .has_age_gate()
        );
        assert!(
            Rules::builder()
                .default_policy(gated)
                .build()
                .has_age_gate()
        );
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
        // Neither router takes `//shop/wine` for `/shop/wine` (an empty first segment).
        for route in [
            "//shop/wine",
            "/shop/wine/",
            "/shop",
            "/shop/wine/x",
            "/users/7",
            "/",
            "",
        ] {
            assert!(r.route(route).age.is_none(), "{route}");
        }
    }
}
