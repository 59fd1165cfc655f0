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
#[derive(Clone, PartialEq, Eq)]
pub struct Verified<T> {
    pub(crate) claims: T,
    pub(crate) kid: String,
    pub(crate) token_sm3: [u8; 32],
    /// The compact token as received.
    pub(crate) token: String,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Verified<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is shown by its digest: a few kilobytes of base64 help no log reader.
        f.debug_struct("Verified")
            .field("claims", &self.claims)
            .field("kid", &self.kid)
            .field("token_sm3", &hex::encode(self.token_sm3))
            .finish_non_exhaustive()
    }
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

    /// SM3 of the compact token as received: names the signed result the relying party relied
    /// on (the audit log's `token_sm3`).
    pub fn token_sm3(&self) -> &[u8; 32] {
        &self.token_sm3
    }

    /// The compact token as received: the platform's signed answer itself, which the audit log
    /// keeps so that its signature can be checked again later (`netid audit verify --keys`). It
    /// holds the pseudonym and, when fields were asked for, SM2-encrypted fields: no plaintext
    /// identity data.
    pub fn token(&self) -> &str {
        &self.token
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
            token: self.token,
        }
    }
}
