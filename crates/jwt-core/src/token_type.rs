//! Token types: `access`, `refresh`, and the app's own.

use std::borrow::Cow;
use std::time::Duration;

/// A kind of token: the value of its type claim, the lifetime of new tokens
/// of this kind, and the class name reported in the `messages` list of a
/// refused token (simplejwt's `token_class`).
///
/// ```
/// use std::time::Duration;
/// use jwt_core::TokenType;
///
/// let access = TokenType::access(Duration::from_secs(300));
/// assert_eq!((access.name(), access.class_name()), ("access", "AccessToken"));
///
/// // An app-defined type, registered with `TokenService::builder(..).token_type(..)`.
/// let invite = TokenType::new("InviteToken", "invite", Duration::from_secs(7 * 86_400));
/// assert_eq!(invite.name(), "invite");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenType {
    class_name: Cow<'static, str>,
    name: Cow<'static, str>,
    lifetime: Duration,
}

impl TokenType {
    /// The type claim of access tokens.
    pub const ACCESS: &'static str = "access";
    /// The type claim of refresh tokens.
    pub const REFRESH: &'static str = "refresh";

    /// A token type named `name` (the type claim), reported as `class_name`.
    pub fn new(
        class_name: impl Into<Cow<'static, str>>,
        name: impl Into<Cow<'static, str>>,
        lifetime: Duration,
    ) -> Self {
        TokenType {
            class_name: class_name.into(),
            name: name.into(),
            lifetime,
        }
    }

    /// simplejwt's `AccessToken`.
    pub fn access(lifetime: Duration) -> Self {
        TokenType::new("AccessToken", TokenType::ACCESS, lifetime)
    }

    /// simplejwt's `RefreshToken`.
    pub fn refresh(lifetime: Duration) -> Self {
        TokenType::new("RefreshToken", TokenType::REFRESH, lifetime)
    }

    /// simplejwt's `UntypedToken`: what `verify/` checks, any type accepted.
    pub fn untyped() -> Self {
        TokenType::new("UntypedToken", "untyped", Duration::ZERO)
    }

    /// The value of the type claim (`"access"`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The class name reported to clients (`"AccessToken"`).
    pub fn class_name(&self) -> &str {
        &self.class_name
    }

    /// How long new tokens of this type live.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }
}
