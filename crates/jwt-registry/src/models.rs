//! Rows of the registry's tables.

use diesel::prelude::*;

use crate::record::TokenRecord;
use crate::schema::{jwt_token, jwt_token_user_connection};
use crate::types::{JsonDoc, Moment, RowId};

/// A new row of `jwt_token`.
#[derive(Debug, Insertable)]
#[diesel(table_name = jwt_token, treat_none_as_default_value = false)]
pub(crate) struct NewToken<'a> {
    pub id: RowId,
    pub jti: &'a str,
    pub token_type: &'a str,
    pub token_digest: &'a str,
    pub payload: JsonDoc,
    pub parent_id: Option<RowId>,
    pub expired_at: Moment,
    pub internal_expired_at: Moment,
    pub created_at: Moment,
    pub updated_at: Moment,
    pub root_id: Option<RowId>,
    pub user_id: Option<&'a str>,
}

impl<'a> NewToken<'a> {
    /// The row of `record`, registered `now` with the id `id` in the login
    /// `root`, under `parent`; `expired_at` is its own `exp` unless it is
    /// born force-expired.
    pub(crate) fn of(
        record: &'a TokenRecord,
        id: RowId,
        parent: Option<RowId>,
        root: RowId,
        expired_at: Moment,
        now: Moment,
    ) -> Self {
        NewToken {
            id,
            jti: &record.jti,
            token_type: &record.token_type,
            token_digest: &record.digest,
            payload: JsonDoc(record.payload.clone()),
            parent_id: parent,
            expired_at,
            internal_expired_at: record.expires_at,
            created_at: now,
            updated_at: now,
            root_id: Some(root),
            user_id: None,
        }
    }
}

/// A new row of `jwt_token_user_connection`.
#[derive(Debug, Insertable)]
#[diesel(table_name = jwt_token_user_connection, treat_none_as_default_value = false)]
pub(crate) struct NewConnection<'a> {
    pub id: RowId,
    pub user_id: &'a str,
    pub token_id: RowId,
    pub created_at: Moment,
    pub updated_at: Moment,
}

/// A row of `jwt_token`, as read back.
#[derive(Clone, Debug, PartialEq, Queryable, Selectable)]
#[diesel(table_name = jwt_token)]
pub struct StoredToken {
    /// The row id.
    pub id: RowId,
    /// The token id claim.
    pub jti: String,
    /// The type claim.
    pub token_type: String,
    /// Hex SHA-256 of the encoded token.
    pub token_digest: String,
    /// The parent token's row, if any.
    pub parent_id: Option<RowId>,
    /// When it stopped (or stops) being valid.
    pub expired_at: Moment,
    /// Its own `exp`, never moved.
    pub internal_expired_at: Moment,
    /// When it was registered.
    pub created_at: Moment,
    /// The root of its login (the token its family grew from).
    pub root_id: Option<RowId>,
}

impl StoredToken {
    /// Force-expired: `expired_at < internal_expired_at` (no clock involved).
    pub fn is_force_expired(&self) -> bool {
        crate::predicates::is_force_expired(self.expired_at, self.internal_expired_at)
    }

    /// Refused by verification at `horizon` (now − leeway): force-expired,
    /// or its own expiry at or before it.
    pub fn is_expired(&self, horizon: Moment) -> bool {
        self.is_force_expired() || self.internal_expired_at <= horizon
    }
}
