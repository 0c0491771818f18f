//! [`Ctx`]: the config file being checked: where its problems point and what its relative
//! paths resolve against.

use std::path::{Path, PathBuf};

use crate::toml_strict::{KeyLines, Problems};

pub(super) struct Ctx<'a> {
    pub(super) file: &'a Path,
    pub(super) dir: &'a Path,
    pub(super) lines: &'a KeyLines,
}

impl Ctx<'_> {
    pub(super) fn problem(&self, problems: &mut Problems, key: &str, message: impl Into<String>) {
        problems.push(self.file, self.lines.line(key), Some(key), message);
    }

    pub(super) fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() { p.to_path_buf() } else { self.dir.join(p) }
    }

    /// A path that must name an existing file.
    pub(super) fn existing_file(&self, problems: &mut Problems, key: &str, value: &str) -> PathBuf {
        let path = self.resolve(value);
        if !path.is_file() {
            let shown = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
            let relative =
                if Path::new(value).is_relative() { " (a relative path is read from the config's folder)" } else { "" };
            let what = if path.is_dir() {
                "a folder, not a file"
            } else if path.exists() {
                "not a regular file (a FIFO, a device or a socket), which is never read"
            } else {
                "file not found"
            };
            self.problem(problems, key, format!("{what}: {}{relative}", shown.display()));
        }
        path
    }
}
