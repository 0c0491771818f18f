//! [`ApplyOptions`]: what the apply step needs from its run: the run's id, our `source`
//! label, requests in flight, retries, the stop signal and the fields' policies.

use tokio_util::sync::CancellationToken;

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// The run (in the mirror's `runs`) that the tombstones of its deletes name.
    pub run_id: Option<i64>,
    /// The contact `source` this tool writes and recognises as its own.
    pub source_label: String,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Re-read-and-retry rounds after an ambiguous write failure.
    pub max_ambiguous_retries: u32,
    /// Cancelled to stop starting records (SIGTERM); the client shares it.
    pub stop: CancellationToken,
    /// Who owns each mapped field: what a PATCH keeps of the contact as read.
    pub policies: crate::model::Policies,
}

impl ApplyOptions {
    /// The options of a run's apply step.
    pub fn new(
        run: &super::super::run::Run<'_>,
        run_id: Option<i64>,
        policies: crate::model::Policies,
    ) -> ApplyOptions {
        let openphone = &run.config.openphone;
        ApplyOptions {
            run_id,
            source_label: openphone.source_label.clone(),
            concurrency: super::super::setup::concurrency(run.config),
            max_ambiguous_retries: openphone.max_retries.max(1),
            stop: run.stop.clone(),
            policies,
        }
    }
}
