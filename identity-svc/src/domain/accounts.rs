//! Accounts as the rules see them: kinds, statuses, names, roles, credentials.

use std::{collections::BTreeSet, fmt, str::FromStr};

pub use homeroom_platform::auth::Role;

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// The stored text form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("unknown {} {other:?}", stringify!($name))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// What kind of person an account belongs to (ID-1).
    AccountKind {
        /// A parent or other guardian.
        Guardian = "guardian",
        /// Teachers, administrators, aides.
        Staff = "staff",
        /// A student.
        Student = "student",
    }
);

text_enum!(
    /// The account's life cycle (ID-1).
    AccountStatus {
        /// Created by a sync or upload, not joined yet.
        Invitee = "invitee",
        /// Joined.
        Active = "active",
        /// Gone from the SIS; kept with its history.
        Deactivated = "deactivated",
    }
);

text_enum!(
    /// Where an address sits on an account (ID-2).
    CredentialKind {
        /// Login and email channel.
        Email = "email",
        /// Login and SMS/voice channel.
        MobilePhone = "mobile_phone",
        /// Kept on record only.
        HomePhone = "home_phone",
    }
);

impl CredentialKind {
    /// The kind of address row it points at.
    pub fn address_kind(self) -> &'static str {
        match self {
            CredentialKind::Email => "email",
            CredentialKind::MobilePhone | CredentialKind::HomePhone => "phone",
        }
    }

    /// All kinds, in display order.
    pub const ALL: [CredentialKind; 3] = [
        CredentialKind::Email,
        CredentialKind::MobilePhone,
        CredentialKind::HomePhone,
    ];
}

/// Stored text of a role.
pub fn role_str(role: Role) -> &'static str {
    match role {
        Role::DistrictAdmin => "district_admin",
        Role::RosteringAdmin => "rostering_admin",
        Role::CommunicationsAdmin => "communications_admin",
        Role::UserManager => "user_manager",
        Role::Teacher => "teacher",
        Role::Staff => "staff",
        Role::Guardian => "guardian",
    }
}

/// Parses the stored text of a role.
pub fn parse_role(s: &str) -> Result<Role, String> {
    Ok(match s {
        "district_admin" => Role::DistrictAdmin,
        "rostering_admin" => Role::RosteringAdmin,
        "communications_admin" => Role::CommunicationsAdmin,
        "user_manager" => Role::UserManager,
        "teacher" => Role::Teacher,
        "staff" => Role::Staff,
        "guardian" => Role::Guardian,
        other => return Err(format!("unknown role {other:?}")),
    })
}

/// A role with its scope: `school_id` empty means the whole district.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopedRole {
    /// The role.
    pub role: Role,
    /// School it is limited to; empty for the district.
    pub school_id: String,
}

/// A person's names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// Given (first) name.
    pub given: String,
    /// Middle name, may be empty.
    pub middle: String,
    /// Family (last) name.
    pub family: String,
}

impl Names {
    /// "Given Family".
    pub fn display(&self) -> String {
        [self.given.trim(), self.family.trim()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A student linked to a guardian, as roster reported it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LinkedStudent {
    /// Roster student id.
    pub student_id: String,
    /// Display name.
    pub display_name: String,
    /// School, may be empty.
    pub school_id: String,
}

/// Contact values of an account: normalised addresses per credential kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contacts {
    /// Email, normalised.
    pub email: Option<String>,
    /// Mobile phone, E.164.
    pub mobile_phone: Option<String>,
    /// Home phone, E.164.
    pub home_phone: Option<String>,
}

impl Contacts {
    /// The value of one kind.
    pub fn get(&self, kind: CredentialKind) -> Option<&str> {
        match kind {
            CredentialKind::Email => self.email.as_deref(),
            CredentialKind::MobilePhone => self.mobile_phone.as_deref(),
            CredentialKind::HomePhone => self.home_phone.as_deref(),
        }
    }

    /// Sets the value of one kind.
    pub fn set(&mut self, kind: CredentialKind, value: Option<String>) {
        match kind {
            CredentialKind::Email => self.email = value,
            CredentialKind::MobilePhone => self.mobile_phone = value,
            CredentialKind::HomePhone => self.home_phone = value,
        }
    }
}

/// What the store knows of an account, for planning an upsert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSnapshot {
    /// Account id.
    pub id: String,
    /// Kind.
    pub kind: AccountKind,
    /// Status.
    pub status: AccountStatus,
    /// Names.
    pub names: Names,
    /// Preferred language ('' = English).
    pub language: String,
    /// RO-6 flag.
    pub contact_managed_by_sync: bool,
    /// The source disabled sign-in (OneRoster `enabledUser` false).
    pub sign_in_disabled: bool,
    /// Whether the account ever joined (had a password or SSO login).
    pub ever_activated: bool,
    /// Current contacts.
    pub contacts: Contacts,
    /// Roles granted by the source being upserted.
    pub source_roles: BTreeSet<ScopedRole>,
    /// Linked students (guardians).
    pub linked_students: Vec<LinkedStudent>,
}
