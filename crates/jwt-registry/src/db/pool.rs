//! The connection pool, with SQLite set up for concurrent use.

use std::fmt;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::{Connection as _, PgConnection, SqliteConnection};

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
}

impl Database {
    /// Opens a pool to `url` and makes sure a connection can be had (for
    /// SQLite, creating the file). Fails when none can.
    pub fn connect(url: &DatabaseUrl) -> Result<Database, DbError> {
        let (max_size, setup) = match url {
            DatabaseUrl::Sqlite(_) => (8, Setup::Sqlite),
            DatabaseUrl::Postgres(_) => (10, Setup::Postgres),
        };
        let manager = Manager { url: url.clone() };
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
            .connection_customizer(Box::new(setup))
            // Failures reach the caller, which logs them once.
            .error_handler(Box::new(diesel::r2d2::NopErrorHandler))
            .build(manager)
            .map_err(|err| DbError::unreachable(format!("{url}: {err}")))?;
        let db = Database {
            pool,
            url: url.clone(),
        };
        db.get()?;
        Ok(db)
    }

    /// A connection from the pool, waiting at most a few seconds.
    pub fn get(&self) -> Result<Connection, DbError> {
        Ok(self.pool.get()?)
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

/// Opens connections of the backend the URL names. (Diesel's derived
/// `MultiConnection::establish` tries every backend in turn: a PostgreSQL
/// URL whose server is down would then be tried as a SQLite file name.)
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        let connection = match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url).map(DbConnection::Pg),
            DatabaseUrl::Sqlite(path) => {
                SqliteConnection::establish(path).map(DbConnection::Sqlite)
            }
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

#[derive(Debug, Clone, Copy)]
enum Setup {
    Sqlite,
    Postgres,
}

/// Every SQLite connection of ours waits up to 5 s for another writer
/// instead of failing at once (set first: the other pragmas may wait too).
pub(crate) const SQLITE_BUSY_TIMEOUT: &str = "PRAGMA busy_timeout = 5000;";

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for Setup {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        let sql = match self {
            // WAL: readers never wait for the writer.
            Setup::Sqlite => {
                conn.batch_execute(SQLITE_BUSY_TIMEOUT)
                    .map_err(diesel::r2d2::Error::QueryError)?;
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
            }
            Setup::Postgres => "SET TIME ZONE 'UTC';",
        };
        conn.batch_execute(sql)
            .map_err(diesel::r2d2::Error::QueryError)
    }
}
