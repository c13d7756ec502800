//! Extractors: the authenticated user (required or optional) and the
//! verified token.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use jwt_core::Token;

use crate::caller::{Caller, LazyCaller};
use crate::error::ApiError;
use crate::failure::Failure;
use crate::fault::Fault;

fn lazy<U: 'static>(req: &HttpRequest) -> Result<Rc<LazyCaller<U>>, ApiError> {
    req.extensions().get::<Rc<LazyCaller<U>>>().cloned().ok_or_else(|| {
        tracing::error!("an authentication extractor ran without JwtMiddleware for this user type: wrap the app or scope with JwtAuth::middleware()");
        ApiError::english(Failure::Internal)
    })
}

/// The JSON 405 in the app's messages, for a protected resource.
pub(crate) fn method_not_allowed<U: 'static>(req: &HttpRequest, allow: &'static str) -> ApiError {
    match lazy::<U>(req) {
        Ok(lazy) => lazy.error(Fault::method_not_allowed(req.method().as_str(), allow)),
        Err(error) => error,
    }
}

/// The authenticated user, or the contract's 401: a handler taking it only
/// runs for requests with a valid access token of an active user.
///
/// Optional authentication: `Option<Authenticated<U>>` is `None` for any
/// failure (anonymous or not); [`MaybeAuthenticated<U>`] is `None` only for
/// an anonymous request and refuses bad credentials with 401;
/// `Result<Authenticated<U>, ApiError>` hands the handler the error.
///
/// ```no_run
/// use jwt_actix::Authenticated;
/// # #[derive(Clone)] struct User { name: String }
///
/// async fn me(auth: Authenticated<User>) -> String {
///     format!("hello {}", auth.user().name)
/// }
/// ```
#[derive(Debug)]
pub struct Authenticated<U>(Rc<Caller<U>>);

impl<U> Authenticated<U> {
    /// The caller (user and token).
    pub fn caller(&self) -> &Caller<U> {
        &self.0
    }
}

impl<U> Clone for Authenticated<U> {
    fn clone(&self) -> Self {
        Authenticated(Rc::clone(&self.0))
    }
}

impl<U> Deref for Authenticated<U> {
    type Target = Caller<U>;

    fn deref(&self) -> &Caller<U> {
        &self.0
    }
}

type Extraction<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl<U: 'static> FromRequest for Authenticated<U> {
    type Error = ApiError;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let lazy = lazy::<U>(&req)?;
            match lazy.caller(&req).await {
                Ok(Some(caller)) => Ok(Authenticated(caller)),
                Ok(None) => Err(lazy.error(Failure::NotAuthenticated)),
                Err(fault) => Err(lazy.error(fault)),
            }
        })
    }
}

/// The authenticated user if the request carries credentials: `None` for
/// an anonymous request, the contract's 401 for bad credentials (as DRF's
/// `AllowAny` with JWT authentication behaves).
#[derive(Debug)]
pub struct MaybeAuthenticated<U>(Option<Authenticated<U>>);

impl<U> MaybeAuthenticated<U> {
    /// The user, if authenticated.
    pub fn get(&self) -> Option<&Authenticated<U>> {
        self.0.as_ref()
    }

    /// The user, if authenticated, by value.
    pub fn into_inner(self) -> Option<Authenticated<U>> {
        self.0
    }
}

impl<U: 'static> FromRequest for MaybeAuthenticated<U> {
    type Error = ApiError;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let lazy = lazy::<U>(&req)?;
            match lazy.caller(&req).await {
                Ok(caller) => Ok(MaybeAuthenticated(caller.map(Authenticated))),
                Err(fault) => Err(lazy.error(fault)),
            }
        })
    }
}

/// The verified token of a request, without loading its user: for handlers
/// that only need the claims. The 401s are the protected routes' (no
/// credentials, bad header, no valid token type); user checks are not made.
///
/// It needs [`JwtMiddleware`](crate::JwtMiddleware) for user type `U`.
#[derive(Clone, Debug)]
pub struct VerifiedToken<U> {
    token: Token,
    user_type: std::marker::PhantomData<fn() -> U>,
}

impl<U> VerifiedToken<U> {
    /// The token.
    pub fn token(&self) -> &Token {
        &self.token
    }

    /// The token, by value.
    pub fn into_token(self) -> Token {
        self.token
    }
}

impl<U> Deref for VerifiedToken<U> {
    type Target = Token;

    fn deref(&self) -> &Token {
        &self.token
    }
}

impl<U: 'static> FromRequest for VerifiedToken<U> {
    type Error = ApiError;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let lazy = lazy::<U>(&req)?;
            match lazy.token(&req).await {
                Ok(Some(token)) => Ok(VerifiedToken {
                    token,
                    user_type: std::marker::PhantomData,
                }),
                Ok(None) => Err(lazy.error(Failure::NotAuthenticated)),
                Err(fault) => Err(lazy.error(fault)),
            }
        })
    }
}
