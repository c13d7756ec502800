//! Where a request's token is: its `Authorization` header (with an
//! accepted scheme), else, in cookie mode, its access cookie. Found and
//! verified here; whether the caller's user exists is the caller's business.

use actix_web::HttpRequest;
use jwt_core::Token;

use crate::cookies;
use crate::failure::Failure;
use crate::fault::Fault;
use crate::state::JwtAuth;
use crate::store::UserStore;

/// The verified token of the request: from its header, else (cookie mode)
/// from the access cookie (the CSRF check comes after authentication).
/// `Ok(None)` without either.
pub(crate) fn presented_token<S: UserStore>(
    jwt: &JwtAuth<S>,
    req: &HttpRequest,
) -> Result<Option<Token>, Fault> {
    if let Some(token) = header_token(jwt, req)? {
        return Ok(Some(token));
    }
    if !jwt.cookie_mode() {
        return Ok(None);
    }
    let Some(raw) = cookies::cookie(req, cookies::ACCESS_COOKIE) else {
        return Ok(None);
    };
    let token = jwt
        .tokens()
        .verify_auth(raw)
        .map_err(|rejection| Fault::no_valid_token_type(&rejection))?;
    Ok(Some(token))
}

/// The verified token of the request's header: `Ok(None)` without one (or
/// with another scheme).
fn header_token<S: UserStore>(jwt: &JwtAuth<S>, req: &HttpRequest) -> Result<Option<Token>, Fault> {
    let Some(raw) = header_raw(jwt, req)? else {
        return Ok(None);
    };
    match jwt.tokens().verify_auth(raw) {
        Ok(token) => Ok(Some(token)),
        Err(rejection) => Err(Fault::no_valid_token_type(&rejection)),
    }
}

/// The token the request authenticates with, as sent: its header's, else
/// (cookie mode) its access cookie's. `None` without either.
#[cfg(feature = "registry")]
pub(crate) fn presented_raw<'r, S: UserStore>(
    jwt: &JwtAuth<S>,
    req: &'r HttpRequest,
) -> Option<&'r str> {
    if let Ok(Some(raw)) = header_raw(jwt, req) {
        return Some(raw);
    }
    if jwt.cookie_mode() {
        return cookies::cookie(req, cookies::ACCESS_COOKIE);
    }
    None
}

/// Whether the request names a token in its header (with an accepted
/// scheme), valid or not: such a request needs no CSRF check.
pub(crate) fn has_header_token<S: UserStore>(jwt: &JwtAuth<S>, req: &HttpRequest) -> bool {
    !matches!(header_raw(jwt, req), Ok(None))
}

/// The token of the request's header, unverified: `Ok(None)` without a
/// header or with another scheme.
fn header_raw<'r, S: UserStore>(
    jwt: &JwtAuth<S>,
    req: &'r HttpRequest,
) -> Result<Option<&'r str>, Fault> {
    let Some(header) = req.headers().get(jwt.header_name()) else {
        return Ok(None);
    };
    let mut parts = header
        .as_bytes()
        .split(u8::is_ascii_whitespace)
        .filter(|part| !part.is_empty());
    let Some(scheme) = parts.next() else {
        return Ok(None);
    };
    if !jwt
        .settings()
        .auth_header_types
        .iter()
        .any(|accepted| accepted.as_bytes() == scheme)
    {
        return Ok(None);
    }
    let (Some(raw), None) = (parts.next(), parts.next()) else {
        return Err(Failure::BadAuthorizationHeader.into());
    };
    // A token is ASCII; anything else cannot verify.
    Ok(Some(std::str::from_utf8(raw).unwrap_or_default()))
}
