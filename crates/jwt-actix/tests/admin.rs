//! The admin API: an administrator lists anyone's tokens with their tree,
//! device and state and force-expires a token, a tree or a user; anyone
//! else is refused. SQLite and (with `DATABASE_URL`) PostgreSQL.
#![cfg(feature = "registry")]

mod common;

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{App, test, web};
use common::{PASSWORD, TestStore, call, get_with_token};
use jwt_actix::{JwtAuth, protected_resource};
use jwt_core::ManualClock;
use jwt_registry::testing::{TestDatabase, databases};
use serde_json::{Value, json};

const PREFIX: &str = "/api/v1/auth/token";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1";

fn setup(db: &TestDatabase) -> (JwtAuth<TestStore>, ManualClock) {
    let h = common::with_devices(db);
    h.jwt.store().set_admin(3);
    (h.jwt, h.clock)
}

async fn me(auth: jwt_actix::Authenticated<common::User>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(json!({"id": auth.user().id}))
}

/// The token routes with the admin API, and `/api/v1/me/`.
fn admin_app(jwt: &JwtAuth<TestStore>) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    let routes = jwt.token_routes().admin(true).configure();
    move |cfg| {
        cfg.service(web::scope(PREFIX).configure(routes)).service(
            protected_resource::<common::User>("/api/v1/me/", "GET").route(|| web::get().to(me)),
        );
    }
}

fn path(tail: &str) -> String {
    format!("{PREFIX}/{tail}")
}

fn login(user: &str, user_agent: &str) -> actix_http::Request {
    test::TestRequest::post()
        .uri(&path("obtain/"))
        .peer_addr("203.0.113.7:40000".parse().unwrap())
        .insert_header(("User-Agent", user_agent))
        .set_json(json!({"username": user, "password": PASSWORD}))
        .to_request()
}

fn post_with_token(tail: &str, access: &str, body: Value) -> actix_http::Request {
    test::TestRequest::post()
        .uri(&path(tail))
        .insert_header(("Authorization", format!("Bearer {access}")))
        .set_json(body)
        .to_request()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap().to_owned()
}

fn jti_of(token: &str) -> String {
    use base64::Engine;
    let claims = token.split('.').nth(1).unwrap();
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .unwrap();
    let claims: Value = serde_json::from_slice(&claims).unwrap();
    text(&claims["jti"])
}

#[actix_web::test]
async fn only_an_admin_may_use_the_admin_api() {
    for db in databases("http_admin_refusals") {
        let name = db.name;
        let (jwt, _) = setup(&db);
        let app =
            test::init_service(App::new().wrap(jwt.middleware()).configure(admin_app(&jwt))).await;
        let alice = text(&call(&app, login("alice", CHROME)).await.body["access"]);
        let carol = text(&call(&app, login("carol", CHROME)).await.body["access"]);
        let forbidden = (
            StatusCode::FORBIDDEN,
            json!({"detail": "You do not have permission to perform this action."}),
        );
        let carol_jti = jti_of(&carol);
        let requests = || {
            [
                ("GET", "admin/users/3/tokens/".to_owned()),
                ("GET", format!("admin/tokens/{carol_jti}/")),
                ("POST", format!("admin/tokens/{carol_jti}/expire/")),
                ("POST", "admin/users/3/expire/".to_owned()),
            ]
        };
        for (method, tail) in requests() {
            let request = |token: Option<&str>| {
                let mut request = match method {
                    "GET" => test::TestRequest::get(),
                    _ => test::TestRequest::post().set_json(json!({"affect_tree": true})),
                }
                .uri(&path(&tail));
                if let Some(token) = token {
                    request = request.insert_header(("Authorization", format!("Bearer {token}")));
                }
                request.to_request()
            };
            let answer = call(&app, request(Some(&alice))).await;
            assert_eq!(
                (answer.status, answer.body),
                forbidden.clone(),
                "{name}: {method} {tail} by a non-admin"
            );
            let answer = call(&app, request(None)).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{name}: {method} {tail} anonymous"
            );
        }
        // The refusals changed nothing: carol's token still works.
        assert_eq!(
            call(&app, get_with_token("/api/v1/me/", &carol))
                .await
                .status,
            StatusCode::OK,
            "{name}"
        );

        // Not mounted unless asked for.
        let plain = test::init_service(
            App::new()
                .wrap(jwt.middleware())
                .service(web::scope(PREFIX).configure(jwt.token_routes().configure())),
        )
        .await;
        let answer = call(
            &plain,
            get_with_token(&path("admin/users/1/tokens/"), &carol),
        )
        .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{name}");
    }
}

#[actix_web::test]
async fn an_admin_lists_trees_and_expires_tokens_trees_and_users() {
    for db in databases("http_admin") {
        let name = db.name;
        let (jwt, clock) = setup(&db);
        let app =
            test::init_service(App::new().wrap(jwt.middleware()).configure(admin_app(&jwt))).await;
        let admin = text(&call(&app, login("carol", CHROME)).await.body["access"]);
        clock.advance(Duration::from_secs(10));
        let desktop = call(&app, login("alice", CHROME)).await.body;
        clock.advance(Duration::from_secs(10));
        let phone = call(&app, login("alice", IPHONE)).await.body;
        clock.advance(Duration::from_secs(10));
        let refreshed = call(
            &app,
            test::TestRequest::post()
                .uri(&path("refresh/"))
                .insert_header(("User-Agent", IPHONE))
                .set_json(json!({"refresh": phone["refresh"]}))
                .to_request(),
        )
        .await
        .body;
        let phone_access = text(&refreshed["access"]);

        // Alice's tokens, newest first, with device and state.
        let listed = call(&app, get_with_token(&path("admin/users/1/tokens/"), &admin)).await;
        assert_eq!(listed.status, StatusCode::OK, "{name}: {}", listed.text);
        assert_eq!(listed.body["count"], 5, "{name}: two logins, one refresh");
        let results = listed.body["results"].as_array().unwrap();
        assert_eq!(results.len(), 5, "{name}");
        let newest = &results[0];
        assert_eq!(newest["jti"], json!(jti_of(&phone_access)), "{name}");
        assert_eq!(
            (
                &newest["token_type"],
                &newest["user_id"],
                &newest["state"],
                &newest["app"],
                &newest["device"],
                &newest["force_expired_at"]
            ),
            (
                &json!("access"),
                &json!("1"),
                &json!("active"),
                &json!("Safari 17.4.1"),
                &json!("Apple iPhone"),
                &Value::Null
            ),
            "{name}: {newest}"
        );
        assert!(
            results
                .iter()
                .all(|token| token["user_id"] == "1" && token.get("payload").is_none()),
            "{name}: only alice's, never the claims"
        );

        // Paging and filters, with DRF's messages for bad values.
        let page = call(
            &app,
            get_with_token(&path("admin/users/1/tokens/?limit=2&offset=1"), &admin),
        )
        .await
        .body;
        assert_eq!(page["count"], 5, "{name}");
        let page_jtis: Vec<&Value> = page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| &t["jti"])
            .collect();
        assert_eq!(
            page_jtis,
            [&results[1]["jti"], &results[2]["jti"]],
            "{name}"
        );
        for (query, field, message) in [
            ("limit=x", "limit", "A valid integer is required."),
            (
                "limit=1001",
                "limit",
                "Ensure this value is less than or equal to 1000.",
            ),
            (
                "offset=-1",
                "offset",
                "Ensure this value is greater than or equal to 0.",
            ),
            ("offset=1.5", "offset", "A valid integer is required."),
            ("state=gone", "state", "\"gone\" is not a valid choice."),
        ] {
            let answer = call(
                &app,
                get_with_token(&path(&format!("admin/users/1/tokens/?{query}")), &admin),
            )
            .await;
            assert_eq!(
                (answer.status, answer.body),
                (StatusCode::BAD_REQUEST, json!({ field: [message] })),
                "{name}: {query}"
            );
        }

        // One token's tree: the phone's login, oldest first.
        let tree = call(
            &app,
            get_with_token(
                &path(&format!("admin/tokens/{}/", jti_of(&phone_access))),
                &admin,
            ),
        )
        .await;
        assert_eq!(tree.status, StatusCode::OK, "{name}: {}", tree.text);
        assert_eq!(tree.body["token"]["jti"], json!(jti_of(&phone_access)));
        let members = tree.body["tree"].as_array().unwrap();
        let jtis: Vec<String> = members.iter().map(|t| text(&t["jti"])).collect();
        assert_eq!(
            jtis,
            [
                jti_of(phone["refresh"].as_str().unwrap()),
                jti_of(phone["access"].as_str().unwrap()),
                jti_of(&phone_access),
            ],
            "{name}: the root first"
        );
        assert_eq!(members[0]["parent_id"], Value::Null, "{name}");
        assert_eq!(members[2]["parent_id"], members[0]["id"], "{name}");
        let unknown = call(
            &app,
            get_with_token(&path(&format!("admin/tokens/{}/", "0".repeat(32))), &admin),
        )
        .await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{name}");

        // Expire the phone's tree: the desktop session lives on.
        let expired = call(
            &app,
            post_with_token(
                &format!("admin/tokens/{}/expire/", jti_of(&phone_access)),
                &admin,
                json!({"affect_tree": true}),
            ),
        )
        .await;
        assert_eq!(
            (expired.status, expired.body),
            (StatusCode::OK, json!({"expired": 3})),
            "{name}"
        );
        let me = call(&app, get_with_token("/api/v1/me/", &phone_access)).await;
        assert_eq!(me.body["code"], "token_expired", "{name}");
        let desktop_access = text(&desktop["access"]);
        let me = call(&app, get_with_token("/api/v1/me/", &desktop_access)).await;
        assert_eq!(me.status, StatusCode::OK, "{name}: another tree");
        let again = call(
            &app,
            post_with_token(
                &format!("admin/tokens/{}/expire/", jti_of(&phone_access)),
                &admin,
                json!({}),
            ),
        )
        .await;
        assert_eq!(again.body, json!({"expired": 0}), "{name}: already");
        let bad = call(
            &app,
            post_with_token(
                &format!("admin/tokens/{}/expire/", jti_of(&phone_access)),
                &admin,
                json!({"affect_tree": "maybe"}),
            ),
        )
        .await;
        assert_eq!(
            (bad.status, bad.body),
            (
                StatusCode::BAD_REQUEST,
                json!({"affect_tree": ["Must be a valid boolean."]})
            ),
            "{name}"
        );
        let forced = call(
            &app,
            get_with_token(&path("admin/users/1/tokens/?state=force_expired"), &admin),
        )
        .await
        .body;
        assert_eq!(forced["count"], 3, "{name}");
        assert!(
            forced["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["state"] == "force_expired" && t["force_expired_at"].is_string()),
            "{name}: {forced}"
        );

        // Expire a single token, without its tree.
        let desktop_refresh_jti = jti_of(desktop["refresh"].as_str().unwrap());
        let single = call(
            &app,
            post_with_token(
                &format!("admin/tokens/{desktop_refresh_jti}/expire/"),
                &admin,
                json!({}),
            ),
        )
        .await;
        assert_eq!(single.body, json!({"expired": 1}), "{name}");
        let me = call(&app, get_with_token("/api/v1/me/", &desktop_access)).await;
        assert_eq!(me.status, StatusCode::OK, "{name}: its access token lives");

        // The whole user: what was left.
        let user = call(
            &app,
            post_with_token("admin/users/1/expire/", &admin, json!({})),
        )
        .await;
        assert_eq!(
            (user.status, user.body),
            (StatusCode::OK, json!({"expired": 1})),
            "{name}: the desktop's access token"
        );
        let me = call(&app, get_with_token("/api/v1/me/", &desktop_access)).await;
        assert_eq!(me.body["code"], "token_expired", "{name}");
        let active = call(
            &app,
            get_with_token(&path("admin/users/1/tokens/?state=active"), &admin),
        )
        .await
        .body;
        assert_eq!(active, json!({"count": 0, "results": []}), "{name}");
        let me = call(&app, get_with_token("/api/v1/me/", &admin)).await;
        assert_eq!(
            me.status,
            StatusCode::OK,
            "{name}: the admin's own login lives"
        );
    }
}
