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
