//! The rules a relying party is bound by, framework-free: every rule lives here once, and the
//! axum and actix adapters only translate HTTP to and from it.
//!
//! - [`VerifiedUser`]: the method-blind principal (Art. 7 §3), from 网号/网证 or an
//!   [`IdentityVerifier`].
//! - [`SessionManager`]: the RP's own short-lived session tokens.
//! - [`AgeGate`]: age bands and guardian consent (Art. 5 §2, Art. 10).
//! - [`ConsentLedger`]: consents per field and purpose (Art. 8 §3).
//! - [`Gate`]: the request pipeline and the login routes, for every framework.
//!
//! The detector of plaintext identity data (Art. 7 §2) is [`crate::detect`]; the stores the
//! rules consult ([`ConsentLedger`], [`RevocationStore`]) live in [`crate::store`] and are
//! re-exported here.

mod age;
mod future;
pub(crate) mod gate;
mod login;
mod places;
mod rules;
mod session;
mod session_cache;
pub(crate) mod user;
mod web;

pub use web::{LOGIN_COOKIE, SESSION_COOKIE};

pub use crate::problem::{Lang, Problem, ProblemKind};
pub use crate::store::{
    ConsentError, ConsentLedger, ConsentRecord, Consented, InMemoryConsentLedger,
    InMemoryRevocations, RevocationStore, StoreError,
};
pub use age::AgeGate;
pub use future::GateFuture;
pub use gate::{
    Admission, AdmittedBody, BodyError, ClientAddr, Frontend, Gate, HeaderSource, Immediate,
    LOGIN_BODY_LIMIT, LoginRoute, Reply, RequestHead,
};
pub use login::{LoginFlow, LoginFlowBuilder, LoginStart, LoginStatus, ReverificationStatus};
pub use places::{HeaderList, UNSCANNED_HEADERS};
pub use rules::{
    MAX_LISTED_LOCATIONS, PlaintextRule, RequestFacts, RouteError, RoutePolicy, Rules,
    RulesBuilder, Verdict,
};
pub use session::{
    DEFAULT_MAX_LIFETIME, DEFAULT_TTL, RenewedSession, SessionError, SessionManager,
    SessionManagerBuilder,
};
pub use user::{IdentityVerifier, OtherVerification, VerifiedUser, VerifierError};
