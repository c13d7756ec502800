//! The `[device]` settings section.

use serde::Deserialize;

use crate::network::Cidr;

/// The `[device]` section of CONTRACT §3.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceSettings {
    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers are believed,
    /// as CIDR blocks (`["10.0.0.0/8", "127.0.0.1"]`). Defaults to none:
    /// the peer's address is the client's.
    pub trusted_proxies: Vec<String>,
}

impl DeviceSettings {
    /// The keys whose environment values are comma-separated lists.
    pub const LIST_KEYS: &'static [&'static str] = &["device.trusted_proxies"];

    /// The `[device]` section of loaded settings; defaults when absent.
    pub fn from_config(config: &jwt_core::config::Config) -> Result<Self, jwt_core::SettingsError> {
        jwt_core::load_section(config, "device")
    }

    /// The trusted proxies, parsed.
    pub fn trusted_proxies(&self) -> Result<Vec<Cidr>, jwt_core::SettingsError> {
        self.trusted_proxies
            .iter()
            .enumerate()
            .map(|(index, text)| {
                text.parse().map_err(|err| {
                    jwt_core::SettingsError::new(
                        format!("device.trusted_proxies[{index}]"),
                        format!("{err}"),
                    )
                })
            })
            .collect()
    }
}
