//! The database layer on real SQLite, and real PostgreSQL when
//! `DATABASE_URL` is set (each run in a database of its own).

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;
use jwt_registry::db::{Database, DatabaseUrl, DbConnection, write_transaction};

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut DbConnection) -> i64 {
    diesel::sql_query("SELECT COUNT(*) AS n FROM probe")
        .get_result::<Count>(conn)
        .unwrap()
        .n
}

fn commits_and_rolls_back(db: &Database) {
    let mut conn = db.get().unwrap();
    conn.batch_execute("CREATE TABLE probe (id BIGINT PRIMARY KEY)")
        .unwrap();
    let failed: Result<(), diesel::result::Error> = write_transaction(&mut conn, |conn| {
        diesel::sql_query("INSERT INTO probe (id) VALUES (1)").execute(conn)?;
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(failed.is_err());
    assert_eq!(count(&mut conn), 0, "nothing of a failed transaction stays");
    write_transaction(&mut conn, |conn| {
        diesel::sql_query("INSERT INTO probe (id) VALUES (1), (2)").execute(conn)
    })
    .unwrap();
    assert_eq!(count(&mut conn), 2);
    // The connection is usable for another transaction afterwards.
    write_transaction(&mut conn, |conn| {
        diesel::sql_query("DELETE FROM probe WHERE id = 1").execute(conn)
    })
    .unwrap();
    assert_eq!(count(&mut conn), 1);
}

#[test]
fn write_transactions_commit_and_roll_back() {
    for db in jwt_registry::testing::databases("write_transactions") {
        let database = Database::connect(&DatabaseUrl::parse(&db.url).unwrap()).unwrap();
        commits_and_rolls_back(&database);
    }
}

#[test]
fn sqlite_connections_use_wal_and_foreign_keys() {
    #[derive(diesel::QueryableByName)]
    struct Mode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    #[derive(diesel::QueryableByName)]
    struct Keys {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        foreign_keys: i32,
    }
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::parse(dir.path().join("t.sqlite3").to_str().unwrap()).unwrap();
    let db = Database::connect(&url).unwrap();
    let mut conn = db.get().unwrap();
    let mode: Mode = diesel::sql_query("PRAGMA journal_mode")
        .get_result(&mut conn)
        .unwrap();
    let keys: Keys = diesel::sql_query("PRAGMA foreign_keys")
        .get_result(&mut conn)
        .unwrap();
    assert_eq!((mode.journal_mode.as_str(), keys.foreign_keys), ("wal", 1));
}

#[test]
fn an_unreachable_database_is_reported_as_unavailable() {
    let url = DatabaseUrl::parse("postgres://127.0.0.1:1/none").unwrap();
    let err = Database::connect(&url).unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    assert!(!err.to_string().contains('\n'), "one line: {err}");
}

/// The database holds users' claims and devices: a file the registry
/// creates is its owner's alone, with its WAL files; a file that exists
/// (an app's own database) is left as it is.
#[test]
fn a_sqlite_file_the_registry_creates_is_private_and_an_existing_one_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.sqlite3");
    let db = Database::connect(&DatabaseUrl::parse(path.to_str().unwrap()).unwrap()).unwrap();
    commits_and_rolls_back(&db);
    assert_eq!(mode(&path), 0o600, "the database");
    for suffix in ["-wal", "-shm"] {
        let side = dir.path().join(format!("new.sqlite3{suffix}"));
        assert_eq!(mode(&side), 0o600, "{suffix}");
    }

    // A read-write-create URI too.
    let uri = dir.path().join("uri.sqlite3");
    let db = Database::connect(
        &DatabaseUrl::parse(&format!("file:{}?mode=rwc", uri.display())).unwrap(),
    )
    .unwrap();
    commits_and_rolls_back(&db);
    assert_eq!(mode(&uri), 0o600, "file:...?mode=rwc");

    let existing = dir.path().join("app.sqlite3");
    std::fs::write(&existing, b"").unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).unwrap();
    let db = Database::connect(&DatabaseUrl::parse(existing.to_str().unwrap()).unwrap()).unwrap();
    commits_and_rolls_back(&db);
    assert_eq!(mode(&existing), 0o644, "never chmod a file that exists");
}

/// SQLite's "database is locked", once the busy timeout has passed, is the
/// database being unavailable (503), not a bug (500).
#[test]
fn a_locked_sqlite_database_counts_as_unavailable() {
    use diesel::Connection;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.sqlite3");
    let db = Database::connect(&DatabaseUrl::parse(path.to_str().unwrap()).unwrap()).unwrap();
    let mut holder = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    holder.batch_execute("BEGIN IMMEDIATE").unwrap();
    let mut conn = db.get().unwrap();
    conn.batch_execute("PRAGMA busy_timeout = 10").unwrap();
    let locked: Result<(), jwt_registry::db::DbError> = write_transaction(&mut conn, |conn| {
        Ok(conn.batch_execute("CREATE TABLE t (id INTEGER)")?)
    });
    let err = locked.expect_err("the lock is held");
    holder.batch_execute("ROLLBACK").unwrap();
    assert!(err.is_unavailable(), "{err}");
}
