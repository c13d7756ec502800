//! `POST refresh/`: a refresh token in, an access token (and, with
//! rotation, a new refresh token) out.

use std::sync::Arc;

use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

use super::{internal, issue};
use crate::check::CheckPoint;
use crate::cookies::{self, Csrf};
use crate::error::ApiError;
use crate::events::{IssuedToken, TokenPair, TokenRefreshed, request_info};
use crate::failure::Failure;
use crate::fault::Fault;
use crate::request::{read_body, read_token_field};
use crate::state::JwtAuth;
use crate::store::UserStore;

/// `{"refresh"}` → `{"access"}`, plus `"refresh"` with rotation. The token
/// must be a valid refresh token of an existing, active user whose
/// tokens-valid-since cut-off it postdates. With the registry and
/// `[auth] reuse_detection` it works once (a replay force-expires its login
/// tree: 401 `token_expired`); with `session_max_lifetime` not after the
/// login is that old.
///
/// In cookie mode the refresh token comes from its cookie (401 "not
/// provided" without one; the body, JSON only, is not read for a token),
/// the request needs the CSRF header once the token and its user are
/// checked, and the answer is `{}` with the new tokens in cookies.
pub async fn refresh<S: UserStore>(
    jwt: JwtAuth<S>,
    req: HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    refreshed(&jwt, &req, payload)
        .await
        .map_err(|fault| jwt.error(fault))
}

async fn refreshed<S: UserStore>(
    jwt: &JwtAuth<S>,
    req: &HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, Fault> {
    let cookie_mode = jwt.cookie_mode();
    let raw = if cookie_mode {
        read_body(jwt, req, payload).await?;
        cookies::cookie(req, cookies::REFRESH_COOKIE)
            .map(str::to_owned)
            .ok_or(Failure::NotAuthenticated)?
    } else {
        read_token_field(jwt, req, payload, "refresh").await?
    };

    let tokens = jwt.tokens();
    let presented = tokens
        .verify(&raw, tokens.refresh_type())
        .map_err(|err| Fault::token(&err))?;
    jwt.check_token(&presented, CheckPoint::Refresh).await?;
    let user = jwt.load_user(&presented).await?;
    if cookie_mode {
        // After authentication, before anything is spent (DRF's order).
        cookies::check_csrf(req)?;
    }
    #[cfg(feature = "registry")]
    crate::registry::spend(jwt, &presented, &raw).await?;
    let access = tokens
        .access_from(&presented)
        .map_err(|err| internal("an access token could not be derived", &err))?;
    let rotated = if jwt.settings().rotate_refresh_tokens {
        Some(
            tokens
                .rotate(&presented)
                .map_err(|err| internal("a refresh token could not be rotated", &err))?,
        )
    } else {
        None
    };
    let access = Arc::new(issue(jwt, access)?);
    let rotated = rotated
        .map(|token| issue(jwt, token))
        .transpose()?
        .map(Arc::new);
    let presented = Arc::new(IssuedToken::new(presented, raw));

    if jwt.has_listeners() {
        let pairs = match &rotated {
            None => vec![TokenPair {
                token: Arc::clone(&access),
                parent: Some(Arc::clone(&presented)),
            }],
            Some(new_refresh) => vec![
                TokenPair {
                    token: Arc::clone(&access),
                    parent: Some(Arc::clone(new_refresh)),
                },
                TokenPair {
                    token: Arc::clone(new_refresh),
                    parent: Some(Arc::clone(&presented)),
                },
            ],
        };
        let event = TokenRefreshed {
            pairs,
            refresh: Arc::clone(&presented),
            rotated: rotated.is_some(),
            user_id: jwt.store().user_id(&user),
            user,
            request: request_info(req),
        };
        jwt.emit_refreshed(&event).await?;
    }
    if cookie_mode {
        let mut response = HttpResponse::Ok();
        let session: &IssuedToken = rotated.as_deref().unwrap_or(&presented);
        cookies::set_tokens(
            jwt,
            req,
            &mut response,
            &access,
            rotated.as_deref(),
            session,
            Csrf::Keep,
        )?;
        return Ok(response.json(json!({})));
    }
    let body = match &rotated {
        Some(new_refresh) => {
            json!({ "access": access.encoded(), "refresh": new_refresh.encoded() })
        }
        None => json!({ "access": access.encoded() }),
    };
    Ok(HttpResponse::Ok().json(body))
}
