//! A failure carried as a value ([`Fault`]): what went wrong and what its
//! answer needs, worded only when answered.

use actix_web::http::StatusCode;
use jwt_core::{ErrorKind, Rejection};
use serde_json::{Map, Value, json};

use crate::failure::{CsrfReason, Failure, FieldError};
use crate::messages::{Messages, fill};

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
/// [`Messages`] as an [`ApiError`](crate::ApiError).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    failure: Failure,
    detail: Detail,
    pub(crate) allow: Option<&'static str>,
    pub(crate) retry_after: Option<u64>,
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
    pub(crate) fn render(&self, m: &Messages) -> Value {
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
                    body.insert(field.clone(), json!([m.field_error(error)]));
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

impl From<Failure> for Fault {
    fn from(failure: Failure) -> Self {
        Fault::of(failure)
    }
}
