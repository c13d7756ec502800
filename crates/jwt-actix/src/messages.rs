//! Every text the HTTP answers carry, replaceable for translation.

use std::borrow::Cow;

use jwt_core::ErrorKind;

use crate::failure::FieldError;

type Text = Cow<'static, str>;

/// The messages of docs/http-api.md, in English by default. An app that answers
/// in another language replaces them when it builds
/// [`JwtAuth`](crate::JwtAuth); codes (`token_not_valid`, ...) never change.
///
/// Placeholders in braces are filled in: `{reason}`, `{type}`, `{media_type}`,
/// `{method}`, `{value}`, `{limit}`.
///
/// ```
/// use jwt_actix::Messages;
///
/// let german = Messages {
///     not_authenticated: "Anmeldedaten fehlen.".into(),
///     ..Messages::default()
/// };
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Messages {
    /// "This field is required."
    pub field_required: Text,
    /// "This field may not be blank."
    pub field_blank: Text,
    /// "This field may not be null."
    pub field_null: Text,
    /// "Not a valid string."
    pub field_not_a_string: Text,
    /// "Null characters are not allowed."
    pub field_null_characters: Text,
    /// "Must be a valid boolean."
    pub field_not_a_boolean: Text,
    /// "JSON parse error - {reason}"
    pub json_parse_error: Text,
    /// "Invalid data. Expected a dictionary, but got {type}."
    pub not_a_dictionary: Text,
    /// "No data provided"
    pub no_data: Text,
    /// "Unsupported media type \"{media_type}\" in request."
    pub unsupported_media_type: Text,
    /// "Request body is too large."
    pub body_too_large: Text,
    /// "Method \"{method}\" not allowed."
    pub method_not_allowed: Text,
    /// "No active account found with the given credentials"
    pub no_active_account: Text,
    /// "Authentication credentials were not provided."
    pub not_authenticated: Text,
    /// "Authorization header must contain two space-delimited values"
    pub bad_authorization_header: Text,
    /// "Given token not valid for any token type"
    pub no_valid_token_type: Text,
    /// "Token is invalid or expired"
    pub token_invalid: Text,
    /// "Token has no 'exp' claim"
    pub token_missing_expiry: Text,
    /// "Token has no id"
    pub token_missing_id: Text,
    /// "Token has no type"
    pub token_missing_type: Text,
    /// "Token has wrong type"
    pub token_wrong_type: Text,
    /// "Token contained no recognizable user identification"
    pub token_no_user_id: Text,
    /// "User not found"
    pub user_not_found: Text,
    /// "User is inactive"
    pub user_inactive: Text,
    /// "Token is no longer valid."
    pub token_expired: Text,
    /// "The user's password has been changed."
    pub password_changed: Text,
    /// "Service temporarily unavailable."
    pub unavailable: Text,
    /// "Internal server error."
    pub internal_error: Text,
    /// "Not found."
    pub not_found: Text,
    /// "CSRF Failed: {reason}" (reasons: [`Messages::csrf_cookie_missing`],
    /// [`Messages::csrf_token_missing`], [`Messages::csrf_token_incorrect`])
    pub csrf_failed: Text,
    /// "CSRF cookie not set."
    pub csrf_cookie_missing: Text,
    /// "CSRF token missing."
    pub csrf_token_missing: Text,
    /// "CSRF token incorrect."
    pub csrf_token_incorrect: Text,
    /// "You do not have permission to perform this action."
    pub permission_denied: Text,
    /// "\"{value}\" is not a valid choice."
    pub invalid_choice: Text,
    /// "Ensure this value is greater than or equal to {limit}."
    pub value_too_small: Text,
    /// "Ensure this value is less than or equal to {limit}."
    pub value_too_large: Text,
    /// "A valid integer is required."
    pub not_an_integer: Text,
}

impl Default for Messages {
    /// English; the token texts are jwt-core's (`ErrorKind::message`), so
    /// they are written in one place.
    fn default() -> Self {
        Messages {
            field_required: "This field is required.".into(),
            field_blank: "This field may not be blank.".into(),
            field_null: "This field may not be null.".into(),
            field_not_a_string: "Not a valid string.".into(),
            field_null_characters: "Null characters are not allowed.".into(),
            field_not_a_boolean: "Must be a valid boolean.".into(),
            json_parse_error: "JSON parse error - {reason}".into(),
            not_a_dictionary: "Invalid data. Expected a dictionary, but got {type}.".into(),
            no_data: "No data provided".into(),
            unsupported_media_type: "Unsupported media type \"{media_type}\" in request.".into(),
            body_too_large: "Request body is too large.".into(),
            method_not_allowed: "Method \"{method}\" not allowed.".into(),
            no_active_account: "No active account found with the given credentials".into(),
            not_authenticated: "Authentication credentials were not provided.".into(),
            bad_authorization_header:
                "Authorization header must contain two space-delimited values".into(),
            no_valid_token_type: "Given token not valid for any token type".into(),
            token_invalid: ErrorKind::Invalid.message().into(),
            token_missing_expiry: ErrorKind::MissingExpiry.message().into(),
            token_missing_id: ErrorKind::MissingId.message().into(),
            token_missing_type: ErrorKind::MissingType.message().into(),
            token_wrong_type: ErrorKind::WrongType.message().into(),
            token_no_user_id: ErrorKind::NoUserId.message().into(),
            user_not_found: "User not found".into(),
            user_inactive: "User is inactive".into(),
            token_expired: "Token is no longer valid.".into(),
            password_changed: "The user's password has been changed.".into(),
            unavailable: "Service temporarily unavailable.".into(),
            internal_error: "Internal server error.".into(),
            not_found: "Not found.".into(),
            csrf_failed: "CSRF Failed: {reason}".into(),
            csrf_cookie_missing: "CSRF cookie not set.".into(),
            csrf_token_missing: "CSRF token missing.".into(),
            csrf_token_incorrect: "CSRF token incorrect.".into(),
            permission_denied: "You do not have permission to perform this action.".into(),
            invalid_choice: "\"{value}\" is not a valid choice.".into(),
            value_too_small: "Ensure this value is greater than or equal to {limit}.".into(),
            value_too_large: "Ensure this value is less than or equal to {limit}.".into(),
            not_an_integer: "A valid integer is required.".into(),
        }
    }
}

impl Messages {
    /// The message for a refused field.
    pub fn field_error<'m>(&'m self, error: &'m FieldError) -> Cow<'m, str> {
        let text: &str = match error {
            FieldError::Required => &self.field_required,
            FieldError::Blank => &self.field_blank,
            FieldError::Null => &self.field_null,
            FieldError::NotAString => &self.field_not_a_string,
            FieldError::NullCharacters => &self.field_null_characters,
            FieldError::NotABoolean => &self.field_not_a_boolean,
            FieldError::TokenExpired => &self.token_expired,
            FieldError::TokenInvalid => &self.token_invalid,
            FieldError::Text(text) => text,
            FieldError::InvalidChoice(value) => {
                return fill(&self.invalid_choice, "value", value).into();
            }
            FieldError::TooSmall(limit) => {
                return fill(&self.value_too_small, "limit", &limit.to_string()).into();
            }
            FieldError::TooLarge(limit) => {
                return fill(&self.value_too_large, "limit", &limit.to_string()).into();
            }
            FieldError::NotAnInteger => &self.not_an_integer,
        };
        text.into()
    }

    /// The message for a token error of jwt-core.
    pub fn token_error(&self, kind: ErrorKind) -> &str {
        match kind {
            ErrorKind::MissingExpiry => &self.token_missing_expiry,
            ErrorKind::MissingId => &self.token_missing_id,
            ErrorKind::MissingType => &self.token_missing_type,
            ErrorKind::WrongType => &self.token_wrong_type,
            ErrorKind::NoUserId => &self.token_no_user_id,
            _ => &self.token_invalid,
        }
    }
}

/// Fills `{name}` in `template` with `value`.
pub(crate) fn fill(template: &str, name: &str, value: &str) -> String {
    template.replace(&format!("{{{name}}}"), value)
}
