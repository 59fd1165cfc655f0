//! Session tokens already checked, remembered until they expire.
//!
//! Why: a signed-in request would otherwise pay for an HMAC-SHA256 and two JSON parses of the
//! same token on every request (about 70 % of the netid layer's cost, measured with callgrind;
//! see `benches/README.md`). A token's validity depends only on its bytes, the manager's keys
//! (fixed for its lifetime), issuer and audience (fixed) and the clock, so once a token has
//! passed, the same bytes pass again until `exp` — which is checked on every hit.
//!
//! What it does not change: revocation is asked on every request, hit or miss, so a logout or a
//! deletion still holds at once on every instance — unless the revocation store can say, without
//! a round trip, that nothing was revoked since this thread last asked about this token
//! ([`RevocationStore::generation`](super::RevocationStore::generation)); the in-memory store
//! can, a shared store cannot. Only tokens that passed every check are remembered, so garbage
//! cannot fill the cache; an attacker can only add tokens they were issued by signing in.
//!
//! Each thread keeps its own entries (the `thread_local` crate's per-object storage). With one
//! shared map, every request on every core took the same lock and counted references on the
//! same entry, passing those cache lines between cores; under `wrk` on two cores such shared
//! writes were the largest cost left once tokens were remembered (`benches/README.md`). A token
//! is therefore decoded once per worker thread, and the capacity is per thread.
//!
//! Lookup is a keyed (per-process random) 64-bit SipHash of the token's last 16 bytes — part of
//! its signature, enough to tell tokens apart; hashing all of a 300-byte token was measured at a
//! quarter of the layer's cost — then a comparison of the whole token, so a hit can never be had
//! with bytes other than the ones that were verified. The comparison runs only
//! when a guess already has the same keyed hash as a stored token — which, with the key unknown,
//! no one can aim for — so its timing cannot guide a search for a stored token (a constant-time
//! comparison was measured at ~10 % of a signed-in request).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

use thread_local::ThreadLocal;
use zeroize::Zeroizing;

use super::user::VerifiedUser;

/// Entries per thread (a few hundred bytes each: a couple of MiB per worker thread at most).
pub(super) const DEFAULT_CAPACITY: usize = 8192;

/// How much of a token's end the key is made of: 16 characters of its signature, 96 bits of HMAC
/// output, tell any two tokens apart; hashing fewer bytes is measurably cheaper.
const KEY_BYTES: usize = 16;

/// What a checked token stands for: everything a later request needs without decoding again.
#[derive(Debug)]
pub(super) struct CheckedSession {
    /// The session's id: the same in every token the session is renewed with.
    pub(super) jti: String,
    /// When the session began (the sign-in): what subject-wide revocations and the absolute
    /// maximum lifetime count from.
    pub(super) started: u64,
    pub(super) exp: u64,
    pub(super) user: VerifiedUser,
}

/// A remembered token, as [`CheckedTokens::get`] finds it.
pub(super) struct Hit {
    pub(super) session: Arc<CheckedSession>,
    /// The revocation store's generation at which this thread last found the token not revoked.
    pub(super) cleared_at: Option<u64>,
}

struct Entry {
    token: Zeroizing<Box<[u8]>>,
    session: Arc<CheckedSession>,
    cleared_at: Option<u64>,
}

type Map = HashMap<u64, Entry>;

/// The cache itself; see the module docs for why it is sound.
pub(super) struct CheckedTokens {
    hasher: RandomState,
    capacity: usize,
    // A mutex only this thread takes, but for `remove`'s sweep: uncontended, so cheap.
    threads: ThreadLocal<Mutex<Map>>,
}

impl CheckedTokens {
    /// A cache holding up to `capacity` tokens per thread (0 turns it off).
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            hasher: RandomState::new(),
            capacity,
            threads: ThreadLocal::new(),
        }
    }

    fn key(&self, token: &[u8]) -> u64 {
        self.hasher
            .hash_one(&token[token.len().saturating_sub(KEY_BYTES)..])
    }

    /// Runs `f` on this thread's entries (none when the cache is off).
    fn with_mine<R>(&self, f: impl FnOnce(&mut Map) -> Option<R>) -> Option<R> {
        if self.capacity == 0 {
            return None;
        }
        let map = self.threads.get_or_default();
        f(&mut map.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The checked session for exactly these token bytes, if this thread remembers it.
    pub(super) fn get(&self, token: &[u8]) -> Option<Hit> {
        let key = self.key(token);
        self.with_mine(|map| {
            let entry = map.get(&key)?;
            (**entry.token == *token).then(|| Hit {
                session: Arc::clone(&entry.session),
                cleared_at: entry.cleared_at,
            })
        })
    }

    /// Remembers a token that passed every check. `now` lets a full map drop expired entries
    /// first; if it is still full, an arbitrary entry goes (it is only decoded again).
    pub(super) fn insert(&self, token: &[u8], session: Arc<CheckedSession>, now: u64) {
        let key = self.key(token);
        self.with_mine(|map| {
            if map.len() >= self.capacity && !map.contains_key(&key) {
                map.retain(|_, e| e.session.exp >= now);
                if map.len() >= self.capacity
                    && let Some(victim) = map.keys().next().copied()
                {
                    map.remove(&victim);
                }
            }
            map.insert(
                key,
                Entry {
                    token: Zeroizing::new(token.into()),
                    session,
                    cleared_at: None,
                },
            );
            Some(())
        });
    }

    /// Notes that the token was found not revoked at revocation generation `generation`.
    pub(super) fn mark_cleared(&self, token: &[u8], generation: u64) {
        let key = self.key(token);
        self.with_mine(|map| {
            let entry = map.get_mut(&key)?;
            if **entry.token == *token {
                entry.cleared_at = Some(generation);
            }
            Some(())
        });
    }

    /// Forgets a token on every thread (it was revoked here; the store still answers for other
    /// instances, and is asked again anyway since its generation changed).
    pub(super) fn remove(&self, token: &[u8]) {
        let key = self.key(token);
        for map in self.threads.iter() {
            let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
            if map.get(&key).is_some_and(|e| **e.token == *token) {
                map.remove(&key);
            }
        }
    }

    /// Tokens remembered now, on all threads.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.threads
            .iter()
            .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Assurance;
    use crate::policy::user::Method;

    fn session(exp: u64) -> Arc<CheckedSession> {
        Arc::new(CheckedSession {
            jti: "j".into(),
            started: 0,
            exp,
            user: VerifiedUser {
                subject: "s".into(),
                assurance: Assurance::CredentialFace,
                age_tag: None,
                guardian_consent: None,
                verified_at: 0,
                method: Method::NetId,
            },
        })
    }

    #[test]
    fn only_the_exact_bytes_hit() {
        let cache = CheckedTokens::new(64);
        cache.insert(b"aaa.bbb.ccc", session(100), 0);
        assert!(cache.get(b"aaa.bbb.ccc").is_some());
        assert!(cache.get(b"aaa.bbb.ccd").is_none());
        assert!(cache.get(b"aaa.bbb.cc").is_none());
        assert!(cache.get(b"").is_none());
        // Tokens that differ only before the bytes the key is made of share a key, and are still
        // told apart: the whole token is compared.
        let tail = "s".repeat(KEY_BYTES);
        let (a, b) = (format!("a.{tail}"), format!("b.{tail}"));
        cache.insert(a.as_bytes(), session(100), 0);
        assert!(cache.get(a.as_bytes()).is_some());
        assert!(cache.get(b.as_bytes()).is_none());
        cache.insert(b.as_bytes(), session(100), 0);
        assert!(cache.get(b.as_bytes()).is_some());
        assert!(
            cache.get(a.as_bytes()).is_none(),
            "b replaced a under the shared key"
        );
    }

    #[test]
    fn stays_within_capacity_and_drops_expired_entries_first() {
        let cache = CheckedTokens::new(64);
        for i in 0..1000 {
            cache.insert(format!("t{i}").as_bytes(), session(10), 0);
        }
        // Full of entries that expire at 10.
        assert_eq!(cache.len(), 64);
        // At 11, a new entry clears the expired ones instead of one arbitrary entry.
        cache.insert(b"fresh", session(100), 11);
        assert_eq!(cache.len(), 1);
        assert!(cache.get(b"fresh").is_some());
        // Live entries are evicted one for one when the map is full of them.
        for i in 0..1000 {
            cache.insert(format!("live{i}").as_bytes(), session(100), 11);
        }
        assert_eq!(cache.len(), 64);
    }

    #[test]
    fn each_thread_remembers_its_own_and_remove_sweeps_them_all() {
        let cache = CheckedTokens::new(64);
        cache.insert(b"tok", session(100), 0);
        cache.mark_cleared(b"tok", 7);
        std::thread::scope(|s| {
            s.spawn(|| {
                // Another thread has not checked the token: it decodes it itself.
                assert!(cache.get(b"tok").is_none());
                cache.insert(b"tok", session(100), 0);
                assert_eq!(cache.get(b"tok").map(|h| h.cleared_at), Some(None));
            });
        });
        assert_eq!(cache.get(b"tok").map(|h| h.cleared_at), Some(Some(7)));
        assert_eq!(cache.len(), 2);
        cache.remove(b"tok");
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn remove_forgets_only_that_token_and_zero_capacity_is_off() {
        let cache = CheckedTokens::new(64);
        cache.insert(b"a", session(100), 0);
        cache.insert(b"b", session(100), 0);
        cache.remove(b"a");
        assert!(cache.get(b"a").is_none());
        assert!(cache.get(b"b").is_some());
        let off = CheckedTokens::new(0);
        off.insert(b"a", session(100), 0);
        assert!(off.get(b"a").is_none());
        assert_eq!(off.len(), 0);
    }
}
