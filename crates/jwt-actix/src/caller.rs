//! Who a request is: resolved from its header (or access cookie) once, on
//! first use, and kept in the request's extensions by the middleware.

use std::rc::Rc;

use actix_web::HttpRequest;
use futures_util::future::LocalBoxFuture;
use jwt_core::Token;
use tokio::sync::OnceCell;

use crate::check::CheckPoint;
use crate::cookies;
use crate::credentials::{has_header_token, presented_token};
use crate::error::ApiError;
use crate::fault::Fault;
use crate::state::JwtAuth;
use crate::store::UserStore;

/// An authenticated request's user and the verified token it came with.
#[derive(Clone, Debug)]
pub struct Caller<U> {
    user: U,
    token: Token,
}

impl<U> Caller<U> {
    /// A user authenticated by `token`; nothing is checked here (see
    /// [`dangerous`](crate::dangerous)).
    pub(crate) fn new(user: U, token: Token) -> Self {
        Caller { user, token }
    }

    /// The user.
    pub fn user(&self) -> &U {
        &self.user
    }

    /// The verified token.
    pub fn token(&self) -> &Token {
        &self.token
    }

    /// The user, by value.
    pub fn into_user(self) -> U {
        self.user
    }
}

/// The result of resolving: `Ok(None)` is an anonymous request.
pub(crate) type Resolved<T> = Result<Option<T>, Fault>;

/// What the middleware leaves in the request's extensions: the means to
/// resolve the caller, and the results once resolved.
pub(crate) struct LazyCaller<U> {
    resolver: Rc<dyn Resolve<U>>,
    token: OnceCell<Resolved<Token>>,
    caller: OnceCell<Resolved<Rc<Caller<U>>>>,
    /// Authenticated before the middleware: no CSRF check of ours applies.
    preauthenticated: bool,
}

impl<U: 'static> LazyCaller<U> {
    pub(crate) fn new(resolver: Rc<dyn Resolve<U>>) -> Self {
        LazyCaller {
            resolver,
            token: OnceCell::new(),
            caller: OnceCell::new(),
            preauthenticated: false,
        }
    }

    /// Already authenticated (by an earlier middleware or a test).
    pub(crate) fn authenticated(resolver: Rc<dyn Resolve<U>>, caller: Caller<U>) -> Self {
        let mut lazy = LazyCaller::new(resolver);
        lazy.preauthenticated = true;
        let token = caller.token.clone();
        // Fresh cells: setting cannot fail.
        let _ = lazy.token.set(Ok(Some(token)));
        let _ = lazy.caller.set(Ok(Some(Rc::new(caller))));
        lazy
    }

    /// `fault` as the answer, in the app's messages.
    pub(crate) fn error(&self, fault: impl Into<Fault>) -> ApiError {
        self.resolver.error(fault.into())
    }

    /// The verified token, without loading the user; then, for a token
    /// from a cookie, the CSRF check.
    pub(crate) async fn token(&self, req: &HttpRequest) -> Resolved<Token> {
        let token = self.verified_token(req).await?;
        if token.is_some() {
            self.csrf(req)?;
        }
        Ok(token)
    }

    /// The verified token, resolved once (or taken from the caller, once
    /// resolved).
    async fn verified_token(&self, req: &HttpRequest) -> Resolved<Token> {
        if self.token.get().is_none()
            && let Some(Ok(Some(caller))) = self.caller.get()
        {
            return Ok(Some(caller.token().clone()));
        }
        self.token
            .get_or_init(|| self.resolver.token(req))
            .await
            .clone()
    }

    /// The verified token for [`caller`](Self::caller), by value: resolved
    /// here without a copy kept when nothing asked for it before (the
    /// caller keeps it); a refusal is kept.
    async fn token_for_caller(&self, req: &HttpRequest) -> Resolved<Token> {
        if let Some(resolved) = self.token.get() {
            return resolved.clone();
        }
        match self.resolver.token(req).await {
            Ok(Some(token)) => Ok(Some(token)),
            refused => {
                // Fresh cell, or one a concurrent call filled the same way.
                let _ = self.token.set(refused.clone());
                refused
            }
        }
    }

    fn csrf(&self, req: &HttpRequest) -> Result<(), Fault> {
        if self.preauthenticated {
            return Ok(());
        }
        self.resolver.csrf(req)
    }

    /// The user and token, resolved once, the CSRF check of a token from a
    /// cookie included (see [`Resolve::user`]).
    pub(crate) async fn caller(&self, req: &HttpRequest) -> Resolved<Rc<Caller<U>>> {
        self.caller
            .get_or_init(|| async {
                match self.token_for_caller(req).await? {
                    None => Ok(None),
                    Some(token) => self
                        .resolver
                        .user(req, token)
                        .await
                        .map(|caller| Some(Rc::new(caller))),
                }
            })
            .await
            .clone()
    }
}

/// The type-erased [`JwtAuth`] the extractors call.
pub(crate) trait Resolve<U> {
    fn error(&self, fault: Fault) -> ApiError;
    fn token<'a>(&'a self, req: &'a HttpRequest) -> LocalBoxFuture<'a, Resolved<Token>>;
    /// The double-submit check, for a request its access cookie
    /// authenticated (cookie mode, no `Authorization` header).
    fn csrf(&self, req: &HttpRequest) -> Result<(), Fault>;
    fn user<'a>(
        &'a self,
        req: &'a HttpRequest,
        token: Token,
    ) -> LocalBoxFuture<'a, Result<Caller<U>, Fault>>;
}

impl<S: UserStore> Resolve<S::User> for JwtAuth<S> {
    fn error(&self, fault: Fault) -> ApiError {
        JwtAuth::error(self, fault)
    }

    /// simplejwt's `get_header` / `get_raw_token` / `get_validated_token`,
    /// then the token checks.
    fn token<'a>(&'a self, req: &'a HttpRequest) -> LocalBoxFuture<'a, Resolved<Token>> {
        Box::pin(async move {
            let Some(token) = presented_token(self, req)? else {
                return Ok(None);
            };
            self.check_token(&token, CheckPoint::Protected).await?;
            Ok(Some(token))
        })
    }

    fn csrf(&self, req: &HttpRequest) -> Result<(), Fault> {
        if self.cookie_mode() && !has_header_token(self, req) {
            cookies::check_csrf(req)
        } else {
            Ok(())
        }
    }

    /// simplejwt's `get_user`, then the tokens-valid-since cut-off, then the
    /// CSRF check of a token from a cookie, before listeners hear of it.
    fn user<'a>(
        &'a self,
        req: &'a HttpRequest,
        token: Token,
    ) -> LocalBoxFuture<'a, Result<Caller<S::User>, Fault>> {
        Box::pin(async move {
            let user = self.load_user(&token).await?;
            // DRF's order: authentication, then CSRF, then anything else.
            Resolve::<S::User>::csrf(self, req)?;
            self.emit_authenticated(req, &user, &token).await?;
            Ok(Caller::new(user, token))
        })
    }
}
