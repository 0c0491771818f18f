//! Maps a source's rows into records, one per externalId, as the rows stream in. Records
//! the mirror already holds unchanged are counted and dropped at once (so a run over a large
//! source keeps only the changed records in memory). Rows that fail are reported by row; an
//! externalId on several rows is reported on each and applied from none; every externalId
//! seen in the source, valid or not, is kept so that it is never deleted.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::mpsc::SyncSender;

use crate::model::{Digest, Record};
use crate::source::{RowError, SourceError, SourceItem, SourceRow};

use super::mapper::Mapper;
use super::warning::Warning;

/// The mapped source.
#[derive(Debug, Default)]
pub struct Mapped {
    /// Records that may need a write (not known to be in sync), in row order.
    pub records: Vec<Record>,
    /// Valid records skipped because the mirror holds them unchanged.
    pub in_sync: usize,
    /// Rows that could not be read or mapped, in row order.
    pub errors: Vec<RowError>,
    /// Rows synced without some of their values (`on_invalid = "drop_value"`), one entry a
    /// value, in row order. Only rows mapped in this run: a row the mirror holds unchanged
    /// is not mapped again, so its warnings were given when it was written.
    pub warnings: Vec<Warning>,
    /// One sentence per phone column whose numbers were mostly refused in `[phone]
    /// default_region`, naming the region that reads them ([`super::region_hint`]).
    pub region_hints: Vec<String>,
    /// Every external id in the source, including those of invalid and duplicated rows
    /// (none of these is ever deleted), with the first row that carries it.
    pub present: Present,
    /// Data rows seen (valid or not).
    pub rows: usize,
    /// Rows whose contact was synced under the external id as written, with Excel's leading
    /// apostrophe (`'6241140277432`), before that mark was dropped: they keep that id.
    pub ids_kept_as_written: usize,
}

impl Mapped {
    /// Valid, unique records: the ones that were or will be applied.
    pub fn valid(&self) -> usize {
        self.records.len() + self.in_sync
    }

    /// Rows with at least one warning.
    pub fn warning_rows(&self) -> usize {
        self.warnings.iter().map(|w| w.row).collect::<HashSet<_>>().len()
    }
}

/// The external ids a source holds, each with its first row. An id the mirror knows is a
/// slot at its position in the mirror's index (no copy of the id, no hashing: a million
/// unchanged rows were a second table of a million ids, and the plan looked each mirrored
/// contact up in it); the others are kept by id.
#[derive(Debug, Default)]
pub struct Present {
    /// By position in the mirror's index: `None` while no row has carried that id.
    known: Vec<Option<FirstSeen>>,
    /// The ids the mirror does not know.
    new: crate::model::IdMap<FirstSeen>,
}

impl Present {
    fn new(known: usize) -> Present {
        Present { known: vec![None; known], new: crate::model::IdMap::default() }
    }

    fn get(&self, at: Option<usize>, id: &str) -> Option<FirstSeen> {
        match at {
            Some(at) => self.known.get(at).copied().flatten(),
            None => self.new.get(id).copied(),
        }
    }

    fn insert(&mut self, at: Option<usize>, id: Cow<'_, str>, first: FirstSeen) {
        match at.and_then(|at| self.known.get_mut(at)) {
            Some(slot) => *slot = Some(first),
            None => {
                self.new.insert(id.into_owned(), first);
            }
        }
    }

    /// A row of the source carries the id of the mirror's record at this position of its
    /// index (the position [`SyncCheck::position`] gave).
    pub fn has_known(&self, position: usize) -> bool {
        self.known.get(position).is_some_and(Option::is_some)
    }

    /// A row of the source carries this id, which the mirror does not know.
    pub fn has_new(&self, id: &str) -> bool {
        self.new.contains_key(id)
    }

    /// How many distinct external ids the source holds.
    pub fn len(&self) -> usize {
        self.known.iter().filter(|s| s.is_some()).count() + self.new.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The first row of an external id, and what became of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstSeen {
    row: u64,
    seen: Seen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    InSync,
    Pending,
    Invalid,
}

/// How to tell that a record is already in OpenPhone as it is.
pub trait SyncCheck {
    /// Where the mirror holds a record under this external id: its position in the index
    /// (from 0 to [`SyncCheck::known`]), if it holds one.
    fn position(&self, _external_id: &str) -> Option<usize> {
        None
    }
    /// How many records the mirror holds.
    fn known(&self) -> usize {
        0
    }
    /// The mirror's record at `position` was last written from a row with this digest and
    /// is in sync: the row need not be mapped.
    fn row_in_sync(&self, position: usize, source_hash: Digest) -> bool;
    /// The mapped record is in sync.
    fn record_in_sync(&self, record: &Record) -> bool;
}

/// The row's external id: as [`Mapper::external_id`] reads it, unless the mirror knows the
/// row's contact only under the id earlier builds read (Excel's apostrophe kept): then that
/// one, so that no synced contact changes identity (it would be created again and the old
/// one deleted).
fn resolved_id<'r>(mapper: &Mapper, row: &'r SourceRow, check: &dyn SyncCheck) -> (Option<Cow<'r, str>>, bool) {
    let Some(id) = mapper.external_id(row) else { return (None, false) };
    match mapper.external_id_as_written(row) {
        Some(old) if check.position(&id).is_none() && check.position(&old).is_some() => (Some(Cow::Owned(old)), true),
        _ => (Some(id), false),
    }
}

/// Rows a chunk of [`read_ahead`] holds.
const CHUNK: usize = 256;
/// Chunks read ahead of the mapper at most.
const CHUNKS_AHEAD: usize = 16;

/// A row read ahead: the row with its digest ([`Mapper::source_hash`]), or why it could not
/// be read.
enum Ahead {
    Row(SourceRow, Digest),
    Bad(RowError),
}

/// Maps `items` (a source's rows), dropping the records `check` finds in sync: first by the
/// row's digest (no mapping needed), else by the mapped record. The rows are read (parsed,
/// decoded, checked by the source's guard) and digested on a second thread, in chunks, a
/// few chunks ahead of the mapping on this one: the two halves of the work take about as
/// long, and a machine has two cores.
pub fn map_items<I>(mapper: &Mapper, items: I, check: &dyn SyncCheck) -> Result<Mapped, SourceError>
where
    I: IntoIterator<Item = Result<SourceItem, SourceError>>,
    I::IntoIter: Send,
{
    let items = items.into_iter();
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel(CHUNKS_AHEAD);
        std::thread::Builder::new()
            .name("read".into())
            .spawn_scoped(s, move || read_ahead(mapper, items, &tx))
            .map_err(|e| SourceError::Unreadable {
                origin: "the source".into(),
                message: format!("cannot start the thread that reads it: {e}"),
            })?;
        // Ends when the reader has sent its last chunk (or an error); returning early drops
        // `rx`, which ends the reader at its next chunk.
        map_ahead(mapper, rx.into_iter().flatten(), check)
    })
}

/// Reads `items` into chunks of [`Ahead`] rows and sends them; stops after an error, or
/// when the mapper has stopped listening.
fn read_ahead(
    mapper: &Mapper,
    items: impl Iterator<Item = Result<SourceItem, SourceError>>,
    tx: &SyncSender<Vec<Result<Ahead, SourceError>>>,
) {
    let mut chunk = Vec::with_capacity(CHUNK);
    for item in items {
        let failed = item.is_err();
        chunk.push(item.map(|item| match item {
            SourceItem::Row(row) => {
                let digest = mapper.source_hash(&row);
                Ahead::Row(row, digest)
            }
            SourceItem::Bad(e) => Ahead::Bad(e),
        }));
        if failed {
            break;
        }
        if chunk.len() == CHUNK && tx.send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK))).is_err() {
            return;
        }
    }
    let _ = tx.send(chunk);
}

/// The mapping half of [`map_items`], over the rows read ahead.
fn map_ahead(
    mapper: &Mapper,
    items: impl Iterator<Item = Result<Ahead, SourceError>>,
    check: &dyn SyncCheck,
) -> Result<Mapped, SourceError> {
    let mut out = Mapped { present: Present::new(check.known()), ..Mapped::default() };
    // Every later row of an external id already seen, with the id's position in the index.
    let mut repeats: HashMap<String, (Option<usize>, Vec<u64>)> = HashMap::new();
    let mut tally = mapper.phone_tally();
    for item in items {
        let (row, source_hash) = match item? {
            Ahead::Row(row, digest) => (row, digest),
            Ahead::Bad(e) => {
                out.rows += 1;
                out.errors.push(e);
                continue;
            }
        };
        out.rows += 1;
        let (id, as_written) = resolved_id(mapper, &row, check);
        if as_written {
            out.ids_kept_as_written += 1;
        }
        let at = id.as_deref().and_then(|id| check.position(id));
        let repeated = id.as_deref().is_some_and(|id| out.present.get(at, id).is_some());
        if let (Some(id), Some(position)) = (&id, at)
            && !repeated
            && check.row_in_sync(position, source_hash)
        {
            out.in_sync += 1;
            out.present.insert(at, Cow::Borrowed(id), FirstSeen { row: row.row, seen: Seen::InSync });
            continue;
        }
        let mapped = mapper.map_tallied(&row, &mut tally).map(|m| {
            let mut r = m.record;
            if let Some(id) = id.as_ref().filter(|_| as_written) {
                r.external_id = id.to_string();
            }
            out.warnings
                .extend(m.warnings.into_iter().map(|w| Warning { external_id: Some(r.external_id.clone()), ..w }));
            r.source_hash = Some(source_hash);
            r
        });
        let Some(id) = id else {
            out.errors.extend(mapped.err());
            continue;
        };
        if repeated {
            // Reported with the other rows of its id once all are known.
            repeats.entry(id.into_owned()).or_insert_with(|| (at, Vec::new())).1.push(row.row);
            out.errors.extend(mapped.err());
            continue;
        }
        let seen = match mapped {
            Ok(r) if check.record_in_sync(&r) => {
                out.in_sync += 1;
                Seen::InSync
            }
            Ok(r) => {
                out.records.push(r);
                Seen::Pending
            }
            Err(e) => {
                out.errors.push(e);
                Seen::Invalid
            }
        };
        out.present.insert(at, id, FirstSeen { row: row.row, seen });
    }
    if !repeats.is_empty() {
        resolve_duplicates(&mut out, repeats);
    }
    out.errors.sort_by_key(|e| e.row);
    out.region_hints = tally.hints();
    Ok(out)
}

/// Takes every record of a duplicated id out of the run and reports each of its valid rows.
fn resolve_duplicates(out: &mut Mapped, repeats: HashMap<String, (Option<usize>, Vec<u64>)>) {
    for (id, (at, later)) in repeats {
        // Every repeat was seen first (that is what made it a repeat).
        let Some(FirstSeen { row: first_row, seen: first_seen }) = out.present.get(at, &id) else { continue };
        let mut rows = vec![first_row];
        rows.extend(&later);
        match first_seen {
            Seen::InSync => out.in_sync -= 1,
            Seen::Pending => out.records.retain(|r| r.external_id != id),
            Seen::Invalid => {}
        }
        // Rows that failed on their own keep their own error.
        let failed: HashSet<u64> = out.errors.iter().filter(|e| rows.contains(&e.row)).map(|e| e.row).collect();
        for &row in &rows {
            if failed.contains(&row) {
                continue;
            }
            let others: Vec<String> = rows.iter().filter(|&&r| r != row).map(u64::to_string).collect();
            out.errors.push(RowError {
                row,
                external_id: Some(id.clone()),
                message: format!(
                    "external id {id:?} is also on row {}; none of these rows is applied until it is unique",
                    others.join(", ")
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{FieldCatalog, Mapping};

    fn mapper(dir: &std::path::Path) -> Mapper {
        let p = dir.join("m.toml");
        std::fs::write(&p, "external_id = \"ID\"\n[default_fields]\nfirst_name = \"Name\"\n[[emails]]\nlabel = \"work\"\ncolumn = \"Email\"\non_invalid = \"skip_row\"\n")
            .unwrap();
        let header: Vec<String> = ["ID", "Name", "Email"].map(String::from).to_vec();
        Mapper::new(&Mapping::load(&p).unwrap(), &header, "t.csv", &FieldCatalog::Unknown).unwrap()
    }

    #[expect(clippy::unnecessary_wraps, reason = "the list of items also holds a bad row")]
    fn item(row: u64, cells: [&str; 3]) -> Result<SourceItem, SourceError> {
        Ok(SourceItem::Row(SourceRow { row, cells: cells.to_vec().into(), link: None }))
    }

    #[test]
    fn drops_in_sync_records_and_takes_duplicates_out_wherever_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let m = mapper(dir.path());
        let items = vec![
            item(2, ["a", "A", ""]),       // in sync
            item(3, ["b", "B", ""]),       // changed
            item(4, ["a", "A2", ""]),      // duplicate of an in-sync record
            item(5, ["c", "C", "bad"]),    // invalid
            item(6, ["c", "C", ""]),       // duplicate of an invalid row
            item(7, ["d", "D", ""]),       // changed
            item(8, ["d", "D", "d@x.io"]), // duplicate of a changed record
            Ok(SourceItem::Bad(RowError { row: 9, external_id: None, message: "ragged".into() })),
        ];
        struct OnlyA;
        impl SyncCheck for OnlyA {
            fn row_in_sync(&self, _: usize, _: Digest) -> bool {
                false
            }
            fn record_in_sync(&self, r: &Record) -> bool {
                r.external_id == "a"
            }
        }
        let out = map_items(&m, items, &OnlyA).unwrap();
        assert_eq!(out.rows, 8);
        assert_eq!(out.in_sync, 0);
        assert_eq!(out.records.iter().map(|r| r.external_id.as_str()).collect::<Vec<_>>(), vec!["b"]);
        let errs: Vec<(u64, &str)> = out.errors.iter().map(|e| (e.row, e.message.as_str())).collect();
        let rows: Vec<u64> = errs.iter().map(|e| e.0).collect();
        assert_eq!(rows, vec![2, 4, 5, 6, 7, 8, 9]);
        assert!(errs[0].1.contains("also on row 4"), "{errs:#?}");
        assert!(errs[2].1.contains("not an email"), "{errs:#?}");
        assert!(errs[3].1.contains("also on row 5"), "{errs:#?}");
        assert!(errs[5].1.contains("also on row 7"), "{errs:#?}");
        assert_eq!(errs[6], (9, "ragged"));
        assert!(["a", "b", "c", "d"].iter().all(|id| out.present.has_new(id)), "{:?}", out.present);
        assert_eq!(out.present.len(), 4);
        assert_eq!(out.valid(), 1);
    }

    /// Ids the mirror knows are kept by their position in its index: a row of a known id in
    /// sync, its duplicate, a known id with no row, and a new id twice.
    #[test]
    fn known_ids_are_slots_by_position_and_their_duplicates_are_taken_out_too() {
        /// A mirror holding these ids at positions 0, 1, 2; `true`: in sync by row digest.
        struct Knows([(&'static str, bool); 3]);
        impl SyncCheck for Knows {
            fn position(&self, id: &str) -> Option<usize> {
                self.0.iter().position(|(known, _)| *known == id)
            }
            fn known(&self) -> usize {
                self.0.len()
            }
            fn row_in_sync(&self, position: usize, _: Digest) -> bool {
                self.0[position].1
            }
            fn record_in_sync(&self, _: &Record) -> bool {
                false
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let m = mapper(dir.path());
        let items = vec![
            item(2, ["x", "X", ""]),  // known, in sync
            item(3, ["y", "Y", ""]),  // known, in sync
            item(4, ["x", "X2", ""]), // duplicate of a known id in sync
            item(5, ["n", "N", ""]),  // new
            item(6, ["n", "N", ""]),  // duplicate of a new id
        ];
        let out = map_items(&m, items, &Knows([("x", true), ("y", true), ("z", false)])).unwrap();
        assert_eq!((out.rows, out.in_sync, out.records.len()), (5, 1, 0));
        let rows: Vec<u64> = out.errors.iter().map(|e| e.row).collect();
        assert_eq!(rows, [2, 4, 5, 6]);
        assert!(out.errors[0].message.contains("also on row 4"), "{:?}", out.errors);
        // x and y have rows (none is deleted), z has none; n is kept by id.
        let known: Vec<bool> = (0..3).map(|at| out.present.has_known(at)).collect();
        assert_eq!(known, [true, true, false]);
        assert!(out.present.has_new("n") && !out.present.has_new("x"));
        assert_eq!(out.present.len(), 3);
    }
}
