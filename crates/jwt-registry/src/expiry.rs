//! Force-expiry: the one place it is written, and how the other processes
//! hear of it.
//!
//! A token is *force-expired* when `expired_at < internal_expired_at`, and
//! still *accepted* by verification until `exp + leeway`. Force-expiring
//! writes `expired_at = min(now, internal_expired_at - 1 µs)`, so a token
//! already past its `exp` but inside the leeway can be cut off too; and it
//! touches only tokens that are neither force-expired already nor past
//! `exp + leeway`.

use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::sql_types::{BigInt, Text};

use crate::db::{DbConnection, DbError};
use crate::predicates::accepted_sql;
use crate::raw_sql::{Statement, down_cte};
use crate::types::{Moment, RowId, sql};

mod announce;
mod lock;

#[cfg(feature = "postgres")]
pub(crate) use announce::{CHANNEL, parse_payload};
pub(crate) use announce::{Change, LogRow, announce, announce_user_changes};
use lock::lock_scope;
pub(crate) use lock::{lock, login_key, login_key_sql};

/// Live access tokens one login may hold unless the settings say otherwise.
pub const DEFAULT_ACCESS_CAP: usize = 1_000;

/// What the registry's rules depend on, fixed when it is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rules {
    /// Verification's leeway: a token is accepted until `exp + leeway`.
    pub leeway: Duration,
    /// Live access tokens per login, past which the oldest are
    /// force-expired; 0: no cap.
    pub access_cap: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            leeway: Duration::ZERO,
            access_cap: DEFAULT_ACCESS_CAP,
        }
    }
}

impl Rules {
    /// Tokens whose `exp` is after this are still accepted at `now`.
    pub fn horizon(&self, now: Moment) -> Moment {
        now.minus(self.leeway)
    }
}

/// A force-expiry, as the revocation lists need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Revoked {
    /// The token.
    pub jti: String,
    /// Until when verification would accept it (`exp + leeway`): after
    /// that, nobody needs to remember it.
    pub until: Moment,
}

/// A "log out everywhere": the user's tokens issued (`iat`) at or before
/// `issued_until` are refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CutOff {
    pub user_id: String,
    pub issued_until: i64,
}

/// Which tokens an expiry starts from. Only tokens still accepted and not
/// force-expired are ever touched.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scope<'a> {
    /// The rows with these `jti`s.
    Jtis(&'a [&'a str]),
    /// The whole logins (families) of the rows with these `jti`s.
    FamiliesOfJtis(&'a [&'a str]),
    /// Whole logins, by their root's id.
    Families(&'a [RowId]),
    /// A user's tokens, but those of the login `except` (by root id).
    User {
        user_id: &'a str,
        except: Option<RowId>,
    },
    /// What the tokens of `token_type` derived from row `id` have grown,
    /// those tokens included (the branch of a lost answer).
    Below { id: RowId, token_type: &'a str },
    /// A login's live access tokens but the `keep` that expire last.
    AccessBeyond { root: RowId, keep: usize },
}

/// Tokens an expiry must spare.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Spare<'a> {
    /// These tokens, and everything derived from them.
    pub with_descendants: &'a [&'a str],
    /// These tokens only.
    pub only: &'a [&'a str],
}

#[derive(diesel::QueryableByName)]
struct ExpiredRow {
    #[diesel(sql_type = Text)]
    jti: String,
    #[diesel(sql_type = sql::Moment)]
    internal_expired_at: Moment,
}

/// Force-expires the tokens of `scope` but `spare` — at most `limit` of
/// them when given — and tells the other processes. Returns what it
/// expired. One statement (and the announcement); on PostgreSQL the
/// logins it touches are locked first ([`lock`]).
pub(crate) fn expire(
    conn: &mut DbConnection,
    scope: Scope<'_>,
    spare: Spare<'_>,
    limit: Option<usize>,
    rules: &Rules,
    now: Moment,
) -> Result<Vec<Revoked>, DbError> {
    let locked = lock_scope(conn, scope, rules, now)?;
    if locked.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let mut sql = Statement::new(conn);
    let now_ph = sql.bind(now);
    let accepted = accepted_sql("jwt_token", &sql.bind(rules.horizon(now)));
    let mut ctes: Vec<String> = Vec::new();
    let target = match scope {
        Scope::Jtis([]) | Scope::FamiliesOfJtis([]) | Scope::Families([]) => {
            return Ok(Vec::new());
        }
        Scope::Jtis(jtis) => format!("jti IN ({})", sql.bind_all(jtis.iter().copied())),
        Scope::FamiliesOfJtis(jtis) => format!(
            "root_id IN (SELECT root_id FROM jwt_token WHERE jti IN ({}))",
            sql.bind_all(jtis.iter().copied())
        ),
        Scope::Families(roots) => format!("root_id IN ({})", sql.bind_all(roots.iter().copied())),
        Scope::User { user_id, except } => {
            let mut target = format!("user_id = {}", sql.bind(user_id));
            if let Some(root) = except {
                target.push_str(&format!(" AND root_id <> {}", sql.bind(root)));
            }
            if let Some(roots) = &locked {
                let roots = sql.bind_all(roots.iter().copied());
                target.push_str(&format!(" AND root_id IN ({roots})"));
            }
            target
        }
        Scope::Below { id, token_type } => {
            let seed = format!(
                "SELECT id FROM jwt_token WHERE parent_id = {} AND token_type = {}",
                sql.bind(id),
                sql.bind(token_type)
            );
            ctes.push(down_cte("below", &seed));
            "id IN (SELECT id FROM below)".to_owned()
        }
        Scope::AccessBeyond { root, keep } => {
            let keep = i64::try_from(keep).unwrap_or(i64::MAX);
            let offset = if sql.is_postgres() {
                format!("OFFSET {}", sql.bind(keep))
            } else {
                format!("LIMIT -1 OFFSET {}", sql.bind(keep))
            };
            format!(
                "id IN (SELECT id FROM jwt_token WHERE root_id = {} AND token_type = 'access' \
                   AND {accepted} \
                 ORDER BY internal_expired_at DESC, created_at DESC {offset})",
                sql.bind(root)
            )
        }
    };
    let mut spared = String::new();
    if !spare.with_descendants.is_empty() {
        let seed = format!(
            "SELECT id FROM jwt_token WHERE jti IN ({})",
            sql.bind_all(spare.with_descendants.iter().copied())
        );
        ctes.push(down_cte("spared", &seed));
        spared.push_str(" AND id NOT IN (SELECT id FROM spared)");
    }
    if !spare.only.is_empty() {
        spared.push_str(&format!(
            " AND jti NOT IN ({})",
            sql.bind_all(spare.only.iter().copied())
        ));
    }
    let limit = match limit {
        Some(n) => format!(" LIMIT {}", sql.bind(i64::try_from(n).unwrap_or(i64::MAX))),
        None => String::new(),
    };
    let just_before = sql.just_before("internal_expired_at");
    if !ctes.is_empty() {
        sql.push("WITH RECURSIVE ").push(&ctes.join(", ")).push(" ");
    }
    sql.push(&format!(
        "UPDATE jwt_token \
         SET expired_at = CASE WHEN internal_expired_at > {now_ph} THEN {now_ph} ELSE {just_before} END, \
             updated_at = {now_ph} \
         WHERE id IN (SELECT id FROM jwt_token WHERE {target}{spared} \
             AND {accepted}{limit}) \
         RETURNING jti, internal_expired_at"
    ));
    let rows: Vec<ExpiredRow> = sql.query().load(conn)?;
    let revoked: Vec<Revoked> = rows
        .into_iter()
        .map(|row| Revoked {
            jti: row.jti,
            until: row.internal_expired_at.plus(rules.leeway),
        })
        .collect();
    announce(conn, &revoked, &[], now)?;
    Ok(revoked)
}

/// Marks these logins (by root) as cut off whole, so that a registration
/// landing later that links one of them into a bigger login cuts that one
/// too (a token logged out before its registration landed).
pub(crate) fn mark_cut(
    conn: &mut DbConnection,
    roots: &[RowId],
    now: Moment,
) -> Result<(), DbError> {
    if roots.is_empty() {
        return Ok(());
    }
    let mut sql = Statement::new(conn);
    let now = sql.bind(now);
    let roots = sql.bind_all(roots.iter().copied());
    sql.push(&format!(
        "UPDATE jwt_token SET login_cut_at = {now} WHERE id IN ({roots}) AND login_cut_at IS NULL"
    ));
    sql.query().execute(conn)?;
    Ok(())
}

/// Force-expires whole logins, by their roots' ids: [`expire`] with
/// [`Scope::Families`], sparing nothing.
pub(crate) fn expire_logins(
    conn: &mut DbConnection,
    roots: &[RowId],
    rules: &Rules,
    now: Moment,
) -> Result<Vec<Revoked>, DbError> {
    expire(
        conn,
        Scope::Families(roots),
        Spare::default(),
        None,
        rules,
        now,
    )
}

/// The value `expired_at` takes when a token expiring at `internal` is
/// force-expired (or registered force-expired) at `now`.
pub(crate) fn force_expired_at(now: Moment, internal: Moment) -> Moment {
    now.min(internal.just_before())
}

/// Sets a user's cut-off to `issued_until` (never moving it back), and
/// tells the other processes. Returns the cut-off now in force.
pub(crate) fn cut_off(
    conn: &mut DbConnection,
    user_id: &str,
    issued_until: i64,
    now: Moment,
) -> Result<i64, DbError> {
    let mut sql = Statement::new(conn);
    let larger = if sql.is_postgres() { "GREATEST" } else { "MAX" };
    let values = sql.bind_all([
        crate::raw_sql::Bind::from(user_id),
        issued_until.into(),
        now.into(),
        now.into(),
    ]);
    sql.push(&format!(
        "INSERT INTO jwt_user_cutoff (user_id, issued_until, created_at, updated_at) \
         VALUES ({values}) \
         ON CONFLICT (user_id) DO UPDATE SET \
             issued_until = {larger}(jwt_user_cutoff.issued_until, excluded.issued_until), \
             updated_at = excluded.updated_at \
         RETURNING issued_until"
    ));
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        issued_until: i64,
    }
    let row: Row = sql.query().get_result(conn)?;
    let cut = CutOff {
        user_id: user_id.to_owned(),
        issued_until: row.issued_until,
    };
    announce(conn, &[], std::slice::from_ref(&cut), now)?;
    Ok(row.issued_until)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_past_its_exp_is_force_expired_just_before_it() {
        let exp = Moment::from_unix_seconds(1_800_000_000);
        let later = Moment::from_unix_seconds(1_800_000_010);
        let earlier = Moment::from_unix_seconds(1_799_999_990);
        assert_eq!(force_expired_at(earlier, exp), earlier);
        assert_eq!(force_expired_at(later, exp), exp.just_before());
        assert!(
            force_expired_at(later, exp) < exp,
            "force-expired: below exp"
        );
    }
}
