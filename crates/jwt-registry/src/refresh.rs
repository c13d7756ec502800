//! Spending a refresh token: single use with rotation (reuse detection), one
//! retry within a grace window, and a cap on how long rotation keeps a
//! login alive.

use std::time::Duration;

use diesel::prelude::*;

use crate::db::{DbConnection, DbError};
use crate::expiry::{self, Revoked, Rules, Scope, Spare};
use crate::record::{Pair, TokenRecord};
use crate::schema::jwt_token;
use crate::token_manager;
use crate::types::{Moment, RowId};

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

impl RefreshPolicy {
    /// The policy, or `None` when it checks nothing: then `refresh/` need
    /// not spend anything in the registry.
    pub fn checking(self) -> Option<RefreshPolicy> {
        (self.single_use || self.max_lifetime.is_some()).then_some(self)
    }
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

/// When the login of the family `root` began: the registration of its
/// oldest token still kept (the root, unless archived). One statement.
fn login_time(conn: &mut DbConnection, root: RowId) -> Result<Option<Moment>, DbError> {
    Ok(jwt_token::table
        .filter(jwt_token::root_id.eq(root))
        .select(diesel::dsl::min(jwt_token::created_at))
        .get_result(conn)?)
}

fn jtis(revoked: &[Revoked]) -> Vec<String> {
    revoked.iter().map(|r| r.jti.clone()).collect()
}

/// Spends the refresh token `record` of `user` under `policy`, in the
/// caller's write transaction, and returns the outcome with what it
/// force-expired. A token the registry has not seen is registered first (a
/// root of its own until its registration lands and links it to its
/// parent).
pub(crate) fn spend(
    conn: &mut DbConnection,
    record: &TokenRecord,
    user: Option<&str>,
    policy: RefreshPolicy,
    rules: &Rules,
    now: Moment,
) -> Result<(Spent, Vec<Revoked>), DbError> {
    let found: Option<(RowId, Option<RowId>)> = jwt_token::table
        .filter(jwt_token::jti.eq(&record.jti))
        .select((jwt_token::id, jwt_token::root_id))
        .first(conn)
        .optional()?;
    let (id, root) = match found {
        Some((id, root)) => (id, root.unwrap_or(id)),
        None => {
            let pair = Pair {
                token: record.clone(),
                parent: None,
            };
            let registration = token_manager::register(conn, &[pair], user, rules, now)?;
            if let Some(user) = user {
                let ids = registration.ids();
                token_manager::connect_user(conn, user, &ids, &[], now)?;
            }
            let id = registration.ids()[0];
            (id, id)
        }
    };
    if let Some(max) = policy.max_lifetime
        && login_time(conn, root)?.is_some_and(|login| elapsed(login, now) >= max)
    {
        return Ok((Spent::TooOld, Vec::new()));
    }
    if !policy.single_use {
        return Ok((Spent::Fresh, Vec::new()));
    }
    // The login's lock before any of its rows is written, the order every
    // writer into a login keeps (registration, expiry): concurrent uses of
    // one token wait for each other rather than deadlock.
    expiry::lock(conn, &[expiry::login_key(root)])?;
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
        return Ok((Spent::Fresh, Vec::new()));
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
            // What the refresh tokens derived from it have grown (the
            // branch of a lost answer); its own access tokens stay.
            let expired = expiry::expire(
                conn,
                Scope::Below {
                    id,
                    token_type: &record.token_type,
                },
                Spare::default(),
                None,
                rules,
                now,
            )?;
            return Ok((
                Spent::Retried {
                    expired: jtis(&expired),
                },
                expired,
            ));
        }
    }
    // A replay cuts the whole login, also the part of it whose registration
    // has not landed yet.
    expiry::mark_cut(conn, &[root], now)?;
    let expired = expiry::expire_logins(conn, &[root], rules, now)?;
    Ok((
        Spent::Replayed {
            expired: jtis(&expired),
        },
        expired,
    ))
}
