//! Phone numbers: read the way Google's libphonenumber reads them, checked against its
//! metadata (the `phonenumber` crate), and written in E.164 (`+15551234567`).
//!
//! The crate reads a number with a country code (`+86 138 0013 8000`) against the default
//! region's national prefix rules, and so strips the `1` of a Chinese mobile number when
//! the default region is US. Here a number written with `+`, or with the default region's
//! international prefix (`011` from the US, `00` from most of the world), is reduced to its
//! digits and read with no region, as libphonenumber does; only a national number is read in
//! the default region. `tests/fixtures/phones/` holds the differential test's fixture.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use phonenumber::country;
use regex::{Regex, RegexBuilder};
use thiserror::Error;

/// A region a phone number without a country code is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(country::Id);

impl Region {
    /// Parses an ISO 3166-1 alpha-2 code ("US", "gb").
    pub fn parse(code: &str) -> Option<Region> {
        code.trim().to_ascii_uppercase().parse::<country::Id>().ok().map(Region)
    }

    /// Every region the metadata knows, sorted by code (for a hint that tries them all).
    pub fn all() -> Vec<Region> {
        let mut all: Vec<Region> =
            phonenumber::metadata::DATABASE.iter().filter_map(|m| Region::parse(m.id())).collect();
        all.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
        all.dedup();
        all
    }
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_ref())
    }
}

/// Whether `raw` is read in the default region (written without a country code), so that a
/// message about it names the region.
pub fn read_in_region(raw: &str, region: Option<Region>) -> bool {
    let (body, _) = split_extension(without_marks(raw));
    region.is_some()
        && international(body, region).is_none()
        && !matches!(national_with_country_code(body, region), Some(CountryCode::Strip(_)))
}

/// A quick necessary condition for `raw` (a national number: digits and punctuation) to be
/// a number of `region`: its digits, or those after the region's national prefix, have a
/// length the region's numbers have and fit its general pattern. Cheap enough to try every
/// region before [`parse`]ing in the few that pass.
pub fn may_be_of(raw: &str, region: Region) -> bool {
    let Some(meta) = phonenumber::metadata::DATABASE.by_id(region.0.as_ref()) else { return false };
    let (body, _) = split_extension(without_marks(raw));
    let digits: String = body.chars().filter(char::is_ascii_digit).collect();
    let general = meta.descriptors().general();
    let prefix = meta.national_prefix().unwrap_or_default();
    let fits = |nsn: &str| {
        (general.possible_length().is_empty() || general.possible_length().contains(&(nsn.len() as u16)))
            && whole_match(general.national_number().as_str(), nsn)
    };
    fits(&digits) || digits.strip_prefix(prefix).is_some_and(|rest| !prefix.is_empty() && fits(rest))
}

/// Whether `raw`, read in `region`, is a valid mobile number of that region (its metadata's
/// mobile pattern, whole-number match).
pub fn is_mobile_in(raw: &str, region: Region) -> bool {
    let Ok(phone) = parse(raw, Some(region)) else { return false };
    let Some(meta) = phonenumber::metadata::DATABASE.by_id(region.0.as_ref()) else { return false };
    let Some(nsn) = phone.e164.strip_prefix(&format!("+{}", meta.country_code())) else { return false };
    let d = meta.descriptors();
    d.mobile().is_some_and(|m| {
        let lengths = if m.possible_length().is_empty() { d.general().possible_length() } else { m.possible_length() };
        (lengths.is_empty() || lengths.contains(&(nsn.len() as u16))) && whole_match(m.national_number().as_str(), nsn)
    })
}

/// A number read from a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    /// The number in E.164.
    pub e164: String,
    /// The extension written after it (`ext 43023`, `x12`, `#5`), digits only. E.164 has no
    /// place for it, so it is not sent: the caller warns about it.
    pub extension: Option<String>,
}

/// Why a cell is not a phone number. The messages never show the parser's internals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PhoneError {
    #[error("has no country code (start it with + or set [phone].default_region)")]
    NoCountryCode,
    #[error("is not a phone number")]
    NotANumber,
    #[error("is too short to be a phone number")]
    TooShort,
    #[error("is too long to be a phone number")]
    TooLong,
    #[error("starts with a country code that does not exist")]
    UnknownCountryCode,
    #[error("is not a valid phone number for its country")]
    Invalid,
}

/// Reads `raw` (in `region` when it has no country code) as libphonenumber would.
pub fn parse(raw: &str, region: Option<Region>) -> Result<Phone, PhoneError> {
    let (body, extension) = split_extension(without_marks(raw));
    let national = national_with_country_code(body, region);
    let plus = international(body, region).or(match &national {
        Some(CountryCode::Strip(plus)) => Some(plus.clone()),
        _ => None,
    });
    // Read with the code kept: valid, or invalid whatever the crate says (its own message
    // kept when it refuses the number too).
    let mut invalid_kept = false;
    if plus.is_none()
        && let Some(CountryCode::Keep(e164)) = national
    {
        match e164 {
            Ok(e164) => return Ok(Phone { e164, extension }),
            Err(_) => invalid_kept = true,
        }
    }
    let parsed = match &plus {
        Some(plus) => phonenumber::parse(None, plus),
        None if region.is_none() => return Err(PhoneError::NoCountryCode),
        None => phonenumber::parse(region.map(|r| r.0), body),
    };
    let e164 = match parsed {
        Ok(number) if is_valid(&number) => number.format().mode(phonenumber::Mode::E164).to_string(),
        result => unstripped(plus.as_deref(), body, region).ok_or(match result {
            Ok(_) => PhoneError::Invalid,
            Err(phonenumber::ParseError::InvalidCountryCode) if region.is_none() => PhoneError::NoCountryCode,
            Err(phonenumber::ParseError::InvalidCountryCode) => PhoneError::UnknownCountryCode,
            Err(phonenumber::ParseError::TooShortNsn | phonenumber::ParseError::TooShortAfterIdd) => {
                PhoneError::TooShort
            }
            Err(phonenumber::ParseError::TooLong) => PhoneError::TooLong,
            Err(_) => PhoneError::NotANumber,
        })?,
    };
    if invalid_kept {
        return Err(PhoneError::Invalid);
    }
    Ok(Phone { e164, extension })
}

/// Where the crate finds a number invalid, the reading libphonenumber keeps: the crate
/// strips a national prefix even when what is left has a length no number of the country
/// has (`+7 800 123-45-67` loses its `8`), and strips it twice from a national number
/// (`8 (800) 123-45-67`). libphonenumber strips it at most once, and only when the rest
/// can still be a number. Here the digits are tried as written, then without the prefix.
fn unstripped(plus: Option<&str>, body: &str, region: Option<Region>) -> Option<String> {
    let db = &*phonenumber::metadata::DATABASE;
    let (code, digits) = if let Some(plus) = plus {
        let digits = &plus[1..];
        (1..=3.min(digits.len())).find_map(|len| {
            let code: u16 = digits[..len].parse().ok()?;
            db.by_code(&code).map(|_| (code, &digits[len..]))
        })?
    } else {
        if !body.chars().all(|c| c.is_ascii_digit() || is_punctuation(c)) {
            return None;
        }
        let meta = db.by_id(region?.0.as_ref())?;
        let prefix = meta.national_prefix().unwrap_or_default();
        let national: String = body.chars().filter(char::is_ascii_digit).collect();
        let code = meta.country_code();
        return [national.strip_prefix(prefix).filter(|_| !prefix.is_empty()), Some(&national)]
            .into_iter()
            .flatten()
            .find(|nsn| is_valid_nsn(code, nsn))
            .map(|nsn| format!("+{code}{nsn}"));
    };
    is_valid_nsn(code, digits).then(|| format!("+{code}{digits}"))
}

/// Whether a parsed number is valid, as libphonenumber decides it.
fn is_valid(number: &phonenumber::PhoneNumber) -> bool {
    let code = number.code().value();
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    e164.strip_prefix(&format!("+{code}")).is_some_and(|nsn| is_valid_nsn(code, nsn))
}

/// Whether `nsn` is a number of some type in a region of country code `code`. The crate's
/// own check matches a pattern against the start of the number only, so it takes a number
/// with a digit too many for valid; libphonenumber matches the whole number.
fn is_valid_nsn(code: u16, nsn: &str) -> bool {
    let Some(metas) = phonenumber::metadata::DATABASE.by_code(&code) else { return false };
    let len = nsn.len() as u16;
    metas.iter().any(|meta| {
        let d = meta.descriptors();
        let general = d.general();
        let matches = |t: &phonenumber::metadata::Descriptor| {
            let lengths = if t.possible_length().is_empty() { general.possible_length() } else { t.possible_length() };
            (lengths.is_empty() || lengths.contains(&len)) && whole_match(t.national_number().as_str(), nsn)
        };
        matches(general)
            && [
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.shared_cost(),
                d.voip(),
                d.personal_number(),
                d.pager(),
                d.uan(),
                d.voicemail(),
            ]
            .into_iter()
            .flatten()
            .any(matches)
    })
}

/// Whether the metadata pattern `pattern` matches all of `nsn` (compiled once, anchored,
/// with the whitespace of the metadata's layout ignored as the crate does).
fn whole_match(pattern: &str, nsn: &str) -> bool {
    static ANCHORED: LazyLock<Mutex<HashMap<String, Option<Regex>>>> = LazyLock::new(Default::default);
    let mut cache = ANCHORED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(re) = cache.get(pattern) {
        return re.as_ref().is_some_and(|re| re.is_match(nsn));
    }
    let re = RegexBuilder::new(&format!("^(?:{pattern})$")).ignore_whitespace(true).build().ok();
    let matched = re.as_ref().is_some_and(|re| re.is_match(nsn));
    cache.insert(pattern.to_owned(), re);
    matched
}

/// What surrounds a number in a cell and is not part of it: Excel's text marker (a leading
/// `'`) and a `tel:` URI's scheme, which libphonenumber skips too.
fn without_marks(raw: &str) -> &str {
    let s = raw.trim();
    let s = s.strip_prefix('\'').unwrap_or(s).trim_start();
    match s.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("tel:") => s[4..].trim_start(),
        _ => s,
    }
}

/// How a national number that starts with its region's country code digits is read.
enum CountryCode {
    /// Those digits are the country code (`78001234567` in RU): the number as `+` and digits.
    Strip(String),
    /// They are part of the national number (`4915123456789` in DE is +49 4915123456789):
    /// its E.164, or why that is not a valid number. The crate strips them either way.
    Keep(Result<String, PhoneError>),
}

/// libphonenumber's rule for a number written without `+` that starts with the default
/// region's country code: the code is taken off when the whole number does not fit the
/// region's general pattern but the rest (its national prefix stripped) does, or when the
/// whole is too long for the region; otherwise the digits belong to the national number.
/// `None` when the number does not start with the code (or has letters).
fn national_with_country_code(body: &str, region: Option<Region>) -> Option<CountryCode> {
    if body.starts_with(['+', '\u{ff0b}']) || !body.chars().all(|c| c.is_ascii_digit() || is_punctuation(c)) {
        return None;
    }
    let meta = phonenumber::metadata::DATABASE.by_id(region?.0.as_ref())?;
    let code = meta.country_code();
    let digits: String = body.chars().filter(char::is_ascii_digit).collect();
    let rest = digits.strip_prefix(&code.to_string())?;
    let general = meta.descriptors().general();
    let fits = |nsn: &str| whole_match(general.national_number().as_str(), nsn);
    let prefix = meta.national_prefix().unwrap_or_default();
    let without_prefix = |nsn: &str| -> String {
        match nsn.strip_prefix(prefix).filter(|_| !prefix.is_empty()) {
            Some(s) if !fits(nsn) || fits(s) => s.to_owned(),
            _ => nsn.to_owned(),
        }
    };
    let potential = without_prefix(rest);
    let too_long = general.possible_length().iter().max().is_some_and(|max| digits.len() > *max as usize);
    if (!fits(&digits) && fits(&potential)) || too_long {
        return Some(CountryCode::Strip(format!("+{code}{potential}")));
    }
    let nsn = without_prefix(&digits);
    Some(CountryCode::Keep(is_valid_nsn(code, &nsn).then(|| format!("+{code}{nsn}")).ok_or(PhoneError::Invalid)))
}

/// Characters people put between the digits of a number.
fn is_punctuation(c: char) -> bool {
    matches!(c, ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

/// A number written with a country code, as `+` and its digits: one that starts with `+`,
/// or with the default region's international prefix (`011 44 ...` from the US). `None`
/// for a national number, or one with letters (left to the crate).
fn international(body: &str, region: Option<Region>) -> Option<String> {
    let (plus, rest) = match body.strip_prefix(['+', '\u{ff0b}']) {
        Some(rest) => (true, rest),
        None => (false, body),
    };
    if !rest.chars().all(|c| c.is_ascii_digit() || is_punctuation(c)) {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    if plus {
        return Some(format!("+{digits}"));
    }
    let meta = phonenumber::metadata::DATABASE.by_id(region?.0.as_ref())?;
    let idd = meta.international_prefix()?.find(&digits).filter(|m| m.start() == 0)?;
    let after = &digits[idd.end()..];
    (!after.is_empty() && !after.starts_with('0')).then(|| format!("+{after}"))
}

/// Splits an extension off the end of a number: `ext 43023`, `ext. 5`, `extension 5`,
/// `x12`, `#5`, `;ext=5` (what libphonenumber reads as one).
fn split_extension(s: &str) -> (&str, Option<String>) {
    let lower = s.to_ascii_lowercase();
    for marker in [";ext=", "extension", "ext.", "ext", "x", "#"] {
        let Some(at) = lower.rfind(marker) else { continue };
        let tail = s[at + marker.len()..].trim_start_matches([' ', ':', '.', '=']).trim_end();
        let head = s[..at].trim_end_matches([' ', ',', ';']);
        if (1..=7).contains(&tail.len())
            && tail.bytes().all(|b| b.is_ascii_digit())
            && head.bytes().filter(u8::is_ascii_digit).count() >= 3
        {
            return (head, Some(tail.to_owned()));
        }
    }
    (s, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(raw: &str, region: Option<Region>) -> Result<String, PhoneError> {
        parse(raw, region).map(|p| p.e164)
    }

    #[test]
    fn normalises_national_and_international_numbers() {
        let us = Region::parse("us");
        assert_eq!(e164("(201) 555-0123", us).unwrap(), "+12015550123");
        assert_eq!(e164("+44 20 7946 0958", us).unwrap(), "+442079460958");
        assert_eq!(e164("020 7946 0958", Region::parse("GB")).unwrap(), "+442079460958");
        assert!(e164("12", us).is_err());
        assert!(e164("hello", us).is_err());
        assert_eq!(e164("2015550123", None), Err(PhoneError::NoCountryCode));
        assert!(Region::parse("XX").is_none());
    }

    #[test]
    fn numbers_with_a_country_code_ignore_the_default_region() {
        let us = Region::parse("US");
        assert_eq!(e164("+86 138 0013 8000", us).unwrap(), "+8613800138000");
        assert_eq!(e164("+86 10 6725 5922", us).unwrap(), "+861067255922");
        assert_eq!(e164("+1800.328.2008", us).unwrap(), "+18003282008");
        assert_eq!(e164("011 44 20 7946 0958", us).unwrap(), "+442079460958");
        assert_eq!(e164("0044 20 7946 0958", Region::parse("GB")).unwrap(), "+442079460958");
        assert_eq!(e164("+86 138 0013 8000", None).unwrap(), "+8613800138000");
    }

    #[test]
    fn placeholders_get_a_plain_message() {
        let us = Region::parse("US");
        for raw in ["000000000", "1234", "0", "+", "n/a"] {
            let msg = parse(raw, us).unwrap_err().to_string();
            assert!(!msg.contains("integer") && !msg.contains("parse"), "{raw}: {msg}");
        }
    }

    #[test]
    fn extensions_are_split_off() {
        let us = Region::parse("US");
        for raw in
            ["1-888-752-5141 Ext 43023", "1-888-752-5141 ext. 43023", "+1 888 752 5141 x43023", "18887525141#43023"]
        {
            let p = parse(raw, us).unwrap();
            assert_eq!((p.e164.as_str(), p.extension.as_deref()), ("+18887525141", Some("43023")), "{raw}");
        }
        assert_eq!(parse("+1 888 752 5141", us).unwrap().extension, None);
    }
}
