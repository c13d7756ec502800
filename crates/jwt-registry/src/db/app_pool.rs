//! The registry on a pool the app built and shares.

use std::path::{Path, PathBuf};

use diesel::RunQueryDsl;
use diesel::r2d2::Pool;
use diesel::sql_types::{BigInt, Text};

use super::pool::Manager;
use super::{Database, DatabaseUrl, DbConnection, DbError};

impl Database {
    /// The registry's database on a pool the app built (with its own size,
    /// timeouts and connection customizer) and uses for its own queries too.
    /// Nothing is set on its connections and the SQLite journal mode is left
    /// as it is; instead they are checked, and a pool the registry cannot
    /// work with is refused with one line:
    ///
    /// - The pool's backend must be the one `url` names.
    /// - SQLite: `foreign_keys` must be on (the registry's delete rules
    ///   depend on it) and a busy timeout set (without one, a write that
    ///   meets another fails at once), and the pool must open the file `url`
    ///   names.
    ///
    /// `url` is still needed: the revocation list watches the database on a
    /// connection of its own (SQLite: the file; PostgreSQL: `LISTEN`), never
    /// one of the pool's. [`ConnectionSetup`](super::ConnectionSetup) is a
    /// customizer that passes the checks.
    pub fn from_pool(url: &DatabaseUrl, pool: Pool<Manager>) -> Result<Database, DbError> {
        let db = Database::wrap(url, pool);
        let mut conn = db.get()?;
        if conn.is_sqlite() != url.is_sqlite() {
            return Err(DbError::Unsuitable(format!(
                "the pool's connections are not {}, which registry.database_url names",
                url.backend_name()
            )));
        }
        if conn.is_sqlite() {
            check_sqlite(&mut conn, url)?;
        }
        drop(conn);
        Ok(db)
    }
}

#[derive(diesel::QueryableByName)]
struct ForeignKeys {
    #[diesel(sql_type = BigInt)]
    foreign_keys: i64,
}

#[derive(diesel::QueryableByName)]
struct BusyTimeout {
    #[diesel(sql_type = BigInt)]
    timeout: i64,
}

#[derive(diesel::QueryableByName)]
struct MainFile {
    #[diesel(sql_type = Text)]
    file: String,
}

fn check_sqlite(conn: &mut DbConnection, url: &DatabaseUrl) -> Result<(), DbError> {
    let keys: ForeignKeys = diesel::sql_query("PRAGMA foreign_keys").get_result(conn)?;
    if keys.foreign_keys != 1 {
        return Err(DbError::Unsuitable(
            "the pool's SQLite connections have foreign_keys off; the registry's delete rules need `PRAGMA foreign_keys = ON` (set it in the pool's connection customizer, e.g. jwt_registry::db::ConnectionSetup)".into(),
        ));
    }
    let busy: BusyTimeout = diesel::sql_query("PRAGMA busy_timeout").get_result(conn)?;
    if busy.timeout <= 0 {
        return Err(DbError::Unsuitable(
            "the pool's SQLite connections have no busy timeout; concurrent writes would fail at once (set `PRAGMA busy_timeout = 5000` in the pool's connection customizer, e.g. jwt_registry::db::ConnectionSetup)".into(),
        ));
    }
    let row: MainFile =
        diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .get_result(conn)?;
    if let Some(expected) = url.sqlite_file()
        && !same_file(Path::new(&row.file), expected)
    {
        return Err(DbError::Unsuitable(format!(
            "the pool opens {:?}, registry.database_url names {:?}: the revocation list would watch another file",
            row.file,
            expected.display().to_string()
        )));
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    let canonical =
        |path: &Path| -> PathBuf { path.canonicalize().unwrap_or_else(|_| path.into()) };
    canonical(a) == canonical(b)
}
