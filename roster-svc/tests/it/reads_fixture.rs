//! A small district synced from a OneRoster bundle for the read RPCs, and
//! the callers that read it: administrators (district- or school-scoped),
//! teachers, guardians, another district's administrator, services.
//!
//! Lincoln Elementary (sch1) has Ana Smith (03), Cal Jones (03), Dee Jones
//! (04) and Eve Park (05); Washington Middle (sch2) has Ben Smith (07).
//! Sarah Smith (g1) is the parent of Ana and Ben, Kevin Smith (g2) a
//! guardian of Ana, Pat Jones (g3) a relative of Dee. Tom Reed (t1) teaches
//! the Grade 3 Homeroom (c1: Ana, Cal), Val Moss (t3) Math 3 (c3: Ana,
//! Cal), Una Vance (t2) Science 7 at Washington (c2: Ben). Amy Ward (a1) is
//! Lincoln's administrator, Ned Cole (n1) Washington's counselor.

use std::{collections::HashMap, path::Path};

use diesel::prelude::*;
use homeroom_platform::{
    auth::{Principal, Role, RoleGrant},
    db::DbError,
};
use homeroom_proto::roster::v1::{self as pb, roster_service_server::RosterService};
use roster_svc::{
    grpc::RosterApi,
    store::schema::{academic_sessions, classes, people, schools},
};
use tonic::{Code, Request, Status};

use crate::sync_engine::{Fixture, service};

const ORGS: &str = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
d1,,,Springfield,district,,
sch1,,,Lincoln Elementary,school,101,d1
sch2,,,Washington Middle,school,102,d1";

const SESSIONS: &str =
    "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear
y26,,,2026-2027,schoolYear,2026-08-01,2027-06-30,,2027
f26,,,Fall 2026,term,2026-08-01,2026-12-20,y26,2027
s27,,,Spring 2027,term,2027-01-05,2027-06-30,y26,2027";

const COURSES: &str = "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes
crs-math,,,y26,Mathematics 3,MATH3,03,sch1,,";

const CLASSES: &str = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods
c1,,,Grade 3 Homeroom,03,,HR3,homeroom,,sch1,y26,,,
c2,,,Science 7,07,,SCI7,scheduled,,sch2,f26,,,
c3,,,Math 3,03,crs-math,MATH3,scheduled,,sch1,\"f26,s27\",,,";

const USERS: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password
s1,,,true,sch1,student,,,Ana,Smith,,1001,,,,\"g1,g2\",03,
s2,,,true,sch2,student,,,Ben,Smith,,1002,,,,g1,07,
s3,,,true,sch1,student,,,Cal,Jones,,1003,,,,,03,
s4,,,true,sch1,student,,,Dee,Jones,,1004,,,,g3,04,
s5,,,true,sch1,student,,,Eve,Park,,1005,,,,,05,
g1,,,true,sch1,parent,,,Sarah,Smith,,,sarah@mail.com,,,\"s1,s2\",,
g2,,,true,sch1,guardian,,,Kevin,Smith,,,kevin@mail.com,,,s1,,
g3,,,true,sch1,relative,,,Pat,Jones,,,pat@mail.com,,,s4,,
t1,,,true,sch1,teacher,,,Tom,Reed,,,treed@school.org,,,,,
t2,,,true,sch2,teacher,,,Una,Vance,,,uvance@school.org,,,,,
t3,,,true,sch1,teacher,,,Val,Moss,,,vmoss@school.org,,,,,
a1,,,true,sch1,administrator,,,Amy,Ward,,,award@school.org,,,,,
n1,,,true,sch2,counselor,,,Ned,Cole,,,ncole@school.org,,,,,";

const ENROLLMENTS: &str = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate
e1,,,c1,sch1,s1,student,false,,
e2,,,c1,sch1,t1,teacher,true,,
e3,,,c2,sch2,s2,student,false,,
e4,,,c2,sch2,t2,teacher,true,,
e5,,,c3,sch1,s1,student,false,,
e6,,,c3,sch1,s3,student,false,,
e7,,,c3,sch1,t3,teacher,true,,
e8,,,c1,sch1,s3,student,false,,";

fn write_bundle(dir: &Path) {
    let files = [
        ("orgs", ORGS),
        ("academicSessions", SESSIONS),
        ("courses", COURSES),
        ("classes", CLASSES),
        ("users", USERS),
        ("enrollments", ENROLLMENTS),
    ];
    let mut manifest =
        String::from("propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n");
    for (name, content) in files {
        manifest.push_str(&format!("file.{name},bulk\n"));
        std::fs::write(dir.join(format!("{name}.csv")), content).unwrap();
    }
    std::fs::write(dir.join("manifest.csv"), manifest).unwrap();
}

/// The synced district, its roster ids by source id, and the API over it.
pub(crate) struct District {
    pub(crate) f: Fixture,
    pub(crate) api: RosterApi,
    ids: HashMap<String, String>,
}

impl District {
    pub(crate) async fn new() -> District {
        let f = Fixture::new().await;
        write_bundle(f.dir.path());
        let source = f.source(None, false).await;
        let run = f.sync(&source, false).await;
        assert_eq!(run.status, "completed", "{run:?}");
        let district = f.district_id.clone();
        let ids = f
            .ctx
            .db
            .run(move |c| {
                let mut all: Vec<(String, String)> = people::table
                    .filter(people::district_id.eq(&district))
                    .select((people::source_id, people::id))
                    .load(c)?;
                all.extend(
                    classes::table
                        .select((classes::source_id, classes::id))
                        .load::<(String, String)>(c)?,
                );
                all.extend(
                    schools::table
                        .select((schools::source_id, schools::id))
                        .load::<(String, String)>(c)?,
                );
                all.extend(
                    academic_sessions::table
                        .select((academic_sessions::source_id, academic_sessions::id))
                        .load::<(String, String)>(c)?,
                );
                Ok::<_, DbError>(all)
            })
            .await
            .unwrap()
            .into_iter()
            .collect();
        let api = RosterApi::new(f.ctx.clone());
        District { f, api, ids }
    }

    /// The roster id of the record with this source id.
    pub(crate) fn id(&self, source_id: &str) -> String {
        self.ids
            .get(source_id)
            .unwrap_or_else(|| panic!("no record {source_id}"))
            .clone()
    }

    pub(crate) fn district_id(&self) -> String {
        self.f.district_id.clone()
    }

    /// An account of this district with these grants.
    pub(crate) fn account(&self, account_id: &str, grants: &[(Role, Option<&str>)]) -> Principal {
        Principal::Account {
            account_id: account_id.into(),
            district_id: self.district_id(),
            roles: grants
                .iter()
                .map(|(role, school)| RoleGrant {
                    role: *role,
                    school_id: school.map(|s| self.id(s)),
                })
                .collect(),
        }
    }

    /// A district-wide administrator with `role`.
    pub(crate) fn admin(&self, role: Role) -> Principal {
        self.account("acct-admin", &[(role, None)])
    }

    /// The teacher with this source id (their account is `acct-<sid>`).
    pub(crate) fn teacher(&self, sid: &str) -> Principal {
        self.account(&format!("acct-{sid}"), &[(Role::Teacher, Some("sch1"))])
    }

    /// The guardian with this source id.
    pub(crate) fn guardian(&self, sid: &str) -> Principal {
        self.account(&format!("acct-{sid}"), &[(Role::Guardian, None)])
    }

    /// A district administrator of another district.
    pub(crate) fn outsider(&self) -> Principal {
        Principal::Account {
            account_id: "acct-olga".into(),
            district_id: uuid::Uuid::now_v7().to_string(),
            roles: vec![RoleGrant {
                role: Role::DistrictAdmin,
                school_id: None,
            }],
        }
    }

    /// A service caller.
    pub(crate) fn service(&self) -> Principal {
        service()
    }

    /// Sets a record's status directly.
    pub(crate) async fn set_person_status(&self, sid: &str, status: &'static str) {
        let id = self.id(sid);
        self.f
            .ctx
            .db
            .run(move |c| {
                diesel::update(people::table.find(id))
                    .set(people::status.eq(status))
                    .execute(c)
                    .map_err(DbError::Query)
            })
            .await
            .unwrap();
    }
}

/// A request from `caller`.
pub(crate) fn req<T>(caller: &Principal, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.extensions_mut().insert::<Principal>(caller.clone());
    request
}

/// Asserts a refusal's code and returns its message.
pub(crate) fn refused<T: std::fmt::Debug>(result: Result<T, Status>, code: Code) -> String {
    match result {
        Ok(answer) => panic!("expected {code:?}, got {answer:?}"),
        Err(status) => {
            assert_eq!(status.code(), code, "{status:?}");
            status.message().to_string()
        }
    }
}

impl District {
    pub(crate) async fn student(
        &self,
        caller: &Principal,
        sid: &str,
    ) -> Result<pb::GetStudentResponse, Status> {
        let request = pb::GetStudentRequest {
            student_id: self.id(sid),
        };
        self.api
            .get_student(req(caller, request))
            .await
            .map(tonic::Response::into_inner)
    }
}
