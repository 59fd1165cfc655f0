//! The sandbox's HTTP side: protocol v1 endpoints, request authentication, token issuance,
//! webhooks, and a small page that plays the identity app.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::{Asks, Decision, Fault, PendingRequest, Persona, SandboxError, Shared, allowed_fields};
use crate::crypto::{hmac_sm3, sm3};
use crate::error::ErrorCode;
use crate::model::{AgeTag, Assurance, FieldName, FieldSet, NotVerifiedReason};
use crate::problem::{Lang, Problem, ProblemKind};
use crate::request_auth::{REPLAY_WINDOW_SECS, RequestCredentials, sign_webhook};

const MAX_BODY: usize = 64 * 1024;

/// How many decisions and test logins the page remembers.
pub(super) const RECENT: usize = 20;

/// A decision, as the page lists it.
#[derive(Debug, Clone)]
pub(super) struct Decided {
    authz_id: String,
    app_id: String,
    asks: Asks,
    persona: Persona,
    answer: &'static str,
    at: u64,
}

/// A test login started from the page, and how it ended for the app.
#[derive(Debug, Clone)]
pub(super) struct TestLogin {
    id: u64,
    authz_id: Option<String>,
    app_id: String,
    asks: Asks,
    state: TestState,
}

#[derive(Debug, Clone)]
enum TestState {
    Waiting,
    Verified {
        assurance: Assurance,
        age_tag: Option<AgeTag>,
    },
    Failed {
        code: &'static str,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Authorization {
    app_id: String,
    kind: Kind,
    min_assurance: u8,
    purpose: String,
    nonce: String,
    callback_url: Option<String>,
    expires_at: u64,
    status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    VerifyOnly,
    AgeTag,
    Fields {
        fields: FieldSet,
        legal_basis: String,
    },
    Reverify {
        sub: String,
    },
}

#[derive(Debug, Clone)]
enum Status {
    Pending,
    Approved { token: String, exp: u64 },
    Denied,
}

type Shr = Arc<Shared>;

pub(super) async fn serve(listener: tokio::net::TcpListener, shared: Shr) {
    let app = Router::new()
        .route("/", get(page))
        .route("/.well-known/netid-configuration", get(configuration))
        .route("/v1/keys", get(keys))
        .route("/v1/authorizations", post(create_authorization))
        .route("/v1/authorizations/{id}", get(poll))
        .route("/v1/reverifications", post(create_reverification))
        .route("/sandbox/authorizations/{id}/decision", post(decision))
        .route("/sandbox/ui/test-login", post(ui_test_login))
        .route("/sandbox/ui/{id}", post(ui_decision))
        .with_state(shared.clone());
    let listener = FaultyListener {
        inner: listener,
        shared,
    };
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(error = %e, "sandbox server stopped");
    }
}

/// Drops a connection on demand ([`Fault::DropConnection`]). The server answers every request
/// with `Connection: close`, so each request arrives on a new connection and can be dropped.
struct FaultyListener {
    inner: tokio::net::TcpListener,
    shared: Shr,
}

impl axum::serve::Listener for FaultyListener {
    type Io = tokio::net::TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.inner.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let drop_it = {
                let mut s = self.shared.lock();
                let hit = matches!(s.http_faults.front(), Some(Fault::DropConnection));
                if hit {
                    s.http_faults.pop_front();
                }
                hit
            };
            if drop_it {
                drop(stream);
                continue;
            }
            return (stream, addr);
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A problem+json answer of the platform, from the one registry (English: the platform's
/// answers are for the relying party's code, not for people).
fn problem(kind: ProblemKind, detail: &str) -> Response {
    let status = StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    problem_with_status(status, kind, detail)
}

/// [`problem`] with another status (injected faults).
fn problem_with_status(status: StatusCode, kind: ProblemKind, detail: &str) -> Response {
    let mut body = Problem::of(kind)
        .with_detail(detail.to_owned(), kind.detail(Lang::ZhCn))
        .in_lang(Lang::En)
        .to_json();
    body["status"] = status.as_u16().into();
    (
        status,
        [
            (header::CONTENT_TYPE, "application/problem+json"),
            (header::CONNECTION, "close"),
        ],
        body.to_string(),
    )
        .into_response()
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CONNECTION, "close"),
        ],
        body,
    )
        .into_response()
}

/// Applies one pending HTTP fault, if any, to this API request.
async fn http_fault(shared: &Shared) -> Option<Response> {
    let fault = {
        let mut s = shared.lock();
        match s.http_faults.front() {
            Some(Fault::DropConnection) | None => None,
            Some(_) => s.http_faults.pop_front(),
        }
    };
    match fault {
        Some(Fault::HttpStatus(code)) => Some(problem_with_status(
            StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            if code == 429 {
                ProblemKind::RateLimited
            } else {
                ProblemKind::Internal
            },
            "injected by the sandbox",
        )),
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            None
        }
        Some(Fault::MalformedBody) => Some(json_response(StatusCode::OK, b"{\"status\":".to_vec())),
        Some(Fault::OversizedBody) => Some(json_response(
            StatusCode::OK,
            format!(
                "{{\"status\":\"pending\",\"pad\":\"{}\"}}",
                "x".repeat(1 << 20)
            )
            .into_bytes(),
        )),
        _ => None,
    }
}

/// Protocol v1 §7.3: size, header, app and key, freshness, signature, then replay.
// The error is the finished HTTP answer; sandbox-only, off the hot path.
#[allow(clippy::result_large_err)]
fn authenticate(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, Response> {
    if body.len() > MAX_BODY {
        return Err(problem(ProblemKind::PayloadTooLarge, "body over 64 KiB"));
    }
    let unauthenticated = |d: &str| problem(ProblemKind::Unauthenticated, d);
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthenticated("missing Authorization"))?;
    let creds = RequestCredentials::parse(header).map_err(|e| unauthenticated(&e.to_string()))?;
    let key = {
        let s = shared.lock();
        s.apps
            .get(&creds.app_id)
            .and_then(|a| a.signing_keys.get(&creds.kid))
            .cloned()
    }
    .ok_or_else(|| unauthenticated("unknown app_id or kid"))?;
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let now = shared.now();
    creds
        .verify(&key, method.as_str(), path, body, now)
        .map_err(|e| problem(e.problem_kind(), &e.to_string()))?;
    let mut s = shared.lock();
    s.nonces.retain(|_, until| *until > now);
    let fresh = s
        .nonces
        .insert(
            (creds.app_id.clone(), creds.nonce.clone()),
            now + REPLAY_WINDOW_SECS,
        )
        .is_none();
    if !fresh {
        return Err(problem(ProblemKind::RequestReplayed, "nonce already used"));
    }
    Ok(creds.app_id)
}

async fn configuration(AxState(shared): AxState<Shr>) -> Response {
    let iss = &shared.issuer;
    let body = json!({
        "issuer": iss,
        "protocol_versions": ["1"],
        "jwks_uri": format!("{iss}/v1/keys"),
        "authorization_endpoint": format!("{iss}/v1/authorizations"),
        "reverification_endpoint": format!("{iss}/v1/reverifications"),
        "token_signing_alg_values_supported": ["SM2-SM3"],
        "field_encryption_alg_values_supported": ["SM2-C1C3C2"],
        "request_auth_schemes_supported": ["NETID-SM2-SM3"],
        "distinguishing_id": crate::crypto::DEFAULT_DISTID,
        "acr_values_supported": [1, 2, 3, 4],
        "age_tags_supported": crate::model::AgeTag::ALL,
        "field_names_supported": FieldName::ALL,
        "id_types_supported": crate::model::IdDocumentType::ALL,
        "token_max_lifetime": 300,
        "sandbox": true,
        "sandbox_decision_endpoint": format!("{iss}/sandbox/authorizations/{{authz_id}}/decision"),
    });
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

async fn keys(AxState(shared): AxState<Shr>) -> Response {
    let jwks = crate::keys::to_jwks(&shared.lock().published);
    let mut r = json_response(StatusCode::OK, jwks.into_bytes());
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    r
}

fn text(v: &Value, max: usize) -> Option<String> {
    v.as_str()
        .filter(|s| !s.trim().is_empty() && s.len() <= max && !s.chars().any(char::is_control))
        .map(str::to_owned)
}

fn nonce_ok(n: &str) -> bool {
    (8..=128).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn callback_ok(url: &str) -> bool {
    url.len() <= 2048
        && url::Url::parse(url).is_ok_and(|u| {
            u.scheme() == "https"
                || (u.scheme() == "http"
                    && matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")))
        })
}

async fn create_authorization(
    AxState(shared): AxState<Shr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(shared, method, uri, headers, body, false).await
}

async fn create_reverification(
    AxState(shared): AxState<Shr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(shared, method, uri, headers, body, true).await
}

async fn create(
    shared: Shr,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    reverify: bool,
) -> Response {
    let app_id = match authenticate(&shared, &method, &uri, &headers, &body) {
        Ok(a) => a,
        Err(r) => return r,
    };
    if let Some(r) = http_fault(&shared).await {
        return r;
    }
    let bad = |d: &str| problem(ProblemKind::BadRequest, d);
    let Some(idem) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| {
            (1..=64).contains(&k.len())
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
        .map(str::to_owned)
    else {
        return bad("Idempotency-Key is required");
    };
    let digest = sm3(&body);
    if let Some((d, status, resp)) = shared
        .lock()
        .idempotency
        .get(&(app_id.clone(), idem.clone()))
    {
        return if *d == digest {
            json_response(
                StatusCode::from_u16(*status).unwrap_or(StatusCode::CREATED),
                resp.clone(),
            )
        } else {
            bad("Idempotency-Key reused with a different body")
        };
    }
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(&body) else {
        return bad("body must be a JSON object");
    };
    let parsed = if reverify {
        parse_reverification(&shared, &app_id, &req)
    } else {
        parse_authorization(&req)
    };
    let (kind, min_assurance, purpose) = match parsed {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(nonce) = req
        .get("nonce")
        .and_then(Value::as_str)
        .filter(|n| nonce_ok(n))
    else {
        return bad("nonce must be 8-128 characters from A-Z a-z 0-9 _ -");
    };
    let callback_url = match req.get("callback_url") {
        None => None,
        Some(Value::String(u)) if callback_ok(u) => Some(u.clone()),
        Some(_) => return bad("callback_url must be an https URL (http only to loopback)"),
    };
    let authz_id = crate::random::alphanumeric(32);
    let ttl = shared.options.authorization_ttl;
    let response = json!({
        "authz_id": authz_id,
        "qr_payload": format!("netid://authorize?authz_id={authz_id}"),
        "app_link": format!("https://app.netid.example/authorize?authz_id={authz_id}"),
        "expires_in": ttl,
    })
    .to_string()
    .into_bytes();
    // Never the purpose: it is the app's free text, and could hold anything.
    tracing::info!(
        app_id = %app_id,
        authz_id = %authz_id,
        asks = asks_of(&kind).label(),
        min_assurance,
        reverification = reverify,
        "sandbox: authorization requested"
    );
    let mut s = shared.lock();
    s.authorizations.insert(
        authz_id,
        Authorization {
            app_id: app_id.clone(),
            kind,
            min_assurance,
            purpose,
            nonce: nonce.to_owned(),
            callback_url,
            expires_at: shared.now() + ttl,
            status: Status::Pending,
        },
    );
    s.idempotency
        .insert((app_id, idem), (digest, 201, response.clone()));
    json_response(StatusCode::CREATED, response)
}

// The error is the finished HTTP answer; sandbox-only, off the hot path.
#[allow(clippy::result_large_err)]
fn parse_authorization(req: &Map<String, Value>) -> Result<(Kind, u8, String), Response> {
    let bad = |d: &str| problem(ProblemKind::BadRequest, d);
    if let Some(k) = req
        .keys()
        .find(|k| !matches!(k.as_str(), "request" | "nonce" | "callback_url"))
    {
        return Err(bad(&format!(
            "unknown member `{}`",
            crate::error::printable_name(k)
        )));
    }
    let Some(Value::Object(r)) = req.get("request") else {
        return Err(bad("`request` must be an object"));
    };
    let min_assurance = r
        .get("min_assurance")
        .and_then(Value::as_u64)
        .and_then(|l| Assurance::from_level(l).ok())
        .ok_or_else(|| bad("min_assurance must be 1-4"))?
        .level();
    let purpose = r
        .get("purpose")
        .and_then(|p| text(p, 256))
        .ok_or_else(|| bad("purpose must be 1-256 bytes"))?;
    let kind = match r.get("kind").and_then(Value::as_str) {
        Some("verify_only") => Kind::VerifyOnly,
        Some("age_tag") => Kind::AgeTag,
        Some("fields") => {
            let Some(basis) = r.get("legal_basis").and_then(|b| text(b, 256)) else {
                return Err(problem(
                    ProblemKind::LegalBasisRequired,
                    "plaintext fields need a legal basis (Art. 8 §2)",
                ));
            };
            let fields: FieldSet = r
                .get("fields")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|f| f.as_str().and_then(|s| s.parse::<FieldName>().ok()))
                        .collect::<Option<Vec<_>>>()
                })
                .and_then(|v| v)
                .ok_or_else(|| bad("fields must be field names"))?
                .into_iter()
                .collect();
            if fields.is_empty() {
                return Err(bad("fields must not be empty"));
            }
            if !fields.is_subset(&allowed_fields()) {
                return Err(problem(
                    ProblemKind::FieldsExceedBasis,
                    "fields not allowed",
                ));
            }
            Kind::Fields {
                fields,
                legal_basis: basis,
            }
        }
        _ => return Err(bad("kind must be verify_only, age_tag or fields")),
    };
    let allowed: &[&str] = match kind {
        Kind::Fields { .. } => &["kind", "min_assurance", "purpose", "fields", "legal_basis"],
        _ => &["kind", "min_assurance", "purpose"],
    };
    if r.keys().any(|k| !allowed.contains(&k.as_str())) {
        return Err(bad("unexpected member in `request`"));
    }
    Ok((kind, min_assurance, purpose))
}

// The error is the finished HTTP answer; sandbox-only, off the hot path.
#[allow(clippy::result_large_err)]
fn parse_reverification(
    shared: &Shared,
    app_id: &str,
    req: &Map<String, Value>,
) -> Result<(Kind, u8, String), Response> {
    let bad = |d: &str| problem(ProblemKind::BadRequest, d);
    if req
        .keys()
        .any(|k| !matches!(k.as_str(), "sub" | "reason" | "nonce" | "callback_url"))
    {
        return Err(bad("unexpected member"));
    }
    let sub = req
        .get("sub")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("sub is required"))?;
    let reason = req
        .get("reason")
        .and_then(|r| text(r, 256))
        .ok_or_else(|| bad("reason must be 1-256 bytes"))?;
    if !shared
        .lock()
        .subjects
        .contains_key(&(app_id.to_owned(), sub.to_owned()))
    {
        return Err(problem(ProblemKind::NotFound, "unknown sub"));
    }
    Ok((
        Kind::Reverify {
            sub: sub.to_owned(),
        },
        Assurance::CredentialFace.level(),
        reason,
    ))
}

async fn poll(
    AxState(shared): AxState<Shr>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let app_id = match authenticate(&shared, &method, &uri, &headers, b"") {
        Ok(a) => a,
        Err(r) => return r,
    };
    if let Some(r) = http_fault(&shared).await {
        return r;
    }
    let now = shared.now();
    let s = shared.lock();
    let Some(a) = s.authorizations.get(&id).filter(|a| a.app_id == app_id) else {
        return problem(ProblemKind::NotFound, "unknown authorization");
    };
    let body = match &a.status {
        Status::Pending if now > a.expires_at => json!({"status": "expired"}),
        Status::Pending => json!({"status": "pending"}),
        Status::Approved { exp, .. } if now > *exp => json!({"status": "expired"}),
        Status::Approved { token, .. } => json!({"status": "approved", "token": token}),
        Status::Denied => json!({"status": "denied"}),
    };
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

async fn decision(
    AxState(shared): AxState<Shr>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = authenticate(&shared, &method, &uri, &headers, &body) {
        return r;
    }
    let bad = |d: &str| problem(ProblemKind::BadRequest, d);
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return bad("body must be JSON");
    };
    let Some(persona) = v["persona"]
        .as_str()
        .and_then(|p| p.parse::<Persona>().ok())
    else {
        return bad("unknown persona");
    };
    let d = match v["decision"].as_str() {
        Some("approve") => Decision::Approve,
        Some("deny") => Decision::Deny,
        _ => return bad("decision must be approve or deny"),
    };
    decision_response(decide(&shared, &id, persona, d))
}

fn decision_response(r: Result<&'static str, SandboxError>) -> Response {
    match r {
        Ok(status) => json_response(
            StatusCode::OK,
            json!({ "status": status }).to_string().into_bytes(),
        ),
        Err(e) => problem(e.problem_kind(), &e.to_string()),
    }
}

/// The user's answer, as the identity app would give it.
pub(super) fn decide(
    shared: &Arc<Shared>,
    authz_id: &str,
    persona: Persona,
    decision: Decision,
) -> Result<&'static str, SandboxError> {
    let now = shared.now();
    let mut s = shared.lock();
    let a = s
        .authorizations
        .get(authz_id)
        .ok_or(SandboxError::NotFound)?
        .clone();
    if !matches!(a.status, Status::Pending) {
        return Err(SandboxError::AlreadyDecided);
    }
    if now > a.expires_at {
        return Err(SandboxError::Expired);
    }
    let decision = match persona {
        Persona::NeverAnswers => {
            tracing::info!(
                authz_id,
                app_id = %a.app_id,
                persona = persona.id(),
                "sandbox: authorization left unanswered"
            );
            return Ok("pending");
        }
        Persona::Declines => Decision::Deny,
        _ => decision,
    };
    let answer = match decision {
        Decision::Deny => "denied",
        Decision::Approve => "approved",
    };
    // The persona's id, never its name or documents.
    tracing::info!(
        authz_id,
        app_id = %a.app_id,
        persona = persona.id(),
        answer,
        "sandbox: authorization decided"
    );
    s.recent.push_front(Decided {
        authz_id: authz_id.to_owned(),
        app_id: a.app_id.clone(),
        asks: asks_of(&a.kind),
        persona,
        answer,
        at: now,
    });
    s.recent.truncate(RECENT);
    let status = match decision {
        Decision::Deny => Status::Denied,
        Decision::Approve => {
            let (token, exp) = issue(shared, &mut s, authz_id, &a, persona, now);
            Status::Approved { token, exp }
        }
    };
    if let Some(entry) = s.authorizations.get_mut(authz_id) {
        entry.status = status.clone();
    }
    if let Some(url) = a.callback_url.clone() {
        let (event, token) = match &status {
            Status::Approved { token, .. } => ("authorization.approved", Some(token.clone())),
            _ => ("authorization.denied", None),
        };
        let shared = shared.clone();
        let authz = authz_id.to_owned();
        tokio::spawn(async move { deliver_webhook(shared, url, authz, event, token).await });
    }
    Ok(answer)
}

/// Signs a result token for `persona`, applying a pending token fault if any.
fn issue(
    shared: &Shared,
    s: &mut super::State,
    authz_id: &str,
    a: &Authorization,
    persona: Persona,
    now: u64,
) -> (String, u64) {
    let skewed = now.saturating_add_signed(shared.clock_skew.load(Ordering::SeqCst));
    let fault = s.token_faults.pop_front();
    // How long polls hand the token out: by the platform's true clock, so skewed or
    // deliberately expired tokens still reach the client (which must refuse them).
    let deliver_until = now + 120;
    if let (Some(Fault::ReplayToken), Some(last)) = (&fault, &s.last_token) {
        return (last.clone(), deliver_until);
    }
    let (iat, exp) = match fault {
        Some(Fault::ExpiredToken) => (skewed - 400, skewed - 280),
        _ => (skewed, skewed + 120),
    };
    let pairwise = |app: &str, persona: Persona| -> String {
        let mut input = app.as_bytes().to_vec();
        input.push(0);
        input.extend_from_slice(persona.network_number().as_bytes());
        format!(
            "pw_{}",
            crate::b64::encode(&hmac_sm3(&shared.secret, &input))
        )
    };
    let own_sub = pairwise(&a.app_id, persona);
    // The user authenticates in the mode the relying party asked for (re-verifications ask
    // for at least R03).
    let acr = match fault {
        Some(Fault::LowerAssurance) => Assurance::Credential.level(),
        _ => a.min_assurance,
    };
    let assurance = Assurance::from_level(u64::from(acr)).unwrap_or(Assurance::CredentialFace);
    let mut claims = json!({
        "iss": shared.issuer, "aud": a.app_id, "iat": iat, "exp": exp,
        "jti": crate::random::token(12), "nonce": a.nonce, "authz_id": authz_id,
        "sub": own_sub, "result": {"status": "verified"},
        "acr": acr, "amr": assurance.methods().iter().map(|m| m.as_str()).collect::<Vec<_>>(),
    });
    // Art. 5 §2 (protocol v1 §4.3.1): an under-14 without a guardian's consent is not
    // verified, whatever was asked; the answer says so and nothing more, under a one-time `sub`
    // (or the requested one, for a re-verification).
    let legacy_minor = fault == Some(Fault::MinorWithoutConsentVerified);
    let no_guardian_consent =
        persona.age_tag() == AgeTag::Under14 && persona.guardian_consent() != Some(true);
    if no_guardian_consent && !legacy_minor {
        claims["sub"] = match &a.kind {
            Kind::Reverify { sub } => json!(sub),
            _ => json!(format!("once_{}", crate::random::token(16))),
        };
        claims["result"] = json!({"status": "not_verified", "reason": NotVerifiedReason::GuardianConsentRequired.as_str()});
        return sign(s, fault, &claims, deliver_until);
    }
    // Over-sharing turns any request into one for everything, as a misbehaving platform would.
    let everything = Kind::Fields {
        fields: allowed_fields(),
        legal_basis: "sandbox over-share".to_owned(),
    };
    let over_share = fault == Some(Fault::OverShare);
    let kind = if over_share { &everything } else { &a.kind };
    match kind {
        Kind::Reverify { sub } if *sub != own_sub => {
            claims["sub"] = json!(sub);
            claims["result"] = json!({"status": "not_verified", "reason": NotVerifiedReason::IdentityMismatch.as_str()});
        }
        // Only an age-tag request gets the age band (protocol v1 §6.4); over-sharing adds it.
        Kind::AgeTag | Kind::Fields { .. } if matches!(a.kind, Kind::AgeTag) || over_share => {
            claims["age_tag"] = json!(persona.age_tag());
            if let Some(g) = persona.guardian_consent() {
                claims["guardian_consent"] = json!(g);
            }
        }
        _ if legacy_minor => {
            claims["age_tag"] = json!(persona.age_tag());
            claims["guardian_consent"] = json!(persona.guardian_consent() == Some(true));
        }
        _ => {}
    }
    if let (
        Kind::Fields {
            fields,
            legal_basis,
        },
        Some(app),
    ) = (kind, s.apps.get(&a.app_id))
    {
        let today = super::persona::civil_date(now);
        let birth = persona.birth_date(today);
        let mut plain = Map::new();
        for f in fields.iter() {
            let v = match f {
                FieldName::Name => persona.name().to_owned(),
                FieldName::IdNumber => persona.document_number(birth),
                FieldName::IdType => persona.document().as_str().to_owned(),
                FieldName::BirthDate => format!("{:04}-{:02}-{:02}", birth.0, birth.1, birth.2),
            };
            plain.insert(f.as_str().to_owned(), Value::String(v));
        }
        let names: Vec<&str> = fields.iter().map(FieldName::as_str).collect();
        let plaintext = zeroize::Zeroizing::new(Value::Object(plain).to_string());
        if let Ok(ct) = app.encryption.1.encrypt(plaintext.as_bytes()) {
            claims["fields"] = json!({"alg": "SM2-C1C3C2", "kid": app.encryption.0, "names": names, "ct": crate::b64::encode(&ct)});
            claims["consent"] = json!({
                "id": format!("cst_{}", crate::random::alphanumeric(16)),
                "purpose": a.purpose, "legal_basis": legal_basis, "fields": names, "granted_at": now,
            });
        }
    }
    s.subjects.insert((a.app_id.clone(), own_sub), persona);
    sign(s, fault, &claims, deliver_until)
}

/// Signs `claims`, applying the token fault that concerns the signature or key.
fn sign(
    s: &mut super::State,
    fault: Option<Fault>,
    claims: &Value,
    deliver_until: u64,
) -> (String, u64) {
    let map = claims.as_object().cloned().unwrap_or_default();
    let signer = match fault {
        Some(Fault::UnknownKid) => super::new_signer("sbx-unpublished"),
        _ => s.signer.clone(),
    };
    let mut token = signer.sign(&map).unwrap_or_default();
    if fault == Some(Fault::BadSignature) {
        // Flip a bit of r: still 64 bytes in range (almost surely), but no longer valid.
        let cut = token.rfind('.').map_or(0, |i| i + 1);
        let mut sig = crate::b64::decode(&token[cut..]).unwrap_or_default();
        if let Some(b) = sig.get_mut(5) {
            *b ^= 0x01;
        }
        token = format!("{}{}", &token[..cut], crate::b64::encode(&sig));
    }
    s.last_token = Some(token.clone());
    (token, deliver_until)
}

async fn deliver_webhook(
    shared: Arc<Shared>,
    url: String,
    authz_id: String,
    event: &'static str,
    token: Option<String>,
) {
    let id = format!("wh_{}", crate::random::alphanumeric(16));
    let mut body = json!({"id": id, "event": event, "authz_id": authz_id});
    if let Some(t) = token {
        body["token"] = json!(t);
    }
    let body = body.to_string();
    let mut delay = shared.options.webhook_retry_base;
    for _attempt in 0..8 {
        let signature = {
            let mut s = shared.lock();
            *s.webhook_attempts.entry(authz_id.clone()).or_default() += 1;
            sign_webhook(
                s.signer.kid(),
                s.signer.signing_key(),
                &id,
                shared.now(),
                body.as_bytes(),
            )
        };
        let Ok(signature) = signature else { return };
        let sent = shared
            .webhook_http
            .post(&url)
            .header("content-type", "application/json")
            .header("netid-webhook-id", &id)
            .header("netid-signature", signature)
            .body(body.clone())
            .send()
            .await;
        if sent.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
    tracing::warn!(authz_id, "sandbox webhook not delivered after 8 attempts");
}

pub(super) fn pending(shared: &Shared) -> Vec<crate::model::AuthzId> {
    let now = shared.now();
    let s = shared.lock();
    let mut out: Vec<_> = s
        .authorizations
        .iter()
        .filter(|(_, a)| matches!(a.status, Status::Pending) && now <= a.expires_at)
        .filter_map(|(id, _)| crate::model::AuthzId::parse(id).ok())
        .collect();
    out.sort();
    out
}

fn asks_of(kind: &Kind) -> Asks {
    match kind {
        Kind::VerifyOnly => Asks::VerifyOnly,
        Kind::AgeTag => Asks::AgeTag,
        Kind::Fields {
            fields,
            legal_basis,
        } => Asks::Fields {
            fields: fields.clone(),
            legal_basis: legal_basis.clone(),
        },
        Kind::Reverify { .. } => Asks::Reverification,
    }
}

pub(super) fn pending_requests(shared: &Shared) -> Vec<PendingRequest> {
    let now = shared.now();
    let s = shared.lock();
    let mut out: Vec<_> = s
        .authorizations
        .iter()
        .filter(|(_, a)| matches!(a.status, Status::Pending) && now <= a.expires_at)
        .filter_map(|(id, a)| {
            Some(PendingRequest {
                authz_id: crate::model::AuthzId::parse(id).ok()?,
                app_id: a.app_id.clone(),
                purpose: a.purpose.clone(),
                asks: asks_of(&a.kind),
                min_assurance: Assurance::from_level(u64::from(a.min_assurance)).ok()?,
                expires_at: a.expires_at,
            })
        })
        .collect();
    out.sort_by(|a, b| a.authz_id.cmp(&b.authz_id));
    out
}

/// What an authorization asks for, in words.
fn asks_text(asks: &Asks) -> String {
    match asks {
        Asks::VerifyOnly => "the verification result only (核验结果)".to_owned(),
        Asks::AgeTag => {
            "the result and an age band, never a birth date (核验结果 + 年龄段)".to_owned()
        }
        Asks::Fields {
            fields,
            legal_basis,
        } => format!(
            "the result and the plaintext fields {} under {} (明文字段, 单独同意)",
            fields
                .iter()
                .map(FieldName::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            html_escape(legal_basis)
        ),
        Asks::Reverification => {
            "a live re-verification of the account's holder (重新核验)".to_owned()
        }
    }
}

/// How long until `at`, in words.
fn ago(now: u64, at: u64) -> String {
    format!("{} s ago", now.saturating_sub(at))
}

const PAGE_STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;padding:1em;max-width:60em;\
line-height:1.45;color:#1d1d1f}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}\
code,pre{background:#f3f3f3;border-radius:4px}pre{padding:.6em;overflow-x:auto}\
.card{border:1px solid #ccc;border-radius:8px;padding:.8em;margin:.6em 0}\
.warn{background:#fff4e0;border:1px solid #e0b060;padding:.5em;border-radius:6px}\
button{margin:.15em;padding:.35em .6em;border-radius:6px;border:1px solid #888;background:#fff;cursor:pointer}\
button.ok{background:#e8f5e9}button.no{background:#fdecea}\
table{border-collapse:collapse;width:100%}td,th{padding:.3em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}";

/// The page that plays the identity app: how to point a client at the sandbox, a button that
/// starts a test login for each app, the pending authorizations (what each asks and why, with
/// an answer per persona), and the latest decisions and test logins. It reloads itself every
/// 3 seconds; its buttons are plain forms, so a reload loses nothing.
async fn page(AxState(shared): AxState<Shr>) -> Html<String> {
    let now = shared.now();
    let iss = html_escape(&shared.issuer);
    let (apps, recent, tests) = {
        let s = shared.lock();
        let mut apps: Vec<_> = s
            .apps
            .iter()
            .map(|(id, a)| {
                (
                    id.clone(),
                    a.signer.0.clone(),
                    a.encryption.0.clone(),
                    a.key_location.clone(),
                )
            })
            .collect();
        apps.sort();
        (
            apps,
            s.recent.iter().cloned().collect::<Vec<_>>(),
            s.test_logins.iter().cloned().collect::<Vec<_>>(),
        )
    };
    let mut clients = String::new();
    for (app, kid, enc_kid, location) in &apps {
        let (app, kid, enc_kid) = (html_escape(app), html_escape(kid), html_escape(enc_kid));
        let dir = location
            .as_deref()
            .map_or_else(|| "DIR".to_owned(), html_escape);
        let keys = match location {
            Some(_) => format!(
                "<code>{dir}/</code>: <code>request-signing.private.pem</code>, <code>encryption.private.pem</code>, <code>app.json</code>"
            ),
            None => "held by the process that registered the app".to_owned(),
        };
        clients.push_str(&format!(
            "<div class=card><b>app id <code>{app}</code></b><br>request-signing key id <code>{kid}</code>, \
             field-encryption key id <code>{enc_kid}</code><br>keys: {keys}\
             <pre>let pem = std::fs::read_to_string(\"{dir}/request-signing.private.pem\")?;\n\
             let client = NetIdClient::builder(\"{iss}\")\n    .app_id(\"{app}\")\n    \
             .signing_key(\"{kid}\", SigningKey::from(PrivateKey::from_pkcs8_pem(&amp;pem)?))\n    \
             .allow_sandbox() // this platform says \"sandbox\": true; never in production\n    \
             .discover()\n    .await?;</pre>\
             <form method=post action=/sandbox/ui/test-login><input type=hidden name=app value=\"{app}\">\
             Start a test login as <code>{app}</code>: \
             <button name=kind value=verify_only>result only</button>\
             <button name=kind value=age_tag>result + age band</button></form></div>"
        ));
    }
    if apps.is_empty() {
        clients.push_str("<p>No app is registered yet.</p>");
    }
    let pending = pending_requests(&shared);
    let mut cards = String::new();
    for p in &pending {
        let id = p.authz_id.as_str();
        let approve: String = Persona::ALL
            .iter()
            .map(|persona| {
                format!(
                    "<button class=ok name=persona value=\"{0}\">{0} <small>({1}, {2})</small></button>",
                    persona.id(),
                    persona.name(),
                    persona.age()
                )
            })
            .collect();
        cards.push_str(&format!(
            "<div class=card id=\"authz-{id}\"><b>{app}</b> asks for {what}<br>\
             why (the app's purpose): <q>{why}</q><br>assurance at least {acr}; \
             lapses in {left} s; authorization <code>{id}</code>\
             <form method=post action=\"/sandbox/ui/{id}\"><input type=hidden name=decision value=approve>\
             Approve as: {approve}</form>\
             <form method=post action=\"/sandbox/ui/{id}\"><input type=hidden name=decision value=deny>\
             <input type=hidden name=persona value=adult><button class=no>Decline</button></form></div>",
            app = html_escape(&p.app_id),
            what = asks_text(&p.asks),
            why = html_escape(&p.purpose),
            acr = p.min_assurance,
            left = p.expires_at.saturating_sub(now),
        ));
    }
    if pending.is_empty() {
        cards.push_str(
            "<p>Nothing is waiting. Start a test login above, or have your app call \
             <code>client.authorize(…)</code>.</p>",
        );
    }
    let recent: String = recent
        .iter()
        .map(|d| {
            format!(
                "<tr><td>{when}</td><td><code>{id}</code></td><td>{app}</td><td>{asks}</td><td>{persona}</td><td>{answer}</td></tr>",
                when = ago(now, d.at),
                id = html_escape(&d.authz_id),
                app = html_escape(&d.app_id),
                asks = d.asks.label(),
                persona = d.persona.id(),
                answer = d.answer,
            )
        })
        .collect();
    let tests: String = tests
        .iter()
        .map(|t| {
            let outcome = match &t.state {
                TestState::Waiting => "waiting for an answer".to_owned(),
                TestState::Verified { assurance, age_tag } => format!(
                    "verified by the app: signature, issuer, audience, nonce checked; {assurance}{}",
                    age_tag.map_or_else(String::new, |t| format!(", age band {t}"))
                ),
                TestState::Failed { code } => format!("refused: <code>{code}</code>"),
            };
            format!(
                "<tr><td>#{n}</td><td><code>{id}</code></td><td>{app}</td><td>{asks}</td><td>{outcome}</td></tr>",
                n = t.id,
                id = t.authz_id.as_deref().map_or_else(String::new, html_escape),
                app = html_escape(&t.app_id),
                asks = t.asks.label(),
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html lang=en><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width,initial-scale=1\">\
         <meta http-equiv=refresh content=3>\
         <title>netid sandbox — 国家网络身份认证 (模拟)</title><style>{PAGE_STYLE}</style>\
         <h1>netid sandbox — 国家网络身份认证（模拟）</h1>\
         <p>This page plays the national network identity app for apps that use this sandbox \
         platform. Issuer (and base URL): <code>{iss}</code> — discovery at \
         <code>{iss}/.well-known/netid-configuration</code>, keys at <code>{iss}/v1/keys</code>.</p>\
         <p class=warn>Test data only: the sandbox signs results for made-up people. Keep it on \
         loopback and never accept it in production (a client refuses it unless built with \
         <code>.allow_sandbox()</code>).</p>\
         <h2>Point a client at it</h2>{clients}\
         <h2>Waiting for the user ({n} pending)</h2>{cards}\
         <h2>Latest decisions</h2><table><tr><th>when</th><th>authorization</th><th>app</th>\
         <th>asked for</th><th>persona</th><th>answer</th></tr>{recent}</table>\
         <h2>Test logins</h2><table><tr><th></th><th>authorization</th><th>app</th><th>asked for</th>\
         <th>outcome</th></tr>{tests}</table>\
         <p><small>This page reloads itself every 3 seconds.</small></p></html>",
        n = pending.len()
    ))
}

async fn ui_decision(
    AxState(shared): AxState<Shr>,
    Path(id): Path<String>,
    axum::extract::Form(form): axum::extract::Form<std::collections::HashMap<String, String>>,
) -> Response {
    let persona = form.get("persona").and_then(|p| p.parse::<Persona>().ok());
    let d = match form.get("decision").map(String::as_str) {
        Some("deny") => Decision::Deny,
        _ => Decision::Approve,
    };
    match persona {
        Some(p) => match decide(&shared, &id, p, d) {
            Ok(_) => axum::response::Redirect::to("/").into_response(),
            Err(e) => decision_response(Err(e)),
        },
        None => problem(ProblemKind::BadRequest, "unknown persona"),
    }
}

/// Starts a test login as a registered app, the way the app itself would: a signed request for
/// the result (and an age band, if asked), then — in the background — polling and strict
/// verification of the answer with the app's key set, whose outcome the page shows.
async fn ui_test_login(
    AxState(shared): AxState<Shr>,
    axum::extract::Form(form): axum::extract::Form<std::collections::HashMap<String, String>>,
) -> Response {
    let app_id = form.get("app").cloned().unwrap_or_default();
    let (request, asks) = match form.get("kind").map(String::as_str) {
        Some("verify_only") => (
            crate::client::VerificationRequest::verify_only("sandbox test login / 测试登录"),
            Asks::VerifyOnly,
        ),
        _ => (
            crate::client::VerificationRequest::age_tag("sandbox test login / 测试登录"),
            Asks::AgeTag,
        ),
    };
    let signer = shared.lock().apps.get(&app_id).map(|a| a.signer.clone());
    let Some((kid, key)) = signer else {
        return problem(ProblemKind::NotFound, "no app with that id");
    };
    let client = crate::client::NetIdClient::builder(&shared.issuer)
        .app_id(&app_id)
        .signing_key(kid, key)
        .allow_sandbox()
        .poll_interval(Duration::from_millis(500))
        .build();
    let id = {
        let mut s = shared.lock();
        let id = s.test_logins.front().map_or(1, |t| t.id + 1);
        s.test_logins.push_front(TestLogin {
            id,
            authz_id: None,
            app_id: app_id.clone(),
            asks,
            state: TestState::Waiting,
        });
        s.test_logins.truncate(RECENT);
        id
    };
    let set = |state: TestState, authz: Option<String>| {
        let mut s = shared.lock();
        if let Some(t) = s.test_logins.iter_mut().find(|t| t.id == id) {
            t.state = state;
            if authz.is_some() {
                t.authz_id = authz;
            }
        }
    };
    let pending = match client {
        Ok(client) => match client.authorize(request).await {
            Ok(pending) => Some((client, pending)),
            Err(e) => {
                set(TestState::Failed { code: e.code() }, None);
                None
            }
        },
        Err(e) => {
            set(TestState::Failed { code: e.code() }, None);
            None
        }
    };
    if let Some((client, pending)) = pending {
        set(TestState::Waiting, Some(pending.authz_id().to_string()));
        let shared = shared.clone();
        tokio::spawn(async move {
            let state = match client.wait(&pending).await {
                Ok(v) if v.outcome.is_verified() => TestState::Verified {
                    assurance: v.assurance,
                    age_tag: v.age_tag,
                },
                Ok(v) => TestState::Failed {
                    code: match v.outcome {
                        crate::model::VerificationOutcome::NotVerified(r) => r.as_str(),
                        crate::model::VerificationOutcome::Verified => "verified",
                    },
                },
                Err(e) => TestState::Failed { code: e.code() },
            };
            tracing::info!(
                test_login = id,
                authz_id = %pending.authz_id(),
                outcome = match &state {
                    TestState::Verified { .. } => "verified",
                    TestState::Failed { code } => code,
                    TestState::Waiting => "waiting",
                },
                "sandbox: test login finished"
            );
            let mut s = shared.lock();
            if let Some(t) = s.test_logins.iter_mut().find(|t| t.id == id) {
                t.state = state;
            }
        });
    }
    axum::response::Redirect::to("/").into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
