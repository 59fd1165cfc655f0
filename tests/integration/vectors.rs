//! Every vector under docs/vectors/v1 was made by the `openssl` command line (see
//! docs/vectors/make-vectors.sh); the published GB/T values are written literally. netid must
//! reach the same verdicts.

use netid::ErrorCode;
use netid::crypto::{
    DecryptionKey, DistId, Jwk, PrivateKey, PublicKey, Signature, SignatureFormatError,
    VerifyingKey, hmac_sm3, sm3,
};
use netid::keys::KeySet;
use netid::token::{UnverifiedToken, Validation};
use serde_json::Value;

use crate::support::{load, read_vector_file, s, unhex};

#[test]
fn sm3_matches_gbt_32905_and_openssl() {
    let v = load("sm3.json");
    let published = v["published"].as_array().unwrap();
    assert!(published.len() >= 2);
    for p in published {
        assert_eq!(
            hex::encode(sm3(s(p, "message_ascii").as_bytes())),
            s(p, "digest")
        );
    }
    for case in v["sm3"].as_array().unwrap() {
        assert_eq!(
            hex::encode(sm3(&unhex(case, "message_hex"))),
            s(case, "digest"),
            "{}",
            s(case, "name")
        );
    }
    for case in v["hmac_sm3"].as_array().unwrap() {
        let mac = hmac_sm3(&unhex(case, "key_hex"), &unhex(case, "message_hex"));
        assert_eq!(hex::encode(mac), s(case, "mac"), "{}", s(case, "name"));
        assert!(netid::crypto::hmac_sm3_verify(
            &unhex(case, "key_hex"),
            &unhex(case, "message_hex"),
            &mac
        ));
    }
}

#[test]
fn gbt_32918_5_annex_a_signature_verifies() {
    let v = load("sm2-sign.json");
    let p = &v["published"];
    // The standard's own numbers, independent of OpenSSL's reading of them.
    assert_eq!(
        s(p, "r"),
        "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
    );
    let key = PublicKey::from_hex(s(p, "public_hex")).unwrap();
    let private = PrivateKey::from_hex(s(p, "private_hex")).unwrap();
    assert_eq!(
        private.public_key(),
        &key,
        "public key derives from the published private key"
    );
    let vk = VerifyingKey::from(key);
    let sig = Signature::from_bytes(&[unhex(p, "r"), unhex(p, "s")].concat()).unwrap();
    vk.verify(b"message digest", &sig)
        .expect("the published signature verifies");
    assert!(vk.verify(b"message digesT", &sig).is_err());
    let empty = VerifyingKey::new(vk.public_key().clone(), DistId::new("").unwrap());
    assert!(
        empty.verify(b"message digest", &sig).is_err(),
        "the ID is part of the hash"
    );
    assert_eq!(
        Signature::from_der(&unhex(p, "signature_der_hex")).unwrap(),
        sig
    );
    assert_eq!(hex::encode(sig.to_der()), s(p, "signature_der_hex"));
}

#[test]
fn openssl_signatures_and_the_empty_distid_trap() {
    let v = load("sm2-sign.json");
    for case in v["vectors"].as_array().unwrap() {
        let name = s(case, "name");
        let key = PublicKey::from_hex(s(case, "public_hex")).unwrap();
        let msg = unhex(case, "message_hex");
        let raw = Signature::from_bytes(&unhex(case, "signature_raw_hex")).unwrap();
        let der = Signature::from_der(&unhex(case, "signature_der_hex")).unwrap();
        assert_eq!(raw, der, "{name}: DER and raw forms agree");
        for (distid, expected) in case["verifies_with_distid"].as_object().unwrap() {
            let vk = VerifyingKey::new(key.clone(), DistId::new(distid.as_str()).unwrap());
            assert_eq!(
                vk.verify(&msg, &raw).is_ok(),
                expected.as_bool().unwrap(),
                "{name} with distid {distid:?}"
            );
        }
        let default_ok = VerifyingKey::from(key).verify(&msg, &raw).is_ok();
        assert_eq!(
            default_ok,
            s(case, "expect_default_id") == "valid",
            "{name}"
        );
    }
}

#[test]
fn der_signature_conversion_is_strict() {
    let v = load("sm2-sign.json");
    for case in v["der_conversion"].as_array().unwrap() {
        let name = s(case, "name");
        let got = Signature::from_der(&unhex(case, "der_hex"));
        match s(case, "expect") {
            "ok" => assert_eq!(
                hex::encode(got.unwrap().to_bytes()),
                s(case, "raw_hex"),
                "{name}"
            ),
            code => assert_eq!(got.map(|_| ()).unwrap_err().code(), code, "{name}"),
        }
    }
}

#[test]
fn openssl_ciphertexts_decrypt_in_both_layouts() {
    let v = load("sm2-encrypt.json");
    let key = DecryptionKey::new(PrivateKey::from_hex(s(&v, "private_hex")).unwrap());
    assert_eq!(
        key.encryption_key().public_key().to_hex(),
        s(&v, "public_hex")
    );
    for case in v["vectors"].as_array().unwrap() {
        let name = s(case, "name");
        let plain = unhex(case, "plaintext_hex");
        assert_eq!(
            *key.decrypt(&unhex(case, "ciphertext_c1c3c2_hex")).unwrap(),
            plain,
            "{name} raw"
        );
        assert_eq!(
            *key.decrypt_der(&unhex(case, "ciphertext_der_hex")).unwrap(),
            plain,
            "{name} DER"
        );
    }
    let keys = load("keys/keys.json");
    for case in v["rejections"].as_array().unwrap() {
        let name = s(case, "name");
        let key = match case.get("decrypt_with").and_then(Value::as_str) {
            Some(other) => {
                let k = keys["keys"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|k| s(k, "name") == other)
                    .unwrap();
                DecryptionKey::new(PrivateKey::from_hex(s(k, "private_hex")).unwrap())
            }
            None => key.clone(),
        };
        let err = key
            .decrypt(&unhex(case, "ciphertext_c1c3c2_hex"))
            .unwrap_err();
        assert_eq!(err.code(), s(case, "expect"), "{name}");
    }
}

#[test]
fn key_files_import_in_every_form() {
    let keys = load("keys/keys.json");
    for k in keys["keys"].as_array().unwrap() {
        let name = s(k, "name");
        let private = PrivateKey::from_pkcs8_pem(&read_vector_file(s(k, "private_pem"))).unwrap();
        assert_eq!(*private.to_hex(), s(k, "private_hex"), "{name}");
        let public = PublicKey::from_spki_pem(&read_vector_file(s(k, "public_pem"))).unwrap();
        assert_eq!(&public, private.public_key(), "{name}");
        assert_eq!(public.to_hex(), s(k, "public_hex"));
        assert_eq!(
            PublicKey::from_hex(s(k, "public_hex_no_prefix")).unwrap(),
            public,
            "gmssl form"
        );
        assert_eq!(public.to_hex_xy(), s(k, "public_hex_no_prefix"));
        let jwk = Jwk::from_json(&k["jwk"].to_string()).unwrap();
        assert_eq!(jwk.key, public);
        assert_eq!(jwk.kid, s(k, "kid"));
        assert_eq!(
            jwk.to_json_value(),
            k["jwk"],
            "JWK export matches OpenSSL-derived JWK"
        );
        // A private JWK must never be accepted where public keys travel.
        assert_eq!(
            Jwk::from_json(&k["jwk_private"].to_string())
                .unwrap_err()
                .code(),
            "crypto.key_jwk"
        );
        // Re-export and re-import.
        assert_eq!(
            PublicKey::from_spki_pem(&public.to_spki_pem()).unwrap(),
            public
        );
        assert_eq!(
            PrivateKey::from_pkcs8_pem(&private.to_pkcs8_pem())
                .unwrap()
                .public_key(),
            &public
        );
        for legacy in ["public_pem_legacy_oid", "public_pem_legacy_oid_null"] {
            if let Some(path) = k.get(legacy).and_then(Value::as_str) {
                assert_eq!(
                    PublicKey::from_spki_pem(&read_vector_file(path)).unwrap(),
                    public,
                    "{name} {legacy}"
                );
            }
        }
    }
}

/// Every token case: the verdict and, for rejections, the stable code.
#[tokio::test]
async fn token_cases_reach_the_documented_verdicts() {
    let v = load("tokens.json");
    let val = &v["validation"];
    let now = v["now"].as_u64().unwrap();
    let validation = Validation::new(s(val, "issuer"), s(val, "audience"))
        .expect_nonce(s(val, "nonce"))
        .with_leeway(std::time::Duration::from_secs(
            val["leeway"].as_u64().unwrap(),
        ))
        .unwrap();
    let keys = KeySet::builder()
        .pin_jwks(&read_vector_file("keys/jwks.json"))
        .unwrap()
        .build()
        .unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 60, "the vector file has all its cases");
    let mut failures = Vec::new();
    for case in cases {
        let name = s(case, "name");
        let expect = s(case, "expect");
        let got = match UnverifiedToken::parse(s(case, "token"), &validation) {
            Err(e) => Err(e.code()),
            Ok(t) => match keys.key(t.kid()).await {
                Err(e) => Err(e.code()),
                Ok(k) => t.verify_at(&k, &validation, now).map_err(|e| e.code()),
            },
        };
        match (&got, expect) {
            (Ok(verified), "valid") => {
                assert_eq!(
                    verified.to_json(),
                    case["claims"],
                    "{name}: claims round-trip to their wire form"
                );
                assert_eq!(
                    verified.subject.as_str(),
                    case["claims"]["sub"].as_str().unwrap(),
                    "{name}"
                );
                assert_eq!(
                    verified.authz_id.as_str(),
                    case["claims"]["authz_id"].as_str().unwrap(),
                    "{name}"
                );
            }
            (Err(code), expected) if *code == expected => {}
            _ => failures.push(format!(
                "{name}: expected {expect}, got {:?}",
                got.as_ref().map(|_| "valid")
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Art. 5 §2 (PROTOCOL.md §4.3.1): of the valid cases, exactly the two shapes of "under 14 and
/// no guardian consented" are reported as such — the reason `guardian_consent_required`, and
/// the older `verified` with `under_14` and `guardian_consent: false`.
#[tokio::test]
async fn guardian_consent_missing_is_read_from_both_shapes() {
    let v = load("tokens.json");
    let val = &v["validation"];
    let validation =
        Validation::new(s(val, "issuer"), s(val, "audience")).expect_nonce(s(val, "nonce"));
    let keys = KeySet::builder()
        .pin_jwks(&read_vector_file("keys/jwks.json"))
        .unwrap()
        .build()
        .unwrap();
    let mut missing = Vec::new();
    for case in v["cases"].as_array().unwrap() {
        if s(case, "expect") != "valid" {
            continue;
        }
        let t = UnverifiedToken::parse(s(case, "token"), &validation).unwrap();
        let k = keys.key(t.kid()).await.unwrap();
        let verified = t
            .verify_at(&k, &validation, v["now"].as_u64().unwrap())
            .unwrap();
        if verified.guardian_consent_missing() {
            missing.push(s(case, "name").to_owned());
        }
    }
    assert_eq!(
        missing,
        [
            "valid_under_14_guardian_consent_false",
            "valid_not_verified_guardian_consent_required"
        ]
    );
}

#[tokio::test]
async fn encrypted_fields_in_a_valid_token_decrypt_into_redacting_types() {
    use netid::pii::ExposeSecret;
    let v = load("tokens.json");
    let case = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| s(c, "name") == "valid_fields_with_consent")
        .unwrap();
    let val = &v["validation"];
    let validation =
        Validation::new(s(val, "issuer"), s(val, "audience")).expect_nonce(s(val, "nonce"));
    let keys = KeySet::builder()
        .pin_jwks(&read_vector_file("keys/jwks.json"))
        .unwrap()
        .build()
        .unwrap();
    let t = UnverifiedToken::parse(s(case, "token"), &validation).unwrap();
    let k = keys.key(t.kid()).await.unwrap();
    let verified = t
        .verify_at(&k, &validation, v["now"].as_u64().unwrap())
        .unwrap();
    let enc = verified.fields.as_ref().expect("fields present");
    let consent = verified.consent.as_ref().expect("a receipt covers them");
    assert_eq!(enc.names, consent.fields);
    let rp = load("sm2-encrypt.json");
    let key = DecryptionKey::new(PrivateKey::from_hex(s(&rp, "private_hex")).unwrap());
    let fields = enc.decrypt(&key).unwrap();
    assert_eq!(fields.names(), enc.names);
    if let Some(n) = &fields.id_number {
        assert!(!format!("{fields:?}").contains(n.expose_secret()));
    }
}

#[test]
fn signature_format_errors_are_distinct() {
    assert_eq!(
        Signature::from_bytes(&[1u8; 63]),
        Err(SignatureFormatError::Length)
    );
    assert_eq!(
        Signature::from_bytes(&[0u8; 64]),
        Err(SignatureFormatError::ScalarOutOfRange)
    );
    assert_eq!(
        Signature::from_bytes(&[0xffu8; 64]),
        Err(SignatureFormatError::ScalarOutOfRange)
    );
}

/// RP request signatures made by OpenSSL, checked the way the platform checks them.
#[test]
fn request_signature_vectors() {
    use netid::request_auth::{RequestCredentials, string_to_sign};
    let v = load("request-signature.json");
    let key = VerifyingKey::from(
        PublicKey::from_spki_pem(&read_vector_file("keys/rp-sign.public.pem")).unwrap(),
    );
    let examples = v["examples"].as_array().unwrap();
    let example = |name: &str| examples.iter().find(|e| s(e, "name") == name).unwrap();
    for e in examples {
        let body = unhex(e, "body_hex");
        let ts = e["timestamp"].as_u64().unwrap();
        let sts = string_to_sign(
            s(e, "method"),
            s(e, "path"),
            s(e, "app_id"),
            ts,
            s(e, "nonce"),
            &body,
        );
        assert_eq!(sts, s(e, "string_to_sign"), "{}", s(e, "name"));
        let creds = RequestCredentials::parse(s(e, "authorization")).unwrap();
        assert_eq!(
            (creds.app_id.as_str(), creds.kid.as_str(), creds.timestamp),
            (s(e, "app_id"), s(e, "kid"), ts)
        );
    }
    for check in v["platform_checks"].as_array().unwrap() {
        let now = check["platform_now"].as_u64().unwrap();
        let mut seen = std::collections::HashSet::new();
        let requests = check["requests"].as_array().unwrap();
        let expects = check["expect"].as_array().unwrap();
        for (req, expect) in requests.iter().zip(expects) {
            let e = example(req.as_str().unwrap());
            let body = match check.get("replace_body_hex").and_then(Value::as_str) {
                Some(h) => hex::decode(h).unwrap(),
                None => unhex(e, "body_hex"),
            };
            let creds = RequestCredentials::parse(s(e, "authorization")).unwrap();
            let got = match creds.verify(&key, s(e, "method"), s(e, "path"), &body, now) {
                Err(err) => err.code().to_owned(),
                Ok(()) if !seen.insert(creds.nonce.clone()) => "netid.request_replayed".to_owned(),
                Ok(()) => "ok".to_owned(),
            };
            assert_eq!(got, expect.as_str().unwrap(), "{}", s(check, "name"));
        }
    }
}

/// A webhook signed by OpenSSL with the platform key, checked the way the RP checks it.
#[test]
fn webhook_signature_vector() {
    use netid::request_auth::{WebhookSignature, webhook_string_to_sign};
    let v = load("webhook-signature.json");
    let key = VerifyingKey::from(
        PublicKey::from_spki_pem(&read_vector_file("keys/platform-sign.public.pem")).unwrap(),
    );
    let id = s(&v, "webhook_id");
    let body = s(&v, "body_utf8").as_bytes().to_vec();
    let ts = v["timestamp"].as_u64().unwrap();
    assert_eq!(
        webhook_string_to_sign(id, ts, &body),
        s(&v, "string_to_sign")
    );
    let sig = WebhookSignature::parse(v["headers"]["NetID-Signature"].as_str().unwrap()).unwrap();
    for check in v["receiver_checks"].as_array().unwrap() {
        let body = check
            .get("replace_body_utf8")
            .and_then(Value::as_str)
            .map_or(body.clone(), |b| b.as_bytes().to_vec());
        let got = match sig.verify(&key, id, &body, check["receiver_now"].as_u64().unwrap()) {
            Ok(()) => "ok",
            Err(netid::request_auth::RequestAuthError::Stale) => "stale",
            Err(netid::request_auth::RequestAuthError::SignatureInvalid) => "signature_invalid",
            Err(e) => panic!("unexpected {e}"),
        };
        assert_eq!(got, s(check, "expect"));
    }
}
