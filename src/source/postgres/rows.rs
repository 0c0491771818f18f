//! The query read on a thread of its own: connect, `BEGIN ISOLATION LEVEL REPEATABLE READ READ
//! ONLY` (one snapshot for the whole read, and nothing the query does can write), prepare the
//! query (its columns become the header: a column of a type with no [`Decoder`] is an error
//! before any row is read), then stream its rows (`query_raw`: one row in memory at a time,
//! plus `BUFFERED` waiting for the mapper), numbered 1, 2, ... in the order the query
//! returns them. The thread runs its own current-thread runtime, so the rows can be taken
//! from a plain iterator wherever the engine maps them; the mapper dropping the rows (a stop)
//! ends the read and the connection.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use futures::StreamExt;
use tokio::sync::oneshot;
use tokio_postgres::types::{FromSql, ToSql, Type};

use super::connect::connect;
use super::decode::Decoder;
use super::error::PgError;
use crate::config::postgres::PostgresConfig;
use crate::source::row::{RowError, SourceItem, SourceRow};

/// Rows decoded ahead of the mapper.
const BUFFERED: usize = 256;

type Item = Result<SourceItem, PgError>;

/// Starts the read: the header (the query's column names) arrives on the first receiver,
/// then the rows on the second.
pub fn start(config: PostgresConfig) -> (oneshot::Receiver<Result<Vec<String>, PgError>>, Receiver<Item>) {
    let (head_tx, head_rx) = oneshot::channel();
    let (rows_tx, rows_rx) = sync_channel(BUFFERED);
    let spawned = std::thread::Builder::new().name("postgres".into()).spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(r) => r,
            Err(e) => {
                let _ = head_tx.send(Err(PgError::Connect(format!("cannot start the reader: {e}"))));
                return;
            }
        };
        runtime.block_on(read(&config, head_tx, &rows_tx));
    });
    if let Err(e) = spawned {
        // The thread and its sender are gone: the receiver says so.
        tracing::error!(error = %e, "Cannot start the PostgreSQL reader thread");
    }
    (head_rx, rows_rx)
}

async fn read(config: &PostgresConfig, head: oneshot::Sender<Result<Vec<String>, PgError>>, rows: &SyncSender<Item>) {
    let url = &config.url;
    let client = match connect(config).await {
        Ok(c) => c,
        Err(e) => {
            let _ = head.send(Err(e));
            return;
        }
    };
    if let Err(e) = client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await {
        let _ = head.send(Err(PgError::querying(&e, "", url)));
        return;
    }
    let statement = match client.prepare(&config.query).await {
        Ok(s) => s,
        Err(e) => {
            let _ = head.send(Err(PgError::querying(&e, &config.query, url)));
            return;
        }
    };
    let columns = statement.columns();
    if columns.is_empty() {
        let _ = head.send(Err(PgError::NoColumns));
        return;
    }
    let mut decoders = Vec::with_capacity(columns.len());
    for c in columns {
        let Some(d) = Decoder::for_type(c.type_()) else {
            let _ = head.send(Err(PgError::UnsupportedType { column: c.name().to_owned(), ty: type_name(c.type_()) }));
            return;
        };
        decoders.push(d);
    }
    let header = columns.iter().map(|c| c.name().to_owned()).collect();
    if head.send(Ok(header)).is_err() {
        return;
    }
    let stream = match client.query_raw(&statement, std::iter::empty::<&(dyn ToSql + Sync)>()).await {
        Ok(s) => s,
        Err(e) => {
            let _ = rows.send(Err(PgError::querying(&e, &config.query, url)));
            return;
        }
    };
    let mut stream = std::pin::pin!(stream);
    let mut number = 0u64;
    while let Some(row) = stream.next().await {
        let item = match row {
            Ok(row) => {
                number += 1;
                Ok(decode(&row, &decoders, number))
            }
            Err(e) => Err(PgError::querying(&e, &config.query, url)),
        };
        let failed = item.is_err();
        // Blocks while the mapper is behind; fails when it has stopped reading.
        if rows.send(item).is_err() || failed {
            return;
        }
    }
    // Read only: the end of the transaction changes nothing either way.
    let _ = client.batch_execute("COMMIT").await;
}

/// The type as a person writes it: `bytea`, `integer[]` (`_int4` is the server's name).
fn type_name(ty: &Type) -> String {
    match ty.kind() {
        tokio_postgres::types::Kind::Array(member) => format!("{}[]", member.name()),
        _ => ty.name().to_owned(),
    }
}

/// A row's cells as text, or the row as bad (naming the column whose value could not be read).
fn decode(row: &tokio_postgres::Row, decoders: &[Decoder], number: u64) -> SourceItem {
    let mut cells = Vec::with_capacity(decoders.len());
    for (i, d) in decoders.iter().enumerate() {
        let text = row.try_get::<_, RawValue<'_>>(i).map_err(|e| e.to_string()).and_then(|raw| d.text(raw.0));
        match text {
            Ok(t) => cells.push(t),
            Err(why) => {
                let column = row.columns()[i].name();
                return SourceItem::Bad(RowError {
                    row: number,
                    external_id: None,
                    message: format!("column {column:?}: cannot read its value: {why}"),
                });
            }
        }
    }
    SourceItem::Row(SourceRow { row: number, cells: cells.into(), link: None })
}

/// A value's bytes as the server sent them (`None`: NULL), for [`Decoder::text`].
struct RawValue<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for RawValue<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawValue(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawValue(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}
