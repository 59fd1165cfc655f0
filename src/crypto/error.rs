use crate::error::{Actor, ErrorCode};

/// Why a key could not be imported or a cryptographic operation failed.
///
/// Messages name the problem and the format, never key material or plaintext.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// The text is not a PEM document, or its label is not the one expected.
    #[error("not a PEM {expected} document: {detail}")]
    Pem {
        /// The PEM label that was expected (`PRIVATE KEY`, `PUBLIC KEY`).
        expected: &'static str,
        /// What was wrong, without the content.
        detail: &'static str,
    },
    /// The DER structure inside the PEM (or given directly) is malformed.
    #[error("malformed DER in {what}")]
    Der {
        /// Which structure (`SubjectPublicKeyInfo`, `PKCS#8 PrivateKeyInfo`, `ECPrivateKey`, `signature`).
        what: &'static str,
    },
    /// The key is well-formed but not an SM2 key (another algorithm or curve).
    #[error("not an SM2 key: {detail}")]
    Algorithm {
        /// Which identifier did not match.
        detail: &'static str,
    },
    /// The public key is the point at infinity.
    #[error("public key is the point at infinity")]
    PointAtInfinity,
    /// The public key's coordinates do not satisfy the SM2 curve equation.
    #[error("public key is not a point on the SM2 curve")]
    PointNotOnCurve,
    /// The public key bytes are not a SEC1 uncompressed point of the right length.
    #[error("public key encoding is invalid: {detail}")]
    PointEncoding {
        /// What was wrong with the encoding.
        detail: &'static str,
    },
    /// The private scalar is zero or not below the curve order.
    #[error("private key scalar is zero or not below the curve order")]
    Scalar,
    /// A JWK is malformed or is not an SM2 key.
    #[error("invalid JWK: {detail}")]
    Jwk {
        /// What was wrong (a member name and the rule), never a value.
        detail: String,
    },
    /// Hex text is malformed or has the wrong length.
    #[error("invalid hex key: {detail}")]
    Hex {
        /// What was wrong.
        detail: &'static str,
    },
    /// The distinguishing identifier is longer than SM2 allows (8191 bytes).
    #[error("distinguishing identifier is longer than 8191 bytes")]
    DistId,
    /// A ciphertext failed to decrypt: wrong key, corrupted, or tampered with (C3 mismatch).
    #[error("ciphertext could not be decrypted (wrong key, truncated or tampered)")]
    Decrypt,
    /// Encryption failed (an empty message, or the system random generator failed).
    #[error("encryption failed: {detail}")]
    Encrypt {
        /// What failed.
        detail: &'static str,
    },
    /// A DER-encoded signature is malformed or has out-of-range components.
    #[error("DER signature is malformed or out of range")]
    SignatureDer,
    /// The signature does not verify under this key and distinguishing identifier.
    #[error("signature does not verify")]
    SignatureInvalid,
    /// Signing failed (the system random generator failed, or a degenerate nonce).
    #[error("signing failed")]
    Sign,
}

impl ErrorCode for CryptoError {
    fn code(&self) -> &'static str {
        match self {
            CryptoError::Pem { .. } => "crypto.key_pem",
            CryptoError::Der { .. } => "crypto.key_der",
            CryptoError::Algorithm { .. } => "crypto.key_algorithm",
            CryptoError::PointAtInfinity => "crypto.key_point_infinity",
            CryptoError::PointNotOnCurve => "crypto.key_point_off_curve",
            CryptoError::PointEncoding { .. } => "crypto.key_point_encoding",
            CryptoError::Scalar => "crypto.key_scalar",
            CryptoError::Jwk { .. } => "crypto.key_jwk",
            CryptoError::Hex { .. } => "crypto.key_hex",
            CryptoError::DistId => "crypto.key_distid",
            CryptoError::Decrypt => "crypto.decrypt",
            CryptoError::Encrypt { .. } => "crypto.encrypt",
            CryptoError::SignatureDer => "crypto.signature_der",
            CryptoError::SignatureInvalid => "crypto.signature_invalid",
            CryptoError::Sign => "crypto.sign",
        }
    }

    fn actor(&self) -> Actor {
        match self {
            // A ciphertext or signature from the platform that does not check out.
            CryptoError::Decrypt | CryptoError::SignatureDer | CryptoError::SignatureInvalid => {
                Actor::SecurityEvent
            }
            CryptoError::Encrypt { .. } | CryptoError::Sign => Actor::RetryLater,
            _ => Actor::Configuration,
        }
    }
}
