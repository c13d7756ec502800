//! An in-memory user store that counts what it is asked, and an app built
//! on it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::future::{Future, ready};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, test, web};
use jwt_actix::{
    AuthSettings, Authenticated, BackendError, JwtAuth, JwtAuthBuilder, MaybeAuthenticated,
    UserCache, UserStore, VerifiedToken, protected_resource,
};
use jwt_core::{ManualClock, TokenService, TokenSettings, UserId};
use serde_json::{Value, json};

pub const KEY: &str = "peer-secret-key-0123456789abcdef0123456789abcdef";
pub const NOW: i64 = 1_793_491_200;
pub const PASSWORD: &str = "wonderland-42";

#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub active: bool,
}

#[derive(Default)]
pub struct Counters {
    pub password_checks: AtomicUsize,
    pub dummy_checks: AtomicUsize,
    pub loads_by_id: AtomicUsize,
    pub last_logins: AtomicUsize,
    pub checking_now: AtomicUsize,
    pub most_at_once: AtomicUsize,
    /// Milliseconds each password check takes.
    pub check_millis: std::sync::atomic::AtomicU64,
}

#[derive(Clone, Default)]
pub struct TestStore {
    users: Arc<Mutex<HashMap<i64, User>>>,
    cut_offs: Arc<Mutex<HashMap<i64, i64>>>,
    admins: Arc<Mutex<std::collections::HashSet<i64>>>,
    pub counters: Arc<Counters>,
    pub down: Arc<std::sync::atomic::AtomicBool>,
    pub cache: Option<UserCache<User>>,
}

impl TestStore {
    /// alice (1, active), bob (2, inactive).
    pub fn new() -> Self {
        let store = TestStore::default();
        store.add(1, "alice", true);
        store.add(2, "bob", false);
        store
    }

    pub fn add(&self, id: i64, name: &str, active: bool) {
        self.users.lock().unwrap().insert(
            id,
            User {
                id,
                name: name.into(),
                active,
            },
        );
    }

    pub fn remove(&self, id: i64) {
        self.users.lock().unwrap().remove(&id);
    }

    pub fn set_active(&self, id: i64, active: bool) {
        if let Some(user) = self.users.lock().unwrap().get_mut(&id) {
            user.active = active;
        }
    }

    pub fn set_cut_off(&self, id: i64, at: i64) {
        self.cut_offs.lock().unwrap().insert(id, at);
    }

    pub fn set_admin(&self, id: i64) {
        self.admins.lock().unwrap().insert(id);
    }

    pub fn checks(&self) -> usize {
        self.counters.password_checks.load(Ordering::SeqCst)
    }

    pub fn loads(&self) -> usize {
        self.counters.loads_by_id.load(Ordering::SeqCst)
    }

    fn fail_if_down(&self) -> Result<(), BackendError> {
        if self.down.load(Ordering::SeqCst) {
            Err(BackendError::unavailable("connection refused"))
        } else {
            Ok(())
        }
    }
}

impl UserStore for TestStore {
    type User = User;

    fn user_id(&self, user: &User) -> UserId {
        user.id.into()
    }

    fn is_active(&self, user: &User) -> bool {
        user.active
    }

    fn find_by_username(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Option<User>, BackendError>> {
        let found = self.fail_if_down().map(|()| {
            self.users
                .lock()
                .unwrap()
                .values()
                .find(|u| u.name == username)
                .cloned()
        });
        ready(found)
    }

    fn find_by_id(&self, id: &UserId) -> impl Future<Output = Result<Option<User>, BackendError>> {
        self.counters.loads_by_id.fetch_add(1, Ordering::SeqCst);
        let found = self.fail_if_down().map(|()| match id {
            UserId::Int(id) => self.users.lock().unwrap().get(id).cloned(),
            UserId::Str(_) => None,
        });
        ready(found)
    }

    fn check_password(&self, user: Option<&User>, password: &str) -> bool {
        let counters = &self.counters;
        counters.password_checks.fetch_add(1, Ordering::SeqCst);
        let now = counters.checking_now.fetch_add(1, Ordering::SeqCst) + 1;
        counters.most_at_once.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(
            counters.check_millis.load(Ordering::SeqCst),
        ));
        counters.checking_now.fetch_sub(1, Ordering::SeqCst);
        match user {
            Some(_) => password == PASSWORD,
            None => {
                self.counters.dummy_checks.fetch_add(1, Ordering::SeqCst);
                let _ = password == PASSWORD;
                false
            }
        }
    }

    fn update_last_login(&self, _: &User) -> impl Future<Output = Result<(), BackendError>> {
        self.counters.last_logins.fetch_add(1, Ordering::SeqCst);
        ready(Ok(()))
    }

    fn tokens_valid_since(&self, user: &User) -> Option<i64> {
        self.cut_offs.lock().unwrap().get(&user.id).copied()
    }

    fn is_admin(&self, user: &User) -> bool {
        self.admins.lock().unwrap().contains(&user.id)
    }

    fn user_cache(&self) -> Option<&UserCache<User>> {
        self.cache.as_ref()
    }

    fn add_claims(&self, user: &User, claims: &mut jwt_core::Claims) {
        claims.insert("name", user.name.clone());
    }
}

pub fn token_settings() -> TokenSettings {
    TokenSettings {
        signing_key: KEY.into(),
        ..TokenSettings::default()
    }
}

pub struct Harness {
    pub store: TestStore,
    pub clock: ManualClock,
    pub jwt: JwtAuth<TestStore>,
}

impl Harness {
    pub fn new() -> Self {
        Harness::with(token_settings(), AuthSettings::default())
    }

    pub fn with(tokens: TokenSettings, auth: AuthSettings) -> Self {
        Harness::with_slots(tokens, auth, None)
    }

    pub fn with_slots(tokens: TokenSettings, auth: AuthSettings, slots: Option<usize>) -> Self {
        Harness::build(tokens, auth, |builder| match slots {
            Some(slots) => builder.password_concurrency(slots),
            None => builder,
        })
    }

    /// A harness whose `JwtAuth` `extend` completes (listeners, messages).
    pub fn build(
        tokens: TokenSettings,
        auth: AuthSettings,
        extend: impl FnOnce(JwtAuthBuilder<TestStore>) -> JwtAuthBuilder<TestStore>,
    ) -> Self {
        let store = TestStore::new();
        let clock = ManualClock::at(NOW);
        let service = TokenService::builder(&tokens)
            .clock(clock.clone())
            .build()
            .unwrap();
        let jwt = extend(JwtAuth::builder(service, auth, store.clone()))
            .build()
            .unwrap();
        Harness { store, clock, jwt }
    }

    /// A pair for alice, minted directly.
    pub fn pair(&self, user: i64) -> (String, String) {
        let tokens = self.jwt.tokens();
        let refresh = tokens.refresh_for_user(user).unwrap();
        let access = tokens.access_from(&refresh).unwrap();
        (
            tokens.encode(&refresh).unwrap(),
            tokens.encode(&access).unwrap(),
        )
    }
}

async fn me(auth: Authenticated<User>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"id": auth.user().id, "username": auth.user().name}))
}

async fn optional(auth: Option<Authenticated<User>>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"user": auth.map(|a| a.user().name.clone())}))
}

async fn maybe(auth: MaybeAuthenticated<User>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"user": auth.get().map(|a| a.user().name.clone())}))
}

async fn result(auth: Result<Authenticated<User>, jwt_actix::ApiError>) -> HttpResponse {
    match auth {
        Ok(auth) => HttpResponse::Ok().json(json!({"user": auth.user().name})),
        Err(err) => HttpResponse::Ok().json(json!({"refused": err.status().as_u16()})),
    }
}

async fn claims(token: VerifiedToken<User>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"jti": token.jti(), "user_id": token.claims().get("user_id")}))
}

async fn twice(first: Authenticated<User>, second: Authenticated<User>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"same": first.user() == second.user()}))
}

async fn public() -> HttpResponse {
    HttpResponse::Ok().json(json!({"public": true}))
}

/// The app of the tests: token routes under /api/v1/auth/token, /api/v1/me/
/// and routes showing each extractor form.
pub fn app(
    jwt: JwtAuth<TestStore>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .wrap(jwt.middleware())
        .service(web::scope("/api/v1/auth/token").configure(jwt.token_routes().configure()))
        .service(protected_resource::<User>("/api/v1/me/", "GET").route(|| web::get().to(me)))
        .route("/optional", web::get().to(optional))
        .route("/maybe", web::get().to(maybe))
        .route("/result", web::get().to(result))
        .route("/claims", web::get().to(claims))
        .route("/twice", web::get().to(twice))
        .route("/public", web::get().to(public))
}

/// Status, headers and JSON body of a response.
pub struct Answer {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

pub async fn call<S, B>(app: &S, req: actix_http::Request) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, req).await;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = test::read_body(response).await;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        text,
    }
}

pub fn post_json(path: &str, body: Value) -> actix_http::Request {
    test::TestRequest::post()
        .uri(path)
        .set_json(body)
        .to_request()
}

pub fn get_with_token(path: &str, token: &str) -> actix_http::Request {
    test::TestRequest::get()
        .uri(path)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .to_request()
}

/// An app over a real registry (SQLite or PostgreSQL) on a manual clock.
#[cfg(feature = "registry")]
pub struct RegistryHarness {
    pub jwt: JwtAuth<TestStore>,
    pub registry: jwt_registry::Registry,
    pub clock: ManualClock,
}

/// A [`RegistryHarness`] on `db` with `registry` settings (its URL set to
/// the database's) and `auth`; `extend` adds steps, migrations, details.
#[cfg(feature = "registry")]
pub fn with_registry(
    db: &jwt_registry::testing::TestDatabase,
    registry: jwt_registry::RegistrySettings,
    auth: AuthSettings,
    extend: impl FnOnce(jwt_registry::RegistryBuilder) -> jwt_registry::RegistryBuilder,
) -> RegistryHarness {
    with_registry_tokens(db, token_settings(), registry, auth, extend, |jwt| jwt)
}

/// [`with_registry`] with these token settings (the registry told their
/// leeway), `auth_extend` completing the `JwtAuth`.
#[cfg(feature = "registry")]
pub fn with_registry_tokens(
    db: &jwt_registry::testing::TestDatabase,
    tokens: TokenSettings,
    registry: jwt_registry::RegistrySettings,
    auth: AuthSettings,
    extend: impl FnOnce(jwt_registry::RegistryBuilder) -> jwt_registry::RegistryBuilder,
    auth_extend: impl FnOnce(JwtAuthBuilder<TestStore>) -> JwtAuthBuilder<TestStore>,
) -> RegistryHarness {
    let clock = ManualClock::at(NOW);
    let settings = jwt_registry::RegistrySettings {
        database_url: db.url.clone(),
        ..registry
    };
    let builder = jwt_registry::Registry::builder(settings)
        .clock(Arc::new(clock.clone()))
        .leeway(tokens.leeway);
    let (registry, _) = extend(builder).open().unwrap();
    let tokens = TokenService::builder(&tokens)
        .clock(clock.clone())
        .build()
        .unwrap();
    let jwt =
        auth_extend(JwtAuth::builder(tokens, auth, TestStore::new()).registry(registry.clone()))
            .build()
            .unwrap();
    RegistryHarness {
        jwt,
        registry,
        clock,
    }
}

/// A [`RegistryHarness`] with the device registry (jwt-server's pipeline),
/// and carol (3, active) among the users.
#[cfg(feature = "registry")]
pub fn with_devices(db: &jwt_registry::testing::TestDatabase) -> RegistryHarness {
    let settings = jwt_registry::RegistrySettings {
        pipeline: ["register_pairs", "connecting_user", "connect_interlocutor"]
            .map(String::from)
            .to_vec(),
        ..jwt_registry::RegistrySettings::default()
    };
    let harness = with_registry(db, settings, AuthSettings::default(), |builder| {
        builder
            .migrations(jwt_device::MIGRATIONS)
            .step(jwt_device::ConnectInterlocutor::default())
            .cleanup(jwt_device::ForgetUnusedInterlocutors)
            .session_details(jwt_device::DeviceSessionDetails)
    });
    harness.jwt.store().add(3, "carol", true);
    harness
}
