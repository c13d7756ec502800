//! The sessions routes (docs/http-api.md "Sessions and logout"): a user sees the
//! devices they are logged in on and cuts any of them off. Each answers
//! only for an authenticated request (the middleware must wrap them), and
//! only about the caller's own sessions.

use actix_web::http::StatusCode;
use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use jwt_registry::types::{Moment, RowId};
use jwt_registry::{EndSessions, Session, TokenRecord};
use serde_json::{Value, json};

use super::calls::{RegistryOf, run};
use crate::body::{FieldReader, Trim};
use crate::cookies;
use crate::credentials::{has_header_token, presented_raw};
use crate::error::ApiError;
use crate::extractors::Authenticated;
use crate::failure::{Failure, FieldError};
use crate::fault::Fault;
use crate::request::read_body;
use crate::state::JwtAuth;
use crate::store::UserStore;

fn session_json(session: &Session) -> Value {
    json!({
        "id": session.id.to_string(),
        "created_at": session.created_at.to_rfc3339(),
        "refreshed_at": session.refreshed_at.as_ref().map(Moment::to_rfc3339),
        "expires_at": session.expires_at.to_rfc3339(),
        "app": session.details.app,
        "os": session.details.os,
        "device": session.details.device,
        "ip": session.details.ip,
        "current": session.current,
    })
}

/// The caller: their user id as the registry stores it, and their token.
fn caller<S: UserStore>(jwt: &JwtAuth<S>, auth: &Authenticated<S::User>) -> (String, String) {
    (
        jwt.store().user_id(auth.user()).to_string(),
        auth.token().jti().to_owned(),
    )
}

/// `GET sessions/` → 200, the caller's sessions (login trees with an active
/// refresh token), newest first, with the app, OS, device and IP of each
/// one's newest token and `current` for the one the request's token is of.
pub async fn sessions<S: UserStore>(
    jwt: JwtAuth<S>,
    registry: RegistryOf<S>,
    auth: Authenticated<S::User>,
) -> Result<HttpResponse, ApiError> {
    let (user, jti) = caller(&jwt, &auth);
    let registry = registry.cloned();
    let sessions = run(move || registry.sessions(&user, Some(&jti)))
        .await
        .map_err(|fault| jwt.error(fault))?;
    Ok(HttpResponse::Ok().json(sessions.iter().map(session_json).collect::<Vec<_>>()))
}

/// `DELETE sessions/{id}/` → 204, the session force-expired; 404 for an id
/// that is not one of the caller's live sessions (never a hint that it
/// exists).
pub async fn end_session<S: UserStore>(
    jwt: JwtAuth<S>,
    registry: RegistryOf<S>,
    auth: Authenticated<S::User>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let Ok(id) = id.parse::<RowId>() else {
        return Err(jwt.error(Failure::NotFound));
    };
    let (user, _) = caller(&jwt, &auth);
    let registry = registry.cloned();
    let ended = run(move || registry.end_sessions(&user, EndSessions::One(id)))
        .await
        .map_err(|fault| jwt.error(fault))?;
    if ended.sessions == 0 {
        return Err(jwt.error(Failure::NotFound));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `POST sessions/revoke-others/` → 200 `{"revoked": n}`: every session of
/// the caller but the current one (and every other token of theirs the
/// registry knows).
pub async fn revoke_others<S: UserStore>(
    jwt: JwtAuth<S>,
    registry: RegistryOf<S>,
    auth: Authenticated<S::User>,
) -> Result<HttpResponse, ApiError> {
    let (user, jti) = caller(&jwt, &auth);
    let registry = registry.cloned();
    let ended =
        run(move || registry.end_sessions(&user, EndSessions::Others { current_jti: &jti }))
            .await
            .map_err(|fault| jwt.error(fault))?;
    Ok(HttpResponse::Ok().json(json!({ "revoked": ended.sessions })))
}

/// `POST logout/` `{"refresh": "<token>"}` (optional) → 204. The presented
/// access token is refused from now on whatever the registry knew of it
/// (recorded force-expired if it never saw it), and so is its whole login;
/// the named refresh token — the caller's own — and its login too. That is
/// the only way to reach a refresh token the registry never saw (one
/// minted by another backend sharing the key): an access token carries no
/// link to its refresh token. A `refresh` that is not a valid refresh
/// token of the caller is 400 `{"refresh":["Token is invalid or expired"]}`
/// and nothing changes.
///
/// In cookie mode the refresh cookie is the named refresh token (the body
/// is not read for one), the token cookies are removed, and a request
/// whose access cookie has run out is answered through its refresh cookie
/// (with the CSRF header), so a browser can always log out; when that
/// cookie holds no valid token either the 401 still clears the cookies.
pub async fn logout<S: UserStore>(
    jwt: JwtAuth<S>,
    registry: RegistryOf<S>,
    req: HttpRequest,
    payload: Payload,
    auth: Result<Authenticated<S::User>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    logged_out(&jwt, &registry, &req, payload, auth)
        .await
        .map_err(|fault| jwt.error(fault))
}

async fn logged_out<S: UserStore>(
    jwt: &JwtAuth<S>,
    registry: &RegistryOf<S>,
    req: &HttpRequest,
    payload: Payload,
    auth: Result<Authenticated<S::User>, ApiError>,
) -> Result<HttpResponse, Fault> {
    let cookie_mode = jwt.cookie_mode();
    let (user, mut tokens) = match auth {
        Ok(auth) => {
            let (user, _) = caller(jwt, &auth);
            let raw = presented_raw(jwt, req).unwrap_or_default();
            (user, vec![TokenRecord::new(auth.token(), raw)])
        }
        // A browser whose access cookie failed: its refresh cookie names
        // the session. Header clients and requests without the cookie get
        // the refusal as it is.
        Err(refused)
            if cookie_mode
                && refused.status() == StatusCode::UNAUTHORIZED
                && !has_header_token(jwt, req)
                && cookies::cookie(req, cookies::REFRESH_COOKIE).is_some() =>
        {
            cookies::check_csrf(req)?;
            match refresh_cookie_session(jwt, req) {
                Some((user, record)) => (user, vec![record]),
                None => {
                    let mut response = refused.error_response();
                    cookies::clear_tokens_of(req, response.headers_mut());
                    return Ok(response);
                }
            }
        }
        Err(refused) => return Err(refused.into()),
    };
    let data = read_body(jwt, req, payload).await?;
    if cookie_mode {
        if let Some((owner, record)) = refresh_cookie_session(jwt, req)
            && owner == user
            && !tokens.contains(&record)
        {
            tokens.push(record);
        }
    } else {
        let mut fields = FieldReader::new(&data);
        let named = fields.optional_string("refresh", Trim::Yes);
        if let Some(Some(raw)) = &named {
            match refresh_token(jwt, raw) {
                Some((owner, record)) if owner == user => tokens.push(record),
                _ => fields.refuse("refresh", FieldError::TokenInvalid),
            }
        }
        fields.finish()?;
    }
    let registry = registry.cloned();
    run(move || registry.logout(&user, &tokens)).await?;
    let mut response = HttpResponse::NoContent();
    if cookie_mode {
        cookies::clear_tokens(req, &mut response);
    }
    Ok(response.finish())
}

/// The user and record of `raw` when it is a refresh token that is signed
/// and unexpired (force-expired or not: ending a dead session changes
/// nothing).
fn refresh_token<S: UserStore>(jwt: &JwtAuth<S>, raw: &str) -> Option<(String, TokenRecord)> {
    let tokens = jwt.tokens();
    let token = tokens.verify(raw, tokens.refresh_type()).ok()?;
    let user = token.user_id()?.to_string();
    Some((user, TokenRecord::new(&token, raw)))
}

/// [`refresh_token`] of the request's refresh cookie.
fn refresh_cookie_session<S: UserStore>(
    jwt: &JwtAuth<S>,
    req: &HttpRequest,
) -> Option<(String, TokenRecord)> {
    refresh_token(jwt, cookies::cookie(req, cookies::REFRESH_COOKIE)?)
}

/// `POST logout-all/` → 200 `{"revoked": n}`: every session of the caller,
/// and every token of theirs issued until now, registered or not (a
/// per-user cut-off: such tokens get 401 `token_expired`). The answer comes
/// once the current second is over: `iat` counts whole seconds, and a
/// login after the answer must work. In cookie mode the token cookies are
/// removed too.
pub async fn logout_all<S: UserStore>(
    jwt: JwtAuth<S>,
    registry: RegistryOf<S>,
    req: HttpRequest,
    auth: Authenticated<S::User>,
) -> Result<HttpResponse, ApiError> {
    let (user, _) = caller(&jwt, &auth);
    let registry = registry.cloned();
    let ended = run(move || registry.end_sessions(&user, EndSessions::All))
        .await
        .map_err(|fault| jwt.error(fault))?;
    actix_web::rt::time::sleep(ended.settles_in).await;
    let mut response = HttpResponse::Ok();
    if jwt.cookie_mode() {
        cookies::clear_tokens(&req, &mut response);
    }
    Ok(response.json(json!({ "revoked": ended.sessions })))
}
