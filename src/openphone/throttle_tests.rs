//! The throttle against a simulated key: a server that counts every request of the key in
//! one-second windows (as the fake and the live API's fields describe), instances of this
//! tool with as much to send as they like, and a neighbour that sends at a fixed rate and
//! never slows down. Simulated time: these tests check behaviour (refused share, `r` kept
//! above zero, the rates reached), not the speed of the machine they run on.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::*;
use crate::openphone::ratelimit::Remaining;

const SECOND: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Outcome {
    /// Per tool: requests sent, refused.
    tools: Vec<(u64, u64)>,
    neighbour: (u64, u64),
    /// Requests the key got in each window.
    windows: BTreeMap<u64, u32>,
    seconds: f64,
    /// Per tool: when each of its requests got through.
    through: Vec<Vec<Duration>>,
}

impl Outcome {
    fn refused_share(&self) -> f64 {
        let sent: u64 = self.tools.iter().map(|t| t.0).sum::<u64>() + self.neighbour.0;
        let refused: u64 = self.tools.iter().map(|t| t.1).sum::<u64>() + self.neighbour.1;
        refused as f64 / sent as f64
    }

    /// Requests per second the tool got through (sent and not refused).
    fn rate(&self, tool: usize) -> f64 {
        (self.tools[tool].0 - self.tools[tool].1) as f64 / self.seconds
    }

    /// Requests per second tool `tool` got through from second `from` to the end.
    fn rate_from(&self, tool: usize, from: u64) -> f64 {
        let n = self.through[tool].iter().filter(|t| t.as_secs() >= from).count();
        n as f64 / (self.seconds - from as f64)
    }

    /// The key's mean use of a window, as a share of the quota, from second `from` on.
    fn mean_use(&self, quota: u32, from: u64) -> f64 {
        let used: Vec<u32> = self.windows.range(from..).map(|(_, &n)| n.min(quota)).collect();
        f64::from(used.iter().sum::<u32>()) / used.len() as f64 / f64::from(quota)
    }
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// Tool i tries to send.
    Wake(usize),
    /// The neighbour sends.
    Neighbour,
    /// Tool i's request reaches the server, which counts it and answers at once.
    Arrive(usize),
}

/// Runs `tools` instances (each with `ceiling` requests per second allowed) and a neighbour
/// sending `neighbour` requests a second on one key of `quota` a second, for `seconds`, with
/// `latency` between a send and its count. A small, seeded wobble (up to 15 ms) is added to
/// each latency, as on a loaded machine.
fn simulate(quota: u32, ceiling: u32, tools: usize, neighbour: f64, latency: Duration, seconds: u64) -> Outcome {
    let base = Instant::now();
    let throttles: Vec<Throttle> = (0..tools).map(|_| Throttle::new(ceiling)).collect();
    let mut out = Outcome { tools: vec![(0, 0); tools], through: vec![Vec::new(); tools], ..Outcome::default() };
    let mut queue: BinaryHeap<Reverse<(Duration, u64, Event)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |q: &mut BinaryHeap<_>, at: Duration, e: Event| {
        seq += 1;
        q.push(Reverse((at, seq, e)));
    };
    for i in 0..tools {
        // Instances start 3.7 s apart: the second one joins a key already in use.
        push(&mut queue, Duration::from_millis(3700 * i as u64), Event::Wake(i));
    }
    if neighbour > 0.0 {
        push(&mut queue, Duration::from_millis(123), Event::Neighbour);
    }
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut wobble = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        Duration::from_micros(rng % 15_000)
    };
    let end = Duration::from_secs(seconds);
    let count = |windows: &mut BTreeMap<u64, u32>, at: Duration| -> (u32, bool, Duration) {
        let w = at.as_secs();
        let used = windows.entry(w).or_default();
        *used += 1;
        let reset = Duration::from_secs(w + 1).checked_sub(at).unwrap();
        (quota.saturating_sub(*used), *used > quota, reset)
    };
    while let Some(Reverse((at, _, event))) = queue.pop() {
        if at >= end {
            break;
        }
        let now = base + at;
        match event {
            Event::Wake(i) => match throttles[i].try_take(now) {
                Ok(()) => {
                    out.tools[i].0 += 1;
                    push(&mut queue, at + latency + wobble(), Event::Arrive(i));
                    push(&mut queue, at, Event::Wake(i));
                }
                Err(slot) => push(&mut queue, slot.duration_since(base), Event::Wake(i)),
            },
            Event::Neighbour => {
                let (_, refused, _) = count(&mut out.windows, at);
                out.neighbour.0 += 1;
                out.neighbour.1 += u64::from(refused);
                push(&mut queue, at + Duration::from_secs_f64(1.0 / neighbour), Event::Neighbour);
            }
            Event::Arrive(i) => {
                let (left, refused, reset) = count(&mut out.windows, at);
                out.tools[i].1 += u64::from(refused);
                if !refused {
                    out.through[i].push(at);
                } else if std::env::var("SIM_DEBUG").is_ok() {
                    eprintln!(
                        "refused tool {i} at {at:?} rate {:.2} {:?}",
                        throttles[i].rate(),
                        throttles[i].estimate()
                    );
                }
                let fields = LimitFields {
                    remaining: Some(Remaining { left, reset: Duration::from_secs(reset.as_secs_f64().ceil() as u64) }),
                    quota: Some(Quota { requests: quota, window: SECOND }),
                };
                throttles[i].observe(now, fields, refused, None);
                if std::env::var("SIM_TRACE").is_ok() && i == 1 && at < Duration::from_secs(12) {
                    eprintln!("{at:?} tool {i} r={left} {:?}", throttles[i].estimate());
                }
            }
        }
    }
    out.seconds = seconds as f64;
    eprintln!(
        "q={quota} tools={tools} neighbour={neighbour}: tools {:?} neighbour {:?} refused {:.2} %, key used {:.1} %, rates {:?}, from 20 s {:?}",
        out.tools,
        out.neighbour,
        out.refused_share() * 100.0,
        out.mean_use(quota, 0) * 100.0,
        (0..tools).map(|i| format!("{:.2}", out.rate(i))).collect::<Vec<_>>(),
        (0..tools).map(|i| format!("{:.2}", out.rate_from(i, 20))).collect::<Vec<_>>()
    );
    out
}

#[test]
fn alone_it_runs_at_98_percent_of_the_quota_without_a_429() {
    let o = simulate(10, 10, 1, 0.0, Duration::from_millis(200), 60);
    assert_eq!(o.tools[0].1, 0, "{o:?}");
    assert!(o.rate(0) >= 9.5, "{:.2} req/s", o.rate(0));
}

#[test]
fn the_quota_is_learned_from_the_policy_field() {
    // The user allows 10 a second; the key's policy says q=5: the tool keeps to 5.
    let o = simulate(5, 10, 1, 0.0, Duration::from_millis(200), 60);
    assert_eq!(o.tools[0].1, 0, "{o:?}");
    assert!((4.7..=5.0).contains(&o.rate(0)), "{:.2} req/s", o.rate(0));
    // And the user's ceiling wins when it is the lower.
    let o = simulate(10, 4, 1, 0.0, Duration::from_millis(200), 30);
    assert!(o.rate(0) <= 4.0 && o.rate(0) >= 3.8, "{:.2} req/s", o.rate(0));
}

#[test]
fn beside_a_neighbour_at_5_a_second_it_leaves_room_and_refuses_almost_nothing() {
    let o = simulate(10, 10, 1, 5.0, Duration::from_millis(200), 60);
    assert!(o.refused_share() <= 0.02, "refused {:.1} %: {o:?}", o.refused_share() * 100.0);
    assert!(o.rate(0) >= 4.0, "{:.2} req/s", o.rate(0));
    // r is kept above zero: the key's windows are on average filled to the shared target,
    // not to the brim.
    let used = o.mean_use(10, 5);
    assert!(used <= 0.98, "the key used at {:.1} %", used * 100.0);
}

#[test]
fn two_instances_on_one_key_share_it() {
    let o = simulate(10, 10, 2, 0.0, Duration::from_millis(200), 60);
    assert!(o.refused_share() <= 0.02, "refused {:.1} %: {o:?}", o.refused_share() * 100.0);
    // Over the time both run (the second joins at 3.7 s).
    // Once both run (the second joins at 3.7 s).
    let both = o.rate_from(0, 5) + o.rate_from(1, 5);
    assert!(both >= 9.0, "together {both:.2} req/s: {o:?}");
    let (first, joined) = (o.rate_from(0, 20), o.rate_from(1, 20));
    assert!(joined >= first * 0.7, "the one that joined gets a fair part: {joined:.2} vs {first:.2}");
    assert!(o.mean_use(10, 5) <= 0.98, "the key used at {:.1} %", o.mean_use(10, 5) * 100.0);
}

#[test]
fn after_a_429_every_request_waits_the_t_it_carries() {
    let t = Throttle::new(10);
    let now = Instant::now();
    let policy = Some(Quota { requests: 10, window: SECOND });
    let refused = LimitFields { remaining: Some(Remaining { left: 0, reset: Duration::from_secs(2) }), quota: policy };
    t.observe(now, refused, true, Some(Duration::from_millis(100)));
    assert_eq!(
        t.try_take(now + Duration::from_millis(1999)),
        Err(now + Duration::from_secs(2)),
        "t wins over Retry-After"
    );
    assert!(t.try_take(now + Duration::from_secs(2)).is_ok());
    assert!(t.rate() <= (10.0 - ALONE_SLACK) * CUT_ON_429 + 1e-9, "{}", t.rate());
    // Without fields, Retry-After (or the backoff) is what is waited.
    let t = Throttle::new(10);
    t.observe(now, LimitFields::default(), true, Some(Duration::from_millis(300)));
    assert!(t.try_take(now + Duration::from_millis(299)).is_err());
    assert!(t.try_take(now + Duration::from_millis(300)).is_ok());
}
