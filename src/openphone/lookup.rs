//! Batched externalId lookups: the read before every create and update, and `--verify`'s
//! read-back. Ids go [`LOOKUP_BATCH`] to a request, several requests at a time. A batch
//! that fails fails only its own ids ([`Lookup::failed`]): the caller sends nothing for
//! them. After a refused key, or `MAX_UNAVAILABLE_BATCHES` batches in a row that found
//! OpenPhone failing, no further batch is sent and every id not read yet fails with that
//! error ([`Lookup::fatal`]); so does every id not read yet when the run is told to stop.

use std::collections::HashMap;

use futures::StreamExt;

use super::client::{Client, LOOKUP_BATCH};
use super::error::ApiError;
use super::wire::ApiContact;

/// Batches in a row that may fail with OpenPhone unavailable before the lookup gives up.
const MAX_UNAVAILABLE_BATCHES: usize = 3;

/// Contacts found, by externalId (every contact that carries it, whatever its source).
pub type Found = HashMap<String, Vec<ApiContact>>;

/// What a batched lookup read, and what it could not.
#[derive(Debug, Default)]
pub struct Lookup {
    pub found: Found,
    /// Each id whose read failed, with why. None of them is in `found`.
    pub failed: Vec<(String, ApiError)>,
    /// Why the lookup stopped early (a refused key, OpenPhone down), if it did.
    pub fatal: Option<ApiError>,
}

impl Lookup {
    /// Every id read, or the first error.
    pub fn complete(self) -> Result<Found, ApiError> {
        match (self.fatal, self.failed.into_iter().next()) {
            (Some(e), _) | (None, Some((_, e))) => Err(e),
            (None, None) => Ok(self.found),
        }
    }
}

/// Looks `ids` up, [`LOOKUP_BATCH`] a request, `concurrency` requests at a time.
pub async fn lookup(client: &Client, ids: &[&str], concurrency: usize) -> Lookup {
    let batches: Vec<Vec<String>> =
        ids.chunks(LOOKUP_BATCH).map(|c| c.iter().map(|s| (*s).to_owned()).collect()).collect();
    let mut unread: std::collections::HashSet<&str> = ids.iter().copied().collect();
    let mut out = Lookup::default();
    {
        // Each batch is moved into its future, so the stream can live in a spawned task.
        let mut stream = futures::stream::iter(batches.into_iter().map(|b| async move {
            let res = client.find_by_external_ids(&b).await;
            (b, res)
        }))
        .buffer_unordered(concurrency.max(1));
        let mut unavailable = 0usize;
        while let Some((batch, res)) = stream.next().await {
            for id in &batch {
                unread.remove(id.as_str());
            }
            match res {
                Ok(contacts) => {
                    unavailable = 0;
                    for c in contacts {
                        // Only what was asked: a contact's externalId is matched exactly.
                        if let Some(ext) = c.external_id.clone().filter(|e| batch.contains(e)) {
                            out.found.entry(ext).or_default().push(c);
                        }
                    }
                }
                Err(ApiError::Stopped) => {
                    // The run is stopping: no further batch is sent, and the caller says so
                    // once (a line per batch was 50,000 lines for a million rows).
                    out.failed.extend(batch.into_iter().map(|id| (id, ApiError::Stopped)));
                    out.fatal = Some(ApiError::Stopped);
                    break;
                }
                Err(e) => {
                    tracing::warn!(ids = batch.len(), error = %e, "Lookup of a batch of externalIds failed");
                    unavailable = if e.is_unavailable() { unavailable + 1 } else { 0 };
                    let stop = e.is_fatal() || unavailable >= MAX_UNAVAILABLE_BATCHES;
                    out.failed.extend(batch.into_iter().map(|id| (id, e.clone())));
                    if stop {
                        out.fatal = Some(e);
                        break;
                    }
                }
            }
        }
    }
    if let Some(e) = &out.fatal {
        // In id order, so the report lists them in a stable order (a stop lists none: sorting
        // a million ids would only delay it).
        let mut rest: Vec<&str> = unread.into_iter().collect();
        if !matches!(e, ApiError::Stopped) {
            rest.sort_unstable();
        }
        out.failed.extend(rest.into_iter().map(|id| (id.to_owned(), e.clone())));
    }
    out
}
