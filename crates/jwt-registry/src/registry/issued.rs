//! Registering what a login or a refresh handed out, as the `[registry]`
//! settings say: nothing without `registration_on_signal`; the pipeline
//! (inline, or on the background worker with `registration_parallel`);
//! then, with `expire_on_refresh`, the rest of the login.

use jwt_core::RequestInfo;

use super::Registry;
use crate::db::DbError;
use crate::pipeline::Context;
use crate::record::Pair;

/// The tokens one login or one refresh handed out, with who and where.
#[derive(Debug)]
pub struct Issued {
    pairs: Vec<Pair>,
    user_id: String,
    request: RequestInfo,
    refreshed: Option<Refreshed>,
}

/// The refresh token a refresh was made with.
#[derive(Debug)]
struct Refreshed {
    jti: String,
    rotation: Rotation,
}

/// Whether a refresh replaced its refresh token (`rotate_refresh_tokens`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// A new refresh token was handed out; the presented one is done with.
    Rotated,
    /// The presented refresh token stays in use.
    Kept,
}

impl Issued {
    /// The pairs of a login (`obtain/`) of `user_id`.
    pub fn login(pairs: Vec<Pair>, user_id: impl Into<String>, request: RequestInfo) -> Self {
        Issued {
            pairs,
            user_id: user_id.into(),
            request,
            refreshed: None,
        }
    }

    /// The pairs of a refresh (`refresh/`) of `user_id` with the refresh
    /// token `refresh_jti`. A refresh token the registry never saw (minted
    /// by another backend, or while registration was off) is connected to
    /// its user with what it begets.
    pub fn refresh(
        pairs: Vec<Pair>,
        user_id: impl Into<String>,
        request: RequestInfo,
        refresh_jti: impl Into<String>,
        rotation: Rotation,
    ) -> Self {
        Issued {
            refreshed: Some(Refreshed {
                jti: refresh_jti.into(),
                rotation,
            }),
            ..Issued::login(pairs, user_id, request)
        }
    }

    /// The new tokens, by id, for logs (never the tokens themselves).
    pub fn jtis(&self) -> Vec<String> {
        self.pairs
            .iter()
            .map(|pair| pair.token.jti.clone())
            .collect()
    }
}

impl Registry {
    /// Registers `issued` now, in the caller's thread (it blocks: run it
    /// off an async executor). Registers, then (`expire_on_refresh`)
    /// expires the rest of the login but the new tokens and what was
    /// derived from them, in that order: a token registered under one
    /// already force-expired is born force-expired. Does nothing without
    /// `registration_on_signal`.
    pub fn register_issued(&self, issued: Issued) -> Result<(), DbError> {
        let settings = self.settings();
        if !settings.registration_on_signal {
            return Ok(());
        }
        let new = issued.jtis();
        let context = Context::new(issued.pairs, self.now())
            .with_user(issued.user_id)
            .with_request(issued.request);
        self.register(context)?;
        if let (Some(refreshed), true) = (&issued.refreshed, settings.expire_on_refresh) {
            let new: Vec<&str> = new.iter().map(String::as_str).collect();
            self.expire_rest_of_login(&refreshed.jti, &new, refreshed.rotation)?;
        }
        Ok(())
    }

    /// With `registration_parallel`: hands `issued` to the background
    /// worker, waiting (without blocking a thread) while its queue is full,
    /// and answers `Ok`. Without a worker, or once it has stopped, gives
    /// `issued` back: run [`Registry::register_issued`] off the executor.
    pub async fn queue(&self, issued: Issued) -> Result<(), Issued> {
        if !self.settings().registration_on_signal {
            return Ok(());
        }
        match &self.inner.background {
            Some(background) => background.submit(self.clone(), issued).await,
            None => Err(issued),
        }
    }

    /// Runs every queued registration and stops the background worker.
    /// Blocks; call it once the server has stopped (graceful shutdown).
    pub fn flush_registrations(&self) {
        if let Some(background) = &self.inner.background {
            background.flush();
        }
    }
}
