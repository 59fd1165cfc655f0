use serde_json::{Map, Value};

use super::{ALG, RESULT_TYP};
use crate::b64;
use crate::crypto::{CryptoError, SigningKey, check_kid};

/// Signs result tokens: the platform's side of the protocol, for the sandbox, test fixtures and
/// `netid sign`. A relying party never needs one.
#[derive(Debug, Clone)]
pub struct TokenSigner {
    kid: String,
    key: SigningKey,
    typ: String,
}

impl TokenSigner {
    /// A signer that writes `kid` into every header.
    pub fn new(kid: impl Into<String>, key: SigningKey) -> Result<Self, CryptoError> {
        let kid = kid.into();
        check_kid(&kid).map_err(|detail| CryptoError::Jwk {
            detail: detail.to_owned(),
        })?;
        Ok(Self {
            kid,
            key,
            typ: RESULT_TYP.to_owned(),
        })
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Signs `claims` as they are: no claim is added or checked, so fixtures can also make
    /// invalid tokens. Produces `header.payload.signature`.
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, CryptoError> {
        let header = serde_json::json!({ "alg": ALG, "kid": self.kid, "typ": self.typ });
        self.sign_raw(
            header.to_string().as_bytes(),
            Value::Object(claims.clone()).to_string().as_bytes(),
        )
    }

    /// Signs an arbitrary header and payload, byte for byte. For test fixtures that need
    /// malformed tokens with valid signatures.
    pub fn sign_raw(&self, header: &[u8], payload: &[u8]) -> Result<String, CryptoError> {
        let mut token = b64::encode(header);
        token.push('.');
        token.push_str(&b64::encode(payload));
        let sig = self.key.sign(token.as_bytes())?;
        token.push('.');
        token.push_str(&b64::encode(&sig.to_bytes()));
        Ok(token)
    }
}
