//! netid with its default features: the real-key verification path works, and a platform that
//! says it is a sandbox is refused unless the builder opts in.

use netid::ErrorCode;
use netid::client::{ClientError, NetIdClient};
use netid::crypto::{PrivateKey, SigningKey};
use netid::keys::KeySet;
use netid::token::Validation;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn vector(name: &str) -> String {
    let path = format!(
        "{}/../../docs/vectors/v1/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The committed token vectors (signed with OpenSSL, docs/vectors/make-vectors.sh) reach the
/// verdicts the file states, with the platform key pinned from its JWKS: the path a production
/// relying party uses, with no sandbox in the build.
#[tokio::test]
async fn openssl_signed_tokens_verify_with_the_pinned_platform_key() {
    let v: Value = serde_json::from_str(&vector("tokens.json")).unwrap();
    let val = &v["validation"];
    let s = |v: &Value, k: &str| v[k].as_str().unwrap().to_owned();
    let validation = Validation::new(s(val, "issuer"), s(val, "audience"))
        .expect_nonce(s(val, "nonce"))
        .with_leeway(std::time::Duration::from_secs(
            val["leeway"].as_u64().unwrap(),
        ))
        .unwrap();
    let keys = KeySet::builder()
        .pin_jwks(&vector("keys/jwks.json"))
        .unwrap()
        .build()
        .unwrap();
    let now = v["now"].as_u64().unwrap();
    let cases = v["cases"].as_array().unwrap();
    let (mut valid, mut refused) = (0, 0);
    for case in cases {
        let (name, expect) = (s(case, "name"), s(case, "expect"));
        match keys.verify_at(&s(case, "token"), &validation, now).await {
            Ok(verified) => {
                assert_eq!(expect, "valid", "{name}");
                assert_eq!(verified.subject.as_str(), case["claims"]["sub"], "{name}");
                valid += 1;
            }
            Err(e) => {
                assert_eq!(e.code(), expect, "{name}");
                refused += 1;
            }
        }
    }
    assert!(
        valid >= 3 && refused >= 50,
        "{valid} valid, {refused} refused"
    );
}

/// Serves one discovery document on 127.0.0.1 and returns the issuer URL.
async fn platform(sandbox: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let doc = serde_json::json!({
        "issuer": issuer, "protocol_versions": ["1"],
        "jwks_uri": format!("{issuer}/v1/keys"), "sandbox": sandbox,
    })
    .to_string();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut buf = vec![0; 4096];
            let mut read = 0;
            while !buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf[read..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => read += n,
                }
            }
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{doc}",
                doc.len()
            );
            let _ = conn.write_all(response.as_bytes()).await;
        }
    });
    issuer
}

fn builder(issuer: &str) -> netid::client::ClientBuilder {
    NetIdClient::builder(issuer)
        .app_id("app_1")
        .signing_key("rp-1", SigningKey::from(PrivateKey::generate()))
}

/// A platform whose configuration says it is a sandbox is refused by default, with the one
/// call that would allow it named; the same document without the flag is accepted.
#[tokio::test(flavor = "current_thread")]
async fn a_platform_that_says_it_is_a_sandbox_is_refused_by_default() {
    let issuer = platform(true).await;
    match builder(&issuer).discover().await {
        Err(ClientError::Config(msg)) => {
            assert!(
                msg.contains("sandbox") && msg.contains("allow_sandbox()"),
                "{msg}"
            )
        }
        other => panic!("a sandbox platform was not refused: {other:?}"),
    }
    assert!(builder(&issuer).allow_sandbox().discover().await.is_ok());
    let issuer = platform(false).await;
    assert!(builder(&issuer).discover().await.is_ok());
}
