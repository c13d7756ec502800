//! Tokens signed with an Ed25519 key (`EdDSA`) named by a `kid`, while the
//! RS256 key used until now still verifies the tokens it signed; the public
//! keys are published at `GET …/.well-known/jwks.json` for other services.
//!
//! ```text
//! openssl genpkey -algorithm ed25519 -out new.pem
//! JWT_NEW_KEY=new.pem JWT_OLD_KEY=old-rsa.pem cargo run -p example-asymmetric-keys
//! curl -s localhost:8000/api/v1/auth/token/.well-known/jwks.json
//! ```

use std::future::{Future, ready};
use std::path::PathBuf;

use actix_web::{App, HttpServer, web};
use jwt_actix::jwt_core::{Algorithm, TokenService, TokenSettings, UserId, VerifyingKeySettings};
use jwt_actix::{AuthSettings, BackendError, JwtAuth, UserStore};

/// The rotation: new tokens are EdDSA with `kid` "2026-12"; tokens the RS256
/// key signed (kid "2026-11") verify until they expire, then the old key
/// can go.
fn settings(new_key: PathBuf, old_key: PathBuf) -> TokenSettings {
    TokenSettings {
        algorithm: Algorithm::EdDSA,
        signing_key_file: Some(new_key),
        signing_key_id: "2026-12".into(),
        verifying_keys: vec![VerifyingKeySettings {
            kid: "2026-11".into(),
            algorithm: Some(Algorithm::RS256),
            key_file: Some(old_key),
            ..VerifyingKeySettings::default()
        }],
        ..TokenSettings::default()
    }
}

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

fn jwt(settings: &TokenSettings) -> JwtAuth<Users> {
    let tokens = TokenService::new(settings).expect("readable keys");
    JwtAuth::builder(tokens, AuthSettings::default(), Users)
        .build()
        .expect("valid auth settings")
}

fn routes(jwt: JwtAuth<Users>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.service(web::scope("/api/v1/auth/token").configure(jwt.token_routes().configure()));
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let file =
        |name: &str| PathBuf::from(std::env::var(name).unwrap_or_else(|_| panic!("set {name}")));
    let jwt = jwt(&settings(file("JWT_NEW_KEY"), file("JWT_OLD_KEY")));
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
    use serde_json::{Value, json};

    use super::*;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../crates/jwt-core/tests/fixtures/keys")
            .join(name)
    }

    #[actix_web::test]
    async fn new_tokens_are_eddsa_old_ones_still_verify_and_both_keys_are_published() {
        let jwt = jwt(&settings(
            fixture("ed25519-private.pem"),
            fixture("rsa-public.pem"),
        ));
        let app = test::init_service(
            App::new()
                .wrap(jwt.middleware())
                .configure(routes(jwt.clone())),
        )
        .await;

        // A token the old key signed, as the service minted them before.
        let old = TokenService::new(&TokenSettings {
            algorithm: Algorithm::RS256,
            signing_key_file: Some(fixture("rsa-private.pem")),
            signing_key_id: "2026-11".into(),
            ..TokenSettings::default()
        })
        .unwrap();
        let old_access = old
            .encode(&old.access_from(&old.refresh_for_user(1).unwrap()).unwrap())
            .unwrap();

        let login = test::TestRequest::post()
            .uri("/api/v1/auth/token/obtain/")
            .set_json(json!({ "username": "alice", "password": "wonderland-42" }))
            .to_request();
        let tokens: Value = test::call_and_read_body_json(&app, login).await;
        let new_access = tokens["access"].as_str().unwrap().to_owned();
        assert_eq!(
            jwt.tokens().verify_auth(&new_access).unwrap().user_id(),
            Some(&UserId::Int(1))
        );

        for token in [&new_access, &old_access] {
            let verify = test::TestRequest::post()
                .uri("/api/v1/auth/token/verify/")
                .set_json(json!({ "token": token }))
                .to_request();
            assert_eq!(
                test::call_service(&app, verify).await.status(),
                StatusCode::OK
            );
        }

        let jwks = test::TestRequest::get()
            .uri("/api/v1/auth/token/.well-known/jwks.json")
            .to_request();
        let jwks: Value = test::call_and_read_body_json(&app, jwks).await;
        let published: Vec<(&str, &str)> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| (key["kid"].as_str().unwrap(), key["kty"].as_str().unwrap()))
            .collect();
        assert_eq!(published, [("2026-12", "OKP"), ("2026-11", "RSA")]);
    }
}
