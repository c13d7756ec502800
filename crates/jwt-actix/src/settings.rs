//! The `[auth]` settings section (the Django package's `WCD_JWT`).

use std::time::Duration;

use serde::Deserialize;

/// The `[auth]` section of docs/configuration.md.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// `refresh/` also returns a new refresh token (simplejwt
    /// `ROTATE_REFRESH_TOKENS`). Defaults to `false`.
    pub rotate_refresh_tokens: bool,
    /// With rotation and the registry, each refresh token works once: a
    /// rotated-out one presented again (a replay) force-expires its whole
    /// tree. Defaults to `false`.
    pub reuse_detection: bool,
    /// With `reuse_detection`, how long after its first use the previous
    /// refresh token may be retried, once. Defaults to 0 (never).
    #[serde(deserialize_with = "jwt_core::deserialize_duration")]
    pub reuse_grace_seconds: Duration,
    /// With the registry, how long a login may be kept alive by refreshing
    /// (from its root token); 0: no limit. Defaults to 0.
    #[serde(deserialize_with = "jwt_core::deserialize_duration")]
    pub session_max_lifetime: Duration,
    /// `obtain/` records the login time through `UserStore::update_last_login`.
    /// Defaults to `false`.
    pub update_last_login: bool,
    /// Accepted first words of the header. Defaults to `["Bearer"]`.
    pub auth_header_types: Vec<String>,
    /// The header carrying the token. Defaults to `Authorization`.
    pub auth_header_name: String,
    /// Where tokens travel: `body` (JSON bodies and the `Authorization`
    /// header) or `cookie` (`HttpOnly` cookies with a double-submit CSRF
    /// check). Defaults to `body`.
    pub transport: Transport,
    /// Largest request body accepted by the token views, in bytes; larger
    /// ones get 413. Defaults to 65536.
    pub max_body_bytes: usize,
    /// How many logins may wait for a free password-check slot (there are
    /// `available_parallelism()` slots); a login arriving when that many
    /// wait is answered 503 with `Retry-After` at once. 0: none waits.
    /// Defaults to 64.
    pub login_queue_length: usize,
    /// How long a login may wait for a password-check slot before it is
    /// answered 503 with `Retry-After`. Defaults to 3 seconds.
    #[serde(deserialize_with = "jwt_core::deserialize_duration")]
    pub login_queue_timeout: Duration,
}

/// How tokens travel between server and client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// In JSON bodies and the `Authorization` header (simplejwt's way).
    #[default]
    Body,
    /// In `HttpOnly` cookies, with a double-submit CSRF check on unsafe
    /// requests they authenticate (see [`CSRF_HEADER`](crate::CSRF_HEADER)).
    Cookie,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            rotate_refresh_tokens: false,
            reuse_detection: false,
            reuse_grace_seconds: Duration::ZERO,
            session_max_lifetime: Duration::ZERO,
            update_last_login: false,
            auth_header_types: vec!["Bearer".into()],
            auth_header_name: "Authorization".into(),
            transport: Transport::Body,
            max_body_bytes: 64 * 1024,
            login_queue_length: 64,
            login_queue_timeout: Duration::from_secs(3),
        }
    }
}

impl AuthSettings {
    /// The keys whose environment values are comma-separated lists.
    pub const LIST_KEYS: &'static [&'static str] = &["auth.auth_header_types"];

    /// The `[auth]` section of loaded settings; defaults when absent
    /// (feature `config`).
    #[cfg(feature = "config")]
    pub fn from_config(config: &jwt_core::config::Config) -> Result<Self, jwt_core::SettingsError> {
        jwt_core::load_section(config, "auth")
    }

    /// `auth_header_name`, parsed.
    pub fn header_name(
        &self,
    ) -> Result<actix_web::http::header::HeaderName, jwt_core::SettingsError> {
        actix_web::http::header::HeaderName::from_bytes(self.auth_header_name.as_bytes()).map_err(
            |_| {
                jwt_core::SettingsError::new(
                    "auth.auth_header_name",
                    format!("{:?} is not a valid header name", self.auth_header_name),
                )
            },
        )
    }

    /// Refuses what cannot work: no header type, an empty or invalid header
    /// name, a zero body limit, settings that need others.
    pub fn check(&self) -> Result<(), jwt_core::SettingsError> {
        use jwt_core::SettingsError as E;
        if self.auth_header_types.is_empty()
            || self
                .auth_header_types
                .iter()
                .any(|t| t.is_empty() || t.contains(char::is_whitespace))
        {
            return Err(E::new(
                "auth.auth_header_types",
                "must list at least one word, without spaces",
            ));
        }
        self.header_name()?;
        if self.max_body_bytes == 0 {
            return Err(E::new("auth.max_body_bytes", "must be greater than zero"));
        }
        if self.reuse_detection && !self.rotate_refresh_tokens {
            return Err(E::new(
                "auth.reuse_detection",
                "works only with rotate_refresh_tokens = true (without rotation a refresh token is meant to be used again)",
            ));
        }
        if !self.reuse_grace_seconds.is_zero() && !self.reuse_detection {
            return Err(E::new(
                "auth.reuse_grace_seconds",
                "works only with reuse_detection = true",
            ));
        }
        Ok(())
    }
}
