//! The embedded sandbox platform: protocol v1 in-process on `127.0.0.1`, for tests, examples
//! and local development. Feature `sandbox`; never part of a production build.
//!
//! It verifies RP request signatures (rejecting stale and replayed ones), issues pairwise
//! pseudonyms (HMAC-SM3 of a platform secret, the app id and the 网号), encrypts plaintext
//! fields to the RP's key, delivers signed webhooks with retries, plays [`Persona`]s, and
//! injects [`Fault`]s on demand.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use netid::client::VerificationRequest;
//! use netid::sandbox::{Persona, Sandbox};
//!
//! let sandbox = Sandbox::start().await?;
//! let app = sandbox.register_app("app_doc");
//! let client = sandbox.client_builder(&app).build()?;
//! let pending = client.authorize(VerificationRequest::age_tag("注册账号")).await?;
//! sandbox.approve(pending.authz_id(), Persona::Adult)?;
//! let result = client.wait(&pending).await?;
//! assert!(result.outcome.is_verified());
//! # Ok(()) }
//! ```

mod persona;
mod server;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use persona::Persona;

use crate::client::ClientBuilder;
use crate::clock::{Clock, SystemClock};
use crate::crypto::{
    DecryptionKey, EncryptionKey, Jwk, KeyUse, PrivateKey, SigningKey, VerifyingKey,
};
use crate::error::{Actor, ErrorCode};
use crate::keys::{KeySet, to_jwks};
use crate::model::{Assurance, AuthzId, FieldSet};
use crate::token::TokenSigner;

/// Something to go wrong, on purpose. Each fault applies once, to the next request or the next
/// token it concerns; inject it several times for several occurrences.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The next API request is answered with this HTTP status (a problem document).
    HttpStatus(u16),
    /// The next API request is answered only after this delay.
    Delay(Duration),
    /// The next connection is closed without an answer.
    DropConnection,
    /// The next API response body is not JSON.
    MalformedBody,
    /// The next API response body is larger than any client should read (1 MiB).
    OversizedBody,
    /// The next token's signature is corrupted.
    BadSignature,
    /// The next token is signed with a key that is not in the published key set.
    UnknownKid,
    /// The next token is already expired when issued.
    ExpiredToken,
    /// The next approval hands out the previously issued token again.
    ReplayToken,
    /// The next token says more than was asked: an age band and every plaintext field (with a
    /// receipt), whatever the request — so a verify-only answer gets both, and a fields request
    /// that named every field still gets an age band nobody asked for.
    OverShare,
    /// The next token reports `acr` 1, lower than a request's minimum above R01. (Without a
    /// fault, the sandbox answers at the request's minimum.)
    LowerAssurance,
    /// The next token for an under-14 without a guardian's consent
    /// ([`Persona::Minor13WithoutGuardian`]) is `verified`, with `age_tag` `under_14` and
    /// `guardian_consent` `false`, whatever was asked — as platforms built to an earlier draft of
    /// protocol v1 answered (§4.3.1 rule 5), instead of `not_verified` with the reason
    /// `guardian_consent_required`. The token is well-formed; the relying party must still
    /// refuse the login.
    MinorWithoutConsentVerified,
}

impl Fault {
    fn is_token_fault(&self) -> bool {
        matches!(
            self,
            Fault::BadSignature
                | Fault::UnknownKid
                | Fault::ExpiredToken
                | Fault::ReplayToken
                | Fault::OverShare
                | Fault::LowerAssurance
                | Fault::MinorWithoutConsentVerified
        )
    }
}

/// How the user answers in [`Sandbox::decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Approve (and release the requested fields).
    Approve,
    /// Decline.
    Deny,
}

/// Why a sandbox operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The sandbox could not bind its port.
    #[error("the sandbox could not start: {0}")]
    Start(String),
    /// No such authorization.
    #[error("no authorization with that id")]
    NotFound,
    /// The authorization was already decided.
    #[error("the authorization was already decided")]
    AlreadyDecided,
    /// The authorization expired.
    #[error("the authorization expired")]
    Expired,
}

impl SandboxError {
    /// The refusal the sandbox answers with on the wire.
    pub fn problem_kind(&self) -> crate::problem::ProblemKind {
        use crate::problem::ProblemKind;
        match self {
            SandboxError::Start(_) => ProblemKind::Internal,
            SandboxError::NotFound => ProblemKind::NotFound,
            SandboxError::AlreadyDecided => ProblemKind::AuthorizationUsed,
            SandboxError::Expired => ProblemKind::AuthorizationExpired,
        }
    }
}

impl ErrorCode for SandboxError {
    fn code(&self) -> &'static str {
        match self {
            SandboxError::Start(_) => "sandbox.start",
            e => e.problem_kind().code(),
        }
    }
    fn actor(&self) -> Actor {
        Actor::Configuration
    }
}

/// An authorization waiting for the user, as the identity app shows it: which app asks, for
/// what, and why ([`Sandbox::pending_requests`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PendingRequest {
    /// The authorization's id.
    pub authz_id: AuthzId,
    /// The app that asks.
    pub app_id: String,
    /// Why, in the app's own words (the request's `purpose`, or a re-verification's reason).
    pub purpose: String,
    /// What the app would receive on approval.
    pub asks: Asks,
    /// The lowest assurance the app accepts (the user verifies at this level).
    pub min_assurance: Assurance,
    /// When it lapses (Unix seconds).
    pub expires_at: u64,
}

/// What an authorization asks the user to release.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Asks {
    /// The verification result only.
    VerifyOnly,
    /// The result and an age band (never a birth date).
    AgeTag,
    /// The result and these plaintext fields, under this legal basis.
    Fields {
        /// The fields.
        fields: FieldSet,
        /// The law the app names for them.
        legal_basis: String,
    },
    /// A fresh, live verification of an account's holder (R03 or above).
    Reverification,
}

impl Asks {
    /// A short English label: `verify_only`, `age_tag`, `fields`, `reverification` (for logs).
    pub fn label(&self) -> &'static str {
        match self {
            Asks::VerifyOnly => "verify_only",
            Asks::AgeTag => "age_tag",
            Asks::Fields { .. } => "fields",
            Asks::Reverification => "reverification",
        }
    }
}

/// An app registered at the sandbox, with the keys the sandbox made for it.
#[derive(Debug, Clone)]
pub struct SandboxApp {
    /// The app id (the `aud` of its tokens).
    pub app_id: String,
    /// The key id of its request signing key.
    pub signing_kid: String,
    /// Its request signing key.
    pub signing_key: SigningKey,
    /// The key id of its field encryption key.
    pub encryption_kid: String,
    /// Its field decryption key.
    pub decryption_key: DecryptionKey,
}

/// The running sandbox platform. Stops when dropped.
#[derive(Debug)]
pub struct Sandbox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Options for [`Sandbox::start_with`].
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Port on 127.0.0.1 (0 = any free port).
    pub port: u16,
    /// First webhook retry delay (doubles, 8 attempts; default 1 s).
    pub webhook_retry_base: Duration,
    /// Seconds until an undecided authorization expires (default 300).
    pub authorization_ttl: u64,
    /// The platform's clock (default: the system clock): a test shares a
    /// [`ManualClock`](crate::clock::ManualClock) with the client, or gives each its own, to
    /// move time past an expiry or apart without sleeping. Request timestamps, authorization
    /// expiry and the tokens' `iat`/`exp` are all read from it ([`Sandbox::set_clock_skew`]
    /// shifts only the tokens').
    pub clock: Arc<dyn Clock>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            port: 0,
            webhook_retry_base: Duration::from_secs(1),
            authorization_ttl: 300,
            clock: Arc::new(SystemClock),
        }
    }
}

impl Sandbox {
    /// Starts on a random free port of 127.0.0.1.
    pub async fn start() -> Result<Self, SandboxError> {
        Self::start_with(SandboxOptions::default()).await
    }

    /// Starts with options.
    pub async fn start_with(options: SandboxOptions) -> Result<Self, SandboxError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
            .await
            .map_err(|e| SandboxError::Start(e.to_string()))?;
        let addr = listener
            .local_addr()
            .map_err(|e| SandboxError::Start(e.to_string()))?;
        let issuer = format!("http://{addr}");
        let signer = new_signer("sbx-sign-1");
        let mut secret = [0u8; 32];
        crate::random::fill(&mut secret);
        let shared = Arc::new(Shared {
            issuer,
            options,
            secret,
            clock_skew: AtomicI64::new(0),
            state: Mutex::new(State {
                published: vec![jwk_of(&signer)],
                signer,
                key_serial: 1,
                apps: HashMap::new(),
                authorizations: HashMap::new(),
                idempotency: HashMap::new(),
                nonces: HashMap::new(),
                subjects: HashMap::new(),
                http_faults: VecDeque::new(),
                token_faults: VecDeque::new(),
                last_token: None,
                webhook_attempts: HashMap::new(),
                recent: VecDeque::new(),
                test_logins: VecDeque::new(),
            }),
            webhook_http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| SandboxError::Start(e.to_string()))?,
        });
        let server = tokio::spawn(server::serve(listener, shared.clone()));
        Ok(Self {
            shared,
            addr,
            server,
        })
    }

    /// The base URL, which is also the issuer (`iss`): `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.shared.issuer
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The published key set as a JWKS document.
    pub fn jwks(&self) -> String {
        to_jwks(&self.shared.lock().published)
    }

    /// A key set pinned to the keys published now (no fetching).
    pub fn pinned_key_set(&self) -> KeySet {
        let jwks = self.jwks();
        match KeySet::builder().pin_jwks(&jwks).and_then(|b| b.build()) {
            Ok(k) => k,
            Err(_) => unreachable!("the sandbox publishes a valid key set"),
        }
    }

    /// Registers `app_id`, making a request signing key and a field encryption key for it.
    /// Registering the same id again replaces its keys.
    pub fn register_app(&self, app_id: &str) -> SandboxApp {
        let signing_key = SigningKey::from(PrivateKey::generate());
        let decryption_key = DecryptionKey::new(PrivateKey::generate());
        let app = SandboxApp {
            app_id: app_id.to_owned(),
            signing_kid: format!("{app_id}-sign-1"),
            signing_key,
            encryption_kid: format!("{app_id}-enc-1"),
            decryption_key,
        };
        self.shared.lock().apps.insert(
            app.app_id.clone(),
            AppRecord {
                signing_keys: HashMap::from([(
                    app.signing_kid.clone(),
                    app.signing_key.verifying_key().clone(),
                )]),
                encryption: (
                    app.encryption_kid.clone(),
                    app.decryption_key.encryption_key(),
                ),
                signer: (app.signing_kid.clone(), app.signing_key.clone()),
                key_location: None,
            },
        );
        app
    }

    /// Shows `location` on the sandbox page as where `app_id`'s keys are (the `netid sandbox`
    /// command writes them to files). Unknown app ids are ignored.
    pub fn set_key_location(&self, app_id: &str, location: impl Into<String>) {
        if let Some(app) = self.shared.lock().apps.get_mut(app_id) {
            app.key_location = Some(location.into());
        }
    }

    /// A client builder for `app`, ready for this sandbox: issuer, keys, `allow_sandbox`, and
    /// fast polling and retries.
    pub fn client_builder(&self, app: &SandboxApp) -> ClientBuilder {
        crate::client::NetIdClient::builder(self.url())
            .app_id(&app.app_id)
            .signing_key(&app.signing_kid, app.signing_key.clone())
            .decryption_key(&app.encryption_kid, app.decryption_key.clone())
            .allow_sandbox()
            .poll_interval(Duration::from_millis(20))
            .retry_policy(crate::client::RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_millis(20),
                max_delay: Duration::from_millis(200),
            })
            .timeout(Duration::from_secs(5))
    }

    /// Plays the user: `persona` answers authorization `authz_id`. The personas `declines` and
    /// `never_answers` behave as their names say whatever `decision` is.
    pub fn decide(
        &self,
        authz_id: &AuthzId,
        persona: Persona,
        decision: Decision,
    ) -> Result<(), SandboxError> {
        server::decide(&self.shared, authz_id.as_str(), persona, decision).map(|_| ())
    }

    /// `persona` approves `authz_id`.
    pub fn approve(&self, authz_id: &AuthzId, persona: Persona) -> Result<(), SandboxError> {
        self.decide(authz_id, persona, Decision::Approve)
    }

    /// Arranges for something to go wrong (see [`Fault`]).
    pub fn inject(&self, fault: Fault) {
        let mut s = self.shared.lock();
        if fault.is_token_fault() {
            s.token_faults.push_back(fault);
        } else {
            s.http_faults.push_back(fault);
        }
    }

    /// Rotates the platform's signing key: a new key signs from now on; the old one stays
    /// published (so tokens already issued still verify). Returns the new key id.
    pub fn rotate_keys(&self) -> String {
        let mut s = self.shared.lock();
        s.key_serial += 1;
        let signer = new_signer(&format!("sbx-sign-{}", s.key_serial));
        s.published.push(jwk_of(&signer));
        let kid = signer.kid().to_owned();
        s.signer = signer;
        kid
    }

    /// Shifts the platform's clock by `secs` (positive: ahead of the RP) for the tokens it
    /// issues.
    pub fn set_clock_skew(&self, secs: i64) {
        self.shared.clock_skew.store(secs, Ordering::SeqCst);
    }

    /// The authorizations still waiting for a decision.
    pub fn pending(&self) -> Vec<AuthzId> {
        server::pending(&self.shared)
    }

    /// The authorizations still waiting for a decision, with what each asks and why: what the
    /// identity app shows its user before they approve or decline.
    pub fn pending_requests(&self) -> Vec<PendingRequest> {
        server::pending_requests(&self.shared)
    }

    /// How many delivery attempts the webhook for `authz_id` has had so far.
    pub fn webhook_attempts(&self, authz_id: &AuthzId) -> u32 {
        self.shared
            .lock()
            .webhook_attempts
            .get(authz_id.as_str())
            .copied()
            .unwrap_or(0)
    }
}

fn new_signer(kid: &str) -> TokenSigner {
    match TokenSigner::new(kid, SigningKey::from(PrivateKey::generate())) {
        Ok(s) => s,
        Err(_) => unreachable!("sandbox key ids are well-formed"),
    }
}

fn jwk_of(signer: &TokenSigner) -> Jwk {
    match Jwk::new(
        signer.kid(),
        KeyUse::Signature,
        signer.signing_key().verifying_key().public_key().clone(),
    ) {
        Ok(j) => j,
        Err(_) => unreachable!("sandbox key ids are well-formed"),
    }
}

#[derive(Debug)]
struct Shared {
    issuer: String,
    options: SandboxOptions,
    /// The platform secret behind pairwise pseudonyms.
    secret: [u8; 32],
    clock_skew: AtomicI64,
    state: Mutex<State>,
    webhook_http: reqwest::Client,
}

impl Shared {
    /// Now, by the platform's clock ([`SandboxOptions::clock`]).
    fn now(&self) -> u64 {
        self.options.clock.now()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What an `(app_id, Idempotency-Key)` pair was answered: SM3 of the body, status, body.
type IdempotentReply = ([u8; 32], u16, Vec<u8>);

#[derive(Debug)]
struct AppRecord {
    signing_keys: HashMap<String, VerifyingKey>,
    encryption: (String, EncryptionKey),
    /// The app's own request-signing key (made up by the sandbox), for the page's test logins.
    signer: (String, SigningKey),
    /// Where the app's keys were written, to show on the page.
    key_location: Option<String>,
}

#[derive(Debug)]
struct State {
    signer: TokenSigner,
    published: Vec<Jwk>,
    key_serial: u32,
    apps: HashMap<String, AppRecord>,
    authorizations: HashMap<String, server::Authorization>,
    idempotency: HashMap<(String, String), IdempotentReply>,
    /// (app_id, nonce) → forget after (Unix seconds).
    nonces: HashMap<(String, String), u64>,
    /// (app_id, sub) → the persona it belongs to, for re-verification.
    subjects: HashMap<(String, String), Persona>,
    http_faults: VecDeque<Fault>,
    token_faults: VecDeque<Fault>,
    last_token: Option<String>,
    webhook_attempts: HashMap<String, u32>,
    /// The latest decisions, newest first, for the page (at most [`server::RECENT`]).
    recent: VecDeque<server::Decided>,
    /// The page's test logins, newest first (at most [`server::RECENT`]).
    test_logins: VecDeque<server::TestLogin>,
}

/// The fields a sandbox app may receive (the sandbox's stand-in for an access agreement).
fn allowed_fields() -> FieldSet {
    crate::model::FieldName::ALL.iter().copied().collect()
}
