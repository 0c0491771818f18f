//! [`SlowRewriter`]: a file rewritten in place, again and again, slowly: chunks of 997 bytes
//! (ending mid-line) 4 ms apart, 300 ms between rewrites, as an editor or an export writing
//! over a source that runs read meanwhile (a run may find it whole, or caught mid-write).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

pub(crate) struct SlowRewriter {
    stop: Arc<AtomicBool>,
    writer: JoinHandle<usize>,
}

impl SlowRewriter {
    /// Starts rewriting `path` with `text` on a thread of its own.
    pub(crate) fn start(path: PathBuf, text: String) -> SlowRewriter {
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut rewrites = 0;
                while !stop.load(Ordering::Relaxed) {
                    let mut f = std::fs::OpenOptions::new().write(true).truncate(true).open(&path).unwrap();
                    for chunk in text.as_bytes().chunks(997) {
                        f.write_all(chunk).unwrap();
                        f.flush().unwrap();
                        std::thread::sleep(Duration::from_millis(4));
                    }
                    rewrites += 1;
                    std::thread::sleep(Duration::from_millis(300));
                }
                rewrites
            })
        };
        SlowRewriter { stop, writer }
    }

    /// Stops after the rewrite under way; how many rewrites were made.
    pub(crate) fn stop(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.writer.join().unwrap()
    }
}
