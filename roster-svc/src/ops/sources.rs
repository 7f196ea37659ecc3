//! RO-2 / RO-6: sync sources of a district or school, with their connector
//! settings (credentials sealed at rest, see [`Secrets`]).

use homeroom_platform::{auth::Principal, db::Db};
use homeroom_proto::identity::v1 as idpb;

use super::{Ctx, access};
use crate::{
    domain::error::RosterError,
    store::sync::{self, SourceRow},
};

mod connector;
mod settings;

pub use settings::{
    CleverInput, CleverSettings, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RestAuthMethod, RestInput,
    RestSettings, Secrets, StoredConfig, page_size, secret_set,
};

/// Source kinds as stored.
pub const KINDS: [&str; 4] = ["oneroster_csv", "oneroster_rest", "clever", "upload"];

/// What a caller may set on a source.
#[derive(Debug, Clone, Default)]
pub struct SourceInput {
    pub district_id: String,
    pub school_id: Option<String>,
    pub name: String,
    pub kind: String,
    pub location: Option<String>,
    /// CLEVER settings (write-only token inside).
    pub clever: Option<CleverInput>,
    /// ONEROSTER_REST settings (write-only secrets inside).
    pub oneroster_rest: Option<RestInput>,
    pub daily_at: Option<String>,
    pub paused: bool,
    pub manages_guardians: bool,
    pub send_invitations: bool,
    pub unarchive_classes: bool,
    pub update_active_user_contacts: bool,
    pub deactivation_threshold_percent: Option<u32>,
    /// Grades whose students get accounts (CEDS codes); empty: none.
    pub student_account_grades: Vec<String>,
}

/// `settings.student_account_grades` as stored: CEDS codes (`9` → `09`),
/// each once, space-separated.
fn grades(input: &[String]) -> Result<String, RosterError> {
    let mut out: Vec<&str> = Vec::new();
    for raw in input {
        let raw = raw.trim();
        let code = crate::domain::grades::code(raw).ok_or_else(|| {
            RosterError::InvalidArgument(format!(
                "settings.student_account_grades: {raw:?} is not a grade; use CEDS codes \
                     such as KG, 01 … 12"
            ))
        })?;
        if !out.contains(&code) {
            out.push(code);
        }
    }
    Ok(out.join(" "))
}

fn check(row: &SourceRow) -> Result<(), RosterError> {
    if row.name.trim().is_empty() {
        return Err(RosterError::InvalidArgument(
            "display_name: a sync source needs a name".into(),
        ));
    }
    homeroom_platform::text::within("display_name", &row.name, homeroom_platform::text::NAME)
        .map_err(RosterError::InvalidArgument)?;
    if let Some(t) = &row.daily_at
        && chrono::NaiveTime::parse_from_str(t, "%H:%M").is_err()
    {
        return Err(RosterError::InvalidArgument(format!(
            "schedule.daily_time: {t:?} is not a time like \"02:30\" (24 h)"
        )));
    }
    if !(1..=100).contains(&row.deactivation_threshold_percent) {
        return Err(RosterError::InvalidArgument(
            "settings.deactivation_threshold_percent: use a share from 1 to 100".into(),
        ));
    }
    Ok(())
}

/// The configured bundle location of a CSV source.
pub fn location(row: &SourceRow) -> String {
    StoredConfig::parse(&row.config).location
}

/// Creates a source.
pub async fn create(
    ctx: &Ctx,
    caller: &Principal,
    input: SourceInput,
) -> Result<SourceRow, RosterError> {
    access::roster_admin(caller, &input.district_id, input.school_id.as_deref())?;
    match input.kind.as_str() {
        "oneroster_csv" | "upload" | "oneroster_rest" | "clever" => {}
        _ => {
            return Err(RosterError::InvalidArgument(
                "kind: choose ONEROSTER_CSV, ONEROSTER_REST, CLEVER or UPLOAD".into(),
            ));
        }
    }
    let now = chrono::Utc::now();
    let id = uuid::Uuid::now_v7().to_string();
    let (mut config, secret_ciphertext) = connector::create(&id, &input, &ctx.secrets)?;
    connector::check_reach(&ctx.boundary, &input.district_id, &config)?;
    config.schedule_from = Some(now);
    let now = now.naive_utc();
    let row = SourceRow {
        id,
        district_id: input.district_id.clone(),
        school_id: input.school_id.clone(),
        kind: input.kind.clone(),
        name: input.name.trim().to_string(),
        config: config.to_json(),
        secret_ciphertext,
        daily_at: input.daily_at.clone().filter(|t| !t.is_empty()),
        paused: input.paused,
        manages_guardians: input.manages_guardians,
        send_invitations: input.send_invitations,
        unarchive_classes: input.unarchive_classes,
        update_active_user_contacts: input.update_active_user_contacts,
        student_account_grades: grades(&input.student_account_grades)?,
        deactivation_threshold_percent: i32::try_from(
            input.deactivation_threshold_percent.unwrap_or(20),
        )
        .unwrap_or(20),
        deleted: false,
        created_at: now,
        updated_at: now,
    };
    check(&row)?;
    let saved = row.clone();
    ctx.db
        .transaction(move |c| {
            if crate::store::districts::get(c, &saved.district_id)?.is_none() {
                return Err(RosterError::NotFound("no such district".into()));
            }
            if let Some(school) = &saved.school_id {
                use crate::store::schema::schools;
                use diesel::prelude::*;
                let found: i64 = schools::table
                    .filter(schools::id.eq(school))
                    .filter(schools::district_id.eq(&saved.district_id))
                    .count()
                    .get_result(c)?;
                if found == 0 {
                    return Err(RosterError::InvalidArgument(format!(
                        "school_id: {school} is not a school of this district"
                    )));
                }
            }
            sync::insert_source(c, &saved)?;
            Ok(())
        })
        .await?;
    Ok(row)
}

/// A source the caller may see.
pub async fn get(db: &Db, caller: &Principal, id: &str) -> Result<SourceRow, RosterError> {
    let key = id.to_string();
    let row = db
        .run(move |c| sync::source(c, &key).map_err(RosterError::from))
        .await?
        .ok_or_else(|| RosterError::NotFound("no such sync source".into()))?;
    access::roster_admin(caller, &row.district_id, row.school_id.as_deref())
        .map_err(|_| RosterError::NotFound("no such sync source".into()))?;
    Ok(row)
}

/// A district's sources.
pub async fn list(
    db: &Db,
    caller: &Principal,
    district_id: &str,
    school_id: Option<String>,
    after: Option<(String, String)>,
    limit: i64,
) -> Result<Vec<SourceRow>, RosterError> {
    access::roster_admin(caller, district_id, school_id.as_deref())?;
    let district = district_id.to_string();
    db.run(move |c| {
        sync::sources(
            c,
            &district,
            school_id.as_deref(),
            after.as_ref().map(|(n, i)| (n.as_str(), i.as_str())),
            limit,
        )
        .map_err(RosterError::from)
    })
    .await
}

/// Applies the listed fields of `input` to a source. Toggling RO-6 tells
/// identity to flip `contact_managed_by_sync` on the source's accounts.
pub async fn update(
    ctx: &Ctx,
    caller: &Principal,
    id: &str,
    input: SourceInput,
    paths: &[String],
) -> Result<SourceRow, RosterError> {
    let mut row = get(&ctx.db, caller, id).await?;
    let before = row.clone();
    let mut config = StoredConfig::parse(&row.config);
    let mut fresh = Secrets::default();
    let mut connector_changed = false;
    for path in paths {
        match path.as_str() {
            "display_name" => row.name = input.name.trim().to_string(),
            "schedule.daily_time" => {
                row.daily_at = input.daily_at.clone().filter(|t| !t.is_empty())
            }
            "schedule.paused" => row.paused = input.paused,
            "settings.manages_guardians" => row.manages_guardians = input.manages_guardians,
            "settings.send_invitations" => row.send_invitations = input.send_invitations,
            "settings.unarchive_classes" => row.unarchive_classes = input.unarchive_classes,
            "settings.student_account_grades" => {
                row.student_account_grades = grades(&input.student_account_grades)?;
            }
            "settings.update_active_user_contacts" => {
                row.update_active_user_contacts = input.update_active_user_contacts;
            }
            "settings.deactivation_threshold_percent" => {
                row.deactivation_threshold_percent =
                    i32::try_from(input.deactivation_threshold_percent.unwrap_or(20)).unwrap_or(20);
            }
            p if p.starts_with("connector.") => {
                connector::update(&row.kind, &mut config, &mut fresh, p, &input)?;
                connector_changed = true;
            }
            other => {
                return Err(RosterError::InvalidArgument(format!(
                    "update_mask: {other:?} cannot be changed"
                )));
            }
        }
    }
    check(&row)?;
    let stored = StoredConfig::parse(&before.config);
    if connector_changed {
        connector::check_reach(&ctx.boundary, &row.district_id, &config)?;
        let new_token = fresh.district_token.is_some();
        row.secret_ciphertext =
            connector::finish(&row.id, &config, fresh, Some(&before), &ctx.secrets)?;
        if let (Some(now), Some(was)) = (config.clever.as_mut(), stored.clever.as_ref())
            && (new_token || now.base_url != was.base_url || !now.use_events)
        {
            // Events of another district, token or feed mean nothing here.
            now.cursor = None;
        }
    }
    let schedule_set = row.daily_at != before.daily_at || (before.paused && !row.paused);
    if schedule_set && row.daily_at.is_some() {
        config.schedule_from = Some(chrono::Utc::now());
    }
    if config != stored {
        row.config = config.to_json();
    }
    if row == before {
        return Ok(row);
    }
    if row.update_active_user_contacts != before.update_active_user_contacts {
        ctx.accounts
            .set_contact_managed_by_sync(idpb::SetContactManagedBySyncRequest {
                district_id: row.district_id.clone(),
                source_system: row.id.clone(),
                contact_managed_by_sync: row.update_active_user_contacts,
            })
            .await
            .map_err(|s| {
                RosterError::Unavailable(format!(
                    "identity-svc did not take the new setting; nothing changed: {}",
                    s.message()
                ))
            })?;
    }
    row.updated_at = chrono::Utc::now().naive_utc();
    let saved = row.clone();
    ctx.db
        .run(move |c| sync::update_source(c, &saved).map_err(RosterError::from))
        .await?;
    Ok(row)
}

/// Deletes a source: its schedule and secrets go; its records, runs and
/// reports stay, and nobody is deactivated.
pub async fn delete(db: &Db, caller: &Principal, id: &str) -> Result<(), RosterError> {
    let mut row = get(db, caller, id).await?;
    if !matches!(caller, Principal::Service { .. })
        && !caller.has_district_role(
            &row.district_id,
            homeroom_platform::auth::Role::DistrictAdmin,
        )
        && !caller.has_district_role(
            &row.district_id,
            homeroom_platform::auth::Role::RosteringAdmin,
        )
    {
        return Err(RosterError::PermissionDenied(
            "only district or rostering administrators of the district may delete a source".into(),
        ));
    }
    row.deleted = true;
    row.secret_ciphertext = None;
    row.daily_at = None;
    row.updated_at = chrono::Utc::now().naive_utc();
    db.run(move |c| sync::update_source(c, &row).map_err(RosterError::from))
        .await
}
