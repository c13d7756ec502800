//! The answer to a failure: a [`Fault`] worded once, with the app's
//! [`Messages`], into the JSON of docs/http-api.md.

use std::fmt;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::failure::Failure;
use crate::fault::Fault;
use crate::messages::Messages;

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
        self.fault.failure()
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.fault.status()
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        self.fault.render(&self.messages).to_string()
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("failure", &self.fault.failure())
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

impl From<ApiError> for Fault {
    fn from(error: ApiError) -> Self {
        error.fault
    }
}
