//! Which device, app and network each token was issued to: User-Agent and
//! client-hint recognition, the client's address behind trusted proxies,
//! and the token registry's device tables.
//!
//! # Getting started
//!
//! ```
//! use jwt_core::RequestInfo;
//! use jwt_device::{Category, recognize};
//!
//! let request = RequestInfo::new(Some([203, 0, 113, 9].into()))
//!     .with_header("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
//!         (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36")
//!     .with_header("Sec-CH-UA-Platform", "\"Windows\"")
//!     .with_header("Sec-CH-UA-Platform-Version", "\"15.0.0\"");
//! let seen = recognize(&request);
//! assert_eq!(seen.app.family.as_deref(), Some("Chrome"));
//! assert_eq!((seen.os.family.as_deref(), seen.os.version.as_deref()), (Some("Windows"), Some("11")));
//! assert_eq!(seen.category, Category::Desktop);
//! ```
//!
//! With the registry (feature `registry`, on by default, with `sqlite`,
//! `postgres` or both), one call wires device tracking in
//! (`TrackDevices`): the tables (`MIGRATIONS`), the pipeline step
//! `connect_interlocutor` (`ConnectInterlocutor`), the archiver's cleanup
//! (`ForgetUnusedInterlocutors`) and the sessions' details
//! (`DeviceSessionDetails`):
//!
#![cfg_attr(feature = "registry", doc = "```no_run")]
#![cfg_attr(not(feature = "registry"), doc = "```ignore")]
//! # fn open(settings: jwt_registry::RegistrySettings, device: jwt_device::DeviceSettings) -> Result<(), Box<dyn std::error::Error>> {
//! use jwt_device::TrackDevices;
//!
//! let (registry, _) = jwt_registry::Registry::builder(settings)
//!     .track_devices(device.proxies()?)
//!     .open()?;
//! # Ok(()) }
//! ```
//!
//! Without the feature, recognition ([`recognize`], [`client_ip`]) needs
//! no database.
//!
//! The step costs one statement on PostgreSQL and one per token on SQLite;
//! a header never makes a login fail (what cannot be read stays empty).

#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod client_hints;
#[cfg(feature = "registry")]
mod connector;
mod names;
mod network;
mod recognize;
#[cfg(feature = "registry")]
pub mod schema;
#[cfg(feature = "registry")]
mod sessions;
mod settings;
#[cfg(feature = "registry")]
mod step;
#[cfg(feature = "registry")]
mod track;

#[cfg(feature = "registry")]
pub use connector::{Connected, Key, connect};
pub use names::display_name;
pub use network::{BadCidr, Cidr, ForwardedHeader, TrustedProxies, client_ip};
pub use recognize::{App, Category, Device, MAX_USER_AGENT, Os, Recognized, recognize};
#[cfg(feature = "registry")]
pub use sessions::DeviceSessionDetails;
pub use settings::DeviceSettings;
#[cfg(feature = "registry")]
pub use step::{ConnectInterlocutor, ForgetUnusedInterlocutors};
#[cfg(feature = "registry")]
pub use track::TrackDevices;

// The device tables' migrations; run them after the registry's
// (`RegistryBuilder::migrations`, or the app's own harness).
#[cfg(feature = "registry")]
jwt_registry::embedded_migrations!(pub MIGRATIONS, SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS, "device");
