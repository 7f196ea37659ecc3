//! ID-9, the shared-credential report downloaded as CSV: the streamed download,
//! one row per (address, holder), and the cell escaping that keeps formulas text.

use std::collections::{BTreeSet, HashMap};

use futures::{StreamExt, stream::BoxStream};
use homeroom_platform::{auth::Principal, db::Db};

use super::{
    SHARED_REPORT, admin_district,
    shared_credentials::{SharedCredentialView, SharedFilter, shared_in, with_holders},
};
use crate::{
    domain::{accounts::role_str, error::IdentityError},
    store::{self, reports::SharedAddress},
};

/// The media type of the download.
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";

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
    caller: &Principal,
    filter: SharedFilter,
) -> Result<CsvDownload, IdentityError> {
    let district = admin_district(caller, &filter.district_id, SHARED_REPORT)?;
    let kinds = filter.kind_texts();
    let found = {
        let district = district.clone();
        db.run(move |conn| shared_in(conn, &district, &filter))
            .await?
    };
    tracing::info!(shared = found.len(), "shared-credential report downloaded");
    let mut head = String::from("\u{feff}");
    csv_line(&mut head, &CSV_HEADER);
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
                let mut out = String::new();
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
        chunks: futures::stream::once(async move { Ok(head.into_bytes()) })
            .chain(body)
            .boxed(),
    })
}

fn csv_rows(out: &mut String, view: &SharedCredentialView, school_names: &HashMap<String, String>) {
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
        csv_line(
            out,
            &[
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
            ],
        );
    }
}

/// One CSV record (RFC 4180, CRLF).
fn csv_line(out: &mut String, cells: &[&str]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_cell(out, cell);
    }
    out.push_str("\r\n");
}

/// A cell, quoted when needed; a cell a spreadsheet would read as a formula
/// (starting with = + - @, tab or CR) is prefixed with `'` so it stays text.
fn csv_cell(out: &mut String, cell: &str) {
    let neutralised;
    let cell = if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        neutralised = format!("'{cell}");
        neutralised.as_str()
    } else {
        cell
    };
    if cell.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(cell);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(s: &str) -> String {
        let mut out = String::new();
        csv_cell(&mut out, s);
        out
    }

    #[test]
    fn formula_like_cells_are_neutralised_and_special_characters_quoted() {
        assert_eq!(cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(cell("+19876543210"), "'+19876543210");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("Smith, Sarah"), "\"Smith, Sarah\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("plain"), "plain");
    }
}
