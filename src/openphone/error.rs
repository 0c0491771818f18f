//! [`ApiError`]: every way an OpenPhone request can fail, typed so that callers can
//! branch (fatal, retry, ambiguous) and carrying the HTTP status and what the API said
//! ([`Refusal`]: its message, the live envelope's `key` or the spec's `code`, the trace id).

use std::fmt::Write as _;

use thiserror::Error;

/// What an error answer's body was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BodyKind {
    /// JSON, in the live envelope or the spec's flat one.
    #[default]
    Json,
    /// An HTML page (a web server's or a gateway's, not the API's).
    Html,
    /// Nothing.
    Empty,
    /// Something else that is not JSON.
    Text,
}

/// What OpenPhone said when it refused a request, read from either envelope: the live API's
/// `{"error": {"message", "key", "trace"}}` or the spec's flat `{message, code, errors, ...}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refusal {
    /// The message, with each of the spec's `errors` appended as `; path: message`.
    pub message: Option<String>,
    /// The live envelope's `key` (e.g. "Unauthorized").
    pub key: Option<String>,
    /// The spec's `code` (e.g. "0800409").
    pub code: Option<String>,
    /// The live envelope's `trace`: what OpenPhone's support asks for. Logged at `-v`.
    pub trace: Option<String>,
    pub body: BodyKind,
}

impl Refusal {
    /// Reads an error answer's body (`content_type` as sent, if any).
    pub fn read(content_type: Option<&str>, bytes: &[u8]) -> Refusal {
        let text = String::from_utf8_lossy(bytes);
        let trimmed = text.trim_start();
        if trimmed.is_empty() {
            return Refusal { body: BodyKind::Empty, ..Refusal::default() };
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(trimmed) else {
            let html =
                content_type.is_some_and(|c| c.to_ascii_lowercase().contains("html")) || trimmed.starts_with('<');
            return Refusal { body: if html { BodyKind::Html } else { BodyKind::Text }, ..Refusal::default() };
        };
        let text_of = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        // The live envelope nests everything under `error`; the spec's is flat.
        let live = v.get("error").filter(|e| e.is_object());
        let at = live.unwrap_or(&v);
        let mut message = at.get("message").and_then(text_of);
        let details: Vec<String> = at
            .get("errors")
            .and_then(|e| e.as_array())
            .into_iter()
            .flatten()
            .map(|d| {
                let path = d.get("path").and_then(text_of).unwrap_or_else(|| "?".to_owned());
                let what = d.get("message").and_then(text_of).unwrap_or_else(|| "invalid".to_owned());
                format!("{path}: {what}")
            })
            .collect();
        if !details.is_empty() {
            let joined = details.join("; ");
            message = Some(match message {
                Some(m) => format!("{m}; {joined}"),
                None => joined,
            });
        }
        Refusal {
            message,
            key: at.get("key").and_then(text_of),
            code: at.get("code").and_then(text_of),
            trace: at.get("trace").and_then(text_of),
            body: BodyKind::Json,
        }
    }

    /// `, key K` and `, code C` for the status's parenthesis.
    fn labels(&self) -> String {
        let mut s = String::new();
        if let Some(k) = &self.key {
            let _ = write!(s, ", key {k}");
        }
        if let Some(c) = &self.code {
            let _ = write!(s, ", code {c}");
        }
        s
    }

    /// The message, or what the body was when it said nothing.
    fn text(&self) -> String {
        match (self.body, &self.message) {
            (BodyKind::Json, Some(m)) => m.clone(),
            (BodyKind::Json, None) => "no message in the answer".to_owned(),
            (BodyKind::Html, _) => "an HTML page, not an answer of the API".to_owned(),
            (BodyKind::Empty, _) => "an empty answer".to_owned(),
            (BodyKind::Text, _) => "an answer that is not JSON".to_owned(),
        }
    }
}

/// A failed OpenPhone request, after the client's own retries.
#[derive(Debug, Clone, Error)]
pub enum ApiError {
    /// 401/403: the key was refused. Stops the run.
    #[error(
        "OpenPhone refused the API key (HTTP {status}{}): {}; check $OPENPHONE_API_KEY or [openphone].api_key_file",
        said.labels(), said.text()
    )]
    Unauthorized { status: u16, said: Box<Refusal> },
    /// 404 in the API's JSON: the contact does not exist (deleted in the app, or never created).
    #[error("not found (HTTP 404{}): {}", said.labels(), said.text())]
    NotFound { said: Box<Refusal> },
    /// A 404 that is not the API's (an HTML page, or no body): the path is no route of the
    /// API, so `[openphone].base_url` is likely wrong. Stops the run.
    #[error(
        "OpenPhone answered {request} with HTTP 404 and {}: that path is not one of the API's routes; check [openphone].base_url (the API's root, e.g. https://api.quo.com)",
        said.text()
    )]
    NoRoute { request: String, said: Box<Refusal> },
    /// 409: the write conflicts with the workspace (e.g. the externalId exists).
    #[error("conflict (HTTP 409{}): {}", said.labels(), said.text())]
    Conflict { said: Box<Refusal> },
    /// Another 4xx: the request was refused and retrying it will not help.
    #[error("OpenPhone rejected the request (HTTP {status}{}): {}", said.labels(), said.text())]
    Rejected { status: u16, said: Box<Refusal> },
    /// 5xx or 429 that outlasted the retries. A write may or may not have been applied.
    #[error("OpenPhone failed (HTTP {status}{}): {}", said.labels(), said.text())]
    Server { status: u16, said: Box<Refusal> },
    /// A 3xx: redirects are never followed (the body, with its contacts, would go to
    /// another address), so the reply names where it pointed. Stops the run: every request
    /// goes to the same `base_url`.
    #[error(
        "OpenPhone answered HTTP {status}, a redirect to {location}, which is not followed (it would send the request and its contacts elsewhere): check [openphone].base_url"
    )]
    Redirected { status: u16, location: String },
    /// No reply: connect error, timeout, reset. `maybe_applied` when the request may
    /// have reached the server.
    #[error("no reply from OpenPhone: {message}")]
    Transport { message: String, maybe_applied: bool },
    /// A 2xx reply whose body could not be read.
    #[error("unexpected reply from OpenPhone (HTTP {status}): {message}")]
    Decode { status: u16, message: String },
    /// Not sent: the run is stopping (SIGTERM). The next run does it.
    #[error("not sent: the run is stopping")]
    Stopped,
}

impl ApiError {
    /// The key was refused, or the base URL reaches no API: nothing else will work, stop the run.
    pub fn is_fatal(&self) -> bool {
        matches!(self, ApiError::Unauthorized { .. } | ApiError::NoRoute { .. } | ApiError::Redirected { .. })
    }

    /// The write may have been applied although no success came back: re-read before retrying.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            ApiError::Server { status, .. } => *status != 429,
            ApiError::Transport { maybe_applied, .. } => *maybe_applied,
            ApiError::Decode { .. } => true,
            _ => false,
        }
    }

    /// The unavailability kind of error: OpenPhone could not be reached or kept failing.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, ApiError::Server { .. } | ApiError::Transport { .. } | ApiError::Decode { .. })
    }

    /// The HTTP status, when there was a reply.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Unauthorized { status, .. }
            | ApiError::Rejected { status, .. }
            | ApiError::Server { status, .. }
            | ApiError::Redirected { status, .. }
            | ApiError::Decode { status, .. } => Some(*status),
            ApiError::NotFound { .. } | ApiError::NoRoute { .. } => Some(404),
            ApiError::Conflict { .. } => Some(409),
            ApiError::Transport { .. } | ApiError::Stopped => None,
        }
    }

    /// What OpenPhone said, when it answered with an error.
    pub fn said(&self) -> Option<&Refusal> {
        match self {
            ApiError::Unauthorized { said, .. }
            | ApiError::NotFound { said }
            | ApiError::NoRoute { said, .. }
            | ApiError::Conflict { said }
            | ApiError::Rejected { said, .. }
            | ApiError::Server { said, .. } => Some(said.as_ref()),
            _ => None,
        }
    }

    /// The API's error code: the spec's `code` (e.g. "0801400"), else the live envelope's `key`
    /// (e.g. "Unauthorized"), when it sent one.
    pub fn code(&self) -> Option<&str> {
        self.said().and_then(|s| s.code.as_deref().or(s.key.as_deref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_envelopes_and_bodies_that_are_not_json() {
        let live = br#"{"error":{"message":"Missing authorization header","key":"Unauthorized","trace":"abc123"}}"#;
        let r = Refusal::read(Some("application/json"), live);
        assert_eq!(r.message.as_deref(), Some("Missing authorization header"));
        assert_eq!(
            (r.key.as_deref(), r.trace.as_deref(), r.code.as_deref()),
            (Some("Unauthorized"), Some("abc123"), None)
        );
        let e = ApiError::Unauthorized { status: 401, said: Box::new(r) };
        assert_eq!(
            e.to_string(),
            "OpenPhone refused the API key (HTTP 401, key Unauthorized): Missing authorization header; \
             check $OPENPHONE_API_KEY or [openphone].api_key_file"
        );
        assert!(!e.to_string().contains("abc123"), "the trace is for -v");
        assert_eq!(e.code(), Some("Unauthorized"));

        let flat = br#"{"message":"Bad Request","code":"0801400","status":400,
            "errors":[{"path":"/sourceUrl","message":"must be a uri","schema":{"type":"string"}}]}"#;
        let e = ApiError::Rejected { status: 400, said: Box::new(Refusal::read(None, flat)) };
        assert_eq!(
            e.to_string(),
            "OpenPhone rejected the request (HTTP 400, code 0801400): Bad Request; /sourceUrl: must be a uri"
        );
        assert_eq!(e.code(), Some("0801400"));

        let html = Refusal::read(Some("text/html; charset=utf-8"), b"<!DOCTYPE html><pre>Cannot GET /x</pre>");
        assert_eq!(html.body, BodyKind::Html);
        let e = ApiError::Server { status: 502, said: Box::new(html) };
        assert_eq!(e.to_string(), "OpenPhone failed (HTTP 502): an HTML page, not an answer of the API");
        let e = ApiError::Server { status: 503, said: Box::new(Refusal::read(None, b"  ")) };
        assert_eq!(e.to_string(), "OpenPhone failed (HTTP 503): an empty answer");
        let e = ApiError::Rejected { status: 400, said: Box::new(Refusal::read(None, br#"{"error":"nope"}"#)) };
        assert_eq!(e.to_string(), "OpenPhone rejected the request (HTTP 400): no message in the answer");
        assert_eq!(Refusal::read(None, b"upstream timed out").body, BodyKind::Text);
    }
}
