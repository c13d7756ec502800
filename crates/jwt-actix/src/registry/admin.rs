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

use actix_web::dev::Payload as DevPayload;
use actix_web::web::{self, Payload};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use jwt_registry::types::Moment;
use jwt_registry::{Reach, TokenInfo, TokenQuery, TokenState};
use serde_json::{Value, json};

use super::calls::{RegistryOf, run};
use crate::body::{FieldReader, RequestData};
use crate::error::ApiError;
use crate::extractors::Authenticated;
use crate::failure::{Failure, FieldError};
use crate::fault::Fault;
use crate::request::read_body;
use crate::state::JwtAuth;
use crate::store::UserStore;

/// Tokens per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest `limit` accepted.
pub const MAX_LIMIT: u32 = 1000;

/// An administrator's request, as the app designates them
/// ([`UserStore::is_admin`]): 401 without credentials, 403 for anyone else.
pub struct Administrator<S: UserStore>(Authenticated<S::User>);

impl<S: UserStore> Administrator<S> {
    /// The administrator.
    pub fn user(&self) -> &S::User {
        self.0.user()
    }
}

impl<S: UserStore> FromRequest for Administrator<S> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut DevPayload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let auth = Authenticated::<S::User>::extract(&req).await?;
            let jwt = JwtAuth::<S>::extract(&req).await?;
            if jwt.store().is_admin(auth.user()) {
                Ok(Administrator(auth))
            } else {
                Err(jwt.error(Failure::PermissionDenied))
            }
        })
    }
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
fn token_query(req: &HttpRequest) -> Result<TokenQuery, Fault> {
    let params = RequestData::from_form(req.query_string().as_bytes());
    let text = |name: &str| params.get(name).and_then(Value::as_str).map(str::to_owned);
    let mut errors: Vec<(String, FieldError)> = Vec::new();
    let state = match text("state").as_deref() {
        None | Some("" | "all") => None,
        Some(name) => TokenState::parse(name).or_else(|| {
            errors.push(("state".into(), FieldError::InvalidChoice(name.to_owned())));
            None
        }),
    };
    let mut number = |name: &'static str, default: u32, max: u32| {
        let refused = match text(name) {
            None => return default,
            Some(value) => match value.trim().parse::<i64>() {
                Ok(number) if number < 0 => FieldError::TooSmall(0),
                Ok(number) if number <= i64::from(max) => {
                    return u32::try_from(number).unwrap_or(default);
                }
                Ok(_) => FieldError::TooLarge(i64::from(max)),
                Err(_) => FieldError::NotAnInteger,
            },
        };
        errors.push((name.into(), refused));
        default
    };
    let limit = number("limit", DEFAULT_LIMIT, MAX_LIMIT);
    let offset = number("offset", 0, u32::MAX);
    if !errors.is_empty() {
        return Err(Fault::invalid_fields(errors));
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
    jwt: JwtAuth<S>,
    registry: RegistryOf<S>,
    req: HttpRequest,
    _admin: Administrator<S>,
    user_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let answer = async {
        let query = token_query(&req)?;
        let registry = registry.cloned();
        let user_id = user_id.into_inner();
        let page = run(move || registry.tokens_of_user(&user_id, query)).await?;
        Ok(HttpResponse::Ok().json(json!({
            "count": page.count,
            "results": page.tokens.iter().map(token_json).collect::<Vec<_>>(),
        })))
    };
    answer.await.map_err(|fault: Fault| jwt.error(fault))
}

/// `GET admin/tokens/{jti}/` → 200 `{"token", "tree"}`: the token and its
/// whole login tree, oldest first; 404 when the registry has no such token.
pub async fn admin_token<S: UserStore>(
    jwt: JwtAuth<S>,
    registry: RegistryOf<S>,
    _admin: Administrator<S>,
    jti: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let answer = async {
        let registry = registry.cloned();
        let jti = jti.into_inner();
        let found = run(move || registry.token_tree(&jti)).await?;
        let Some((token, tree)) = found else {
            return Err(Failure::NotFound.into());
        };
        Ok(HttpResponse::Ok().json(json!({
            "token": token_json(&token),
            "tree": tree.iter().map(token_json).collect::<Vec<_>>(),
        })))
    };
    answer.await.map_err(|fault: Fault| jwt.error(fault))
}

/// `POST admin/tokens/{jti}/expire/` `{"affect_tree": false}` → 200
/// `{"expired": n}`, how many tokens this force-expired (0 when they
/// already were); 404 when the registry has no such token.
pub async fn admin_expire_token<S: UserStore>(
    jwt: JwtAuth<S>,
    registry: RegistryOf<S>,
    req: HttpRequest,
    _admin: Administrator<S>,
    jti: web::Path<String>,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    let answer = async {
        let data = read_body(&jwt, &req, payload).await?;
        let mut fields = FieldReader::new(&data);
        let affect_tree = fields.boolean("affect_tree", false);
        let reach = match fields.finish_with(affect_tree)? {
            true => Reach::Tree,
            false => Reach::Token,
        };
        let registry = registry.cloned();
        let jti = jti.into_inner();
        let expired = run(move || registry.expire_jti(&jti, reach)).await?;
        let Some(expired) = expired else {
            return Err(Failure::NotFound.into());
        };
        Ok(HttpResponse::Ok().json(json!({ "expired": expired })))
    };
    answer.await.map_err(|fault: Fault| jwt.error(fault))
}

/// `POST admin/users/{user_id}/expire/` → 200 `{"expired": n}`: every
/// token of the user issued until now is refused (a cut-off, registered or
/// not), and the `n` registered ones still active are force-expired. The
/// answer comes once the current second is over (`iat` counts whole
/// seconds), so the user's next login works.
pub async fn admin_expire_user<S: UserStore>(
    jwt: JwtAuth<S>,
    registry: RegistryOf<S>,
    _admin: Administrator<S>,
    user_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let registry = registry.cloned();
    let user_id = user_id.into_inner();
    let ended = run(move || registry.expire_user(&user_id))
        .await
        .map_err(|fault| jwt.error(fault))?;
    actix_web::rt::time::sleep(ended.settles_in).await;
    Ok(HttpResponse::Ok().json(json!({ "expired": ended.expired })))
}
