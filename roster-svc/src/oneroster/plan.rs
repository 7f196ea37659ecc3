//! Which files a bundle supplies, by its manifest, checked against the files it
//! holds: a supplied file that is missing stops the read; the rest are warnings.

use super::manifest::{self, Manifest};
use super::model::{FileMode, Version};
use super::reader::BundleError;
use super::source::Source;
use super::specs::{
    ACADEMIC_SESSIONS, CLASSES, COURSES, ENROLLMENTS, ORGS, ROLES, STEMS, Spec, USERS_1_1,
    USERS_1_2,
};

/// The files this bundle supplies that the reader uses, with their modes.
#[derive(Debug)]
pub(super) struct Plan {
    pub files: Vec<(&'static Spec, FileMode)>,
}

impl Plan {
    /// The mode of a supplied file; `None` when it is not supplied.
    pub(super) fn mode(&self, spec: &Spec) -> Option<FileMode> {
        self.files
            .iter()
            .find(|(s, _)| s.file == spec.file)
            .map(|(_, mode)| *mode)
    }
}

pub(super) fn users_spec(version: Version) -> &'static Spec {
    match version {
        Version::V1_1 => &USERS_1_1,
        Version::V1_2 | Version::V1_2_1 => &USERS_1_2,
    }
}

/// Which files to read, checked against what the bundle holds.
pub(super) fn plan(
    manifest: &Manifest,
    source: &dyn Source,
    warnings: &mut Vec<String>,
) -> Result<Plan, BundleError> {
    let mut used: Vec<&'static Spec> = vec![&ORGS, &ACADEMIC_SESSIONS, &COURSES, &CLASSES];
    if manifest.version != Version::V1_1 {
        used.push(&ROLES);
    }
    used.extend([users_spec(manifest.version), &ENROLLMENTS]);
    let stem = |spec: &Spec| spec.file.trim_end_matches(".csv").to_owned();

    for (stem, value) in &manifest.bad_modes {
        if used.iter().any(|spec| spec.file == format!("{stem}.csv")) {
            return Err(BundleError::Manifest(format!(
                "file.{stem} is \"{value}\"; it must be bulk, delta or absent"
            )));
        }
        warnings.push(format!(
            "manifest.csv: file.{stem} is \"{value}\", not bulk, delta or absent; ignored"
        ));
    }
    let mut files = Vec::new();
    for spec in used {
        let mode = manifest
            .modes
            .get(&stem(spec))
            .copied()
            .unwrap_or(FileMode::Absent);
        match (mode, source.has(spec.file)) {
            (FileMode::Absent, true) => warnings.push(format!(
                "{} is in the bundle, yet manifest.csv does not supply it (absent or not listed); \
                 it was not read",
                spec.file
            )),
            (FileMode::Absent, false) => {}
            (mode, true) => files.push((spec, mode)),
            (mode, false) => {
                return Err(BundleError::MissingFile {
                    file: spec.file.to_owned(),
                    mode: mode_name(mode),
                    found: source.case_variant(spec.file).map(str::to_owned),
                });
            }
        }
    }
    for (stem, mode) in &manifest.modes {
        let file = format!("{stem}.csv");
        if *mode == FileMode::Absent {
            continue;
        }
        if !source.has(&file) {
            warnings.push(format!(
                "{file} is missing, yet manifest.csv marks it {}; \
                 it is not used here, so nothing else changes",
                mode_name(*mode)
            ));
        } else if file == ROLES.file && manifest.version == Version::V1_1 {
            warnings.push(
                "roles.csv was ignored: it is a OneRoster 1.2 file, and in 1.1 users.csv gives roles"
                    .to_owned(),
            );
        }
    }
    warn_about_strange_names(source, warnings);
    Ok(Plan { files })
}

fn mode_name(mode: FileMode) -> &'static str {
    match mode {
        FileMode::Absent => "absent",
        FileMode::Bulk => "bulk",
        FileMode::Delta => "delta",
    }
}

/// CSV files the standard does not name, e.g. `userprofiles.csv` or SDS's `relationships.csv`.
fn warn_about_strange_names(source: &dyn Source, warnings: &mut Vec<String>) {
    let standard: Vec<String> = STEMS.iter().map(|stem| format!("{stem}.csv")).collect();
    for name in source.names() {
        let is_csv = name.to_ascii_lowercase().ends_with(".csv");
        if !is_csv || name == manifest::FILE || standard.contains(name) {
            continue;
        }
        match standard.iter().find(|s| s.eq_ignore_ascii_case(name)) {
            Some(meant) => warnings.push(format!(
                "{name} was ignored: file names are case-sensitive (the standard's name is {meant})"
            )),
            None => warnings.push(format!("{name} is not a OneRoster file; it was ignored")),
        }
    }
}
