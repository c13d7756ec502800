//! The JSON answers of docs/http-api.md for everything that is not a success.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use jwt_core::Rejection;
use serde_json::{Map, Value, json};

use crate::messages::{Messages, fill};

/// What went wrong, one variant per row of the failure tables in docs/http-api.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Failure {
    /// 405 with an `Allow` header.
    MethodNotAllowed,
    /// 415.
    UnsupportedMediaType,
    /// 413.
    PayloadTooLarge,
    /// 400: the body is not JSON, or not an object.
    Parse,
    /// 400: fields missing, blank, null or of the wrong type.
    InvalidFields,
    /// 401: wrong credentials, unknown or inactive user.
    NoActiveAccount,
    /// 401 `token_not_valid` on the token views.
    TokenNotValid,
    /// 401: no `Authorization` header (or another scheme).
    NotAuthenticated,
    /// 401 `bad_authorization_header`.
    BadAuthorizationHeader,
    /// 401 `token_not_valid` with the `messages` list (protected routes).
    NoValidTokenType,
    /// 401 `user_not_found`.
    UserNotFound,
    /// 401 `user_inactive`.
    UserInactive,
    /// 401 `token_expired`: force-expired in the registry.
    TokenExpired,
    /// 401 `password_changed`.
    PasswordChanged,
    /// 404.
    NotFound,
    /// 403: an unsafe request authenticated by a cookie without the
    /// matching `X-CSRF-Token` header (`[auth] transport = "cookie"`).
    CsrfFailed,
    /// 403: authenticated, but not allowed (the admin API for a non-admin).
    PermissionDenied,
    /// 503: the database (or another service the answer needs) is unreachable.
    Unavailable,
    /// 500: a bug. The cause is logged, never sent.
    Internal,
}

/// An error answer, its JSON body already rendered with the app's
/// [`Messages`]. Handlers and extractors return it; actix turns it into the
/// response.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiError {
    failure: Failure,
    status: StatusCode,
    body: String,
    allow: Option<&'static str>,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(failure: Failure, status: StatusCode, body: Value) -> Self {
        ApiError {
            failure,
            status,
            body: body.to_string(),
            allow: None,
            retry_after: None,
        }
    }

    fn detail(failure: Failure, status: StatusCode, detail: &str) -> Self {
        ApiError::new(failure, status, json!({ "detail": detail }))
    }

    fn coded(failure: Failure, detail: &str, code: &str) -> Self {
        ApiError::new(
            failure,
            StatusCode::UNAUTHORIZED,
            json!({ "detail": detail, "code": code }),
        )
    }

    /// Which failure this is.
    pub fn failure(&self) -> Failure {
        self.failure
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The JSON body.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// 405 `{"detail":"Method \"GET\" not allowed."}` with `Allow: <allow>`.
    pub fn method_not_allowed(messages: &Messages, method: &str, allow: &'static str) -> Self {
        let mut error = ApiError::detail(
            Failure::MethodNotAllowed,
            StatusCode::METHOD_NOT_ALLOWED,
            &fill(&messages.method_not_allowed, "method", method),
        );
        error.allow = Some(allow);
        error
    }

    /// 415 naming the content type as sent.
    pub fn unsupported_media_type(messages: &Messages, media_type: &str) -> Self {
        ApiError::detail(
            Failure::UnsupportedMediaType,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &fill(&messages.unsupported_media_type, "media_type", media_type),
        )
    }

    /// 413.
    pub fn payload_too_large(messages: &Messages) -> Self {
        ApiError::detail(
            Failure::PayloadTooLarge,
            StatusCode::PAYLOAD_TOO_LARGE,
            &messages.body_too_large,
        )
    }

    /// 400 `{"detail":"JSON parse error - <reason>"}`.
    pub fn json_parse(messages: &Messages, reason: &str) -> Self {
        ApiError::detail(
            Failure::Parse,
            StatusCode::BAD_REQUEST,
            &fill(&messages.json_parse_error, "reason", reason),
        )
    }

    /// 400 `{"non_field_errors":[...]}` for a body that is JSON but no object;
    /// `type_name` as Python names it (`list`, `str`, `int`, `float`, `bool`),
    /// `None` for `null`.
    pub fn not_a_dictionary(messages: &Messages, type_name: Option<&str>) -> Self {
        let message = match type_name {
            Some(type_name) => fill(&messages.not_a_dictionary, "type", type_name),
            None => messages.no_data.to_string(),
        };
        ApiError::new(
            Failure::Parse,
            StatusCode::BAD_REQUEST,
            json!({ "non_field_errors": [message] }),
        )
    }

    /// 400 `{"<field>":["<message>"], ...}` in field order.
    pub fn invalid_fields(errors: &[(&str, String)]) -> Self {
        let mut body = Map::new();
        for (field, message) in errors {
            body.insert((*field).to_owned(), json!([message]));
        }
        ApiError::new(
            Failure::InvalidFields,
            StatusCode::BAD_REQUEST,
            Value::Object(body),
        )
    }

    /// 401 for `obtain/`.
    pub fn no_active_account(messages: &Messages) -> Self {
        ApiError::detail(
            Failure::NoActiveAccount,
            StatusCode::UNAUTHORIZED,
            &messages.no_active_account,
        )
    }

    /// 401 `token_not_valid` with the error's message (token views).
    pub fn token(messages: &Messages, error: &jwt_core::Error) -> Self {
        ApiError::coded(
            Failure::TokenNotValid,
            messages.token_error(error.kind()),
            "token_not_valid",
        )
    }

    /// 401: no credentials.
    pub fn not_authenticated(messages: &Messages) -> Self {
        ApiError::detail(
            Failure::NotAuthenticated,
            StatusCode::UNAUTHORIZED,
            &messages.not_authenticated,
        )
    }

    /// 401 `bad_authorization_header`.
    pub fn bad_authorization_header(messages: &Messages) -> Self {
        ApiError::coded(
            Failure::BadAuthorizationHeader,
            &messages.bad_authorization_header,
            "bad_authorization_header",
        )
    }

    /// 401 with each accepted type's reason (protected routes).
    pub fn no_valid_token_type(messages: &Messages, rejection: &Rejection) -> Self {
        let reasons: Vec<Value> = rejection
            .failures()
            .iter()
            .map(|failure| {
                json!({
                    "token_class": failure.token_type().class_name(),
                    "token_type": failure.token_type().name(),
                    "message": messages.token_error(failure.error().kind()),
                })
            })
            .collect();
        ApiError::new(
            Failure::NoValidTokenType,
            StatusCode::UNAUTHORIZED,
            json!({
                "detail": messages.no_valid_token_type,
                "code": "token_not_valid",
                "messages": reasons,
            }),
        )
    }

    /// 401: the token names no usable user id.
    pub fn no_user_id(messages: &Messages) -> Self {
        ApiError::coded(
            Failure::TokenNotValid,
            &messages.token_no_user_id,
            "token_not_valid",
        )
    }

    /// 401 `user_not_found`.
    pub fn user_not_found(messages: &Messages) -> Self {
        ApiError::coded(
            Failure::UserNotFound,
            &messages.user_not_found,
            "user_not_found",
        )
    }

    /// 401 `user_inactive`.
    pub fn user_inactive(messages: &Messages) -> Self {
        ApiError::coded(
            Failure::UserInactive,
            &messages.user_inactive,
            "user_inactive",
        )
    }

    /// 401 `token_expired`.
    pub fn token_expired(messages: &Messages) -> Self {
        ApiError::coded(
            Failure::TokenExpired,
            &messages.token_expired,
            "token_expired",
        )
    }

    /// 401 `password_changed`.
    pub fn password_changed(messages: &Messages) -> Self {
        ApiError::coded(
            Failure::PasswordChanged,
            &messages.password_changed,
            "password_changed",
        )
    }

    /// 404.
    pub fn not_found(messages: &Messages) -> Self {
        ApiError::detail(
            Failure::NotFound,
            StatusCode::NOT_FOUND,
            &messages.not_found,
        )
    }

    /// 403 `{"detail":"CSRF Failed: <reason>"}` (DRF's answer).
    pub fn csrf_failed(messages: &Messages, reason: &str) -> Self {
        ApiError::detail(
            Failure::CsrfFailed,
            StatusCode::FORBIDDEN,
            &fill(&messages.csrf_failed, "reason", reason),
        )
    }

    /// 403 `{"detail":"You do not have permission to perform this action."}`.
    pub fn permission_denied(messages: &Messages) -> Self {
        ApiError::detail(
            Failure::PermissionDenied,
            StatusCode::FORBIDDEN,
            &messages.permission_denied,
        )
    }

    /// 503. Log the cause before answering with it.
    pub fn unavailable(messages: &Messages) -> Self {
        ApiError::detail(
            Failure::Unavailable,
            StatusCode::SERVICE_UNAVAILABLE,
            &messages.unavailable,
        )
    }

    /// 503 with `Retry-After: <seconds>`: too busy to take the request now
    /// (the login queue is full, or a login waited too long).
    pub fn overloaded(messages: &Messages, retry_after: u64) -> Self {
        let mut error = ApiError::unavailable(messages);
        error.retry_after = Some(retry_after.max(1));
        error
    }

    /// 500. Log the cause before answering with it.
    pub fn internal(messages: &Messages) -> Self {
        ApiError::detail(
            Failure::Internal,
            StatusCode::INTERNAL_SERVER_ERROR,
            &messages.internal_error,
        )
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("failure", &self.failure)
            .field("status", &self.status.as_u16())
            .field("body", &self.body)
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.body)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.content_type(mime::APPLICATION_JSON);
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"api\""),
            ));
        }
        if let Some(Ok(allow)) = self.allow.map(HeaderValue::from_str) {
            response.insert_header((header::ALLOW, allow));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        response.body(self.body.clone())
    }
}
