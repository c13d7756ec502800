//! `refresh/` with `[auth] reuse_detection` or `session_max_lifetime`: the
//! presented refresh token is spent in the registry before anything is
//! minted from it.

use jwt_core::Token;
use jwt_registry::{RefreshPolicy, Spent, TokenRecord};

use super::calls::run;
use crate::failure::Failure;
use crate::fault::Fault;
use crate::settings::AuthSettings;
use crate::state::JwtAuth;
use crate::store::UserStore;

/// The `[auth]` settings handed to the registry as its refresh policy
/// (fixed at build); `None` when it checks nothing. `reuse_detection`
/// implies rotation (`AuthSettings::check`).
pub(crate) fn refresh_policy(settings: &AuthSettings) -> Option<RefreshPolicy> {
    RefreshPolicy {
        single_use: settings.reuse_detection,
        grace: settings.reuse_grace_seconds,
        max_lifetime: (!settings.session_max_lifetime.is_zero())
            .then_some(settings.session_max_lifetime),
    }
    .checking()
}

/// Spends `presented` (as sent: `raw`): `Ok` to go ahead; 401
/// `token_expired` for a replay (whose tree is then force-expired) or a
/// login older than `session_max_lifetime`.
pub(crate) async fn spend<S: UserStore>(
    jwt: &JwtAuth<S>,
    presented: &Token,
    raw: &str,
) -> Result<(), Fault> {
    let (Some(registry), Some(policy)) = (jwt.registry().cloned(), jwt.refresh_policy()) else {
        return Ok(());
    };
    let record = TokenRecord::new(presented, raw);
    let user = presented.user_id().map(ToString::to_string);
    // The registry logs a retry and a replay at `warn` and tells its
    // listeners.
    let spent = run(move || registry.spend_refresh(&record, user.as_deref(), policy)).await?;
    match spent {
        Spent::Fresh | Spent::Retried { .. } => Ok(()),
        Spent::Replayed { .. } | Spent::TooOld => Err(Failure::TokenExpired.into()),
    }
}
