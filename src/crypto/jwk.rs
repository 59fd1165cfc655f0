//! SM2 public keys as JWK (`{"kty":"EC","crv":"SM2",…}`), the form the platform's key set uses.

use serde_json::{Map, Value, json};

use super::{CryptoError, PublicKey};
use crate::b64;
use crate::error::printable_name;

/// What a key in a key set is for (the JWK `use` member).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyUse {
    /// Signatures, `alg` `SM2-SM3`.
    Signature,
    /// Encryption, `alg` `SM2-C1C3C2`.
    Encryption,
}

impl KeyUse {
    /// The JWK `use` value.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUse::Signature => "sig",
            KeyUse::Encryption => "enc",
        }
    }

    /// The JWK `alg` value that goes with this use.
    pub fn alg(self) -> &'static str {
        match self {
            KeyUse::Signature => "SM2-SM3",
            KeyUse::Encryption => "SM2-C1C3C2",
        }
    }
}

/// An SM2 public key with its key id and use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    /// The key id (`kid`): 1–64 characters from `A-Z a-z 0-9 . _ -`.
    pub kid: String,
    /// What the key is for.
    pub key_use: KeyUse,
    /// The key.
    pub key: PublicKey,
}

const MEMBERS: [&str; 7] = ["kty", "crv", "x", "y", "kid", "use", "alg"];

impl Jwk {
    /// A JWK for `key`, after checking `kid`.
    pub fn new(
        kid: impl Into<String>,
        key_use: KeyUse,
        key: PublicKey,
    ) -> Result<Self, CryptoError> {
        let kid = kid.into();
        check_kid(&kid).map_err(|detail| CryptoError::Jwk {
            detail: detail.to_owned(),
        })?;
        Ok(Self { kid, key_use, key })
    }

    /// Reads one JWK from its JSON object. Members other than the seven of an SM2 public JWK
    /// are refused — in particular a private `d`, which must never travel in a key set.
    pub fn from_json_object(obj: &Map<String, Value>) -> Result<Self, CryptoError> {
        let bad = |detail: String| CryptoError::Jwk { detail };
        if let Some(extra) = obj.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
            return Err(bad(format!(
                "unexpected member `{}` (a public SM2 JWK has kty, crv, x, y, kid, use, alg)",
                printable_name(extra)
            )));
        }
        let text = |name: &'static str| -> Result<&str, CryptoError> {
            match obj.get(name) {
                Some(Value::String(s)) => Ok(s),
                Some(_) => Err(bad(format!("`{name}` must be a string"))),
                None => Err(bad(format!("`{name}` is missing"))),
            }
        };
        if text("kty")? != "EC" {
            return Err(bad("`kty` must be \"EC\"".into()));
        }
        if text("crv")? != "SM2" {
            return Err(bad("`crv` must be \"SM2\"".into()));
        }
        let key_use = match text("use")? {
            "sig" => KeyUse::Signature,
            "enc" => KeyUse::Encryption,
            _ => return Err(bad("`use` must be \"sig\" or \"enc\"".into())),
        };
        if text("alg")? != key_use.alg() {
            return Err(bad(format!(
                "`alg` must be \"{}\" for use \"{}\"",
                key_use.alg(),
                key_use.as_str()
            )));
        }
        let kid = text("kid")?;
        check_kid(kid).map_err(|d| bad(d.to_owned()))?;
        let coordinate = |name: &'static str| -> Result<Vec<u8>, CryptoError> {
            match b64::decode(text(name)?) {
                Some(bytes) if bytes.len() == 32 => Ok(bytes),
                Some(_) => Err(bad(format!("`{name}` must be 32 bytes"))),
                None => Err(bad(format!("`{name}` is not canonical base64url"))),
            }
        };
        let key = PublicKey::from_xy(&coordinate("x")?, &coordinate("y")?)?;
        Ok(Self {
            kid: kid.to_owned(),
            key_use,
            key,
        })
    }

    /// Reads one JWK from JSON text (strict: no duplicate members).
    pub fn from_json(text: &str) -> Result<Self, CryptoError> {
        let obj = crate::json::parse_object(text.as_bytes(), 2).map_err(|_| CryptoError::Jwk {
            detail: "not a single JSON object without duplicate members".into(),
        })?;
        Self::from_json_object(&obj)
    }

    /// The JWK as a JSON value.
    pub fn to_json_value(&self) -> Value {
        json!({
            "kty": "EC",
            "crv": "SM2",
            "x": b64::encode(&self.key.x()),
            "y": b64::encode(&self.key.y()),
            "kid": self.kid,
            "use": self.key_use.as_str(),
            "alg": self.key_use.alg(),
        })
    }
}

/// Key ids appear in headers and logs, so they are short and plain.
pub(crate) fn check_kid(kid: &str) -> Result<(), &'static str> {
    let ok_chars = kid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if kid.is_empty() || kid.len() > 64 || !ok_chars {
        Err("`kid` must be 1-64 characters from A-Z a-z 0-9 . _ -")
    } else {
        Ok(())
    }
}
