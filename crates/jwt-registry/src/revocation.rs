//! The list of force-expired tokens, kept in memory and in step with the
//! database (`revocation = "cached"`).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;
use diesel::{Connection as _, PgConnection, RunQueryDsl, SqliteConnection};
use jwt_core::Clock;

use crate::db::{Database, DatabaseUrl, DbError};
use crate::token_manager;
use crate::types::Moment;

/// The `NOTIFY` channel expiries are announced on (PostgreSQL).
pub(crate) const CHANNEL: &str = "jwt_token_revoked";

/// How often the PostgreSQL listener looks for notifications, and how long
/// a change made elsewhere takes at most to be seen.
pub const POSTGRES_DELAY: Duration = Duration::from_millis(200);

/// How often the PostgreSQL listener reloads the whole list anyway.
const FULL_RELOAD: Duration = Duration::from_secs(30);

/// The `jti`s of force-expired tokens, with what keeps them fresh.
pub(crate) struct Revocations {
    list: RwLock<HashSet<String>>,
    freshness: Freshness,
}

enum Freshness {
    /// SQLite: a connection of our own whose `PRAGMA data_version` changes
    /// when another connection commits.
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
    conn: SqliteConnection,
    version: i64,
}

#[derive(diesel::QueryableByName)]
struct DataVersion {
    #[diesel(sql_type = BigInt)]
    data_version: i64,
}

fn data_version(conn: &mut SqliteConnection) -> Result<i64, DbError> {
    let row: DataVersion = diesel::sql_query("PRAGMA data_version").get_result(conn)?;
    Ok(row.data_version)
}

impl Revocations {
    /// Loads the list and starts keeping it fresh.
    pub(crate) fn start(db: &Database, clock: Arc<dyn Clock>) -> Result<Arc<Revocations>, DbError> {
        let now = Moment::from_system_time(clock.now());
        let freshness = match db.url() {
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)
                    .map_err(|err| DbError::unreachable(err.to_string()))?;
                conn.batch_execute(crate::db::SQLITE_BUSY_TIMEOUT)?;
                let version = data_version(&mut conn)?;
                Freshness::Sqlite(Mutex::new(SqliteWatch { conn, version }))
            }
            DatabaseUrl::Postgres(_) => Freshness::Postgres {
                healthy: Arc::new(AtomicBool::new(true)),
                stop: Arc::new(AtomicBool::new(false)),
                thread: Mutex::new(None),
            },
        };
        let revocations = Arc::new(Revocations {
            list: RwLock::new(HashSet::new()),
            freshness,
        });
        revocations.reload(db, now)?;
        if let (
            Freshness::Postgres {
                healthy,
                stop,
                thread,
            },
            DatabaseUrl::Postgres(url),
        ) = (&revocations.freshness, db.url())
        {
            let handle = listen(
                Arc::downgrade(&revocations),
                db.clone(),
                url.clone(),
                clock,
                Arc::clone(healthy),
                Arc::clone(stop),
            );
            if let Ok(mut slot) = thread.lock() {
                *slot = handle;
            }
        }
        Ok(revocations)
    }

    fn reload(&self, db: &Database, now: Moment) -> Result<(), DbError> {
        let mut conn = db.get()?;
        let fresh: HashSet<String> = token_manager::revoked(&mut conn, now)?
            .into_iter()
            .collect();
        if let Ok(mut list) = self.list.write() {
            *list = fresh;
        }
        Ok(())
    }

    /// Whether the token is force-expired, after making sure the list is
    /// current: on SQLite one `PRAGMA data_version` (a reload when another
    /// connection committed); on PostgreSQL nothing (the listener keeps it).
    /// Blocking.
    pub(crate) fn is_revoked(
        &self,
        db: &Database,
        jti: &str,
        now: Moment,
    ) -> Result<bool, DbError> {
        match &self.freshness {
            Freshness::Sqlite(watch) => {
                let mut watch = watch
                    .lock()
                    .map_err(|_| DbError::unreachable("revocation watch poisoned"))?;
                let version = data_version(&mut watch.conn)?;
                if version != watch.version {
                    self.reload(db, now)?;
                    watch.version = version;
                }
            }
            Freshness::Postgres { healthy, .. } => {
                if !healthy.load(Ordering::SeqCst) {
                    return Err(DbError::unreachable(
                        "the revocation listener lost the database",
                    ));
                }
            }
        }
        Ok(self.list.read().is_ok_and(|list| list.contains(jti)))
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

    /// Records expiries this process made (others learn of them through the
    /// database).
    pub(crate) fn add(&self, revoked: impl IntoIterator<Item = String>) {
        if let Ok(mut list) = self.list.write() {
            list.extend(revoked);
        }
    }
}

/// The PostgreSQL listener: `LISTEN`, poll for notifications every
/// [`POSTGRES_DELAY`], reload on one (and every [`FULL_RELOAD`]); reconnect
/// when the connection drops. Ends when the list is dropped.
fn listen(
    list: Weak<Revocations>,
    db: Database,
    url: String,
    clock: Arc<dyn Clock>,
    healthy: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> Option<std::thread::JoinHandle<()>> {
    let unhealthy = Arc::clone(&healthy);
    let spawned = std::thread::Builder::new()
        .name("jwt-revocations".into())
        .spawn(move || {
            let mut conn: Option<PgConnection> = None;
            let mut since_reload = Duration::ZERO;
            loop {
                std::thread::sleep(POSTGRES_DELAY);
                since_reload += POSTGRES_DELAY;
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Some(revocations) = list.upgrade() else {
                    return;
                };
                if conn.is_none() {
                    conn = PgConnection::establish(&url).ok().and_then(|mut c| {
                        c.batch_execute(&format!("LISTEN {CHANNEL}"))
                            .ok()
                            .map(|()| c)
                    });
                    since_reload = FULL_RELOAD;
                }
                let notified = match conn.as_mut() {
                    Some(c) => match c.notifications_iter().collect::<Result<Vec<_>, _>>() {
                        Ok(notes) => !notes.is_empty(),
                        Err(_) => {
                            conn = None;
                            false
                        }
                    },
                    None => false,
                };
                if notified || since_reload >= FULL_RELOAD {
                    let now = Moment::from_system_time(clock.now());
                    let reloaded = revocations.reload(&db, now).is_ok();
                    healthy.store(reloaded && conn.is_some(), Ordering::SeqCst);
                    since_reload = Duration::ZERO;
                } else if conn.is_none() {
                    healthy.store(false, Ordering::SeqCst);
                }
            }
        });
    match spawned {
        Ok(handle) => Some(handle),
        Err(err) => {
            tracing::error!(error = %err, "cannot start the revocation listener");
            unhealthy.store(false, Ordering::SeqCst);
            None
        }
    }
}
