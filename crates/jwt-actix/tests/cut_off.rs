//! What is cut off stays cut off, through HTTP: a token inside the leeway,
//! tokens the registry never saw (minted by the Django side with the shared
//! key, or while registration was off), a thief's refresh racing a late
//! registration on another instance. On SQLite and (with `DATABASE_URL`)
//! PostgreSQL, in both revocation modes where they differ.
#![cfg(feature = "registry")]

mod common;

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::test;
use common::{Answer, PASSWORD, RegistryHarness, call, get_with_token, post_json};
use jwt_actix::AuthSettings;
use jwt_core::TokenSettings;
use jwt_registry::testing::{TestDatabase, databases};
use jwt_registry::{RegistrySettings, Revocation};
use serde_json::{Value, json};

const PREFIX: &str = "/api/v1/auth/token";
const ME: &str = "/api/v1/me/";

fn path(tail: &str) -> String {
    format!("{PREFIX}/{tail}")
}

fn login(user: &str) -> actix_http::Request {
    post_json(
        &path("obtain/"),
        json!({"username": user, "password": PASSWORD}),
    )
}

fn refresh(token: &str) -> actix_http::Request {
    post_json(&path("refresh/"), json!({ "refresh": token }))
}

fn post_with_token(tail: &str, access: &str, body: Option<Value>) -> actix_http::Request {
    let request = test::TestRequest::post()
        .uri(&path(tail))
        .insert_header(("Authorization", format!("Bearer {access}")));
    match body {
        Some(body) => request.set_json(body),
        None => request,
    }
    .to_request()
}

fn text(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {body}"))
        .to_owned()
}

fn expired(answer: &Answer) -> bool {
    answer.status == StatusCode::UNAUTHORIZED && answer.body["code"] == "token_expired"
}

/// Asserts the answer is 401 `token_expired`.
fn assert_expired(answer: &Answer, what: &str) {
    assert!(expired(answer), "{what}: {} {}", answer.status, answer.text);
}

/// A registry harness: 3-second access tokens, a 30-second leeway; carol
/// (3) among the users.
fn leeway_setup(db: &TestDatabase, revocation: Revocation) -> RegistryHarness {
    let tokens = TokenSettings {
        access_token_lifetime: Duration::from_secs(3),
        leeway: Duration::from_secs(30),
        ..common::token_settings()
    };
    let registry = RegistrySettings {
        revocation,
        ..RegistrySettings::default()
    };
    let s =
        common::with_registry_tokens(db, tokens, registry, AuthSettings::default(), |b| b, |b| b);
    s.jwt.store().add(3, "carol", true);
    s
}

#[actix_web::test]
async fn a_logged_out_token_inside_the_leeway_stays_refused() {
    for db in databases("http_leeway_logout") {
        for revocation in [Revocation::Cached, Revocation::Strict] {
            let what = format!("{} {revocation:?}", db.name);
            let s = leeway_setup(&db, revocation);
            let app = test::init_service(common::app(s.jwt.clone())).await;
            let access = text(&call(&app, login("alice")).await.body, "access");
            let out = call(&app, post_with_token("logout/", &access, None)).await;
            assert_eq!(out.status, StatusCode::NO_CONTENT, "{what}: {}", out.text);
            // Past exp, inside the leeway; any write (carol logs in).
            s.clock.advance(Duration::from_secs(4));
            assert_eq!(call(&app, login("carol")).await.status, StatusCode::OK);
            let me = call(&app, get_with_token(ME, &access)).await;
            assert_expired(&me, &format!("{what}: logged out stays out"));
        }
    }
}

#[actix_web::test]
async fn expire_cuts_off_a_token_inside_the_leeway() {
    for db in databases("http_leeway_expire") {
        for revocation in [Revocation::Cached, Revocation::Strict] {
            let what = format!("{} {revocation:?}", db.name);
            let s = leeway_setup(&db, revocation);
            let app = test::init_service(common::app(s.jwt.clone())).await;
            let access = text(&call(&app, login("alice")).await.body, "access");
            s.clock.advance(Duration::from_secs(4));
            assert_eq!(
                call(&app, get_with_token(ME, &access)).await.status,
                StatusCode::OK,
                "{what}: still accepted inside the leeway"
            );
            let cut = call(&app, post_json(&path("expire/"), json!({"token": access}))).await;
            assert_eq!(cut.status, StatusCode::OK, "{what}: {}", cut.text);
            assert_eq!(call(&app, login("carol")).await.status, StatusCode::OK);
            let me = call(&app, get_with_token(ME, &access)).await;
            assert!(expired(&me), "{what}: {} {}", me.status, me.text);
            let again = call(&app, post_json(&path("expire/"), json!({"token": access}))).await;
            assert_eq!(
                again.status,
                StatusCode::BAD_REQUEST,
                "{what}: already cut off"
            );
        }
    }
}

/// A pair of alice's the registry never saw (as the Django side mints them).
fn unseen_pair(s: &RegistryHarness) -> (String, String) {
    let tokens = s.jwt.tokens();
    let refresh = tokens.refresh_for_user(1).unwrap();
    let access = tokens.access_from(&refresh).unwrap();
    (
        tokens.encode(&refresh).unwrap(),
        tokens.encode(&access).unwrap(),
    )
}

fn setup(db: &TestDatabase) -> RegistryHarness {
    common::with_registry(
        db,
        RegistrySettings::default(),
        AuthSettings::default(),
        |b| b,
    )
}

#[actix_web::test]
async fn logout_cuts_off_tokens_the_registry_never_saw() {
    for db in databases("http_logout_unseen") {
        let name = db.name;
        let s = setup(&db);
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let (refresh_token, access) = unseen_pair(&s);
        assert_eq!(
            call(&app, get_with_token(ME, &access)).await.status,
            StatusCode::OK
        );
        let out = call(
            &app,
            post_with_token("logout/", &access, Some(json!({"refresh": refresh_token}))),
        )
        .await;
        assert_eq!(out.status, StatusCode::NO_CONTENT, "{name}: {}", out.text);
        let me = call(&app, get_with_token(ME, &access)).await;
        assert_expired(&me, &format!("{name}: the access token"));
        let again = call(&app, refresh(&refresh_token)).await;
        assert_expired(&again, &format!("{name}: the refresh token named"));
    }
}

#[actix_web::test]
async fn logout_refuses_a_refresh_token_that_is_not_the_caller_s_and_changes_nothing() {
    for db in databases("http_logout_bad_refresh") {
        let name = db.name;
        let s = setup(&db);
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let (_, access) = unseen_pair(&s);
        let bobs = {
            let tokens = s.jwt.tokens();
            tokens.encode(&tokens.refresh_for_user(2).unwrap()).unwrap()
        };
        for (body, why) in [
            (json!({"refresh": "not-a-token"}), "garbage"),
            (json!({"refresh": bobs}), "another user's"),
            (json!({"refresh": access}), "an access token"),
        ] {
            let out = call(&app, post_with_token("logout/", &access, Some(body))).await;
            assert_eq!(
                (out.status, out.body.clone()),
                (
                    StatusCode::BAD_REQUEST,
                    json!({"refresh": ["Token is invalid or expired"]})
                ),
                "{name}: {why}"
            );
            assert_eq!(
                call(&app, get_with_token(ME, &access)).await.status,
                StatusCode::OK,
                "{name}: {why}: nothing changed"
            );
        }
        let out = call(
            &app,
            post_with_token("logout/", &access, Some(json!({"refresh": 7}))),
        )
        .await;
        assert_eq!(out.status, StatusCode::BAD_REQUEST, "{name}: a number");
        let out = call(
            &app,
            post_with_token("logout/", &access, Some(json!({"refresh": true}))),
        )
        .await;
        assert_eq!(
            out.body,
            json!({"refresh": ["Not a valid string."]}),
            "{name}: DRF's field errors"
        );
    }
}

#[actix_web::test]
async fn logout_all_refuses_every_earlier_token_and_a_login_after_it_works() {
    // A database each: a cut-off outlives the test's clock.
    for revocation in [Revocation::Cached, Revocation::Strict] {
        for db in databases("http_logout_all_unseen") {
            let what = format!("{} {revocation:?}", db.name);
            let s = common::with_registry(
                &db,
                RegistrySettings {
                    revocation,
                    ..RegistrySettings::default()
                },
                AuthSettings::default(),
                |b| b,
            );
            let app = test::init_service(common::app(s.jwt.clone())).await;
            let (unseen_refresh, unseen_access) = unseen_pair(&s);
            let access = text(&call(&app, login("alice")).await.body, "access");
            let started = Instant::now();
            let all = call(&app, post_with_token("logout-all/", &access, None)).await;
            assert_eq!(
                (all.status, all.body),
                (StatusCode::OK, json!({"revoked": 1})),
                "{what}"
            );
            assert!(
                started.elapsed() >= Duration::from_millis(900),
                "{what}: answered once its second was over"
            );
            let me = call(&app, get_with_token(ME, &unseen_access)).await;
            assert_expired(&me, &format!("{what}: unseen access"));
            let again = call(&app, refresh(&unseen_refresh)).await;
            assert_expired(&again, &format!("{what}: unseen refresh"));
            let verify = call(
                &app,
                post_json(&path("verify/"), json!({"token": unseen_access})),
            )
            .await;
            assert!(expired(&verify), "{what}: verify/ too");
            // The next second: a new login works.
            s.clock.advance(Duration::from_secs(1));
            let fresh = text(&call(&app, login("alice")).await.body, "access");
            assert_eq!(
                call(&app, get_with_token(ME, &fresh)).await.status,
                StatusCode::OK,
                "{what}: a login after"
            );
        }
    }
}

#[actix_web::test]
async fn refreshing_an_unseen_token_connects_the_login_to_its_user() {
    for db in databases("http_refresh_unseen_user") {
        let name = db.name;
        let s = setup(&db);
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let (unseen_refresh, _) = unseen_pair(&s);
        let answer = call(&app, refresh(&unseen_refresh)).await;
        assert_eq!(answer.status, StatusCode::OK, "{name}: {}", answer.text);
        let access = text(&answer.body, "access");
        let listed = call(&app, get_with_token(&path("sessions/"), &access)).await;
        let sessions = listed.body.as_array().cloned().unwrap_or_default();
        assert_eq!(
            sessions.len(),
            1,
            "{name}: the login is alice's: {}",
            listed.text
        );
        assert_eq!(sessions[0]["current"], json!(true), "{name}");
    }
}

fn thief_settings() -> AuthSettings {
    AuthSettings {
        rotate_refresh_tokens: true,
        reuse_detection: true,
        session_max_lifetime: Duration::from_secs(3600),
        ..AuthSettings::default()
    }
}

/// Two instances on one PostgreSQL: R0 → R1 on the first, whose
/// registration waits in its queue; R1 → R2 on the second; the victim's
/// replay of R0 kills R0's family. When R1's registration lands it joins
/// that family, and the thief's R2 and A2 die. (On SQLite a held
/// registration holds the one write lock, and the second instance could
/// not write at all: the registry's own test covers that order there.)
#[actix_web::test]
async fn a_thief_racing_a_late_registration_on_another_instance_is_cut_off() {
    for db in databases("http_late_registration") {
        if db.name == "sqlite" {
            continue;
        }
        let gate = jwt_registry::testing::Gate::default();
        let slow = {
            let gate = gate.clone();
            let registry = RegistrySettings {
                registration_parallel: true,
                pipeline: ["gate", "register_pairs", "connecting_user"]
                    .map(String::from)
                    .to_vec(),
                ..RegistrySettings::default()
            };
            common::with_registry(&db, registry, thief_settings(), move |b| b.step(gate))
        };
        let other =
            common::with_registry(&db, RegistrySettings::default(), thief_settings(), |b| b);
        let slow_app = test::init_service(common::app(slow.jwt.clone())).await;
        let other_app = test::init_service(common::app(other.jwt.clone())).await;
        let r0 = text(&call(&other_app, login("alice")).await.body, "refresh");
        let first = call(&slow_app, refresh(&r0)).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        let r1 = text(&first.body, "refresh");
        let second = call(&other_app, refresh(&r1)).await;
        assert_eq!(second.status, StatusCode::OK, "{}", second.text);
        let (r2, a2) = (text(&second.body, "refresh"), text(&second.body, "access"));
        let replay = call(&other_app, refresh(&r0)).await;
        assert!(expired(&replay), "the victim's replay: {}", replay.text);
        gate.open();
        slow.jwt.flush_registrations();
        // The other instance hears of it within its delay.
        let started = Instant::now();
        loop {
            let me = call(&other_app, get_with_token(ME, &a2)).await;
            if expired(&me) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "A2 still works: {} {}",
                me.status,
                me.text
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        let again = call(&other_app, refresh(&r2)).await;
        assert!(expired(&again), "R2: {} {}", again.status, again.text);
    }
}

/// One login refreshed over and over keeps a bounded number of live access
/// tokens: the oldest are cut off, the refresh token keeps working.
#[actix_web::test]
async fn a_login_keeps_at_most_the_cap_of_live_access_tokens() {
    for db in databases("http_access_cap") {
        let name = db.name;
        let registry = RegistrySettings {
            live_access_tokens_per_login: 2,
            ..RegistrySettings::default()
        };
        let s = common::with_registry(&db, registry, AuthSettings::default(), |b| b);
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let pair = call(&app, login("alice")).await.body;
        let refresh_token = text(&pair, "refresh");
        let mut accesses = vec![text(&pair, "access")];
        for _ in 0..3 {
            s.clock.advance(Duration::from_secs(1));
            let answer = call(&app, refresh(&refresh_token)).await;
            assert_eq!(answer.status, StatusCode::OK, "{name}: {}", answer.text);
            accesses.push(text(&answer.body, "access"));
        }
        let mut statuses = Vec::new();
        for access in &accesses {
            let me = call(&app, get_with_token(ME, access)).await;
            statuses.push(if expired(&me) { "cut" } else { "live" });
        }
        assert_eq!(statuses, ["cut", "cut", "live", "live"], "{name}");
    }
}

/// With registration in the background, a client that logs out before its
/// login's registration landed is logged out when it lands. (On SQLite a
/// held registration holds the one write lock, and the logout would wait
/// for it: the registry's own test covers that order there.)
#[actix_web::test]
async fn a_logout_before_the_registration_landed_cuts_the_login_when_it_lands() {
    for db in databases("http_logout_before_registration") {
        if db.name == "sqlite" {
            continue;
        }
        let gate = jwt_registry::testing::Gate::default();
        let step = gate.clone();
        let registry = RegistrySettings {
            registration_parallel: true,
            pipeline: ["gate", "register_pairs", "connecting_user"]
                .map(String::from)
                .to_vec(),
            ..RegistrySettings::default()
        };
        let s = common::with_registry(&db, registry, AuthSettings::default(), move |b| {
            b.step(step)
        });
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let pair = call(&app, login("alice")).await.body;
        let out = call(
            &app,
            post_with_token("logout/", &text(&pair, "access"), None),
        )
        .await;
        assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
        gate.open();
        s.jwt.flush_registrations();
        let again = call(&app, refresh(&text(&pair, "refresh"))).await;
        assert_expired(&again, "the login's refresh token");
    }
}

/// Concurrent first uses of a refresh token the registry never saw, with
/// reuse detection: one wins, the others are replays — never a 500.
#[actix_web::test]
async fn concurrent_first_uses_of_an_unseen_refresh_token_are_replays_not_errors() {
    for db in databases("http_unseen_concurrent") {
        let name = db.name;
        let auth = AuthSettings {
            rotate_refresh_tokens: true,
            reuse_detection: true,
            ..AuthSettings::default()
        };
        let s = common::with_registry(&db, RegistrySettings::default(), auth, |b| b);
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let (unseen_refresh, _) = unseen_pair(&s);
        let answers =
            futures_util::future::join_all((0..10).map(|_| call(&app, refresh(&unseen_refresh))))
                .await;
        let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{name}: {statuses:?}"
        );
        assert!(
            answers
                .iter()
                .all(|a| a.status == StatusCode::OK || expired(a)),
            "{name}: {statuses:?}"
        );
    }
}
