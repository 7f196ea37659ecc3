//! manifest.csv: the version, which files are supplied and how, and the
//! quirks real manifests have (all cells quoted, empty values, misspelt names).

use std::collections::BTreeMap;
use std::io::Read;

use super::headers::closest;
use super::model::{FileMode, Version};
use super::reader::BundleError;
use super::specs::STEMS;

pub(super) const FILE: &str = "manifest.csv";

/// Properties the standard defines besides `file.*` and `source.*`.
const PROPERTIES: &[&str] = &["manifest.version", "oneroster.version"];

/// A manifest, read.
#[derive(Debug)]
pub(super) struct Manifest {
    pub version: Version,
    /// Every property as written.
    pub properties: BTreeMap<String, String>,
    /// `file.<stem>` modes with a valid value (blank is absent).
    pub modes: BTreeMap<String, FileMode>,
    /// `file.<stem>` properties whose value is not bulk, delta or absent.
    pub bad_modes: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

/// Reads manifest.csv.
pub(super) fn parse(input: impl Read) -> Result<Manifest, BundleError> {
    let properties = read_properties(input)?;
    let mut warnings = properties.warnings;
    let mut modes = BTreeMap::new();
    let mut bad_modes = Vec::new();
    for (name, value) in &properties.values {
        if let Some(stem) = name.strip_prefix("file.") {
            if !STEMS.contains(&stem) {
                warnings.push(unknown_property(name));
            }
            match mode(value) {
                Some(mode) => {
                    modes.insert(stem.to_owned(), mode);
                }
                None => bad_modes.push((stem.to_owned(), value.clone())),
            }
        } else if !name.starts_with("source.") && !PROPERTIES.contains(&name.as_str()) {
            warnings.push(unknown_property(name));
        }
    }
    let version = version(properties.values.get("oneroster.version"))?;
    if let Some(v) = properties.values.get("manifest.version")
        && v != "1.0"
        && v != "1"
    {
        warnings.push(format!(
            "manifest.csv: manifest.version \"{v}\" is not 1.0; read as 1.0"
        ));
    }
    Ok(Manifest {
        version,
        properties: properties.values,
        modes,
        bad_modes,
        warnings,
    })
}

struct Properties {
    values: BTreeMap<String, String>,
    warnings: Vec<String>,
}

fn read_properties(input: impl Read) -> Result<Properties, BundleError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut values = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => return Err(manifest_error(&error)),
        }
        let name = record
            .get(0)
            .unwrap_or_default()
            .trim_start_matches('\u{feff}')
            .trim();
        let value = record.get(1).unwrap_or_default().trim();
        if std::mem::take(&mut first) {
            if name == "propertyName" && value == "value" {
                continue;
            }
            if !name.contains('.') {
                return Err(BundleError::Manifest(format!(
                    "the first line must be the header propertyName,value, not \"{}\"",
                    record.iter().collect::<Vec<_>>().join(",")
                )));
            }
            warnings.push(
                "manifest.csv has no header line (propertyName,value); read anyway".to_owned(),
            );
        }
        if name.is_empty() {
            continue;
        }
        let replaced = values.insert(name.to_owned(), value.to_owned());
        if replaced.is_some() {
            warnings.push(format!(
                "manifest.csv lists {name} twice; the last value was used"
            ));
        }
    }
    Ok(Properties { values, warnings })
}

fn manifest_error(error: &csv::Error) -> BundleError {
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => BundleError::Manifest(
            "it is not UTF-8 text; save it as UTF-8 and upload again".to_owned(),
        ),
        _ => BundleError::Read {
            file: FILE.to_owned(),
            line: error.position().map_or(0, csv::Position::line),
            message: error.to_string(),
        },
    }
}

fn mode(value: &str) -> Option<FileMode> {
    match value.to_ascii_lowercase().as_str() {
        "" | "absent" => Some(FileMode::Absent),
        "bulk" => Some(FileMode::Bulk),
        "delta" => Some(FileMode::Delta),
        _ => None,
    }
}

fn version(value: Option<&String>) -> Result<Version, BundleError> {
    match value.map(String::as_str) {
        Some("1.1") => Ok(Version::V1_1),
        Some("1.2") => Ok(Version::V1_2),
        Some("1.2.1") => Ok(Version::V1_2_1),
        Some(other) => Err(BundleError::UnsupportedVersion(other.to_owned())),
        None => Err(BundleError::Manifest(
            "it has no oneroster.version line; add one saying 1.1 or 1.2".to_owned(),
        )),
    }
}

fn unknown_property(name: &str) -> String {
    let known = PROPERTIES
        .iter()
        .map(|p| (*p).to_owned())
        .chain(STEMS.iter().map(|stem| format!("file.{stem}")));
    let known: Vec<String> = known.collect();
    match closest(name, known.iter().map(String::as_str)) {
        Some(near) => {
            format!("manifest.csv: unknown property {name} (did you mean {near}?); ignored")
        }
        None => format!("manifest.csv: unknown property {name}; ignored"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_crlf_manifest_without_final_newline_reads() {
        let text = "\u{feff}\"propertyName\",\"value\"\r\n\"source.systemName\",\"ClassLink\"\r\n\
                    \"manifest.version\",\"1\"\r\n\"oneroster.version\",\"1.2.1\"\r\n\
                    \"file.users\",\"bulk\"\r\n\"file.orgs\",\"Delta\"\r\nfile.userProfiles,";
        let manifest = parse(text.as_bytes()).unwrap();
        assert_eq!(manifest.version, Version::V1_2_1);
        assert_eq!(manifest.modes["users"], FileMode::Bulk);
        assert_eq!(manifest.modes["orgs"], FileMode::Delta);
        assert_eq!(manifest.modes["userProfiles"], FileMode::Absent);
        assert_eq!(manifest.properties["source.systemName"], "ClassLink");
        assert!(manifest.warnings.is_empty(), "{:?}", manifest.warnings);
    }

    #[test]
    fn a_misspelt_property_is_a_warning() {
        let text = "propertyName,value\noneroster.version,1.1\nfiel.demographics,absent\n";
        let manifest = parse(text.as_bytes()).unwrap();
        assert_eq!(
            manifest.warnings,
            [
                "manifest.csv: unknown property fiel.demographics (did you mean file.demographics?); ignored"
            ]
        );
    }

    #[test]
    fn version_1_0_is_not_supported() {
        let text = "propertyName,value\noneroster.version,1.0\n";
        let error = parse(text.as_bytes()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "manifest.csv says oneroster.version \"1.0\"; only OneRoster 1.1, 1.2 and 1.2.1 bundles are supported"
        );
    }

    #[test]
    fn a_bad_mode_is_kept_for_the_reader_to_judge() {
        let text = "propertyName,value\noneroster.version,1.1\nfile.users,full\n";
        let manifest = parse(text.as_bytes()).unwrap();
        assert_eq!(
            manifest.bad_modes,
            [("users".to_owned(), "full".to_owned())]
        );
    }
}
