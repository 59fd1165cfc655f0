//! PostgreSQL (`sqlx`): the consent ledger, the sealed-field store and the audit log, shared by
//! every instance of an application.
//!
//! ```no_run
//! # async fn demo() -> Result<(), netid::store::StoreError> {
//! use std::sync::Arc;
//! use netid::store::postgres::PgStore;
//!
//! let pg = PgStore::builder("postgres://app@db.internal/app").schema("netid").connect().await?;
//! pg.migrate().await?; // or, once per deployment: `netid migrate --postgres URL --schema netid`
//! let pg = Arc::new(pg);
//! // One store, three roles: `LoginFlowBuilder::consents(pg.clone())`,
//! // `LoginFlowBuilder::audit(pg.clone())`, `Vault::new(pg.clone(), pg.clone(), key)`.
//! // From cron, on any instance: `netid sweep --postgres URL --schema netid`.
//! # Ok(()) }
//! ```
//!
//! # Consistency
//! Each write is one transaction. Audit appends from many instances are serialised by a
//! transaction-scoped advisory lock, so the log stays one chain (and `seq` is the primary key:
//! a fork could not be stored anyway). Failures map to [`StoreError`] by SQLSTATE class, never
//! by message: PostgreSQL messages may quote the values of a row.
//!
//! # Retention
//! Every consent and sealed row carries `expires_at` (NOT NULL since migration 0003). A sweep
//! ([`ConsentLedger::sweep_expired`], [`SealedFieldStore::sweep_expired`]; `netid sweep`) deletes
//! expired rows in batches of [`SWEEP_BATCH`], each batch one statement that locks its rows with
//! `FOR UPDATE SKIP LOCKED`: sweeps running at once on many instances share the work, never wait
//! for each other (no deadlock), and each row is deleted, and counted, by exactly one of them.
//! Withdrawing a consent deletes its sealed row in the same transaction.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, PgConnection, Postgres, Row, Transaction};

use super::StoreError;
use super::retention::with_default_expiry;
use super::vault::SealedFieldStore;
use super::{ConsentLedger, ConsentRecord};
use crate::audit::{AuditAction, AuditEntry, AuditError, AuditEvent, AuditLog};
use crate::model::FieldName;

const BACKEND: &str = "postgres";

/// How many rows one sweep statement deletes at most (one short transaction each).
pub const SWEEP_BATCH: i64 = 1000;

/// The embedded migrations (`migrations/postgres/` in the crate).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The consent ledger, sealed fields and audit log in PostgreSQL. Cheap to clone (a pool).
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    schema: Option<String>,
    target: Arc<Target>,
}

/// Where the store connects, as its errors name it: never the password.
#[derive(Debug)]
struct Target {
    /// `host:port`.
    addr: String,
    user: String,
    database: String,
    /// How long to wait for a pooled connection (the builder's `timeout`).
    timeout: Duration,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: it is not kept.
        f.debug_struct("PgStore")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// Settings for a [`PgStore`].
pub struct PgStoreBuilder {
    url: String,
    schema: Option<String>,
    max_connections: u32,
    timeout: Duration,
    connect_timeout: Duration,
}

impl std::fmt::Debug for PgStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStoreBuilder")
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl PgStoreBuilder {
    /// The schema netid's tables live in (default: the connection's `search_path`, usually
    /// `public`). Lowercase letters, digits and `_`, at most 63, not starting with a digit.
    /// [`PgStore::migrate`] creates it if missing.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// Pool size (default 8; 1 to 256).
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n;
        self
    }

    /// How long to wait for a connection and for one statement (default 5 s; 100 ms to 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long [`connect`](Self::connect) waits for the server to answer its first
    /// connection (default 3 s; 100 ms to 60 s). A refused connection is reported at once.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Builds the store without connecting: connections are made on first use and re-made
    /// when they fail, so an instance can start while the database is down (and refuses
    /// until it is back).
    pub fn build(self) -> Result<PgStore, StoreError> {
        self.prepare().map(|(store, _)| store)
    }

    /// The store, and the options of its connections.
    fn prepare(self) -> Result<(PgStore, PgConnectOptions), StoreError> {
        if let Some(s) = &self.schema {
            let valid = (1..=63).contains(&s.len())
                && !s.as_bytes()[0].is_ascii_digit()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid {
                return Err(StoreError::misconfigured(
                    BACKEND,
                    "the schema must be 1-63 of a-z 0-9 _, not starting with a digit",
                ));
            }
        }
        if !(1..=256).contains(&self.max_connections) {
            return Err(StoreError::misconfigured(
                BACKEND,
                "max_connections must be 1 to 256",
            ));
        }
        for t in [self.timeout, self.connect_timeout] {
            if t < Duration::from_millis(100) || t > Duration::from_secs(60) {
                return Err(StoreError::misconfigured(
                    BACKEND,
                    "the timeouts must be 100 ms to 60 s",
                ));
            }
        }
        // sqlx's error would quote the URL, password included.
        let mut options = PgConnectOptions::from_str(&self.url)
            .map_err(|_| StoreError::misconfigured(BACKEND, "the PostgreSQL URL is not valid"))?;
        let statement_timeout = format!("{}ms", self.timeout.as_millis());
        let mut settings = vec![("statement_timeout", statement_timeout)];
        if let Some(s) = &self.schema {
            settings.push(("search_path", s.clone()));
        }
        options = options.options(settings);
        let target = Arc::new(Target {
            addr: format!("{}:{}", options.get_host(), options.get_port()),
            user: options.get_username().to_owned(),
            database: options
                .get_database()
                .unwrap_or(options.get_username())
                .to_owned(),
            timeout: self.timeout,
        });
        let pool = PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.timeout)
            .connect_lazy_with(options.clone());
        Ok((
            PgStore {
                pool,
                schema: self.schema,
                target,
            },
            options,
        ))
    }

    /// Builds the store and checks the database answers. One connection is made directly
    /// first, so that what fails is told at once and by name: a refused connection (no
    /// waiting for the pool's timeout), no answer within the connect timeout, the credentials
    /// refused, a database that does not exist — each naming the host and port.
    pub async fn connect(self) -> Result<PgStore, StoreError> {
        let connect_timeout = self.connect_timeout;
        let (store, options) = self.prepare()?;
        let probe = tokio::time::timeout(connect_timeout, PgConnection::connect_with(&options));
        match probe.await {
            Err(_) => {
                return Err(StoreError::unavailable(
                    BACKEND,
                    format!(
                        "no answer from {} within the connect timeout ({} ms)",
                        store.target.addr,
                        connect_timeout.as_millis()
                    ),
                ));
            }
            Ok(Err(e)) => return Err(store.fail(e)),
            Ok(Ok(conn)) => {
                // Only a probe; the pool makes its own.
                let _ = conn.close().await;
            }
        }
        sqlx::query("SELECT 1")
            .execute(&store.pool)
            .await
            .map_err(|e| store.fail(e))?;
        Ok(store)
    }
}

/// Maps a sqlx error by kind and SQLSTATE class, never by message (for errors that do not
/// come from connecting: see [`PgStore::fail`]).
fn describe(e: sqlx::Error) -> StoreError {
    classify(e, None)
}

/// Maps a sqlx error by kind and SQLSTATE class, never by message; errors of connecting name
/// the user and `host:port` of `at`.
fn classify(e: sqlx::Error, at: Option<&Target>) -> StoreError {
    let addr = at.map_or("the server", |t| t.addr.as_str());
    match &e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let user = at.map_or("(unknown)", |t| t.user.as_str());
            match code.get(..2) {
                // invalid authorization specification: 28000 is also what trust
                // authentication answers for a role that does not exist.
                Some("28") => StoreError::auth_failed(
                    BACKEND,
                    format!(
                        "authentication failed for user {user} at {addr} (SQLSTATE {code}: {})",
                        if code == "28P01" {
                            "wrong password"
                        } else {
                            "the role does not exist, or pg_hba.conf does not admit it"
                        }
                    ),
                ),
                _ if code == "3D000" => StoreError::misconfigured(
                    BACKEND,
                    format!(
                        "database {} does not exist at {addr} (SQLSTATE 3D000)",
                        at.map_or("(unknown)", |t| t.database.as_str())
                    ),
                ),
                // connection exception, insufficient resources, operator intervention,
                // serialization failure / deadlock.
                Some("08" | "53" | "57" | "40") => {
                    StoreError::unavailable(BACKEND, format!("{addr}: SQLSTATE {code}"))
                }
                // undefined table / column: migrations not applied.
                _ if code == "42P01" || code == "42703" || code == "3F000" => {
                    StoreError::misconfigured(
                        BACKEND,
                        format!("SQLSTATE {code}: run PgStore::migrate or `netid migrate`"),
                    )
                }
                _ => StoreError::corrupt(BACKEND, format!("SQLSTATE {code}")),
            }
        }
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            StoreError::unavailable(
                BACKEND,
                format!("connection refused by {addr}: is PostgreSQL running there?"),
            )
        }
        sqlx::Error::Io(io) => StoreError::unavailable(
            BACKEND,
            format!("connection to {addr} failed ({:?})", io.kind()),
        ),
        sqlx::Error::PoolTimedOut => StoreError::unavailable(
            BACKEND,
            match at {
                Some(t) => format!(
                    "no connection to {addr} within {} ms (refused, unreachable, or every \
                     connection busy)",
                    t.timeout.as_millis()
                ),
                None => kind_name(&e).to_owned(),
            },
        ),
        sqlx::Error::Tls(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => {
            StoreError::unavailable(BACKEND, format!("{addr}: {}", kind_name(&e)))
        }
        sqlx::Error::Configuration(_) => StoreError::misconfigured(BACKEND, kind_name(&e)),
        _ => StoreError::corrupt(BACKEND, kind_name(&e)),
    }
}

fn kind_name(e: &sqlx::Error) -> &'static str {
    match e {
        sqlx::Error::Io(_) => "connection failed",
        sqlx::Error::Tls(_) => "TLS failed",
        sqlx::Error::PoolTimedOut => "no connection within the timeout",
        sqlx::Error::PoolClosed => "the pool is closed",
        sqlx::Error::WorkerCrashed => "the connection worker crashed",
        sqlx::Error::Protocol(_) => "protocol error",
        sqlx::Error::Configuration(_) => "configuration error",
        sqlx::Error::RowNotFound => "row not found",
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => "a column cannot be decoded",
        _ => "database error",
    }
}

impl PgStore {
    /// Settings for the database at `url` (`postgres://user[:password]@host[:port]/db`).
    pub fn builder(url: impl Into<String>) -> PgStoreBuilder {
        PgStoreBuilder {
            url: url.into(),
            schema: None,
            max_connections: 8,
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(3),
        }
    }

    /// Connects with the default settings and checks the database answers.
    pub async fn connect(url: impl Into<String>) -> Result<Self, StoreError> {
        Self::builder(url).connect().await
    }

    /// Creates the schema if missing and applies the embedded migrations that are not applied
    /// yet. Safe to run from several instances at once (sqlx takes an advisory lock).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        if let Some(schema) = &self.schema {
            // Validated at build time: the name needs no quoting beyond the quotes.
            let created = sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .execute(&self.pool)
                .await;
            match created {
                Ok(_) => {}
                // Two instances creating it at once: one wins, the other sees a duplicate.
                Err(sqlx::Error::Database(db))
                    if matches!(db.code().as_deref(), Some("23505" | "42P06")) => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
        MIGRATOR.run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(e) => self.fail(e),
            other => StoreError::corrupt(
                BACKEND,
                format!(
                    "migrations: {}",
                    match other {
                        sqlx::migrate::MigrateError::VersionMissing(_) =>
                            "the database has a migration this netid does not know",
                        sqlx::migrate::MigrateError::VersionMismatch(_) =>
                            "an applied migration was changed",
                        sqlx::migrate::MigrateError::Dirty(_) =>
                            "a migration failed half-way earlier",
                        _ => "failed",
                    }
                ),
            ),
        })
    }

    /// The pool, for an application's own queries in the same database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool.begin().await.map_err(|e| self.fail(e))
    }

    /// An error of this store, connecting errors naming its user and `host:port`.
    fn fail(&self, e: sqlx::Error) -> StoreError {
        classify(e, Some(&self.target))
    }
}

fn field_names(fields: &[FieldName]) -> Vec<String> {
    fields.iter().map(|f| f.as_str().to_owned()).collect()
}

fn parse_fields(names: Vec<String>) -> Result<Vec<FieldName>, StoreError> {
    names
        .iter()
        .map(|n| {
            n.parse()
                .map_err(|_| StoreError::corrupt(BACKEND, "an unknown field name is stored"))
        })
        .collect()
}

fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::corrupt(BACKEND, "a time beyond the i64 range"))
}

fn to_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::corrupt(BACKEND, "a negative time or sequence"))
}

fn consent_from_row(row: &PgRow) -> Result<ConsentRecord, StoreError> {
    let get_opt = |name: &str| -> Result<Option<u64>, StoreError> {
        row.try_get::<Option<i64>, _>(name)
            .map_err(describe)?
            .map(to_u64)
            .transpose()
    };
    Ok(ConsentRecord {
        id: row.try_get("id").map_err(describe)?,
        subject: row.try_get("subject").map_err(describe)?,
        fields: parse_fields(row.try_get("fields").map_err(describe)?)?,
        purpose: row.try_get("purpose").map_err(describe)?,
        legal_basis: row.try_get("legal_basis").map_err(describe)?,
        granted_at: to_u64(row.try_get("granted_at").map_err(describe)?)?,
        expires_at: get_opt("expires_at")?,
        withdrawn_at: get_opt("withdrawn_at")?,
    })
}

#[async_trait::async_trait]
impl ConsentLedger for PgStore {
    async fn record(&self, c: ConsentRecord) -> Result<(), StoreError> {
        let c = with_default_expiry(c);
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO netid_consents \
             (subject, id, fields, purpose, legal_basis, granted_at, expires_at, withdrawn_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (subject, id) DO UPDATE SET fields = EXCLUDED.fields, \
             purpose = EXCLUDED.purpose, legal_basis = EXCLUDED.legal_basis, \
             granted_at = EXCLUDED.granted_at, expires_at = EXCLUDED.expires_at, \
             withdrawn_at = EXCLUDED.withdrawn_at",
        )
        .bind(&c.subject)
        .bind(&c.id)
        .bind(field_names(&c.fields))
        .bind(&c.purpose)
        .bind(&c.legal_basis)
        .bind(to_i64(c.granted_at)?)
        .bind(c.expires_at.map(to_i64).transpose()?)
        .bind(c.withdrawn_at.map(to_i64).transpose()?)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.fail(e))?;
        tx.commit().await.map_err(|e| self.fail(e))
    }

    async fn withdraw(&self, subject: &str, consent_id: &str, at: u64) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE netid_consents SET withdrawn_at = $3 \
             WHERE subject = $1 AND id = $2 AND withdrawn_at IS NULL",
        )
        .bind(subject)
        .bind(consent_id)
        .bind(to_i64(at)?)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.fail(e))?;
        // The fields it covered go with it (PIPL Art. 47 §1 item 3), also on a repeat.
        sqlx::query("DELETE FROM netid_sealed_fields WHERE subject = $1 AND consent_id = $2")
            .bind(subject)
            .bind(consent_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.fail(e))?;
        tx.commit().await.map_err(|e| self.fail(e))?;
        Ok(done.rows_affected() == 1)
    }

    async fn for_subject(&self, subject: &str) -> Result<Vec<ConsentRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT subject, id, fields, purpose, legal_basis, granted_at, expires_at, \
             withdrawn_at FROM netid_consents WHERE subject = $1 ORDER BY granted_at, id",
        )
        .bind(subject)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.fail(e))?;
        rows.iter().map(consent_from_row).collect()
    }

    async fn withdraw_all(&self, subject: &str, at: u64) -> Result<usize, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE netid_consents SET withdrawn_at = $2 \
             WHERE subject = $1 AND withdrawn_at IS NULL",
        )
        .bind(subject)
        .bind(to_i64(at)?)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.fail(e))?;
        sqlx::query(
            "DELETE FROM netid_sealed_fields s USING netid_consents c \
             WHERE s.subject = $1 AND c.subject = $1 AND c.id = s.consent_id",
        )
        .bind(subject)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.fail(e))?;
        tx.commit().await.map_err(|e| self.fail(e))?;
        count(done.rows_affected())
    }

    async fn sweep_expired(&self, now: u64) -> Result<usize, StoreError> {
        self.sweep(
            "WITH doomed AS (SELECT subject, id FROM netid_consents WHERE expires_at <= $1 \
             ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
             DELETE FROM netid_consents c USING doomed d \
             WHERE c.subject = d.subject AND c.id = d.id",
            now,
        )
        .await
    }
}

fn count(rows: u64) -> Result<usize, StoreError> {
    usize::try_from(rows).map_err(|_| StoreError::corrupt(BACKEND, "row count out of range"))
}

impl PgStore {
    /// Runs a batched sweep statement (`$1` now, `$2` the batch size) until a batch comes back
    /// short: then nothing expired is left, or the rest is locked by a sweep running elsewhere,
    /// which deletes it.
    async fn sweep(&self, statement: &'static str, now: u64) -> Result<usize, StoreError> {
        let now = to_i64(now)?;
        let mut total = 0;
        loop {
            let done = sqlx::query(statement)
                .bind(now)
                .bind(SWEEP_BATCH)
                .execute(&self.pool)
                .await
                .map_err(|e| self.fail(e))?;
            total += count(done.rows_affected())?;
            if done.rows_affected() < SWEEP_BATCH.unsigned_abs() {
                return Ok(total);
            }
        }
    }
}

#[async_trait::async_trait]
impl SealedFieldStore for PgStore {
    async fn put(
        &self,
        subject: &str,
        consent_id: &str,
        sealed: &[u8],
        at: u64,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO netid_sealed_fields (subject, consent_id, sealed, stored_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subject, consent_id) \
             DO UPDATE SET sealed = EXCLUDED.sealed, stored_at = EXCLUDED.stored_at, \
             expires_at = EXCLUDED.expires_at",
        )
        .bind(subject)
        .bind(consent_id)
        .bind(sealed)
        .bind(to_i64(at)?)
        .bind(to_i64(expires_at)?)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.fail(e))?;
        tx.commit().await.map_err(|e| self.fail(e))
    }

    async fn get(&self, subject: &str, consent_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.get_at(subject, consent_id, crate::clock::unix_now())
            .await
    }

    async fn get_at(
        &self,
        subject: &str,
        consent_id: &str,
        now: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        sqlx::query_scalar(
            "SELECT sealed FROM netid_sealed_fields \
             WHERE subject = $1 AND consent_id = $2 AND expires_at > $3",
        )
        .bind(subject)
        .bind(consent_id)
        .bind(to_i64(now)?)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.fail(e))
    }

    async fn erase_subject(&self, subject: &str) -> Result<usize, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM netid_sealed_fields WHERE subject = $1")
            .bind(subject)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.fail(e))?;
        tx.commit().await.map_err(|e| self.fail(e))?;
        count(done.rows_affected())
    }

    async fn erase_consent(&self, subject: &str, consent_id: &str) -> Result<usize, StoreError> {
        let done =
            sqlx::query("DELETE FROM netid_sealed_fields WHERE subject = $1 AND consent_id = $2")
                .bind(subject)
                .bind(consent_id)
                .execute(&self.pool)
                .await
                .map_err(|e| self.fail(e))?;
        count(done.rows_affected())
    }

    async fn sweep_expired(&self, now: u64) -> Result<usize, StoreError> {
        self.sweep(
            "WITH doomed AS (SELECT subject, consent_id FROM netid_sealed_fields \
             WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
             DELETE FROM netid_sealed_fields s USING doomed d \
             WHERE s.subject = d.subject AND s.consent_id = d.consent_id",
            now,
        )
        .await
    }

    async fn count_for_subject(&self, subject: &str) -> Result<usize, StoreError> {
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM netid_sealed_fields WHERE subject = $1")
                .bind(subject)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| self.fail(e))?;
        usize::try_from(n).map_err(|_| StoreError::corrupt(BACKEND, "row count out of range"))
    }
}

const AUDIT_COLUMNS: &str = "seq, prev, v, action, subject, outcome, reason, method, assurance, \
                             fields, consent_id, authz_id, token_sm3, token, at, hash";

fn entry_from_row(row: &PgRow) -> Result<AuditEntry, StoreError> {
    let action: String = row.try_get("action").map_err(describe)?;
    let action: AuditAction = serde_json::from_value(serde_json::Value::String(action))
        .map_err(|_| StoreError::corrupt(BACKEND, "an unknown audit action is stored"))?;
    let assurance = row
        .try_get::<Option<i16>, _>("assurance")
        .map_err(describe)?
        .map(|a| u8::try_from(a).map_err(|_| StoreError::corrupt(BACKEND, "assurance range")))
        .transpose()?;
    // Rows written before migration 0002 have no version: they are version 1.
    let version = match row.try_get::<Option<i16>, _>("v").map_err(describe)? {
        None => 1,
        Some(v) => {
            u8::try_from(v).map_err(|_| StoreError::corrupt(BACKEND, "entry version range"))?
        }
    };
    Ok(AuditEntry {
        seq: to_u64(row.try_get("seq").map_err(describe)?)?,
        prev: row.try_get("prev").map_err(describe)?,
        version,
        event: AuditEvent {
            action,
            subject: row.try_get("subject").map_err(describe)?,
            outcome: row.try_get("outcome").map_err(describe)?,
            reason: row.try_get("reason").map_err(describe)?,
            method: row.try_get("method").map_err(describe)?,
            assurance,
            fields: parse_fields(row.try_get("fields").map_err(describe)?)?,
            consent_id: row.try_get("consent_id").map_err(describe)?,
            authz_id: row.try_get("authz_id").map_err(describe)?,
            token_sm3: row.try_get("token_sm3").map_err(describe)?,
            token: row.try_get("token").map_err(describe)?,
            at: to_u64(row.try_get("at").map_err(describe)?)?,
        },
        hash: row.try_get("hash").map_err(describe)?,
    })
}

#[async_trait::async_trait]
impl AuditLog for PgStore {
    async fn append(&self, event: AuditEvent) -> Result<AuditEntry, AuditError> {
        event.validate()?;
        let mut tx = self.begin().await?;
        // One writer at a time per log (per schema), across every instance; released at
        // commit or rollback.
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '.netid_audit', 0))",
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| self.fail(e))?;
        let last: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM netid_audit ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| self.fail(e))?;
        let (seq, prev) = match last {
            Some((seq, hash)) => (to_u64(seq)? + 1, hash),
            None => (1, crate::audit::GENESIS.to_owned()),
        };
        let entry = AuditEntry::link(seq, &prev, event);
        let e = &entry.event;
        sqlx::query(&format!(
            "INSERT INTO netid_audit ({AUDIT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .bind(to_i64(entry.seq)?)
        .bind(&entry.prev)
        .bind(i16::from(entry.version))
        .bind(e.action.as_str())
        .bind(&e.subject)
        .bind(&e.outcome)
        .bind(&e.reason)
        .bind(&e.method)
        .bind(e.assurance.map(i16::from))
        .bind(field_names(&e.fields))
        .bind(&e.consent_id)
        .bind(&e.authz_id)
        .bind(&e.token_sm3)
        .bind(&e.token)
        .bind(to_i64(e.at)?)
        .bind(&entry.hash)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.fail(e))?;
        tx.commit().await.map_err(|e| self.fail(e))?;
        Ok(entry)
    }

    async fn read(&self, from_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, AuditError> {
        let limit = i64::try_from(limit.min(100_000)).unwrap_or(100_000);
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM netid_audit WHERE seq >= $1 ORDER BY seq LIMIT $2"
        ))
        .bind(to_i64(from_seq)?)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.fail(e))?;
        Ok(rows
            .iter()
            .map(entry_from_row)
            .collect::<Result<Vec<_>, _>>()?)
    }
}
