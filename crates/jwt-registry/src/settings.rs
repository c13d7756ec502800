//! The `[registry]` settings section (the Django package's `WCD_JWT_REGISTRY`).

use serde::Deserialize;

use crate::pipeline::{ConnectingUser, RegisterPairs};

/// The `[registry]` section of docs/configuration.md.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrySettings {
    /// `postgres://...` or `postgresql://...` for PostgreSQL; `sqlite://PATH`,
    /// `file:PATH` or a bare path for SQLite. Defaults to `jwt.sqlite3` in
    /// the working directory.
    pub database_url: String,
    /// On `refresh/`, force-expire the refresh token's tree (without
    /// rotation: all of it but the refresh token; with rotation: all of it)
    /// before the new tokens are registered. Needs
    /// `registration_on_signal`. Defaults to `false`.
    pub expire_on_refresh: bool,
    /// Register the tokens `obtain/` and `refresh/` hand out. Defaults to `true`.
    pub registration_on_signal: bool,
    /// Register off the request path, in the background (never lost: the
    /// queue is flushed on shutdown). Defaults to `false`.
    pub registration_parallel: bool,
    /// The registration steps, by name, in order. Defaults to
    /// `["register_pairs", "connecting_user"]`; `connect_interlocutor` comes
    /// with the device registry; apps register their own.
    pub pipeline: Vec<String>,
    /// Refuse correctly signed tokens the registry never saw. Defaults to `false`.
    pub require_registered: bool,
    /// `expire/` needs an access token of the token's user. Defaults to `false`.
    pub expire_requires_auth: bool,
    /// How force-expiry is checked on each request. Defaults to `cached`.
    pub revocation: Revocation,
    /// What protected routes do when the registry is unreachable. Defaults to `deny`.
    pub on_db_down: OnDbDown,
    /// How many access tokens one login may hold alive at once: a refresh
    /// that goes past it force-expires the oldest, down to nine tenths of
    /// it (never a refresh token, never deleting a row). 0: no cap.
    /// Defaults to 1000.
    pub live_access_tokens_per_login: usize,
}

/// How force-expiry is checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Revocation {
    /// An in-memory list of force-expired tokens, kept in step with the
    /// database: on SQLite checked against `PRAGMA data_version` at each
    /// request; on PostgreSQL updated by `LISTEN`/`NOTIFY` (reloaded whole
    /// only after the listener lost the database).
    #[default]
    Cached,
    /// A query per request.
    Strict,
}

/// What protected routes do when the registry cannot be reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnDbDown {
    /// Answer 503.
    #[default]
    Deny,
    /// Let the request through unchecked (tokens are still verified).
    Allow,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        RegistrySettings {
            database_url: "jwt.sqlite3".into(),
            expire_on_refresh: false,
            registration_on_signal: true,
            registration_parallel: false,
            pipeline: vec![RegisterPairs::NAME.into(), ConnectingUser::NAME.into()],
            require_registered: false,
            expire_requires_auth: false,
            revocation: Revocation::Cached,
            on_db_down: OnDbDown::Deny,
            live_access_tokens_per_login: crate::expiry::DEFAULT_ACCESS_CAP,
        }
    }
}

impl RegistrySettings {
    /// The keys whose environment values are comma-separated lists.
    pub const LIST_KEYS: &'static [&'static str] = &["registry.pipeline"];

    /// The `[registry]` section of loaded settings; defaults when absent
    /// (feature `config`).
    #[cfg(feature = "config")]
    pub fn from_config(config: &jwt_core::config::Config) -> Result<Self, jwt_core::SettingsError> {
        jwt_core::load_section(config, "registry")
    }
}
