//! The canonical contact state: what a source record says a contact should be
//! ([`ContactState`]), what was last pushed with the item ids OpenPhone gave back
//! ([`PushedState`]), and the stable hash that makes an unchanged record free.

use std::collections::BTreeMap;

use indexmap::IndexMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// A table keyed by external id, as the large per-run tables are (the mirror's index, the ids
/// seen in the source): entries in one vector in insertion order, the hash table holding
/// their positions, hashed with foldhash (SipHash cost a tenth of a million-row no-op run;
/// the keys are the user's own ids, and foldhash's seed is still random per process).
pub type IdMap<V> = IndexMap<String, V, foldhash::fast::RandomState>;

/// An empty [`IdMap`] with room for `n` entries.
pub fn id_map<V>(n: usize) -> IdMap<V> {
    IdMap::with_capacity_and_hasher(n, foldhash::fast::RandomState::default())
}

/// One email or phone item, in the slot of its mapping entry (`[[emails]]`, `[[phone_numbers]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// The item's `name` in OpenPhone ("work", "mobile").
    pub label: String,
    /// `None` when the cell is empty: the item should not exist.
    pub value: Option<String>,
}

/// Which of the single-valued fields the mapping does not control. Such a field is `None`
/// in a [`ContactState`] and is never written or compared, so a value set in the app (or
/// left from an earlier mapping) stays. Not part of the hash: it describes the mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Unmapped {
    pub first_name: bool,
    pub last_name: bool,
    pub company: bool,
    pub role: bool,
    pub source_url: bool,
}

/// The single-valued fields of a contact, each named once: the four a mapping's
/// `[default_fields]` map, and `source_url` (a sheet row's link).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scalar {
    FirstName,
    LastName,
    Company,
    Role,
    SourceUrl,
}

impl Scalar {
    /// All five, in the order a change list and a report show them.
    pub const ALL: [Scalar; 5] =
        [Scalar::FirstName, Scalar::LastName, Scalar::Company, Scalar::Role, Scalar::SourceUrl];
    /// The four `[default_fields]` maps (and gives a policy).
    pub const DEFAULT_FIELDS: [Scalar; 4] = [Scalar::FirstName, Scalar::LastName, Scalar::Company, Scalar::Role];

    /// The name a mapping file, a change and a report use.
    pub const fn name(self) -> &'static str {
        match self {
            Scalar::FirstName => "first_name",
            Scalar::LastName => "last_name",
            Scalar::Company => "company",
            Scalar::Role => "role",
            Scalar::SourceUrl => "source_url",
        }
    }

    /// The field named `name`, if it is one of the five.
    pub fn named(name: &str) -> Option<Scalar> {
        Scalar::ALL.into_iter().find(|s| s.name() == name)
    }

    /// This field's value in `state`.
    pub fn of(self, state: &ContactState) -> &Option<String> {
        match self {
            Scalar::FirstName => &state.first_name,
            Scalar::LastName => &state.last_name,
            Scalar::Company => &state.company,
            Scalar::Role => &state.role,
            Scalar::SourceUrl => &state.source_url,
        }
    }

    /// This field's value in `state`, to change.
    pub fn of_mut(self, state: &mut ContactState) -> &mut Option<String> {
        match self {
            Scalar::FirstName => &mut state.first_name,
            Scalar::LastName => &mut state.last_name,
            Scalar::Company => &mut state.company,
            Scalar::Role => &mut state.role,
            Scalar::SourceUrl => &mut state.source_url,
        }
    }

    /// Whether the mapping leaves this field alone.
    pub fn unmapped(self, u: Unmapped) -> bool {
        match self {
            Scalar::FirstName => u.first_name,
            Scalar::LastName => u.last_name,
            Scalar::Company => u.company,
            Scalar::Role => u.role,
            Scalar::SourceUrl => u.source_url,
        }
    }

    /// Marks this field as left alone (or not) in `u`.
    pub fn set_unmapped(self, u: &mut Unmapped, on: bool) {
        match self {
            Scalar::FirstName => u.first_name = on,
            Scalar::LastName => u.last_name = on,
            Scalar::Company => u.company = on,
            Scalar::Role => u.role = on,
            Scalar::SourceUrl => u.source_url = on,
        }
    }

    /// This field's policy; `source_url` always follows the source.
    pub fn policy(self, p: &Policies) -> Policy {
        match self {
            Scalar::FirstName => p.first_name,
            Scalar::LastName => p.last_name,
            Scalar::Company => p.company,
            Scalar::Role => p.role,
            Scalar::SourceUrl => Policy::Source,
        }
    }
}

/// The desired state of one contact: every field the mapping controls, nothing else.
/// Fields not mapped are never read, written or compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ContactState {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub role: Option<String>,
    pub emails: Vec<Slot>,
    pub phones: Vec<Slot>,
    /// Custom field key → API value (`null` clears); one entry per mapped custom field.
    pub custom: BTreeMap<String, serde_json::Value>,
    pub source_url: Option<String>,
    /// Fields the mapping leaves alone (set by the mapper; not stored, not hashed).
    #[serde(skip)]
    pub unmapped: Unmapped,
}

impl ContactState {
    /// A stable digest of the state: equal states have equal hashes across runs,
    /// platforms and versions (it hashes the canonical JSON, whose field order is fixed).
    pub fn hash(&self) -> Digest {
        let json = serde_json::to_vec(self).expect("a ContactState always serialises");
        Digest::of(&Sha256::digest(&json))
    }
}

/// A 128-bit digest (the first half of a SHA-256), stored as 32 hex digits and held in
/// memory as two 64-bit halves: 8-byte aligned, and with a high half that is never zero
/// (a zero is read as one), so an `Option<Digest>` takes 16 bytes, not 32. A mirror index
/// entry holds two of them; for a million contacts that is 64 MB less at the peak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest {
    hi: std::num::NonZeroU64,
    lo: u64,
}

impl Digest {
    /// The digest of a 128-bit number (a high half of zero becomes one).
    pub fn from_u128(v: u128) -> Digest {
        let hi = std::num::NonZeroU64::new((v >> 64) as u64).unwrap_or(std::num::NonZeroU64::MIN);
        Digest { hi, lo: v as u64 }
    }

    fn as_u128(self) -> u128 {
        (u128::from(self.hi.get()) << 64) | u128::from(self.lo)
    }

    /// The digest of a SHA-256 output.
    pub fn of(sha256: &[u8]) -> Digest {
        let mut first = [0u8; 16];
        first.copy_from_slice(&sha256[..16]);
        Digest::from_u128(u128::from_be_bytes(first))
    }

    /// Reads the stored form (32 hex digits).
    pub fn parse(hex: &str) -> Option<Digest> {
        (hex.len() == 32).then(|| u128::from_str_radix(hex, 16).ok().map(Digest::from_u128)).flatten()
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:032x}", self.as_u128())
    }
}

/// What OpenPhone holds for a contact, as far as this tool knows: the state last
/// confirmed, with the OpenPhone id of each item slot (needed to edit or remove it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PushedState {
    pub state: ContactState,
    pub email_ids: Vec<Option<String>>,
    pub phone_ids: Vec<Option<String>>,
}

/// One mapped source record: the desired contact and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 1-based row in the source (the header is row 1).
    pub row: u64,
    pub external_id: String,
    pub state: ContactState,
    /// `state.hash()`, computed once.
    pub hash: Digest,
    /// The digest of the source row it was mapped from, when known.
    pub source_hash: Option<Digest>,
}

impl Record {
    pub fn new(row: u64, external_id: String, state: ContactState) -> Record {
        let hash = state.hash();
        Record { row, external_id, state, hash, source_hash: None }
    }
}

/// Canonical form of a number for comparison and sending: integers stay integers.
pub fn canonical_number(n: f64) -> Option<serde_json::Value> {
    if !n.is_finite() {
        return None;
    }
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        return Some(serde_json::Value::from(n as i64));
    }
    serde_json::Number::from_f64(n).map(serde_json::Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_and_sensitive() {
        let mut a = ContactState { first_name: Some("Ann".into()), ..Default::default() };
        a.custom.insert("k1".into(), serde_json::json!(true));
        let b = a.clone();
        assert_eq!(a.hash(), b.hash());
        assert_eq!(a.hash().to_string().len(), 32);
        assert_eq!(Digest::parse(&a.hash().to_string()), Some(a.hash()));
        assert_eq!(Digest::parse("xyz"), None);
        let mut c = a.clone();
        c.custom.insert("k1".into(), serde_json::Value::Null);
        assert_ne!(a.hash(), c.hash());
        // Pinned: a change here would make every mirrored record look changed.
        assert_eq!(ContactState::default().hash().to_string(), "17e02f9a6314fa2def074128a341ce23");
    }

    #[test]
    fn a_digest_round_trips_and_an_option_of_it_costs_nothing() {
        for v in [1u128 << 64, u128::MAX, 0x0123_4567_89ab_cdef_0011_2233_4455_6677] {
            let d = Digest::from_u128(v);
            assert_eq!(d.as_u128(), v);
            assert_eq!(Digest::parse(&d.to_string()), Some(d));
        }
        // A zero high half (one SHA-256 in 2^64) reads as one, the same on every path.
        assert_eq!(Digest::from_u128(5).as_u128(), (1u128 << 64) | 5);
        assert_eq!(Digest::parse(&format!("{:032x}", 5)), Some(Digest::from_u128(5)));
        assert_eq!(std::mem::size_of::<Option<Digest>>(), 16);
    }

    #[test]
    fn numbers_are_canonical() {
        assert_eq!(canonical_number(42.0), Some(serde_json::json!(42)));
        assert_eq!(canonical_number(1.5), Some(serde_json::json!(1.5)));
        assert_eq!(canonical_number(f64::NAN), None);
    }
}

/// The type of a workspace custom field, as `GET /v1/contact-custom-fields` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldType {
    Address,
    Boolean,
    Date,
    MultiSelect,
    Number,
    String,
    Url,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Address => "address",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::MultiSelect => "multi-select",
            FieldType::Number => "number",
            FieldType::String => "string",
            FieldType::Url => "url",
        }
    }

    pub fn parse(s: &str) -> Option<FieldType> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

/// A workspace custom field: users know it by `name`, the API by `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomFieldDef {
    pub name: String,
    pub key: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
}

/// Who owns a mapped field: what a write does with the value the contact holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// The source wins: every write sets the source's value (the default).
    #[default]
    Source,
    /// Written only while the contact's value is empty: an edit in the app wins.
    IfEmpty,
    /// Written when the contact is created, never after.
    OnCreate,
}

impl Policy {
    pub const ALL: [Policy; 3] = [Policy::Source, Policy::IfEmpty, Policy::OnCreate];

    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Source => "source",
            Policy::IfEmpty => "if_empty",
            Policy::OnCreate => "on_create",
        }
    }

    pub fn parse(s: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Whether a write keeps the contact's `current` value instead of the source's.
    pub fn keeps(self, current_is_empty: bool) -> bool {
        match self {
            Policy::Source => false,
            Policy::IfEmpty => !current_is_empty,
            Policy::OnCreate => true,
        }
    }
}

/// The policy of every mapped field (from the mapping; the same for every record).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policies {
    pub first_name: Policy,
    pub last_name: Policy,
    pub company: Policy,
    pub role: Policy,
    /// Per `[[emails]]` slot, in mapping order.
    pub emails: Vec<Policy>,
    /// Per `[[phone_numbers]]` slot, in mapping order.
    pub phones: Vec<Policy>,
    /// Per custom field key.
    pub custom: BTreeMap<String, Policy>,
}

impl Policies {
    /// Whether every field is the source's (nothing to hold back).
    pub fn all_source(&self) -> bool {
        [self.first_name, self.last_name, self.company, self.role]
            .into_iter()
            .chain(self.emails.iter().copied())
            .chain(self.phones.iter().copied())
            .chain(self.custom.values().copied())
            .all(|p| p == Policy::Source)
    }
}
