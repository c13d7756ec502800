//! Registrations arriving together are committed in groups, each in a
//! savepoint of its own: one that fails leaves no row and takes no other
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

/// Fails the registrations of user 13; on PostgreSQL records the
/// transaction each registration ran in. The first one waits a little, so
/// that the others queue up behind it.
#[derive(Clone, Default)]
struct Probe {
    transactions: Arc<Mutex<Vec<i64>>>,
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
        if conn.is_postgres() {
            let txid: Txid = diesel::sql_query("SELECT txid_current() AS id").get_result(conn)?;
            let mut seen = self.transactions.lock().unwrap();
            if seen.is_empty() {
                std::thread::sleep(Duration::from_millis(100));
            }
            seen.push(txid.id);
        }
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
        let probe = Probe::default();
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
        if backend.name != "sqlite" {
            let mut transactions = probe.transactions.lock().unwrap().clone();
            transactions.sort_unstable();
            transactions.dedup();
            assert!(
                transactions.len() < 12,
                "24 registrations in {} transactions",
                transactions.len()
            );
        }
    }
}
