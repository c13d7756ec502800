//! Load is shed, never queued without end: logins waiting for a password
//! check, registrations waiting for the background worker, and a SQLite
//! database another process holds locked.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::test;
use common::{Harness, PASSWORD, call, post_json, token_settings};
use jwt_actix::AuthSettings;
use serde_json::json;

const OBTAIN: &str = "/api/v1/auth/token/obtain/";

fn login(user: &str) -> actix_http::Request {
    post_json(OBTAIN, json!({"username": user, "password": PASSWORD}))
}

fn queue(length: usize, timeout_millis: u64) -> AuthSettings {
    AuthSettings {
        login_queue_length: length,
        login_queue_timeout: Duration::from_millis(timeout_millis),
        ..AuthSettings::default()
    }
}

#[actix_web::test]
async fn a_login_arriving_at_a_full_queue_is_answered_503_at_once() {
    let h = Harness::with_slots(token_settings(), queue(1, 5_000), Some(1));
    h.store.counters.check_millis.store(300, Ordering::SeqCst);
    let app = test::init_service(common::app(h.jwt.clone())).await;
    // One checks, one waits, the third finds the queue full.
    let answers = futures_util::future::join_all([
        call(&app, login("alice")),
        call(&app, login("alice")),
        call(&app, login("nobody")),
    ])
    .await;
    let statuses: Vec<StatusCode> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::SERVICE_UNAVAILABLE
        ]
    );
    let shed = &answers[2];
    assert_eq!(
        shed.body,
        json!({"detail": "Service temporarily unavailable."})
    );
    assert_eq!(
        shed.headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5"),
        "the wait bound, in seconds"
    );
    assert_eq!(
        h.store.checks(),
        2,
        "no password is checked for a shed login"
    );
}

#[actix_web::test]
async fn a_login_that_waits_too_long_is_answered_503() {
    let h = Harness::with_slots(token_settings(), queue(8, 200), Some(1));
    h.store.counters.check_millis.store(1_000, Ordering::SeqCst);
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let answers =
        futures_util::future::join_all([call(&app, login("alice")), call(&app, login("alice"))])
            .await;
    assert_eq!(answers[0].status, StatusCode::OK);
    assert_eq!(answers[1].status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        answers[1]
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1"),
        "at least a second"
    );
    // Once the slot is free again, logins work.
    h.store.counters.check_millis.store(0, Ordering::SeqCst);
    assert_eq!(call(&app, login("alice")).await.status, StatusCode::OK);
}

#[cfg(feature = "registry")]
mod registry {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};
    use jwt_registry::RegistrySettings;
    use jwt_registry::testing::{count, databases};

    use super::*;

    #[actix_web::test]
    async fn a_full_registration_queue_makes_logins_wait_and_loses_nothing() {
        for db in databases("http_bounded_queue") {
            let name = db.name;
            let gate = jwt_registry::testing::Gate::default();
            let step = gate.clone();
            let settings = RegistrySettings {
                registration_parallel: true,
                pipeline: ["gate", "register_pairs", "connecting_user"]
                    .map(String::from)
                    .to_vec(),
                ..RegistrySettings::default()
            };
            let s = common::with_registry_tokens(
                &db,
                token_settings(),
                settings,
                AuthSettings::default(),
                move |b| b.step(step).registration_queue(1),
                |b| b,
            );
            let app = test::init_service(common::app(s.jwt.clone())).await;
            // The worker holds the first, the queue the second; the third
            // waits for room.
            let logins = futures_util::future::join_all([
                call(&app, login("alice")),
                call(&app, login("alice")),
                call(&app, login("alice")),
            ]);
            futures_util::pin_mut!(logins);
            let early = actix_web::rt::time::timeout(Duration::from_millis(500), &mut logins).await;
            assert!(
                early.is_err(),
                "{name}: a login waits for room in the queue"
            );
            // Meanwhile the server answers others.
            let public = call(&app, test::TestRequest::get().uri("/public").to_request()).await;
            assert_eq!(public.status, StatusCode::OK, "{name}");
            gate.open();
            let answers = logins.await;
            assert!(
                answers.iter().all(|a| a.status == StatusCode::OK),
                "{name}: every login answered"
            );
            s.jwt.flush_registrations();
            assert_eq!(count(&s.registry, "jwt_token"), 6, "{name}: nothing lost");
        }
    }

    #[actix_web::test]
    async fn a_sqlite_database_locked_past_the_busy_timeout_is_503() {
        let db = databases("http_sqlite_locked").remove(0);
        let s = common::with_registry(
            &db,
            RegistrySettings::default(),
            AuthSettings::default(),
            |b| b,
        );
        let app = test::init_service(common::app(s.jwt.clone())).await;
        // Another process holds the write lock for longer than the 5 s busy
        // timeout.
        let mut other = SqliteConnection::establish(&db.url).unwrap();
        other.batch_execute("BEGIN IMMEDIATE").unwrap();
        let answer = call(&app, login("alice")).await;
        other.batch_execute("ROLLBACK").unwrap();
        assert_eq!(
            (answer.status, answer.body),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"detail": "Service temporarily unavailable."})
            )
        );
    }
}
