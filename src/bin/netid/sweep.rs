//! `netid sweep`: delete what has outlived its retention period, from cron.

use std::sync::Arc;

use netid::erasure::{ErasureError, Sweeper};
use netid::store::StoreError;

use crate::pg::connect;
use crate::{Failure, print_stdout};

/// The long help of `netid sweep`.
pub(crate) const LONG_ABOUT: &str = "\
Delete every sealed field record and every consent whose retention period has ended (PIPL \
Art. 47 §1 item 2: 保存期限已届满), and record the sweep as one `retention_sweep` entry in the \
audit log (docs/AUDIT.md). The periods were set when each consent was recorded, from its \
purpose (RetentionPolicy); the sweep only deletes what carries an expiry at or before now.

Safe to run from cron on every instance at once: the sweeps share the work (FOR UPDATE SKIP \
LOCKED batches), each row is deleted and counted by one of them, none waits for another. \
Running it again after a failure completes the sweep.

On success prints `ok: swept to <T>: <N> sealed records, <M> consents erased; audit seq <S>, \
head <hash>` and exits 0. A database that cannot be reached or has not been migrated (`netid \
migrate`) exits 2 with `error: <code>: <message>`; the URL and its password are never printed.";

/// The examples shown after `netid sweep --help`.
pub(crate) const EXAMPLES: &str = "\
Examples:
  netid sweep --postgres postgres://app@db.internal/app --schema netid

  # crontab: every hour, at a minute of its own per host
  17 * * * *  netid sweep --postgres \"$NETID_DB\" --schema netid >> /var/log/netid-sweep.log 2>&1";

/// Arguments of `netid sweep`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The database (`postgres://user[:password]@host[:port]/db`).
    #[arg(long, value_name = "URL")]
    postgres: String,
    /// The schema of netid's tables (default: the connection's search_path).
    #[arg(long, value_name = "NAME")]
    schema: Option<String>,
}

/// Runs `netid sweep`.
pub(crate) fn run(args: Args) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|_| Failure::setup(&StoreError::unavailable("postgres", "no async runtime")))?;
    let report = runtime
        .block_on(async {
            let pg = Arc::new(connect(&args.postgres, args.schema.as_deref()).await?);
            Sweeper::new(pg.clone(), pg.clone())
                .with_sealed(pg)
                .sweep(unix_now())
                .await
        })
        .map_err(|e: ErasureError| Failure::setup(&e))?;
    print_stdout(&format!(
        "ok: swept to {}: {} sealed records, {} consents erased; audit seq {}, head {}\n",
        report.swept_to,
        report.sealed_records_erased,
        report.consents_erased,
        report.audit_seq,
        report.audit_hash
    ))
}

/// Now, in Unix seconds (the library's clock is not public).
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
