//! What the registry's handlers share: the registry as an extractor, its
//! blocking calls run off the executor, and its failures as answers.

use std::future::{Ready, ready};
use std::marker::PhantomData;
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use jwt_core::Token;
use jwt_registry::db::DbError;
use jwt_registry::{Presented, Registry};

use crate::error::ApiError;
use crate::failure::Failure;
use crate::fault::Fault;
use crate::state::{JwtAuth, backend_failure};
use crate::store::{BackendError, UserStore, blocking};

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

/// The registry of the app's [`JwtAuth<S>`], for a handler of a route
/// that needs one (a 500, logged, when none is plugged in).
pub struct RegistryOf<S> {
    registry: Registry,
    store: PhantomData<fn() -> S>,
}

impl<S> Deref for RegistryOf<S> {
    type Target = Registry;

    fn deref(&self) -> &Registry {
        &self.registry
    }
}

impl<S> RegistryOf<S> {
    /// The registry, to move into a blocking call.
    pub fn cloned(&self) -> Registry {
        self.registry.clone()
    }
}

impl<S: UserStore> FromRequest for RegistryOf<S> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let found = JwtAuth::<S>::from_request(req, payload)
            .into_inner()
            .and_then(|jwt| match jwt.registry() {
                Some(registry) => Ok(registry.clone()),
                None => {
                    tracing::error!("a registry route mounted without a registry");
                    Err(jwt.error(Failure::Internal))
                }
            });
        ready(found.map(|registry| RegistryOf {
            registry,
            store: PhantomData,
        }))
    }
}

/// Runs `work` on the registry off the executor; a failure is the 503 or
/// 500 answer, its cause logged, never sent.
pub(crate) async fn run<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, DbError> + Send + 'static,
) -> Result<T, Fault> {
    blocking(work).await.map_err(|err| backend_failure(&err))
}

/// `ask` of the registry about a verified token (its `jti`, user and
/// `iat`), as a blocking job, to run off the executor.
pub(crate) fn presented_job<T>(
    registry: &Registry,
    token: &Token,
    ask: impl FnOnce(&Registry, &Presented<'_>) -> Result<T, DbError> + Send + 'static,
) -> impl FnOnce() -> Result<T, DbError> + Send + 'static {
    let registry = registry.clone();
    let jti = token.jti().to_owned();
    let user = token.user_id().map(ToString::to_string);
    let issued_at = token.issued_at();
    move || {
        let presented = Presented {
            jti: &jti,
            user_id: user.as_deref(),
            issued_at,
        };
        ask(&registry, &presented)
    }
}
