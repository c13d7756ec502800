//! jwt-actix with no database: `obtain/`, `refresh/` and `verify/` under
//! `/api/v1/auth/token/`, and `GET /api/v1/me/` for an access token. Tokens
//! are checked by signature and claims alone (no registry: nothing can be
//! revoked before it expires).
//!
//! ```text
//! cargo run -p example-stateless
//! curl -s -XPOST localhost:8000/api/v1/auth/token/obtain/ \
//!      -H 'Content-Type: application/json' -d '{"username":"alice","password":"wonderland-42"}'
//! curl -s localhost:8000/api/v1/me/ -H "Authorization: Bearer <access>"
//! ```

use std::future::{Future, ready};

use actix_web::{App, HttpResponse, HttpServer, web};
use jwt_actix::jwt_core::{TokenService, TokenSettings, UserId};
use jwt_actix::{
    AuthSettings, Authenticated, BackendError, JwtAuth, UserStore, protected_resource,
};
use serde_json::json;

/// One user, in memory; a real app reads its users table.
#[derive(Clone, Debug)]
struct User {
    id: i64,
    name: String,
}

#[derive(Clone)]
struct Users;

impl UserStore for Users {
    type User = User;

    fn user_id(&self, user: &User) -> UserId {
        user.id.into()
    }

    fn is_active(&self, _: &User) -> bool {
        true
    }

    fn find_by_username(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<User>, BackendError>> {
        ready(Ok((name == "alice").then(alice)))
    }

    fn find_by_id(&self, id: &UserId) -> impl Future<Output = Result<Option<User>, BackendError>> {
        ready(Ok((*id == UserId::Int(1)).then(alice)))
    }

    fn check_password(&self, user: Option<&User>, password: &str) -> bool {
        // A real store verifies a stored hash (jwt-actix's `passwords`
        // feature), and checks a dummy one when the user is unknown.
        user.is_some() && password == "wonderland-42"
    }
}

fn alice() -> User {
    User {
        id: 1,
        name: "alice".into(),
    }
}

async fn me(auth: Authenticated<User>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "id": auth.user().id, "username": auth.user().name }))
}

/// The app's auth: the key would come from the environment.
fn jwt() -> JwtAuth<Users> {
    let settings = TokenSettings {
        signing_key: "an-example-key-of-at-least-32-bytes!!".into(),
        ..TokenSettings::default()
    };
    let tokens = TokenService::new(&settings).expect("valid token settings");
    JwtAuth::builder(tokens, AuthSettings::default(), Users)
        .build()
        .expect("valid auth settings")
}

fn routes(jwt: JwtAuth<Users>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.service(web::scope("/api/v1/auth/token").configure(jwt.token_routes().configure()))
            .service(protected_resource::<User>("/api/v1/me/", "GET").route(|| web::get().to(me)));
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let jwt = jwt();
    HttpServer::new(move || {
        App::new()
            .wrap(jwt.middleware())
            .configure(routes(jwt.clone()))
    })
    .bind(("127.0.0.1", 8000))?
    .run()
    .await
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::test;
    use serde_json::Value;

    use super::*;

    #[actix_web::test]
    async fn log_in_then_call_the_protected_route() {
        let jwt = jwt();
        let app = test::init_service(
            App::new()
                .wrap(jwt.middleware())
                .configure(routes(jwt.clone())),
        )
        .await;
        let login = test::TestRequest::post()
            .uri("/api/v1/auth/token/obtain/")
            .set_json(json!({ "username": "alice", "password": "wonderland-42" }))
            .to_request();
        let tokens: Value = test::call_and_read_body_json(&app, login).await;
        let access = tokens["access"].as_str().expect("an access token");

        let me = test::TestRequest::get()
            .uri("/api/v1/me/")
            .insert_header(("Authorization", format!("Bearer {access}")))
            .to_request();
        let body: Value = test::call_and_read_body_json(&app, me).await;
        assert_eq!(body, json!({ "id": 1, "username": "alice" }));

        let anonymous = test::TestRequest::get().uri("/api/v1/me/").to_request();
        let answer = test::call_service(&app, anonymous).await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
}
