use std::ops::Deref;

/// Claims whose token passed every check: signature, header, claim types, issuer, audience,
/// time, nonce and consistency.
///
/// There is no public constructor: the only way to get one is to verify a token. Functions that
/// act on a verification result should take `Verified<…>`, so an unchecked token cannot reach them.
///
/// ```compile_fail
/// // Cannot be built by hand:
/// let v = netid::token::Verified { claims: (), kid: String::new(), token_sm3: [0; 32] };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<T> {
    pub(crate) claims: T,
    pub(crate) kid: String,
    pub(crate) token_sm3: [u8; 32],
}

impl<T> Verified<T> {
    /// The verified claims.
    pub fn claims(&self) -> &T {
        &self.claims
    }

    /// The verified claims, by value. The proof of verification is dropped with the wrapper.
    pub fn into_claims(self) -> T {
        self.claims
    }

    /// The id of the platform key that signed the token.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// SM3 of the compact token as received: what an audit log records to prove which signed
    /// result the relying party relied on, without storing the token itself.
    pub fn token_sm3(&self) -> &[u8; 32] {
        &self.token_sm3
    }
}

impl<T> Deref for Verified<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.claims
    }
}

impl<T> Verified<T> {
    /// Carries the proof over to a value derived from the verified claims (crate-only: the
    /// derivation must itself be a check, or at least add nothing unchecked).
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Verified<U> {
        Verified {
            claims: f(self.claims),
            kid: self.kid,
            token_sm3: self.token_sm3,
        }
    }
}
