//! The PostgreSQL source (`[source] type = "postgres"`): one `query`, one row per contact, its
//! columns the mapping's columns by name, read in one `REPEATABLE READ READ ONLY` transaction
//! (every run reads one consistent snapshot, and the query cannot write) and streamed.
//!
//! This module only declares and re-exports: [`connect`] the connection and its TLS,
//! [`decode`] a column's type and value → text, [`error`] the messages, [`rows`] the read on
//! its own thread, [`source`] the query as a [`Source`](crate::source::Source).

pub mod connect;
pub mod decode;
pub mod error;
pub mod rows;
pub mod source;

pub use error::PgError;
pub use source::PostgresSource;
