//! [`Notifier`]: what the daemon tells systemd through `$NOTIFY_SOCKET` (sd_notify):
//! READY when started, STATUS with the last run, RELOADING/STOPPING, and watchdog pings
//! when `WatchdogSec=` is set. Without `$NOTIFY_SOCKET` every call does nothing.

use std::time::Duration;

use sd_notify::NotifyState;

/// Sends sd_notify messages; failures are logged, never fatal.
#[derive(Debug, Clone)]
pub struct Notifier {
    watchdog: Option<Duration>,
    /// `false`: every call does nothing (a daemon run in-process by a test).
    enabled: bool,
}

impl Notifier {
    /// Reads `$WATCHDOG_USEC` (and `$WATCHDOG_PID`, when set, must be this process).
    pub fn from_env() -> Notifier {
        Notifier { watchdog: sd_notify::watchdog_enabled(), enabled: true }
    }

    /// Tells systemd nothing, whatever the environment says.
    pub fn disabled() -> Notifier {
        Notifier { watchdog: None, enabled: false }
    }

    /// How often to ping the watchdog: half its timeout, as sd_watchdog_enabled(3) advises.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.map(|d| (d / 2).max(Duration::from_millis(10)))
    }

    pub fn ready(&self, status: &str) {
        self.send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    pub fn status(&self, status: &str) {
        self.send(&[NotifyState::Status(status)]);
    }

    pub fn reloading(&self) {
        match NotifyState::monotonic_usec_now() {
            Ok(now) => self.send(&[NotifyState::Reloading, now]),
            Err(_) => self.send(&[NotifyState::Reloading]),
        }
    }

    pub fn stopping(&self, status: &str) {
        self.send(&[NotifyState::Stopping, NotifyState::Status(status)]);
    }

    pub fn watchdog(&self) {
        self.send(&[NotifyState::Watchdog]);
    }

    fn send(&self, states: &[NotifyState<'_>]) {
        if !self.enabled {
            return;
        }
        if let Err(e) = sd_notify::notify(states) {
            tracing::warn!(error = %e, "Cannot notify systemd ($NOTIFY_SOCKET)");
        }
    }
}
