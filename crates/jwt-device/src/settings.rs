//! The `[device]` settings section.

use serde::Deserialize;

use crate::network::{Cidr, ForwardedHeader, TrustedProxies};

/// The `[device]` section of docs/configuration.md.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceSettings {
    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers are believed,
    /// as CIDR blocks (`["10.0.0.0/8", "127.0.0.1"]`). Defaults to none:
    /// the peer's address is the client's.
    pub trusted_proxies: Vec<String>,
    /// The header those proxies write the client's address into:
    /// `"x-forwarded-for"` (the default) or `"forwarded"` (RFC 7239). The
    /// other is never read: a proxy passes it through as the client wrote it.
    pub forwarded_header: ForwardedHeader,
}

impl DeviceSettings {
    /// The keys whose environment values are comma-separated lists.
    pub const LIST_KEYS: &'static [&'static str] = &["device.trusted_proxies"];

    /// The `[device]` section of loaded settings; defaults when absent
    /// (feature `config`).
    #[cfg(feature = "config")]
    pub fn from_config(config: &jwt_core::config::Config) -> Result<Self, jwt_core::SettingsError> {
        jwt_core::load_section(config, "device")
    }

    /// The trusted proxies, parsed, with their header.
    pub fn proxies(&self) -> Result<TrustedProxies, jwt_core::SettingsError> {
        let blocks = self
            .trusted_proxies
            .iter()
            .enumerate()
            .map(|(index, text)| {
                text.parse::<Cidr>().map_err(|err| {
                    jwt_core::SettingsError::new(
                        format!("device.trusted_proxies[{index}]"),
                        format!("{err}"),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(TrustedProxies::new(blocks, self.forwarded_header))
    }
}
