//! The places of a request besides its body and query where plaintext identity data can hide:
//! the path, the headers and the cookies (Art. 7 §2 covers whatever the platform takes in, not
//! only bodies). Each is scanned as named text, with the same detector as the body.
//!
//! Header values and cookies are percent-decoded before the scan, and the query of a URL in a
//! header (`Referer: https://shop.example/?realName=%E5%BC%A0…`) is also read as a form, by
//! field name. A header's or a cookie's own name is read as a body's key is: one named as an
//! identity field (`X-Real-Name`, `X-Passport-No`, a cookie `idCardNo`) is identity data
//! whatever its value looks like, so `X-Real-Name: Zhang Wei` is found as
//! `{"realName":"Zhang Wei"}` would be; the standard headers' names are not identity fields.
//!
//! Not scanned, and why (a short list, so that everything else is):
//! - the headers that only describe the transport or the body, and whose values are fixed
//!   tokens a handler never reads as user data: [`UNSCANNED_HEADERS`] and every `sec-*` header
//!   (set by the browser, not by script);
//! - `Authorization`: the session token, or credentials a handler checks but never keeps;
//! - `Cookie` as a whole: each cookie is scanned by name, except netid's own two.

use std::borrow::Cow;

use crate::detect::{Detector, Finding};

/// Headers that are not scanned (lower case). See the module docs.
pub const UNSCANNED_HEADERS: &[&str] = &[
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "authorization",
    "cache-control",
    "connection",
    "content-encoding",
    "content-length",
    "content-type",
    "cookie",
    "dnt",
    "expect",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "keep-alive",
    "pragma",
    "priority",
    "range",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "upgrade-insecure-requests",
];

/// Whether a header (lower case) is not scanned: one of [`UNSCANNED_HEADERS`] or `sec-*`.
///
/// A `match` rather than a search of the list: it runs for every header of every signed-in
/// request. A test keeps the two the same.
fn unscanned(name: &str) -> bool {
    matches!(
        name,
        "accept"
            | "accept-charset"
            | "accept-encoding"
            | "accept-language"
            | "authorization"
            | "cache-control"
            | "connection"
            | "content-encoding"
            | "content-length"
            | "content-type"
            | "cookie"
            | "dnt"
            | "expect"
            | "host"
            | "if-match"
            | "if-modified-since"
            | "if-none-match"
            | "if-range"
            | "if-unmodified-since"
            | "keep-alive"
            | "pragma"
            | "priority"
            | "range"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "upgrade-insecure-requests"
    ) || name.starts_with("sec-")
}

/// A request's headers, as the rules read them: every header's name (lower case) and value.
/// Object-safe, so [`RequestFacts`](super::RequestFacts) can carry any adapter's map.
pub trait HeaderList {
    /// Calls `f` with every header's name (lower case) and value, in order.
    fn each(&self, f: &mut dyn FnMut(&str, &[u8]));
}

impl<T: super::HeaderSource + ?Sized> HeaderList for T {
    fn each(&self, f: &mut dyn FnMut(&str, &[u8])) {
        self.for_each(f);
    }
}

impl std::fmt::Debug for dyn HeaderList + Sync + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HeaderList")
    }
}

/// Findings in the path, the headers and the cookies. Locations are `path[i]` (segment `i`,
/// from 0), `header:NAME` and `cookie:NAME`.
pub(crate) fn scan(
    detector: &Detector,
    path: &str,
    headers: Option<&(dyn HeaderList + Sync)>,
) -> Vec<Finding> {
    let mut named: Vec<(String, String)> = Vec::new();
    let mut queries: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, segment) in path.split('/').filter(|s| !s.is_empty()).enumerate() {
        let value = percent_decode(segment.as_bytes());
        if worth_scanning(&value) {
            named.push((format!("path[{i}]"), value.into_owned()));
        }
    }
    if let Some(headers) = headers {
        headers.each(&mut |name, value| {
            if name == "cookie" {
                for (cookie, value) in cookies(value) {
                    if cookie == super::SESSION_COOKIE.as_bytes()
                        || cookie == super::LOGIN_COOKIE.as_bytes()
                    {
                        continue;
                    }
                    let value = percent_decode(value);
                    let cookie = lossy(cookie);
                    if worth_scanning(&value) || names_data(detector, &cookie, &value) {
                        named.push((format!("cookie:{cookie}"), value.into_owned()));
                    }
                }
            } else if !unscanned(name) {
                // A URL's query (`Referer`, `Origin`, an app's own header): its fields by name,
                // as a handler that parses the URL reads them.
                if let Some(query) = url_query(value) {
                    queries.push((format!("header:{name}"), query.to_vec()));
                }
                let value = percent_decode(value);
                if worth_scanning(&value) || names_data(detector, name, &value) {
                    named.push((format!("header:{name}"), value.into_owned()));
                }
            }
        });
    }
    // Each place with its own name as the field name: a header called `X-Id-Card` or a cookie
    // called `realName` is read as what its name says.
    let mut findings = Vec::new();
    for (place, value) in &named {
        let (kind, name) = split_place(place);
        for mut finding in detector.scan_text(Some(name), value).findings {
            // A header or cookie name is the client's text: it is shown as the detector shows a
            // field name (one holding a run of digits, an ID number say, as its length), never
            // verbatim. A path segment's place (`path[1]`) holds none of the client's text.
            finding.location = match kind {
                "" => place.clone(),
                kind => format!("{kind}{}", finding.location),
            };
            findings.push(finding);
        }
    }
    for (place, query) in queries {
        // A query that is not a valid form is still scanned as the header's text above.
        if let Ok(scan) = detector.scan_form(&query) {
            for mut finding in scan.findings {
                finding.location = format!("{place}?{}", finding.location);
                findings.push(finding);
            }
        }
    }
    findings
}

/// The query of a URL in a header value (after `?`, before `#`), if it has fields (`=`).
fn url_query(value: &[u8]) -> Option<&[u8]> {
    let start = value.iter().position(|b| *b == b'?')? + 1;
    let query = &value[start..];
    let query = &query[..query.iter().position(|b| *b == b'#').unwrap_or(query.len())];
    query.contains(&b'=').then_some(query)
}

/// `("cookie:", "realName")` for `cookie:realName`, `("header:", "x-id")` for `header:x-id`; a
/// path segment has no name: `("", "path[1]")`.
fn split_place(place: &str) -> (&str, &str) {
    for kind in ["cookie:", "header:"] {
        if let Some(name) = place.strip_prefix(kind) {
            return (kind, name);
        }
    }
    ("", place)
}

/// Whether a value can hold anything the detector finds: a digit of any script, or a letter
/// that is not ASCII (a name). Most header values (`keep-alive`, `text/html`) are skipped
/// without a scan.
fn worth_scanning(value: &str) -> bool {
    value.chars().any(|c| c.is_numeric() || !c.is_ascii())
}

/// Whether a header or cookie is named as an identity field of the detector's vocabulary
/// (`X-Real-Name`, `idCardNo`, `X-Birthday`) and holds something: then its value is identity
/// data whatever it looks like (`X-Real-Name: Zhang Wei` has no digit and no Chinese), as a
/// value under that key in a body would be. The name is read as a body's key is, so the
/// standard headers (`User-Agent`, `X-Forwarded-For`, `X-Request-Id`, `Traceparent`…) and
/// names about the data rather than the data (`X-Real-Name-Verified`, `hasIdCard`) never count.
fn names_data(detector: &Detector, name: &str, value: &str) -> bool {
    !value.trim().is_empty() && detector.is_identity_field(name)
}

/// Cookie pairs of one `Cookie` header value (RFC 6265 §5.4: `;`-separated `name=value`); a
/// piece without `=` is no pair.
///
/// With `memchr`, not a byte-by-byte split: every signed-in request sends its ~300-byte session
/// cookie, and splitting it a byte at a time was the largest part of a signed-in GET's cost in
/// the layer (callgrind, `benches/README.md`).
fn cookies(header: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut rest = header;
    std::iter::from_fn(move || {
        while !rest.is_empty() {
            let end = memchr::memchr(b';', rest).unwrap_or(rest.len());
            let pair = rest[..end].trim_ascii();
            rest = rest.get(end + 1..).unwrap_or_default();
            if let Some(eq) = memchr::memchr(b'=', pair) {
                return Some((pair[..eq].trim_ascii(), pair[eq + 1..].trim_ascii()));
            }
        }
        None
    })
}

fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// `%XX` decoded (and `+` kept: it is a space only in forms), lossy UTF-8.
fn percent_decode(bytes: &[u8]) -> Cow<'_, str> {
    if !bytes.contains(&b'%') {
        return lossy(bytes);
    }
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unscanned_match_is_the_documented_list() {
        for name in UNSCANNED_HEADERS {
            assert!(unscanned(name), "{name}");
        }
        assert!(unscanned("sec-fetch-site"));
        // Every name the match accepts is in the list (or `sec-*`): mutate each listed name
        // and ask about names the list does not hold.
        for name in [
            "x-real-name",
            "referer",
            "user-agent",
            "hosts",
            "accepts",
            "te2",
            "",
        ] {
            assert!(!unscanned(name), "{name}");
        }
        let in_match = include_str!("places.rs")
            .split("fn unscanned(")
            .nth(1)
            .and_then(|rest| rest.split(") || name").next())
            .unwrap_or_default()
            .matches('"')
            .count()
            / 2;
        assert_eq!(in_match, UNSCANNED_HEADERS.len());
    }

    proptest::proptest! {
        /// The memchr split finds the pairs RFC 6265's grammar gives, as the plain split on
        /// `;` and `=` does, for any bytes (separators, spaces, pieces without `=` included).
        #[test]
        fn cookie_pairs_are_the_plain_splits(header in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::strategy::Just(b';'), proptest::strategy::Just(b'='),
                proptest::strategy::Just(b' '), proptest::strategy::Just(b'\t'),
                proptest::num::u8::ANY,
            ],
            0..64,
        )) {
            let plain: Vec<(&[u8], &[u8])> = header
                .split(|b| *b == b';')
                .filter_map(|pair| {
                    let pair = pair.trim_ascii();
                    let eq = pair.iter().position(|b| *b == b'=')?;
                    Some((pair[..eq].trim_ascii(), pair[eq + 1..].trim_ascii()))
                })
                .collect();
            proptest::prop_assert_eq!(cookies(&header).collect::<Vec<_>>(), plain);
        }
    }

    fn found(path: &str, headers: &[(&str, &str)]) -> Vec<String> {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        scan(&Detector::new(), path, Some(&map))
            .into_iter()
            .filter(Finding::is_blocking)
            .map(|f| f.location)
            .collect()
    }

    const ID: &str = "11010519491231002X";

    #[test]
    fn finds_identity_numbers_in_every_place() {
        assert_eq!(found(&format!("/users/{ID}/orders"), &[]), ["path[1]"]);
        assert_eq!(found("/users/110105%2019491231002X", &[]), ["path[1]"]);
        assert_eq!(found("/", &[("x-id-card", ID)]), ["header:x-id-card"]);
        assert_eq!(
            found(
                "/",
                &[("referer", &format!("https://a.example/?sfzh={ID}"))]
            ),
            // As text, and its query by field name.
            ["header:referer", "header:referer?sfzh"]
        );
        assert_eq!(
            found("/", &[("cookie", &format!("theme=dark; kyc={ID}"))]),
            ["cookie:kyc"]
        );
        // A URL's query in a header, by field name; a percent-encoded header value.
        assert_eq!(
            found(
                "/",
                &[(
                    "referer",
                    "https://a.example/p?realName=%E5%BC%A0%E4%BC%9F#top"
                )]
            ),
            ["header:referer?realName"]
        );
        assert_eq!(
            found("/", &[("x-note", "110105%2019491231002X")]),
            ["header:x-note"]
        );
        // A cookie split over two Cookie headers, percent-encoded.
        assert_eq!(
            found(
                "/",
                &[("cookie", "a=1"), ("cookie", "id=110105%2019491231002X")]
            ),
            ["cookie:id"]
        );
    }

    #[test]
    fn locations_never_show_identity_data_in_a_name() {
        // A header or cookie name holding an ID number is shown by its length, as a JSON key
        // or a form field name would be (the fuzz target `places` found the name echoed). The
        // number is found twice: in the name and in the value.
        assert_eq!(
            found("/", &[("x-11010519491231002x", ID)]),
            ["header:<20 bytes>", "header:<20 bytes>"]
        );
        assert_eq!(
            found("/", &[("cookie", &format!("a{ID}={ID}"))]),
            ["cookie:<19 bytes>", "cookie:<19 bytes>"]
        );
        // An ordinary name is still shown as it is.
        assert_eq!(found("/", &[("x-id-card", ID)]), ["header:x-id-card"]);
    }

    #[test]
    fn a_header_or_cookie_named_as_an_identity_field_is_identity_data() {
        // No digit, no Chinese: found by the name alone, as under the same key in a body. The
        // location is the name, never the value.
        assert_eq!(
            found("/", &[("x-real-name", "Zhang Wei")]),
            ["header:x-real-name"]
        );
        assert_eq!(
            found("/", &[("x-user-real-name", "zhang wei")]),
            ["header:x-user-real-name"]
        );
        assert_eq!(
            found("/", &[("x-passport-no", "E12345678")]),
            ["header:x-passport-no"]
        );
        assert_eq!(
            found("/", &[("cookie", "theme=dark; realName=Zhang%20Wei")]),
            ["cookie:realName"]
        );
        assert_eq!(
            found("/", &[("cookie", "idCardNo=110105491231002")]),
            ["cookie:idCardNo"]
        );
        // Empty, or about the data rather than the data: nothing.
        assert!(found("/", &[("x-real-name", " ")]).is_empty());
        assert!(found("/", &[("x-real-name-verified", "true")]).is_empty());
        assert!(found("/", &[("cookie", "hasIdCard=yes; idCardVerified=true")]).is_empty());
    }

    #[test]
    fn standard_header_and_cookie_names_are_never_identity_fields() {
        // Request headers of the IANA registry and the common de-facto ones, and the cookie
        // names of common frameworks and analytics: none is read as an identity field.
        let detector = Detector::new();
        for name in [
            "a-im",
            "accept",
            "accept-datetime",
            "access-control-request-headers",
            "access-control-request-method",
            "authorization",
            "baggage",
            "cache-control",
            "cdn-loop",
            "connection",
            "content-md5",
            "content-type",
            "cookie",
            "date",
            "device-memory",
            "downlink",
            "dnt",
            "dpr",
            "early-data",
            "ect",
            "expect",
            "forwarded",
            "from",
            "front-end-https",
            "host",
            "http2-settings",
            "max-forwards",
            "origin",
            "proxy-authorization",
            "proxy-connection",
            "range",
            "referer",
            "rtt",
            "save-data",
            "sec-ch-ua",
            "sec-fetch-dest",
            "sec-websocket-key",
            "te",
            "traceparent",
            "tracestate",
            "user-agent",
            "via",
            "viewport-width",
            "warning",
            "width",
            "x-amzn-trace-id",
            "x-api-key",
            "x-att-deviceid",
            "x-b3-traceid",
            "x-client-cert",
            "x-client-ip",
            "x-correlation-id",
            "x-csrf-token",
            "x-csrftoken",
            "x-device-id",
            "x-forwarded-client-cert",
            "x-forwarded-for",
            "x-forwarded-host",
            "x-forwarded-proto",
            "x-http-method-override",
            "x-id-token",
            "x-original-url",
            "x-real-ip",
            "x-request-id",
            "x-requested-with",
            "x-ssl-client-cert",
            "x-ssl-client-s-dn",
            "x-uidh",
            "x-wap-profile",
            "x-xsrf-token",
            "x-user-id",
            "x-user-name",
            "x-name",
            "x-document-type",
            "x-birthday-campaign",
            "x-passport-theme",
            "x-real-name-verified",
            // Cookies.
            "JSESSIONID",
            "PHPSESSID",
            "ASP.NET_SessionId",
            "connect.sid",
            "csrftoken",
            "XSRF-TOKEN",
            "_ga",
            "_gid",
            "_gat",
            "_fbp",
            "Hm_lvt_1a2b3c",
            "cna",
            "uid",
            "sid",
            "locale",
            "lang",
            "theme",
            "cart",
            "nickname",
            "idCardVerified",
            "hasIdCard",
            "birthday_coupon",
            "dob_prompt_seen",
            "passportTheme",
        ] {
            assert!(!detector.is_identity_field(name), "{name}");
        }
    }

    #[test]
    fn leaves_netids_own_and_the_transport_headers_alone() {
        assert!(found("/", &[("cookie", &format!("netid_session={ID}"))]).is_empty());
        assert!(found("/", &[("authorization", &format!("Bearer {ID}"))]).is_empty());
        assert!(found("/", &[("content-length", "110105194912310021")]).is_empty());
        assert!(found("/", &[("sec-ch-ua", ID)]).is_empty());
        // Ordinary traffic: no findings.
        assert!(
            found(
                "/orders/2024/05/17",
                &[
                    (
                        "user-agent",
                        "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.6099.109"
                    ),
                    ("x-request-id", "3f2a9c1e-8b7d-4e21-9a0f-1c2d3e4f5a6b"),
                    ("cookie", "theme=dark; cart=3"),
                ]
            )
            .is_empty()
        );
    }
}
