//! The `[registry]` settings section (the seed's `WCD_JWT_REGISTRY`).

use serde::Deserialize;

/// The `[registry]` section of CONTRACT §3. So far: where the database is.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrySettings {
    /// `postgres://...` or `postgresql://...` for PostgreSQL; `sqlite://PATH`,
    /// `file:PATH` or a bare path for SQLite. Defaults to `jwt.sqlite3` in
    /// the working directory.
    pub database_url: String,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        RegistrySettings {
            database_url: "jwt.sqlite3".into(),
        }
    }
}

impl RegistrySettings {
    /// The keys whose environment values are comma-separated lists.
    pub const LIST_KEYS: &'static [&'static str] = &[];

    /// The `[registry]` section of loaded settings; defaults when absent.
    pub fn from_config(config: &jwt_core::config::Config) -> Result<Self, jwt_core::SettingsError> {
        jwt_core::load_section(config, "registry")
    }
}
