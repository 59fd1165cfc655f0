//! netid as a production build gets it (default features, no dev-dependencies).
//!
//! What a production build must not contain fails to compile here; each `compile_fail` case has
//! a twin beside it that compiles, so the failure is the missing item, not a typo.
//!
//! The sandbox (it signs results for made-up people) is not there:
//! ```compile_fail
//! let _ = netid::sandbox::Sandbox::start();
//! ```
//! ```compile_fail
//! let _ = netid::sandbox::Persona::Adult;
//! ```
//! …while the client, the key set and the token verifier are:
//! ```
//! let _ = netid::client::NetIdClient::builder("https://platform.example");
//! let _ = netid::keys::KeySet::builder();
//! let _ = netid::token::Validation::new("https://platform.example", "app_1");
//! ```
//! Nor are the adapters, which are opt-in features:
//! ```compile_fail
//! let _ = netid::axum::SESSION_COOKIE;
//! ```
//! ```compile_fail
//! let _ = netid::actix::SESSION_COOKIE;
//! ```
//! ```
//! let _ = netid::policy::SESSION_COOKIE;
//! ```
#![forbid(unsafe_code)]
