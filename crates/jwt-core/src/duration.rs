//! Durations in settings: integer seconds (`300`, `"300"`) or a string of
//! whole-number parts with units (`"5m"`, `"1h30m"`, `"7d"`).

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

/// Parses `"300"`, `"5m"`, `"1h30m"`, `"2d"`, `"1w"`. Units: `s`, `m`, `h`,
/// `d`, `w`. Negative and fractional values are refused.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration; expected seconds or a value like \"5m\"".into());
    }
    if text.starts_with('-') {
        return Err(format!(
            "{text:?} is negative; durations must be zero or more"
        ));
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(invalid(text));
        }
        let number: u64 = rest[..digits].parse().map_err(|_| invalid(text))?;
        rest = rest[digits..].trim_start();
        let unit = rest.chars().next().ok_or_else(|| invalid(text))?;
        let scale = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(invalid(text)),
        };
        rest = rest[unit.len_utf8()..].trim_start();
        total = number
            .checked_mul(scale)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| format!("{text:?} is too long a duration"))?;
    }
    Ok(Duration::from_secs(total))
}

fn invalid(text: &str) -> String {
    let shown: String = text.chars().take(40).collect();
    format!(
        "{shown:?} is not a duration; expected seconds or a value like \"5m\", \"1h30m\", \"7d\""
    )
}

/// For `#[serde(deserialize_with = "jwt_core::deserialize_duration")]`: a
/// [`Duration`] given as integer seconds or a duration string.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    deserializer.deserialize_any(DurationVisitor)
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration: whole seconds or a string like \"5m\"")
    }

    fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<Duration, E> {
        Ok(Duration::from_secs(seconds))
    }

    fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<Duration, E> {
        u64::try_from(seconds)
            .map(Duration::from_secs)
            .map_err(|_| {
                E::custom(format!(
                    "{seconds} is negative; durations must be zero or more"
                ))
            })
    }

    fn visit_f64<E: de::Error>(self, seconds: f64) -> Result<Duration, E> {
        Err(E::custom(format!(
            "{seconds} is not a whole number of seconds"
        )))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
        parse_duration(text).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_seconds_and_unit_strings() {
        assert_eq!(parse_duration("300"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration(" 0 "), Ok(Duration::ZERO));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("1d 2h"), Ok(Duration::from_secs(93_600)));
        assert_eq!(parse_duration("2w"), Ok(Duration::from_secs(1_209_600)));
    }

    #[test]
    fn refuses_negative_fractional_and_unknown_units() {
        for bad in [
            "-5",
            "-5m",
            "1.5m",
            "5x",
            "m",
            "",
            "5 minutes",
            "99999999999999999999w",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} was accepted");
        }
        let message = parse_duration("-1").unwrap_err();
        assert!(message.contains("negative"), "{message}");
    }
}
