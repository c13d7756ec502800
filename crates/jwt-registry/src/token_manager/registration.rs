//! Registering tokens: rows for the ones not seen yet, each with its
//! parent, its login's root and its user; a token stored before its
//! registration landed linked to its parent; the per-login cap on live
//! access tokens; the user's connections.

use std::collections::{BTreeSet, HashMap, HashSet};

use diesel::prelude::*;

use super::logins::{cap_access_tokens, relink};
use super::stored::{Named, find_locked};
use super::{INSERT_CHUNK, insert_rows, insert_values};
use crate::db::{DbConnection, DbError};
use crate::expiry::{self, Revoked, Rules};
use crate::models::{NewConnection, NewToken};
use crate::predicates::is_force_expired;
use crate::record::Pair;
use crate::schema::{jwt_token, jwt_token_user_connection};
use crate::types::{Moment, RowId};

/// What registering pairs did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registration {
    /// Every token of the pairs (children and parents), with its row id, in
    /// the order first named.
    pub tokens: Vec<(String, RowId)>,
    /// How many rows were new.
    pub inserted: usize,
    /// The users already connected to any of these tokens before.
    pub existing_users: BTreeSet<String>,
    /// Tokens found stored as roots of their own (their first use came
    /// before their registration) and linked to their parents now.
    pub relinked: Vec<String>,
    /// What this registration force-expired, for the revocation lists.
    pub(crate) revoked: Vec<Revoked>,
    /// Rows of these tokens that name no user yet.
    pub(crate) without_user: Vec<RowId>,
}

impl Registration {
    /// The `jti`s of the tokens this registration force-expired: new ones
    /// derived from a token force-expired meanwhile (a refresh racing a
    /// logout, or a replayed refresh token's family) are born dead; a
    /// subtree re-linked under a dead family dies with it; access tokens
    /// past the per-login cap are cut off.
    pub fn born_expired(&self) -> Vec<String> {
        self.revoked.iter().map(|r| r.jti.clone()).collect()
    }

    /// The row ids of all the tokens.
    pub fn ids(&self) -> Vec<RowId> {
        self.tokens.iter().map(|(_, id)| *id).collect()
    }

    /// The user the tokens belong to: `explicit`, else the one user already
    /// connected to any of them (none if there are zero or several).
    pub fn user(&self, explicit: Option<&str>) -> Option<String> {
        user_of(explicit, &self.existing_users)
    }
}

/// Registers `pairs` (child, parent) for `user` (else the one user
/// connected to any of them): rows for the tokens the registry has not
/// seen, each with its parent, its login's root and its user. Rows that
/// exist stay as they are (never made active again), but for one thing: a
/// token stored as a root of its own whose pair names a parent is linked
/// to it now, its subtree moved into the parent's login, and force-expired
/// when that parent is. Two statements, more only for a re-link or a login
/// past the access-token cap.
///
/// Fails with [`DbError::Conflict`] when another transaction registered one
/// of the same tokens meanwhile; run it again in a new transaction.
pub(crate) fn register(
    conn: &mut DbConnection,
    pairs: &[Pair],
    user: Option<&str>,
    rules: &Rules,
    now: Moment,
) -> Result<Registration, DbError> {
    // Every token once, in order, with the parent it is first named with.
    let mut order: Vec<&str> = Vec::new();
    let mut named: HashMap<&str, Named<'_>> = HashMap::new();
    for pair in pairs {
        for record in std::iter::once(&pair.token).chain(pair.parent.as_ref()) {
            if !named.contains_key(record.jti.as_str()) {
                order.push(&record.jti);
                named.insert(
                    &record.jti,
                    Named {
                        record,
                        parent: None,
                        stored: None,
                    },
                );
            }
        }
        if let (Some(parent), Some(child)) = (&pair.parent, named.get_mut(pair.token.jti.as_str()))
            && child.parent.is_none()
            && parent.jti != pair.token.jti
        {
            child.parent = Some(&parent.jti);
        }
    }
    if order.is_empty() {
        return Ok(Registration::default());
    }
    let count_live = rules.access_cap > 0
        && named
            .values()
            .any(|n| n.parent.is_some() && n.record.token_type == "access");
    let mut existing_users = BTreeSet::new();
    for found in find_locked(conn, &order, count_live, rules, now)? {
        existing_users.extend(found.user_id.clone());
        if let Some(entry) = named.get_mut(found.jti.as_str()) {
            entry.stored = Some(found);
        }
    }
    let user = user_of(user, &existing_users);

    let mut ids: HashMap<&str, RowId> = HashMap::new();
    for jti in &order {
        let id = named[jti].stored.as_ref().map_or_else(RowId::new, |s| s.id);
        ids.insert(jti, id);
    }
    // Stored roots of their own whose pair names another login's token.
    let relinks: Vec<&str> = order
        .iter()
        .copied()
        .filter(|jti| {
            let entry = &named[jti];
            entry.parent.is_some()
                && entry
                    .stored
                    .as_ref()
                    .is_some_and(|s| s.parent_id.is_none() && s.root_id.is_none_or(|r| r == s.id))
        })
        .collect();
    // Each token's login root, after the re-links.
    let mut roots: HashMap<&str, RowId> = HashMap::new();
    for jti in &order {
        root_of(jti, &named, &ids, &relinks, &mut roots, 0);
    }
    let relinks: Vec<&str> = relinks
        .into_iter()
        .filter(|jti| roots[jti] != ids[jti])
        .collect();
    // Dead: stored force-expired, or (new, or re-linked) under the dead.
    let mut dead: HashSet<&str> = order
        .iter()
        .copied()
        .filter(|jti| {
            named[jti]
                .stored
                .as_ref()
                .is_some_and(|s| is_force_expired(s.expired_at, s.internal_expired_at))
        })
        .collect();
    let mut dies: HashSet<&str> = HashSet::new();
    loop {
        let more: Vec<&str> = order
            .iter()
            .copied()
            .filter(|jti| !dies.contains(jti))
            .filter(|jti| named[jti].stored.is_none() || relinks.contains(jti))
            .filter(|jti| {
                named[jti]
                    .parent
                    .is_some_and(|p| dead.contains(p) || dies.contains(p))
            })
            .collect();
        if more.is_empty() {
            break;
        }
        dies.extend(more);
    }
    dead.extend(dies.iter().copied());

    let new: Vec<&Named<'_>> = order
        .iter()
        .map(|jti| &named[jti])
        .filter(|entry| entry.stored.is_none())
        .collect();
    let rows: Vec<NewToken<'_>> = new
        .iter()
        .map(|entry| {
            let record = entry.record;
            let jti = record.jti.as_str();
            let expired_at = if dies.contains(jti) {
                expiry::force_expired_at(now, record.expires_at)
            } else {
                record.expires_at
            };
            let parent = entry.parent.map(|parent| ids[parent]);
            NewToken {
                user_id: user.as_deref(),
                ..NewToken::of(record, ids[jti], parent, roots[jti], expired_at, now)
            }
        })
        .collect();
    let inserted = insert_rows!(conn, jwt_token::table, jwt_token::jti, &rows[..]);
    if inserted != rows.len() {
        return Err(DbError::Conflict);
    }
    let mut revoked: Vec<Revoked> = new
        .iter()
        .filter(|entry| dies.contains(entry.record.jti.as_str()))
        .map(|entry| Revoked {
            jti: entry.record.jti.clone(),
            until: entry.record.expires_at.plus(rules.leeway),
        })
        .collect();
    expiry::announce(conn, &revoked, &[], now)?;

    for jti in &relinks {
        let (id, parent) = (ids[jti], named[jti].parent.map(|p| ids[p]));
        if dies.contains(jti) {
            // Its subtree is still the login of its own: it dies whole.
            revoked.extend(expiry::expire_logins(conn, &[id], rules, now)?);
        }
        relink(conn, id, parent, roots[jti], now)?;
        // Cut off whole before it was known to belong here (logged out
        // before its registration landed): the login it joins is cut too.
        if named[jti]
            .stored
            .as_ref()
            .is_some_and(|stored| stored.login_cut_at.is_some())
        {
            let root = roots[jti];
            revoked.extend(expiry::expire_logins(conn, &[root], rules, now)?);
            expiry::mark_cut(conn, &[root], now)?;
        }
    }
    revoked.extend(cap_access_tokens(conn, &new, &named, &roots, rules, now)?);

    let without_user = if user.is_some() {
        order
            .iter()
            .filter_map(|jti| named[jti].stored.as_ref())
            .filter(|s| s.user_id.is_none())
            .map(|s| s.id)
            .collect()
    } else {
        Vec::new()
    };
    Ok(Registration {
        tokens: order
            .iter()
            .map(|jti| ((*jti).to_owned(), ids[jti]))
            .collect(),
        inserted,
        existing_users,
        relinked: relinks.iter().map(|jti| (*jti).to_owned()).collect(),
        revoked,
        without_user,
    })
}

/// The login root of `jti`: a stored token's own (unless it is re-linked),
/// else its parent's, else itself. `depth` guards against a cycle in what
/// the pairs say.
fn root_of<'a>(
    jti: &'a str,
    named: &HashMap<&'a str, Named<'a>>,
    ids: &HashMap<&'a str, RowId>,
    relinks: &[&'a str],
    roots: &mut HashMap<&'a str, RowId>,
    depth: usize,
) -> RowId {
    if let Some(root) = roots.get(jti) {
        return *root;
    }
    let entry = &named[jti];
    let root = match (&entry.stored, entry.parent) {
        (Some(stored), _) if !relinks.contains(&jti) => stored.root_id.unwrap_or(stored.id),
        (_, Some(parent)) if depth <= named.len() => {
            let key = named.get_key_value(parent).map(|(key, _)| *key);
            key.map_or(ids[jti], |parent| {
                root_of(parent, named, ids, relinks, roots, depth + 1)
            })
        }
        _ => ids[jti],
    };
    roots.insert(jti, root);
    root
}

/// Connects `user_id` to the tokens (one statement; existing connections
/// stay), and names the user on the rows in `without_user`. Returns how
/// many connections were new.
pub(crate) fn connect_user(
    conn: &mut DbConnection,
    user_id: &str,
    tokens: &[RowId],
    without_user: &[RowId],
    now: Moment,
) -> Result<usize, DbError> {
    if tokens.is_empty() {
        return Ok(0);
    }
    let rows: Vec<NewConnection<'_>> = tokens
        .iter()
        .map(|token_id| NewConnection {
            id: RowId::new(),
            user_id,
            token_id: *token_id,
            created_at: now,
            updated_at: now,
        })
        .collect();
    let inserted = insert_rows!(
        conn,
        jwt_token_user_connection::table,
        (
            jwt_token_user_connection::user_id,
            jwt_token_user_connection::token_id
        ),
        &rows[..]
    );
    for chunk in without_user.chunks(INSERT_CHUNK) {
        diesel::update(
            jwt_token::table
                .filter(jwt_token::id.eq_any(chunk))
                .filter(jwt_token::user_id.is_null()),
        )
        .set(jwt_token::user_id.eq(user_id))
        .execute(conn)?;
    }
    Ok(inserted)
}

/// `explicit`, else the one user of `existing` (none if zero or several).
fn user_of(explicit: Option<&str>, existing: &BTreeSet<String>) -> Option<String> {
    match explicit {
        Some(user) => Some(user.to_owned()),
        None if existing.len() == 1 => existing.iter().next().cloned(),
        None => None,
    }
}
