//! `POST expire/`: force-expire a token, or its whole login tree.

use actix_web::web::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use jwt_registry::{Reach, TokenRecord};
use serde_json::json;

use super::calls::{RegistryOf, presented_job, run};
use crate::body::{FieldReader, Trim};
use crate::error::ApiError;
use crate::extractors::Authenticated;
use crate::failure::FieldError;
use crate::fault::Fault;
use crate::request::read_body;
use crate::state::JwtAuth;
use crate::store::UserStore;

/// `{"token", "affect_tree": false}` → `{}`. The token may be of any type
/// of `[tokens] token_types`; one that is invalid, expired or already
/// force-expired is 400 `{"token":["Token is no longer valid."]}`. With
/// `[registry] expire_requires_auth` the request must carry an access token
/// of the same user.
pub async fn expire<S: UserStore>(
    jwt: JwtAuth<S>,
    registry: RegistryOf<S>,
    req: HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    expired(&jwt, &registry, &req, payload)
        .await
        .map_err(|fault| jwt.error(fault))
}

async fn expired<S: UserStore>(
    jwt: &JwtAuth<S>,
    registry: &RegistryOf<S>,
    req: &HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, Fault> {
    let data = read_body(jwt, req, payload).await?;
    let mut fields = FieldReader::new(&data);
    let raw = fields.string("token", Trim::Yes);
    let affect_tree = fields.boolean("affect_tree", false);

    // The token field is valid only for a token that is still valid.
    let mut target = None;
    if let Some(raw) = &raw {
        let token = jwt
            .tokens()
            .verify_any(raw, jwt.tokens().token_types())
            .ok();
        let expirable = match &token {
            Some(token) => {
                run(presented_job(registry, token, |registry, presented| {
                    registry.expirable(presented)
                }))
                .await?
            }
            None => false,
        };
        match token {
            Some(token) if expirable => target = Some(token),
            _ => fields.refuse("token", FieldError::TokenExpired),
        }
    }
    let (token, affect_tree) = fields.finish_with(target.zip(affect_tree))?;

    if registry.settings().expire_requires_auth {
        let auth = Authenticated::<S::User>::extract(req).await?;
        let owner = token.user_id().map(ToString::to_string);
        let caller = jwt.store().user_id(auth.user()).to_string();
        if !registry.may_expire(owner.as_deref(), Some(&caller)) {
            return Err(Fault::invalid_fields(vec![(
                "token".to_owned(),
                FieldError::TokenExpired,
            )]));
        }
    }
    let record = TokenRecord::new(&token, raw.as_deref().unwrap_or_default());
    let reach = if affect_tree {
        Reach::Tree
    } else {
        Reach::Token
    };
    let registry = registry.cloned();
    run(move || registry.expire(&[record], reach, &[])).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}
