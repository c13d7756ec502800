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
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::db::{DbConnection, DbError};
use crate::raw_sql::{Statement, down_cte};
use crate::types::{Moment, RowId, sql};

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
    let horizon = sql.bind(rules.horizon(now));
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
                   AND expired_at >= internal_expired_at AND internal_expired_at > {horizon} \
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
             AND expired_at >= internal_expired_at AND internal_expired_at > {horizon}{limit}) \
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

/// The advisory-lock key of a login (PostgreSQL), from its root's id.
pub(crate) fn login_key(root: RowId) -> i64 {
    let id = root.0.as_u128();
    // Both halves folded: uuids differ in their random bits, not their order.
    i64::from_ne_bytes(((id >> 64) as u64 ^ id as u64).to_ne_bytes())
}

/// On PostgreSQL, takes the transaction's advisory locks on `keys`
/// (logins), in ascending order. A registration into a login and a
/// force-expiry of it take the same lock before they look, so one runs
/// after the other and sees what it wrote: a token is never born alive
/// into a login cut off meanwhile. Take it in its own statement: the next
/// one reads what committed while it waited. Nothing on SQLite, whose
/// writers are serialised anyway.
pub(crate) fn lock(conn: &mut DbConnection, keys: &[i64]) -> Result<(), DbError> {
    if !matches!(conn, DbConnection::Pg(_)) || keys.is_empty() {
        return Ok(());
    }
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    let mut sql = Statement::new(conn);
    let calls: Vec<String> = keys
        .iter()
        .map(|key| format!("pg_advisory_xact_lock({})", sql.bind(*key)))
        .collect();
    sql.push(&format!("SELECT {}", calls.join(", ")));
    sql.query().execute(conn)?;
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct RootRow {
    #[diesel(sql_type = sql::Id)]
    root: RowId,
}

/// Logins one force-expiry of a user's tokens locks at most (PostgreSQL):
/// the lock table is shared and bounded.
const USER_LOGINS_AT_ONCE: i64 = 100;

/// Locks (PostgreSQL) the logins `scope` reaches. For a user's tokens,
/// returns the logins locked (at most [`USER_LOGINS_AT_ONCE`] that still
/// hold live tokens), to which the expiry keeps.
fn lock_scope(
    conn: &mut DbConnection,
    scope: Scope<'_>,
    rules: &Rules,
    now: Moment,
) -> Result<Option<Vec<RowId>>, DbError> {
    if !matches!(conn, DbConnection::Pg(_)) {
        return Ok(None);
    }
    let keys: Vec<i64> = match scope {
        Scope::Families(roots) => roots.iter().copied().map(login_key).collect(),
        Scope::AccessBeyond { root, .. } => vec![login_key(root)],
        Scope::User { user_id, except } => {
            let mut sql = Statement::new(conn);
            let user = sql.bind(user_id);
            let horizon = sql.bind(rules.horizon(now));
            let except = match except {
                Some(root) => format!(" AND root_id <> {}", sql.bind(root)),
                None => String::new(),
            };
            let at_once = sql.bind(USER_LOGINS_AT_ONCE);
            sql.push(&format!(
                "SELECT DISTINCT root_id AS root FROM jwt_token WHERE user_id = {user} \
                   AND expired_at >= internal_expired_at AND internal_expired_at > {horizon}\
                   {except} AND root_id IS NOT NULL LIMIT {at_once}"
            ));
            let roots: Vec<RowId> = sql
                .query()
                .load::<RootRow>(conn)?
                .into_iter()
                .map(|row| row.root)
                .collect();
            let keys: Vec<i64> = roots.iter().copied().map(login_key).collect();
            lock(conn, &keys)?;
            return Ok(Some(roots));
        }
        Scope::Jtis(jtis) | Scope::FamiliesOfJtis(jtis) => {
            let mut sql = Statement::new(conn);
            let named = sql.bind_all(jtis.iter().copied());
            sql.push(&format!(
                "SELECT DISTINCT COALESCE(root_id, id) AS root FROM jwt_token WHERE jti IN ({named})"
            ));
            let rows: Vec<RootRow> = sql.query().load(conn)?;
            rows.into_iter().map(|row| login_key(row.root)).collect()
        }
        Scope::Below { id, .. } => {
            let mut sql = Statement::new(conn);
            let id = sql.bind(id);
            sql.push(&format!(
                "SELECT COALESCE(root_id, id) AS root FROM jwt_token WHERE id = {id}"
            ));
            let rows: Vec<RootRow> = sql.query().load(conn)?;
            rows.into_iter().map(|row| login_key(row.root)).collect()
        }
    };
    lock(conn, &keys)?;
    Ok(None)
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

/// The `NOTIFY` channel expiries are announced on (PostgreSQL).
pub(crate) const CHANNEL: &str = "jwt_token_revoked";

/// Largest payload sent in one notification (PostgreSQL's limit is 8000
/// bytes).
const PAYLOAD_BYTES: usize = 7_000;

/// Rows per statement when the SQLite log is written.
const LOG_CHUNK: usize = 500;

/// Tells the other processes of force-expiries and cut-offs, in the
/// writing transaction: on PostgreSQL in `NOTIFY` payloads (delivered at
/// commit), on SQLite as rows of `jwt_revocation_log` (read by each
/// process's list when the database changed). Either way a list learns
/// what changed, never reloads.
pub(crate) fn announce(
    conn: &mut DbConnection,
    tokens: &[Revoked],
    users: &[CutOff],
    now: Moment,
) -> Result<(), DbError> {
    if tokens.is_empty() && users.is_empty() {
        return Ok(());
    }
    if let DbConnection::Pg(_) = conn {
        for payload in payloads(tokens, users) {
            diesel::sql_query("SELECT pg_notify($1, $2)")
                .into_boxed::<crate::db::MultiBackend>()
                .bind::<Text, _>(CHANNEL)
                .bind::<Text, _>(payload)
                .execute(conn)?;
        }
        return Ok(());
    }
    // A cut-off never lapses by itself: its log row lives as long as a
    // refresh token may (the archiver keeps the newest row anyway).
    let user_until = now.plus(Duration::from_secs(366 * 24 * 3600));
    let mut rows: Vec<LogEntry<'_>> = tokens.iter().map(LogEntry::Token).collect();
    rows.extend(users.iter().map(LogEntry::User));
    for chunk in rows.chunks(LOG_CHUNK) {
        let mut sql = Statement::new(conn);
        let mut values = Vec::with_capacity(chunk.len());
        for entry in chunk {
            values.push(match entry {
                LogEntry::Token(token) => format!(
                    "({}, NULL, NULL, {})",
                    sql.bind(token.jti.as_str()),
                    sql.bind(token.until)
                ),
                LogEntry::User(cut) => format!(
                    "(NULL, {}, {}, {})",
                    sql.bind(cut.user_id.as_str()),
                    sql.bind(cut.issued_until),
                    sql.bind(user_until)
                ),
            });
        }
        sql.push(&format!(
            "INSERT INTO jwt_revocation_log (jti, user_id, issued_until, until) VALUES {}",
            values.join(", ")
        ));
        sql.query().execute(conn)?;
    }
    Ok(())
}

/// A row of the SQLite revocation log.
enum LogEntry<'a> {
    Token(&'a Revoked),
    User(&'a CutOff),
}

/// One change of a revocation list, as carried between processes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    Token(Revoked),
    User(CutOff),
    /// Too big to carry: reload.
    Reload,
}

/// The payloads of the notifications announcing `tokens` and `users`: JSON
/// arrays of `["t", jti, until_micros]` and `["u", user_id, issued_until]`,
/// each under [`PAYLOAD_BYTES`].
pub(crate) fn payloads(tokens: &[Revoked], users: &[CutOff]) -> Vec<String> {
    let entries = tokens
        .iter()
        .map(|token| serde_json::json!(["t", token.jti, token.until.0.timestamp_micros()]))
        .chain(
            users
                .iter()
                .map(|cut| serde_json::json!(["u", cut.user_id, cut.issued_until])),
        );
    let mut payloads = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut size = 2;
    for entry in entries {
        let text = entry.to_string();
        if text.len() + 2 > PAYLOAD_BYTES {
            payloads.push("\"reload\"".to_owned());
            continue;
        }
        if size + text.len() + 1 > PAYLOAD_BYTES {
            payloads.push(format!("[{}]", current.join(",")));
            current.clear();
            size = 2;
        }
        size += text.len() + 1;
        current.push(text);
    }
    if !current.is_empty() {
        payloads.push(format!("[{}]", current.join(",")));
    }
    payloads
}

/// The changes a notification payload carries; a payload it cannot read
/// asks for a reload.
pub(crate) fn parse_payload(payload: &str) -> Vec<Change> {
    let Ok(serde_json::Value::Array(entries)) = serde_json::from_str(payload) else {
        return vec![Change::Reload];
    };
    entries
        .iter()
        .map(|entry| {
            let parsed = match entry.as_array().map(Vec::as_slice) {
                Some([kind, id, n]) => match (kind.as_str(), id.as_str(), n.as_i64()) {
                    (Some("t"), Some(jti), Some(micros)) => {
                        chrono::DateTime::from_timestamp_micros(micros).map(|until| {
                            Change::Token(Revoked {
                                jti: jti.to_owned(),
                                until: Moment(until),
                            })
                        })
                    }
                    (Some("u"), Some(user), Some(issued_until)) => Some(Change::User(CutOff {
                        user_id: user.to_owned(),
                        issued_until,
                    })),
                    _ => None,
                },
                _ => None,
            };
            parsed.unwrap_or(Change::Reload)
        })
        .collect()
}

#[derive(diesel::QueryableByName)]
pub(crate) struct LogRow {
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub jti: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub user_id: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub issued_until: Option<i64>,
    #[diesel(sql_type = sql::Moment)]
    pub until: Moment,
}

impl LogRow {
    pub fn change(self) -> Change {
        match (self.jti, self.user_id, self.issued_until) {
            (Some(jti), _, _) => Change::Token(Revoked {
                jti,
                until: self.until,
            }),
            (None, Some(user_id), Some(issued_until)) => Change::User(CutOff {
                user_id,
                issued_until,
            }),
            _ => Change::Reload,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_stay_under_the_limit_and_read_back() {
        let tokens: Vec<Revoked> = (0..1_000)
            .map(|n| Revoked {
                jti: format!("{n:032x}"),
                until: Moment::from_unix_seconds(1_800_000_000 + n),
            })
            .collect();
        let users = vec![CutOff {
            user_id: "user \"quoted\" ü".into(),
            issued_until: 1_799_999_999,
        }];
        let payloads = payloads(&tokens, &users);
        assert!(payloads.len() > 1, "1 000 tokens need several payloads");
        assert!(payloads.iter().all(|p| p.len() < 8_000));
        let changes: Vec<Change> = payloads.iter().flat_map(|p| parse_payload(p)).collect();
        assert_eq!(changes.len(), 1_001);
        assert_eq!(changes[7], Change::Token(tokens[7].clone()));
        assert_eq!(changes[1_000], Change::User(users[0].clone()));
    }

    #[test]
    fn what_cannot_be_carried_or_read_asks_for_a_reload() {
        let huge = CutOff {
            user_id: "x".repeat(PAYLOAD_BYTES),
            issued_until: 1,
        };
        assert_eq!(payloads(&[], &[huge]), ["\"reload\""]);
        assert_eq!(parse_payload("\"reload\""), [Change::Reload]);
        assert_eq!(parse_payload("garbage"), [Change::Reload]);
        assert_eq!(parse_payload("[[\"t\", 1, 2]]"), [Change::Reload]);
    }

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
