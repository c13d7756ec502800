//! The registry on the app's own pool: nothing set on its connections, the
//! journal mode left alone, and a pool it cannot work with refused before
//! anything is written. SQLite always, PostgreSQL with `DATABASE_URL`.

use diesel::connection::SimpleConnection;
use diesel::r2d2::{CustomizeConnection, Pool};
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, RunQueryDsl, SqliteConnection};
use diesel_migrations::MigrationHarness;
use jwt_registry::db::{ConnectionSetup, DatabaseUrl, DbConnection, DbError, Manager};
use jwt_registry::testing::{count, databases};
use jwt_registry::{MigrationsBy, OpenError, Registry, RegistrySettings};

/// An app's own customizer: exactly the pragmas it is given.
#[derive(Debug)]
struct Pragmas(&'static str);

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(self.0)
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

fn app_pool(
    url: &str,
    setup: impl CustomizeConnection<DbConnection, diesel::r2d2::Error> + 'static,
) -> Pool<Manager> {
    Pool::builder()
        .max_size(2)
        .connection_customizer(Box::new(setup))
        .build(Manager::new(&DatabaseUrl::parse(url).unwrap()))
        .unwrap()
}

fn open_on(url: &str, pool: Pool<Manager>) -> Result<Registry, OpenError> {
    Registry::builder(RegistrySettings {
        database_url: url.to_owned(),
        ..RegistrySettings::default()
    })
    .pool(pool)
    .open()
    .map(|(registry, _)| registry)
}

fn unsuitable(result: Result<Registry, OpenError>) -> String {
    match result {
        Err(OpenError::Db(DbError::Unsuitable(line))) => line,
        Err(other) => panic!("another error: {other}"),
        Ok(_) => panic!("the pool was accepted"),
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

fn tables(path: &str) -> i64 {
    let mut conn = SqliteConnection::establish(path).unwrap();
    diesel::sql_query("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'")
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n
}

#[test]
fn a_sqlite_pool_without_foreign_keys_or_busy_timeout_is_refused_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sqlite3");
    let url = path.to_str().unwrap();

    let line = unsuitable(open_on(
        url,
        app_pool(
            url,
            Pragmas("PRAGMA foreign_keys = OFF; PRAGMA busy_timeout = 1000;"),
        ),
    ));
    assert!(line.contains("foreign_keys off"), "{line}");
    assert!(!line.contains('\n'), "one line: {line}");

    let line = unsuitable(open_on(
        url,
        app_pool(
            url,
            Pragmas("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 0;"),
        ),
    ));
    assert!(line.contains("no busy timeout"), "{line}");

    let other = dir.path().join("other.sqlite3");
    let line = unsuitable(open_on(
        other.to_str().unwrap(),
        app_pool(url, ConnectionSetup::recommended()),
    ));
    assert!(line.contains("another file"), "{line}");

    let line = unsuitable(open_on(
        "postgres://127.0.0.1:1/none",
        app_pool(url, ConnectionSetup::recommended()),
    ));
    assert!(line.contains("not PostgreSQL"), "{line}");

    assert_eq!(tables(url), 0, "refused starts created no table");
}

#[test]
fn the_registry_shares_the_app_s_pool_and_keeps_its_journal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sqlite3");
    let url = path.to_str().unwrap();
    let pool = app_pool(url, ConnectionSetup::recommended().keep_journal_mode());

    // The app's harness and its own table, on its pool.
    {
        let mut conn = pool.get().unwrap();
        let DbConnection::Sqlite(sqlite) = &mut *conn else {
            panic!("a SQLite connection");
        };
        sqlite
            .run_pending_migrations(jwt_registry::SQLITE_MIGRATIONS)
            .unwrap();
        sqlite
            .batch_execute("CREATE TABLE app_user (id INTEGER PRIMARY KEY, name TEXT NOT NULL); INSERT INTO app_user (name) VALUES ('alice');")
            .unwrap();
    }
    let registry = Registry::builder(RegistrySettings {
        database_url: url.to_owned(),
        ..RegistrySettings::default()
    })
    .pool(pool.clone())
    .migrations_by(MigrationsBy::App)
    .open()
    .expect("opens on the app's pool")
    .0;

    assert_eq!(count(&registry, "jwt_token"), 0);
    assert_eq!(
        count(&registry, "app_user"),
        1,
        "the registry reads the app's file through the app's pool"
    );
    let mut conn = pool.get().unwrap();
    let mode: JournalMode = diesel::sql_query("PRAGMA journal_mode")
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(
        mode.journal_mode, "delete",
        "the app's journal mode: nothing switched it to WAL"
    );
}

#[test]
fn a_postgres_app_pool_is_used_as_it_is() {
    for db in databases("app_pool")
        .into_iter()
        .filter(|db| db.name != "sqlite")
    {
        let pool = app_pool(&db.url, ConnectionSetup::recommended());
        let registry = open_on(&db.url, pool).expect("PostgreSQL pools are not checked");
        assert_eq!(
            count(&registry, "jwt_token"),
            0,
            "the registry ran its migrations on it"
        );
    }
}
