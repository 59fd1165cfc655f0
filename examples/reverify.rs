//! Re-verification of an account flagged for fraud (Anti-Telecom-Fraud Law Art. 33): a fresh,
//! live verification that must come from the same person.
//!
//! `cargo run --example reverify` — against the embedded sandbox, on a free port of 127.0.0.1;
//! it prints what happened to the account and exits. Logs go to standard error (`RUST_LOG`).

#[path = "common/logging.rs"]
mod logging;

use netid::client::VerificationRequest;
use netid::model::VerificationOutcome;
use netid::sandbox::{Persona, Sandbox};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    logging::init("warn,netid=info");
    let sandbox = Sandbox::start().await?;
    let app = sandbox.register_app("app_wallet");
    let client = sandbox.client_builder(&app).build()?;

    // Sign-up: the account is bound to the user's pseudonym.
    let pending = client
        .authorize(VerificationRequest::verify_only("开户"))
        .await?;
    sandbox.approve(pending.authz_id(), Persona::Adult)?;
    let account = client.wait(&pending).await?.into_claims();
    println!("account opened for {}", account.subject);

    // Months later the anti-fraud review flags it: the holder must verify again, live.
    for (who, persona) in [
        ("the holder", Persona::Adult),
        ("someone else", Persona::Senior67),
    ] {
        let pending = client
            .reverify(
                &account.subject,
                "账户被反诈系统标记 / flagged by anti-fraud review",
            )
            .await?;
        sandbox.approve(pending.authz_id(), persona)?;
        let result = client.wait(&pending).await?;
        // The assurance level means something only for a verified result: a refusal has none
        // worth printing.
        match result.outcome {
            VerificationOutcome::Verified if result.subject == account.subject => println!(
                "re-verification by {who}: verified at {}, the same person: unfreeze",
                result.assurance
            ),
            VerificationOutcome::Verified => {
                println!("re-verification by {who}: verified, but as another person: keep frozen")
            }
            VerificationOutcome::NotVerified(reason) => {
                println!("re-verification by {who}: not verified ({reason}): keep frozen")
            }
        }
    }
    Ok(())
}
