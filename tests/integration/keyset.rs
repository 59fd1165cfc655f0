//! The key set against a real HTTP server on loopback: caching, rotation, single-flight
//! refetch, rate limiting, and keeping old keys when the platform is down.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;
use netid::ErrorCode;
use netid::crypto::{Jwk, KeyUse, PrivateKey, SigningKey};
use netid::keys::{KeySet, to_jwks};
use netid::token::{TokenSigner, Validation};
use serde_json::json;
use tokio::sync::RwLock;

#[derive(Clone)]
struct Platform {
    jwks: Arc<RwLock<String>>,
    hits: Arc<AtomicUsize>,
    status: Arc<AtomicU16>,
    cache_control: Arc<RwLock<String>>,
    delay_ms: u64,
}

impl Platform {
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn serve(initial: &[Jwk], delay_ms: u64) -> (String, Platform) {
    let p = Platform {
        jwks: Arc::new(RwLock::new(to_jwks(initial))),
        hits: Arc::new(AtomicUsize::new(0)),
        status: Arc::new(AtomicU16::new(200)),
        cache_control: Arc::new(RwLock::new("max-age=600".into())),
        delay_ms,
    };
    let state = p.clone();
    let app = Router::new().route(
        "/v1/keys",
        get(move || {
            let p = state.clone();
            async move {
                p.hits.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(p.delay_ms)).await;
                let mut headers = HeaderMap::new();
                headers.insert(
                    header::CACHE_CONTROL,
                    p.cache_control.read().await.parse().unwrap(),
                );
                let status = StatusCode::from_u16(p.status.load(Ordering::SeqCst)).unwrap();
                (status, headers, p.jwks.read().await.clone())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/v1/keys"), p)
}

fn key(kid: &str) -> (TokenSigner, Jwk) {
    let sk = SigningKey::from(PrivateKey::generate());
    let jwk = Jwk::new(
        kid,
        KeyUse::Signature,
        sk.verifying_key().public_key().clone(),
    )
    .unwrap();
    (TokenSigner::new(kid, sk).unwrap(), jwk)
}

#[tokio::test]
async fn fetches_once_and_serves_from_cache() {
    let (_, a) = key("a");
    let (url, p) = serve(std::slice::from_ref(&a), 0).await;
    let keys = KeySet::builder().jwks_url(url).build().unwrap();
    assert_eq!(p.hits(), 0, "building does not fetch");
    for _ in 0..5 {
        assert_eq!(keys.key("a").await.unwrap().public_key(), &a.key);
    }
    assert_eq!(p.hits(), 1, "max-age=600 keeps the set cached");
    assert_eq!(keys.kids(), vec!["a".to_owned()]);
}

#[tokio::test]
async fn unknown_kid_refetches_once_then_rate_limits() {
    let (_, a) = key("a");
    let (_, b) = key("b");
    let (url, p) = serve(std::slice::from_ref(&a), 0).await;
    let keys = KeySet::builder()
        .jwks_url(url)
        .min_refetch_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    keys.key("a").await.unwrap();
    assert_eq!(p.hits(), 1);
    // The platform rotates in key b.
    *p.jwks.write().await = to_jwks(&[a.clone(), b.clone()]);
    assert_eq!(
        keys.key("b").await.unwrap().public_key(),
        &b.key,
        "rotation found by refetch"
    );
    assert_eq!(p.hits(), 2);
    // A made-up kid right after: no new fetch within the interval.
    assert_eq!(
        keys.key("made-up").await.unwrap_err().code(),
        "token.unknown_kid"
    );
    assert_eq!(
        keys.key("made-up-2").await.unwrap_err().code(),
        "token.unknown_kid"
    );
    assert_eq!(p.hits(), 2, "refetches are rate-limited");
}

#[tokio::test]
async fn concurrent_callers_share_one_fetch() {
    let (_, a) = key("a");
    let (url, p) = serve(std::slice::from_ref(&a), 300).await;
    let keys = KeySet::builder().jwks_url(url).build().unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let keys = keys.clone();
            tokio::spawn(async move { keys.key("a").await.map(|_| ()) })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(p.hits(), 1, "sixteen callers, one fetch");
}

#[tokio::test]
async fn a_failed_refetch_keeps_the_old_keys() {
    let (signer, a) = key("a");
    let (url, p) = serve(std::slice::from_ref(&a), 0).await;
    // TTL capped to zero: every lookup is stale and tries to refresh.
    let keys = KeySet::builder()
        .jwks_url(url)
        .max_cache_ttl(Duration::ZERO)
        .min_refetch_interval(Duration::ZERO)
        .build()
        .unwrap();
    keys.key("a").await.unwrap();
    p.status.store(503, Ordering::SeqCst);
    let hits = p.hits();
    assert_eq!(
        keys.key("a").await.unwrap().public_key(),
        &a.key,
        "old key still served"
    );
    assert!(p.hits() > hits, "a refresh was attempted");
    // A token under the old key still verifies end to end while the platform is down.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"iss":"i","aud":"app","iat":now,"exp":now+60,"jti":"j","nonce":"nonce-123",
        "authz_id":"B".repeat(32),"sub":"s","result":{"status":"verified"},"acr":1,"amr":["cred"]});
    let token = signer.sign(claims.as_object().unwrap()).unwrap();
    let v = Validation::new("i", "app").expect_nonce("nonce-123");
    assert!(keys.verify(&token, &v).await.is_ok());
    // An unknown kid now: the refetch fails, which is a retryable error, not "unknown kid".
    let err = keys.key("zzz").await.unwrap_err();
    assert_eq!(err.code(), "keys.http_status");
    assert_eq!(err.actor(), netid::Actor::RetryLater);
}

#[tokio::test]
async fn bad_key_sets_are_refused_and_nothing_is_replaced() {
    let (_, a) = key("a");
    let (url, p) = serve(std::slice::from_ref(&a), 0).await;
    let keys = KeySet::builder()
        .jwks_url(url)
        .max_cache_ttl(Duration::ZERO)
        .min_refetch_interval(Duration::ZERO)
        .build()
        .unwrap();
    keys.key("a").await.unwrap();
    let bad_sets = [
        ("{\"keys\":[] , \"keys\":[]}".to_owned(), "keys.jwks_invalid"),
        ("not json".to_owned(), "keys.jwks_invalid"),
        (format!("{{\"keys\":[{0},{0}]}}", a.to_json_value()), "keys.jwks_invalid"),
        (json!({"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","kid":"p","use":"sig","alg":"ES256"}]}).to_string(), "keys.jwks_invalid"),
        (format!("{{\"keys\":[],\"pad\":\"{}\"}}", "x".repeat(70_000)), "keys.jwks_too_large"),
    ];
    for (body, code) in bad_sets {
        *p.jwks.write().await = body;
        let err = keys.refresh().await.unwrap_err();
        assert_eq!(err.code(), code);
        assert_eq!(
            keys.key("a").await.unwrap().public_key(),
            &a.key,
            "the good key survives a bad set ({code})"
        );
    }
}

#[tokio::test]
async fn configuration_is_checked_up_front() {
    assert_eq!(KeySet::builder().build().unwrap_err().code(), "keys.config");
    assert_eq!(
        KeySet::builder()
            .jwks_url("http://platform.example/keys")
            .build()
            .unwrap_err()
            .code(),
        "keys.config"
    );
    assert!(
        KeySet::builder()
            .jwks_url("https://platform.example/keys")
            .build()
            .is_ok()
    );
    let pk = PrivateKey::generate().public_key().clone();
    assert_eq!(
        KeySet::pinned([("a", pk.clone()), ("a", pk.clone())])
            .unwrap_err()
            .code(),
        "keys.config"
    );
    assert_eq!(
        KeySet::pinned([("bad kid!", pk)]).unwrap_err().code(),
        "keys.config"
    );
    // Unreachable server: a retryable fetch error.
    let keys = KeySet::builder()
        .jwks_url("http://127.0.0.1:9/keys")
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let err = keys.key("a").await.unwrap_err();
    assert_eq!(err.code(), "keys.fetch");
    assert_eq!(err.actor(), netid::Actor::RetryLater);
}
