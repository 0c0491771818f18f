//! [`Throttle`]: slows every request down when OpenPhone answers 429 (another client may
//! share the key) and climbs back to the configured rate as requests succeed (additive
//! increase, multiplicative decrease). It sits under the governor limiter, which stays the
//! hard ceiling; while no 429 has been seen the throttle never makes a request wait.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The slowest the throttle goes, in requests per second.
const MIN_RATE: f64 = 0.5;
/// 429s closer together than this count as one signal: the requests already in flight
/// when the first came back were sent at the old rate.
const DECREASE_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct State {
    rate: f64,
    next: Instant,
    pause_until: Option<Instant>,
    last_decrease: Option<Instant>,
}

/// Shared by every request of a client.
#[derive(Debug)]
pub struct Throttle {
    max: f64,
    state: Mutex<State>,
}

impl Throttle {
    pub fn new(max_per_second: u32) -> Throttle {
        let max = f64::from(max_per_second.max(1));
        Throttle {
            max,
            state: Mutex::new(State { rate: max, next: Instant::now(), pause_until: None, last_decrease: None }),
        }
    }

    /// The current rate, in requests per second.
    pub fn rate(&self) -> f64 {
        self.state.lock().expect("throttle lock").rate
    }

    /// Waits for this request's turn: the end of a pause a 429 asked for, then (while
    /// slowed down) the next slot at the current rate.
    pub async fn wait(&self) {
        let slot = {
            let mut s = self.state.lock().expect("throttle lock");
            let now = Instant::now();
            let mut slot = now;
            if let Some(p) = s.pause_until {
                if p > now { slot = p } else { s.pause_until = None }
            }
            if s.rate < self.max {
                slot = slot.max(s.next);
                s.next = slot + Duration::from_secs_f64(1.0 / s.rate);
            }
            slot
        };
        if slot > Instant::now() {
            tokio::time::sleep_until(slot).await;
        }
    }

    /// A 429: halve the rate (once a second at most) and, if the server said how long,
    /// pause everyone that long.
    pub fn throttled(&self, pause: Option<Duration>) {
        let mut s = self.state.lock().expect("throttle lock");
        let now = Instant::now();
        if s.last_decrease.is_none_or(|t| now.duration_since(t) >= DECREASE_EVERY) {
            s.rate = (s.rate / 2.0).max(MIN_RATE);
            s.last_decrease = Some(now);
        }
        s.next = s.next.max(now);
        if let Some(p) = pause {
            let until = now + p;
            if s.pause_until.is_none_or(|t| t < until) {
                s.pause_until = Some(until);
            }
        }
    }

    /// A reply that was not a 429: climb back by a quarter of the ceiling per second of
    /// successes (each success adds `max / (4 * rate)`), so the way back takes a few
    /// seconds however far the rate fell.
    pub fn succeeded(&self) {
        let mut s = self.state.lock().expect("throttle lock");
        if s.rate < self.max {
            s.rate = (s.rate + self.max / (4.0 * s.rate)).min(self.max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn halves_once_a_second_on_429s_and_climbs_back() {
        let t = Throttle::new(10);
        assert_eq!(t.rate(), 10.0);
        t.throttled(None);
        t.throttled(None);
        assert_eq!(t.rate(), 5.0, "a burst of 429s halves once");
        tokio::time::advance(DECREASE_EVERY).await;
        t.throttled(None);
        assert_eq!(t.rate(), 2.5);
        // From 2.5/s: +1, +0.71, +0.59, ...: 19 successes (about 3.5 s at those rates) to the top.
        let mut successes = 0;
        while t.rate() < 10.0 {
            t.succeeded();
            successes += 1;
        }
        assert_eq!(successes, 19);
        for _ in 0..20 {
            tokio::time::advance(DECREASE_EVERY).await;
            t.throttled(None);
        }
        assert_eq!(t.rate(), MIN_RATE);
    }

    #[tokio::test(start_paused = true)]
    async fn paces_only_while_slowed_down() {
        let t = Throttle::new(10);
        let start = Instant::now();
        for _ in 0..20 {
            t.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "no wait at full rate");
        t.throttled(Some(Duration::from_millis(100)));
        let start = Instant::now();
        for _ in 0..3 {
            t.wait().await; // pause, then 5/s: 0.1 + 0.2 + 0.2 s
        }
        assert_eq!(start.elapsed(), Duration::from_millis(500));
    }
}
