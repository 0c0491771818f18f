//! When to try a request again, and how long to wait: capped exponential backoff with full
//! jitter, or the server's `Retry-After` / rate-limit reset headers when it sends them.

use std::time::Duration;

use reqwest::header::HeaderMap;

/// The first backoff step.
const BASE_DELAY: Duration = Duration::from_millis(250);
/// No single wait is longer than this.
const MAX_DELAY: Duration = Duration::from_secs(30);

/// Whether a request may be sent again after an error that left its fate unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// GET, DELETE: sending twice is harmless.
    Safe,
    /// POST, PATCH: a second send could apply twice; the caller re-reads and decides.
    Unsafe,
}

/// The wait before attempt `attempt` (1 = first retry): a random time in
/// `[0, min(MAX, BASE * 2^(attempt-1))]`, never less than a tenth of the cap.
pub fn backoff(attempt: u32) -> Duration {
    let cap = BASE_DELAY.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(MAX_DELAY);
    let floor = cap / 10;
    let spread = cap.checked_sub(floor).unwrap();
    floor + spread.mul_f64(rand::random::<f64>())
}

/// What the server asked for: `Retry-After` (seconds or an HTTP date), else a rate-limit
/// reset header (`RateLimit-Reset`, `X-RateLimit-Reset` in seconds).
pub fn server_delay(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(v) = get("retry-after") {
        if let Ok(secs) = v.parse::<f64>() {
            return clamp_secs(secs);
        }
        if let Ok(when) = chrono::DateTime::parse_from_rfc2822(v) {
            let secs = (when.timestamp_millis() - chrono::Utc::now().timestamp_millis()) as f64 / 1000.0;
            return clamp_secs(secs.max(0.0));
        }
    }
    for name in ["ratelimit-reset", "x-ratelimit-reset"] {
        if let Some(secs) = get(name).and_then(|v| v.parse::<f64>().ok()) {
            // Some gateways send an epoch time here; only a small relative value is a delay.
            if secs < 3600.0 {
                return clamp_secs(secs);
            }
        }
    }
    None
}

fn clamp_secs(secs: f64) -> Option<Duration> {
    secs.is_finite().then(|| Duration::from_secs_f64(secs.clamp(0.0, 300.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..30 {
            let d = backoff(attempt);
            let cap = BASE_DELAY.saturating_mul(1 << (attempt - 1).min(16)).min(MAX_DELAY);
            assert!(d <= cap && d >= cap / 10, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn honours_retry_after_and_reset_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(server_delay(&h), None);
        h.insert("x-ratelimit-reset", HeaderValue::from_static("2"));
        assert_eq!(server_delay(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after", HeaderValue::from_static("1"));
        assert_eq!(server_delay(&h), Some(Duration::from_secs(1)));
        h.insert("retry-after", HeaderValue::from_static("junk"));
        assert_eq!(server_delay(&h), Some(Duration::from_secs(2)));
    }
}
