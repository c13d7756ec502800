//! The user cache with the registry: an authenticated request asks the
//! store nothing while the user is cached, and a user changed by another
//! process (announced through the registry) is read again at its next
//! request on SQLite, within the notification delay on PostgreSQL.
#![cfg(feature = "registry")]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;
use common::{NOW, PASSWORD, TestStore, call, get_with_token, post_json};
use jwt_actix::{AuthSettings, JwtAuth, UserCache};
use jwt_core::{ManualClock, TokenService};
use jwt_registry::testing::{TestDatabase, databases};
use jwt_registry::{POSTGRES_DELAY, Registry, RegistrySettings, Revocation};
use serde_json::json;

const OBTAIN: &str = "/api/v1/auth/token/obtain/";
const ME: &str = "/api/v1/me/";

fn open(db: &TestDatabase, revocation: Revocation) -> Registry {
    let settings = RegistrySettings {
        database_url: db.url.clone(),
        revocation,
        ..RegistrySettings::default()
    };
    Registry::builder(settings)
        .clock(Arc::new(ManualClock::at(NOW)))
        .open()
        .unwrap()
        .0
}

/// An app whose store caches users, over a registry with `revocation`.
fn cached_app(db: &TestDatabase, revocation: Revocation) -> (JwtAuth<TestStore>, TestStore) {
    let mut store = TestStore::new();
    store.cache = Some(UserCache::new(100, Duration::from_secs(3600)));
    let tokens = TokenService::builder(&common::token_settings())
        .clock(ManualClock::at(NOW))
        .build()
        .unwrap();
    let jwt = JwtAuth::builder(tokens, AuthSettings::default(), store.clone())
        .registry(open(db, revocation))
        .build()
        .unwrap();
    (jwt, store)
}

/// alice logs in: her access token.
async fn alice_access<S, B>(app: &S) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let pair = call(
        app,
        post_json(OBTAIN, json!({"username": "alice", "password": PASSWORD})),
    )
    .await
    .body;
    pair["access"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_cached_user_is_read_again_once_another_process_announces_its_change() {
    for db in databases("user_cache") {
        let (jwt, store) = cached_app(&db, Revocation::Cached);
        let app = test::init_service(common::app(jwt)).await;
        let access = alice_access(&app).await;
        for _ in 0..3 {
            let answer = call(&app, get_with_token(ME, &access)).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", db.name);
        }
        assert_eq!(store.loads(), 1, "{}: read once, then cached", db.name);

        // Changed behind the cache's back: still served from it.
        store.set_active(1, false);
        let answer = call(&app, get_with_token(ME, &access)).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{}: nothing announced",
            db.name
        );

        // Announced by another process: read again, refused.
        open(&db, Revocation::Strict)
            .database()
            .write(|conn| jwt_registry::announce_user_changes(conn, &["1"]))
            .unwrap();
        let started = Instant::now();
        loop {
            let answer = call(&app, get_with_token(ME, &access)).await;
            if answer.status == StatusCode::UNAUTHORIZED {
                assert_eq!(answer.body["code"], "user_inactive", "{}", db.name);
                break;
            }
            assert!(
                db.name != "sqlite" && started.elapsed() < POSTGRES_DELAY * 10,
                "{}: still {} after {:?}",
                db.name,
                answer.status,
                started.elapsed()
            );
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(store.loads(), 2, "{}", db.name);
    }
}

#[actix_web::test]
async fn a_registry_that_cannot_tell_of_changes_leaves_the_cache_unused() {
    for db in databases("user_cache_strict") {
        let (jwt, store) = cached_app(&db, Revocation::Strict);
        assert!(!store.cache.as_ref().unwrap().is_serving());
        let app = test::init_service(common::app(jwt)).await;
        let access = alice_access(&app).await;
        call(&app, get_with_token(ME, &access)).await;
        store.set_active(1, false);
        let answer = call(&app, get_with_token(ME, &access)).await;
        assert_eq!(
            (answer.status, answer.body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("user_inactive")),
            "{}: every request reads the user",
            db.name
        );
        assert_eq!(store.loads(), 2, "{}", db.name);
    }
}
