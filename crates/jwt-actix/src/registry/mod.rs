//! The token registry on the HTTP side (feature `registry`): registration
//! on `obtain/` and `refresh/`, the force-expiry check of every verified
//! token, the `expire/` view, the sessions routes and the admin API. The
//! rules are the registry's; this module translates HTTP to its calls and
//! back.
//!
//! ```no_run
//! # use jwt_actix::{JwtAuth, AuthSettings, UserStore};
//! # fn build<S: UserStore>(tokens: jwt_core::TokenService, store: S, settings: jwt_registry::RegistrySettings) -> Result<(), Box<dyn std::error::Error>> {
//! // A token is accepted until `exp + leeway`: the registry must know the
//! // leeway to cut such a token off (`build` refuses a registry given less).
//! let (registry, _) = jwt_registry::Registry::builder(settings)
//!     .leeway(tokens.leeway())
//!     .open()?;
//! let jwt = JwtAuth::builder(tokens, AuthSettings::default(), store)
//!     .registry(registry)
//!     .build()?;
//! # Ok(()) }
//! ```

mod admin;
mod calls;
mod check;
mod expire;
mod recorder;
mod sessions;
mod spend;

pub use admin::{
    Administrator, DEFAULT_LIMIT, MAX_LIMIT, admin_expire_token, admin_expire_user, admin_token,
    admin_user_tokens,
};
pub use calls::RegistryOf;
pub(crate) use check::{RegistryCheck, feed_user_cache};
pub use expire::expire;
pub(crate) use recorder::RegistryRecorder;
pub use sessions::{end_session, logout, logout_all, revoke_others, sessions};
pub(crate) use spend::{refresh_policy, spend};
