//! [`Throttle`]: the pace of every request of a client, learned from the IETF RateLimit
//! fields of OpenPhone's answers (`openphone::ratelimit`). The limit is per key, shared with
//! every other tool that holds it, and those fields are the only shared state: no
//! coordination service.
//!
//! - The quota is learned from `ratelimit-policy` (q per w); the pace never exceeds
//!   `requests_per_second` (the ceiling the user allows) nor, alone on the key, `q - 0.2` a
//!   window (evenly spaced, so a window never gets more than q).
//! - Between two answers of the same window, `r` fell by one for our own request and by one
//!   for each request someone else sent. From those falls the throttle estimates the others'
//!   rate and the key's total (decayed over `MEMORY`).
//! - While others use the key, this client takes a whole number of requests of each window
//!   (its share), paced at `share - 0.3` a window so that no window gets more than the share
//!   from it: the share is at most what the others leave (q minus their requests a window,
//!   rounded up), so the key is not overrun while their pace holds. Once a window (and
//!   `MEMORY`) it moves by one: down when the key is full and this client takes more than
//!   the others (so that two instances even out), up when there is room and it takes no more
//!   than the others (or there is room for two).
//! - A 429 pauses every request for the `t` it carries (else `Retry-After`, else backoff) and
//!   cuts the pace by [`CUT_ON_429`].
//! - The first request goes alone: its answer tells the quota and how busy the key is.
//! - An answer without the fields (another gateway, an old fake) leaves only the 429 rule.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::ratelimit::{LimitFields, Quota};

/// The slowest pace, in requests per second.
const MIN_RATE: f64 = 0.5;
/// Alone on the key, the pace is `q - ALONE_SLACK` requests a window: evenly spaced, a window
/// never holds more than q requests even when the answers' timing wobbles by 20 ms.
pub const ALONE_SLACK: f64 = 0.2;
/// With others on the key, the pace is `share - SHARED_SLACK` requests a window: a window
/// never gets more than `share` of ours, and on average a third of a request is left over.
const SHARED_SLACK: f64 = 0.3;
/// How far back the rates are estimated (an exponential decay of this time constant).
const MEMORY: Duration = Duration::from_millis(1500);
/// Others count as present until this long after their last request was seen.
const OTHERS_LINGER: Duration = Duration::from_secs(3);
/// The others' requests a window are their estimate less this, rounded up: a steady 5 a
/// second reads between about 4.6 and 5.4.
const OTHERS_TOLERANCE: f64 = 0.45;
/// Below this estimated rate (requests per second) others count as absent.
const OTHERS_FLOOR: f64 = 0.3;
/// A 429 multiplies the pace by this (at most once a window).
pub const CUT_ON_429: f64 = 0.7;
/// After giving a request of each window back, this client does not claim one for this long:
/// the time another instance needs to see the room and take it.
const YIELD_HOLD: Duration = Duration::from_secs(3);
/// Until the first answer, one request is sent; another after this long without one.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a request waiting for the first answer looks again.
const PROBE_POLL: Duration = Duration::from_millis(10);
/// Two answers closer than this whose `r` went up are taken as arriving out of order, not as
/// a new window.
const REORDER: Duration = Duration::from_millis(50);

#[derive(Debug)]
struct State {
    rate: f64,
    /// The most the pace may be: the user's ceiling, and 98 % of the quota once known.
    cap: f64,
    quota: Option<Quota>,
    next: Instant,
    pause_until: Option<Instant>,
    /// The last answer's time and `r`.
    last: Option<(Instant, u32)>,
    /// Decayed sums over the intervals between two answers of one window: their length in
    /// seconds and the others' requests in them.
    span: f64,
    others: f64,
    others_seen: Option<Instant>,
    last_cut: Option<Instant>,
    last_update: Option<Instant>,
    /// While others use the key: the requests this client takes of each window.
    share: Option<u32>,
    last_change: Option<Instant>,
    last_yield: Option<Instant>,
    /// Until the first answer: when the one request sent to learn the key's state left.
    probe: Option<Instant>,
    answered: bool,
}

/// What the throttle believes, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The pace, in requests per second.
    pub rate: f64,
    /// The others' requests per second on the key (0 when none was seen).
    pub others: f64,
    /// Whether others use the key now.
    pub shared: bool,
    pub quota: Option<Quota>,
}

/// Shared by every request of a client.
#[derive(Debug)]
pub struct Throttle {
    ceiling: f64,
    state: Mutex<State>,
}

impl Throttle {
    /// `ceiling`: `requests_per_second`, the pace until the answers say otherwise (the first
    /// request goes alone: its answer tells the quota and how busy the key is).
    pub fn new(ceiling: u32) -> Throttle {
        let ceiling = f64::from(ceiling.max(1));
        Throttle {
            ceiling,
            state: Mutex::new(State {
                rate: ceiling,
                cap: ceiling,
                quota: None,
                next: Instant::now(),
                pause_until: None,
                last: None,
                span: 0.0,
                others: 0.0,
                others_seen: None,
                last_cut: None,
                last_update: None,
                share: None,
                last_change: None,
                last_yield: None,
                probe: None,
                answered: false,
            }),
        }
    }

    /// The current pace, in requests per second.
    pub fn rate(&self) -> f64 {
        self.lock().rate
    }

    pub fn estimate(&self) -> Estimate {
        let s = self.lock();
        let now = Instant::now();
        Estimate { rate: s.rate, others: others_rate(&s), shared: shared(&s, now), quota: s.quota }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for this request's turn: the end of a pause a 429 asked for, then the next slot
    /// at the current pace. Nothing is booked ahead: a request that wakes re-checks the pace,
    /// so that a slow-down applies at once to every request waiting.
    pub async fn wait(&self) {
        loop {
            match self.try_take(Instant::now()) {
                Ok(()) => return,
                Err(slot) => tokio::time::sleep_until(slot).await,
            }
        }
    }

    /// Takes the slot at `now` if it is free, else says when the next one is.
    pub fn try_take(&self, now: Instant) -> Result<(), Instant> {
        let mut s = self.lock();
        if !s.answered && s.probe.is_some_and(|at| now.duration_since(at) < PROBE_TIMEOUT) {
            // One request alone until the first answer says how busy the key is and its quota.
            return Err(now + PROBE_POLL);
        }
        if let Some(p) = s.pause_until {
            if p > now {
                return Err(p.max(s.next));
            }
            s.pause_until = None;
        }
        if now < s.next {
            return Err(s.next);
        }
        if !s.answered {
            s.probe = Some(now);
        }
        let interval = Duration::from_secs_f64(1.0 / s.rate);
        // A request woken late (a busy machine wakes timers late) keeps to the grid, so that
        // lateness is not lost; one after a lull starts afresh. The user's limiter (evenly
        // spaced, no burst) keeps two requests from coming closer than its own interval.
        s.next = if now.duration_since(s.next) < interval { s.next + interval } else { now + interval };
        Ok(())
    }

    /// An answer that was not a 429, with the fields it carried.
    pub fn answered(&self, fields: LimitFields) {
        self.observe(Instant::now(), fields, false, None);
    }

    /// A 429, with its fields and what `Retry-After` (or backoff) asked for: pause everyone
    /// for `t` (else that), and slow down.
    pub fn throttled(&self, fields: LimitFields, asked: Option<Duration>) {
        self.observe(Instant::now(), fields, true, asked);
    }

    /// One answer at `now` (the clock is a parameter so that tests can simulate a key).
    pub fn observe(&self, now: Instant, fields: LimitFields, refused: bool, asked: Option<Duration>) {
        let mut s = self.lock();
        s.answered = true;
        if let Some(q) = fields.quota {
            s.quota = Some(q);
            s.cap =
                self.ceiling.min((f64::from(q.requests) - ALONE_SLACK).max(0.5) / q.window.as_secs_f64()).max(MIN_RATE);
        }
        let window = s.quota.map_or(Duration::from_secs(1), |q| q.window);
        if let Some(rem) = fields.remaining {
            count(&mut s, now, rem.left, window);
        }
        if refused {
            let pause = fields.remaining.map(|r| r.reset).filter(|t| !t.is_zero()).or(asked);
            if let Some(p) = pause {
                let until = now + p;
                s.pause_until = Some(s.pause_until.map_or(until, |t| t.max(until)));
            }
            if s.last_cut.is_none_or(|t| now.duration_since(t) >= window) {
                s.rate = (s.rate * CUT_ON_429).max(MIN_RATE);
                s.share = s.share.map(|k| k.saturating_sub(1).max(1));
                s.last_cut = Some(now);
                s.last_change = Some(now);
            }
            s.next = s.next.max(now);
        } else if fields.remaining.is_some() {
            steer(&mut s, now, self.ceiling);
        } else if fields.quota.is_none() {
            // No fields at all: the ceiling, climbing back to it after 429s, a quarter of it a
            // second.
            let dt = s.last_update.map_or(0.0, |t| now.duration_since(t).as_secs_f64());
            s.rate = if s.last_cut.is_none() {
                s.cap
            } else {
                (s.rate + s.cap * dt / 4.0).max(s.rate + s.cap / (40.0 * s.rate)).min(s.cap)
            };
        }
        s.rate = s.rate.min(s.cap);
        s.last_update = Some(now);
    }
}

/// Files one answer's `r`: the fall since the last answer of the same window is our request
/// and the others' (see the module's doc).
fn count(s: &mut State, now: Instant, left: u32, window: Duration) {
    let quota = s.quota.map_or(u32::MAX, |q| q.requests);
    match s.last {
        Some((at, prev)) if now.duration_since(at) < window && (left <= prev || now.duration_since(at) < REORDER) => {
            let dt = now.duration_since(at).as_secs_f64();
            let decay = (-dt / MEMORY.as_secs_f64()).exp();
            let others = prev.saturating_sub(left).saturating_sub(1);
            s.span = s.span * decay + dt;
            s.others = s.others * decay + f64::from(others);
            if others > 0 {
                s.others_seen = Some(now);
            }
            s.last = Some((now, left.min(prev)));
        }
        _ => {
            // A new window (or the first answer): what it holds besides this request is
            // others'. Its start lies somewhere since the last answer (at most a window ago):
            // half that on average, which is the time their requests are counted over.
            let others = quota.saturating_sub(left).saturating_sub(1);
            if quota != u32::MAX && others > 0 {
                s.others_seen = Some(now);
                if s.last.is_none() {
                    // The first answer already shows others: start at what they leave.
                    s.rate = s.rate.min((f64::from(left) / window.as_secs_f64() / 2.0).max(MIN_RATE));
                }
            }
            if let Some((at, _)) = s.last {
                let dt = now.duration_since(at).as_secs_f64();
                let decay = (-dt / MEMORY.as_secs_f64()).exp();
                s.span = s.span * decay + dt.min(window.as_secs_f64()) / 2.0;
                s.others = s.others * decay + f64::from(others);
            }
            s.last = Some((now, left));
        }
    }
}

fn others_rate(s: &State) -> f64 {
    if s.span < 0.3 { 0.0 } else { s.others / s.span }
}

fn shared(s: &State, now: Instant) -> bool {
    s.others_seen.is_some_and(|t| now.duration_since(t) < OTHERS_LINGER)
        && (others_rate(s) >= OTHERS_FLOOR || s.span < 0.3)
}

/// Moves the pace after an answer that carried `r`.
fn steer(s: &mut State, now: Instant, ceiling: f64) {
    let dt = s.last_update.map_or(0.0, |t| now.duration_since(t).as_secs_f64()).min(1.0);
    let Some(quota) = s.quota else {
        s.rate = (s.rate + ceiling * dt).min(ceiling);
        return;
    };
    let w = quota.window.as_secs_f64();
    if !shared(s, now) {
        // Alone on the key: up to the quota's pace within about a second.
        let alone = (f64::from(quota.requests) - ALONE_SLACK) / w;
        s.rate = (s.rate + alone * dt).min(alone).min(ceiling);
        s.share = None;
        return;
    }
    // The others' requests in a window, rounded up (their estimate wobbles by a few tenths).
    let others = (others_rate(s) * w - OTHERS_TOLERANCE).ceil().max(0.0) as u32;
    let free = quota.requests.saturating_sub(others).max(1);
    let k = s.share.unwrap_or_else(|| ((s.rate * w + SHARED_SLACK).floor() as u32).max(1));
    let settled = s.last_change.is_none_or(|t| now.duration_since(t) >= quota.window.max(MEMORY));
    let may_claim = s.last_yield.is_none_or(|t| now.duration_since(t) >= YIELD_HOLD);
    let next = if k > free {
        free
    } else if !settled {
        k
    } else if k == free && k > others + 1 {
        // The key is full and we take more than the others: give one back, so that another
        // instance of this tool can have it.
        s.last_yield = Some(now);
        k - 1
    } else if k < free && may_claim && (k <= others || free - k >= 2) {
        k + 1
    } else {
        k
    };
    if next != k {
        s.last_change = Some(now);
        tracing::debug!(
            share = next,
            others,
            quota = quota.requests,
            "Others use the API key too; new share of each window"
        );
    }
    s.share = Some(next);
    s.rate = ((f64::from(next) - SHARED_SLACK) / w).max(MIN_RATE).min(ceiling);
}

#[cfg(test)]
#[path = "throttle_tests.rs"]
mod tests;
