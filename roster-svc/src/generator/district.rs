//! The district: its schools by level, its school year, and its staff
//! (administrators, teachers, aides) with unique district email addresses.

use std::collections::HashSet;

use rand::{Rng, rngs::StdRng};

use super::{
    GeneratedSummary, User,
    classes::{Class, Course},
    contact::{UsPhone, fold},
    families::Pupil,
    middle_name,
    names::{FAMILY, GIVEN, SCHOOL_WORDS},
    pick,
};

/// Grades in order; a pupil's grade is an index into this.
pub(super) const GRADES: [&str; 13] = [
    "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12",
];

/// The school year and its semesters: (sourcedId, title, type, start, end).
pub(super) const SESSIONS: [(&str, &str, &str, &str, &str); 3] = [
    (
        "as-2026",
        "2025-2026",
        "schoolYear",
        "2025-08-18",
        "2026-06-05",
    ),
    (
        "as-2026-s1",
        "Fall 2025",
        "semester",
        "2025-08-18",
        "2025-12-19",
    ),
    (
        "as-2026-s2",
        "Spring 2026",
        "semester",
        "2026-01-05",
        "2026-06-05",
    ),
];

/// What tells two schools of the same name apart.
const SIDES: [&str; 4] = ["North", "South", "East", "West"];

/// Students per school, roughly.
const STUDENTS_PER_SCHOOL: usize = 500;

/// A school's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Level {
    Elementary,
    Middle,
    High,
}

impl Level {
    pub(super) const ALL: [Level; 3] = [Level::Elementary, Level::Middle, Level::High];

    /// The level that teaches `grade` (an index into [`GRADES`]).
    pub(super) fn of(grade: usize) -> Level {
        match grade {
            0..=5 => Level::Elementary,
            6..=8 => Level::Middle,
            _ => Level::High,
        }
    }

    /// Its grades, as indices into [`GRADES`].
    pub(super) fn grades(self) -> std::ops::RangeInclusive<usize> {
        match self {
            Level::Elementary => 0..=5,
            Level::Middle => 6..=8,
            Level::High => 9..=12,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Level::Elementary => "Elementary School",
            Level::Middle => "Middle School",
            Level::High => "High School",
        }
    }
}

/// A school org.
pub(super) struct School {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) identifier: String,
}

/// The district and what hangs off it.
pub(super) struct District {
    pub(super) id: String,
    pub(super) name: String,
    /// Staff and student email domain, from the district's initials.
    pub(super) domain: String,
    pub(super) schools: Vec<School>,
    pub(super) courses: Vec<Course>,
    pub(super) classes: Vec<Class>,
    /// School indices per level, in [`Level::ALL`] order.
    by_level: [Vec<usize>; 3],
    emails: HashSet<String>,
}

impl District {
    /// The district and its schools: about one per 500 students at each level,
    /// at least one per level.
    pub(super) fn new(rng: &mut StdRng, name: &str, students: usize) -> Self {
        let initials: String = name
            .split_whitespace()
            .filter_map(|w| fold(w, false).chars().next())
            .collect();
        let mut district = Self {
            id: "org-district".into(),
            name: name.into(),
            domain: if initials.is_empty() {
                "district.org".into()
            } else {
                format!("{initials}.org")
            },
            schools: Vec::new(),
            courses: Vec::new(),
            classes: Vec::new(),
            by_level: [Vec::new(), Vec::new(), Vec::new()],
            emails: HashSet::new(),
        };
        for (l, level) in Level::ALL.into_iter().enumerate() {
            let share = students * level.grades().count() / GRADES.len();
            let count = ((share + STUDENTS_PER_SCHOOL / 2) / STUDENTS_PER_SCHOOL).max(1);
            let mut words: Vec<&str> = Vec::new();
            for k in 0..count {
                // Big districts run out of words: "Lincoln North Elementary School".
                if words.is_empty() {
                    words = SCHOOL_WORDS.to_vec();
                }
                let word = words.swap_remove(rng.gen_range(0..words.len()));
                let word = match k / SCHOOL_WORDS.len() {
                    0 => word.to_string(),
                    round => format!("{word} {}", SIDES[(round - 1) % SIDES.len()]),
                };
                let n = district.schools.len();
                district.by_level[l].push(n);
                district.schools.push(School {
                    id: format!("org-sch-{:03}", n + 1),
                    name: format!("{word} {}", level.name()),
                    identifier: format!("{}", 100 + n),
                });
            }
        }
        district
    }

    /// The school of `level` a family in `zone` sends its children to.
    pub(super) fn school_for(&self, level: Level, zone: usize) -> usize {
        let schools = &self.by_level[level as usize];
        schools[zone % schools.len()]
    }

    /// Administrators, teachers (about one per 16 students) and aides for every
    /// school, then the courses and classes they teach.
    pub(super) fn staff_and_classes(
        &mut self,
        rng: &mut StdRng,
        pupils: &[Pupil],
        metro: usize,
        users: &mut Vec<User>,
        summary: &mut GeneratedSummary,
    ) {
        let first_staff = users.len();
        for _ in 0..3 {
            let org = self.id.clone();
            self.staff(rng, "administrator", org, metro, users);
        }
        let mut enrolled = vec![0usize; self.schools.len()];
        for p in pupils {
            enrolled[p.school] += 1;
        }
        let mut teachers = Vec::with_capacity(self.schools.len());
        for (s, &n) in enrolled.iter().enumerate() {
            let org = self.schools[s].id.clone();
            let admins = if n > 600 { 2 } else { 1 };
            for _ in 0..admins {
                self.staff(rng, "administrator", org.clone(), metro, users);
            }
            for _ in 0..n.div_ceil(80) {
                self.staff(rng, "aide", org.clone(), metro, users);
            }
            let mut staff = Vec::new();
            for _ in 0..n.div_ceil(16).max(1) {
                // A few teachers also teach at a second school (music, languages).
                let org = if rng.gen_bool(0.04) && self.schools.len() > 1 {
                    let other =
                        (s + 1 + rng.gen_range(0..self.schools.len() - 1)) % self.schools.len();
                    format!("{org},{}", self.schools[other].id)
                } else {
                    org.clone()
                };
                staff.push(self.staff(rng, "teacher", org, metro, users));
            }
            summary.teachers += staff.len();
            teachers.push(staff);
        }
        summary.staff = users.len() - first_staff;
        self.classes_for(rng, pupils, &teachers, summary);
    }

    /// A staff user with a unique `first.last@district` address.
    fn staff(
        &mut self,
        rng: &mut StdRng,
        role: &'static str,
        orgs: String,
        metro: usize,
        users: &mut Vec<User>,
    ) -> u32 {
        let (given, family) = (pick(rng, GIVEN), pick(rng, FAMILY));
        let base = format!("{}.{}", fold(given, false), fold(family, false));
        let mut local = base.clone();
        let mut n = 1;
        while !self.emails.insert(local.clone()) {
            n += 1;
            local = format!("{base}{n}");
        }
        let (index, number) = (users.len(), self.emails.len());
        let sms = if rng.gen_bool(0.3) {
            UsPhone::random(rng, metro).typed(rng)
        } else {
            String::new()
        };
        users.push(User {
            id: format!("usr-stf-{number:05}"),
            role,
            orgs,
            username: local.clone(),
            user_ids: format!("{{LDAP:{local}}}"),
            given,
            family,
            middle: middle_name(rng, 0.3),
            identifier: format!("E{}", 10_000 + number),
            email: format!("{local}@{}", self.domain),
            sms,
            phone: String::new(),
            agents: Vec::new(),
            grades: "",
        });
        u32::try_from(index).unwrap_or(u32::MAX)
    }
}
