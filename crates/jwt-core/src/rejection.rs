//! Why a token fitted none of the accepted types.

use std::fmt;

use crate::error::Error;
use crate::token_type::TokenType;

/// A token refused for every type it was tried as, with each type's reason:
/// the `messages` list of simplejwt's "Given token not valid for any token
/// type" answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    failures: Vec<TypeFailure>,
}

/// One type's reason in a [`Rejection`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeFailure {
    token_type: TokenType,
    error: Error,
}

impl Rejection {
    pub(crate) fn new(failures: Vec<TypeFailure>) -> Self {
        Rejection { failures }
    }

    /// Each type tried, in order, with its reason.
    pub fn failures(&self) -> &[TypeFailure] {
        &self.failures
    }

    /// The first type's reason (what a single-type check would have said).
    pub fn first_error(&self) -> Option<&Error> {
        self.failures.first().map(TypeFailure::error)
    }
}

impl TypeFailure {
    pub(crate) fn new(token_type: TokenType, error: Error) -> Self {
        TypeFailure { token_type, error }
    }

    /// The type the token was tried as.
    pub fn token_type(&self) -> &TokenType {
        &self.token_type
    }

    /// Why the token is not valid as that type.
    pub fn error(&self) -> &Error {
        &self.error
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Given token not valid for any token type")
    }
}

impl std::error::Error for Rejection {}
