//! SM2 keys: import and export in every form the field uses, and the operations on them.

use std::fmt;

use sm2::elliptic_curve::Generate;
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm2::pkcs8::der::Decode;
use sm2::pkcs8::{
    EncodePrivateKey, EncodePublicKey, LineEnding, ObjectIdentifier, PrivateKeyInfoRef,
    SubjectPublicKeyInfoRef,
};
use zeroize::Zeroizing;

use super::CryptoError;

/// `id-ecPublicKey` (RFC 5480): the algorithm of standard SM2 SPKI and PKCS#8 documents.
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `sm2p256v1` (GM/T 0006): the SM2 curve. Some older toolkits also use it as the *algorithm*.
const OID_SM2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");

/// n - 1 for the SM2 curve: the one non-zero scalar that is not a valid SM2 private key.
const N_MINUS_ONE: [u8; 32] = [
    0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x72, 0x03, 0xdf, 0x6b, 0x21, 0xc6, 0x05, 0x2b, 0x53, 0xbb, 0xf4, 0x09, 0x39, 0xd5, 0x41, 0x22,
];

/// The distinguishing identifier the SM2 standards recommend, and netid's default.
pub const DEFAULT_DISTID: &str = "1234567812345678";

/// An SM2 distinguishing identifier (user ID), hashed into every signature through `Z_A`.
///
/// Signer and verifier must agree on it. The default is `1234567812345678`; note that OpenSSL 3
/// uses an *empty* ID unless told `-sigopt distid:1234567812345678`.
#[derive(Clone, PartialEq, Eq)]
pub struct DistId(String);

impl DistId {
    /// A distinguishing identifier. SM2 encodes its bit length in 16 bits, so at most 8191 bytes.
    pub fn new(id: impl Into<String>) -> Result<Self, CryptoError> {
        let id = id.into();
        if id.len() > 8191 {
            return Err(CryptoError::DistId);
        }
        Ok(Self(id))
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for DistId {
    fn default() -> Self {
        Self(DEFAULT_DISTID.to_owned())
    }
}

impl fmt::Debug for DistId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DistId({:?})", self.0)
    }
}

/// An SM2 public key: a point on the curve, never the identity.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(sm2::PublicKey);

impl PublicKey {
    /// From SEC1 bytes: `04 || x || y` (65 bytes). Compressed points are refused: the field
    /// exchanges uncompressed keys, and one form means one fingerprint per key.
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        match bytes {
            [0x00] => Err(CryptoError::PointAtInfinity),
            [0x04, rest @ ..] if rest.len() == 64 => sm2::PublicKey::from_sec1_bytes(bytes)
                .map(Self)
                .map_err(|_| off_curve_or_infinity(rest)),
            [0x04, ..] => Err(CryptoError::PointEncoding {
                detail: "an uncompressed point is 65 bytes",
            }),
            [0x02 | 0x03, ..] => Err(CryptoError::PointEncoding {
                detail: "compressed points are not accepted; use 04 || x || y",
            }),
            _ => Err(CryptoError::PointEncoding {
                detail: "expected 04 || x || y",
            }),
        }
    }

    /// From the two 32-byte affine coordinates.
    pub fn from_xy(x: &[u8], y: &[u8]) -> Result<Self, CryptoError> {
        if x.len() != 32 || y.len() != 32 {
            return Err(CryptoError::PointEncoding {
                detail: "x and y must be 32 bytes each",
            });
        }
        let mut sec1 = [0u8; 65];
        sec1[0] = 0x04;
        sec1[1..33].copy_from_slice(x);
        sec1[33..].copy_from_slice(y);
        Self::from_sec1_bytes(&sec1)
    }

    /// From hex: 130 digits with the `04` prefix (npm `sm-crypto`, OpenSSL) or 128 without it
    /// (Python `gmssl`). Both are common; both are accepted.
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let text = text.trim();
        let bytes = hex::decode(text).map_err(|_| CryptoError::Hex {
            detail: "not hexadecimal",
        })?;
        match bytes.len() {
            65 => Self::from_sec1_bytes(&bytes),
            64 => Self::from_xy(&bytes[..32], &bytes[32..]),
            _ => Err(CryptoError::Hex {
                detail: "a public key is 130 hex digits (04 || x || y) or 128 (x || y)",
            }),
        }
    }

    /// From a DER `SubjectPublicKeyInfo`, with either algorithm identifier in use for SM2.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|_| CryptoError::Der {
            what: "SubjectPublicKeyInfo",
        })?;
        check_sm2_algorithm(spki.algorithm.oids())?;
        let point = spki
            .subject_public_key
            .as_bytes()
            .ok_or(CryptoError::PointEncoding {
                detail: "public key bit string has unused bits",
            })?;
        Self::from_sec1_bytes(point)
    }

    /// From a PEM `PUBLIC KEY` (SPKI) document.
    pub fn from_spki_pem(pem: &str) -> Result<Self, CryptoError> {
        let der = pem_to_der(pem, "PUBLIC KEY")?;
        Self::from_spki_der(&der)
    }

    /// SEC1 uncompressed bytes, `04 || x || y`.
    pub fn to_sec1_bytes(&self) -> [u8; 65] {
        let point = self.0.as_affine().to_sec1_point(false);
        let mut out = [0u8; 65];
        out.copy_from_slice(point.as_bytes());
        out
    }

    /// The x coordinate.
    pub fn x(&self) -> [u8; 32] {
        let mut x = [0u8; 32];
        x.copy_from_slice(&self.to_sec1_bytes()[1..33]);
        x
    }

    /// The y coordinate.
    pub fn y(&self) -> [u8; 32] {
        let mut y = [0u8; 32];
        y.copy_from_slice(&self.to_sec1_bytes()[33..]);
        y
    }

    /// Lowercase hex with the `04` prefix (130 digits).
    pub fn to_hex(&self) -> String {
        hex::encode(self.to_sec1_bytes())
    }

    /// Lowercase hex of `x || y` without the prefix (128 digits), as Python `gmssl` expects.
    pub fn to_hex_xy(&self) -> String {
        hex::encode(&self.to_sec1_bytes()[1..])
    }

    /// DER `SubjectPublicKeyInfo` in the standard form (`id-ecPublicKey` + SM2 curve OID).
    pub fn to_spki_der(&self) -> Vec<u8> {
        match self.0.to_public_key_der() {
            Ok(doc) => doc.into_vec(),
            // Encoding a valid point into a fixed structure cannot fail.
            Err(_) => unreachable!("SPKI encoding of a valid SM2 point"),
        }
    }

    /// PEM `PUBLIC KEY` in the standard form.
    pub fn to_spki_pem(&self) -> String {
        match self.0.to_public_key_pem(LineEnding::LF) {
            Ok(pem) => pem,
            Err(_) => unreachable!("PEM encoding of a valid SM2 point"),
        }
    }

    pub(crate) fn inner(&self) -> &sm2::PublicKey {
        &self.0
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

/// An SM2 private key. The scalar is zeroized when the key is dropped and never printed.
///
/// Turn it into a [`SigningKey`](super::SigningKey) or a [`DecryptionKey`](super::DecryptionKey);
/// use a different key for each purpose.
pub struct PrivateKey {
    secret: sm2::SecretKey,
    public: PublicKey,
}

impl PrivateKey {
    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Self {
        loop {
            // n - 1 comes up with probability 2^-256; the loop is for correctness, not speed.
            if let Ok(key) = Self::from_secret_checked(sm2::SecretKey::generate()) {
                return key;
            }
        }
    }

    fn from_secret_checked(secret: sm2::SecretKey) -> Result<Self, CryptoError> {
        // SM2 signing divides by (1 + d), so d = n - 1 is not a usable key (GB/T 32918.1 §6.1
        // takes d from [1, n-2]); RustCrypto accepts it as an EC scalar, so it is refused here.
        if secret.to_bytes().as_slice() == N_MINUS_ONE {
            return Err(CryptoError::Scalar);
        }
        Ok(Self::from_secret(secret))
    }

    fn from_secret(secret: sm2::SecretKey) -> Self {
        let public = PublicKey(secret.public_key());
        Self { secret, public }
    }

    /// From the 32-byte big-endian scalar.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != 32 {
            return Err(CryptoError::Scalar);
        }
        let secret = sm2::SecretKey::from_slice(bytes).map_err(|_| CryptoError::Scalar)?;
        Self::from_secret_checked(secret)
    }

    /// From 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(hex::decode(text.trim()).map_err(|_| CryptoError::Hex {
            detail: "not hexadecimal",
        })?);
        if bytes.len() != 32 {
            return Err(CryptoError::Hex {
                detail: "a private key is 64 hex digits",
            });
        }
        Self::from_bytes(&bytes)
    }

    /// From a DER PKCS#8 `PrivateKeyInfo` (either SM2 algorithm identifier).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        let info = PrivateKeyInfoRef::from_der(der).map_err(|_| CryptoError::Der {
            what: "PKCS#8 PrivateKeyInfo",
        })?;
        check_sm2_algorithm(info.algorithm.oids())?;
        let secret = sm2::SecretKey::from_sec1_der(info.private_key.as_bytes()).map_err(|_| {
            CryptoError::Der {
                what: "ECPrivateKey",
            }
        })?;
        Self::from_secret_checked(secret)
    }

    /// From a PEM `PRIVATE KEY` (PKCS#8) document, as `openssl genpkey -algorithm SM2` writes.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, CryptoError> {
        let der = Zeroizing::new(pem_to_der(pem, "PRIVATE KEY")?);
        Self::from_pkcs8_der(&der)
    }

    /// PEM `PRIVATE KEY` (PKCS#8), zeroized when dropped.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        match self.secret.to_pkcs8_pem(LineEnding::LF) {
            Ok(pem) => pem,
            Err(_) => unreachable!("PKCS#8 encoding of a valid SM2 scalar"),
        }
    }

    /// The scalar as 64 lowercase hex digits, zeroized when dropped.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.secret.to_bytes()))
    }

    /// The scalar as 32 bytes, zeroized when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.secret.to_bytes());
        out
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    pub(crate) fn secret(&self) -> &sm2::SecretKey {
        &self.secret
    }
}

impl Clone for PrivateKey {
    fn clone(&self) -> Self {
        Self::from_secret(self.secret.clone())
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("public", &self.public)
            .field("secret", &"[redacted]")
            .finish()
    }
}

fn check_sm2_algorithm(
    oids: sm2::pkcs8::der::Result<(ObjectIdentifier, Option<ObjectIdentifier>)>,
) -> Result<(), CryptoError> {
    match oids {
        Ok((ID_EC_PUBLIC_KEY, Some(OID_SM2))) => Ok(()),
        // Older Chinese toolkits put the curve OID in the algorithm slot (params absent or NULL).
        Ok((OID_SM2, None | Some(OID_SM2))) => Ok(()),
        Ok((ID_EC_PUBLIC_KEY, _)) => Err(CryptoError::Algorithm {
            detail: "an EC key on a curve other than SM2",
        }),
        Ok(_) => Err(CryptoError::Algorithm {
            detail: "the algorithm identifier is not id-ecPublicKey/sm2p256v1",
        }),
        Err(_) => Err(CryptoError::Der {
            what: "AlgorithmIdentifier",
        }),
    }
}

fn off_curve_or_infinity(xy: &[u8]) -> CryptoError {
    // (0, 0) is how some encoders write the identity in affine form.
    if xy.iter().all(|&b| b == 0) {
        CryptoError::PointAtInfinity
    } else {
        CryptoError::PointNotOnCurve
    }
}

/// Bounded PEM decoding: PEM documents holding an SM2 key are a few hundred bytes.
fn pem_to_der(pem: &str, expected: &'static str) -> Result<Vec<u8>, CryptoError> {
    const MAX_PEM: usize = 8 * 1024;
    if pem.len() > MAX_PEM {
        return Err(CryptoError::Pem {
            expected,
            detail: "longer than 8 KiB",
        });
    }
    let (label, der) =
        sm2::pkcs8::der::Document::from_pem(pem.trim()).map_err(|_| CryptoError::Pem {
            expected,
            detail: "not a single well-formed PEM block",
        })?;
    if label != expected {
        return Err(CryptoError::Pem {
            expected,
            detail: "the PEM label differs",
        });
    }
    Ok(der.into_vec())
}
