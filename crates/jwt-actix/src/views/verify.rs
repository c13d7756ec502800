//! `POST verify/`: is this token (of any type) valid?

use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

use super::{jwt_auth, read_token_field};
use crate::error::ApiError;
use crate::guard::GuardPoint;
use crate::store::UserStore;

/// `{"token"}` → `{}` when the token's signature, expiry and claims are
/// valid, whatever its type. Its user is not checked (as the Django package).
pub async fn verify<S: UserStore>(
    req: HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    let jwt = jwt_auth::<S>(&req)?;
    let raw = read_token_field(&jwt, &req, payload, "token").await?;
    let token = jwt
        .tokens()
        .verify_untyped(&raw)
        .map_err(|err| ApiError::token(jwt.messages(), &err))?;
    jwt.check_token(&token, GuardPoint::Verify).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}
