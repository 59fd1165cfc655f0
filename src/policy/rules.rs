//! The per-request rules, in one place: the age gate, then — for users who verified with
//! 网号/网证 — no extra plaintext identity data (Art. 7 §2) unless a consent or a law covers it.
//!
//! Adapters hand over the facts of a request ([`RequestFacts`]) and get back either the go-ahead
//! (possibly with a redacted body) or a [`Problem`] to send.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;

use super::detector::{Detector, Finding, Scan};
use super::{AgeGate, ConsentLedger, InMemoryConsentLedger, Problem, VerifiedUser};
use crate::client::LegalBasis;
use crate::error::ErrorCode;
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
}

impl Default for RoutePolicy {
    fn default() -> Self {
        Self {
            plaintext: PlaintextRule::Reject,
            age: None,
            opaque_types: Vec::new(),
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

/// All routes' rules, with the detector and the consent ledger they need. Cheap to clone.
#[derive(Clone)]
pub struct Rules {
    inner: Arc<RulesInner>,
}

struct RulesInner {
    default: RoutePolicy,
    routes: HashMap<String, RoutePolicy>,
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
    routes: HashMap<String, RoutePolicy>,
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
            routes: HashMap::new(),
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

    /// The declared route pattern a request path falls under (`/users/{id}` for `/users/7`),
    /// for frameworks whose middleware runs before routing. Exact patterns win over ones with
    /// parameters; an unmatched path is returned as is (and gets the default policy).
    pub fn match_route<'a>(&'a self, path: &'a str) -> &'a str {
        if self.inner.routes.contains_key(path) {
            return path;
        }
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.inner
            .routes
            .keys()
            .find(|pattern| {
                let p: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
                p.len() == segments.len()
                    && p.iter().zip(&segments).all(|(p, s)| {
                        (p.starts_with('{') && p.ends_with('}') && !s.is_empty()) || p == s
                    })
            })
            .map_or(path, String::as_str)
    }

    /// The policy of `route`.
    pub fn route(&self, route: &str) -> &RoutePolicy {
        self.inner.routes.get(route).unwrap_or(&self.inner.default)
    }

    /// Applies the rules to one request.
    pub async fn check(&self, req: RequestFacts<'_>) -> Result<Verdict, Problem> {
        let policy = self.route(req.route);
        if let Some(gate) = &policy.age {
            let user = req
                .user
                .ok_or_else(|| Problem::unauthenticated("sign in to use this service"))?;
            gate.check(user)?;
        }
        let Some(user) = req.user.filter(|u| u.is_netid()) else {
            return Ok(Verdict::Pass);
        };
        if req.body.len() > self.inner.max_body {
            return Err(too_large());
        }
        let mut findings: Vec<Finding> = Vec::new();
        if let Some(q) = req.query.filter(|q| !q.is_empty()) {
            findings.extend(
                self.inner
                    .detector
                    .scan_query(q)
                    .map_err(scan_problem)?
                    .findings,
            );
        }
        // Remembered for the redact rule: a query string cannot be redacted in place.
        let query_blocks = findings.iter().any(Finding::is_blocking);
        let body_kind = classify(&req, policy)?;
        let body_scan = match body_kind {
            BodyKind::Empty | BodyKind::Opaque => Scan::default(),
            BodyKind::Json => self
                .inner
                .detector
                .scan_json(req.body)
                .map_err(scan_problem)?,
            BodyKind::Form => self
                .inner
                .detector
                .scan_form(req.body)
                .map_err(scan_problem)?,
            BodyKind::Text => {
                let text = std::str::from_utf8(req.body).map_err(|_| invalid_utf8())?;
                self.inner.detector.scan_text(None, text)
            }
            BodyKind::Multipart(ref boundary) => {
                scan_multipart(&self.inner.detector, req.body, boundary)?
            }
        };
        findings.extend(body_scan.findings);
        let blocking: Vec<&Finding> = findings.iter().filter(|f| f.is_blocking()).collect();
        if blocking.is_empty() {
            return Ok(Verdict::Pass);
        }
        let needed: FieldSet = blocking.iter().map(|f| f.field).collect();
        match &policy.plaintext {
            PlaintextRule::Reject => Err(extra_plaintext(
                &blocking,
                "this service does not take plaintext identity data from users verified with 网号/网证",
            )),
            PlaintextRule::AllowUnderLaw(basis) if needed.is_subset(&basis.permits()) => {
                Ok(Verdict::Pass)
            }
            PlaintextRule::AllowUnderLaw(_) => Err(extra_plaintext(
                &blocking,
                "the route's legal basis does not cover these fields",
            )),
            PlaintextRule::AllowWithConsent { purpose } => {
                for field in needed.iter() {
                    let live = self
                        .inner
                        .consents
                        .live_consent(user.subject(), field, purpose)
                        .await
                        .map_err(|_| {
                            Problem::unavailable("the consent ledger is unreachable; retry")
                        })?;
                    if live.is_none() {
                        return Err(extra_plaintext(
                            &blocking,
                            "no live consent covers these fields for this purpose",
                        ));
                    }
                }
                Ok(Verdict::Pass)
            }
            PlaintextRule::Redact => {
                let body = match body_kind {
                    BodyKind::Json => {
                        self.inner
                            .detector
                            .redact_json(req.body)
                            .map_err(scan_problem)?
                            .0
                    }
                    BodyKind::Form => {
                        self.inner
                            .detector
                            .redact_form(req.body)
                            .map_err(scan_problem)?
                            .0
                    }
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
                Ok(Verdict::Replace(body))
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

    /// The policy of one route pattern, exactly as the router declares it (`/users/{id}`).
    pub fn route(mut self, pattern: impl Into<String>, policy: RoutePolicy) -> Self {
        self.routes.insert(pattern.into(), policy);
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

    /// Builds the rules.
    pub fn build(self) -> Rules {
        Rules {
            inner: Arc::new(RulesInner {
                default: self.default,
                routes: self.routes,
                detector: self.detector,
                consents: self
                    .consents
                    .unwrap_or_else(|| Arc::new(InMemoryConsentLedger::default())),
                max_body: self.max_body,
            }),
        }
    }
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

fn scan_multipart(detector: &Detector, body: &[u8], boundary: &str) -> Result<Scan, Problem> {
    let invalid = || {
        Problem::new(
            400,
            "netid.invalid_multipart",
            "Invalid multipart body",
            "the multipart body is malformed",
        )
    };
    let parts = multipart_text_parts(body, boundary).ok_or_else(invalid)?;
    let mut texts = Vec::with_capacity(parts.len());
    for (name, text) in parts {
        let text = std::str::from_utf8(text).map_err(|_| invalid_utf8())?;
        texts.push((name.unwrap_or_default(), text));
    }
    // All parts together, so "a name beside an ID field" works across parts.
    Ok(detector.scan_fields(texts.iter().map(|(n, t)| (n.as_str(), *t))))
}

/// The text parts (no `filename`, text or no content type) of a multipart body, with their
/// names. Bounded by the body; `None` when the structure is broken.
fn multipart_text_parts<'a>(
    body: &'a [u8],
    boundary: &str,
) -> Option<Vec<(Option<String>, &'a [u8])>> {
    let delimiter = format!("--{boundary}");
    let d = delimiter.as_bytes();
    let mut parts = Vec::new();
    let mut rest = body;
    let start = find(rest, d)?;
    rest = &rest[start + d.len()..];
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest[..head_end]).ok()?;
        let after = &rest[head_end + 4..];
        let end = find(after, format!("\r\n{delimiter}").as_bytes())?;
        let content = &after[..end];
        rest = &after[end + 2 + d.len()..];
        let mut name = None;
        let mut is_file = false;
        let mut text_type = true;
        for line in head.split("\r\n") {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                is_file = lower.contains("filename=");
                name = line.split(';').find_map(|p| {
                    p.trim()
                        .strip_prefix("name=")
                        .map(|n| n.trim_matches('"').to_owned())
                });
            } else if let Some(ct) = lower.strip_prefix("content-type:") {
                text_type = ct.trim().starts_with("text/");
            }
        }
        if !is_file && text_type {
            parts.push((name, content));
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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

fn too_large() -> Problem {
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

fn scan_problem(e: super::detector::ScanError) -> Problem {
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
