//! Mounting the token views: the Rust form of `make_urlpatterns`.

use std::rc::Rc;

use actix_web::dev::{AppService, Handler, HttpServiceFactory};
use actix_web::web::{self, ServiceConfig};
use actix_web::{FromRequest, HttpRequest, Responder, Route};

use crate::error::ApiError;
use crate::extractors::{Authenticated, method_not_allowed};
use crate::state::JwtAuth;
use crate::store::UserStore;
use crate::views;

type RouteFactory = Rc<dyn Fn() -> Route>;

/// The token routes `obtain/`, `refresh/` and `verify/`, each answering at
/// its path with and without the trailing slash, any other method getting
/// the JSON 405; `GET .well-known/jwks.json`; with a registry, `expire/`
/// and the sessions routes. Mount them under any prefix; replace any view with the
/// app's own handler (which may call [`views`](crate::views) itself).
///
/// ```no_run
/// # use jwt_actix::{JwtAuth, UserStore};
/// # fn mount<S: UserStore>(jwt: JwtAuth<S>) {
/// use actix_web::{App, HttpResponse, web};
///
/// async fn custom_verify() -> HttpResponse { HttpResponse::Ok().json(serde_json::json!({})) }
///
/// let app = App::new().service(
///     web::scope("/api/v1/auth/token")
///         .configure(jwt.token_routes().verify(custom_verify).configure()),
/// );
/// # }
/// ```
#[must_use]
pub struct TokenRoutes<S: UserStore> {
    jwt: JwtAuth<S>,
    obtain: RouteFactory,
    refresh: RouteFactory,
    verify: RouteFactory,
    #[cfg(feature = "registry")]
    expire: Option<RouteFactory>,
    #[cfg(feature = "registry")]
    sessions: bool,
    #[cfg(feature = "registry")]
    admin: bool,
}

fn post<F, Args>(handler: F) -> RouteFactory
where
    F: Handler<Args> + Clone,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Rc::new(move || web::post().to(handler.clone()))
}

impl<S: UserStore> JwtAuth<S> {
    /// The token routes (`obtain/`, `refresh/`, `verify/`), to mount under a
    /// prefix; each can be replaced by the app's own handler.
    pub fn token_routes(&self) -> TokenRoutes<S> {
        TokenRoutes::new(self.clone())
    }
}

impl<S: UserStore> TokenRoutes<S> {
    fn new(jwt: JwtAuth<S>) -> Self {
        TokenRoutes {
            obtain: post(views::obtain::<S>),
            refresh: post(views::refresh::<S>),
            verify: post(views::verify::<S>),
            #[cfg(feature = "registry")]
            expire: jwt
                .registry()
                .is_some()
                .then(|| post(crate::registry::expire::<S>)),
            #[cfg(feature = "registry")]
            sessions: jwt.registry().is_some(),
            #[cfg(feature = "registry")]
            admin: false,
            jwt,
        }
    }

    /// Answers `POST obtain/` with `handler`. Defaults to [`views::obtain`].
    pub fn obtain<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args> + Clone,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.obtain = post(handler);
        self
    }

    /// Answers `POST refresh/` with `handler`. Defaults to [`views::refresh`].
    pub fn refresh<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args> + Clone,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.refresh = post(handler);
        self
    }

    /// Answers `POST verify/` with `handler`. Defaults to [`views::verify`].
    pub fn verify<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args> + Clone,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.verify = post(handler);
        self
    }

    /// Answers `POST expire/` with `handler`. Defaults to
    /// [`registry::expire`](crate::registry::expire) when a registry is
    /// plugged in (else there is no `expire/`).
    #[cfg(feature = "registry")]
    pub fn expire<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args> + Clone,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.expire = Some(post(handler));
        self
    }

    /// Whether to mount the sessions routes (`sessions/`, `sessions/{id}/`,
    /// `sessions/revoke-others/`, `logout/`, `logout-all/`). Defaults to
    /// yes when a registry is plugged in. They authenticate through
    /// [`JwtAuth::middleware`], which must wrap them.
    #[cfg(feature = "registry")]
    pub fn sessions(mut self, mount: bool) -> Self {
        self.sessions = mount && self.jwt.registry().is_some();
        self
    }

    /// Whether to mount the admin API (`admin/users/{user_id}/tokens/`,
    /// `admin/tokens/{jti}/`, `admin/tokens/{jti}/expire/`,
    /// `admin/users/{user_id}/expire/`; see [`registry`](crate::registry)),
    /// open to the users [`UserStore::is_admin`] names. Defaults to no.
    /// They authenticate through [`JwtAuth::middleware`], which must wrap
    /// them.
    #[cfg(feature = "registry")]
    pub fn admin(mut self, mount: bool) -> Self {
        self.admin = mount && self.jwt.registry().is_some();
        self
    }

    /// The routes, for `scope.configure(...)` or `app.configure(...)`. Also
    /// registers the [`JwtAuth`] as app data for the views.
    pub fn configure(self) -> impl FnOnce(&mut ServiceConfig) + 'static {
        move |cfg| {
            cfg.app_data(self.jwt);
            #[cfg_attr(not(feature = "registry"), allow(unused_mut))]
            let mut routes = vec![
                ("obtain", self.obtain),
                ("refresh", self.refresh),
                ("verify", self.verify),
            ];
            #[cfg(feature = "registry")]
            routes.extend(self.expire.map(|route| ("expire", route)));
            // Two resources of one pattern each: a plain path match, where
            // one resource of two patterns would run a regular expression.
            for (name, route) in routes {
                for path in [format!("/{name}"), format!("/{name}/")] {
                    cfg.service(
                        web::resource(path)
                            .route(route())
                            .default_service(web::to(views::post_only::<S>)),
                    );
                }
            }
            cfg.service(
                web::resource("/.well-known/jwks.json")
                    .route(web::get().to(views::jwks::<S>))
                    .default_service(web::to(views::get_only::<S>)),
            );
            #[cfg(feature = "registry")]
            if self.sessions {
                session_routes::<S>(cfg);
            }
            #[cfg(feature = "registry")]
            if self.admin {
                admin_routes::<S>(cfg);
            }
        }
    }
}

/// A protected route at `path`, answering with and without its trailing
/// slash, whose wrong-method answer comes after authentication: an
/// unauthenticated request gets the 401, an authenticated one the JSON 405
/// with `Allow: <allow>`. Add its routes with
/// [`route`](ProtectedResource::route), each as a function that makes the
/// [`Route`]: the route is mounted once per form of the path, each a plain
/// path match (a resource of two patterns would run a regular expression
/// on every request).
///
/// ```no_run
/// # #[derive(Clone)] struct User;
/// use actix_web::{App, web};
/// use jwt_actix::{Authenticated, protected_resource};
///
/// async fn me(auth: Authenticated<User>) -> &'static str { "me" }
///
/// let app = App::new()
///     .service(protected_resource::<User>("/api/v1/me/", "GET").route(|| web::get().to(me)));
/// ```
pub fn protected_resource<U: 'static>(path: &str, allow: &'static str) -> ProtectedResource<U> {
    ProtectedResource {
        path: path.trim_end_matches('/').to_owned(),
        allow,
        routes: Vec::new(),
        user: std::marker::PhantomData,
    }
}

/// A protected route being built: see [`protected_resource`].
#[must_use]
pub struct ProtectedResource<U> {
    path: String,
    allow: &'static str,
    routes: Vec<RouteFactory>,
    user: std::marker::PhantomData<fn() -> U>,
}

impl<U: 'static> ProtectedResource<U> {
    /// Adds a route, made by `route` (e.g. `|| web::get().to(handler)`).
    pub fn route(mut self, route: impl Fn() -> Route + 'static) -> Self {
        self.routes.push(Rc::new(route));
        self
    }
}

impl<U: 'static> HttpServiceFactory for ProtectedResource<U> {
    fn register(self, config: &mut AppService) {
        for path in [self.path.clone(), format!("{}/", self.path)] {
            let allow = self.allow;
            let resource = self
                .routes
                .iter()
                .fold(web::resource(path), |resource, route| {
                    resource.route(route())
                });
            resource
                .default_service(web::to(move |req: HttpRequest| async move {
                    Authenticated::<U>::extract(&req).await?;
                    Err::<actix_web::HttpResponse, ApiError>(method_not_allowed::<U>(&req, allow))
                }))
                .register(config);
        }
    }
}

/// The sessions routes; wrong methods answer 401 before 405, like every
/// protected route. `revoke-others/` comes before `{id}/`, which would
/// otherwise take it for an id.
#[cfg(feature = "registry")]
fn session_routes<S: UserStore>(cfg: &mut ServiceConfig) {
    use crate::registry::{end_session, logout, logout_all, revoke_others, sessions};
    cfg.service(
        protected_resource::<S::User>("/sessions/", "GET").route(|| web::get().to(sessions::<S>)),
    )
    .service(
        protected_resource::<S::User>("/sessions/revoke-others/", "POST")
            .route(|| web::post().to(revoke_others::<S>)),
    )
    .service(
        protected_resource::<S::User>("/sessions/{id}/", "DELETE")
            .route(|| web::delete().to(end_session::<S>)),
    )
    .service(
        protected_resource::<S::User>("/logout/", "POST").route(|| web::post().to(logout::<S>)),
    )
    .service(
        protected_resource::<S::User>("/logout-all/", "POST")
            .route(|| web::post().to(logout_all::<S>)),
    );
}

/// The admin API's routes; wrong methods answer 401 before 405.
#[cfg(feature = "registry")]
fn admin_routes<S: UserStore>(cfg: &mut ServiceConfig) {
    use crate::registry::{admin_expire_token, admin_expire_user, admin_token, admin_user_tokens};
    cfg.service(
        protected_resource::<S::User>("/admin/users/{user_id}/tokens/", "GET")
            .route(|| web::get().to(admin_user_tokens::<S>)),
    )
    .service(
        protected_resource::<S::User>("/admin/users/{user_id}/expire/", "POST")
            .route(|| web::post().to(admin_expire_user::<S>)),
    )
    .service(
        protected_resource::<S::User>("/admin/tokens/{jti}/", "GET")
            .route(|| web::get().to(admin_token::<S>)),
    )
    .service(
        protected_resource::<S::User>("/admin/tokens/{jti}/expire/", "POST")
            .route(|| web::post().to(admin_expire_token::<S>)),
    );
}
