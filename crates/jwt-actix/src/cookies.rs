//! The cookie transport (`[auth] transport = "cookie"`): tokens travel in
//! `HttpOnly` cookies that page scripts cannot read, and every unsafe
//! request a cookie authenticates must repeat the `csrftoken` cookie in an
//! `X-CSRF-Token` header (double submit), which a page of another site
//! cannot do.
//!
//! | cookie | holds | `Path` | script can read |
//! | --- | --- | --- | --- |
//! | `access_token` | the access token | `/` (it must reach the app's own routes) | no |
//! | `refresh_token` | the refresh token | the token routes' prefix | no |
//! | `csrftoken` | a random value to echo in `X-CSRF-Token` | `/` | yes |
//!
//! All are `Secure; SameSite=Strict`, with a `Max-Age` of their token's
//! remaining life (the refresh token's for `csrftoken`).

use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponseBuilder};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::events::IssuedToken;
use crate::failure::{CsrfReason, Failure};
use crate::fault::Fault;
use crate::state::JwtAuth;
use crate::store::UserStore;

/// The cookie holding the access token.
pub const ACCESS_COOKIE: &str = "access_token";
/// The cookie holding the refresh token.
pub const REFRESH_COOKIE: &str = "refresh_token";
/// The cookie holding the CSRF value (Django's name).
pub const CSRF_COOKIE: &str = "csrftoken";
/// The header that must repeat [`CSRF_COOKIE`] on unsafe requests.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// The first value of cookie `name` in the request's `Cookie` headers (the
/// browser sends the most specific path first). Values in quotes lose them.
pub(crate) fn cookie<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|value| std::str::from_utf8(value.as_bytes()).ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| key.trim() == name)
        .map(|(_, value)| {
            let value = value.trim();
            value
                .strip_prefix('"')
                .and_then(|inner| inner.strip_suffix('"'))
                .unwrap_or(value)
        })
        .filter(|value| !value.is_empty())
}

/// Django's safe methods: they must not change anything, so they need no
/// CSRF header.
fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// The double-submit check for a request a cookie authenticates: a safe
/// method passes; an unsafe one needs the `csrftoken` cookie and an equal
/// `X-CSRF-Token` header (compared in constant time), else 403.
pub(crate) fn check_csrf(req: &HttpRequest) -> Result<(), Fault> {
    if is_safe(req.method()) {
        return Ok(());
    }
    let Some(expected) = cookie(req, CSRF_COOKIE) else {
        return Err(Fault::csrf_failed(CsrfReason::CookieMissing));
    };
    let Some(sent) = req
        .headers()
        .get(CSRF_HEADER)
        .map(HeaderValue::as_bytes)
        .filter(|sent| !sent.is_empty())
    else {
        return Err(Fault::csrf_failed(CsrfReason::TokenMissing));
    };
    if aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), sent).is_err() {
        return Err(Fault::csrf_failed(CsrfReason::TokenIncorrect));
    }
    Ok(())
}

/// A new CSRF value: 32 random bytes, base64url.
fn new_csrf_value() -> Result<String, aws_lc_rs::error::Unspecified> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The prefix the token routes are mounted under, from a request to one of
/// them (`/api/v1/auth/token/obtain/` → `/api/v1/auth/token/`). A prefix
/// with a character that has a meaning in a `Set-Cookie` line (a dynamic
/// segment could hold one) gives `/`.
pub(crate) fn routes_prefix(req: &HttpRequest) -> String {
    // The route's pattern, as the app wrote it (not percent-encoded as a
    // client may have sent the path); the path itself when the pattern has
    // dynamic segments.
    let pattern = req.match_pattern().filter(|pattern| !pattern.contains('{'));
    let path = pattern
        .as_deref()
        .unwrap_or(req.path())
        .trim_end_matches('/');
    let prefix = path.rsplit_once('/').map_or("", |(head, _)| head);
    let safe = prefix
        .bytes()
        .all(|byte| byte.is_ascii_graphic() && !matches!(byte, b';' | b',' | b'"' | b'\\'));
    if safe {
        format!("{prefix}/")
    } else {
        "/".to_owned()
    }
}

/// One `Set-Cookie` value; our values and paths hold no special characters.
fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, http_only: bool) -> String {
    let http_only = if http_only { "; HttpOnly" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; Secure; SameSite=Strict{http_only}")
}

/// Seconds until `token` expires, never negative.
fn remaining<S: UserStore>(jwt: &JwtAuth<S>, token: &IssuedToken) -> i64 {
    (token.token().expires_at() - jwt.tokens().clock().unix_seconds()).max(0)
}

/// Whether a login starts a new CSRF value or a refresh keeps the
/// request's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Csrf {
    /// `obtain/`: a new value.
    New,
    /// `refresh/`: the value the request proved it knows.
    Keep,
}

/// Adds the cookies of a login or a refresh: the access token, the refresh
/// token when one was issued, and the CSRF value, which lives as long as
/// `session` (the refresh token the client now holds).
pub(crate) fn set_tokens<S: UserStore>(
    jwt: &JwtAuth<S>,
    req: &HttpRequest,
    response: &mut HttpResponseBuilder,
    access: &IssuedToken,
    new_refresh: Option<&IssuedToken>,
    session: &IssuedToken,
    csrf: Csrf,
) -> Result<(), Fault> {
    let kept = match csrf {
        Csrf::Keep => cookie(req, CSRF_COOKIE).map(str::to_owned),
        Csrf::New => None,
    };
    let csrf = match kept {
        Some(value) => value,
        None => new_csrf_value().map_err(|_| {
            tracing::error!("no random bytes for a CSRF value");
            Fault::of(Failure::Internal)
        })?,
    };
    let mut add = |name: &str, value: &str, path: &str, max_age: i64, http_only: bool| {
        response.append_header((
            header::SET_COOKIE,
            set_cookie(name, value, path, max_age, http_only),
        ));
    };
    add(
        ACCESS_COOKIE,
        access.encoded(),
        "/",
        remaining(jwt, access),
        true,
    );
    if let Some(refresh) = new_refresh {
        add(
            REFRESH_COOKIE,
            refresh.encoded(),
            &routes_prefix(req),
            remaining(jwt, refresh),
            true,
        );
    }
    add(CSRF_COOKIE, &csrf, "/", remaining(jwt, session), false);
    Ok(())
}

/// Removes the three cookies (`logout/`, `logout-all/`): empty values that
/// expire at once, on the paths they were set with.
#[cfg_attr(not(feature = "registry"), allow(dead_code))]
pub(crate) fn clear_tokens(req: &HttpRequest, response: &mut HttpResponseBuilder) {
    for line in clearing_lines(req) {
        response.append_header((header::SET_COOKIE, line));
    }
}

/// [`clear_tokens`] for a response already built (an error answer).
#[cfg_attr(not(feature = "registry"), allow(dead_code))]
pub(crate) fn clear_tokens_of(req: &HttpRequest, headers: &mut header::HeaderMap) {
    for line in clearing_lines(req) {
        if let Ok(value) = HeaderValue::from_str(&line) {
            headers.append(header::SET_COOKIE, value);
        }
    }
}

fn clearing_lines(req: &HttpRequest) -> [String; 3] {
    [
        set_cookie(ACCESS_COOKIE, "", "/", 0, true),
        set_cookie(REFRESH_COOKIE, "", &routes_prefix(req), 0, true),
        set_cookie(CSRF_COOKIE, "", "/", 0, false),
    ]
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn cookies_are_read_from_every_cookie_header_first_value_first() {
        let req = TestRequest::default()
            .insert_header((header::COOKIE, "a=1; csrftoken=\"quoted\"; b="))
            .append_header((header::COOKIE, "csrftoken=second"))
            .to_http_request();
        assert_eq!(cookie(&req, "a"), Some("1"));
        assert_eq!(cookie(&req, CSRF_COOKIE), Some("quoted"));
        assert_eq!(cookie(&req, "b"), None, "an empty value counts as absent");
        assert_eq!(cookie(&req, "missing"), None);
    }

    #[test]
    fn the_prefix_is_the_path_without_its_last_segment_and_never_unsafe() {
        for (path, prefix) in [
            ("/api/v1/auth/token/obtain/", "/api/v1/auth/token/"),
            ("/api/v1/auth/token/refresh", "/api/v1/auth/token/"),
            ("/obtain/", "/"),
            ("/t;Domain=evil.example/obtain/", "/"),
        ] {
            let req = TestRequest::post().uri(path).to_http_request();
            assert_eq!(routes_prefix(&req), prefix, "{path}");
        }
    }

    #[test]
    fn csrf_values_are_random_and_url_safe() {
        let (a, b) = (new_csrf_value().unwrap(), new_csrf_value().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn only_unsafe_methods_need_the_header_and_it_must_match() {
        let get = TestRequest::get().to_http_request();
        assert!(check_csrf(&get).is_ok());
        let reason = |req: &HttpRequest| {
            check_csrf(req).map_err(|fault| {
                let err = crate::ApiError::english(fault);
                (err.status().as_u16(), err.body().to_owned())
            })
        };
        let no_cookie = TestRequest::post()
            .insert_header((CSRF_HEADER, "x"))
            .to_http_request();
        assert_eq!(
            reason(&no_cookie),
            Err((
                403,
                r#"{"detail":"CSRF Failed: CSRF cookie not set."}"#.to_owned()
            ))
        );
        let no_header = TestRequest::delete()
            .insert_header((header::COOKIE, "csrftoken=abc"))
            .to_http_request();
        assert_eq!(
            reason(&no_header),
            Err((
                403,
                r#"{"detail":"CSRF Failed: CSRF token missing."}"#.to_owned()
            ))
        );
        let wrong = TestRequest::post()
            .insert_header((header::COOKIE, "csrftoken=abc"))
            .insert_header((CSRF_HEADER, "abd"))
            .to_http_request();
        assert_eq!(
            reason(&wrong),
            Err((
                403,
                r#"{"detail":"CSRF Failed: CSRF token incorrect."}"#.to_owned()
            ))
        );
        let right = TestRequest::post()
            .insert_header((header::COOKIE, "csrftoken=abc"))
            .insert_header((CSRF_HEADER, "abc"))
            .to_http_request();
        assert_eq!(reason(&right), Ok(()));
    }
}
