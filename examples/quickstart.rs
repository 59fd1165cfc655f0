//! Quickstart: a 网号/网证 verification end to end, against the embedded sandbox platform —
//! and what the relying party learns from it, and what it does not.
//!
//! `cargo run --example quickstart` — nothing else to install or start. It starts the embedded
//! sandbox platform on a free port of 127.0.0.1, prints each step on standard output and exits;
//! there is nothing to open. Logs go to standard error (`RUST_LOG=netid=debug` for more).

#[path = "common/logging.rs"]
mod logging;

use netid::ErrorCode;
use netid::client::VerificationRequest;
use netid::model::FieldName;
use netid::sandbox::{Fault, Persona, Sandbox};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // netid's own events (warnings; `RUST_LOG=netid=debug` for more) go to standard error.
    logging::init("warn,netid=info");
    // The national platform, in-process on 127.0.0.1 (a real deployment uses the endpoint and
    // keys of its access agreement instead).
    let sandbox = Sandbox::start().await?;
    let app = sandbox.register_app("app_quickstart");
    let client = sandbox.client_builder(&app).discover().await?;
    println!("netid quickstart — sandbox platform at {}\n", sandbox.url());

    // 1. The relying party asks for a verification with an age band, nothing more.
    let pending = client
        .authorize(VerificationRequest::age_tag("注册账号 / account sign-up"))
        .await?;
    println!("1. authorization {} started", pending.authz_id());
    println!("   show this as a QR code: {}", pending.qr_payload());

    // 2. The user scans it with the identity app and approves (the sandbox plays the user).
    sandbox.approve(pending.authz_id(), Persona::Minor16)?;
    println!(
        "2. the user approved in the identity app (sandbox persona `{}`)",
        Persona::Minor16
    );

    // 3. The relying party collects the SM2-signed result and verifies it strictly.
    let verified = client.wait(&pending).await?;
    println!(
        "3. result verified (SM2-SM3 signature, issuer, audience, nonce, expiry, single use)\n"
    );

    println!("What the relying party learned:");
    println!("  outcome        {:?}", verified.outcome);
    println!(
        "  who            {} (a pseudonym for this app only)",
        verified.subject
    );
    println!("  assurance      {}", verified.assurance);
    let band = verified
        .age_tag
        .map_or_else(|| "not asked".to_owned(), |t| t.to_string());
    println!("  age band       {band}");
    println!("  signed by key  {}", verified.kid());
    println!("  audit digest   SM3 {}", hex::encode(verified.token_sm3()));

    let received = |field| {
        let got = verified.fields.as_ref().is_some_and(|f| f.has(field));
        if got {
            "received (encrypted to the RP)"
        } else {
            "not received"
        }
    };
    println!("\nWhat it did not learn:");
    println!("  name           {}", received(FieldName::Name));
    println!("  ID number      {}", received(FieldName::IdNumber));
    println!(
        "  birth date     {} (only the age band above)",
        received(FieldName::BirthDate)
    );
    println!("  the 网号 itself not received: `sub` differs at every relying party");

    // A forged answer is refused, with a stable code and without echoing any data.
    sandbox.inject(Fault::BadSignature);
    let pending = client
        .authorize(VerificationRequest::verify_only("登录 / sign-in"))
        .await?;
    sandbox.approve(pending.authz_id(), Persona::Adult)?;
    let err = client
        .wait(&pending)
        .await
        .err()
        .ok_or("a bad signature must be refused")?;
    println!(
        "\nA result with a corrupted signature is refused: {err} ({}; who acts: {})",
        err.code(),
        err.actor()
    );
    Ok(())
}
