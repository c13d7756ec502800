//! Spending a refresh token: single use with rotation (reuse detection), one
//! retry within a grace window, and a cap on how long rotation keeps a
//! login alive.

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

use crate::db::{DbConnection, DbError};
use crate::raw_sql::{down_cte, placeholders};
use crate::record::{Pair, TokenRecord};
use crate::schema::jwt_token;
use crate::token_manager;
use crate::types::{Moment, RowId, sql};

/// How refresh tokens may be spent (jwt-actix fills it from `[auth]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// Each refresh token works once: a second use is a replay, and a
    /// replay force-expires the token's whole login tree.
    pub single_use: bool,
    /// The latest rotated-out refresh token may be used once more within
    /// this long after its first use (a client that lost the answer).
    /// Zero: never.
    pub grace: Duration,
    /// How long rotation may keep one login alive, from the login (the
    /// tree's root). `None`: no cap.
    pub max_lifetime: Option<Duration>,
}

/// What spending a refresh token came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spent {
    /// Go ahead: its first use (or single use is off).
    Fresh,
    /// The one retry of the latest rotated-out token within the grace
    /// window: go ahead; the branch its first use had grown is expired.
    Retried {
        /// The `jti`s expired now.
        expired: Vec<String>,
    },
    /// Used before: refuse; its whole login tree is force-expired.
    Replayed {
        /// The `jti`s expired now.
        expired: Vec<String>,
    },
    /// The login is older than the policy's `max_lifetime`: refuse.
    TooOld,
}

fn elapsed(since: Moment, now: Moment) -> Duration {
    (now.0 - since.0).to_std().unwrap_or_default()
}

#[derive(QueryableByName)]
struct Earliest {
    #[diesel(sql_type = Nullable<sql::Moment>)]
    at: Option<Moment>,
}

/// When the login holding row `id` began: the registration of its oldest
/// ancestor (one recursive statement).
fn login_time(conn: &mut DbConnection, id: RowId) -> Result<Option<Moment>, DbError> {
    let sql = format!(
        "WITH RECURSIVE up(id, parent_id, created_at) AS ( \
             SELECT id, parent_id, created_at FROM jwt_token WHERE id = {id} \
             UNION \
             SELECT t.id, t.parent_id, t.created_at FROM jwt_token t JOIN up ON t.id = up.parent_id \
         ) SELECT MIN(created_at) AS at FROM up",
        id = placeholders(conn, 1, 1),
    );
    let row: Earliest = diesel::sql_query(sql)
        .bind::<sql::Id, _>(id)
        .get_result(conn)?;
    Ok(row.at)
}

/// Force-expires what the refresh tokens derived from row `id` have grown
/// (the branch of a lost answer), and returns their `jti`s. Access tokens
/// derived from `id` itself stay.
fn expire_branch(
    conn: &mut DbConnection,
    id: RowId,
    token_type: &str,
    now: Moment,
) -> Result<Vec<String>, DbError> {
    let seed = format!(
        "SELECT id FROM jwt_token WHERE parent_id = {} AND token_type = {}",
        placeholders(conn, 1, 1),
        placeholders(conn, 2, 1),
    );
    let token_type = token_type.to_owned();
    token_manager::expire_where(
        conn,
        &down_cte(&seed),
        2,
        |query| query.bind::<sql::Id, _>(id).bind::<Text, _>(token_type),
        &[],
        now,
    )
}

/// Spends the refresh token `record` under `policy`, in the caller's write
/// transaction. A token the registry has not seen is registered first.
pub(crate) fn spend(
    conn: &mut DbConnection,
    record: &TokenRecord,
    policy: RefreshPolicy,
    now: Moment,
) -> Result<Spent, DbError> {
    let found: Option<RowId> = jwt_token::table
        .filter(jwt_token::jti.eq(&record.jti))
        .select(jwt_token::id)
        .first(conn)
        .optional()?;
    let id = match found {
        Some(id) => id,
        None => {
            let pair = Pair {
                token: record.clone(),
                parent: None,
            };
            let registration = token_manager::register(conn, &[pair], now)?;
            registration.ids()[0]
        }
    };
    if let Some(max) = policy.max_lifetime
        && login_time(conn, id)?.is_some_and(|login| elapsed(login, now) >= max)
    {
        return Ok(Spent::TooOld);
    }
    if !policy.single_use {
        return Ok(Spent::Fresh);
    }
    // The one conditional update: of concurrent uses, exactly one claims it.
    let claimed = diesel::update(
        jwt_token::table
            .filter(jwt_token::id.eq(id))
            .filter(jwt_token::consumed_at.is_null()),
    )
    .set((
        jwt_token::consumed_at.eq(Some(now)),
        jwt_token::updated_at.eq(now),
    ))
    .execute(conn)?;
    if claimed == 1 {
        return Ok(Spent::Fresh);
    }
    let (consumed_at, grace_used_at): (Option<Moment>, Option<Moment>) = jwt_token::table
        .filter(jwt_token::id.eq(id))
        .select((jwt_token::consumed_at, jwt_token::grace_used_at))
        .first(conn)?;
    let within_grace = !policy.grace.is_zero()
        && grace_used_at.is_none()
        && consumed_at.is_some_and(|at| elapsed(at, now) <= policy.grace);
    // Only the latest rotated-out token: its successor is still unused.
    let latest = within_grace && {
        let unused_successors: i64 = jwt_token::table
            .filter(jwt_token::parent_id.eq(id))
            .filter(jwt_token::token_type.eq(&record.token_type))
            .filter(jwt_token::consumed_at.is_null())
            .count()
            .get_result(conn)?;
        unused_successors > 0
    };
    if latest {
        let took = diesel::update(
            jwt_token::table
                .filter(jwt_token::id.eq(id))
                .filter(jwt_token::grace_used_at.is_null()),
        )
        .set(jwt_token::grace_used_at.eq(Some(now)))
        .execute(conn)?;
        if took == 1 {
            let expired = expire_branch(conn, id, &record.token_type, now)?;
            return Ok(Spent::Retried { expired });
        }
    }
    let expired = token_manager::expire_rows(conn, &[id], true, &[], now)?;
    Ok(Spent::Replayed { expired })
}
