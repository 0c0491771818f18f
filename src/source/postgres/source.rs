//! [`PostgresSource`]: the query as a [`Source`]: its header (the query's column names) once
//! the server has prepared it, its rows as the mapper takes them. The source's own consistency
//! check is the transaction's: one snapshot, so rows committed during the read are not seen.

use super::rows::start;
use crate::config::postgres::PostgresConfig;
use crate::source::error::SourceError;
use crate::source::kind::Source;
use crate::source::row::SourceRows;

/// A configured query.
pub struct PostgresSource<'a>(pub &'a PostgresConfig);

impl Source for PostgresSource<'_> {
    async fn open(&self, _columns: &[String]) -> Result<SourceRows, SourceError> {
        let origin = self.0.describe();
        let (head, rows) = start(self.0.clone());
        let header = match head.await {
            Ok(Ok(header)) => header,
            Ok(Err(error)) => return Err(SourceError::Postgres { origin, error }),
            Err(_) => {
                return Err(SourceError::Unreadable { origin, message: "the reader thread ended".into() });
            }
        };
        let rows = rows
            .into_iter()
            .map(move |item| item.map_err(|error| SourceError::Postgres { origin: origin.clone(), error }));
        Ok(SourceRows::new(header, rows))
    }
}
