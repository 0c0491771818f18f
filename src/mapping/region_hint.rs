//! The region hint: when most numbers of a phone column are refused in `[phone]
//! default_region` (an export of Indian numbers written nationally, read as US numbers), a
//! run says so once, and names the region that would read them, found by reading a sample of
//! the refused numbers in every region the phone metadata knows.

use super::phone::{self, Region};

/// At most this many refused numbers of a column are kept to try other regions on.
const SAMPLE: usize = 25;
/// A column gets a hint only from this many refused numbers on (two bad numbers out of three
/// are a typo, not a region).
const AT_LEAST: usize = 5;

/// What the phone numbers of each `[[phone_numbers]]` column did in the default region.
#[derive(Debug, Clone)]
pub struct PhoneTally {
    region: Option<Region>,
    columns: Vec<ColumnTally>,
}

#[derive(Debug, Clone)]
struct ColumnTally {
    column: String,
    /// Numbers read from this column (each value of a split cell counts).
    values: usize,
    /// Of those, numbers written without a country code that the default region refused.
    refused: usize,
    /// The first [`SAMPLE`] of them.
    sample: Vec<String>,
}

impl PhoneTally {
    /// A tally for these columns (one per `[[phone_numbers]]` entry, in order).
    pub fn new(columns: impl IntoIterator<Item = String>, region: Option<Region>) -> PhoneTally {
        let columns =
            columns.into_iter().map(|column| ColumnTally { column, values: 0, refused: 0, sample: vec![] }).collect();
        PhoneTally { region, columns }
    }

    /// Counts one number of entry `entry`; `refused_in_region` when the default region read
    /// it (no country code) and refused it, or when it has no country code and no default
    /// region is set.
    pub fn count(&mut self, entry: usize, value: &str, refused_in_region: bool) {
        let Some(c) = self.columns.get_mut(entry) else { return };
        c.values += 1;
        if refused_in_region {
            c.refused += 1;
            if c.sample.len() < SAMPLE {
                c.sample.push(value.to_owned());
            }
        }
    }

    /// One sentence per column whose numbers were mostly refused in the default region,
    /// naming the region that reads most of them when one does.
    pub fn hints(&self) -> Vec<String> {
        let region = self.region;
        let mut out = Vec::new();
        for c in &self.columns {
            if c.refused < AT_LEAST || c.refused * 2 <= c.values {
                continue;
            }
            let head = match region {
                Some(region) => format!(
                    "column {:?}: {} of its {} phone numbers are not valid numbers of region {region}, [phone] default_region",
                    c.column, c.refused, c.values
                ),
                None => format!(
                    "column {:?}: {} of its {} phone numbers have no country code, and [phone] default_region is not set",
                    c.column, c.refused, c.values
                ),
            };
            let tail = match suggest(&c.sample, region) {
                Some((best, read)) => format!(
                    "; read as numbers of region {}, {read} of the first {} of them are valid: if that is where they are from, set [phone] default_region = \"{}\" (numbers written with a country code are read with it whatever the region)",
                    best.iter().map(ToString::to_string).collect::<Vec<_>>().join(" or "),
                    c.sample.len(),
                    best[0]
                ),
                None => "; no other region reads most of them either: check the column holds phone numbers".to_owned(),
            };
            out.push(format!("{head}{tail}"));
        }
        out
    }
}

/// The regions (other than `region`) that read the most of `sample` as valid numbers, when
/// they read more than half of it, with how many they read. Among regions that read as many,
/// those where the most are mobile numbers win (an export of people's contacts is mostly
/// mobiles, and a permissive fixed-line plan such as Germany's reads many numbers of
/// elsewhere); more than one is named when they still tie.
fn suggest(sample: &[String], region: Option<Region>) -> Option<(Vec<Region>, usize)> {
    let mut best: (Vec<Region>, (usize, usize)) = (vec![], (0, 0));
    for r in Region::all().into_iter().filter(|r| Some(*r) != region) {
        let valid: Vec<&String> = sample
            .iter()
            .filter(|v| phone::may_be_of(v, r) && phone::read_in_region(v, Some(r)) && phone::parse(v, Some(r)).is_ok())
            .collect();
        if valid.is_empty() || valid.len() < best.1.0 {
            continue;
        }
        let score = (valid.len(), valid.iter().filter(|v| phone::is_mobile_in(v, r)).count());
        match score.cmp(&best.1) {
            std::cmp::Ordering::Greater => best = (vec![r], score),
            std::cmp::Ordering::Equal => best.0.push(r),
            std::cmp::Ordering::Less => {}
        }
    }
    let read = best.1.0;
    (read * 2 > sample.len()).then_some((best.0, read))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(values: &[&str], region: &str) -> PhoneTally {
        let region = Region::parse(region);
        let mut t = PhoneTally::new(["Phone 1 - Value".to_owned()], region);
        for v in values {
            let parsed = phone::parse(v, region);
            let refused =
                parsed.is_err() && phone::read_in_region(v, region) || parsed == Err(phone::PhoneError::NoCountryCode);
            t.count(0, v, refused);
        }
        t
    }

    #[test]
    fn indian_mobiles_with_no_region_set_suggest_india() {
        let numbers = ["85900 11086", "098471 23456", "94470 12345", "9876543210", "99450 67890", "+91 99000 12345"];
        let hints = tally(&numbers, "none").hints();
        assert_eq!(hints.len(), 1, "{hints:?}");
        assert!(
            hints[0].contains("5 of its 6 phone numbers have no country code, and [phone] default_region is not set"),
            "{hints:?}"
        );
        assert!(hints[0].contains("set [phone] default_region = \"IN\""), "{hints:?}");
    }

    #[test]
    fn indian_mobiles_read_in_us_suggest_india() {
        // Mobiles written nationally (two of them, 98471 and 70123, are valid US numbers too), a
        // Bangalore landline, and one number with its country code.
        let numbers = [
            "85900 11086",
            "098471 23456",
            "9847123457",
            "94470 12345",
            "080 2345 6789",
            "7012345678",
            "8590011086",
            "9876543210",
            "+1 201-555-0123",
        ];
        let hints = tally(&numbers, "US").hints();
        assert_eq!(hints.len(), 1, "{hints:?}");
        assert!(hints[0].contains("6 of its 9 phone numbers are not valid numbers of region US"), "{hints:?}");
        assert!(hints[0].contains("set [phone] default_region = \"IN\""), "{hints:?}");
    }

    #[test]
    fn a_few_bad_numbers_among_good_ones_give_no_hint() {
        let mut numbers: Vec<String> = (0..20).map(|i| format!("(201) 555-01{i:02}")).collect();
        numbers.extend(["1234", "85900 11086", "000000", "98471 23456", "55"].map(String::from));
        let refs: Vec<&str> = numbers.iter().map(String::as_str).collect();
        assert_eq!(tally(&refs, "US").hints(), Vec::<String>::new());
    }
}
