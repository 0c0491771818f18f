//! Plain HTTP only to this machine: an `http://` address whose host is not loopback would
//! carry the API key (or a Google token) and every contact in clear, so it is refused unless
//! the table sets `ALLOW_KEY` to `true`.

/// The opt-in key, in `[openphone]` and in `[source]` alike: its name says what it allows.
const ALLOW_KEY: &str = "allow_plain_http_to_remote_host";

/// Why `url` may not be used, or `None`: `https://`, or `http://` to a loopback host
/// (`localhost`, 127.0.0.0/8, `::1`), or `allowed`.
pub fn refusal(url: &url::Url, allowed: bool, table: &str) -> Option<String> {
    if url.scheme() != "http" || allowed || is_loopback(url) {
        return None;
    }
    let host = url.host_str().unwrap_or("");
    Some(format!(
        "plain http:// to {host}, which is not this machine, would send the credentials and every contact \
         in clear: use https://, or set `{ALLOW_KEY} = true` in [{table}] if the network between is trusted"
    ))
}

/// Whether the URL's host is this machine: `localhost`, 127.0.0.0/8 or `::1`. A name is not
/// resolved: only `localhost` itself counts.
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_may_be_reached_in_clear() {
        let refused = |u: &str, allowed: bool| refusal(&url::Url::parse(u).unwrap(), allowed, "openphone").is_some();
        for ok in [
            "https://api.quo.com",
            "https://10.1.2.3:8443",
            "http://127.0.0.1:8080",
            "http://127.9.8.7/",
            "http://localhost:1",
            "http://LOCALHOST./",
            "http://[::1]:80/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(!refused(ok, false), "{ok}");
        }
        for bad in [
            "http://10.1.2.3:8080",
            "http://api.quo.com",
            "http://localhost.example.com/",
            "http://128.0.0.1/",
            "http://[::2]/",
            "http://0.0.0.0/",
            "http://[::ffff:10.0.0.1]/",
        ] {
            assert!(refused(bad, false), "{bad}");
            assert!(!refused(bad, true), "{bad}, allowed");
        }
        let why = refusal(&url::Url::parse("http://10.1.2.3:8080").unwrap(), false, "source").unwrap();
        assert!(
            why.contains("10.1.2.3") && why.contains("allow_plain_http_to_remote_host = true` in [source]"),
            "{why}"
        );
    }
}
