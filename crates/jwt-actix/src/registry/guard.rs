//! Every verified token is checked against the registry.

use actix_web::web;
use futures_util::future::LocalBoxFuture;
use jwt_core::Token;
use jwt_registry::{OnDbDown, Registry, TokenStatus};

use crate::guard::{GuardPoint, Refusal, TokenGuard};
use crate::store::BackendError;

/// Refuses force-expired tokens, tokens issued before their user's cut-off
/// ("log out everywhere"), and, with `require_registered`, unknown ones. On protected routes an unreachable registry follows `on_db_down`;
/// token views always answer 503 then.
pub(crate) struct RegistryGuard {
    pub(crate) registry: Registry,
}

impl TokenGuard for RegistryGuard {
    fn check<'a>(
        &'a self,
        token: &'a Token,
        point: GuardPoint,
    ) -> LocalBoxFuture<'a, Result<(), Refusal>> {
        Box::pin(async move {
            let settings = self.registry.settings();
            let require = settings.require_registered;
            let status = web::block(super::status_job(&self.registry, token, require))
                .await
                .map_err(|err| Refusal::Failed(BackendError::other(err)))?;
            match status {
                Ok(TokenStatus::ForceExpired | TokenStatus::CutOff) => Err(Refusal::Expired),
                Ok(TokenStatus::Unknown) if require => Err(Refusal::Expired),
                Ok(_) => Ok(()),
                Err(_)
                    if point == GuardPoint::Protected && settings.on_db_down == OnDbDown::Allow =>
                {
                    tracing::warn!(
                        "registry unreachable: letting a verified token through (on_db_down = allow)"
                    );
                    Ok(())
                }
                Err(err) => Err(Refusal::Failed(err.into())),
            }
        })
    }
}
