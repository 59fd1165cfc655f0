//! The rules a relying party is bound by, framework-free: every rule lives here once, and the
//! axum and actix adapters only translate HTTP to and from it.
//!
//! - [`VerifiedUser`]: the method-blind principal (Art. 7 §3), from 网号/网证 or an
//!   [`IdentityVerifier`].
//! - [`SessionManager`]: the RP's own short-lived session tokens.
//! - [`AgeGate`]: age bands and guardian consent (Art. 5 §2, Art. 10).
//! - [`ConsentLedger`]: consents per field and purpose (Art. 8 §3).
//! - [`detector`]: plaintext identity data in requests (Art. 7 §2).

mod age;
mod consent;
pub mod detector;
pub(crate) mod gate;
mod login;
mod problem;
mod rules;
mod session;
mod session_cache;
mod store;
pub(crate) mod user;
mod web;

pub use web::{LOGIN_COOKIE, SESSION_COOKIE};

pub use age::AgeGate;
pub use consent::{ConsentError, ConsentLedger, ConsentRecord, Consented, InMemoryConsentLedger};
pub use gate::{
    Admission, AdmittedBody, BodyError, Gate, HeaderSource, Immediate, LOGIN_BODY_LIMIT, Reply,
    RequestHead,
};
pub use login::{LoginFlow, LoginFlowBuilder, LoginStart, LoginStatus};
pub use problem::Problem;
pub use rules::{
    PlaintextRule, RequestFacts, RouteError, RoutePolicy, Rules, RulesBuilder, Verdict,
};
pub use session::{SessionError, SessionManager, SessionManagerBuilder};
pub use store::{InMemoryRevocations, RevocationStore, StoreError};
pub use user::{IdentityVerifier, OtherVerification, VerifiedUser, VerifierError};
