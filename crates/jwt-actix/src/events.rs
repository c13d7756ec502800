//! What happened: tokens obtained, tokens refreshed, a user authenticated.
//! The registry listens to these; so can the app.

use std::fmt;
use std::sync::Arc;

use futures_util::future::{LocalBoxFuture, ready};
use jwt_core::{RequestInfo, Token, UserId};

use crate::store::BackendError;

/// A token handed to a client: its claims and the string it was sent as.
#[derive(Clone)]
pub struct IssuedToken {
    token: Token,
    encoded: String,
}

impl IssuedToken {
    /// A token and its encoded form.
    pub fn new(token: Token, encoded: String) -> Self {
        IssuedToken { token, encoded }
    }

    /// The claims.
    pub fn token(&self) -> &Token {
        &self.token
    }

    /// The string the client holds: a bearer credential, never log it.
    pub fn encoded(&self) -> &str {
        &self.encoded
    }
}

/// The encoded token is a credential: `Debug` shows the claims' summary only.
impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IssuedToken").field(&self.token).finish()
    }
}

/// A token and the token it was derived from, if any.
#[derive(Clone, Debug)]
pub struct TokenPair {
    /// The token.
    pub token: Arc<IssuedToken>,
    /// What it was derived from (an access token's refresh token, a rotated
    /// refresh token's predecessor); `None` for the root of a login.
    pub parent: Option<Arc<IssuedToken>>,
}

/// `obtain/` answered: pairs `(refresh, none)` and `(access, refresh)`.
#[derive(Clone, Debug)]
pub struct TokenObtained<U> {
    /// The tokens handed out, each with its parent.
    pub pairs: Vec<TokenPair>,
    /// Who logged in.
    pub user: U,
    /// Their id, as written into the tokens.
    pub user_id: UserId,
    /// The request they came with.
    pub request: RequestInfo,
}

/// `refresh/` answered: pair `(access, refresh)`; with rotation
/// `(access, new refresh)` and `(new refresh, old refresh)`.
#[derive(Clone, Debug)]
pub struct TokenRefreshed<U> {
    /// The tokens handed out, each with its parent.
    pub pairs: Vec<TokenPair>,
    /// The refresh token the client presented.
    pub refresh: Arc<IssuedToken>,
    /// Whether a new refresh token was handed out.
    pub rotated: bool,
    /// The user the tokens belong to.
    pub user: U,
    /// Their id, as written into the tokens.
    pub user_id: UserId,
    /// The request they came with.
    pub request: RequestInfo,
}

/// A protected route authenticated a user by token.
#[derive(Clone, Debug)]
pub struct UserAuthenticated<U> {
    /// The user.
    pub user: U,
    /// The token they presented.
    pub token: Token,
    /// The request.
    pub request: RequestInfo,
}

/// Something that reacts to events (the registry, an audit log). Each method
/// runs before the answer is sent; an error turns the answer into 503 (when
/// the error says unavailable) or 500, so a token is never handed out
/// unrecorded. Methods default to doing nothing.
pub trait Listener<U>: Send + Sync + 'static {
    /// After `obtain/` minted tokens.
    fn token_obtained<'a>(
        &'a self,
        event: &'a TokenObtained<U>,
    ) -> LocalBoxFuture<'a, Result<(), BackendError>> {
        let _ = event;
        Box::pin(ready(Ok(())))
    }

    /// After `refresh/` minted tokens.
    fn token_refreshed<'a>(
        &'a self,
        event: &'a TokenRefreshed<U>,
    ) -> LocalBoxFuture<'a, Result<(), BackendError>> {
        let _ = event;
        Box::pin(ready(Ok(())))
    }

    /// After a protected route authenticated a user. Only called when some
    /// listener says it wants it ([`Listener::wants_authentications`]).
    fn user_authenticated<'a>(
        &'a self,
        event: &'a UserAuthenticated<U>,
    ) -> LocalBoxFuture<'a, Result<(), BackendError>> {
        let _ = event;
        Box::pin(ready(Ok(())))
    }

    /// Whether [`Listener::user_authenticated`] should be called (it costs a
    /// copy of the request's headers per authenticated request). Defaults
    /// to `false`.
    fn wants_authentications(&self) -> bool {
        false
    }
}

/// The framework-free description of an actix request: peer address and
/// headers, as the events carry it.
pub fn request_info(req: &actix_web::HttpRequest) -> RequestInfo {
    let mut info = RequestInfo::new(req.peer_addr().map(|addr| addr.ip()));
    for (name, value) in req.headers() {
        info.push_header(name.as_str(), String::from_utf8_lossy(value.as_bytes()));
    }
    info
}
