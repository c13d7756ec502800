//! What went wrong ([`Failure`], which fixes the status), and why a field
//! or a CSRF check was refused: the kinds the answers are worded from.

use actix_web::http::StatusCode;

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
    /// "\"{value}\" is not a valid choice."
    InvalidChoice(String),
    /// "Ensure this value is greater than or equal to {limit}."
    TooSmall(i64),
    /// "Ensure this value is less than or equal to {limit}."
    TooLarge(i64),
    /// "A valid integer is required."
    NotAnInteger,
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
