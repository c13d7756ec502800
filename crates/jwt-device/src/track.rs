//! Device tracking wired into a registry in one call.

use jwt_registry::RegistryBuilder;

use crate::network::TrustedProxies;
use crate::sessions::DeviceSessionDetails;
use crate::step::{ConnectInterlocutor, ForgetUnusedInterlocutors};

/// Device tracking for a [`RegistryBuilder`] (feature `registry`).
pub trait TrackDevices {
    /// Adds the device tables' migrations, the `connect_interlocutor` step
    /// (at the end of the pipeline unless the `pipeline` setting names it),
    /// the archiver's cleanup of devices no token uses, and the sessions'
    /// app, OS, device and IP. `proxies`: whose forwarding header to
    /// believe ([`DeviceSettings::proxies`](crate::DeviceSettings::proxies)).
    ///
    /// ```no_run
    /// # fn open(settings: jwt_registry::RegistrySettings) -> Result<(), Box<dyn std::error::Error>> {
    /// use jwt_device::{TrackDevices, TrustedProxies};
    ///
    /// let (registry, _) = jwt_registry::Registry::builder(settings)
    ///     .track_devices(TrustedProxies::default())
    ///     .open()?;
    /// # Ok(()) }
    /// ```
    fn track_devices(self, proxies: TrustedProxies) -> RegistryBuilder;
}

impl TrackDevices for RegistryBuilder {
    fn track_devices(self, proxies: TrustedProxies) -> RegistryBuilder {
        self.migrations(crate::MIGRATIONS)
            .step_in_pipeline(ConnectInterlocutor::new(proxies))
            .cleanup(ForgetUnusedInterlocutors)
            .session_details(DeviceSessionDetails)
    }
}
