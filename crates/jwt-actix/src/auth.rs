//! `JwtAuth`: everything the views, middleware and extractors share.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header::HeaderName;
use actix_web::web;
use jwt_core::{RequestInfo, SettingsError, TokenService};
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::events::{Listener, TokenObtained, TokenRefreshed, UserAuthenticated};
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
    wants_authentications: bool,
    password_slots: Arc<Semaphore>,
    header_name: HeaderName,
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
    password_concurrency: Option<usize>,
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

    /// How many password checks may run at once. Defaults to
    /// `std::thread::available_parallelism()`, so a storm of logins queues
    /// instead of exhausting memory and threads.
    pub fn password_concurrency(mut self, slots: usize) -> Self {
        self.password_concurrency = Some(slots.max(1));
        self
    }

    /// Checks the settings.
    pub fn build(self) -> Result<JwtAuth<S>, SettingsError> {
        self.settings.check()?;
        let header_name = HeaderName::from_bytes(self.settings.auth_header_name.as_bytes())
            .map_err(|_| {
                SettingsError::new("auth.auth_header_name", "is not a valid header name")
            })?;
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
                wants_authentications,
                password_slots: Arc::new(Semaphore::new(slots)),
                header_name,
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
            password_concurrency: None,
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

    pub(crate) fn header_name(&self) -> &HeaderName {
        &self.inner.header_name
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
    /// answer for all three.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<S::User, ApiError> {
        let messages = self.messages();
        let user = self
            .store()
            .find_by_username(username)
            .await
            .map_err(|err| self.backend_failure(&err))?;
        let permit = Arc::clone(&self.inner.password_slots)
            .acquire_owned()
            .await
            .map_err(|_| {
                tracing::error!("the password-check semaphore is closed");
                ApiError::internal(messages)
            })?;
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

/// The framework-free description of an actix request: peer address and
/// headers.
pub fn request_info(req: &HttpRequest) -> RequestInfo {
    let mut info = RequestInfo::new(req.peer_addr().map(|addr| addr.ip()));
    for (name, value) in req.headers() {
        info.push_header(name.as_str(), String::from_utf8_lossy(value.as_bytes()));
    }
    info
}
