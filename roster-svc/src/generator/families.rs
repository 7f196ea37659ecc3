//! Families: siblings who share their guardians, the guardians' contact
//! details (some shared between spouses), and the count of who shares what.

use std::collections::{HashMap, HashSet};

use rand::{Rng, rngs::StdRng};

use super::{
    GeneratedSummary, User,
    contact::{UsPhone, family_email, fold, personal_email},
    district::{District, GRADES, Level},
    middle_name,
    names::{FAMILY, GIVEN, GUARDIAN_ROLES},
    pick,
};

/// Chance that a household's two guardians share an email or a phone; tuned so
/// that about 15% of all guardians share one.
const HOUSEHOLD_SHARES: f64 = 0.19;

/// A student, for placing in classes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pupil {
    /// Index into the users.
    pub(super) user: u32,
    pub(super) school: usize,
    /// Index into [`GRADES`].
    pub(super) grade: usize,
}

/// Unique-value bookkeeping while families are made.
struct Taken {
    emails: HashSet<String>,
    phones: HashSet<UsPhone>,
    metro: usize,
}

impl Taken {
    fn phone(&mut self, rng: &mut StdRng) -> UsPhone {
        loop {
            let phone = UsPhone::random(rng, self.metro);
            if self.phones.insert(phone) {
                return phone;
            }
        }
    }

    /// A fresh address from `make`, so two guardians never share one by chance.
    fn email(&mut self, rng: &mut StdRng, make: impl Fn(&mut StdRng) -> String) -> String {
        loop {
            let email = make(rng);
            if self.emails.insert(email.to_lowercase()) {
                return email;
            }
        }
    }
}

/// Families until there are `students` students: the users (guardians first,
/// then their children) go into `users`, the students come back for classes.
pub(super) fn generate(
    rng: &mut StdRng,
    students: usize,
    district: &District,
    metro: usize,
    users: &mut Vec<User>,
) -> (Vec<Pupil>, GeneratedSummary) {
    let mut pupils = Vec::with_capacity(students);
    let mut summary = GeneratedSummary {
        schools: district.schools.len(),
        ..GeneratedSummary::default()
    };
    let mut taken = Taken {
        emails: HashSet::new(),
        phones: HashSet::new(),
        metro,
    };
    let first_number = rng.gen_range(100_000..400_000);
    while pupils.len() < students {
        let kids = match rng.gen_range(0..100) {
            0..=71 => 1,
            72..=94 => 2,
            _ => 3,
        }
        .min(students - pupils.len());
        let adults = match rng.gen_range(0..100) {
            0..=11 => 1,
            12..=71 => 2,
            72..=89 => 3,
            _ => 4,
        };
        let family = pick(rng, FAMILY);
        let zone = rng.gen_range(0..1_000_000);
        let guardian_ids: Vec<String> = (0..adults)
            .map(|i| format!("usr-gdn-{:06}", summary.guardians + i + 1))
            .collect();
        let student_ids: Vec<String> = (0..kids)
            .map(|i| format!("usr-stu-{:06}", pupils.len() + i + 1))
            .collect();
        let first_guardian = users.len();
        for (i, id) in guardian_ids.iter().enumerate() {
            // A spouse now and then, and the second household (a parent who
            // moved out, a grandparent) often, have another name.
            let same_name = match i {
                0 => true,
                1 => rng.gen_bool(0.8),
                _ => rng.gen_bool(0.5),
            };
            let name = if same_name { family } else { pick(rng, FAMILY) };
            users.push(guardian(rng, &mut taken, id, name, &student_ids));
        }
        if adults >= 2 && rng.gen_bool(HOUSEHOLD_SHARES) {
            share(
                rng,
                &mut taken,
                &mut users[first_guardian..first_guardian + 2],
                family,
            );
        }
        for id in student_ids {
            let number = first_number + pupils.len();
            let grade = rng.gen_range(0..GRADES.len());
            let school = district.school_for(Level::of(grade), zone);
            pupils.push(Pupil {
                user: u32::try_from(users.len()).unwrap_or(u32::MAX),
                school,
                grade,
            });
            let given = pick(rng, GIVEN);
            let login = format!(
                "{}{}{number}",
                fold(given, false).get(..1).unwrap_or("s"),
                fold(family, false)
            );
            users.push(User {
                id,
                role: "student",
                orgs: district.schools[school].id.clone(),
                username: login.clone(),
                user_ids: format!("{{SIS:{number}}}"),
                given,
                family,
                middle: middle_name(rng, 0.5),
                identifier: number.to_string(),
                email: if grade >= 3 {
                    format!("{login}@students.{}", district.domain)
                } else {
                    String::new()
                },
                sms: String::new(),
                phone: String::new(),
                agents: guardian_ids.clone(),
                grades: GRADES[grade],
            });
        }
        summary.families += 1;
        summary.guardians += adults;
        summary.guardian_links += adults * kids;
    }
    summary.students = pupils.len();
    count_sharing(users, &mut summary);
    (pupils, summary)
}

/// A guardian of `children`: most have an email and a mobile, some a home phone.
fn guardian(
    rng: &mut StdRng,
    taken: &mut Taken,
    id: &str,
    family: &'static str,
    children: &[String],
) -> User {
    let given = pick(rng, GIVEN);
    let email = if rng.gen_bool(0.92) {
        taken.email(rng, |rng| personal_email(rng, given, family))
    } else {
        String::new()
    };
    let mut typed = |rng: &mut StdRng, chance: f64| {
        if rng.gen_bool(chance) {
            taken.phone(rng).typed(rng)
        } else {
            String::new()
        }
    };
    let sms = typed(rng, 0.88);
    let phone = typed(rng, 0.25);
    User {
        id: id.to_string(),
        role: pick(rng, GUARDIAN_ROLES),
        orgs: String::new(),
        username: if email.is_empty() {
            id.to_string()
        } else {
            email.to_lowercase()
        },
        user_ids: String::new(),
        given,
        family,
        middle: middle_name(rng, 0.2),
        identifier: String::new(),
        email,
        sms,
        phone,
        agents: children.to_vec(),
        grades: "",
    }
}

/// Two guardians of one household share a family email (most often), a home
/// phone or a mobile; each types a shared phone their own way.
fn share(rng: &mut StdRng, taken: &mut Taken, pair: &mut [User], family: &str) {
    match rng.gen_range(0..100) {
        0..=59 => {
            let email = taken.email(rng, |rng| family_email(rng, family));
            for g in pair {
                g.username = email.clone();
                g.email = email.clone();
            }
        }
        n => {
            let phone = taken.phone(rng);
            for g in pair {
                let typed = phone.typed(rng);
                if n < 90 {
                    g.phone = typed;
                } else {
                    g.sms = typed;
                }
            }
        }
    }
}

/// Counts guardians whose email (ignoring case) or phone (by its ten digits,
/// in either column) another guardian also has.
fn count_sharing(users: &[User], summary: &mut GeneratedSummary) {
    let guardians: Vec<&User> = users.iter().filter(|u| u.role != "student").collect();
    let emails = |u: &User| (!u.email.is_empty()).then(|| u.email.to_lowercase());
    let phones = |u: &User| {
        let mut found: Vec<String> = [&u.sms, &u.phone]
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(|p| ten_digits(p))
            .collect();
        found.dedup();
        found
    };
    let mut holders: HashMap<String, usize> = HashMap::new();
    for g in &guardians {
        for key in emails(g).into_iter().chain(phones(g)) {
            *holders.entry(key).or_default() += 1;
        }
    }
    let shared = |key: &String| holders.get(key).is_some_and(|&n| n > 1);
    for g in guardians {
        let email = emails(g).is_some_and(|e| shared(&e));
        let phone = phones(g).iter().any(shared);
        summary.shared_emails += usize::from(email);
        summary.shared_phones += usize::from(phone);
        summary.guardians_sharing += usize::from(email || phone);
    }
}

/// The national digits of a US phone as typed.
pub(super) fn ten_digits(typed: &str) -> String {
    let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix('1') {
        Some(rest) if digits.len() == 11 => rest.to_string(),
        _ => digits,
    }
}
