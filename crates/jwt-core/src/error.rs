//! The error of verifying or minting a token, with simplejwt's codes and
//! messages.

use std::fmt;

/// Why a token was refused (or could not be minted), as the client is told.
///
/// Each kind carries the simplejwt `code` and the English `message` that
/// docs/http-api.md puts on the wire; the HTTP layer may translate the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad signature, malformed token, expired, wrong or unknown algorithm,
    /// unknown `kid`, wrong audience or issuer, a malformed registered claim:
    /// "Token is invalid or expired". [`Error::cause`] tells them apart.
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

/// Exactly why a token was refused: finer than [`ErrorKind`], for apps that
/// log, count or react to each case (a client whose clock is ahead, a key
/// rotation gone wrong, someone forging tokens).
///
/// Clients are never told the cause: every cause of
/// [`ErrorKind::Invalid`] answers "Token is invalid or expired", as simplejwt
/// does, so a forger learns nothing about which check failed.
///
/// ```
/// use jwt_core::{Cause, ManualClock, TokenService, TokenSettings};
///
/// let settings = TokenSettings {
///     signing_key: "a-secret-of-at-least-32-bytes-for-HS256".into(),
///     ..TokenSettings::default()
/// };
/// let clock = ManualClock::at(1_000);
/// let tokens = TokenService::builder(&settings).clock(clock.clone()).build()?;
/// let access = tokens.encode(&tokens.access_from(&tokens.refresh_for_user(7)?)?)?;
///
/// clock.set(1_000 + 300);
/// let err = tokens.verify(&access, tokens.access_type()).unwrap_err();
/// match err.cause() {
///     Cause::Expired => { /* the client refreshes */ }
///     Cause::BadSignature | Cause::UnknownKey => { /* worth an alert */ }
///     _ => {}
/// }
/// assert_eq!(err.cause(), Cause::Expired);
/// assert_eq!(err.message(), "Token is invalid or expired");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cause {
    /// Not a compact JWS (three base64url parts of JSON objects), or a
    /// header field or registered claim of the wrong JSON type, or a `crit`
    /// header.
    Malformed,
    /// An `alg` header that is missing, unknown or `none`.
    AlgorithmNotAccepted,
    /// No configured key has the token's `kid` (or, without a `kid`, the
    /// token's `alg`).
    UnknownKey,
    /// The signature is not the chosen key's signature of the token.
    BadSignature,
    /// `exp` is at or before now minus the leeway.
    Expired,
    /// `nbf` or `iat` is after now plus the leeway.
    NotYetValid,
    /// `aud` missing or not the configured audience, or present when no
    /// audience is configured.
    WrongAudience,
    /// `iss` missing or not the configured issuer.
    WrongIssuer,
    /// No `exp` claim.
    MissingExpiry,
    /// No id claim (`jti` by default).
    MissingId,
    /// No type claim.
    MissingType,
    /// Another token type than the one expected.
    WrongType,
    /// No usable user id claim.
    NoUserId,
    /// Minting with a verify-only key set.
    NoSigningKey,
    /// The crypto library refused to sign.
    SigningFailed,
}

impl Cause {
    /// The kind this cause is reported as: its code and client message.
    pub const fn kind(self) -> ErrorKind {
        match self {
            Cause::Malformed
            | Cause::AlgorithmNotAccepted
            | Cause::UnknownKey
            | Cause::BadSignature
            | Cause::Expired
            | Cause::NotYetValid
            | Cause::WrongAudience
            | Cause::WrongIssuer => ErrorKind::Invalid,
            Cause::MissingExpiry => ErrorKind::MissingExpiry,
            Cause::MissingId => ErrorKind::MissingId,
            Cause::MissingType => ErrorKind::MissingType,
            Cause::WrongType => ErrorKind::WrongType,
            Cause::NoUserId => ErrorKind::NoUserId,
            Cause::NoSigningKey => ErrorKind::NoSigningKey,
            Cause::SigningFailed => ErrorKind::Signing,
        }
    }
}

/// A refused or unmintable token.
///
/// `Display` is the client-facing message; [`Error::cause`] says which check
/// failed, for apps to match on; [`Error::reason`] says more, for logs. None
/// of them ever contains the token, a claim value or key material.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    cause: Cause,
    reason: &'static str,
}

impl Error {
    pub(crate) const fn new(cause: Cause, reason: &'static str) -> Self {
        Error { cause, reason }
    }

    pub(crate) const fn malformed(reason: &'static str) -> Self {
        Error::new(Cause::Malformed, reason)
    }

    /// What went wrong, as a kind with its code and message.
    pub const fn kind(&self) -> ErrorKind {
        self.cause.kind()
    }

    /// Which check failed.
    pub const fn cause(&self) -> Cause {
        self.cause
    }

    /// The simplejwt code (`"token_not_valid"`).
    pub const fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// The client-facing message ("Token is invalid or expired").
    pub const fn message(&self) -> &'static str {
        self.kind().message()
    }

    /// A precise, log-safe cause ("signature does not match", "expired").
    /// Not for clients: it would tell an attacker which check failed.
    pub const fn reason(&self) -> &'static str {
        self.reason
    }
}

impl From<Cause> for Error {
    fn from(cause: Cause) -> Self {
        Error::new(cause, cause.kind().message())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("cause", &self.cause)
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
