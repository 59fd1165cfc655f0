//! `netid scan --postgres`: every text, varchar, char, json and jsonb column of every table,
//! streamed with `COPY (SELECT …) TO STDOUT`: the server sends the rows as COPY text, read
//! chunk by chunk as it arrives and parsed strictly ([`super::copy_text`]), so memory holds one
//! chunk and one row, never a table (this replaced a server-side cursor fetched 1,000 rows at
//! a time: decoding each row through sqlx cost three times the transfer).
//!
//! Rows are reported by their primary key (`id=42`, `a=1,b=2`), or by `ctid` when the table
//! has none (a row's physical place: stable until the row is updated or the table vacuumed
//! full, enough to find it right after the scan). A key value that is itself identity data is
//! redacted like any value.

use std::sync::atomic::Ordering;

use futures_util::StreamExt;
use netid::detect::{Detector, Redacted};
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};

use super::copy_text::{CopyError, CopyText};
use super::{Report, Sink};
use crate::Failure;

/// Rows scanned between two hand-overs of counts and findings to the sink.
const FLUSH: u64 = 1000;

/// Which tables and columns to scan.
pub(crate) struct Filter {
    pub(crate) schemas: Vec<String>,
    pub(crate) tables: Vec<String>,
    pub(crate) columns: Vec<String>,
}

/// A table and the columns to scan in it.
struct Table {
    schema: String,
    name: String,
    /// Column name and whether it is `json`/`jsonb`.
    columns: Vec<(String, bool)>,
    /// The primary key's columns; empty: `ctid`.
    key: Vec<String>,
}

impl Table {
    fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Scans the database at `url`. Connection failures stop the scan (exit 2); a table that
/// cannot be read is reported and skipped.
pub(crate) fn scan(
    url: &str,
    filter: &Filter,
    detector: &Detector,
    sink: &Sink,
) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::other("io", format!("no async runtime: {e}")))?;
    runtime.block_on(async {
        // The URL may hold a password: errors name the server's complaint, never the URL.
        let mut conn = PgConnection::connect(url)
            .await
            .map_err(|e| Failure::other("postgres", format!("cannot connect: {}", describe(&e))))?;
        let tables = tables(&mut conn, filter).await.map_err(|e| {
            Failure::other("postgres", format!("cannot list tables: {}", describe(&e)))
        })?;
        for table in &tables {
            sink.totals.files.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = scan_table(&mut conn, table, detector, sink).await {
                sink.unreadable(&table.qualified(), &e);
                // A COPY that failed or was left unread leaves the connection mid-protocol
                // (sqlx cannot resynchronise it, and draining would read the rest of the
                // table): close it, which also ends the COPY on the server, and go on with a
                // fresh one.
                let fresh = PgConnection::connect(url).await.map_err(|e| {
                    Failure::other("postgres", format!("cannot reconnect: {}", describe(&e)))
                })?;
                let _ = std::mem::replace(&mut conn, fresh).close_hard().await;
            }
        }
        Ok(())
    })
}

/// A database error without the statement's parameters or the URL.
fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    }
}

/// The tables and columns the filter selects.
async fn tables(conn: &mut PgConnection, filter: &Filter) -> Result<Vec<Table>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT c.table_schema::text, c.table_name::text, c.column_name::text, c.data_type::text \
         FROM information_schema.columns c \
         JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE t.table_type = 'BASE TABLE' \
           AND c.table_schema NOT IN ('pg_catalog', 'information_schema') \
           AND c.table_schema NOT LIKE 'pg_toast%' \
           AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb') \
         ORDER BY c.table_schema, c.table_name, c.ordinal_position",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<Table> = Vec::new();
    for row in rows {
        let schema: String = row.try_get(0)?;
        let name: String = row.try_get(1)?;
        let column: String = row.try_get(2)?;
        let data_type: String = row.try_get(3)?;
        if !filter.schemas.is_empty() && !filter.schemas.contains(&schema) {
            continue;
        }
        let qualified = format!("{schema}.{name}");
        if !filter.tables.is_empty() && !filter.tables.iter().any(|t| *t == name || *t == qualified)
        {
            continue;
        }
        if !filter.columns.is_empty() && !filter.columns.contains(&column) {
            continue;
        }
        let json = data_type == "json" || data_type == "jsonb";
        match out.last_mut() {
            Some(t) if t.schema == schema && t.name == name => t.columns.push((column, json)),
            _ => out.push(Table {
                schema,
                name,
                columns: vec![(column, json)],
                key: Vec::new(),
            }),
        }
    }
    for table in &mut out {
        let keys = sqlx::query(
            "SELECT a.attname::text FROM pg_index i \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
             WHERE i.indrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass \
               AND i.indisprimary \
             ORDER BY array_position(i.indkey::int2[], a.attnum)",
        )
        .bind(&table.schema)
        .bind(&table.name)
        .fetch_all(&mut *conn)
        .await?;
        table.key = keys
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?;
    }
    Ok(out)
}

/// Why a table could not be read: the server's complaint or malformed COPY data.
#[derive(Debug, thiserror::Error)]
enum TableError {
    /// A statement failed (or the connection did).
    #[error("{}", describe(.0))]
    Sql(#[from] sqlx::Error),
    /// The COPY data was not what the format allows.
    #[error(transparent)]
    Copy(#[from] CopyError),
}

/// Streams one table through `COPY (SELECT …) TO STDOUT` in a read-only transaction: the
/// rows arrive as chunks of COPY text, parsed as they come, so memory holds one chunk and one
/// row, never the table.
async fn scan_table(
    conn: &mut PgConnection,
    table: &Table,
    detector: &Detector,
    sink: &Sink,
) -> Result<(), TableError> {
    let key_exprs: Vec<String> = if table.key.is_empty() {
        vec!["ctid::text".to_owned()]
    } else {
        table
            .key
            .iter()
            .map(|k| format!("{}::text", ident(k)))
            .collect()
    };
    let key_names: Vec<String> = if table.key.is_empty() {
        vec!["ctid".to_owned()]
    } else {
        table.key.clone()
    };
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|(c, _)| format!("{}::text", ident(c)))
        .collect();
    let select = format!(
        "SELECT {}, {} FROM {}.{}",
        key_exprs.join(", "),
        columns.join(", "),
        ident(&table.schema),
        ident(&table.name)
    );
    // Utility statements over the simple protocol: nothing to prepare.
    sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *conn)
        .await?;
    let qualified = table.qualified();
    let nkeys = key_exprs.len();
    // Whether the text columns' names allow the quick test per row (none is identity-bearing).
    let text_names: Vec<&str> = table
        .columns
        .iter()
        .filter(|(_, json)| !json)
        .map(|(c, _)| c.as_str())
        .collect();
    let quick = detector.quiet_record(&text_names, &[]);
    let rows = RowScan {
        table,
        qualified: &qualified,
        key_names: &key_names,
        nkeys,
        quick,
        detector,
    };
    let mut parser = CopyText::new(nkeys + table.columns.len());
    let mut batch = Vec::new();
    // Counted and handed to the sink every FLUSH rows, as the cursor's batches were.
    let mut pending_rows = 0u64;
    let mut bytes = 0u64;
    let flush = |batch: &mut Vec<Report>, rows: &mut u64, bytes: &mut u64| {
        sink.totals.bytes.fetch_add(*bytes, Ordering::Relaxed);
        if let Some(bar) = &sink.progress {
            bar.inc(*bytes);
        }
        sink.progress_rows(*rows);
        sink.emit(batch);
        *rows = 0;
        *bytes = 0;
    };
    {
        let mut stream = conn
            .copy_out_raw(&format!("COPY ({select}) TO STDOUT"))
            .await?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            let fed = parser.feed(&chunk, |values| {
                bytes += rows.scan(values, &mut batch);
                pending_rows += 1;
            });
            if let Err(e) = fed {
                // Rows before the bad one were scanned: their findings stand.
                flush(&mut batch, &mut pending_rows, &mut bytes);
                return Err(e.into());
            }
            if pending_rows >= FLUSH {
                flush(&mut batch, &mut pending_rows, &mut bytes);
            }
        }
    }
    flush(&mut batch, &mut pending_rows, &mut bytes);
    parser.finish()?;
    sqlx::raw_sql("COMMIT").execute(&mut *conn).await?;
    Ok(())
}

/// What scanning a row needs to know about its table.
struct RowScan<'a> {
    table: &'a Table,
    qualified: &'a str,
    key_names: &'a [String],
    nkeys: usize,
    /// Whether the quick test may clear a row (no text column's name is identity-bearing).
    quick: bool,
    detector: &'a Detector,
}

impl RowScan<'_> {
    /// Scans one row (its key's values, then the scanned columns' values, `None` for NULL),
    /// adding its findings to `batch`. Returns the bytes of the scanned values.
    fn scan(&self, row: &[Option<&str>], batch: &mut Vec<Report>) -> u64 {
        let Self {
            table,
            qualified,
            key_names,
            nkeys,
            quick,
            detector,
        } = *self;
        let (keys, values) = row.split_at(nkeys);
        let bytes = values.iter().flatten().map(|v| v.len() as u64).sum::<u64>();
        // The key is rendered (and checked for identity data) only for a row with a finding:
        // most rows have none.
        let mut key_cache: Option<String> = None;
        let mut key = || {
            key_cache
                .get_or_insert_with(|| {
                    let parts: Vec<(&str, &str)> = key_names
                        .iter()
                        .zip(keys)
                        .map(|(name, v)| (name.as_str(), v.unwrap_or_default()))
                        .collect();
                    key_text(detector, &parts)
                })
                .clone()
        };
        // Text columns as one record (a `name` beside an ID counts); JSON columns as JSON.
        let fields: Vec<(&str, &str)> = table
            .columns
            .iter()
            .zip(values)
            .filter(|((_, json), _)| !json)
            .map(|((c, _), v)| (c.as_str(), v.unwrap_or("")))
            .collect();
        // Most rows hold nothing: the quick test proves it without the full record scan.
        let values_only: Vec<&str> = fields.iter().map(|(_, v)| *v).collect();
        let skip = quick && detector.quiet_values(&values_only);
        let found = if skip {
            Vec::new()
        } else {
            detector.locate_fields(&fields)
        };
        for f in found {
            let mut r = Report::new(qualified, &f.finding, &f.redacted);
            let column = f
                .field
                .and_then(|i| fields.get(i))
                .map(|(n, _)| (*n).to_owned());
            r.location = format!("{qualified}.{}", f.finding.location);
            r.field = column;
            r.table = Some(qualified.to_owned());
            r.key = Some(key());
            batch.push(r);
        }
        for ((column, json), value) in table.columns.iter().zip(values) {
            let (true, Some(value)) = (*json, value) else {
                continue;
            };
            let big = detector.clone().max_body(value.len().max(1)).max_depth(256);
            match big.locate_json(value.as_bytes()) {
                Ok(found) => {
                    for f in found {
                        let mut r = Report::new(qualified, &f.finding, &f.redacted);
                        r.location = format!("{qualified}.{column} {}", f.finding.location);
                        r.field = Some(column.clone());
                        r.table = Some(qualified.to_owned());
                        r.key = Some(key());
                        batch.push(r);
                    }
                }
                Err(_) => {
                    // Deeper than 256 levels: scan it as a text field.
                    for f in detector.locate_fields(&[(column.as_str(), value)]) {
                        let mut r = Report::new(qualified, &f.finding, &f.redacted);
                        r.location = format!("{qualified}.{column}");
                        r.field = Some(column.clone());
                        r.table = Some(qualified.to_owned());
                        r.key = Some(key());
                        batch.push(r);
                    }
                }
            }
        }
        bytes
    }
}

/// `id=42` or `a=1,b=2`; a key value that the detector flags is redacted.
fn key_text(detector: &Detector, parts: &[(&str, &str)]) -> String {
    parts
        .iter()
        .map(|(name, value)| {
            let flagged = !detector.locate_fields(&[("key", value)]).is_empty();
            if flagged {
                format!("{name}={}", Redacted::of(value))
            } else {
                format!("{name}={value}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}
