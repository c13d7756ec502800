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
