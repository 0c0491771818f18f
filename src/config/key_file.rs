//! Reading a key file safely: only a regular file of at most `MAX_KEY_FILE` bytes is read,
//! so a FIFO (which would block forever), a device or a huge file named by mistake is refused
//! at once, with what it is; a UTF-8 BOM (Notepad's) is dropped.

use std::io::Read;
use std::path::Path;

/// The largest key file read: an API key is a few dozen bytes, a service-account JSON key
/// about 2.5 KiB.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// The text of the key file at `path`, without a leading UTF-8 BOM. The error says why it
/// was not read (not a regular file, too large, not UTF-8, or the OS's reason).
pub fn read(path: &Path) -> Result<String, String> {
    // Checked before opening: opening a FIFO for reading blocks until a writer comes.
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    check(&meta)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // Should the file be swapped for a FIFO between the check and the open, the open
        // still returns at once, and the check of the open file refuses it.
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| e.to_string())?;
    check(&file.metadata().map_err(|e| e.to_string())?)?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(too_large(bytes.len() as u64));
    }
    let text = String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_owned())?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// Refuses what is not a regular file of a sane size.
fn check(meta: &std::fs::Metadata) -> Result<(), String> {
    if !meta.is_file() {
        return Err(format!("it is {}, not a regular file", kind(meta)));
    }
    if meta.len() > MAX_KEY_FILE {
        return Err(too_large(meta.len()));
    }
    Ok(())
}

fn too_large(len: u64) -> String {
    format!("it holds {len} bytes or more, more than a key file's {MAX_KEY_FILE}: is it the right file?")
}

/// What a file that is not a regular file is, in words.
fn kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_small_regular_files_and_drops_a_bom() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key");
        std::fs::write(&p, "\u{feff}sk-live-1\n").unwrap();
        assert_eq!(read(&p).unwrap(), "sk-live-1\n");
        std::fs::write(&p, vec![b'a'; MAX_KEY_FILE as usize + 1]).unwrap();
        assert!(read(&p).unwrap_err().contains("more than a key file's 65536"), "{:?}", read(&p));
        std::fs::write(&p, [0xff, 0xfe, b'a']).unwrap();
        assert!(read(&p).unwrap_err().contains("not UTF-8"));
        assert!(read(dir.path()).unwrap_err().contains("a folder, not a regular file"));
        #[cfg(unix)]
        {
            let fifo = dir.path().join("fifo");
            let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            assert!(read(&fifo).unwrap_err().contains("a named pipe (FIFO), not a regular file"));
            assert!(read(Path::new("/dev/zero")).unwrap_err().contains("a device"));
        }
    }
}
