//! RO-1: districts and their settings.

use homeroom_platform::{auth::Principal, contact::Region, db::Db};

use super::access;
use crate::{
    domain::error::RosterError,
    store::districts::{self, DistrictRow},
};

/// A new district's name and settings.
#[derive(Debug, Clone)]
pub struct NewDistrict {
    pub name: String,
    pub time_zone: Option<String>,
    pub default_phone_region: Option<String>,
    pub supported_languages: Vec<String>,
    pub idempotency_key: Option<String>,
}

fn check_settings(row: &DistrictRow) -> Result<(), RosterError> {
    if row.time_zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(RosterError::InvalidArgument(format!(
            "time_zone: {:?} is not an IANA time zone such as \"America/Chicago\"",
            row.time_zone
        )));
    }
    Region::parse(&row.default_phone_region)
        .map_err(|e| RosterError::InvalidArgument(e.to_string()))?;
    Ok(())
}

/// Creates a district (service callers: the operator CLI and the demo loader).
pub async fn create(
    db: &Db,
    caller: &Principal,
    new: NewDistrict,
) -> Result<DistrictRow, RosterError> {
    access::service(caller)?;
    let name = new.name.trim().to_string();
    if name.is_empty() {
        return Err(RosterError::InvalidArgument(
            "name: a district needs a name".into(),
        ));
    }
    homeroom_platform::text::within("name", &name, homeroom_platform::text::NAME)
        .map_err(RosterError::InvalidArgument)?;
    let now = chrono::Utc::now().naive_utc();
    let mut languages: Vec<String> = vec!["en".into()];
    for l in new.supported_languages {
        let l = l.trim().to_string();
        if !l.is_empty() && !languages.contains(&l) {
            languages.push(l);
        }
    }
    let row = DistrictRow {
        id: uuid::Uuid::now_v7().to_string(),
        name,
        time_zone: new
            .time_zone
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "America/New_York".into()),
        default_phone_region: new
            .default_phone_region
            .filter(|r| !r.is_empty())
            .map(|r| r.to_uppercase())
            .unwrap_or_else(|| "US".into()),
        supported_languages: languages.join(" "),
        status: "active".into(),
        idempotency_key: new.idempotency_key.filter(|k| !k.is_empty()),
        created_at: now,
        updated_at: now,
    };
    check_settings(&row)?;
    db.transaction(move |c| {
        if let Some(key) = &row.idempotency_key
            && let Some(existing) = districts::by_key(c, key)?
        {
            return Ok(existing);
        }
        districts::insert(c, &row)?;
        Ok(row)
    })
    .await
}

/// One district the caller may see.
pub async fn get(db: &Db, caller: &Principal, id: &str) -> Result<DistrictRow, RosterError> {
    access::district_member(caller, id)?;
    let id = id.to_string();
    db.run(move |c| districts::get(c, &id).map_err(RosterError::from))
        .await?
        .ok_or_else(|| RosterError::NotFound("no such district".into()))
}

/// Districts the caller may see: all for services, their own for accounts.
pub async fn list(
    db: &Db,
    caller: &Principal,
    after: Option<(String, String)>,
    limit: i64,
) -> Result<Vec<DistrictRow>, RosterError> {
    match caller {
        Principal::Account { district_id, .. } => {
            if after.is_some() {
                return Ok(vec![]);
            }
            Ok(get(db, caller, district_id)
                .await
                .map(|d| vec![d])
                .unwrap_or_default())
        }
        Principal::Service { .. } => {
            db.run(move |c| {
                districts::list(
                    c,
                    after.as_ref().map(|(n, i)| (n.as_str(), i.as_str())),
                    limit,
                )
                .map_err(RosterError::from)
            })
            .await
        }
    }
}

/// Settings changes; `None` keeps a value.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    pub time_zone: Option<String>,
    pub default_phone_region: Option<String>,
    pub supported_languages: Option<Vec<String>>,
}

/// Changes a district's settings (DISTRICT_ADMIN).
pub async fn update_settings(
    db: &Db,
    caller: &Principal,
    id: &str,
    change: SettingsChange,
) -> Result<DistrictRow, RosterError> {
    access::district_admin(caller, id)?;
    let mut row = get(db, caller, id).await?;
    if let Some(tz) = change.time_zone {
        row.time_zone = tz;
    }
    if let Some(region) = change.default_phone_region {
        row.default_phone_region = region.to_uppercase();
    }
    if let Some(langs) = change.supported_languages {
        let mut all = vec!["en".to_string()];
        all.extend(
            langs
                .into_iter()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty() && l != "en"),
        );
        row.supported_languages = all.join(" ");
    }
    row.updated_at = chrono::Utc::now().naive_utc();
    check_settings(&row)?;
    let saved = row.clone();
    db.run(move |c| districts::update_settings(c, &saved).map_err(RosterError::from))
        .await?;
    Ok(row)
}
