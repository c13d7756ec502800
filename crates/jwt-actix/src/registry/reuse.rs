//! `refresh/` with `[auth] reuse_detection` or `session_max_lifetime`: the
//! presented refresh token is spent in the registry before anything is
//! minted from it.

use actix_web::web;
use jwt_core::Token;
use jwt_registry::{RefreshPolicy, Spent, TokenRecord};

use crate::auth::JwtAuth;
use crate::error::ApiError;
use crate::store::{BackendError, UserStore};

/// The policy of the `[auth]` settings; `None` when nothing is to be
/// checked.
fn policy<S: UserStore>(jwt: &JwtAuth<S>) -> Option<RefreshPolicy> {
    let settings = jwt.settings();
    let policy = RefreshPolicy {
        single_use: settings.reuse_detection && settings.rotate_refresh_tokens,
        grace: settings.reuse_grace_seconds,
        max_lifetime: (!settings.session_max_lifetime.is_zero())
            .then_some(settings.session_max_lifetime),
    };
    (policy.single_use || policy.max_lifetime.is_some()).then_some(policy)
}

/// Spends `presented` (as sent: `raw`): `Ok` to go ahead; 401
/// `token_expired` for a replay (whose tree is then force-expired) or a
/// login older than `session_max_lifetime`.
pub(crate) async fn spend<S: UserStore>(
    jwt: &JwtAuth<S>,
    presented: &Token,
    raw: &str,
) -> Result<(), ApiError> {
    let (Some(registry), Some(policy)) = (jwt.registry().cloned(), policy(jwt)) else {
        return Ok(());
    };
    let messages = jwt.messages();
    let record = TokenRecord::new(presented, raw);
    let jti = record.jti.clone();
    let spent = web::block(move || registry.spend_refresh(&record, policy))
        .await
        .map_err(|_| ApiError::internal(messages))?
        .map_err(|err| {
            let err = if err.is_unavailable() {
                BackendError::unavailable(err)
            } else {
                BackendError::other(err)
            };
            jwt.backend_failure(&err)
        })?;
    match spent {
        Spent::Fresh => Ok(()),
        Spent::Retried { expired } => {
            tracing::info!(jti, abandoned = ?expired, "refresh token retried within the grace window");
            Ok(())
        }
        Spent::Replayed { expired } => {
            tracing::warn!(
                jti,
                expired = expired.len(),
                "refresh token replayed: its login tree is force-expired"
            );
            Err(ApiError::token_expired(messages))
        }
        Spent::TooOld => Err(ApiError::token_expired(messages)),
    }
}
