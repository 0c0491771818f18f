//! The `/metrics` endpoint: hyper's HTTP/1.1 server on `[metrics].listen`, answering GET and
//! HEAD with [`Metrics::render`] (OpenMetrics when the scraper's `Accept` asks for it, else
//! the Prometheus text format). A client that is slow to send its request is dropped after
//! `HEADER_TIMEOUT`, and every connection after `CONNECTION_TIMEOUT`; at most
//! `MAX_CONNECTIONS` are open at once (more are closed at once, so the port cannot use up
//! the file handles the syncs need); each connection is its own task, so none of them can
//! hold up the daemon or another scrape. It only ever answers; the only HTTP client stays
//! `openphone`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ACCEPT, ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::{Format, Metrics};

/// How long a client has to send its request head; scrapers send a few hundred bytes at once.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a connection lives, reading the reply included (one request per connection).
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);
/// The most connections served at once; one more is closed as soon as it is accepted, so
/// that clients of the metrics port can never take the file handles the syncs need (a
/// scraper uses one).
const MAX_CONNECTIONS: usize = 64;

/// Binds `addr` now (so a bad address fails at start), then serves in the background.
pub async fn start(addr: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    let Ok(slot) = slots.clone().try_acquire_owned() else {
                        tracing::debug!(peer = %peer, max = MAX_CONNECTIONS, "Metrics connection refused: too many open");
                        drop(stream);
                        continue;
                    };
                    let metrics = metrics.clone();
                    tokio::spawn(async move {
                        let _slot = slot;
                        let service = service_fn(move |req| {
                            let reply = answer(&metrics, &req);
                            async move { Ok::<_, Infallible>(reply) }
                        });
                        let connection = http1::Builder::new()
                            .timer(TokioTimer::new())
                            .header_read_timeout(HEADER_TIMEOUT)
                            .keep_alive(false)
                            .serve_connection(TokioIo::new(stream), service);
                        match tokio::time::timeout(CONNECTION_TIMEOUT, connection).await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => tracing::debug!(peer = %peer, error = %e, "Metrics request failed"),
                            Err(_) => tracing::debug!(peer = %peer, "Metrics connection timed out"),
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Cannot accept a metrics connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    Ok(bound)
}

/// The reply to one request (hyper leaves the body out of a reply to HEAD).
fn answer(metrics: &Metrics, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, content_type: &'static str, body: Bytes| {
        let mut r = Response::new(Full::new(body));
        *r.status_mut() = status;
        r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        r
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", Bytes::from_static(b"GET only\n"));
        r.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    match req.uri().path() {
        "/metrics" => {
            let format = format_for(req.headers().get(ACCEPT));
            reply(StatusCode::OK, format.content_type(), Bytes::from(metrics.render(format)))
        }
        "/" => reply(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            Bytes::from_static(b"openphone-sync: metrics at /metrics\n"),
        ),
        _ => reply(StatusCode::NOT_FOUND, "text/plain", Bytes::from_static(b"not found\n")),
    }
}

/// OpenMetrics when the scraper lists it in `Accept` (Prometheus does), else the classic format.
fn format_for(accept: Option<&HeaderValue>) -> Format {
    let wants_openmetrics =
        accept.and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("application/openmetrics-text"));
    if wants_openmetrics { Format::OpenMetrics } else { Format::Prometheus }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// Sends `request` raw and reads the whole reply (the server closes after one).
    async fn raw(addr: SocketAddr, request: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(request).await.unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn serves_metrics_in_either_format_and_nothing_else() {
        let addr = start("127.0.0.1:0".parse().unwrap(), Arc::new(Metrics::new())).await.unwrap();
        let ok = raw(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains("text/plain; version=0.0.4"), "{ok}");
        assert!(ok.contains("openphone_sync_runs_total{outcome=\"ok\"} 0\n"), "{ok}");
        let open = raw(
            addr,
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text;version=1.0.0\r\n\r\n",
        )
        .await;
        assert!(open.contains("application/openmetrics-text") && open.ends_with("# EOF\n"), "{open}");
        assert!(raw(addr, b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").await.starts_with("HTTP/1.1 404"));
        let post = raw(addr, b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").await;
        assert!(post.starts_with("HTTP/1.1 405") && post.to_ascii_lowercase().contains("allow: get, head"), "{post}");
        let head = raw(addr, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(head.starts_with("HTTP/1.1 200") && !head.contains("runs_total"), "{head}");
    }
}
