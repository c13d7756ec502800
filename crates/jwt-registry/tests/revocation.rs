//! The cached revocation list sees expiries made elsewhere (another
//! process, the command line): at the next check on SQLite, within
//! `POSTGRES_DELAY` on PostgreSQL.

mod common;

use common::{Minter, NOW, backends, seen_in_time, settings};
use jwt_core::ManualClock;
use jwt_registry::{Context, POSTGRES_DELAY, Presented, Registry, Revocation, Verdict};

fn open_cached(backend: &common::Backend, clock: &ManualClock) -> Registry {
    open_with(backend, clock, false)
}

fn open_with(backend: &common::Backend, clock: &ManualClock, require_registered: bool) -> Registry {
    let settings = jwt_registry::RegistrySettings {
        revocation: Revocation::Cached,
        require_registered,
        ..settings(backend)
    };
    Registry::builder(settings)
        .clock(std::sync::Arc::new(clock.clone()))
        .open()
        .unwrap()
        .0
}

/// A login of user 1, registered: its refresh and access tokens.
fn registered_login(server: &Registry, minter: &Minter) -> (jwt_core::Token, jwt_core::Token) {
    let (refresh, access) = minter.login(1);
    let context = Context::new(minter.obtain_pairs(&refresh, &access), server.now()).with_user("1");
    server.register(context).unwrap();
    (refresh, access)
}

#[test]
fn an_expiry_made_elsewhere_is_seen() {
    for backend in backends("revocation") {
        let clock = ManualClock::at(NOW);
        let server = open_cached(&backend, &clock);
        // The "command line": another registry, its own connections.
        let elsewhere = common::open(&backend, &clock);
        let minter = Minter::new(&clock);
        let (refresh, access) = registered_login(&server, &minter);
        assert_eq!(
            server
                .verdict(&Presented::jti(access.jti()), jwt_registry::Need::Refusal)
                .unwrap(),
            Verdict::Registered
        );

        elsewhere
            .expire_jti(refresh.jti(), jwt_registry::Reach::Tree)
            .unwrap()
            .unwrap();
        seen_in_time(&backend, "the expiry made elsewhere", || {
            server
                .verdict(&Presented::jti(access.jti()), jwt_registry::Need::Refusal)
                .unwrap()
                == Verdict::ForceExpired
        });
        // Its own expiries are seen at once too.
        let (other, _) = minter.login(1);
        server
            .expire(&[minter.record(&other)], jwt_registry::Reach::Token, &[])
            .unwrap();
        assert_eq!(
            server
                .verdict(&Presented::jti(other.jti()), jwt_registry::Need::Refusal)
                .unwrap(),
            Verdict::ForceExpired
        );
        // An unknown token is Registered for the cached check, Unknown when asked.
        let (stranger, _) = minter.login(3);
        assert_eq!(
            server
                .verdict(&Presented::jti(stranger.jti()), jwt_registry::Need::Refusal)
                .unwrap(),
            Verdict::Registered
        );
        assert_eq!(
            server
                .verdict(
                    &Presented::jti(stranger.jti()),
                    jwt_registry::Need::Registration
                )
                .unwrap(),
            Verdict::Unknown
        );
    }
}

/// The cached list learns what changed and never reloads whole on a write:
/// a force-expired token stays refused until `exp + leeway`, even if its row
/// disappears (a hand edit) and the database changes afterwards. Reloading
/// the whole list after every write is what made one user's many revoked
/// tokens slow everyone's requests.
#[test]
fn the_cached_list_keeps_what_it_learned_across_writes() {
    for backend in backends("revocation_incremental") {
        let clock = ManualClock::at(NOW);
        let server = open_cached(&backend, &clock);
        let minter = Minter::new(&clock);
        let (_, access) = registered_login(&server, &minter);
        server
            .expire(&[minter.record(&access)], jwt_registry::Reach::Token, &[])
            .unwrap();
        let mut conn = server.database().get().unwrap();
        diesel::RunQueryDsl::execute(
            diesel::sql_query(format!(
                "DELETE FROM jwt_token WHERE jti = '{}'",
                access.jti()
            )),
            &mut *conn,
        )
        .unwrap();
        drop(conn);
        // Another write: another login.
        let (other, other_access) = minter.login(2);
        let context =
            Context::new(minter.obtain_pairs(&other, &other_access), server.now()).with_user("2");
        server.register(context).unwrap();
        assert_eq!(
            server
                .verdict(&Presented::jti(access.jti()), jwt_registry::Need::Refusal)
                .unwrap(),
            Verdict::ForceExpired,
            "{}",
            backend.name
        );
    }
}

#[test]
fn the_in_memory_admission_sees_what_was_committed_before_it() {
    use jwt_registry::testing::block_on;
    use jwt_registry::{Admission, Gate};
    for backend in backends("admit_in_memory") {
        let clock = ManualClock::at(NOW);
        let server = open_cached(&backend, &clock);
        let elsewhere = common::open(&backend, &clock);
        let minter = Minter::new(&clock);
        let (refresh, access) = registered_login(&server, &minter);
        let presented = Presented::jti(access.jti());
        let admit = || block_on(server.admit_in_memory(&presented, Gate::Protected));

        assert_eq!(admit().unwrap().unwrap(), Admission::Admitted);
        // Another process logs the login out: refused at the next answer
        // on SQLite, within the notification delay on PostgreSQL.
        elsewhere
            .expire_jti(refresh.jti(), jwt_registry::Reach::Tree)
            .unwrap()
            .unwrap();
        seen_in_time(&backend, "refused", || {
            admit().unwrap().unwrap() == Admission::Refused
        });
        assert_eq!(
            server.admit(&presented, Gate::Protected).unwrap(),
            Admission::Refused,
            "the same answer as admit"
        );

        // require_registered needs the database: no in-memory answer.
        let strict = open_with(&backend, &clock, true);
        assert!(block_on(strict.admit_in_memory(&presented, Gate::Protected)).is_none());
    }
}

/// A user change announced by another process reaches the watchers: on
/// SQLite before the next in-memory answer, on PostgreSQL within the delay,
/// and never as a reload of the whole list.
#[test]
fn user_changes_announced_elsewhere_reach_the_watchers() {
    use std::sync::{Arc, Mutex};

    use jwt_registry::testing::block_on;
    use jwt_registry::{Gate, UserChange};
    for backend in backends("user_changes") {
        let clock = ManualClock::at(NOW);
        let server = open_cached(&backend, &clock);
        let heard: Arc<Mutex<Vec<String>>> = Arc::default();
        let record = Arc::clone(&heard);
        assert!(server.watch_users(move |change| {
            record.lock().unwrap().push(match change {
                UserChange::User(id) => id.to_owned(),
                UserChange::Everyone => "*".to_owned(),
            });
        }));
        let elsewhere = common::open(&backend, &clock);
        elsewhere
            .database()
            .write(|conn| jwt_registry::announce_user_changes(conn, &["42", "bob"]))
            .unwrap();
        let presented = Presented::jti("any");
        seen_in_time(&backend, "both changes heard", || {
            block_on(server.admit_in_memory(&presented, Gate::Protected))
                .unwrap()
                .unwrap();
            heard.lock().unwrap().len() >= 2
        });
        assert_eq!(*heard.lock().unwrap(), ["42", "bob"], "{}", backend.name);

        // A transaction that rolls back announces nothing.
        let failed: Result<(), jwt_registry::db::DbError> = elsewhere.database().write(|conn| {
            jwt_registry::announce_user_changes(conn, &["7"])?;
            Err(diesel::result::Error::RollbackTransaction.into())
        });
        assert!(failed.is_err());
        std::thread::sleep(POSTGRES_DELAY * 2);
        block_on(server.admit_in_memory(&presented, Gate::Protected));
        assert_eq!(heard.lock().unwrap().len(), 2, "{}", backend.name);

        // revocation = "strict" keeps no list: it cannot tell.
        let strict = common::open(&backend, &clock);
        assert!(!strict.watch_users(|_| {}));
    }
}
