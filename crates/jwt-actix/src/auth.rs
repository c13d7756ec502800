//! `JwtAuth`: everything the views, middleware and extractors share.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::HttpRequest;
use actix_web::http::header::HeaderName;
use actix_web::web;
use jwt_core::{RequestInfo, SettingsError, TokenService};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::error::ApiError;
use crate::events::{Listener, TokenObtained, TokenRefreshed, UserAuthenticated};
use crate::guard::{GuardPoint, Refusal, TokenGuard};
use crate::messages::Messages;
use crate::middleware::JwtMiddleware;
use crate::routes::TokenRoutes;
use crate::settings::AuthSettings;
use crate::store::{BackendError, UserStore};

/// The token service, settings, user store, messages and listeners of an
/// app: built once, cheap to clone into every worker.
///
/// ```no_run
/// # use jwt_actix::{JwtAuth, AuthSettings, UserStore};
/// # fn app<S: UserStore>(tokens: jwt_core::TokenService, store: S) -> Result<(), jwt_core::SettingsError> {
/// use actix_web::{App, web};
///
/// let jwt = JwtAuth::builder(tokens, AuthSettings::default(), store).build()?;
/// let app = App::new()
///     .wrap(jwt.middleware())
///     .service(web::scope("/api/v1/auth/token").configure(jwt.token_routes().configure()));
/// # Ok(()) }
/// ```
pub struct JwtAuth<S: UserStore> {
    inner: Arc<Inner<S>>,
}

struct Inner<S: UserStore> {
    tokens: TokenService,
    settings: AuthSettings,
    store: S,
    messages: Messages,
    listeners: Vec<Arc<dyn Listener<S::User>>>,
    guards: Vec<Arc<dyn TokenGuard>>,
    wants_authentications: bool,
    password_slots: Arc<Semaphore>,
    /// Logins waiting for a password-check slot.
    login_waiting: AtomicUsize,
    header_name: HeaderName,
    jwks: serde_json::Value,
    #[cfg(feature = "registry")]
    registry: Option<RegistryParts>,
}

#[cfg(feature = "registry")]
struct RegistryParts {
    registry: jwt_registry::Registry,
    background: Option<Arc<crate::registry::Background>>,
    /// How `refresh/` spends refresh tokens; `None`: nothing to check.
    refresh_policy: Option<jwt_registry::RefreshPolicy>,
}

impl<S: UserStore> Clone for JwtAuth<S> {
    fn clone(&self) -> Self {
        JwtAuth {
            inner: Arc::clone(&self.inner),
        }
    }
}

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
                password_slots: Arc::new(Semaphore::new(slots)),
                login_waiting: AtomicUsize::new(0),
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

    /// The token service.
    pub fn tokens(&self) -> &TokenService {
        &self.inner.tokens
    }

    /// The `[auth]` settings.
    pub fn settings(&self) -> &AuthSettings {
        &self.inner.settings
    }

    /// The user store.
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// The answers' texts.
    pub fn messages(&self) -> &Messages {
        &self.inner.messages
    }

    /// The token registry, when one is plugged in.
    #[cfg(feature = "registry")]
    pub fn registry(&self) -> Option<&jwt_registry::Registry> {
        self.inner.registry.as_ref().map(|parts| &parts.registry)
    }

    /// How `refresh/` spends refresh tokens (from the `[auth]` settings,
    /// fixed at build); `None` without a registry or nothing to check.
    #[cfg(feature = "registry")]
    pub(crate) fn refresh_policy(&self) -> Option<jwt_registry::RefreshPolicy> {
        self.inner
            .registry
            .as_ref()
            .and_then(|parts| parts.refresh_policy)
    }

    /// Waits for background registrations to land (`registration_parallel`)
    /// and stops their worker: call it once the server has stopped. Blocks.
    #[cfg(feature = "registry")]
    pub fn flush_registrations(&self) {
        if let Some(background) = self
            .inner
            .registry
            .as_ref()
            .and_then(|parts| parts.background.as_ref())
        {
            background.flush();
        }
    }

    pub(crate) fn header_name(&self) -> &HeaderName {
        &self.inner.header_name
    }

    /// The JWKS document of the token service's keys, built at start-up.
    pub(crate) fn jwks(&self) -> &serde_json::Value {
        &self.inner.jwks
    }

    /// The middleware that attaches the user to requests, lazily.
    pub fn middleware(&self) -> JwtMiddleware<S> {
        JwtMiddleware::new(self.clone())
    }

    /// The token routes (`obtain/`, `refresh/`, `verify/`), to mount under a
    /// prefix; each can be replaced by the app's own handler.
    pub fn token_routes(&self) -> TokenRoutes<S> {
        TokenRoutes::new(self.clone())
    }

    /// Checks a username and password: exactly one password check whether
    /// the user is unknown, inactive or the password wrong, and the same
    /// answer for all three. When every password-check slot is taken the
    /// login waits in a bounded queue, for a bounded time (`[auth]
    /// login_queue_length`, `login_queue_timeout`); past either it is
    /// answered 503 with `Retry-After`, and no password is checked.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<S::User, ApiError> {
        let messages = self.messages();
        let user = self
            .store()
            .find_by_username(username)
            .await
            .map_err(|err| self.backend_failure(&err))?;
        let permit = self.password_slot().await?;
        let store = self.store().clone();
        let candidate = user.clone();
        let password = password.to_owned();
        let matches = web::block(move || {
            let _permit = permit;
            store.check_password(candidate.as_ref(), &password)
        })
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "password check failed to run");
            ApiError::internal(messages)
        })?;
        match user {
            Some(user) if matches && self.store().is_active(&user) => Ok(user),
            _ => Err(ApiError::no_active_account(messages)),
        }
    }

    /// A password-check slot: at once when one is free, else after waiting
    /// in the bounded queue; 503 with `Retry-After` when the queue is full
    /// or the wait too long.
    async fn password_slot(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        let settings = &self.inner.settings;
        let slots = &self.inner.password_slots;
        let closed = || {
            tracing::error!("the password-check semaphore is closed");
            ApiError::internal(self.messages())
        };
        let busy = |why: &str| {
            tracing::warn!(
                why,
                "login refused: the password checks are overloaded (503)"
            );
            // The wait bound, in whole seconds rounded up (`Retry-After` has
            // no fractions; `overloaded` makes it at least one).
            let timeout = settings.login_queue_timeout;
            let retry = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
            ApiError::overloaded(self.messages(), retry)
        };
        match Arc::clone(slots).try_acquire_owned() {
            Ok(permit) => return Ok(permit),
            Err(TryAcquireError::Closed) => return Err(closed()),
            Err(TryAcquireError::NoPermits) => {}
        }
        let waiting = &self.inner.login_waiting;
        let place = Waiting::join(waiting);
        if place.ahead >= settings.login_queue_length {
            return Err(busy("the login queue is full"));
        }
        match actix_web::rt::time::timeout(
            settings.login_queue_timeout,
            Arc::clone(slots).acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(closed()),
            Err(_) => Err(busy("a login waited longer than login_queue_timeout")),
        }
    }

    /// Logs a backend failure and turns it into the 503 or 500 answer.
    pub fn backend_failure(&self, err: &BackendError) -> ApiError {
        if err.is_unavailable() {
            tracing::warn!(error = %err, "answering 503");
            ApiError::unavailable(self.messages())
        } else {
            tracing::error!(error = %err, "answering 500");
            ApiError::internal(self.messages())
        }
    }

    /// Runs the token guards: 401 `token_expired` for a refused token, 503
    /// (or 500) when a guard could not check.
    pub async fn check_token(
        &self,
        token: &jwt_core::Token,
        point: GuardPoint,
    ) -> Result<(), ApiError> {
        for guard in &self.inner.guards {
            match guard.check(token, point).await {
                Ok(()) => {}
                Err(Refusal::Expired) => return Err(ApiError::token_expired(self.messages())),
                Err(Refusal::Failed(err)) => return Err(self.backend_failure(&err)),
            }
        }
        Ok(())
    }

    /// Tells the listeners of an `obtain/`.
    pub async fn emit_obtained(&self, event: &TokenObtained<S::User>) -> Result<(), ApiError> {
        for listener in &self.inner.listeners {
            listener
                .token_obtained(event)
                .await
                .map_err(|err| self.backend_failure(&err))?;
        }
        Ok(())
    }

    /// Tells the listeners of a `refresh/`.
    pub async fn emit_refreshed(&self, event: &TokenRefreshed<S::User>) -> Result<(), ApiError> {
        for listener in &self.inner.listeners {
            listener
                .token_refreshed(event)
                .await
                .map_err(|err| self.backend_failure(&err))?;
        }
        Ok(())
    }

    /// Tells the listeners that want it of an authenticated request.
    pub(crate) async fn emit_authenticated(
        &self,
        req: &HttpRequest,
        user: &S::User,
        token: &jwt_core::Token,
    ) -> Result<(), ApiError> {
        if !self.inner.wants_authentications {
            return Ok(());
        }
        let event = UserAuthenticated {
            user: user.clone(),
            token: token.clone(),
            request: request_info(req),
        };
        for listener in self
            .inner
            .listeners
            .iter()
            .filter(|l| l.wants_authentications())
        {
            listener
                .user_authenticated(&event)
                .await
                .map_err(|err| self.backend_failure(&err))?;
        }
        Ok(())
    }

    /// Whether any listener is registered.
    pub fn has_listeners(&self) -> bool {
        !self.inner.listeners.is_empty()
    }
}

impl<S: UserStore> fmt::Debug for JwtAuth<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuth")
            .field("tokens", &self.inner.tokens)
            .field("settings", &self.inner.settings)
            .field("listeners", &self.inner.listeners.len())
            .finish_non_exhaustive()
    }
}

/// A place in the login queue, left when dropped (a login that ends, or a
/// request that is dropped while it waits).
struct Waiting<'a> {
    count: &'a AtomicUsize,
    /// How many were waiting when this one came.
    ahead: usize,
}

impl<'a> Waiting<'a> {
    fn join(count: &'a AtomicUsize) -> Self {
        let ahead = count.fetch_add(1, Ordering::SeqCst);
        Waiting { count, ahead }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The framework-free description of an actix request: peer address and
/// headers.
pub fn request_info(req: &HttpRequest) -> RequestInfo {
    let mut info = RequestInfo::new(req.peer_addr().map(|addr| addr.ip()));
    for (name, value) in req.headers() {
        info.push_header(name.as_str(), String::from_utf8_lossy(value.as_bytes()));
    }
    info
}
