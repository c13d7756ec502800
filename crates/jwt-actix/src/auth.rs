//! `JwtAuth`: everything the views, middleware and extractors share.

use std::fmt;
use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header::HeaderName;
use actix_web::web;
use jwt_core::{RequestInfo, TokenService};
use tokio::sync::OwnedSemaphorePermit;

use crate::error::ApiError;
use crate::events::{Listener, TokenObtained, TokenRefreshed, UserAuthenticated};
use crate::guard::{GuardPoint, Refusal, TokenGuard};
use crate::messages::Messages;
use crate::middleware::JwtMiddleware;
use crate::password_slots::{PasswordSlots, Shed};
use crate::routes::TokenRoutes;
use crate::settings::AuthSettings;
use crate::store::{BackendError, UserStore};

mod builder;

pub use builder::JwtAuthBuilder;

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
    password_slots: PasswordSlots,
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

impl<S: UserStore> JwtAuth<S> {
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

    /// A password-check slot; 503 with `Retry-After` when the queue is
    /// full or the wait too long.
    async fn password_slot(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        let slots = &self.inner.password_slots;
        match slots.acquire().await {
            Ok(permit) => Ok(permit),
            Err(Shed::Closed) => {
                tracing::error!("the password-check semaphore is closed");
                Err(ApiError::internal(self.messages()))
            }
            Err(shed) => {
                tracing::warn!(
                    ?shed,
                    "login refused: the password checks are overloaded (503)"
                );
                Err(ApiError::overloaded(self.messages(), slots.retry_after()))
            }
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

/// The framework-free description of an actix request: peer address and
/// headers.
pub fn request_info(req: &HttpRequest) -> RequestInfo {
    let mut info = RequestInfo::new(req.peer_addr().map(|addr| addr.ip()));
    for (name, value) in req.headers() {
        info.push_header(name.as_str(), String::from_utf8_lossy(value.as_bytes()));
    }
    info
}
