//! The registry on the HTTP side, with the Django package's semantics, on
//! SQLite and (with `DATABASE_URL`) PostgreSQL.
#![cfg(feature = "registry")]

mod common;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::test;
use common::{PASSWORD, RegistryHarness, TestStore, call, get_with_token, post_json};
use jwt_actix::{AuthSettings, JwtAuth};
use jwt_core::TokenService;
use jwt_registry::testing::{TestDatabase, databases};
use jwt_registry::{Registry, RegistrySettings, Revocation};
use serde_json::{Value, json};

const OBTAIN: &str = "/api/v1/auth/token/obtain/";
const REFRESH: &str = "/api/v1/auth/token/refresh/";
const VERIFY: &str = "/api/v1/auth/token/verify/";
const EXPIRE: &str = "/api/v1/auth/token/expire/";
const ME: &str = "/api/v1/me/";

fn setup(db: &TestDatabase, registry: RegistrySettings, auth: AuthSettings) -> RegistryHarness {
    common::with_registry(db, registry, auth, |builder| builder)
}

fn default_setup(db: &TestDatabase) -> RegistryHarness {
    setup(db, RegistrySettings::default(), AuthSettings::default())
}

use jwt_registry::testing::count;

fn tokens(registry: &Registry) -> i64 {
    count(registry, "jwt_token")
}

fn connections(registry: &Registry) -> i64 {
    count(registry, "jwt_token_user_connection")
}

fn force_expired(registry: &Registry) -> i64 {
    count(registry, "jwt_token WHERE expired_at < internal_expired_at")
}

fn active(registry: &Registry) -> i64 {
    tokens(registry) - force_expired(registry)
}

fn credentials() -> Value {
    json!({"username": "alice", "password": PASSWORD})
}

fn field(body: &Value, name: &str) -> String {
    body[name].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn obtain_and_refresh_register_the_tree() {
    for db in databases("http_register") {
        for rotate in [false, true] {
            let s = setup(
                &db,
                RegistrySettings::default(),
                AuthSettings {
                    rotate_refresh_tokens: rotate,
                    ..AuthSettings::default()
                },
            );
            let before = tokens(&s.registry);
            let app = test::init_service(common::app(s.jwt.clone())).await;
            let pair = call(&app, post_json(OBTAIN, credentials())).await.body;
            assert_eq!(
                tokens(&s.registry) - before,
                2,
                "{}: obtain registers two",
                db.name
            );
            let answer = call(
                &app,
                post_json(REFRESH, json!({"refresh": field(&pair, "refresh")})),
            )
            .await;
            assert_eq!(answer.status, StatusCode::OK);
            let expected = if rotate { 4 } else { 3 };
            assert_eq!(
                tokens(&s.registry) - before,
                expected,
                "{}: rotate={rotate}",
                db.name
            );
        }
        let s = default_setup(&db);
        assert_eq!(
            connections(&s.registry),
            tokens(&s.registry),
            "{}: every token connected",
            db.name
        );
    }
}

#[actix_web::test]
async fn force_expired_tokens_are_refused_everywhere_with_token_expired() {
    for db in databases("http_refused") {
        let s = default_setup(&db);
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let pair = call(&app, post_json(OBTAIN, credentials())).await.body;
        let (refresh, access) = (field(&pair, "refresh"), field(&pair, "access"));
        assert_eq!(
            call(&app, get_with_token(ME, &access)).await.status,
            StatusCode::OK
        );
        let expired = call(
            &app,
            post_json(EXPIRE, json!({"token": refresh, "affect_tree": true})),
        )
        .await;
        assert_eq!(
            (expired.status, expired.text.as_str()),
            (StatusCode::OK, "{}"),
            "{}",
            db.name
        );
        let expected = r#"{"detail":"Token is no longer valid.","code":"token_expired"}"#;
        let answers = [
            call(&app, get_with_token(ME, &access)).await,
            call(&app, post_json(REFRESH, json!({ "refresh": refresh }))).await,
            call(&app, post_json(VERIFY, json!({ "token": access }))).await,
            call(&app, post_json(VERIFY, json!({ "token": refresh }))).await,
        ];
        for answer in answers {
            assert_eq!(
                (answer.status, answer.text.as_str()),
                (StatusCode::UNAUTHORIZED, expected),
                "{}",
                db.name
            );
        }
    }
}

#[actix_web::test]
async fn the_expire_view_answers_once_then_refuses() {
    for db in databases("http_expire") {
        let s = default_setup(&db);
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let pair = call(&app, post_json(OBTAIN, credentials())).await.body;
        let access = field(&pair, "access");
        let first = call(&app, post_json(EXPIRE, json!({ "token": access }))).await;
        assert_eq!(
            (first.status, first.text.as_str()),
            (StatusCode::OK, "{}"),
            "{}",
            db.name
        );
        assert_eq!(
            force_expired(&s.registry),
            1,
            "only the token, not its tree"
        );
        let no_longer = r#"{"token":["Token is no longer valid."]}"#;
        for token in [access.as_str(), "garbage"] {
            let again = call(&app, post_json(EXPIRE, json!({ "token": token }))).await;
            assert_eq!(
                (again.status, again.text.as_str()),
                (StatusCode::BAD_REQUEST, no_longer)
            );
        }
        let bad_flag = call(
            &app,
            post_json(
                EXPIRE,
                json!({"token": field(&pair, "refresh"), "affect_tree": "maybe"}),
            ),
        )
        .await;
        assert_eq!(
            bad_flag.text,
            r#"{"affect_tree":["Must be a valid boolean."]}"#
        );
        let both = call(
            &app,
            post_json(EXPIRE, json!({"token": "garbage", "affect_tree": [1]})),
        )
        .await;
        assert_eq!(
            both.text,
            r#"{"token":["Token is no longer valid."],"affect_tree":["Must be a valid boolean."]}"#,
            "every field's error, in field order"
        );
        let missing = call(&app, post_json(EXPIRE, json!({}))).await;
        assert_eq!(missing.text, r#"{"token":["This field is required."]}"#);
        // A correctly signed token the registry never saw is recorded force-expired.
        let tokens = s.jwt.tokens();
        let unseen = tokens.encode(&tokens.refresh_for_user(1).unwrap()).unwrap();
        assert_eq!(
            call(&app, post_json(EXPIRE, json!({ "token": unseen })))
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(force_expired(&s.registry), 2);
        let refused = call(&app, post_json(REFRESH, json!({ "refresh": unseen }))).await;
        assert_eq!(refused.body["code"], "token_expired");
    }
}

#[actix_web::test]
async fn expire_on_refresh_expires_the_rest_of_the_tree() {
    for db in databases("http_expire_on_refresh") {
        let settings = RegistrySettings {
            expire_on_refresh: true,
            ..RegistrySettings::default()
        };
        let s = setup(&db, settings.clone(), AuthSettings::default());
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let pair = call(&app, post_json(OBTAIN, credentials())).await.body;
        let refresh = field(&pair, "refresh");
        s.clock.advance(std::time::Duration::from_secs(1));
        call(&app, post_json(REFRESH, json!({ "refresh": refresh }))).await;
        s.clock.advance(std::time::Duration::from_secs(1));
        call(&app, post_json(REFRESH, json!({ "refresh": refresh }))).await;
        assert_eq!(
            (force_expired(&s.registry), active(&s.registry)),
            (2, 2),
            "{}",
            db.name
        );
        // The old access tokens are refused; the refresh token still works.
        assert_eq!(
            call(&app, get_with_token(ME, &field(&pair, "access")))
                .await
                .body["code"],
            "token_expired"
        );

        // With rotation the old tree goes entirely.
        let rotating = setup(
            &db,
            settings,
            AuthSettings {
                rotate_refresh_tokens: true,
                ..AuthSettings::default()
            },
        );
        let app = test::init_service(common::app(rotating.jwt.clone())).await;
        rotating.clock.advance(std::time::Duration::from_secs(3));
        let rotated = call(&app, post_json(REFRESH, json!({ "refresh": refresh }))).await;
        assert_eq!(rotated.status, StatusCode::OK);
        assert_eq!(
            (force_expired(&s.registry), active(&s.registry)),
            (4, 2),
            "{}",
            db.name
        );
        let old_again = call(&app, post_json(REFRESH, json!({ "refresh": refresh }))).await;
        assert_eq!(old_again.body["code"], "token_expired");
        let new_refresh = field(&rotated.body, "refresh");
        assert_eq!(
            call(&app, post_json(REFRESH, json!({ "refresh": new_refresh })))
                .await
                .status,
            StatusCode::OK
        );
    }
}

#[actix_web::test]
async fn parallel_registration_loses_nothing_and_registration_off_registers_nothing() {
    for db in databases("http_parallel") {
        let settings = RegistrySettings {
            registration_parallel: true,
            ..RegistrySettings::default()
        };
        let s = setup(&db, settings, AuthSettings::default());
        let app = test::init_service(common::app(s.jwt.clone())).await;
        for _ in 0..10 {
            assert_eq!(
                call(&app, post_json(OBTAIN, credentials())).await.status,
                StatusCode::OK
            );
        }
        s.jwt.flush_registrations();
        assert_eq!(
            tokens(&s.registry),
            20,
            "{}: every token registered",
            db.name
        );
        assert_eq!(connections(&s.registry), 20);

        let off = RegistrySettings {
            registration_on_signal: false,
            ..RegistrySettings::default()
        };
        let quiet = setup(&db, off, AuthSettings::default());
        let app = test::init_service(common::app(quiet.jwt.clone())).await;
        call(&app, post_json(OBTAIN, credentials())).await;
        assert_eq!(
            tokens(&quiet.registry),
            20,
            "{}: registration off adds nothing",
            db.name
        );
    }
}

#[actix_web::test]
async fn require_registered_refuses_tokens_the_registry_never_saw() {
    for db in databases("http_require_registered") {
        let settings = RegistrySettings {
            require_registered: true,
            revocation: Revocation::Cached,
            ..RegistrySettings::default()
        };
        let s = setup(&db, settings, AuthSettings::default());
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let tokens = s.jwt.tokens();
        let refresh = tokens.refresh_for_user(1).unwrap();
        let access = tokens
            .encode(&tokens.access_from(&refresh).unwrap())
            .unwrap();
        let refresh = tokens.encode(&refresh).unwrap();
        assert_eq!(
            call(&app, get_with_token(ME, &access)).await.body["code"],
            "token_expired",
            "{}",
            db.name
        );
        assert_eq!(
            call(&app, post_json(REFRESH, json!({ "refresh": refresh })))
                .await
                .body["code"],
            "token_expired"
        );
        let pair = call(&app, post_json(OBTAIN, credentials())).await.body;
        assert_eq!(
            call(&app, get_with_token(ME, &field(&pair, "access")))
                .await
                .status,
            StatusCode::OK
        );
    }
}

#[actix_web::test]
async fn without_require_registered_an_unseen_refresh_token_is_registered_for_its_user_when_used() {
    for db in databases("http_unseen_refresh") {
        let s = default_setup(&db);
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let tokens = s.jwt.tokens();
        let refresh = tokens.encode(&tokens.refresh_for_user(1).unwrap()).unwrap();
        assert_eq!(
            call(&app, post_json(REFRESH, json!({ "refresh": refresh })))
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            tokens_of(&s),
            (2, 2),
            "{}: registered, connected to the refresh token's user",
            db.name
        );
    }
}

fn tokens_of(s: &RegistryHarness) -> (i64, i64) {
    (tokens(&s.registry), connections(&s.registry))
}

#[actix_web::test]
async fn expire_requires_auth_of_the_same_user() {
    for db in databases("http_expire_auth") {
        let settings = RegistrySettings {
            expire_requires_auth: true,
            ..RegistrySettings::default()
        };
        let s = setup(&db, settings, AuthSettings::default());
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let pair = call(&app, post_json(OBTAIN, credentials())).await.body;
        let (refresh, access) = (field(&pair, "refresh"), field(&pair, "access"));
        let anonymous = call(&app, post_json(EXPIRE, json!({ "token": refresh }))).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{}", db.name);
        s.jwt.store().add(3, "carol", true);
        let tokens = s.jwt.tokens();
        let stranger = tokens
            .encode(
                &tokens
                    .access_from(&tokens.refresh_for_user(3).unwrap())
                    .unwrap(),
            )
            .unwrap();
        let by_other = test::TestRequest::post()
            .uri(EXPIRE)
            .insert_header(("Authorization", format!("Bearer {stranger}")))
            .set_json(json!({ "token": refresh }))
            .to_request();
        let answer = call(&app, by_other).await;
        assert_eq!(
            (answer.status, answer.text.as_str()),
            (
                StatusCode::BAD_REQUEST,
                r#"{"token":["Token is no longer valid."]}"#
            ),
            "another user cannot expire it, nor learn that it exists"
        );
        let by_owner = test::TestRequest::post()
            .uri(EXPIRE)
            .insert_header(("Authorization", format!("Bearer {access}")))
            .set_json(json!({ "token": refresh }))
            .to_request();
        assert_eq!(call(&app, by_owner).await.status, StatusCode::OK);
        assert_eq!(force_expired(&s.registry), 1);
    }
}

#[actix_web::test]
async fn on_db_down_decides_for_protected_routes_and_token_routes_answer_503() {
    // SQLite only: an exhausted pool is an unreachable database (after the
    // pool's 5 s wait), without stopping a server.
    let databases = databases("http_on_db_down");
    let db = &databases[0];
    for (policy, me_status) in [
        (
            jwt_registry::OnDbDown::Deny,
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        (jwt_registry::OnDbDown::Allow, StatusCode::OK),
    ] {
        let settings = RegistrySettings {
            revocation: Revocation::Strict,
            on_db_down: policy,
            ..RegistrySettings::default()
        };
        let s = setup(db, settings, AuthSettings::default());
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let pair = call(&app, post_json(OBTAIN, credentials())).await.body;
        let held: Vec<_> = (0..8)
            .map(|_| s.registry.database().get().unwrap())
            .collect();
        let me = call(&app, get_with_token(ME, &field(&pair, "access"))).await;
        assert_eq!(me.status, me_status, "{policy:?}: {}", me.text);
        if me.status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(me.text, r#"{"detail":"Service temporarily unavailable."}"#);
        }
        let verify = call(
            &app,
            post_json(VERIFY, json!({"token": field(&pair, "access")})),
        )
        .await;
        assert_eq!(
            verify.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{policy:?}: token routes always 503"
        );
        drop(held);
    }
}

#[actix_web::test]
async fn registry_listeners_hear_registrations_and_expiries() {
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Heard(Arc<Mutex<Vec<String>>>);

    impl jwt_registry::RegistryListener for Heard {
        fn pairs_registered(&self, context: &jwt_registry::Context) {
            self.0
                .lock()
                .unwrap()
                .push(format!("registered {}", context.pairs.len()));
        }
        fn tokens_connected(&self, user_id: &str, tokens: &[jwt_registry::types::RowId]) {
            self.0
                .lock()
                .unwrap()
                .push(format!("connected {user_id} {}", tokens.len()));
        }
        fn tokens_expired(&self, jtis: &[String], reach: jwt_registry::Reach) {
            let tree_affected = reach == jwt_registry::Reach::Tree;
            self.0
                .lock()
                .unwrap()
                .push(format!("expired {} tree={tree_affected}", jtis.len()));
        }
        fn pipeline_run(&self, _: &jwt_registry::Context) {
            self.0.lock().unwrap().push("pipeline".into());
        }
    }

    for db in databases("http_registry_events") {
        let heard = Heard::default();
        let settings = RegistrySettings {
            database_url: db.url.clone(),
            ..RegistrySettings::default()
        };
        let (registry, _) = Registry::builder(settings)
            .listener(heard.clone())
            .open()
            .unwrap();
        let jwt = JwtAuth::builder(
            TokenService::new(&common::token_settings()).unwrap(),
            AuthSettings::default(),
            TestStore::new(),
        )
        .registry(registry)
        .build()
        .unwrap();
        let app = test::init_service(common::app(jwt)).await;
        let pair = call(&app, post_json(OBTAIN, credentials())).await.body;
        call(
            &app,
            post_json(
                EXPIRE,
                json!({"token": field(&pair, "refresh"), "affect_tree": true}),
            ),
        )
        .await;
        assert_eq!(
            *heard.0.lock().unwrap(),
            [
                "registered 2",
                "connected 1 2",
                "pipeline",
                "expired 2 tree=true"
            ],
            "{}",
            db.name
        );
    }
}
