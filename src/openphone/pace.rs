//! [`Pace`]: the user's `requests_per_second`, evenly spaced with no burst, as a `governor`
//! rate limiter that reads tokio's clock and waits on tokio's timers (governor's own wait
//! reads the system's clock and sleeps on a timer thread of its own). In production the two
//! clocks agree; in a test whose runtime is paused, a run's requests are paced in tokio's
//! time like everything else it waits for.

use std::num::NonZeroU32;
use std::ops::Add;

use governor::clock::{Clock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

/// A moment on tokio's clock, as governor measures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct TokioInstant(tokio::time::Instant);

impl Add<Nanos> for TokioInstant {
    type Output = TokioInstant;

    fn add(self, d: Nanos) -> TokioInstant {
        TokioInstant(self.0 + std::time::Duration::from(d))
    }
}

impl Reference for TokioInstant {
    fn duration_since(&self, earlier: Self) -> Nanos {
        self.0.saturating_duration_since(earlier.0).into()
    }

    fn saturating_sub(&self, d: Nanos) -> Self {
        self.0.checked_sub(d.into()).map_or(*self, TokioInstant)
    }
}

/// Tokio's clock, for governor.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct TokioClock;

impl Clock for TokioClock {
    type Instant = TokioInstant;

    fn now(&self) -> TokioInstant {
        TokioInstant(tokio::time::Instant::now())
    }
}

/// At most `requests_per_second`, evenly spaced.
#[derive(Debug)]
pub(super) struct Pace(RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<TokioInstant>>);

impl Pace {
    /// Evenly spaced, no burst: a server-side token bucket of the same rate then never runs
    /// dry, so a run at the limit sees no 429.
    pub(super) fn per_second(rps: NonZeroU32) -> Pace {
        Pace(RateLimiter::direct_with_clock(Quota::per_second(rps).allow_burst(NonZeroU32::MIN), TokioClock))
    }

    /// Waits for the next request's slot.
    pub(super) async fn until_ready(&self) {
        while let Err(not_until) = self.0.check() {
            tokio::time::sleep(not_until.wait_time_from(TokioClock.now())).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_requests_evenly_on_tokio_time() {
        let pace = Pace::per_second(NonZeroU32::new(4).unwrap());
        let start = tokio::time::Instant::now();
        for _ in 0..5 {
            pace.until_ready().await;
        }
        // The first at once, then one every 250 ms, in the paused runtime's time.
        assert_eq!(start.elapsed(), std::time::Duration::from_secs(1));
    }
}
