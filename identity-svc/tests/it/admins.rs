//! ID-9: the first administrator. Only the operator's service client creates
//! one; the join link it returns lets them set a password once; a second run
//! finds the same account; only administrative roles are given; it is audited.

use homeroom_proto::identity::v1 as pb;

use crate::support::{audit_rows, bearer, server};

fn admin(email: &str, role: pb::Role) -> pb::CreateAdministratorRequest {
    pb::CreateAdministratorRequest {
        district_id: "district-1".into(),
        email: email.into(),
        given_name: "Ada".into(),
        family_name: "Admin".into(),
        role: role as i32,
    }
}

#[tokio::test]
async fn the_operator_creates_an_administrator_who_joins_with_the_link_once() {
    let mut s = server().await;
    let operator = s.service_token("operator").await;

    // Nobody else may: no token, the gateway's, roster's.
    let refused = s
        .client
        .create_administrator(admin("ada@district.org", pb::Role::DistrictAdmin))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    for other in ["gateway", "roster"] {
        let token = s.service_token(other).await;
        let refused = s
            .client
            .create_administrator(bearer(
                admin("ada@district.org", pb::Role::DistrictAdmin),
                &token,
            ))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::PermissionDenied, "{other}");
    }
    // Only administrative roles.
    let teacher = s
        .client
        .create_administrator(bearer(
            admin("ada@district.org", pb::Role::Teacher),
            &operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(teacher.code(), tonic::Code::InvalidArgument);
    assert!(teacher.message().contains("role"), "{}", teacher.message());

    let first = s
        .client
        .create_administrator(bearer(
            admin("Ada@District.org", pb::Role::DistrictAdmin),
            &operator,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(first.created && !first.already_joined);
    assert!(
        first.join_url.starts_with("/join?code="),
        "{}",
        first.join_url
    );
    assert!(first.join_url.ends_with(&first.join_token));
    // Again before joining: the same account, a new link; the old one ends.
    let again = s
        .client
        .create_administrator(bearer(
            admin("ada@district.org", pb::Role::DistrictAdmin),
            &operator,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.account_id, first.account_id);
    assert!(!again.created);
    assert_ne!(again.join_token, first.join_token);
    let stale = s
        .client
        .accept_invitation(pb::AcceptInvitationRequest {
            code: first.join_token.clone(),
            new_password: "ada-strong-password".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), tonic::Code::Unauthenticated);

    let joined = s
        .client
        .accept_invitation(pb::AcceptInvitationRequest {
            code: again.join_token.clone(),
            new_password: "ada-strong-password".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = joined.tokens.unwrap().access_token;
    let me = s
        .client
        .get_me(bearer(pb::GetMeRequest::default(), &token))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert_eq!(me.account_id, first.account_id);
    assert!(
        me.roles
            .iter()
            .any(|r| r.role == pb::Role::DistrictAdmin as i32 && r.district_id == "district-1"),
        "{:?}",
        me.roles
    );
    // The link is spent.
    let spent = s
        .client
        .accept_invitation(pb::AcceptInvitationRequest {
            code: again.join_token,
            new_password: "another-strong-password".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(spent.code(), tonic::Code::Unauthenticated);
    // Once joined, a run only says so: no link.
    let third = s
        .client
        .create_administrator(bearer(
            admin("ada@district.org", pb::Role::DistrictAdmin),
            &operator,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(third.already_joined && third.join_token.is_empty() && third.join_url.is_empty());

    let rows = audit_rows(&s.db.db, "district-1", "administrator_created").await;
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r.subject_account_id.as_deref() == Some(first.account_id.as_str()))
    );
}
