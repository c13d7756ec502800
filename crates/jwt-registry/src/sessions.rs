//! Sessions: a user's login trees, each named by its root token, with the
//! device that used it last.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::db::{DbConnection, DbError};
use crate::models::StoredToken;
use crate::token_manager;
use crate::types::{Moment, RowId};

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

/// A user's tokens grouped into trees: root id → members.
pub(crate) struct Trees {
    pub groups: BTreeMap<RowId, Vec<StoredToken>>,
}

impl Trees {
    /// Every token of `user_id`, grouped by the root each descends from.
    /// A token whose parent is gone (archived) is a root of its own.
    pub fn of_user(conn: &mut DbConnection, user_id: &str) -> Result<Trees, DbError> {
        let members = token_manager::find_by_user(conn, user_id)?;
        let parents: HashMap<RowId, Option<RowId>> = members
            .iter()
            .map(|member| (member.id, member.parent_id))
            .collect();
        let mut roots: HashMap<RowId, RowId> = HashMap::new();
        let mut groups: BTreeMap<RowId, Vec<StoredToken>> = BTreeMap::new();
        for member in members {
            let root = root_of(member.id, &parents, &mut roots);
            groups.entry(root).or_default().push(member);
        }
        Ok(Trees { groups })
    }

    /// The root of the tree holding the token `jti`.
    pub fn root_of_jti(&self, jti: &str) -> Option<RowId> {
        self.groups
            .iter()
            .find(|(_, members)| members.iter().any(|member| member.jti == jti))
            .map(|(root, _)| *root)
    }

    /// The roots of the trees that hold an active refresh token.
    pub fn alive(&self, now: Moment) -> impl Iterator<Item = (&RowId, &Vec<StoredToken>)> {
        self.groups.iter().filter(move |(_, members)| {
            members
                .iter()
                .any(|member| member.token_type == "refresh" && !member.is_expired(now))
        })
    }
}

/// The root of `id`, following parents inside the user's tokens;
/// memoised, and safe against a cycle (which the schema cannot hold, but a
/// hand-edited database might).
fn root_of(
    id: RowId,
    parents: &HashMap<RowId, Option<RowId>>,
    roots: &mut HashMap<RowId, RowId>,
) -> RowId {
    walk_up(id, parents, roots, |root| root, |root| root)
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

/// The sessions of a user that are alive, newest first.
pub(crate) fn sessions(
    conn: &mut DbConnection,
    user_id: &str,
    current_jti: Option<&str>,
    now: Moment,
    source: Option<&dyn SessionDetailsSource>,
) -> Result<Vec<Session>, DbError> {
    let trees = Trees::of_user(conn, user_id)?;
    let current = current_jti.and_then(|jti| trees.root_of_jti(jti));
    let mut sessions = Vec::new();
    let mut newest_tokens = Vec::new();
    for (root, members) in trees.alive(now) {
        let created_at = members
            .iter()
            .find(|member| member.id == *root)
            .map_or(now, |member| member.created_at);
        let newest = members
            .iter()
            .max_by_key(|member| member.created_at)
            .map(|member| (member.id, member.created_at));
        let expires_at = members
            .iter()
            .filter(|member| member.token_type == "refresh" && !member.is_expired(now))
            .map(|member| member.internal_expired_at)
            .max()
            .unwrap_or(now);
        // The obtain registers the root and its access token together.
        let refreshed_at = newest.map(|(_, at)| at).filter(|at| *at > created_at);
        if let Some((token, _)) = newest {
            newest_tokens.push(token);
        }
        sessions.push((
            newest.map(|(token, _)| token),
            Session {
                id: *root,
                created_at,
                refreshed_at,
                expires_at,
                details: SessionDetails::default(),
                current: current == Some(*root),
            },
        ));
    }
    let details = match source {
        Some(source) if !newest_tokens.is_empty() => source.details(conn, &newest_tokens)?,
        _ => HashMap::new(),
    };
    let mut sessions: Vec<Session> = sessions
        .into_iter()
        .map(|(newest, mut session)| {
            if let Some(found) = newest.and_then(|token| details.get(&token)) {
                session.details = found.clone();
            }
            session
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
