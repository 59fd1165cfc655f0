//! Re-verification of an account flagged for fraud (Anti-Telecom-Fraud Law Art. 33): a fresh,
//! live verification that must come from the same person.
//!
//! `cargo run --example reverify`

use netid::client::VerificationRequest;
use netid::model::VerificationOutcome;
use netid::sandbox::{Persona, Sandbox};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
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
        let verdict = match result.outcome {
            VerificationOutcome::Verified if result.subject == account.subject => {
                "same person: unfreeze"
            }
            VerificationOutcome::NotVerified(reason) => {
                println!("  platform says not verified: {reason}");
                "not the holder: keep frozen"
            }
            _ => "unexpected",
        };
        println!(
            "re-verification by {who} at {}: {verdict}",
            result.assurance
        );
    }
    Ok(())
}
