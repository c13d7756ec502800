//! The users of the app, as the views and extractors need them.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;

use jwt_core::{Claims, UserId};

use crate::user_cache::UserCache;

/// Where the app keeps its users. jwt-actix never sees a password hash:
/// it asks the store to check a password, on a blocking thread, exactly once
/// per login attempt.
///
/// ```
/// use std::future::{Future, ready};
/// use jwt_actix::{BackendError, UserStore};
/// use jwt_core::UserId;
///
/// #[derive(Clone)]
/// struct User { id: i64, active: bool }
///
/// #[derive(Clone)]
/// struct Users;
///
/// impl UserStore for Users {
///     type User = User;
///     fn user_id(&self, user: &User) -> UserId { user.id.into() }
///     fn is_active(&self, user: &User) -> bool { user.active }
///     fn find_by_username(&self, name: &str) -> impl Future<Output = Result<Option<User>, BackendError>> {
///         ready(Ok((name == "alice").then_some(User { id: 1, active: true })))
///     }
///     fn find_by_id(&self, id: &UserId) -> impl Future<Output = Result<Option<User>, BackendError>> {
///         ready(Ok((id == &UserId::Int(1)).then_some(User { id: 1, active: true })))
///     }
///     fn check_password(&self, user: Option<&User>, password: &str) -> bool {
///         // A real store verifies a hash, and a dummy hash when `user` is None.
///         user.is_some() && password == "wonderland-42"
///     }
/// }
/// ```
pub trait UserStore: Clone + Send + Sync + 'static {
    /// The app's user.
    type User: Clone + Send + Sync + 'static;

    /// The id written into tokens (`user_id`): integer ids stay integers.
    fn user_id(&self, user: &Self::User) -> UserId;

    /// Whether the user may log in and use tokens.
    fn is_active(&self, user: &Self::User) -> bool;

    /// The user logging in, by username as typed (already trimmed; usernames
    /// are case-sensitive).
    fn find_by_username(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Option<Self::User>, BackendError>>;

    /// The user a token names.
    fn find_by_id(
        &self,
        id: &UserId,
    ) -> impl Future<Output = Result<Option<Self::User>, BackendError>>;

    /// Verifies `password` against the user's stored hash. With `None`
    /// (unknown username) it must verify against a dummy hash of the same
    /// cost and return `false`, so that an unknown user, an inactive user
    /// and a wrong password take the same time.
    ///
    /// Called exactly once per login attempt, on a blocking thread, at most
    /// `available_parallelism()` at a time: it may be slow (argon2, PBKDF2).
    fn check_password(&self, user: Option<&Self::User>, password: &str) -> bool;

    /// Records a successful login (`[auth] update_last_login`). Defaults to
    /// doing nothing.
    fn update_last_login(
        &self,
        user: &Self::User,
    ) -> impl Future<Output = Result<(), BackendError>> {
        let _ = user;
        std::future::ready(Ok(()))
    }

    /// Tokens issued at or before this instant (Unix seconds) are refused
    /// with `password_changed`: set it when the password changes to log the
    /// user out everywhere. Defaults to `None`.
    fn tokens_valid_since(&self, user: &Self::User) -> Option<i64> {
        let _ = user;
        None
    }

    /// Whether the user may use the admin API (list anyone's tokens,
    /// force-expire any token, tree or user): the app's `is_staff`.
    /// Defaults to `false` for everyone.
    fn is_admin(&self, user: &Self::User) -> bool {
        let _ = user;
        false
    }

    /// The cache of users found by id, if the app keeps one: authenticated
    /// requests are then answered without asking
    /// [`find_by_id`](Self::find_by_id) while the user is cached. A cache
    /// serves only once something tells it of every change of a user (the
    /// registry, or the app itself): see [`UserCache`]. Defaults to `None`.
    fn user_cache(&self) -> Option<&UserCache<Self::User>> {
        None
    }

    /// Adds the app's own claims to a refresh token minted for `user`
    /// (simplejwt's `get_token`); access tokens derived from it copy them.
    /// Defaults to adding nothing.
    fn add_claims(&self, user: &Self::User, claims: &mut Claims) {
        let _ = (user, claims);
    }
}

/// A failure of a service the app provides (the user store, an event
/// listener): unreachable (503) or broken (500). The cause is logged, never
/// sent to the client.
#[derive(Debug)]
pub struct BackendError {
    unavailable: bool,
    cause: Box<dyn StdError + Send + Sync>,
}

impl BackendError {
    /// The store cannot be reached right now: the answer is 503.
    pub fn unavailable(cause: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        BackendError {
            unavailable: true,
            cause: cause.into(),
        }
    }

    /// Anything else: the answer is 500.
    pub fn other(cause: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        BackendError {
            unavailable: false,
            cause: cause.into(),
        }
    }

    /// Whether the store was unreachable (503) rather than broken (500).
    pub fn is_unavailable(&self) -> bool {
        self.unavailable
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.unavailable {
            "backend unavailable"
        } else {
            "backend failed"
        };
        write!(f, "{what}: {}", self.cause)
    }
}

impl StdError for BackendError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.cause)
    }
}

/// Runs blocking `work` (a database call, a password hash) on actix's
/// blocking pool: its error, or a job that could not run, is a
/// [`BackendError`].
pub async fn blocking<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, BackendError>
where
    T: Send + 'static,
    E: Into<BackendError> + Send + 'static,
{
    actix_web::web::block(work)
        .await
        .map_err(BackendError::other)?
        .map_err(Into::into)
}
