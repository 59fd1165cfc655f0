//! Measures the plaintext-identity rules end to end (issue 11, docs/SECURITY.md): recall over
//! generated identity values of all seven Art. 15 document types, placed in every kind of body,
//! header, cookie, query and path, and false positives over look-alikes, each request sent as a
//! signed-in 网证 user through the full axum stack (the gate, the rules, the detector).
//!
//! ```text
//! cargo run --release --example detector_recall --features axum -- [PER_TYPE] [LOOKALIKES] [SEED]
//! ```
//!
//! Defaults: 15,000 values per document type (105,000 in all, each placed in one of the places
//! below in turn) and 105,000 look-alikes. A value counts as found when the request is refused
//! with 422 `netid.extra_plaintext`; a look-alike counts as a false positive when it is.
//!
//! It serves nothing: requests go to the app in-process, and the figures are printed when it
//! is done. Logs go to standard error, warnings only by default (each refusal is an info event:
//! `RUST_LOG=netid=info` shows them all).

#[path = "common/logging.rs"]
mod logging;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::{get, post};
use netid::axum::NetId;
use netid::model::AuthzId;
use netid::policy::{LoginFlow, LoginStatus, Rules, SessionManager};
use netid::sandbox::{Persona, Sandbox};
use tower::ServiceExt;

/// A small, seeded generator (xorshift64*): the same seed gives the same corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    fn date(&mut self, from: u64, to: u64) -> String {
        let year = from + self.below(to - from + 1);
        let month = 1 + self.below(12);
        let day = 1 + self.below(28);
        format!("{year:04}{month:02}{day:02}")
    }
}

/// GB 11643's ISO 7064 MOD 11-2 check character of 17 digits.
fn check_char(first17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    char::from(b"10X98765432"[(sum % 11) as usize])
}

fn with_check(first17: String) -> String {
    let c = check_char(&first17);
    format!("{first17}{c}")
}

/// One generated value of an Art. 15 document type, and whether it carries a check character
/// (those are found anywhere; the others only beside a label or field name).
fn document(kind: usize, r: &mut Rng) -> (&'static str, String, bool) {
    match kind {
        0 => {
            let area = format!("{}{}", 11 + r.below(55), r.digits(4));
            (
                "resident ID card",
                with_check(format!("{area}{}{}", r.date(1930, 2020), r.digits(3))),
                true,
            )
        }
        1 => {
            let area = ["810000", "820000", "830000"][r.below(3) as usize];
            (
                "HK/Macau/Taiwan residence permit",
                with_check(format!("{area}{}{}", r.date(1930, 2020), r.digits(3))),
                true,
            )
        }
        2 => (
            "foreigner's permanent residence ID card",
            if r.below(2) == 0 {
                // 2023 form: 9 + province + nationality + date + sequence + check.
                with_check(format!(
                    "9{}{}{}{}",
                    11 + r.below(55),
                    r.digits(3),
                    r.date(1940, 2015),
                    r.digits(3)
                ))
            } else {
                // 2017 form: three letters and twelve digits.
                let letters: String = (0..3)
                    .map(|_| char::from(b'A' + r.below(26) as u8))
                    .collect();
                format!("{letters}{}", r.digits(12))
            },
            false,
        ),
        3 => {
            let letter = char::from(b"ABCDFGHJKLMNPQRSTUVWXYZ"[r.below(23) as usize]);
            (
                "passport (citizen settled abroad)",
                format!("E{letter}{}", r.digits(7)),
                false,
            )
        }
        4 => (
            "HK/Macau residents' travel permit",
            format!("{}{}", ["H", "M"][r.below(2) as usize], r.digits(8)),
            false,
        ),
        5 => ("Taiwan residents' travel permit", r.digits(8), false),
        _ => {
            // A legacy 15-digit resident ID: area, YYMMDD (19xx), sequence.
            let area = format!("{}{}", 11 + r.below(55), r.digits(4));
            let date = r.date(1930, 1999);
            (
                "resident ID card, 15-digit",
                format!("{area}{}{}", &date[2..], r.digits(3)),
                false,
            )
        }
    }
}

/// The places a value is put, in turn: (name, needs a label).
const PLACES: [&str; 9] = [
    "JSON, labelled key",
    "JSON, neutral key",
    "form, labelled",
    "query, labelled",
    "multipart, labelled part",
    "text, labelled",
    "header, labelled",
    "cookie, labelled",
    "path segment",
];

/// A request carrying `value` at `place`. Labels are everyday field names for the kind.
fn request(place: usize, value: &str, session: &str) -> Request<Body> {
    let label = "idNo";
    let cookie = format!("netid_session={session}");
    let json = |body: String| {
        Request::post("/echo")
            .header("cookie", &cookie)
            .header("content-type", "application/json")
            .body(Body::from(body))
    };
    let enc = |v: &str| v.replace(' ', "%20");
    let built = match place {
        0 => json(format!(r#"{{"nickname":"bob","{label}":"{value}"}}"#)),
        1 => json(format!(r#"{{"nickname":"bob","note":"{value}"}}"#)),
        2 => Request::post("/echo")
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("nickname=bob&{label}={}", enc(value)))),
        3 => Request::get(format!("/echo?{label}={}", enc(value)))
            .header("cookie", &cookie)
            .body(Body::empty()),
        4 => Request::post("/echo")
            .header("cookie", &cookie)
            .header("content-type", "multipart/form-data; boundary=XyZ")
            .body(Body::from(format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"{label}\"\r\n\r\n{value}\r\n--XyZ--\r\n"
            ))),
        5 => Request::post("/echo")
            .header("cookie", &cookie)
            .header("content-type", "text/plain; charset=utf-8")
            .body(Body::from(format!("证件号码：{value}，请核对。"))),
        6 => Request::get("/echo")
            .header("cookie", &cookie)
            .header("x-id-no", value)
            .body(Body::empty()),
        7 => Request::get("/echo")
            .header("cookie", format!("{cookie}; {label}={}", enc(value)))
            .body(Body::empty()),
        _ => Request::get(format!("/p/{}", enc(value)))
            .header("cookie", &cookie)
            .body(Body::empty()),
    };
    built.unwrap_or_else(|_| Request::new(Body::empty()))
}

/// A look-alike: something an ordinary request carries that is not an identity number.
fn look_alike(i: u64, r: &mut Rng) -> (&'static str, String) {
    match i % 7 {
        0 => (
            "mobile number",
            format!("1{}{}", 3 + r.below(7), r.digits(9)),
        ),
        1 => ("unified social credit code", uscc(r)),
        2 => ("bank card number (Luhn)", luhn(r)),
        3 => (
            "timestamp (ms)",
            format!("{}", 1_500_000_000_000 + r.below(300_000_000_000)),
        ),
        4 => ("UUID", {
            let h = format!("{:016x}{:016x}", r.next(), r.next());
            format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..]
            )
        }),
        5 => (
            "order number (18 digits)",
            format!("{}{}", 1 + r.below(9), r.digits(17)),
        ),
        _ => (
            "snowflake id (19 digits)",
            format!("{}{}", 1 + r.below(9), r.digits(18)),
        ),
    }
}

/// A unified social credit code with a valid GB 32100 check character.
fn uscc(r: &mut Rng) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [u64; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let body: Vec<u64> = (0..17).map(|_| r.below(31)).collect();
    let sum: u64 = body.iter().zip(W).map(|(c, w)| c * w).sum();
    let check = (31 - sum % 31) % 31;
    body.iter()
        .chain(std::iter::once(&check))
        .map(|&c| char::from(CHARS[c as usize]))
        .collect()
}

/// A 16-digit card number with a valid Luhn check digit.
fn luhn(r: &mut Rng) -> String {
    let body = format!("62{}", r.digits(13));
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Every found value is a refusal, and each refusal an info event: only warnings by default.
    logging::init("warn");
    let mut args = std::env::args().skip(1);
    let per_type: u64 = args.next().map_or(Ok(15_000), |a| a.parse())?;
    let look_alikes: u64 = args.next().map_or(Ok(105_000), |a| a.parse())?;
    let seed: u64 = args.next().map_or(Ok(0x5eed_1d15), |a| a.parse())?;

    let sandbox = Sandbox::start().await?;
    let keys = sandbox.register_app("app_recall");
    let client = sandbox.client_builder(&keys).discover().await?;
    let sessions = SessionManager::builder("app_recall")
        .key("s1", &[9u8; 32])
        .build()?;
    let login = LoginFlow::builder(client, sessions).build();
    let start = login.start().await?;
    sandbox.approve(&AuthzId::parse(&start.authz_id)?, Persona::Adult)?;
    let LoginStatus::Completed { session, .. } = login.poll(&start.browser_binding).await? else {
        return Err("the sandbox login did not complete".into());
    };
    let netid = NetId::new(login, Rules::builder().build());
    let app = Router::new()
        .route("/echo", post(|| async { "ok" }).get(|| async { "ok" }))
        .route("/p/{*rest}", get(|| async { "ok" }))
        .layer(netid.layer());

    let refused = |status: u16| status == 422;
    let mut r = Rng(seed | 1);
    println!("| document type | place | values | found | recall |");
    println!("|---|---|---|---|---|");
    let (mut all, mut all_found) = (0u64, 0u64);
    for kind in 0..7 {
        let mut per_place = [(0u64, 0u64); PLACES.len()];
        let mut name = "";
        for i in 0..per_type {
            let (n, value, checked) = document(kind, &mut r);
            name = n;
            // Values without a check character are found beside a label only: they are not
            // put where there is none (a neutral key, a path segment).
            let places: Vec<usize> = (0..PLACES.len())
                .filter(|&p| checked || (p != 1 && p != 8))
                .collect();
            let place = places[(i as usize) % places.len()];
            let status = app
                .clone()
                .oneshot(request(place, &value, &session))
                .await?
                .status()
                .as_u16();
            per_place[place].0 += 1;
            per_place[place].1 += u64::from(refused(status));
        }
        for (place, (n, found)) in per_place.iter().enumerate() {
            if *n > 0 {
                println!(
                    "| {name} | {} | {n} | {found} | {:.2} % |",
                    PLACES[place],
                    100.0 * *found as f64 / *n as f64
                );
            }
            all += n;
            all_found += found;
        }
    }
    println!(
        "\nrecall: {all_found} of {all} = {:.3} %\n",
        100.0 * all_found as f64 / all as f64
    );

    println!("| look-alike | values | flagged |");
    println!("|---|---|---|");
    let mut counts: Vec<(&str, u64, u64)> = Vec::new();
    for i in 0..look_alikes {
        let (name, value) = look_alike(i, &mut r);
        // Under a neutral key, and every 2nd one in a neutral header.
        let req = if i % 2 == 0 {
            request(1, &value, &session)
        } else {
            Request::get("/echo")
                .header("cookie", format!("netid_session={session}"))
                .header("x-request-ref", value.as_str())
                .body(Body::empty())?
        };
        let status = app.clone().oneshot(req).await?.status().as_u16();
        match counts.iter_mut().find(|c| c.0 == name) {
            Some(c) => {
                c.1 += 1;
                c.2 += u64::from(refused(status));
            }
            None => counts.push((name, 1, u64::from(refused(status)))),
        }
    }
    let (mut n, mut fp) = (0, 0);
    for (name, total, flagged) in &counts {
        println!("| {name} | {total} | {flagged} |");
        n += total;
        fp += flagged;
    }
    println!(
        "\nfalse positives: {fp} of {n} = {:.4} %",
        100.0 * fp as f64 / n as f64
    );
    Ok(())
}
