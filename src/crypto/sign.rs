//! SM2 signatures with SM3 (GB/T 32918.2): signing and verifying, raw and DER forms.

use std::fmt;

use sm2::dsa::signature::{RandomizedSigner, Verifier};
use sm2::elliptic_curve::common::getrandom::SysRng;

use super::{CryptoError, DistId, PrivateKey, PublicKey};

/// An SM2 signature `(r, s)` with both components in `[1, n-1]`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(sm2::dsa::Signature);

/// Why 64 raw bytes are not a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureFormatError {
    /// Not exactly 64 bytes.
    #[error("a raw SM2 signature is exactly 64 bytes (r || s)")]
    Length,
    /// `r` or `s` is zero or not below the curve order `n`.
    #[error("signature component r or s is zero or not below the curve order")]
    ScalarOutOfRange,
}

impl Signature {
    /// Length of the raw form `r || s`.
    pub const LEN: usize = 64;

    /// From the raw form `r || s` (32 bytes each, big-endian), checking `1 <= r, s < n`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SignatureFormatError> {
        if bytes.len() != Self::LEN {
            return Err(SignatureFormatError::Length);
        }
        sm2::dsa::Signature::from_slice(bytes)
            .map(Self)
            .map_err(|_| SignatureFormatError::ScalarOutOfRange)
    }

    /// From DER `SEQUENCE { INTEGER r, INTEGER s }`, the form OpenSSL reads and writes.
    pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
        sm2::dsa::Signature::from_der(der)
            .map(Self)
            .map_err(|_| CryptoError::SignatureDer)
    }

    /// The raw form `r || s`.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out.copy_from_slice(&self.0.to_bytes());
        out
    }

    /// The DER form.
    pub fn to_der(&self) -> Vec<u8> {
        self.0.to_der().to_vec()
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.to_bytes()))
    }
}

/// A public key bound to a distinguishing identifier, ready to verify.
///
/// Building one hashes `Z_A` once, so keep it around rather than rebuilding it per signature.
#[derive(Clone)]
pub struct VerifyingKey {
    inner: sm2::dsa::VerifyingKey,
    public: PublicKey,
    distid: DistId,
}

impl VerifyingKey {
    /// Binds `public` to `distid`.
    pub fn new(public: PublicKey, distid: DistId) -> Self {
        let inner = match sm2::dsa::VerifyingKey::new(distid.as_str(), *public.inner()) {
            Ok(k) => k,
            // Only fails for a distid over 8191 bytes, which `DistId` rules out.
            Err(_) => unreachable!("DistId is bounded"),
        };
        Self {
            inner,
            public,
            distid,
        }
    }

    /// Checks `signature` over `message`.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), CryptoError> {
        self.inner
            .verify(message, &signature.0)
            .map_err(|_| CryptoError::SignatureInvalid)
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The distinguishing identifier.
    pub fn distid(&self) -> &DistId {
        &self.distid
    }
}

impl From<PublicKey> for VerifyingKey {
    /// Binds the key to the default distinguishing identifier `1234567812345678`.
    fn from(public: PublicKey) -> Self {
        Self::new(public, DistId::default())
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("public", &self.public)
            .field("distid", &self.distid)
            .finish()
    }
}

/// A private key bound to a distinguishing identifier, for signing.
///
/// Signatures are hedged: RFC 6979 nonces mixed with fresh randomness, so a broken random
/// generator cannot leak the key and a fault attack cannot replay a nonce.
#[derive(Clone)]
pub struct SigningKey {
    private: PrivateKey,
    verifying: VerifyingKey,
}

impl SigningKey {
    /// Binds `private` to `distid`.
    pub fn new(private: PrivateKey, distid: DistId) -> Self {
        let verifying = VerifyingKey::new(private.public_key().clone(), distid);
        Self { private, verifying }
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Signature, CryptoError> {
        // `sm2::dsa::SigningKey` does not zeroize its scalar on drop, so it is not kept: the
        // secret lives in `sm2::SecretKey` (which does) and a signer exists only for this call.
        let signer =
            sm2::dsa::SigningKey::new(self.verifying.distid.as_str(), self.private.secret())
                .map_err(|_| CryptoError::Sign)?;
        signer
            .try_sign_with_rng(&mut SysRng, message)
            .map(Signature)
            .map_err(|_| CryptoError::Sign)
    }

    /// The matching verifying key (same distinguishing identifier).
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    /// The private key.
    pub fn private_key(&self) -> &PrivateKey {
        &self.private
    }
}

impl From<PrivateKey> for SigningKey {
    /// Binds the key to the default distinguishing identifier `1234567812345678`.
    fn from(private: PrivateKey) -> Self {
        Self::new(private, DistId::default())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("verifying", &self.verifying)
            .field("secret", &"[redacted]")
            .finish()
    }
}
