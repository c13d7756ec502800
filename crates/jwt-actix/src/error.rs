//! Failures, carried as values ([`Fault`]) and worded once, with the app's
//! [`Messages`], into the JSON answers of docs/http-api.md ([`ApiError`]).

use std::fmt;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use jwt_core::{ErrorKind, Rejection};
use serde_json::{Map, Value, json};

use crate::messages::{Messages, fill};

/// What went wrong, one variant per row of the failure tables in
/// docs/http-api.md. The HTTP status follows from it ([`Failure::status`]).
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
    /// 503: the database (or another service the answer needs) is
    /// unreachable, or too busy now.
    Unavailable,
    /// 500: a bug. The cause is logged, never sent.
    Internal,
}

impl Failure {
    /// The HTTP status of the answer.
    pub fn status(self) -> StatusCode {
        match self {
            Failure::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Failure::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Failure::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::Parse | Failure::InvalidFields => StatusCode::BAD_REQUEST,
            Failure::NoActiveAccount
            | Failure::TokenNotValid
            | Failure::NotAuthenticated
            | Failure::BadAuthorizationHeader
            | Failure::NoValidTokenType
            | Failure::UserNotFound
            | Failure::UserInactive
            | Failure::TokenExpired
            | Failure::PasswordChanged => StatusCode::UNAUTHORIZED,
            Failure::NotFound => StatusCode::NOT_FOUND,
            Failure::CsrfFailed | Failure::PermissionDenied => StatusCode::FORBIDDEN,
            Failure::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Failure::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Why one field of a body was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldError {
    /// "This field is required."
    Required,
    /// "This field may not be blank."
    Blank,
    /// "This field may not be null."
    Null,
    /// "Not a valid string."
    NotAString,
    /// "Null characters are not allowed."
    NullCharacters,
    /// "Must be a valid boolean."
    NotABoolean,
    /// "Token is no longer valid."
    TokenExpired,
    /// "Token is invalid or expired"
    TokenInvalid,
    /// A text of the app's own.
    Text(String),
}

/// Why a CSRF check failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsrfReason {
    /// No `csrftoken` cookie.
    CookieMissing,
    /// No `X-CSRF-Token` header.
    TokenMissing,
    /// The header differs from the cookie.
    TokenIncorrect,
}

/// What an answer needs beyond its [`Failure`], before it is worded.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Detail {
    None,
    Method(String),
    MediaType(String),
    Parse(String),
    /// A JSON body that is no object: Python's name of its type.
    NotADictionary(Option<&'static str>),
    Fields(Vec<(String, FieldError)>),
    /// A token error of the token views.
    Token(ErrorKind),
    /// Each accepted token type's reason (protected routes).
    Rejection(Vec<(String, String, ErrorKind)>),
    NoUserId,
    Csrf(CsrfReason),
}

/// A failure, carried as a value until it is answered: what went wrong and
/// what its answer needs, not yet worded. Handlers and extractors return
/// it; [`JwtAuth::error`](crate::JwtAuth::error) gives it the app's
/// [`Messages`] as an [`ApiError`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    failure: Failure,
    detail: Detail,
    allow: Option<&'static str>,
    retry_after: Option<u64>,
}

impl Fault {
    fn new(failure: Failure, detail: Detail) -> Self {
        Fault {
            failure,
            detail,
            allow: None,
            retry_after: None,
        }
    }

    /// A failure whose answer needs nothing more than its kind (401 "not
    /// authenticated", 404, 403 permission denied, 503, 500, ...).
    pub fn of(failure: Failure) -> Self {
        Fault::new(failure, Detail::None)
    }

    /// Which failure this is.
    pub fn failure(&self) -> Failure {
        self.failure
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.failure.status()
    }

    /// 405 `{"detail":"Method \"GET\" not allowed."}` with `Allow: <allow>`.
    pub fn method_not_allowed(method: &str, allow: &'static str) -> Self {
        Fault {
            allow: Some(allow),
            ..Fault::new(Failure::MethodNotAllowed, Detail::Method(method.to_owned()))
        }
    }

    /// 415 naming the content type as sent.
    pub fn unsupported_media_type(media_type: &str) -> Self {
        Fault::new(
            Failure::UnsupportedMediaType,
            Detail::MediaType(media_type.to_owned()),
        )
    }

    /// 400 `{"detail":"JSON parse error - <reason>"}`.
    pub fn json_parse(reason: &str) -> Self {
        Fault::new(Failure::Parse, Detail::Parse(reason.to_owned()))
    }

    /// 400 `{"non_field_errors":[...]}` for a body that is JSON but no
    /// object; `type_name` as Python names it (`list`, `str`, `int`,
    /// `float`, `bool`), `None` for `null`.
    pub fn not_a_dictionary(type_name: Option<&'static str>) -> Self {
        Fault::new(Failure::Parse, Detail::NotADictionary(type_name))
    }

    /// 400 `{"<field>":["<message>"], ...}` in field order.
    pub fn invalid_fields(errors: Vec<(String, FieldError)>) -> Self {
        Fault::new(Failure::InvalidFields, Detail::Fields(errors))
    }

    /// 401 `token_not_valid` with the error's message (token views).
    pub fn token(error: &jwt_core::Error) -> Self {
        Fault::new(Failure::TokenNotValid, Detail::Token(error.kind()))
    }

    /// 401 with each accepted type's reason (protected routes).
    pub fn no_valid_token_type(rejection: &Rejection) -> Self {
        let reasons = rejection
            .failures()
            .iter()
            .map(|failure| {
                let token_type = failure.token_type();
                (
                    token_type.class_name().to_owned(),
                    token_type.name().to_owned(),
                    failure.error().kind(),
                )
            })
            .collect();
        Fault::new(Failure::NoValidTokenType, Detail::Rejection(reasons))
    }

    /// 401: the token names no usable user id.
    pub fn no_user_id() -> Self {
        Fault::new(Failure::TokenNotValid, Detail::NoUserId)
    }

    /// 403 `{"detail":"CSRF Failed: <reason>"}` (DRF's answer).
    pub fn csrf_failed(reason: CsrfReason) -> Self {
        Fault::new(Failure::CsrfFailed, Detail::Csrf(reason))
    }

    /// 503 with `Retry-After: <seconds>`: too busy to take the request now
    /// (the login queue is full, or a login waited too long).
    pub fn overloaded(retry_after: u64) -> Self {
        Fault {
            retry_after: Some(retry_after.max(1)),
            ..Fault::of(Failure::Unavailable)
        }
    }

    /// The JSON body, worded with `messages`.
    fn body(&self, m: &Messages) -> Value {
        let detail = |text: &str| json!({ "detail": text });
        let coded = |text: &str, code: &str| json!({ "detail": text, "code": code });
        match (&self.detail, self.failure) {
            (Detail::Method(method), _) => detail(&fill(&m.method_not_allowed, "method", method)),
            (Detail::MediaType(media), _) => {
                detail(&fill(&m.unsupported_media_type, "media_type", media))
            }
            (Detail::Parse(reason), _) => detail(&fill(&m.json_parse_error, "reason", reason)),
            (Detail::NotADictionary(type_name), _) => {
                let message = match type_name {
                    Some(name) => fill(&m.not_a_dictionary, "type", name),
                    None => m.no_data.to_string(),
                };
                json!({ "non_field_errors": [message] })
            }
            (Detail::Fields(errors), _) => {
                let mut body = Map::new();
                for (field, error) in errors {
                    body.insert(field.clone(), json!([field_message(m, error)]));
                }
                Value::Object(body)
            }
            (Detail::Token(kind), _) => coded(m.token_error(*kind), "token_not_valid"),
            (Detail::Rejection(reasons), _) => {
                let reasons: Vec<Value> = reasons
                    .iter()
                    .map(|(class, name, kind)| {
                        json!({
                            "token_class": class,
                            "token_type": name,
                            "message": m.token_error(*kind),
                        })
                    })
                    .collect();
                json!({
                    "detail": m.no_valid_token_type,
                    "code": "token_not_valid",
                    "messages": reasons,
                })
            }
            (Detail::NoUserId, _) => coded(&m.token_no_user_id, "token_not_valid"),
            (Detail::Csrf(reason), _) => {
                let reason = match reason {
                    CsrfReason::CookieMissing => &m.csrf_cookie_missing,
                    CsrfReason::TokenMissing => &m.csrf_token_missing,
                    CsrfReason::TokenIncorrect => &m.csrf_token_incorrect,
                };
                detail(&fill(&m.csrf_failed, "reason", reason))
            }
            (Detail::None, failure) => match failure {
                Failure::BadAuthorizationHeader => {
                    coded(&m.bad_authorization_header, "bad_authorization_header")
                }
                Failure::UserNotFound => coded(&m.user_not_found, "user_not_found"),
                Failure::UserInactive => coded(&m.user_inactive, "user_inactive"),
                Failure::TokenExpired => coded(&m.token_expired, "token_expired"),
                Failure::PasswordChanged => coded(&m.password_changed, "password_changed"),
                Failure::PayloadTooLarge => detail(&m.body_too_large),
                Failure::NoActiveAccount => detail(&m.no_active_account),
                Failure::NotAuthenticated => detail(&m.not_authenticated),
                Failure::NotFound => detail(&m.not_found),
                Failure::PermissionDenied => detail(&m.permission_denied),
                Failure::Unavailable => detail(&m.unavailable),
                _ => detail(&m.internal_error),
            },
        }
    }
}

fn field_message<'m>(m: &'m Messages, error: &'m FieldError) -> &'m str {
    match error {
        FieldError::Required => &m.field_required,
        FieldError::Blank => &m.field_blank,
        FieldError::Null => &m.field_null,
        FieldError::NotAString => &m.field_not_a_string,
        FieldError::NullCharacters => &m.field_null_characters,
        FieldError::NotABoolean => &m.field_not_a_boolean,
        FieldError::TokenExpired => &m.token_expired,
        FieldError::TokenInvalid => &m.token_invalid,
        FieldError::Text(text) => text,
    }
}

impl From<Failure> for Fault {
    fn from(failure: Failure) -> Self {
        Fault::of(failure)
    }
}

impl From<ApiError> for Fault {
    fn from(error: ApiError) -> Self {
        error.fault
    }
}

/// An error answer: a [`Fault`] and the [`Messages`] to word it with. The
/// one [`ResponseError`] of the crate: actix turns it into the JSON
/// response. Get one from [`JwtAuth::error`](crate::JwtAuth::error).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiError {
    fault: Fault,
    messages: Arc<Messages>,
}

impl ApiError {
    /// `fault`, to be worded with `messages`.
    pub fn new(fault: impl Into<Fault>, messages: Arc<Messages>) -> Self {
        ApiError {
            fault: fault.into(),
            messages,
        }
    }

    /// `fault` in the default (English) messages: for an app that has no
    /// [`JwtAuth`](crate::JwtAuth) at hand (a misconfiguration's 500).
    pub fn english(fault: impl Into<Fault>) -> Self {
        ApiError::new(fault, Arc::new(Messages::default()))
    }

    /// The failure, as carried.
    pub fn fault(&self) -> &Fault {
        &self.fault
    }

    /// Which failure this is.
    pub fn failure(&self) -> Failure {
        self.fault.failure
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.fault.status()
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        self.fault.body(&self.messages).to_string()
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("failure", &self.fault.failure)
            .field("status", &self.status().as_u16())
            .field("body", &self.body())
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status().as_u16(), self.body())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status();
        let mut response = HttpResponse::build(status);
        response.content_type(mime::APPLICATION_JSON);
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"api\""),
            ));
        }
        if let Some(Ok(allow)) = self.fault.allow.map(HeaderValue::from_str) {
            response.insert_header((header::ALLOW, allow));
        }
        if let Some(seconds) = self.fault.retry_after {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        response.body(self.body())
    }
}
