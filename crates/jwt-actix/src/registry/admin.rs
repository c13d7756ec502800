//! The admin API (feature `registry`, mounted with
//! [`TokenRoutes::admin`](crate::TokenRoutes::admin)): an administrator the
//! app designates ([`UserStore::is_admin`]) lists anyone's tokens with their
//! tree, device and state, and force-expires a token, a tree or all of a
//! user's tokens. Anyone else gets 403, an anonymous caller 401.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET admin/users/{user_id}/tokens/?state=&limit=&offset=` | 200 `{"count": n, "results": [token...]}`, newest first |
//! | `GET admin/tokens/{jti}/` | 200 `{"token": token, "tree": [token...]}`, the tree oldest first; 404 |
//! | `POST admin/tokens/{jti}/expire/` `{"affect_tree": bool = false}` | 200 `{"expired": n}`; 404 |
//! | `POST admin/users/{user_id}/expire/` | 200 `{"expired": n}` |

use actix_web::web::{self, Payload};
use actix_web::{HttpRequest, HttpResponse};
use jwt_registry::types::Moment;
use jwt_registry::{TokenInfo, TokenQuery, TokenState};
use serde_json::{Value, json};

use super::{blocking, registry_of};
use crate::auth::JwtAuth;
use crate::body::{FieldReader, RequestData};
use crate::error::ApiError;
use crate::extractors::Authenticated;
use crate::store::UserStore;
use crate::views::{jwt_auth, read_body};

/// Tokens per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest `limit` accepted.
pub const MAX_LIMIT: u32 = 1000;

/// The app's `JwtAuth` for an administrator's request; 403 for anyone else.
fn admin<S: UserStore>(
    req: &HttpRequest,
    auth: &Authenticated<S::User>,
) -> Result<JwtAuth<S>, ApiError> {
    let jwt = jwt_auth::<S>(req)?;
    if !jwt.store().is_admin(auth.user()) {
        return Err(ApiError::permission_denied(jwt.messages()));
    }
    Ok(jwt)
}

fn token_json(token: &TokenInfo) -> Value {
    json!({
        "id": token.id.to_string(),
        "jti": token.jti,
        "token_type": token.token_type,
        "user_id": token.user_id,
        "parent_id": token.parent_id.map(|id| id.to_string()),
        "created_at": token.created_at.to_rfc3339(),
        "expires_at": token.expires_at.to_rfc3339(),
        "force_expired_at": token.force_expired_at.as_ref().map(Moment::to_rfc3339),
        "state": token.state.as_str(),
        "app": token.details.as_ref().and_then(|d| d.app.clone()),
        "os": token.details.as_ref().and_then(|d| d.os.clone()),
        "device": token.details.as_ref().and_then(|d| d.device.clone()),
        "ip": token.details.as_ref().and_then(|d| d.ip.clone()),
    })
}

/// The query string's `state`, `limit` and `offset`, with DRF's messages
/// for bad values (400, one key per bad parameter).
fn token_query(req: &HttpRequest) -> Result<TokenQuery, ApiError> {
    let params = RequestData::from_form(req.query_string().as_bytes());
    let text = |name: &str| params.get(name).and_then(Value::as_str).map(str::to_owned);
    let mut errors: Vec<(&str, String)> = Vec::new();
    let state = match text("state").as_deref() {
        None | Some("" | "all") => None,
        Some(name) => TokenState::parse(name).or_else(|| {
            errors.push(("state", format!("\"{name}\" is not a valid choice.")));
            None
        }),
    };
    let mut number = |name: &'static str, default: u32, max: u32| match text(name) {
        None => default,
        Some(value) => match value.trim().parse::<i64>() {
            Ok(number) if number < 0 => {
                errors.push((
                    name,
                    "Ensure this value is greater than or equal to 0.".to_owned(),
                ));
                default
            }
            Ok(number) if number <= i64::from(max) => u32::try_from(number).unwrap_or(default),
            Ok(_) => {
                errors.push((
                    name,
                    format!("Ensure this value is less than or equal to {max}."),
                ));
                default
            }
            Err(_) => {
                errors.push((name, "A valid integer is required.".to_owned()));
                default
            }
        },
    };
    let limit = number("limit", DEFAULT_LIMIT, MAX_LIMIT);
    let offset = number("offset", 0, u32::MAX);
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(&errors));
    }
    Ok(TokenQuery {
        state,
        limit,
        offset,
    })
}

/// `GET admin/users/{user_id}/tokens/` → 200 `{"count", "results"}`: the
/// user's tokens, newest first, `state` (`active`, `expired`,
/// `force_expired`; default all), `limit` (default 100, at most 1000) and
/// `offset` from the query string.
pub async fn admin_user_tokens<S: UserStore>(
    req: HttpRequest,
    auth: Authenticated<S::User>,
    user_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let jwt = admin::<S>(&req, &auth)?;
    let query = token_query(&req)?;
    let registry = registry_of(&jwt)?;
    let user_id = user_id.into_inner();
    let page = blocking(&jwt, move || registry.tokens_of_user(&user_id, query)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "count": page.count,
        "results": page.tokens.iter().map(token_json).collect::<Vec<_>>(),
    })))
}

/// `GET admin/tokens/{jti}/` → 200 `{"token", "tree"}`: the token and its
/// whole login tree, oldest first; 404 when the registry has no such token.
pub async fn admin_token<S: UserStore>(
    req: HttpRequest,
    auth: Authenticated<S::User>,
    jti: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let jwt = admin::<S>(&req, &auth)?;
    let registry = registry_of(&jwt)?;
    let jti = jti.into_inner();
    let found = blocking(&jwt, move || registry.token_tree(&jti)).await?;
    let Some((token, tree)) = found else {
        return Err(ApiError::not_found(jwt.messages()));
    };
    Ok(HttpResponse::Ok().json(json!({
        "token": token_json(&token),
        "tree": tree.iter().map(token_json).collect::<Vec<_>>(),
    })))
}

/// `POST admin/tokens/{jti}/expire/` `{"affect_tree": false}` → 200
/// `{"expired": n}`, how many tokens this force-expired (0 when they
/// already were); 404 when the registry has no such token.
pub async fn admin_expire_token<S: UserStore>(
    req: HttpRequest,
    auth: Authenticated<S::User>,
    jti: web::Path<String>,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    let jwt = admin::<S>(&req, &auth)?;
    let data = read_body(&jwt, &req, payload).await?;
    let mut fields = FieldReader::new(&data, jwt.messages());
    let affect_tree = fields.boolean("affect_tree", false);
    let affect_tree = fields.finish_with(affect_tree)?;
    let registry = registry_of(&jwt)?;
    let jti = jti.into_inner();
    let expired = blocking(&jwt, move || registry.expire_jti(&jti, affect_tree)).await?;
    let Some(expired) = expired else {
        return Err(ApiError::not_found(jwt.messages()));
    };
    Ok(HttpResponse::Ok().json(json!({ "expired": expired })))
}

/// `POST admin/users/{user_id}/expire/` → 200 `{"expired": n}`: every
/// token of the user issued until now is refused (a cut-off, registered or
/// not), and the `n` registered ones still active are force-expired. The
/// answer comes once the current second is over (`iat` counts whole
/// seconds), so the user's next login works.
pub async fn admin_expire_user<S: UserStore>(
    req: HttpRequest,
    auth: Authenticated<S::User>,
    user_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let jwt = admin::<S>(&req, &auth)?;
    let registry = registry_of(&jwt)?;
    let user_id = user_id.into_inner();
    let ended = blocking(&jwt, move || registry.expire_user(&user_id)).await?;
    actix_web::rt::time::sleep(ended.settles_in).await;
    Ok(HttpResponse::Ok().json(json!({ "expired": ended.expired })))
}
