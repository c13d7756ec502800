//! Sessions: a user's login trees, each named by its root token, with the
//! device that used it last.

use std::collections::{HashMap, HashSet};

use diesel::QueryableByName;
use diesel::RunQueryDsl;
use diesel::sql_types::Nullable;

use crate::db::{DbConnection, DbError};
use crate::predicates::accepted_sql;
use crate::raw_sql::Statement;
use crate::token_manager;
use crate::types::{Moment, RowId, sql};

/// What a session's last token was issued to, as shown to its user: the
/// recognised app, OS, device and IP (jwt-device fills it in).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionDetails {
    /// `"Chrome 124.0.0.0"`.
    pub app: Option<String>,
    /// `"Windows 11"`.
    pub os: Option<String>,
    /// `"Apple iPhone"`, `"Desktop"`.
    pub device: Option<String>,
    /// The client's address.
    pub ip: Option<String>,
}

/// Where session details come from: the device registry, or nothing.
pub trait SessionDetailsSource: Send + Sync + 'static {
    /// The details of each of `tokens` that has any.
    fn details(
        &self,
        conn: &mut DbConnection,
        tokens: &[RowId],
    ) -> Result<HashMap<RowId, SessionDetails>, DbError>;
}

/// One login of a user: a tree of tokens grown from one `obtain/`, alive
/// while a refresh token of it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The root token's row id: the session's name.
    pub id: RowId,
    /// When the login happened (the root was registered).
    pub created_at: Moment,
    /// When it was last refreshed: the newest token after the root's
    /// own access token, if any.
    pub refreshed_at: Option<Moment>,
    /// When its last active refresh token expires.
    pub expires_at: Moment,
    /// The device of its newest token.
    pub details: SessionDetails,
    /// Whether the asking token belongs to it.
    pub current: bool,
}

/// Walks from `id` up through `parents` (only those in the map) to a root
/// or a node whose value `memo` knows, then gives every node on the way its
/// value: `at_root(root)` for the top one, `step(parent's value)` below it.
/// Each node is walked once however many calls share `memo`; a cycle ends
/// the walk as if at a root.
pub(crate) fn walk_up<T: Copy>(
    id: RowId,
    parents: &HashMap<RowId, Option<RowId>>,
    memo: &mut HashMap<RowId, T>,
    at_root: impl Fn(RowId) -> T,
    step: impl Fn(T) -> T,
) -> T {
    if let Some(known) = memo.get(&id) {
        return *known;
    }
    let mut path = vec![id];
    let mut on_path = HashSet::from([id]);
    // The value of the last node on the path.
    let mut value = loop {
        let at = path[path.len() - 1];
        match parents.get(&at).copied().flatten() {
            Some(parent) if parents.contains_key(&parent) && !on_path.contains(&parent) => {
                if let Some(known) = memo.get(&parent) {
                    break step(*known);
                }
                path.push(parent);
                on_path.insert(parent);
            }
            _ => break at_root(at),
        }
    };
    let mut of_id = value;
    for node in path.iter().rev() {
        memo.insert(*node, value);
        of_id = value;
        value = step(value);
    }
    of_id
}

#[derive(QueryableByName)]
struct SessionRow {
    #[diesel(sql_type = sql::Id)]
    root_id: RowId,
    #[diesel(sql_type = sql::Moment)]
    expires_at: Moment,
    #[diesel(sql_type = Nullable<sql::Moment>)]
    first_at: Option<Moment>,
    #[diesel(sql_type = Nullable<sql::Moment>)]
    newest_at: Option<Moment>,
    #[diesel(sql_type = Nullable<sql::Id>)]
    newest_id: Option<RowId>,
}

/// The logins of `user_id` holding a refresh token verification accepts at
/// `horizon` (not force-expired, `exp` after it), by root, with when the
/// last of those expires.
fn alive_sql(sql: &mut Statement, user_id: &str, horizon: Moment) -> String {
    let user = sql.bind(user_id);
    let accepted = accepted_sql("jwt_token", &sql.bind(horizon));
    format!(
        "SELECT root_id, MAX(internal_expired_at) AS expires_at FROM jwt_token \
         WHERE user_id = {user} AND token_type = 'refresh' AND {accepted} \
         GROUP BY root_id"
    )
}

/// The roots of a user's live sessions (one statement, through the index of
/// live tokens by user: dead tokens are never read).
pub(crate) fn alive_roots(
    conn: &mut DbConnection,
    user_id: &str,
    horizon: Moment,
) -> Result<Vec<RowId>, DbError> {
    #[derive(QueryableByName)]
    struct Root {
        #[diesel(sql_type = sql::Id)]
        root_id: RowId,
    }
    let mut sql = Statement::new(conn);
    let alive = alive_sql(&mut sql, user_id, horizon);
    sql.push(&alive);
    let rows: Vec<Root> = sql.query().load(conn)?;
    Ok(rows.into_iter().map(|row| row.root_id).collect())
}

/// The sessions of a user that are alive at `horizon` (now − leeway),
/// newest first: one statement through the index of live tokens by user
/// (plus one to find the current login, and the device details).
pub(crate) fn sessions(
    conn: &mut DbConnection,
    user_id: &str,
    current_jti: Option<&str>,
    horizon: Moment,
    source: Option<&dyn SessionDetailsSource>,
) -> Result<Vec<Session>, DbError> {
    let mut sql = Statement::new(conn);
    let alive = alive_sql(&mut sql, user_id, horizon);
    sql.push(&format!(
        "SELECT a.root_id, a.expires_at, \
             (SELECT MIN(m.created_at) FROM jwt_token m WHERE m.root_id = a.root_id) AS first_at, \
             (SELECT MAX(m.created_at) FROM jwt_token m WHERE m.root_id = a.root_id) AS newest_at, \
             (SELECT m.id FROM jwt_token m WHERE m.root_id = a.root_id \
                 ORDER BY m.created_at DESC LIMIT 1) AS newest_id \
         FROM ({alive}) a"
    ));
    let rows: Vec<SessionRow> = sql.query().load(conn)?;
    let current = match current_jti {
        Some(jti) if !rows.is_empty() => token_manager::root_of_jti(conn, jti)?,
        _ => None,
    };
    let newest: Vec<RowId> = rows.iter().filter_map(|row| row.newest_id).collect();
    let mut details = match source {
        Some(source) if !newest.is_empty() => source.details(conn, &newest)?,
        _ => HashMap::new(),
    };
    let mut sessions: Vec<Session> = rows
        .into_iter()
        .map(|row| {
            let created_at = row.first_at.unwrap_or(horizon);
            Session {
                id: row.root_id,
                created_at,
                // The obtain registers the root and its access token together.
                refreshed_at: row.newest_at.filter(|at| *at > created_at),
                expires_at: row.expires_at,
                details: row
                    .newest_id
                    .and_then(|id| details.remove(&id))
                    .unwrap_or_default(),
                current: current == Some(row.root_id),
            }
        })
        .collect();
    sessions.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.0.cmp(&a.id.0)));
    Ok(sessions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> RowId {
        RowId(uuid::Uuid::from_u128(n))
    }

    fn root_of(
        id: RowId,
        parents: &HashMap<RowId, Option<RowId>>,
        roots: &mut HashMap<RowId, RowId>,
    ) -> RowId {
        walk_up(id, parents, roots, |root| root, |root| root)
    }

    #[test]
    fn roots_follow_parents_inside_the_user_s_tokens_and_survive_cycles() {
        // 1 ← 2 ← 3 (a chain), 4 whose parent 9 is not the user's (archived
        // or foreign), and 5 ↔ 6, a cycle no schema allows but a hand edit
        // could make.
        let parents: HashMap<RowId, Option<RowId>> = [
            (id(1), None),
            (id(2), Some(id(1))),
            (id(3), Some(id(2))),
            (id(4), Some(id(9))),
            (id(5), Some(id(6))),
            (id(6), Some(id(5))),
        ]
        .into_iter()
        .collect();
        let mut roots = HashMap::new();
        assert_eq!(root_of(id(3), &parents, &mut roots), id(1));
        assert_eq!(roots.get(&id(2)), Some(&id(1)), "memoised on the way");
        assert_eq!(root_of(id(2), &parents, &mut roots), id(1));
        assert_eq!(
            root_of(id(4), &parents, &mut roots),
            id(4),
            "a parent not among the user's tokens ends the walk"
        );
        let cyclic = root_of(id(5), &parents, &mut roots);
        assert!(
            cyclic == id(5) || cyclic == id(6),
            "a cycle ends instead of looping"
        );
        assert_eq!(
            root_of(id(6), &parents, &mut roots),
            cyclic,
            "and both sides agree"
        );
    }
}
