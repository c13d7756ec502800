//! All settings of the server: every crate's section, from a TOML file and
//! `JWT__*` variables.

use std::path::{Path, PathBuf};

use jwt_actix::AuthSettings;
use jwt_core::{SettingsError, SettingsLoader, TokenSettings};
use jwt_device::{DeviceSettings, TrustedProxies};
use jwt_registry::RegistrySettings;
use serde::Deserialize;
use serde::de::IgnoredAny;

/// The `[server]` section.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Where `serve` listens. Defaults to `127.0.0.1:8000`.
    pub bind: String,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            bind: "127.0.0.1:8000".into(),
        }
    }
}

/// The sections the server knows; any other is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Sections {
    tokens: Option<IgnoredAny>,
    auth: Option<IgnoredAny>,
    registry: Option<IgnoredAny>,
    device: Option<IgnoredAny>,
    server: Option<IgnoredAny>,
}

/// Every section.
#[derive(Clone, Debug)]
pub struct Settings {
    pub tokens: TokenSettings,
    pub auth: AuthSettings,
    pub registry: RegistrySettings,
    /// `[device]`, its proxies parsed.
    pub proxies: TrustedProxies,
    pub server: ServerSettings,
}

/// The device registry's pipeline step, added to the default pipeline.
pub const DEVICE_STEP: &str = jwt_device::ConnectInterlocutor::NAME;

/// The default settings file, read when present.
pub const DEFAULT_FILE: &str = "jwt.toml";

impl Settings {
    /// Reads `file` (which must exist) or `jwt.toml` (if present), then the
    /// `JWT__*` variables of the process.
    pub fn load(file: Option<&Path>) -> Result<Settings, SettingsError> {
        let list_keys = [
            TokenSettings::LIST_KEYS,
            AuthSettings::LIST_KEYS,
            RegistrySettings::LIST_KEYS,
            DeviceSettings::LIST_KEYS,
        ]
        .concat();
        let loader = SettingsLoader::new().list_keys(list_keys);
        let loader = match file {
            Some(file) => loader.file(file),
            None => loader.optional_file(PathBuf::from(DEFAULT_FILE)),
        };
        let config = loader.load()?;
        config
            .clone()
            .try_deserialize::<Sections>()
            .map_err(|err| SettingsError::from_config("settings", &err))?;
        let mut registry = RegistrySettings::from_config(&config)?;
        // The device registry is on unless the pipeline is set without it.
        if config.get::<IgnoredAny>("registry.pipeline").is_err() {
            registry.pipeline.push(DEVICE_STEP.into());
        }
        let proxies = DeviceSettings::from_config(&config)?.proxies()?;
        Ok(Settings {
            tokens: TokenSettings::from_config(&config)?,
            auth: AuthSettings::from_config(&config)?,
            registry,
            proxies,
            server: jwt_core::load_section(&config, "server")?,
        })
    }
}
