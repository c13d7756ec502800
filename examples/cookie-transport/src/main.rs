//! jwt-actix for a browser app: `[auth] transport = "cookie"`. The tokens
//! travel in `HttpOnly` cookies page scripts cannot read; every unsafe
//! request a cookie authenticates must repeat the `csrftoken` cookie in an
//! `X-CSRF-Token` header, which a page of another site cannot do; and
//! `logout/` (which needs the registry: a script cannot delete the cookies)
//! ends the session and clears them.
//!
//! ```text
//! cargo run -p example-cookie-transport   # creates ./cookies.sqlite3
//! ```

use std::future::{Future, ready};

use actix_web::{App, HttpResponse, HttpServer, web};
use jwt_actix::jwt_core::{TokenService, TokenSettings, UserId};
use jwt_actix::jwt_registry::{Registry, RegistrySettings};
use jwt_actix::{
    AuthSettings, Authenticated, BackendError, JwtAuth, Transport, UserStore, protected_resource,
};

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

fn jwt(database_url: &str) -> Result<JwtAuth<Users>, Box<dyn std::error::Error>> {
    let tokens = TokenService::new(&TokenSettings {
        signing_key: "an-example-key-of-at-least-32-bytes!!".into(),
        ..TokenSettings::default()
    })?;
    let (registry, _) = Registry::builder(RegistrySettings {
        database_url: database_url.into(),
        ..RegistrySettings::default()
    })
    .leeway(tokens.leeway())
    .open()?;
    let settings = AuthSettings {
        transport: Transport::Cookie,
        ..AuthSettings::default()
    };
    Ok(JwtAuth::builder(tokens, settings, Users)
        .registry(registry)
        .build()?)
}

async fn me(auth: Authenticated<i64>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "id": auth.user() }))
}

fn routes(jwt: JwtAuth<Users>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.service(web::scope("/api/v1/auth/token").configure(jwt.token_routes().configure()))
            .service(protected_resource::<i64>("/api/v1/me/", "GET").route(|| web::get().to(me)));
    }
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let jwt = jwt("cookies.sqlite3")?;
    HttpServer::new(move || {
        App::new()
            .wrap(jwt.middleware())
            .configure(routes(jwt.clone()))
    })
    .bind(("127.0.0.1", 8000))?
    .run()
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use actix_web::cookie::Cookie;
    use actix_web::http::StatusCode;
    use actix_web::test;
    use jwt_actix::{ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER, REFRESH_COOKIE};
    use serde_json::json;

    use super::*;

    #[actix_web::test]
    async fn cookies_carry_the_tokens_and_unsafe_requests_need_the_csrf_header() {
        let dir = tempfile::tempdir().unwrap();
        let jwt = jwt(dir.path().join("cookies.sqlite3").to_str().unwrap()).unwrap();
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
        let answer = test::call_service(&app, login).await;
        assert_eq!(answer.status(), StatusCode::OK);
        let cookies: Vec<Cookie<'static>> = answer
            .response()
            .cookies()
            .map(Cookie::into_owned)
            .collect();
        let value = |name: &str| {
            cookies
                .iter()
                .find(|c| c.name() == name)
                .map(|c| c.value().to_owned())
                .unwrap()
        };
        let access = cookies.iter().find(|c| c.name() == ACCESS_COOKIE).unwrap();
        assert_eq!(
            access.http_only(),
            Some(true),
            "scripts cannot read the token"
        );
        let (access, refresh, csrf) = (
            value(ACCESS_COOKIE),
            value(REFRESH_COOKIE),
            value(CSRF_COOKIE),
        );
        let body = test::read_body(answer).await;
        assert_eq!(body, "{}", "no token in the body");

        // A safe request: the access cookie is enough.
        let me = test::TestRequest::get()
            .uri("/api/v1/me/")
            .cookie(Cookie::new(ACCESS_COOKIE, access.clone()))
            .to_request();
        assert_eq!(test::call_service(&app, me).await.status(), StatusCode::OK);

        // An unsafe one without the header: what another site's page would send.
        let forged = test::TestRequest::post()
            .uri("/api/v1/auth/token/logout/")
            .cookie(Cookie::new(ACCESS_COOKIE, access.clone()))
            .cookie(Cookie::new(CSRF_COOKIE, csrf.clone()))
            .to_request();
        assert_eq!(
            test::call_service(&app, forged).await.status(),
            StatusCode::FORBIDDEN
        );

        let logout = test::TestRequest::post()
            .uri("/api/v1/auth/token/logout/")
            .cookie(Cookie::new(ACCESS_COOKIE, access.clone()))
            .cookie(Cookie::new(REFRESH_COOKIE, refresh))
            .cookie(Cookie::new(CSRF_COOKIE, csrf.clone()))
            .insert_header((CSRF_HEADER, csrf))
            .to_request();
        let answer = test::call_service(&app, logout).await;
        assert_eq!(answer.status(), StatusCode::NO_CONTENT);
        let cleared: Vec<(String, String)> = answer
            .response()
            .cookies()
            .map(|c| (c.name().to_owned(), c.value().to_owned()))
            .collect();
        assert_eq!(cleared.len(), 3, "{cleared:?}");
        assert!(
            cleared.iter().all(|(_, value)| value.is_empty()),
            "{cleared:?}"
        );

        let after = test::TestRequest::get()
            .uri("/api/v1/me/")
            .cookie(Cookie::new(ACCESS_COOKIE, access))
            .to_request();
        assert_eq!(
            test::call_service(&app, after).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}
