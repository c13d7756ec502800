//! Registration on `obtain/` and `refresh/` (the Django package's signal subscriptions).

use std::sync::Arc;

use actix_web::web;
use futures_util::future::LocalBoxFuture;
use jwt_registry::db::DbError;
use jwt_registry::{Context, Pair, Registry, TokenRecord};

use super::Background;
use crate::events::{IssuedToken, Listener, TokenObtained, TokenPair, TokenRefreshed};
use crate::store::BackendError;

/// Registers what the token views hand out, inline or in the background.
pub(crate) struct RegistryListener {
    pub(crate) registry: Registry,
    pub(crate) background: Option<Arc<Background>>,
}

fn record(token: &IssuedToken) -> TokenRecord {
    TokenRecord::new(token.token(), token.encoded())
}

fn pairs(pairs: &[TokenPair]) -> Vec<Pair> {
    pairs
        .iter()
        .map(|pair| Pair {
            token: record(&pair.token),
            parent: pair.parent.as_deref().map(record),
        })
        .collect()
}

/// The work of one registration, runnable here or on the worker.
pub(crate) struct Job {
    registry: Registry,
    context: Context,
    /// `expire_on_refresh`: the refresh token's `jti`, and whether to
    /// spare it.
    expire_rest: Option<(String, bool)>,
}

impl Job {
    /// Registers, then (`expire_on_refresh`) expires the rest of the login
    /// but the new tokens and what was derived from them. In that order: a
    /// token registered under one already force-expired is born
    /// force-expired.
    pub(crate) fn run(self) -> Result<(), DbError> {
        let new: Vec<String> = self.jtis();
        self.registry.register(self.context)?;
        if let Some((refresh, keep)) = &self.expire_rest {
            let new: Vec<&str> = new.iter().map(String::as_str).collect();
            self.registry.expire_rest_of_login(refresh, &new, *keep)?;
        }
        Ok(())
    }

    /// The tokens, by id, for logs (never the tokens themselves).
    pub(crate) fn jtis(&self) -> Vec<String> {
        self.context
            .pairs
            .iter()
            .map(|pair| pair.token.jti.clone())
            .collect()
    }
}

impl RegistryListener {
    async fn dispatch(&self, job: Job) -> Result<(), BackendError> {
        match &self.background {
            Some(background) => {
                background.submit(job).await;
                Ok(())
            }
            None => {
                let outcome = web::block(move || job.run())
                    .await
                    .map_err(BackendError::other)?;
                outcome.map_err(BackendError::from)
            }
        }
    }
}

impl<U: 'static> Listener<U> for RegistryListener {
    fn token_obtained<'a>(
        &'a self,
        event: &'a TokenObtained<U>,
    ) -> LocalBoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move {
            if !self.registry.settings().registration_on_signal {
                return Ok(());
            }
            let context = Context::new(pairs(&event.pairs), self.registry.now())
                .with_user(event.user_id.to_string())
                .with_request(event.request.clone());
            self.dispatch(Job {
                registry: self.registry.clone(),
                context,
                expire_rest: None,
            })
            .await
        })
    }

    fn token_refreshed<'a>(
        &'a self,
        event: &'a TokenRefreshed<U>,
    ) -> LocalBoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move {
            let settings = self.registry.settings();
            if !settings.registration_on_signal {
                return Ok(());
            }
            // The refresh token's user: a token the registry never saw (minted
            // by the other backend, or while registration was off) is
            // connected to its user with what it begets.
            let context = Context::new(pairs(&event.pairs), self.registry.now())
                .with_user(event.user_id.to_string())
                .with_request(event.request.clone());
            let expire_rest = settings
                .expire_on_refresh
                .then(|| (event.refresh.token().jti().to_owned(), !event.rotated));
            self.dispatch(Job {
                registry: self.registry.clone(),
                context,
                expire_rest,
            })
            .await
        })
    }
}
