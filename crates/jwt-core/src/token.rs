//! A token: its type and claims, minted here or verified.

use std::fmt;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::claims::{Claims, UserId};
use crate::error::Error;
use crate::token_type::TokenType;
use crate::validation::{self, ClaimNames, ClaimSource};

/// A token whose claims are known to be well formed: minted by a
/// [`TokenService`](crate::TokenService), or verified by one (signature,
/// expiry, audience, issuer, id and type checked).
///
/// It is not the encoded string: [`TokenService::encode`](crate::TokenService::encode)
/// signs a minted token.
#[derive(Clone)]
pub struct Token {
    token_type: TokenType,
    claims: ClaimsCell,
    jti: String,
    exp: i64,
    iat: Option<i64>,
    user_id: Option<UserId>,
    /// The instant the token was minted or verified, in Unix seconds:
    /// simplejwt's `current_time`, the base of derived tokens' `exp`.
    pub(crate) current_time: i64,
}

impl Token {
    /// Seals claims into a token, reading the registered claims once.
    pub(crate) fn seal(
        token_type: TokenType,
        claims: Claims,
        names: &ClaimNames,
        current_time: i64,
    ) -> Result<Self, Error> {
        let (exp, jti) = validation::expiry_and_id(&claims, names)?;
        Ok(Token::assemble(
            token_type,
            claims,
            (exp, jti),
            names,
            current_time,
        ))
    }

    /// Seals claims whose `exp` and id were already read.
    fn assemble(
        token_type: TokenType,
        claims: Claims,
        registered: (i64, String),
        names: &ClaimNames,
        current_time: i64,
    ) -> Self {
        let mut token = Token::read_from(&claims, token_type, registered, names, current_time);
        token.claims.parsed = OnceLock::from(claims);
        token
    }

    /// A verified token: its picked claims, and the payload's JSON text,
    /// read into [`Claims`] when they are asked for.
    pub(crate) fn verified(
        token_type: TokenType,
        picked: &impl ClaimSource,
        json: Vec<u8>,
        registered: (i64, String),
        names: &ClaimNames,
        current_time: i64,
    ) -> Self {
        let mut token = Token::read_from(picked, token_type, registered, names, current_time);
        token.claims.json = json.into_boxed_slice();
        token
    }

    /// The token's fields from its claims, with no claims kept yet.
    fn read_from(
        claims: &impl ClaimSource,
        token_type: TokenType,
        (exp, jti): (i64, String),
        names: &ClaimNames,
        current_time: i64,
    ) -> Self {
        Token {
            token_type,
            claims: ClaimsCell::default(),
            jti,
            exp,
            iat: claims.claim("iat").and_then(validation::as_seconds),
            user_id: claims.claim(&names.user_id).and_then(UserId::from_claim),
            current_time,
        }
    }

    /// The token's type (for a token checked by `verify_untyped`, the
    /// untyped type).
    pub fn token_type(&self) -> &TokenType {
        &self.token_type
    }

    /// All claims, in order.
    pub fn claims(&self) -> &Claims {
        self.claims.get()
    }

    /// The claims, by value.
    pub fn into_claims(self) -> Claims {
        self.claims.into_inner()
    }

    /// The token id (the `jti` claim, or the configured id claim).
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// The expiry, in Unix seconds (the `exp` claim).
    pub fn expires_at(&self) -> i64 {
        self.exp
    }

    /// The issue time, in Unix seconds (the `iat` claim), if a number.
    pub fn issued_at(&self) -> Option<i64> {
        self.iat
    }

    /// The user id claim, when it is an integer or a string.
    pub fn user_id(&self) -> Option<&UserId> {
        self.user_id.as_ref()
    }

    /// The user id claim, or the error simplejwt answers when it is missing
    /// or of another JSON type ("Token contained no recognizable user
    /// identification").
    pub fn require_user_id(&self) -> Result<&UserId, Error> {
        self.user_id.as_ref().ok_or(Error::new(
            crate::Cause::NoUserId,
            "no usable user id claim",
        ))
    }
}

/// Shows the type, id and expiry and the claim names; never claim values.
impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("type", &self.token_type.name())
            .field("jti", &self.jti)
            .field("exp", &self.exp)
            .field("claims", self.claims())
            .finish()
    }
}

/// A token's claims: in hand for a minted token; for a verified one, the
/// payload's JSON text, read on first use (most requests need only the
/// fields a [`Token`] keeps).
#[derive(Clone, Default)]
struct ClaimsCell {
    parsed: OnceLock<Claims>,
    json: Box<[u8]>,
}

impl ClaimsCell {
    fn get(&self) -> &Claims {
        self.parsed.get_or_init(|| read_claims(&self.json))
    }

    fn into_inner(self) -> Claims {
        match self.parsed.into_inner() {
            Some(claims) => claims,
            None => read_claims(&self.json),
        }
    }
}

/// The claims of a payload verification already read: the picking pass
/// accepts exactly the texts the map accepts, so this does not fail.
fn read_claims(json: &[u8]) -> Claims {
    serde_json::from_slice::<Map<String, Value>>(json)
        .map(Claims::from)
        .unwrap_or_default()
}
