//! Canonical base64url without padding (RFC 7515 §2): the only form netid reads or writes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Encodes without padding.
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes, refusing padding, the standard alphabet's `+` and `/`, whitespace, and non-zero
/// unused trailing bits (so each byte string has exactly one accepted encoding).
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_is_canonical() {
        assert_eq!(decode("YQ").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode("YR"), None, "non-zero trailing bits");
        assert_eq!(decode("YQ=="), None, "padding");
        assert_eq!(decode("+/8"), None, "standard alphabet");
        assert_eq!(decode("-_8").as_deref(), Some(&[0xfb, 0xff][..]));
        assert_eq!(decode("Y Q"), None, "whitespace");
        assert_eq!(decode("Y"), None, "impossible length");
    }
}
