//! Unix signals as a closed set: SIGTERM and SIGINT ask to stop, SIGHUP to reload.
//! A first stop signal stops gracefully (what is in flight finishes and is committed);
//! a second one stops at once, which is as safe as a kill (the mirror marks every write
//! pending before it is sent), only slower for the next run.

use std::io;

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::exit::Exit;

/// What a signal asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM or SIGINT (the name, for the log).
    Stop(&'static str),
    /// SIGHUP.
    Reload,
}

/// The signals a command listens to.
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    /// SIGTERM, SIGINT and, when `reload`, SIGHUP (otherwise SIGHUP keeps its default).
    pub fn new(reload: bool) -> io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: if reload { Some(signal(SignalKind::hangup())?) } else { None },
        })
    }

    /// The next signal.
    pub async fn recv(&mut self) -> Signal {
        let hup = async {
            match &mut self.hup {
                Some(h) => h.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = self.term.recv() => Signal::Stop("SIGTERM"),
            _ = self.int.recv() => Signal::Stop("SIGINT"),
            _ = hup => Signal::Reload,
        }
    }
}

/// For a one-off `sync`: the first SIGTERM/SIGINT cancels `stop`, a second exits at once.
pub fn stop_on_signal(stop: CancellationToken) {
    let mut signals = match Signals::new(false) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "Cannot listen for SIGTERM/SIGINT; they will stop the run at once");
            return;
        }
    };
    tokio::spawn(async move {
        let Signal::Stop(name) = signals.recv().await else { return };
        tracing::warn!(signal = name, "Stopping: finishing the writes in flight (send it again to stop at once)");
        stop.cancel();
        if let Signal::Stop(name) = signals.recv().await {
            tracing::error!(signal = name, "Stopping at once; the next run checks the writes that were in flight");
            std::process::exit(Exit::Unavailable.code().into());
        }
    });
}
