//! Registrations arriving together on SQLite are committed in groups,
//! each in a savepoint of its own: one that fails leaves no row and takes no other
//! down, and every caller hears of its own outcome after the commit.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Minter, NOW, backends, settings};
use diesel::RunQueryDsl;
use jwt_core::ManualClock;
use jwt_registry::db::{DbConnection, DbError};
use jwt_registry::testing::count;
use jwt_registry::{Context, Registry, Step};

/// Fails the registrations of user 13, and records which commit each
/// registration follows: on SQLite the `data_version` another connection
/// sees (it changes with each commit), on PostgreSQL the transaction id.
/// The first one waits a little, so that the others queue up behind it.
#[derive(Clone)]
struct Probe {
    transactions: Arc<Mutex<Vec<i64>>>,
    elsewhere: Arc<Mutex<Option<diesel::SqliteConnection>>>,
    url: String,
}

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    data_version: i64,
}

#[derive(diesel::QueryableByName)]
struct Txid {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

impl Step for Probe {
    fn name(&self) -> &str {
        "probe"
    }

    fn run(&self, conn: &mut DbConnection, context: &mut Context) -> Result<(), DbError> {
        let mark = if conn.is_postgres() {
            let txid: Txid = diesel::sql_query("SELECT txid_current() AS id").get_result(conn)?;
            txid.id
        } else {
            use diesel::Connection as _;
            let mut elsewhere = self.elsewhere.lock().unwrap();
            let watch = elsewhere
                .get_or_insert_with(|| diesel::SqliteConnection::establish(&self.url).unwrap());
            let version: Version = diesel::sql_query("PRAGMA data_version").get_result(watch)?;
            version.data_version
        };
        let mut seen = self.transactions.lock().unwrap();
        if seen.is_empty() {
            std::thread::sleep(Duration::from_millis(100));
        }
        seen.push(mark);
        if context.user_id.as_deref() == Some("13") {
            return Err(DbError::Query(diesel::result::Error::RollbackTransaction));
        }
        Ok(())
    }
}

#[test]
fn a_failing_registration_rolls_back_alone_and_the_rest_share_transactions() {
    for backend in backends("group_commit") {
        let clock = ManualClock::at(NOW);
        let probe = Probe {
            transactions: Arc::default(),
            elsewhere: Arc::default(),
            url: backend.url.clone(),
        };
        let registry = Registry::builder(settings(&backend))
            .clock(Arc::new(clock.clone()))
            .step_in_pipeline(probe.clone())
            .open()
            .unwrap()
            .0;
        let minter = Arc::new(Minter::new(&clock));
        let outcomes: Vec<(i64, bool)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (1..=24)
                .map(|user| {
                    let (registry, minter) = (registry.clone(), Arc::clone(&minter));
                    scope.spawn(move || {
                        let (refresh, access) = minter.login(user);
                        let context =
                            Context::new(minter.obtain_pairs(&refresh, &access), registry.now())
                                .with_user(user.to_string());
                        (user, registry.register(context).is_ok())
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        for (user, ok) in &outcomes {
            assert_eq!(*ok, *user != 13, "{}: user {user}", backend.name);
        }
        assert_eq!(count(&registry, "jwt_token"), 23 * 2, "{}", backend.name);
        assert_eq!(
            count(&registry, "jwt_token_user_connection WHERE user_id = '13'"),
            0,
            "{}",
            backend.name
        );
        let mut transactions = probe.transactions.lock().unwrap().clone();
        transactions.sort_unstable();
        transactions.dedup();
        if backend.name == "sqlite" {
            // One writer at a time: registrations that queued share commits.
            assert!(
                transactions.len() < 12,
                "24 registrations after {} different commits",
                transactions.len()
            );
        } else {
            // PostgreSQL keeps a transaction per registration (measured
            // faster there: the pool's writers run side by side).
            assert_eq!(transactions.len(), 24);
        }
    }
}
