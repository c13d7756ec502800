//! Every verified token is checked against the registry.

use futures_util::future::LocalBoxFuture;
use jwt_core::Token;
use jwt_registry::{Need, OnDbDown, Registry, Verdict};

use super::calls::verdict_job;
use crate::check::{CheckPoint, Refusal, TokenCheck};
use crate::store::blocking;

/// Refuses force-expired tokens, tokens issued before their user's cut-off
/// ("log out everywhere"), and, with `require_registered`, unknown ones.
/// On protected routes an unreachable registry follows `on_db_down`; token
/// views always answer 503 then.
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
            let settings = self.registry.settings();
            let require = settings.require_registered;
            let need = if require {
                Need::Registration
            } else {
                Need::Refusal
            };
            match blocking(verdict_job(&self.registry, token, need)).await {
                Ok(Verdict::ForceExpired | Verdict::CutOff) => Err(Refusal::Expired),
                Ok(Verdict::Unknown) if require => Err(Refusal::Expired),
                Ok(_) => Ok(()),
                Err(_)
                    if point == CheckPoint::Protected && settings.on_db_down == OnDbDown::Allow =>
                {
                    tracing::warn!(
                        "registry unreachable: letting a verified token through (on_db_down = allow)"
                    );
                    Ok(())
                }
                Err(err) => Err(Refusal::Failed(err)),
            }
        })
    }
}
