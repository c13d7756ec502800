//! Building a [`JwtAuth`]: settings checked, the registry's parts
//! started, everything fixed once.

use std::num::NonZeroUsize;
use std::sync::Arc;

use jwt_core::{SettingsError, TokenService};

#[cfg(feature = "registry")]
use super::RegistryParts;
use super::{Inner, JwtAuth};
use crate::events::Listener;
use crate::guard::TokenGuard;
use crate::messages::Messages;
use crate::password_slots::PasswordSlots;
use crate::settings::AuthSettings;
use crate::store::UserStore;

/// Builds a [`JwtAuth`].
#[must_use]
pub struct JwtAuthBuilder<S: UserStore> {
    tokens: TokenService,
    settings: AuthSettings,
    store: S,
    messages: Messages,
    listeners: Vec<Arc<dyn Listener<S::User>>>,
    guards: Vec<Arc<dyn TokenGuard>>,
    password_concurrency: Option<usize>,
    #[cfg(feature = "registry")]
    registry: Option<jwt_registry::Registry>,
    #[cfg(feature = "registry")]
    registration_queue: usize,
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

    /// Adds a check of every verified token (the registry's force-expiry).
    /// Defaults to none.
    pub fn guard(mut self, guard: impl TokenGuard) -> Self {
        self.guards.push(Arc::new(guard));
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

    /// How many registrations may wait for the background worker
    /// (`[registry] registration_parallel`); past it, `obtain/` and
    /// `refresh/` wait (without blocking a worker thread) for room, so a
    /// burst cannot grow memory without end. Defaults to 1024.
    #[cfg(feature = "registry")]
    pub fn registration_queue(mut self, jobs: usize) -> Self {
        self.registration_queue = jobs.max(1);
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
        } else if self.settings.transport == crate::settings::Transport::Cookie {
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
                if registry.leeway() < self.tokens.leeway() {
                    return Err(SettingsError::new(
                        "tokens.leeway",
                        format!(
                            "is {} s but the registry was built with {} s: pass it to RegistryBuilder::leeway, or a token inside the leeway could not be cut off",
                            self.tokens.leeway().as_secs(),
                            registry.leeway().as_secs()
                        ),
                    ));
                }
                let on_signal = registry.settings().registration_on_signal;
                if registry.settings().expire_on_refresh && !on_signal {
                    return Err(SettingsError::new(
                        "registry.expire_on_refresh",
                        "works only with registration_on_signal = true",
                    ));
                }
                if self.settings.reuse_detection && !on_signal {
                    return Err(SettingsError::new(
                        "auth.reuse_detection",
                        "works only with [registry] registration_on_signal = true",
                    ));
                }
                let background = if registry.settings().registration_parallel {
                    let worker = crate::registry::Background::start(self.registration_queue)
                        .map_err(|err| {
                            SettingsError::new(
                                "registry.registration_parallel",
                                format!("cannot start the worker: {err}"),
                            )
                        })?;
                    Some(Arc::new(worker))
                } else {
                    None
                };
                self.guards.push(Arc::new(crate::registry::RegistryGuard {
                    registry: registry.clone(),
                }));
                self.listeners
                    .push(Arc::new(crate::registry::RegistryListener {
                        registry: registry.clone(),
                        background: background.clone(),
                    }));
                Some(RegistryParts {
                    registry,
                    background,
                    refresh_policy: crate::registry::refresh_policy(&self.settings),
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
        Ok(JwtAuth {
            inner: Arc::new(Inner {
                tokens: self.tokens,
                settings: self.settings,
                store: self.store,
                messages: self.messages,
                listeners: self.listeners,
                guards: self.guards,
                wants_authentications,
                password_slots,
                header_name,
                jwks,
                #[cfg(feature = "registry")]
                registry,
            }),
        })
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
            guards: Vec::new(),
            password_concurrency: None,
            #[cfg(feature = "registry")]
            registry: None,
            #[cfg(feature = "registry")]
            registration_queue: 1024,
        }
    }
}
