//! The safety guard: a run that would delete more than `max_delete_fraction` of the
//! mirrored contacts, or delete contacts because the source came back empty, is refused
//! (exit 3) unless `--allow-mass-delete`.

use thiserror::Error;

use super::changes::Plan;

/// Why a plan is refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum Refusal {
    #[error(
        "refusing to delete {deletes} of {mirrored} mirrored contacts ({pct:.1}%, above max_delete_fraction = {max}); \
         check the source, then rerun with --allow-mass-delete if this is intended",
        pct = 100.0 * *deletes as f64 / (*mirrored).max(1) as f64
    )]
    MassDelete { deletes: usize, mirrored: usize, max: f64 },
    #[error(
        "refusing to delete {deletes} contacts: the source has no valid records (an empty or broken export?); \
         rerun with --allow-mass-delete if the source really is empty"
    )]
    EmptySource { deletes: usize },
}

/// Checks a plan against the guard. `mirrored` counts the contacts in the mirror;
/// `valid_records` the source records that mapped.
pub fn guard(plan: &Plan, mirrored: usize, valid_records: usize, max: f64, allow: bool) -> Result<(), Refusal> {
    let deletes = plan.deletes.len();
    if allow || deletes == 0 {
        return Ok(());
    }
    if valid_records == 0 {
        return Err(Refusal::EmptySource { deletes });
    }
    if deletes as f64 > max * mirrored as f64 {
        return Err(Refusal::MassDelete { deletes, mirrored, max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Delete;

    fn plan_with(deletes: usize) -> Plan {
        Plan {
            deletes: (0..deletes).map(|i| Delete { external_id: i.to_string(), contact_id: None }).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn refuses_above_the_fraction_and_on_empty_sources() {
        assert!(guard(&plan_with(25), 100, 75, 0.25, false).is_ok());
        assert!(matches!(guard(&plan_with(26), 100, 74, 0.25, false), Err(Refusal::MassDelete { .. })));
        assert!(guard(&plan_with(26), 100, 74, 0.25, true).is_ok());
        assert!(matches!(guard(&plan_with(3), 3, 0, 1.0, false), Err(Refusal::EmptySource { deletes: 3 })));
        assert!(guard(&plan_with(0), 3, 0, 0.25, false).is_ok());
        let msg = guard(&plan_with(50), 100, 50, 0.25, false).unwrap_err().to_string();
        assert!(msg.contains("50 of 100") && msg.contains("--allow-mass-delete"), "{msg}");
    }
}
