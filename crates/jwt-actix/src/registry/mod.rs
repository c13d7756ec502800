//! The token registry on the HTTP side (feature `registry`): registration
//! on `obtain/` and `refresh/`, the force-expiry check of every verified
//! token, the `expire/` view, the sessions routes and the admin API.
//!
//! ```no_run
//! # use jwt_actix::{JwtAuth, AuthSettings, UserStore};
//! # fn build<S: UserStore>(tokens: jwt_core::TokenService, store: S, settings: jwt_registry::RegistrySettings) -> Result<(), Box<dyn std::error::Error>> {
//! // A token is accepted until `exp + leeway`: the registry must know the
//! // leeway to cut such a token off (`build` refuses a registry given less).
//! let (registry, _) = jwt_registry::Registry::builder(settings)
//!     .leeway(tokens.leeway())
//!     .open()?;
//! let jwt = JwtAuth::builder(tokens, AuthSettings::default(), store)
//!     .registry(registry)
//!     .build()?;
//! # Ok(()) }
//! ```

mod admin;
mod background;
mod expire;
mod guard;
mod listener;
mod reuse;
mod sessions;

pub use admin::{
    DEFAULT_LIMIT, MAX_LIMIT, admin_expire_token, admin_expire_user, admin_token, admin_user_tokens,
};
pub use background::Background;
pub use expire::expire;
pub(crate) use guard::RegistryGuard;
pub(crate) use listener::RegistryListener;
pub(crate) use reuse::refresh_policy;
pub(crate) use reuse::spend;
pub use sessions::{end_session, logout, logout_all, revoke_others, sessions};

use actix_web::web;
use jwt_registry::Registry;
use jwt_registry::db::DbError;

use crate::auth::JwtAuth;
use crate::error::ApiError;
use crate::store::{BackendError, UserStore};

/// A registry failure is a backend failure: 503 when the database cannot
/// be reached, 500 otherwise.
impl From<DbError> for BackendError {
    fn from(err: DbError) -> Self {
        if err.is_unavailable() {
            BackendError::unavailable(err)
        } else {
            BackendError::other(err)
        }
    }
}

/// The registry's word on a verified token — its row, and its user's
/// cut-off — as a blocking job, to run off the executor.
pub(crate) fn status_job(
    registry: &Registry,
    token: &jwt_core::Token,
    need_registered: bool,
) -> impl FnOnce() -> Result<jwt_registry::TokenStatus, DbError> + Send + 'static {
    let registry = registry.clone();
    let jti = token.jti().to_owned();
    let user = token.user_id().map(ToString::to_string);
    let issued_at = token.issued_at();
    move || {
        let presented = jwt_registry::Presented {
            jti: &jti,
            user_id: user.as_deref(),
            issued_at,
        };
        registry.status(&presented, need_registered)
    }
}

/// The registry of a route that needs one (a 500, logged, without).
pub(crate) fn registry_of<S: UserStore>(jwt: &JwtAuth<S>) -> Result<Registry, ApiError> {
    jwt.registry().cloned().ok_or_else(|| {
        tracing::error!("a registry route mounted without a registry");
        ApiError::internal(jwt.messages())
    })
}

/// Runs `work` on the registry off the executor; a failure is the
/// contract's 503 or 500, its cause logged, never sent.
pub(crate) async fn blocking<S: UserStore, T: Send + 'static>(
    jwt: &JwtAuth<S>,
    work: impl FnOnce() -> Result<T, DbError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(work)
        .await
        .map_err(|err| jwt.backend_failure(&BackendError::other(err)))?
        .map_err(|err| jwt.backend_failure(&err.into()))
}
