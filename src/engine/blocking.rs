//! [`blocking`]: where a run's blocking work (reading and mapping the source, SQLite, the
//! torn-file guard's sleep) runs. On tokio's multi-threaded runtime (the binary's) it runs in
//! `block_in_place`: the worker hands its other tasks (signal handling, the `/metrics`
//! endpoint, the daemon's schedule) to another thread first, so none waits for a free worker
//! while a million rows are mapped. Elsewhere (a current-thread runtime, no runtime) it runs
//! in place.

use tokio::runtime::{Handle, RuntimeFlavor};

/// Drops `value` on a thread of its own: freeing a million-entry index or source takes most
/// of a second (a few million small allocations), which the run need not wait for. A
/// one-off command may exit before that thread is done; nothing is lost, the memory goes
/// with the process.
pub(super) fn drop_elsewhere<T: Send + 'static>(value: T) {
    // If no thread can be started, the closure (and `value` in it) is dropped here.
    let _ = std::thread::Builder::new().name("drop".into()).spawn(move || drop(value));
}

/// Runs `f`, which blocks, where blocking is allowed.
pub(super) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::blocking;

    #[test]
    fn runs_in_place_without_a_runtime() {
        assert_eq!(blocking(|| 2 + 2), 4);
    }

    #[tokio::test]
    async fn runs_in_place_on_a_current_thread_runtime() {
        assert_eq!(blocking(|| "here"), "here");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn leaves_the_only_worker_to_other_tasks() {
        // A task on the only worker starts another, then blocks until that one has run: it
        // can only run if `blocking` handed the worker over.
        let blocker = tokio::spawn(async {
            let (tx, rx) = std::sync::mpsc::channel();
            tokio::spawn(async move { tx.send(()).unwrap() });
            blocking(|| rx.recv_timeout(std::time::Duration::from_secs(5)))
        });
        assert!(blocker.await.unwrap().is_ok(), "the other task never ran while the worker was blocked");
    }
}
