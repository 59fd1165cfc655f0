//! No input makes a parser panic. Failures are `Err`, never a crash.

use netid::crypto::{Jwk, PrivateKey, PublicKey, Signature, SigningKey};
use netid::token::{TokenSigner, UnverifiedToken, Validation};
use proptest::prelude::*;

fn validation() -> Validation {
    Validation::new("iss", "aud").expect_nonce("nonce123")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_as_a_token(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes);
        let key = SigningKey::from(PrivateKey::from_bytes(&[7; 32]).unwrap());
        if let Ok(t) = UnverifiedToken::parse(&text, &validation()) {
            let _ = t.verify_at(key.verifying_key(), &validation(), 0);
        }
    }

    #[test]
    fn arbitrary_dotted_segments(a in "[A-Za-z0-9_.=+/-]{0,200}", b in "[A-Za-z0-9_-]{0,300}", c in "[A-Za-z0-9_-]{0,120}") {
        let key = SigningKey::from(PrivateKey::from_bytes(&[7; 32]).unwrap());
        let token = format!("{a}.{b}.{c}");
        if let Ok(t) = UnverifiedToken::parse(&token, &validation()) {
            let _ = t.verify_at(key.verifying_key(), &validation(), 0);
        }
    }

    /// Validly signed tokens with arbitrary payload bytes reach the claim parser.
    #[test]
    fn arbitrary_payloads_with_valid_signatures(payload in proptest::collection::vec(any::<u8>(), 1..512)) {
        let signer = TokenSigner::new("k", SigningKey::from(PrivateKey::from_bytes(&[9; 32]).unwrap())).unwrap();
        let header = br#"{"alg":"SM2-SM3","kid":"k","typ":"netid-result+jwt"}"#;
        let token = signer.sign_raw(header, &payload).unwrap();
        let t = UnverifiedToken::parse(&token, &validation()).unwrap();
        prop_assert!(t.verify_at(signer.signing_key().verifying_key(), &validation(), 0).is_err());
    }

    #[test]
    fn arbitrary_json_values_as_claims(json in arb_json()) {
        let signer = TokenSigner::new("k", SigningKey::from(PrivateKey::from_bytes(&[9; 32]).unwrap())).unwrap();
        let header = br#"{"alg":"SM2-SM3","kid":"k","typ":"netid-result+jwt"}"#;
        let token = signer.sign_raw(header, json.to_string().as_bytes()).unwrap();
        let t = UnverifiedToken::parse(&token, &validation()).unwrap();
        let _ = t.verify_at(signer.signing_key().verifying_key(), &validation(), 0);
    }

    #[test]
    fn arbitrary_key_material(bytes in proptest::collection::vec(any::<u8>(), 0..200), text in ".{0,300}") {
        let _ = PublicKey::from_sec1_bytes(&bytes);
        let _ = PublicKey::from_spki_der(&bytes);
        let _ = PrivateKey::from_pkcs8_der(&bytes);
        let _ = PrivateKey::from_bytes(&bytes);
        let _ = Signature::from_der(&bytes);
        let _ = Signature::from_bytes(&bytes);
        let _ = PublicKey::from_hex(&text);
        let _ = PublicKey::from_spki_pem(&text);
        let _ = PrivateKey::from_pkcs8_pem(&text);
        let _ = Jwk::from_json(&text);
        let _ = netid::keys::parse_jwks(&bytes);
        let _ = netid::keys::parse_jwks(text.as_bytes());
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "[a-z_0-9]{0,40}".prop_map(Value::String),
    ];
    let claim_names = prop_oneof![
        Just("iss"),
        Just("aud"),
        Just("iat"),
        Just("exp"),
        Just("nbf"),
        Just("jti"),
        Just("nonce"),
        Just("authz_id"),
        Just("sub"),
        Just("result"),
        Just("acr"),
        Just("amr"),
        Just("age_tag"),
        Just("guardian_consent"),
        Just("fields"),
        Just("consent"),
        Just("status"),
        Just("reason"),
        Just("names"),
        Just("ct"),
        Just("alg"),
        Just("kid"),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                claim_names.clone().prop_map(str::to_owned),
                inner,
                0..16
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
