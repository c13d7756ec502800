//! `POST verify/`: is this token (of any type) valid?

use actix_web::http::header::ContentType;
use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};

use crate::check::CheckPoint;
use crate::error::ApiError;
use crate::fault::Fault;
use crate::request::read_token_field;
use crate::state::JwtAuth;
use crate::store::UserStore;

/// `{"token"}` → `{}` when the token's signature, expiry and claims are
/// valid, whatever its type. Its user is not checked (as the Django package).
pub async fn verify<S: UserStore>(
    jwt: JwtAuth<S>,
    req: HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    verified(&jwt, &req, payload)
        .await
        .map_err(|fault| jwt.error(fault))
}

async fn verified<S: UserStore>(
    jwt: &JwtAuth<S>,
    req: &HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, Fault> {
    let raw = read_token_field(jwt, req, payload, "token").await?;
    let token = jwt
        .tokens()
        .verify_untyped(&raw)
        .map_err(|err| Fault::token(&err))?;
    jwt.check_token(&token, CheckPoint::Verify).await?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .body("{}"))
}
