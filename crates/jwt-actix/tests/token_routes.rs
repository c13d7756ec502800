//! The token routes, row by row of docs/http-api.md.

mod common;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, test, web};
use common::{Harness, NOW, PASSWORD, call, post_json};
use jwt_actix::AuthSettings;
use serde_json::{Value, json};

const OBTAIN: &str = "/api/v1/auth/token/obtain/";
const REFRESH: &str = "/api/v1/auth/token/refresh/";
const VERIFY: &str = "/api/v1/auth/token/verify/";

fn credentials(username: &str, password: &str) -> Value {
    json!({"username": username, "password": password})
}

#[actix_web::test]
async fn obtain_returns_a_refresh_and_an_access_token_in_that_order() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let answer = call(&app, post_json(OBTAIN, credentials("alice", PASSWORD))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/json"
    );
    let keys: Vec<&String> = answer.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["refresh", "access"]);
    assert!(
        answer.text.starts_with(r#"{"refresh":"eyJ"#),
        "compact JSON: {}",
        answer.text
    );
    let tokens = h.jwt.tokens();
    let refresh = tokens
        .verify(
            answer.body["refresh"].as_str().unwrap(),
            tokens.refresh_type(),
        )
        .unwrap();
    let access = tokens
        .verify(
            answer.body["access"].as_str().unwrap(),
            tokens.access_type(),
        )
        .unwrap();
    assert_eq!(refresh.user_id(), Some(&1.into()));
    assert_eq!(
        access.claims().get_str("name"),
        Some("alice"),
        "the store's claims hook ran"
    );
    assert_eq!(access.issued_at(), refresh.issued_at());
    assert_eq!(h.store.checks(), 1);
}

#[actix_web::test]
async fn obtain_accepts_form_bodies_and_trims_the_username_only() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let req = test::TestRequest::post()
        .uri(OBTAIN)
        .set_form([("username", "  alice "), ("password", PASSWORD)])
        .to_request();
    assert_eq!(call(&app, req).await.status, StatusCode::OK);
    // The password is taken as sent: surrounding spaces make it wrong.
    let answer = call(
        &app,
        post_json(OBTAIN, credentials("alice", &format!(" {PASSWORD} "))),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    // Usernames are case-sensitive.
    let answer = call(&app, post_json(OBTAIN, credentials("Alice", PASSWORD))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn wrong_password_unknown_and_inactive_users_get_one_answer_and_one_password_check() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let mut bodies = Vec::new();
    for (username, password) in [("alice", "wrong"), ("nobody", PASSWORD), ("bob", PASSWORD)] {
        let before = h.store.checks();
        let answer = call(&app, post_json(OBTAIN, credentials(username, password))).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{username}");
        assert_eq!(
            h.store.checks() - before,
            1,
            "exactly one password check for {username}"
        );
        assert_eq!(
            answer.headers.get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer realm=\"api\""
        );
        bodies.push(answer.text);
    }
    assert!(
        bodies.iter().all(
            |body| body == r#"{"detail":"No active account found with the given credentials"}"#
        )
    );
    assert_eq!(
        h.store
            .counters
            .dummy_checks
            .load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the unknown user was checked against the dummy"
    );
}

#[actix_web::test]
async fn field_errors_list_every_bad_field_with_drf_s_messages() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let cases = [
        (
            json!({}),
            r#"{"username":["This field is required."],"password":["This field is required."]}"#,
        ),
        (
            json!({"username": null, "password": ""}),
            r#"{"username":["This field may not be null."],"password":["This field may not be blank."]}"#,
        ),
        (
            json!({"username": "  ", "password": "x"}),
            r#"{"username":["This field may not be blank."]}"#,
        ),
        (
            json!({"username": true, "password": ["x"]}),
            r#"{"username":["Not a valid string."],"password":["Not a valid string."]}"#,
        ),
        (
            json!({"username": {}, "password": "x"}),
            r#"{"username":["Not a valid string."]}"#,
        ),
        (
            json!({"username": "a\u{0}b", "password": "x"}),
            r#"{"username":["Null characters are not allowed."]}"#,
        ),
        (
            json!({"password": "x"}),
            r#"{"username":["This field is required."]}"#,
        ),
    ];
    for (body, expected) in cases {
        let answer = call(&app, post_json(OBTAIN, body.clone())).await;
        assert_eq!(
            (answer.status, answer.text.as_str()),
            (StatusCode::BAD_REQUEST, expected),
            "{body}"
        );
    }
    assert_eq!(h.store.checks(), 0, "no password check for bad fields");
    // A number is taken as its text: this reaches the credential check.
    let answer = call(
        &app,
        post_json(OBTAIN, json!({"username": 1, "password": 2})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn refresh_returns_an_access_token_derived_from_the_refresh_token() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let (refresh, _) = h.pair(1);
    h.clock.set(NOW + 100);
    let answer = call(&app, post_json(REFRESH, json!({ "refresh": refresh }))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let keys: Vec<&String> = answer.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["access"], "no refresh without rotation");
    let tokens = h.jwt.tokens();
    let access = tokens
        .verify(
            answer.body["access"].as_str().unwrap(),
            tokens.access_type(),
        )
        .unwrap();
    assert_eq!(access.expires_at(), NOW + 100 + 300);
    assert_eq!(access.issued_at(), Some(NOW));
}

#[actix_web::test]
async fn refresh_with_rotation_returns_a_new_refresh_token_too() {
    let h = Harness::with(
        common::token_settings(),
        AuthSettings {
            rotate_refresh_tokens: true,
            ..AuthSettings::default()
        },
    );
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let obtained = call(&app, post_json(OBTAIN, credentials("alice", PASSWORD))).await;
    let refresh = obtained.body["refresh"].as_str().unwrap().to_owned();
    h.clock.set(NOW + 100);
    let answer = call(&app, post_json(REFRESH, json!({ "refresh": refresh }))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let keys: Vec<&String> = answer.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["access", "refresh"]);
    let tokens = h.jwt.tokens();
    let old = tokens.verify(&refresh, tokens.refresh_type()).unwrap();
    let new = tokens
        .verify(
            answer.body["refresh"].as_str().unwrap(),
            tokens.refresh_type(),
        )
        .unwrap();
    assert_ne!(new.jti(), old.jti());
    assert_eq!(new.issued_at(), Some(NOW + 100));
    assert_eq!(new.claims().get_str("name"), Some("alice"));
}

#[actix_web::test]
async fn refresh_refuses_bad_tokens_with_their_reason() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let (refresh, access) = h.pair(1);
    let cases = [
        (
            access.clone(),
            r#"{"detail":"Token has wrong type","code":"token_not_valid"}"#,
        ),
        (
            "garbage".to_owned(),
            r#"{"detail":"Token is invalid or expired","code":"token_not_valid"}"#,
        ),
        (
            format!("{refresh}x"),
            r#"{"detail":"Token is invalid or expired","code":"token_not_valid"}"#,
        ),
    ];
    for (token, expected) in cases {
        let answer = call(&app, post_json(REFRESH, json!({ "refresh": token }))).await;
        assert_eq!(
            (answer.status, answer.text.as_str()),
            (StatusCode::UNAUTHORIZED, expected)
        );
        assert!(answer.headers.contains_key(header::WWW_AUTHENTICATE));
    }
    h.clock.set(NOW + 86_400);
    let answer = call(&app, post_json(REFRESH, json!({ "refresh": refresh }))).await;
    assert_eq!(
        answer.body["detail"], "Token is invalid or expired",
        "expired at exp"
    );
}

#[actix_web::test]
async fn refresh_checks_the_user() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    h.store.add(3, "carol", true);
    let (carol, _) = h.pair(3);
    let (alice, _) = h.pair(1);
    let tokens = h.jwt.tokens();
    let no_user = tokens
        .encode(
            &tokens
                .refresh_for_user_with(1, |claims| {
                    claims.insert("user_id", json!(1.5));
                })
                .unwrap(),
        )
        .unwrap();
    let answer = call(&app, post_json(REFRESH, json!({ "refresh": no_user }))).await;
    assert_eq!(
        answer.text,
        r#"{"detail":"Token contained no recognizable user identification","code":"token_not_valid"}"#
    );
    h.store.set_active(3, false);
    let answer = call(&app, post_json(REFRESH, json!({ "refresh": carol }))).await;
    assert_eq!(
        answer.text,
        r#"{"detail":"User is inactive","code":"user_inactive"}"#
    );
    h.store.remove(3);
    let answer = call(&app, post_json(REFRESH, json!({ "refresh": carol }))).await;
    assert_eq!(
        answer.text,
        r#"{"detail":"User not found","code":"user_not_found"}"#
    );
    h.store.set_cut_off(1, NOW);
    let answer = call(&app, post_json(REFRESH, json!({ "refresh": alice }))).await;
    assert_eq!(
        answer.text,
        r#"{"detail":"The user's password has been changed.","code":"password_changed"}"#
    );
}

#[actix_web::test]
async fn verify_accepts_any_valid_token_and_refuses_the_rest() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let (refresh, access) = h.pair(1);
    for token in [&refresh, &access] {
        let answer = call(&app, post_json(VERIFY, json!({ "token": token }))).await;
        assert_eq!(
            (answer.status, answer.text.as_str()),
            (StatusCode::OK, "{}")
        );
    }
    // The user is not checked by verify/.
    h.store.remove(1);
    let answer = call(&app, post_json(VERIFY, json!({ "token": access }))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = call(&app, post_json(VERIFY, json!({ "token": "abc" }))).await;
    assert_eq!(
        (answer.status, answer.text.as_str()),
        (
            StatusCode::UNAUTHORIZED,
            r#"{"detail":"Token is invalid or expired","code":"token_not_valid"}"#
        )
    );
    let answer = call(&app, post_json(VERIFY, json!({ "token": null }))).await;
    assert_eq!(answer.text, r#"{"token":["This field may not be null."]}"#);
}

#[actix_web::test]
async fn every_path_answers_with_and_without_the_trailing_slash() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let (refresh, access) = h.pair(1);
    for path in ["/api/v1/auth/token/obtain", OBTAIN] {
        assert_eq!(
            call(&app, post_json(path, credentials("alice", PASSWORD)))
                .await
                .status,
            StatusCode::OK
        );
    }
    for path in ["/api/v1/auth/token/refresh", REFRESH] {
        assert_eq!(
            call(&app, post_json(path, json!({ "refresh": refresh })))
                .await
                .status,
            StatusCode::OK
        );
    }
    for path in ["/api/v1/auth/token/verify", VERIFY] {
        assert_eq!(
            call(&app, post_json(path, json!({ "token": access })))
                .await
                .status,
            StatusCode::OK
        );
    }
}

#[actix_web::test]
async fn other_methods_get_the_json_405_with_allow() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    for (method, path) in [
        (actix_web::http::Method::GET, OBTAIN),
        (actix_web::http::Method::PUT, "/api/v1/auth/token/refresh"),
        (actix_web::http::Method::DELETE, VERIFY),
        (actix_web::http::Method::PATCH, OBTAIN),
    ] {
        let req = test::TestRequest::default()
            .method(method.clone())
            .uri(path)
            .to_request();
        let answer = call(&app, req).await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            answer.text,
            format!(r#"{{"detail":"Method \"{method}\" not allowed."}}"#)
        );
        assert_eq!(answer.headers.get(header::ALLOW).unwrap(), "POST");
    }
}

#[actix_web::test]
async fn checks_run_in_the_contract_s_order() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let huge = "x".repeat(70_000);
    // method before everything: a GET with a bad type and a huge body is 405.
    let req = test::TestRequest::get()
        .uri(OBTAIN)
        .insert_header((header::CONTENT_TYPE, "text/plain"))
        .set_payload(huge.clone())
        .to_request();
    assert_eq!(call(&app, req).await.status, StatusCode::METHOD_NOT_ALLOWED);
    // content type before size: 415, not 413.
    let req = test::TestRequest::post()
        .uri(OBTAIN)
        .insert_header((header::CONTENT_TYPE, "text/plain"))
        .set_payload(huge.clone())
        .to_request();
    assert_eq!(
        call(&app, req).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    // size before parsing: a huge body of bad JSON is 413.
    let req = test::TestRequest::post()
        .uri(OBTAIN)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(format!("{{{huge}"))
        .to_request();
    assert_eq!(call(&app, req).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    // parsing before fields, fields before credentials.
    let req = test::TestRequest::post()
        .uri(OBTAIN)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload("{\"username\": ")
        .to_request();
    assert_eq!(call(&app, req).await.status, StatusCode::BAD_REQUEST);
    let answer = call(&app, post_json(OBTAIN, json!({"username": "nobody"}))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(h.store.checks(), 0);
}

#[actix_web::test]
async fn the_body_limit_counts_bytes_read_even_without_a_length() {
    let h = Harness::with(
        common::token_settings(),
        AuthSettings {
            max_body_bytes: 100,
            ..AuthSettings::default()
        },
    );
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let body =
        json!({"username": "alice", "password": PASSWORD, "padding": "p".repeat(100)}).to_string();
    let mut req = test::TestRequest::post()
        .uri(OBTAIN)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(body)
        .to_request();
    req.headers_mut().remove(header::CONTENT_LENGTH);
    let answer = call(&app, req).await;
    assert_eq!(
        (answer.status, answer.text.as_str()),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            r#"{"detail":"Request body is too large."}"#
        )
    );
    // Within the limit, the same route works.
    let small = json!({"username": "alice", "password": PASSWORD});
    assert_eq!(
        call(&app, post_json(OBTAIN, small)).await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn update_last_login_is_called_only_when_set() {
    let off = Harness::new();
    let app = test::init_service(common::app(off.jwt.clone())).await;
    call(&app, post_json(OBTAIN, credentials("alice", PASSWORD))).await;
    assert_eq!(
        off.store
            .counters
            .last_logins
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    let on = Harness::with(
        common::token_settings(),
        AuthSettings {
            update_last_login: true,
            ..AuthSettings::default()
        },
    );
    let app = test::init_service(common::app(on.jwt.clone())).await;
    call(&app, post_json(OBTAIN, credentials("alice", PASSWORD))).await;
    call(&app, post_json(OBTAIN, credentials("alice", "wrong"))).await;
    assert_eq!(
        on.store
            .counters
            .last_logins
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[actix_web::test]
async fn an_unreachable_store_is_503_without_a_cause() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    h.store
        .down
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let answer = call(&app, post_json(OBTAIN, credentials("alice", PASSWORD))).await;
    assert_eq!(
        (answer.status, answer.text.as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"detail":"Service temporarily unavailable."}"#
        )
    );
}

#[actix_web::test]
async fn a_view_can_be_replaced_and_the_others_stay() {
    async fn custom_verify() -> HttpResponse {
        HttpResponse::Ok().json(json!({"custom": true}))
    }
    let h = Harness::new();
    let app = test::init_service(actix_web::App::new().service(
        web::scope("/auth").configure(h.jwt.token_routes().verify(custom_verify).configure()),
    ))
    .await;
    let answer = call(
        &app,
        post_json("/auth/verify/", json!({"token": "anything"})),
    )
    .await;
    assert_eq!(answer.text, r#"{"custom":true}"#);
    let answer = call(&app, post_json("/auth/verify", json!({}))).await;
    assert_eq!(answer.text, r#"{"custom":true}"#, "both paths replaced");
    let get = test::TestRequest::get().uri("/auth/verify/").to_request();
    assert_eq!(call(&app, get).await.status, StatusCode::METHOD_NOT_ALLOWED);
    let answer = call(
        &app,
        post_json("/auth/obtain", credentials("alice", PASSWORD)),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "the other views stay, under any prefix"
    );
}

#[actix_web::test]
async fn password_checks_run_off_the_executor_a_few_at_a_time() {
    let h = Harness::with_slots(common::token_settings(), AuthSettings::default(), Some(2));
    h.store
        .counters
        .check_millis
        .store(30, std::sync::atomic::Ordering::SeqCst);
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let started = std::time::Instant::now();
    let logins = (0..8).map(|_| call(&app, post_json(OBTAIN, credentials("alice", PASSWORD))));
    let answers = futures_util::future::join_all(logins).await;
    assert!(answers.iter().all(|a| a.status == StatusCode::OK));
    let most = h
        .store
        .counters
        .most_at_once
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        most, 2,
        "never more than the configured slots at once, and they did overlap"
    );
    // 8 checks of 30 ms in 2 slots cannot finish in under 4 rounds.
    assert!(started.elapsed() >= std::time::Duration::from_millis(110));
}

#[actix_web::test]
async fn the_jwks_route_publishes_public_keys_only() {
    let key_file = |name: &str| {
        std::path::PathBuf::from(format!(
            "{}/../jwt-core/tests/fixtures/keys/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
    };
    let rsa = jwt_core::TokenSettings {
        algorithm: jwt_core::Algorithm::RS256,
        signing_key_file: Some(key_file("rsa-private.pem")),
        signing_key_id: "2026-12".into(),
        ..jwt_core::TokenSettings::default()
    };
    let h = Harness::with(rsa, jwt_actix::AuthSettings::default());
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let answer = call(
        &app,
        test::TestRequest::get()
            .uri("/api/v1/auth/token/.well-known/jwks.json")
            .to_request(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        answer.body,
        h.jwt.tokens().keys().jwks(),
        "the key set's document"
    );
    let key = &answer.body["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["kid"].as_str(),
            key["alg"].as_str()
        ),
        (Some("RSA"), Some("2026-12"), Some("RS256"))
    );
    assert!(key.get("d").is_none(), "no private part");
    assert_eq!(
        answer.headers.get("cache-control").unwrap(),
        "public, max-age=300"
    );
    let post = call(
        &app,
        test::TestRequest::post()
            .uri("/api/v1/auth/token/.well-known/jwks.json")
            .to_request(),
    )
    .await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.headers.get("allow").unwrap(), "GET");

    let hmac = Harness::new();
    let app = test::init_service(common::app(hmac.jwt.clone())).await;
    let answer = call(
        &app,
        test::TestRequest::get()
            .uri("/api/v1/auth/token/.well-known/jwks.json")
            .to_request(),
    )
    .await;
    assert_eq!(
        (answer.status, answer.body),
        (StatusCode::OK, json!({"keys": []})),
        "a shared secret is never published"
    );
}
