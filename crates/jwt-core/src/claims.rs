//! The claims of a token, in order, and the user id they carry.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A token's claims: a JSON object that keeps its members in order.
///
/// Tokens minted here carry `token_type`, `exp`, `iat`, `jti` and the user
/// id in that order, then the app's own claims, as simplejwt writes them;
/// claims of a token read back keep the order they had.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Claims(Map<String, Value>);

impl Claims {
    /// No claims.
    pub fn new() -> Self {
        Claims(Map::new())
    }

    /// The value of a claim.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// The value of a claim that is a string.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    /// Whether the claim is present (even as `null`).
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Sets a claim. A new claim goes last; an existing one keeps its place.
    /// Returns the old value.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Value>) -> Option<Value> {
        self.0.insert(name.into(), value.into())
    }

    /// Removes a claim, keeping the order of the others.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.0.shift_remove(name)
    }

    /// The claims in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value))
    }

    /// The claim names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// How many claims there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no claims.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The claims as a JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The claims as a JSON object, by value.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

impl From<Map<String, Value>> for Claims {
    fn from(map: Map<String, Value>) -> Self {
        Claims(map)
    }
}

/// Claim values are user data: `Debug` lists the claim names only.
impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// The id of the user a token was minted for, with its JSON type: integer
/// ids stay integers and string ids (UUIDs, usernames) stay strings, as
/// simplejwt writes them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UserId {
    /// An integer id (`"user_id": 42`).
    Int(i64),
    /// Any other id, as text (`"user_id": "5f0c..."`).
    Str(String),
}

impl UserId {
    /// The user id in a claim value: an integer or a string, anything else
    /// (a float, a boolean, `null`, an array) is not an id.
    pub fn from_claim(value: &Value) -> Option<UserId> {
        match value {
            Value::Number(number) => number.as_i64().map(UserId::Int),
            Value::String(text) => Some(UserId::Str(text.clone())),
            _ => None,
        }
    }

    /// The id as a claim value.
    pub fn to_claim(&self) -> Value {
        match self {
            UserId::Int(id) => Value::from(*id),
            UserId::Str(id) => Value::from(id.as_str()),
        }
    }
}

/// The id as text: decimal for integers (how the registry stores it).
impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserId::Int(id) => write!(f, "{id}"),
            UserId::Str(id) => f.write_str(id),
        }
    }
}

impl From<i64> for UserId {
    fn from(id: i64) -> Self {
        UserId::Int(id)
    }
}

impl From<i32> for UserId {
    fn from(id: i32) -> Self {
        UserId::Int(id.into())
    }
}

impl From<&str> for UserId {
    fn from(id: &str) -> Self {
        UserId::Str(id.to_owned())
    }
}

impl From<String> for UserId {
    fn from(id: String) -> Self {
        UserId::Str(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_ids_keep_their_json_type() {
        assert_eq!(UserId::from_claim(&json!(7)), Some(UserId::Int(7)));
        assert_eq!(
            UserId::from_claim(&json!("7")),
            Some(UserId::Str("7".into()))
        );
        for not_an_id in [
            json!(7.5),
            json!(true),
            json!(null),
            json!([1]),
            json!({"id": 1}),
        ] {
            assert_eq!(UserId::from_claim(&not_an_id), None, "{not_an_id}");
        }
        assert_eq!(UserId::Int(7).to_claim(), json!(7));
        assert_eq!(UserId::from("a-b").to_claim(), json!("a-b"));
    }

    #[test]
    fn insert_keeps_the_place_of_existing_claims() {
        let mut claims = Claims::new();
        claims.insert("a", 1);
        claims.insert("b", 2);
        claims.insert("a", 3);
        claims.insert("c", 4);
        assert_eq!(claims.names().collect::<Vec<_>>(), ["a", "b", "c"]);
        claims.remove("b");
        assert_eq!(claims.names().collect::<Vec<_>>(), ["a", "c"]);
    }

    #[test]
    fn debug_shows_names_not_values() {
        let mut claims = Claims::new();
        claims.insert("email", "alice@example.com");
        let shown = format!("{claims:?}");
        assert!(
            shown.contains("email") && !shown.contains("alice"),
            "{shown}"
        );
    }
}
