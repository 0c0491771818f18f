//! Step 1: the custom-field catalog the mapper checks the mapping against: the workspace's
//! fields (cached in the mirror for offline dry runs), else the cached list, else unknown.

use crate::mapping::FieldCatalog;
use crate::mirror::Mirror;
use crate::openphone::Client;

use super::run::Run;
use super::setup;
use super::stop::Stop;

/// The catalog of this run: read from OpenPhone with a key (and cached by an apply run),
/// else the cache, with a note of what could not be checked.
pub(super) async fn load(
    run: &Run<'_>,
    client: Option<&Client>,
    mirror: Option<&mut Mirror>,
) -> Result<(FieldCatalog, Option<String>), Stop> {
    let mapping = run.mapping;
    let Some(client) = client else { return offline(run, mirror.as_deref()) };
    let catalog = setup::catalog(mapping, client).await?;
    if let (FieldCatalog::Workspace(defs), Some(m), false) = (&catalog, mirror, run.dry())
        && !mapping.custom_fields.is_empty()
    {
        m.save_fields(defs)?;
    }
    Ok((catalog, None))
}

/// Offline: the custom fields as cached by an earlier run, else read as text by name.
fn offline(run: &Run<'_>, mirror: Option<&Mirror>) -> Result<(FieldCatalog, Option<String>), Stop> {
    if run.mapping.custom_fields.is_empty() {
        return Ok((FieldCatalog::Workspace(Vec::new()), None));
    }
    let cached = match mirror {
        Some(m) => m.cached_fields()?,
        None => None,
    };
    Ok(if let Some(defs) = cached {
        let note = "no API key: custom fields were checked against the list cached by the last sync";
        (FieldCatalog::Cached(defs), Some(note.into()))
    } else {
        let note =
            "no API key: custom fields were not checked against the workspace (names unverified, values read as text)";
        (FieldCatalog::Unknown, Some(note.into()))
    })
}
