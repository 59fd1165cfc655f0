//! Token rules exercised through the public API with netid's own signer (the OpenSSL-made
//! vectors in `vectors.rs` are the independent check; these cover settings and messages).

use std::time::Duration;

use netid::ErrorCode;
use netid::crypto::{CryptoError, PrivateKey, PublicKey, SigningKey, sm3};
use netid::model::{AgeTag, Assurance, VerificationOutcome};
use netid::token::{TokenError, TokenSigner, UnverifiedToken, Validation};
use serde_json::{Value, json};

const NOW: u64 = 1_800_000_000;
const ISS: &str = "https://platform.example";
const APP: &str = "app_test";
const NONCE: &str = "nonce-abcdefgh";

fn signer() -> TokenSigner {
    TokenSigner::new("k1", SigningKey::from(PrivateKey::generate())).unwrap()
}

fn claims() -> Value {
    json!({
        "iss": ISS, "aud": APP, "iat": NOW - 10, "exp": NOW + 100,
        "jti": "j1", "nonce": NONCE, "authz_id": "A".repeat(32), "sub": "pw_1",
        "result": {"status": "verified"}, "acr": 2, "amr": ["pin", "cred"],
        "age_tag": "age_14_to_17",
    })
}

fn validation() -> Validation {
    Validation::new(ISS, APP).expect_nonce(NONCE)
}

fn verify(
    signer: &TokenSigner,
    claims: &Value,
    v: &Validation,
) -> Result<netid::token::Verified<netid::token::ResultClaims>, TokenError> {
    let token = signer.sign(claims.as_object().unwrap()).unwrap();
    UnverifiedToken::parse(&token, v)?.verify_at(signer.signing_key().verifying_key(), v, NOW)
}

#[test]
fn a_good_token_yields_typed_claims_and_its_digest() {
    let s = signer();
    let token = s.sign(claims().as_object().unwrap()).unwrap();
    let t = UnverifiedToken::parse(&token, &validation()).unwrap();
    assert_eq!(t.kid(), "k1");
    let v = t
        .verify_at(s.signing_key().verifying_key(), &validation(), NOW)
        .unwrap();
    assert_eq!(v.assurance, Assurance::CredentialPin);
    assert_eq!(v.age_tag, Some(AgeTag::Age14To17));
    assert_eq!(v.outcome, VerificationOutcome::Verified);
    assert_eq!(v.kid(), "k1");
    assert_eq!(v.token_sm3(), &sm3(token.as_bytes()));
}

#[test]
fn validation_must_name_a_nonce() {
    let s = signer();
    let err = verify(&s, &claims(), &Validation::new(ISS, APP)).unwrap_err();
    assert_eq!(err.code(), "token.config");
    assert_eq!(err.actor(), netid::Actor::Configuration);
    let ok = verify(
        &s,
        &claims(),
        &Validation::new(ISS, APP).dangerous_skip_nonce(),
    );
    assert!(ok.is_ok());
}

#[test]
fn leeway_is_bounded_and_applied() {
    assert_eq!(
        validation()
            .with_leeway(Duration::from_secs(301))
            .unwrap_err()
            .code(),
        "token.config"
    );
    let s = signer();
    let mut c = claims();
    c["exp"] = json!(NOW - 30);
    c["iat"] = json!(NOW - 130);
    assert!(
        verify(&s, &c, &validation()).is_ok(),
        "30 s late is inside the 60 s default"
    );
    let strict = validation().with_leeway(Duration::from_secs(10)).unwrap();
    assert_eq!(verify(&s, &c, &strict).unwrap_err().code(), "token.expired");
}

#[test]
fn size_limit_is_configurable() {
    let s = signer();
    let token = s.sign(claims().as_object().unwrap()).unwrap();
    let small = validation().with_max_token_len(1024).unwrap();
    assert!(token.len() < 1024);
    assert!(UnverifiedToken::parse(&token, &small).is_ok());
    let mut c = claims();
    c["jti"] = json!("j".repeat(128));
    c["iss"] = json!("i".repeat(256));
    c["aud"] = json!(vec!["a".repeat(100); 8]);
    let token = s.sign(c.as_object().unwrap()).unwrap();
    assert_eq!(
        UnverifiedToken::parse(&token, &small).unwrap_err().code(),
        "token.too_large"
    );
    assert!(validation().with_max_token_len(10).is_err());
}

#[test]
fn messages_name_the_rule_never_the_value() {
    let s = signer();
    let secret_nonce = "zzzzSECRETzzzz";
    let v = Validation::new(ISS, APP).expect_nonce(secret_nonce);
    let err = verify(&s, &claims(), &v).unwrap_err();
    assert_eq!(err.code(), "token.nonce");
    assert!(!err.to_string().contains(secret_nonce) && !err.to_string().contains(NONCE));

    let mut c = claims();
    c["sub"] = json!("11010519491231002X with spaces");
    let err = verify(&s, &c, &validation()).unwrap_err();
    assert_eq!(err.code(), "token.claim_invalid");
    assert!(!err.to_string().contains("11010519491231002X"), "{err}");

    let mut c = claims();
    c["11010519491231002X"] = json!(1);
    let err = verify(&s, &c, &validation()).unwrap_err();
    assert_eq!(err.code(), "token.claim_unknown");
    assert!(!err.to_string().contains("11010519491231002X"), "{err}");

    let mut c = claims();
    c["iss"] = json!("https://evil.example/张三");
    let err = verify(&s, &c, &validation()).unwrap_err();
    assert_eq!(err.code(), "token.iss");
    assert!(!err.to_string().contains("evil"), "{err}");
}

/// Art. 2 §2: a 网号 holds no plaintext identity data, so neither may the `sub` derived from it.
#[test]
fn a_sub_holding_an_identity_number_is_refused_by_name_not_value() {
    let s = signer();
    for sub in [
        "11010519491231002X",
        "pw_110105-19491231-002X",
        "pw_440524188001010014",
    ] {
        let mut c = claims();
        c["sub"] = json!(sub);
        let err = verify(&s, &c, &validation()).unwrap_err();
        assert_eq!(err.code(), "token.claim_invalid", "{sub}");
        assert_eq!(err.actor(), netid::Actor::SecurityEvent, "{sub}");
        let text = err.to_string();
        assert!(
            text.contains("`sub`")
                && text.contains("identity number")
                && text.contains("Art. 2 §2"),
            "{text}"
        );
        assert!(!text.contains("1949") && !text.contains("1880"), "{text}");
    }
    // A number whose check character is wrong is not an identity number.
    let mut c = claims();
    c["sub"] = json!("pw_110105194912310021");
    assert!(verify(&s, &c, &validation()).is_ok());
}

/// Art. 5 §2: the platform's answer for an under-14 without a guardian's consent.
#[test]
fn guardian_consent_required_is_a_reason_that_carries_nothing_else() {
    let s = signer();
    let mut c = claims();
    c["result"] = json!({"status": "not_verified", "reason": "guardian_consent_required"});
    c.as_object_mut().unwrap().remove("age_tag");
    let v = verify(&s, &c, &validation()).unwrap();
    assert_eq!(
        v.outcome,
        VerificationOutcome::NotVerified(netid::model::NotVerifiedReason::GuardianConsentRequired)
    );
    assert!(v.guardian_consent_missing());
    // Nothing rides along: no age band, no guardian flag.
    for (claim, value) in [
        ("age_tag", json!("under_14")),
        ("guardian_consent", json!(false)),
    ] {
        let mut c = c.clone();
        c[claim] = value;
        if claim == "guardian_consent" {
            c["age_tag"] = json!("under_14");
        }
        assert_eq!(
            verify(&s, &c, &validation()).unwrap_err().code(),
            "token.inconsistent",
            "{claim}"
        );
    }
}

#[test]
fn wrong_key_is_a_signature_error_and_a_security_event() {
    let s = signer();
    let token = s.sign(claims().as_object().unwrap()).unwrap();
    let other = SigningKey::from(PrivateKey::generate());
    let err = UnverifiedToken::parse(&token, &validation())
        .unwrap()
        .verify_at(other.verifying_key(), &validation(), NOW)
        .unwrap_err();
    assert_eq!(err.code(), "token.signature_invalid");
    assert_eq!(err.actor(), netid::Actor::SecurityEvent);
    // A well-signed token for another app is the relying party's configuration to check.
    let err = verify(
        &signer(),
        &claims(),
        &Validation::new(ISS, "other_app").expect_nonce(NONCE),
    )
    .unwrap_err();
    assert_eq!(
        (err.code(), err.actor()),
        ("token.aud", netid::Actor::Configuration)
    );
}

#[test]
fn typ_can_be_required_to_differ() {
    let s = signer();
    let v = validation().with_typ("netid-webhook+jwt");
    assert_eq!(verify(&s, &claims(), &v).unwrap_err().code(), "token.typ");
}

#[test]
fn public_key_points_are_checked() {
    assert_eq!(
        PublicKey::from_sec1_bytes(&[0]).unwrap_err(),
        CryptoError::PointAtInfinity
    );
    assert_eq!(
        PublicKey::from_xy(&[0; 32], &[0; 32]).unwrap_err(),
        CryptoError::PointAtInfinity
    );
    assert_eq!(
        PublicKey::from_xy(&[1; 32], &[2; 32]).unwrap_err(),
        CryptoError::PointNotOnCurve
    );
    let good = PrivateKey::generate().public_key().to_sec1_bytes();
    let mut compressed = good[..33].to_vec();
    compressed[0] = 0x02;
    assert_eq!(
        PublicKey::from_sec1_bytes(&compressed).unwrap_err().code(),
        "crypto.key_point_encoding"
    );
    assert_eq!(
        PublicKey::from_sec1_bytes(&good[..64]).unwrap_err().code(),
        "crypto.key_point_encoding"
    );
    assert_eq!(
        PublicKey::from_hex("04zz").unwrap_err().code(),
        "crypto.key_hex"
    );
    assert_eq!(
        PublicKey::from_hex(&"ab".repeat(10)).unwrap_err().code(),
        "crypto.key_hex"
    );
    assert_eq!(
        PrivateKey::from_bytes(&[0; 32]).unwrap_err().code(),
        "crypto.key_scalar"
    );
    assert_eq!(
        PrivateKey::from_bytes(&[0xff; 32]).unwrap_err().code(),
        "crypto.key_scalar"
    );
    assert_eq!(
        PublicKey::from_spki_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
            .unwrap_err()
            .code(),
        "crypto.key_pem"
    );
    assert_eq!(
        PublicKey::from_spki_pem("hello").unwrap_err().code(),
        "crypto.key_pem"
    );
}

#[test]
fn secrets_do_not_print() {
    let k = PrivateKey::generate();
    let hex_secret = k.to_hex().to_string();
    for printed in [
        format!("{k:?}"),
        format!("{:?}", SigningKey::from(k.clone())),
        format!("{:?}", netid::crypto::DecryptionKey::new(k.clone())),
    ] {
        assert!(printed.contains("[redacted]"), "{printed}");
        assert!(!printed.contains(&hex_secret), "{printed}");
    }
}
