//! The token registry inside an app that owns its SQLite database: the
//! app's `app_user` table and migrations, one connection pool shared by the
//! app and the registry, the app's migration runner running the registry's
//! migrations too, and passwords checked with jwt-actix's `Passwords`
//! (argon2id, and the hashes a Django users table holds).
//!
//! ```text
//! cargo run -p example-registry     # creates ./app.sqlite3 with alice / wonderland-42
//! curl -s -XPOST localhost:8000/api/v1/auth/token/obtain/ \
//!      -H 'Content-Type: application/json' -d '{"username":"alice","password":"wonderland-42"}'
//! curl -s localhost:8000/api/v1/me/ -H "Authorization: Bearer <access>"
//! curl -s -XPOST localhost:8000/api/v1/auth/token/logout-all/ -H "Authorization: Bearer <access>"
//! ```

use std::error::Error;
use std::future::Future;

use actix_web::{App, HttpResponse, HttpServer, web};
use diesel::prelude::*;
use diesel::r2d2::Pool;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use jwt_actix::jwt_core::{TokenService, TokenSettings, UserId};
use jwt_actix::jwt_registry::db::{ConnectionSetup, DatabaseUrl, DbError, Manager};
use jwt_actix::jwt_registry::{MigrationsBy, Registry, RegistrySettings};
use jwt_actix::passwords::Passwords;
use jwt_actix::{
    AuthSettings, Authenticated, BackendError, JwtAuth, UserStore, blocking, protected_resource,
};
use serde_json::json;

/// The app's own migrations (`migrations/`).
const APP_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

diesel::table! {
    /// The app's users (`migrations/`).
    app_user (id) {
        /// The user id in tokens.
        id -> BigInt,
        /// The login name.
        username -> Text,
        /// An argon2id or Django hash.
        password -> Text,
        /// Inactive users cannot log in.
        is_active -> Bool,
    }
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = app_user)]
struct User {
    id: i64,
    username: String,
    password: String,
    is_active: bool,
}

type DbPool = Pool<Manager>;

/// The app's SQLite connection from the shared pool (this app builds
/// SQLite alone, so the pool's connections are all SQLite ones).
fn with_sqlite<T>(
    pool: &DbPool,
    work: impl FnOnce(&mut SqliteConnection) -> QueryResult<T>,
) -> Result<T, BackendError> {
    let mut conn = pool.get().map_err(BackendError::unavailable)?;
    let sqlite = conn
        .sqlite()
        .ok_or_else(|| BackendError::other("not a SQLite connection"))?;
    work(sqlite).map_err(|err| DbError::from(err).into())
}

/// The users table, read with Diesel on the shared pool.
#[derive(Clone)]
struct Users {
    pool: DbPool,
    passwords: Passwords,
}

impl UserStore for Users {
    type User = User;

    fn user_id(&self, user: &User) -> UserId {
        user.id.into()
    }

    fn is_active(&self, user: &User) -> bool {
        user.is_active
    }

    fn find_by_username(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<User>, BackendError>> {
        let (pool, name) = (self.pool.clone(), name.to_owned());
        blocking(move || {
            with_sqlite(&pool, |conn| {
                app_user::table
                    .filter(app_user::username.eq(name))
                    .select(User::as_select())
                    .first(conn)
                    .optional()
            })
        })
    }

    fn find_by_id(&self, id: &UserId) -> impl Future<Output = Result<Option<User>, BackendError>> {
        let (pool, id) = (self.pool.clone(), id.clone());
        blocking(move || {
            let UserId::Int(id) = id else {
                return Ok(None);
            };
            with_sqlite(&pool, |conn| {
                app_user::table
                    .find(id)
                    .select(User::as_select())
                    .first(conn)
                    .optional()
            })
        })
    }

    fn check_password(&self, user: Option<&User>, password: &str) -> bool {
        // One hash checked either way: a dummy one for an unknown user.
        self.passwords
            .verify(password, user.map(|user| user.password.as_str()))
    }
}

/// The shared pool: the registry's connection manager, and a customizer
/// that sets what the registry checks for (foreign keys, a busy timeout)
/// while leaving the journal mode as the app chooses it.
fn pool(database: &str) -> Result<DbPool, Box<dyn Error>> {
    let url = DatabaseUrl::parse(database)?;
    Ok(Pool::builder()
        .max_size(4)
        .connection_customizer(Box::new(ConnectionSetup::recommended().keep_journal_mode()))
        .build(Manager::new(&url))?)
}

/// The app's migration runner: the registry's migrations, then the app's,
/// on one connection; then alice, once.
fn migrate(pool: &DbPool) -> Result<(), Box<dyn Error + Send + Sync>> {
    let mut conn = pool.get()?;
    let conn = conn.sqlite().ok_or("not a SQLite connection")?;
    conn.run_pending_migrations(jwt_actix::jwt_registry::SQLITE_MIGRATIONS)?;
    conn.run_pending_migrations(APP_MIGRATIONS)?;
    diesel::insert_or_ignore_into(app_user::table)
        .values((
            app_user::username.eq("alice"),
            app_user::password.eq(Passwords::hash("wonderland-42")?),
        ))
        .execute(conn)?;
    Ok(())
}

/// The registry on the app's pool, opened without migrating, and the
/// auth on top of it.
fn jwt(database: &str) -> Result<JwtAuth<Users>, Box<dyn Error>> {
    let pool = pool(database)?;
    migrate(&pool).map_err(|err| err.to_string())?;
    let tokens = TokenService::new(&TokenSettings {
        signing_key: "an-example-key-of-at-least-32-bytes!!".into(),
        ..TokenSettings::default()
    })?;
    let settings = RegistrySettings {
        // Still needed: the revocation list watches the file on a
        // connection of its own.
        database_url: database.into(),
        ..RegistrySettings::default()
    };
    let (registry, _) = Registry::builder(settings)
        .leeway(tokens.leeway())
        .pool(pool.clone())
        .migrations_by(MigrationsBy::App)
        .open()?;
    let users = Users {
        pool,
        passwords: Passwords::new()?,
    };
    Ok(JwtAuth::builder(tokens, AuthSettings::default(), users)
        .registry(registry)
        .build()?)
}

async fn me(auth: Authenticated<User>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "id": auth.user().id, "username": auth.user().username }))
}

fn routes(jwt: JwtAuth<Users>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.service(web::scope("/api/v1/auth/token").configure(jwt.token_routes().configure()))
            .service(protected_resource::<User>("/api/v1/me/", "GET").route(|| web::get().to(me)));
    }
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let jwt = jwt("app.sqlite3")?;
    let server = jwt.clone();
    HttpServer::new(move || {
        App::new()
            .wrap(server.middleware())
            .configure(routes(server.clone()))
    })
    .bind(("127.0.0.1", 8000))?
    .run()
    .await?;
    jwt.flush_registrations();
    Ok(())
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::test;
    use serde_json::Value;

    use super::*;

    #[actix_web::test]
    async fn a_login_is_registered_in_the_app_s_database_and_logged_out_everywhere() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("app.sqlite3");
        let jwt = jwt(database.to_str().unwrap()).unwrap();
        let app = test::init_service(
            App::new()
                .wrap(jwt.middleware())
                .configure(routes(jwt.clone())),
        )
        .await;

        let wrong = test::TestRequest::post()
            .uri("/api/v1/auth/token/obtain/")
            .set_json(json!({ "username": "alice", "password": "wonderland-43" }))
            .to_request();
        assert_eq!(
            test::call_service(&app, wrong).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let login = test::TestRequest::post()
            .uri("/api/v1/auth/token/obtain/")
            .set_json(json!({ "username": "alice", "password": "wonderland-42" }))
            .to_request();
        let tokens: Value = test::call_and_read_body_json(&app, login).await;
        let bearer = format!("Bearer {}", tokens["access"].as_str().unwrap());
        jwt.flush_registrations();

        // The registry wrote into the app's own file, through its pool.
        let pool = pool(database.to_str().unwrap()).unwrap();
        let rows: i64 = with_sqlite(&pool, |conn| {
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "(SELECT COUNT(*) FROM jwt_token)",
            ))
            .get_result(conn)
        })
        .unwrap();
        assert_eq!(rows, 2, "the refresh and the access token");

        let me = test::TestRequest::get()
            .uri("/api/v1/me/")
            .insert_header(("Authorization", bearer.as_str()))
            .to_request();
        let body: Value = test::call_and_read_body_json(&app, me).await;
        assert_eq!(body, json!({ "id": 1, "username": "alice" }));

        let logout = test::TestRequest::post()
            .uri("/api/v1/auth/token/logout-all/")
            .insert_header(("Authorization", bearer.as_str()))
            .to_request();
        assert!(test::call_service(&app, logout).await.status().is_success());
        let after = test::TestRequest::get()
            .uri("/api/v1/me/")
            .insert_header(("Authorization", bearer.as_str()))
            .to_request();
        assert_eq!(
            test::call_service(&app, after).await.status(),
            StatusCode::UNAUTHORIZED,
            "logged out everywhere"
        );
    }
}
