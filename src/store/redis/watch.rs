//! Revocations seen without a round trip: every instance subscribes to one channel on which each
//! revocation is announced, and answers "not revoked" from its own memory while it can prove the
//! channel is live.
//!
//! The proof is a heartbeat of its own: every `staleness / 5` the instance publishes a ping
//! carrying its send time on the same channel, and notes the send time of each of its pings
//! that comes back. Redis runs commands one at a time and delivers a subscriber's messages in
//! order, so when a ping sent at `t` comes back, every revocation acknowledged before `t` has
//! been delivered (and counted) before it. [`Watch::generation`] therefore answers only while
//! the last ping that came back was sent at most `staleness` ago: a logout acknowledged at
//! instance A is refused at B within `staleness` (default 500 ms) at the latest. When the
//! channel is down, late or unsubscribed, `generation` is `None` and every check asks Redis
//! (a round trip, failing closed if Redis cannot answer) — never a stale "not revoked".
//!
//! The channel is `{prefix}:{{prefix}.revocations}:channel` (a Redis ACL for the application
//! needs `&{prefix}:*` besides `~{prefix}:*`). In a Redis Cluster it is a sharded channel
//! (`SPUBLISH`/`SSUBSCRIBE`, Redis 7) in the slot of the revocation keys: plain `PUBLISH` is
//! broadcast between nodes, and a ping published at one node could overtake a revocation
//! published at another; a sharded channel has one node, the one that records the
//! revocations, so the order above holds there too.

use std::sync::Weak;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

/// What a revocation announces.
pub(super) const REVOKED: &str = "r";

/// The state one store's subscriber keeps.
#[derive(Debug)]
pub(super) struct Watch {
    /// Bumped by every revocation announced, by this instance's own, and by every
    /// (re)subscription (messages may have been missed while down).
    generation: AtomicU64,
    /// When (ms since `base`, plus one) the newest ping that came back was sent; 0: none yet
    /// on this subscription.
    fresh_as_of: AtomicU64,
    base: Instant,
    staleness: Duration,
    id: String,
}

impl Watch {
    pub(super) fn new(staleness: Duration) -> Self {
        Self {
            generation: AtomicU64::new(0),
            fresh_as_of: AtomicU64::new(0),
            base: Instant::now(),
            staleness,
            id: crate::random::token(12),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX) + 1
    }

    /// The generation, while the channel is proven live within the staleness bound.
    pub(super) fn generation(&self) -> Option<u64> {
        let fresh = self.fresh_as_of.load(Ordering::Acquire);
        let bound = u64::try_from(self.staleness.as_millis()).unwrap_or(u64::MAX);
        (fresh != 0 && self.now_ms().saturating_sub(fresh) <= bound)
            .then(|| self.generation.load(Ordering::Acquire))
    }

    pub(super) fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn ping(&self) -> String {
        format!("p {} {}", self.id, self.now_ms())
    }

    /// Takes one message: a revocation bumps the generation; one of our pings proves the
    /// channel live up to its send time.
    fn take(&self, payload: &[u8]) {
        if payload == REVOKED.as_bytes() {
            self.bump();
            return;
        }
        let Ok(text) = std::str::from_utf8(payload) else {
            return;
        };
        let mut parts = text.split(' ');
        if let (Some("p"), Some(id), Some(sent), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
            && id == self.id
            && let Ok(sent) = sent.parse::<u64>()
        {
            self.fresh_as_of.fetch_max(sent, Ordering::AcqRel);
        }
    }

    fn lost(&self) {
        self.fresh_as_of.store(0, Ordering::Release);
        self.bump();
    }
}

/// How the subscription is made.
pub(super) enum Subscriber {
    /// `SUBSCRIBE` on a connection of its own.
    Single(redis::Client),
    /// `SSUBSCRIBE` through a cluster connection of its own (RESP3: messages arrive as pushes),
    /// which sends it to the node that serves the channel's slot.
    Cluster(Vec<String>),
}

/// A cluster client for `nodes`, with messages pushed to `pushes` if given (RESP3).
pub(super) fn cluster_client(
    nodes: &[String],
    timeout: Duration,
    pushes: Option<tokio::sync::mpsc::UnboundedSender<redis::PushInfo>>,
) -> redis::RedisResult<redis::cluster::ClusterClient> {
    let mut builder = redis::cluster::ClusterClientBuilder::new(nodes.iter().map(String::as_str))
        .connection_timeout(timeout)
        .response_timeout(timeout)
        .retries(2);
    if let Some(pushes) = pushes {
        builder = builder
            .use_protocol(redis::ProtocolVersion::RESP3)
            .push_sender(pushes);
    }
    builder.build()
}

/// Keeps `watch` fed until the store is dropped: subscribes, pings, and resubscribes after any
/// failure (with a growing pause, at most 2 s).
pub(super) async fn run(
    watch: Weak<Watch>,
    subscriber: Subscriber,
    conn: super::Conn,
    channel: String,
    timeout: Duration,
) {
    let publish = match subscriber {
        Subscriber::Single(_) => "PUBLISH",
        Subscriber::Cluster(_) => "SPUBLISH",
    };
    let mut pause = Duration::from_millis(100);
    loop {
        let Some(heartbeat) = watch
            .upgrade()
            .map(|w| (w.staleness / 5).max(Duration::from_millis(10)))
        else {
            return;
        };
        let pinger = Pinger {
            watch: &watch,
            conn: &conn,
            channel: &channel,
            publish,
            timeout,
        };
        let alive = match &subscriber {
            Subscriber::Single(client) => {
                follow_single(&watch, client, &channel, heartbeat, &pinger).await
            }
            Subscriber::Cluster(nodes) => {
                follow_cluster(&watch, nodes, &channel, heartbeat, &pinger).await
            }
        };
        let Some(subscribed) = alive else { return };
        if subscribed {
            pause = Duration::from_millis(100);
        }
        match watch.upgrade() {
            Some(w) => w.lost(),
            None => return,
        }
        tracing::debug!("revocation channel down; checks ask Redis until it is back");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// Publishes this instance's pings on the command connection.
struct Pinger<'a> {
    watch: &'a Weak<Watch>,
    conn: &'a super::Conn,
    channel: &'a str,
    publish: &'static str,
    timeout: Duration,
}

impl Pinger<'_> {
    /// `None` once the store is gone.
    async fn ping(&self) -> Option<()> {
        let ping = self.watch.upgrade()?.ping();
        let mut conn = self.conn.clone();
        let mut publish = redis::cmd(self.publish);
        publish.arg(self.channel).arg(ping);
        // A lost ping only lets freshness lapse: the checks then ask Redis.
        let _ = tokio::time::timeout(self.timeout, publish.query_async::<redis::Value>(&mut conn))
            .await;
        Some(())
    }
}

/// Follows one subscription on one server until it drops. `None`: the store is gone;
/// `Some(subscribed)`: whether the subscription was made.
async fn follow_single(
    watch: &Weak<Watch>,
    client: &redis::Client,
    channel: &str,
    heartbeat: Duration,
    pinger: &Pinger<'_>,
) -> Option<bool> {
    let subscribed = tokio::time::timeout(pinger.timeout, async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok::<_, redis::RedisError>(pubsub)
    })
    .await;
    let Ok(Ok(pubsub)) = subscribed else {
        return Some(false);
    };
    watch.upgrade()?.bump();
    let mut messages = pubsub.into_on_message();
    let mut tick = tokio::time::interval(heartbeat);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = messages.next() => {
                let Some(message) = message else { return Some(true) };
                watch.upgrade()?.take(message.get_payload_bytes());
            }
            _ = tick.tick() => pinger.ping().await?,
        }
    }
}

/// Follows a sharded subscription in a cluster. The cluster client reconnects and resubscribes
/// by itself; what matters for the bound is that messages can only be missed while the
/// subscription is gone, and that a resubscription is confirmed (an `SSUBSCRIBE` push) before
/// any message published after it arrives: every confirmation bumps the generation, so what
/// was decided before the gap is asked again. A disconnection or an `SUNSUBSCRIBE` (the slot
/// moved) ends freshness at once. If no ping has come back for a while, the whole
/// subscription is made anew.
async fn follow_cluster(
    watch: &Weak<Watch>,
    nodes: &[String],
    channel: &str,
    heartbeat: Duration,
    pinger: &Pinger<'_>,
) -> Option<bool> {
    let (tx, mut pushes) = tokio::sync::mpsc::unbounded_channel();
    let Ok(client) = cluster_client(nodes, pinger.timeout, Some(tx)) else {
        return Some(false);
    };
    let subscribed = tokio::time::timeout(pinger.timeout, async {
        let mut conn = client.get_async_connection().await?;
        conn.ssubscribe(channel).await?;
        Ok::<_, redis::RedisError>(conn)
    })
    .await;
    let Ok(Ok(_subscription)) = subscribed else {
        return Some(false);
    };
    watch.upgrade()?.bump();
    let give_up = (pinger.timeout * 4).max(Duration::from_secs(2));
    let mut live_at = Instant::now();
    let mut tick = tokio::time::interval(heartbeat);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            push = pushes.recv() => {
                let Some(push) = push else { return Some(true) };
                let w = watch.upgrade()?;
                match push.kind {
                    redis::PushKind::SMessage => {
                        if let [redis::Value::BulkString(on), redis::Value::BulkString(payload)] =
                            push.data.as_slice()
                            && on.as_slice() == channel.as_bytes()
                        {
                            w.take(payload);
                        }
                    }
                    redis::PushKind::SSubscribe => w.bump(),
                    redis::PushKind::SUnsubscribe | redis::PushKind::Disconnection => w.lost(),
                    _ => {}
                }
            }
            _ = tick.tick() => {
                pinger.ping().await?;
                if watch.upgrade()?.generation().is_some() {
                    live_at = Instant::now();
                } else if live_at.elapsed() > give_up {
                    return Some(true);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_its_own_fresh_pings_make_the_generation_answerable() {
        let watch = Watch::new(Duration::from_secs(3600));
        assert_eq!(watch.generation(), None, "nothing proven yet");
        watch.take(b"p someone-else 99999999");
        watch.take(b"garbage \xff");
        assert_eq!(watch.generation(), None);
        watch.take(watch.ping().as_bytes());
        let g = watch.generation().unwrap();
        watch.take(REVOKED.as_bytes());
        assert_eq!(watch.generation(), Some(g + 1));
        watch.lost();
        assert_eq!(watch.generation(), None, "a lost channel proves nothing");
    }

    #[test]
    fn a_ping_older_than_the_bound_proves_nothing() {
        let watch = Watch::new(Duration::ZERO);
        let ping = watch.ping();
        std::thread::sleep(Duration::from_millis(5));
        watch.take(ping.as_bytes());
        assert_eq!(watch.generation(), None);
    }
}
