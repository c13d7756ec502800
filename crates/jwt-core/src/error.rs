//! The error of verifying or minting a token, with simplejwt's codes and
//! messages.

use std::fmt;

/// Why a token was refused (or could not be minted).
///
/// Each kind carries the simplejwt `code` and the English `message` that
/// docs/http-api.md puts on the wire; the HTTP layer may translate the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad signature, malformed token, expired, wrong or unknown algorithm,
    /// unknown `kid`, wrong audience or issuer, a malformed registered claim:
    /// "Token is invalid or expired".
    Invalid,
    /// The token carries no `exp` claim: "Token has no 'exp' claim".
    MissingExpiry,
    /// The token carries no id claim (`jti` by default): "Token has no id".
    MissingId,
    /// The token carries no type claim: "Token has no type".
    MissingType,
    /// The token is of another type than the one expected: "Token has wrong type".
    WrongType,
    /// The token carries no user id claim, or one that is neither a string
    /// nor an integer: "Token contained no recognizable user identification".
    NoUserId,
    /// A token was to be minted but only verifying keys are configured.
    NoSigningKey,
    /// The crypto library failed to sign (should not happen with a key that
    /// parsed at start-up).
    Signing,
}

impl ErrorKind {
    /// The simplejwt error code sent beside the message.
    pub const fn code(self) -> &'static str {
        match self {
            ErrorKind::NoSigningKey | ErrorKind::Signing => "signing_failed",
            _ => "token_not_valid",
        }
    }

    /// The English message of docs/http-api.md.
    pub const fn message(self) -> &'static str {
        match self {
            ErrorKind::Invalid => "Token is invalid or expired",
            ErrorKind::MissingExpiry => "Token has no 'exp' claim",
            ErrorKind::MissingId => "Token has no id",
            ErrorKind::MissingType => "Token has no type",
            ErrorKind::WrongType => "Token has wrong type",
            ErrorKind::NoUserId => "Token contained no recognizable user identification",
            ErrorKind::NoSigningKey => "No signing key is configured",
            ErrorKind::Signing => "The token could not be signed",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// A refused or unmintable token.
///
/// `Display` is the client-facing message; [`Error::reason`] says more, for
/// logs. Neither ever contains the token, a claim value or key material.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    reason: &'static str,
}

impl Error {
    pub(crate) const fn new(kind: ErrorKind, reason: &'static str) -> Self {
        Error { kind, reason }
    }

    pub(crate) const fn invalid(reason: &'static str) -> Self {
        Error::new(ErrorKind::Invalid, reason)
    }

    /// What went wrong, as a kind with its code and message.
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The simplejwt code (`"token_not_valid"`).
    pub const fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The client-facing message ("Token is invalid or expired").
    pub const fn message(&self) -> &'static str {
        self.kind.message()
    }

    /// A precise, log-safe cause ("signature does not match", "expired").
    /// Not for clients: it would tell an attacker which check failed.
    pub const fn reason(&self) -> &'static str {
        self.reason
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind, kind.message())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("reason", &self.reason)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}
