//! Building a [`JwtAuth`]: settings checked, the registry wired in as a
//! token check and a listener, everything fixed once. The top floor: it
//! knows the state it builds and the registry glue, and nothing imports it.

use std::num::NonZeroUsize;
use std::sync::Arc;

use jwt_core::{SettingsError, TokenService};

use crate::check::TokenCheck;
use crate::events::Listener;
use crate::messages::Messages;
use crate::password_slots::PasswordSlots;
use crate::settings::{AuthSettings, Transport};
#[cfg(feature = "registry")]
use crate::state::RegistryParts;
use crate::state::{Inner, JwtAuth};
use crate::store::UserStore;

/// Builds a [`JwtAuth`].
#[must_use]
pub struct JwtAuthBuilder<S: UserStore> {
    tokens: TokenService,
    settings: AuthSettings,
    store: S,
    messages: Messages,
    listeners: Vec<Arc<dyn Listener<S::User>>>,
    checks: Vec<Arc<dyn TokenCheck>>,
    password_concurrency: Option<usize>,
    #[cfg(feature = "registry")]
    registry: Option<jwt_registry::Registry>,
}

impl<S: UserStore> JwtAuthBuilder<S> {
    /// The texts of the answers. Defaults to English ([`Messages::default`]).
    pub fn messages(mut self, messages: Messages) -> Self {
        self.messages = messages;
        self
    }

    /// Adds a listener of token events. Defaults to none.
    pub fn listener(mut self, listener: impl Listener<S::User>) -> Self {
        self.listeners.push(Arc::new(listener));
        self
    }

    /// Adds a check of every verified token (the registry's force-expiry
    /// is one). Defaults to none.
    pub fn check(mut self, check: impl TokenCheck) -> Self {
        self.checks.push(Arc::new(check));
        self
    }

    /// How many password checks may run at once. Defaults to
    /// `std::thread::available_parallelism()`, so a storm of logins queues
    /// instead of exhausting memory and threads.
    pub fn password_concurrency(mut self, slots: usize) -> Self {
        self.password_concurrency = Some(slots.max(1));
        self
    }

    /// Plugs in the token registry (feature `registry`): every token
    /// `obtain/` and `refresh/` hand out is registered (as `[registry]`
    /// says: inline or in the background, with `expire_on_refresh`), every
    /// verified token is checked for force-expiry, and the routes gain
    /// `expire/`. Defaults to none.
    #[cfg(feature = "registry")]
    pub fn registry(mut self, registry: jwt_registry::Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Checks the settings.
    #[cfg_attr(not(feature = "registry"), allow(unused_mut))]
    pub fn build(mut self) -> Result<JwtAuth<S>, SettingsError> {
        self.settings.check()?;
        #[cfg(feature = "registry")]
        let has_registry = self.registry.is_some();
        #[cfg(not(feature = "registry"))]
        let has_registry = false;
        let needs_registry = if self.settings.reuse_detection {
            Some("auth.reuse_detection")
        } else if !self.settings.session_max_lifetime.is_zero() {
            Some("auth.session_max_lifetime")
        } else if self.settings.transport == Transport::Cookie {
            // Page scripts cannot delete HttpOnly cookies: only a logout
            // route, which ends the session in the registry, can.
            Some("auth.transport")
        } else {
            None
        };
        if let (Some(setting), false) = (needs_registry, has_registry) {
            return Err(SettingsError::new(
                setting,
                "needs the token registry (jwt-actix's feature `registry` and JwtAuthBuilder::registry)",
            ));
        }
        #[cfg(feature = "registry")]
        let registry = match self.registry.take() {
            None => None,
            Some(registry) => {
                let refresh_policy = crate::registry::refresh_policy(&self.settings);
                registry.check_serves(self.tokens.leeway(), refresh_policy.as_ref())?;
                if let Some(cache) = self.store.user_cache() {
                    crate::registry::feed_user_cache(&registry, cache);
                }
                self.checks.push(Arc::new(crate::registry::RegistryCheck {
                    registry: registry.clone(),
                }));
                self.listeners
                    .push(Arc::new(crate::registry::RegistryRecorder {
                        registry: registry.clone(),
                    }));
                Some(RegistryParts {
                    registry,
                    refresh_policy,
                })
            }
        };
        let header_name = self.settings.header_name()?;
        // The keys never change: their JWKS document is built once.
        let jwks = self.tokens.keys().jwks();
        let slots = self
            .password_concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get));
        let password_slots = PasswordSlots::new(
            slots,
            self.settings.login_queue_length,
            self.settings.login_queue_timeout,
        );
        let wants_authentications = self
            .listeners
            .iter()
            .any(|listener| listener.wants_authentications());
        Ok(JwtAuth::from_inner(Inner {
            tokens: self.tokens,
            settings: self.settings,
            store: self.store,
            messages: Arc::new(self.messages),
            listeners: self.listeners,
            checks: self.checks,
            wants_authentications,
            password_slots,
            header_name,
            jwks,
            #[cfg(feature = "registry")]
            registry,
        }))
    }
}

impl<S: UserStore> JwtAuth<S> {
    /// A builder with English messages and no listeners.
    pub fn builder(tokens: TokenService, settings: AuthSettings, store: S) -> JwtAuthBuilder<S> {
        JwtAuthBuilder {
            tokens,
            settings,
            store,
            messages: Messages::default(),
            listeners: Vec::new(),
            checks: Vec::new(),
            password_concurrency: None,
            #[cfg(feature = "registry")]
            registry: None,
        }
    }
}
