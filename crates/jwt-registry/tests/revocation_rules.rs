//! What cuts a token off stays cut off: inside the leeway, whatever the
//! order registrations and refreshes arrive in, for tokens the registry
//! never saw ("log out everywhere"), past the per-login cap. On SQLite and
//! (with `DATABASE_URL`) PostgreSQL, in both revocation modes, with two
//! registries on one database where a second instance matters.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Minter, NOW, backends, count};
use jwt_core::{ManualClock, Token};
use jwt_registry::Verdict;
use jwt_registry::testing::rows;
use jwt_registry::{
    Context, EndSessions, POSTGRES_DELAY, Pair, Presented, RefreshPolicy, Registry,
    RegistrySettings, Revocation, Spent,
};

const LEEWAY: Duration = Duration::from_secs(30);

fn open_with(
    backend: &common::Backend,
    clock: &ManualClock,
    revocation: Revocation,
    tune: impl FnOnce(RegistrySettings) -> RegistrySettings,
) -> Registry {
    let settings = tune(RegistrySettings {
        revocation,
        ..common::settings(backend)
    });
    Registry::builder(settings)
        .clock(Arc::new(clock.clone()))
        .leeway(LEEWAY)
        .open()
        .unwrap()
        .0
}

fn open(backend: &common::Backend, clock: &ManualClock, revocation: Revocation) -> Registry {
    open_with(backend, clock, revocation, |s| s)
}

fn obtain(registry: &Registry, minter: &Minter, user: i64) -> (Token, Token) {
    let (refresh, access) = minter.login(user);
    let context = Context::new(minter.obtain_pairs(&refresh, &access), registry.now())
        .with_user(user.to_string());
    registry.register(context).unwrap();
    (refresh, access)
}

/// What a refresh registers, for `user`: `(access, new refresh)` and
/// `(new refresh, refresh)`.
fn rotation(minter: &Minter, refresh: &Token) -> (Token, Token, Vec<Pair>) {
    let access = minter.tokens.access_from(refresh).unwrap();
    let rotated = minter.tokens.rotate(refresh).unwrap();
    let pairs = vec![
        Pair {
            token: minter.record(&access),
            parent: Some(minter.record(&rotated)),
        },
        Pair {
            token: minter.record(&rotated),
            parent: Some(minter.record(refresh)),
        },
    ];
    (access, rotated, pairs)
}

fn presented(token: &Token) -> Presented<'_> {
    Presented {
        jti: token.jti(),
        user_id: Some("1"),
        issued_at: token.issued_at(),
    }
}

/// The status as a protected route sees it, after waiting (at most a few
/// PostgreSQL delays) for `want`.
fn status_becomes(registry: &Registry, token: &Token, want: Verdict, what: &str) {
    let started = Instant::now();
    loop {
        let status = registry
            .verdict(&presented(token), jwt_registry::Need::Refusal)
            .unwrap();
        if status == want {
            return;
        }
        assert!(
            started.elapsed() < POSTGRES_DELAY * 10,
            "{what}: still {status:?}, want {want:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_token_past_its_exp_but_inside_the_leeway_can_be_cut_off_and_stays_cut_off() {
    for backend in backends("leeway") {
        for revocation in [Revocation::Cached, Revocation::Strict] {
            let what = format!("{} {revocation:?}", backend.name);
            let clock = ManualClock::at(NOW);
            let registry = open(&backend, &clock, revocation);
            let minter = Minter::new(&clock);
            let (_, access) = obtain(&registry, &minter, 1);
            // Past its exp, inside the leeway: verification still accepts it.
            clock.advance(Duration::from_secs(300 + 10));
            let expired =
                registry.expire(&[minter.record(&access)], jwt_registry::Reach::Token, &[]);
            assert_eq!(
                expired.unwrap(),
                [access.jti().to_owned()],
                "{what}: expiring it does something"
            );
            let mut conn = registry.database().get().unwrap();
            let row = rows::find_by_jti(&mut conn, access.jti()).unwrap().unwrap();
            drop(conn);
            assert!(row.is_force_expired(), "{what}: stored force-expired");
            assert_eq!(
                row.expired_at,
                row.internal_expired_at.just_before(),
                "{what}: exp - 1 µs, not now"
            );
            // Any write (another login) makes the cached list catch up; the
            // token must stay refused.
            obtain(&registry, &minter, 2);
            assert_eq!(
                registry
                    .verdict(&presented(&access), jwt_registry::Need::Refusal)
                    .unwrap(),
                Verdict::ForceExpired,
                "{what}: refused after a write"
            );
            // Nor does the archiver forget it while it could be accepted.
            assert_eq!(registry.archive(Duration::ZERO, 1000, |_| ()).unwrap(), 0);
            assert_eq!(
                registry
                    .verdict(&presented(&access), jwt_registry::Need::Registration)
                    .unwrap(),
                Verdict::ForceExpired,
                "{what}: still stored"
            );
            clock.advance(LEEWAY);
            assert_eq!(
                registry.archive(Duration::ZERO, 1000, |_| ()).unwrap(),
                1,
                "{what}: forgotten once exp + leeway passed"
            );
        }
    }
}

#[test]
fn another_process_sees_a_cut_inside_the_leeway() {
    for backend in backends("leeway_elsewhere") {
        let clock = ManualClock::at(NOW);
        let server = open(&backend, &clock, Revocation::Cached);
        let elsewhere = open(&backend, &clock, Revocation::Strict);
        let minter = Minter::new(&clock);
        let (refresh, access) = obtain(&server, &minter, 1);
        clock.advance(Duration::from_secs(300 + 5));
        let expired = elsewhere
            .expire_jti(refresh.jti(), jwt_registry::Reach::Tree)
            .unwrap()
            .unwrap();
        assert_eq!(expired, 2, "{}: the access token too", backend.name);
        status_becomes(&server, &access, Verdict::ForceExpired, backend.name);
    }
}

/// The thief's race: R0 → R1 on one instance, whose registration of R1 is
/// late; R1 → R2 on the other, which stores R1 as a root of its own; the
/// victim replays R0. When R1's registration lands, R1 joins R0's dead
/// family, and R2 with it.
#[test]
fn a_late_registration_links_its_token_into_the_family_and_the_family_s_death() {
    for backend in backends("late_registration") {
        let name = backend.name;
        let clock = ManualClock::at(NOW);
        let one = open(&backend, &clock, Revocation::Cached);
        let two = open(&backend, &clock, Revocation::Cached);
        let minter = Minter::new(&clock);
        let policy = RefreshPolicy {
            single_use: true,
            grace: Duration::ZERO,
            max_lifetime: Some(Duration::from_secs(3600)),
        };
        let spend = |registry: &Registry, token: &Token| {
            registry
                .spend_refresh(&minter.record(token), Some("1"), policy)
                .unwrap()
        };
        let (r0, _) = obtain(&one, &minter, 1);
        clock.advance(Duration::from_secs(1));
        assert_eq!(spend(&one, &r0), Spent::Fresh, "{name}: R0 → R1");
        let (a1, r1, late) = rotation(&minter, &r0);
        // R1 → R2 on the other instance, before R1's registration landed.
        assert_eq!(spend(&two, &r1), Spent::Fresh, "{name}: R1 → R2");
        let (a2, r2, pairs) = rotation(&minter, &r1);
        two.register(Context::new(pairs, two.now()).with_user("1"))
            .unwrap();
        // The victim's replay of R0 kills R0's family: R1 is not in it yet.
        assert!(
            matches!(spend(&one, &r0), Spent::Replayed { .. }),
            "{name}: replay"
        );
        assert_eq!(
            two.verdict(&presented(&r2), jwt_registry::Need::Registration)
                .unwrap(),
            Verdict::Registered,
            "{name}: R2 detached, still alive"
        );
        // R1's registration lands.
        let landed = one
            .register(Context::new(late, one.now()).with_user("1"))
            .unwrap();
        let registration = landed.registration.unwrap();
        assert_eq!(registration.relinked, [r1.jti().to_owned()], "{name}");
        for (token, what) in [(&r1, "R1"), (&r2, "R2"), (&a2, "A2"), (&a1, "A1")] {
            assert_eq!(
                one.verdict(&presented(token), jwt_registry::Need::Registration)
                    .unwrap(),
                Verdict::ForceExpired,
                "{name}: {what} died with its family"
            );
            status_becomes(&two, token, Verdict::ForceExpired, name);
        }
    }
}

#[test]
fn a_relinked_login_is_as_old_as_its_first_token() {
    for backend in backends("late_registration_age") {
        let name = backend.name;
        let clock = ManualClock::at(NOW);
        let registry = open(&backend, &clock, Revocation::Strict);
        let minter = Minter::new(&clock);
        let policy = RefreshPolicy {
            single_use: false,
            grace: Duration::ZERO,
            max_lifetime: Some(Duration::from_secs(600)),
        };
        let (r0, _) = obtain(&registry, &minter, 1);
        clock.advance(Duration::from_secs(500));
        let (_, r1, late) = rotation(&minter, &r0);
        // R1 used before its registration landed: stored as a root, whose
        // login would begin now.
        let spent = registry.spend_refresh(&minter.record(&r1), Some("1"), policy);
        assert_eq!(spent.unwrap(), Spent::Fresh, "{name}");
        registry
            .register(Context::new(late, registry.now()).with_user("1"))
            .unwrap();
        clock.advance(Duration::from_secs(200));
        // 700 s after the login, 200 s after R1 was first seen.
        let spent = registry.spend_refresh(&minter.record(&r1), Some("1"), policy);
        assert_eq!(spent.unwrap(), Spent::TooOld, "{name}: the login's age");
    }
}

/// `expire_on_refresh` with a later refresh's registration landing first:
/// the earlier one's "expire the rest" must not kill the later tokens.
#[test]
fn expire_on_refresh_spares_what_was_derived_from_the_new_tokens() {
    for backend in backends("late_expire_on_refresh") {
        let name = backend.name;
        let clock = ManualClock::at(NOW);
        let registry = open_with(&backend, &clock, Revocation::Strict, |s| RegistrySettings {
            expire_on_refresh: true,
            ..s
        });
        let minter = Minter::new(&clock);
        let (r0, _) = obtain(&registry, &minter, 1);
        let (_, r1, first) = rotation(&minter, &r0);
        let (a2, r2, second) = rotation(&minter, &r1);
        let jtis =
            |pairs: &[Pair]| -> Vec<String> { pairs.iter().map(|p| p.token.jti.clone()).collect() };
        let (first_new, second_new) = (jtis(&first), jtis(&second));
        // The second refresh's registration lands first ...
        registry
            .register(Context::new(second, registry.now()).with_user("1"))
            .unwrap();
        let new: Vec<&str> = second_new.iter().map(String::as_str).collect();
        registry
            .expire_rest_of_login(r1.jti(), &new, jwt_registry::Rotation::Rotated)
            .unwrap();
        // ... then the first's.
        registry
            .register(Context::new(first, registry.now()).with_user("1"))
            .unwrap();
        let new: Vec<&str> = first_new.iter().map(String::as_str).collect();
        registry
            .expire_rest_of_login(r0.jti(), &new, jwt_registry::Rotation::Rotated)
            .unwrap();
        for (token, what) in [(&r2, "R2"), (&a2, "A2")] {
            assert_eq!(
                registry
                    .verdict(&presented(token), jwt_registry::Need::Registration)
                    .unwrap(),
                Verdict::Registered,
                "{name}: {what}, the newest, lives"
            );
        }
        assert_eq!(
            registry
                .verdict(&presented(&r0), jwt_registry::Need::Registration)
                .unwrap(),
            Verdict::ForceExpired,
            "{name}: R0 is the rest"
        );
    }
}

#[test]
fn logging_out_everywhere_refuses_tokens_the_registry_never_saw() {
    // A database each: a cut-off outlives the test's clock.
    for revocation in [Revocation::Cached, Revocation::Strict] {
        for backend in backends("cut_off") {
            let what = format!("{} {revocation:?}", backend.name);
            let clock = ManualClock::at(NOW);
            let registry = open(&backend, &clock, revocation);
            let elsewhere = open(&backend, &clock, Revocation::Cached);
            let minter = Minter::new(&clock);
            let (registered, _) = obtain(&registry, &minter, 1);
            // Minted by the other backend: never registered.
            let (unseen, unseen_access) = minter.login(1);
            let (other_user, _) = minter.login(2);
            let ended = registry.end_sessions("1", EndSessions::All).unwrap();
            assert_eq!(ended.sessions, 1, "{what}");
            assert!(
                ended.settles_in > Duration::ZERO && ended.settles_in <= Duration::from_secs(1),
                "{what}: the rest of the second: {:?}",
                ended.settles_in
            );
            assert_ne!(
                registry
                    .verdict(&presented(&registered), jwt_registry::Need::Refusal)
                    .unwrap(),
                Verdict::Registered,
                "{what}: the registered login (force-expired, and cut off)"
            );
            for (token, name) in [
                (&unseen, "unseen refresh"),
                (&unseen_access, "unseen access"),
            ] {
                assert_eq!(
                    registry
                        .verdict(&presented(token), jwt_registry::Need::Refusal)
                        .unwrap(),
                    Verdict::CutOff,
                    "{what}: {name}"
                );
                status_becomes(&elsewhere, token, Verdict::CutOff, &what);
            }
            let bob = Presented {
                jti: other_user.jti(),
                user_id: Some("2"),
                issued_at: other_user.issued_at(),
            };
            assert_ne!(
                registry.verdict(&bob, jwt_registry::Need::Refusal).unwrap(),
                Verdict::CutOff,
                "{what}: another user's"
            );
            // A login in the next second works.
            clock.advance(Duration::from_secs(1));
            let (fresh, _) = obtain(&registry, &minter, 1);
            assert_eq!(
                registry
                    .verdict(&presented(&fresh), jwt_registry::Need::Refusal)
                    .unwrap(),
                Verdict::Registered,
                "{what}: a later login"
            );
        }
    }
}

#[test]
fn a_login_holds_at_most_the_cap_of_live_access_tokens() {
    for backend in backends("access_cap") {
        let name = backend.name;
        let clock = ManualClock::at(NOW);
        let registry = open_with(&backend, &clock, Revocation::Cached, |s| RegistrySettings {
            live_access_tokens_per_login: 3,
            ..s
        });
        let minter = Minter::new(&clock);
        let (refresh, first) = obtain(&registry, &minter, 1);
        let mut accesses = vec![first];
        for _ in 0..4 {
            clock.advance(Duration::from_secs(1));
            let access = minter.tokens.access_from(&refresh).unwrap();
            let pairs = vec![Pair {
                token: minter.record(&access),
                parent: Some(minter.record(&refresh)),
            }];
            registry
                .register(Context::new(pairs, registry.now()).with_user("1"))
                .unwrap();
            accesses.push(access);
        }
        let statuses: Vec<Verdict> = accesses
            .iter()
            .map(|token| {
                registry
                    .verdict(&presented(token), jwt_registry::Need::Refusal)
                    .unwrap()
            })
            .collect();
        use Verdict::{ForceExpired as Dead, Registered as Live};
        assert_eq!(
            statuses,
            [Dead, Dead, Live, Live, Live],
            "{name}: the oldest go"
        );
        assert_eq!(
            registry
                .verdict(&presented(&refresh), jwt_registry::Need::Refusal)
                .unwrap(),
            Live,
            "{name}: never the refresh token"
        );
        assert_eq!(
            count(&registry, "jwt_token"),
            6,
            "{name}: expired, never deleted"
        );
    }
}

#[test]
fn large_logins_end_whole_in_short_transactions() {
    for backend in backends("batches") {
        let name = backend.name;
        let clock = ManualClock::at(NOW);
        let registry = open_with(&backend, &clock, Revocation::Cached, |s| RegistrySettings {
            live_access_tokens_per_login: 0,
            ..s
        });
        let minter = Minter::new(&clock);
        let (refresh, _) = obtain(&registry, &minter, 1);
        let pairs: Vec<Pair> = (0..2_500)
            .map(|_| Pair {
                token: minter.record(&minter.tokens.access_from(&refresh).unwrap()),
                parent: Some(minter.record(&refresh)),
            })
            .collect();
        registry
            .register(Context::new(pairs, registry.now()).with_user("1"))
            .unwrap();
        let (other, _) = obtain(&registry, &minter, 1);
        let ended = registry
            .end_sessions(
                "1",
                EndSessions::Others {
                    current_jti: other.jti(),
                },
            )
            .unwrap();
        assert_eq!(ended.sessions, 1, "{name}");
        assert_eq!(ended.expired, 2_502, "{name}: every token of it");
        assert_eq!(
            count(
                &registry,
                "jwt_token WHERE expired_at >= internal_expired_at"
            ),
            2,
            "{name}: only the current login lives"
        );
    }
}

/// Logged out before its registration landed: when the registration lands,
/// the login it belongs to is cut off with it.
#[test]
fn a_token_logged_out_before_its_registration_landed_takes_its_login_along() {
    for backend in backends("logout_before_registration") {
        let name = backend.name;
        let clock = ManualClock::at(NOW);
        let registry = open(&backend, &clock, Revocation::Cached);
        let minter = Minter::new(&clock);
        let (refresh, access) = minter.login(1);
        registry.logout("1", &[minter.record(&access)]).unwrap();
        let landed = registry
            .register(
                Context::new(minter.obtain_pairs(&refresh, &access), registry.now()).with_user("1"),
            )
            .unwrap();
        assert_eq!(
            landed.registration.unwrap().relinked,
            [access.jti().to_owned()],
            "{name}"
        );
        for (token, what) in [(&refresh, "refresh"), (&access, "access")] {
            assert_eq!(
                registry
                    .verdict(&presented(token), jwt_registry::Need::Registration)
                    .unwrap(),
                Verdict::ForceExpired,
                "{name}: {what}"
            );
        }
    }
}

/// A registration under a refresh token and a logout of its login, at the
/// same time: the new token is never left alive in the dead login.
#[test]
fn a_registration_racing_a_logout_never_leaves_a_live_token() {
    for backend in backends("registration_races_logout") {
        let name = backend.name;
        let clock = ManualClock::at(NOW);
        let gate = jwt_registry::testing::Gate::default();
        let step = gate.clone();
        let settings = RegistrySettings {
            pipeline: ["register_pairs", "gate", "connecting_user"]
                .map(String::from)
                .to_vec(),
            revocation: Revocation::Strict,
            ..common::settings(&backend)
        };
        let registry = Registry::builder(settings)
            .clock(Arc::new(clock.clone()))
            .step(step)
            .open()
            .unwrap()
            .0;
        let minter = Minter::new(&clock);
        let (refresh, access) = minter.login(1);
        gate.open();
        registry
            .register(
                Context::new(minter.obtain_pairs(&refresh, &access), registry.now()).with_user("1"),
            )
            .unwrap();
        let gate = jwt_registry::testing::Gate::default();
        // A second registry on the same database, its gate closed.
        let step = gate.clone();
        let held = Registry::builder(RegistrySettings {
            pipeline: ["register_pairs", "gate", "connecting_user"]
                .map(String::from)
                .to_vec(),
            revocation: Revocation::Strict,
            ..common::settings(&backend)
        })
        .clock(Arc::new(clock.clone()))
        .step(step)
        .open()
        .unwrap()
        .0;
        let derived = minter.tokens.access_from(&refresh).unwrap();
        let pairs = vec![Pair {
            token: minter.record(&derived),
            parent: Some(minter.record(&refresh)),
        }];
        let registering = {
            let held = held.clone();
            let context = Context::new(pairs, held.now()).with_user("1");
            std::thread::spawn(move || held.register(context).map(|_| ()))
        };
        gate.wait_entered();
        let logging_out = {
            let registry = registry.clone();
            let record = minter.record(&access);
            std::thread::spawn(move || registry.logout("1", &[record]).map(|_| ()))
        };
        std::thread::sleep(Duration::from_millis(300));
        gate.open();
        registering.join().unwrap().unwrap();
        logging_out.join().unwrap().unwrap();
        assert_eq!(
            registry
                .verdict(&presented(&derived), jwt_registry::Need::Registration)
                .unwrap(),
            Verdict::ForceExpired,
            "{name}: registered during the logout, it died with the login"
        );
    }
}
