//! Telling the other processes of force-expiries and cut-offs, and
//! reading what they were told: `NOTIFY` payloads on PostgreSQL, the
//! `jwt_revocation_log` table on SQLite.

use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::{CutOff, Revoked};
use crate::db::{DbConnection, DbError};
use crate::raw_sql::Statement;
use crate::types::{Moment, sql};

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
    publish(conn, &entries(tokens, users), now)
}

/// Tells every process's registry that these users changed, in the
/// transaction that changed them, the same way. Their user caches forget
/// them.
pub(crate) fn announce_user_changes(
    conn: &mut DbConnection,
    user_ids: &[&str],
    now: Moment,
) -> Result<(), DbError> {
    let entries: Vec<LogEntry<'_>> = user_ids.iter().map(|id| LogEntry::Changed(id)).collect();
    publish(conn, &entries, now)
}

/// Writes `entries` where the other processes read them.
fn publish(conn: &mut DbConnection, entries: &[LogEntry<'_>], now: Moment) -> Result<(), DbError> {
    if entries.is_empty() {
        return Ok(());
    }
    if conn.is_postgres() {
        for payload in chunk_payloads(entries.iter().map(LogEntry::payload)) {
            diesel::sql_query("SELECT pg_notify($1, $2)")
                .into_boxed::<crate::db::MultiBackend>()
                .bind::<Text, _>(CHANNEL)
                .bind::<Text, _>(payload)
                .execute(conn)?;
        }
        return Ok(());
    }
    for chunk in entries.chunks(LOG_CHUNK) {
        let mut sql = Statement::new(conn);
        let values: Vec<String> = chunk.iter().map(|entry| entry.row(&mut sql, now)).collect();
        sql.push(&format!(
            "INSERT INTO jwt_revocation_log (jti, user_id, issued_until, until) VALUES {}",
            values.join(", ")
        ));
        sql.query().execute(conn)?;
    }
    Ok(())
}

/// A cut-off never lapses by itself: its log row lives as long as a
/// refresh token may (the archiver keeps the newest row anyway).
const CUT_OFF_KEPT: Duration = Duration::from_secs(366 * 24 * 3600);

/// How long a user change's log row is kept (SQLite): a process that
/// looks later than this finds a gap and reloads.
const USER_CHANGE_KEPT: Duration = Duration::from_secs(24 * 3600);

/// One announced change, as a log row or a payload entry.
enum LogEntry<'a> {
    Token(&'a Revoked),
    User(&'a CutOff),
    Changed(&'a str),
}

impl LogEntry<'_> {
    /// The `VALUES` tuple of its `jwt_revocation_log` row (SQLite).
    fn row(&self, sql: &mut Statement, now: Moment) -> String {
        match self {
            LogEntry::Token(token) => format!(
                "({}, NULL, NULL, {})",
                sql.bind(token.jti.as_str()),
                sql.bind(token.until)
            ),
            LogEntry::User(cut) => format!(
                "(NULL, {}, {}, {})",
                sql.bind(cut.user_id.as_str()),
                sql.bind(cut.issued_until),
                sql.bind(now.plus(CUT_OFF_KEPT))
            ),
            LogEntry::Changed(user) => format!(
                "(NULL, {}, NULL, {})",
                sql.bind(*user),
                sql.bind(now.plus(USER_CHANGE_KEPT))
            ),
        }
    }

    /// Its entry in a `NOTIFY` payload (PostgreSQL): `["t", jti,
    /// until_micros]`, `["u", user_id, issued_until]` or `["c", user_id]`.
    fn payload(&self) -> serde_json::Value {
        match self {
            LogEntry::Token(token) => {
                serde_json::json!(["t", token.jti, token.until.0.timestamp_micros()])
            }
            LogEntry::User(cut) => serde_json::json!(["u", cut.user_id, cut.issued_until]),
            LogEntry::Changed(user) => serde_json::json!(["c", user]),
        }
    }
}

fn entries<'a>(tokens: &'a [Revoked], users: &'a [CutOff]) -> Vec<LogEntry<'a>> {
    let mut entries: Vec<LogEntry<'_>> = tokens.iter().map(LogEntry::Token).collect();
    entries.extend(users.iter().map(LogEntry::User));
    entries
}

/// One change of a revocation list, as carried between processes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    Token(Revoked),
    User(CutOff),
    /// A user of the app changed: user caches forget it.
    UserChanged(String),
    /// Too big to carry: reload.
    Reload,
}

/// The payloads of the notifications announcing `tokens` and `users`,
/// each under [`PAYLOAD_BYTES`].
#[cfg(test)]
fn payloads(tokens: &[Revoked], users: &[CutOff]) -> Vec<String> {
    chunk_payloads(entries(tokens, users).iter().map(LogEntry::payload))
}

/// `entries` in JSON arrays under [`PAYLOAD_BYTES`] each; one too big to
/// carry becomes a request to reload.
fn chunk_payloads(entries: impl Iterator<Item = serde_json::Value>) -> Vec<String> {
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
#[cfg(feature = "postgres")]
pub(crate) fn parse_payload(payload: &str) -> Vec<Change> {
    let Ok(serde_json::Value::Array(entries)) = serde_json::from_str(payload) else {
        return vec![Change::Reload];
    };
    entries
        .iter()
        .map(|entry| {
            let parsed = match entry.as_array().map(Vec::as_slice) {
                Some([kind, id]) => match (kind.as_str(), id.as_str()) {
                    (Some("c"), Some(user)) => Some(Change::UserChanged(user.to_owned())),
                    _ => None,
                },
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
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
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

#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
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
            (None, Some(user_id), None) => Change::UserChanged(user_id),
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
}
