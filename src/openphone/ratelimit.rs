//! The IETF RateLimit fields OpenPhone sends on every answer, read with the `sfv`
//! structured-field parser: `ratelimit: "per-second";r=9;t=1` (r requests left in the current
//! window, t seconds until it ends) and `ratelimit-policy: "per-second";q=10;w=1` (a quota of
//! q requests per window of w seconds). The limit is per API key: r counts every client that
//! holds the key, which is how this tool sees the others.

use std::time::Duration;

use reqwest::header::HeaderMap;
use sfv::{BareItem, List, ListEntry, Parameters, Parser};

/// A quota: `requests` per `window` (the policy's q and w).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    pub requests: u32,
    pub window: Duration,
}

impl Quota {
    /// Requests per second.
    pub fn per_second(&self) -> f64 {
        f64::from(self.requests) / self.window.as_secs_f64().max(0.001)
    }
}

/// Where the key stands in the current window: `left` requests (r), `reset` until it ends (t).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remaining {
    pub left: u32,
    pub reset: Duration,
}

/// What one answer's fields said; either may be missing (or unreadable, which is the same).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LimitFields {
    pub remaining: Option<Remaining>,
    pub quota: Option<Quota>,
}

/// Reads the `ratelimit` and `ratelimit-policy` fields. When several policies are listed, the
/// one with the fewest requests left is the one that binds, and its quota is the policy of the
/// same name (else the first one listed).
pub fn read(headers: &HeaderMap) -> LimitFields {
    let list = |name: &str| -> Vec<(String, Parameters)> {
        let Some(value) = headers.get(name) else { return Vec::new() };
        match Parser::new(value.as_bytes()).parse::<List>() {
            Ok(list) => list
                .into_iter()
                .filter_map(|entry| match entry {
                    ListEntry::Item(item) => Some((policy_name(&item.bare_item), item.params)),
                    ListEntry::InnerList(_) => None,
                })
                .collect(),
            Err(e) => {
                tracing::debug!(field = name, error = %e, "Unreadable rate-limit field; ignored");
                Vec::new()
            }
        }
    };
    let remaining = list("ratelimit")
        .into_iter()
        .filter_map(|(name, p)| {
            let left = u32::try_from(integer(&p, "r")?.max(0)).unwrap_or(u32::MAX);
            let reset = seconds(&p, "t").unwrap_or(Duration::ZERO);
            Some((name, Remaining { left, reset }))
        })
        .min_by_key(|(_, r)| r.left);
    let policies: Vec<(String, Quota)> = list("ratelimit-policy")
        .into_iter()
        .filter_map(|(name, p)| {
            let requests = u32::try_from(integer(&p, "q")?).ok().filter(|q| *q > 0)?;
            let window = seconds(&p, "w").filter(|w| !w.is_zero()).unwrap_or(Duration::from_secs(1));
            Some((name, Quota { requests, window }))
        })
        .collect();
    let quota = remaining
        .as_ref()
        .and_then(|(name, _)| policies.iter().find(|(n, _)| n == name))
        .or(policies.first())
        .map(|(_, q)| *q);
    LimitFields { remaining: remaining.map(|(_, r)| r), quota }
}

fn policy_name(item: &BareItem) -> String {
    match item {
        BareItem::String(s) => s.as_str().to_owned(),
        BareItem::Token(t) => t.as_str().to_owned(),
        _ => String::new(),
    }
}

fn integer(p: &Parameters, key: &str) -> Option<i64> {
    p.get(key).and_then(BareItem::as_integer).map(i64::from)
}

/// A delay in seconds (an integer by the draft; a decimal is read too), capped at an hour.
fn seconds(p: &Parameters, key: &str) -> Option<Duration> {
    let v = p.get(key)?;
    let secs = v.as_integer().map(|i| i64::from(i) as f64).or_else(|| v.as_decimal().map(f64::from))?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn fields(limit: &str, policy: &str) -> LimitFields {
        let mut h = HeaderMap::new();
        if !limit.is_empty() {
            h.insert("ratelimit", HeaderValue::from_str(limit).unwrap());
        }
        if !policy.is_empty() {
            h.insert("ratelimit-policy", HeaderValue::from_str(policy).unwrap());
        }
        read(&h)
    }

    #[test]
    fn reads_the_live_apis_fields() {
        let f = fields(r#""per-second"; r=9; t=1"#, r#""per-second"; q=10; w=1"#);
        assert_eq!(f.remaining, Some(Remaining { left: 9, reset: Duration::from_secs(1) }));
        assert_eq!(f.quota, Some(Quota { requests: 10, window: Duration::from_secs(1) }));
        assert_eq!(f.quota.unwrap().per_second(), 10.0);
        // A quota of 5 in 2 s, without spaces.
        let f = fields(r#""per-second";r=0;t=2"#, r#""per-second";q=5;w=2"#);
        assert_eq!(f.quota.unwrap().per_second(), 2.5);
        assert_eq!(f.remaining.unwrap().left, 0);
    }

    #[test]
    fn the_binding_policy_of_several_and_nothing_from_junk() {
        let f = fields(r#""day";r=500;t=3600, "second";r=2;t=1"#, r#""day";q=1000;w=86400, "second";q=10;w=1"#);
        assert_eq!(f.remaining.unwrap().left, 2);
        assert_eq!(f.quota.unwrap().requests, 10, "the quota of the policy that binds");
        assert_eq!(fields("r=9; t=1", "q=10, w=1"), LimitFields::default(), "not structured fields");
        assert_eq!(fields(r#""p";t=1"#, r#""p";q=0;w=1"#), LimitFields::default(), "no r, a zero quota");
        assert_eq!(fields("", ""), LimitFields::default());
        let f = fields(r#""p";r=3"#, r#""p";q=7"#);
        assert_eq!(f.remaining.unwrap().reset, Duration::ZERO);
        assert_eq!(f.quota.unwrap().window, Duration::from_secs(1), "w defaults to a second");
    }
}
