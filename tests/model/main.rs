//! The model test (issue 19, part B): random sequences of up to 20 operations on a tiny
//! workspace (source edits, app edits, policy changes, time, faults, kills, restore, forget,
//! saved plans, `--verify`, a foreign mirror), each applied to the real sync (in-process,
//! through the library, against the in-process fake) and to a reference model written from
//! the docs ([`reference`]), with every property checked after every step
//! ([`harness::Harness::step`]). Driven by proptest-state-machine, which shrinks a failing
//! sequence to a short one.
//!
//! `MODEL_CASES=N` runs N cases (default [`DEFAULT_CASES`]); `MODEL_SEED=S` replays the run
//! whose failure printed seed S. Its own test binary (`cargo test --test model`): long, and
//! its runs take the model's time as their [`openphone_sync::clock::Clock`].

#[path = "../it/support/mod.rs"]
mod support;

mod harness;
mod reference;
mod regressions;

use std::sync::Mutex;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestError, TestRunner};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};

use harness::{AppEdit, Col, FaultKind, Harness, Op, PlanTarget, PolicyField};
use reference::{COMPANY, Policy};

/// Cases a plain `cargo test` runs: about 40 s alone on 2 cores, 2 min when heavily loaded.
pub const DEFAULT_CASES: u32 = 48;

/// A hole of issue 19 (part A) the model finds; see [`KNOWN_HOLES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hole {
    /// (1) `--save-plan` overwrites the mirror, the config, the mapping or the source.
    SavePlanOverwrites,
    /// (2) an `if_empty` email slot gains a second item.
    IfEmptySlotSecondItem,
    /// (3) history entries are not the writes the fake answered (held fields, items, no-op
    /// updates, restore).
    HistoryNotWhatWasSent,
    /// (3) the report's counts are not the writes the fake answered.
    ReportCountsNotWhatWasSent,
    /// (4) another program's SQLite file is taken over as the mirror.
    ForeignMirrorAdopted,
    /// (5) `restore` of an id never deleted exits 0 and names nothing.
    RestoreUnknownSilent,
    /// (6) `restore` of a contact whose custom field was removed fails.
    RestoreRemovedFieldFails,
}

/// Holes whose part-A fix has not landed on this branch: the model skips ONLY the operation
/// or the check that finds each one (named where it is skipped), so that CI passes, and
/// checks it again the moment it is taken off this list. Every other property is checked.
pub const KNOWN_HOLES: &[Hole] = &[];

/// The hole is still open on this branch (in [`KNOWN_HOLES`]) and not asked for by
/// `MODEL_CHECK_HOLES` (`all`, or names such as `RestoreUnknownSilent,ForeignMirrorAdopted`).
pub fn known(hole: Hole) -> bool {
    let asked = std::env::var("MODEL_CHECK_HOLES").unwrap_or_default();
    let asked = asked.split(',').any(|h| h.trim() == "all" || h.trim() == format!("{hole:?}"));
    KNOWN_HOLES.contains(&hole) && !asked
}

/// One model test at a time: each starts a runtime, a fake and runs of the binary, and side
/// by side on two cores they only slow each other down (and hit the per-run timeouts).
static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `ops` from a fresh workspace, checking after every step; panics with the sequence
/// and the step that broke a property.
pub fn run_sequence(ops: &[Op]) {
    let mut h = Harness::new();
    for (i, op) in ops.iter().enumerate() {
        if let Err(e) = h.step(op) {
            panic!("step {} of {} ({op:?}) broke a property:\n{e}\n\nsequence:\n{ops:#?}", i + 1, ops.len());
        }
    }
}

struct Machine;

impl ReferenceStateMachine for Machine {
    type State = ();
    type Transition = Op;

    fn init_state() -> BoxedStrategy<()> {
        Just(()).boxed()
    }

    fn transitions((): &()) -> BoxedStrategy<Op> {
        let id = 0..4usize;
        let col =
            prop_oneof![Just(Col::First), Just(Col::Company), Just(Col::Email), Just(Col::Phone), Just(Col::Lead)];
        let edit = prop_oneof![
            (0..COMPANY.len()).prop_map(|v| AppEdit::Company(["", "AppCo", "Acme"][v])),
            (0..3usize).prop_map(|v| AppEdit::WorkEmail(["", "app@x.com", "a@x.com"][v])),
            (0..3usize).prop_map(|v| AppEdit::Lead(["", "AppLead", "Ads"][v])),
            Just(AppEdit::Notes),
            Just(AppEdit::AddHomeEmail),
            Just(AppEdit::AddAppPhone),
        ];
        let policy = prop_oneof![Just(Policy::Source), Just(Policy::IfEmpty), Just(Policy::OnCreate)];
        let field = prop_oneof![Just(PolicyField::Company), Just(PolicyField::Email), Just(PolicyField::Lead)];
        let target = prop_oneof![
            3 => Just(PlanTarget::Fresh),
            1 => Just(PlanTarget::Mirror),
            1 => Just(PlanTarget::Config),
            1 => Just(PlanTarget::Mapping),
            1 => Just(PlanTarget::Source),
        ];
        let fault = prop_oneof![Just(FaultKind::FailBefore), Just(FaultKind::LoseReply)];
        let method = prop_oneof![Just("POST"), Just("PATCH"), Just("DELETE")];
        prop_oneof![
            8 => (id.clone(), col, 0..3usize).prop_map(|(id, col, v)| Op::EditRow { id, col, v }),
            2 => id.clone().prop_map(|id| Op::RemoveRow { id }),
            2 => (id.clone(), 0..3usize).prop_map(|(id, v)| Op::AddRow { id, v }),
            6 => (id.clone(), edit).prop_map(|(id, edit)| Op::AppEdit { id, edit }),
            1 => id.clone().prop_map(|id| Op::AppDelete { id }),
            3 => (field, policy).prop_map(|(field, policy)| Op::SetPolicy { field, policy }),
            2 => prop_oneof![Just(20i64), Just(61)].prop_map(|minutes| Op::TimePasses { minutes }),
            8 => Just(Op::Sync),
            2 => Just(Op::Verify),
            2 => (fault, method, any::<u64>()).prop_map(|(fault, method, seed)| Op::FaultySync { fault, method, seed }),
            2 => (1..10usize).prop_map(|request| Op::KillAt { request }),
            2 => id.clone().prop_map(|id| Op::Restore { id }),
            1 => id.prop_map(|id| Op::Forget { id }),
            2 => target.prop_map(|target| Op::SavePlan { target }),
            1 => Just(Op::ApplyPlan),
            1 => Just(Op::ForeignMirror),
            1 => Just(Op::RemoveNotesField),
            2 => prop_oneof![Just(0u64), 1..4u64].prop_map(|seed| Op::ReorderRows { seed }),
        ]
        .boxed()
    }

    fn apply((): (), _: &Op) {}
}

struct Sut;

/// Cases started (shrinking included), for `MODEL_PROGRESS`.
static CASES_RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl StateMachineTest for Sut {
    type SystemUnderTest = Harness;
    type Reference = Machine;

    fn init_test((): &()) -> Harness {
        let n = CASES_RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if n.is_multiple_of(100) && std::env::var_os("MODEL_PROGRESS").is_some() {
            eprintln!("model: {n} cases started");
        }
        Harness::new()
    }

    fn apply(mut h: Harness, (): &(), op: Op) -> Harness {
        if let Err(e) = h.step(&op) {
            panic!("step {} ({op:?}) broke a property:\n{e}\nsteps so far: {:#?}", h.steps.len(), h.steps);
        }
        h
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(v.trim().parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a number")))
}

#[test]
fn the_sync_keeps_every_promise_over_random_sequences() {
    let _serial = serial();
    let cases = env_u64("MODEL_CASES").map_or(DEFAULT_CASES, |n| n as u32);
    // CI draws the same cases every run (seed 12); `MODEL_SEED=random` draws new ones.
    let seed = match std::env::var("MODEL_SEED").as_deref() {
        Ok("random") => rand_seed(),
        _ => env_u64("MODEL_SEED").unwrap_or(12),
    };
    let config = Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config.clone());
    let started = std::time::Instant::now();
    let result = runner.run(&Machine::sequential_strategy(1..20), |(state, ops, seen)| {
        Sut::test_sequential(config.clone(), state, ops, seen);
        Ok(())
    });
    match result {
        Ok(()) => {
            println!("model: {cases} cases passed in {:.1} s (MODEL_SEED={seed})", started.elapsed().as_secs_f64());
        }
        Err(TestError::Fail(why, ((), ops, _))) => panic!(
            "the model found a broken promise: {why}\nshrunk sequence ({} steps):\n{ops:#?}\nreplay: MODEL_SEED={seed} cargo test --test model",
            ops.len()
        ),
        Err(e) => panic!("{e} (MODEL_SEED={seed})"),
    }
}

fn rand_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}
