//! The HTTP conventions of the login routes, written once for every adapter: cookie names and
//! flags, where the session token comes from, and the JSON bodies.

use serde_json::{Value, json};

use super::{LoginStart, Problem, VerifiedUser};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "netid_session";
/// The cookie that binds a login in progress to its browser.
pub const LOGIN_COOKIE: &str = "netid_login";
/// Where the login cookie is sent: only to the login routes.
pub(crate) const LOGIN_COOKIE_PATH: &str = "/netid";
/// How long a login may stay in progress, in seconds.
pub(crate) const LOGIN_COOKIE_MAX_AGE: u64 = 600;
/// The session cookie's lifetime; the token inside expires on its own schedule.
pub(crate) const SESSION_COOKIE_MAX_AGE: u64 = 24 * 3600;

/// A `Set-Cookie` value. `HttpOnly` keeps scripts away from it; `SameSite=Lax` keeps it off
/// cross-site POSTs (so the login and logout routes need no CSRF token); `Secure` unless a
/// local-development switch turned it off.
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: u64,
    secure: bool,
) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; HttpOnly; SameSite=Lax; Path={path}; Max-Age={max_age}{secure}")
}

/// A cookie's value from the request's `Cookie` header values; empty values count as absent.
pub(crate) fn cookie_value<'a>(
    cookie_headers: impl IntoIterator<Item = &'a str>,
    name: &str,
) -> Option<String> {
    cookie_headers
        .into_iter()
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// The session token: `Authorization: Bearer …` (API clients) or the session cookie (browsers).
pub(crate) fn session_token<'a>(
    authorization: Option<&str>,
    cookie_headers: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    authorization
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
        .or_else(|| cookie_value(cookie_headers, SESSION_COOKIE))
}

/// The body of `POST /netid/login/start` (201).
pub(crate) fn start_body(start: &LoginStart) -> Value {
    json!({
        "authz_id": start.authz_id, "qr_payload": start.qr_payload,
        "app_link": start.app_link, "expires_at": start.expires_at,
    })
}

/// The body of a completed sign-in (200).
pub(crate) fn signed_in_body(user: &VerifiedUser) -> Value {
    json!({
        "status": "signed_in", "subject": user.subject(),
        "assurance": user.assurance().level(), "age_tag": user.age_tag(),
    })
}

/// The body of a login still in progress (202).
pub(crate) fn pending_body() -> Value {
    json!({ "status": "pending" })
}

/// Polling without the binding cookie.
pub(crate) fn login_unknown() -> Problem {
    Problem::new(
        401,
        "netid.login_unknown",
        "No sign-in in progress",
        "no sign-in was started from this browser",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies() {
        assert_eq!(
            cookie_value(["a=1; netid_session=tok; b=2"], SESSION_COOKIE).as_deref(),
            Some("tok")
        );
        assert_eq!(
            cookie_value(["a=1", "netid_session="], SESSION_COOKIE),
            None
        );
        assert_eq!(
            session_token(Some("Bearer xyz"), ["netid_session=tok"]).as_deref(),
            Some("xyz")
        );
        assert_eq!(
            session_token(Some("Basic xyz"), ["netid_session=tok"]).as_deref(),
            Some("tok")
        );
        let c = set_cookie("n", "v", "/", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("; Secure"));
        assert!(!set_cookie("n", "v", "/", 60, false).contains("Secure"));
    }
}
