//! A verified token's payload read in one pass: the claims jwt-core checks
//! are kept, the others are only checked to be JSON.
//!
//! A request needs a handful of claims (`exp`, the id, the type, the user
//! id); building the whole ordered map costs an allocation per name and per
//! string and a hash per lookup. The pass here accepts exactly the texts
//! [`Claims`](crate::Claims) accepts: every value goes through the same
//! `serde_json` parser as a [`Value`] would (numbers out of range, bad
//! escapes and nesting beyond its limit are refused alike), and a name
//! given twice keeps its last value, as the map does. The map itself is
//! built from the same text when someone asks for it.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::validation::{ClaimNames, ClaimSource};

/// The registered claims PyJWT looks at, before the configurable names.
const REGISTERED: [&str; 7] = ["iat", "nbf", "exp", "iss", "aud", "sub", "jti"];

/// How many claims are picked: the registered ones and the three
/// configurable names (id, type, user id).
const PICKED: usize = REGISTERED.len() + 3;

/// The picked claims of one payload.
pub(crate) struct Picked<'n> {
    names: [&'n str; PICKED],
    values: [Option<Value>; PICKED],
}

impl<'n> Picked<'n> {
    /// Reads `json`, which must be one JSON object and nothing else.
    pub(crate) fn read(json: &[u8], names: &'n ClaimNames) -> Result<Self, serde_json::Error> {
        let mut all = [""; PICKED];
        all[..REGISTERED.len()].copy_from_slice(&REGISTERED);
        all[REGISTERED.len()] = &names.jti;
        all[REGISTERED.len() + 1] = &names.token_type;
        all[REGISTERED.len() + 2] = &names.user_id;
        let mut picked = Picked {
            names: all,
            values: std::array::from_fn(|_| None),
        };
        let mut reader = serde_json::Deserializer::from_slice(json);
        (&mut reader).deserialize_map(Fill(&mut picked))?;
        reader.end()?;
        Ok(picked)
    }

    /// The slot of a name: the first of equal names, so that a configured
    /// name equal to a registered one shares its slot.
    fn slot(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|picked| *picked == name)
    }
}

impl ClaimSource for Picked<'_> {
    fn claim(&self, name: &str) -> Option<&Value> {
        self.values[self.slot(name)?].as_ref()
    }
}

/// Fills the slots from the members of an object.
struct Fill<'p, 'n>(&'p mut Picked<'n>);

impl<'de> Visitor<'de> for Fill<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<(), A::Error> {
        while let Some(slot) = members.next_key_seed(Slot(self.0))? {
            match slot {
                Some(slot) => self.0.values[slot] = Some(members.next_value()?),
                None => members.next_value::<Checked>().map(drop)?,
            }
        }
        Ok(())
    }
}

/// A member's name, as the slot it fills (`None`: not picked).
struct Slot<'p, 'n>(&'p Picked<'n>);

impl<'de> DeserializeSeed<'de> for Slot<'_, '_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, names: D) -> Result<Option<usize>, D::Error> {
        names.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Slot<'_, '_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a claim name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Option<usize>, E> {
        Ok(self.0.slot(name))
    }
}

/// Any JSON value, read as a [`Value`] would be, and dropped.
struct Checked;

impl<'de> serde::Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(value: D) -> Result<Checked, D::Error> {
        value.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Checked, A::Error> {
        while items.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Checked, A::Error> {
        while members.next_key::<Checked>()?.is_some() {
            members.next_value::<Checked>()?;
        }
        Ok(Checked)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;

    fn names() -> ClaimNames {
        ClaimNames {
            user_id: "user_id".into(),
            token_type: "token_type".into(),
            jti: "jti".into(),
        }
    }

    /// Whether the whole map would have been read from the same text.
    fn as_map(json: &str) -> bool {
        serde_json::from_str::<Map<String, Value>>(json).is_ok()
    }

    #[test]
    fn picks_the_claims_it_checks_and_keeps_the_last_of_a_repeated_name() {
        let names = names();
        let text =
            r#"{"token_type":"access","exp":9,"user_id":"u","org":{"a":[1,2.5,null]},"exp":10}"#;
        let picked = Picked::read(text.as_bytes(), &names).expect("an object");
        assert_eq!(picked.claim("exp"), Some(&json!(10)));
        assert_eq!(picked.claim("token_type"), Some(&json!("access")));
        assert_eq!(picked.claim("user_id"), Some(&json!("u")));
        assert_eq!(picked.claim("org"), None, "not a picked claim");
        assert_eq!(picked.claim("iat"), None);
    }

    #[test]
    fn a_configured_name_equal_to_a_registered_one_shares_its_slot() {
        let names = ClaimNames {
            user_id: "sub".into(),
            ..names()
        };
        let picked = Picked::read(br#"{"sub":"7"}"#, &names).expect("an object");
        assert_eq!(picked.claim("sub"), Some(&json!("7")));
    }

    #[test]
    fn accepts_exactly_what_the_map_accepts() {
        let names = names();
        for text in [
            r#"{"a":1}"#,
            r#"{"a":1e400}"#,
            r#"{"a":-1e400}"#,
            r#"{"a":18446744073709551616}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\u00e9\n"}"#,
            r#"{"a\u0000b":1}"#,
            r#"{"o":{"k\ud800":1}}"#,
            r#"{"o":{"k\u00e9":1,"k\u00e9":2}}"#,
            r#"{"exp":1e400}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":1,}"#,
            r#"{"a":1} x"#,
            r#"[1]"#,
            r#""text""#,
            r#"{"a":tru}"#,
            r#"{"a":{"b":{}}, "c": [[], {}]}"#,
            "{\"a\":\"\u{1}\"}",
            "",
        ] {
            assert_eq!(
                Picked::read(text.as_bytes(), &names).is_ok(),
                as_map(text),
                "{text:?}"
            );
        }
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
        assert_eq!(Picked::read(deep.as_bytes(), &names).is_ok(), as_map(&deep));
        assert!(
            !as_map(&deep),
            "nesting beyond serde_json's limit is refused"
        );
        let shallow = format!("{{\"a\":{}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(Picked::read(shallow.as_bytes(), &names).is_ok());
        assert!(as_map(&shallow));
    }
}
