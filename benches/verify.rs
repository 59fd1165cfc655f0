//! Verification cost: raw SM2 verify (to compare with `openssl speed sm2`) and a whole result
//! token (parse, signature, claims). Figures and the OpenSSL reference: benches/README.md.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use netid::crypto::{PrivateKey, SigningKey, sm3};
use netid::token::{TokenSigner, UnverifiedToken, Validation};
use serde_json::json;

const NOW: u64 = 1_800_000_000;

fn sm2(c: &mut Criterion) {
    let key = SigningKey::from(PrivateKey::generate());
    let msg = [0x5au8; 20];
    let sig = key.sign(&msg).unwrap();
    let vk = key.verifying_key().clone();
    c.bench_function("sm2_verify_20_bytes", |b| {
        b.iter(|| vk.verify(black_box(&msg), black_box(&sig)).unwrap())
    });
    c.bench_function("sm2_sign_20_bytes", |b| {
        b.iter(|| key.sign(black_box(&msg)).unwrap())
    });
    let kb = vec![0u8; 1024];
    c.bench_function("sm3_1_kib", |b| b.iter(|| sm3(black_box(&kb))));
}

fn token(c: &mut Criterion) {
    let signer = TokenSigner::new("k1", SigningKey::from(PrivateKey::generate())).unwrap();
    let claims = json!({
        "iss": "https://platform.example", "aud": "app_bench", "iat": NOW - 5, "exp": NOW + 120,
        "jti": "jti-bench", "nonce": "nonce-bench-1", "authz_id": "Q7bX2kP9mZ4vR8tW1nY6cH3sJ5dF0gLa",
        "sub": "pw_3Jk8Qm2ZxV7nR4tYw9LbC1Ae6Ud0Hs", "result": {"status": "verified"},
        "acr": 3, "amr": ["cred", "face"], "age_tag": "adult",
    });
    let token = signer.sign(claims.as_object().unwrap()).unwrap();
    let validation =
        Validation::new("https://platform.example", "app_bench").expect_nonce("nonce-bench-1");
    let vk = signer.signing_key().verifying_key().clone();
    c.bench_function("token_verify_full", |b| {
        b.iter(|| {
            UnverifiedToken::parse(black_box(&token), &validation)
                .unwrap()
                .verify_at(&vk, &validation, NOW)
                .unwrap()
        })
    });
    c.bench_function("token_parse_header_only", |b| {
        b.iter(|| UnverifiedToken::parse(black_box(&token), &validation).unwrap())
    });
}

criterion_group!(benches, sm2, token);
criterion_main!(benches);
