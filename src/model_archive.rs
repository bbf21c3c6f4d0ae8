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

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar of `entries` (path, bytes), gzip-compressed when `gz`.
    fn archive(entries: &[(&str, &[u8])], gz: bool) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, bytes) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, path, *bytes).unwrap();
        }
        let tar = b.into_inner().unwrap();
        if !gz {
            return tar;
        }
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut e, &tar).unwrap();
        e.finish().unwrap()
    }

    /// The files `walk` keeps, with their sizes, or its refusal.
    fn kept(body: &[u8]) -> Result<Vec<(String, u64)>, String> {
        let mut out = Vec::new();
        walk(body, |name, r| {
            let n = io::copy(r, &mut io::sink())?;
            out.push((name.to_owned(), n));
            Ok(n)
        })?;
        Ok(out)
    }

    #[test]
    fn a_models_files_at_the_top_or_in_one_directory_are_kept() {
        for gz in [false, true] {
            let top = archive(&[("model.json", b"{}"), ("weights.bin", b"1234")], gz);
            assert_eq!(
                kept(&top).unwrap(),
                [("model.json".to_owned(), 2), ("weights.bin".to_owned(), 4)]
            );
            let dir = archive(
                &[("v1/model.json", b"{}"), ("./v1/MODEL_CARD.md", b"#")],
                gz,
            );
            assert_eq!(kept(&dir).unwrap().len(), 2);
        }
    }

    #[test]
    fn anything_else_is_refused_with_the_entry_named() {
        let refused = |entries: &[(&str, &[u8])], want: &str| {
            let e = kept(&archive(entries, true)).unwrap_err();
            assert!(e.contains(want), "{entries:?}: {e}");
        };
        refused(&[("notes.txt", b"x")], "is not a model's file");
        refused(&[("a/b/model.json", b"{}")], "nested directory");
        refused(
            &[("model.json", b"{}"), ("v1/weights.bin", b"1")],
            "must all be at the top of the archive",
        );
        refused(&[("model.json", b"{}"), ("./model.json", b"{}")], "twice");
        refused(&[("weights.bin", b"1")], "holds no model.json");
        assert!(kept(b"not an archive at all, just text")
            .unwrap_err()
            .contains("not a readable tar archive"));
        assert!(kept(&[0x1f, 0x8b, 0, 1, 2, 3]).is_err(), "a broken gzip");
    }

    #[test]
    fn parents_absolute_paths_and_links_are_refused() {
        let p = Path::new("../model.json");
        assert!(parts(p, "../model.json").unwrap_err().contains("`..`"));
        let p = Path::new("/etc/model.json");
        assert!(parts(p, "/etc/model.json")
            .unwrap_err()
            .contains("absolute"));
        assert_eq!(not_a_file(tar::EntryType::Symlink), "a symbolic link");
        assert_eq!(not_a_file(tar::EntryType::Link), "a hard link");
        assert_eq!(not_a_file(tar::EntryType::Fifo), "a FIFO");
        assert_eq!(not_a_file(tar::EntryType::Char), "a device");
    }

    #[test]
    fn a_file_larger_than_the_limit_is_refused_before_it_is_read() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(MAX_MODEL_UNPACKED_BYTES + 1);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_path("weights.bin").unwrap();
        h.set_cksum();
        b.append(&h, io::empty()).ok();
        let body = b.into_inner().unwrap_or_default();
        let mut read_any = false;
        let e = walk(&body, |_, _| {
            read_any = true;
            Ok(0)
        })
        .unwrap_err();
        assert!(e.contains("unpacks to more than 64 MiB"), "{e}");
        assert!(!read_any);
    }
}
