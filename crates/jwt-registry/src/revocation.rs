//! The list of force-expired tokens and users' cut-offs, kept in memory and
//! in step with the database (`revocation = "cached"`). It learns what
//! changed — from this process at once, from others through the database —
//! and never reloads whole on a change: on SQLite it reads the new rows of
//! `jwt_revocation_log` when `PRAGMA data_version` says another connection
//! committed; on PostgreSQL a thread `LISTEN`s and applies each
//! notification's payload. Entries are forgotten once verification would
//! refuse their token anyway (`exp + leeway`).

#[cfg(feature = "postgres")]
use std::cmp::Reverse;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Nullable};
use diesel::{Connection as _, RunQueryDsl};
use jwt_core::Clock;

use crate::db::{Database, DatabaseUrl, DbConnection, DbError};
#[cfg(feature = "postgres")]
use crate::expiry::CHANNEL;
#[cfg(feature = "postgres")]
use crate::expiry::parse_payload;
use crate::expiry::{Change, CutOff, LogRow, Revoked, Rules};
use crate::token_manager;
use crate::types::Moment;

mod list;
#[cfg(feature = "postgres")]
mod listener;

use list::List;
pub(crate) use list::Listed;
#[cfg(feature = "postgres")]
use listener::listen;

/// How often the PostgreSQL listener looks for notifications, and how long
/// a change made elsewhere takes at most to be seen.
pub const POSTGRES_DELAY: Duration = Duration::from_millis(200);

/// The list, with what keeps it fresh.
pub(crate) struct Revocations {
    list: RwLock<List>,
    rules: Rules,
    freshness: Freshness,
}

enum Freshness {
    /// SQLite: a connection of our own whose `PRAGMA data_version` changes
    /// when another connection commits, and the last log row applied.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite(Mutex<SqliteWatch>),
    /// PostgreSQL: a thread that `LISTEN`s; `healthy` is false while it
    /// cannot reach the database.
    Postgres {
        healthy: Arc<AtomicBool>,
        stop: Arc<AtomicBool>,
        thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    },
}

struct SqliteWatch {
    /// A SQLite connection of its own (never one of the pool's).
    conn: DbConnection,
    version: i64,
    seq: i64,
}

#[derive(diesel::QueryableByName)]
struct DataVersion {
    #[diesel(sql_type = BigInt)]
    data_version: i64,
}

fn data_version(conn: &mut DbConnection) -> Result<i64, DbError> {
    let row: DataVersion = diesel::sql_query("PRAGMA data_version").get_result(conn)?;
    Ok(row.data_version)
}

#[derive(diesel::QueryableByName)]
struct LastSeq {
    #[diesel(sql_type = Nullable<BigInt>)]
    seq: Option<i64>,
}

/// Rows of the SQLite log read at once.
const LOG_PAGE: i64 = 10_000;

impl Revocations {
    /// Loads the list and starts keeping it fresh.
    pub(crate) fn start(
        db: &Database,
        clock: Arc<dyn Clock>,
        rules: Rules,
    ) -> Result<Arc<Revocations>, DbError> {
        let freshness = match db.url() {
            #[cfg(feature = "sqlite")]
            DatabaseUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(path)
                    .map(DbConnection::Sqlite)
                    .map_err(|err| DbError::unreachable(err.to_string()))?;
                conn.batch_execute(crate::db::SQLITE_BUSY_TIMEOUT)?;
                let version = data_version(&mut conn)?;
                Freshness::Sqlite(Mutex::new(SqliteWatch {
                    conn,
                    version,
                    seq: 0,
                }))
            }
            #[cfg(not(feature = "sqlite"))]
            DatabaseUrl::Sqlite(_) => {
                return Err(DbError::unreachable(
                    "jwt-registry was built without SQLite",
                ));
            }
            DatabaseUrl::Postgres(_) => Freshness::Postgres {
                healthy: Arc::new(AtomicBool::new(true)),
                stop: Arc::new(AtomicBool::new(false)),
                thread: Mutex::new(None),
            },
        };
        let revocations = Arc::new(Revocations {
            list: RwLock::new(List::default()),
            rules,
            freshness,
        });
        let now = Moment::from_system_time(clock.now());
        match &revocations.freshness {
            Freshness::Sqlite(watch) => {
                let mut watch = watch
                    .lock()
                    .map_err(|_| DbError::unreachable("revocation watch poisoned"))?;
                revocations.reload_sqlite(&mut watch, now)?;
            }
            Freshness::Postgres {
                healthy,
                stop,
                thread,
            } => {
                #[cfg(not(feature = "postgres"))]
                let _ = (healthy, stop, thread, clock);
                #[cfg(not(feature = "postgres"))]
                return Err(DbError::unreachable(
                    "jwt-registry was built without PostgreSQL",
                ));
                #[cfg(feature = "postgres")]
                if let DatabaseUrl::Postgres(url) = db.url() {
                    // Listening before the load: nothing announced between
                    // the two is missed.
                    let mut listening = diesel::PgConnection::establish(url)
                        .map_err(|err| DbError::unreachable(err.to_string()))?;
                    listening.batch_execute(&format!("LISTEN {CHANNEL}"))?;
                    revocations.reload(db, now)?;
                    let handle = listen(
                        Arc::downgrade(&revocations),
                        db.clone(),
                        (url.clone(), listening),
                        clock,
                        Arc::clone(healthy),
                        Arc::clone(stop),
                    );
                    if let Ok(mut slot) = thread.lock() {
                        *slot = handle;
                    }
                }
            }
        }
        Ok(revocations)
    }

    /// Loads the whole list from `conn` (one read transaction: on SQLite
    /// with the last log row, so that what follows it is read next).
    fn load(&self, conn: &mut DbConnection, now: Moment) -> Result<Option<i64>, DbError> {
        let horizon = self.rules.horizon(now);
        let sqlite = conn.is_sqlite();
        let (tokens, users, seq) = conn.transaction(|conn| {
            let tokens = token_manager::revoked(conn, horizon)?;
            let users = token_manager::cutoffs(conn)?;
            let seq = if sqlite {
                diesel::sql_query("SELECT MAX(seq) AS seq FROM jwt_revocation_log")
                    .get_result::<LastSeq>(conn)?
                    .seq
            } else {
                None
            };
            Ok::<_, DbError>((tokens, users, seq))
        })?;
        let mut fresh = List::default();
        for (jti, exp) in tokens {
            fresh.apply(Change::Token(Revoked {
                jti,
                until: exp.plus(self.rules.leeway),
            }));
        }
        for (user_id, issued_until) in users {
            fresh.apply(Change::User(CutOff {
                user_id,
                issued_until,
            }));
        }
        tracing::debug!(
            tokens = fresh.tokens.len(),
            users = fresh.users.len(),
            "revocation list loaded whole"
        );
        if let Ok(mut list) = self.list.write() {
            *list = fresh;
        }
        Ok(seq)
    }

    #[cfg(feature = "postgres")]
    fn reload(&self, db: &Database, now: Moment) -> Result<(), DbError> {
        let mut conn = db.get()?;
        self.load(&mut conn, now).map(|_| ())
    }

    /// Reloads through the watch connection, and remembers the log's end.
    fn reload_sqlite(&self, watch: &mut SqliteWatch, now: Moment) -> Result<(), DbError> {
        watch.seq = self.load(&mut watch.conn, now)?.unwrap_or(0);
        Ok(())
    }

    /// Applies the log rows written since the last look; reloads when some
    /// were deleted before this process read them.
    fn catch_up(&self, watch: &mut SqliteWatch, now: Moment) -> Result<(), DbError> {
        loop {
            let rows: Vec<LogRow> = diesel::sql_query(
                "SELECT seq, jti, user_id, issued_until, until FROM jwt_revocation_log \
                 WHERE seq > ? ORDER BY seq LIMIT ?",
            )
            .bind::<BigInt, _>(watch.seq)
            .bind::<BigInt, _>(LOG_PAGE)
            .load(&mut watch.conn)?;
            let Some(first) = rows.first() else {
                return Ok(());
            };
            if first.seq != watch.seq + 1 {
                return self.reload_sqlite(watch, now);
            }
            let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= LOG_PAGE;
            let mut reload = false;
            if let Ok(mut list) = self.list.write() {
                for row in rows {
                    watch.seq = row.seq;
                    match row.change() {
                        Change::Reload => reload = true,
                        change => list.apply(change),
                    }
                }
                list.forget_lapsed(now);
            }
            if reload {
                return self.reload_sqlite(watch, now);
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Whether the token is refused, after making sure the list is
    /// current: on SQLite one `PRAGMA data_version` (and, when another
    /// connection committed, one read of the new log rows); on PostgreSQL
    /// nothing (the listener keeps it). Blocking on SQLite.
    pub(crate) fn check(
        &self,
        jti: &str,
        user_id: Option<&str>,
        issued_at: Option<i64>,
        now: Moment,
    ) -> Result<Listed, DbError> {
        if let Some(answer) = self.check_in_memory(jti, user_id, issued_at) {
            return answer;
        }
        if let Freshness::Sqlite(watch) = &self.freshness {
            let mut watch = watch
                .lock()
                .map_err(|_| DbError::unreachable("revocation watch poisoned"))?;
            let version = data_version(&mut watch.conn)?;
            if version != watch.version {
                self.catch_up(&mut watch, now)?;
                watch.version = version;
            }
        }
        Ok(self.listed(jti, user_id, issued_at))
    }

    /// [`check`](Self::check)'s answer when it needs no database: on
    /// PostgreSQL, where the listener keeps the list current, a read of the
    /// list (or the listener's failure). `None` on SQLite, whose freshness
    /// check is a query. Never blocks on I/O.
    pub(crate) fn check_in_memory(
        &self,
        jti: &str,
        user_id: Option<&str>,
        issued_at: Option<i64>,
    ) -> Option<Result<Listed, DbError>> {
        match &self.freshness {
            Freshness::Sqlite(_) => None,
            Freshness::Postgres { healthy, .. } => Some(if healthy.load(Ordering::SeqCst) {
                Ok(self.listed(jti, user_id, issued_at))
            } else {
                Err(DbError::unreachable(
                    "the revocation listener lost the database",
                ))
            }),
        }
    }

    fn listed(&self, jti: &str, user_id: Option<&str>, issued_at: Option<i64>) -> Listed {
        self.list
            .read()
            .map_or(Listed::Fine, |list| list.verdict(jti, user_id, issued_at))
    }

    /// Stops the PostgreSQL listener and waits for it, so that no thread is
    /// inside libpq when the process exits.
    pub(crate) fn stop(&self) {
        if let Freshness::Postgres { stop, thread, .. } = &self.freshness {
            stop.store(true, Ordering::SeqCst);
            let handle = thread.lock().ok().and_then(|mut slot| slot.take());
            if let Some(handle) = handle {
                let _ = handle.join();
            }
        }
    }

    /// Records changes this process made (others learn of them through the
    /// database).
    pub(crate) fn add(&self, tokens: &[Revoked], users: &[CutOff]) {
        if let Ok(mut list) = self.list.write() {
            for token in tokens {
                list.apply(Change::Token(token.clone()));
            }
            for cut in users {
                list.apply(Change::User(cut.clone()));
            }
        }
    }

    #[cfg(feature = "postgres")]
    /// Applies a notification's changes (PostgreSQL); `false` when it asks
    /// for a reload.
    fn apply_payload(&self, payload: &str, now: Moment) -> bool {
        let changes = parse_payload(payload);
        if changes.contains(&Change::Reload) {
            return false;
        }
        if let Ok(mut list) = self.list.write() {
            for change in changes {
                list.apply(change);
            }
            list.forget_lapsed(now);
        }
        true
    }

    #[cfg(feature = "postgres")]
    fn forget_lapsed(&self, now: Moment) {
        let due = self.list.read().is_ok_and(|list| {
            list.lapsing
                .peek()
                .is_some_and(|Reverse((until, _))| *until <= now)
        });
        if due && let Ok(mut list) = self.list.write() {
            list.forget_lapsed(now);
        }
    }
}
