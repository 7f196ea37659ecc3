//! A realistic OneRoster 1.1 bulk CSV bundle for N students, as a folder or a
//! zip, for load tests, demos and the reader's tests.
//!
//! One district with schools of about 500 students (elementary KG–05, middle
//! 06–08, high 09–12), a school year and its two semesters, courses and classes
//! of about 25, about one teacher per 16 students plus aides and
//! administrators, and about six class enrollments per student.
//!
//! Families are what make it realistic for a messaging product: one to three
//! siblings who share their guardians (each guardian row lists every sibling in
//! `agentSourcedIds` and each sibling lists every guardian), mostly two
//! guardians, some one, some three or four (a second household, a
//! grandparent) — about 1.7 guardian rows per student overall. About 15% of
//! guardians share an email or a phone with another (spouses with
//! `smithfamily@…` or one home phone, typed differently by each). Phones are
//! assigned-looking US numbers in five formats; emails are mixed case; names
//! carry accents and apostrophes. The same options and seed always give the
//! same bytes.

mod classes;
mod contact;
mod district;
mod families;
mod files;
mod names;
#[cfg(test)]
mod tests;

use std::{
    fs::File,
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
};

use rand::{Rng, SeedableRng, rngs::StdRng};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorOptions {
    /// Students in the district.
    pub students: usize,
    /// The same seed gives the same bundle.
    pub seed: u64,
    /// The district org's name; its initials make the staff email domain.
    pub district_name: String,
}

impl Default for GeneratorOptions {
    fn default() -> Self {
        Self {
            students: 1_000,
            seed: 1,
            district_name: "Maple Valley Unified School District".into(),
        }
    }
}

/// What a generated bundle holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeneratedSummary {
    /// School orgs (the district org is not counted).
    pub schools: usize,
    /// Student users.
    pub students: usize,
    /// Guardian users (`parent`, `guardian`, `relative`).
    pub guardians: usize,
    /// Families (students sharing guardians).
    pub families: usize,
    /// Teacher users.
    pub teachers: usize,
    /// All staff users: teachers, aides and administrators.
    pub staff: usize,
    /// Courses.
    pub courses: usize,
    /// Classes.
    pub classes: usize,
    /// Enrollment rows, students' and teachers'.
    pub enrollments: usize,
    /// Students' enrollment rows.
    pub student_enrollments: usize,
    /// Student–guardian pairs (each written on both rows).
    pub guardian_links: usize,
    /// Guardians whose email another guardian also has (ignoring case).
    pub shared_emails: usize,
    /// Guardians with a phone (sms or phone, any format) another guardian has.
    pub shared_phones: usize,
    /// Guardians sharing an email, a phone or both.
    pub guardians_sharing: usize,
}

impl std::fmt::Display for GeneratedSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let per_student = |n: usize| n as f64 / self.students.max(1) as f64;
        writeln!(f, "schools             {}", self.schools)?;
        writeln!(f, "students            {}", self.students)?;
        writeln!(
            f,
            "guardians           {} ({:.2} per student, {} families)",
            self.guardians,
            per_student(self.guardians),
            self.families
        )?;
        writeln!(f, "guardian links      {}", self.guardian_links)?;
        writeln!(
            f,
            "guardians sharing   {} ({:.1}%: {} an email, {} a phone)",
            self.guardians_sharing,
            100.0 * self.guardians_sharing as f64 / self.guardians.max(1) as f64,
            self.shared_emails,
            self.shared_phones
        )?;
        writeln!(
            f,
            "staff               {} ({} teachers)",
            self.staff, self.teachers
        )?;
        writeln!(f, "courses             {}", self.courses)?;
        writeln!(f, "classes             {}", self.classes)?;
        write!(
            f,
            "enrollments         {} ({:.2} per student)",
            self.enrollments,
            per_student(self.student_enrollments)
        )
    }
}

/// Writes the bundle's CSV files (`manifest.csv` and the six bulk files) into
/// `dir`, creating it if needed.
pub fn write_bundle(opts: &GeneratorOptions, dir: &Path) -> io::Result<GeneratedSummary> {
    std::fs::create_dir_all(dir)?;
    let generated = generate(opts);
    files::write_all(&generated, &mut Dir(dir.to_path_buf()))?;
    Ok(generated.summary)
}

/// Writes the bundle as a zip file at `path` (the files at its root).
pub fn write_zip(opts: &GeneratorOptions, path: &Path) -> io::Result<GeneratedSummary> {
    let generated = generate(opts);
    let mut zip = Zip(zip::ZipWriter::new(BufWriter::new(File::create(path)?)));
    files::write_all(&generated, &mut zip)?;
    zip.0.finish()?.flush()?;
    Ok(generated.summary)
}

/// Everything generated, ready to write.
struct Generated {
    district: district::District,
    users: Vec<User>,
    summary: GeneratedSummary,
}

fn generate(opts: &GeneratorOptions) -> Generated {
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let metro = rng.gen_range(0..names::METROS.len());
    let mut users = Vec::new();
    let mut district = district::District::new(&mut rng, &opts.district_name, opts.students);
    let (pupils, mut summary) =
        families::generate(&mut rng, opts.students, &district, metro, &mut users);
    district.staff_and_classes(&mut rng, &pupils, metro, &mut users, &mut summary);
    Generated {
        district,
        users,
        summary,
    }
}

/// A row of users.csv; the other columns are blank or fixed.
struct User {
    id: String,
    role: &'static str,
    orgs: String,
    username: String,
    user_ids: String,
    given: &'static str,
    family: &'static str,
    middle: &'static str,
    identifier: String,
    email: String,
    sms: String,
    phone: String,
    agents: Vec<String>,
    grades: &'static str,
}

/// Where the files go.
trait Sink {
    /// A writer for the file `name`; flushed by the caller.
    fn file(&mut self, name: &str) -> io::Result<Box<dyn Write + '_>>;
}

struct Dir(PathBuf);

impl Sink for Dir {
    fn file(&mut self, name: &str) -> io::Result<Box<dyn Write + '_>> {
        let file = File::create(self.0.join(name))?;
        Ok(Box::new(BufWriter::with_capacity(1 << 18, file)))
    }
}

struct Zip(zip::ZipWriter<BufWriter<File>>);

impl Sink for Zip {
    fn file(&mut self, name: &str) -> io::Result<Box<dyn Write + '_>> {
        // A fixed timestamp keeps the zip's bytes a function of the seed.
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default());
        self.0.start_file(name, options)?;
        Ok(Box::new(&mut self.0))
    }
}

/// A random element of a non-empty list.
fn pick<T: Copy>(rng: &mut StdRng, list: &[T]) -> T {
    list[rng.gen_range(0..list.len())]
}

/// A middle name for a share `chance` of people, blank for the others.
fn middle_name(rng: &mut StdRng, chance: f64) -> &'static str {
    if rng.gen_bool(chance) {
        pick(rng, names::MIDDLE)
    } else {
        ""
    }
}
