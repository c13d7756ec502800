//! `JwtAuth`: everything the views, middleware and extractors share. The
//! ground floor of the crate: it knows the settings, the user store, the
//! messages, the listeners and checks, and the registry, never the
//! routes or the middleware built on it.

use std::fmt;
use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header::HeaderName;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use jwt_core::{Token, TokenService};
use tokio::sync::OwnedSemaphorePermit;

use crate::check::{CheckPoint, Refusal, TokenCheck};
use crate::error::ApiError;
use crate::events::{Listener, TokenObtained, TokenRefreshed, UserAuthenticated, request_info};
use crate::failure::Failure;
use crate::fault::Fault;
use crate::messages::Messages;
use crate::password_slots::{PasswordSlots, Shed};
use crate::settings::{AuthSettings, Transport};
use crate::store::{BackendError, UserStore, blocking};
use crate::user_cache::UserCache;

/// The token service, settings, user store, messages and listeners of an
/// app: built once, cheap to clone into every worker. Handlers take it as
/// an extractor (it is app data wherever the token routes are mounted;
/// elsewhere add it with `App::app_data(jwt.clone())`).
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

/// What [`JwtAuthBuilder`](crate::JwtAuthBuilder) fixes once.
pub(crate) struct Inner<S: UserStore> {
    pub(crate) tokens: TokenService,
    pub(crate) settings: AuthSettings,
    pub(crate) store: S,
    pub(crate) messages: Arc<Messages>,
    pub(crate) listeners: Vec<Arc<dyn Listener<S::User>>>,
    pub(crate) checks: Vec<Arc<dyn TokenCheck>>,
    pub(crate) wants_authentications: bool,
    pub(crate) password_slots: PasswordSlots,
    pub(crate) header_name: HeaderName,
    pub(crate) jwks: serde_json::Value,
    #[cfg(feature = "registry")]
    pub(crate) registry: Option<RegistryParts>,
}

/// The registry and how `refresh/` spends refresh tokens in it.
#[cfg(feature = "registry")]
pub(crate) struct RegistryParts {
    pub(crate) registry: jwt_registry::Registry,
    /// `None`: nothing to check.
    pub(crate) refresh_policy: Option<jwt_registry::RefreshPolicy>,
}

impl<S: UserStore> Clone for JwtAuth<S> {
    fn clone(&self) -> Self {
        JwtAuth {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S: UserStore> JwtAuth<S> {
    pub(crate) fn from_inner(inner: Inner<S>) -> Self {
        JwtAuth {
            inner: Arc::new(inner),
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

    /// Whether tokens travel in cookies (`[auth] transport = "cookie"`).
    pub fn cookie_mode(&self) -> bool {
        self.inner.settings.transport == Transport::Cookie
    }

    /// The user store.
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// The answers' texts.
    pub fn messages(&self) -> &Messages {
        &self.inner.messages
    }

    /// `fault` as the answer, worded with the app's messages.
    pub fn error(&self, fault: impl Into<Fault>) -> ApiError {
        ApiError::new(fault, Arc::clone(&self.inner.messages))
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
        if let Some(registry) = self.registry() {
            registry.flush_registrations();
        }
    }

    pub(crate) fn header_name(&self) -> &HeaderName {
        &self.inner.header_name
    }

    /// The JWKS document of the token service's keys, built at start-up.
    pub(crate) fn jwks(&self) -> &serde_json::Value {
        &self.inner.jwks
    }

    /// Checks a username and password: exactly one password check whether
    /// the user is unknown, inactive or the password wrong, and the same
    /// answer for all three. When every password-check slot is taken the
    /// login waits in a bounded queue, for a bounded time (`[auth]
    /// login_queue_length`, `login_queue_timeout`); past either it is
    /// answered 503 with `Retry-After`, and no password is checked.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<S::User, Fault> {
        let user = self
            .store()
            .find_by_username(username)
            .await
            .map_err(|err| backend_failure(&err))?;
        let permit = self.password_slot().await?;
        let store = self.store().clone();
        let candidate = user.clone();
        let password = password.to_owned();
        let matches = blocking(move || {
            let _permit = permit;
            Ok::<_, BackendError>(store.check_password(candidate.as_ref(), &password))
        })
        .await
        .map_err(|err| backend_failure(&err))?;
        match user {
            Some(user) if matches && self.store().is_active(&user) => Ok(user),
            _ => Err(Failure::NoActiveAccount.into()),
        }
    }

    /// The user a verified token names, checked: present, active, and the
    /// token not older than the user's cut-off (simplejwt's `get_user`, then
    /// the tokens-valid-since check). Used by protected routes and
    /// `refresh/`.
    pub(crate) async fn load_user(&self, token: &Token) -> Result<S::User, Fault> {
        let id = token.require_user_id().map_err(|_| Fault::no_user_id())?;
        let cache = self.store().user_cache();
        let user = match cache.and_then(|cache| cache.get(id)) {
            Some(user) => user,
            None => {
                let lookup = cache.map(UserCache::start_lookup);
                let user = self
                    .store()
                    .find_by_id(id)
                    .await
                    .map_err(|err| backend_failure(&err))?
                    .ok_or(Failure::UserNotFound)?;
                if let (Some(cache), Some(lookup)) = (cache, lookup) {
                    cache.keep(id, &user, lookup);
                }
                user
            }
        };
        if !self.store().is_active(&user) {
            return Err(Failure::UserInactive.into());
        }
        if let Some(cut_off) = self.store().tokens_valid_since(&user)
            && token.issued_at().is_none_or(|issued| issued <= cut_off)
        {
            return Err(Failure::PasswordChanged.into());
        }
        Ok(user)
    }

    /// A password-check slot; 503 with `Retry-After` when the queue is
    /// full or the wait too long.
    async fn password_slot(&self) -> Result<OwnedSemaphorePermit, Fault> {
        let slots = &self.inner.password_slots;
        match slots.acquire().await {
            Ok(permit) => Ok(permit),
            Err(Shed::Closed) => {
                tracing::error!("the password-check semaphore is closed");
                Err(Failure::Internal.into())
            }
            Err(shed) => {
                tracing::warn!(
                    ?shed,
                    "login refused: the password checks are overloaded (503)"
                );
                Err(Fault::overloaded(slots.retry_after()))
            }
        }
    }

    /// Runs the token checks: 401 `token_expired` for a refused token, 503
    /// (or 500) when a check could not be made.
    pub async fn check_token(&self, token: &Token, point: CheckPoint) -> Result<(), Fault> {
        for check in &self.inner.checks {
            match check.check(token, point).await {
                Ok(()) => {}
                Err(Refusal::Expired) => return Err(Failure::TokenExpired.into()),
                Err(Refusal::Failed(err)) => return Err(backend_failure(&err)),
            }
        }
        Ok(())
    }

    /// Tells the listeners `wanted` picks, in order, with `call`; the first
    /// failure is the answer.
    async fn tell<'a>(
        &'a self,
        wanted: impl Fn(&dyn Listener<S::User>) -> bool,
        call: impl Fn(&'a dyn Listener<S::User>) -> ListenerCall<'a>,
    ) -> Result<(), Fault> {
        let listeners = self.inner.listeners.iter();
        for listener in listeners.filter(|listener| wanted(listener.as_ref())) {
            call(listener.as_ref())
                .await
                .map_err(|err| backend_failure(&err))?;
        }
        Ok(())
    }

    /// Tells the listeners of an `obtain/`.
    pub async fn emit_obtained(&self, event: &TokenObtained<S::User>) -> Result<(), Fault> {
        self.tell(|_| true, |listener| listener.token_obtained(event))
            .await
    }

    /// Tells the listeners of a `refresh/`.
    pub async fn emit_refreshed(&self, event: &TokenRefreshed<S::User>) -> Result<(), Fault> {
        self.tell(|_| true, |listener| listener.token_refreshed(event))
            .await
    }

    /// Tells the listeners that want it of an authenticated request.
    pub(crate) async fn emit_authenticated(
        &self,
        req: &HttpRequest,
        user: &S::User,
        token: &Token,
    ) -> Result<(), Fault> {
        if !self.inner.wants_authentications {
            return Ok(());
        }
        let event = UserAuthenticated {
            user: user.clone(),
            token: token.clone(),
            request: request_info(req),
        };
        self.tell(
            |listener| listener.wants_authentications(),
            |listener| listener.user_authenticated(&event),
        )
        .await
    }

    /// Whether any listener is registered.
    pub fn has_listeners(&self) -> bool {
        !self.inner.listeners.is_empty()
    }
}

/// What telling one listener of one event comes to.
type ListenerCall<'a> = LocalBoxFuture<'a, Result<(), BackendError>>;

/// Logs a backend failure and turns it into the 503 or 500 answer.
pub fn backend_failure(err: &BackendError) -> Fault {
    if err.is_unavailable() {
        tracing::warn!(error = %err, "answering 503");
        Failure::Unavailable.into()
    } else {
        tracing::error!(error = %err, "answering 500");
        Failure::Internal.into()
    }
}

/// The app's `JwtAuth`, from the app data the token routes register (or
/// the app's own `App::app_data(jwt.clone())`); a 500, logged, without.
impl<S: UserStore> FromRequest for JwtAuth<S> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(req.app_data::<JwtAuth<S>>().cloned().ok_or_else(|| {
            tracing::error!(
                "a handler asked for JwtAuth where it is not app data: mount the token routes with JwtAuth::token_routes().configure(), or add App::app_data(jwt.clone())"
            );
            ApiError::english(Failure::Internal)
        }))
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
