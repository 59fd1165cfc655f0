//! Live cross-checks against the `openssl` command line, in both directions.

use netid::ErrorCode;
use netid::crypto::{
    DecryptionKey, EncryptionKey, PrivateKey, PublicKey, Signature, SigningKey, VerifyingKey,
    hmac_sm3, sm3,
};
use netid::token::TokenSigner;

use crate::support::{openssl, run_openssl, run_openssl_status};

const DISTID: &str = "distid:1234567812345678";

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn openssl_key(dir: &std::path::Path) -> (String, String) {
    let priv_path = dir.join("k.pem");
    let priv_s = priv_path.to_str().unwrap().to_owned();
    run_openssl(&["genpkey", "-algorithm", "SM2", "-out", &priv_s], b"");
    let pub_pem = run_openssl(&["pkey", "-in", &priv_s, "-pubout"], b"");
    (
        std::fs::read_to_string(&priv_path).unwrap(),
        String::from_utf8(pub_pem).unwrap(),
    )
}

#[test]
fn openssl_signs_netid_verifies() {
    if openssl().is_none() {
        return;
    }
    let dir = tmp();
    let (priv_pem, pub_pem) = openssl_key(dir.path());
    let key_path = dir.path().join("k.pem");
    let public = PublicKey::from_spki_pem(&pub_pem).unwrap();
    assert_eq!(
        PrivateKey::from_pkcs8_pem(&priv_pem).unwrap().public_key(),
        &public
    );
    let vk = VerifyingKey::from(public);
    for msg in [&b"x"[..], b"netid", &[0u8; 1000][..]] {
        let der = run_openssl(
            &[
                "dgst",
                "-sm3",
                "-sign",
                key_path.to_str().unwrap(),
                "-sigopt",
                DISTID,
            ],
            msg,
        );
        let sig = Signature::from_der(&der).unwrap();
        vk.verify(msg, &sig).expect("OpenSSL signature verifies");
        // OpenSSL's default (empty) distinguishing ID: a different Z_A, so it must not verify.
        let der = run_openssl(&["dgst", "-sm3", "-sign", key_path.to_str().unwrap()], msg);
        assert!(vk.verify(msg, &Signature::from_der(&der).unwrap()).is_err());
    }
}

#[test]
fn netid_signs_openssl_verifies() {
    if openssl().is_none() {
        return;
    }
    let dir = tmp();
    let key = SigningKey::from(PrivateKey::generate());
    let pub_path = dir.path().join("pub.pem");
    std::fs::write(&pub_path, key.verifying_key().public_key().to_spki_pem()).unwrap();
    let sig_path = dir.path().join("sig.der");
    for msg in [&b"x"[..], b"netid", &[7u8; 1000][..]] {
        let sig = key.sign(msg).unwrap();
        std::fs::write(&sig_path, sig.to_der()).unwrap();
        let args = [
            "dgst",
            "-sm3",
            "-verify",
            pub_path.to_str().unwrap(),
            "-sigopt",
            DISTID,
            "-signature",
            sig_path.to_str().unwrap(),
        ];
        let (ok, out, _) = run_openssl_status(&args, msg);
        assert!(
            ok && String::from_utf8_lossy(&out).contains("Verified OK"),
            "OpenSSL accepts our signature"
        );
        let mut tampered = msg.to_vec();
        tampered[0] ^= 1;
        assert!(
            !run_openssl_status(&args, &tampered).0,
            "and rejects it over other bytes"
        );
    }
    // Our private key export is readable by OpenSSL and yields the same public key.
    let priv_path = dir.path().join("k.pem");
    std::fs::write(&priv_path, key.private_key().to_pkcs8_pem().as_bytes()).unwrap();
    let pub_pem = run_openssl(
        &["pkey", "-in", priv_path.to_str().unwrap(), "-pubout"],
        b"",
    );
    assert_eq!(
        PublicKey::from_spki_pem(std::str::from_utf8(&pub_pem).unwrap()).unwrap(),
        *key.verifying_key().public_key()
    );
}

#[test]
fn netid_tokens_verify_under_openssl() {
    if openssl().is_none() {
        return;
    }
    let dir = tmp();
    let signer = TokenSigner::new("k1", SigningKey::from(PrivateKey::generate())).unwrap();
    let claims = serde_json::json!({"iss": "x", "sub": "s"});
    let token = signer.sign(claims.as_object().unwrap()).unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    let raw = base64_url_decode(sig);
    let sig = Signature::from_bytes(&raw).unwrap();
    let pub_path = dir.path().join("pub.pem");
    std::fs::write(
        &pub_path,
        signer
            .signing_key()
            .verifying_key()
            .public_key()
            .to_spki_pem(),
    )
    .unwrap();
    let sig_path = dir.path().join("sig.der");
    std::fs::write(&sig_path, sig.to_der()).unwrap();
    let (ok, out, err) = run_openssl_status(
        &[
            "dgst",
            "-sm3",
            "-verify",
            pub_path.to_str().unwrap(),
            "-sigopt",
            DISTID,
            "-signature",
            sig_path.to_str().unwrap(),
        ],
        input.as_bytes(),
    );
    assert!(
        ok,
        "{}{}",
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&err)
    );
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

#[test]
fn encryption_round_trips_with_openssl_both_ways() {
    if openssl().is_none() {
        return;
    }
    let dir = tmp();
    let (priv_pem, pub_pem) = openssl_key(dir.path());
    let key_path = dir.path().join("k.pem");
    let pub_path = dir.path().join("pub.pem");
    std::fs::write(&pub_path, &pub_pem).unwrap();
    let dk = DecryptionKey::new(PrivateKey::from_pkcs8_pem(&priv_pem).unwrap());
    let ek = EncryptionKey::new(PublicKey::from_spki_pem(&pub_pem).unwrap());
    let msg = r#"{"name":"张三","id_number":"11010519491231002X"}"#.as_bytes();
    // OpenSSL encrypts, we decrypt.
    let ct = run_openssl(
        &[
            "pkeyutl",
            "-encrypt",
            "-pubin",
            "-inkey",
            pub_path.to_str().unwrap(),
        ],
        msg,
    );
    assert_eq!(*dk.decrypt_der(&ct).unwrap(), msg);
    // We encrypt, OpenSSL decrypts.
    let ours = ek.encrypt_der(msg).unwrap();
    let back = run_openssl(
        &["pkeyutl", "-decrypt", "-inkey", key_path.to_str().unwrap()],
        &ours,
    );
    assert_eq!(back, msg);
    // Raw C1C3C2 round trip, and tampering is caught by C3.
    let mut raw = ek.encrypt(msg).unwrap();
    assert_eq!(raw.len(), msg.len() + netid::crypto::CIPHERTEXT_OVERHEAD);
    assert_eq!(*dk.decrypt(&raw).unwrap(), msg);
    let last = raw.len() - 1;
    raw[last] ^= 1;
    assert_eq!(dk.decrypt(&raw).unwrap_err().code(), "crypto.decrypt");
    assert_eq!(ek.encrypt(b"").unwrap_err().code(), "crypto.encrypt");
}

#[test]
fn sm3_and_hmac_sm3_match_openssl_on_random_inputs() {
    if openssl().is_none() {
        return;
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for len in [0usize, 1, 55, 56, 63, 64, 65, 1000] {
        let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let out = run_openssl(&["dgst", "-sm3", "-binary"], &data);
        assert_eq!(out, sm3(&data), "SM3 of {len} bytes");
        for key_len in [1usize, 64, 65, 100] {
            let key: Vec<u8> = (0..key_len).map(|_| next() as u8).collect();
            let hexkey = format!("hexkey:{}", hex::encode(&key));
            let out = run_openssl(
                &[
                    "mac", "-digest", "SM3", "-macopt", &hexkey, "-binary", "HMAC",
                ],
                &data,
            );
            assert_eq!(
                out,
                hmac_sm3(&key, &data),
                "HMAC-SM3 key {key_len} data {len}"
            );
        }
    }
}

#[test]
fn foreign_keys_are_refused_with_the_algorithm_code() {
    if openssl().is_none() {
        return;
    }
    let dir = tmp();
    let path = dir.path().join("p256.pem");
    run_openssl(
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            path.to_str().unwrap(),
        ],
        b"",
    );
    let priv_pem = std::fs::read_to_string(&path).unwrap();
    let pub_pem = String::from_utf8(run_openssl(
        &["pkey", "-in", path.to_str().unwrap(), "-pubout"],
        b"",
    ))
    .unwrap();
    assert_eq!(
        PrivateKey::from_pkcs8_pem(&priv_pem).unwrap_err().code(),
        "crypto.key_algorithm"
    );
    assert_eq!(
        PublicKey::from_spki_pem(&pub_pem).unwrap_err().code(),
        "crypto.key_algorithm"
    );
    let ed = dir.path().join("ed.pem");
    run_openssl(
        &[
            "genpkey",
            "-algorithm",
            "ED25519",
            "-out",
            ed.to_str().unwrap(),
        ],
        b"",
    );
    let ed_pub = String::from_utf8(run_openssl(
        &["pkey", "-in", ed.to_str().unwrap(), "-pubout"],
        b"",
    ))
    .unwrap();
    assert_eq!(
        PublicKey::from_spki_pem(&ed_pub).unwrap_err().code(),
        "crypto.key_algorithm"
    );
}
