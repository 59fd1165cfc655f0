//! RFC 9457 problem details: the one shape every refusal of the rules takes on the wire.

use serde_json::{Value, json};

/// A refusal, framework-free. Adapters turn it into an HTTP response
/// (`application/problem+json`); applications can replace the rendering. It is also a
/// [`std::error::Error`], so code that drives [`LoginFlow`](super::LoginFlow) directly can use
/// `?`; its `Display` is `status code: detail`, which never holds personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {detail}")]
pub struct Problem {
    /// HTTP status.
    pub status: u16,
    /// Stable code, e.g. `netid.extra_plaintext`.
    pub code: &'static str,
    /// A short, fixed title.
    pub title: &'static str,
    /// What was wrong — names paths and fields, never values.
    pub detail: String,
    /// Extra members (e.g. `locations` for extra plaintext).
    pub extra: Option<Value>,
}

impl Problem {
    /// A problem without extra members.
    pub fn new(
        status: u16,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            title,
            detail: detail.into(),
            extra: None,
        }
    }

    /// The JSON body.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "type": format!("https://netid.example/problems/{}", self.code),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        });
        if let (Some(Value::Object(extra)), Some(map)) = (&self.extra, body.as_object_mut()) {
            for (k, v) in extra {
                map.insert(k.clone(), v.clone());
            }
        }
        body
    }

    /// 401: no (valid) session.
    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(401, "netid.unauthenticated", "Sign-in required", detail)
    }

    /// 500 without internals: what went wrong stays in the log.
    pub fn internal() -> Self {
        Self::new(
            500,
            "netid.internal",
            "Internal error",
            "the request could not be processed",
        )
    }

    /// 403: the user is under 14 and no parent or guardian has consented, so login is refused
    /// (Art. 5 §2 for 网号/网证; PIPL Art. 31 for any way of verifying a child). The one place
    /// this refusal's code, title and detail are written.
    pub fn guardian_consent_required() -> Self {
        Self::new(
            403,
            "netid.guardian_consent_required",
            "A parent's or guardian's consent is needed",
            "Users under 14 need the consent of a parent or guardian to sign in. A parent or \
             guardian can give it in the national network identity app (or the way this \
             service's own verification asks); then sign in again.",
        )
    }

    /// 503: a backing store is unreachable; retry.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(503, "netid.unavailable", "Temporarily unavailable", detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_status_code_and_detail_and_is_an_error() {
        let p = Problem::unavailable("the consent ledger is unreachable; retry");
        assert_eq!(
            p.to_string(),
            "503 netid.unavailable: the consent ledger is unreachable; retry"
        );
        let boxed: Box<dyn std::error::Error> = Box::new(p);
        assert!(boxed.source().is_none());
    }
}
