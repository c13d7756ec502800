//! The two questions every statement asks of a row, each written once:
//! is the token force-expired, and does verification still accept it.
//!
//! A token is *force-expired* when `expired_at < internal_expired_at`
//! (`expired_at` was moved before its own expiry; no clock involved). It is
//! *accepted* at `horizon` (now − leeway) when it is not force-expired and
//! its own expiry is after the horizon. The Diesel expressions serve the
//! query builder, the SQL texts the statements written in SQL. The partial
//! indexes of the migrations (`migrations/registry/*/…_login_roots`) repeat
//! [`accepted`]'s first half: change both together.

use diesel::prelude::*;

use crate::schema::jwt_token;
use crate::types::Moment;

/// The type of [`force_expired`].
pub(crate) type ForceExpired =
    diesel::dsl::Lt<jwt_token::expired_at, jwt_token::internal_expired_at>;
/// The type of [`not_force_expired`].
pub(crate) type NotForceExpired =
    diesel::dsl::GtEq<jwt_token::expired_at, jwt_token::internal_expired_at>;
/// The type of [`accepted`].
pub(crate) type Accepted =
    diesel::dsl::And<NotForceExpired, diesel::dsl::Gt<jwt_token::internal_expired_at, Moment>>;

/// Force-expired.
pub(crate) fn force_expired() -> ForceExpired {
    jwt_token::expired_at.lt(jwt_token::internal_expired_at)
}

/// Not force-expired (its own expiry may have passed).
pub(crate) fn not_force_expired() -> NotForceExpired {
    jwt_token::expired_at.ge(jwt_token::internal_expired_at)
}

/// Accepted by verification at `horizon` (now − leeway).
pub(crate) fn accepted(horizon: Moment) -> Accepted {
    not_force_expired().and(jwt_token::internal_expired_at.gt(horizon))
}

/// [`force_expired`] of a row read into memory.
pub(crate) fn is_force_expired(expired_at: Moment, internal_expired_at: Moment) -> bool {
    expired_at < internal_expired_at
}

/// The type of [`refused`].
#[cfg(any(test, feature = "testing"))]
pub(crate) type Refused =
    diesel::dsl::Or<ForceExpired, diesel::dsl::LtEq<jwt_token::internal_expired_at, Moment>>;

/// Refused by verification at `horizon` (now − leeway): force-expired, or
/// its own expiry at or before the horizon. The opposite of [`accepted`].
#[cfg(any(test, feature = "testing"))]
pub(crate) fn refused(horizon: Moment) -> Refused {
    force_expired().or(jwt_token::internal_expired_at.le(horizon))
}

/// [`force_expired`] in SQL, for a row of `jwt_token` named `row` (a table
/// alias, or `jwt_token`).
pub(crate) fn force_expired_sql(row: &str) -> String {
    format!("{row}.expired_at < {row}.internal_expired_at")
}

/// [`accepted`] in SQL, for a row of `jwt_token` named `row`, with
/// `horizon` a bound placeholder.
pub(crate) fn accepted_sql(row: &str, horizon: &str) -> String {
    format!(
        "{row}.expired_at >= {row}.internal_expired_at AND {row}.internal_expired_at > {horizon}"
    )
}
