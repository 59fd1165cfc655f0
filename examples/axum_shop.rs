//! A small shop on axum with netid: sign in with 网号/网证 or the shop's own real-name check,
//! buy an age-restricted item, and edit a profile — where asking a 网证 user for an ID number is
//! refused (Art. 7 §2).
//!
//! `cargo run --example axum_shop --features axum` runs a scripted tour against the embedded
//! sandbox and prints each step. Set `NETID_SERVE=1` to keep the shop running afterwards on
//! http://127.0.0.1:3000 (sign in with `POST /netid/login/start`, approve at the sandbox page).

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use netid::axum::NetId;
use netid::client::VerificationRequest;
use netid::model::{AgeTag, Assurance};
use netid::policy::{
    AgeGate, IdentityVerifier, LoginFlow, OtherVerification, RoutePolicy, Rules, SessionManager,
    VerifiedUser, VerifierError,
};
use netid::sandbox::{Persona, Sandbox};

/// The shop's existing real-name check (here: a stand-in that trusts a JSON body).
struct CounterCheck;

#[async_trait::async_trait]
impl IdentityVerifier for CounterCheck {
    fn method(&self) -> &'static str {
        "counter_check"
    }
    async fn verify(&self, evidence: &[u8]) -> Result<OtherVerification, VerifierError> {
        let v: serde_json::Value =
            serde_json::from_slice(evidence).map_err(|_| VerifierError("not JSON".into()))?;
        Ok(OtherVerification {
            subject: v["customer"].as_str().unwrap_or("walk-in").to_owned(),
            assurance: Assurance::CredentialFace,
            age_tag: Some(AgeTag::Adult),
            guardian_consent: None,
        })
    }
}

async fn buy_wine(user: VerifiedUser) -> String {
    format!(
        "order placed for {} (age band checked, no birth date held)",
        user.subject()
    )
}

async fn profile(user: VerifiedUser, body: String) -> String {
    format!("profile of {} updated: {body}", user.subject())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start().await?;
    let app_keys = sandbox.register_app("app_shop");
    let client = sandbox.client_builder(&app_keys).discover().await?;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)?;
    let sessions = SessionManager::builder("app_shop")
        .key("session-1", &secret)
        .build()?;
    // The wine route has an age gate, so the login asks for the age band; by default it asks
    // for the verification result only.
    let login = LoginFlow::builder(client, sessions)
        .request(VerificationRequest::age_tag("登录 / sign-in"))
        .verifier(Arc::new(CounterCheck))
        .build();
    let rules = Rules::builder()
        .route(
            "/wine",
            RoutePolicy::default().with_age_gate(AgeGate::adults_only()),
        )
        .build();
    let netid = NetId::new(login, rules).insecure_cookies_for_local_development();
    let app = Router::new()
        .route("/wine", post(buy_wine))
        .route("/profile", post(profile))
        .route("/", get(|| async { "netid shop" }))
        .merge(netid.routes())
        .layer(netid.layer());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    println!(
        "shop at {base}, identity platform (sandbox) at {}\n",
        sandbox.url()
    );

    let http = reqwest::Client::new();
    for (who, persona) in [
        ("an adult", Persona::Adult),
        ("a 16-year-old", Persona::Minor16),
    ] {
        println!("— {who} signs in with 网号/网证 (the sandbox plays the identity app)");
        let session = sign_in(&http, &base, &sandbox, persona).await?;
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
            .body(r#"{"nickname":"bob","idNo":"11010519491231002X"}"#)
            .send()
            .await?;
        println!(
            "  profile form asks for an ID number: {} {}",
            ask.status(),
            ask.text().await?
        );
    }

    println!("— a customer signs in with the shop's own real-name check (equal service)");
    let r = http
        .post(format!("{base}/netid/login/other/counter_check"))
        .body(r#"{"customer":"c-42"}"#)
        .send()
        .await?;
    let session = cookie_of(&r, "netid_session").ok_or("session cookie")?;
    let buy = http
        .post(format!("{base}/wine"))
        .header("cookie", format!("netid_session={session}"))
        .send()
        .await?;
    println!("  buys wine: {} {}", buy.status(), buy.text().await?);

    if std::env::var("NETID_SERVE").as_deref() == Ok("1") {
        println!("\nserving until Ctrl-C");
        tokio::signal::ctrl_c().await?;
    }
    server.abort();
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
    let authz = netid::model::AuthzId::parse(body["authz_id"].as_str().unwrap_or_default())?;
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
