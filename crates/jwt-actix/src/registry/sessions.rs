//! The sessions routes (CONTRACT §1 "Sessions and logout"): a user sees the
//! devices they are logged in on and cuts any of them off. Each answers
//! only for an authenticated request (the middleware must wrap them), and
//! only about the caller's own sessions.

use actix_web::{HttpRequest, HttpResponse, web};
use jwt_registry::db::DbError;
use jwt_registry::types::{Moment, RowId};
use jwt_registry::{EndSessions, Registry, Session};
use serde_json::{Value, json};

use crate::auth::JwtAuth;
use crate::error::ApiError;
use crate::extractors::Authenticated;
use crate::store::{BackendError, UserStore};
use crate::views::jwt_auth;

fn registry_of<S: UserStore>(jwt: &JwtAuth<S>) -> Result<Registry, ApiError> {
    jwt.registry().cloned().ok_or_else(|| {
        tracing::error!("a sessions route mounted without a registry");
        ApiError::internal(jwt.messages())
    })
}

/// Runs `work` on the registry off the executor; a database failure is the
/// contract's 503 (or 500), never its text.
async fn blocking<S: UserStore, T: Send + 'static>(
    jwt: &JwtAuth<S>,
    work: impl FnOnce() -> Result<T, DbError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(work)
        .await
        .map_err(|_| ApiError::internal(jwt.messages()))?
        .map_err(|err| {
            let err = if err.is_unavailable() {
                BackendError::unavailable(err)
            } else {
                BackendError::other(err)
            };
            jwt.backend_failure(&err)
        })
}

fn rfc3339(at: Moment) -> String {
    at.to_rfc3339()
}

fn session_json(session: &Session) -> Value {
    json!({
        "id": session.id.to_string(),
        "created_at": rfc3339(session.created_at),
        "refreshed_at": session.refreshed_at.map(rfc3339),
        "expires_at": rfc3339(session.expires_at),
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
    req: HttpRequest,
    auth: Authenticated<S::User>,
) -> Result<HttpResponse, ApiError> {
    let jwt = jwt_auth::<S>(&req)?;
    let registry = registry_of(&jwt)?;
    let (user, jti) = caller(&jwt, &auth);
    let sessions = blocking(&jwt, move || registry.sessions(&user, Some(&jti))).await?;
    Ok(HttpResponse::Ok().json(sessions.iter().map(session_json).collect::<Vec<_>>()))
}

/// `DELETE sessions/{id}/` → 204, the session force-expired; 404 for an id
/// that is not one of the caller's live sessions (never a hint that it
/// exists).
pub async fn end_session<S: UserStore>(
    req: HttpRequest,
    auth: Authenticated<S::User>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let jwt = jwt_auth::<S>(&req)?;
    let registry = registry_of(&jwt)?;
    let Ok(id) = id.parse::<RowId>() else {
        return Err(ApiError::not_found(jwt.messages()));
    };
    let (user, _) = caller(&jwt, &auth);
    let ended = blocking(&jwt, move || {
        registry.end_sessions(&user, EndSessions::One(id))
    })
    .await?;
    if ended == 0 {
        return Err(ApiError::not_found(jwt.messages()));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `POST sessions/revoke-others/` → 200 `{"revoked": n}`: every session of
/// the caller but the current one.
pub async fn revoke_others<S: UserStore>(
    req: HttpRequest,
    auth: Authenticated<S::User>,
) -> Result<HttpResponse, ApiError> {
    let jwt = jwt_auth::<S>(&req)?;
    let registry = registry_of(&jwt)?;
    let (user, jti) = caller(&jwt, &auth);
    let revoked = blocking(&jwt, move || {
        registry.end_sessions(&user, EndSessions::Others { current_jti: &jti })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "revoked": revoked })))
}

/// `POST logout/` → 204: the current session.
pub async fn logout<S: UserStore>(
    req: HttpRequest,
    auth: Authenticated<S::User>,
) -> Result<HttpResponse, ApiError> {
    let jwt = jwt_auth::<S>(&req)?;
    let registry = registry_of(&jwt)?;
    let (user, jti) = caller(&jwt, &auth);
    blocking(&jwt, move || {
        registry.end_sessions(&user, EndSessions::Current { current_jti: &jti })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST logout-all/` → 200 `{"revoked": n}`: every session of the caller.
pub async fn logout_all<S: UserStore>(
    req: HttpRequest,
    auth: Authenticated<S::User>,
) -> Result<HttpResponse, ApiError> {
    let jwt = jwt_auth::<S>(&req)?;
    let registry = registry_of(&jwt)?;
    let (user, _) = caller(&jwt, &auth);
    let revoked = blocking(&jwt, move || registry.end_sessions(&user, EndSessions::All)).await?;
    Ok(HttpResponse::Ok().json(json!({ "revoked": revoked })))
}
