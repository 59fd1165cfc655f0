//! Plaintext identity fields under a legal basis (Art. 8 §2): asked for by name, covered by the
//! user's separate consent, encrypted end to end, and decrypted into types that never print.
//!
//! `cargo run --example fields_with_consent` — against the embedded sandbox, on a free port of
//! 127.0.0.1; it prints each step and exits. Logs go to standard error (`RUST_LOG`).

#[path = "common/logging.rs"]
mod logging;

use netid::client::{LegalBasis, VerificationRequest};
use netid::model::FieldName;
use netid::pii::ExposeSecret;
use netid::sandbox::{Persona, Sandbox};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    logging::init("warn,netid=info");
    let sandbox = Sandbox::start().await?;
    let app = sandbox.register_app("app_bank");
    let client = sandbox.client_builder(&app).build()?;

    // The law that obliges the platform to keep these fields, and the fields it covers.
    let basis = LegalBasis::new(
        "《中华人民共和国网络安全法》第二十四条",
        [FieldName::Name, FieldName::IdNumber, FieldName::IdType],
    )?;

    // Asking for more than the basis covers is refused before anything is sent.
    let too_much = VerificationRequest::fields(
        "开立账户",
        [FieldName::Name, FieldName::BirthDate],
        basis.clone(),
    );
    println!(
        "asking for a birth date under this basis: {}",
        too_much.err().ok_or("must fail")?
    );

    let request = VerificationRequest::fields(
        "开立账户 / open an account",
        [FieldName::Name, FieldName::IdNumber, FieldName::IdType],
        basis,
    )?;
    let pending = client.authorize(request).await?;
    sandbox.approve(pending.authz_id(), Persona::HkResident)?;
    let verified = client.wait(&pending).await?;

    let fields = verified.fields.as_ref().ok_or("fields were asked for")?;
    let receipt = verified
        .consent
        .as_ref()
        .ok_or("fields come with their receipt")?;
    println!("\nconsent receipt {}:", receipt.id);
    println!("  purpose      {}", receipt.purpose);
    println!("  legal basis  {}", receipt.legal_basis);
    println!(
        "  fields       {}",
        receipt
            .fields
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("\nthe fields as any log or debug print would show them:\n  {fields:?}");
    let id = fields.id_number.as_ref().ok_or("id number")?;
    println!(
        "\nthe application reads a value only by asking for it explicitly:\n  document {:?}, number of {} characters",
        fields.id_type,
        id.expose_secret().chars().count()
    );
    Ok(())
}
