//! Refresh-token reuse detection, the grace window and the session
//! lifetime cap, on SQLite and (with `DATABASE_URL`) PostgreSQL.
#![cfg(feature = "registry")]

mod common;

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::test;
use common::{PASSWORD, RegistryHarness, TestStore, call, get_with_token, post_json};
use jwt_actix::{AuthSettings, JwtAuth};
use jwt_core::TokenService;
use jwt_registry::testing::{TestDatabase, databases};
use jwt_registry::{Registry, RegistrySettings};
use serde_json::{Value, json};

const OBTAIN: &str = "/api/v1/auth/token/obtain/";
const REFRESH: &str = "/api/v1/auth/token/refresh/";
const ME: &str = "/api/v1/me/";

fn setup(db: &TestDatabase, auth: AuthSettings) -> RegistryHarness {
    common::with_registry(db, RegistrySettings::default(), auth, |builder| builder)
}

fn detecting(grace: u64) -> AuthSettings {
    AuthSettings {
        rotate_refresh_tokens: true,
        reuse_detection: true,
        reuse_grace_seconds: Duration::from_secs(grace),
        ..AuthSettings::default()
    }
}

fn login() -> actix_http::Request {
    post_json(OBTAIN, json!({"username": "alice", "password": PASSWORD}))
}

fn refresh(token: &str) -> actix_http::Request {
    post_json(REFRESH, json!({ "refresh": token }))
}

fn text(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {body}"))
        .to_owned()
}

#[actix_web::test]
async fn of_twenty_concurrent_refreshes_exactly_one_succeeds() {
    for db in databases("reuse_concurrent") {
        let name = db.name;
        let s = setup(&db, detecting(0));
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let pair = call(&app, login()).await.body;
        let token = text(&pair, "refresh");
        let answers =
            futures_util::future::join_all((0..20).map(|_| call(&app, refresh(&token)))).await;
        let ok: Vec<&common::Answer> = answers
            .iter()
            .filter(|a| a.status == StatusCode::OK)
            .collect();
        assert_eq!(ok.len(), 1, "{name}: exactly one 200");
        for answer in answers.iter().filter(|a| a.status != StatusCode::OK) {
            assert_eq!(
                (answer.status, answer.body["code"].clone()),
                (StatusCode::UNAUTHORIZED, json!("token_expired")),
                "{name}: the losers are replays"
            );
        }
        // A losing concurrent refresh is a replay: the whole family is dead,
        // the winner's new tokens too.
        let winner = &ok[0].body;
        assert_eq!(
            call(&app, refresh(&text(winner, "refresh"))).await.status,
            StatusCode::UNAUTHORIZED,
            "{name}"
        );
        assert_eq!(
            call(&app, get_with_token(ME, &text(winner, "access")))
                .await
                .status,
            StatusCode::UNAUTHORIZED,
            "{name}"
        );
        assert_eq!(
            call(&app, get_with_token(ME, &text(&pair, "access")))
                .await
                .status,
            StatusCode::UNAUTHORIZED,
            "{name}"
        );
    }
}

#[actix_web::test]
async fn a_rotated_out_token_presented_again_kills_its_family_only() {
    for db in databases("reuse_replay") {
        let name = db.name;
        let s = setup(&db, detecting(0));
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let first = call(&app, login()).await.body;
        let other_login = call(&app, login()).await.body;
        let second = call(&app, refresh(&text(&first, "refresh"))).await.body;
        let third = call(&app, refresh(&text(&second, "refresh"))).await.body;
        assert_eq!(
            call(&app, get_with_token(ME, &text(&third, "access")))
                .await
                .status,
            StatusCode::OK,
            "{name}"
        );

        let replay = call(&app, refresh(&text(&first, "refresh"))).await;
        assert_eq!(
            (replay.status, replay.body["code"].clone()),
            (StatusCode::UNAUTHORIZED, json!("token_expired")),
            "{name}"
        );
        for (what, answer) in [
            (
                "the newest access token",
                call(&app, get_with_token(ME, &text(&third, "access"))).await,
            ),
            (
                "the newest refresh token",
                call(&app, refresh(&text(&third, "refresh"))).await,
            ),
            (
                "the first access token",
                call(&app, get_with_token(ME, &text(&first, "access"))).await,
            ),
        ] {
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{name}: {what}");
        }
        assert_eq!(
            call(&app, get_with_token(ME, &text(&other_login, "access")))
                .await
                .status,
            StatusCode::OK,
            "{name}: another login of the same user lives on"
        );
        assert_eq!(
            call(&app, refresh(&text(&other_login, "refresh")))
                .await
                .status,
            StatusCode::OK,
            "{name}"
        );
    }
}

#[actix_web::test]
async fn the_grace_window_allows_one_retry_of_the_previous_token_only() {
    for db in databases("reuse_grace") {
        let name = db.name;
        let s = setup(&db, detecting(30));
        let app = test::init_service(common::app(s.jwt.clone())).await;

        // A client that lost the answer retries once: it works, and the
        // answer it lost stops working.
        let first = call(&app, login()).await.body;
        let lost = call(&app, refresh(&text(&first, "refresh"))).await.body;
        s.clock.advance(Duration::from_secs(10));
        let retried = call(&app, refresh(&text(&first, "refresh"))).await;
        assert_eq!(retried.status, StatusCode::OK, "{name}: {}", retried.text);
        assert_eq!(
            call(&app, refresh(&text(&lost, "refresh"))).await.status,
            StatusCode::UNAUTHORIZED,
            "{name}: the lost branch"
        );
        assert_eq!(
            call(&app, get_with_token(ME, &text(&first, "access")))
                .await
                .status,
            StatusCode::OK,
            "{name}: the login's access token stays"
        );
        // Only once.
        let twice = call(&app, refresh(&text(&first, "refresh"))).await;
        assert_eq!(
            twice.status,
            StatusCode::UNAUTHORIZED,
            "{name}: the second retry is a replay"
        );
        assert_eq!(
            call(&app, refresh(&text(&retried.body, "refresh")))
                .await
                .status,
            StatusCode::UNAUTHORIZED,
            "{name}: family dead"
        );

        // Not for a token two rotations back.
        let first = call(&app, login()).await.body;
        let second = call(&app, refresh(&text(&first, "refresh"))).await.body;
        let third = call(&app, refresh(&text(&second, "refresh"))).await.body;
        assert_eq!(
            call(&app, refresh(&text(&first, "refresh"))).await.status,
            StatusCode::UNAUTHORIZED,
            "{name}: two back"
        );
        assert_eq!(
            call(&app, refresh(&text(&third, "refresh"))).await.status,
            StatusCode::UNAUTHORIZED,
            "{name}: family dead"
        );

        // Not after the window.
        let first = call(&app, login()).await.body;
        let second = call(&app, refresh(&text(&first, "refresh"))).await.body;
        s.clock.advance(Duration::from_secs(31));
        assert_eq!(
            call(&app, refresh(&text(&first, "refresh"))).await.status,
            StatusCode::UNAUTHORIZED,
            "{name}: too late"
        );
        assert_eq!(
            call(&app, refresh(&text(&second, "refresh"))).await.status,
            StatusCode::UNAUTHORIZED,
            "{name}: family dead"
        );
    }
}

#[actix_web::test]
async fn rotation_cannot_keep_a_login_alive_past_session_max_lifetime() {
    for db in databases("reuse_lifetime") {
        let name = db.name;
        let s = setup(
            &db,
            AuthSettings {
                rotate_refresh_tokens: true,
                session_max_lifetime: Duration::from_secs(3600),
                ..AuthSettings::default()
            },
        );
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let mut pair = call(&app, login()).await.body;
        for _ in 0..3 {
            s.clock.advance(Duration::from_secs(1000));
            let answer = call(&app, refresh(&text(&pair, "refresh"))).await;
            assert_eq!(answer.status, StatusCode::OK, "{name}: {}", answer.text);
            pair = answer.body;
        }
        s.clock.advance(Duration::from_secs(600));
        let late = call(&app, refresh(&text(&pair, "refresh"))).await;
        assert_eq!(
            (late.status, late.body["code"].clone()),
            (StatusCode::UNAUTHORIZED, json!("token_expired")),
            "{name}: 3 600 s after the login, however fresh the token"
        );
        let fresh_login = call(&app, login()).await.body;
        assert_eq!(
            call(&app, refresh(&text(&fresh_login, "refresh")))
                .await
                .status,
            StatusCode::OK,
            "{name}: a new login starts again"
        );
    }
}

#[actix_web::test]
async fn without_reuse_detection_a_refresh_token_still_works_again() {
    for db in databases("reuse_off") {
        let s = setup(
            &db,
            AuthSettings {
                rotate_refresh_tokens: true,
                ..AuthSettings::default()
            },
        );
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let pair = call(&app, login()).await.body;
        for _ in 0..2 {
            assert_eq!(
                call(&app, refresh(&text(&pair, "refresh"))).await.status,
                StatusCode::OK,
                "{}: simplejwt's behaviour",
                db.name
            );
        }
    }
}

#[actix_web::test]
async fn settings_that_cannot_work_stop_the_build() {
    let db = &databases("reuse_settings")[0];
    let registry = |registry: RegistrySettings| {
        Registry::builder(RegistrySettings {
            database_url: db.url.clone(),
            ..registry
        })
        .open()
        .unwrap()
        .0
    };
    let tokens = || TokenService::new(&common::token_settings()).unwrap();
    let cases: Vec<(AuthSettings, Option<Registry>, &str)> = vec![
        (
            AuthSettings {
                reuse_detection: true,
                ..AuthSettings::default()
            },
            Some(registry(RegistrySettings::default())),
            "auth.reuse_detection",
        ),
        (detecting(0), None, "auth.reuse_detection"),
        (
            AuthSettings {
                session_max_lifetime: Duration::from_secs(60),
                ..AuthSettings::default()
            },
            None,
            "auth.session_max_lifetime",
        ),
        (
            AuthSettings {
                rotate_refresh_tokens: true,
                reuse_grace_seconds: Duration::from_secs(5),
                ..AuthSettings::default()
            },
            Some(registry(RegistrySettings::default())),
            "auth.reuse_grace_seconds",
        ),
        (
            detecting(0),
            Some(registry(RegistrySettings {
                registration_on_signal: false,
                ..RegistrySettings::default()
            })),
            "auth.reuse_detection",
        ),
    ];
    for (auth, registry, setting) in cases {
        let mut builder = JwtAuth::builder(tokens(), auth, TestStore::new());
        if let Some(registry) = registry {
            builder = builder.registry(registry);
        }
        let err = builder.build().unwrap_err();
        assert!(err.to_string().contains(setting), "{err}");
    }
}

/// A retry within the grace window, and a replay, are told to the
/// registry's listeners (an app alerts on them).
#[actix_web::test]
async fn a_grace_retry_and_a_replay_are_told_to_listeners() {
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Alerts(Arc<Mutex<Vec<String>>>);

    impl jwt_registry::RegistryListener for Alerts {
        fn refresh_retried(&self, jti: &str, abandoned: &[String]) {
            self.0
                .lock()
                .unwrap()
                .push(format!("retried {} {}", jti.len(), abandoned.len()));
        }
        fn refresh_replayed(&self, jti: &str, expired: &[String]) {
            self.0
                .lock()
                .unwrap()
                .push(format!("replayed {} {}", jti.len(), expired.len()));
        }
    }

    for db in databases("reuse_alerts") {
        let name = db.name;
        let alerts = Alerts::default();
        let heard = alerts.clone();
        let s = common::with_registry(&db, RegistrySettings::default(), detecting(30), move |b| {
            b.listener(heard)
        });
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let first = call(&app, login()).await.body;
        call(&app, refresh(&text(&first, "refresh"))).await;
        let retried = call(&app, refresh(&text(&first, "refresh"))).await;
        assert_eq!(retried.status, StatusCode::OK, "{name}");
        let replayed = call(&app, refresh(&text(&first, "refresh"))).await;
        assert_eq!(replayed.status, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(
            *alerts.0.lock().unwrap(),
            // The retry abandons the lost answer's two tokens; the replay
            // ends the rest: the first login's two, the retry's two.
            ["retried 32 2", "replayed 32 4"],
            "{name}"
        );
    }
}

#[actix_web::test]
async fn a_registry_that_does_not_know_the_leeway_is_refused_at_start_up() {
    let db = databases("leeway_mismatch").remove(0);
    let settings = RegistrySettings {
        database_url: db.url.clone(),
        ..RegistrySettings::default()
    };
    let tokens = jwt_core::TokenSettings {
        leeway: Duration::from_secs(30),
        ..common::token_settings()
    };
    let (registry, _) = Registry::builder(settings.clone()).open().unwrap();
    let built = JwtAuth::builder(
        TokenService::new(&tokens).unwrap(),
        AuthSettings::default(),
        TestStore::new(),
    )
    .registry(registry)
    .build();
    let err = built.expect_err("a registry without the leeway");
    assert_eq!(err.setting(), "tokens.leeway", "{err}");
    assert!(err.to_string().contains("RegistryBuilder::leeway"), "{err}");
    let (registry, _) = Registry::builder(settings)
        .leeway(Duration::from_secs(30))
        .open()
        .unwrap();
    assert!(
        JwtAuth::builder(
            TokenService::new(&tokens).unwrap(),
            AuthSettings::default(),
            TestStore::new()
        )
        .registry(registry)
        .build()
        .is_ok()
    );
}
