//! The token registry on the HTTP side (feature `registry`): registration
//! on `obtain/` and `refresh/`, the force-expiry check of every verified
//! token, and the `expire/` view.
//!
//! ```no_run
//! # use jwt_actix::{JwtAuth, AuthSettings, UserStore};
//! # fn build<S: UserStore>(tokens: jwt_core::TokenService, store: S, registry: jwt_registry::Registry) {
//! let jwt = JwtAuth::builder(tokens, AuthSettings::default(), store)
//!     .registry(registry)
//!     .build();
//! # }
//! ```

mod background;
mod expire;
mod guard;
mod listener;
mod reuse;
mod sessions;

pub use background::Background;
pub use expire::expire;
pub(crate) use guard::RegistryGuard;
pub(crate) use listener::RegistryListener;
pub(crate) use reuse::spend;
pub use sessions::{end_session, logout, logout_all, revoke_others, sessions};
