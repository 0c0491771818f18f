//! Phone numbers: parsed with libphonenumber's metadata (the `phonenumber` crate) in the
//! mapping's default region, checked, and written in E.164 (`+15551234567`).

use phonenumber::country;

/// A region a phone number without a country code is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(country::Id);

impl Region {
    /// Parses an ISO 3166-1 alpha-2 code ("US", "gb").
    pub fn parse(code: &str) -> Option<Region> {
        code.trim().to_ascii_uppercase().parse::<country::Id>().ok().map(Region)
    }
}

/// Normalises `raw` to E.164, or says why it cannot.
pub fn to_e164(raw: &str, region: Option<Region>) -> Result<String, String> {
    let trimmed = raw.trim();
    let number = phonenumber::parse(region.map(|r| r.0), trimmed).map_err(|e| match (e, region) {
        (phonenumber::ParseError::InvalidCountryCode, None) => {
            "has no country code (start it with + or set [phone].default_region)".to_owned()
        }
        (e, _) => format!("is not a phone number ({e})"),
    })?;
    if !phonenumber::is_valid(&number) {
        return Err("is not a valid phone number for its country".to_owned());
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_national_and_international_numbers() {
        let us = Region::parse("us");
        assert_eq!(to_e164("(201) 555-0123", us).unwrap(), "+12015550123");
        assert_eq!(to_e164("+44 20 7946 0958", us).unwrap(), "+442079460958");
        assert_eq!(to_e164("020 7946 0958", Region::parse("GB")).unwrap(), "+442079460958");
        assert!(to_e164("12", us).is_err());
        assert!(to_e164("hello", us).is_err());
        assert!(to_e164("2015550123", None).unwrap_err().contains("country code"));
        assert!(Region::parse("XX").is_none());
    }
}
