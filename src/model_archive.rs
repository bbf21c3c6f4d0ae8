//! Reading a model archive (`POST /v1/models` with a tar, gzip-compressed or not, of a model
//! directory): every entry is checked before the caller keeps it, and the bytes read are
//! capped whatever the headers claim. Writing the files and registering the model is the
//! route's (`routes::models`).

use std::cell::Cell;
use std::ffi::OsStr;
use std::io::{self, Read};
use std::path::{Component, Path};

/// Largest total size of the files a model archive unpacks to.
pub const MAX_MODEL_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;
/// Room for tar headers and padding on top of [`MAX_MODEL_UNPACKED_BYTES`] when the archive is
/// decompressed (a bomb stops there, whatever its headers claim).
const ARCHIVE_HEADROOM: u64 = 1024 * 1024;
/// The files a model archive may hold: what `vigie train` writes in a model directory.
pub const MODEL_ARCHIVE_FILES: [&str; 5] = [
    crate::scoring::model::META_FILE,
    crate::scoring::model::WEIGHTS_FILE,
    crate::judge::CARD_FILE,
    "validation.json",
    "perspective_calibration.json",
];
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads a model archive and hands `keep` each file after its entry is checked: a regular file
/// named as one of [`MODEL_ARCHIVE_FILES`], at the top of the archive or in its one directory,
/// at most once, all within [`MAX_MODEL_UNPACKED_BYTES`]. `keep` returns the bytes it read.
/// The error is the reason of the refusal.
pub fn walk(
    body: &[u8],
    mut keep: impl FnMut(&str, &mut dyn Read) -> io::Result<u64>,
) -> Result<(), String> {
    let read = Cell::new(0);
    let inner: Box<dyn Read + '_> = if body.starts_with(&GZIP_MAGIC) {
        Box::new(flate2::read::GzDecoder::new(body))
    } else {
        Box::new(body)
    };
    let unreadable = |e: io::Error| unreadable(&e, read.get());
    let mut archive = tar::Archive::new(Capped {
        inner,
        read: &read,
        cap: MAX_MODEL_UNPACKED_BYTES + ARCHIVE_HEADROOM,
    });
    let mut layout = Layout::default();
    let mut kept: Vec<&str> = Vec::new();
    let mut total = 0u64;
    for entry in archive.entries().map_err(unreadable)? {
        let mut entry = entry.map_err(unreadable)?;
        let shown: String = String::from_utf8_lossy(&entry.path_bytes())
            .chars()
            .take(200)
            .collect();
        let path = entry.path().map_err(unreadable)?.into_owned();
        let parts = parts(&path, &shown)?;
        match entry.header().entry_type() {
            tar::EntryType::Regular => {}
            tar::EntryType::Directory => {
                layout.directory(&parts, &shown)?;
                continue;
            }
            // pax metadata for the whole archive (`git archive` writes one): no file
            tar::EntryType::XGlobalHeader => continue,
            other => {
                return Err(format!(
                    "`{shown}`: is {}; a model archive holds only regular files",
                    not_a_file(other)
                ))
            }
        }
        let name = model_file(layout.file(&parts, &shown)?, &shown)?;
        if kept.contains(&name) {
            return Err(format!("`{shown}`: {name} is in the archive twice"));
        }
        let size = entry.size();
        total = total.saturating_add(size);
        if total > MAX_MODEL_UNPACKED_BYTES {
            return Err(too_large());
        }
        let got = keep(name, &mut entry).map_err(unreadable)?;
        if got != size {
            return Err(format!("`{shown}`: is cut short ({got} of {size} bytes)"));
        }
        kept.push(name);
    }
    // To its end: a gzip stream's checksum is in its last bytes.
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(unreadable)?;
    if !kept.contains(&crate::scoring::model::META_FILE) {
        return Err(format!("holds no {}", crate::scoring::model::META_FILE));
    }
    Ok(())
}

fn too_large() -> String {
    format!(
        "unpacks to more than {} MiB",
        MAX_MODEL_UNPACKED_BYTES >> 20
    )
}

/// The reason of a read error, `read` bytes into the decompressed archive.
fn unreadable(e: &io::Error, read: u64) -> String {
    if read > MAX_MODEL_UNPACKED_BYTES + ARCHIVE_HEADROOM {
        return too_large();
    }
    // The cause may quote the bytes of a corrupt header: shown only when readable.
    let cause = e.to_string();
    let readable = cause.len() <= 200 && cause.bytes().all(|b| b == b' ' || b.is_ascii_graphic());
    let cause = if readable {
        format!(": {cause}")
    } else {
        String::new()
    };
    format!("is not a readable tar archive (gzip-compressed or not){cause}")
}

/// The names along an entry's path; `..` and absolute paths refused.
fn parts<'p>(path: &'p Path, shown: &str) -> Result<Vec<&'p OsStr>, String> {
    let mut parts = Vec::new();
    for part in path.components() {
        match part {
            Component::Normal(p) => parts.push(p),
            Component::CurDir => {}
            Component::ParentDir => return Err(format!("`{shown}`: names a parent (`..`)")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("`{shown}`: is an absolute path"))
            }
        }
    }
    Ok(parts)
}

/// What an entry that is neither a file nor a directory is, in words.
fn not_a_file(t: tar::EntryType) -> &'static str {
    match t {
        tar::EntryType::Symlink => "a symbolic link",
        tar::EntryType::Link => "a hard link",
        tar::EntryType::Char | tar::EntryType::Block => "a device",
        tar::EntryType::Fifo => "a FIFO",
        _ => "not a regular file",
    }
}

/// `name` as one of [`MODEL_ARCHIVE_FILES`].
fn model_file(name: &OsStr, shown: &str) -> Result<&'static str, String> {
    MODEL_ARCHIVE_FILES
        .into_iter()
        .find(|f| OsStr::new(f) == name)
        .ok_or_else(|| {
            format!(
                "`{shown}`: is not a model's file; a model archive holds only {}",
                MODEL_ARCHIVE_FILES.join(", ")
            )
        })
}

/// Where the archive's files are: all at its top, or all in one directory.
#[derive(Default)]
struct Layout {
    /// `Some(None)`: at the top; `Some(Some(dir))`: in `dir`; `None`: not known yet.
    place: Option<Option<std::ffi::OsString>>,
}

impl Layout {
    fn settle(&mut self, dir: Option<&OsStr>, shown: &str) -> Result<(), String> {
        let dir = dir.map(OsStr::to_owned);
        match &self.place {
            None => {
                self.place = Some(dir);
                Ok(())
            }
            Some(p) if *p == dir => Ok(()),
            Some(_) => Err(format!(
                "`{shown}`: the files must all be at the top of the archive or all in one \
                 directory"
            )),
        }
    }

    /// A directory entry: the top, or the one directory.
    fn directory(&mut self, parts: &[&OsStr], shown: &str) -> Result<(), String> {
        match parts {
            [] => Ok(()),
            [dir] => self.settle(Some(dir), shown),
            _ => Err(nested(shown)),
        }
    }

    /// A file entry: its name, at the top or in the one directory.
    fn file<'p>(&mut self, parts: &[&'p OsStr], shown: &str) -> Result<&'p OsStr, String> {
        match parts {
            [name] => {
                self.settle(None, shown)?;
                Ok(name)
            }
            [dir, name] => {
                self.settle(Some(dir), shown)?;
                Ok(name)
            }
            _ => Err(nested(shown)),
        }
    }
}

fn nested(shown: &str) -> String {
    format!(
        "`{shown}`: is in a nested directory; the files go at the top of the archive or in one \
         directory"
    )
}

/// A reader that fails once more than `cap` bytes were read through it (`read` counts them).
struct Capped<'a, R> {
    inner: R,
    read: &'a Cell<u64>,
    cap: u64,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        if self.read.get() > self.cap {
            return Err(io::Error::other("the archive unpacks to too much data"));
        }
        Ok(n)
    }
}
