//! [`Client`]: the only code that speaks HTTP. Every request waits on the pace that the
//! API's rate-limit fields set ([`Throttle`]) and on one rate limiter (`requests_per_second`,
//! the user's ceiling), carries the raw key in `Authorization`, and is retried on 429, 5xx
//! and transport errors with backoff, within the limits of [`Replay`]. Error answers are
//! read from either envelope ([`Refusal`]).

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use super::error::{ApiError, BodyKind, Refusal};
use super::pace::Pace;
use super::ratelimit;
use super::retry::{self, Replay};
use super::throttle::{Estimate, Throttle};
use super::wire::{ApiContact, ContactPage, CreateBody, CustomFieldList, Data, PatchBody};
use crate::model::CustomFieldDef;
use crate::secret::ApiKey;

/// The most `externalIds` one lookup request carries. The live API's query parser turns more
/// than 20 repeated `externalIds` keys into an object and answers 400 (the June 2025 spec
/// sets no limit; Quo's own CRM integration partner found it and sends batches of 20).
pub const LOOKUP_BATCH: usize = 20;

/// `maxResults` of a listing without `externalIds`: the API's largest page.
const LIST_PAGE: usize = 50;

/// `maxResults` of a lookup: the API's largest page (50), so that an externalId held by
/// several contacts (other sources, duplicates) rarely costs a second page.
const LOOKUP_PAGE: usize = LIST_PAGE;

/// How to reach OpenPhone.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub base_url: url::Url,
    pub api_key: ApiKey,
    pub requests_per_second: u32,
    pub timeout: Duration,
    pub max_retries: u32,
}

/// Counters a run reports.
#[derive(Debug, Default)]
pub struct ClientStats {
    /// Every HTTP request sent, retries included.
    pub requests: AtomicU64,
    /// Replies with status 429.
    pub throttled: AtomicU64,
    /// Replies by HTTP status.
    by_status: Mutex<BTreeMap<u16, u64>>,
    /// Requests that got no reply (connect error, timeout, reset).
    no_reply: AtomicU64,
    /// Time spent waiting for the rate limiter and the throttle, in microseconds.
    waited_us: AtomicU64,
}

/// A copy of [`ClientStats`] at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub requests: u64,
    pub throttled: u64,
    pub by_status: BTreeMap<u16, u64>,
    pub no_reply: u64,
    pub waited: Duration,
}

impl ClientStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            by_status: self.by_status.lock().expect("stats lock").clone(),
            no_reply: self.no_reply.load(Ordering::Relaxed),
            waited: Duration::from_micros(self.waited_us.load(Ordering::Relaxed)),
        }
    }

    fn replied(&self, status: u16) {
        *self.by_status.lock().expect("stats lock").entry(status).or_default() += 1;
    }
}

/// An OpenPhone API client. Cheap to clone; clones share the limiter and counters.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: url::Url,
    auth: HeaderValue,
    limiter: Arc<Pace>,
    /// Slows down after 429s, climbs back on success.
    throttle: Arc<Throttle>,
    max_retries: u32,
    stats: Arc<ClientStats>,
    /// Once cancelled, no request is sent or retried; those on the wire finish.
    stop: CancellationToken,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.base.as_str()).field("auth", &"<redacted>").finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(opts: ClientOptions) -> Result<Client, ApiError> {
        let mut auth = HeaderValue::from_str(opts.api_key.expose()).map_err(|_| ApiError::Unauthorized {
            status: 0,
            said: Box::new(Refusal {
                message: Some("the API key contains characters that cannot be sent in a header".to_owned()),
                ..Refusal::default()
            }),
        })?;
        auth.set_sensitive(true);
        let http = reqwest::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("openphone-sync/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(64)
            // A redirect would resend the body (the contacts) to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ApiError::Transport { message: super::transport::describe(&e), maybe_applied: false })?;
        let rps = NonZeroU32::new(opts.requests_per_second.max(1)).expect("at least one");
        let mut base = opts.base_url;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Client {
            http,
            base,
            auth,
            limiter: Arc::new(Pace::per_second(rps)),
            throttle: Arc::new(Throttle::new(rps.get())),
            max_retries: opts.max_retries,
            stats: Arc::default(),
            stop: CancellationToken::new(),
        })
    }

    /// Stops sending when `stop` is cancelled: a request not yet sent fails with
    /// [`ApiError::Stopped`], a failed one is not retried, and those on the wire finish.
    pub fn with_stop(mut self, stop: CancellationToken) -> Client {
        self.stop = stop;
        self
    }

    pub fn stats(&self) -> &ClientStats {
        &self.stats
    }

    pub fn requests_sent(&self) -> u64 {
        self.stats.requests.load(Ordering::Relaxed)
    }

    /// What the pace has learned of the key: its quota, the others' rate, the pace.
    pub fn pace(&self) -> Estimate {
        self.throttle.estimate()
    }

    /// `GET /v1/contact-custom-fields`.
    pub async fn custom_fields(&self) -> Result<Vec<CustomFieldDef>, ApiError> {
        let list: CustomFieldList =
            self.call(Method::GET, "v1/contact-custom-fields", &[], None::<&()>, Replay::Safe).await?;
        Ok(list.data)
    }

    /// `GET /v1/contacts?externalIds=..` for up to [`LOOKUP_BATCH`] ids, every page.
    pub async fn find_by_external_ids(&self, ids: &[String]) -> Result<Vec<ApiContact>, ApiError> {
        assert!(!ids.is_empty() && ids.len() <= LOOKUP_BATCH, "a lookup takes 1 to {LOOKUP_BATCH} externalIds");
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        let max = LOOKUP_PAGE.to_string();
        loop {
            let mut query: Vec<(&str, &str)> = ids.iter().map(|id| ("externalIds", id.as_str())).collect();
            query.push(("maxResults", &max));
            if let Some(t) = &token {
                query.push(("pageToken", t));
            }
            let page: ContactPage = self.call(Method::GET, "v1/contacts", &query, None::<&()>, Replay::Safe).await?;
            found.extend(page.data);
            match page.next_page_token {
                Some(t) if !t.is_empty() && Some(&t) != token.as_ref() => token = Some(t),
                _ => break,
            }
        }
        Ok(found)
    }

    /// One page of `GET /v1/contacts?sources=<label>` (no `externalIds`: the live API then
    /// lists every contact with that source, `LIST_PAGE` a page). Returns the contacts and
    /// the next page's token (`None` on the last page).
    pub async fn list_by_source(
        &self,
        source: &str,
        page_token: Option<&str>,
    ) -> Result<(Vec<ApiContact>, Option<String>), ApiError> {
        let max = LIST_PAGE.to_string();
        let mut query: Vec<(&str, &str)> = vec![("sources", source), ("maxResults", &max)];
        if let Some(t) = page_token {
            query.push(("pageToken", t));
        }
        let page: ContactPage = self.call(Method::GET, "v1/contacts", &query, None::<&()>, Replay::Safe).await?;
        let next = page.next_page_token.filter(|t| !t.is_empty() && Some(t.as_str()) != page_token);
        Ok((page.data, next))
    }

    /// `GET /v1/contacts/{id}`; `Ok(None)` on 404.
    pub async fn get_contact(&self, id: &str) -> Result<Option<ApiContact>, ApiError> {
        let path = format!("v1/contacts/{}", encode(id));
        match self.call::<Data<ApiContact>>(Method::GET, &path, &[], None::<&()>, Replay::Safe).await {
            Ok(d) => Ok(Some(d.data)),
            Err(ApiError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /v1/contacts`. Not replayed after an ambiguous failure: the caller looks up first.
    pub async fn create_contact(&self, body: &CreateBody) -> Result<ApiContact, ApiError> {
        let d: Data<ApiContact> = self.call(Method::POST, "v1/contacts", &[], Some(body), Replay::Unsafe).await?;
        Ok(d.data)
    }

    /// `PATCH /v1/contacts/{id}`. Not replayed after an ambiguous failure: the caller re-reads first.
    pub async fn update_contact(&self, id: &str, body: &PatchBody) -> Result<ApiContact, ApiError> {
        let path = format!("v1/contacts/{}", encode(id));
        let d: Data<ApiContact> = self.call(Method::PATCH, &path, &[], Some(body), Replay::Unsafe).await?;
        Ok(d.data)
    }

    /// `DELETE /v1/contacts/{id}`; `Ok(false)` when it was already gone (404).
    pub async fn delete_contact(&self, id: &str) -> Result<bool, ApiError> {
        let path = format!("v1/contacts/{}", encode(id));
        let mut earlier_maybe_applied = false;
        match self.send_loop(Method::DELETE, &path, &[], None::<&()>, Replay::Safe, &mut earlier_maybe_applied).await {
            Ok(_) => Ok(true),
            // A 404 to a retry whose first attempt may have been applied (its reply lost): the
            // contact is gone by this run's DELETE, most likely.
            Err(ApiError::NotFound { .. }) => Ok(earlier_maybe_applied),
            Err(e) => Err(e),
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&impl Serialize>,
        replay: Replay,
    ) -> Result<T, ApiError> {
        let (status, bytes) = self.send(method, path, query, body, replay).await?;
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode { status: status.as_u16(), message: e.to_string() })
    }

    /// Sends one request with retries; returns the 2xx status and body.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&impl Serialize>,
        replay: Replay,
    ) -> Result<(StatusCode, bytes::Bytes), ApiError> {
        self.send_loop(method, path, query, body, replay, &mut false).await
    }

    /// [`Client::send`]; `maybe_applied_before` is set when an attempt before the answer may
    /// have been applied (no reply, or a 5xx, then a retry).
    async fn send_loop(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&impl Serialize>,
        replay: Replay,
        maybe_applied_before: &mut bool,
    ) -> Result<(StatusCode, bytes::Bytes), ApiError> {
        let url = self.base.join(path).expect("a relative API path");
        let mut attempt = 0u32;
        loop {
            let waiting = Instant::now();
            tokio::select! {
                biased;
                () = self.stop.cancelled() => return Err(ApiError::Stopped),
                () = self.wait_turn() => {}
            }
            self.stats.waited_us.fetch_add(waiting.elapsed().as_micros() as u64, Ordering::Relaxed);
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let mut req = self.http.request(method.clone(), url.clone()).header(AUTHORIZATION, self.auth.clone());
            if !query.is_empty() {
                req = req.query(query);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let started = Instant::now();
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    match resp.bytes().await {
                        Ok(bytes) => Ok((status, headers, bytes)),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            attempt += 1;
            match &outcome {
                Ok((status, _, _)) => self.stats.replied(status.as_u16()),
                Err(_) => {
                    self.stats.no_reply.fetch_add(1, Ordering::Relaxed);
                }
            }
            let retries_left = attempt <= self.max_retries && !self.stop.is_cancelled();
            match outcome {
                Ok((status, headers, bytes)) if status.is_success() => {
                    self.throttle.answered(ratelimit::read(&headers));
                    tracing::trace!(%method, path, status = status.as_u16(), ms = started.elapsed().as_millis() as u64, "OpenPhone replied");
                    return Ok((status, bytes));
                }
                Ok((status, headers, bytes)) => {
                    let content_type = headers.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
                    let said = Box::new(Refusal::read(content_type, &bytes));
                    let s = status.as_u16();
                    tracing::debug!(
                        %method, path, status = s, key = said.key.as_deref(), code = said.code.as_deref(),
                        trace = said.trace.as_deref(), message = said.message.as_deref(), "OpenPhone answered an error"
                    );
                    let fields = ratelimit::read(&headers);
                    if s == 429 {
                        self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                        let asked = retry::server_delay(&headers);
                        let told = asked.is_some() || fields.remaining.is_some_and(|r| !r.reset.is_zero());
                        self.throttle.throttled(fields, asked);
                        if retries_left {
                            tracing::debug!(
                                %method, path, rate = self.throttle.rate(), retry_after_ms = asked.map(|d| d.as_millis() as u64),
                                reset_s = fields.remaining.map(|r| r.reset.as_secs()), "Rate limited by OpenPhone; slowing down"
                            );
                            if !told {
                                self.sleep(retry::backoff(attempt)).await;
                            }
                            continue;
                        }
                        return Err(ApiError::Server { status: s, said });
                    }
                    self.throttle.answered(fields);
                    if status.is_redirection() {
                        let location = headers.get(reqwest::header::LOCATION).map_or_else(
                            || "nowhere (no Location header)".to_owned(),
                            |l| String::from_utf8_lossy(l.as_bytes()).escape_debug().to_string(),
                        );
                        tracing::warn!(%method, path, status = s, location = %location, "OpenPhone redirected; not followed");
                        return Err(ApiError::Redirected { status: s, location });
                    }
                    if status.is_server_error() {
                        if retries_left && replay == Replay::Safe {
                            let wait = retry::server_delay(&headers).unwrap_or_else(|| retry::backoff(attempt));
                            tracing::debug!(%method, path, status = s, wait_ms = wait.as_millis() as u64, "OpenPhone failed; retrying");
                            *maybe_applied_before = true;
                            self.sleep(wait).await;
                            continue;
                        }
                        return Err(ApiError::Server { status: s, said });
                    }
                    return Err(match s {
                        401 | 403 => ApiError::Unauthorized { status: s, said },
                        // The API answers a missing contact in JSON; a page or nothing means
                        // the path is not one of its routes.
                        404 if said.body != BodyKind::Json => {
                            ApiError::NoRoute { request: format!("{method} {}", shown_url(&url)), said }
                        }
                        404 => ApiError::NotFound { said },
                        409 => ApiError::Conflict { said },
                        _ => ApiError::Rejected { status: s, said },
                    });
                }
                Err(e) => {
                    // A connect error means the request never left: always safe to resend.
                    let maybe_applied = !e.is_connect();
                    let message = super::transport::describe(&e);
                    if retries_left && (!maybe_applied || replay == Replay::Safe) {
                        let wait = retry::backoff(attempt);
                        tracing::debug!(%method, path, error = %message, wait_ms = wait.as_millis() as u64, "No reply from OpenPhone; retrying");
                        *maybe_applied_before |= maybe_applied;
                        self.sleep(wait).await;
                        continue;
                    }
                    return Err(ApiError::Transport { message, maybe_applied });
                }
            }
        }
    }

    /// Sleeps before a retry, or less when the client is told to stop.
    async fn sleep(&self, d: Duration) {
        tokio::select! {
            () = self.stop.cancelled() => {}
            () = tokio::time::sleep(d) => {}
        }
    }

    /// Waits for the throttle (after 429s), then for the rate limiter.
    async fn wait_turn(&self) {
        self.throttle.wait().await;
        self.limiter.until_ready().await;
    }
}

/// Percent-encodes an id for a path segment.
fn encode(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>().replace('+', "%20")
}

/// The URL of a request as shown in an error: without its query (which holds externalIds).
fn shown_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.to_string()
}
