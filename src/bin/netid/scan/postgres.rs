//! `netid scan --postgres`: every text, varchar, char, json and jsonb column of every table,
//! streamed through a server-side cursor, a batch of rows at a time.
//!
//! Rows are reported by their primary key (`id=42`, `a=1,b=2`), or by `ctid` when the table
//! has none (a row's physical place: stable until the row is updated or the table vacuumed
//! full, enough to find it right after the scan). A key value that is itself identity data is
//! redacted like any value.

use std::sync::atomic::Ordering;

use netid::detect::{Detector, Redacted};
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};

use super::{Report, Sink};
use crate::Failure;

/// Rows fetched from the cursor at a time: memory is this many rows, whatever the table.
const FETCH: usize = 1000;

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
                sink.unreadable(&table.qualified(), &describe(&e));
                // A failed statement aborts the transaction; leave it so the next table works.
                let _ = sqlx::raw_sql("ROLLBACK").execute(&mut conn).await;
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

/// Streams one table through a cursor in a read-only transaction.
async fn scan_table(
    conn: &mut PgConnection,
    table: &Table,
    detector: &Detector,
    sink: &Sink,
) -> Result<(), sqlx::Error> {
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
    let declare = format!("DECLARE netid_scan NO SCROLL CURSOR FOR {select}");
    sqlx::raw_sql(&declare).execute(&mut *conn).await?;
    let qualified = table.qualified();
    let nkeys = key_exprs.len();
    let mut batch = Vec::new();
    // Whether the text columns' names allow the quick test per row (none is identity-bearing).
    let text_names: Vec<&str> = table
        .columns
        .iter()
        .filter(|(_, json)| !json)
        .map(|(c, _)| c.as_str())
        .collect();
    let quick = detector.quiet_record(&text_names, &[]);
    loop {
        // Not a cached prepared statement: each table's cursor has rows of its own shape.
        let rows = sqlx::query(&format!("FETCH {FETCH} FROM netid_scan"))
            .persistent(false)
            .fetch_all(&mut *conn)
            .await?;
        if rows.is_empty() {
            break;
        }
        let mut bytes = 0u64;
        for row in &rows {
            let mut key_parts = Vec::with_capacity(nkeys);
            for (i, name) in key_names.iter().enumerate() {
                let v: Option<String> = row.try_get(i)?;
                key_parts.push((name.as_str(), v.unwrap_or_default()));
            }
            let values: Vec<Option<String>> = (0..table.columns.len())
                .map(|i| row.try_get::<Option<String>, _>(nkeys + i))
                .collect::<Result<_, _>>()?;
            bytes += values.iter().flatten().map(|v| v.len() as u64).sum::<u64>();
            // The key is rendered (and checked for identity data) only for a row with a
            // finding: most rows have none.
            let mut key_cache: Option<String> = None;
            let mut key = || {
                key_cache
                    .get_or_insert_with(|| key_text(detector, &key_parts))
                    .clone()
            };
            // Text columns as one record (a `name` beside an ID counts); JSON columns as JSON.
            let fields: Vec<(&str, &str)> = table
                .columns
                .iter()
                .zip(&values)
                .filter(|((_, json), _)| !json)
                .map(|((c, _), v)| (c.as_str(), v.as_deref().unwrap_or("")))
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
                let mut r = Report::new(&qualified, &f.finding, &f.redacted);
                let column = f
                    .field
                    .and_then(|i| fields.get(i))
                    .map(|(n, _)| (*n).to_owned());
                r.location = format!("{qualified}.{}", f.finding.location);
                r.field = column;
                r.table = Some(qualified.clone());
                r.key = Some(key());
                batch.push(r);
            }
            for ((column, json), value) in table.columns.iter().zip(&values) {
                let (true, Some(value)) = (*json, value) else {
                    continue;
                };
                let big = detector.clone().max_body(value.len().max(1)).max_depth(256);
                match big.locate_json(value.as_bytes()) {
                    Ok(found) => {
                        for f in found {
                            let mut r = Report::new(&qualified, &f.finding, &f.redacted);
                            r.location = format!("{qualified}.{column} {}", f.finding.location);
                            r.field = Some(column.clone());
                            r.table = Some(qualified.clone());
                            r.key = Some(key());
                            batch.push(r);
                        }
                    }
                    Err(_) => {
                        // Deeper than 256 levels: scan it as a text field.
                        for f in detector.locate_fields(&[(column.as_str(), value.as_str())]) {
                            let mut r = Report::new(&qualified, &f.finding, &f.redacted);
                            r.location = format!("{qualified}.{column}");
                            r.field = Some(column.clone());
                            r.table = Some(qualified.clone());
                            r.key = Some(key());
                            batch.push(r);
                        }
                    }
                }
            }
        }
        sink.totals.bytes.fetch_add(bytes, Ordering::Relaxed);
        if let Some(bar) = &sink.progress {
            bar.inc(bytes);
        }
        sink.progress_rows(rows.len() as u64);
        sink.emit(&mut batch);
        if rows.len() < FETCH {
            break;
        }
    }
    sqlx::raw_sql("CLOSE netid_scan; COMMIT")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `id=42` or `a=1,b=2`; a key value that the detector flags is redacted.
fn key_text(detector: &Detector, parts: &[(&str, String)]) -> String {
    parts
        .iter()
        .map(|(name, value)| {
            let flagged = !detector
                .locate_fields(&[("key", value.as_str())])
                .is_empty();
            if flagged {
                format!("{name}={}", Redacted::of(value))
            } else {
                format!("{name}={value}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}
