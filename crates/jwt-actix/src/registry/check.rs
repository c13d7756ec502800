//! Every verified token is checked against the registry.

use futures_util::future::LocalBoxFuture;
use jwt_core::Token;
use jwt_registry::{Admission, Gate, Presented, Registry};

use super::calls::presented_job;
use crate::check::{CheckPoint, Refusal, TokenCheck};
use crate::store::{BackendError, blocking};

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
            let user = token.user_id().map(ToString::to_string);
            let presented = Presented {
                jti: token.jti(),
                user_id: user.as_deref(),
                issued_at: token.issued_at(),
            };
            // In memory where the registry can answer so (PostgreSQL's
            // cached list); off the executor where it must ask a database.
            let answer = match self.registry.admit_in_memory(&presented, gate) {
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
