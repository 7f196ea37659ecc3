//! Courses and classes: per school and grade, the courses every student takes
//! and the electives some choose, in sections of about 25 with a teacher of
//! the school (and now and then a co-teacher).

use rand::{Rng, rngs::StdRng, seq::SliceRandom};

use super::{
    GeneratedSummary,
    district::{District, GRADES, Level, SESSIONS},
    families::Pupil,
    pick,
};

/// Students per class, at most.
const CLASS_SIZE: usize = 25;

const ELEMENTARY: [&str; 6] = [
    "Homeroom",
    "Art",
    "Music",
    "Physical Education",
    "Library",
    "STEM",
];
const MIDDLE_CORE: [&str; 5] = [
    "English Language Arts",
    "Mathematics",
    "Science",
    "Social Studies",
    "Physical Education",
];
const MIDDLE_ELECTIVES: [&str; 5] = ["Spanish", "Band", "Art", "Computer Science", "Choir"];
const HIGH_MATH: [&str; 4] = ["Algebra I", "Geometry", "Algebra II", "Precalculus"];
const HIGH_SCIENCE: [&str; 4] = ["Biology", "Chemistry", "Physics", "Environmental Science"];
const HIGH_SOCIAL: [&str; 4] = ["World History", "US History", "Government", "Economics"];
const HIGH_ELECTIVES: [&str; 6] = [
    "Spanish",
    "French",
    "Studio Art",
    "Band",
    "Computer Science",
    "Journalism",
];
/// High-school semester electives, taken as a fall/spring pair.
const HIGH_FALL: [&str; 3] = ["Psychology", "Creative Writing", "Health"];
const HIGH_SPRING: [&str; 3] = ["Sociology", "Film Studies", "Personal Finance"];

/// A row of courses.csv.
pub(super) struct Course {
    pub(super) id: String,
    pub(super) school: usize,
    pub(super) title: String,
    pub(super) code: String,
    pub(super) grade: &'static str,
}

/// A row of classes.csv, with its enrollments (user indices).
pub(super) struct Class {
    pub(super) id: String,
    pub(super) course: usize,
    pub(super) school: usize,
    pub(super) title: String,
    pub(super) code: String,
    pub(super) homeroom: bool,
    pub(super) term: &'static str,
    pub(super) grade: &'static str,
    /// 0 for elementary classes, which have no periods.
    pub(super) period: usize,
    pub(super) room: u16,
    /// The primary teacher first.
    pub(super) teachers: Vec<u32>,
    pub(super) students: Vec<u32>,
}

impl District {
    /// Every school's courses and classes; `teachers[school]` teach them.
    pub(super) fn classes_for(
        &mut self,
        rng: &mut StdRng,
        pupils: &[Pupil],
        teachers: &[Vec<u32>],
        summary: &mut GeneratedSummary,
    ) {
        let mut groups = vec![vec![Vec::new(); GRADES.len()]; self.schools.len()];
        for p in pupils {
            groups[p.school][p.grade].push(p.user);
        }
        for (school, by_grade) in groups.into_iter().enumerate() {
            let mut next_teacher = 0;
            for (grade, students) in by_grade.into_iter().enumerate() {
                if students.is_empty() {
                    continue;
                }
                for (slot, (title, term, takers)) in plan(rng, Level::of(grade), grade, students)
                    .into_iter()
                    .enumerate()
                {
                    let course = self.course(school, grade, title);
                    let mut section = Section {
                        school,
                        grade,
                        course,
                        term,
                        period: slot,
                        teachers: &teachers[school],
                        next_teacher: &mut next_teacher,
                    };
                    section.classes(self, rng, takers);
                }
            }
        }
        summary.courses = self.courses.len();
        summary.classes = self.classes.len();
        for class in &self.classes {
            summary.enrollments += class.teachers.len() + class.students.len();
            summary.student_enrollments += class.students.len();
        }
    }

    fn course(&mut self, school: usize, grade: usize, title: String) -> usize {
        let initials: String = title
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .filter(char::is_ascii_alphanumeric)
            .collect();
        self.courses.push(Course {
            id: format!("crs-{:05}", self.courses.len() + 1),
            school,
            code: format!("{}{}", initials.to_ascii_uppercase(), GRADES[grade]),
            title,
            grade: GRADES[grade],
        });
        self.courses.len() - 1
    }
}

/// What the students of a grade take: (course title, term, the students).
fn plan(
    rng: &mut StdRng,
    level: Level,
    grade: usize,
    students: Vec<u32>,
) -> Vec<(String, &'static str, Vec<u32>)> {
    let year = SESSIONS[0].0;
    let label = match grade {
        0 => "Kindergarten".to_string(),
        g => format!("Grade {g}"),
    };
    let everyone = |titles: &[String]| -> Vec<(String, &'static str, Vec<u32>)> {
        titles
            .iter()
            .map(|t| (t.clone(), year, students.clone()))
            .collect()
    };
    match level {
        Level::Elementary => everyone(&ELEMENTARY.map(|s| format!("{label} {s}"))),
        Level::Middle => {
            let mut out = everyone(&MIDDLE_CORE.map(|s| format!("{s} {grade}")));
            out.extend(choose(rng, &MIDDLE_ELECTIVES, &students, year));
            out
        }
        Level::High => {
            let g = grade - 9;
            let core = [
                format!("English {grade}"),
                HIGH_MATH[g].to_string(),
                HIGH_SCIENCE[g].to_string(),
                HIGH_SOCIAL[g].to_string(),
                "Physical Education".to_string(),
            ];
            let mut out = everyone(&core);
            out.extend(choose(rng, &HIGH_ELECTIVES, &students, year));
            // About a third also take a fall and a spring semester elective.
            let pair: Vec<u32> = students
                .iter()
                .copied()
                .filter(|_| rng.gen_bool(0.3))
                .collect();
            out.extend(choose(rng, &HIGH_FALL, &pair, SESSIONS[1].0));
            out.extend(choose(rng, &HIGH_SPRING, &pair, SESSIONS[2].0));
            out
        }
    }
}

/// Each of `students` picks one of `electives`.
fn choose(
    rng: &mut StdRng,
    electives: &[&str],
    students: &[u32],
    term: &'static str,
) -> Vec<(String, &'static str, Vec<u32>)> {
    let mut takers = vec![Vec::new(); electives.len()];
    for &s in students {
        takers[rng.gen_range(0..electives.len())].push(s);
    }
    electives
        .iter()
        .zip(takers)
        .filter(|(_, t)| !t.is_empty())
        .map(|(e, t)| (e.to_string(), term, t))
        .collect()
}

/// One course's sections at a school.
struct Section<'a> {
    school: usize,
    grade: usize,
    course: usize,
    term: &'static str,
    period: usize,
    teachers: &'a [u32],
    next_teacher: &'a mut usize,
}

impl Section<'_> {
    /// Splits `students` into classes of at most [`CLASS_SIZE`].
    fn classes(&mut self, district: &mut District, rng: &mut StdRng, mut students: Vec<u32>) {
        students.shuffle(rng);
        let count = students.len().div_ceil(CLASS_SIZE);
        let elementary = Level::of(self.grade) == Level::Elementary;
        for k in 0..count {
            let teacher = self.teachers[*self.next_teacher % self.teachers.len()];
            *self.next_teacher += 1;
            let mut teachers = vec![teacher];
            if self.teachers.len() > 1 && rng.gen_bool(0.05) {
                let co = pick(rng, self.teachers);
                if co != teacher {
                    teachers.push(co);
                }
            }
            let course = &district.courses[self.course];
            let period = if elementary {
                0
            } else {
                (self.period + k) % 7 + 1
            };
            let room = rng.gen_range(100..160);
            let title = match period {
                0 => format!("{} (Room {room})", course.title),
                p => format!("{} - P{p}", course.title),
            };
            district.classes.push(Class {
                id: format!("cls-{:06}", district.classes.len() + 1),
                course: self.course,
                school: self.school,
                title,
                code: format!("{}-{:02}", course.code, k + 1),
                homeroom: course.title.ends_with("Homeroom"),
                term: self.term,
                grade: GRADES[self.grade],
                period,
                room,
                teachers,
                students: students.iter().skip(k).step_by(count).copied().collect(),
            });
        }
    }
}
