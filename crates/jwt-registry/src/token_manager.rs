//! Registering tokens, expiring them (one token or whole trees), checking
//! them. Every function takes the connection of the caller's transaction.

use std::collections::{BTreeSet, HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::db::{DbConnection, DbError, MultiBackend};
use crate::models::{NewConnection, NewToken, StoredToken};
use crate::raw_sql::{placeholders, tree_cte};
use crate::record::{Pair, TokenRecord};
use crate::schema::{jwt_token, jwt_token_user_connection};
use crate::types::{JsonDoc, Moment, RowId, sql};

/// Rows per `INSERT`: 10 columns each stays under SQLite's 32 766 binds.
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
    /// New tokens registered force-expired: derived from a token that was
    /// force-expired meanwhile (a refresh racing a logout, or a replayed
    /// refresh token's family), they are born dead.
    pub born_expired: Vec<String>,
}

impl Registration {
    /// The row ids of all the tokens.
    pub fn ids(&self) -> Vec<RowId> {
        self.tokens.iter().map(|(_, id)| *id).collect()
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
}

/// Registers `pairs` (child, parent): rows for the tokens the registry has
/// not seen, with their parent links; rows that exist are left as they are
/// (never made active again). Two statements: one read, one insert.
///
/// Fails with [`DbError::Conflict`] when another transaction registered one
/// of the same tokens meanwhile; run it again in a new transaction.
pub fn register(
    conn: &mut DbConnection,
    pairs: &[Pair],
    now: Moment,
) -> Result<Registration, DbError> {
    // Every token once, in order, with the parent it is first named with.
    let mut order: Vec<&TokenRecord> = Vec::new();
    let mut named: HashSet<&str> = HashSet::new();
    let mut parent_of: HashMap<&str, &str> = HashMap::new();
    for pair in pairs {
        for record in std::iter::once(&pair.token).chain(pair.parent.as_ref()) {
            if named.insert(&record.jti) {
                order.push(record);
            }
        }
        if let Some(parent) = &pair.parent {
            parent_of.entry(&pair.token.jti).or_insert(&parent.jti);
        }
    }
    if order.is_empty() {
        return Ok(Registration::default());
    }
    let jtis: Vec<&str> = order.iter().map(|record| record.jti.as_str()).collect();
    let found: Vec<(RowId, String, Option<String>, Moment, Moment)> = jwt_token::table
        .left_join(jwt_token_user_connection::table)
        .filter(jwt_token::jti.eq_any(&jtis))
        .select((
            jwt_token::id,
            jwt_token::jti,
            jwt_token_user_connection::user_id.nullable(),
            jwt_token::expired_at,
            jwt_token::internal_expired_at,
        ))
        .load(conn)?;
    let mut ids: HashMap<&str, RowId> = HashMap::new();
    let mut existing_users = BTreeSet::new();
    let mut dead: HashSet<&str> = HashSet::new();
    for (id, jti, user, expired_at, internal) in &found {
        if let Some(jti) = named.get(jti.as_str()) {
            ids.insert(jti, *id);
            if expired_at < internal {
                dead.insert(jti);
            }
        }
        existing_users.extend(user.clone());
    }
    let new: Vec<&TokenRecord> = order
        .iter()
        .copied()
        .filter(|record| !ids.contains_key(record.jti.as_str()))
        .collect();
    for record in &new {
        ids.insert(&record.jti, RowId::new());
    }
    // A new token under a force-expired one (however many new generations
    // down) is born force-expired.
    let mut born_dead: HashSet<&str> = HashSet::new();
    loop {
        let more: Vec<&str> = new
            .iter()
            .map(|record| record.jti.as_str())
            .filter(|jti| !born_dead.contains(jti))
            .filter(|jti| {
                parent_of
                    .get(jti)
                    .is_some_and(|parent| dead.contains(parent) || born_dead.contains(parent))
            })
            .collect();
        if more.is_empty() {
            break;
        }
        born_dead.extend(more);
    }
    let rows: Vec<NewToken<'_>> = new
        .iter()
        .map(|record| NewToken {
            id: ids[record.jti.as_str()],
            jti: &record.jti,
            token_type: &record.token_type,
            token_digest: &record.digest,
            payload: JsonDoc(record.payload.clone()),
            parent_id: parent_of.get(record.jti.as_str()).map(|parent| ids[parent]),
            expired_at: if born_dead.contains(record.jti.as_str()) {
                now.min(record.expires_at)
            } else {
                record.expires_at
            },
            internal_expired_at: record.expires_at,
            created_at: now,
            updated_at: now,
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
    let born_expired: Vec<String> = new
        .iter()
        .filter(|record| born_dead.contains(record.jti.as_str()))
        .map(|record| record.jti.clone())
        .collect();
    announce(conn, &born_expired)?;
    Ok(Registration {
        tokens: order
            .iter()
            .map(|record| (record.jti.clone(), ids[record.jti.as_str()]))
            .collect(),
        inserted,
        existing_users,
        born_expired,
    })
}

/// Connects `user_id` to the tokens (one statement; existing connections
/// stay). Returns how many connections were new.
pub fn connect_user(
    conn: &mut DbConnection,
    user_id: &str,
    tokens: &[RowId],
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
    Ok(inserted)
}

#[derive(QueryableByName)]
struct JtiRow {
    #[diesel(sql_type = Text)]
    jti: String,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = sql::Id)]
    id: RowId,
}

/// Force-expires `tokens` — with `affect_tree`, their whole login trees —
/// except those in `exclude`, and returns the ids (`jti`) expired now.
///
/// A token the registry never saw gets a row, force-expired, so that a
/// registration landing later cannot make it valid. Only active tokens are
/// touched: `expired_at` of an already expired one stays.
pub fn expire(
    conn: &mut DbConnection,
    tokens: &[TokenRecord],
    affect_tree: bool,
    exclude: &[&str],
    now: Moment,
) -> Result<Vec<String>, DbError> {
    if tokens.is_empty() {
        return Ok(Vec::new());
    }
    let unseen: Vec<NewToken<'_>> = tokens
        .iter()
        .filter(|record| !exclude.contains(&record.jti.as_str()))
        .map(|record| NewToken {
            id: RowId::new(),
            jti: &record.jti,
            token_type: &record.token_type,
            token_digest: &record.digest,
            payload: JsonDoc(record.payload.clone()),
            parent_id: None,
            expired_at: now.min(record.expires_at),
            internal_expired_at: record.expires_at,
            created_at: now,
            updated_at: now,
        })
        .collect();
    let mut newly: Vec<String> = if unseen.is_empty() {
        Vec::new()
    } else {
        crate::on_backend!(conn, c => diesel::insert_into(jwt_token::table)
            .values(&unseen)
            .on_conflict(jwt_token::jti)
            .do_nothing()
            .returning(jwt_token::jti)
            .get_results(c))?
    };

    let jtis: Vec<&str> = tokens.iter().map(|record| record.jti.as_str()).collect();
    newly.extend(expire_seeds(
        conn,
        Seeds::Jtis(&jtis),
        affect_tree,
        exclude,
        now,
    )?);
    Ok(newly)
}

/// Force-expires the registered tokens with these row ids (their trees
/// with `affect_tree`) but `exclude`, and returns the `jti`s expired now.
/// One statement.
pub fn expire_rows(
    conn: &mut DbConnection,
    ids: &[RowId],
    affect_tree: bool,
    exclude: &[&str],
    now: Moment,
) -> Result<Vec<String>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    expire_seeds(conn, Seeds::Ids(ids), affect_tree, exclude, now)
}

/// The rows an expiry starts from.
enum Seeds<'a> {
    Jtis(&'a [&'a str]),
    Ids(&'a [RowId]),
}

fn expire_seeds(
    conn: &mut DbConnection,
    seeds: Seeds<'_>,
    affect_tree: bool,
    exclude: &[&str],
    now: Moment,
) -> Result<Vec<String>, DbError> {
    let (column, count) = match seeds {
        Seeds::Jtis(jtis) => ("jti", jtis.len()),
        Seeds::Ids(ids) => ("id", ids.len()),
    };
    let seed = format!(
        "SELECT id FROM jwt_token WHERE {column} IN ({})",
        placeholders(conn, 1, count)
    );
    let with = if affect_tree {
        tree_cte(&seed)
    } else {
        format!("WITH tree(id) AS ({seed})")
    };
    expire_where(
        conn,
        &with,
        count,
        |query| match seeds {
            Seeds::Jtis(jtis) => jtis
                .iter()
                .fold(query, |query, jti| query.bind::<Text, _>((*jti).to_owned())),
            Seeds::Ids(ids) => ids
                .iter()
                .fold(query, |query, id| query.bind::<sql::Id, _>(*id)),
        },
        exclude,
        now,
    )
}

type Boxed<'a> =
    diesel::query_builder::BoxedSqlQuery<'a, MultiBackend, diesel::query_builder::SqlQuery>;

/// Force-expires (`expired_at = now`) the active rows of `tree(id)`, which
/// `with` defines with `binds` placeholders from 1 that `bind` fills, but
/// those of `exclude`; returns their `jti`s and, on PostgreSQL, tells the
/// other instances. The one place a force-expiry is written.
pub(crate) fn expire_where(
    conn: &mut DbConnection,
    with: &str,
    binds: usize,
    bind: impl FnOnce(Boxed<'_>) -> Boxed<'_>,
    exclude: &[&str],
    now: Moment,
) -> Result<Vec<String>, DbError> {
    let now_ph = placeholders(conn, binds + 1, 1);
    let excluded = if exclude.is_empty() {
        String::new()
    } else {
        format!(
            " AND jti NOT IN ({})",
            placeholders(conn, binds + 2, exclude.len())
        )
    };
    let sql = format!(
        "{with} UPDATE jwt_token SET expired_at = {now_ph}, updated_at = {now_ph} \
         WHERE id IN (SELECT id FROM tree) \
           AND expired_at >= internal_expired_at AND internal_expired_at > {now_ph}{excluded} \
         RETURNING jti"
    );
    let mut query = bind(diesel::sql_query(sql).into_boxed::<MultiBackend>());
    query = query.bind::<sql::Moment, _>(now);
    for jti in exclude {
        query = query.bind::<Text, _>((*jti).to_owned());
    }
    let expired: Vec<JtiRow> = query.load(conn)?;
    let expired: Vec<String> = expired.into_iter().map(|row| row.jti).collect();
    announce(conn, &expired)?;
    Ok(expired)
}

/// On PostgreSQL, tells the other instances that tokens were force-expired
/// (delivered at commit).
pub(crate) fn announce(conn: &mut DbConnection, expired: &[String]) -> Result<(), DbError> {
    if let (DbConnection::Pg(pg), false) = (conn, expired.is_empty()) {
        diesel::sql_query(format!("NOTIFY {}", crate::revocation::CHANNEL)).execute(pg)?;
    }
    Ok(())
}

/// The row ids of the whole login trees of `seeds` (one statement).
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

/// The state of the token with this `jti`.
pub fn status(conn: &mut DbConnection, jti: &str) -> Result<TokenStatus, DbError> {
    let found: Option<(Moment, Moment)> = jwt_token::table
        .filter(jwt_token::jti.eq(jti))
        .select((jwt_token::expired_at, jwt_token::internal_expired_at))
        .first(conn)
        .optional()?;
    Ok(match found {
        None => TokenStatus::Unknown,
        Some((expired_at, internal)) if expired_at < internal => TokenStatus::ForceExpired,
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

/// Tokens that are expired at `now`: force-expired, or past their own expiry.
pub fn expired(conn: &mut DbConnection, now: Moment) -> Result<Vec<StoredToken>, DbError> {
    Ok(jwt_token::table
        .filter(
            jwt_token::expired_at
                .lt(jwt_token::internal_expired_at)
                .or(jwt_token::internal_expired_at.le(now)),
        )
        .select(StoredToken::as_select())
        .load(conn)?)
}

/// Tokens that are active at `now`: neither force-expired nor past their
/// own expiry.
pub fn active(conn: &mut DbConnection, now: Moment) -> Result<Vec<StoredToken>, DbError> {
    Ok(jwt_token::table
        .filter(jwt_token::expired_at.ge(jwt_token::internal_expired_at))
        .filter(jwt_token::internal_expired_at.gt(now))
        .select(StoredToken::as_select())
        .load(conn)?)
}

/// The `jti` of every force-expired token not yet past its own expiry:
/// what must be refused although its signature is good.
pub fn revoked(conn: &mut DbConnection, now: Moment) -> Result<Vec<String>, DbError> {
    Ok(jwt_token::table
        .filter(jwt_token::expired_at.lt(jwt_token::internal_expired_at))
        .filter(jwt_token::internal_expired_at.gt(now))
        .select(jwt_token::jti)
        .load(conn)?)
}

/// The row ids of every active token of a user (for "log out everywhere").
pub fn active_ids_of_user(
    conn: &mut DbConnection,
    user_id: &str,
    now: Moment,
) -> Result<Vec<RowId>, DbError> {
    Ok(jwt_token::table
        .inner_join(jwt_token_user_connection::table)
        .filter(jwt_token_user_connection::user_id.eq(user_id))
        .filter(jwt_token::expired_at.ge(jwt_token::internal_expired_at))
        .filter(jwt_token::internal_expired_at.gt(now))
        .select(jwt_token::id)
        .load(conn)?)
}
