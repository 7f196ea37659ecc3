//! Planning a communication's deliveries (MS-2, MS-3, MS-6): expand each
//! recipient to its addresses on the requested channels, honour preferences
//! (unless it is an emergency), skip bad and opted-out addresses, and collapse
//! to one delivery per (channel, address) however many recipients share it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A delivery channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// Email.
    Email,
    /// SMS to the mobile phone.
    Sms,
    /// A voice call to the mobile phone.
    Voice,
}

impl Channel {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Voice => "voice",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "email" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
            "voice" => Some(Channel::Voice),
            _ => None,
        }
    }
}

/// Why an account gets nothing on a channel, or an address is not sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// The address bounced or is unreachable (MS-6); a skipped delivery is recorded.
    BadAddress,
    /// The number sent STOP (MS-3); a skipped delivery is recorded.
    OptedOut,
    /// The account turned this channel off (MS-3).
    NoPreference,
    /// The account has no address for this channel.
    NoAddress,
}

impl SkipReason {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::BadAddress => "bad_address",
            SkipReason::OptedOut => "opted_out",
            SkipReason::NoPreference => "no_preference",
            SkipReason::NoAddress => "no_address",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<SkipReason> {
        match s {
            "bad_address" => Some(SkipReason::BadAddress),
            "opted_out" => Some(SkipReason::OptedOut),
            "no_preference" => Some(SkipReason::NoPreference),
            "no_address" => Some(SkipReason::NoAddress),
            _ => None,
        }
    }
}

/// One recipient account with what messaging needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The account.
    pub account_id: String,
    /// BCP 47, '' = English.
    pub language: String,
    /// Normalised email, if any.
    pub email: Option<String>,
    /// E.164 mobile phone, if any.
    pub phone: Option<String>,
    /// RO-8: accounts merged into this one: a channel any of them turned
    /// off stays off.
    pub merged_account_ids: Vec<String>,
}

/// What is known about an address on a channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressState {
    /// Bounced / unreachable on this channel (MS-6).
    pub bad: bool,
    /// Sent STOP (SMS, MS-3).
    pub opted_out: bool,
}

/// The inputs of a plan besides the recipients.
#[derive(Debug, Clone, Default)]
pub struct PlanInputs {
    /// Channels the sender chose.
    pub channels: BTreeSet<Channel>,
    /// Emergency: preferences do not apply (opt-outs and bad addresses still do).
    pub emergency: bool,
    /// Channels an account turned off.
    pub disabled: BTreeSet<(String, Channel)>,
    /// Known state of addresses, by (channel, address).
    pub addresses: HashMap<(Channel, String), AddressState>,
}

/// One delivery: one message to one address on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDelivery {
    /// Channel.
    pub channel: Channel,
    /// Address.
    pub address: String,
    /// Language of the message: the one most of its recipients prefer.
    pub language: String,
    /// Accounts it stands for (each sees the communication in their history).
    pub recipients: Vec<String>,
    /// Set when the address is not sent to (bad or opted out): recorded as skipped.
    pub skip: Option<SkipReason>,
}

/// The plan: deliveries (including recorded skips) and per-account skips.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// One per (channel, address), ordered by channel then address.
    pub deliveries: Vec<PlannedDelivery>,
    /// Accounts that get nothing on a channel, and why (no address, no preference).
    pub account_skips: Vec<(String, Channel, SkipReason)>,
}

impl Plan {
    /// Deliveries that will be sent, per channel.
    pub fn to_send(&self, channel: Channel) -> usize {
        self.deliveries
            .iter()
            .filter(|d| d.channel == channel && d.skip.is_none())
            .count()
    }

    /// Skips by reason: account skips plus skipped addresses.
    pub fn skips(&self) -> BTreeMap<SkipReason, usize> {
        let mut counts = BTreeMap::new();
        for (_, _, reason) in &self.account_skips {
            *counts.entry(*reason).or_insert(0) += 1;
        }
        for reason in self.deliveries.iter().filter_map(|d| d.skip) {
            *counts.entry(reason).or_insert(0) += 1;
        }
        counts
    }
}

/// Plans the deliveries of a communication.
pub fn plan(recipients: &[Recipient], inputs: &PlanInputs) -> Plan {
    // (channel, address) → (recipients, languages)
    let mut by_address: BTreeMap<(Channel, String), (BTreeSet<String>, Vec<String>)> =
        BTreeMap::new();
    let mut account_skips = Vec::new();
    for r in recipients {
        for &channel in &inputs.channels {
            let address = match channel {
                Channel::Email => r.email.as_ref(),
                Channel::Sms | Channel::Voice => r.phone.as_ref(),
            };
            let Some(address) = address else {
                account_skips.push((r.account_id.clone(), channel, SkipReason::NoAddress));
                continue;
            };
            if !inputs.emergency && inputs.disabled.contains(&(r.account_id.clone(), channel)) {
                account_skips.push((r.account_id.clone(), channel, SkipReason::NoPreference));
                continue;
            }
            let entry = by_address.entry((channel, address.clone())).or_default();
            if entry.0.insert(r.account_id.clone()) {
                entry.1.push(r.language.clone());
            }
        }
    }
    let deliveries = by_address
        .into_iter()
        .map(|((channel, address), (accounts, languages))| {
            let state = inputs
                .addresses
                .get(&(channel, address.clone()))
                .copied()
                .unwrap_or_default();
            let skip = if state.bad {
                Some(SkipReason::BadAddress)
            } else if state.opted_out && channel == Channel::Sms {
                Some(SkipReason::OptedOut)
            } else {
                None
            };
            PlannedDelivery {
                channel,
                address,
                language: majority(&languages),
                recipients: accounts.into_iter().collect(),
                skip,
            }
        })
        .collect();
    account_skips.sort();
    Plan {
        deliveries,
        account_skips,
    }
}

/// The language most recipients of a shared address prefer; ties go to English,
/// then to the alphabetically first.
fn majority(languages: &[String]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for l in languages {
        *counts.entry(l.as_str()).or_insert(0) += 1;
    }
    let best = counts.values().copied().max().unwrap_or(0);
    let tied: Vec<&str> = counts
        .iter()
        .filter(|(_, n)| **n == best)
        .map(|(l, _)| *l)
        .collect();
    if tied.contains(&"") || tied.contains(&"en") {
        return String::new();
    }
    tied.first().map(|l| l.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipient(id: &str, language: &str, email: Option<&str>, phone: Option<&str>) -> Recipient {
        Recipient {
            account_id: id.into(),
            language: language.into(),
            email: email.map(str::to_owned),
            phone: phone.map(str::to_owned),
            merged_account_ids: Vec::new(),
        }
    }

    fn smiths() -> Vec<Recipient> {
        vec![
            recipient(
                "sarah",
                "",
                Some("smithparent@mail.com"),
                Some("+19876543210"),
            ),
            recipient(
                "kevin",
                "",
                Some("smithparent@mail.com"),
                Some("+11234567890"),
            ),
        ]
    }

    fn inputs(channels: &[Channel]) -> PlanInputs {
        PlanInputs {
            channels: channels.iter().copied().collect(),
            ..PlanInputs::default()
        }
    }

    #[test]
    fn a_shared_email_gets_one_delivery_standing_for_both_recipients() {
        let plan = plan(&smiths(), &inputs(&[Channel::Email, Channel::Sms]));
        let emails: Vec<&PlannedDelivery> = plan
            .deliveries
            .iter()
            .filter(|d| d.channel == Channel::Email)
            .collect();
        assert_eq!(emails.len(), 1);
        assert_eq!(
            emails[0].recipients,
            vec!["kevin".to_string(), "sarah".to_string()]
        );
        assert_eq!(plan.to_send(Channel::Sms), 2);
    }

    #[test]
    fn preferences_are_honoured_unless_it_is_an_emergency() {
        let mut i = inputs(&[Channel::Sms]);
        i.disabled.insert(("kevin".into(), Channel::Sms));
        let normal = plan(&smiths(), &i);
        assert_eq!(normal.to_send(Channel::Sms), 1);
        assert_eq!(
            normal.account_skips,
            vec![("kevin".into(), Channel::Sms, SkipReason::NoPreference)]
        );
        i.emergency = true;
        assert_eq!(plan(&smiths(), &i).to_send(Channel::Sms), 2);
    }

    #[test]
    fn bad_and_opted_out_addresses_are_recorded_as_skips_and_never_sent() {
        let mut i = inputs(&[Channel::Email, Channel::Sms, Channel::Voice]);
        i.emergency = true;
        i.addresses.insert(
            (Channel::Email, "smithparent@mail.com".into()),
            AddressState {
                bad: true,
                opted_out: false,
            },
        );
        i.addresses.insert(
            (Channel::Sms, "+19876543210".into()),
            AddressState {
                bad: false,
                opted_out: true,
            },
        );
        let p = plan(&smiths(), &i);
        let skip_of = |c: Channel, a: &str| {
            p.deliveries
                .iter()
                .find(|d| d.channel == c && d.address == a)
                .unwrap()
                .skip
        };
        assert_eq!(
            skip_of(Channel::Email, "smithparent@mail.com"),
            Some(SkipReason::BadAddress)
        );
        assert_eq!(
            skip_of(Channel::Sms, "+19876543210"),
            Some(SkipReason::OptedOut)
        );
        // STOP is an SMS opt-out: a call still goes.
        assert_eq!(skip_of(Channel::Voice, "+19876543210"), None);
        assert_eq!(p.skips()[&SkipReason::BadAddress], 1);
    }

    #[test]
    fn an_account_without_an_address_is_counted_not_planned() {
        let people = vec![recipient("ana", "es", None, Some("+15550001111"))];
        let p = plan(&people, &inputs(&[Channel::Email, Channel::Sms]));
        assert_eq!(p.deliveries.len(), 1);
        assert_eq!(
            p.account_skips,
            vec![("ana".into(), Channel::Email, SkipReason::NoAddress)]
        );
        assert_eq!(p.deliveries[0].language, "es");
    }

    #[test]
    fn a_shared_address_gets_the_language_most_recipients_prefer() {
        let people = vec![
            recipient("a", "es", Some("home@mail.com"), None),
            recipient("b", "es", Some("home@mail.com"), None),
            recipient("c", "", Some("home@mail.com"), None),
        ];
        assert_eq!(
            plan(&people, &inputs(&[Channel::Email])).deliveries[0].language,
            "es"
        );
        let tie = vec![
            recipient("a", "es", Some("x@mail.com"), None),
            recipient("b", "", Some("x@mail.com"), None),
        ];
        assert_eq!(
            plan(&tie, &inputs(&[Channel::Email])).deliveries[0].language,
            ""
        );
    }
}
