//! Every verified token is checked against the registry.

use futures_util::future::LocalBoxFuture;
use jwt_core::{Token, UserId};
use jwt_registry::{Admission, Gate, Presented, Registry, UserChange};

use super::calls::presented_job;
use crate::check::{CheckPoint, Refusal, TokenCheck};
use crate::store::{BackendError, blocking};
use crate::user_cache::UserCache;

/// Asks the registry whether each verified token gets in
/// ([`Registry::admit`]): force-expired tokens, tokens issued before their
/// user's cut-off and (with `require_registered`) unknown ones are refused.
pub(crate) struct RegistryCheck {
    pub(crate) registry: Registry,
}

impl TokenCheck for RegistryCheck {
    fn check<'a>(
        &'a self,
        token: &'a Token,
        point: CheckPoint,
    ) -> LocalBoxFuture<'a, Result<(), Refusal>> {
        Box::pin(async move {
            let gate = match point {
                CheckPoint::Protected => Gate::Protected,
                CheckPoint::Refresh | CheckPoint::Verify => Gate::TokenView,
            };
            let mut digits = itoa::Buffer::new();
            let user = token.user_id().map(|id| match id {
                UserId::Int(id) => digits.format(*id),
                UserId::Str(id) => id.as_str(),
            });
            let presented = Presented {
                jti: token.jti(),
                user_id: user,
                issued_at: token.issued_at(),
            };
            // From the cached list, awaited without blocking; off the
            // executor where the registry must ask the database.
            let answer = match self.registry.admit_in_memory(&presented, gate).await {
                Some(answer) => answer.map_err(BackendError::from),
                None => {
                    let admit = presented_job(&self.registry, token, move |registry, presented| {
                        registry.admit(presented, gate)
                    });
                    blocking(admit).await
                }
            };
            match answer {
                Ok(Admission::Admitted) => Ok(()),
                Ok(Admission::Refused) => Err(Refusal::Expired),
                Err(err) => Err(Refusal::Failed(err)),
            }
        })
    }
}

/// Connects the store's user cache to the registry: every user change the
/// registry learns of (`jwt_registry::announce_user_changes`, here or in
/// another process) makes the cache forget that user before the token
/// check of the next request answers, so the cache may serve. Not with
/// `require_registered` (its check asks the database and waits for no
/// freshness round) nor with `revocation = "strict"` (no list to learn
/// changes by): then the cache stays unused, and this says so.
pub(crate) fn feed_user_cache<U: Clone + Send + Sync + 'static>(
    registry: &Registry,
    cache: &UserCache<U>,
) {
    if cache.is_serving() {
        return;
    }
    let fed = !registry.settings().require_registered && {
        let forget = cache.clone();
        registry.watch_users(move |change| match change {
            UserChange::User(id) => forget.forget_stored(id),
            UserChange::Everyone => forget.forget_all(),
        })
    };
    if fed {
        cache.serve();
    } else {
        tracing::info!(
            "the user cache is not used: the registry learns of user changes only with \
             revocation = \"cached\" and without require_registered"
        );
    }
}
