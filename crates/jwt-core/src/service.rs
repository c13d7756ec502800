//! Minting and verifying tokens with checked settings and parsed keys.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::claims::{Claims, UserId};
use crate::clock::Clock;
use crate::codec;
use crate::error::{Cause, Error};
use crate::keys::KeySet;
use crate::picked::Picked;
use crate::rejection::{Rejection, TypeFailure};
use crate::token::Token;
use crate::token_type::TokenType;
use crate::validation::{self, ClaimNames, ClaimSource, Rules};

mod builder;

pub use builder::TokenServiceBuilder;

/// Mints and verifies tokens. Built once from [`TokenSettings`](crate::TokenSettings) (keys parsed,
/// settings checked), then cheap to clone and share between threads.
///
/// ```
/// use jwt_core::{TokenService, TokenSettings};
///
/// let settings = TokenSettings {
///     signing_key: "a-secret-of-at-least-32-bytes-for-HS256".into(),
///     ..TokenSettings::default()
/// };
/// let tokens = TokenService::new(&settings)?;
///
/// // obtain/: a refresh token for the user, and an access token derived from it.
/// let refresh = tokens.refresh_for_user(42)?;
/// let access = tokens.access_from(&refresh)?;
/// let (refresh, access) = (tokens.encode(&refresh)?, tokens.encode(&access)?);
///
/// // A protected route: the access token is accepted, the refresh token is not.
/// let checked = tokens.verify(&access, tokens.access_type())?;
/// assert_eq!(checked.user_id(), Some(&42.into()));
/// let refused = tokens.verify(&refresh, tokens.access_type()).unwrap_err();
/// assert_eq!(refused.message(), "Token has wrong type");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TokenService {
    inner: Arc<Inner>,
}

struct Inner {
    keys: KeySet,
    clock: Arc<dyn Clock>,
    leeway: i64,
    audience: Option<String>,
    issuer: Option<String>,
    names: ClaimNames,
    access: TokenType,
    refresh: TokenType,
    untyped: TokenType,
    known: Vec<TokenType>,
    auth_types: Vec<TokenType>,
    token_types: Vec<TokenType>,
}

impl TokenService {
    /// Verification's leeway: a token is accepted until `exp + leeway`.
    pub fn leeway(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::try_from(self.inner.leeway).unwrap_or_default())
    }

    /// The `access` type, with its configured lifetime.
    pub fn access_type(&self) -> &TokenType {
        &self.inner.access
    }

    /// The `refresh` type, with its configured lifetime.
    pub fn refresh_type(&self) -> &TokenType {
        &self.inner.refresh
    }

    /// A known type (built-in or registered) by its claim value.
    pub fn token_type(&self, name: &str) -> Option<&TokenType> {
        self.inner.known.iter().find(|known| known.name() == name)
    }

    /// The types protected routes accept, in order (`auth_token_types`).
    pub fn auth_token_types(&self) -> &[TokenType] {
        &self.inner.auth_types
    }

    /// The types the `expire/` view resolves, in order (`token_types`).
    pub fn token_types(&self) -> &[TokenType] {
        &self.inner.token_types
    }

    /// The keys.
    pub fn keys(&self) -> &KeySet {
        &self.inner.keys
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// A refresh token for a user (simplejwt's `RefreshToken.for_user`).
    pub fn refresh_for_user(&self, user_id: impl Into<UserId>) -> Result<Token, Error> {
        self.for_user(&self.inner.refresh, user_id, |_| {})
    }

    /// A refresh token for a user with the app's own claims, added by
    /// `add_claims` after the standard ones: the Rust form of overriding
    /// simplejwt's `get_token`. Access tokens derived from it copy them.
    pub fn refresh_for_user_with(
        &self,
        user_id: impl Into<UserId>,
        add_claims: impl FnOnce(&mut Claims),
    ) -> Result<Token, Error> {
        self.for_user(&self.inner.refresh, user_id, add_claims)
    }

    /// A token of any type for a user: `token_type`, `exp`, `iat`, `jti`,
    /// the user id, then whatever `add_claims` adds.
    ///
    /// `add_claims` may change any claim; `exp` must stay a number and the
    /// id claim a string, or minting fails.
    pub fn for_user(
        &self,
        token_type: &TokenType,
        user_id: impl Into<UserId>,
        add_claims: impl FnOnce(&mut Claims),
    ) -> Result<Token, Error> {
        let now = self.inner.clock.unix_seconds();
        let mut claims = self.new_claims(token_type, now);
        claims.insert(self.inner.names.user_id.as_str(), user_id.into().to_claim());
        add_claims(&mut claims);
        Token::seal(token_type.clone(), claims, &self.inner.names, now).map_err(|_| {
            Error::new(
                Cause::SigningFailed,
                "the claims hook broke exp or the id claim",
            )
        })
    }

    /// The access token simplejwt's `refresh.access_token` gives: a new
    /// type, `exp` and `jti`, every other claim of the refresh token copied
    /// in its order (so `iat` stays the refresh token's). Its `exp` counts
    /// from when the refresh token was minted or verified.
    pub fn access_from(&self, refresh: &Token) -> Result<Token, Error> {
        let names = &self.inner.names;
        let now = refresh.current_time;
        let mut claims = self.new_claims(&self.inner.access, now);
        let skip = [names.token_type.as_str(), "exp", names.jti.as_str(), "jti"];
        for (name, value) in refresh.claims().iter() {
            if !skip.contains(&name) {
                claims.insert(name, value.clone());
            }
        }
        Token::seal(self.inner.access.clone(), claims, names, now)
    }

    /// The refresh token that replaces `refresh` under rotation (simplejwt
    /// 5.1): the same claims with a new `jti`, `exp` and `iat`.
    pub fn rotate(&self, refresh: &Token) -> Result<Token, Error> {
        let now = refresh.current_time;
        let mut claims = refresh.claims().clone();
        claims.insert(self.inner.names.jti.as_str(), new_jti());
        claims.insert("exp", expiry(now, refresh.token_type()));
        claims.insert("iat", now);
        Token::seal(refresh.token_type().clone(), claims, &self.inner.names, now)
    }

    /// Signs a token with the current key: the string handed to clients.
    pub fn encode(&self, token: &Token) -> Result<String, Error> {
        let key = self
            .inner
            .keys
            .signing_key()
            .ok_or(Error::new(Cause::NoSigningKey, "verify-only key set"))?;
        codec::encode(
            key,
            token.claims(),
            self.inner.audience.as_deref(),
            self.inner.issuer.as_deref(),
        )
    }

    /// Verifies a token as `expected`: signature (with the key its `kid`
    /// and `alg` select), registered claims with PyJWT's boundaries, `exp`
    /// and id present, then the type.
    pub fn verify(&self, token: &str, expected: &TokenType) -> Result<Token, Error> {
        let decoded = self.decode(token)?;
        validation::check_type(&decoded.picked, &self.inner.names.token_type, expected)?;
        Ok(self.seal_verified(expected.clone(), decoded))
    }

    /// Verifies a token as each of `types` in turn and returns it as the
    /// first that fits; when none does, every type's reason (simplejwt's
    /// `messages` list).
    pub fn verify_any(&self, token: &str, types: &[TokenType]) -> Result<Token, Rejection> {
        let every_type = |error: &Error| {
            Rejection::new(
                types
                    .iter()
                    .map(|token_type| TypeFailure::new(token_type.clone(), error.clone()))
                    .collect(),
            )
        };
        // Everything but the type is the same for every type: check it once.
        let decoded = self.decode(token).map_err(|error| every_type(&error))?;
        let mut failures = Vec::new();
        for token_type in types {
            match validation::check_type(&decoded.picked, &self.inner.names.token_type, token_type)
            {
                Ok(()) => return Ok(self.seal_verified(token_type.clone(), decoded)),
                Err(error) => failures.push(TypeFailure::new(token_type.clone(), error)),
            }
        }
        Err(Rejection::new(failures))
    }

    /// Verifies a token as protected routes do: as each of `auth_token_types`.
    pub fn verify_auth(&self, token: &str) -> Result<Token, Rejection> {
        self.verify_any(token, &self.inner.auth_types)
    }

    /// Verifies a token of any type, as `verify/` does (simplejwt's
    /// `UntypedToken`): everything but the type claim. The token is returned
    /// as its known type when its type claim names one, else as untyped.
    pub fn verify_untyped(&self, token: &str) -> Result<Token, Error> {
        let decoded = self.decode(token)?;
        let token_type = decoded
            .picked
            .claim(&self.inner.names.token_type)
            .and_then(Value::as_str)
            .and_then(|name| self.token_type(name))
            .unwrap_or(&self.inner.untyped)
            .clone();
        Ok(self.seal_verified(token_type, decoded))
    }

    /// Signature and every check but the type; `exp` and the id read once.
    fn decode(&self, token: &str) -> Result<Decoded<'_>, Error> {
        let inner = &*self.inner;
        let parts = codec::split(token)?;
        let header = match inner.keys.known_header(parts.header) {
            Some(header) => header,
            None => codec::decode_header(token)?,
        };
        let mut tried = false;
        let mut verified = false;
        for key in inner.keys.candidates(header.kid.as_deref()) {
            if key.algorithm() == header.alg {
                tried = true;
                if key.check(parts.signing_input.as_bytes(), parts.signature)? {
                    verified = true;
                    break;
                }
            }
        }
        if !tried {
            return Err(Error::new(
                Cause::UnknownKey,
                if header.kid.is_some() {
                    "no key with this kid and alg"
                } else {
                    "no key for this alg"
                },
            ));
        }
        if !verified {
            return Err(Error::new(Cause::BadSignature, "signature does not match"));
        }
        let json = codec::decode_payload(parts.payload)?;
        let picked = Picked::read(&json, &inner.names)
            .map_err(|_| Error::malformed("payload is not a JSON object"))?;
        let now = inner.clock.unix_seconds();
        let rules = Rules {
            now,
            leeway: inner.leeway,
            audience: inner.audience.as_deref(),
            issuer: inner.issuer.as_deref(),
        };
        validation::check_registered(&picked, rules)?;
        let registered = validation::expiry_and_id(&picked, &inner.names)?;
        Ok(Decoded {
            json,
            picked,
            registered,
            now,
        })
    }

    fn seal_verified(&self, token_type: TokenType, decoded: Decoded<'_>) -> Token {
        Token::verified(
            token_type,
            &decoded.picked,
            decoded.json,
            decoded.registered,
            &self.inner.names,
            decoded.now,
        )
    }

    fn new_claims(&self, token_type: &TokenType, now: i64) -> Claims {
        let names = &self.inner.names;
        let mut claims = Claims::new();
        claims.insert(names.token_type.as_str(), token_type.name());
        claims.insert("exp", expiry(now, token_type));
        claims.insert("iat", now);
        claims.insert(names.jti.as_str(), new_jti());
        claims
    }
}

/// A token whose signature and registered claims are checked.
struct Decoded<'n> {
    /// The payload's JSON text.
    json: Vec<u8>,
    picked: Picked<'n>,
    /// `exp` and the id.
    registered: (i64, String),
    now: i64,
}

impl fmt::Debug for TokenService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenService")
            .field("keys", &self.inner.keys)
            .field("leeway", &self.inner.leeway)
            .field("audience", &self.inner.audience)
            .field("issuer", &self.inner.issuer)
            .field("types", &self.inner.known)
            .finish_non_exhaustive()
    }
}

fn expiry(now: i64, token_type: &TokenType) -> i64 {
    let lifetime = i64::try_from(token_type.lifetime().as_secs()).unwrap_or(i64::MAX);
    now.saturating_add(lifetime)
}

/// 32 lowercase hex characters, as simplejwt's `uuid4().hex`, but of a
/// version-7 UUID: it begins with the minting time (in milliseconds, which
/// `iat` tells to the second anyway) and ends with 74 random bits, so that
/// the registry's index of `jti`s grows at its end instead of at a random
/// page per token.
fn new_jti() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}
