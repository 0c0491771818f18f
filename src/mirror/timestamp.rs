//! [`Timestamp`] in SQLite: every time column of the mirror is an INTEGER of Unix
//! milliseconds (migration 0009 made them so), read and written only through this type.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

pub use crate::clock::Timestamp;

impl ToSql for Timestamp {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.millis()))
    }
}

/// Only an INTEGER is a time: text in a time column is a damaged mirror, not a guess.
impl FromSql for Timestamp {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Integer(ms) => Ok(Timestamp::from_millis(ms)),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}
