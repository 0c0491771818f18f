//! Sequences the model found (shrunk by proptest) and sequences that reach a hole of issue 19
//! part A, kept as regression cases: each is replayed from a fresh workspace with every
//! property checked after every step. The seed that first found each is noted; a seed
//! replays only the code it ran against, the sequence replays on any.

use crate::harness::{AppEdit, Col, FaultKind, Op, PlanTarget, PolicyField};
use crate::reference::Policy;
use crate::{run_sequence, serial};

fn replay(ops: &[Op]) {
    let _serial = serial();
    run_sequence(ops);
}

/// Hole 1 (MODEL_SEED=14582751095734908816): `--save-plan` onto the mirror (or the config,
/// the mapping, the source) overwrote it.
#[test]
fn save_plan_onto_the_tool_s_own_files() {
    for target in [PlanTarget::Mirror, PlanTarget::Config, PlanTarget::Mapping, PlanTarget::Source] {
        replay(&[Op::SavePlan { target }]);
        replay(&[Op::Sync, Op::SavePlan { target }, Op::Sync]);
    }
}

/// Hole 4 (MODEL_SEED=14084913195649037034): another program's SQLite file was taken over.
#[test]
fn another_program_s_database_as_the_mirror() {
    replay(&[Op::ForeignMirror]);
}

/// Hole 3, counts (MODEL_SEED=2430481007549258852): an update whose every change is held
/// sent no PATCH and was reported (and recorded) as "updated".
#[test]
fn an_update_held_entirely_sends_nothing_and_counts_nothing() {
    replay(&[
        Op::SetPolicy { field: PolicyField::Lead, policy: Policy::OnCreate },
        Op::Sync,
        Op::EditRow { id: 1, col: Col::Lead, v: 0 },
        Op::Sync,
    ]);
}

/// Hole 3, history (MODEL_SEED=13137561060396477596): after a run killed once its create
/// landed, the next run's adoption was recorded as a create no POST made.
#[test]
fn an_adoption_after_a_kill_is_not_a_create() {
    replay(&[Op::KillAt { request: 3 }, Op::EditRow { id: 1, col: Col::Company, v: 0 }, Op::Sync]);
}

/// Hole 5 (MODEL_SEED=7393121387447835232): `restore` of an id never deleted said nothing.
#[test]
fn restore_of_an_id_never_deleted() {
    replay(&[Op::Restore { id: 0 }]);
    replay(&[Op::Sync, Op::Restore { id: 3 }]);
}

/// Hole 2: an `if_empty` email slot whose item the app changed gained the source's value
/// beside it once the row's email, then its first name, changed.
#[test]
fn an_if_empty_email_slot_never_gains_a_second_item() {
    replay(&[
        Op::SetPolicy { field: PolicyField::Email, policy: Policy::IfEmpty },
        Op::Sync,
        Op::AppEdit { id: 0, edit: AppEdit::WorkEmail("app@x.com") },
        Op::EditRow { id: 0, col: Col::Email, v: 2 },
        Op::Sync,
        Op::EditRow { id: 0, col: Col::First, v: 1 },
        Op::Sync,
        Op::Verify,
    ]);
}

/// Hole 6: a deleted contact whose custom value's field was since removed from the
/// workspace is restored without it.
#[test]
fn restore_after_a_custom_field_was_removed() {
    replay(&[
        Op::Sync,
        Op::AppEdit { id: 0, edit: AppEdit::Notes },
        Op::RemoveRow { id: 0 },
        Op::Sync,
        Op::TimePasses { minutes: 61 },
        Op::Sync,
        Op::RemoveNotesField,
        Op::Restore { id: 0 },
        Op::Sync,
    ]);
}

/// MODEL_SEED=11 (a gap of the model, kept): a run killed after its create's POST leaves the
/// contact unknown to the mirror; the next run adopts it and re-asserts the source's values
/// over an app edit made in between.
#[test]
fn a_create_killed_before_its_reply_is_adopted_next_run() {
    replay(&[
        Op::KillAt { request: 2 },
        Op::AppEdit { id: 0, edit: AppEdit::WorkEmail("app@x.com") },
        Op::Restore { id: 2 },
        Op::Sync,
    ]);
}

/// MODEL_SEED=12 (a gap of the model, kept): an adoption that PATCHes is counted once.
#[test]
fn an_adoption_that_patches_is_counted_once() {
    replay(&[
        Op::AppEdit { id: 1, edit: AppEdit::Company("") },
        Op::AddRow { id: 2, v: 0 },
        Op::EditRow { id: 0, col: Col::First, v: 0 },
        Op::AppEdit { id: 1, edit: AppEdit::AddAppPhone },
        Op::AppEdit { id: 1, edit: AppEdit::AddHomeEmail },
        Op::KillAt { request: 5 },
        Op::AppEdit { id: 2, edit: AppEdit::WorkEmail("") },
        Op::Verify,
    ]);
}

/// MODEL_SEED=1001, 10,000 cases: a run killed after its DELETE left the contact gone but the
/// mirror unaware; the next run found it gone and recorded a delete clearing every field
/// (and counted it deleted) although it sent nothing. Now `already_gone`, counted apart.
#[test]
fn a_delete_killed_after_its_request_is_found_gone_and_says_so() {
    replay(&[
        Op::AppEdit { id: 1, edit: AppEdit::AddAppPhone },
        Op::Sync,
        Op::EditRow { id: 2, col: Col::Lead, v: 1 },
        Op::Sync,
        Op::AppEdit { id: 0, edit: AppEdit::Lead("") },
        Op::FaultySync { fault: FaultKind::FailBefore, method: "POST", seed: 13707066897516494466 },
        Op::Sync,
        Op::RemoveRow { id: 1 },
        Op::FaultySync { fault: FaultKind::LoseReply, method: "DELETE", seed: 13981946861552330806 },
        Op::TimePasses { minutes: 61 },
        Op::KillAt { request: 3 },
        Op::FaultySync { fault: FaultKind::FailBefore, method: "POST", seed: 3773670898582274136 },
    ]);
}

/// MODEL_SEED=1001, 10,000 cases (a gap of the model, kept): a plan saved with nothing to
/// write stays valid when a field's policy changes, as the plan the tool makes now is the same.
#[test]
fn a_saved_plan_outlives_a_policy_change_that_leaves_it_as_it_was() {
    replay(&[
        Op::Sync,
        Op::SavePlan { target: PlanTarget::Fresh },
        Op::SetPolicy { field: PolicyField::Company, policy: Policy::IfEmpty },
        Op::ApplyPlan,
    ]);
}
