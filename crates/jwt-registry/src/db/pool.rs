//! The connection pool, with SQLite set up for concurrent use.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use diesel::Connection as _;
#[cfg(feature = "postgres")]
use diesel::PgConnection;
#[cfg(feature = "sqlite")]
use diesel::SqliteConnection;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool, PooledConnection, R2D2Connection};

use super::{DatabaseUrl, DbConnection, DbError};

/// A pooled connection.
pub type Connection = PooledConnection<Manager>;

/// How long a request waits for a connection before the database counts as
/// unreachable.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// A pool of connections to the registry's database.
///
/// SQLite connections run in WAL mode with a busy timeout and foreign keys
/// on; PostgreSQL sessions run in UTC.
#[derive(Clone)]
pub struct Database {
    pool: Pool<Manager>,
    url: DatabaseUrl,
    writers: Arc<WriterQueue>,
}

impl Database {
    /// Opens a pool to `url` and makes sure a connection can be had. A
    /// SQLite file that does not exist yet is created first, readable and
    /// writable by its owner only (mode 0600; SQLite gives its `-wal` and
    /// `-shm` files the same mode): it will hold users' tokens' claims and
    /// devices. An existing file is never touched. Fails when no connection
    /// can be had.
    pub fn connect(url: &DatabaseUrl) -> Result<Database, DbError> {
        let built_in = match url {
            DatabaseUrl::Sqlite(_) => cfg!(feature = "sqlite"),
            DatabaseUrl::Postgres(_) => cfg!(feature = "postgres"),
        };
        if !built_in {
            return Err(DbError::Unreachable(format!(
                "{}: jwt-registry was built without this backend (its `sqlite` and `postgres` features)",
                url.backend_name()
            )));
        }
        create_private_file(url);
        let max_size = match url {
            DatabaseUrl::Sqlite(_) => 8,
            DatabaseUrl::Postgres(_) => 10,
        };
        let manager = Manager::new(url);
        let pool = Pool::builder()
            .max_size(max_size)
            // Connections are opened on demand (on r2d2's threads, while a
            // caller waits) and kept: nothing opens or reaps one in the
            // background, so no thread is inside libpq (and its TLS
            // library) when the process exits.
            .min_idle(Some(0))
            .idle_timeout(None)
            .max_lifetime(None)
            .connection_timeout(CONNECTION_TIMEOUT)
            // No `SELECT 1` before each use (a round trip per request on
            // PostgreSQL): a connection that broke fails its next query,
            // answers 503 once and is then dropped (`has_broken`).
            .test_on_check_out(false)
            .connection_customizer(Box::new(ConnectionSetup::recommended()))
            // Failures reach the caller, which logs them once.
            .error_handler(Box::new(diesel::r2d2::NopErrorHandler))
            .build(manager)
            .map_err(|err| DbError::unreachable(format!("{url}: {err}")))?;
        let db = Database::wrap(url, pool);
        db.get()?;
        Ok(db)
    }

    pub(super) fn wrap(url: &DatabaseUrl, pool: Pool<Manager>) -> Database {
        Database {
            pool,
            url: url.clone(),
            writers: Arc::new(WriterQueue::default()),
        }
    }

    /// A connection from the pool, waiting at most a few seconds.
    pub fn get(&self) -> Result<Connection, DbError> {
        Ok(self.pool.get()?)
    }

    /// Runs `work` in one write transaction ([`write_transaction`]) on a
    /// connection from the pool. On SQLite this process's writers take
    /// turns first come, first served, before asking SQLite for its one
    /// write lock: SQLite's own wait (the busy timeout) retries at growing
    /// intervals and lets a writer that arrives later go first, so under
    /// load a writer could wait far longer than any transaction lasts.
    ///
    /// [`write_transaction`]: super::write_transaction
    pub fn write<T, E>(&self, work: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<DbError>,
    {
        // The turn first, then a connection: writers waiting for their
        // turn hold none, so readers are never starved of connections.
        let _turn = match self.url {
            DatabaseUrl::Sqlite(_) => self.writers.wait_turn(),
            DatabaseUrl::Postgres(_) => None,
        };
        let mut conn = self.get()?;
        super::write_transaction(&mut conn, work)
    }

    /// [`write`](Self::write) on a connection of the caller's own (the
    /// group committer's), in turn with this pool's writers.
    pub(crate) fn write_on<T, E>(
        &self,
        conn: &mut DbConnection,
        work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        let _turn = match self.url {
            DatabaseUrl::Sqlite(_) => self.writers.wait_turn(),
            DatabaseUrl::Postgres(_) => None,
        };
        super::write_transaction(conn, work)
    }

    /// A connection of its own (not the pool's), set up as the pool's are.
    pub(crate) fn dedicated(&self) -> Result<DbConnection, DbError> {
        let manager = Manager::new(&self.url);
        let unreachable = |err: diesel::r2d2::Error| DbError::unreachable(err.to_string());
        let mut conn = manager.connect().map_err(unreachable)?;
        // The journal mode is the pool's business (WAL, or the app's).
        ConnectionSetup::recommended()
            .keep_journal_mode()
            .on_acquire(&mut conn)
            .map_err(unreachable)?;
        Ok(conn)
    }

    /// Which database this is.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Whether a connection can be had and answers (`SELECT 1`).
    pub fn ping(&self) -> Result<(), DbError> {
        let mut conn = self.get()?;
        conn.batch_execute("SELECT 1")?;
        Ok(())
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Opens connections of the backend the URL names: the r2d2 manager of the
/// registry's pool, and of an app's pool it shares with the registry
/// ([`Database::from_pool`]). (Diesel's derived `MultiConnection::establish`
/// tries every backend in turn: a PostgreSQL URL whose server is down would
/// then be tried as a SQLite file name.)
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    /// A manager opening connections to `url`.
    pub fn new(url: &DatabaseUrl) -> Manager {
        Manager { url: url.clone() }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        let connection = match &self.url {
            #[cfg(feature = "postgres")]
            DatabaseUrl::Postgres(url) => PgConnection::establish(url).map(DbConnection::Pg),
            #[cfg(feature = "sqlite")]
            DatabaseUrl::Sqlite(path) => {
                SqliteConnection::establish(path).map(DbConnection::Sqlite)
            }
            #[allow(unreachable_patterns)]
            other => Err(diesel::ConnectionError::BadConnection(format!(
                "{}: jwt-registry was built without this backend (its `sqlite` and `postgres` features)",
                other.backend_name()
            ))),
        };
        connection.map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// What the registry sets on every connection of its pool, as an r2d2
/// connection customizer an app can put on its own pool
/// (`Pool::builder().connection_customizer(Box::new(ConnectionSetup::recommended()))`).
///
/// SQLite: a busy timeout of 5 s (set first: the other pragmas may wait
/// too), foreign keys on (the registry's delete rules depend on them), and
/// unless [`keep_journal_mode`](Self::keep_journal_mode) WAL with
/// `synchronous = NORMAL`, so readers never wait for the writer, and a page
/// cache of 1 MiB a connection (SQLite's default is 2 MiB; the system's
/// file cache holds the pages anyway, and a dozen connections would
/// otherwise keep up to 24 MiB).
/// PostgreSQL: the session in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionSetup {
    wal: bool,
}

impl ConnectionSetup {
    /// What the registry's own pool uses.
    pub fn recommended() -> Self {
        ConnectionSetup { wal: true }
    }

    /// Leaves the SQLite file's journal mode as the app chose it.
    #[must_use]
    pub fn keep_journal_mode(self) -> Self {
        ConnectionSetup { wal: false }
    }
}

/// Every SQLite connection of ours waits up to 5 s for another writer
/// instead of failing at once (set first: the other pragmas may wait too).
const SQLITE_BUSY_TIMEOUT: &str = "PRAGMA busy_timeout = 5000;";

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        let sql = if conn.is_sqlite() {
            conn.batch_execute(SQLITE_BUSY_TIMEOUT)
                .map_err(diesel::r2d2::Error::QueryError)?;
            if self.wal {
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                 PRAGMA cache_size = -1024;"
            } else {
                "PRAGMA foreign_keys = ON;"
            }
        } else {
            "SET TIME ZONE 'UTC';"
        };
        conn.batch_execute(sql)
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// A first-come, first-served queue of this process's SQLite writers: a
/// ticket each, served in order.
#[derive(Default)]
struct WriterQueue {
    /// (next ticket to hand out, ticket being served)
    tickets: Mutex<(u64, u64)>,
    turn: Condvar,
}

/// A writer's turn; the next one's begins when it is dropped.
struct Turn<'a>(&'a WriterQueue);

impl WriterQueue {
    fn wait_turn(&self) -> Option<Turn<'_>> {
        // A poisoned lock (a writer panicked while taking a ticket) only
        // loses the ordering: SQLite's busy timeout still serialises.
        let mut tickets = self.tickets.lock().ok()?;
        let mine = tickets.0;
        tickets.0 += 1;
        while tickets.1 != mine {
            tickets = self.turn.wait(tickets).ok()?;
        }
        Some(Turn(self))
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if let Ok(mut tickets) = self.0.tickets.lock() {
            tickets.1 += 1;
        }
        self.0.turn.notify_all();
    }
}

/// Creates a SQLite database file that does not exist yet with mode 0600,
/// before SQLite does (with 0644). Does nothing to an existing file, nor
/// when the URI asks for a read-only or memory database (`mode=ro`,
/// `mode=memory`); any failure is
/// left for SQLite to report when it opens the file.
fn create_private_file(url: &DatabaseUrl) {
    let DatabaseUrl::Sqlite(raw) = url else {
        return;
    };
    if raw.contains("mode=ro") || raw.contains("mode=memory") {
        return;
    }
    let Some(path) = url.sqlite_file() else {
        return;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
    }
    #[cfg(not(unix))]
    let _ = path;
}
