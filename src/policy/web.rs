//! The HTTP conventions of the login routes, written once for every adapter: cookie names and
//! flags, where the session token comes from, and the JSON bodies.

use serde_json::{Value, json};

use super::{LoginStart, Problem, ProblemKind, VerifiedUser};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "netid_session";
/// The cookie that binds a login in progress to its browser.
pub const LOGIN_COOKIE: &str = "netid_login";
/// Where the login cookie is sent: only to the login routes.
pub(crate) const LOGIN_COOKIE_PATH: &str = "/netid";
/// How long a login may stay in progress, in seconds.
pub(crate) const LOGIN_COOKIE_MAX_AGE: u64 = 600;

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

/// A cookie's value from the request's `Cookie` header values (the first cookie of that name);
/// empty values count as absent, and so do values that are not UTF-8.
pub(crate) fn cookie_value<'a>(
    cookie_headers: impl IntoIterator<Item = &'a [u8]>,
    name: &str,
) -> Option<&'a str> {
    cookie_bytes(cookie_headers, name).and_then(|v| std::str::from_utf8(v).ok())
}

/// A cookie's raw value; empty values count as absent. It reads header bytes split with
/// `memchr`, unchecked, because it runs on every request and a session cookie is a few hundred
/// bytes (`str::split` over checked header strings was measured at a sixth of the layer's cost,
/// the UTF-8 check alone at a tenth).
fn cookie_bytes<'a>(
    cookie_headers: impl IntoIterator<Item = &'a [u8]>,
    name: &str,
) -> Option<&'a [u8]> {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    for header in cookie_headers {
        let mut rest = header;
        loop {
            let end = memchr::memchr(b';', rest).unwrap_or(rest.len());
            let pair = &rest[..end];
            let pair = &pair[pair.iter().take_while(|b| blank(b)).count()..];
            if let Some(value) = pair
                .strip_prefix(name.as_bytes())
                .and_then(|r| r.strip_prefix(b"="))
            {
                let value =
                    &value[..value.len() - value.iter().rev().take_while(|b| blank(b)).count()];
                return (!value.is_empty()).then_some(value);
            }
            match rest.get(end + 1..) {
                Some(next) => rest = next,
                None => break,
            }
        }
    }
    None
}

/// The session token: `Authorization: Bearer …` (API clients) or the session cookie (browsers).
/// A token that is not UTF-8 counts as none.
pub(crate) fn session_token<'a>(
    authorization: Option<&'a [u8]>,
    cookie_headers: impl IntoIterator<Item = &'a [u8]>,
) -> Option<&'a str> {
    session_token_bytes(authorization, cookie_headers).and_then(|t| std::str::from_utf8(t).ok())
}

/// [`session_token`] unchecked, for a lookup among tokens already verified (which are ASCII).
pub(crate) fn session_token_bytes<'a>(
    authorization: Option<&'a [u8]>,
    cookie_headers: impl IntoIterator<Item = &'a [u8]>,
) -> Option<&'a [u8]> {
    authorization
        .and_then(|v| v.strip_prefix(b"Bearer "))
        .map(<[u8]>::trim_ascii)
        .or_else(|| cookie_bytes(cookie_headers, SESSION_COOKIE))
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
    Problem::of(ProblemKind::LoginUnknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The plain reading of RFC 6265 §5.4 pairs, to check the fast one against.
    fn reference<'a>(headers: &[&'a str], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim_matches([' ', '\t']).split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
            .filter(|v| !v.is_empty())
    }

    proptest! {
        #[test]
        fn cookie_value_reads_what_a_plain_split_reads(
            a in "[ \t;=a-z_]{0,40}", b in "[ \t;=a-z_]{0,40}",
            name in prop::sample::select(vec!["netid_session", "a", "n"]),
        ) {
            prop_assert_eq!(
                cookie_value([a.as_bytes(), b.as_bytes()], name),
                reference(&[&a, &b], name)
            );
        }
    }

    #[test]
    fn cookies() {
        assert_eq!(
            cookie_value([&b"a=1; netid_session=tok; b=2"[..]], SESSION_COOKIE),
            Some("tok")
        );
        assert_eq!(
            cookie_value([&b"a=1"[..], b"netid_session="], SESSION_COOKIE),
            None
        );
        // Names match whole: a cookie whose name merely starts with ours is another cookie.
        assert_eq!(
            cookie_value(
                [&b"netid_session_old=x;\tnetid_session=tok ; z=1"[..]],
                SESSION_COOKIE
            ),
            Some("tok")
        );
        assert_eq!(
            cookie_value(
                [&b"xnetid_session=x"[..], b"a=1;netid_session=t2"],
                SESSION_COOKIE
            ),
            Some("t2")
        );
        assert_eq!(cookie_value([&b"netid_session"[..]], SESSION_COOKIE), None);
        // A value that is not UTF-8 is no token; one in another cookie does not matter.
        assert_eq!(
            cookie_value([&b"netid_session=\xff\xfe"[..]], SESSION_COOKIE),
            None
        );
        assert_eq!(
            cookie_value([&b"a=\xff; netid_session=ok"[..]], SESSION_COOKIE),
            Some("ok")
        );
        assert_eq!(
            session_token(Some(b"Bearer xyz "), [&b"netid_session=tok"[..]]),
            Some("xyz")
        );
        assert_eq!(
            session_token(Some(b"Basic xyz"), [&b"netid_session=tok"[..]]),
            Some("tok")
        );
        // Raw for the lookup among remembered tokens; checked for everything else.
        let raw = [&b"netid_session=\xfftok"[..]];
        assert_eq!(session_token_bytes(None, raw), Some(&b"\xfftok"[..]));
        assert_eq!(session_token(None, raw), None);
        let c = set_cookie("n", "v", "/", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("; Secure"));
        assert!(!set_cookie("n", "v", "/", 60, false).contains("Secure"));
    }
}
