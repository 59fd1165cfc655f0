//! Test helpers for relying parties. [`EqualService`] proves that every route serves a user who
//! verified with 网号/网证 exactly as it serves a user verified another lawful way (Art. 7 §3).

use crate::model::{AgeTag, Assurance};
use crate::policy::user::Method;
use crate::policy::{SessionManager, VerifiedUser};
use serde_json::Value;

/// One request to replay as both kinds of user.
#[derive(Debug, Clone)]
pub struct ServiceRequest {
    /// HTTP method.
    pub method: &'static str,
    /// Path and query.
    pub path: String,
    /// `Content-Type`, if there is a body.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// A response as the comparison sees it.
#[derive(Debug, Clone)]
pub struct ServiceResponse {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// Runs requests as a 网号/网证 user and as a user of another method — same assurance, same age
/// band — and reports every route whose status, content type or body *shape* differs. Body
/// shape: JSON keys and value types (values differ legitimately: the subject ids do); non-JSON
/// bodies must be byte-identical once each user's subject id is masked.
///
/// Routes that are method-specific by nature (the login routes) are declared and skipped.
#[derive(Debug, Clone, Default)]
pub struct EqualService {
    requests: Vec<ServiceRequest>,
    method_specific: Vec<String>,
    assurance: Option<Assurance>,
    age_tag: Option<AgeTag>,
}

/// Where the two kinds of user were served differently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unequal service on {} request(s):\n{}", .0.len(), .0.join("\n"))]
pub struct UnequalService(pub Vec<String>);

impl EqualService {
    /// An empty check (users at assurance R03, age band adult).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a request without a body.
    pub fn get(mut self, path: impl Into<String>) -> Self {
        self.requests.push(ServiceRequest {
            method: "GET",
            path: path.into(),
            content_type: None,
            body: Vec::new(),
        });
        self
    }

    /// Adds a request with a body.
    pub fn send(
        mut self,
        method: &'static str,
        path: impl Into<String>,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Self {
        self.requests.push(ServiceRequest {
            method,
            path: path.into(),
            content_type: Some(content_type.to_owned()),
            body: body.into(),
        });
        self
    }

    /// Declares a path prefix method-specific (skipped), e.g. `/netid/`.
    pub fn method_specific(mut self, prefix: impl Into<String>) -> Self {
        self.method_specific.push(prefix.into());
        self
    }

    /// The users' age band (default adult).
    pub fn age_tag(mut self, tag: AgeTag) -> Self {
        self.age_tag = Some(tag);
        self
    }

    /// Runs the check with `send`, which delivers one request carrying a session token and
    /// returns the response (a closure over the app; `check_axum` wraps an axum `Router`).
    pub async fn check_with<F, Fut>(
        &self,
        sessions: &SessionManager,
        mut send: F,
    ) -> Result<usize, UnequalService>
    where
        F: FnMut(ServiceRequest, String) -> Fut,
        Fut: std::future::Future<Output = ServiceResponse>,
    {
        let user = |subject: &str, method| VerifiedUser {
            subject: subject.to_owned(),
            assurance: self.assurance.unwrap_or(Assurance::CredentialFace),
            age_tag: Some(self.age_tag.unwrap_or(AgeTag::Adult)),
            guardian_consent: None,
            verified_at: crate::request_auth::unix_now(),
            method,
        };
        let netid_user = user("pw_equal_service_netid", Method::NetId);
        let other_user = user(
            "equal-service-other",
            Method::Other("equal_service_test".into()),
        );
        let issue = |u: &VerifiedUser| {
            sessions
                .issue(u)
                .map_err(|e| UnequalService(vec![format!("cannot issue a session: {e}")]))
        };
        let (a, b) = (issue(&netid_user)?, issue(&other_user)?);
        let mut diffs = Vec::new();
        let mut compared = 0;
        for req in &self.requests {
            if self
                .method_specific
                .iter()
                .any(|p| req.path.starts_with(p.as_str()))
            {
                continue;
            }
            let ra = send(req.clone(), a.clone()).await;
            let rb = send(req.clone(), b.clone()).await;
            compared += 1;
            let what = format!("{} {}", req.method, req.path);
            if ra.status != rb.status {
                diffs.push(format!(
                    "{what}: status {} (网证) vs {} (other)",
                    ra.status, rb.status
                ));
                continue;
            }
            if ra.content_type != rb.content_type {
                diffs.push(format!(
                    "{what}: content type {:?} vs {:?}",
                    ra.content_type, rb.content_type
                ));
                continue;
            }
            let mask = |body: &[u8], subject: &str| {
                String::from_utf8_lossy(body).replace(subject, "<subject>")
            };
            let (ba, bb) = (
                mask(&ra.body, &netid_user.subject),
                mask(&rb.body, &other_user.subject),
            );
            match (
                serde_json::from_str::<Value>(&ba),
                serde_json::from_str::<Value>(&bb),
            ) {
                (Ok(ja), Ok(jb)) => {
                    if let Some(d) = shape_diff("$", &ja, &jb) {
                        diffs.push(format!("{what}: body shape differs at {d}"));
                    }
                }
                _ if ba != bb => diffs.push(format!("{what}: bodies differ")),
                _ => {}
            }
        }
        if diffs.is_empty() {
            Ok(compared)
        } else {
            Err(UnequalService(diffs))
        }
    }

    /// Runs the check against an axum app (`Router` with the netid layer).
    #[cfg(feature = "axum")]
    pub async fn check_axum(
        &self,
        router: ::axum::Router,
        sessions: &SessionManager,
    ) -> Result<usize, UnequalService> {
        use tower::ServiceExt;
        self.check_with(sessions, |req, token| {
            let router = router.clone();
            async move {
                let mut b = ::axum::http::Request::builder()
                    .method(req.method)
                    .uri(&req.path)
                    .header("cookie", format!("{}={token}", crate::axum::SESSION_COOKIE));
                if let Some(ct) = &req.content_type {
                    b = b.header("content-type", ct);
                }
                let Ok(request) = b.body(::axum::body::Body::from(req.body)) else {
                    return ServiceResponse {
                        status: 0,
                        content_type: None,
                        body: b"invalid request".to_vec(),
                    };
                };
                match router.oneshot(request).await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let content_type = resp
                            .headers()
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned);
                        let body = ::axum::body::to_bytes(resp.into_body(), 16 << 20)
                            .await
                            .map(|b| b.to_vec())
                            .unwrap_or_default();
                        ServiceResponse {
                            status,
                            content_type,
                            body,
                        }
                    }
                    Err(never) => match never {},
                }
            }
        })
        .await
    }
}

/// The first place two JSON values differ in keys or types.
fn shape_diff(path: &str, a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            if let Some(k) = x
                .keys()
                .find(|k| !y.contains_key(*k))
                .or_else(|| y.keys().find(|k| !x.contains_key(*k)))
            {
                return Some(format!("{path}.{k} (present for one user only)"));
            }
            x.iter()
                .find_map(|(k, v)| shape_diff(&format!("{path}.{k}"), v, &y[k]))
        }
        (Value::Array(x), Value::Array(y)) if x.len() != y.len() => {
            Some(format!("{path} (array lengths {} vs {})", x.len(), y.len()))
        }
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| shape_diff(&format!("{path}[{i}]"), v, w)),
        (x, y) if std::mem::discriminant(x) != std::mem::discriminant(y) => {
            Some(format!("{path} (types differ)"))
        }
        _ => None,
    }
}
