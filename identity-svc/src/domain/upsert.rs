//! Planning `UpsertAccounts` (RO-3, RO-6, ID-8): compare what a source supplies
//! with what an account holds and decide what to write and what to report.
//!
//! The rule of RO-6: on an ACTIVE account whose contact details are not managed
//! by the sync, names, email and phones stay as they are and every difference is
//! reported; on an invitee (or a sync-managed active account) they are applied.
//! Language, roles and linked students are always the source's.

use std::collections::BTreeSet;

use super::accounts::{
    AccountKind, AccountSnapshot, AccountStatus, Contacts, CredentialKind, LinkedStudent, Names,
    ScopedRole,
};

/// One account as the source supplies it, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// Key within the source system.
    pub source_id: String,
    /// Attach to this existing account when no account has the source key yet.
    pub account_id: Option<String>,
    /// Kind.
    pub kind: AccountKind,
    /// Names.
    pub names: Names,
    /// `None` leaves the language as it is.
    pub language: Option<String>,
    /// Per kind: `None` leaves the value, `Some(None)` removes it.
    pub email: Option<Option<String>>,
    /// See `email`.
    pub mobile_phone: Option<Option<String>>,
    /// See `email`.
    pub home_phone: Option<Option<String>>,
    /// Roles this source grants (replace its earlier grants).
    pub roles: BTreeSet<ScopedRole>,
    /// The RO-6 setting of the source.
    pub contact_managed_by_sync: bool,
    /// `Some` replaces the linked students.
    pub linked_students: Option<Vec<LinkedStudent>>,
    /// The source disabled the user (OneRoster `enabledUser` false): no sign-in.
    pub sign_in_disabled: bool,
}

impl Incoming {
    fn contact(&self, kind: CredentialKind) -> Option<&Option<String>> {
        match kind {
            CredentialKind::Email => self.email.as_ref(),
            CredentialKind::MobilePhone => self.mobile_phone.as_ref(),
            CredentialKind::HomePhone => self.home_phone.as_ref(),
        }
    }

    /// The record of an account merged into `survivor` (RO-8): it still
    /// brings its students and its source's roles, but the survivor's names,
    /// contact details, language and settings are the ones that stay.
    pub fn as_merged_into(&self, survivor: &AccountSnapshot) -> Incoming {
        Incoming {
            names: survivor.names.clone(),
            language: None,
            email: None,
            mobile_phone: None,
            home_phone: None,
            contact_managed_by_sync: survivor.contact_managed_by_sync,
            sign_in_disabled: survivor.sign_in_disabled,
            ..self.clone()
        }
    }
}

/// A contact field, for differences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Given name.
    GivenName,
    /// Middle name.
    MiddleName,
    /// Family name.
    FamilyName,
    /// A credential.
    Credential(CredentialKind),
}

/// A difference between stored and incoming contact details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Which field.
    pub field: Field,
    /// Stored value ('' if none).
    pub current: String,
    /// Incoming value ('' if none).
    pub incoming: String,
    /// For an applied email or phone change: other accounts that still hold
    /// the previous value (a notice sent to it then names its account).
    pub others_holding_current: u32,
}

/// What to write for an existing account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// New names.
    pub names: Option<Names>,
    /// New language.
    pub language: Option<String>,
    /// New contacts, per kind (`Some(None)` removes).
    pub contacts: Vec<(CredentialKind, Option<String>)>,
    /// New set of this source's roles.
    pub roles: Option<BTreeSet<ScopedRole>>,
    /// New RO-6 flag.
    pub contact_managed_by_sync: Option<bool>,
    /// New sign-in flag.
    pub sign_in_disabled: Option<bool>,
    /// New linked students.
    pub linked_students: Option<Vec<LinkedStudent>>,
    /// New status (reactivation of a deactivated account).
    pub status: Option<AccountStatus>,
}

/// The decision for one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A new invitee.
    Create,
    /// Write these changes.
    Update(Changes),
    /// Nothing to write.
    Unchanged,
}

/// The plan for one item and what to report about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemPlan {
    /// Create, update or leave.
    pub decision: Decision,
    /// Field names that change (`given_name`, `email`, `roles`…).
    pub changed_fields: Vec<&'static str>,
    /// RO-6 OFF on an active account: what was not applied.
    pub not_applied: Vec<Difference>,
    /// RO-6 ON on an active account: what was applied (for the notice).
    pub applied: Vec<Difference>,
    /// Status after the upsert.
    pub status_after: AccountStatus,
}

/// Plans one item against the account that holds its key (or `None`).
pub fn plan(incoming: &Incoming, current: Option<&AccountSnapshot>) -> ItemPlan {
    let Some(current) = current else {
        return ItemPlan {
            decision: Decision::Create,
            changed_fields: Vec::new(),
            not_applied: Vec::new(),
            applied: Vec::new(),
            status_after: AccountStatus::Invitee,
        };
    };
    let mut changes = Changes::default();
    let mut fields = Vec::new();
    let mut not_applied = Vec::new();
    let mut applied = Vec::new();

    let status_after = match current.status {
        AccountStatus::Deactivated if current.ever_activated => AccountStatus::Active,
        AccountStatus::Deactivated => AccountStatus::Invitee,
        other => other,
    };
    if status_after != current.status {
        changes.status = Some(status_after);
        fields.push("status");
    }
    // RO-6 / ID-8: only invitees and sync-managed active accounts take contact details.
    let protected = status_after == AccountStatus::Active && !incoming.contact_managed_by_sync;
    let report_applied = status_after == AccountStatus::Active && incoming.contact_managed_by_sync;

    let name_diffs: Vec<Difference> = [
        (
            Field::GivenName,
            &current.names.given,
            &incoming.names.given,
        ),
        (
            Field::MiddleName,
            &current.names.middle,
            &incoming.names.middle,
        ),
        (
            Field::FamilyName,
            &current.names.family,
            &incoming.names.family,
        ),
    ]
    .into_iter()
    .filter(|(_, now, new)| now != new)
    .map(|(field, now, new)| Difference {
        field,
        current: now.clone(),
        incoming: new.clone(),
        others_holding_current: 0,
    })
    .collect();
    let contact_diffs: Vec<(CredentialKind, Option<String>, Difference)> = CredentialKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let wanted = incoming.contact(kind)?;
            let now = current.contacts.get(kind);
            (now != wanted.as_deref()).then(|| {
                let difference = Difference {
                    field: Field::Credential(kind),
                    current: now.unwrap_or_default().to_string(),
                    incoming: wanted.clone().unwrap_or_default(),
                    others_holding_current: 0,
                };
                (kind, wanted.clone(), difference)
            })
        })
        .collect();

    if protected {
        not_applied.extend(name_diffs);
        not_applied.extend(contact_diffs.into_iter().map(|(_, _, d)| d));
    } else {
        if !name_diffs.is_empty() {
            for d in &name_diffs {
                fields.push(field_name(d.field));
            }
            changes.names = Some(incoming.names.clone());
        }
        for (kind, value, difference) in contact_diffs {
            fields.push(field_name(difference.field));
            changes.contacts.push((kind, value));
            if report_applied {
                applied.push(difference);
            }
        }
        if report_applied {
            applied.splice(0..0, name_diffs);
        }
    }

    if let Some(language) = incoming
        .language
        .as_ref()
        .filter(|l| **l != current.language)
    {
        changes.language = Some(language.clone());
        fields.push("preferred_language");
    }
    if incoming.roles != current.source_roles {
        changes.roles = Some(incoming.roles.clone());
        fields.push("roles");
    }
    if incoming.contact_managed_by_sync != current.contact_managed_by_sync {
        changes.contact_managed_by_sync = Some(incoming.contact_managed_by_sync);
        fields.push("contact_managed_by_sync");
    }
    if incoming.sign_in_disabled != current.sign_in_disabled {
        changes.sign_in_disabled = Some(incoming.sign_in_disabled);
        fields.push("sign_in_disabled");
    }
    if let Some(students) = &incoming.linked_students {
        let mut wanted = students.clone();
        wanted.sort();
        let mut now = current.linked_students.clone();
        now.sort();
        if wanted != now {
            changes.linked_students = Some(wanted);
            fields.push("linked_students");
        }
    }

    let decision = if fields.is_empty() {
        Decision::Unchanged
    } else {
        Decision::Update(changes)
    };
    ItemPlan {
        decision,
        changed_fields: fields,
        not_applied,
        applied,
        status_after,
    }
}

/// The stored contacts after `changes` on top of `current`.
pub fn contacts_after(current: &Contacts, changes: &Changes) -> Contacts {
    let mut after = current.clone();
    for (kind, value) in &changes.contacts {
        after.set(*kind, value.clone());
    }
    after
}

fn field_name(field: Field) -> &'static str {
    match field {
        Field::GivenName => "given_name",
        Field::MiddleName => "middle_name",
        Field::FamilyName => "family_name",
        Field::Credential(CredentialKind::Email) => "email",
        Field::Credential(CredentialKind::MobilePhone) => "mobile_phone",
        Field::Credential(CredentialKind::HomePhone) => "home_phone",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(given: &str, family: &str) -> Names {
        Names {
            given: given.into(),
            middle: String::new(),
            family: family.into(),
        }
    }

    fn sarah_incoming() -> Incoming {
        Incoming {
            source_id: "p-1".into(),
            account_id: None,
            kind: AccountKind::Guardian,
            names: names("Sarah", "Smith"),
            language: Some(String::new()),
            email: Some(Some("smithparent@mail.com".into())),
            mobile_phone: Some(Some("+19876543210".into())),
            home_phone: None,
            roles: BTreeSet::new(),
            contact_managed_by_sync: false,
            linked_students: None,
            sign_in_disabled: false,
        }
    }

    fn stored(status: AccountStatus) -> AccountSnapshot {
        AccountSnapshot {
            id: "acc-1".into(),
            kind: AccountKind::Guardian,
            status,
            names: names("Sarah", "Smith"),
            language: String::new(),
            contact_managed_by_sync: false,
            sign_in_disabled: false,
            ever_activated: status == AccountStatus::Active,
            contacts: Contacts {
                email: Some("smithparent@mail.com".into()),
                mobile_phone: Some("+19876543210".into()),
                home_phone: None,
            },
            source_roles: BTreeSet::new(),
            linked_students: Vec::new(),
        }
    }

    #[test]
    fn an_unknown_key_creates_an_invitee() {
        let plan = plan(&sarah_incoming(), None);
        assert_eq!(plan.decision, Decision::Create);
        assert_eq!(plan.status_after, AccountStatus::Invitee);
    }

    #[test]
    fn the_same_values_again_change_nothing() {
        let plan = plan(&sarah_incoming(), Some(&stored(AccountStatus::Active)));
        assert_eq!(plan.decision, Decision::Unchanged);
        assert!(plan.changed_fields.is_empty());
    }

    #[test]
    fn an_active_users_new_email_is_reported_not_applied_when_the_sync_does_not_manage_contacts() {
        let mut incoming = sarah_incoming();
        incoming.email = Some(Some("sarah@new.example".into()));
        let plan = plan(&incoming, Some(&stored(AccountStatus::Active)));
        assert_eq!(plan.decision, Decision::Unchanged);
        assert_eq!(
            plan.not_applied,
            vec![Difference {
                field: Field::Credential(CredentialKind::Email),
                current: "smithparent@mail.com".into(),
                incoming: "sarah@new.example".into(),
                others_holding_current: 0,
            }]
        );
    }

    #[test]
    fn an_invitees_contacts_are_always_updated() {
        let mut incoming = sarah_incoming();
        incoming.email = Some(Some("sarah@new.example".into()));
        let plan = plan(&incoming, Some(&stored(AccountStatus::Invitee)));
        assert_eq!(plan.changed_fields, vec!["email"]);
        assert!(plan.not_applied.is_empty() && plan.applied.is_empty());
    }

    #[test]
    fn a_sync_managed_active_account_takes_the_change_and_reports_it_for_the_notice() {
        let mut incoming = sarah_incoming();
        incoming.contact_managed_by_sync = true;
        incoming.mobile_phone = Some(Some("+15550001111".into()));
        let mut current = stored(AccountStatus::Active);
        current.contact_managed_by_sync = true;
        let plan = plan(&incoming, Some(&current));
        assert_eq!(plan.changed_fields, vec!["mobile_phone"]);
        assert_eq!(plan.applied.len(), 1);
        assert_eq!(plan.applied[0].current, "+19876543210");
    }

    #[test]
    fn an_unset_contact_is_left_alone_and_an_empty_one_removes_it() {
        let mut incoming = sarah_incoming();
        incoming.email = None;
        incoming.mobile_phone = Some(None);
        let plan = plan(&incoming, Some(&stored(AccountStatus::Invitee)));
        assert_eq!(plan.changed_fields, vec!["mobile_phone"]);
    }

    #[test]
    fn a_deactivated_account_that_reappears_comes_back() {
        let mut current = stored(AccountStatus::Deactivated);
        current.ever_activated = true;
        let plan = plan(&sarah_incoming(), Some(&current));
        assert_eq!(plan.status_after, AccountStatus::Active);
        assert!(plan.changed_fields.contains(&"status"));
    }
}
