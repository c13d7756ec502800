//! The cookie transport (`[auth] transport = "cookie"`): tokens in
//! `HttpOnly` cookies, a double-submit CSRF check on unsafe requests they
//! authenticate, forms refused; over the registry on SQLite and (with
//! `DATABASE_URL`) PostgreSQL.
#![cfg(feature = "registry")]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::test;
use common::{Answer, PASSWORD, TestStore, call};
use jwt_actix::{AuthSettings, JwtAuth, Transport};
use jwt_core::{ManualClock, TokenService};
use jwt_registry::RegistrySettings;
use jwt_registry::testing::{TestDatabase, databases};
use serde_json::{Value, json};

const PREFIX: &str = "/api/v1/auth/token/";

fn cookie_settings() -> AuthSettings {
    AuthSettings {
        transport: Transport::Cookie,
        rotate_refresh_tokens: true,
        reuse_detection: true,
        ..AuthSettings::default()
    }
}

fn setup(db: &TestDatabase, auth: AuthSettings) -> (JwtAuth<TestStore>, ManualClock) {
    let h = common::with_registry(db, RegistrySettings::default(), auth, |builder| builder);
    (h.jwt, h.clock)
}

/// One `Set-Cookie` line taken apart.
#[derive(Clone, Debug)]
struct SetCookie {
    value: String,
    path: String,
    max_age: i64,
    attributes: Vec<String>,
}

fn set_cookies(headers: &HeaderMap) -> HashMap<String, SetCookie> {
    let mut found = HashMap::new();
    for line in headers.get_all(header::SET_COOKIE) {
        let line = line.to_str().unwrap();
        let mut parts = line.split("; ");
        let (name, value) = parts.next().unwrap().split_once('=').unwrap();
        let attributes: Vec<String> = parts.map(str::to_owned).collect();
        let attribute = |key: &str| {
            attributes
                .iter()
                .find_map(|a| a.strip_prefix(&format!("{key}=")).map(str::to_owned))
                .unwrap_or_else(|| panic!("{name}: no {key} in {line}"))
        };
        let cookie = SetCookie {
            value: value.to_owned(),
            path: attribute("Path"),
            max_age: attribute("Max-Age").parse().unwrap(),
            attributes: attributes.clone(),
        };
        assert!(
            found.insert(name.to_owned(), cookie).is_none(),
            "{name} set twice"
        );
    }
    found
}

/// A browser's cookie jar: keeps what `Set-Cookie` says, sends a cookie
/// only to paths under its `Path`.
#[derive(Clone, Default)]
struct Jar {
    cookies: HashMap<String, SetCookie>,
}

impl Jar {
    fn take(&mut self, answer: &Answer) {
        for (name, cookie) in set_cookies(&answer.headers) {
            if cookie.max_age <= 0 {
                self.cookies.remove(&name);
            } else {
                self.cookies.insert(name, cookie);
            }
        }
    }

    fn value(&self, name: &str) -> Option<String> {
        self.cookies.get(name).map(|cookie| cookie.value.clone())
    }

    fn header_for(&self, path: &str) -> String {
        let mut pairs: Vec<String> = self
            .cookies
            .iter()
            .filter(|(_, cookie)| path.starts_with(&cookie.path))
            .map(|(name, cookie)| format!("{name}={}", cookie.value))
            .collect();
        pairs.sort();
        pairs.join("; ")
    }

    /// A request as the browser sends it, with the CSRF header when `csrf`.
    fn request(&self, method: &str, path: &str, csrf: Csrf) -> test::TestRequest {
        let request = match method {
            "GET" => test::TestRequest::get(),
            "DELETE" => test::TestRequest::delete(),
            _ => test::TestRequest::post(),
        }
        .uri(path)
        .insert_header((header::COOKIE, self.header_for(path)));
        match csrf {
            Csrf::None => request,
            Csrf::Echo => {
                request.insert_header(("X-CSRF-Token", self.value("csrftoken").unwrap_or_default()))
            }
            Csrf::Wrong => request.insert_header(("X-CSRF-Token", "guessed")),
        }
    }
}

#[derive(Clone, Copy)]
enum Csrf {
    None,
    Echo,
    Wrong,
}

fn login() -> actix_http::Request {
    common::post_json(
        &format!("{PREFIX}obtain/"),
        json!({"username": "alice", "password": PASSWORD}),
    )
}

fn not_provided() -> (StatusCode, Value) {
    (
        StatusCode::UNAUTHORIZED,
        json!({"detail": "Authentication credentials were not provided."}),
    )
}

fn csrf_refusal(reason: &str) -> (StatusCode, Value) {
    (
        StatusCode::FORBIDDEN,
        json!({ "detail": format!("CSRF Failed: {reason}") }),
    )
}

#[actix_web::test]
async fn cookie_mode_round_trips_and_needs_the_csrf_header_on_unsafe_requests() {
    for db in databases("http_cookies") {
        let name = db.name;
        let (jwt, clock) = setup(&db, cookie_settings());
        let app = test::init_service(common::app(jwt)).await;
        let mut jar = Jar::default();

        // Login: tokens in cookies, not in the body.
        let obtained = call(&app, login()).await;
        assert_eq!(
            (obtained.status, &obtained.body),
            (StatusCode::OK, &json!({})),
            "{name}: {}",
            obtained.text
        );
        let set = set_cookies(&obtained.headers);
        let mut names: Vec<&str> = set.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["access_token", "csrftoken", "refresh_token"],
            "{name}"
        );
        for (cookie, path, max_age, http_only) in [
            ("access_token", "/", 300, true),
            ("refresh_token", PREFIX, 86_400, true),
            ("csrftoken", "/", 86_400, false),
        ] {
            let got = &set[cookie];
            assert_eq!(
                (got.path.as_str(), got.max_age),
                (path, max_age),
                "{name}: {cookie}"
            );
            for attribute in ["Secure", "SameSite=Strict"] {
                assert!(
                    got.attributes.iter().any(|a| a == attribute),
                    "{name}: {cookie} {attribute}"
                );
            }
            assert_eq!(
                got.attributes.iter().any(|a| a == "HttpOnly"),
                http_only,
                "{name}: {cookie} HttpOnly"
            );
        }
        jar.take(&obtained);
        let first_refresh = jar.value("refresh_token").unwrap();
        let csrf = jar.value("csrftoken").unwrap();

        // A safe request rides on the access cookie alone.
        let me = call(
            &app,
            jar.request("GET", "/api/v1/me/", Csrf::None).to_request(),
        )
        .await;
        assert_eq!(
            (me.status, me.body),
            (StatusCode::OK, json!({"id": 1, "username": "alice"})),
            "{name}"
        );

        // Refresh without the header, or with a wrong one: 403, and the
        // refresh token is not spent (reuse detection would notice).
        let refresh = format!("{PREFIX}refresh/");
        for (csrf, reason) in [
            (Csrf::None, "CSRF token missing."),
            (Csrf::Wrong, "CSRF token incorrect."),
        ] {
            let refused = call(&app, jar.request("POST", &refresh, csrf).to_request()).await;
            assert_eq!(
                (refused.status, refused.body),
                csrf_refusal(reason),
                "{name}"
            );
            assert!(
                refused.headers.get(header::SET_COOKIE).is_none(),
                "{name}: no cookies on a refusal"
            );
        }
        let mut without_csrf_cookie = jar.clone();
        without_csrf_cookie.cookies.remove("csrftoken");
        let refused = call(
            &app,
            without_csrf_cookie
                .request("POST", &refresh, Csrf::None)
                .insert_header(("X-CSRF-Token", csrf.as_str()))
                .to_request(),
        )
        .await;
        assert_eq!(
            (refused.status, refused.body),
            csrf_refusal("CSRF cookie not set."),
            "{name}"
        );

        // A form body is refused first (the contract's order), even
        // without the CSRF header.
        let form = call(
            &app,
            jar.request("POST", &refresh, Csrf::None)
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
                .set_payload("refresh=x")
                .to_request(),
        )
        .await;
        assert_eq!(
            (form.status, form.body),
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json!({"detail": "Unsupported media type \"application/x-www-form-urlencoded\" in request."})
            ),
            "{name}"
        );

        // With the header: new tokens in cookies, the same CSRF value.
        clock.advance(Duration::from_secs(10));
        let refreshed = call(&app, jar.request("POST", &refresh, Csrf::Echo).to_request()).await;
        assert_eq!(
            (refreshed.status, &refreshed.body),
            (StatusCode::OK, &json!({})),
            "{name}: {}",
            refreshed.text
        );
        let set = set_cookies(&refreshed.headers);
        assert_eq!(set["refresh_token"].path, PREFIX, "{name}");
        assert_ne!(set["refresh_token"].value, first_refresh, "{name}: rotated");
        assert_eq!(set["csrftoken"].value, csrf, "{name}: the CSRF value stays");
        jar.take(&refreshed);

        // The rotated-out refresh token, replayed: the whole tree dies.
        let mut stale = jar.clone();
        stale
            .cookies
            .get_mut("refresh_token")
            .unwrap()
            .value
            .clone_from(&first_refresh);
        let replayed = call(
            &app,
            stale.request("POST", &refresh, Csrf::Echo).to_request(),
        )
        .await;
        assert_eq!(replayed.body["code"], "token_expired", "{name}");
        let me = call(
            &app,
            jar.request("GET", "/api/v1/me/", Csrf::None).to_request(),
        )
        .await;
        assert_eq!(me.body["code"], "token_expired", "{name}: the family died");
        // A dead access cookie on an unsafe request is the usual 401, not
        // a CSRF refusal: authentication comes first.
        let dead = call(
            &app,
            jar.request(
                "POST",
                &format!("{PREFIX}sessions/revoke-others/"),
                Csrf::None,
            )
            .to_request(),
        )
        .await;
        assert_eq!(
            (dead.status, &dead.body["code"]),
            (StatusCode::UNAUTHORIZED, &json!("token_expired")),
            "{name}"
        );

        // A new login; logout needs the header, then clears the cookies.
        let mut jar = Jar::default();
        jar.take(&call(&app, login()).await);
        let logout = format!("{PREFIX}logout/");
        let refused = call(&app, jar.request("POST", &logout, Csrf::None).to_request()).await;
        assert_eq!(
            (refused.status, refused.body),
            csrf_refusal("CSRF token missing."),
            "{name}"
        );
        let wrong = call(
            &app,
            jar.request("POST", &format!("{PREFIX}logout-all/"), Csrf::Wrong)
                .to_request(),
        )
        .await;
        assert_eq!(
            (wrong.status, wrong.body),
            csrf_refusal("CSRF token incorrect."),
            "{name}"
        );
        let me = call(
            &app,
            jar.request("GET", "/api/v1/me/", Csrf::None).to_request(),
        )
        .await;
        assert_eq!(
            me.status,
            StatusCode::OK,
            "{name}: the refusals ended nothing"
        );
        let access = jar.value("access_token").unwrap();
        let out = call(&app, jar.request("POST", &logout, Csrf::Echo).to_request()).await;
        assert_eq!(out.status, StatusCode::NO_CONTENT, "{name}: {}", out.text);
        let cleared = set_cookies(&out.headers);
        for (cookie, path) in [
            ("access_token", "/"),
            ("refresh_token", PREFIX),
            ("csrftoken", "/"),
        ] {
            assert_eq!(
                (cleared[cookie].value.as_str(), cleared[cookie].max_age),
                ("", 0),
                "{name}: {cookie}"
            );
            assert_eq!(cleared[cookie].path, path, "{name}: {cookie}");
        }
        jar.take(&out);
        assert!(jar.cookies.is_empty(), "{name}");
        let me = call(
            &app,
            test::TestRequest::get()
                .uri("/api/v1/me/")
                .insert_header((header::COOKIE, format!("access_token={access}")))
                .to_request(),
        )
        .await;
        assert_eq!(me.body["code"], "token_expired", "{name}: logged out");
    }
}

#[actix_web::test]
async fn cookie_mode_refuses_forms_at_login_and_needs_the_refresh_cookie() {
    for db in databases("http_cookies_edges") {
        let name = db.name;
        let (jwt, _) = setup(&db, cookie_settings());
        let app = test::init_service(common::app(jwt)).await;
        let form = call(
            &app,
            test::TestRequest::post()
                .uri(&format!("{PREFIX}obtain/"))
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
                .set_payload(format!("username=alice&password={PASSWORD}"))
                .to_request(),
        )
        .await;
        assert_eq!(
            form.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{name}: a cross-site form cannot log anyone in"
        );
        assert!(form.headers.get(header::SET_COOKIE).is_none(), "{name}");

        // The refresh token is read from its cookie only.
        let mut jar = Jar::default();
        jar.take(&call(&app, login()).await);
        let mut no_refresh = jar.clone();
        let refresh_token = no_refresh.cookies.remove("refresh_token").unwrap().value;
        let answer = call(
            &app,
            no_refresh
                .request("POST", &format!("{PREFIX}refresh/"), Csrf::Echo)
                .set_json(json!({"refresh": refresh_token}))
                .to_request(),
        )
        .await;
        assert_eq!((answer.status, answer.body), not_provided(), "{name}");

        // A bearer header still works, and needs no CSRF header: a page of
        // another site cannot set it.
        let header_login = common::Harness::new().pair(1).1;
        let me = call(
            &app,
            test::TestRequest::post()
                .uri(&format!("{PREFIX}sessions/revoke-others/"))
                .insert_header(("Authorization", format!("Bearer {header_login}")))
                .to_request(),
        )
        .await;
        assert_eq!(me.status, StatusCode::OK, "{name}: {}", me.text);

        // A stale access cookie on an unsafe request is a 401, not a 403.
        let answer = call(
            &app,
            test::TestRequest::post()
                .uri(&format!("{PREFIX}sessions/revoke-others/"))
                .insert_header((header::COOKIE, "access_token=not.a.token"))
                .to_request(),
        )
        .await;
        assert_eq!(
            (answer.status, &answer.body["code"]),
            (StatusCode::UNAUTHORIZED, &json!("token_not_valid")),
            "{name}"
        );
    }
}

#[actix_web::test]
async fn body_mode_ignores_token_cookies() {
    for db in databases("http_cookies_body") {
        let name = db.name;
        let (jwt, _) = setup(&db, AuthSettings::default());
        let app = test::init_service(common::app(jwt)).await;
        let obtained = call(&app, login()).await;
        assert!(obtained.headers.get(header::SET_COOKIE).is_none(), "{name}");
        let access = obtained.body["access"].as_str().unwrap();
        let me = call(
            &app,
            test::TestRequest::get()
                .uri("/api/v1/me/")
                .insert_header((header::COOKIE, format!("access_token={access}")))
                .to_request(),
        )
        .await;
        assert_eq!((me.status, me.body), not_provided(), "{name}");
    }
}

#[actix_web::test]
async fn a_browser_can_log_out_after_its_access_cookie_ran_out() {
    for db in databases("http_cookies_logout") {
        let name = db.name;
        let (jwt, clock) = setup(&db, cookie_settings());
        let app = test::init_service(common::app(jwt)).await;
        let mut jar = Jar::default();
        jar.take(&call(&app, login()).await);
        // The access token (300 s) has run out, the refresh token has not.
        clock.advance(Duration::from_secs(301));
        let logout = format!("{PREFIX}logout/");
        let refused = call(&app, jar.request("POST", &logout, Csrf::None).to_request()).await;
        assert_eq!(
            (refused.status, refused.body),
            csrf_refusal("CSRF token missing."),
            "{name}: the refresh cookie needs the header too"
        );
        let out = call(&app, jar.request("POST", &logout, Csrf::Echo).to_request()).await;
        assert_eq!(out.status, StatusCode::NO_CONTENT, "{name}: {}", out.text);
        assert_eq!(
            set_cookies(&out.headers)["refresh_token"].max_age,
            0,
            "{name}"
        );
        let refresh = call(
            &app,
            jar.request("POST", &format!("{PREFIX}refresh/"), Csrf::Echo)
                .to_request(),
        )
        .await;
        assert_eq!(
            refresh.body["code"], "token_expired",
            "{name}: the session ended through its refresh token"
        );

        // Nothing valid left: 401, and the cookies are cleared all the same.
        let mut stale = jar.clone();
        stale.cookies.get_mut("refresh_token").unwrap().value = "not.a.token".into();
        let answer = call(
            &app,
            stale.request("POST", &logout, Csrf::Echo).to_request(),
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{name}");
        let cleared = set_cookies(&answer.headers);
        assert_eq!(
            ["access_token", "refresh_token", "csrftoken"].map(|c| cleared[c].max_age),
            [0, 0, 0],
            "{name}"
        );

        // Header clients and bare requests get the plain 401 from logout/,
        // never a CSRF refusal, even with a refresh cookie around.
        let expired_header = jar.value("access_token").unwrap();
        for (request, what) in [
            (
                jar.request("POST", &logout, Csrf::None)
                    .insert_header(("Authorization", format!("Bearer {expired_header}"))),
                "an expired bearer token",
            ),
            (test::TestRequest::post().uri(&logout), "no credentials"),
        ] {
            let answer = call(&app, request.to_request()).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{name}: {what}");
            assert!(
                answer.headers.get(header::SET_COOKIE).is_none(),
                "{name}: {what}: cookies untouched"
            );
        }

        // No cookies at all: refresh/ is a 401, not a CSRF refusal.
        let bare = call(
            &app,
            test::TestRequest::post()
                .uri(&format!("{PREFIX}refresh/"))
                .to_request(),
        )
        .await;
        assert_eq!((bare.status, bare.body), not_provided(), "{name}");
    }
}

#[actix_web::test]
async fn cookie_mode_needs_the_registry() {
    let tokens = TokenService::new(&common::token_settings()).unwrap();
    let only_cookies = AuthSettings {
        transport: Transport::Cookie,
        ..AuthSettings::default()
    };
    let refused = JwtAuth::builder(tokens, only_cookies, TestStore::new())
        .build()
        .unwrap_err();
    assert!(refused.to_string().contains("auth.transport"), "{refused}");
}
