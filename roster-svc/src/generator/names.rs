//! The embedded word lists the generator draws from: people's names (some with
//! accents and apostrophes, as real rosters have), school and district words,
//! email domains and US area codes.

/// Given names.
#[rustfmt::skip]
pub(super) const GIVEN: &[&str] = &[
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mateo", "Amelia", "Benjamin", "Harper", "Oliver", "Evelyn", "Henry", "Abigail",
    "Alexander", "Emily", "Daniel", "Ella", "Michael", "Aaliyah", "Jackson", "Camila", "Sebastián",
    "Zoë", "Aiden", "Chloé", "Samuel", "Grace", "David", "Nora", "Joseph", "Lily", "Carter",
    "Hannah", "Wyatt", "Layla", "John", "Aria", "Owen", "Renée", "Dylan", "Penelope", "Luke",
    "Riley", "Gabriel", "Victoria", "Anthony", "Madison", "Isaac", "Eleanor", "Grayson", "Naomi",
    "Jayden", "Maria", "José", "Ana", "Juan", "Lucía", "Carlos", "Sofía", "Luis", "Valentina",
    "Ángel", "Ximena", "Diego", "Fatima", "Omar", "Aisha", "Mohammed", "Priya", "Arjun", "Ananya",
    "Rohan", "Mei", "Wei", "Hiroshi", "Yuki", "Minh", "Linh", "Thảo", "Đức", "Siobhan", "Seán",
    "Niamh", "Björn", "Søren", "Anaïs", "François", "Jürgen", "Małgorzata", "Zoltán", "Chidi",
    "Amara", "Kwame", "Nia", "DeShawn", "Imani", "Tyrone", "Keisha", "Jamal", "Ebony", "Dmitri",
    "Olga",
];

/// Family names.
#[rustfmt::skip]
pub(super) const FAMILY: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernández", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Pérez", "Thompson", "White", "Harris", "Sánchez",
    "Clark", "Ramírez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Torres", "Nguyen", "Nguyễn", "Trần", "Lê", "Phạm", "Hill", "Flores", "Green", "Adams",
    "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Kim",
    "Park", "Chen", "Wang", "Li", "Zhang", "Patel", "Shah", "Singh", "Kumar", "Khan", "Müller",
    "Schmidt", "Schröder", "Novák", "Kowalski", "Wiśniewski", "O'Brien", "O'Connor", "McCarthy",
    "D'Angelo", "Dubois", "Lefèvre", "Jørgensen", "Øberg", "Okafor", "Adeyemi", "Mensah",
    "Yamamoto", "Tanaka", "Sato", "Ivanova", "Petrov", "Cohen", "Levi", "Haddad", "Nasser",
    "Silva", "Santos", "Gonçalves", "Costa", "Van der Berg", "De la Cruz", "St. John",
];

/// Middle names.
#[rustfmt::skip]
pub(super) const MIDDLE: &[&str] = &[
    "Marie", "Ann", "Lynn", "Rose", "Grace", "Jane", "Elizabeth", "James", "Lee", "Michael",
    "Alexander", "Joseph", "Ray", "Thomas", "Luis", "Andrés", "Hoàng", "Kai", "Noelle", "Jean",
];

/// Words that make school names: "<word> Elementary School".
#[rustfmt::skip]
pub(super) const SCHOOL_WORDS: &[&str] = &[
    "Lincoln", "Washington", "Jefferson", "Roosevelt", "Madison", "Franklin", "Kennedy",
    "Maple Grove", "Oak Ridge", "Cedar Park", "Pine Hill", "Riverside", "Lakeview", "Hillcrest",
    "Sunnyside", "Westwood", "Eastside", "Northgate", "Southview", "Meadowbrook", "Willow Creek",
    "Harriet Tubman", "César Chávez", "Sally Ride", "Rosa Parks", "Thurgood Marshall",
    "Sojourner Truth", "Ellen Ochoa", "Booker T. Washington", "Mae Jemison", "Frederick Douglass",
    "Garfield", "Emerson", "Whitman", "Hawthorne", "Longfellow", "Sequoia", "Aspen", "Bayside",
];

/// Free mail domains, the commoner first and repeated to weight them.
#[rustfmt::skip]
pub(super) const MAIL_DOMAINS: &[&str] = &[
    "gmail.com", "gmail.com", "gmail.com", "gmail.com", "yahoo.com", "yahoo.com", "outlook.com",
    "hotmail.com", "icloud.com", "aol.com", "comcast.net", "att.net", "verizon.net", "me.com",
    "protonmail.com", "live.com",
];

/// Metro areas' area codes, all assigned US geographic codes: a district's
/// families mostly have its metro's codes.
#[rustfmt::skip]
pub(super) const METROS: &[&[u16]] = &[
    &[312, 773, 872, 708, 630], &[512, 737], &[206, 425, 253], &[617, 857, 781],
    &[212, 718, 917, 646, 347], &[415, 510, 650, 408], &[702, 725], &[919, 984], &[713, 281, 832],
    &[404, 678, 770],
];

/// Assigned US area codes of people who moved in from elsewhere.
#[rustfmt::skip]
pub(super) const OTHER_AREA_CODES: &[u16] = &[
    201, 205, 210, 213, 214, 215, 216, 231, 240, 248, 262, 301, 303, 305, 313, 314, 317, 321, 336,
    352, 402, 405, 412, 414, 480, 502, 503, 504, 505, 515, 520, 602, 603, 612, 614, 615, 616, 619,
    651, 704, 706, 714, 716, 720, 727, 732, 757, 801, 802, 804, 808, 813, 816, 847, 907, 913, 916,
    949, 952, 970, 971, 989,
];

/// Guardians' roles: mostly `parent`, some `guardian` and `relative`.
#[rustfmt::skip]
pub(super) const GUARDIAN_ROLES: &[&str] = &[
    "parent", "parent", "parent", "parent", "parent", "parent", "parent", "parent", "guardian",
    "relative",
];
