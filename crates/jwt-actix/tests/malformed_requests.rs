//! A table of malformed requests: each gets the contract's status and body,
//! never a 5xx, never a panic.

mod common;

use actix_web::http::{Method, StatusCode, header};
use actix_web::test::{self, TestRequest};
use base64::Engine;
use common::{Harness, KEY, call};

const OBTAIN: &str = "/api/v1/auth/token/obtain/";
const REFRESH: &str = "/api/v1/auth/token/refresh/";
const VERIFY: &str = "/api/v1/auth/token/verify/";
const ME: &str = "/api/v1/me/";

enum Expect {
    Exact(&'static str),
    Prefix(&'static str),
    Detail(&'static str),
    Owned(String),
}

struct Case {
    name: &'static str,
    req: actix_http::Request,
    status: u16,
    expect: Expect,
}

fn raw(
    path: &str,
    content_type: Option<&str>,
    body: impl Into<actix_web::web::Bytes>,
) -> actix_http::Request {
    let mut req = TestRequest::post().uri(path);
    if let Some(content_type) = content_type {
        req = req.insert_header((header::CONTENT_TYPE, content_type));
    }
    req.set_payload(body).to_request()
}

fn json(path: &str, body: &str) -> actix_http::Request {
    raw(path, Some("application/json"), body.to_owned())
}

fn bearer(value: &[u8]) -> actix_http::Request {
    TestRequest::get()
        .uri(ME)
        .insert_header((
            header::AUTHORIZATION,
            header::HeaderValue::from_bytes(value).unwrap(),
        ))
        .to_request()
}

fn forged(header: &str, payload: &str) -> String {
    use aws_lc_rs::hmac;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, KEY.as_bytes()),
        input.as_bytes(),
    );
    format!("{input}.{}", b64(tag.as_ref()))
}

fn case(name: &'static str, req: actix_http::Request, status: u16, expect: Expect) -> Case {
    Case {
        name,
        req,
        status,
        expect,
    }
}

const REQUIRED: &str =
    r#"{"username":["This field is required."],"password":["This field is required."]}"#;
const INVALID: &str = r#"{"detail":"Token is invalid or expired","code":"token_not_valid"}"#;
const NO_VALID_TYPE: &str = r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid or expired"}]}"#;
const BAD_HEADER: &str = r#"{"detail":"Authorization header must contain two space-delimited values","code":"bad_authorization_header"}"#;

#[actix_web::test]
async fn malformed_requests_get_the_contract_s_answer() {
    let h = Harness::new();
    let app = test::init_service(common::app(h.jwt.clone())).await;
    let (refresh, access) = h.pair(1);
    let huge = format!(
        r#"{{"username":"alice","password":"{}"}}"#,
        "p".repeat(70_000)
    );
    let mut chunked = json(OBTAIN, &huge);
    chunked.headers_mut().remove(header::CONTENT_LENGTH);
    let now = common::NOW;
    let exp_string = forged(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &format!(
            r#"{{"token_type":"access","exp":"{}","iat":{now},"jti":"a","user_id":1}}"#,
            now + 60
        ),
    );
    let user_id_list = forged(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &format!(
            r#"{{"token_type":"access","exp":{},"iat":{now},"jti":"a","user_id":[1]}}"#,
            now + 60
        ),
    );
    let none_alg = forged(
        r#"{"alg":"none"}"#,
        &format!(
            r#"{{"token_type":"access","exp":{},"jti":"a","user_id":1}}"#,
            now + 60
        ),
    );
    let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));

    let cases = vec![
        // Bodies that are not JSON.
        case(
            "truncated JSON",
            json(OBTAIN, r#"{"username":"#),
            400,
            Expect::Prefix(r#"{"detail":"JSON parse error - "#),
        ),
        case(
            "unquoted key",
            json(OBTAIN, r#"{username: "a"}"#),
            400,
            Expect::Prefix(r#"{"detail":"JSON parse error - "#),
        ),
        case(
            "trailing comma",
            json(OBTAIN, r#"{"a":1,}"#),
            400,
            Expect::Prefix(r#"{"detail":"JSON parse error - "#),
        ),
        case(
            "single quotes",
            json(OBTAIN, "{'a':1}"),
            400,
            Expect::Prefix(r#"{"detail":"JSON parse error - "#),
        ),
        case(
            "unclosed list",
            json(OBTAIN, "[1,2"),
            400,
            Expect::Prefix(r#"{"detail":"JSON parse error - "#),
        ),
        case(
            "not UTF-8",
            raw(OBTAIN, Some("application/json"), &b"\xff\xfe{}"[..]),
            400,
            Expect::Prefix(r#"{"detail":"JSON parse error - "#),
        ),
        case(
            "whitespace only",
            json(OBTAIN, "   "),
            400,
            Expect::Prefix(r#"{"detail":"JSON parse error - "#),
        ),
        case(
            "trailing garbage",
            json(OBTAIN, r#"{"username":"a"} x"#),
            400,
            Expect::Prefix(r#"{"detail":"JSON parse error - "#),
        ),
        case(
            "300 levels deep",
            json(OBTAIN, &deep),
            400,
            Expect::Prefix(r#"{"detail":"JSON parse error - "#),
        ),
        case(
            "lone surrogate",
            json(OBTAIN, r#"{"username":"\ud800","password":"x"}"#),
            400,
            Expect::Prefix(r#"{"detail":"JSON parse error - "#),
        ),
        // JSON that is not an object.
        case(
            "a list",
            json(OBTAIN, "[]"),
            400,
            Expect::Exact(
                r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}"#,
            ),
        ),
        case(
            "a string",
            json(OBTAIN, r#""alice""#),
            400,
            Expect::Exact(
                r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got str."]}"#,
            ),
        ),
        case(
            "an integer",
            json(OBTAIN, "42"),
            400,
            Expect::Exact(
                r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got int."]}"#,
            ),
        ),
        case(
            "a float",
            json(OBTAIN, "4.2"),
            400,
            Expect::Exact(
                r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got float."]}"#,
            ),
        ),
        case(
            "a boolean",
            json(REFRESH, "true"),
            400,
            Expect::Exact(
                r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got bool."]}"#,
            ),
        ),
        case(
            "null",
            json(VERIFY, "null"),
            400,
            Expect::Exact(r#"{"non_field_errors":["No data provided"]}"#),
        ),
        // Fields of the wrong type, null, blank.
        case(
            "username null",
            json(OBTAIN, r#"{"username":null,"password":"x"}"#),
            400,
            Expect::Exact(r#"{"username":["This field may not be null."]}"#),
        ),
        case(
            "username list",
            json(OBTAIN, r#"{"username":[],"password":"x"}"#),
            400,
            Expect::Exact(r#"{"username":["Not a valid string."]}"#),
        ),
        case(
            "password object",
            json(OBTAIN, r#"{"username":"a","password":{}}"#),
            400,
            Expect::Exact(r#"{"password":["Not a valid string."]}"#),
        ),
        case(
            "password boolean",
            json(OBTAIN, r#"{"username":"a","password":false}"#),
            400,
            Expect::Exact(r#"{"password":["Not a valid string."]}"#),
        ),
        case(
            "username blank",
            json(OBTAIN, r#"{"username":"","password":"x"}"#),
            400,
            Expect::Exact(r#"{"username":["This field may not be blank."]}"#),
        ),
        case(
            "refresh missing",
            json(REFRESH, "{}"),
            400,
            Expect::Exact(r#"{"refresh":["This field is required."]}"#),
        ),
        case(
            "refresh blank",
            json(REFRESH, r#"{"refresh":"  "}"#),
            400,
            Expect::Exact(r#"{"refresh":["This field may not be blank."]}"#),
        ),
        case(
            "refresh a number",
            json(REFRESH, r#"{"refresh":5}"#),
            401,
            Expect::Exact(INVALID),
        ),
        case(
            "token a list",
            json(VERIFY, r#"{"token":["a"]}"#),
            400,
            Expect::Exact(r#"{"token":["Not a valid string."]}"#),
        ),
        case(
            "token with NUL",
            json(VERIFY, r#"{"token":"a\u0000b"}"#),
            400,
            Expect::Exact(r#"{"token":["Null characters are not allowed."]}"#),
        ),
        // Bodies too large.
        case(
            "70 KB with a length",
            json(OBTAIN, &huge),
            413,
            Expect::Exact(r#"{"detail":"Request body is too large."}"#),
        ),
        case(
            "70 KB without a length",
            chunked,
            413,
            Expect::Exact(r#"{"detail":"Request body is too large."}"#),
        ),
        case(
            "70 KB form",
            raw(
                OBTAIN,
                Some("application/x-www-form-urlencoded"),
                format!("username=a&password={}", "p".repeat(70_000)),
            ),
            413,
            Expect::Exact(r#"{"detail":"Request body is too large."}"#),
        ),
        // Content types.
        case(
            "text/plain",
            raw(OBTAIN, Some("text/plain"), "x"),
            415,
            Expect::Exact(r#"{"detail":"Unsupported media type \"text/plain\" in request."}"#),
        ),
        case(
            "multipart",
            raw(OBTAIN, Some("multipart/form-data; boundary=x"), "--x--"),
            415,
            Expect::Exact(
                r#"{"detail":"Unsupported media type \"multipart/form-data; boundary=x\" in request."}"#,
            ),
        ),
        case(
            "xml",
            raw(VERIFY, Some("application/xml"), "<a/>"),
            415,
            Expect::Prefix(r#"{"detail":"Unsupported media type \"application/xml\""#),
        ),
        case(
            "json with charset",
            raw(OBTAIN, Some("application/json; charset=utf-8"), "{}"),
            400,
            Expect::Exact(REQUIRED),
        ),
        case(
            "json in capitals",
            raw(OBTAIN, Some("APPLICATION/JSON"), "{}"),
            400,
            Expect::Exact(REQUIRED),
        ),
        case(
            "bytes without a type",
            raw(OBTAIN, None, r#"{"username":"a"}"#),
            415,
            Expect::Exact(r#"{"detail":"Unsupported media type \"\" in request."}"#),
        ),
        case(
            "nothing at all",
            raw(OBTAIN, None, ""),
            400,
            Expect::Exact(REQUIRED),
        ),
        case(
            "form of garbage",
            raw(OBTAIN, Some("application/x-www-form-urlencoded"), "%%%&&=="),
            400,
            Expect::Exact(REQUIRED),
        ),
        case(
            "garbage type",
            raw(OBTAIN, Some(";;;"), "{}"),
            415,
            Expect::Prefix(r#"{"detail":"Unsupported media type"#),
        ),
        case(
            "json suffix type",
            raw(OBTAIN, Some("application/vnd.api+json"), "{}"),
            415,
            Expect::Prefix(r#"{"detail":"Unsupported media type"#),
        ),
        // Odd headers on a protected route.
        case(
            "scheme alone",
            bearer(b"Bearer"),
            401,
            Expect::Exact(BAD_HEADER),
        ),
        case(
            "three parts",
            bearer(b"Bearer a b"),
            401,
            Expect::Exact(BAD_HEADER),
        ),
        case(
            "another scheme",
            bearer(b"Token abc"),
            401,
            Expect::Exact(r#"{"detail":"Authentication credentials were not provided."}"#),
        ),
        case(
            "non-UTF-8 token",
            bearer(b"Bearer \xff\xfe"),
            401,
            Expect::Exact(NO_VALID_TYPE),
        ),
        case(
            "8 KB token",
            bearer(format!("Bearer {}", "a".repeat(8_000)).as_bytes()),
            401,
            Expect::Exact(NO_VALID_TYPE),
        ),
        // Broken tokens.
        case(
            "three dots",
            bearer(b"Bearer a.b.c"),
            401,
            Expect::Exact(NO_VALID_TYPE),
        ),
        case(
            "alg none",
            bearer(format!("Bearer {none_alg}").as_bytes()),
            401,
            Expect::Exact(NO_VALID_TYPE),
        ),
        case(
            "exp as a string",
            bearer(format!("Bearer {exp_string}").as_bytes()),
            401,
            Expect::Exact(NO_VALID_TYPE),
        ),
        case(
            "user id a list",
            bearer(format!("Bearer {user_id_list}").as_bytes()),
            401,
            Expect::Exact(
                r#"{"detail":"Token contained no recognizable user identification","code":"token_not_valid"}"#,
            ),
        ),
        case(
            "refresh as access",
            bearer(format!("Bearer {refresh}").as_bytes()),
            401,
            Expect::Owned(
                NO_VALID_TYPE.replace("Token is invalid or expired", "Token has wrong type"),
            ),
        ),
        case(
            "access to refresh/",
            json(REFRESH, &format!(r#"{{"refresh":"{access}"}}"#)),
            401,
            Expect::Exact(r#"{"detail":"Token has wrong type","code":"token_not_valid"}"#),
        ),
        case(
            "empty signature",
            json(VERIFY, r#"{"token":"eyJhbGciOiJIUzI1NiJ9.e30."}"#),
            401,
            Expect::Exact(INVALID),
        ),
        case(
            "exp as a string to verify/",
            json(VERIFY, &format!(r#"{{"token":"{exp_string}"}}"#)),
            401,
            Expect::Exact(INVALID),
        ),
        // Methods.
        case(
            "GET obtain",
            TestRequest::get().uri(OBTAIN).to_request(),
            405,
            Expect::Exact(r#"{"detail":"Method \"GET\" not allowed."}"#),
        ),
        case(
            "OPTIONS verify",
            TestRequest::default()
                .method(Method::OPTIONS)
                .uri(VERIFY)
                .to_request(),
            405,
            Expect::Detail("Method \"OPTIONS\" not allowed."),
        ),
    ];
    for case in cases {
        let answer = call(&app, case.req).await;
        assert!(
            answer.status.as_u16() < 500,
            "{}: {}",
            case.name,
            answer.status
        );
        assert_eq!(
            answer.status.as_u16(),
            case.status,
            "{}: {}",
            case.name,
            answer.text
        );
        assert_eq!(
            answer
                .headers
                .get(header::CONTENT_TYPE)
                .map(|v| v.to_str().unwrap()),
            Some("application/json"),
            "{}",
            case.name
        );
        match case.expect {
            Expect::Exact(body) => assert_eq!(answer.text, body, "{}", case.name),
            Expect::Owned(body) => assert_eq!(answer.text, body, "{}", case.name),
            Expect::Prefix(prefix) => assert!(
                answer.text.starts_with(prefix),
                "{}: {}",
                case.name,
                answer.text
            ),
            Expect::Detail(detail) => assert_eq!(answer.body["detail"], detail, "{}", case.name),
        }
        if answer.status == StatusCode::UNAUTHORIZED {
            assert!(
                answer.headers.contains_key(header::WWW_AUTHENTICATE),
                "{}",
                case.name
            );
        }
    }
    assert_eq!(
        h.store.checks(),
        0,
        "no malformed request reached a password check"
    );
}
