//! `POST expire/`: force-expire a token, or its whole login tree.

use actix_web::web::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use jwt_registry::{TokenRecord, TokenStatus};
use serde_json::json;

use crate::body::{FieldReader, Trim};
use crate::error::ApiError;
use crate::extractors::Authenticated;
use crate::store::UserStore;
use crate::views::{jwt_auth, read_body};

use super::{blocking, registry_of};

/// `{"token", "affect_tree": false}` → `{}`. The token may be of any type
/// of `[tokens] token_types`; one that is invalid, expired or already
/// force-expired is 400 `{"token":["Token is no longer valid."]}`. With
/// `[registry] expire_requires_auth` the request must carry an access token
/// of the same user.
pub async fn expire<S: UserStore>(
    req: HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    let jwt = jwt_auth::<S>(&req)?;
    let messages = jwt.messages();
    let registry = registry_of(&jwt)?;
    let data = read_body(&jwt, &req, payload).await?;
    let mut fields = FieldReader::new(&data, messages);
    let raw = fields.string("token", Trim::Yes);
    let affect_tree = fields.boolean("affect_tree", false);

    // The token field is valid only for a token that is still valid.
    let mut target = None;
    if let Some(raw) = &raw {
        let token = jwt
            .tokens()
            .verify_any(raw, jwt.tokens().token_types())
            .ok();
        let status = match &token {
            Some(token) => blocking(&jwt, super::status_job(&registry, token, true)).await?,
            None => TokenStatus::ForceExpired,
        };
        match (token, status) {
            (Some(token), TokenStatus::Registered | TokenStatus::Unknown) => target = Some(token),
            _ => fields.refuse("token", &messages.token_expired),
        }
    }
    let (token, affect_tree) = fields.finish_with(target.zip(affect_tree))?;

    if registry.settings().expire_requires_auth {
        let auth = Authenticated::<S::User>::extract(&req).await?;
        let same_user = token
            .user_id()
            .is_some_and(|id| *id == jwt.store().user_id(auth.user()));
        if !same_user {
            return Err(ApiError::invalid_fields(&[(
                "token",
                messages.token_expired.to_string(),
            )]));
        }
    }
    let record = TokenRecord::new(&token, raw.as_deref().unwrap_or_default());
    blocking(&jwt, move || registry.expire(&[record], affect_tree, &[])).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}
