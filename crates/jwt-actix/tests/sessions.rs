//! The sessions routes (docs/http-api.md "Sessions and logout") over the device
//! registry, on SQLite and (with `DATABASE_URL`) PostgreSQL.
#![cfg(feature = "registry")]

mod common;

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::test;
use common::{PASSWORD, RegistryHarness, call, get_with_token};
use jwt_registry::testing::{TestDatabase, databases};
use serde_json::{Value, json};

const PREFIX: &str = "/api/v1/auth/token";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1";

fn setup(db: &TestDatabase) -> RegistryHarness {
    common::with_devices(db)
}

fn path(tail: &str) -> String {
    format!("{PREFIX}/{tail}")
}

fn login(user: &str, user_agent: &str, peer: &str) -> actix_http::Request {
    test::TestRequest::post()
        .uri(&path("obtain/"))
        .peer_addr(format!("{peer}:40000").parse().unwrap())
        .insert_header(("User-Agent", user_agent))
        .set_json(json!({"username": user, "password": PASSWORD}))
        .to_request()
}

fn with_token(method: &str, tail: &str, access: &str) -> actix_http::Request {
    let request = match method {
        "GET" => test::TestRequest::get(),
        "POST" => test::TestRequest::post(),
        "DELETE" => test::TestRequest::delete(),
        _ => test::TestRequest::put(),
    };
    request
        .uri(&path(tail))
        .insert_header(("Authorization", format!("Bearer {access}")))
        .to_request()
}

fn access(pair: &Value) -> String {
    pair["access"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_user_sees_and_ends_their_own_sessions_only() {
    for db in databases("http_sessions") {
        let name = db.name;
        let s = setup(&db);
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let desktop = call(&app, login("alice", CHROME, "203.0.113.7")).await.body;
        s.clock.advance(Duration::from_secs(60));
        let phone = call(&app, login("alice", IPHONE, "198.51.100.9"))
            .await
            .body;
        let carol = call(&app, login("carol", CHROME, "192.0.2.33")).await.body;
        let (desktop, phone, carol) = (access(&desktop), access(&phone), access(&carol));

        let listed = call(&app, get_with_token(&path("sessions/"), &desktop)).await;
        assert_eq!(listed.status, StatusCode::OK, "{name}: {}", listed.text);
        let sessions = listed.body.as_array().unwrap().clone();
        assert_eq!(
            sessions.len(),
            2,
            "{name}: two devices, not carol's: {sessions:#?}"
        );
        let (newest, oldest) = (&sessions[0], &sessions[1]);
        assert_eq!(
            (
                &newest["app"],
                &newest["os"],
                &newest["device"],
                &newest["ip"],
                &newest["current"]
            ),
            (
                &json!("Safari 17.4.1"),
                &json!("iOS 17.4.1"),
                &json!("Apple iPhone"),
                &json!("198.51.100.9"),
                &json!(false)
            ),
            "{name}: newest first"
        );
        assert_eq!(
            (
                &oldest["app"],
                &oldest["os"],
                &oldest["device"],
                &oldest["ip"],
                &oldest["current"]
            ),
            (
                &json!("Chrome 124.0.0.0"),
                &json!("Windows 10"),
                &json!("Desktop"),
                &json!("203.0.113.7"),
                &json!(true)
            ),
            "{name}: the desktop's token asked"
        );
        assert_eq!(
            oldest["refreshed_at"],
            Value::Null,
            "{name}: never refreshed"
        );
        assert!(
            oldest["created_at"].as_str().unwrap().ends_with('Z')
                && oldest["expires_at"].as_str().is_some(),
            "{name}: RFC 3339 in UTC: {oldest}"
        );
        let from_phone = call(&app, get_with_token(&path("sessions/"), &phone))
            .await
            .body;
        assert_eq!(
            (&from_phone[0]["current"], &from_phone[1]["current"]),
            (&json!(true), &json!(false)),
            "{name}: current follows the asking token"
        );

        // Another user's session: 404, and it still works.
        let carols = call(&app, get_with_token(&path("sessions/"), &carol))
            .await
            .body;
        assert_eq!(carols.as_array().unwrap().len(), 1, "{name}");
        let carols_id = carols[0]["id"].as_str().unwrap().to_owned();
        for id in [
            carols_id.as_str(),
            "not-a-uuid",
            "00000000-0000-4000-8000-000000000000",
        ] {
            let answer = call(
                &app,
                with_token("DELETE", &format!("sessions/{id}/"), &desktop),
            )
            .await;
            assert_eq!(
                (answer.status, answer.body),
                (StatusCode::NOT_FOUND, json!({"detail": "Not found."})),
                "{name}: {id}"
            );
        }
        assert_eq!(
            call(&app, get_with_token("/api/v1/me/", &carol))
                .await
                .status,
            StatusCode::OK,
            "{name}"
        );

        // Refreshing shows on the list, with the device that refreshed.
        s.clock.advance(Duration::from_secs(60));
        let third = call(&app, login("alice", CHROME, "203.0.113.7")).await.body;
        s.clock.advance(Duration::from_secs(60));
        let refresh = test::TestRequest::post()
            .uri(&path("refresh/"))
            .peer_addr("192.0.2.80:40000".parse().unwrap())
            .insert_header(("User-Agent", IPHONE))
            .set_json(json!({"refresh": third["refresh"]}))
            .to_request();
        assert_eq!(call(&app, refresh).await.status, StatusCode::OK);
        let listed = call(&app, get_with_token(&path("sessions/"), &desktop))
            .await
            .body;
        assert_eq!(listed.as_array().unwrap().len(), 3, "{name}: a third login");
        assert!(
            listed[0]["refreshed_at"].as_str().unwrap() > listed[0]["created_at"].as_str().unwrap(),
            "{name}: {}",
            listed[0]
        );
        assert_eq!(
            (&listed[0]["device"], &listed[0]["ip"]),
            (&json!("Apple iPhone"), &json!("192.0.2.80")),
            "{name}: the device of the newest token"
        );

        // End the newest one by id: its tokens stop working.
        let third = listed[0]["id"].as_str().unwrap().to_owned();
        let ended = call(
            &app,
            with_token("DELETE", &format!("sessions/{third}/"), &desktop),
        )
        .await;
        assert_eq!(
            (ended.status, ended.text.as_str()),
            (StatusCode::NO_CONTENT, ""),
            "{name}"
        );
        let again = call(
            &app,
            with_token("DELETE", &format!("sessions/{third}/"), &desktop),
        )
        .await;
        assert_eq!(
            again.status,
            StatusCode::NOT_FOUND,
            "{name}: ended sessions are gone"
        );

        // Revoke the others: the phone is logged out, the desktop stays.
        let revoked = call(
            &app,
            with_token("POST", "sessions/revoke-others/", &desktop),
        )
        .await;
        assert_eq!(
            (revoked.status, revoked.body),
            (StatusCode::OK, json!({"revoked": 1})),
            "{name}"
        );
        let refused = call(&app, get_with_token("/api/v1/me/", &phone)).await;
        assert_eq!(
            (refused.status, refused.body["code"].clone()),
            (StatusCode::UNAUTHORIZED, json!("token_expired")),
            "{name}"
        );
        let listed = call(&app, get_with_token(&path("sessions/"), &desktop))
            .await
            .body;
        assert_eq!(
            listed.as_array().unwrap().len(),
            1,
            "{name}: only the current one left"
        );
        assert_eq!(listed[0]["current"], json!(true), "{name}");

        // Log out: the current session ends.
        let out = call(&app, with_token("POST", "logout/", &desktop)).await;
        assert_eq!(out.status, StatusCode::NO_CONTENT, "{name}");
        assert_eq!(
            call(&app, get_with_token("/api/v1/me/", &desktop))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );

        // Log out everywhere.
        let first = access(&call(&app, login("alice", CHROME, "203.0.113.7")).await.body);
        let second = access(
            &call(&app, login("alice", IPHONE, "198.51.100.9"))
                .await
                .body,
        );
        let all = call(&app, with_token("POST", "logout-all/", &second)).await;
        assert_eq!(
            (all.status, all.body),
            (StatusCode::OK, json!({"revoked": 2})),
            "{name}"
        );
        for token in [&first, &second] {
            assert_eq!(
                call(&app, get_with_token("/api/v1/me/", token))
                    .await
                    .status,
                StatusCode::UNAUTHORIZED,
                "{name}"
            );
        }
        assert_eq!(
            call(&app, get_with_token("/api/v1/me/", &carol))
                .await
                .status,
            StatusCode::OK,
            "{name}: carol untouched"
        );
    }
}

#[actix_web::test]
async fn the_sessions_routes_authenticate_before_the_method_check() {
    for db in databases("http_sessions_auth") {
        let name = db.name;
        let s = setup(&db);
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let token = access(&call(&app, login("alice", CHROME, "203.0.113.7")).await.body);
        for (method, tail, allow) in [
            ("GET", "sessions/", "GET"),
            ("POST", "sessions/revoke-others/", "POST"),
            (
                "DELETE",
                "sessions/00000000-0000-4000-8000-000000000000/",
                "DELETE",
            ),
            ("POST", "logout/", "POST"),
            ("POST", "logout-all/", "POST"),
        ] {
            let anonymous = test::TestRequest::default()
                .method(method.parse().unwrap())
                .uri(&path(tail))
                .to_request();
            let answer = call(&app, anonymous).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{name}: {method} {tail}"
            );
            let wrong = call(&app, with_token("PUT", tail, &token)).await;
            assert_eq!(
                wrong.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{name}: PUT {tail}"
            );
            assert_eq!(wrong.headers.get("allow").unwrap(), allow, "{name}: {tail}");
            let unslashed = call(&app, with_token("PUT", tail.trim_end_matches('/'), &token)).await;
            assert_eq!(
                unslashed.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{name}: without the slash"
            );
        }
        let refresh_token =
            call(&app, login("alice", CHROME, "203.0.113.7")).await.body["refresh"].clone();
        let with_refresh = call(
            &app,
            get_with_token(&path("sessions/"), refresh_token.as_str().unwrap()),
        )
        .await;
        assert_eq!(
            with_refresh.status,
            StatusCode::UNAUTHORIZED,
            "{name}: a refresh token is not an access token"
        );
    }
}

/// A device name comes from headers an attacker writes: markup never comes
/// back, whether the row was stored now or before names were cleaned.
#[actix_web::test]
async fn device_names_come_back_without_markup() {
    for db in databases("http_device_markup") {
        let name = db.name;
        let s = setup(&db);
        let app = test::init_service(common::app(s.jwt.clone())).await;
        let evil = test::TestRequest::post()
            .uri(&path("obtain/"))
            .peer_addr("203.0.113.7:40000".parse().unwrap())
            .insert_header((
                "User-Agent",
                "Evil<script>alert(1)</script>/1.0 (<img src=x onerror=alert(2)>)",
            ))
            .insert_header(("Sec-CH-UA", "\"<img src=x onerror=alert(3)>\";v=\"9\""))
            .insert_header(("Sec-CH-UA-Model", "\"<svg/onload=alert(4)>\""))
            .insert_header(("Sec-CH-UA-Platform", "\"<b>Windows</b>\""))
            .set_json(json!({"username": "alice", "password": PASSWORD}))
            .to_request();
        let token = access(&call(&app, evil).await.body);
        let listed = call(&app, get_with_token(&path("sessions/"), &token)).await;
        let session = listed.body[0].clone();
        let shown: Vec<&str> = ["app", "os", "device"]
            .iter()
            .filter_map(|field| session[field].as_str())
            .collect();
        assert!(!shown.is_empty(), "{name}: names are shown: {session}");
        for text in &shown {
            assert!(
                !text.contains(['<', '>', '"', '\'', '&', '=']),
                "{name}: {text:?} in {session}"
            );
        }
        assert!(
            shown.iter().any(|text| text.contains("alert")),
            "{name}: the header did reach a name: {session}"
        );

        // A row stored before names were cleaned is cleaned when read.
        let mut conn = s.registry.database().get().unwrap();
        diesel::RunQueryDsl::execute(
            diesel::sql_query("UPDATE jwt_app SET family = '<b onmouseover=\"x\">Chrome</b>'"),
            &mut *conn,
        )
        .unwrap();
        drop(conn);
        let listed = call(&app, get_with_token(&path("sessions/"), &token)).await;
        let app_name = listed.body[0]["app"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            app_name.starts_with("b onmouseoverxChrome/b"),
            "{name}: {app_name:?}"
        );
    }
}
