//! The list of force-expired tokens and users' cut-offs, kept in memory and
//! in step with the database (`revocation = "cached"`). It learns what
//! changed — from this process at once, from others through the database —
//! and never reloads whole on a change: on SQLite it reads the new rows of
//! `jwt_revocation_log` when `PRAGMA data_version` says another connection
//! committed, in freshness rounds shared by the waiting requests
//! (`rounds`), and no round is needed while the WAL-index header shows no
//! commit since the last (`shm`); on PostgreSQL a thread `LISTEN`s and applies each
//! notification's payload. Entries are forgotten once verification would
//! refuse their token anyway (`exp + leeway`).

#[cfg(feature = "postgres")]
use std::cmp::Reverse;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

#[cfg(feature = "postgres")]
use diesel::Connection as _;
#[cfg(feature = "postgres")]
use diesel::connection::SimpleConnection;
use jwt_core::Clock;

use crate::db::{Database, DatabaseUrl, DbError};
#[cfg(feature = "postgres")]
use crate::expiry::CHANNEL;
#[cfg(feature = "postgres")]
use crate::expiry::parse_payload;
use crate::expiry::{Change, CutOff, Revoked, Rules};
use crate::types::Moment;

mod list;
#[cfg(feature = "postgres")]
mod listener;
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
mod rounds;
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
mod shm;
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
mod sqlite_watch;

pub(crate) use list::Listed;
use list::{List, load};
#[cfg(feature = "postgres")]
use listener::listen;
use rounds::Rounds;
use shm::ShmWatch;
#[cfg(feature = "sqlite")]
use sqlite_watch::{SqliteWatch, data_version};

/// How often the PostgreSQL listener looks for notifications, and how long
/// a change made elsewhere takes at most to be seen.
pub const POSTGRES_DELAY: Duration = Duration::from_millis(200);

/// The list, with what keeps it fresh, and who hears of users' changes.
pub(crate) struct Revocations {
    list: RwLock<List>,
    rules: Rules,
    freshness: Freshness,
    users: RwLock<Vec<UserWatcher>>,
}

/// Told of each user's change as the list learns of it.
pub(crate) type UserWatcher = Box<dyn Fn(UserChange<'_>) + Send + Sync>;

/// A change of the app's users, as announced by
/// [`announce_user_changes`](crate::announce_user_changes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserChange<'a> {
    /// This user (its id as the registry stores it: decimal for integer
    /// ids) changed.
    User(&'a str),
    /// Any user may have changed: what was announced while this process
    /// could not listen is unknown.
    Everyone,
}

enum Freshness {
    /// SQLite: a thread of its own asks, in rounds shared by every waiting
    /// request, whether another connection committed (`PRAGMA
    /// data_version`), and reads the new log rows when one did.
    /// When the file is in WAL mode, a request that finds the WAL-index
    /// header unchanged since the last round answers at once.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite {
        rounds: Rounds,
        shm: Option<Arc<ShmWatch>>,
    },
    /// PostgreSQL: a thread that `LISTEN`s; `healthy` is false while it
    /// cannot reach the database.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Postgres {
        healthy: Arc<AtomicBool>,
        stop: Arc<AtomicBool>,
        thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    },
}

impl Revocations {
    /// Loads the list and starts keeping it fresh.
    pub(crate) fn start(
        db: &Database,
        clock: Arc<dyn Clock>,
        rules: Rules,
    ) -> Result<Arc<Revocations>, DbError> {
        let now = Moment::from_system_time(clock.now());
        match db.url() {
            #[cfg(feature = "sqlite")]
            DatabaseUrl::Sqlite(path) => {
                let mut conn = db.dedicated()?;
                let shm = ShmWatch::open(path).map(Arc::new);
                let seen = shm.as_ref().and_then(|shm| shm.state());
                let version = data_version(&mut conn)?;
                let (list, seq) = load(&mut conn, &rules, now)?;
                if let Some(shm) = &shm {
                    shm.vouch(seen);
                }
                let vouching = shm.clone();
                let mut watch = SqliteWatch {
                    conn,
                    version,
                    seq: seq.unwrap_or(0),
                };
                Ok(Arc::new_cyclic(|weak: &std::sync::Weak<Revocations>| {
                    let weak = weak.clone();
                    let rounds = Rounds::start(move || {
                        weak.upgrade().is_some_and(|revocations| {
                            let now = Moment::from_system_time(clock.now());
                            revocations.round(&mut watch, vouching.as_deref(), now)
                        })
                    });
                    Revocations::new(list, rules, Freshness::Sqlite { rounds, shm })
                }))
            }
            #[cfg(not(feature = "sqlite"))]
            DatabaseUrl::Sqlite(_) => Err(DbError::unreachable(
                "jwt-registry was built without SQLite",
            )),
            #[cfg(feature = "postgres")]
            DatabaseUrl::Postgres(url) => {
                // Listening before the load: nothing announced between the
                // two is missed.
                let mut listening = diesel::PgConnection::establish(url)
                    .map_err(|err| DbError::unreachable(err.to_string()))?;
                listening.batch_execute(&format!("LISTEN {CHANNEL}"))?;
                let (list, _) = load(&mut *db.get()?, &rules, now)?;
                let healthy = Arc::new(AtomicBool::new(true));
                let stop = Arc::new(AtomicBool::new(false));
                let revocations = Arc::new(Revocations::new(
                    list,
                    rules,
                    Freshness::Postgres {
                        healthy: Arc::clone(&healthy),
                        stop: Arc::clone(&stop),
                        thread: Mutex::new(None),
                    },
                ));
                let handle = listen(
                    Arc::downgrade(&revocations),
                    db.clone(),
                    (url.clone(), listening),
                    clock,
                    healthy,
                    stop,
                );
                if let Freshness::Postgres { thread, .. } = &revocations.freshness
                    && let Ok(mut slot) = thread.lock()
                {
                    *slot = handle;
                }
                Ok(revocations)
            }
            #[cfg(not(feature = "postgres"))]
            DatabaseUrl::Postgres(_) => Err(DbError::unreachable(
                "jwt-registry was built without PostgreSQL",
            )),
        }
    }

    fn new(list: List, rules: Rules, freshness: Freshness) -> Revocations {
        Revocations {
            list: RwLock::new(list),
            rules,
            freshness,
            users: RwLock::new(Vec::new()),
        }
    }

    /// Replaces the list with `fresh`; everyone's users may have changed.
    fn replace(&self, fresh: List) {
        if let Ok(mut list) = self.list.write() {
            *list = fresh;
        }
        self.tell_users(&[], true);
    }

    #[cfg(feature = "postgres")]
    fn reload(&self, db: &Database, now: Moment) -> Result<(), DbError> {
        let mut conn = db.get()?;
        let (fresh, _) = load(&mut conn, &self.rules, now)?;
        self.replace(fresh);
        Ok(())
    }

    /// Applies changes read from the database, then tells the user
    /// watchers; `false` when one asks for a reload (nothing applied).
    fn apply(&self, changes: Vec<Change>, now: Moment) -> bool {
        if changes.contains(&Change::Reload) {
            return false;
        }
        let mut users = Vec::new();
        if let Ok(mut list) = self.list.write() {
            for change in changes {
                match change {
                    Change::UserChanged(user) => users.push(user),
                    change => list.apply(change),
                }
            }
            list.forget_lapsed(now);
        }
        self.tell_users(&users, false);
        true
    }

    fn tell_users(&self, changed: &[String], everyone: bool) {
        if !everyone && changed.is_empty() {
            return;
        }
        let Ok(watchers) = self.users.read() else {
            return;
        };
        for watcher in watchers.iter() {
            if everyone {
                watcher(UserChange::Everyone);
            } else {
                for user in changed {
                    watcher(UserChange::User(user));
                }
            }
        }
    }

    /// Tells `watcher` of every user change from now on.
    pub(crate) fn watch_users(&self, watcher: UserWatcher) {
        if let Ok(mut watchers) = self.users.write() {
            watchers.push(watcher);
        }
    }

    /// Whether the token is refused, once the list holds every change
    /// committed before this call: on SQLite after waiting (without
    /// blocking) for a freshness round that began after it, unless nothing
    /// was committed since the last; on PostgreSQL at once (the listener
    /// keeps the list). The user watchers have heard of those changes too
    /// by then.
    pub(crate) async fn check_fresh(
        &self,
        jti: &str,
        user_id: Option<&str>,
        issued_at: Option<i64>,
    ) -> Result<Listed, DbError> {
        let healthy = match self.fresh_now() {
            Ok(healthy) => healthy,
            Err(rounds) => rounds.fresh().await,
        };
        self.answer(healthy, jti, user_id, issued_at)
    }

    /// The same, blocking the calling thread on SQLite.
    pub(crate) fn check(
        &self,
        jti: &str,
        user_id: Option<&str>,
        issued_at: Option<i64>,
    ) -> Result<Listed, DbError> {
        let healthy = self.fresh_now().unwrap_or_else(Rounds::wait);
        self.answer(healthy, jti, user_id, issued_at)
    }

    /// Whether the list is known fresh (and healthy) without waiting; the
    /// rounds to wait for otherwise.
    fn fresh_now(&self) -> Result<bool, &Rounds> {
        match &self.freshness {
            Freshness::Sqlite { shm: Some(shm), .. } if shm.unchanged() => Ok(true),
            Freshness::Sqlite { rounds, .. } => Err(rounds),
            Freshness::Postgres { healthy, .. } => Ok(healthy.load(Ordering::SeqCst)),
        }
    }

    fn answer(
        &self,
        healthy: bool,
        jti: &str,
        user_id: Option<&str>,
        issued_at: Option<i64>,
    ) -> Result<Listed, DbError> {
        if !healthy {
            return Err(DbError::unreachable(match self.freshness {
                Freshness::Sqlite { .. } => "the revocation list could not be brought up to date",
                Freshness::Postgres { .. } => "the revocation listener lost the database",
            }));
        }
        Ok(self
            .list
            .read()
            .map_or(Listed::Fine, |list| list.verdict(jti, user_id, issued_at)))
    }

    /// Stops the PostgreSQL listener and waits for it, so that no thread is
    /// inside libpq when the process exits.
    pub(crate) fn stop(&self) {
        match &self.freshness {
            Freshness::Sqlite { rounds, .. } => rounds.stop(),
            Freshness::Postgres { stop, thread, .. } => {
                stop.store(true, Ordering::SeqCst);
                let handle = thread.lock().ok().and_then(|mut slot| slot.take());
                if let Some(handle) = handle {
                    let _ = handle.join();
                }
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
        self.apply(parse_payload(payload), now)
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
