//! Checks of a verified token against something outside it: the registry
//! knows which tokens were force-expired.

use futures_util::future::LocalBoxFuture;
use jwt_core::Token;

use crate::store::BackendError;

/// Where a token is being checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckPoint {
    /// A protected route (the middleware's caller).
    Protected,
    /// `refresh/`.
    Refresh,
    /// `verify/`.
    Verify,
}

/// Why a check refused a token.
#[derive(Debug)]
pub enum Refusal {
    /// The token is no longer valid (force-expired, or unknown where only
    /// registered tokens are accepted): 401 `token_expired`.
    Expired,
    /// The check could not be made: 503 (500 when not `unavailable`).
    Failed(BackendError),
}

/// Checks each token a request brings after its signature and claims are
/// verified, before its user is loaded. Install with
/// [`JwtAuthBuilder::check`](crate::JwtAuthBuilder::check).
pub trait TokenCheck: Send + Sync + 'static {
    /// Lets the token through or refuses it.
    fn check<'a>(
        &'a self,
        token: &'a Token,
        point: CheckPoint,
    ) -> LocalBoxFuture<'a, Result<(), Refusal>>;
}
