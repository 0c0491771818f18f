//! Why a request got no reply, in words: reqwest's own message ("error sending request for
//! url ...") hides the cause in its source chain, so the chain is walked and the cause named
//! first: the host name did not resolve, the connection was refused, TLS failed, it timed out.

use std::error::Error;

/// `e` and every cause under it, the cause a person can act on named first, e.g. "cannot
/// resolve the host name (DNS): error sending request for url (...): client error (Connect):
/// dns error: failed to lookup address information: Name or service not known".
pub fn describe(e: &reqwest::Error) -> String {
    let mut chain: Vec<String> = Vec::new();
    let mut cause = None;
    let mut next: Option<&(dyn Error + 'static)> = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        // Some layers repeat their source's words in their own message.
        if !chain.last().is_some_and(|last| last.ends_with(&text)) && !text.is_empty() {
            chain.push(text);
        }
        cause = cause.or_else(|| cause_of(err));
        next = err.source();
    }
    if e.is_timeout() {
        cause = cause.or(Some("no reply in time"));
    }
    let chain = chain.join(": ");
    match cause {
        Some(c) => format!("{c}: {chain}"),
        None => chain,
    }
}

/// The cause one link of the chain stands for, if it is one a person recognises.
fn cause_of(err: &(dyn Error + 'static)) -> Option<&'static str> {
    if err.downcast_ref::<rustls::Error>().is_some() {
        return Some("TLS failed (the server's certificate or the connection's encryption)");
    }
    if let Some(mut io) = err.downcast_ref::<std::io::Error>() {
        use std::io::ErrorKind::{
            ConnectionAborted, ConnectionRefused, ConnectionReset, HostUnreachable, NetworkUnreachable, TimedOut,
        };
        // An io::Error hides the error it wraps from `source()`: look inside, layer by layer
        // (the TLS stream wraps rustls's error in one, the connector in another).
        while let Some(inner) = io.get_ref() {
            if inner.downcast_ref::<rustls::Error>().is_some() {
                return Some("TLS failed (the server's certificate or the connection's encryption)");
            }
            match inner.downcast_ref::<std::io::Error>() {
                Some(deeper) => io = deeper,
                None => break,
            }
        }
        if crate::fd_limit::is_exhaustion(io) {
            return Some("the process has run out of file handles (LimitNOFILE=, `ulimit -n`)");
        }
        return match io.kind() {
            ConnectionRefused => Some("connection refused (nothing listens at that address and port)"),
            ConnectionReset | ConnectionAborted => Some("the connection was reset"),
            TimedOut => Some("no reply in time"),
            HostUnreachable | NetworkUnreachable => Some("the host cannot be reached"),
            _ => None,
        };
    }
    // hyper-util's resolver error says "dns error" and carries the resolver's reason.
    err.to_string().starts_with("dns error").then_some("cannot resolve the host name (DNS)")
}
