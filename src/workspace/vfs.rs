//! File access for the workspace layer. The CLI reads the disk; the server lays the
//! editor's unsaved documents over it. Reading is the only I/O the model does.

use std::io;
use std::path::Path;

/// Files bigger than this are refused with a clear error instead of being loaded.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

pub trait Vfs: Send + Sync {
    /// The file's text: UTF-8 and at most [`MAX_FILE_BYTES`], else an `InvalidData` error
    /// that says what is wrong.
    fn read_text(&self, path: &Path) -> io::Result<String>;

    /// Whether `read_text` gives something other than the file on disk for `path` (an
    /// editor's unsaved text).
    fn is_overlaid(&self, _path: &Path) -> bool {
        false
    }
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct DiskVfs;

impl Vfs for DiskVfs {
    fn read_text(&self, path: &Path) -> io::Result<String> {
        read_text_file(path)
    }
}

/// Reads a text file with the size and encoding checks every reader here applies. Only
/// regular files are read (a FIFO would block forever, `/dev/zero` never ends), and the size
/// limit applies to the bytes actually read, not to what the metadata claimed.
pub fn read_text_file(path: &Path) -> io::Result<String> {
    read_file_bytes(path).and_then(decode_utf8)
}

/// The bytes of a regular file of at most [`MAX_FILE_BYTES`] (verbatim copies may be
/// binary); the same refusals as [`read_text_file`].
pub fn read_file_bytes(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "is a directory"));
    }
    if !meta.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file (a device, FIFO or socket is never read)"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big(meta.len()));
    }
    let file = std::fs::File::open(path)?;
    // The file may have changed since `metadata`: read at most one byte past the limit.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

fn too_big(len: u64) -> io::Error {
    let mb = |n: u64| n / (1024 * 1024);
    io::Error::new(io::ErrorKind::InvalidData, format!("file is {} MB, larger than the {} MB limit", mb(len), mb(MAX_FILE_BYTES)))
}

/// UTF-8 decoding with an error that names the first bad byte's line and column.
pub fn decode_utf8(bytes: Vec<u8>) -> io::Result<String> {
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if s.starts_with('\u{feff}') {
                s.drain(..3);
            }
            Ok(s)
        }
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let before = String::from_utf8_lossy(&bytes[..valid]);
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not valid UTF-8: byte 0x{:02x} at line {line}, column {col}", bytes[valid]),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_utf8_error_names_position() {
        let err = decode_utf8(b"ok\nab\xffcd".to_vec()).unwrap_err();
        assert_eq!(err.to_string(), "not valid UTF-8: byte 0xff at line 2, column 3");
    }

    #[test]
    fn bom_is_dropped() {
        assert_eq!(decode_utf8("\u{feff}a: 1".as_bytes().to_vec()).unwrap(), "a: 1");
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_refused_without_reading() {
        let err = read_text_file(Path::new("/dev/zero")).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        // A symlink to it is refused the same way (metadata follows the link).
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("values.yaml.j2");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(read_text_file(&link).unwrap_err().to_string().contains("not a regular file"));
        // A FIFO would block a plain read forever.
        let fifo = dir.path().join("pipe.yaml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().map(|s| s.success()).unwrap_or(false);
        if made {
            assert!(read_text_file(&fifo).unwrap_err().to_string().contains("not a regular file"));
        }
    }
}
