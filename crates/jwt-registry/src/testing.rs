//! Fresh databases for tests (feature `testing`): a temp SQLite file
//! always, and a new PostgreSQL database when `DATABASE_URL` is set (each
//! run its own, dropped afterwards), so runs never see each other's rows.

use std::io::Write;

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::db::{DbError, write_transaction};
use crate::types::RowId;
use crate::{Context, Registry};

/// A database for one test; dropping it removes it.
pub struct TestDatabase {
    /// `"sqlite"` or `"postgres"`.
    pub name: &'static str,
    /// Its `database_url`.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    drop_pg: Option<(String, String)>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.drop_pg
            && let Ok(mut conn) = PgConnection::establish(admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

/// Says a test (or part of one) was skipped, where `cargo test` shows it:
/// straight to stderr, past the harness's capture.
pub fn skipped(why: &str) {
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {why}");
}

/// A temp SQLite database, and a fresh PostgreSQL one when `DATABASE_URL`
/// is set (else a `SKIPPED` line). `test` names them.
///
/// # Panics
///
/// When `DATABASE_URL` is set but no database can be created there: a test
/// run that was asked for PostgreSQL must not pass without it.
#[allow(clippy::expect_used, clippy::unwrap_used)]
pub fn databases(test: &str) -> Vec<TestDatabase> {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("registry.sqlite3");
    let mut all = vec![TestDatabase {
        name: "sqlite",
        url: path.to_string_lossy().into_owned(),
        _dir: Some(dir),
        drop_pg: None,
    }];
    match std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
    {
        Some(admin) => {
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_micros())
                .unwrap_or_default();
            let label: String = test
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(20)
                .collect();
            let name = format!("jwt_{label}_{}_{stamp}", std::process::id()).to_ascii_lowercase();
            let mut conn =
                PgConnection::establish(&admin).expect("DATABASE_URL is set but unreachable");
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .expect("DATABASE_URL is set but a database cannot be created there");
            let base = admin.split('?').next().unwrap_or(&admin);
            let prefix = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
            all.push(TestDatabase {
                name: "postgres",
                url: format!("{prefix}/{name}"),
                _dir: None,
                drop_pg: Some((admin, name)),
            });
        }
        None => skipped(&format!(
            "DATABASE_URL is not set: {test} ran on SQLite only"
        )),
    }
    all
}

/// Collects the SQL a connection runs, transaction control (BEGIN, COMMIT,
/// ROLLBACK, savepoints) left out.
#[derive(Clone, Default)]
struct Statements(Arc<Mutex<Vec<String>>>);

impl Instrumentation for Statements {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let sql = query.to_string();
            let head = sql.trim_start().to_ascii_uppercase();
            let control = ["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"];
            if !control.iter().any(|word| head.starts_with(word))
                && let Ok(mut seen) = self.0.lock()
            {
                seen.push(sql);
            }
        }
    }
}

/// Runs the registry's pipeline over `context` in one write transaction,
/// as a registration does, and returns the statements it took (BEGIN and
/// COMMIT not counted).
pub fn statements_of(registry: &Registry, context: Context) -> Result<Vec<String>, DbError> {
    let statements = Statements::default();
    let mut conn = registry.database().get()?;
    conn.set_instrumentation(statements.clone());
    let ran = write_transaction(&mut conn, |conn| {
        let mut context = context;
        registry.pipeline().run_in(conn, &mut context)
    });
    conn.set_instrumentation(Statements::default());
    ran?;
    let seen = statements
        .0
        .lock()
        .map(|seen| seen.clone())
        .unwrap_or_default();
    Ok(seen)
}

#[derive(diesel::QueryableByName)]
struct Key {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    key: i64,
}

/// Each id's login lock key as the registry computes it in Rust (for a
/// force-expiry) and in SQL (for a registration's one-statement lock), on
/// the registry's PostgreSQL database: the two must be the same lock.
pub fn login_keys(registry: &Registry, ids: &[RowId]) -> Result<Vec<(i64, i64)>, DbError> {
    let mut conn = registry.database().get()?;
    let mut keys = Vec::new();
    for id in ids {
        let sql = format!(
            "SELECT {} AS key",
            crate::expiry::login_key_sql(&format!("CAST('{}' AS uuid)", id.0))
        );
        let in_sql = diesel::sql_query(sql).get_result::<Key>(&mut *conn)?.key;
        keys.push((crate::expiry::login_key(*id), in_sql));
    }
    Ok(keys)
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// `SELECT COUNT(*) FROM {what}` on the registry's database (`what` may
/// carry joins and a `WHERE`).
///
/// # Panics
///
/// When the query fails: it is for tests.
#[allow(clippy::expect_used)]
pub fn count(registry: &Registry, what: &str) -> i64 {
    let mut conn = registry.database().get().expect("a connection");
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {what}"))
        .get_result::<Count>(&mut *conn)
        .expect("the count")
        .n
}

/// A pipeline step (`"gate"`) that holds each registration, inside its
/// transaction, until [`Gate::open`]: a slow instance, a registration
/// landing late. Never longer than 30 s, so a failing test ends.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<GateState>, Condvar)>);

#[derive(Default)]
struct GateState {
    entered: bool,
    open: bool,
}

impl Gate {
    /// Lets every registration through, from now on.
    #[allow(clippy::unwrap_used)]
    pub fn open(&self) {
        let (state, turn) = &*self.0;
        state.lock().unwrap().open = true;
        turn.notify_all();
    }

    /// Waits until a registration is held at the gate.
    #[allow(clippy::unwrap_used)]
    pub fn wait_entered(&self) {
        let (state, turn) = &*self.0;
        let state = state.lock().unwrap();
        let _ = turn
            .wait_timeout_while(state, Duration::from_secs(30), |state| !state.entered)
            .unwrap();
    }
}

impl crate::Step for Gate {
    fn name(&self) -> &str {
        "gate"
    }

    #[allow(clippy::unwrap_used)]
    fn run(&self, _: &mut crate::db::DbConnection, _: &mut Context) -> Result<(), DbError> {
        let (state, turn) = &*self.0;
        let mut held = state.lock().unwrap();
        held.entered = true;
        turn.notify_all();
        let _ = turn
            .wait_timeout_while(held, Duration::from_secs(30), |state| !state.open)
            .unwrap();
        Ok(())
    }
}

/// The registry's statement-level lookups, for the crate's own tests and
/// benches: apps go through [`Registry`].
pub mod rows {
    pub use crate::token_manager::{
        active, collect_tree, expired, find_by_jti, find_by_user, status,
    };
}

/// The registry's tables as Diesel sees them, for the crate's benches.
pub mod tables {
    pub use crate::schema::{jwt_token, jwt_token_user_connection};
}

/// Runs `future` to its end on this thread, parking while it waits (for
/// the registry's async calls in tests that have no runtime).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}
