//! Registering tokens and looking them up. Every function takes the
//! connection of the caller's transaction; force-expiry is written in
//! [`crate::expiry`].

use std::collections::{BTreeSet, HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::db::{DbConnection, DbError, MultiBackend};
use crate::expiry::{self, Revoked, Rules, Scope, Spare};
use crate::models::{NewConnection, NewToken, StoredToken};
use crate::raw_sql::{Statement, placeholders, tree_cte};
use crate::record::{Pair, TokenRecord};
use crate::schema::{jwt_token, jwt_token_user_connection};
use crate::types::{JsonDoc, Moment, RowId, sql};

/// Rows per `INSERT`: 12 columns each stays under SQLite's 32 766 binds.
const INSERT_CHUNK: usize = 1_000;

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
    /// Tokens this registration force-expired: new ones derived from a
    /// token force-expired meanwhile (a refresh racing a logout, or a
    /// replayed refresh token's family) are born dead; a subtree re-linked
    /// under a dead family dies with it; access tokens past the per-login
    /// cap are cut off.
    pub born_expired: Vec<String>,
    /// Tokens found stored as roots of their own (their first use came
    /// before their registration) and linked to their parents now.
    pub relinked: Vec<String>,
    /// The same force-expiries, for the revocation lists.
    pub(crate) revoked: Vec<Revoked>,
    /// Rows of these tokens that name no user yet.
    pub(crate) without_user: Vec<RowId>,
}

impl Registration {
    /// The row ids of all the tokens.
    pub fn ids(&self) -> Vec<RowId> {
        self.tokens.iter().map(|(_, id)| *id).collect()
    }

    /// The user the tokens belong to: `explicit`, else the one user already
    /// connected to any of them (none if there are zero or several).
    pub fn user(&self, explicit: Option<&str>) -> Option<String> {
        match explicit {
            Some(user) => Some(user.to_owned()),
            None if self.existing_users.len() == 1 => self.existing_users.iter().next().cloned(),
            None => None,
        }
    }
}

/// A token's state in the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenStatus {
    /// No row.
    Unknown,
    /// Registered and not force-expired.
    Registered,
    /// Force-expired.
    ForceExpired,
    /// Issued before its user's cut-off ("log out everywhere"), whether
    /// the registry saw it or not.
    CutOff,
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = sql::Id)]
    id: RowId,
    #[diesel(sql_type = Text)]
    jti: String,
    #[diesel(sql_type = Text)]
    token_type: String,
    #[diesel(sql_type = Nullable<Text>)]
    user_id: Option<String>,
    #[diesel(sql_type = Nullable<sql::Id>)]
    root_id: Option<RowId>,
    #[diesel(sql_type = Nullable<sql::Id>)]
    parent_id: Option<RowId>,
    #[diesel(sql_type = sql::Moment)]
    expired_at: Moment,
    #[diesel(sql_type = sql::Moment)]
    internal_expired_at: Moment,
    #[diesel(sql_type = Nullable<sql::Moment>)]
    login_cut_at: Option<Moment>,
    /// For a refresh token, its login's live access tokens (when the cap
    /// is on).
    #[diesel(sql_type = BigInt)]
    live_access: i64,
}

/// The existing rows of `jtis`, with their logins' live access tokens
/// counted when `count_live` (one statement).
fn find_named(
    conn: &mut DbConnection,
    jtis: &[&str],
    count_live: bool,
    rules: &Rules,
    now: Moment,
) -> Result<Vec<Found>, DbError> {
    let mut sql = Statement::new(conn);
    let live = if count_live {
        format!(
            "CASE WHEN t.token_type = 'refresh' THEN (SELECT COUNT(*) FROM jwt_token a \
               WHERE a.root_id = t.root_id AND a.token_type = 'access' \
                 AND a.expired_at >= a.internal_expired_at AND a.internal_expired_at > {}) \
             ELSE CAST(0 AS BIGINT) END",
            sql.bind(rules.horizon(now))
        )
    } else {
        "CAST(0 AS BIGINT)".to_owned()
    };
    let named = sql.bind_all(jtis.iter().copied());
    sql.push(&format!(
        "SELECT t.id, t.jti, t.token_type, t.user_id, t.root_id, t.parent_id, t.expired_at, \
                t.internal_expired_at, t.login_cut_at, {live} AS live_access \
         FROM jwt_token t WHERE t.jti IN ({named})"
    ));
    Ok(sql.query().load(conn)?)
}

/// A token the pairs name: stored already, or new.
struct Named<'a> {
    record: &'a TokenRecord,
    parent: Option<&'a str>,
    stored: Option<Found>,
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
    let user = match user {
        Some(user) => Some(user.to_owned()),
        None if existing_users.len() == 1 => existing_users.iter().next().cloned(),
        None => None,
    };

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
                .is_some_and(|s| s.expired_at < s.internal_expired_at)
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
            NewToken {
                id: ids[jti],
                jti,
                token_type: &record.token_type,
                token_digest: &record.digest,
                payload: JsonDoc(record.payload.clone()),
                parent_id: entry.parent.map(|parent| ids[parent]),
                expired_at: if dies.contains(jti) {
                    expiry::force_expired_at(now, record.expires_at)
                } else {
                    record.expires_at
                },
                internal_expired_at: record.expires_at,
                created_at: now,
                updated_at: now,
                root_id: Some(roots[jti]),
                user_id: user.as_deref(),
            }
        })
        .collect();
    let mut inserted = 0;
    // One statement for a login's few tokens; chunks keep huge batches
    // under SQLite's limit of bind parameters.
    for chunk in rows.chunks(INSERT_CHUNK) {
        inserted += crate::on_backend!(conn, c => diesel::insert_into(jwt_token::table)
            .values(chunk)
            .on_conflict(jwt_token::jti)
            .do_nothing()
            .execute(c))?;
    }
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
        born_expired: revoked.iter().map(|r| r.jti.clone()).collect(),
        relinked: relinks.iter().map(|jti| (*jti).to_owned()).collect(),
        revoked,
        without_user,
    })
}

/// [`find_named`], and on PostgreSQL with the logins of the rows found
/// locked ([`expiry::lock`]) and read again after the lock: a force-expiry
/// of one of them either finished before (and is seen) or waits for this
/// registration (and sees its rows). One statement on SQLite, three (two
/// reads and the lock) on PostgreSQL when a stored token is named.
fn find_locked(
    conn: &mut DbConnection,
    jtis: &[&str],
    count_live: bool,
    rules: &Rules,
    now: Moment,
) -> Result<Vec<Found>, DbError> {
    let mut locked: Vec<i64> = Vec::new();
    // Bounded: a row moves to another login only by a re-link.
    for _ in 0..3 {
        let found = find_named(conn, jtis, count_live, rules, now)?;
        if !matches!(conn, DbConnection::Pg(_)) {
            return Ok(found);
        }
        let keys: Vec<i64> = found
            .iter()
            .map(|row| expiry::login_key(row.root_id.unwrap_or(row.id)))
            .filter(|key| !locked.contains(key))
            .collect();
        if keys.is_empty() {
            return Ok(found);
        }
        expiry::lock(conn, &keys)?;
        locked.extend(keys);
    }
    find_named(conn, jtis, count_live, rules, now)
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

/// Links the stored root `id` to `parent` and moves its whole subtree into
/// the login `root` (one statement).
fn relink(
    conn: &mut DbConnection,
    id: RowId,
    parent: Option<RowId>,
    root: RowId,
    now: Moment,
) -> Result<(), DbError> {
    let Some(parent) = parent else {
        return Ok(());
    };
    let mut sql = Statement::new(conn);
    let (root, id_ph, parent, now) = (
        sql.bind(root),
        sql.bind(id),
        sql.bind(parent),
        sql.bind(now),
    );
    sql.push(&format!(
        "UPDATE jwt_token SET root_id = {root}, updated_at = {now}, \
             parent_id = CASE WHEN id = {id_ph} THEN {parent} ELSE parent_id END \
         WHERE root_id = {id_ph} OR id = {id_ph}"
    ));
    sql.query().execute(conn)?;
    tracing::warn!(token = %id, "a token used before its registration landed is linked to its parent now");
    Ok(())
}

/// Force-expires the oldest live access tokens of each login that the new
/// tokens take past the cap.
fn cap_access_tokens(
    conn: &mut DbConnection,
    new: &[&Named<'_>],
    named: &HashMap<&str, Named<'_>>,
    roots: &HashMap<&str, RowId>,
    rules: &Rules,
    now: Moment,
) -> Result<Vec<Revoked>, DbError> {
    if rules.access_cap == 0 {
        return Ok(Vec::new());
    }
    let mut live: HashMap<RowId, i64> = HashMap::new();
    for entry in named.values() {
        if let Some(stored) = &entry.stored
            && stored.token_type == "refresh"
        {
            let root = roots[stored.jti.as_str()];
            let count = live.entry(root).or_default();
            *count = (*count).max(stored.live_access);
        }
    }
    for entry in new {
        if entry.record.token_type == "access" && entry.parent.is_some() {
            *live.entry(roots[entry.record.jti.as_str()]).or_default() += 1;
        }
    }
    let cap = i64::try_from(rules.access_cap).unwrap_or(i64::MAX);
    // Down to nine tenths of the cap at once: a login refreshed in a loop
    // pays for one expiry per tenth of the cap, not one per refresh.
    let keep = rules.access_cap - rules.access_cap / 10;
    let mut revoked = Vec::new();
    for (root, count) in live {
        if count > cap {
            revoked.extend(expiry::expire(
                conn,
                Scope::AccessBeyond { root, keep },
                Spare::default(),
                None,
                rules,
                now,
            )?);
        }
    }
    Ok(revoked)
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
    let mut inserted = 0;
    for chunk in rows.chunks(INSERT_CHUNK) {
        inserted += crate::on_backend!(conn, c => diesel::insert_into(jwt_token_user_connection::table)
            .values(chunk)
            .on_conflict((jwt_token_user_connection::user_id, jwt_token_user_connection::token_id))
            .do_nothing()
            .execute(c))?;
    }
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

/// Force-expires `tokens` — with `affect_tree`, their whole logins — but
/// `spare`, and returns what it expired. A token the registry never saw
/// gets a row, force-expired, so that a registration landing later cannot
/// make it valid.
pub(crate) fn expire_records(
    conn: &mut DbConnection,
    tokens: &[TokenRecord],
    affect_tree: bool,
    spare: Spare<'_>,
    rules: &Rules,
    now: Moment,
) -> Result<Vec<Revoked>, DbError> {
    if tokens.is_empty() {
        return Ok(Vec::new());
    }
    let unseen: Vec<NewToken<'_>> = tokens
        .iter()
        .filter(|record| {
            !spare.only.contains(&record.jti.as_str())
                && !spare.with_descendants.contains(&record.jti.as_str())
        })
        .map(|record| {
            let id = RowId::new();
            NewToken {
                id,
                jti: &record.jti,
                token_type: &record.token_type,
                token_digest: &record.digest,
                payload: JsonDoc(record.payload.clone()),
                parent_id: None,
                expired_at: expiry::force_expired_at(now, record.expires_at),
                internal_expired_at: record.expires_at,
                created_at: now,
                updated_at: now,
                root_id: Some(id),
                user_id: None,
            }
        })
        .collect();
    let newly: Vec<(String, Moment)> = if unseen.is_empty() {
        Vec::new()
    } else {
        crate::on_backend!(conn, c => diesel::insert_into(jwt_token::table)
            .values(&unseen)
            .on_conflict(jwt_token::jti)
            .do_nothing()
            .returning((jwt_token::jti, jwt_token::internal_expired_at))
            .get_results(c))?
    };
    let mut revoked: Vec<Revoked> = newly
        .into_iter()
        .map(|(jti, internal)| Revoked {
            jti,
            until: internal.plus(rules.leeway),
        })
        .collect();
    expiry::announce(conn, &revoked, &[], now)?;
    let jtis: Vec<&str> = tokens.iter().map(|record| record.jti.as_str()).collect();
    let scope = if affect_tree {
        let roots: Vec<RowId> = jtis
            .iter()
            .map(|jti| root_of_jti(conn, jti))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect();
        expiry::mark_cut(conn, &roots, now)?;
        Scope::FamiliesOfJtis(&jtis)
    } else {
        Scope::Jtis(&jtis)
    };
    revoked.extend(expiry::expire(conn, scope, spare, None, rules, now)?);
    Ok(revoked)
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = sql::Id)]
    id: RowId,
}

/// The row ids of the whole login trees of `seeds`, following parent links
/// (one statement).
pub fn collect_tree(conn: &mut DbConnection, seeds: &[RowId]) -> Result<Vec<RowId>, DbError> {
    if seeds.is_empty() {
        return Ok(Vec::new());
    }
    let seed = format!(
        "SELECT id FROM jwt_token WHERE id IN ({})",
        placeholders(conn, 1, seeds.len())
    );
    let mut query = diesel::sql_query(format!("{} SELECT id FROM tree", tree_cte(&seed)))
        .into_boxed::<MultiBackend>();
    for id in seeds {
        query = query.bind::<sql::Id, _>(*id);
    }
    let rows: Vec<IdRow> = query.load(conn)?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}

#[derive(QueryableByName)]
struct StatusRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    forced: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    cutoff: Option<i64>,
}

/// The state of a token (one statement): its row, and its user's cut-off.
pub fn status(
    conn: &mut DbConnection,
    jti: &str,
    user_id: Option<&str>,
    issued_at: Option<i64>,
) -> Result<TokenStatus, DbError> {
    let mut sql = Statement::new(conn);
    let jti = sql.bind(jti);
    let cutoff = match user_id {
        Some(user) => format!(
            "(SELECT issued_until FROM jwt_user_cutoff WHERE user_id = {})",
            sql.bind(user)
        ),
        None => "CAST(NULL AS BIGINT)".to_owned(),
    };
    sql.push(&format!(
        "SELECT (SELECT CASE WHEN expired_at < internal_expired_at THEN CAST(1 AS BIGINT) \
                 ELSE CAST(0 AS BIGINT) END FROM jwt_token WHERE jti = {jti}) AS forced, \
                {cutoff} AS cutoff"
    ));
    let row: StatusRow = sql.query().get_result(conn)?;
    if row
        .cutoff
        .is_some_and(|cut| issued_at.is_none_or(|iat| iat <= cut))
    {
        return Ok(TokenStatus::CutOff);
    }
    Ok(match row.forced {
        None => TokenStatus::Unknown,
        Some(1) => TokenStatus::ForceExpired,
        Some(_) => TokenStatus::Registered,
    })
}

/// The row of the token with this `jti`.
pub fn find_by_jti(conn: &mut DbConnection, jti: &str) -> Result<Option<StoredToken>, DbError> {
    Ok(jwt_token::table
        .filter(jwt_token::jti.eq(jti))
        .select(StoredToken::as_select())
        .first(conn)
        .optional()?)
}

/// The tokens connected to a user, newest first.
pub fn find_by_user(conn: &mut DbConnection, user_id: &str) -> Result<Vec<StoredToken>, DbError> {
    Ok(jwt_token::table
        .inner_join(jwt_token_user_connection::table)
        .filter(jwt_token_user_connection::user_id.eq(user_id))
        .select(StoredToken::as_select())
        .order(jwt_token::created_at.desc())
        .load(conn)?)
}

/// Tokens verification refuses at `horizon` (now − leeway): force-expired,
/// or with their own expiry at or before it.
pub fn expired(conn: &mut DbConnection, horizon: Moment) -> Result<Vec<StoredToken>, DbError> {
    Ok(jwt_token::table
        .filter(
            jwt_token::expired_at
                .lt(jwt_token::internal_expired_at)
                .or(jwt_token::internal_expired_at.le(horizon)),
        )
        .select(StoredToken::as_select())
        .load(conn)?)
}

/// Tokens verification accepts at `horizon` (now − leeway): neither
/// force-expired nor with their own expiry at or before it.
pub fn active(conn: &mut DbConnection, horizon: Moment) -> Result<Vec<StoredToken>, DbError> {
    Ok(jwt_token::table
        .filter(jwt_token::expired_at.ge(jwt_token::internal_expired_at))
        .filter(jwt_token::internal_expired_at.gt(horizon))
        .select(StoredToken::as_select())
        .load(conn)?)
}

/// Every force-expired token verification would still accept at `horizon`
/// (now − leeway), with its `exp`: what must be refused although its
/// signature is good.
pub(crate) fn revoked(
    conn: &mut DbConnection,
    horizon: Moment,
) -> Result<Vec<(String, Moment)>, DbError> {
    Ok(jwt_token::table
        .filter(jwt_token::expired_at.lt(jwt_token::internal_expired_at))
        .filter(jwt_token::internal_expired_at.gt(horizon))
        .select((jwt_token::jti, jwt_token::internal_expired_at))
        .load(conn)?)
}

/// Every user's cut-off.
pub(crate) fn cutoffs(conn: &mut DbConnection) -> Result<Vec<(String, i64)>, DbError> {
    use crate::schema::jwt_user_cutoff;
    Ok(jwt_user_cutoff::table
        .select((jwt_user_cutoff::user_id, jwt_user_cutoff::issued_until))
        .load(conn)?)
}

/// The root of the login holding the token `jti`.
pub(crate) fn root_of_jti(conn: &mut DbConnection, jti: &str) -> Result<Option<RowId>, DbError> {
    Ok(jwt_token::table
        .filter(jwt_token::jti.eq(jti))
        .select((jwt_token::id, jwt_token::root_id))
        .first::<(RowId, Option<RowId>)>(conn)
        .optional()?
        .map(|(id, root)| root.unwrap_or(id)))
}
