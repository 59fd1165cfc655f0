//! Differential test of the hand-written route matcher (`Rules::match_route`, `Rules::route`,
//! `Rules::declares`) against the routers of axum 0.8 and actix-web 4 (issue 12, item 3).
//!
//! A table of routes is written once in an abstract form ([`Seg`]) and registered, in each
//! framework's own syntax, in a real axum `Router` and a real actix `App`; every handler answers
//! with the name of its route. Each path is sent to both. The answer expected of the rules always
//! comes from the frameworks' routers, never from our matcher:
//!
//! - the policy that applies to a request is the policy of the route the framework dispatched
//!   to, if a policy is declared for it; else (an undeclared route, or no route) the policy of the
//!   route the same framework dispatches to when only the declared routes are registered; else
//!   the default policy;
//! - what we compute is the gate's resolution (`Gate::route`): for axum, its `MatchedPath` if
//!   declared, else `match_route` on the raw path; for actix, `match_route` on the match path
//!   actix itself reports (`match_info().as_str()`, read in the handler);
//! - where both frameworks dispatch a path to the same route (or to none), both adapters must
//!   apply the same policy.
//!
//! actix takes the first registered route that matches: the actix app registers routes in a
//! shuffled order, then stably sorted by the rule the route pattern docs give to applications
//! (most specific first, segment by segment: static, regex parameter, parameter, catch-all that
//! needs a segment, catch-all); routes the rule does not order keep their shuffled order. axum
//! registers them in a shuffled order.
//!
//! A few cases also run end to end through `netid::axum::NetId` and `netid::actix::NetId`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use actix_web::HttpRequest;
use axum::extract::MatchedPath;
use netid::policy::{PlaintextRule, RoutePolicy, Rules};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tower::ServiceExt;

/// One segment of an abstract route.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Seg {
    /// Exactly this (decoded) text; axum writes it percent-encoded where a client encodes it.
    Lit(String),
    /// `{pN}` in both.
    Param,
    /// actix `{pN:\d+}`. axum has no regex: tables with one are not run through axum.
    Digits,
    /// The rest of the path (last segment only).
    Tail(Tail),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Tail {
    /// At least one character: axum `{*rest}`, actix `{rest:.+}`.
    Plus,
    /// Possibly empty: actix `{tail:.*}`; axum needs two routes, `…/` and `…/{*rest}`.
    Star,
    /// Possibly empty: actix `{tail}*`; in axum as [`Tail::Star`].
    StarSuffix,
}

/// How a declared route's policy is written in the rules, which both apps share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// As axum writes it (for a [`Tail::Star`], both of its axum routes).
    Axum,
    /// As actix writes it.
    Actix,
    /// Both.
    Both,
    /// Only the axum catch-all `…/{*rest}` for an actix `{tail:.*}`: the rules' catch-all needs
    /// a segment where the actix route takes the empty rest too (see the route pattern docs).
    AxumCatchAllOnly,
}

#[derive(Debug, Clone)]
struct Route {
    segs: Vec<Seg>,
    /// `None`: registered in the apps, no policy declared for it.
    declared: Option<Form>,
}

#[derive(Debug, Clone)]
struct Table {
    routes: Vec<Route>,
    /// Paths to send, as a client sends them (percent-encoded).
    paths: Vec<String>,
    /// Registration order in axum (a permutation of the route indices).
    axum_order: Vec<usize>,
    /// Registration order in actix before the stable sort by specificity.
    actix_order: Vec<usize>,
}

/// `a/{*}`-style shorthand for the hand-written cases: segments split on `/`; `:` a parameter,
/// `#` a digits parameter, `*+` `*` `*s` the tails [`Tail::Plus`], [`Tail::Star`],
/// [`Tail::StarSuffix`]; anything else a static segment. A leading `!` marks the route
/// undeclared, `~` declared in the axum form only, `^` the actix form only, `@` only the axum
/// catch-all; otherwise both forms are declared.
fn route(spec: &str) -> Route {
    let (declared, spec) = match spec.split_at(spec.chars().next().map_or(0, char::len_utf8)) {
        ("!", rest) => (None, rest),
        ("~", rest) => (Some(Form::Axum), rest),
        ("^", rest) => (Some(Form::Actix), rest),
        ("@", rest) => (Some(Form::AxumCatchAllOnly), rest),
        _ => (Some(Form::Both), spec),
    };
    let segs = if spec.is_empty() {
        Vec::new()
    } else {
        spec.split('/')
            .map(|s| match s {
                ":" => Seg::Param,
                "#" => Seg::Digits,
                "*+" => Seg::Tail(Tail::Plus),
                "*" => Seg::Tail(Tail::Star),
                "*s" => Seg::Tail(Tail::StarSuffix),
                lit => Seg::Lit(lit.to_owned()),
            })
            .collect()
    };
    Route { segs, declared }
}

/// A static segment as a client sends it and as axum (which matches the raw path) must write it.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn join(parts: &[String]) -> String {
    if parts.is_empty() {
        "/".to_owned()
    } else {
        parts.iter().map(|p| format!("/{p}")).collect()
    }
}

fn param(i: usize) -> String {
    format!("{{p{i}}}")
}

/// The static and parameter segments of a route, without its tail, in axum's syntax.
fn axum_prefix(segs: &[Seg]) -> Vec<String> {
    segs.iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Seg::Lit(t) => Some(encode(t)),
            Seg::Param | Seg::Digits => Some(param(i)),
            Seg::Tail(_) => None,
        })
        .collect()
}

fn tail_of(segs: &[Seg]) -> Option<Tail> {
    match segs.last() {
        Some(Seg::Tail(t)) => Some(*t),
        _ => None,
    }
}

/// The route's patterns in axum (two for a possibly empty tail).
fn axum_patterns(r: &Route) -> Vec<String> {
    let prefix = axum_prefix(&r.segs);
    match tail_of(&r.segs) {
        None => vec![join(&prefix)],
        Some(Tail::Plus) => vec![join(&[prefix, vec!["{*rest}".into()]].concat())],
        Some(Tail::Star | Tail::StarSuffix) => vec![
            join(&[prefix.clone(), vec![String::new()]].concat()),
            join(&[prefix, vec!["{*rest}".into()]].concat()),
        ],
    }
}

/// The route's pattern in actix.
fn actix_pattern(r: &Route) -> String {
    let parts: Vec<String> = r
        .segs
        .iter()
        .enumerate()
        .map(|(i, s)| match s {
            Seg::Lit(t) => t.clone(),
            Seg::Param => param(i),
            Seg::Digits => format!("{{p{i}:\\d+}}"),
            Seg::Tail(Tail::Plus) => "{rest:.+}".into(),
            Seg::Tail(Tail::Star) => "{tail:.*}".into(),
            Seg::Tail(Tail::StarSuffix) => "{tail}*".into(),
        })
        .collect();
    join(&parts)
}

/// The patterns the rules declare for a route (axum has no form for a regex parameter).
fn rule_patterns(r: &Route) -> Vec<String> {
    if r.declared.is_some() && r.segs.contains(&Seg::Digits) {
        return vec![actix_pattern(r)];
    }
    // A static segment a client percent-encodes is written differently for each router: the
    // docs say to declare both forms where one rules table serves both.
    let encoded = r
        .segs
        .iter()
        .any(|s| matches!(s, Seg::Lit(t) if encode(t) != *t));
    if encoded && matches!(r.declared, Some(Form::Axum | Form::Actix)) {
        return rule_patterns(&Route {
            segs: r.segs.clone(),
            declared: Some(Form::Both),
        });
    }
    match r.declared {
        None => Vec::new(),
        Some(Form::Axum) => axum_patterns(r),
        Some(Form::Actix) => vec![actix_pattern(r)],
        Some(Form::Both) => {
            let mut v = axum_patterns(r);
            v.push(actix_pattern(r));
            v
        }
        Some(Form::AxumCatchAllOnly) => axum_patterns(r).split_off(axum_patterns(r).len() - 1),
    }
}

/// Route `i`'s policy: its own opaque type and a plaintext rule looser than the default's, so
/// that a policy is known by its route, and policies applied together (which keep only what
/// they share) are seen as such.
fn policy_of(i: usize) -> RoutePolicy {
    RoutePolicy::plaintext(PlaintextRule::Redact).with_opaque_type(format!("route/{i}"))
}

/// Which route's policy `policy` is: `r3`; `meet` for several routes' together; `default` for
/// the default policy, alone or with a route's.
fn policy_name(policy: &RoutePolicy) -> String {
    match policy
        .opaque_types
        .iter()
        .find_map(|t| t.strip_prefix("route/"))
    {
        Some(i) => format!("r{i}"),
        None if policy.plaintext == PlaintextRule::Redact => "meet".to_owned(),
        None => "default".to_owned(),
    }
}

/// How much a policy lets through: a route's, several routes' together, the default.
fn looseness(name: &str) -> u8 {
    match name {
        "default" => 0,
        "meet" => 1,
        _ => 2,
    }
}

/// Whether the rules may answer more strictly than the router here, because the two routers
/// read the path differently or an actix regex decides: an empty segment (an empty parameter
/// in axum, the empty rest of a catch-all), or a regex parameter in the table.
fn may_fail_closed(t: &Table, path: &str) -> bool {
    path[1..].split('/').any(str::is_empty)
        || t.routes.iter().any(|r| r.segs.contains(&Seg::Digits))
}

/// The rules' answer is the router's, or, where [`may_fail_closed`], stricter.
fn acceptable(t: &Table, path: &str, want: &str, got: &str) -> bool {
    want == got || (may_fail_closed(t, path) && looseness(got) < looseness(want))
}

fn rules_of(t: &Table) -> Rules {
    let mut b = Rules::builder();
    for (i, r) in t.routes.iter().enumerate() {
        for p in rule_patterns(r) {
            b = b.route(p, policy_of(i));
        }
    }
    b.try_build()
        .expect("the generated patterns are understood")
}

/// Specificity rank of a segment in the registration rule the docs give for actix.
fn actix_rank(s: &Seg) -> u8 {
    match s {
        Seg::Lit(_) => 0,
        Seg::Digits => 1,
        Seg::Param => 2,
        Seg::Tail(Tail::Plus) => 3,
        Seg::Tail(_) => 4,
    }
}

fn actix_order(t: &Table) -> Vec<usize> {
    let mut order = t.actix_order.clone();
    order.sort_by_key(|&i| {
        let mut key: Vec<u8> = t.routes[i].segs.iter().map(actix_rank).collect();
        key.push(u8::MAX);
        key
    });
    order
}

/// What a framework did with a path: the route (`r3`) or `none` (404), and for axum the
/// matched pattern, for actix the match path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Dispatch {
    route: String,
    detail: Option<String>,
}

fn parse_answer(status: u16, body: &[u8]) -> Dispatch {
    let text = String::from_utf8_lossy(body);
    let (route, detail) = text.split_once('\n').unwrap_or((&text, ""));
    if status == 404 {
        assert_eq!(route, "none", "only the fallback answers 404");
    } else {
        assert_eq!(status, 200, "{text}");
    }
    Dispatch {
        route: route.to_owned(),
        detail: Some(detail.to_owned()).filter(|d| !d.is_empty()),
    }
}

/// Whether axum (matchit 0.8) refuses two of the table's routes together: from the left, the
/// same statics and parameters, then a parameter and a catch-all (or two catch-alls) in the same
/// place — matchit allows one wildcard per place — or the same route twice. Such a table is run
/// through actix only.
fn axum_refuses(t: &Table) -> bool {
    let patterns: Vec<Vec<String>> = t
        .routes
        .iter()
        .flat_map(axum_patterns)
        .map(|p| p.split('/').map(str::to_owned).collect())
        .collect();
    let wild = |s: &str| s.starts_with('{') && !s.starts_with("{{");
    let conflict = |a: &[String], b: &[String]| {
        for i in 0.. {
            match (a.get(i), b.get(i)) {
                (None, None) => return true,
                (Some(x), Some(y)) if wild(x) && wild(y) => {
                    if x.starts_with("{*") || y.starts_with("{*") {
                        return true;
                    }
                }
                (Some(x), Some(y)) if x == y => {}
                _ => return false,
            }
        }
        false
    };
    patterns
        .iter()
        .enumerate()
        .any(|(i, a)| patterns[..i].iter().any(|b| conflict(a, b)))
}

/// The axum app with the routes `which` selects.
fn axum_app(t: &Table, which: impl Fn(&Route) -> bool) -> axum::Router {
    let mut app = axum::Router::new();
    for &i in &t.axum_order {
        let r = &t.routes[i];
        if !which(r) {
            continue;
        }
        for pattern in axum_patterns(r) {
            let name = format!("r{i}");
            let handler = move |m: MatchedPath| async move { format!("{name}\n{}", m.as_str()) };
            app = app.route(&pattern, axum::routing::get(handler));
        }
    }
    app.fallback(|| async { (axum::http::StatusCode::NOT_FOUND, "none") })
}

async fn axum_dispatch(app: &axum::Router, path: &str) -> Dispatch {
    let req = axum::http::Request::get(path)
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(req.uri().path(), path, "the path is sent as written");
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
        .await
        .unwrap();
    parse_answer(status, &body)
}

async fn actix_dispatch(t: &Table, declared_only: bool, paths: &[String]) -> Vec<Dispatch> {
    use actix_web::{App, HttpResponse, test, web};
    let mut app = App::new();
    let mut seen = BTreeSet::new();
    for i in actix_order(t) {
        let r = &t.routes[i];
        if declared_only && r.declared.is_none() {
            continue;
        }
        let pattern = actix_pattern(r);
        assert!(seen.insert(pattern.clone()), "{pattern} twice");
        let name = format!("r{i}");
        app = app.route(
            &pattern,
            web::get().to(move |req: HttpRequest| {
                let body = format!("{name}\n{}", req.match_info().as_str());
                async move { HttpResponse::Ok().body(body) }
            }),
        );
    }
    let app = test::init_service(app.default_service(web::to(|req: HttpRequest| {
        let body = format!("none\n{}", req.match_info().as_str());
        async move { HttpResponse::NotFound().body(body) }
    })))
    .await;
    let mut out = Vec::new();
    for path in paths {
        let req = test::TestRequest::get().uri(path).to_request();
        assert_eq!(req.path(), path, "the path is sent as written");
        let resp = test::call_service(&app, req).await;
        let status = resp.status().as_u16();
        let body = test::read_body(resp).await;
        out.push(parse_answer(status, &body));
    }
    out
}

fn is_declared(t: &Table, route: &str) -> bool {
    route
        .strip_prefix('r')
        .and_then(|i| i.parse::<usize>().ok())
        .is_some_and(|i| t.routes[i].declared.is_some())
}

/// The policy the frameworks say applies: the dispatched route's if declared, else the route
/// dispatched to among declared routes only, else the default.
fn expected(t: &Table, full: &Dispatch, declared_only: &Dispatch) -> String {
    if is_declared(t, &full.route) {
        full.route.clone()
    } else if declared_only.route == "none" {
        "default".to_owned()
    } else {
        declared_only.route.clone()
    }
}

/// Every disagreement for one table (empty when the rules agree with both frameworks), and how
/// many answers were stricter than the router's.
async fn differences(t: &Table) -> (Vec<String>, usize) {
    let rules = rules_of(t);
    let mut out = Vec::new();
    let mut stricter = 0;
    let tables = || -> String {
        t.routes
            .iter()
            .map(|r| {
                let mark = match r.declared {
                    None => "undeclared",
                    Some(Form::Axum) => "declared (axum form)",
                    Some(Form::Actix) => "declared (actix form)",
                    Some(Form::Both) => "declared",
                    Some(Form::AxumCatchAllOnly) => "declared (axum catch-all only)",
                };
                format!(
                    "axum {:?} / actix {} {mark}; rules {:?}",
                    axum_patterns(r),
                    actix_pattern(r),
                    rule_patterns(r)
                )
            })
            .enumerate()
            .map(|(i, s)| format!("\n    r{i}: {s}"))
            .collect()
    };

    // actix.
    let full = actix_dispatch(t, false, &t.paths).await;
    let declared = actix_dispatch(t, true, &t.paths).await;
    let mut actix_policies = Vec::new();
    for ((path, full), declared) in t.paths.iter().zip(&full).zip(&declared) {
        let match_path = full.detail.clone().unwrap_or_default();
        assert_eq!(declared.detail.as_deref(), Some(match_path.as_str()));
        let want = expected(t, full, declared);
        let got = policy_name(&rules.route_policy(None, &match_path));
        if got != want {
            stricter += 1;
        }
        if !acceptable(t, &match_path, &want, &got) {
            out.push(format!(
                "actix {path:?} (match path {match_path:?}): dispatched to {}, among declared to {}; expected {want}, the gate gives {got} (match_route {:?})",
                full.route,
                declared.route,
                rules.match_route(&match_path)
            ));
        }
        actix_policies.push(got);
    }

    // axum (it has no regex parameters).
    if !through_axum(t) {
        return (with_table(out, tables), stricter);
    }
    let full_app = axum_app(t, |_| true);
    let declared_app = axum_app(t, |r| r.declared.is_some());
    for (i, path) in t.paths.iter().enumerate() {
        let a_full = axum_dispatch(&full_app, path).await;
        let a_declared = axum_dispatch(&declared_app, path).await;
        let want = expected(t, &a_full, &a_declared);
        // What the gate applies: the matched route's policy if declared, else the path's.
        let got = policy_name(&rules.route_policy(a_full.detail.as_deref(), path));
        if got != want {
            stricter += 1;
        }
        if !acceptable(t, path, &want, &got) {
            out.push(format!(
                "axum {path:?}: dispatched to {} ({:?}), among declared to {}; expected {want}, the gate gives {got} (match_route {:?})",
                a_full.route,
                a_full.detail,
                a_declared.route,
                rules.match_route(path)
            ));
        }
        // The same route on both frameworks, for the same path: the same policy on both.
        // (Where the rules may fail closed, each is held to its own router above instead.)
        let same_path = full[i].detail.as_deref() == Some(path.as_str());
        if a_full.route == full[i].route
            && same_path
            && !may_fail_closed(t, path)
            && got != actix_policies[i]
        {
            out.push(format!(
                "{path:?}: both frameworks dispatch to {}, axum's gate gives {got}, actix's {}",
                a_full.route, actix_policies[i]
            ));
        }
    }
    (with_table(out, tables), stricter)
}

/// Whether the table runs through axum too: no regex parameter, no conflict.
fn through_axum(t: &Table) -> bool {
    !t.routes.iter().any(|r| r.segs.contains(&Seg::Digits)) && !axum_refuses(t)
}

fn with_table(mut out: Vec<String>, table: impl Fn() -> String) -> Vec<String> {
    if !out.is_empty() {
        out.insert(0, format!("table:{}", table()));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Generated tables.

const STATICS: &[&str] = &[
    "a", "b", "s", "files", "me.json", ".", "café", "x%2Fy", "%25", "",
];

/// Path segments as a client sends them.
const PATH_SEGMENTS: &[&str] = &[
    "a",
    "b",
    "s",
    "files",
    "me.json",
    ".",
    "..",
    "7",
    "42",
    "x",
    "",
    "%73",
    "%61",
    "fil%65s",
    "me%2Ejson",
    "%2e",
    "%2F",
    "%2f",
    "x%2Fy",
    "%25",
    "%2525",
    "caf%C3%A9",
    "%E2%9C%93",
    "%ff",
    "%",
];

fn seg_strategy() -> impl Strategy<Value = Seg> {
    prop_oneof![
        4 => prop::sample::select(STATICS).prop_map(|s| Seg::Lit(s.to_owned())),
        3 => Just(Seg::Param),
        1 => Just(Seg::Digits),
    ]
}

fn tail_strategy() -> impl Strategy<Value = Option<Tail>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(Tail::Plus)),
        1 => Just(Some(Tail::Star)),
        1 => Just(Some(Tail::StarSuffix)),
    ]
}

fn form_strategy() -> impl Strategy<Value = Option<Form>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some(Form::Axum)),
        1 => Just(Some(Form::Actix)),
        1 => Just(Some(Form::Both)),
    ]
}

fn route_strategy() -> impl Strategy<Value = Route> {
    (
        prop::collection::vec(seg_strategy(), 0..=3),
        tail_strategy(),
        form_strategy(),
    )
        .prop_map(|(mut segs, tail, declared)| {
            segs.extend(tail.map(Seg::Tail));
            Route { segs, declared }
        })
}

/// A path under `r`, as a client would send it, with an occasional twist.
fn path_strategy(r: &Route) -> BoxedStrategy<String> {
    let pick = || prop::sample::select(PATH_SEGMENTS).prop_map(str::to_owned);
    let parts: Vec<BoxedStrategy<Vec<String>>> = r
        .segs
        .iter()
        .map(|s| match s {
            Seg::Lit(t) => {
                let t = encode(t);
                prop_oneof![4 => Just(vec![t]), 1 => pick().prop_map(|p| vec![p])].boxed()
            }
            Seg::Param | Seg::Digits => pick().prop_map(|p| vec![p]).boxed(),
            Seg::Tail(_) => prop::collection::vec(pick(), 0..=3).boxed(),
        })
        .collect();
    (parts, 0..6u8, pick())
        .prop_map(|(parts, twist, extra)| {
            let parts: Vec<String> = parts.concat();
            let mut path = join(&parts);
            match twist {
                0 => path.push('/'),
                1 => path = format!("/{path}"),
                2 => {
                    path.push('/');
                    path.push_str(&extra);
                }
                3 => {
                    path.pop();
                }
                _ => {}
            }
            if !path.starts_with('/') {
                path.insert(0, '/');
            }
            path
        })
        .boxed()
}

fn noise_path() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(PATH_SEGMENTS), 0..=4),
        any::<bool>(),
    )
        .prop_map(|(parts, slash)| {
            let mut p = join(&parts.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
            if slash && p != "/" {
                p.push('/');
            }
            p
        })
}

/// Routes whose patterns collide in either framework are dropped (a duplicate, two parameters
/// of the same shape, an axum conflict are the application's to fix, not the rules').
fn dedup(routes: Vec<Route>) -> Vec<Route> {
    let mut out: Vec<Route> = Vec::new();
    let mut seen = BTreeSet::new();
    for r in routes {
        // axum has no regex: a table with a digits parameter is run through actix only.
        let mut keys: Vec<String> = if r.segs.contains(&Seg::Digits) {
            Vec::new()
        } else {
            axum_patterns(&r)
        };
        keys.push(format!("actix {}", actix_pattern(&r)));
        let shape: Vec<Seg> = r
            .segs
            .iter()
            .map(|s| match s {
                Seg::Tail(_) => Seg::Tail(Tail::Star),
                other => other.clone(),
            })
            .collect();
        keys.push(format!("shape {shape:?}"));
        if keys.iter().any(|k| seen.contains(k)) {
            continue;
        }
        seen.extend(keys);
        out.push(r);
    }
    out
}

fn table_strategy() -> impl Strategy<Value = Table> {
    prop::collection::vec(route_strategy(), 1..=6)
        .prop_map(dedup)
        .prop_flat_map(|routes| {
            let n = routes.len();
            let derived: Vec<BoxedStrategy<String>> = routes.iter().map(path_strategy).collect();
            let order: Vec<usize> = (0..n).collect();
            (
                Just(routes),
                prop::collection::vec(derived, 1..=3),
                prop::collection::vec(noise_path(), 0..=4),
                Just(order.clone()).prop_shuffle(),
                Just(order).prop_shuffle(),
            )
        })
        .prop_map(|(routes, derived, noise, axum_order, actix_order)| {
            let mut paths: Vec<String> = derived.concat();
            paths.extend(noise);
            paths.sort();
            paths.dedup();
            Table {
                routes,
                paths,
                axum_order,
                actix_order,
            }
        })
}

/// Cases per run: enough to meet every shape many times, and well under a minute in debug.
const CASES: u32 = 384;

#[test]
fn the_rules_pick_the_route_both_frameworks_pick() {
    let system = actix_web::rt::System::new();
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let paths = std::cell::Cell::new(0usize);
    let both = std::cell::Cell::new(0usize);
    let stricter = std::cell::Cell::new(0usize);
    let result = runner.run(&table_strategy(), |t| {
        paths.set(paths.get() + t.paths.len());
        both.set(both.get() + usize::from(through_axum(&t)));
        let (diffs, n) = system.block_on(differences(&t));
        stricter.set(stricter.get() + n);
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(TestCaseError::fail(diffs.join("\n  ")))
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!(
        "routes: {CASES} generated tables ({} also through axum), {} paths, {} answers stricter than the router's",
        both.get(),
        paths.get(),
        stricter.get()
    );
}

// ---------------------------------------------------------------------------------------------
// Hand-written cases.

/// (routes, paths): a table in the shorthand of [`route`], and the paths to send.
type Case = (&'static [&'static str], &'static [&'static str]);

const CASES_BY_HAND: &[Case] = &[
    // Static beats parameter beats catch-all; an undeclared static route inside a declared
    // catch-all takes the catch-all's policy.
    (
        &["files/*+", "!files/readme", "files/public", ":/x"],
        &[
            "/files/readme",
            "/files/public",
            "/files/x",
            "/files/a/b",
            "/a/x",
            "/files/",
            "/files",
        ],
    ),
    // The actix tails take the empty rest; axum needs `…/` beside `…/{*rest}` for it.
    (
        &["files/*", "!files/readme"],
        &[
            "/files/",
            "/files",
            "/files/readme",
            "/files//",
            "/files/a/b/",
        ],
    ),
    (
        &["files/*s", "!files/x"],
        &["/files/", "/files/x", "/files/x/y"],
    ),
    // Empty segments, trailing slashes, dots.
    (
        &["a/:", "a/:/b", "a//b", "!a/:/", "./.."],
        &[
            "/a//b", "/a/x/b", "/a/x/", "/a//", "/a/.", "/./..", "/a/../b",
        ],
    ),
    // Percent-encoded: actix decodes all but `%2F`, `%25`, `+`; axum matches the raw path.
    (
        &["s/*", "!:/*+", "a/x%2Fy", "%25"],
        &[
            "/%73/a",
            "/s/a",
            "/a/x%2Fy",
            "/a/x%2fy",
            "/a/x/y",
            "/%25",
            "/%2525",
            "/a/x%252Fy",
        ],
    ),
    (
        &["café", "!café/:", "*+"],
        &[
            "/caf%C3%A9",
            "/caf%c3%a9",
            "/caf%C3%A9/x",
            "/cafe",
            "/%ff",
            "/%E2%9C%93",
        ],
    ),
    // Parameters from the left decide before later statics.
    (
        &["a/:/c", ":/b/c", "!a/b/:"],
        &["/a/b/c", "/x/b/c", "/a/x/c", "/a/b/x"],
    ),
    // Catch-alls nested in catch-alls.
    (
        &["*", "a/*+", "!a/b/*", "a/b/c"],
        &[
            "/", "/a", "/a/", "/a/b", "/a/b/", "/a/b/c", "/a/b/c/d", "/b/c",
        ],
    ),
    // Found here: `//files/a` fell under `/files/{*rest}` (leading slashes were all trimmed).
    (&["files/*+", "!*+"], &["//files/a", "//", "//files/"]),
    // Found here: axum's `{p1}` takes the empty segment in `/a//b`, actix's does not (fail closed).
    (&["a/:/b"], &["/a//b", "/a/x/b"]),
    // Found here: a regex parameter must rank before a plain one, as actix is given them.
    (&["#/:/*s", ":/:/%25"], &["/7/a/%25", "/x/a/%25", "/7/a/"]),
    // The rules' `{*rest}` for an actix `{tail:.*}`: `/files/` fails closed.
    (
        &["@files/*", "!files/readme"],
        &["/files/", "/files/readme", "/files/a"],
    ),
];

#[test]
fn hand_written_cases_agree_with_both_frameworks() {
    let system = actix_web::rt::System::new();
    let mut failures = Vec::new();
    for (routes, paths) in CASES_BY_HAND {
        let routes: Vec<Route> = routes.iter().map(|s| route(s)).collect();
        let n = routes.len();
        for reversed in [false, true] {
            let mut order: Vec<usize> = (0..n).collect();
            if reversed {
                order.reverse();
            }
            let t = Table {
                routes: routes.clone(),
                paths: paths.iter().map(|p| (*p).to_owned()).collect(),
                axum_order: order.clone(),
                actix_order: order,
            };
            assert!(
                through_axum(&t) || t.routes.iter().any(|r| r.segs.contains(&Seg::Digits)),
                "{t:?} is meant for axum too"
            );
            failures.extend(system.block_on(differences(&t)).0);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// End to end, through both adapters.

/// An age-gated catch-all declared in each form, with undeclared routes registered inside it:
/// a 16-year-old is refused on every one of them, on both adapters, and an adult is let in.
#[tokio::test(flavor = "multi_thread")]
async fn an_undeclared_route_inside_a_gated_catch_all_is_gated_on_both_adapters() {
    use crate::scenarios::{session_for, world};
    use netid::policy::AgeGate;
    use netid::sandbox::Persona;

    let w = world().await;
    let gated = || RoutePolicy::default().with_age_gate(AgeGate::adults_only());
    let rules = Rules::builder()
        // axum's form, which the actix app registers as `{tail:.*}` (it takes the empty rest).
        .route("/files/{*path}", gated())
        .route("/files/public", RoutePolicy::default())
        .route("/archive/{tail:.*}", gated())
        .route("/blobs/{tail}*", gated())
        .route("/media/{rest:.+}", gated())
        .try_build()
        .unwrap();
    let minor = session_for(&w, Persona::Minor16).await;
    let adult = session_for(&w, Persona::Adult).await;
    // (path, the minor's status, the adult's status)
    let cases: &[(&str, u16, u16)] = &[
        ("/files/readme", 403, 200),
        ("/files/%72eadme", 403, 200),
        ("/files/2024/report.pdf", 403, 200),
        // axum: no route (404) after the gate passes it as the catch-all's and the default
        // together; actix: the catch-all route, gated.
        ("/files/", 403, 0),
        ("/files/public", 200, 200),
        ("/archive/readme", 403, 200),
        ("/archive/", 403, 200),
        ("/blobs/readme", 403, 200),
        ("/media/readme", 403, 200),
        ("/media/a/b", 403, 200),
    ];

    // axum: undeclared static routes beside the catch-alls.
    let netid = netid::axum::NetId::new(w.login.clone(), rules.clone());
    let ok = || axum::routing::get(|| async { "ok" });
    let app = axum::Router::new()
        .route("/files/{*path}", ok())
        .route("/files/public", ok())
        .route("/files/readme", ok())
        .route("/archive/", ok())
        .route("/archive/{*rest}", ok())
        .route("/archive/readme", ok())
        .route("/blobs/", ok())
        .route("/blobs/{*rest}", ok())
        .route("/blobs/readme", ok())
        .route("/media/{*rest}", ok())
        .route("/media/readme", ok())
        .layer(netid.layer());
    let send = |session: String, path: &'static str| {
        let app = app.clone();
        async move {
            let req = axum::http::Request::get(path)
                .header("cookie", format!("netid_session={session}"))
                .body(axum::body::Body::empty())
                .unwrap();
            app.oneshot(req).await.unwrap().status().as_u16()
        }
    };
    let mut axum_answers = Vec::new();
    for (path, _, _) in cases {
        axum_answers.push((
            send(minor.clone(), path).await,
            send(adult.clone(), path).await,
        ));
    }

    // actix: the same, in actix's forms, specific routes first.
    let (login, minor2, adult2) = (w.login.clone(), minor.clone(), adult.clone());
    let actix_answers = tokio::task::spawn_blocking(move || {
        actix_web::rt::System::new().block_on(async move {
            use actix_web::{App, test, web};
            let netid = netid::actix::NetId::new(login, rules);
            let ok = || web::get().to(|| async { "ok" });
            let app = test::init_service(
                App::new()
                    .route("/files/public", ok())
                    .route("/files/readme", ok())
                    .route("/files/{tail:.*}", ok())
                    .route("/archive/readme", ok())
                    .route("/archive/{tail:.*}", ok())
                    .route("/blobs/readme", ok())
                    .route("/blobs/{tail}*", ok())
                    .route("/media/readme", ok())
                    .route("/media/{rest:.+}", ok())
                    .wrap(netid.middleware()),
            )
            .await;
            let mut out = Vec::new();
            for (path, _, _) in cases {
                let mut statuses = [0u16; 2];
                for (k, session) in [&minor2, &adult2].into_iter().enumerate() {
                    let req = test::TestRequest::get()
                        .uri(path)
                        .insert_header(("cookie", format!("netid_session={session}")))
                        .to_request();
                    statuses[k] = test::call_service(&app, req).await.status().as_u16();
                }
                out.push((statuses[0], statuses[1]));
            }
            out
        })
    })
    .await
    .unwrap();

    for (i, (path, minor_status, adult_status)) in cases.iter().enumerate() {
        let (ax, ac) = (axum_answers[i], actix_answers[i]);
        assert_eq!(ax.0, *minor_status, "axum, 16-year-old, {path}");
        assert_eq!(ac.0, *minor_status, "actix, 16-year-old, {path}");
        if *adult_status != 0 {
            assert_eq!(ax.1, *adult_status, "axum, adult, {path}");
            assert_eq!(ac.1, *adult_status, "actix, adult, {path}");
        }
    }
    // `/files/` is no route in axum (its catch-all needs a segment); in actix it is the
    // catch-all's, and the adult gets in.
    let files = cases.iter().position(|c| c.0 == "/files/").unwrap();
    assert_eq!((axum_answers[files].1, actix_answers[files].1), (404, 200));
}
