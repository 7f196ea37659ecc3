//! Contact details as SIS exports hold them: US phone numbers typed five ways,
//! personal and family email addresses in mixed case, logins folded to ASCII.

use rand::{Rng, rngs::StdRng};

use super::{
    names::{MAIL_DOMAINS, METROS, OTHER_AREA_CODES},
    pick,
};

/// A US phone number: area code, exchange, line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct UsPhone {
    area: u16,
    exchange: u16,
    line: u16,
}

impl UsPhone {
    /// A number that looks assigned: a real area code (the district's metro's,
    /// one time in ten another), an exchange 201–989 that is not N11 or 555, any
    /// line.
    pub(super) fn random(rng: &mut StdRng, metro: usize) -> Self {
        let area = if rng.gen_bool(0.9) {
            pick(rng, METROS[metro % METROS.len()])
        } else {
            pick(rng, OTHER_AREA_CODES)
        };
        let exchange = loop {
            let e = rng.gen_range(201..=989);
            if e % 100 != 11 && e != 555 && e != 950 && e != 958 && e != 959 && e != 976 {
                break e;
            }
        };
        Self {
            area,
            exchange,
            line: rng.gen_range(0..=9999),
        }
    }

    /// As someone typed it: `(312) 201-4477`, `312-201-4477`, `312.201.4477`,
    /// `+1 312 201 4477` or `3122014477`.
    pub(super) fn typed(self, rng: &mut StdRng) -> String {
        let Self {
            area: a,
            exchange: e,
            line: l,
        } = self;
        match rng.gen_range(0..100) {
            0..=34 => format!("({a}) {e}-{l:04}"),
            35..=59 => format!("{a}-{e}-{l:04}"),
            60..=69 => format!("{a}.{e}.{l:04}"),
            70..=84 => format!("+1 {a} {e} {l:04}"),
            _ => format!("{a}{e}{l:04}"),
        }
    }
}

/// `name` for an email address or login: accents dropped, lowercase, letters
/// and digits only (an apostrophe kept when `keep_apostrophe`, as in
/// `o'brien@…`, which real rosters have).
pub(super) fn fold(name: &str, keep_apostrophe: bool) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let folded = match c {
            'a'..='z' | '0'..='9' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            '\'' if keep_apostrophe => c,
            _ => match base_letter(c) {
                Some(base) => base,
                None => continue,
            },
        };
        out.push(folded);
    }
    out
}

/// The unaccented letter of the accented Latin and Vietnamese letters in our
/// name lists.
fn base_letter(c: char) -> Option<char> {
    let lower = c.to_lowercase().next().unwrap_or(c);
    Some(match lower {
        'à'..='å'
        | 'ā'
        | 'ă'
        | 'ą'
        | 'ạ'
        | 'ả'
        | 'ấ'
        | 'ầ'
        | 'ẩ'
        | 'ẫ'
        | 'ậ'
        | 'ắ'
        | 'ằ'
        | 'ẳ'
        | 'ẵ'
        | 'ặ' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'đ' | 'ď' => 'd',
        'è'..='ë' | 'ē' | 'ę' | 'ě' | 'ẹ' | 'ẻ' | 'ẽ' | 'ế' | 'ề' | 'ể' | 'ễ' | 'ệ' => {
            'e'
        }
        'ì'..='ï' | 'ī' | 'ị' | 'ỉ' | 'ĩ' => 'i',
        'ł' => 'l',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò'..='ö'
        | 'ø'
        | 'ō'
        | 'ő'
        | 'ơ'
        | 'ọ'
        | 'ỏ'
        | 'ố'
        | 'ồ'
        | 'ổ'
        | 'ỗ'
        | 'ộ'
        | 'ớ'
        | 'ờ'
        | 'ở'
        | 'ỡ'
        | 'ợ' => 'o',
        'ś' | 'š' => 's',
        'ù'..='ü' | 'ū' | 'ů' | 'ű' | 'ư' | 'ụ' | 'ủ' | 'ũ' | 'ứ' | 'ừ' | 'ử' | 'ữ' | 'ự' => {
            'u'
        }
        'ý' | 'ÿ' | 'ỳ' | 'ỷ' | 'ỹ' | 'ỵ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        _ => return None,
    })
}

/// A personal address for `given family`: `maria.garcia@gmail.com`,
/// `mgarcia84@yahoo.com`, `garciamaria@outlook.com` …, some in mixed case as
/// people type them.
pub(super) fn personal_email(rng: &mut StdRng, given: &str, family: &str) -> String {
    let (g, f) = (fold(given, false), fold(family, true));
    let initial = g.chars().next().unwrap_or('x');
    let local = match rng.gen_range(0..6) {
        0 | 1 => format!("{g}.{f}"),
        2 => format!("{initial}{f}{}", rng.gen_range(1..100)),
        3 => format!("{f}{g}"),
        4 => format!("{g}_{f}{}", rng.gen_range(70..=99)),
        _ => format!("{g}{}", rng.gen_range(100..10_000)),
    };
    let address = format!("{local}@{}", pick(rng, MAIL_DOMAINS));
    mixed_case(rng, address)
}

/// A household address two guardians share: `smithfamily@gmail.com`,
/// `thegarcias@yahoo.com`, `nguyen.family1998@outlook.com`.
pub(super) fn family_email(rng: &mut StdRng, family: &str) -> String {
    let f = fold(family, false);
    let local = match rng.gen_range(0..3) {
        0 => format!("{f}family"),
        1 => format!("the{f}s"),
        _ => format!("{f}.family{}", rng.gen_range(1985..2015)),
    };
    format!("{local}@{}", pick(rng, MAIL_DOMAINS))
}

/// One address in ten capitalised as some people type them
/// (`Maria.Garcia@Gmail.com`, `Tyrone6363@Yahoo.com`).
fn mixed_case(rng: &mut StdRng, address: String) -> String {
    if !rng.gen_bool(0.1) {
        return address;
    }
    let mut out = String::with_capacity(address.len());
    let (mut word_start, mut in_domain) = (true, false);
    for c in address.chars() {
        out.push(if word_start {
            c.to_ascii_uppercase()
        } else {
            c
        });
        // Words start the address, follow `.` or `_` before the `@`, and the domain.
        word_start = c == '@' || (!in_domain && matches!(c, '.' | '_'));
        in_domain |= c == '@';
    }
    out
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn names_fold_to_ascii_logins() {
        assert_eq!(fold("José", false), "jose");
        assert_eq!(fold("Nguyễn", false), "nguyen");
        assert_eq!(fold("Müller", false), "muller");
        assert_eq!(fold("Đức", false), "duc");
        assert_eq!(fold("Wiśniewski", false), "wisniewski");
        assert_eq!(fold("O'Brien", true), "o'brien");
        assert_eq!(fold("Van der Berg", false), "vanderberg");
        assert_eq!(fold("Schröder", false), "schroder");
    }

    #[test]
    fn some_addresses_are_capitalised_word_by_word() {
        let mut rng = StdRng::seed_from_u64(3);
        let typed: Vec<String> = (0..100)
            .map(|_| mixed_case(&mut rng, "maria.garcia_5@gmail.com".into()))
            .collect();
        assert!(typed.contains(&"Maria.Garcia_5@Gmail.com".to_string()));
        assert!(typed.contains(&"maria.garcia_5@gmail.com".to_string()));
    }

    #[test]
    fn phones_come_in_the_five_formats_with_the_same_ten_digits() {
        let mut rng = StdRng::seed_from_u64(7);
        let phone = UsPhone::random(&mut rng, 0);
        let typed: Vec<String> = (0..200).map(|_| phone.typed(&mut rng)).collect();
        for t in &typed {
            let digits: String = t.chars().filter(char::is_ascii_digit).collect();
            let national = digits.strip_prefix('1').filter(|_| t.starts_with('+'));
            assert_eq!(national.unwrap_or(&digits).len(), 10, "{t}");
        }
        for shape in ["(", "-", ".", "+1 "] {
            assert!(typed.iter().any(|t| t.contains(shape)), "no {shape}");
        }
        assert!(typed.iter().any(|t| t.chars().all(|c| c.is_ascii_digit())));
    }
}
