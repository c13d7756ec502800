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
//!             .service(protected_resource::<User>("/api/v1/me/", "GET").route(web::get().to(me)))
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
//! - [`JwtMiddleware`] (`jwt.middleware()`): attaches the user to each
//!   request, resolved once on first use; never rejects.
//! - Extractors: [`Authenticated`] (401 unless authenticated),
//!   [`MaybeAuthenticated`] (`None` when anonymous), [`VerifiedToken`]
//!   (the token without its user); `Option<Authenticated<U>>` and
//!   `Result<Authenticated<U>, ApiError>` work too.
//! - [`protected_resource`]: a resource whose 405 comes after authentication.
//! - The cookie transport (`[auth] transport = "cookie"`): tokens in
//!   `HttpOnly` cookies ([`ACCESS_COOKIE`], [`REFRESH_COOKIE`]) and a
//!   double-submit CSRF check ([`CSRF_COOKIE`], [`CSRF_HEADER`]).
//!
//! Every failure is the JSON of docs/http-api.md ([`ApiError`]).
//!
//! # Features
//!
//! | feature | default | what |
//! | --- | --- | --- |
//! | `registry` | no | the token registry: registration on `obtain/` / `refresh/`, force-expiry checks, `expire/`, the sessions routes, the admin API ([`registry`]) |

#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod auth;
mod body;
mod cookies;
mod error;
mod events;
mod extractors;
mod guard;
mod identity;
mod messages;
mod middleware;
mod password_slots;
#[cfg(feature = "registry")]
pub mod registry;
mod routes;
mod settings;
mod store;
pub mod views;

pub use auth::{JwtAuth, JwtAuthBuilder, request_info};
pub use body::{FieldReader, RequestData, Trim};
pub use cookies::{ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER, REFRESH_COOKIE};
pub use error::{ApiError, Failure};
pub use events::{
    IssuedToken, Listener, TokenObtained, TokenPair, TokenRefreshed, UserAuthenticated,
};
pub use extractors::{Authenticated, MaybeAuthenticated, VerifiedToken};
pub use guard::{GuardPoint, Refusal, TokenGuard};
pub use identity::Identity;
pub use messages::Messages;
pub use middleware::{JwtMiddleware, JwtMiddlewareService, authenticate_request};
pub use routes::{TokenRoutes, protected_resource};
pub use settings::{AuthSettings, Transport};
pub use store::{BackendError, UserStore};
