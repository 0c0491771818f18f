//! Steps 2 to 4: read the source, verify (once, when asked: it needs the mapper, which needs
//! the source's header), and map its rows, dropping those the mirror holds unchanged as
//! they stream in. A file being rewritten while it is read is read again, a few times,
//! before the run gives up (exit 4, nothing written); see `source::stable`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::mapping::records::{Mapped, map_items};
use crate::mapping::{FieldCatalog, Mapper};
use crate::mirror::Mirror;
use crate::model::{FieldType, Policies};
use crate::openphone::Client;
use crate::plan::MirrorIndex;
use crate::plan::saved::{Fingerprint, SourceHasher};
use crate::source::{self, SourceError};

use super::blocking::blocking;
use super::run::Run;
use super::stop::Stop;
use super::verify::{self, Verified};

/// How many times a file caught mid-write is read before the run gives up.
const SOURCE_READS: u32 = 3;

/// The mapped source, with what the later steps need from its mapper.
pub(super) struct Read {
    pub mapped: Mapped,
    pub policies: Policies,
    pub custom_types: BTreeMap<String, FieldType>,
    /// The source's fingerprint, when a plan file is saved or applied.
    pub source: Option<Fingerprint>,
    /// What `--verify` found, when asked.
    pub verified: Option<Verified>,
}

/// Reads and maps the source (`None`: stopped on request while reading; nothing is
/// written). With `--verify`, what OpenPhone holds replaces the mirror's belief in `index`,
/// in memory only: the mirror learns it just before applying.
pub(super) async fn read(
    run: &Run<'_>,
    client: Option<&Client>,
    catalog: &FieldCatalog,
    mut mirror: Option<&mut Mirror>,
    index: &mut MirrorIndex,
) -> Result<Option<Read>, Stop> {
    let mut verified = None;
    let columns = run.mapping.column_names();
    let mut attempt = 0u32;
    loop {
        // A sheet may take a while to arrive: a stop meanwhile abandons the read.
        let rows = tokio::select! {
            rows = source::open(&run.config.source, &columns) => rows?,
            () = run.stop.cancelled() => return Ok(None),
        };
        let mapper = Mapper::new(run.mapping, &rows.header, &run.config.source.describe(), catalog)?
            .with_null_values(&run.config.null_values);
        if run.args.verify && verified.is_none() {
            let found = verify_step(run, client, mirror.as_deref_mut(), index, &mapper).await?;
            verify::observe(&found, index);
            verified = Some(found);
        }
        let mut hasher = run.plan_file.map(|_| SourceHasher::new(&rows.header));
        // A stop ends the read at the next row: a million rows take seconds to map.
        let rows = rows.take_while(|_| !run.stop.is_cancelled()).inspect(|item| {
            if let Some(h) = hasher.as_mut() {
                h.add(item);
            }
        });
        // Reading and mapping block (and the torn-file guard sleeps at the end of the file).
        let mapped = blocking(|| map_items(&mapper, rows, index));
        if run.stop.is_cancelled() {
            return Ok(None);
        }
        match mapped {
            Ok(mapped) => {
                return Ok(Some(Read {
                    mapped,
                    policies: mapper.policies().clone(),
                    custom_types: mapper.custom_types(),
                    source: hasher.map(SourceHasher::finish),
                    verified,
                }));
            }
            Err(e @ SourceError::Changed { .. }) if attempt < SOURCE_READS - 1 => {
                attempt += 1;
                let wait = Duration::from_secs(u64::from(attempt));
                tracing::warn!(error = %e, attempt, wait_s = wait.as_secs(), "The source changed while it was read; reading it again");
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// `--verify`: reads the mirrored contacts back (needs the key).
async fn verify_step(
    run: &Run<'_>,
    client: Option<&Client>,
    mirror: Option<&mut Mirror>,
    index: &MirrorIndex,
    mapper: &Mapper,
) -> Result<Verified, Stop> {
    let config = run.config;
    let client = client.ok_or_else(|| {
        Stop::config(format!(
            "{}: --verify reads the contacts back from OpenPhone and needs the API key: set ${} or [openphone].api_key_file",
            config.path.display(),
            crate::config::API_KEY_ENV
        ))
    })?;
    let Some(m) = mirror else { return Ok(Verified::default()) };
    let label = &config.openphone.source_label;
    let concurrency = super::setup::concurrency(config);
    Ok(verify::verify(client, m, index, mapper.unmapped(), mapper.policies(), label, concurrency).await?)
}
