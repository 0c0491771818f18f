//! In-process fake of the two Google endpoints the Sheets source uses: the OAuth token endpoint
//! (the service-account JWT grant, verified the way Google does: RS256 signature against the
//! account's public key, `aud` = the token URI, `iss` = the account; the scope must be exactly
//! `spreadsheets.readonly`) and the Sheets API v4 (`spreadsheets.get`, `values.get`,
//! `values.batchGet`) over typed cells, with Google-shaped errors (401, 403, 404, 400 "Unable to
//! parse range", 503 on demand). Written apart from the product's code: it parses A1 itself.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The only scope the fake grants.
pub(crate) const SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets.readonly";
/// The test service account.
pub(crate) const CLIENT_EMAIL: &str = "openphone-sync@test-project.iam.gserviceaccount.com";
/// Its private key (test-only, see tests/fixtures/google/README.md).
pub(crate) const TEST_KEY_PEM: &str = include_str!("../../fixtures/google/test-key.pem");
/// A key the fake does not know: its grants fail the signature check.
pub(crate) const OTHER_KEY_PEM: &str = include_str!("../../fixtures/google/other-test-key.pem");
const TEST_PUBLIC_KEY: &[u8] = include_bytes!("../../fixtures/google/test-key.pub.der");

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Base64url with or without padding, as Google's token endpoint accepts it.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One cell as a Sheets user typed it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A date/time cell: its serial number, and how its format shows it.
    Date {
        serial: f64,
        shown: String,
    },
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        if s.is_empty() { Cell::Empty } else { Cell::Text(s.to_owned()) }
    }
}

/// Text cells from strings ("" is an empty cell).
pub(crate) fn text_row(cells: &[&str]) -> Vec<Cell> {
    cells.iter().map(|c| Cell::from(*c)).collect()
}

/// A tab: its id (the `gid`), title and cells (row 1 first).
#[derive(Clone, Debug)]
pub(crate) struct Tab {
    pub sheet_id: i64,
    pub title: String,
    pub rows: Vec<Vec<Cell>>,
}

impl Tab {
    pub(crate) fn new(sheet_id: i64, title: &str, rows: Vec<Vec<Cell>>) -> Tab {
        Tab { sheet_id, title: title.to_owned(), rows }
    }

    /// The grid's size: at least 1000 rows and 26 columns, as a new sheet has.
    fn grid(&self) -> (usize, usize) {
        (self.rows.len().max(1000), self.rows.iter().map(Vec::len).max().unwrap_or(0).max(26))
    }
}

#[derive(Debug)]
struct Spreadsheet {
    tabs: Vec<Tab>,
    readers: HashSet<String>,
}

/// One Sheets API request as received.
#[derive(Clone, Debug)]
pub(crate) struct SheetsRequest {
    pub method: String,
    /// Decoded: `/v4/spreadsheets/ID/values/Contacts!A1:Z`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub status: u16,
    /// The size of the reply body.
    pub bytes: usize,
}

/// One JWT grant the token endpoint saw, with what it answered.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    /// The signed JWT as sent: a credential that must never show in a log.
    pub assertion: String,
    pub claims: Value,
    pub signature_ok: bool,
    pub status: u16,
}

#[derive(Default)]
struct Inner {
    token_uri: String,
    accounts: HashMap<String, Vec<u8>>,
    tokens: HashMap<String, String>,
    spreadsheets: HashMap<String, Spreadsheet>,
    requests: Vec<SheetsRequest>,
    /// Sheets API requests received, answered or not (still waiting out the latency).
    received: usize,
    grants: Vec<Grant>,
    fail_next: Vec<u16>,
    latency: std::time::Duration,
}

pub(crate) struct FakeGoogle {
    inner: Arc<Mutex<Inner>>,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl FakeGoogle {
    /// Serves on 127.0.0.1 (any free port), knowing the test service account.
    pub(crate) async fn start() -> FakeGoogle {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("fake_google: bind");
        let addr = listener.local_addr().expect("fake_google: local_addr");
        let inner = Arc::new(Mutex::new(Inner { token_uri: format!("http://{addr}/token"), ..Inner::default() }));
        lock(&inner).accounts.insert(CLIENT_EMAIL.to_owned(), TEST_PUBLIC_KEY.to_vec());
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeGoogle { inner, addr, task }
    }

    /// The `token_uri` a key file should name.
    pub(crate) fn token_uri(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The `api_base_url` to configure ("http://127.0.0.1:PORT/").
    pub(crate) fn api_base_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// A service-account key file holding `pem`, for `client_email`, with this fake as token_uri.
    pub(crate) fn key_json(&self, pem: &str, client_email: &str) -> String {
        json!({
            "type": "service_account",
            "project_id": "test-project",
            "private_key_id": "0123456789abcdef",
            "private_key": pem,
            "client_email": client_email,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri(),
        })
        .to_string()
    }

    /// Adds (or replaces) a spreadsheet, shared with the test service account.
    pub(crate) fn add_spreadsheet(&self, id: &str, tabs: Vec<Tab>) {
        let readers = HashSet::from([CLIENT_EMAIL.to_owned()]);
        self.lock().spreadsheets.insert(id.to_owned(), Spreadsheet { tabs, readers });
    }

    /// Replaces the cells of a tab.
    pub(crate) fn set_rows(&self, id: &str, title: &str, rows: Vec<Vec<Cell>>) {
        let mut inner = self.lock();
        let ss = inner.spreadsheets.get_mut(id).expect("fake_google: no such spreadsheet");
        ss.tabs.iter_mut().find(|t| t.title == title).expect("fake_google: no such tab").rows = rows;
    }

    pub(crate) fn unshare(&self, id: &str, email: &str) {
        self.lock().spreadsheets.get_mut(id).expect("fake_google: no such spreadsheet").readers.remove(email);
    }

    /// The next Sheets API requests are answered with these statuses (503: unavailable).
    pub(crate) fn fail_next(&self, statuses: &[u16]) {
        self.lock().fail_next = statuses.iter().rev().copied().collect();
    }

    /// How long the Sheets API waits before each answer.
    pub(crate) fn set_latency(&self, latency: std::time::Duration) {
        self.lock().latency = latency;
    }

    /// How many Sheets API requests have arrived, counting those not yet answered.
    pub(crate) fn received(&self) -> usize {
        self.lock().received
    }

    /// The Sheets API requests answered.
    pub(crate) fn requests(&self) -> Vec<SheetsRequest> {
        self.lock().requests.clone()
    }

    pub(crate) fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// An access token for the test account, as if the token endpoint had granted it.
    pub(crate) fn issue_token(&self) -> String {
        let mut inner = self.lock();
        let token = format!("ya29.fake-direct-{}", inner.tokens.len() + 1);
        inner.tokens.insert(token.clone(), CLIENT_EMAIL.to_owned());
        token
    }

    /// Every access token handed out (by the token endpoint or [`FakeGoogle::issue_token`]).
    pub(crate) fn tokens(&self) -> Vec<String> {
        self.lock().tokens.keys().cloned().collect()
    }

    pub(crate) fn grants(&self) -> Vec<Grant> {
        self.lock().grants.clone()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        lock(&self.inner)
    }
}

impl Drop for FakeGoogle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

type Shared = Arc<Mutex<Inner>>;

async fn handle(State(shared): State<Shared>, req: Request) -> Response {
    let method = req.method().as_str().to_owned();
    let path = percent_decode(req.uri().path());
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()).into_owned().collect();
    let auth = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap_or_default();
    if method == "POST" && path == "/token" {
        return token(&shared, &body);
    }
    let latency = {
        let mut inner = lock(&shared);
        inner.received += 1;
        inner.latency
    };
    tokio::time::sleep(latency).await;
    let (status, reply) = sheets(&shared, &method, &path, &query, auth.as_deref());
    let body = serde_json::to_vec(&reply).expect("fake_google: JSON");
    let bytes = body.len();
    lock(&shared).requests.push(SheetsRequest { method, path, query, status: status.as_u16(), bytes });
    (status, [(header::CONTENT_TYPE, "application/json; charset=UTF-8")], Body::from(body)).into_response()
}

// ---------- the token endpoint ----------

fn token(shared: &Shared, body: &Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let mut inner = lock(shared);
    let refuse = |error: &str, description: &str| {
        (StatusCode::BAD_REQUEST, axum::Json(json!({"error": error, "error_description": description}))).into_response()
    };
    if form.get("grant_type").map(String::as_str) != Some(GRANT_TYPE) {
        return refuse("unsupported_grant_type", "Invalid grant_type");
    }
    let Some(jwt) = form.get("assertion") else {
        return refuse("invalid_request", "Missing required parameter: assertion");
    };
    let parts: Vec<&str> = jwt.split('.').collect();
    let decode = |s: &str| BASE64URL.decode(s).ok();
    let (Some(head), Some(claims), Some(sig)) = (
        parts.first().and_then(|p| decode(p)),
        parts.get(1).and_then(|p| decode(p)),
        parts.get(2).and_then(|p| decode(p)),
    ) else {
        return refuse("invalid_grant", "Invalid JWT: malformed");
    };
    let head: Value = serde_json::from_slice(&head).unwrap_or(Value::Null);
    let claims: Value = serde_json::from_slice(&claims).unwrap_or(Value::Null);
    let iss = claims["iss"].as_str().unwrap_or("").to_owned();
    let signed = format!("{}.{}", parts[0], parts[1]);
    let signature_ok = head["alg"] == "RS256"
        && inner.accounts.get(&iss).is_some_and(|der| {
            ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, der)
                .verify(signed.as_bytes(), &sig)
                .is_ok()
        });
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let (iat, exp) = (claims["iat"].as_i64().unwrap_or(0), claims["exp"].as_i64().unwrap_or(0));
    let outcome = if !inner.accounts.contains_key(&iss) {
        Err(("invalid_grant", "Invalid grant: account not found"))
    } else if !signature_ok {
        Err(("invalid_grant", "Invalid JWT Signature."))
    } else if claims["aud"].as_str() != Some(inner.token_uri.as_str()) {
        Err(("invalid_grant", "Invalid JWT: Failed audience check."))
    } else if exp <= now || exp - iat > 3600 || iat > now + 300 {
        Err((
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.",
        ))
    } else if claims["scope"].as_str() != Some(SCOPE) {
        Err(("invalid_scope", "The fake grants exactly https://www.googleapis.com/auth/spreadsheets.readonly"))
    } else {
        Ok(())
    };
    let status = if outcome.is_ok() { 200 } else { 400 };
    inner.grants.push(Grant { assertion: jwt.clone(), claims, signature_ok, status });
    if let Err((error, description)) = outcome {
        refuse(error, description)
    } else {
        // Long and unique, so that a test can look for it in a log.
        let token = format!("ya29.fake-{}-{:032x}", inner.tokens.len() + 1, rand_u128(&signed));
        inner.tokens.insert(token.clone(), iss);
        axum::Json(json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})).into_response()
    }
}

/// A token suffix that differs per grant (the JWT differs by its times and signature).
fn rand_u128(seed: &str) -> u128 {
    let digest = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    u128::from_be_bytes(digest.as_ref()[..16].try_into().expect("16 bytes"))
}

// ---------- the Sheets API ----------

fn google_error(code: u16, status: &str, message: &str) -> (StatusCode, Value) {
    (
        StatusCode::from_u16(code).expect("status"),
        json!({"error": {"code": code, "message": message, "status": status}}),
    )
}

fn sheets(
    shared: &Shared,
    method: &str,
    path: &str,
    query: &[(String, String)],
    auth: Option<&str>,
) -> (StatusCode, Value) {
    let mut inner = lock(shared);
    let caller = auth.and_then(|a| a.strip_prefix("Bearer ")).and_then(|t| inner.tokens.get(t)).cloned();
    let Some(caller) = caller else {
        return google_error(
            401,
            "UNAUTHENTICATED",
            "Request is missing required authentication credential. Expected OAuth 2 access token.",
        );
    };
    if let Some(code) = inner.fail_next.pop() {
        return google_error(code, "UNAVAILABLE", "The service is currently unavailable.");
    }
    let Some(rest) = path.strip_prefix("/v4/spreadsheets/").filter(|_| method == "GET") else {
        return google_error(404, "NOT_FOUND", "Not found");
    };
    let (id, call) = match rest.split_once('/') {
        Some((id, call)) => (id, Some(call)),
        None => (rest, None),
    };
    let Some(ss) = inner.spreadsheets.get(id) else {
        return google_error(404, "NOT_FOUND", "Requested entity was not found.");
    };
    if !ss.readers.contains(&caller) {
        return google_error(403, "PERMISSION_DENIED", "The caller does not have permission");
    }
    let param = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str());
    let render = Render {
        unformatted: param("valueRenderOption") == Some("UNFORMATTED_VALUE"),
        dates_as_text: param("dateTimeRenderOption") == Some("FORMATTED_STRING"),
        by_columns: param("majorDimension") == Some("COLUMNS"),
    };
    match call {
        None => {
            let sheets: Vec<Value> = ss
                .tabs
                .iter()
                .enumerate()
                .map(|(i, t)| json!({"properties": {"sheetId": t.sheet_id, "title": t.title, "index": i}}))
                .collect();
            (StatusCode::OK, json!({"spreadsheetId": id, "sheets": sheets}))
        }
        Some("values:batchGet") => {
            let mut out = Vec::new();
            for (_, range) in query.iter().filter(|(k, _)| k == "ranges") {
                match value_range(ss, range, render) {
                    Ok(vr) => out.push(vr),
                    Err(e) => return e,
                }
            }
            (StatusCode::OK, json!({"spreadsheetId": id, "valueRanges": out}))
        }
        Some(call) => match call.strip_prefix("values/") {
            Some(range) => match value_range(ss, range, render) {
                Ok(vr) => (StatusCode::OK, vr),
                Err(e) => e,
            },
            None => google_error(404, "NOT_FOUND", "Not found"),
        },
    }
}

#[derive(Clone, Copy)]
struct Render {
    unformatted: bool,
    dates_as_text: bool,
    by_columns: bool,
}

impl Render {
    fn cell(self, c: &Cell) -> Value {
        match c {
            Cell::Empty => json!(""),
            Cell::Text(s) => json!(s),
            Cell::Number(n) if self.unformatted => number(*n),
            Cell::Number(n) => json!(n.to_string()),
            Cell::Bool(b) if self.unformatted => json!(b),
            Cell::Bool(b) => json!(if *b { "TRUE" } else { "FALSE" }),
            Cell::Date { serial, .. } if self.unformatted && !self.dates_as_text => number(*serial),
            Cell::Date { shown, .. } => json!(shown),
        }
    }
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 1e15 { json!(n as i64) } else { json!(n) }
}

/// `{"range", "majorDimension", "values"}` for `range`, as Google answers it.
fn value_range(ss: &Spreadsheet, range: &str, render: Render) -> Result<Value, (StatusCode, Value)> {
    let unparsable = || google_error(400, "INVALID_ARGUMENT", &format!("Unable to parse range: {range}"));
    let (tab, cells) = split_range(ss, range).ok_or_else(unparsable)?;
    let (grid_rows, grid_cols) = tab.grid();
    let (r0, c0, r1, c1) = match cells {
        None => (1, 0, grid_rows, grid_cols - 1),
        Some(cells) => bounds(cells, grid_rows, grid_cols).ok_or_else(unparsable)?,
    };
    if c1 >= grid_cols || r0 > grid_rows {
        return Err(google_error(
            400,
            "INVALID_ARGUMENT",
            &format!(
                "Range ('{}'!{}) exceeds grid limits. Max rows: {grid_rows}, max columns: {grid_cols}",
                tab.title,
                cells.unwrap_or("")
            ),
        ));
    }
    let r1 = r1.min(grid_rows);
    let empty = Cell::Empty;
    let at = |r: usize, c: usize| tab.rows.get(r - 1).and_then(|row| row.get(c)).unwrap_or(&empty);
    let trim = |mut v: Vec<Value>| {
        while v.last().is_some_and(|x| x == "") {
            v.pop();
        }
        v
    };
    let mut values: Vec<Vec<Value>> = if render.by_columns {
        (c0..=c1).map(|c| trim((r0..=r1).map(|r| render.cell(at(r, c))).collect())).collect()
    } else {
        (r0..=r1.min(tab.rows.len().max(r0)))
            .map(|r| trim((c0..=c1).map(|c| render.cell(at(r, c))).collect()))
            .collect()
    };
    while values.last().is_some_and(Vec::is_empty) {
        values.pop();
    }
    let a1 = format!("{}!{}{r0}:{}{r1}", quote(&tab.title), letters(c0), letters(c1));
    let mut reply = json!({"range": a1, "majorDimension": if render.by_columns { "COLUMNS" } else { "ROWS" }});
    if !values.is_empty() {
        reply["values"] = json!(values);
    }
    Ok(reply)
}

/// The tab and the cells part of an A1 range (`None`: the whole tab).
fn split_range<'a>(ss: &'a Spreadsheet, range: &'a str) -> Option<(&'a Tab, Option<&'a str>)> {
    let (name, cells): (String, Option<&str>) = if let Some(rest) = range.strip_prefix('\'') {
        let mut name = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            if c == '\'' {
                if rest[i + 1..].starts_with('\'') {
                    name.push('\'');
                    chars.next();
                    continue;
                }
                break i + 1;
            }
            name.push(c);
        };
        match &rest[end..] {
            "" => (name, None),
            after => (name, Some(after.strip_prefix('!')?)),
        }
    } else if let Some((name, cells)) = range.split_once('!') {
        (name.to_owned(), Some(cells))
    } else if range.bytes().all(|b| b.is_ascii_alphanumeric() || b == b':')
        && range.bytes().any(|b| b.is_ascii_digit() || b == b':')
    {
        return Some((ss.tabs.first()?, Some(range)));
    } else {
        (range.to_owned(), None)
    };
    Some((ss.tabs.iter().find(|t| t.title == name)?, cells))
}

/// (first row, first col, last row, last col): rows 1-based, columns 0-based.
fn bounds(cells: &str, grid_rows: usize, grid_cols: usize) -> Option<(usize, usize, usize, usize)> {
    let part = |s: &str| -> Option<(Option<usize>, Option<usize>)> {
        let split = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
        let (l, d) = s.split_at(split);
        if !l.bytes().all(|b| b.is_ascii_alphabetic()) || !d.bytes().all(|b| b.is_ascii_digit()) || s.is_empty() {
            return None;
        }
        let col = (!l.is_empty())
            .then(|| l.bytes().fold(0, |n, b| n * 26 + (b.to_ascii_uppercase() - b'A' + 1) as usize) - 1);
        let row = if d.is_empty() { None } else { Some(d.parse::<usize>().ok().filter(|&r| r >= 1)?) };
        Some((col, row))
    };
    let (start, end) = if let Some((a, b)) = cells.split_once(':') {
        (part(a)?, part(b)?)
    } else {
        let p = part(cells)?;
        (p, p)
    };
    let r0 = start.1.unwrap_or(1);
    let c0 = start.0.unwrap_or(0);
    let r1 = end.1.unwrap_or(grid_rows);
    let c1 = end.0.unwrap_or(grid_cols - 1);
    (r1 >= r0 && c1 >= c0).then_some((r0, c0, r1, c1))
}

fn letters(col: usize) -> String {
    let mut n = col + 1;
    let mut s = Vec::new();
    while n > 0 {
        s.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).expect("letters")
}

fn quote(title: &str) -> String {
    if title.bytes().all(|b| b.is_ascii_alphanumeric()) {
        title.to_owned()
    } else {
        format!("'{}'", title.replace('\'', "''"))
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}
