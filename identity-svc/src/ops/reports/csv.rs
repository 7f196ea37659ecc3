//! ID-9, the shared-credential report downloaded as CSV: the streamed download,
//! one row per (address, holder). The file format (BOM, quoting, formulas kept
//! as text) is platform's [`CsvReport`].

use std::collections::{BTreeSet, HashMap};

use futures::{StreamExt, stream::BoxStream};
pub use homeroom_platform::report_file::CSV_CONTENT_TYPE;
use homeroom_platform::{auth::Principal, db::Db, report_file::CsvReport};

use super::{
    SHARED_REPORT, admin_district,
    shared_credentials::{
        SharedCache, SharedCredentialView, SharedFilter, shared_in, with_holders,
    },
};
use crate::{
    domain::{accounts::role_str, error::IdentityError},
    store::{self, reports::SharedAddress},
};

/// Addresses rendered per streamed chunk.
const CSV_BATCH: usize = 200;

const CSV_HEADER: [&str; 10] = [
    "Credential kind",
    "Value",
    "Shared count",
    "Account id",
    "Name",
    "Account kind",
    "Status",
    "Roles",
    "Linked students",
    "Confirmed",
];

/// A CSV file as a stream of chunks.
pub struct CsvDownload {
    /// Suggested file name.
    pub filename: String,
    /// [`CSV_CONTENT_TYPE`].
    pub content_type: &'static str,
    /// The bytes: a UTF-8 BOM and the header first, then rows.
    pub chunks: BoxStream<'static, Result<Vec<u8>, IdentityError>>,
}

impl std::fmt::Debug for CsvDownload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvDownload")
            .field("filename", &self.filename)
            .finish_non_exhaustive()
    }
}

/// ID-9: the whole report as CSV, one row per (address, holder). The caller is
/// checked and the shared addresses found before the first byte; holders are
/// loaded batch by batch as the stream is read.
#[tracing::instrument(skip_all, fields(district_id = %filter.district_id))]
pub async fn shared_credentials_csv(
    db: &Db,
    cache: &std::sync::Arc<SharedCache>,
    caller: &Principal,
    filter: SharedFilter,
) -> Result<CsvDownload, IdentityError> {
    let district = admin_district(caller, &filter.district_id, SHARED_REPORT)?;
    let kinds = filter.kind_texts();
    let found = {
        let (district, cache) = (district.clone(), std::sync::Arc::clone(cache));
        db.run(move |conn| shared_in(conn, &cache, &district, &filter))
            .await?
    };
    tracing::info!(shared = found.len(), "shared-credential report downloaded");
    let head = CsvReport::new(&CSV_HEADER).into_bytes();
    let batches: Vec<Vec<SharedAddress>> = found.chunks(CSV_BATCH).map(<[_]>::to_vec).collect();
    let db = db.clone();
    let body = futures::stream::iter(batches).then(move |batch| {
        let (db, district, kinds) = (db.clone(), district.clone(), kinds.clone());
        async move {
            db.run(move |conn| {
                let views = with_holders(conn, &district, &batch, &kinds)?;
                let schools: Vec<String> = views
                    .iter()
                    .flat_map(|v| &v.holders)
                    .flat_map(|h| {
                        let roles = h.roles.iter().map(|r| r.role.school_id.clone());
                        roles.chain(h.linked_students.iter().map(|s| s.school_id.clone()))
                    })
                    .filter(|s| !s.is_empty())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let names = store::accounts::org_names(conn, &schools)?;
                let mut out = CsvReport::rows_only();
                for view in &views {
                    csv_rows(&mut out, view, &names);
                }
                Ok::<_, IdentityError>(out.into_bytes())
            })
            .await
        }
    });
    Ok(CsvDownload {
        filename: format!(
            "shared-credentials-{}.csv",
            chrono::Utc::now().format("%Y-%m-%d")
        ),
        content_type: CSV_CONTENT_TYPE,
        chunks: futures::stream::once(async move { Ok(head) })
            .chain(body)
            .boxed(),
    })
}

fn csv_rows(
    out: &mut CsvReport,
    view: &SharedCredentialView,
    school_names: &HashMap<String, String>,
) {
    let school = |id: &str| {
        school_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    };
    let count = view.shared_count.to_string();
    for h in &view.holders {
        let roles: Vec<String> = h
            .roles
            .iter()
            .map(|r| match r.role.school_id.as_str() {
                "" => role_str(r.role.role).to_string(),
                id => format!("{} at {}", role_str(r.role.role), school(id)),
            })
            .collect();
        let students: Vec<String> = h
            .linked_students
            .iter()
            .map(|s| match s.school_id.as_str() {
                "" => s.display_name.clone(),
                id => format!("{} ({})", s.display_name, school(id)),
            })
            .collect();
        out.row([
            view.kind.as_str(),
            &view.value,
            &count,
            &h.account_id,
            &h.display_name,
            h.kind.as_str(),
            h.status.as_str(),
            &roles.join("; "),
            &students.join("; "),
            if h.confirmed { "yes" } else { "no" },
        ]);
    }
}
