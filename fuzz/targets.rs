//! The fuzz targets' bodies, shared by the libFuzzer binaries in `fuzz/fuzz_targets/` and by the
//! corpus replay in `tests/integration/fuzz_corpus.rs` (both include this file with `#[path]`),
//! so an input that once crashed a target is replayed by every `cargo test`.
//!
//! Each function takes the raw fuzz input and panics only when netid breaks a property: a panic
//! inside netid, or one of the assertions below.
#![allow(dead_code)]

use std::sync::OnceLock;

use netid::detect::{Detector, REDACTED, ScanError};

/// Refusals are bounded whatever the request (issue 11, item 4): at most
/// `MAX_LISTED_LOCATIONS` places of at most 128 bytes each, the titles and the details. 8 KiB
/// is several times what that comes to.
const MAX_REFUSAL_JSON: usize = 8 * 1024;

fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(Detector::new)
}

/// `json`: `scan_json` and `redact_json` never panic and agree; they read all JSON that
/// `serde_json` reads (but too deep a nesting); a redacted body that was valid JSON is still
/// valid JSON, and what it holds under identity fields is only `"[redacted]"`. No location
/// echoes digits of the input.
pub(crate) fn json(data: &[u8]) {
    let d = detector();
    let scan = d.scan_json(data);
    let redacted = d.redact_json(data);
    match (&scan, &redacted) {
        (Ok(scan), Ok((body, again))) => {
            assert_eq!(scan, again, "scan_json and redact_json disagree");
            no_echo(scan, data);
            if serde_json::from_slice::<serde_json::Value>(data).is_ok() {
                assert!(
                    serde_json::from_slice::<serde_json::Value>(body).is_ok(),
                    "redact_json turned valid JSON into invalid JSON"
                );
            }
            if scan.findings.is_empty() {
                assert_eq!(body.as_slice(), data, "a clean body was changed");
            }
            // A redacted body scans clean: nothing left that blocks.
            match d.scan_json(body) {
                Ok(rescan) => assert!(
                    !rescan.should_block(),
                    "the redacted body still blocks: {:?}",
                    rescan.findings
                ),
                Err(e) => panic!("the redacted body no longer scans: {e}"),
            }
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string());
            // What `serde_json` (axum's and actix's `Json`) reads, the scanner reads too, unless
            // it nests too deep: refusing it would refuse a 网证 user a request that another
            // user may send (Art. 7 §3).
            if serde_json::from_slice::<serde_json::Value>(data).is_ok() {
                assert!(
                    matches!(a, ScanError::JsonTooDeep { .. }),
                    "valid JSON refused: {a}"
                );
            }
        }
        _ => panic!("scan_json and redact_json disagree on whether the body is well-formed"),
    }
}

/// `form`: `scan_form`, `redact_form`, `scan_query` and `redact_query` never panic and agree; a
/// redaction keeps every field, in order, and its name unless the name is identity data, as `form_urlencoded` (what `serde_urlencoded`,
/// axum's `Form` and actix's `web::Form` use) reads them.
pub(crate) fn form(data: &[u8]) {
    let d = detector();
    let scan = d.scan_form(data);
    let redacted = d.redact_form(data);
    match (&scan, &redacted) {
        (Ok(scan), Ok((body, again))) => {
            assert_eq!(scan, again, "scan_form and redact_form disagree");
            no_echo(scan, data);
            let names = |b: &[u8]| -> Vec<String> {
                url::form_urlencoded::parse(b)
                    .map(|(k, _)| k.into_owned())
                    .collect()
            };
            // Every field is still there, under its own name, or under `[redacted]` where the
            // name itself was identity data (a bare `11010519491231002X` is a name).
            let (before, after) = (names(data), names(body));
            assert_eq!(before.len(), after.len(), "redaction changed the fields");
            for (b, a) in before.iter().zip(&after) {
                assert!(a == b || a == REDACTED, "redaction changed a field name");
            }
            if scan.findings.is_empty() {
                assert_eq!(body.as_slice(), data, "a clean body was changed");
            }
            let rescan = d.scan_form(body);
            assert!(
                rescan.as_ref().is_ok_and(|s| !s.should_block()),
                "the redacted form still blocks or no longer scans"
            );
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("scan_form and redact_form disagree on whether the body is well-formed"),
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let q = d.scan_query(text);
        let rq = d.redact_query(text);
        match (&q, &rq) {
            (Ok(q), Ok((redacted, again))) => {
                assert_eq!(q, again, "scan_query and redact_query disagree");
                assert_eq!(
                    text.starts_with('?'),
                    redacted.starts_with('?'),
                    "redact_query lost or added the leading ?"
                );
            }
            (Err(_), Err(_)) => {}
            _ => panic!("scan_query and redact_query disagree"),
        }
        // A query is a form without its `?`.
        if !text.starts_with('?') {
            assert_eq!(
                q.as_ref().ok(),
                scan.as_ref().ok(),
                "scan_query and scan_form disagree"
            );
        }
    }
}

/// `multipart`: the first line of the input is the boundary, the rest the body. No location
/// echoes digits of the input.
pub(crate) fn multipart(data: &[u8]) {
    let (first, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let boundary = String::from_utf8_lossy(first);
    let boundary = boundary.trim_end_matches('\r');
    if let Ok(scan) = detector().scan_multipart(body, boundary) {
        no_echo(&scan, data);
    }
}

/// Findings name places, never values: no location holds six or more digits of the input.
fn no_echo(scan: &netid::detect::Scan, input: &[u8]) {
    for finding in &scan.findings {
        if let Some(run) = echoed_digits(&finding.location, input) {
            panic!("a location echoes {} digits of the input", run.len());
        }
    }
}

/// `token`: the strict token parser and the strict JSON reader behind it. The first byte picks
/// what the rest is:
/// - `T`: a whole compact token (parsed; verified with a fixed key if the header passes);
/// - `H`: a token header's JSON (base64url-encoded into a token);
/// - `P`: a payload's JSON, signed with a valid header, so it reaches the claim parser;
/// - `J`: a JWK set (`netid::keys::parse_jwks`), the other document read strictly;
/// - anything else: the whole input as a token.
pub(crate) fn token(data: &[u8]) {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use netid::token::UnverifiedToken;

    let t = token_world();
    let (mode, rest) = match data.split_first() {
        Some((m, rest)) if matches!(m, b'T' | b'H' | b'P' | b'J') => (*m, rest),
        _ => (b'T', data),
    };
    let parse_and_verify = |token: &str| {
        if let Ok(parsed) = UnverifiedToken::parse(token, &t.validation) {
            assert!(!parsed.kid().is_empty(), "a parsed token without a kid");
            let _ = parsed.verify_at(t.signer.signing_key().verifying_key(), &t.validation, t.now);
        }
    };
    match mode {
        b'H' => {
            // Parsed only: the header is all that differs, and verifying costs a signature check.
            let token = format!("{}.e30.{}", B64.encode(rest), B64.encode([1u8; 64]));
            let _ = UnverifiedToken::parse(&token, &t.validation);
        }
        b'P' => {
            if rest.len() > 4096 {
                return;
            }
            let header = br#"{"alg":"SM2-SM3","kid":"fuzz","typ":"netid-result+jwt"}"#;
            let Ok(token) = t.signer.sign_raw(header, rest) else {
                panic!("signing failed");
            };
            let Ok(parsed) = UnverifiedToken::parse(&token, &t.validation) else {
                // The one refusal a valid header allows: an empty payload segment.
                assert!(rest.is_empty(), "a token with a valid header was refused");
                return;
            };
            if let Ok(verified) =
                parsed.verify_at(t.signer.signing_key().verifying_key(), &t.validation, t.now)
            {
                // What passed is what the platform signed: issuer, audience and nonce as asked.
                let claims = serde_json::from_slice::<serde_json::Value>(rest);
                assert!(claims.is_ok(), "accepted claims that serde_json refuses");
                let _ = verified.claims().to_json();
            }
        }
        b'J' => {
            let _ = netid::keys::parse_jwks(rest);
        }
        _ => parse_and_verify(&String::from_utf8_lossy(rest)),
    }
}

struct TokenWorld {
    signer: netid::token::TokenSigner,
    validation: netid::token::Validation,
    now: u64,
}

fn token_world() -> &'static TokenWorld {
    static WORLD: OnceLock<TokenWorld> = OnceLock::new();
    WORLD.get_or_init(|| {
        use netid::crypto::{PrivateKey, SigningKey};
        let Ok(key) = PrivateKey::from_bytes(&[9; 32]) else {
            panic!("fixed key")
        };
        let Ok(signer) = netid::token::TokenSigner::new("fuzz", SigningKey::from(key)) else {
            panic!("fixed signer")
        };
        TokenWorld {
            signer,
            // As in docs/vectors/v1/tokens.json, so that the seeds' claims pass the issuer,
            // audience, nonce and time checks and reach the consistency rules.
            validation: netid::token::Validation::new(
                "https://sandbox.netid.example",
                "app_4f9d2c",
            )
            .expect_nonce("n-0S6_WzA2Mj"),
            now: 1_767_229_200,
        }
    })
}

/// `places`: a whole request from a signed-in 网证 user through `Rules::check`, so the path, the
/// headers, the cookies, the query and the body are all scanned. The input reads like an HTTP/1
/// request: a first line `METHOD TARGET`, header lines `name: value`, an empty line, the body.
/// Lines end in `\n` (a `\r` before it is dropped). Routes: `/redact/…` redacts, `/consent/…`
/// allows with a consent, `/law/…` allows what a law names, `/upload/…` passes `image/` bodies;
/// any other path rejects. A refusal is at most 8 KiB and echoes no digits of the request.
pub(crate) fn places(data: &[u8]) {
    use netid::policy::{RequestFacts, Verdict};

    let w = places_world();
    let (target, headers, body) = request(data);
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target.as_str(), None),
    };
    let body_header = |name: &str| {
        if body.is_empty() {
            return None;
        }
        headers
            .get(name)
            .map(http::HeaderValue::as_bytes)
            .filter(|v| v.iter().all(|b| *b == b'\t' || (b' '..0x7f).contains(b)))
            .and_then(|v| std::str::from_utf8(v).ok())
    };
    let facts = RequestFacts {
        route: w.rules.match_route(path),
        path,
        headers: Some(&headers),
        user: Some(&w.user),
        content_type: body_header("content-type"),
        content_encoding: body_header("content-encoding"),
        query,
        body,
    };
    let content_type = facts.content_type;
    match w.rt.block_on(w.rules.check(facts)) {
        Ok(Verdict::Pass) => {}
        Ok(Verdict::Replace(new)) => {
            let is_json = content_type
                .map(|c| {
                    c.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                })
                .is_some_and(|e| e.ends_with("/json") || e.ends_with("+json"));
            if is_json && serde_json::from_slice::<serde_json::Value>(body).is_ok() {
                assert!(
                    serde_json::from_slice::<serde_json::Value>(&new).is_ok(),
                    "a redacted JSON body is not JSON"
                );
            }
            assert!(
                new.len() <= body.len() + body.len() * REDACTED.len() + 64,
                "redaction grew the body out of bounds"
            );
        }
        Err(problem) => {
            let json = problem.to_json().to_string();
            assert!(
                json.len() <= MAX_REFUSAL_JSON,
                "a refusal of {} bytes",
                json.len()
            );
            // A refusal names places, never values: no run of six or more digits from the
            // request comes back in it (an ID number in a header or cookie name included).
            if let Some(run) = echoed_digits(&json, data) {
                panic!("the refusal echoes {} digits of the request", run.len());
            }
        }
    }
}

/// A run of six or more ASCII digits in `text` that also occurs in `input`.
fn echoed_digits<'t>(text: &'t str, input: &[u8]) -> Option<&'t str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let run = &bytes[start..i];
        if run.len() >= 6 && input.windows(run.len()).any(|w| w == run) {
            return Some(&text[start..i]);
        }
    }
    None
}

/// Splits the input into the request target, the headers (those `http` accepts; at most 64)
/// and the body.
fn request(data: &[u8]) -> (String, http::HeaderMap, &[u8]) {
    let mut lines = data;
    let mut next_line = || -> Option<&[u8]> {
        if lines.is_empty() {
            return None;
        }
        let (line, rest) = match lines.iter().position(|b| *b == b'\n') {
            Some(i) => (&lines[..i], &lines[i + 1..]),
            None => (lines, &[][..]),
        };
        lines = rest;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    };
    let first = String::from_utf8_lossy(next_line().unwrap_or_default()).into_owned();
    let target = match first.split_once(' ') {
        Some((_method, target)) => target.trim_end_matches(" HTTP/1.1").to_owned(),
        None => first,
    };
    let mut headers = http::HeaderMap::new();
    while let Some(line) = next_line() {
        if line.is_empty() {
            break;
        }
        if headers.len() >= 64 {
            continue;
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let value = &line[colon + 1..];
        let value = &value[value.iter().take_while(|b| **b == b' ').count()..];
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(&line[..colon]),
            http::HeaderValue::from_bytes(value),
        ) {
            headers.append(name, value);
        }
    }
    (target, headers, lines)
}

struct PlacesWorld {
    rt: tokio::runtime::Runtime,
    rules: netid::policy::Rules,
    user: netid::policy::VerifiedUser,
    _sandbox: netid::sandbox::Sandbox,
}

/// A 网证 user signed in through the embedded sandbox platform (once per process), and rules
/// with one route of each plaintext rule.
fn places_world() -> &'static PlacesWorld {
    static WORLD: OnceLock<PlacesWorld> = OnceLock::new();
    WORLD.get_or_init(|| {
        use netid::client::LegalBasis;
        use netid::model::{AuthzId, FieldName};
        use netid::policy::{
            LoginFlow, LoginStatus, PlaintextRule, RoutePolicy, Rules, SessionManager,
        };
        use netid::sandbox::{Persona, Sandbox};

        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            panic!("a tokio runtime")
        };
        let (sandbox, user) = rt.block_on(async {
            let Ok(sandbox) = Sandbox::start().await else {
                panic!("the sandbox platform")
            };
            let app = sandbox.register_app("app_fuzz");
            let Ok(client) = sandbox.client_builder(&app).build() else {
                panic!("a client")
            };
            let Ok(sessions) = SessionManager::builder("app_fuzz")
                .key("k", &[5; 32])
                .build()
            else {
                panic!("sessions")
            };
            let login = LoginFlow::builder(client, sessions.clone()).build();
            let Ok(start) = login.start().await else {
                panic!("login start")
            };
            let Ok(authz) = AuthzId::parse(&start.authz_id) else {
                panic!("authz id")
            };
            if sandbox.approve(&authz, Persona::Adult).is_err() {
                panic!("approve");
            }
            let Ok(LoginStatus::Completed { session, .. }) =
                login.poll(&start.browser_binding).await
            else {
                panic!("login")
            };
            let Ok(user) = sessions.authenticate(&session).await else {
                panic!("session")
            };
            (sandbox, user)
        });
        let Ok(basis) = LegalBasis::new("《反洗钱法》第二十八条", [FieldName::Name])
        else {
            panic!("legal basis")
        };
        let Ok(rules) = Rules::builder()
            .max_body(64 * 1024)
            .route(
                "/redact/{*rest}",
                RoutePolicy::plaintext(PlaintextRule::Redact),
            )
            .route(
                "/consent/{*rest}",
                RoutePolicy::plaintext(PlaintextRule::AllowWithConsent {
                    purpose: "会员实名".into(),
                }),
            )
            .route(
                "/law/{*rest}",
                RoutePolicy::plaintext(PlaintextRule::AllowUnderLaw(basis)),
            )
            .route(
                "/upload/{*rest}",
                RoutePolicy::default().with_opaque_type("image/"),
            )
            .try_build()
        else {
            panic!("rules")
        };
        PlacesWorld {
            rt,
            rules,
            user,
            _sandbox: sandbox,
        }
    })
}
