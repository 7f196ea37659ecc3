//! RO-8: which guardian records are likely one person — the pure grouping
//! behind the duplicate-guardian report.
//!
//! Two active guardians are joined when they have the same normalised name
//! ([`normalize_name`]) and share an email or mobile phone, or a linked
//! student. A group is a connected component of those joins (union-find) with
//! at least two guardians; guardians without a name are never grouped.

use std::collections::{BTreeSet, HashMap, HashSet, hash_map::Entry};

/// Why guardians were grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// Same normalised name and a shared email or mobile phone.
    SharedCredential,
    /// Same normalised name, linked to the same student.
    SameStudent,
}

/// One guardian record as the grouping sees it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// Roster person id.
    pub id: &'a str,
    /// Given name as stored.
    pub given_name: &'a str,
    /// Family name as stored.
    pub family_name: &'a str,
    /// Email, if any.
    pub email: Option<&'a str>,
    /// Mobile phone, if any.
    pub phone: Option<&'a str>,
    /// Only active guardians count; the others are ignored.
    pub active: bool,
    /// Ids of the active students it is actively linked to.
    pub students: &'a [String],
}

/// Guardian records that are likely one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Stable key: the smallest guardian id of the group.
    pub key: String,
    /// The normalised name the guardians share.
    pub normalized_name: String,
    /// Which kinds of join occur in the group, in [`Reason`] order.
    pub reasons: Vec<Reason>,
    /// Normalised emails and phones held by two or more guardians of the
    /// group, sorted.
    pub shared_values: Vec<String>,
    /// The guardians, as indices into the candidates, by guardian id.
    pub members: Vec<usize>,
}

/// Given and family name, Unicode-lowercased, with runs of whitespace
/// collapsed to one space and trimmed. Accents are not folded ("José" and
/// "Jose" differ): SIS exports keep them consistently, and folding without a
/// Unicode normalisation table would be guesswork.
pub fn normalize_name(given_name: &str, family_name: &str) -> String {
    let lower = format!("{given_name} {family_name}").to_lowercase();
    lower.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An email as compared: trimmed and lowercased.
fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A phone as compared: digits and `+` only, so formatting does not matter.
fn normalize_phone(phone: &str) -> String {
    phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect()
}

/// Something two guardians of the same name may share.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Tie<'a> {
    Email(String),
    Phone(String),
    Student(&'a str),
}

fn ties<'a>(c: &Candidate<'a>) -> HashSet<Tie<'a>> {
    let email = c
        .email
        .map(normalize_email)
        .filter(|e| !e.is_empty())
        .map(Tie::Email);
    let phone = c
        .phone
        .map(normalize_phone)
        .filter(|p| !p.is_empty())
        .map(Tie::Phone);
    let students = c.students.iter().map(|s| Tie::Student(s.as_str()));
    email.into_iter().chain(phone).chain(students).collect()
}

/// The duplicate groups among `candidates`, ordered by normalised name, then key.
pub fn find_groups(candidates: &[Candidate<'_>]) -> Vec<Group> {
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, c) in candidates.iter().enumerate() {
        if !c.active {
            continue;
        }
        let name = normalize_name(c.given_name, c.family_name);
        if !name.is_empty() {
            by_name.entry(name).or_default().push(i);
        }
    }
    let mut groups: Vec<Group> = by_name
        .into_iter()
        .filter(|(_, members)| members.len() > 1)
        .flat_map(|(name, members)| groups_of_name(&name, &members, candidates))
        .collect();
    groups.sort_by(|a, b| (&a.normalized_name, &a.key).cmp(&(&b.normalized_name, &b.key)));
    groups
}

/// The groups among guardians who share one normalised name.
fn groups_of_name(name: &str, members: &[usize], candidates: &[Candidate<'_>]) -> Vec<Group> {
    let mut sets = UnionFind::new(members.len());
    let mut first_holder: HashMap<Tie<'_>, usize> = HashMap::new();
    for (pos, c) in members
        .iter()
        .filter_map(|&i| candidates.get(i))
        .enumerate()
    {
        for tie in ties(c) {
            match first_holder.entry(tie) {
                Entry::Occupied(e) => sets.union(*e.get(), pos),
                Entry::Vacant(e) => {
                    e.insert(pos);
                }
            }
        }
    }
    let mut components: HashMap<usize, Vec<usize>> = HashMap::new();
    for (pos, &i) in members.iter().enumerate() {
        components.entry(sets.find(pos)).or_default().push(i);
    }
    components
        .into_values()
        .filter(|c| c.len() > 1)
        .filter_map(|c| group(name, c, candidates))
        .collect()
}

/// Describes one component: its key, reasons and shared values.
fn group(name: &str, mut members: Vec<usize>, candidates: &[Candidate<'_>]) -> Option<Group> {
    members.sort_by_key(|&i| candidates.get(i).map(|c| c.id));
    let key = candidates.get(*members.first()?)?.id.to_string();
    let mut holders: HashMap<Tie<'_>, usize> = HashMap::new();
    for c in members.iter().filter_map(|&i| candidates.get(i)) {
        for tie in ties(c) {
            *holders.entry(tie).or_default() += 1;
        }
    }
    let mut reasons = BTreeSet::new();
    let mut shared_values = BTreeSet::new();
    for (tie, n) in holders {
        if n < 2 {
            continue;
        }
        match tie {
            Tie::Email(v) | Tie::Phone(v) => {
                reasons.insert(Reason::SharedCredential);
                shared_values.insert(v);
            }
            Tie::Student(_) => {
                reasons.insert(Reason::SameStudent);
            }
        }
    }
    Some(Group {
        key,
        normalized_name: name.to_string(),
        reasons: reasons.into_iter().collect(),
        shared_values: shared_values.into_iter().collect(),
        members,
    })
}

/// Disjoint sets over `0..n` with path halving and union by size.
struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        let (big, small) = if self.size[a] >= self.size[b] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[small] = big;
        self.size[big] += self.size[small];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct G {
        id: &'static str,
        given: &'static str,
        family: &'static str,
        email: Option<&'static str>,
        phone: Option<&'static str>,
        active: bool,
        students: Vec<String>,
    }

    fn g(id: &'static str, given: &'static str, family: &'static str) -> G {
        G {
            id,
            given,
            family,
            email: None,
            phone: None,
            active: true,
            students: Vec::new(),
        }
    }

    impl G {
        fn email(mut self, e: &'static str) -> G {
            self.email = Some(e);
            self
        }
        fn phone(mut self, p: &'static str) -> G {
            self.phone = Some(p);
            self
        }
        fn student(mut self, s: &str) -> G {
            self.students.push(s.to_string());
            self
        }
        fn deactivated(mut self) -> G {
            self.active = false;
            self
        }
    }

    /// A group as (key, name, reasons, shared values, member ids).
    type Found = (String, String, Vec<Reason>, Vec<String>, Vec<&'static str>);

    fn groups(gs: &[G]) -> Vec<Found> {
        let candidates: Vec<Candidate<'_>> = gs
            .iter()
            .map(|g| Candidate {
                id: g.id,
                given_name: g.given,
                family_name: g.family,
                email: g.email,
                phone: g.phone,
                active: g.active,
                students: &g.students,
            })
            .collect();
        find_groups(&candidates)
            .into_iter()
            .map(|grp| {
                let ids = grp.members.iter().map(|&i| gs[i].id).collect();
                (
                    grp.key,
                    grp.normalized_name,
                    grp.reasons,
                    grp.shared_values,
                    ids,
                )
            })
            .collect()
    }

    #[test]
    fn names_are_lowercased_with_whitespace_collapsed_and_trimmed() {
        assert_eq!(
            normalize_name("  SARAH ", "Smith\t Jones "),
            "sarah smith jones"
        );
        assert_eq!(normalize_name("ÉLODIE", "Ørsted"), "élodie ørsted");
        assert_eq!(normalize_name("José", "Núñez"), "josé núñez");
        assert_eq!(normalize_name(" ", ""), "");
    }

    #[test]
    fn guardians_with_the_same_name_and_a_shared_email_are_grouped() {
        let found = groups(&[
            g("g2", "Sarah", "Smith").email("Sarah@Mail.com "),
            g("g1", "sarah", "SMITH").email("sarah@mail.com"),
        ]);
        assert_eq!(
            found,
            [(
                "g1".to_string(),
                "sarah smith".to_string(),
                vec![Reason::SharedCredential],
                vec!["sarah@mail.com".to_string()],
                vec!["g1", "g2"],
            )]
        );
    }

    #[test]
    fn guardians_with_the_same_name_and_a_shared_phone_are_grouped_whatever_its_format() {
        let found = groups(&[
            g("g1", "Tom", "Reed").phone("+1 (987) 654-3210"),
            g("g2", "Tom", "Reed").phone("+19876543210"),
        ]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].3, ["+19876543210"]);
    }

    #[test]
    fn guardians_with_the_same_name_linked_to_the_same_student_are_grouped() {
        let found = groups(&[
            g("g1", "Sarah", "Smith").student("s1").student("s2"),
            g("g2", "Sarah", "Smith").student("s1"),
        ]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].2, [Reason::SameStudent]);
        assert!(found[0].3.is_empty());
        assert_eq!(found[0].4, ["g1", "g2"]);
    }

    #[test]
    fn guardians_with_the_same_name_who_share_nothing_are_not_grouped() {
        let found = groups(&[
            g("g1", "Sarah", "Smith")
                .email("a@mail.com")
                .phone("+15550001")
                .student("s1"),
            g("g2", "Sarah", "Smith")
                .email("b@mail.com")
                .phone("+15550002")
                .student("s2"),
        ]);
        assert!(found.is_empty());
    }

    #[test]
    fn guardians_with_different_names_sharing_an_email_or_student_are_not_grouped() {
        let found = groups(&[
            g("g1", "Ann", "Lee").email("lee@mail.com").student("s1"),
            g("g2", "Bob", "Lee").email("lee@mail.com").student("s1"),
        ]);
        assert!(found.is_empty());
    }

    #[test]
    fn joins_are_transitive_and_a_group_lists_every_kind_and_shared_value() {
        // g1–g2 share an email, g2–g3 a phone, g3–g4 a student; g1 and g4 share nothing.
        let found = groups(&[
            g("g4", "Sarah", "Smith").student("s9"),
            g("g3", "Sarah", "Smith").phone("+15550003").student("s9"),
            g("g2", "Sarah", "Smith")
                .email("s@mail.com")
                .phone("+15550003"),
            g("g1", "Sarah", "Smith").email("s@mail.com"),
            g("g5", "Sarah", "Smith").email("other@mail.com"),
        ]);
        assert_eq!(
            found,
            [(
                "g1".to_string(),
                "sarah smith".to_string(),
                vec![Reason::SharedCredential, Reason::SameStudent],
                vec!["+15550003".to_string(), "s@mail.com".to_string()],
                vec!["g1", "g2", "g3", "g4"],
            )]
        );
    }

    #[test]
    fn deactivated_guardians_are_ignored() {
        let found = groups(&[
            g("g1", "Sarah", "Smith").email("s@mail.com"),
            g("g2", "Sarah", "Smith").email("s@mail.com").deactivated(),
        ]);
        assert!(found.is_empty());
    }

    #[test]
    fn a_deactivated_guardian_does_not_bridge_two_active_ones() {
        let found = groups(&[
            g("g1", "Sarah", "Smith").email("s@mail.com"),
            g("g2", "Sarah", "Smith")
                .email("s@mail.com")
                .phone("+1555")
                .deactivated(),
            g("g3", "Sarah", "Smith").phone("+1555"),
        ]);
        assert!(found.is_empty());
    }

    #[test]
    fn names_differing_only_in_case_and_spacing_are_the_same_name() {
        let found = groups(&[
            g("g1", " SARAH  ", "smith").email("s@mail.com"),
            g("g2", "Sarah", " Smith ").email("s@mail.com"),
            g("g3", "Sara", "Smith").email("s@mail.com"),
        ]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, "sarah smith");
        assert_eq!(found[0].4, ["g1", "g2"]);
    }

    #[test]
    fn guardians_without_a_name_are_never_grouped() {
        let found = groups(&[
            g("g1", "", " ").email("s@mail.com"),
            g("g2", "", "").email("s@mail.com"),
        ]);
        assert!(found.is_empty());
    }

    #[test]
    fn groups_come_by_name_then_key_and_one_name_can_make_several_groups() {
        let found = groups(&[
            g("g6", "Zoe", "Adams").email("z@mail.com"),
            g("g5", "Zoe", "Adams").email("z@mail.com"),
            g("g4", "Amy", "Brown").student("s2"),
            g("g3", "Amy", "Brown").student("s2"),
            g("g2", "Amy", "Brown").email("amy@mail.com"),
            g("g1", "Amy", "Brown").email("amy@mail.com"),
        ]);
        let keys: Vec<(&str, &str)> = found.iter().map(|f| (f.1.as_str(), f.0.as_str())).collect();
        assert_eq!(
            keys,
            [
                ("amy brown", "g1"),
                ("amy brown", "g3"),
                ("zoe adams", "g5")
            ]
        );
    }
}
