//! The token views. Each is a plain async handler taking the app's
//! [`JwtAuth`] as an extractor; an app replacing one can call the others'
//! building blocks ([`JwtAuth::authenticate`], [`RequestData`](crate::RequestData),
//! the events) and answer a [`Fault`] with [`JwtAuth::error`].

mod obtain;
mod refresh;
mod verify;

pub use obtain::obtain;
pub use refresh::refresh;
pub use verify::verify;

use actix_web::{HttpRequest, HttpResponse};

use crate::error::ApiError;
use crate::events::IssuedToken;
use crate::failure::Failure;
use crate::fault::Fault;
use crate::state::JwtAuth;
use crate::store::UserStore;

/// The JSON 405 of the token routes (`Allow: POST`).
pub async fn post_only<S: UserStore>(
    jwt: JwtAuth<S>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    Err(jwt.error(Fault::method_not_allowed(req.method().as_str(), "POST")))
}

/// The JSON 405 of `GET`-only token routes (`Allow: GET`).
pub async fn get_only<S: UserStore>(
    jwt: JwtAuth<S>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    Err(jwt.error(Fault::method_not_allowed(req.method().as_str(), "GET")))
}

/// `GET .well-known/jwks.json` → 200 `{"keys": [...]}`: the public keys
/// tokens are verified with (the current one first, then those kept during
/// a rotation), each with its `kid`; empty for HMAC keys, which are never
/// published. Clients may cache it for five minutes.
pub async fn jwks<S: UserStore>(jwt: JwtAuth<S>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=300",
        ))
        .json(jwt.jwks())
}

/// Logs a token error that should not happen and gives the 500.
pub(crate) fn internal(what: &str, err: &jwt_core::Error) -> Fault {
    tracing::error!(reason = err.reason(), "{what}");
    Failure::Internal.into()
}

/// A signed token, ready for the answer and the events.
pub(crate) fn issue(
    jwt: &JwtAuth<impl UserStore>,
    token: jwt_core::Token,
) -> Result<IssuedToken, Fault> {
    let encoded = jwt
        .tokens()
        .encode(&token)
        .map_err(|err| internal("a token could not be signed", &err))?;
    Ok(IssuedToken::new(token, encoded))
}
