//! The token registry on a SQLite file, with device tracking: every token
//! is remembered with the app, OS, device and network it went to;
//! `GET …/sessions/` lists a user's logins with them, `DELETE
//! …/sessions/{id}/` logs one device out, `POST …/logout-all/` all of them.
//!
//! ```text
//! cargo run -p example-device-tracking   # creates ./devices.sqlite3
//! ```

use std::future::{Future, ready};

use actix_web::{App, HttpServer, web};
use jwt_actix::jwt_core::{TokenService, TokenSettings, UserId};
use jwt_actix::jwt_device::{TrackDevices, TrustedProxies};
use jwt_actix::jwt_registry::{Registry, RegistrySettings};
use jwt_actix::{AuthSettings, BackendError, JwtAuth, UserStore};

#[derive(Clone)]
struct Users;

impl UserStore for Users {
    type User = i64;

    fn user_id(&self, user: &i64) -> UserId {
        (*user).into()
    }

    fn is_active(&self, _: &i64) -> bool {
        true
    }

    fn find_by_username(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<i64>, BackendError>> {
        ready(Ok((name == "alice").then_some(1)))
    }

    fn find_by_id(&self, id: &UserId) -> impl Future<Output = Result<Option<i64>, BackendError>> {
        ready(Ok((*id == UserId::Int(1)).then_some(1)))
    }

    fn check_password(&self, user: Option<&i64>, password: &str) -> bool {
        user.is_some() && password == "wonderland-42"
    }
}

/// The registry on the SQLite file `database_url` (this example builds
/// SQLite alone; with the `postgres` feature a PostgreSQL URL works too),
/// with device tracking in one call, and the auth on top of it.
fn jwt(database_url: &str) -> Result<JwtAuth<Users>, Box<dyn std::error::Error>> {
    let token_settings = TokenSettings {
        signing_key: "an-example-key-of-at-least-32-bytes!!".into(),
        ..TokenSettings::default()
    };
    let tokens = TokenService::new(&token_settings)?;
    let registry_settings = RegistrySettings {
        database_url: database_url.into(),
        ..RegistrySettings::default()
    };
    // Behind a proxy, name it: TrustedProxies::new(vec!["10.0.0.0/8".parse()?], ForwardedHeader::XForwardedFor).
    let (registry, _applied) = Registry::builder(registry_settings)
        .leeway(tokens.leeway())
        .track_devices(TrustedProxies::default())
        .open()?;
    Ok(JwtAuth::builder(tokens, AuthSettings::default(), Users)
        .registry(registry)
        .build()?)
}

fn routes(jwt: JwtAuth<Users>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.service(web::scope("/api/v1/auth/token").configure(jwt.token_routes().configure()));
    }
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let jwt = jwt("devices.sqlite3")?;
    let server = jwt.clone();
    HttpServer::new(move || {
        App::new()
            .wrap(server.middleware())
            .configure(routes(server.clone()))
    })
    .bind(("127.0.0.1", 8000))?
    .run()
    .await?;
    // Registrations queued in the background (registration_parallel) land.
    jwt.flush_registrations();
    Ok(())
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::test;
    use serde_json::{Value, json};

    use super::*;

    const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 \
                         (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1";

    #[actix_web::test]
    async fn a_login_is_listed_with_its_device_and_can_be_logged_out() {
        let dir = tempfile::tempdir().unwrap();
        let jwt = jwt(dir.path().join("devices.sqlite3").to_str().unwrap()).unwrap();
        let app = test::init_service(
            App::new()
                .wrap(jwt.middleware())
                .configure(routes(jwt.clone())),
        )
        .await;

        let login = test::TestRequest::post()
            .uri("/api/v1/auth/token/obtain/")
            .insert_header(("User-Agent", PHONE))
            .peer_addr("203.0.113.7:4711".parse().unwrap())
            .set_json(json!({ "username": "alice", "password": "wonderland-42" }))
            .to_request();
        let tokens: Value = test::call_and_read_body_json(&app, login).await;
        let bearer = format!("Bearer {}", tokens["access"].as_str().unwrap());

        let list = test::TestRequest::get()
            .uri("/api/v1/auth/token/sessions/")
            .insert_header(("Authorization", bearer.as_str()))
            .to_request();
        let sessions: Value = test::call_and_read_body_json(&app, list).await;
        let session = &sessions[0];
        assert_eq!(session["os"], "iOS 17.4.1");
        assert_eq!(session["device"], "Apple iPhone");
        assert_eq!(session["ip"], "203.0.113.7");
        assert_eq!(session["current"], true);

        let end = test::TestRequest::delete()
            .uri(&format!(
                "/api/v1/auth/token/sessions/{}/",
                session["id"].as_str().unwrap()
            ))
            .insert_header(("Authorization", bearer.as_str()))
            .to_request();
        assert_eq!(
            test::call_service(&app, end).await.status(),
            StatusCode::NO_CONTENT
        );

        let after = test::TestRequest::get()
            .uri("/api/v1/auth/token/sessions/")
            .insert_header(("Authorization", bearer.as_str()))
            .to_request();
        assert_eq!(
            test::call_service(&app, after).await.status(),
            StatusCode::UNAUTHORIZED,
            "the logged-out device's token is refused"
        );
    }
}
