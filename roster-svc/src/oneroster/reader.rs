//! Reading a whole bundle: the manifest, which files it supplies, every header
//! checked before any row is read, then the rows.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use super::headers::ColumnProblems;
use super::manifest;
use super::model::{Bundle, FileMode, Version};
use super::plan::{Plan, plan, users_spec};
use super::source::{DirSource, Source, ZipSource};
use super::specs::{ACADEMIC_SESSIONS, CLASSES, COURSES, ENROLLMENTS, ORGS, ROLES, Spec};
use super::table::{Report, Table};
use super::{people, records};

/// Why a bundle could not be read, worded for the district admin who uploaded it.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The path could not be opened or listed.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a zip archive.
    #[error(
        "the upload is not a zip file that can be opened ({0}); \
         zip the OneRoster CSV files and upload the .zip"
    )]
    NotZip(String),
    /// An entry of the zip cannot be unpacked.
    #[error("{file} in the zip cannot be unpacked: {message}")]
    ZipEntry {
        /// The entry, e.g. `users.csv`.
        file: String,
        /// The cause.
        message: String,
    },
    /// Several top-level folders of the zip hold a manifest.csv.
    #[error("the zip holds several bundles ({0}); upload one bundle per zip")]
    SeveralBundles(String),
    /// No manifest.csv: OneRoster 1.0, Microsoft SDS, or not a bundle at all.
    #[error(
        "manifest.csv is missing: OneRoster 1.1 and 1.2 bundles need one \
         (this looks like OneRoster 1.0 / Microsoft SDS, which are not supported)"
    )]
    NoManifest,
    /// manifest.csv cannot be used.
    #[error("manifest.csv: {0}")]
    Manifest(String),
    /// `oneroster.version` is not 1.1, 1.2 or 1.2.1.
    #[error(
        "manifest.csv says oneroster.version \"{0}\"; \
         only OneRoster 1.1, 1.2 and 1.2.1 bundles are supported"
    )]
    UnsupportedVersion(String),
    /// The manifest marks a file bulk or delta, but the bundle lacks it.
    #[error("{file} is missing, yet manifest.csv marks it {mode}{}", case_hint(.found.as_deref()))]
    MissingFile {
        /// The file, e.g. `users.csv`.
        file: String,
        /// `bulk` or `delta`.
        mode: &'static str,
        /// A file in the bundle whose name differs only in case.
        found: Option<String>,
    },
    /// A data file has no header line.
    #[error("{0} is empty: it needs at least its header line")]
    EmptyFile(String),
    /// A file's header is not UTF-8.
    #[error("{0} is not UTF-8 text: save it as UTF-8 (in Excel: CSV UTF-8) and upload again")]
    NotUtf8(String),
    /// Headers that do not match the standard, every file's problems at once.
    #[error("{}", lines(.0))]
    Columns(Vec<ColumnProblems>),
    /// A file could not be read to its end (a damaged zip, a read error).
    #[error("{file} cannot be read at line {line}: {message}")]
    Read {
        /// The file.
        file: String,
        /// The line reached.
        line: u64,
        /// The cause.
        message: String,
    },
}

fn case_hint(found: Option<&str>) -> String {
    found.map_or_else(String::new, |name| {
        format!(" (the bundle has {name}: file names are case-sensitive)")
    })
}

fn lines(problems: &[ColumnProblems]) -> String {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// Reads a bundle from a folder or a `.zip` file.
pub fn read_path(path: &Path) -> Result<Bundle, BundleError> {
    let io = |source| BundleError::Io {
        path: path.to_path_buf(),
        source,
    };
    if std::fs::metadata(path).map_err(io)?.is_dir() {
        read_dir(path)
    } else {
        read_zip(BufReader::new(File::open(path).map_err(io)?))
    }
}

/// Reads a bundle unpacked in a folder.
pub fn read_dir(dir: &Path) -> Result<Bundle, BundleError> {
    read(&mut DirSource::new(dir)?)
}

/// Reads a zipped bundle; its files may sit in one top-level folder.
pub fn read_zip<R: Read + Seek>(zip: R) -> Result<Bundle, BundleError> {
    read(&mut ZipSource::new(zip)?)
}

#[tracing::instrument(skip_all)]
fn read(source: &mut dyn Source) -> Result<Bundle, BundleError> {
    if !source.has(manifest::FILE) {
        return Err(BundleError::NoManifest);
    }
    let manifest = manifest::parse(source.open(manifest::FILE)?)?;
    let version = manifest.version;
    let mut report = Report {
        warnings: manifest.warnings.clone(),
        ..Report::default()
    };
    let plan = plan(&manifest, &*source, &mut report.warnings)?;
    check_headers(source, &plan, version, &mut report.warnings)?;

    let mut files = Files {
        source,
        plan: &plan,
        version,
    };
    let orgs = files.read(&ORGS, &mut report, records::orgs)?;
    let academic_sessions =
        files.read(&ACADEMIC_SESSIONS, &mut report, records::academic_sessions)?;
    let courses = files.read(&COURSES, &mut report, records::courses)?;
    let classes = files.read(&CLASSES, &mut report, records::classes)?;
    let roles = files.read(&ROLES, &mut report, people::roles)?;
    let users = files.read(users_spec(version), &mut report, |table, mode, report| {
        people::users(table, mode, version, &roles, report)
    })?;
    let enrollments = files.read(&ENROLLMENTS, &mut report, records::enrollments)?;
    let roles_missing = version != Version::V1_1 && plan.mode(&ROLES).is_none();
    if roles_missing && plan.mode(users_spec(version)).is_some() {
        report.warnings.push(
            "users.csv is supplied without roles.csv: OneRoster 1.2 keeps each person's role there"
                .to_owned(),
        );
    }
    let bundle = Bundle {
        version,
        manifest: manifest.properties,
        modes: manifest.modes,
        orgs,
        academic_sessions,
        courses,
        classes,
        users,
        enrollments,
        row_errors: report.row_errors,
        warnings: report.warnings,
        link_details: Default::default(),
    };
    tracing::debug!(
        version = version.as_str(),
        users = bundle.users.len(),
        enrollments = bundle.enrollments.len(),
        row_errors = bundle.row_errors.len(),
        "oneroster bundle read"
    );
    Ok(bundle)
}

/// Checks every supplied file's header before any row is read, so one error
/// lists every header problem in the bundle.
fn check_headers(
    source: &mut dyn Source,
    plan: &Plan,
    version: Version,
    warnings: &mut Vec<String>,
) -> Result<(), BundleError> {
    let mut problems = Vec::new();
    for (spec, _) in &plan.files {
        match Table::open(source, spec, version) {
            Ok((_, header_warnings)) => warnings.extend(header_warnings),
            Err(BundleError::Columns(found)) => problems.extend(found),
            Err(other) => return Err(other),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(BundleError::Columns(problems))
    }
}

/// The supplied files, read one at a time.
struct Files<'s, 'p> {
    source: &'s mut dyn Source,
    plan: &'p Plan,
    version: Version,
}

impl Files<'_, '_> {
    /// Reads `spec`'s file with `parse`; nothing (the default) when the bundle
    /// does not supply it.
    fn read<T: Default>(
        &mut self,
        spec: &'static Spec,
        report: &mut Report,
        parse: impl FnOnce(Table<'_>, FileMode, &mut Report) -> Result<T, BundleError>,
    ) -> Result<T, BundleError> {
        let Some(mode) = self.plan.mode(spec) else {
            return Ok(T::default());
        };
        let (table, _) = Table::open(self.source, spec, self.version)?;
        parse(table, mode, report)
    }
}
