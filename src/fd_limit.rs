//! File handles: the process raises its soft `RLIMIT_NOFILE` to what its work may need (the
//! hard limit, at most `WANTED`), and running out of them (EMFILE, ENFILE) is recognised so
//! that the error says so instead of blaming the file it could not open.

/// The soft limit asked for: the requests in flight (at most 256), the metrics server's
/// connections (capped), the mirror and its companions, and room to spare.
const WANTED: u64 = 65_536;

/// Raises the soft limit on open files towards the hard limit (at most `WANTED`). Under the
/// systemd units the call is refused by their system-call filter; `LimitNOFILE=` there sets
/// the limit instead. Never fails: the outcome is logged.
#[allow(clippy::unnecessary_cast, reason = "rlim_t is u64 on Linux, not everywhere")]
pub fn raise() {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes into the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut lim) } != 0 {
            return;
        }
        let want = (WANTED as libc::rlim_t).min(lim.rlim_max);
        if lim.rlim_cur >= want {
            tracing::debug!(soft = lim.rlim_cur as u64, hard = lim.rlim_max as u64, "File handle limit");
            return;
        }
        let raised = libc::rlimit { rlim_cur: want, rlim_max: lim.rlim_max };
        // SAFETY: setrlimit reads the struct it is given.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const raised) } == 0 {
            tracing::debug!(from = lim.rlim_cur as u64, to = want as u64, "Raised the file handle limit");
        } else {
            tracing::debug!(
                soft = lim.rlim_cur as u64,
                error = %std::io::Error::last_os_error(),
                "Cannot raise the file handle limit (set LimitNOFILE= in the unit, or `ulimit -n`)"
            );
        }
    }
}

/// The soft limit on open files, when there is one to read.
#[allow(clippy::unnecessary_cast, reason = "rlim_t is u64 on Linux, not everywhere")]
fn soft_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes into the struct it is given.
        (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut lim) } == 0).then_some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    None
}

/// Whether `e` says the process (EMFILE) or the system (ENFILE) has no file handle left.
pub fn is_exhaustion(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// When a file could not be opened for a reason the caller does not know (SQLite's "unable
/// to open database file"): whether the process is out of file handles right now, found by
/// trying to open one.
pub fn exhausted_now() -> Option<std::io::Error> {
    match std::fs::File::open("/") {
        Err(e) if is_exhaustion(&e) => Some(e),
        _ => None,
    }
}

/// The advice given with an exhaustion.
pub fn advice() -> String {
    let limit = soft_limit().map(|l| format!(" (its limit is {l})")).unwrap_or_default();
    format!(
        "the process has run out of file handles{limit}: raise the limit (LimitNOFILE= in the systemd unit, \
         `ulimit -n` in a shell), or find what holds so many open (e.g. connections to the metrics port)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exhaustion_is_recognised() {
        assert!(is_exhaustion(&std::io::Error::from_raw_os_error(libc::EMFILE)));
        assert!(is_exhaustion(&std::io::Error::from_raw_os_error(libc::ENFILE)));
        assert!(!is_exhaustion(&std::io::Error::from_raw_os_error(libc::EACCES)));
        assert!(exhausted_now().is_none());
        assert!(advice().contains("LimitNOFILE="));
    }
}
