//! `netid migrate`, and the PostgreSQL plumbing the commands share.

use netid::audit::AuditError;
use netid::store::StoreError;
use netid::store::postgres::PgStore;

use crate::{Failure, print_stdout};

/// The long help of `netid migrate`.
pub(crate) const LONG_ABOUT: &str = "\
Apply netid's embedded PostgreSQL migrations (the consent ledger, the sealed-field vault and the \
audit log's tables) to a database, creating the schema if it is missing. Applied migrations are \
skipped, so running it again, or from several deployments at once, is safe. Exits 0 when the \
database is up to date, 2 when it cannot be reached or refuses.";

/// The examples shown after `netid migrate --help`.
pub(crate) const EXAMPLES: &str = "\
Examples:
  netid migrate --postgres postgres://app@db.internal/app --schema netid";

/// Arguments of `netid migrate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The database (`postgres://user[:password]@host[:port]/db`).
    #[arg(long, value_name = "URL")]
    postgres: String,
    /// The schema for netid's tables (default: the connection's search_path).
    #[arg(long, value_name = "NAME")]
    schema: Option<String>,
}

/// Runs `netid migrate`.
pub(crate) fn run(args: Args) -> Result<(), Failure> {
    block_on(async {
        let store = connect(&args.postgres, args.schema.as_deref()).await?;
        store.migrate().await?;
        Ok::<_, AuditError>(())
    })
    .map_err(|e| Failure::setup(&e))?;
    print_stdout(&format!(
        "ok: migrations applied to schema {}\n",
        args.schema.as_deref().unwrap_or("(search_path)")
    ))
}

/// A store for `url` and `schema`, connected: a refused connection, no answer within the
/// connect timeout, refused credentials or a missing database are told at once, naming the
/// user and host:port; errors never quote the URL (it may hold a password).
pub(crate) async fn connect(url: &str, schema: Option<&str>) -> Result<PgStore, StoreError> {
    let mut builder = PgStore::builder(url);
    if let Some(s) = schema {
        builder = builder.schema(s);
    }
    builder.connect().await
}

/// Runs `future` on a runtime of its own (the commands are otherwise synchronous).
pub(crate) fn block_on<T>(
    future: impl std::future::Future<Output = Result<T, AuditError>>,
) -> Result<T, AuditError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|_| AuditError::Store(StoreError::unavailable("postgres", "no async runtime")))?
        .block_on(future)
}
