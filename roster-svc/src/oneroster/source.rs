//! Where a bundle's files come from: a folder, or a zip whose files sit at its
//! root or in one top-level folder.

use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use zip::ZipArchive;
use zip::result::ZipError;

use super::reader::BundleError;

/// The files of one bundle, by their names at the bundle's root.
pub(super) trait Source {
    /// Every file name at the bundle's root, as written.
    fn names(&self) -> &[String];

    /// Opens a file listed by [`Source::names`].
    fn open(&mut self, name: &str) -> Result<Box<dyn Read + '_>, BundleError>;

    /// Whether the bundle holds a file of exactly this name.
    fn has(&self, name: &str) -> bool {
        self.names().iter().any(|n| n == name)
    }

    /// A file whose name differs from `name` only in case, for "did you mean".
    fn case_variant(&self, name: &str) -> Option<&str> {
        self.names()
            .iter()
            .find(|n| n.as_str() != name && n.eq_ignore_ascii_case(name))
            .map(String::as_str)
    }
}

/// A bundle unpacked in a folder.
pub(super) struct DirSource {
    dir: PathBuf,
    names: Vec<String>,
}

impl DirSource {
    pub(super) fn new(dir: &Path) -> Result<Self, BundleError> {
        let io = |source| BundleError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let is_file = entry.file_type().map_err(io)?.is_file();
            if let (true, Some(name)) = (is_file, entry.file_name().to_str()) {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(Self {
            dir: dir.to_path_buf(),
            names,
        })
    }
}

impl Source for DirSource {
    fn names(&self) -> &[String] {
        &self.names
    }

    fn open(&mut self, name: &str) -> Result<Box<dyn Read + '_>, BundleError> {
        let path = self.dir.join(name);
        let file = File::open(&path).map_err(|source| BundleError::Io { path, source })?;
        Ok(Box::new(file))
    }
}

/// A zipped bundle. Entries under `__MACOSX/` and `._*` files are Finder litter.
pub(super) struct ZipSource<R> {
    archive: ZipArchive<R>,
    names: Vec<String>,
    indexes: Vec<usize>,
}

impl<R: Read + Seek> ZipSource<R> {
    pub(super) fn new(reader: R) -> Result<Self, BundleError> {
        let archive = ZipArchive::new(reader).map_err(|e| BundleError::NotZip(e.to_string()))?;
        let entries: Vec<(String, usize)> = (0..archive.len())
            .filter_map(|i| Some((entry_path(archive.name_for_index(i)?)?, i)))
            .collect();
        let root = bundle_root(&entries)?;
        let (names, indexes) = entries
            .into_iter()
            .filter_map(|(path, i)| {
                let name = path.strip_prefix(root.as_str())?;
                (!name.contains('/')).then(|| (name.to_owned(), i))
            })
            .unzip();
        Ok(Self {
            archive,
            names,
            indexes,
        })
    }
}

impl<R: Read + Seek> Source for ZipSource<R> {
    fn names(&self) -> &[String] {
        &self.names
    }

    fn open(&mut self, name: &str) -> Result<Box<dyn Read + '_>, BundleError> {
        let index = self
            .names
            .iter()
            .position(|n| n == name)
            .and_then(|at| self.indexes.get(at).copied())
            .ok_or_else(|| BundleError::ZipEntry {
                file: name.to_owned(),
                message: "it is not in the zip".to_owned(),
            })?;
        let file = self
            .archive
            .by_index(index)
            .map_err(|e| BundleError::ZipEntry {
                file: name.to_owned(),
                message: zip_message(&e),
            })?;
        Ok(Box::new(file))
    }
}

/// An entry's path with `/` separators; `None` for folders and Finder litter.
fn entry_path(raw: &str) -> Option<String> {
    let path = raw.replace('\\', "/");
    let base = path.rsplit('/').next().unwrap_or_default();
    let litter = path.starts_with("__MACOSX/") || base.starts_with("._");
    (!path.ends_with('/') && !litter).then_some(path)
}

/// The folder (`""` or `"name/"`) that holds manifest.csv: the zip's root, else
/// its one top-level folder that has one. Without any, the root (the manifest
/// check then says it is missing).
fn bundle_root(entries: &[(String, usize)]) -> Result<String, BundleError> {
    if entries.iter().any(|(path, _)| path == "manifest.csv") {
        return Ok(String::new());
    }
    let folders: Vec<&str> = entries
        .iter()
        .filter_map(|(path, _)| path.strip_suffix("manifest.csv"))
        .filter(|folder| folder.matches('/').count() == 1 && folder.ends_with('/'))
        .collect();
    match folders.as_slice() {
        [] => Ok(String::new()),
        [one] => Ok((*one).to_owned()),
        several => Err(BundleError::SeveralBundles(several.join(", "))),
    }
}

fn zip_message(error: &ZipError) -> String {
    match error {
        ZipError::UnsupportedArchive(what) => format!(
            "{what}; zip the files again with standard (deflate) compression and no password"
        ),
        other => other.to_string(),
    }
}
