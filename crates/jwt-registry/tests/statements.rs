//! How many SQL statements a registration costs (the Django package: 30 per
//! obtain, 21 per refresh). Counted with Diesel's instrumentation;
//! transaction control (BEGIN, COMMIT, savepoints) not counted.

mod common;

use common::{Minter, NOW, backends, open};
use jwt_core::ManualClock;
use jwt_registry::types::RowId;
use jwt_registry::{Context, Pair, Registry};

fn statements_of(registry: &Registry, context: Context) -> Vec<String> {
    jwt_registry::testing::statements_of(registry, context).unwrap()
}

#[test]
fn obtain_and_refresh_registrations_take_at_most_three_statements_four_on_postgres_for_a_refresh() {
    for backend in backends("statements") {
        let clock = ManualClock::at(NOW);
        let registry = open(&backend, &clock);
        let minter = Minter::new(&clock);

        let (refresh, access) = minter.login(1);
        let obtain =
            Context::new(minter.obtain_pairs(&refresh, &access), registry.now()).with_user("1");
        let seen = statements_of(&registry, obtain);
        assert!(
            seen.len() <= 3,
            "{}: obtain took {}: {seen:#?}",
            backend.name,
            seen.len()
        );
        assert!(!seen.is_empty(), "the counter counts");

        // refresh with rotation: (access, new refresh), (new refresh, refresh), no user.
        let access2 = minter.tokens.access_from(&refresh).unwrap();
        let rotated = minter.tokens.rotate(&refresh).unwrap();
        let pairs = vec![
            Pair {
                token: minter.record(&access2),
                parent: Some(minter.record(&rotated)),
            },
            Pair {
                token: minter.record(&rotated),
                parent: Some(minter.record(&refresh)),
            },
        ];
        let seen = statements_of(&registry, Context::new(pairs, registry.now()));
        // On PostgreSQL a registration under a stored token finds and locks
        // its login, then reads it after the lock (a logout of it at the
        // same time either is seen or waits): one statement more.
        let most = if backend.name == "postgres" { 4 } else { 3 };
        assert!(
            seen.len() <= most,
            "{}: refresh took {}: {seen:#?}",
            backend.name,
            seen.len()
        );
        assert_eq!(
            common::count(&registry, "jwt_token_user_connection"),
            4,
            "and it did the work"
        );
    }
}

#[test]
fn the_registration_s_lock_is_the_force_expiry_s_lock() {
    for backend in backends("login lock keys") {
        if backend.name != "postgres" {
            continue;
        }
        let clock = ManualClock::at(NOW);
        let registry = open(&backend, &clock);
        let mut ids: Vec<RowId> = (0..50).map(|_| RowId::new()).collect();
        ids.extend((0..50).map(|_| RowId(uuid::Uuid::new_v4())));
        ids.push(RowId(uuid::Uuid::nil()));
        ids.push(RowId(uuid::Uuid::max()));
        ids.push(RowId(uuid::Uuid::from_u128(1 << 63)));
        let keys = jwt_registry::testing::login_keys(&registry, &ids).unwrap();
        assert_eq!(keys.len(), ids.len());
        assert!(
            keys.iter().any(|(key, _)| *key < 0),
            "negative keys are covered"
        );
        for ((rust, sql), id) in keys.iter().zip(&ids) {
            assert_eq!(rust, sql, "{}", id.0);
        }
    }
}
