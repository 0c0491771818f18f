//! [`ApiError`]: every way an OpenPhone request can fail, typed so that callers can
//! branch (fatal, retry, ambiguous) and carrying the HTTP status and the API's `code`.

use thiserror::Error;

/// A failed OpenPhone request, after the client's own retries.
#[derive(Debug, Clone, Error)]
pub enum ApiError {
    /// 401/403: the key was refused. Stops the run.
    #[error(
        "OpenPhone refused the API key (HTTP {status}{}): {message}; check $OPENPHONE_API_KEY or [openphone].api_key_file",
        code_suffix(code)
    )]
    Unauthorized { status: u16, code: Option<String>, message: String },
    /// 404: the contact does not exist (deleted in the app, or never created).
    #[error("not found (HTTP 404{})", code_suffix(code))]
    NotFound { code: Option<String> },
    /// 409: the write conflicts with the workspace (e.g. the externalId exists).
    #[error("conflict (HTTP 409{}): {message}", code_suffix(code))]
    Conflict { code: Option<String>, message: String },
    /// Another 4xx: the request was refused and retrying it will not help.
    #[error("OpenPhone rejected the request (HTTP {status}{}): {message}", code_suffix(code))]
    Rejected { status: u16, code: Option<String>, message: String },
    /// 5xx or 429 that outlasted the retries. A write may or may not have been applied.
    #[error("OpenPhone failed (HTTP {status}{}): {message}", code_suffix(code))]
    Server { status: u16, code: Option<String>, message: String },
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

fn code_suffix(code: &Option<String>) -> String {
    code.as_deref().map(|c| format!(", code {c}")).unwrap_or_default()
}

impl ApiError {
    /// The key was refused: nothing else will work, stop the run.
    pub fn is_fatal(&self) -> bool {
        matches!(self, ApiError::Unauthorized { .. } | ApiError::Redirected { .. })
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
            | ApiError::Redirected { status, .. } => Some(*status),
            ApiError::Decode { status, .. } => Some(*status),
            ApiError::NotFound { .. } => Some(404),
            ApiError::Conflict { .. } => Some(409),
            ApiError::Transport { .. } | ApiError::Stopped => None,
        }
    }

    /// The API's error `code` (e.g. "0801400"), when it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Unauthorized { code, .. }
            | ApiError::NotFound { code }
            | ApiError::Conflict { code, .. }
            | ApiError::Rejected { code, .. }
            | ApiError::Server { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}
