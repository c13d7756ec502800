//! Listeners hear every obtain, refresh and authentication, with the pairs
//! the registry will store; a failing listener stops the answer.

mod common;

use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use actix_web::test;
use common::{Harness, PASSWORD, TestStore, User, call, get_with_token, post_json};
use futures_util::future::{LocalBoxFuture, ready};
use jwt_actix::{
    AuthSettings, BackendError, JwtAuth, Listener, TokenObtained, TokenPair, TokenRefreshed,
    UserAuthenticated,
};
use serde_json::json;

#[derive(Clone, Default)]
struct Recorder {
    name: &'static str,
    heard: Arc<Mutex<Vec<String>>>,
    fail: bool,
}

/// Each pair as (token jti, parent jti).
fn describe(pairs: &[TokenPair]) -> Vec<(String, Option<String>)> {
    pairs
        .iter()
        .map(|pair| {
            (
                pair.token.token().jti().to_owned(),
                pair.parent
                    .as_ref()
                    .map(|parent| parent.token().jti().to_owned()),
            )
        })
        .collect()
}

impl Listener<User> for Recorder {
    fn token_obtained<'a>(
        &'a self,
        event: &'a TokenObtained<User>,
    ) -> LocalBoxFuture<'a, Result<(), BackendError>> {
        self.heard.lock().unwrap().push(format!(
            "{} obtained {} {:?} peer={:?}",
            self.name,
            event.user.name,
            event.pairs.len(),
            event.request.peer()
        ));
        Box::pin(ready(if self.fail {
            Err(BackendError::unavailable("registry down"))
        } else {
            Ok(())
        }))
    }

    fn token_refreshed<'a>(
        &'a self,
        event: &'a TokenRefreshed<User>,
    ) -> LocalBoxFuture<'a, Result<(), BackendError>> {
        self.heard.lock().unwrap().push(format!(
            "{} refreshed {} rotated={} pairs={}",
            self.name,
            event.user.name,
            event.rotated,
            event.pairs.len()
        ));
        Box::pin(ready(Ok(())))
    }

    fn user_authenticated<'a>(
        &'a self,
        event: &'a UserAuthenticated<User>,
    ) -> LocalBoxFuture<'a, Result<(), BackendError>> {
        self.heard.lock().unwrap().push(format!(
            "{} authenticated {} ua={:?}",
            self.name,
            event.user.name,
            event.request.header("user-agent")
        ));
        Box::pin(ready(Ok(())))
    }

    fn wants_authentications(&self) -> bool {
        true
    }
}

/// Counts the authentications it hears, without asking for them.
struct Uninterested(Arc<Mutex<usize>>);

impl Listener<User> for Uninterested {
    fn user_authenticated<'a>(
        &'a self,
        _: &'a UserAuthenticated<User>,
    ) -> LocalBoxFuture<'a, Result<(), BackendError>> {
        *self.0.lock().unwrap() += 1;
        Box::pin(ready(Ok(())))
    }
}

/// Keeps the last events whole, to check their pairs.
#[derive(Clone, Default)]
struct Keeper {
    obtained: Arc<Mutex<Option<TokenObtained<User>>>>,
    refreshed: Arc<Mutex<Option<TokenRefreshed<User>>>>,
}

impl Listener<User> for Keeper {
    fn token_obtained<'a>(
        &'a self,
        event: &'a TokenObtained<User>,
    ) -> LocalBoxFuture<'a, Result<(), BackendError>> {
        *self.obtained.lock().unwrap() = Some(event.clone());
        Box::pin(ready(Ok(())))
    }

    fn token_refreshed<'a>(
        &'a self,
        event: &'a TokenRefreshed<User>,
    ) -> LocalBoxFuture<'a, Result<(), BackendError>> {
        *self.refreshed.lock().unwrap() = Some(event.clone());
        Box::pin(ready(Ok(())))
    }
}

type AddListener =
    Box<dyn FnOnce(jwt_actix::JwtAuthBuilder<TestStore>) -> jwt_actix::JwtAuthBuilder<TestStore>>;

fn harness_with(rotate: bool, listeners: Vec<AddListener>) -> Harness {
    let settings = AuthSettings {
        rotate_refresh_tokens: rotate,
        ..AuthSettings::default()
    };
    Harness::build(common::token_settings(), settings, |builder| {
        listeners
            .into_iter()
            .fold(builder, |builder, add| add(builder))
    })
}

fn jwt_with(rotate: bool, listeners: Vec<AddListener>) -> JwtAuth<TestStore> {
    harness_with(rotate, listeners).jwt
}

#[actix_web::test]
async fn several_listeners_hear_each_event_in_order() {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let first = Recorder {
        name: "first",
        heard: Arc::clone(&heard),
        fail: false,
    };
    let second = Recorder {
        name: "second",
        ..first.clone()
    };
    let jwt = jwt_with(
        false,
        vec![
            Box::new(move |b| b.listener(first)),
            Box::new(move |b| b.listener(second)),
        ],
    );
    let app = test::init_service(common::app(jwt)).await;
    let req = test::TestRequest::post()
        .uri("/api/v1/auth/token/obtain/")
        .peer_addr("192.0.2.7:5000".parse().unwrap())
        .set_json(json!({"username": "alice", "password": PASSWORD}))
        .to_request();
    let pair = call(&app, req).await.body;
    let refresh = pair["refresh"].as_str().unwrap();
    let access = pair["access"].as_str().unwrap();
    call(
        &app,
        post_json("/api/v1/auth/token/refresh/", json!({ "refresh": refresh })),
    )
    .await;
    let me = test::TestRequest::get()
        .uri("/api/v1/me/")
        .insert_header(("Authorization", format!("Bearer {access}")))
        .insert_header(("User-Agent", "curl/8.5"))
        .to_request();
    call(&app, me).await;
    assert_eq!(
        *heard.lock().unwrap(),
        [
            "first obtained alice 2 peer=Some(192.0.2.7)",
            "second obtained alice 2 peer=Some(192.0.2.7)",
            "first refreshed alice rotated=false pairs=1",
            "second refreshed alice rotated=false pairs=1",
            "first authenticated alice ua=Some(\"curl/8.5\")",
            "second authenticated alice ua=Some(\"curl/8.5\")",
        ]
    );
}

#[actix_web::test]
async fn events_carry_the_pairs_the_registry_stores() {
    for rotate in [false, true] {
        let keeper = Keeper::default();
        let kept = keeper.clone();
        let jwt = jwt_with(rotate, vec![Box::new(move |b| b.listener(keeper))]);
        let app = test::init_service(common::app(jwt)).await;
        let pair = call(
            &app,
            post_json(
                "/api/v1/auth/token/obtain/",
                json!({"username": "alice", "password": PASSWORD}),
            ),
        )
        .await
        .body;
        let obtained = kept.obtained.lock().unwrap().clone().unwrap();
        let refresh = obtained.pairs[0].token.clone();
        let access = obtained.pairs[1].token.clone();
        assert_eq!(refresh.encoded(), pair["refresh"].as_str().unwrap());
        assert_eq!(access.encoded(), pair["access"].as_str().unwrap());
        assert_eq!(
            describe(&obtained.pairs),
            [
                (refresh.token().jti().to_owned(), None),
                (
                    access.token().jti().to_owned(),
                    Some(refresh.token().jti().to_owned())
                ),
            ],
            "obtain: (refresh, none), (access, refresh)"
        );

        let answer = call(
            &app,
            post_json(
                "/api/v1/auth/token/refresh/",
                json!({ "refresh": refresh.encoded() }),
            ),
        )
        .await
        .body;
        let refreshed = kept.refreshed.lock().unwrap().clone().unwrap();
        assert_eq!(refreshed.refresh.token().jti(), refresh.token().jti());
        assert_eq!(refreshed.rotated, rotate);
        let new_access = refreshed.pairs[0].token.clone();
        assert_eq!(new_access.encoded(), answer["access"].as_str().unwrap());
        if rotate {
            let new_refresh = refreshed.pairs[1].token.clone();
            assert_eq!(new_refresh.encoded(), answer["refresh"].as_str().unwrap());
            assert_eq!(
                describe(&refreshed.pairs),
                [
                    (
                        new_access.token().jti().to_owned(),
                        Some(new_refresh.token().jti().to_owned())
                    ),
                    (
                        new_refresh.token().jti().to_owned(),
                        Some(refresh.token().jti().to_owned())
                    ),
                ],
                "rotation: (access, new refresh), (new refresh, old refresh)"
            );
        } else {
            assert_eq!(
                describe(&refreshed.pairs),
                [(
                    new_access.token().jti().to_owned(),
                    Some(refresh.token().jti().to_owned())
                )],
                "refresh: (access, refresh)"
            );
        }
    }
}

#[actix_web::test]
async fn a_failing_listener_means_no_tokens_and_a_503() {
    let failing = Recorder {
        name: "registry",
        fail: true,
        ..Recorder::default()
    };
    let jwt = jwt_with(false, vec![Box::new(move |b| b.listener(failing))]);
    let app = test::init_service(common::app(jwt)).await;
    let answer = call(
        &app,
        post_json(
            "/api/v1/auth/token/obtain/",
            json!({"username": "alice", "password": PASSWORD}),
        ),
    )
    .await;
    assert_eq!(
        (answer.status, answer.text.as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"detail":"Service temporarily unavailable."}"#
        )
    );
    // Authentication events are only built for listeners that want them.
    let calls = Arc::new(Mutex::new(0usize));
    let uninterested = Uninterested(Arc::clone(&calls));
    let quiet = harness_with(false, vec![Box::new(move |b| b.listener(uninterested))]);
    let app = test::init_service(common::app(quiet.jwt.clone())).await;
    let (_, access) = quiet.pair(1);
    assert_eq!(
        call(&app, get_with_token("/api/v1/me/", &access))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        *calls.lock().unwrap(),
        0,
        "a listener that does not want authentications never hears one"
    );
}
