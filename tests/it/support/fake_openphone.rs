//! In-process, stateful fake of the OpenPhone contacts API (`/v1/contacts`, `/v1/contacts/{id}`,
//! `/v1/contact-custom-fields`) for tests and benchmarks: it owns auth, the rate limit, request
//! validation against the official OpenAPI spec, the workspace's contacts, a record of every
//! request, and fault injection (errors, lost replies, hangs, 429s).
//!
//! Like the live API (see `../shared/docs/openphone-api.md`, "The live API today"), errors
//! come in the live envelope `{"error": {"message", "key", "trace"}}` unless
//! [`ErrorEnvelope::Flat`] asks for the spec's flat one; a path that is no route answers an
//! HTML 404 page; and every answer carries the IETF RateLimit fields
//! (`ratelimit: "per-second";r=N;t=S`, `ratelimit-policy: "per-second";q=10;w=1`), counted
//! per API key: every connection and client presenting the same key draws from one window.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::serve::{IncomingStream, Listener};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Where the OpenAPI spec is read from; the env var `OPENPHONE_SPEC` overrides it when set.
pub(crate) const SPEC_PATH: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/openapi/openphone-public-api-v1.json");

#[derive(Clone, Debug)]
pub(crate) struct FakeOptions {
    pub api_key: String,
    pub latency: Duration,
    pub rate_limit: Option<RateLimit>,
    pub reject_duplicate_external_id: bool,
    pub patch_mode: PatchMode,
    pub custom_fields: Vec<CustomFieldDef>,
    /// How errors are shaped: the live envelope (default) or the spec's flat one.
    pub error_envelope: ErrorEnvelope,
    /// How `rate_limit` counts: one fixed window a second per key (default, as the live API's
    /// fields describe), or the older token bucket.
    pub limit_kind: LimitKind,
}

/// The body of an error answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorEnvelope {
    /// What the live API answers: `{"error": {"message": "...", "key": "Unauthorized",
    /// "trace": "..."}}` (a 400's problems joined into the message as `path: message; ...`).
    Live,
    /// The June 2025 spec's `{message, code, status, docs, title, errors?}`.
    Flat,
}

/// How the fake's rate limit counts requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LimitKind {
    /// `per_second` requests in each one-second window, per API key (the windows of a key
    /// follow one another from its first request); past them, 429 until the window ends.
    /// `burst` is not used. The fields say `r` = requests left in the window, `t` = whole
    /// seconds until it ends (rounded up).
    Window,
    /// A token bucket of `burst` tokens refilled at `per_second` (shared by every key);
    /// `r` = whole tokens left, `t` = seconds until the bucket is full again (rounded up).
    TokenBucket,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            api_key: "test-key-0123456789".to_string(),
            latency: Duration::ZERO,
            rate_limit: Some(RateLimit { per_second: 10, burst: 10, retry_after: false }),
            reject_duplicate_external_id: true,
            patch_mode: PatchMode::from_env(),
            custom_fields: Vec::new(),
            error_envelope: ErrorEnvelope::Live,
            limit_kind: LimitKind::Window,
        }
    }
}

impl PatchMode {
    /// [`PatchMode::Replace`], the live API's rule, unless `FAKE_PATCH_MODE=merge` asks for the
    /// June 2025 reading (`.ci/run` runs the sync, fault and drift tests under both).
    pub(crate) fn from_env() -> PatchMode {
        match std::env::var("FAKE_PATCH_MODE").as_deref() {
            Ok("merge") => PatchMode::Merge,
            Ok("replace") | Err(_) => PatchMode::Replace,
            Ok(other) => panic!("FAKE_PATCH_MODE={other:?}: expected replace or merge"),
        }
    }
}

/// The rate limit: `per_second` requests a second (the policy's `q`, with `w=1`), counted as
/// [`FakeOptions::limit_kind`] says (a window per key by default; a token bucket refilled at
/// `per_second` up to `burst`). When `retry_after` is true a 429 carries `Retry-After: 1` too
/// (the live API sends none).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
    pub retry_after: bool,
}

/// How a PATCH treats what its body leaves out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PatchMode {
    /// The live API today (the default): a PATCH replaces the contact. `emails`,
    /// `phoneNumbers` and `customFields` left out of the body are deleted, and so is every
    /// item or custom value a list sent leaves out; items sent with `id` keep that id. The
    /// live docs do not say whether left-out `defaultFields` scalars are cleared too; the fake
    /// takes the harsher reading and clears them.
    Replace,
    /// The June 2025 spec's reading: what a PATCH leaves out stays (items and values merge in).
    Merge,
}

/// The most `externalIds` the live API takes in one request; past it, its query parser turns
/// the repeated keys into an object and the API answers 400.
pub(crate) const MAX_EXTERNAL_IDS: usize = 20;

#[derive(Clone, Debug)]
pub(crate) struct CustomFieldDef {
    pub name: String,
    pub key: String,
    /// address|boolean|date|multi-select|number|string|url
    pub field_type: String,
}

#[derive(Clone, Debug)]
pub(crate) enum Fault {
    FailBeforeApply {
        status: u16,
    },
    FailAfterApply {
        status: u16,
    },
    LoseReplyAfterApply,
    HangBeforeApply,
    HangAfterApply,
    /// The connection is reset (TCP RST) before the request is applied.
    ResetBeforeApply,
    /// Applied, then the connection is reset instead of answered.
    ResetAfterApply,
    /// Applied, then answered with the right status and a body cut off mid-JSON.
    TruncatedReplyAfterApply,
    /// Not applied: a gateway's 502 with an HTML page for a body.
    GatewayPageBeforeApply,
    RateLimited {
        retry_after_secs: Option<u64>,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct FaultRule {
    pub method: Option<String>,
    pub path_prefix: Option<String>,
    pub fault: Fault,
    pub times: usize,
    pub probability: Option<f64>,
}

/// One request as received. `status` is 0 while it is in flight, and stays 0 when no response
/// was sent (lost reply, hang).
#[derive(Clone, Debug)]
pub(crate) struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    pub status: u16,
    pub authorized: bool,
    /// When it arrived (before the fake's latency).
    pub at: Instant,
}

struct Specs {
    post: jsonschema::Validator,
    patch: jsonschema::Validator,
    post_schema: Value,
    patch_schema: Value,
    date_time: jsonschema::Validator,
}

fn build_validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("fake_openphone: bad schema in spec: {e}"))
}

fn specs() -> &'static Specs {
    static SPECS: OnceLock<Specs> = OnceLock::new();
    SPECS.get_or_init(|| {
        let path = std::env::var("OPENPHONE_SPEC").unwrap_or_else(|_| SPEC_PATH.to_string());
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fake_openphone: cannot read spec {path}: {e}"));
        let doc: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("fake_openphone: spec {path} is not JSON: {e}"));
        let body = |p: &str, m: &str| {
            let s = &doc["paths"][p][m]["requestBody"]["content"]["application/json"]["schema"];
            assert!(s.is_object(), "fake_openphone: spec has no {m} {p} body schema");
            s.clone()
        };
        let post_schema = body("/v1/contacts", "post");
        let patch_schema = body("/v1/contacts/{id}", "patch");
        Specs {
            post: build_validator(&post_schema),
            patch: build_validator(&patch_schema),
            date_time: build_validator(&json!({"type": "string", "format": "date-time"})),
            post_schema,
            patch_schema,
        }
    })
}

/// What the spec's schema (formats included) says is wrong with a request body; empty when
/// it is valid. Schema only: not the custom-field keys or reserved sources the fake adds.
pub(crate) fn schema_violations(body: &Value, patch: bool) -> Vec<String> {
    let sp = specs();
    let validator = if patch { &sp.patch } else { &sp.post };
    validator.iter_errors(body).map(|e| format!("{}: {e}", e.instance_path().as_str())).collect()
}

/// The official spec, as JSON.
pub(crate) fn spec_document() -> Value {
    let path = std::env::var("OPENPHONE_SPEC").unwrap_or_else(|_| SPEC_PATH.to_string());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read spec {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("spec {path} is not JSON: {e}"))
}

struct Inner {
    api_key: String,
    latency: Duration,
    rate_limit: Option<RateLimit>,
    tokens: f64,
    /// The limits count in tokio's time (real time, or a paused test's time, as the client's
    /// pace does): a paused test's client must not meet a limit counted on the wall clock.
    refilled_at: tokio::time::Instant,
    reject_duplicate_external_id: bool,
    patch_mode: PatchMode,
    custom_fields: Vec<CustomFieldDef>,
    contacts: BTreeMap<String, Value>,
    requests: Vec<(u64, RecordedRequest)>,
    next_seq: u64,
    violations: Vec<String>,
    faults: Vec<FaultRule>,
    count_429: usize,
    last_ms: u64,
    error_envelope: ErrorEnvelope,
    limit_kind: LimitKind,
    /// Per API key (as presented): the start of its current window and the requests in it.
    windows: std::collections::HashMap<Vec<u8>, (tokio::time::Instant, u32)>,
    /// Draws for probabilistic faults; seeded by [`FakeOpenPhone::set_seed`].
    rng: rand::rngs::StdRng,
}

struct Shared {
    inner: Mutex<Inner>,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

pub(crate) struct FakeOpenPhone {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl FakeOpenPhone {
    /// Binds 127.0.0.1:0 and serves in a tokio task.
    pub(crate) async fn start(opts: FakeOptions) -> FakeOpenPhone {
        FakeOpenPhone::start_on(0, opts).await
    }

    /// Like [`FakeOpenPhone::start`], on a chosen port of 127.0.0.1 (0: any free port).
    pub(crate) async fn start_on(port: u16, opts: FakeOptions) -> FakeOpenPhone {
        specs();
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("fake_openphone: bind");
        let addr = listener.local_addr().expect("fake_openphone: local_addr");
        let (tx, rx) = watch::channel(false);
        let burst = opts.rate_limit.map_or(0.0, |r| f64::from(r.burst));
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                api_key: opts.api_key,
                latency: opts.latency,
                rate_limit: opts.rate_limit,
                tokens: burst,
                refilled_at: tokio::time::Instant::now(),
                reject_duplicate_external_id: opts.reject_duplicate_external_id,
                patch_mode: opts.patch_mode,
                custom_fields: opts.custom_fields,
                contacts: BTreeMap::new(),
                requests: Vec::new(),
                next_seq: 0,
                violations: Vec::new(),
                faults: Vec::new(),
                count_429: 0,
                last_ms: 0,
                error_envelope: opts.error_envelope,
                limit_kind: opts.limit_kind,
                windows: std::collections::HashMap::new(),
                rng: rand::SeedableRng::seed_from_u64(rand::random()),
            }),
            shutdown: tx,
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = FakeListener { inner: listener, shutdown: rx.clone() };
        let mut stop = rx;
        let task = tokio::spawn(async move {
            let make = app.into_make_service_with_connect_info::<ConnMeta>();
            let _ = axum::serve(listener, make)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|v| *v).await;
                })
                .await;
        });
        FakeOpenPhone { shared, addr, task: Mutex::new(Some(task)) }
    }

    /// "http://127.0.0.1:PORT", no trailing slash.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn api_key(&self) -> String {
        self.shared.lock().api_key.clone()
    }

    /// Every contact, API shape, sorted by createdAt then id.
    pub(crate) fn contacts(&self) -> Vec<Value> {
        sorted_contacts(&self.shared.lock()).into_iter().cloned().collect()
    }

    pub(crate) fn contacts_with_external_id(&self, external_id: &str) -> Vec<Value> {
        let st = self.shared.lock();
        sorted_contacts(&st).into_iter().filter(|c| c["externalId"].as_str() == Some(external_id)).cloned().collect()
    }

    /// Seeds a contact as if made in the app or by another tool, without validation. `contact`
    /// is in POST shape (may include `externalId`, `source`, even `id`); `source` defaults to
    /// null as for contacts made in the app. Returns the id.
    pub(crate) fn insert_contact(&self, contact: Value) -> String {
        let mut st = self.shared.lock();
        let c = build_contact(&mut st, &contact, Value::Null);
        let id = c["id"].as_str().unwrap_or_default().to_string();
        st.contacts.insert(id.clone(), c);
        id
    }

    /// Deleted in the app, behind the sync's back.
    pub(crate) fn remove_contact(&self, id: &str) {
        self.shared.lock().contacts.remove(id);
    }

    /// Edited in the app: `f` gets the API-shape contact. Email/phone items without `id` get one;
    /// `updatedAt` is bumped unless `f` set it.
    pub(crate) fn edit_contact(&self, id: &str, f: impl FnOnce(&mut Value)) {
        let mut st = self.shared.lock();
        let Some(mut c) = st.contacts.get(id).cloned() else {
            panic!("fake_openphone: edit_contact: no contact {id}");
        };
        let before = c["updatedAt"].clone();
        f(&mut c);
        for (list, prefix) in [("emails", "EM"), ("phoneNumbers", "PN")] {
            if let Some(items) = c["defaultFields"][list].as_array_mut() {
                for it in items.iter_mut().filter(|it| it.get("id").is_none()) {
                    it["id"] = json!(item_id(prefix));
                }
            }
        }
        if c["updatedAt"] == before {
            c["updatedAt"] = json!(now_ts(&mut st));
        }
        st.contacts.insert(id.to_string(), c);
    }

    /// Every request received, in order, including rejected ones.
    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.iter().map(|(_, r)| r.clone()).collect()
    }

    pub(crate) fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Every body/query that broke the spec, with the reason.
    pub(crate) fn spec_violations(&self) -> Vec<String> {
        self.shared.lock().violations.clone()
    }

    pub(crate) fn clear_spec_violations(&self) {
        self.shared.lock().violations.clear();
    }

    /// Rules are checked in the order added. A rule with `times == 0` and no probability is
    /// ignored.
    pub(crate) fn add_fault(&self, rule: FaultRule) {
        if rule.times > 0 || rule.probability.is_some() {
            self.shared.lock().faults.push(rule);
        }
    }

    /// Seeds the draws of probabilistic faults (the order of concurrent requests still varies).
    pub(crate) fn set_seed(&self, seed: u64) {
        self.shared.lock().rng = rand::SeedableRng::seed_from_u64(seed);
    }

    pub(crate) fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    pub(crate) fn set_latency(&self, d: Duration) {
        self.shared.lock().latency = d;
    }

    pub(crate) fn set_custom_fields(&self, defs: Vec<CustomFieldDef>) {
        self.shared.lock().custom_fields = defs;
    }

    /// Changes (or removes, with None) the rate limit; the bucket starts full.
    pub(crate) fn set_rate_limit(&self, rate_limit: Option<RateLimit>) {
        let mut st = self.shared.lock();
        st.tokens = rate_limit.map_or(0.0, |r| f64::from(r.burst));
        st.refilled_at = tokio::time::Instant::now();
        st.rate_limit = rate_limit;
        st.windows.clear();
    }

    pub(crate) fn set_error_envelope(&self, envelope: ErrorEnvelope) {
        self.shared.lock().error_envelope = envelope;
    }

    /// Changes how the rate limit counts; every window and the bucket start afresh.
    pub(crate) fn set_limit_kind(&self, kind: LimitKind) {
        let mut st = self.shared.lock();
        st.limit_kind = kind;
        st.windows.clear();
        st.tokens = st.rate_limit.map_or(0.0, |r| f64::from(r.burst));
        st.refilled_at = tokio::time::Instant::now();
    }

    pub(crate) fn set_patch_mode(&self, mode: PatchMode) {
        self.shared.lock().patch_mode = mode;
    }

    pub(crate) fn set_reject_duplicate_external_id(&self, reject: bool) {
        self.shared.lock().reject_duplicate_external_id = reject;
    }

    /// Every 429 answered, by the rate limit or by a `Fault::RateLimited`.
    pub(crate) fn count_429(&self) -> usize {
        self.shared.lock().count_429
    }

    /// Stops accepting, drops every open connection and ends hung requests (unanswered).
    pub(crate) fn shutdown(&self) {
        let _ = self.shared.shutdown.send(true);
        if let Some(task) = self.task.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            task.abort();
        }
    }
}

impl Drop for FakeOpenPhone {
    fn drop(&mut self) {
        self.shutdown();
    }
}

// ---------- connections: a listener whose streams can be dropped from a handler ----------

struct FakeListener {
    inner: TcpListener,
    shutdown: watch::Receiver<bool>,
}

impl Listener for FakeListener {
    type Io = FakeIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (FakeIo, SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok((tcp, addr)) => {
                    let _ = tcp.set_nodelay(true);
                    let mut rx = self.shutdown.clone();
                    let down = Box::pin(async move {
                        let _ = rx.wait_for(|v| *v).await;
                    });
                    let kill = Arc::new(AtomicBool::new(false));
                    let reset = Arc::new(AtomicBool::new(false));
                    return (FakeIo { tcp, kill, reset, down, dead: false }, addr);
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A TCP stream that fails every read and write once its connection is killed (lost reply)
/// or the fake shuts down, so hyper drops it without writing anything more; when `reset`
/// is set too, the close is a TCP RST instead of a FIN.
struct FakeIo {
    tcp: TcpStream,
    kill: Arc<AtomicBool>,
    reset: Arc<AtomicBool>,
    down: Pin<Box<dyn Future<Output = ()> + Send>>,
    dead: bool,
}

impl FakeIo {
    fn poll_dead(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.dead && (self.kill.load(Ordering::SeqCst) || self.down.as_mut().poll(cx).is_ready()) {
            self.dead = true;
            if self.reset.load(Ordering::SeqCst) {
                let _ = self.tcp.set_zero_linger();
            }
        }
        self.dead
    }
}

fn dropped() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "fake_openphone: connection dropped")
}

impl AsyncRead for FakeIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.poll_dead(cx) {
            return Poll::Ready(Err(dropped()));
        }
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for FakeIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.poll_dead(cx) {
            return Poll::Ready(Err(dropped()));
        }
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.poll_dead(cx) {
            return Poll::Ready(Err(dropped()));
        }
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.dead {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

#[derive(Clone)]
struct ConnMeta {
    kill: Arc<AtomicBool>,
    reset: Arc<AtomicBool>,
}

impl Connected<IncomingStream<'_, FakeListener>> for ConnMeta {
    fn connect_info(stream: IncomingStream<'_, FakeListener>) -> Self {
        ConnMeta { kill: stream.io().kill.clone(), reset: stream.io().reset.clone() }
    }
}

// ---------- request handling ----------

type Reply = (StatusCode, Option<Value>, Option<u64>);

async fn handle(State(sh): State<Arc<Shared>>, ConnectInfo(conn): ConnectInfo<ConnMeta>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 16 << 20).await.unwrap_or_default();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let query = parse_query(parts.uri.query().unwrap_or(""));
    let body: Option<Result<Value, String>> =
        (!bytes.is_empty()).then(|| serde_json::from_slice(&bytes).map_err(|e| format!("body is not JSON: {e}")));
    let recorded_body = body.as_ref().map(|b| match b {
        Ok(v) => v.clone(),
        Err(_) => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
    });
    let auth = parts.headers.get(header::AUTHORIZATION).map(|v| v.as_bytes().to_vec());
    let (seq, latency, authorized) = {
        let mut st = sh.lock();
        let authorized = auth.as_deref() == Some(st.api_key.as_bytes());
        let seq = st.next_seq;
        st.next_seq += 1;
        let rec = RecordedRequest {
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            body: recorded_body,
            status: 0,
            authorized,
            at: Instant::now(),
        };
        st.requests.push((seq, rec));
        (seq, st.latency, authorized)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (refused, mut fields) = rate_check(&sh, auth.as_deref().unwrap_or_default(), authorized);
    let reply: Option<Reply> = if !authorized {
        Some(error_reply(401, &path, "Unauthorized", Vec::new()))
    } else if let Some(r) = refused {
        Some(r)
    } else if !is_route(&method, &path) {
        return not_a_route(&sh, seq, &method, &path, fields);
    } else {
        let fault = take_fault(&mut sh.lock(), &method, &path);
        if let (Some(Fault::RateLimited { retry_after_secs }), Some(f)) = (&fault, fields.as_mut()) {
            (f.remaining, f.reset_secs) = (0, retry_after_secs.unwrap_or(1));
        }
        let apply = || route(&sh, &method, &path, &query, body.as_ref());
        match fault {
            None => Some(apply()),
            Some(Fault::FailBeforeApply { status }) => Some(error_reply(status, &path, "", vec![])),
            Some(Fault::FailAfterApply { status }) => {
                apply();
                Some(error_reply(status, &path, "", vec![]))
            }
            Some(Fault::RateLimited { retry_after_secs }) => Some(rate_limited(retry_after_secs)),
            Some(Fault::LoseReplyAfterApply) => {
                apply();
                None
            }
            Some(Fault::HangBeforeApply) => {
                hang(&sh).await;
                None
            }
            Some(Fault::HangAfterApply) => {
                apply();
                hang(&sh).await;
                None
            }
            Some(Fault::TruncatedReplyAfterApply) => {
                let (status, body, _) = apply();
                let text = body.map(|b| b.to_string()).unwrap_or_default();
                let mut resp = raw_reply(&sh, seq, status, text[..text.len() / 2].to_owned(), "application/json");
                add_limit_fields(&mut resp, fields);
                return resp;
            }
            Some(Fault::GatewayPageBeforeApply) => {
                let page = "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>";
                return raw_reply(&sh, seq, StatusCode::BAD_GATEWAY, page.to_owned(), "text/html");
            }
            Some(Fault::ResetBeforeApply) => {
                conn.reset.store(true, Ordering::SeqCst);
                None
            }
            Some(Fault::ResetAfterApply) => {
                apply();
                conn.reset.store(true, Ordering::SeqCst);
                None
            }
        }
    };
    let Some((status, mut json, retry_after)) = reply else {
        // No response: fail the connection's IO so hyper closes it without writing anything.
        conn.kill.store(true, Ordering::SeqCst);
        return Response::new(Body::empty());
    };
    {
        let mut st = sh.lock();
        if status == StatusCode::TOO_MANY_REQUESTS {
            st.count_429 += 1;
        }
        if let Some((_, r)) = st.requests.iter_mut().find(|(s, _)| *s == seq) {
            r.status = status.as_u16();
        }
    }
    if status.as_u16() >= 400 && sh.lock().error_envelope == ErrorEnvelope::Live {
        json = json.map(|flat| live_envelope(status, &flat));
    }
    let mut resp = match json {
        Some(v) => Response::new(Body::from(v.to_string())),
        None => Response::new(Body::empty()),
    };
    *resp.status_mut() = status;
    if resp.status() != StatusCode::NO_CONTENT {
        let ct = HeaderValue::from_static("application/json; charset=utf-8");
        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    if let Some(secs) = retry_after {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    add_limit_fields(&mut resp, fields);
    resp
}

/// The IETF RateLimit fields of one answer: `remaining` (r) requests left in the window,
/// `reset_secs` (t) until it ends, of a quota of `quota` (q) a second.
#[derive(Clone, Copy, Debug)]
struct LimitFields {
    remaining: u32,
    reset_secs: u64,
    quota: u32,
}

fn add_limit_fields(resp: &mut Response, fields: Option<LimitFields>) {
    let Some(f) = fields else { return };
    let limit = format!("\"per-second\";r={};t={}", f.remaining, f.reset_secs);
    let policy = format!("\"per-second\";q={};w=1", f.quota);
    for (name, value) in [("ratelimit", limit), ("ratelimit-policy", policy)] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
}

/// Counts a request against its key's limit: a 429 to answer instead (authorized requests
/// only), and the fields every answer carries (none when the fake has no limit).
fn rate_check(sh: &Shared, key: &[u8], authorized: bool) -> (Option<Reply>, Option<LimitFields>) {
    let Some(rl) = sh.lock().rate_limit else {
        return (None, None);
    };
    if sh.lock().limit_kind == LimitKind::TokenBucket {
        let refused = if authorized { take_token(sh) } else { None };
        let st = sh.lock();
        let missing = f64::from(rl.burst) - st.tokens;
        let reset_secs = (missing / f64::from(rl.per_second.max(1))).ceil().max(0.0) as u64;
        let fields = LimitFields { remaining: st.tokens.max(0.0) as u32, reset_secs, quota: rl.per_second };
        return (refused, Some(fields));
    }
    let mut st = sh.lock();
    let now = tokio::time::Instant::now();
    let second = Duration::from_secs(1);
    let (start, used) = st.windows.entry(key.to_vec()).or_insert((now, 0));
    let passed = now.duration_since(*start);
    if passed >= second {
        *start += second * passed.as_secs() as u32;
        *used = 0;
    }
    *used += 1;
    let remaining = rl.per_second.saturating_sub(*used);
    let over = *used > rl.per_second;
    let reset_secs = (*start + second).duration_since(now).as_secs_f64().ceil().max(1.0) as u64;
    let fields = LimitFields { remaining, reset_secs, quota: rl.per_second };
    let refused = (over && authorized).then(|| rate_limited(rl.retry_after.then_some(1)));
    (refused, Some(fields))
}

/// Whether a method and path are one of the API's routes.
fn is_route(method: &str, path: &str) -> bool {
    let id = path.strip_prefix("/v1/contacts/").filter(|s| !s.is_empty() && !s.contains('/'));
    matches!((method, path), ("GET", "/v1/contact-custom-fields") | ("POST" | "GET", "/v1/contacts"))
        || (id.is_some() && matches!(method, "GET" | "PATCH" | "DELETE"))
}

/// What the live API answers for a path that is no route: the web framework's HTML 404.
fn not_a_route(sh: &Shared, seq: u64, method: &str, path: &str, fields: Option<LimitFields>) -> Response {
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot {method} {path}</pre>\n</body>\n</html>\n"
    );
    let mut resp = raw_reply(sh, seq, StatusCode::NOT_FOUND, page, "text/html; charset=utf-8");
    add_limit_fields(&mut resp, fields);
    resp
}

/// The live envelope of a flat error body: `{"error": {"message", "key", "trace"}}`.
fn live_envelope(status: StatusCode, flat: &Value) -> Value {
    let problems: Vec<String> = flat["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| format!("{}: {}", e["path"].as_str().unwrap_or(""), e["message"].as_str().unwrap_or("")))
        .collect();
    let message =
        if problems.is_empty() { flat["message"].as_str().unwrap_or("").to_owned() } else { problems.join("; ") };
    let key: String = status.canonical_reason().unwrap_or("Error").split_whitespace().collect();
    let trace = format!("{:016x}{:016x}", rand::random::<u64>(), rand::random::<u64>());
    json!({"error": {"message": message, "key": key, "trace": trace}})
}

/// A reply with a raw body, recorded like any other.
fn raw_reply(sh: &Shared, seq: u64, status: StatusCode, body: String, content_type: &'static str) -> Response {
    if let Some((_, r)) = sh.lock().requests.iter_mut().find(|(s, _)| *s == seq) {
        r.status = status.as_u16();
    }
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

async fn hang(sh: &Shared) {
    let mut down = sh.shutdown.subscribe();
    tokio::select! {
        () = tokio::time::sleep(Duration::from_hours(1)) => {}
        _ = down.wait_for(|v| *v) => {}
    }
}

fn take_token(sh: &Shared) -> Option<Reply> {
    let mut st = sh.lock();
    let rl = st.rate_limit?;
    let now = tokio::time::Instant::now();
    let elapsed = now.duration_since(st.refilled_at).as_secs_f64();
    st.tokens = (st.tokens + elapsed * f64::from(rl.per_second)).min(f64::from(rl.burst));
    st.refilled_at = now;
    if st.tokens >= 1.0 {
        st.tokens -= 1.0;
        None
    } else {
        Some(rate_limited(rl.retry_after.then_some(1)))
    }
}

fn rate_limited(retry_after: Option<u64>) -> Reply {
    let body = json!({"message": "API rate limit exceeded"});
    (StatusCode::TOO_MANY_REQUESTS, Some(body), retry_after)
}

fn take_fault(st: &mut Inner, method: &str, path: &str) -> Option<Fault> {
    let mut i = 0;
    while i < st.faults.len() {
        let r = &st.faults[i];
        let method_ok = r.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method));
        let path_ok = r.path_prefix.as_deref().is_none_or(|p| path.starts_with(p));
        if method_ok && path_ok {
            if let Some(p) = r.probability {
                if rand::Rng::random::<f64>(&mut st.rng) < p {
                    return Some(r.fault.clone());
                }
            } else if r.times > 0 {
                let fault = r.fault.clone();
                st.faults[i].times -= 1;
                if st.faults[i].times == 0 {
                    st.faults.remove(i);
                }
                return Some(fault);
            }
        }
        i += 1;
    }
    None
}

fn error_reply(status: u16, path: &str, message: &str, errors: Vec<Value>) -> Reply {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let title = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        500 => "Unknown",
        _ => code.canonical_reason().unwrap_or("Unknown"),
    };
    let area = if path.starts_with("/v1/contact-custom-fields") { "07" } else { "08" };
    let sub = if matches!(status, 401 | 404 | 409) { "00" } else { "01" };
    let message = if message.is_empty() { title } else { message };
    let mut body = json!({
        "message": message,
        "code": format!("{area}{sub}{status}"),
        "status": status,
        "docs": "https://openphone.com/docs",
        "title": title,
    });
    if !errors.is_empty() || status == 400 {
        body["errors"] = Value::Array(errors);
        body["description"] = json!(title);
    }
    (code, Some(body), None)
}

fn route(
    sh: &Shared,
    method: &str,
    path: &str,
    query: &[(String, String)],
    body: Option<&Result<Value, String>>,
) -> Reply {
    let mut st = sh.lock();
    let st = &mut *st;
    let id = path.strip_prefix("/v1/contacts/").filter(|s| !s.is_empty() && !s.contains('/'));
    let json_body = || match body {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(e.clone()),
        None => Err("a JSON body is required".to_string()),
    };
    match (method, path, id) {
        ("GET", "/v1/contact-custom-fields", _) => {
            let data: Vec<Value> =
                st.custom_fields.iter().map(|d| json!({"name": d.name, "key": d.key, "type": d.field_type})).collect();
            (StatusCode::OK, Some(json!({"data": data})), None)
        }
        ("POST", "/v1/contacts", _) => match json_body() {
            Ok(b) => create(st, method, path, b),
            Err(e) => bad_request(st, method, path, vec![problem("", &e, "object")]),
        },
        ("GET", "/v1/contacts", _) => list(st, method, path, query),
        ("GET", _, Some(id)) => match st.contacts.get(id) {
            Some(c) => (StatusCode::OK, Some(json!({"data": c})), None),
            None => error_reply(404, path, "Contact not found", vec![]),
        },
        ("PATCH", _, Some(id)) => match json_body() {
            Ok(b) => patch(st, method, path, id, b),
            Err(e) => bad_request(st, method, path, vec![problem("", &e, "object")]),
        },
        ("DELETE", _, Some(id)) => match st.contacts.remove(id) {
            Some(_) => (StatusCode::NO_CONTENT, None, None),
            None => error_reply(404, path, "Contact not found", vec![]),
        },
        _ => error_reply(404, path, "Not Found", vec![]),
    }
}

fn problem(path: &str, message: &str, ty: &str) -> Value {
    json!({"path": path, "message": message, "schema": {"type": ty}})
}

fn bad_request(st: &mut Inner, method: &str, path: &str, errors: Vec<Value>) -> Reply {
    for e in &errors {
        let at = e["path"].as_str().unwrap_or("");
        let msg = e["message"].as_str().unwrap_or("");
        st.violations.push(format!("{method} {path}: {at}: {msg}"));
    }
    let first = errors.first().and_then(|e| e["message"].as_str()).unwrap_or("Bad Request");
    let message = first.to_string();
    error_reply(400, path, &message, errors)
}

/// Schema errors plus what the schema cannot say.
fn check_body(st: &Inner, body: &Value, patch: bool) -> Vec<Value> {
    let sp = specs();
    let (validator, schema) = if patch { (&sp.patch, &sp.patch_schema) } else { (&sp.post, &sp.post_schema) };
    let mut errs: Vec<Value> = validator
        .iter_errors(body)
        .map(|e| {
            let sp_path = e.schema_path().as_str().to_string();
            let parent = sp_path.rsplit_once('/').map_or("", |(p, _)| p);
            let node = schema.pointer(parent).unwrap_or(&Value::Null);
            problem(e.instance_path().as_str(), &e.to_string(), &schema_type(node))
        })
        .collect();
    if let Some(source) = body.get("source").and_then(Value::as_str) {
        let s = source.to_ascii_lowercase();
        let reserved = ["openphone", "device", "csv", "zapier", "google-people", "other"];
        if reserved.contains(&s.as_str()) || s.starts_with("openphone") || s.starts_with("csv") {
            let msg = format!("source {source:?} is a reserved word or starts with a reserved prefix");
            errs.push(problem("/source", &msg, "string"));
        }
    }
    let df = &body["defaultFields"];
    for (i, it) in df["emails"].as_array().into_iter().flatten().enumerate() {
        if let Some(v) = it["value"].as_str().filter(|v| !v.contains('@')) {
            let msg = format!("{v:?} is not an email address");
            errs.push(problem(&format!("/defaultFields/emails/{i}/value"), &msg, "string"));
        }
    }
    for (i, it) in df["phoneNumbers"].as_array().into_iter().flatten().enumerate() {
        if let Some(v) = it["value"].as_str().filter(|v| !is_e164(v)) {
            let msg = format!("{v:?} is not an E.164 phone number");
            errs.push(problem(&format!("/defaultFields/phoneNumbers/{i}/value"), &msg, "string"));
        }
    }
    for (i, it) in body["customFields"].as_array().into_iter().flatten().enumerate() {
        let at = format!("/customFields/{i}");
        let Some(key) = it["key"].as_str().or_else(|| it["id"].as_str()) else {
            errs.push(problem(&at, "custom field item has no key", "object"));
            continue;
        };
        let Some(def) = st.custom_fields.iter().find(|d| d.key == key) else {
            errs.push(problem(&format!("{at}/key"), &format!("unknown custom field key {key:?}"), "string"));
            continue;
        };
        let v = &it["value"];
        let ok = v.is_null()
            || match def.field_type.as_str() {
                "multi-select" => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
                "address" | "string" | "url" => v.is_string(),
                "boolean" => v.is_boolean(),
                "date" => v.is_string() && specs().date_time.is_valid(v),
                "number" => v.is_number(),
                _ => true,
            };
        if !ok {
            let msg = format!("value {v} does not fit custom field {key:?} of type {}", def.field_type);
            errs.push(problem(&format!("{at}/value"), &msg, &def.field_type));
        }
    }
    errs
}

/// The `type` of a schema node, or of its `anyOf` alternatives joined with `|`.
fn schema_type(node: &Value) -> String {
    if let Some(t) = node["type"].as_str() {
        return t.to_string();
    }
    let alts: Vec<&str> = node["anyOf"].as_array().into_iter().flatten().filter_map(|a| a["type"].as_str()).collect();
    if alts.is_empty() { "unknown".to_string() } else { alts.join("|") }
}

fn is_e164(v: &str) -> bool {
    let Some(digits) = v.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

fn create(st: &mut Inner, method: &str, path: &str, body: &Value) -> Reply {
    let errs = check_body(st, body, false);
    if !errs.is_empty() {
        return bad_request(st, method, path, errs);
    }
    if let Some(ext) = body["externalId"].as_str()
        && st.reject_duplicate_external_id
        && st.contacts.values().any(|c| c["externalId"].as_str() == Some(ext))
    {
        let msg = format!("A contact with externalId {ext:?} already exists");
        return error_reply(409, path, &msg, vec![]);
    }
    let c = build_contact(st, body, json!("public-api"));
    st.contacts.insert(c["id"].as_str().unwrap_or_default().to_string(), c.clone());
    (StatusCode::CREATED, Some(json!({"data": c})), None)
}

fn build_contact(st: &mut Inner, body: &Value, default_source: Value) -> Value {
    let id = match body.get("id").and_then(Value::as_str) {
        Some(id) => id.to_string(),
        None => loop {
            let id = format!("{:08x}{:016x}", rand::random::<u32>(), rand::random::<u64>());
            if !st.contacts.contains_key(&id) {
                break id;
            }
        },
    };
    let df = &body["defaultFields"];
    let mut fields = Map::new();
    for k in ["firstName", "lastName", "company", "role"] {
        fields.insert(k.to_string(), df.get(k).cloned().unwrap_or(Value::Null));
    }
    for (list, prefix) in [("emails", "EM"), ("phoneNumbers", "PN")] {
        let items: Vec<Value> = df[list]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|it| !it["value"].is_null())
            .map(|it| {
                let id = it["id"].as_str().map_or_else(|| item_id(prefix), str::to_string);
                json!({"name": it["name"], "value": it["value"], "id": id})
            })
            .collect();
        fields.insert(list.to_string(), Value::Array(items));
    }
    let custom: Vec<Value> = body["customFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|it| !it["value"].is_null())
        .filter_map(|it| {
            let key = it["key"].as_str().or_else(|| it["id"].as_str())?;
            Some(custom_value(st, key, &it["value"]))
        })
        .collect();
    let ts = now_ts(st);
    let field = |k: &str, dflt: Value| body.get(k).cloned().unwrap_or(dflt);
    json!({
        "id": id,
        "externalId": field("externalId", Value::Null),
        "source": field("source", default_source),
        "sourceUrl": field("sourceUrl", Value::Null),
        "defaultFields": fields,
        "customFields": custom,
        "createdAt": ts,
        "updatedAt": ts,
        "createdByUserId": "US0000fake",
    })
}

fn custom_value(st: &Inner, key: &str, value: &Value) -> Value {
    let (name, ty) = if let Some(d) = st.custom_fields.iter().find(|d| d.key == key) {
        (d.name.clone(), d.field_type.clone())
    } else {
        let ty = match value {
            Value::Array(_) => "multi-select",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            _ => "string",
        };
        (key.to_string(), ty.to_string())
    };
    json!({"name": name, "key": key, "id": key, "type": ty, "value": value})
}

fn patch(st: &mut Inner, method: &str, path: &str, id: &str, body: &Value) -> Reply {
    let errs = check_body(st, body, true);
    if !errs.is_empty() {
        return bad_request(st, method, path, errs);
    }
    let Some(mut c) = st.contacts.get(id).cloned() else {
        return error_reply(404, path, "Contact not found", vec![]);
    };
    let replace = st.patch_mode == PatchMode::Replace;
    for k in ["externalId", "source", "sourceUrl"] {
        if let Some(v) = body.get(k) {
            c[k] = v.clone();
        }
    }
    let df = body.get("defaultFields").and_then(Value::as_object);
    for k in ["firstName", "lastName", "company", "role"] {
        match df.and_then(|df| df.get(k)) {
            Some(v) => c["defaultFields"][k] = v.clone(),
            None if replace => c["defaultFields"][k] = Value::Null,
            None => {}
        }
    }
    for (list, prefix) in [("emails", "EM"), ("phoneNumbers", "PN")] {
        let old = c["defaultFields"][list].as_array().cloned().unwrap_or_default();
        let items = match df.and_then(|df| df.get(list)).and_then(Value::as_array) {
            Some(items) => items.clone(),
            None if replace => Vec::new(),
            None => continue,
        };
        match merge_items(&old, &items, st.patch_mode, prefix) {
            Ok(new) => c["defaultFields"][list] = Value::Array(new),
            Err(e) => {
                let at = format!("/defaultFields/{list}/{}/id", e.0);
                return bad_request(st, method, path, vec![problem(&at, &e.1, "string")]);
            }
        }
    }
    let sent = body["customFields"].as_array();
    let mut custom: Vec<Value> =
        if replace { Vec::new() } else { c["customFields"].as_array().cloned().unwrap_or_default() };
    for it in sent.into_iter().flatten() {
        let Some(key) = it["key"].as_str().or_else(|| it["id"].as_str()) else {
            continue;
        };
        custom.retain(|x| x["key"].as_str() != Some(key));
        if !it["value"].is_null() {
            custom.push(custom_value(st, key, &it["value"]));
        }
    }
    c["customFields"] = Value::Array(custom);
    c["updatedAt"] = json!(now_ts(st));
    st.contacts.insert(id.to_string(), c.clone());
    (StatusCode::OK, Some(json!({"data": c})), None)
}

/// Applies a PATCH `emails`/`phoneNumbers` array. Err((index, message)) for an unknown item id.
fn merge_items(old: &[Value], patch: &[Value], mode: PatchMode, prefix: &str) -> Result<Vec<Value>, (usize, String)> {
    let mut out: Vec<Value> = if mode == PatchMode::Merge { old.to_vec() } else { Vec::new() };
    for (i, it) in patch.iter().enumerate() {
        let value = &it["value"];
        let Some(iid) = it["id"].as_str() else {
            if !value.is_null() {
                out.push(json!({"name": it["name"], "value": value, "id": item_id(prefix)}));
            }
            continue;
        };
        let Some(prev) = old.iter().find(|o| o["id"].as_str() == Some(iid)) else {
            return Err((i, format!("no item with id {iid:?} on this contact")));
        };
        if value.is_null() {
            out.retain(|o| o["id"].as_str() != Some(iid));
            continue;
        }
        let name = if it["name"].is_null() { prev["name"].clone() } else { it["name"].clone() };
        let item = json!({"name": name, "value": value, "id": iid});
        match out.iter_mut().find(|o| o["id"].as_str() == Some(iid)) {
            Some(o) => *o = item,
            None => out.push(item),
        }
    }
    Ok(out)
}

fn list(st: &mut Inner, method: &str, path: &str, query: &[(String, String)]) -> Reply {
    let mut errs = Vec::new();
    let (mut ext, mut sources) = (Vec::new(), Vec::new());
    let (mut max, mut token) = (None, None);
    for (k, v) in query {
        match k.as_str() {
            "externalIds" | "sources" => {
                if !(1..=75).contains(&v.chars().count()) {
                    let msg = format!("{k} item {v:?} must be 1..75 characters");
                    errs.push(problem(&format!("/{k}"), &msg, "string"));
                }
                if k == "externalIds" { ext.push(v.as_str()) } else { sources.push(v.as_str()) }
            }
            "maxResults" => match v.parse::<u32>() {
                Ok(n) if (1..=50).contains(&n) && max.is_none() => max = Some(n as usize),
                _ => {
                    errs.push(problem(
                        "/maxResults",
                        &format!("maxResults {v:?} must be one integer 1..50"),
                        "integer",
                    ));
                }
            },
            "pageToken" => token = Some(v.as_str()),
            _ => errs.push(problem(&format!("/{k}"), &format!("unknown query parameter {k:?}"), "string")),
        }
    }
    // The live API: past 20 repeated keys its query parser makes an object of them (400);
    // without externalIds it lists every contact of the workspace, paged.
    if ext.len() > MAX_EXTERNAL_IDS {
        errs.push(problem("/externalIds", "Expected array, received object", "array"));
    }
    if max.is_none() && !query.iter().any(|(k, _)| k == "maxResults") {
        errs.push(problem("/maxResults", "maxResults is required", "integer"));
    }
    let offset = match token.map(|t| t.strip_prefix("page-").and_then(|n| n.parse::<usize>().ok())) {
        None => 0,
        Some(Some(n)) => n,
        Some(None) => {
            errs.push(problem("/pageToken", "invalid pageToken", "string"));
            0
        }
    };
    if !errs.is_empty() {
        return bad_request(st, method, path, errs);
    }
    let max = max.unwrap_or(10);
    let found: Vec<&Value> = sorted_contacts(st)
        .into_iter()
        .filter(|c| ext.is_empty() || c["externalId"].as_str().is_some_and(|e| ext.contains(&e)))
        .filter(|c| sources.is_empty() || c["source"].as_str().is_some_and(|s| sources.contains(&s)))
        .collect();
    let page: Vec<&Value> = found.iter().skip(offset).take(max).copied().collect();
    let next = (offset + max < found.len()).then(|| format!("page-{}", offset + max));
    let body = json!({"data": page, "totalItems": found.len(), "nextPageToken": next});
    (StatusCode::OK, Some(body), None)
}

fn sorted_contacts(st: &Inner) -> Vec<&Value> {
    let mut all: Vec<&Value> = st.contacts.values().collect();
    all.sort_by(|a, b| {
        let key =
            |c: &Value| (c["createdAt"].as_str().unwrap_or("").to_string(), c["id"].as_str().unwrap_or("").to_string());
        key(a).cmp(&key(b))
    });
    all
}

fn item_id(prefix: &str) -> String {
    format!("{prefix}{:08x}", rand::random::<u32>())
}

/// A strictly increasing RFC 3339 UTC timestamp with milliseconds.
fn now_ts(st: &mut Inner) -> String {
    let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    st.last_ms = wall.max(st.last_ms + 1);
    rfc3339(st.last_ms)
}

fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil-from-days (Howard Hinnant).
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, mi, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z", ms % 1000)
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (pct_decode(k), pct_decode(v))
        })
        .collect()
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() && hex(b[i + 1]).is_some() && hex(b[i + 2]).is_some() => {
                out.push(hex(b[i + 1]).unwrap_or(0) * 16 + hex(b[i + 2]).unwrap_or(0));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
