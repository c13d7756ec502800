//! A token as the registry stores it.

use std::fmt;

use aws_lc_rs::digest;
use jwt_core::Token;

use crate::types::Moment;

/// What the registry keeps of a token: its id claim, type, the SHA-256 of
/// its encoded form (never the form itself: it is a bearer credential), its
/// claims and its own expiry.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The `jti`.
    pub jti: String,
    /// The type claim's value (`access`, `refresh`, ...).
    pub token_type: String,
    /// Lowercase hex SHA-256 of the encoded token.
    pub digest: String,
    /// The claims, as JSON text.
    pub payload: String,
    /// The `exp` claim.
    pub expires_at: Moment,
}

impl TokenRecord {
    /// The record of a verified or minted token and the string it travels as.
    pub fn new(token: &Token, encoded: &str) -> Self {
        let digest = hex(digest::digest(&digest::SHA256, encoded.as_bytes()).as_ref());
        TokenRecord {
            jti: token.jti().to_owned(),
            token_type: token.token_type().name().to_owned(),
            digest,
            payload: serde_json::Value::Object(token.claims().as_map().clone()).to_string(),
            expires_at: Moment::from_unix_seconds(token.expires_at()),
        }
    }
}

/// The claims may hold personal data: `Debug` shows the id and type only.
impl fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRecord")
            .field("jti", &self.jti)
            .field("token_type", &self.token_type)
            .finish_non_exhaustive()
    }
}

/// A token and the token it was derived from (`None` for the root of a login).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    /// The token.
    pub token: TokenRecord,
    /// Its parent.
    pub parent: Option<TokenRecord>,
}

/// Lowercase hex of `bytes` (the digests the tables store).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// What the registry checks of a token presented to the app: its id, and
/// its user and issue time for the user's cut-off ("log out everywhere").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Presented<'a> {
    /// The `jti`.
    pub jti: &'a str,
    /// The user claim as the registry stores it (decimal for an integer).
    pub user_id: Option<&'a str>,
    /// The `iat` claim, in Unix seconds.
    pub issued_at: Option<i64>,
}

impl<'a> Presented<'a> {
    /// Only the `jti`: no user, so no cut-off applies.
    pub fn jti(jti: &'a str) -> Self {
        Presented {
            jti,
            user_id: None,
            issued_at: None,
        }
    }
}
