//! Registration on `obtain/` and `refresh/` (the Django package's signal
//! subscriptions): the token events, handed to the registry, which
//! decides what to register and how.

use futures_util::future::LocalBoxFuture;
use jwt_registry::{Issued, Pair, Registry, Rotation, TokenRecord};

use crate::events::{IssuedToken, Listener, TokenObtained, TokenPair, TokenRefreshed};
use crate::store::{BackendError, blocking};

/// Tells the registry what the token views hand out.
pub(crate) struct RegistryRecorder {
    pub(crate) registry: Registry,
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

impl RegistryRecorder {
    /// On the background worker when there is one, else here, off the
    /// executor.
    async fn record(&self, issued: Issued) -> Result<(), BackendError> {
        if let Err(issued) = self.registry.queue(issued).await {
            let registry = self.registry.clone();
            blocking(move || registry.register_issued(issued)).await?;
        }
        Ok(())
    }
}

impl<U: 'static> Listener<U> for RegistryRecorder {
    fn token_obtained<'a>(
        &'a self,
        event: &'a TokenObtained<U>,
    ) -> LocalBoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move {
            let issued = Issued::login(
                pairs(&event.pairs),
                event.user_id.to_string(),
                event.request.clone(),
            );
            self.record(issued).await
        })
    }

    fn token_refreshed<'a>(
        &'a self,
        event: &'a TokenRefreshed<U>,
    ) -> LocalBoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move {
            let rotation = if event.rotated {
                Rotation::Rotated
            } else {
                Rotation::Kept
            };
            let issued = Issued::refresh(
                pairs(&event.pairs),
                event.user_id.to_string(),
                event.request.clone(),
                event.refresh.token().jti(),
                rotation,
            );
            self.record(issued).await
        })
    }
}
