//! Pending logins in Redis: a login started at one instance is finished at any other.
//!
//! Every key of this part shares one hash tag, `{prefix.pending}`, so the scripts that keep the
//! caps and the index consistent run atomically on one node, Redis Cluster included. Pending
//! logins are small and short-lived (about 1 KB each, capped at `PendingLimits::total`), so one
//! slot holds them well.
//!
//! Keys (hex of SM3 where a value would otherwise appear; no binding, address or id in clear):
//! - `p:{p.pending}:l:<key>`: hash `s` (the flow's state), `a` (SM3 of the authorization id),
//!   `c` (SM3 of the client address, or empty); expires when the login is forgotten.
//! - `p:{p.pending}:a:<SM3 of authz id>`: the login's key, the webhook's lookup.
//! - `p:{p.pending}:all`, `p:{p.pending}:c:<SM3 of address>`: sorted sets of keys by the time they
//!   are forgotten, for the caps.
//! - `p:{p.pending}:h:<key>`: who is concluding the login (a claim with a lease).

use std::net::IpAddr;
use std::time::Duration;

use super::RedisStore;
use crate::crypto::sm3;
use crate::store::{
    LoginKey, NewPendingLogin, PendingError, PendingLimits, PendingLoginStore, StoreError,
};

/// Forgets lapsed logins from the cap sets, then checks the caps; with ARGV[9] = "1" stops
/// there (admits), else keeps the login. Returns "ok", "full" or "client".
const INSERT: &str = r"
local now = tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local has_client = ARGV[4] ~= ''
if has_client then redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now) end
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false then
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[7]) then return 'full' end
  if has_client and redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[8]) then return 'client' end
end
if ARGV[9] == '1' then return 'ok' end
local forget = tonumber(ARGV[5])
redis.call('HSET', KEYS[2], 's', ARGV[2], 'a', ARGV[3], 'c', ARGV[4])
redis.call('EXPIREAT', KEYS[2], forget)
redis.call('SET', KEYS[3], ARGV[1], 'EXAT', forget)
redis.call('ZADD', KEYS[1], forget, ARGV[1])
if redis.call('EXPIRETIME', KEYS[1]) < forget then redis.call('EXPIREAT', KEYS[1], forget) end
if has_client then
  redis.call('ZADD', KEYS[4], forget, ARGV[1])
  if redis.call('EXPIRETIME', KEYS[4]) < forget then redis.call('EXPIREAT', KEYS[4], forget) end
end
return 'ok'
";

/// Removes a login, its index entry, its places in the cap sets and its claim. Returns 1 if
/// this call removed it. The index and client keys are derived from the hash: they cannot be
/// declared, and need not be, because they share the declared keys' slot (Redis Cluster
/// refuses only keys of another slot; tests/integration/redis_store.rs runs this on a cluster).
const REMOVE: &str = r"
local fields = redis.call('HMGET', KEYS[2], 'a', 'c')
if fields[1] == false then return 0 end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', ARGV[2] .. ':a:' .. fields[1])
if fields[2] ~= '' then redis.call('ZREM', ARGV[2] .. ':c:' .. fields[2], ARGV[1]) end
return 1
";

/// Replaces the state of a login still kept.
const UPDATE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[1])
return 1
";

/// Takes a claim unless another holder has it (the same holder renews it).
const CLAIM: &str = r"
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
";

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
";

impl RedisStore {
    /// `prefix:{prefix.pending}`: every pending-login key starts with the prefix (so an ACL
    /// that allows `prefix:*` covers it) and shares the hash tag `{prefix.pending}`.
    fn pending_tag(&self) -> String {
        format!("{p}:{{{p}.pending}}", p = self.prefix)
    }

    fn pending_key(&self, part: &str, hex: &str) -> String {
        format!("{}:{part}:{hex}", self.pending_tag())
    }

    async fn insert_or_check(
        &self,
        login: Option<&NewPendingLogin>,
        client: Option<IpAddr>,
        limits: PendingLimits,
        now: u64,
    ) -> Result<(), PendingError> {
        let key_hex = login.map(|l| hex::encode(l.key)).unwrap_or_default();
        let authz_hex = login
            .map(|l| hex::encode(sm3(l.authz_id.as_bytes())))
            .unwrap_or_default();
        let client_hex = client
            .map(|c| hex::encode(sm3(c.to_string().as_bytes())))
            .unwrap_or_default();
        let keys = [
            self.pending_key("all", "set"),
            self.pending_key("l", &key_hex),
            self.pending_key("a", &authz_hex),
            self.pending_key("c", &client_hex),
        ];
        let state: &[u8] = login.map_or(&[], |l| &l.state);
        let forget_at = login.map_or(0, |l| l.forget_at.max(1));
        let check_only = if login.is_some() { "0" } else { "1" };
        let answer: String = self
            .run(
                || {
                    let mut c = redis::cmd("EVAL");
                    c.arg(INSERT).arg(keys.len()).arg(&keys[..]);
                    c.arg(&key_hex)
                        .arg(state)
                        .arg(&authz_hex)
                        .arg(&client_hex)
                        .arg(forget_at)
                        .arg(now)
                        .arg(limits.total)
                        .arg(limits.per_client)
                        .arg(check_only);
                    c
                },
                |v| v,
            )
            .await?;
        match answer.as_str() {
            "ok" => Ok(()),
            "full" => Err(PendingError::Full),
            "client" => Err(PendingError::ClientFull),
            _ => Err(StoreError::corrupt(
                "redis",
                "unexpected reply from the pending-login script",
            )
            .into()),
        }
    }

    async fn eval_flag(
        &self,
        script: &'static str,
        keys: &[String],
        args: &[&[u8]],
    ) -> Result<bool, StoreError> {
        let n: i64 = self
            .run(
                || {
                    let mut c = redis::cmd("EVAL");
                    c.arg(script).arg(keys.len()).arg(keys);
                    for a in args {
                        c.arg(*a);
                    }
                    c
                },
                |v| v,
            )
            .await?;
        Ok(n == 1)
    }
}

#[async_trait::async_trait]
impl PendingLoginStore for RedisStore {
    async fn insert(
        &self,
        login: NewPendingLogin,
        limits: PendingLimits,
        now: u64,
    ) -> Result<(), PendingError> {
        self.insert_or_check(Some(&login), login.client, limits, now)
            .await
    }

    async fn admits(
        &self,
        client: Option<IpAddr>,
        limits: PendingLimits,
        now: u64,
    ) -> Result<(), PendingError> {
        self.insert_or_check(None, client, limits, now).await
    }

    async fn get(&self, key: &LoginKey) -> Result<Option<Vec<u8>>, StoreError> {
        let login = self.pending_key("l", &hex::encode(key));
        self.run(
            || {
                let mut c = redis::cmd("HGET");
                c.arg(&login).arg("s");
                c
            },
            |v: Option<Vec<u8>>| v,
        )
        .await
    }

    async fn find(&self, authz_id: &str) -> Result<Option<LoginKey>, StoreError> {
        let index = self.pending_key("a", &hex::encode(sm3(authz_id.as_bytes())));
        let found: Option<String> = self
            .run(
                || {
                    let mut c = redis::cmd("GET");
                    c.arg(&index);
                    c
                },
                |v| v,
            )
            .await?;
        found
            .map(|h| {
                hex::decode(&h)
                    .ok()
                    .and_then(|b| LoginKey::try_from(b.as_slice()).ok())
                    .ok_or_else(|| {
                        StoreError::corrupt("redis", "a pending-login index entry is not a key")
                    })
            })
            .transpose()
    }

    async fn update(&self, key: &LoginKey, state: Vec<u8>) -> Result<bool, StoreError> {
        let login = self.pending_key("l", &hex::encode(key));
        self.eval_flag(UPDATE, &[login], &[&state]).await
    }

    async fn remove(&self, key: &LoginKey) -> Result<bool, StoreError> {
        let hex = hex::encode(key);
        let keys = [
            self.pending_key("all", "set"),
            self.pending_key("l", &hex),
            self.pending_key("h", &hex),
        ];
        let tag = self.pending_tag();
        self.eval_flag(REMOVE, &keys, &[hex.as_bytes(), tag.as_bytes()])
            .await
    }

    async fn claim(
        &self,
        key: &LoginKey,
        holder: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let claim = self.pending_key("h", &hex::encode(key));
        let ms = lease.as_millis().max(1).to_string();
        self.eval_flag(CLAIM, &[claim], &[holder.as_bytes(), ms.as_bytes()])
            .await
    }

    async fn release(&self, key: &LoginKey, holder: &str) -> Result<(), StoreError> {
        let claim = self.pending_key("h", &hex::encode(key));
        self.eval_flag(RELEASE, &[claim], &[holder.as_bytes()])
            .await
            .map(|_| ())
    }

    async fn count(&self) -> Result<usize, StoreError> {
        let all = self.pending_key("all", "set");
        let now = self.clock.now();
        self.run(
            || {
                let mut c = redis::cmd("ZCOUNT");
                c.arg(&all).arg(format!("({now}")).arg("+inf");
                c
            },
            |n: usize| n,
        )
        .await
    }
}
