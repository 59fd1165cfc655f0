//! What the axum and actix shops share: the setup against the embedded sandbox, the shop's own
//! real-name check (its "other lawful way", Art. 7 §3), and the scripted tour, which talks to
//! the shop over HTTP and so does not care which framework serves it.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use netid::client::VerificationRequest;
use netid::model::{AgeTag, Assurance, AuthzId};
use netid::policy::{
    AgeGate, IdentityVerifier, LoginFlow, OtherVerification, RoutePolicy, Rules, SessionManager,
    VerifiedUser, VerifierError,
};
use netid::sandbox::{Persona, Sandbox};

/// Everything a shop needs, and the sandbox it is registered at (kept alive with it).
pub(crate) struct Shop {
    pub(crate) sandbox: Sandbox,
    pub(crate) login: LoginFlow,
    pub(crate) rules: Rules,
}

/// A shop registered at a fresh sandbox, with its own real-name check beside 网号/网证, and an
/// age gate on `/wine`.
pub(crate) async fn setup() -> Result<Shop, Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start().await?;
    let app_keys = sandbox.register_app("app_shop");
    let client = sandbox.client_builder(&app_keys).discover().await?;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)?;
    let sessions = SessionManager::builder("app_shop")
        .key("session-1", &secret)
        .build()?;
    // The wine route has an age gate, so logins ask for an age band (never a birth date).
    let login = LoginFlow::builder(client, sessions)
        .request(VerificationRequest::age_tag(
            "购买酒类的年龄核验 / age check for wine",
        ))
        .verifier(Arc::new(CounterCheck::new()?))
        .build();
    let rules = Rules::builder()
        .route(
            "/wine",
            RoutePolicy::default().with_age_gate(AgeGate::adults_only()),
        )
        .build();
    Ok(Shop {
        sandbox,
        login,
        rules,
    })
}

/// `POST /wine`, for adults only (the route policy's age gate): the same handler under both
/// frameworks, as `VerifiedUser` is an extractor of each.
pub(crate) async fn buy_wine(user: VerifiedUser) -> String {
    format!(
        "order placed for {} (age band checked, no birth date held)",
        user.subject()
    )
}

/// `POST /profile`: the body reaches the handler only when it holds no extra identity data
/// from a 网证 user.
pub(crate) async fn profile(user: VerifiedUser, body: String) -> String {
    format!("profile of {} updated: {body}", user.subject())
}

/// What `GET /` answers: the routes, and how to sign in (`{framework}` is the server's name).
pub(crate) const INDEX: &str = "\
netid shop ({framework})

  GET  /                      this page
  POST /wine                  buy wine: adults only (age band from the sign-in, never a birth date)
  POST /profile               edit the profile: a 网证 user's ID number is refused (422)
  POST /netid/login/start     start a 网号/网证 sign-in (QR payload, app link, login cookie)
  POST /netid/login/poll      finish it once the identity app approved (session cookie)
  POST /netid/login/other/counter_check
                              sign in with the shop's own real-name check
  POST /netid/logout          sign out
";

/// Where the shop listens: with `NETID_SERVE=1`, `127.0.0.1:$NETID_PORT` (default 3000), so a
/// person can open it; otherwise a free port the system picks, so the scripted tour never
/// collides with anything already on 3000. A `NETID_PORT` that is not a port is an error, not
/// a silent 3000.
pub(crate) fn address() -> Result<(std::net::Ipv4Addr, u16), String> {
    let port = if serving() {
        match std::env::var("NETID_PORT") {
            Ok(p) => p
                .parse()
                .map_err(|_| format!("NETID_PORT={p:?} is not a port (0-65535)"))?,
            Err(_) => 3000,
        }
    } else {
        0
    };
    Ok((std::net::Ipv4Addr::LOCALHOST, port))
}

/// Whether to keep serving after the tour (`NETID_SERVE=1`).
pub(crate) fn serving() -> bool {
    std::env::var("NETID_SERVE").as_deref() == Ok("1")
}

/// The shop's existing real-name check at its counter: a name and a resident ID number whose
/// check character is right. The shop derives the age band from the number and keeps neither:
/// the subject is a keyed digest of the number, so the same person is the same customer, and
/// the band is all the rules see. (A real check also compares the document with the person.)
pub(crate) struct CounterCheck {
    customer_key: [u8; 32],
}

impl CounterCheck {
    /// A counter check with a fresh key for its customer digests.
    pub(crate) fn new() -> Result<Self, getrandom::Error> {
        let mut customer_key = [0u8; 32];
        getrandom::fill(&mut customer_key)?;
        Ok(Self { customer_key })
    }
}

#[async_trait::async_trait]
impl IdentityVerifier for CounterCheck {
    fn method(&self) -> &'static str {
        "counter_check"
    }

    async fn verify(&self, evidence: &[u8]) -> Result<OtherVerification, VerifierError> {
        let refused = |why: &str| VerifierError(why.to_owned());
        let v: serde_json::Value =
            serde_json::from_slice(evidence).map_err(|_| refused("evidence is not JSON"))?;
        let name = v["name"].as_str().unwrap_or_default().trim();
        if name.is_empty() || name.chars().count() > 32 {
            return Err(refused("a name of 1-32 characters is needed"));
        }
        let number = v["id_number"].as_str().unwrap_or_default();
        let birth = resident_id_birth_date(number)
            .ok_or_else(|| refused("not a valid resident ID number"))?;
        let age =
            age_on(birth, today_in_china()).ok_or_else(|| refused("birth date in the future"))?;
        let digest = netid::crypto::hmac_sm3(&self.customer_key, number.as_bytes());
        Ok(OtherVerification {
            subject: hex::encode(&digest[..16]),
            assurance: Assurance::Credential,
            age_tag: Some(match age {
                0..=13 => AgeTag::Under14,
                14..=17 => AgeTag::Age14To17,
                18..=59 => AgeTag::Adult,
                _ => AgeTag::Senior,
            }),
            // A child at the counter comes with a parent, who signs the shop's own form.
            guardian_consent: (age < 14).then_some(v["guardian_signed"] == true),
        })
    }
}

/// The birth date `(year, month, day)` of an 18-character resident ID number whose ISO 7064
/// MOD 11-2 check character is right (GB 11643).
fn resident_id_birth_date(number: &str) -> Option<(u32, u32, u32)> {
    let bytes = number.as_bytes();
    if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
        return None;
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = bytes[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize];
    if bytes[17].to_ascii_uppercase() != check {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| number[r].parse::<u32>().ok();
    let (year, month, day) = (digits(6..10)?, digits(10..12)?, digits(12..14)?);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return None,
    };
    ((1900..=2100).contains(&year) && (1..=days_in_month).contains(&day))
        .then_some((year, month, day))
}

/// Whole years from `birth` to `today`, or `None` if `birth` is after `today`.
fn age_on(birth: (u32, u32, u32), today: (u32, u32, u32)) -> Option<u32> {
    if birth > today {
        return None;
    }
    let had_birthday = (today.1, today.2) >= (birth.1, birth.2);
    Some(today.0 - birth.0 - u32::from(!had_birthday))
}

/// Today's date in China Standard Time (UTC+8).
fn today_in_china() -> (u32, u32, u32) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // H. Hinnant's civil_from_days.
    let z = (secs + 8 * 3600) / 86_400 + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year as u32, month as u32, day as u32)
}

/// The scripted tour: two 网证 users (an adult and a 16-year-old) and a customer of the
/// shop's own check buy wine and fill in the profile form, over HTTP against `base`.
pub(crate) async fn tour(base: &str, sandbox: &Sandbox) -> Result<(), Box<dyn std::error::Error>> {
    let http = reqwest::Client::new();
    for (who, persona) in [
        ("an adult", Persona::Adult),
        ("a 16-year-old", Persona::Minor16),
    ] {
        println!("— {who} signs in with 网号/网证 (the sandbox plays the identity app)");
        let session = sign_in(&http, base, sandbox, persona).await?;
        shop(&http, base, &session).await?;
    }
    println!("— a customer signs in with the shop's own real-name check (equal service)");
    let r = http
        .post(format!("{base}/netid/login/other/counter_check"))
        .body(r#"{"name":"张伟","id_number":"11010519491231002X"}"#)
        .send()
        .await?;
    let session = cookie_of(&r, "netid_session").ok_or("session cookie")?;
    shop(&http, base, &session).await?;
    Ok(())
}

/// Buys wine and sends a profile form that asks for an ID number.
async fn shop(
    http: &reqwest::Client,
    base: &str,
    session: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let buy = http
        .post(format!("{base}/wine"))
        .header("cookie", format!("netid_session={session}"))
        .send()
        .await?;
    println!("  buys wine: {} {}", buy.status(), buy.text().await?);
    let ask = http
        .post(format!("{base}/profile"))
        .header("cookie", format!("netid_session={session}"))
        .header("content-type", "application/json")
        .header("accept-language", "en")
        .body(r#"{"nickname":"bob","idNo":"11010519491231002X"}"#)
        .send()
        .await?;
    println!(
        "  profile form with an ID number: {} {}",
        ask.status(),
        ask.text().await?
    );
    Ok(())
}

async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    sandbox: &Sandbox,
    persona: Persona,
) -> Result<String, Box<dyn std::error::Error>> {
    let start = http
        .post(format!("{base}/netid/login/start"))
        .send()
        .await?;
    let binding = cookie_of(&start, "netid_login").ok_or("login cookie")?;
    let body: serde_json::Value = start.json().await?;
    println!("  QR code payload: {}", body["qr_payload"]);
    let authz = AuthzId::parse(body["authz_id"].as_str().unwrap_or_default())?;
    sandbox.approve(&authz, persona)?;
    let done = http
        .post(format!("{base}/netid/login/poll"))
        .header("cookie", format!("netid_login={binding}"))
        .send()
        .await?;
    Ok(cookie_of(&done, "netid_session").ok_or("session cookie")?)
}

fn cookie_of(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_check_reads_a_resident_id_as_gb_11643_says() {
        // One of the standard's own examples (ID-FORMATS.md): born 1949-12-31, check X.
        assert_eq!(
            resident_id_birth_date("11010519491231002X"),
            Some((1949, 12, 31))
        );
        assert_eq!(
            resident_id_birth_date("110105194912310021"),
            None,
            "wrong check"
        );
        assert_eq!(
            resident_id_birth_date("11010519491331002X"),
            None,
            "month 13"
        );
        assert_eq!(age_on((2010, 6, 1), (2024, 5, 31)), Some(13));
        assert_eq!(age_on((2010, 6, 1), (2024, 6, 1)), Some(14));
        assert_eq!(age_on((2030, 1, 1), (2024, 6, 1)), None);
    }
}
