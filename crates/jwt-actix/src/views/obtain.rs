//! `POST obtain/`: credentials in, a refresh and an access token out.

use std::sync::Arc;

use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

use super::{internal, issue};
use crate::body::{FieldReader, Trim};
use crate::cookies::{self, Csrf};
use crate::error::ApiError;
use crate::events::{TokenObtained, TokenPair, request_info};
use crate::fault::Fault;
use crate::request::read_body;
use crate::state::{JwtAuth, backend_failure};
use crate::store::UserStore;

/// `{"username", "password"}` → `{"refresh", "access"}`; 401 for wrong
/// credentials, an unknown or an inactive user alike. In cookie mode the
/// answer is `{}` and the tokens, with a new CSRF value, go in cookies; no
/// CSRF header is asked for (there is no session yet to ride on), but form
/// bodies are refused.
pub async fn obtain<S: UserStore>(
    jwt: JwtAuth<S>,
    req: HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    logged_in(&jwt, &req, payload)
        .await
        .map_err(|fault| jwt.error(fault))
}

async fn logged_in<S: UserStore>(
    jwt: &JwtAuth<S>,
    req: &HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, Fault> {
    let data = read_body(jwt, req, payload).await?;
    let mut fields = FieldReader::new(&data);
    let username = fields.string("username", Trim::Yes);
    let password = fields.string("password", Trim::No);
    let (username, password) = fields.finish_with(username.zip(password))?;

    let user = jwt.authenticate(&username, &password).await?;
    let store = jwt.store();
    let refresh = jwt
        .tokens()
        .refresh_for_user_with(store.user_id(&user), |claims| {
            store.add_claims(&user, claims)
        })
        .map_err(|err| internal("a refresh token could not be minted", &err))?;
    let access = jwt
        .tokens()
        .access_from(&refresh)
        .map_err(|err| internal("an access token could not be derived", &err))?;
    let refresh = Arc::new(issue(jwt, refresh)?);
    let access = Arc::new(issue(jwt, access)?);

    if jwt.settings().update_last_login {
        store
            .update_last_login(&user)
            .await
            .map_err(|err| backend_failure(&err))?;
    }
    if jwt.has_listeners() {
        let event = TokenObtained {
            pairs: vec![
                TokenPair {
                    token: Arc::clone(&refresh),
                    parent: None,
                },
                TokenPair {
                    token: Arc::clone(&access),
                    parent: Some(Arc::clone(&refresh)),
                },
            ],
            user_id: store.user_id(&user),
            user,
            request: request_info(req),
        };
        jwt.emit_obtained(&event).await?;
    }
    if jwt.cookie_mode() {
        let mut response = HttpResponse::Ok();
        cookies::set_tokens(
            jwt,
            req,
            &mut response,
            &access,
            Some(&refresh),
            &refresh,
            Csrf::New,
        )?;
        return Ok(response.json(json!({})));
    }
    Ok(HttpResponse::Ok().json(json!({
        "refresh": refresh.encoded(),
        "access": access.encoded(),
    })))
}
