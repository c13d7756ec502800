//! What an administrator sees of the registry: a user's tokens, or one
//! token's whole login tree, each token with its user, device and state
//! (the Rust form of the Django package's admin pages).

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::{DbConnection, DbError, MultiBackend};
use crate::models::StoredToken;
use crate::predicates::{accepted, force_expired, not_force_expired};
use crate::schema::{jwt_token, jwt_token_user_connection};
use crate::sessions::{SessionDetails, SessionDetailsSource, walk_up};
use crate::token_manager;
use crate::types::{Moment, RowId};

/// Rows read per statement when a list of ids is looked up.
const CHUNK: usize = 5_000;

/// Where a token stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenState {
    /// Usable: neither force-expired nor past its own expiry.
    Active,
    /// Past its own expiry, never force-expired.
    Expired,
    /// Force-expired (`expired_at < internal_expired_at`).
    ForceExpired,
}

impl TokenState {
    /// `"active"`, `"expired"`, `"force_expired"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenState::Active => "active",
            TokenState::Expired => "expired",
            TokenState::ForceExpired => "force_expired",
        }
    }

    /// The state named by [`TokenState::as_str`].
    pub fn parse(name: &str) -> Option<TokenState> {
        [
            TokenState::Active,
            TokenState::Expired,
            TokenState::ForceExpired,
        ]
        .into_iter()
        .find(|state| state.as_str() == name)
    }

    /// At `horizon` (now − leeway): a token past its `exp` but inside the
    /// leeway is still active, as verification still accepts it.
    fn of(token: &StoredToken, horizon: Moment) -> TokenState {
        if token.is_force_expired() {
            TokenState::ForceExpired
        } else if token.is_expired(horizon) {
            TokenState::Expired
        } else {
            TokenState::Active
        }
    }
}

/// A registered token as an administrator sees it. Its claims and digest
/// stay in the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    /// The row id.
    pub id: RowId,
    /// The token's `jti`.
    pub jti: String,
    /// `"access"`, `"refresh"`, ...
    pub token_type: String,
    /// The user it is connected to, if any.
    pub user_id: Option<String>,
    /// The token it was derived from, if any (and not archived).
    pub parent_id: Option<RowId>,
    /// When it was registered.
    pub created_at: Moment,
    /// Its own expiry (`exp`).
    pub expires_at: Moment,
    /// When it was force-expired, if it was.
    pub force_expired_at: Option<Moment>,
    /// Its state at the time of the query.
    pub state: TokenState,
    /// The device it was issued to, when the device registry knows it.
    pub details: Option<SessionDetails>,
}

/// A page of a user's tokens, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenPage {
    /// How many tokens match, over all pages.
    pub count: u64,
    /// This page.
    pub tokens: Vec<TokenInfo>,
}

/// Which of a user's tokens to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenQuery {
    /// Only tokens in this state; `None`: all.
    pub state: Option<TokenState>,
    /// At most this many.
    pub limit: u32,
    /// After skipping this many.
    pub offset: u32,
}

type Tokens<'a> = jwt_token::BoxedQuery<'a, MultiBackend>;

/// `query` narrowed to the tokens in `state` at `horizon` (now − leeway).
fn in_state(query: Tokens<'_>, state: Option<TokenState>, horizon: Moment) -> Tokens<'_> {
    match state {
        None => query,
        Some(TokenState::ForceExpired) => query.filter(force_expired()),
        Some(TokenState::Expired) => query
            .filter(not_force_expired())
            .filter(jwt_token::internal_expired_at.le(horizon)),
        Some(TokenState::Active) => query.filter(accepted(horizon)),
    }
}

/// A user's tokens, newest first (two statements, plus one for devices),
/// their states at `horizon` (now − leeway).
pub(crate) fn tokens_of_user(
    conn: &mut DbConnection,
    user_id: &str,
    query: TokenQuery,
    horizon: Moment,
    source: Option<&dyn SessionDetailsSource>,
) -> Result<TokenPage, DbError> {
    let of_user = || {
        let ids = jwt_token_user_connection::table
            .filter(jwt_token_user_connection::user_id.eq(user_id))
            .select(jwt_token_user_connection::token_id);
        let tokens = jwt_token::table
            .filter(jwt_token::id.eq_any(ids))
            .into_boxed();
        in_state(tokens, query.state, horizon)
    };
    let total: i64 = of_user().count().get_result(conn)?;
    let rows: Vec<StoredToken> = of_user()
        .select(StoredToken::as_select())
        .order((jwt_token::created_at.desc(), jwt_token::id.desc()))
        .limit(i64::from(query.limit))
        .offset(i64::from(query.offset))
        .load(conn)?;
    let users = HashMap::from_iter(rows.iter().map(|row| (row.id, user_id.to_owned())));
    let tokens = describe(conn, rows, users, horizon, source)?;
    Ok(TokenPage {
        count: u64::try_from(total).unwrap_or_default(),
        tokens,
    })
}

/// The token with this `jti` and its whole login (every token of its
/// family, archived ancestors or not), oldest first; `None` when there is
/// no such token. States at `horizon` (now − leeway).
pub(crate) fn token_tree(
    conn: &mut DbConnection,
    jti: &str,
    horizon: Moment,
    source: Option<&dyn SessionDetailsSource>,
) -> Result<Option<(TokenInfo, Vec<TokenInfo>)>, DbError> {
    let Some(token) = token_manager::find_by_jti(conn, jti)? else {
        return Ok(None);
    };
    let ids: Vec<RowId> = jwt_token::table
        .filter(jwt_token::root_id.eq(token.root_id.unwrap_or(token.id)))
        .select(jwt_token::id)
        .load(conn)?;
    let mut rows = Vec::with_capacity(ids.len());
    let mut users = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        rows.extend(
            jwt_token::table
                .filter(jwt_token::id.eq_any(chunk))
                .select(StoredToken::as_select())
                .load(conn)?,
        );
        let connected: Vec<(RowId, String)> = jwt_token_user_connection::table
            .filter(jwt_token_user_connection::token_id.eq_any(chunk))
            .select((
                jwt_token_user_connection::token_id,
                jwt_token_user_connection::user_id,
            ))
            .load(conn)?;
        users.extend(connected);
    }
    sort_parents_first(&mut rows);
    let tree = describe(conn, rows, users, horizon, source)?;
    let found = tree
        .iter()
        .find(|info| info.id == token.id)
        .cloned()
        .ok_or(diesel::result::Error::NotFound)?;
    Ok(Some((found, tree)))
}

/// Orders a tree oldest first, a parent always before its children: a
/// login's refresh token and its access token are registered in the same
/// instant, so time alone cannot tell them apart; their depth can.
fn sort_parents_first(rows: &mut [StoredToken]) {
    let parents: HashMap<RowId, Option<RowId>> =
        rows.iter().map(|row| (row.id, row.parent_id)).collect();
    let mut depths: HashMap<RowId, usize> = HashMap::with_capacity(rows.len());
    for row in rows.iter() {
        walk_up(row.id, &parents, &mut depths, |_| 0, |depth| depth + 1);
    }
    rows.sort_by(|a, b| {
        a.created_at
            .cmp(&b.created_at)
            .then(depths.get(&a.id).cmp(&depths.get(&b.id)))
            .then(a.id.0.cmp(&b.id.0))
    });
}

/// Rows with their user, state and device.
fn describe(
    conn: &mut DbConnection,
    rows: Vec<StoredToken>,
    mut users: HashMap<RowId, String>,
    horizon: Moment,
    source: Option<&dyn SessionDetailsSource>,
) -> Result<Vec<TokenInfo>, DbError> {
    let mut details = HashMap::new();
    if let Some(source) = source {
        let ids: Vec<RowId> = rows.iter().map(|row| row.id).collect();
        for chunk in ids.chunks(CHUNK) {
            details.extend(source.details(conn, chunk)?);
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let state = TokenState::of(&row, horizon);
            TokenInfo {
                user_id: users.remove(&row.id),
                details: details.remove(&row.id),
                force_expired_at: (state == TokenState::ForceExpired).then_some(row.expired_at),
                state,
                id: row.id,
                jti: row.jti,
                token_type: row.token_type,
                parent_id: row.parent_id,
                created_at: row.created_at,
                expires_at: row.internal_expired_at,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: u128, parent: Option<u128>, at: i64) -> StoredToken {
        let moment = Moment::from_unix_seconds(at);
        StoredToken {
            id: RowId(uuid::Uuid::from_u128(n)),
            jti: n.to_string(),
            token_type: "refresh".into(),
            token_digest: String::new(),
            parent_id: parent.map(|p| RowId(uuid::Uuid::from_u128(p))),
            expired_at: moment,
            internal_expired_at: moment,
            created_at: moment,
            root_id: None,
        }
    }

    #[test]
    fn a_tree_is_oldest_first_with_parents_before_children_of_the_same_instant() {
        // 9 is the root; 5 its access token, registered in the same
        // instant with a smaller id; 7 a refresh later, 3 its access token.
        let mut rows = vec![
            row(3, Some(7), 20),
            row(5, Some(9), 10),
            row(7, Some(9), 20),
            row(9, None, 10),
        ];
        sort_parents_first(&mut rows);
        let order: Vec<String> = rows.iter().map(|r| r.jti.clone()).collect();
        assert_eq!(order, ["9", "5", "7", "3"]);
    }
}
