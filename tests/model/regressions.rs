//! Sequences the model found, shrunk, kept as regression cases: each broke a promise before
//! its fix (issue 19), and is replayed with every property checked after every step.

use crate::harness::Op;
use crate::{run_sequence, serial};

#[test]
fn placeholder_first_sync() {
    let _serial = serial();
    run_sequence(&[Op::Sync]);
}
