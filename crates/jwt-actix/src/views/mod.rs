//! The token views. Each is a plain async handler; an app replacing one can
//! call the others' building blocks ([`JwtAuth::authenticate`](crate::JwtAuth::authenticate),
//! [`RequestData`](crate::RequestData), the events).

mod obtain;
mod refresh;
mod verify;

pub use obtain::obtain;
pub use refresh::refresh;
pub use verify::verify;

use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};

use crate::auth::JwtAuth;
use crate::body::{FieldReader, Forms, RequestData, Trim};
use crate::error::ApiError;
use crate::messages::Messages;
use crate::store::UserStore;

/// The [`JwtAuth`] the routes registered as app data.
pub fn jwt_auth<S: UserStore>(req: &HttpRequest) -> Result<JwtAuth<S>, ApiError> {
    req.app_data::<JwtAuth<S>>().cloned().ok_or_else(|| {
        tracing::error!("a token view ran without its JwtAuth: mount it with JwtAuth::token_routes().configure()");
        ApiError::internal(&Messages::default())
    })
}

/// The JSON 405 of the token routes (`Allow: POST`).
pub async fn post_only<S: UserStore>(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    method_only::<S>(&req, "POST")
}

/// The JSON 405 of `GET`-only token routes (`Allow: GET`).
pub async fn get_only<S: UserStore>(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    method_only::<S>(&req, "GET")
}

fn method_only<S: UserStore>(
    req: &HttpRequest,
    allow: &'static str,
) -> Result<HttpResponse, ApiError> {
    let jwt = jwt_auth::<S>(req)?;
    Err(ApiError::method_not_allowed(
        jwt.messages(),
        req.method().as_str(),
        allow,
    ))
}

/// `GET .well-known/jwks.json` → 200 `{"keys": [...]}`: the public keys
/// tokens are verified with (the current one first, then those kept during
/// a rotation), each with its `kid`; empty for HMAC keys, which are never
/// published. Clients may cache it for five minutes.
pub async fn jwks<S: UserStore>(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let jwt = jwt_auth::<S>(&req)?;
    Ok(HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=300",
        ))
        .json(jwt.jwks()))
}

/// The body of a token view, read with the configured limit; forms are
/// refused (415) in cookie mode.
pub(crate) async fn read_body<S: UserStore>(
    jwt: &JwtAuth<S>,
    req: &HttpRequest,
    payload: Payload,
) -> Result<RequestData, ApiError> {
    let forms = if crate::cookies::cookie_mode(jwt) {
        Forms::Refused
    } else {
        Forms::Accepted
    };
    let limit = jwt.settings().max_body_bytes;
    RequestData::read_accepting(req, payload, limit, jwt.messages(), forms).await
}

/// The one token field of `refresh/` and `verify/`.
pub(crate) async fn read_token_field<S: UserStore>(
    jwt: &JwtAuth<S>,
    req: &HttpRequest,
    payload: Payload,
    name: &'static str,
) -> Result<String, ApiError> {
    let data = read_body(jwt, req, payload).await?;
    let mut fields = FieldReader::new(&data, jwt.messages());
    let token = fields.string(name, Trim::Yes);
    fields.finish_with(token)
}

/// Logs a token error that should not happen and gives the 500.
pub(crate) fn internal(messages: &Messages, what: &str, err: &jwt_core::Error) -> ApiError {
    tracing::error!(reason = err.reason(), "{what}");
    ApiError::internal(messages)
}

/// A signed token, ready for the answer and the events.
pub(crate) fn issue(
    jwt: &JwtAuth<impl UserStore>,
    token: jwt_core::Token,
) -> Result<crate::IssuedToken, ApiError> {
    let encoded = jwt
        .tokens()
        .encode(&token)
        .map_err(|err| internal(jwt.messages(), "a token could not be signed", &err))?;
    Ok(crate::IssuedToken::new(token, encoded))
}
