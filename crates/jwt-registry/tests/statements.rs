//! How many SQL statements a registration costs (the Django package: 30 per
//! obtain, 21 per refresh). Counted with Diesel's instrumentation;
//! transaction control (BEGIN, COMMIT, savepoints) not counted.

mod common;

use std::sync::{Arc, Mutex};

use common::{Minter, NOW, backends, open};
use diesel::Connection;
use diesel::connection::{Instrumentation, InstrumentationEvent};
use jwt_core::ManualClock;
use jwt_registry::db::write_transaction;
use jwt_registry::{Context, Pair, Registry};

#[derive(Clone, Default)]
struct Statements(Arc<Mutex<Vec<String>>>);

impl Instrumentation for Statements {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let sql = query.to_string();
            let head = sql.trim_start().to_ascii_uppercase();
            let control = ["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"];
            if !control.iter().any(|word| head.starts_with(word)) {
                self.0.lock().unwrap().push(sql);
            }
        }
    }
}

/// Runs the registry's pipeline over `context` on an instrumented
/// connection, in one write transaction, and returns the statements.
fn statements_of(registry: &Registry, context: Context) -> Vec<String> {
    let statements = Statements::default();
    let mut conn = registry.database().get().unwrap();
    conn.set_instrumentation(statements.clone());
    write_transaction(&mut conn, |conn| {
        let mut context = context;
        registry.pipeline().run_in(conn, &mut context)
    })
    .unwrap();
    conn.set_instrumentation(Statements::default());
    statements.0.lock().unwrap().clone()
}

#[test]
fn obtain_and_refresh_registrations_take_at_most_three_statements() {
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
        assert!(
            seen.len() <= 3,
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
