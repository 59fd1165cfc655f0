//! Quickstart: what a relying party learns from a 网号/网证 verification — and what it does not.
//!
//! Until the embedded sandbox platform lands, this plays both sides in one process: it makes a
//! platform signing key, signs a result token the way protocol v1 says the platform does, and
//! then verifies it strictly as the relying party would, with nothing but the platform's public
//! key. Run it with `cargo run --example quickstart`.

use std::time::{SystemTime, UNIX_EPOCH};

use netid::ErrorCode;
use netid::crypto::{PrivateKey, SigningKey};
use netid::keys::KeySet;
use netid::model::FieldName;
use netid::token::{TokenSigner, Validation};
use serde_json::json;

const PLATFORM: &str = "https://sandbox.netid.example";
const APP_ID: &str = "app_quickstart";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // --- The platform's side (the sandbox will do this for you) -------------------------------
    let platform_key = SigningKey::from(PrivateKey::generate());
    let signer = TokenSigner::new("platform-2026-01", platform_key)?;
    let platform_public = signer.signing_key().verifying_key().public_key().clone();

    // The relying party sent this nonce with its authorization request; the platform echoes it.
    let nonce = "n-quickstart-7Yq2";
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let claims = json!({
        "iss": PLATFORM, "aud": APP_ID, "iat": now, "exp": now + 120,
        "jti": "res_0001", "nonce": nonce,
        "authz_id": "Q7bX2kP9mZ4vR8tW1nY6cH3sJ5dF0gLa",
        "sub": "pw_3Jk8Qm2ZxV7nR4tYw9LbC1Ae6Ud0Hs",
        "result": {"status": "verified"},
        "acr": 3, "amr": ["cred", "face"],
        "age_tag": "adult",
    });
    let token = signer.sign(claims.as_object().ok_or("claims are an object")?)?;

    // --- The relying party's side ---------------------------------------------------------------
    let keys = KeySet::pinned([("platform-2026-01", platform_public)])?;
    let validation = Validation::new(PLATFORM, APP_ID).expect_nonce(nonce);
    let verified = keys.verify(&token, &validation).await?;

    println!(
        "netid quickstart — a verification result, checked strictly (SM2-SM3 signature, issuer,"
    );
    println!("audience, nonce, expiry, claim types and consistency)\n");
    println!("What the relying party learned:");
    println!("  outcome        {:?}", verified.outcome);
    println!(
        "  who            {} (a pseudonym for this app only)",
        verified.subject
    );
    println!("  assurance      {}", verified.assurance);
    println!(
        "  age band       {}",
        verified
            .age_tag
            .map_or("not asked".into(), |t| t.to_string())
    );
    println!("  authorization  {} (single use)", verified.authz_id);
    println!("  signed by key  {}", verified.kid());
    println!("  audit digest   SM3 {}", hex::encode(verified.token_sm3()));
    let received = |field| {
        let got = verified
            .fields
            .as_ref()
            .is_some_and(|f| f.names.contains(field));
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

    // A token altered on the way is refused, with a stable code and no data echoed.
    let mut tampered = token.clone();
    tampered.insert(token.find('.').ok_or("a compact token")? + 5, 'A');
    let err = keys
        .verify(&tampered, &validation)
        .await
        .err()
        .ok_or("tampering must fail")?;
    println!(
        "\nA tampered token is refused: {} ({}; who acts: {})",
        err,
        err.code(),
        err.actor()
    );
    Ok(())
}
