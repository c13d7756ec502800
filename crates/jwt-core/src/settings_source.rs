//! Settings from a TOML file and `JWT__SECTION__KEY` environment variables.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use config::{Config, ConfigError, File, FileFormat, Map, Source, Value, ValueKind};
use serde::de::DeserializeOwned;

use crate::settings_error::SettingsError;

/// Gathers settings from a TOML file and the environment, the environment
/// winning. Variables are named `JWT__<SECTION>__<KEY>` (upper case, e.g.
/// `JWT__TOKENS__ACCESS_TOKEN_LIFETIME=10m`); their values stay text and are
/// parsed by each setting (`"300"`, `"5m"`, `"true"`), so a secret is never
/// taken for a number. Only the list keys given to
/// [`list_keys`](SettingsLoader::list_keys) split on commas.
///
/// ```
/// use jwt_core::{SettingsLoader, TokenSettings};
///
/// let config = SettingsLoader::new()
///     .list_keys(TokenSettings::LIST_KEYS)
///     .env_vars([("JWT__TOKENS__ACCESS_TOKEN_LIFETIME", "10m")])
///     .load()?;
/// let settings = TokenSettings::from_config(&config)?;
/// assert_eq!(settings.access_token_lifetime.as_secs(), 600);
/// # Ok::<(), jwt_core::SettingsError>(())
/// ```
#[derive(Clone, Default)]
pub struct SettingsLoader {
    file: Option<(PathBuf, bool)>,
    env: Option<BTreeMap<String, String>>,
    list_keys: Vec<String>,
}

impl SettingsLoader {
    /// No file; the process environment.
    pub fn new() -> Self {
        SettingsLoader::default()
    }

    /// Reads this TOML file, which must exist.
    #[must_use]
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some((path.into(), true));
        self
    }

    /// Reads this TOML file if it exists.
    #[must_use]
    pub fn optional_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some((path.into(), false));
        self
    }

    /// Takes the environment from these pairs instead of the process's
    /// (tests; embedding). Defaults to the process environment.
    #[must_use]
    pub fn env_vars<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.env = Some(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// Keys (`section.key`) whose environment values are comma-separated
    /// lists. Each crate's settings name theirs (`TokenSettings::LIST_KEYS`).
    #[must_use]
    pub fn list_keys<S: AsRef<str>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        self.list_keys
            .extend(keys.into_iter().map(|key| key.as_ref().to_owned()));
        self
    }

    /// Reads the file and the environment.
    pub fn load(&self) -> Result<Config, SettingsError> {
        let mut builder = Config::builder();
        if let Some((path, required)) = &self.file {
            if *required && !path.is_file() {
                return Err(SettingsError::new(
                    "--config",
                    format!("{} does not exist or is not a file", path.display()),
                ));
            }
            builder = builder.add_source(
                File::from(path.as_path())
                    .format(FileFormat::Toml)
                    .required(*required),
            );
        }
        let vars = match &self.env {
            Some(vars) => vars.clone(),
            None => std::env::vars_os()
                .filter_map(|(key, value)| {
                    Some((key.into_string().ok()?, value.into_string().ok()?))
                })
                .collect(),
        };
        builder = builder.add_source(EnvSource {
            vars,
            list_keys: self.list_keys.clone(),
        });
        builder.build().map_err(|err| {
            let origin = self
                .file
                .as_ref()
                .map(|(path, _)| path.display().to_string());
            SettingsError::new(origin.unwrap_or_else(|| "settings".into()), err.to_string())
        })
    }
}

/// Shows the file and list keys; of the environment, nothing (secrets).
impl fmt::Debug for SettingsLoader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SettingsLoader")
            .field("file", &self.file)
            .field("env", &self.env.as_ref().map(|_| "[given]"))
            .field("list_keys", &self.list_keys)
            .finish()
    }
}

/// Deserializes one section (`"tokens"`) of loaded settings; a missing
/// section gives the defaults. Errors name the setting (`tokens.leeway`,
/// `tokens.verifying_keys[0].key`).
pub fn load_section<T: DeserializeOwned + Default>(
    config: &Config,
    section: &str,
) -> Result<T, SettingsError> {
    let value = match config.get::<Value>(section) {
        Ok(value) => value,
        Err(ConfigError::NotFound(_)) => return Ok(T::default()),
        Err(err) => return Err(SettingsError::from_config(section, &err)),
    };
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let setting = if path == "." {
            section.to_owned()
        } else {
            format!("{section}.{path}")
        };
        SettingsError::from_config(setting, err.inner())
    })
}

/// `JWT__SECTION__KEY` variables as text values.
#[derive(Clone)]
struct EnvSource {
    vars: BTreeMap<String, String>,
    list_keys: Vec<String>,
}

const PREFIX: &str = "jwt__";

impl Source for EnvSource {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, ConfigError> {
        let origin = Some(String::from("the environment"));
        let mut map = Map::new();
        for (name, value) in &self.vars {
            let lower = name.to_lowercase();
            let Some(key) = lower.strip_prefix(PREFIX) else {
                continue;
            };
            let key = key.replace("__", ".");
            let kind = if self.list_keys.contains(&key) {
                let items = value
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| Value::new(origin.as_ref(), ValueKind::String(item.to_owned())))
                    .collect();
                ValueKind::Array(items)
            } else {
                ValueKind::String(value.clone())
            };
            map.insert(key, Value::new(origin.as_ref(), kind));
        }
        Ok(map)
    }
}

/// Names the variables, never their values (some are secrets).
impl fmt::Debug for EnvSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvSource")
            .field(
                "vars",
                &self
                    .vars
                    .keys()
                    .filter(|name| name.to_lowercase().starts_with(PREFIX))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}
