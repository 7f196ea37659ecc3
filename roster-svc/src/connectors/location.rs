//! Where a OneRoster CSV source's bundle comes from, and what a district may
//! point it at (security): a district brings bundles by pushing them
//! (`ImportOneRosterBundle`, or `POST /sync-sources/{id}/bundles`), by an
//! `https` URL of a `.zip` (fetched under the [`OutboundPolicy`]), or — only
//! where the operator set `HOMEROOM_IMPORT_ROOT` — from a folder or `.zip`
//! under `<import root>/<district id>/`, the path checked when it is set and
//! again, canonicalised (no `..`, no symlink out), when it is read. Files
//! elsewhere on the host are never reachable from a district's settings.

use std::{
    io::{Seek, Write},
    path::{Component, Path, PathBuf},
    time::Duration,
};

use reqwest::Url;

use super::outbound::OutboundPolicy;
use crate::oneroster::{self, Bundle};

/// The largest bundle read from a URL (as pushed bundles).
pub const MAX_BUNDLE_BYTES: u64 = 512 * 1024 * 1024;

/// How long a bundle download may take.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Redirects followed (each one checked) when downloading a bundle.
const MAX_REDIRECTS: usize = 5;

/// What a district's settings may reach: host folders under the import
/// root, and the network under the outbound policy.
#[derive(Debug, Clone, Default)]
pub struct Boundary {
    /// `HOMEROOM_IMPORT_ROOT`; `None`: no host folder is reachable.
    pub import_root: Option<PathBuf>,
    /// `HOMEROOM_OUTBOUND_ALLOW` over the public internet.
    pub outbound: OutboundPolicy,
}

/// A location, as set on a source.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    /// A folder or `.zip`, relative to the district's import folder.
    Folder(PathBuf),
    /// A `.zip` to download.
    Url(Url),
}

const FIELD: &str = "connector.oneroster_csv.location";

impl Boundary {
    /// Checks a location a district sets; the error names the field and what
    /// to do instead.
    pub fn check_location(&self, district_id: &str, text: &str) -> Result<(), String> {
        self.parse(district_id, text).map(|_| ())
    }

    fn parse(&self, district_id: &str, text: &str) -> Result<Location, String> {
        let text = text.trim();
        if let Some((scheme, _)) = text.split_once("://") {
            let url = Url::parse(text).map_err(|e| format!("{FIELD}: not a URL ({e})"))?;
            if !matches!(scheme.to_ascii_lowercase().as_str(), "https" | "http") {
                return Err(format!(
                    "{FIELD}: {scheme}:// locations are not supported; give an https URL of the .zip, or upload the bundle"
                ));
            }
            self.outbound
                .check(&url)
                .map_err(|e| format!("{FIELD}: {e}"))?;
            return Ok(Location::Url(url));
        }
        let Some(root) = &self.import_root else {
            return Err(format!(
                "{FIELD}: folders on the server are not enabled here (the operator has not set HOMEROOM_IMPORT_ROOT); upload the bundle (POST /api/v1/sync-sources/{{id}}/bundles) or give an https URL of the .zip"
            ));
        };
        let mut path = Path::new(text);
        if path.is_absolute() {
            // An operator's absolute path is fine inside the district's folder.
            let base = root.join(district_id);
            let canonical = base.canonicalize().unwrap_or_else(|_| base.clone());
            path = path
                .strip_prefix(&base)
                .or_else(|_| path.strip_prefix(&canonical))
                .map_err(|_| {
                    format!(
                        "{FIELD}: give a folder or .zip inside the district's import folder (e.g. \"nightly\" or \"bundle.zip\"); other paths on the server are not reachable"
                    )
                })?;
        }
        if path
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)))
        {
            return Err(format!("{FIELD}: \"..\" is not allowed in a folder path"));
        }
        let relative: PathBuf = path
            .components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .collect();
        if relative.as_os_str().is_empty() {
            return Err(format!(
                "{FIELD}: name a folder or .zip inside the district's import folder"
            ));
        }
        Ok(Location::Folder(relative))
    }

    /// Reads the bundle at `text` for `district_id`; an error is worded for
    /// the district's administrator.
    pub async fn read_bundle(&self, district_id: &str, text: &str) -> Result<Bundle, String> {
        match self.parse(district_id, text)? {
            Location::Folder(relative) => {
                let root = self.import_root.clone().unwrap_or_default();
                let district = district_id.to_string();
                tokio::task::spawn_blocking(move || read_folder(&root, &district, &relative))
                    .await
                    .map_err(|e| format!("reading the bundle stopped: {e}"))?
            }
            Location::Url(url) => self.download(&url).await,
        }
    }

    async fn download(&self, url: &Url) -> Result<Bundle, String> {
        let shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
        let client = super::http::client(
            DOWNLOAD_TIMEOUT,
            self.outbound.redirects(MAX_REDIRECTS),
            &self.outbound,
        )
        .map_err(|e| e.to_string())?;
        let unreachable = |e: reqwest::Error| {
            let reason = match super::outbound::refused_in(&e) {
                Some(refused) => refused.to_string(),
                None if e.is_redirect() => format!("a redirect was refused ({e})"),
                None if e.is_timeout() => "the download timed out".to_string(),
                None => e.without_url().to_string(),
            };
            format!("the bundle at {shown} could not be downloaded: {reason}")
        };
        let mut answer = client.get(url.clone()).send().await.map_err(unreachable)?;
        if !answer.status().is_success() {
            return Err(format!(
                "the bundle at {shown} could not be downloaded: HTTP {}",
                answer.status().as_u16()
            ));
        }
        let too_large = || {
            format!(
                "the bundle at {shown} is larger than {} MiB",
                MAX_BUNDLE_BYTES / (1024 * 1024)
            )
        };
        if answer
            .content_length()
            .is_some_and(|n| n > MAX_BUNDLE_BYTES)
        {
            return Err(too_large());
        }
        let mut file = tempfile::tempfile().map_err(|e| format!("no room for the bundle: {e}"))?;
        let mut size = 0u64;
        while let Some(chunk) = answer.chunk().await.map_err(unreachable)? {
            size += chunk.len() as u64;
            if size > MAX_BUNDLE_BYTES {
                return Err(too_large());
            }
            file.write_all(&chunk)
                .map_err(|e| format!("no room for the bundle: {e}"))?;
        }
        tokio::task::spawn_blocking(move || {
            file.rewind().map_err(|e| e.to_string())?;
            oneroster::read_zip(std::io::BufReader::new(file)).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("reading the bundle stopped: {e}"))?
    }
}

/// Reads `<root>/<district>/<relative>` after checking, on the canonical
/// paths, that it is inside the district's folder.
fn read_folder(root: &Path, district: &str, relative: &Path) -> Result<Bundle, String> {
    let base = root.join(district).canonicalize().map_err(|_| {
        "the district's import folder does not exist on the server; ask the operator to create it"
            .to_string()
    })?;
    let shown = relative.display();
    let target = base
        .join(relative)
        .canonicalize()
        .map_err(|_| format!("{shown} does not exist in the district's import folder"))?;
    if !target.starts_with(&base) {
        return Err(format!(
            "{shown} leads outside the district's import folder (a link?); it is not read"
        ));
    }
    let prefix = format!("{}{}", base.display(), std::path::MAIN_SEPARATOR);
    oneroster::read_path(&target).map_err(|e| e.to_string().replace(&prefix, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boundary(root: Option<&Path>) -> Boundary {
        Boundary {
            import_root: root.map(Path::to_path_buf),
            outbound: OutboundPolicy::default(),
        }
    }

    #[test]
    fn without_an_import_root_only_urls_are_locations() {
        let b = boundary(None);
        let e = b.check_location("d", "/srv/district-a/bundle").unwrap_err();
        assert!(e.contains("HOMEROOM_IMPORT_ROOT"), "{e}");
        assert!(
            b.check_location("d", "https://sis.example.org/bundle.zip")
                .is_ok()
        );
        assert!(
            b.check_location("d", "http://sis.example.org/bundle.zip")
                .is_err()
        );
        assert!(
            b.check_location("d", "https://10.0.0.5/bundle.zip")
                .is_err()
        );
        assert!(b.check_location("d", "file:///etc/passwd").is_err());
    }

    #[test]
    fn a_folder_is_relative_to_the_districts_import_folder() {
        let root = tempfile::tempdir().unwrap();
        let b = boundary(Some(root.path()));
        assert!(b.check_location("b", "nightly").is_ok());
        assert!(b.check_location("b", "2026/bundle.zip").is_ok());
        let inside = root.path().join("b/nightly");
        assert!(b.check_location("b", &inside.display().to_string()).is_ok());
        let other = root.path().join("a/nightly");
        assert!(b.check_location("b", &other.display().to_string()).is_err());
        assert!(b.check_location("b", "../a/bundle").is_err());
        assert!(b.check_location("b", "nightly/../../x").is_err());
        assert!(b.check_location("b", "/etc").is_err());
        assert!(b.check_location("b", "").is_err());
    }

    #[test]
    fn a_link_out_of_the_districts_folder_is_not_followed() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("district-a/bundle")).unwrap();
        std::fs::create_dir_all(root.path().join("district-b")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            root.path().join("district-a/bundle"),
            root.path().join("district-b/stolen"),
        )
        .unwrap();
        let e = read_folder(root.path(), "district-b", Path::new("stolen")).unwrap_err();
        assert!(e.contains("leads outside"), "{e}");
        let e = read_folder(root.path(), "district-c", Path::new("x")).unwrap_err();
        assert!(e.contains("does not exist"), "{e}");
    }
}
