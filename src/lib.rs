//! Accept China's national network identity (网号/网证) and keep the rules that come with it.
//!
//! # Where to start
//! A web app: build a [`policy::LoginFlow`] (your client of the national platform and your own
//! session keys) and [`policy::Rules`] (what each route allows), and put them in front of your
//! routes with the [`axum`] layer or the [`actix`] middleware. Handlers take a
//! [`policy::VerifiedUser`] — the same type whichever lawful way the user verified (Art. 7 §3).
//! Everything a web integrator names is in [`prelude`].
//!
//! ```no_run
//! # #[cfg(feature = "axum")]
//! # fn demo(login: netid::policy::LoginFlow) {
//! use axum::{Router, routing::get};
//! use netid::prelude::*;
//!
//! async fn me(user: VerifiedUser) -> String {
//!     format!("hello {}", user.subject())
//! }
//!
//! let netid = AxumNetId::new(login, Rules::builder().build());
//! let app: Router = Router::new().route("/me", get(me));
//! let app = app.merge(netid.routes()).layer(netid.layer());
//! # let _ = app;
//! # }
//! ```
//!
//! The three lines: the gate (`AxumNetId::new`), its login routes (`merge`), its layer
//! (`layer`). On actix-web the same three:
//!
//! ```no_run
//! # #[cfg(feature = "actix")]
//! # fn demo(login: netid::policy::LoginFlow) -> std::io::Result<()> {
//! use actix_web::{App, HttpServer, web};
//! use netid::prelude::*;
//!
//! async fn me(user: VerifiedUser) -> String {
//!     format!("hello {}", user.subject())
//! }
//!
//! let netid = ActixNetId::new(login, Rules::builder().build());
//! let server = HttpServer::new(move || {
//!     App::new()
//!         .route("/me", web::get().to(me))
//!         .configure(|cfg| netid.configure(cfg))
//!         .wrap(netid.middleware())
//! })
//! .bind(("127.0.0.1", 8080))?
//! .run();
//! # let _ = server;
//! # Ok(()) }
//! ```
//! Every request then passes the session check, the route's age gate and — for a
//! user who verified with 网号/网证 — the check that no plaintext identity data comes in
//! (Art. 7 §2), before the handler runs. `cargo run --example quickstart` shows the client
//! alone; `examples/axum_shop.rs` and `examples/actix_shop.rs` a whole shop.
//!
//! A framework other than axum and actix: [`policy::Gate`] is the whole pipeline, framework-free.
//!
//! # Contents
//! - [`crypto`]: SM2 signatures and encryption, SM3, HMAC-SM3, key formats.
//! - [`token`]: the strict verifier of the platform's signed results.
//! - [`keys`]: the platform's key set (pinned keys, JWKS with cache and rotation).
//! - [`model`]: outcome, assurance, age band, document type, pseudonym, consent receipt.
//! - [`pii`]: the types personal data lives in (redacted, zeroized).
//! - [`client`]: the typed async client of the platform.
//! - [`policy`]: the rules in middleware, framework-free ([`policy::Gate`]); adapters in `axum`
//!   and `actix`.
//! - [`request_auth`]: request and webhook signatures.
//! - [`store`]: shared state — replay guard, and the traits Redis and PostgreSQL back.
//! - [`audit`]: the tamper-evident audit log (SM3 hash chain).
//! - [`erasure`]: deletion on request, with a receipt; on withdrawal; and at the end of the
//!   retention period, by a sweep (PIPL Art. 47).
//! - [`error`]: what every error shares: a stable code and who must act.
//!
//! # Verifying a signed result by hand
//! What the client does for you, shown at the lowest level:
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use netid::crypto::{PrivateKey, SigningKey};
//! use netid::keys::KeySet;
//! use netid::token::{TokenSigner, Validation};
//!
//! // The platform signs (in tests, the sandbox does this)…
//! let signer = TokenSigner::new("k1", SigningKey::from(PrivateKey::generate()))?;
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
//! let claims = serde_json::json!({
//!     "iss": "https://platform.example", "aud": "app_1", "iat": now, "exp": now + 60,
//!     "jti": "j1", "nonce": "nonce-1234", "authz_id": "Q7bX2kP9mZ4vR8tW1nY6cH3sJ5dF0gLa",
//!     "sub": "pw_1", "result": {"status": "verified"}, "acr": 1, "amr": ["cred"],
//! });
//! let token = signer.sign(claims.as_object().unwrap())?;
//!
//! // …the relying party verifies with the platform's public key only.
//! let keys = KeySet::pinned([("k1", signer.signing_key().verifying_key().public_key().clone())])?;
//! let validation = Validation::new("https://platform.example", "app_1").expect_nonce("nonce-1234");
//! let verified = keys.verify(&token, &validation).await?;
//! assert!(verified.outcome.is_verified());
//! # Ok(()) }
//! ```
//!
//! # Features
//! None is on by default.
//! - `axum`: the [`axum`] adapter — a tower layer, the [`policy::VerifiedUser`]
//!   extractor, the login routes; `testing::EqualService::check_axum`.
//! - `actix`: the actix-web 4 adapter, the same things for actix.
//! - `sandbox`: the embedded sandbox platform. Never in a production build.
//! - `cli`: the `netid` binary (implies `sandbox`).
//! - `redis`: `store::redis::RedisStore` — replay guard and session revocations in Redis.
//! - `postgres`: the PostgreSQL consent ledger, field vault and audit log.
//!
//! # Security
//! - No `unsafe`, no OpenSSL: RustCrypto `sm2`/`sm3`, `rustls`.
//! - Secrets and personal data print as `[redacted]` and zeroize on drop.
//! - Errors name the failed rule, never a value. Every error has a stable [`ErrorCode::code`]
//!   and an [`Actor`]: whether the user, a retry, the operator or security must act.
//! - Protocol: `docs/PROTOCOL.md` in the repository.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
#[path = "adapters/actix.rs"]
pub mod actix;
pub mod audit;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
#[path = "adapters/axum.rs"]
pub mod axum;
mod b64;
pub mod client;
pub mod clock;
pub mod crypto;
pub mod detect;
pub mod erasure;
pub mod error;
mod json;
mod random;
pub mod request_auth;
#[cfg(feature = "sandbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "sandbox")))]
pub mod sandbox;
pub mod store;

pub use error::{Actor, ErrorCode};
pub mod keys;
pub mod model;
pub mod pii;
pub mod policy;
pub mod problem;
pub mod testing;
pub mod token;

/// The names a web integrator needs, in one import: `use netid::prelude::*;`.
///
/// The client and its requests, the login flow and sessions, the rules and route policies, the
/// age gate, the method-blind user, refusals, and the framework adapter of each enabled feature
/// (`AxumNetId`, `ActixNetId`); and for verifying tokens by hand, the key set and validation.
pub mod prelude {
    #[cfg(feature = "actix")]
    pub use crate::actix::NetId as ActixNetId;
    #[cfg(feature = "axum")]
    pub use crate::axum::NetId as AxumNetId;
    pub use crate::client::{LegalBasis, NetIdClient, VerificationRequest};
    pub use crate::crypto::{DistId, PublicKey};
    pub use crate::error::{Actor, ErrorCode};
    pub use crate::keys::{KeySet, VerifyError};
    pub use crate::model::{
        AgeTag, Assurance, FieldName, IdDocumentType, Pseudonym, VerificationOutcome,
    };
    pub use crate::pii::ExposeSecret;
    pub use crate::policy::{
        AgeGate, IdentityVerifier, LoginFlow, OtherVerification, PlaintextRule, Problem,
        RoutePolicy, Rules, SessionManager, VerifiedUser,
    };
    pub use crate::token::{ResultClaims, Validation, Verified};
}

/// The README's examples, compiled as doctests so they cannot rot. They use the axum adapter
/// and the stores, so they are compiled when those features are on (`--all-features`, as CI
/// does); a plain `cargo test` skips them rather than failing.
#[cfg(all(doctest, feature = "axum", feature = "redis", feature = "postgres"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
