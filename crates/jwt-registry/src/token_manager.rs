//! Registering tokens and looking them up. Every function takes the
//! connection of the caller's transaction; force-expiry is written in one
//! place of its own (the crate's `expiry` module).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};

use crate::db::{DbConnection, DbError};
use crate::expiry::{self, Revoked, Rules, Scope, Spare};
use crate::models::{NewToken, StoredToken};
use crate::predicates::{force_expired, force_expired_sql};
use crate::raw_sql::Statement;
use crate::record::TokenRecord;
use crate::schema::jwt_token;
use crate::types::{Moment, RowId};

mod logins;
#[cfg(any(test, feature = "testing"))]
mod lookups;
mod registration;
mod stored;

#[cfg(any(test, feature = "testing"))]
pub use lookups::{active, collect_tree, expired, find_by_user};

pub use registration::Registration;
pub(crate) use registration::{connect_user, register};

/// Rows per `INSERT`: 12 columns each stays under SQLite's 32 766 binds.
pub(crate) const INSERT_CHUNK: usize = 1_000;

/// `INSERT INTO $table VALUES $values ON CONFLICT ($target) DO NOTHING`,
/// executed: how many rows were new.
macro_rules! insert_values {
    ($conn:expr, $table:expr, $target:expr, $values:expr) => {
        crate::on_backend!($conn, c => diesel::insert_into($table)
            .values($values)
            .on_conflict($target)
            .do_nothing()
            .execute(c))
    };
}
pub(crate) use insert_values;

/// Inserts `$rows` (a slice) into `$table`, doing nothing on a conflict
/// over `$target`: how many rows were new (`?` inside). One statement for
/// up to three rows (a login's or a refresh's) through a fixed-size array,
/// which Diesel keeps prepared per connection (a statement of a `Vec`'s
/// rows is prepared anew each time); chunks of [`INSERT_CHUNK`] beyond.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $target:expr, $rows:expr) => {{
        let rows = $rows;
        let mut inserted = 0;
        if let Ok(one) = <&[_; 1]>::try_from(rows) {
            inserted += insert_values!($conn, $table, $target, one)?;
        } else if let Ok(two) = <&[_; 2]>::try_from(rows) {
            inserted += insert_values!($conn, $table, $target, two)?;
        } else if let Ok(three) = <&[_; 3]>::try_from(rows) {
            inserted += insert_values!($conn, $table, $target, three)?;
        } else {
            for chunk in rows.chunks(crate::token_manager::INSERT_CHUNK) {
                inserted += insert_values!($conn, $table, $target, chunk)?;
            }
        }
        inserted
    }};
}
pub(crate) use insert_rows;

/// The registry's word on a presented token (compare [`TokenState`],
/// the state of a stored row as the admin API lists it).
///
/// [`TokenState`]: crate::TokenState
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
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

/// What a [`Verdict`] must tell apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Only whether the token is refused: with `revocation = "cached"` the
    /// in-memory list answers, and a token not on it counts as registered.
    Refusal,
    /// Also whether the registry has the token (`require_registered`,
    /// `expire/`): the database answers.
    Registration,
}

/// How far a force-expiry reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// The named tokens only.
    Token,
    /// Their whole login trees (`affect_tree`).
    Tree,
}

/// Force-expires `tokens` — with [`Reach::Tree`], their whole logins — but
/// `spare`, and returns what it expired. A token the registry never saw
/// gets a row, force-expired, so that a registration landing later cannot
/// make it valid.
pub(crate) fn expire_records(
    conn: &mut DbConnection,
    tokens: &[TokenRecord],
    reach: Reach,
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
            let dead = expiry::force_expired_at(now, record.expires_at);
            NewToken::of(record, id, None, id, dead, now)
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
    let scope = if reach == Reach::Tree {
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
) -> Result<Verdict, DbError> {
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
        "SELECT (SELECT CASE WHEN {forced} THEN CAST(1 AS BIGINT) \
                 ELSE CAST(0 AS BIGINT) END FROM jwt_token WHERE jti = {jti}) AS forced, \
                {cutoff} AS cutoff",
        forced = force_expired_sql("jwt_token")
    ));
    let row: StatusRow = sql.query().get_result(conn)?;
    if row
        .cutoff
        .is_some_and(|cut| issued_at.is_none_or(|iat| iat <= cut))
    {
        return Ok(Verdict::CutOff);
    }
    Ok(match row.forced {
        None => Verdict::Unknown,
        Some(1) => Verdict::ForceExpired,
        Some(_) => Verdict::Registered,
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

/// Every force-expired token verification would still accept at `horizon`
/// (now − leeway), with its `exp`: what must be refused although its
/// signature is good.
pub(crate) fn revoked(
    conn: &mut DbConnection,
    horizon: Moment,
) -> Result<Vec<(String, Moment)>, DbError> {
    Ok(jwt_token::table
        .filter(force_expired())
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
