//! Maps every source row into records: one per externalId. Rows that fail are reported by
//! row; an externalId on several rows is reported on each and applied from none; the ids of
//! failed and duplicated rows are protected from deletion.

use std::collections::{HashMap, HashSet};

use crate::model::Record;
use crate::source::{RowError, SourceRow};

use super::Mapper;

/// The mapped source.
#[derive(Debug, Default)]
pub struct Mapped {
    pub records: Vec<Record>,
    pub errors: Vec<RowError>,
    /// External ids present in the source that must not be deleted although they are not
    /// in `records` (their rows were invalid or duplicated).
    pub protected: HashSet<String>,
}

/// Maps `rows`, carrying over the rows the source could not read (`read_errors`).
pub fn map_rows(mapper: &Mapper, rows: &[SourceRow], read_errors: Vec<RowError>) -> Mapped {
    let mut out = Mapped { errors: read_errors, ..Mapped::default() };
    let mut first_row: HashMap<String, Vec<u64>> = HashMap::new();
    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(id) = mapper.external_id(row) {
            first_row.entry(id).or_default().push(row.row);
        }
        match mapper.map(row) {
            Ok(r) => records.push(r),
            Err(e) => {
                if let Some(id) = &e.external_id {
                    out.protected.insert(id.clone());
                }
                out.errors.push(e);
            }
        }
    }
    let duplicated: HashMap<&String, &Vec<u64>> = first_row.iter().filter(|(_, rows)| rows.len() > 1).collect();
    for r in records {
        match duplicated.get(&r.external_id) {
            Some(rows) => {
                let others: Vec<String> = rows.iter().filter(|&&x| x != r.row).map(u64::to_string).collect();
                out.errors.push(RowError {
                    row: r.row,
                    external_id: Some(r.external_id.clone()),
                    message: format!(
                        "external id {:?} is also on row {}; none of these rows is applied until it is unique",
                        r.external_id,
                        others.join(", ")
                    ),
                });
                out.protected.insert(r.external_id);
            }
            None => out.records.push(r),
        }
    }
    out.errors.sort_by_key(|e| e.row);
    out
}
