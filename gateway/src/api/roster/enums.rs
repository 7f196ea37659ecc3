//! The roster API's enums as JSON strings: each proto value's name without
//! its prefix (`ONEROSTER_CSV`, `COMPLETED`), read and written alike, so a bad
//! name is a 400 from the extractor and the document lists every name.

use homeroom_proto::roster::v1 as pb;

/// A serde + OpenAPI enum mirroring a proto enum without its UNSPECIFIED
/// value, its variants named by `case` (a serde `rename_all`) on the way out
/// and read in any case, with `-` for `_` (`GUARDIAN`, `guardian`,
/// `guardian-link`); with conversions both ways.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident: $pb:ident as $case:tt {
        $($variant:ident),+ $(,)?
    }) => {
        $(#[$meta])*
        // `tt`, not `literal`: utoipa reads the names only from plain tokens.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
        #[serde(rename_all = $case)]
        pub enum $name {
            $($variant,)+
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let given = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                read_any_case(&[$($name::$variant),+], &given).map_err(serde::de::Error::custom)
            }
        }

        impl From<$name> for pb::$pb {
            fn from(v: $name) -> pb::$pb {
                match v {
                    $($name::$variant => pb::$pb::$variant,)+
                }
            }
        }

        impl From<$name> for i32 {
            fn from(v: $name) -> i32 {
                pb::$pb::from(v).into()
            }
        }

        impl $name {
            /// The value of a proto enum field; `None` when unset or unknown.
            pub fn of(value: i32) -> Option<$name> {
                match pb::$pb::try_from(value).ok()? {
                    $(pb::$pb::$variant => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

/// The variant of `all` whose wire name is `given` in any case, with `-`
/// for `_`; else an error listing the names.
fn read_any_case<T: serde::Serialize + Copy>(all: &[T], given: &str) -> Result<T, String> {
    let name = |v: &T| {
        serde_json::to_value(v)
            .ok()
            .and_then(|j| j.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let wanted = given.trim().replace('-', "_");
    all.iter()
        .copied()
        .find(|v| name(v).eq_ignore_ascii_case(&wanted))
        .ok_or_else(|| {
            let names: Vec<String> = all.iter().map(name).collect();
            format!("unknown value {given:?}: one of {}", names.join(", "))
        })
}

wire_enum! {
    /// RO-2: the kind of a sync source (fixed at creation).
    SourceKind: SyncSourceKind as "SCREAMING_SNAKE_CASE" {
        OnerosterCsv, OnerosterRest, Clever, Upload
    }
}

wire_enum! {
    /// RO-2: how a OneRoster REST source authenticates.
    AuthMethod: OneRosterAuthMethod as "SCREAMING_SNAKE_CASE" {
        Oauth2ClientCredentials, Oauth1HmacSha256, BearerToken
    }
}

wire_enum! {
    /// RO-3: the status of a sync run.
    RunStatus: SyncRunStatus as "SCREAMING_SNAKE_CASE" { Queued, Running, Completed, Failed }
}

wire_enum! {
    /// RO-2: what started a run.
    Trigger: SyncTrigger as "SCREAMING_SNAKE_CASE" { Schedule, OnDemand, BundleImport, Upload }
}

wire_enum! {
    /// RO-3: a full snapshot or changes only.
    Mode: SyncMode as "SCREAMING_SNAKE_CASE" { Full, Delta }
}

wire_enum! {
    /// RO-3: why a run failed.
    FailureKind: SyncFailureKind as "SCREAMING_SNAKE_CASE" {
        DeactivationGuard, CredentialsRejected, SourceUnavailable, InvalidInput, Internal
    }
}

wire_enum! {
    /// RO-3: the phase a run is in.
    Phase: SyncPhase as "SCREAMING_SNAKE_CASE" { Reading, Planning, Applying, Reporting, Done }
}

wire_enum! {
    /// RO-5: the kind of record a report row is about.
    Entity: RosterEntity as "SCREAMING_SNAKE_CASE" {
        District, School, AcademicSession, Course, Class, Enrollment, Student, Staff, Guardian,
        GuardianLink,
    }
}

wire_enum! {
    /// RO-5 / RO-7: what happened to a record (or would, on a dry run).
    Action: RecordAction as "SCREAMING_SNAKE_CASE" {
        Created, Updated, Unchanged, Deactivated, Skipped, Error, Abandoned
    }
}

wire_enum! {
    /// RO-5 / RO-7: the file format of a download.
    Format: ReportFormat as "lowercase" { Csv, Xlsx }
}

wire_enum! {
    /// RO-7: the status of a guardian upload.
    UploadStatus: GuardianUploadStatus as "SCREAMING_SNAKE_CASE" {
        Queued, InProgress, Completed, Failed
    }
}

wire_enum! {
    /// RO-7: the result of one row of an upload.
    RowResult: UploadRowResult as "SCREAMING_SNAKE_CASE" { Success, Error }
}

wire_enum! {
    /// RO-8: why guardian records look like one person.
    DuplicateReason: DuplicateGuardianReason as "SCREAMING_SNAKE_CASE" {
        SameNameSharedCredential, SameNameSameStudent
    }
}

wire_enum! {
    /// RO-1: whether a rostered record is active.
    RecordStatus: RecordStatus as "SCREAMING_SNAKE_CASE" { Active, Deactivated, Archived }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_reads_and_writes_as_the_proto_value_without_its_prefix() {
        let kind: SourceKind = serde_json::from_str("\"ONEROSTER_CSV\"").unwrap();
        assert_eq!(kind, SourceKind::OnerosterCsv);
        assert_eq!(serde_json::to_string(&kind).unwrap(), "\"ONEROSTER_CSV\"");
        assert_eq!(
            pb::SyncSourceKind::from(kind),
            pb::SyncSourceKind::OnerosterCsv
        );
        assert!(serde_json::from_str::<SourceKind>("\"SIS\"").is_err());
        let result: RowResult = serde_json::from_str("\"error\"").unwrap();
        let entity: Entity = serde_json::from_str("\"guardian\"").unwrap();
        assert_eq!(entity, Entity::Guardian);
        let link: Entity = serde_json::from_str("\"guardian-link\"").unwrap();
        assert_eq!(link, Entity::GuardianLink);
        let format: Format = serde_json::from_str("\"XLSX\"").unwrap();
        assert_eq!(format, Format::Xlsx);
        let e = serde_json::from_str::<Entity>("\"teacher\"").unwrap_err();
        assert!(e.to_string().contains("GUARDIAN_LINK"), "{e}");
        assert_eq!(serde_json::to_string(&result).unwrap(), "\"ERROR\"");
        assert_eq!(
            serde_json::to_string(&AuthMethod::Oauth1HmacSha256).unwrap(),
            "\"OAUTH1_HMAC_SHA256\""
        );
    }

    #[test]
    fn an_unset_proto_value_is_none() {
        assert_eq!(RunStatus::of(0), None);
        assert_eq!(RunStatus::of(99), None);
        assert_eq!(
            RunStatus::of(pb::SyncRunStatus::Completed.into()),
            Some(RunStatus::Completed)
        );
        assert_eq!(i32::from(Format::Xlsx), pb::ReportFormat::Xlsx as i32);
    }
}
