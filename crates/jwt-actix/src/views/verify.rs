//! `POST verify/`: is this token (of any type) valid?

use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

use super::jwt_auth;
use crate::body::{FieldReader, RequestData, Trim};
use crate::error::ApiError;
use crate::store::UserStore;

/// `{"token"}` → `{}` when the token's signature, expiry and claims are
/// valid, whatever its type. Its user is not checked (as the Django package).
pub async fn verify<S: UserStore>(
    req: HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    let jwt = jwt_auth::<S>(&req)?;
    let messages = jwt.messages();
    let data = RequestData::read(&req, payload, jwt.settings().max_body_bytes, messages).await?;
    let mut fields = FieldReader::new(&data, messages);
    let raw = fields.string("token", Trim::Yes);
    fields.finish()?;
    let Some(raw) = raw else {
        return Err(ApiError::internal(messages));
    };
    jwt.tokens()
        .verify_untyped(&raw)
        .map_err(|err| ApiError::token(messages, &err))?;
    Ok(HttpResponse::Ok().json(json!({})))
}
