//! [`Warning`]: one value left out of a row that synced (or kept with a loss, such as a
//! phone extension), with what a person groups warnings by: the column and the reason (the
//! message without the value), and the value itself. The text report groups them
//! ([`group`]); `--output json` lists each one.

use serde::Serialize;

/// One value a row that synced lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub row: u64,
    /// The record's external id (filled in once the row's id is resolved).
    pub external_id: Option<String>,
    /// The column the value came from, as the mapping names it.
    pub column: String,
    /// Why, without the value: the same words for every value that failed the same way
    /// (`is not an email address; left out (on_invalid = "drop_value")`).
    pub reason: String,
    /// The cell's value (for a cell holding more values than its entry keeps: those left out).
    pub value: String,
    /// The whole message, as one line: column, value and reason.
    pub message: String,
}

/// The warnings of one column that failed for one reason, in row order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarningGroup<'a> {
    pub column: &'a str,
    pub reason: &'a str,
    pub warnings: Vec<&'a Warning>,
}

/// Groups `warnings` by column and reason, each group in the order of its first row.
pub fn group(warnings: &[Warning]) -> Vec<WarningGroup<'_>> {
    let mut groups: Vec<WarningGroup<'_>> = Vec::new();
    let mut index: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
    for w in warnings {
        let key = (w.column.as_str(), w.reason.as_str());
        if let Some(&i) = index.get(&key) {
            groups[i].warnings.push(w);
        } else {
            index.insert(key, groups.len());
            groups.push(WarningGroup { column: key.0, reason: key.1, warnings: vec![w] });
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(row: u64, column: &str, reason: &str) -> Warning {
        Warning {
            row,
            external_id: None,
            column: column.into(),
            reason: reason.into(),
            value: format!("v{row}"),
            message: String::new(),
        }
    }

    #[test]
    fn groups_by_column_and_reason_in_order_of_first_row() {
        let all = [w(2, "Phone", "bad"), w(3, "Email", "bad"), w(4, "Phone", "bad"), w(5, "Phone", "short")];
        let groups = group(&all);
        let shape: Vec<(&str, &str, Vec<u64>)> =
            groups.iter().map(|g| (g.column, g.reason, g.warnings.iter().map(|w| w.row).collect())).collect();
        assert_eq!(shape, vec![("Phone", "bad", vec![2, 4]), ("Email", "bad", vec![3]), ("Phone", "short", vec![5])]);
    }
}
