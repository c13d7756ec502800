//! Protected routes, the middleware and the extractors: the protected-route
//! table of docs/http-api.md.

mod common;

use actix_web::http::{StatusCode, header};
use actix_web::{App, HttpResponse, test, web};
use common::{Harness, NOW, User, call, get_with_token};
use jwt_actix::dangerous::{authenticate_request, caller};
use jwt_actix::{AuthSettings, Authenticated, Messages};
use serde_json::json;

const ME: &str = "/api/v1/me/";

fn get(path: &str) -> actix_http::Request {
    test::TestRequest::get().uri(path).to_request()
}

fn with_header(path: &str, value: &str) -> actix_http::Request {
    test::TestRequest::get()
        .uri(path)
        .insert_header((header::AUTHORIZATION, value))
        .to_request()
}

#[actix_web::test]
async fn a_valid_access_token_reaches_the_handler() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let (_, access) = h.pair(1);
    for path in [ME, "/api/v1/me"] {
        let answer = call(&app, get_with_token(path, &access)).await;
        assert_eq!(
            (answer.status, answer.text.as_str()),
            (StatusCode::OK, r#"{"id":1,"username":"alice"}"#)
        );
    }
}

#[actix_web::test]
async fn missing_or_foreign_credentials_are_not_provided() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let (_, access) = h.pair(1);
    let expected = r#"{"detail":"Authentication credentials were not provided."}"#;
    let requests = [
        get(ME),
        with_header(ME, ""),
        with_header(ME, &format!("Basic {access}")),
        with_header(ME, &format!("bearer {access}")),
        with_header(ME, &format!("JWT {access}")),
    ];
    for req in requests {
        let answer = call(&app, req).await;
        assert_eq!(
            (answer.status, answer.text.as_str()),
            (StatusCode::UNAUTHORIZED, expected)
        );
        assert_eq!(
            answer.headers.get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer realm=\"api\""
        );
    }
}

#[actix_web::test]
async fn a_header_without_exactly_two_parts_is_a_bad_header() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let (_, access) = h.pair(1);
    let expected = r#"{"detail":"Authorization header must contain two space-delimited values","code":"bad_authorization_header"}"#;
    for value in [
        "Bearer".to_owned(),
        "Bearer  ".to_owned(),
        format!("Bearer {access} extra"),
    ] {
        let answer = call(&app, with_header(ME, &value)).await;
        assert_eq!(
            (answer.status, answer.text.as_str()),
            (StatusCode::UNAUTHORIZED, expected),
            "{value:?}"
        );
    }
    // Extra whitespace between the two parts is fine, as Python's split().
    let answer = call(&app, with_header(ME, &format!("Bearer \t {access}"))).await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[actix_web::test]
async fn an_invalid_token_lists_each_accepted_type_s_reason() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let (refresh, access) = h.pair(1);
    let answer = call(&app, get_with_token(ME, "abc")).await;
    assert_eq!(
        answer.text,
        r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid or expired"}]}"#
    );
    let answer = call(&app, get_with_token(ME, &refresh)).await;
    assert_eq!(
        answer.body["messages"][0]["message"], "Token has wrong type",
        "a refresh token on a protected route"
    );
    h.clock.set(NOW + 300);
    let answer = call(&app, get_with_token(ME, &access)).await;
    assert_eq!(
        answer.body["messages"][0]["message"], "Token is invalid or expired",
        "expired"
    );
}

#[actix_web::test]
async fn auth_token_types_are_tried_in_order() {
    let tokens = jwt_core::TokenSettings {
        auth_token_types: vec!["access".into(), "refresh".into()],
        ..common::token_settings()
    };
    let h = Harness::with(tokens, AuthSettings::default());
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let (refresh, _) = h.pair(1);
    assert_eq!(
        call(&app, get_with_token(ME, &refresh)).await.status,
        StatusCode::OK
    );
    let answer = call(&app, get_with_token(ME, "abc")).await;
    let classes: Vec<&str> = answer.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["token_class"].as_str().unwrap())
        .collect();
    assert_eq!(classes, ["AccessToken", "RefreshToken"]);
}

#[actix_web::test]
async fn the_user_is_checked() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    h.store.add(3, "carol", true);
    let (_, carol) = h.pair(3);
    let (_, alice) = h.pair(1);
    let tokens = h.jwt.tokens();
    let nameless = tokens
        .encode(
            &tokens
                .access_from(
                    &tokens
                        .refresh_for_user_with(1, |claims| {
                            claims.remove("user_id");
                        })
                        .unwrap(),
                )
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        call(&app, get_with_token(ME, &nameless)).await.text,
        r#"{"detail":"Token contained no recognizable user identification","code":"token_not_valid"}"#
    );
    h.store.set_active(3, false);
    assert_eq!(
        call(&app, get_with_token(ME, &carol)).await.text,
        r#"{"detail":"User is inactive","code":"user_inactive"}"#
    );
    h.store.remove(3);
    assert_eq!(
        call(&app, get_with_token(ME, &carol)).await.text,
        r#"{"detail":"User not found","code":"user_not_found"}"#
    );
    h.store.set_cut_off(1, NOW - 1);
    assert_eq!(
        call(&app, get_with_token(ME, &alice)).await.status,
        StatusCode::OK,
        "issued after the cut-off"
    );
    h.store.set_cut_off(1, NOW);
    assert_eq!(
        call(&app, get_with_token(ME, &alice)).await.text,
        r#"{"detail":"The user's password has been changed.","code":"password_changed"}"#
    );
}

#[actix_web::test]
async fn authentication_comes_before_the_method_check() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let (_, access) = h.pair(1);
    let anonymous = test::TestRequest::post().uri(ME).to_request();
    let answer = call(&app, anonymous).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let authenticated = test::TestRequest::delete()
        .uri("/api/v1/me")
        .insert_header((header::AUTHORIZATION, format!("Bearer {access}")))
        .to_request();
    let answer = call(&app, authenticated).await;
    assert_eq!(
        (answer.status, answer.text.as_str()),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            r#"{"detail":"Method \"DELETE\" not allowed."}"#
        )
    );
    assert_eq!(answer.headers.get(header::ALLOW).unwrap(), "GET");
}

#[actix_web::test]
async fn the_middleware_is_lazy_resolves_once_and_never_rejects() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let (_, access) = h.pair(1);
    // A handler that asks nothing: no lookup, even with a bad token.
    let answer = call(&app, get_with_token("/public", &access)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = call(&app, get_with_token("/public", "garbage")).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "the middleware never rejects"
    );
    assert_eq!(
        h.store.loads(),
        0,
        "nothing resolved for a handler that does not ask"
    );
    // Two extractors in one handler: one lookup.
    let answer = call(&app, get_with_token("/twice", &access)).await;
    assert_eq!(answer.text, r#"{"same":true}"#);
    assert_eq!(h.store.loads(), 1);
}

#[actix_web::test]
async fn optional_forms_of_the_extractor() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let (_, access) = h.pair(1);
    // Option: None for anonymous and for bad credentials alike.
    assert_eq!(call(&app, get("/optional")).await.text, r#"{"user":null}"#);
    assert_eq!(
        call(&app, get_with_token("/optional", "bad")).await.text,
        r#"{"user":null}"#
    );
    assert_eq!(
        call(&app, get_with_token("/optional", &access)).await.text,
        r#"{"user":"alice"}"#
    );
    // MaybeAuthenticated: None for anonymous, 401 for bad credentials.
    assert_eq!(call(&app, get("/maybe")).await.text, r#"{"user":null}"#);
    assert_eq!(
        call(&app, get_with_token("/maybe", "bad")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(&app, get_with_token("/maybe", &access)).await.text,
        r#"{"user":"alice"}"#
    );
    // Result: the handler sees the error.
    assert_eq!(call(&app, get("/result")).await.text, r#"{"refused":401}"#);
    assert_eq!(
        call(&app, get_with_token("/result", &access)).await.text,
        r#"{"user":"alice"}"#
    );
}

#[actix_web::test]
async fn the_claims_extractor_does_not_load_the_user() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let (_, access) = h.pair(1);
    h.store.remove(1);
    let answer = call(&app, get_with_token("/claims", &access)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["user_id"], 1);
    assert_eq!(h.store.loads(), 0);
    assert_eq!(
        call(&app, get("/claims")).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn an_already_authenticated_request_is_left_alone() {
    use actix_web::dev::Service;
    let h = Harness::new();
    let jwt = h.jwt.clone();
    let preset = jwt.clone();
    let app = test::init_service(
        App::new()
            .wrap(jwt.middleware())
            .wrap_fn(move |req, srv| {
                // An app's own session middleware, running first.
                let tokens = preset.tokens();
                let token = tokens
                    .access_from(&tokens.refresh_for_user(7).unwrap())
                    .unwrap();
                let user = User {
                    id: 7,
                    name: "from-session".into(),
                    active: true,
                };
                authenticate_request(&req, &preset, caller(user, token));
                srv.call(req)
            })
            .route(
                "/whoami",
                web::get().to(|auth: Authenticated<User>| async move {
                    HttpResponse::Ok().body(auth.user().name.clone())
                }),
            ),
    )
    .await;
    let answer = call(&app, get_with_token("/whoami", "garbage")).await;
    assert_eq!(
        (answer.status, answer.text.as_str()),
        (StatusCode::OK, "from-session")
    );
    assert_eq!(h.store.loads(), 0);
}

#[actix_web::test]
async fn messages_can_be_translated_and_codes_stay() {
    let messages = Messages {
        not_authenticated: "Anmeldedaten fehlen.".into(),
        token_invalid: "Token ungültig oder abgelaufen".into(),
        ..Messages::default()
    };
    let jwt = Harness::build(common::token_settings(), AuthSettings::default(), |b| {
        b.messages(messages)
    })
    .jwt;
    let app = test::init_service(common::app(jwt)).await;
    assert_eq!(
        call(&app, get(ME)).await.text,
        r#"{"detail":"Anmeldedaten fehlen."}"#
    );
    let answer = call(
        &app,
        common::post_json("/api/v1/auth/token/verify/", json!({"token": "x"})),
    )
    .await;
    assert_eq!(
        answer.text,
        r#"{"detail":"Token ungültig oder abgelaufen","code":"token_not_valid"}"#
    );
}

#[actix_web::test]
async fn an_extractor_without_the_middleware_is_a_500_not_a_panic() {
    let app = test::init_service(App::new().route(
        "/me",
        web::get().to(|auth: Authenticated<User>| async move {
            HttpResponse::Ok().body(auth.user().name.clone())
        }),
    ))
    .await;
    let answer = call(&app, get("/me")).await;
    assert_eq!(
        (answer.status, answer.text.as_str()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"detail":"Internal server error."}"#
        )
    );
}
