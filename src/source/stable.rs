//! A file caught mid-write is never trusted (the consistency check of the file sources). Exports are often rewritten in place by a cron
//! job; a run that read half a file would delete the contacts of the rows not written yet.
//! [`Stable`] wraps the rows of a file and, when they run out, checks that the file did not
//! change while it was read (size and modification time before and after) and that it is
//! not still being written: a file whose other lines end with a line break but whose last
//! line does not, or a file written less than `SETTLE` ago, is looked at again after
//! `SETTLE` and trusted only if it did not change meanwhile. (A writer that pauses longer
//! than that mid-file can still be caught: write exports to a temporary name and rename
//! them into place, which is atomic.)
//! A file that is empty and was written less than `EMPTY_GRACE` ago is a writer's truncation.
//! Either failure ends the rows with [`SourceError::Changed`]; the run reads the file again a
//! few times, then gives up with nothing written (exit 4).

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::error::SourceError;
use super::row::SourceItem;

/// How long a file must stay unchanged to be trusted when it was just written or ends
/// mid-line.
const SETTLE: Duration = Duration::from_millis(200);

/// An empty file written less than this long ago is a writer's truncation, not an export:
/// a writer starved of CPU between truncating a file and writing its first bytes can leave
/// it empty for longer than [`SETTLE`].
const EMPTY_GRACE: Duration = Duration::from_secs(5);

/// What the file looked like at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Look {
    len: u64,
    modified: Option<SystemTime>,
    /// The last byte is a line break (`\n` or `\r`), or the file is empty.
    ends_with_break: bool,
    /// The file holds a line break at all (its first 64 KiB).
    has_breaks: bool,
}

fn look(path: &Path) -> std::io::Result<Look> {
    let mut f = std::fs::File::open(path)?;
    let meta = f.metadata()?;
    let len = meta.len();
    // Read as it is now: a writer may have shortened it since the metadata was taken.
    let mut head = Vec::with_capacity(len.min(64 * 1024) as usize);
    (&mut f).take(64 * 1024).read_to_end(&mut head)?;
    let mut last = Vec::with_capacity(1);
    if len > 0 {
        f.seek(SeekFrom::Start(len - 1))?;
        (&mut f).take(1).read_to_end(&mut last)?;
    }
    let ends_with_break = len == 0 || matches!(last.first(), Some(b'\n' | b'\r'));
    Ok(Look {
        len,
        modified: meta.modified().ok(),
        ends_with_break,
        has_breaks: memchr::memchr2(b'\n', b'\r', &head).is_some(),
    })
}

/// Opens the file source at `path` (`open` reads its header and returns it with the rows)
/// behind the guard, looked at before the header is read so that a write during the read
/// shows. `text`: the file is text, so a last line without a line break after others that
/// have one is a writer mid-line (a workbook's bytes have no lines).
pub fn open_file<I>(
    path: &Path,
    text: bool,
    open: impl FnOnce() -> Result<(Vec<String>, I), SourceError>,
) -> Result<(Vec<String>, Stable<I>), SourceError> {
    let guard = Stable::new((), path, path.display().to_string()).map(|g| Stable { text, ..g });
    match (open(), guard) {
        (Ok((header, rows)), Ok(guard)) => Ok((header, guard.wrap(rows))),
        (Err(e), Ok(mut guard)) => Err(guard.excuse(e)),
        // The file could not even be looked at: a writer in the middle of replacing it.
        (Err(e), Err(_)) if e.is_config() => {
            Err(SourceError::Changed { origin: path.display().to_string(), detail: e.to_string() })
        }
        (Err(e), Err(_)) | (Ok(_), Err(e)) => Err(e),
    }
}

/// The rows of a file, checked for a concurrent write when they run out.
pub struct Stable<I> {
    inner: I,
    path: PathBuf,
    origin: String,
    before: Option<Look>,
    done: bool,
    text: bool,
}

impl Stable<()> {
    /// Puts the rows to check behind a look taken earlier.
    pub fn wrap<I>(self, inner: I) -> Stable<I> {
        Stable { inner, path: self.path, origin: self.origin, before: self.before, done: false, text: self.text }
    }
}

impl<I> Stable<I> {
    /// Looks at `path` now, before its rows are read.
    pub fn new(inner: I, path: &Path, origin: String) -> Result<Stable<I>, SourceError> {
        let before =
            look(path).map_err(|e| SourceError::Unreadable { origin: origin.clone(), message: e.to_string() })?;
        Ok(Stable { inner, path: path.to_path_buf(), origin, before: Some(before), done: false, text: true })
    }

    /// A file error a half-written file would cause (no header yet, a quote not closed yet)
    /// is the writer's doing when the file is being written: then it is [`SourceError::Changed`].
    pub fn excuse(&mut self, e: SourceError) -> SourceError {
        if !e.is_config() {
            return e;
        }
        let why = self.check().or_else(|| {
            let now = look(&self.path).ok()?;
            let age = now.modified?.elapsed().ok()?;
            (now.len == 0 && age < EMPTY_GRACE).then(|| "it is empty and was written a moment ago".to_owned())
        });
        match why {
            Some(why) => SourceError::Changed { origin: self.origin.clone(), detail: format!("{why} ({e})") },
            None => e,
        }
    }

    /// Why the rows just read cannot be trusted, if they cannot.
    fn check(&mut self) -> Option<String> {
        let before = self.before.take()?;
        let after = match look(&self.path) {
            Ok(l) => l,
            Err(e) => return Some(format!("it could not be looked at again after reading ({e})")),
        };
        if after.len != before.len || after.modified != before.modified {
            return Some(format!("it changed while it was read ({} bytes before, {} after)", before.len, after.len));
        }
        let fresh = after.modified.and_then(|m| m.elapsed().ok()).is_none_or(|age| age < SETTLE);
        if fresh || (self.text && after.has_breaks && !after.ends_with_break) {
            // Perhaps a writer is mid-file; perhaps the file simply ends without a break.
            std::thread::sleep(SETTLE);
            match look(&self.path) {
                Ok(settled) if settled == after => {
                    tracing::debug!(file = %self.origin, "The file did not change for a moment: it is complete");
                }
                Ok(_) => return Some("it was still being written".into()),
                Err(e) => return Some(format!("it could not be looked at again after reading ({e})")),
            }
        }
        None
    }
}

impl<I: Iterator<Item = Result<SourceItem, SourceError>>> Iterator for Stable<I> {
    type Item = Result<SourceItem, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.inner.next() {
            Some(Err(e)) => {
                self.done = true;
                Some(Err(self.excuse(e)))
            }
            Some(item) => Some(item),
            None => {
                self.done = true;
                let why = self.check()?;
                Some(Err(SourceError::Changed { origin: self.origin.clone(), detail: why }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(path: &Path) -> Vec<Result<SourceItem, SourceError>> {
        Stable::new(std::iter::empty(), path, "t.csv".into()).unwrap().collect()
    }

    #[test]
    fn a_file_that_changes_while_read_or_ends_mid_line_is_refused_until_it_settles() {
        let dir = tempfile_dir();
        let path = dir.join("t.csv");
        std::fs::write(&path, "a,b\n1,2\n").unwrap();
        assert!(rows(&path).is_empty(), "a complete, unchanged file is trusted");

        let mut s = Stable::new(std::iter::empty(), &path, "t.csv".into()).unwrap();
        std::fs::write(&path, "a,b\n1,2\n3,4\n").unwrap();
        let out: Vec<_> = s.by_ref().collect();
        assert!(matches!(&out[..], [Err(SourceError::Changed { .. })]), "{out:?}");

        // No final line break, and nothing changes: the last line is complete.
        std::fs::write(&path, "a,b\n1,2").unwrap();
        assert!(rows(&path).is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_file_just_emptied_is_being_written_but_an_old_empty_file_is_the_users() {
        let dir = tempfile_dir();
        let path = dir.join("t.csv");
        std::fs::write(&path, "").unwrap();
        let no_header = || SourceError::NoHeader { origin: "t.csv".into() };
        let mut s = Stable::new((), &path, "t.csv".into()).unwrap();
        assert!(matches!(s.excuse(no_header()), SourceError::Changed { .. }), "just truncated: a writer's doing");

        let old = SystemTime::now() - EMPTY_GRACE - Duration::from_secs(1);
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(old).unwrap();
        let mut s = Stable::new((), &path, "t.csv".into()).unwrap();
        assert!(matches!(s.excuse(no_header()), SourceError::NoHeader { .. }), "empty for a while: the user's to fix");
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("stable-{}-{}", std::process::id(), rand::random::<u32>()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
