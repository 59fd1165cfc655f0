//! SM3 (GB/T 32905) and HMAC-SM3 (RFC 2104 over SM3).

use hmac::{KeyInit, Mac};
use sm3::{Digest, Sm3};

/// Length in bytes of an SM3 digest.
pub const SM3_LEN: usize = 32;

/// The SM3 digest of `data`.
///
/// ```
/// let d = netid::crypto::sm3(b"abc");
/// assert_eq!(hex::encode(d), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
/// ```
pub fn sm3(data: &[u8]) -> [u8; SM3_LEN] {
    Sm3::digest(data).into()
}

/// An incremental SM3 hasher, for data that arrives in pieces.
#[derive(Clone, Default)]
pub struct Sm3Hasher(Sm3);

impl Sm3Hasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed more data.
    pub fn update(&mut self, data: &[u8]) -> &mut Self {
        Digest::update(&mut self.0, data);
        self
    }

    /// The digest of everything fed so far.
    pub fn finalize(self) -> [u8; SM3_LEN] {
        self.0.finalize().into()
    }
}

impl std::fmt::Debug for Sm3Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sm3Hasher")
    }
}

type HmacSm3 = hmac::Hmac<Sm3>;

/// HMAC-SM3 of `data` under `key` (any key length; RFC 2104 hashes long keys first).
pub fn hmac_sm3(key: &[u8], data: &[u8]) -> [u8; SM3_LEN] {
    let mut mac = new_hmac(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Checks an HMAC-SM3 tag in constant time.
pub fn hmac_sm3_verify(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    let mut mac = new_hmac(key);
    mac.update(data);
    mac.verify_slice(tag).is_ok()
}

fn new_hmac(key: &[u8]) -> HmacSm3 {
    // HMAC accepts keys of every length, so `new_from_slice` cannot fail here.
    match HmacSm3::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}
