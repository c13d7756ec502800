//! actix-web views, middleware and extractors for JWT authentication
//! wire-compatible with the Django package (simplejwt 5.1 / wc-django-jwt).
//!
//! # Getting started
//!
//! ```no_run
//! use std::future::{Future, ready};
//! use actix_web::{App, HttpServer, web};
//! use jwt_actix::{AuthSettings, Authenticated, BackendError, JwtAuth, UserStore, protected_resource};
//! use jwt_core::{TokenService, TokenSettings, UserId};
//!
//! #[derive(Clone)]
//! struct User { id: i64, name: String }
//!
//! #[derive(Clone)]
//! struct Users; // the app's database
//!
//! impl UserStore for Users {
//!     type User = User;
//!     fn user_id(&self, user: &User) -> UserId { user.id.into() }
//!     fn is_active(&self, _: &User) -> bool { true }
//!     fn find_by_username(&self, name: &str) -> impl Future<Output = Result<Option<User>, BackendError>> {
//!         ready(Ok((name == "alice").then(|| User { id: 1, name: "alice".into() })))
//!     }
//!     fn find_by_id(&self, id: &UserId) -> impl Future<Output = Result<Option<User>, BackendError>> {
//!         ready(Ok((*id == UserId::Int(1)).then(|| User { id: 1, name: "alice".into() })))
//!     }
//!     fn check_password(&self, user: Option<&User>, password: &str) -> bool {
//!         user.is_some() && password == "wonderland-42" // verify a real hash here
//!     }
//! }
//!
//! async fn me(auth: Authenticated<User>) -> String {
//!     format!("hello {}", auth.user().name)
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let settings = TokenSettings { signing_key: "a-secret-of-at-least-32-bytes-for-HS256".into(), ..Default::default() };
//!     let tokens = TokenService::new(&settings).expect("valid settings");
//!     let jwt = JwtAuth::builder(tokens, AuthSettings::default(), Users).build().expect("valid settings");
//!     HttpServer::new(move || {
//!         App::new()
//!             .wrap(jwt.middleware())
//!             .service(web::scope("/api/v1/auth/token").configure(jwt.token_routes().configure()))
//!             .service(protected_resource::<User>("/api/v1/me/", "GET").route(|| web::get().to(me)))
//!     })
//!     .bind("127.0.0.1:8000")?
//!     .run()
//!     .await
//! }
//! ```
//!
//! # The parts
//!
//! - [`JwtAuth`]: token service, `[auth]` settings, the app's [`UserStore`],
//!   [`Messages`] and event [`Listener`]s, shared by everything below.
//! - [`TokenRoutes`] (`jwt.token_routes()`): `obtain/`, `refresh/`,
//!   `verify/`, each replaceable.
//! - [`JwtMiddleware`] (`jwt.middleware()`): attaches the [`Caller`] (user
//!   and token) to each request, resolved once on first use; never rejects.
//! - Extractors: [`Authenticated`] (401 unless authenticated),
//!   [`MaybeAuthenticated`] (`None` when anonymous), [`VerifiedToken`]
//!   (the token without its user); `Option<Authenticated<U>>` and
//!   `Result<Authenticated<U>, ApiError>` work too.
//! - [`protected_resource`]: a resource whose 405 comes after authentication.
//! - The cookie transport (`[auth] transport = "cookie"`): tokens in
//!   `HttpOnly` cookies ([`ACCESS_COOKIE`], [`REFRESH_COOKIE`]) and a
//!   double-submit CSRF check ([`CSRF_COOKIE`], [`CSRF_HEADER`]).
//!
//! Every failure is carried as a [`Fault`] and answered once, worded with
//! the app's [`Messages`], as the JSON of docs/http-api.md ([`ApiError`],
//! from [`JwtAuth::error`]). [`dangerous`] holds the calls that mark a
//! request authenticated without verifying anything.
//!
//! # Features
//!
//! | feature | default | what |
//! | --- | --- | --- |
//! | `registry` | no | the token registry: registration on `obtain/` / `refresh/`, force-expiry checks, `expire/`, the sessions routes, the admin API (`registry`); re-exports `jwt_registry`; needs `sqlite`, `postgres` or both |
//! | `sqlite` / `postgres` | no | the registry's (and device tables') database backends |
//! | `device` | no | `registry`, and device tracking: re-exports `jwt_device`, whose `TrackDevices::track_devices` wires it into the registry |
//! | `passwords` | no | `passwords::Passwords`: argon2id hashes, Django's PBKDF2 and argon2 hashes verified |
//! | `config` | no | `AuthSettings::from_config` (jwt-core's `config`), and the registry's and device tables' `from_config` with their features |

#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

// The modules stand in floors and nothing imports upward
// (tools/module-cycles.py checks it): failure, fault, error, body, check, events, messages,
// password_slots, settings, store; then state (`JwtAuth`); then cookies,
// request, credentials, caller, extractors, middleware, dangerous; then views and
// registry; then routes; builder on top. docs/architecture.md draws it.
mod body;
mod builder;
mod caller;
mod check;
mod cookies;
mod credentials;
pub mod dangerous;
mod error;
mod events;
mod extractors;
mod failure;
mod fault;
mod messages;
mod middleware;
#[cfg(feature = "passwords")]
mod password_memory;
mod password_slots;
#[cfg(feature = "passwords")]
pub mod passwords;
#[cfg(feature = "registry")]
pub mod registry;
mod request;
mod routes;
mod settings;
mod state;
mod store;
mod user_cache;
pub mod views;

/// jwt-core, which the token service, claims and settings come from.
pub use jwt_core;
/// jwt-device (feature `device`): recognition and device tracking.
#[cfg(feature = "device")]
pub use jwt_device;
/// jwt-registry (feature `registry`): the token registry.
#[cfg(feature = "registry")]
pub use jwt_registry;

pub use body::{FieldReader, RequestData, Trim};
pub use builder::JwtAuthBuilder;
pub use caller::Caller;
pub use check::{CheckPoint, Refusal, TokenCheck};
pub use cookies::{ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER, REFRESH_COOKIE};
pub use error::ApiError;
pub use events::{
    IssuedToken, Listener, TokenObtained, TokenPair, TokenRefreshed, UserAuthenticated,
    request_info,
};
pub use extractors::{Authenticated, MaybeAuthenticated, VerifiedToken};
pub use failure::{CsrfReason, Failure, FieldError};
pub use fault::Fault;
pub use messages::Messages;
pub use middleware::{JwtMiddleware, JwtMiddlewareService};
pub use routes::{ProtectedResource, TokenRoutes, protected_resource};
pub use settings::{AuthSettings, Transport};
pub use state::{JwtAuth, backend_failure};
pub use store::{BackendError, UserStore, blocking};
pub use user_cache::UserCache;
