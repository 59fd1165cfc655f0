//! Identifiers from the operating system's random generator.

#[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Fills `buf` from the OS generator. Without randomness there are no safe nonces or keys, so a
/// failing generator is fatal rather than an error to route.
#[allow(clippy::panic)] // see above: no randomness, no security
pub(crate) fn fill(buf: &mut [u8]) {
    if let Err(e) = getrandom::fill(buf) {
        panic!("the operating system's random generator failed: {e}");
    }
}

/// `len` characters from `A-Z a-z 0-9`, uniformly (rejection sampling: 62 does not divide 256).
#[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
pub(crate) fn alphanumeric(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        fill(&mut buf);
        for &b in &buf {
            if b < 248 && out.len() < len {
                out.push(char::from(ALPHANUMERIC[usize::from(b % 62)]));
            }
        }
    }
    out
}

/// `bytes` random bytes as unpadded base64url.
pub(crate) fn token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    fill(&mut buf);
    crate::b64::encode(&buf)
}

#[cfg(test)]
mod tests {
    #[test]
    fn shapes() {
        let a = super::alphanumeric(32);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, super::alphanumeric(32));
        assert_eq!(super::token(16).len(), 22);
    }
}
