//! Every verified token is checked against the registry.

use futures_util::future::LocalBoxFuture;
use jwt_core::Token;
use jwt_registry::{Admission, Gate, Registry};

use super::calls::presented_job;
use crate::check::{CheckPoint, Refusal, TokenCheck};
use crate::store::blocking;

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
            let admit = presented_job(&self.registry, token, move |registry, presented| {
                registry.admit(presented, gate)
            });
            match blocking(admit).await {
                Ok(Admission::Admitted) => Ok(()),
                Ok(Admission::Refused) => Err(Refusal::Expired),
                Err(err) => Err(Refusal::Failed(err)),
            }
        })
    }
}
