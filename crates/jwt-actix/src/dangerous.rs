//! Calls that mark a request authenticated **without verifying a token or
//! asking the registry**: for an app's own session middleware that has
//! authenticated the request by other means, and for tests. Everything
//! else in the crate verifies; these trust the caller of the function.

use std::rc::Rc;

use actix_web::HttpMessage;
use actix_web::dev::ServiceRequest;
use jwt_core::Token;

use crate::caller::{Caller, LazyCaller, Resolve};
use crate::state::JwtAuth;
use crate::store::UserStore;

/// A caller made of `user` and `token` as given: neither is checked.
pub fn caller<U>(user: U, token: Token) -> Caller<U> {
    Caller::new(user, token)
}

/// Marks a request as authenticated by `caller` before
/// [`JwtMiddleware`](crate::JwtMiddleware) sees it: the middleware then
/// leaves it alone, extractors hand out this caller, and no CSRF check of
/// the crate applies to it.
pub fn authenticate_request<S: UserStore>(
    req: &ServiceRequest,
    jwt: &JwtAuth<S>,
    caller: Caller<S::User>,
) {
    let resolver: Rc<dyn Resolve<S::User>> = Rc::new(jwt.clone());
    req.extensions_mut()
        .insert(Rc::new(LazyCaller::authenticated(resolver, caller)));
}
