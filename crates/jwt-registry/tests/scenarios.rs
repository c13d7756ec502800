//! The Django package's registry scenarios, on SQLite and (with
//! `DATABASE_URL`) PostgreSQL.

mod common;

use std::time::Duration;

use common::{Minter, NOW, backends, count, open};
use jwt_core::{ManualClock, Token};
use jwt_registry::Verdict;
use jwt_registry::testing::rows;
use jwt_registry::{Context, Pair, Presented, Registry};

fn obtain(registry: &Registry, minter: &Minter, user: i64) -> (Token, Token) {
    let (refresh, access) = minter.login(user);
    let context = Context::new(minter.obtain_pairs(&refresh, &access), registry.now())
        .with_user(user.to_string());
    registry.register(context).unwrap();
    (refresh, access)
}

/// What `refresh/` registers: `(access, refresh)`, or with rotation
/// `(access, new refresh)` and `(new refresh, refresh)`; no user.
fn refresh(
    registry: &Registry,
    minter: &Minter,
    refresh: &Token,
    rotate: bool,
) -> (Token, Option<Token>) {
    let access = minter.tokens.access_from(refresh).unwrap();
    let (pairs, new_refresh) = if rotate {
        let new_refresh = minter.tokens.rotate(refresh).unwrap();
        (
            vec![
                Pair {
                    token: minter.record(&access),
                    parent: Some(minter.record(&new_refresh)),
                },
                Pair {
                    token: minter.record(&new_refresh),
                    parent: Some(minter.record(refresh)),
                },
            ],
            Some(new_refresh),
        )
    } else {
        (
            vec![Pair {
                token: minter.record(&access),
                parent: Some(minter.record(refresh)),
            }],
            None,
        )
    };
    registry
        .register(Context::new(pairs, registry.now()))
        .unwrap();
    (access, new_refresh)
}

fn parent_of(registry: &Registry, token: &Token) -> Option<String> {
    let mut conn = registry.database().get().unwrap();
    let row = rows::find_by_jti(&mut conn, token.jti()).unwrap().unwrap();
    let parent = row.parent_id?;
    let rows = rows::find_by_user(&mut conn, "1").unwrap();
    rows.into_iter().find(|r| r.id == parent).map(|r| r.jti)
}

fn force_expired(registry: &Registry) -> i64 {
    count(registry, "jwt_token WHERE expired_at < internal_expired_at")
}

fn active(registry: &Registry) -> usize {
    let mut conn = registry.database().get().unwrap();
    rows::active(&mut conn, registry.now()).unwrap().len()
}

#[test]
fn obtain_registers_two_tokens_connected_to_the_user() {
    for backend in backends("obtain") {
        let clock = ManualClock::at(NOW);
        let registry = open(&backend, &clock);
        let minter = Minter::new(&clock);
        let (refresh, access) = obtain(&registry, &minter, 1);
        assert_eq!(count(&registry, "jwt_token"), 2, "{}", backend.name);
        assert_eq!(
            count(&registry, "jwt_token_user_connection WHERE user_id = '1'"),
            2
        );
        assert_eq!(
            parent_of(&registry, &access),
            Some(refresh.jti().to_owned())
        );
        assert_eq!(parent_of(&registry, &refresh), None);
        // The row holds the claims and a digest, never the token.
        let mut conn = registry.database().get().unwrap();
        let row = rows::find_by_jti(&mut conn, access.jti()).unwrap().unwrap();
        assert_eq!(row.token_type, "access");
        assert_eq!(row.token_digest.len(), 64);
        assert_eq!(row.expired_at, row.internal_expired_at, "registered active");
        assert_eq!(row.internal_expired_at.0.timestamp(), access.expires_at());
    }
}

#[test]
fn refresh_and_rotation_build_the_tree_and_inherit_the_user() {
    for backend in backends("refresh_tree") {
        let clock = ManualClock::at(NOW);
        let registry = open(&backend, &clock);
        let minter = Minter::new(&clock);
        let (base, access) = obtain(&registry, &minter, 1);
        clock.advance(Duration::from_secs(10));
        let (access2, _) = refresh(&registry, &minter, &base, false);
        assert_eq!(count(&registry, "jwt_token"), 3, "{}", backend.name);
        assert_eq!(parent_of(&registry, &access2), Some(base.jti().to_owned()));
        assert_eq!(
            count(&registry, "jwt_token_user_connection"),
            3,
            "the user is inherited"
        );

        clock.advance(Duration::from_secs(10));
        let (access3, new_refresh) = refresh(&registry, &minter, &base, true);
        let new_refresh = new_refresh.unwrap();
        assert_eq!(count(&registry, "jwt_token"), 5);
        assert_eq!(count(&registry, "jwt_token_user_connection"), 5);
        for (child, parent) in [
            (&access, &base),
            (&access2, &base),
            (&new_refresh, &base),
            (&access3, &new_refresh),
        ] {
            assert_eq!(
                parent_of(&registry, child),
                Some(parent.jti().to_owned()),
                "{}",
                backend.name
            );
        }
    }
}

#[test]
fn a_refresh_with_several_users_or_none_connects_nobody() {
    for backend in backends("no_user") {
        let clock = ManualClock::at(NOW);
        let registry = open(&backend, &clock);
        let minter = Minter::new(&clock);
        // A refresh token the registry never saw: registered, connected to no one.
        let (stranger, _) = minter.login(9);
        refresh(&registry, &minter, &stranger, false);
        assert_eq!(count(&registry, "jwt_token"), 2, "{}", backend.name);
        assert_eq!(count(&registry, "jwt_token_user_connection"), 0);
    }
}

#[test]
fn expire_one_token_or_a_whole_tree_and_nothing_of_another_login() {
    for backend in backends("expire") {
        let clock = ManualClock::at(NOW);
        let registry = open(&backend, &clock);
        let minter = Minter::new(&clock);
        let (base, access) = obtain(&registry, &minter, 1);
        let (access2, _) = refresh(&registry, &minter, &base, false);
        let (other_refresh, other_access) = obtain(&registry, &minter, 1);
        clock.advance(Duration::from_secs(1));

        let expired = registry
            .expire(&[minter.record(&access)], jwt_registry::Reach::Token, &[])
            .unwrap();
        assert_eq!(expired, [access.jti().to_owned()], "{}", backend.name);
        assert_eq!(force_expired(&registry), 1);
        // Again: already expired, nothing more.
        assert!(
            registry
                .expire(&[minter.record(&access)], jwt_registry::Reach::Token, &[])
                .unwrap()
                .is_empty()
        );

        let mut tree = registry
            .expire(&[minter.record(&access2)], jwt_registry::Reach::Tree, &[])
            .unwrap();
        tree.sort();
        let mut want = vec![base.jti().to_owned(), access2.jti().to_owned()];
        want.sort();
        assert_eq!(tree, want, "the rest of the tree: base and access2");
        assert_eq!(force_expired(&registry), 3);
        assert_eq!(active(&registry), 2, "the second login is untouched");
        let mut conn = registry.database().get().unwrap();
        for token in [&other_refresh, &other_access] {
            assert_eq!(
                rows::status(&mut conn, token.jti(), None, None).unwrap(),
                Verdict::Registered
            );
        }
        assert_eq!(
            rows::status(&mut conn, base.jti(), None, None).unwrap(),
            Verdict::ForceExpired
        );
    }
}

#[test]
fn expire_on_refresh_semantics() {
    // What refresh/ does with expire_on_refresh: register the new tokens,
    // then expire the rest of the tree but them (and, without rotation, the
    // refresh token itself).
    fn refresh_expiring_the_rest(
        registry: &Registry,
        minter: &Minter,
        base: &Token,
        rotate: bool,
    ) -> (Token, Option<Token>) {
        let (access, rotated) = refresh(registry, minter, base, rotate);
        let mut spared = vec![access.jti()];
        spared.extend(rotated.as_ref().map(Token::jti));
        if !rotate {
            spared.push(base.jti());
        }
        registry
            .expire(&[minter.record(base)], jwt_registry::Reach::Tree, &spared)
            .unwrap();
        (access, rotated)
    }
    for backend in backends("expire_on_refresh") {
        let clock = ManualClock::at(NOW);
        let registry = open(&backend, &clock);
        let minter = Minter::new(&clock);
        let (base, _) = obtain(&registry, &minter, 1);
        clock.advance(Duration::from_secs(1));
        // Without rotation: the login's access token goes, the refresh
        // token and the new access token stay.
        refresh_expiring_the_rest(&registry, &minter, &base, false);
        assert_eq!(
            (force_expired(&registry), active(&registry)),
            (1, 2),
            "{}",
            backend.name
        );
        // A second refresh of the same token: 2 expired, 2 active.
        clock.advance(Duration::from_secs(1));
        refresh_expiring_the_rest(&registry, &minter, &base, false);
        assert_eq!((force_expired(&registry), active(&registry)), (2, 2));
        // With rotation: the old tree entirely, the two new tokens live.
        clock.advance(Duration::from_secs(1));
        let (access, rotated) = refresh_expiring_the_rest(&registry, &minter, &base, true);
        assert_eq!((force_expired(&registry), active(&registry)), (4, 2));
        for token in [&access, rotated.as_ref().unwrap()] {
            assert_eq!(
                registry
                    .verdict(
                        &Presented::jti(token.jti()),
                        jwt_registry::Need::Registration
                    )
                    .unwrap(),
                Verdict::Registered
            );
        }
    }
}

#[test]
fn a_token_expired_before_its_registration_lands_stays_expired() {
    for backend in backends("late_registration") {
        let clock = ManualClock::at(NOW);
        let registry = open(&backend, &clock);
        let minter = Minter::new(&clock);
        let (refresh, access) = minter.login(1);
        // expire/ first: the registry never saw it, so it gets a row, force-expired.
        let expired = registry
            .expire(&[minter.record(&refresh)], jwt_registry::Reach::Tree, &[])
            .unwrap();
        assert_eq!(expired, [refresh.jti().to_owned()], "{}", backend.name);
        // Then the (background) registration of the obtain lands.
        let context =
            Context::new(minter.obtain_pairs(&refresh, &access), registry.now()).with_user("1");
        registry.register(context).unwrap();
        let mut conn = registry.database().get().unwrap();
        assert_eq!(
            rows::status(&mut conn, refresh.jti(), None, None).unwrap(),
            Verdict::ForceExpired
        );
        assert_eq!(
            rows::status(&mut conn, access.jti(), None, None).unwrap(),
            Verdict::ForceExpired,
            "{}: derived from a force-expired token, the access token is born force-expired",
            backend.name
        );
    }
}

#[test]
fn tokens_derived_from_a_force_expired_token_are_born_force_expired() {
    for backend in backends("born_expired") {
        let clock = ManualClock::at(NOW);
        let registry = open(&backend, &clock);
        let minter = Minter::new(&clock);
        let (root, _) = obtain(&registry, &minter, 1);
        let (other, _) = obtain(&registry, &minter, 1);
        // A refresh (with rotation) minted from the root while a logout
        // expires the tree: its registration lands after the expiry.
        let access = minter.tokens.access_from(&root).unwrap();
        let rotated = minter.tokens.rotate(&root).unwrap();
        registry
            .expire(&[minter.record(&root)], jwt_registry::Reach::Tree, &[])
            .unwrap();
        let pairs = vec![
            Pair {
                token: minter.record(&access),
                parent: Some(minter.record(&rotated)),
            },
            Pair {
                token: minter.record(&rotated),
                parent: Some(minter.record(&root)),
            },
        ];
        let context = registry
            .register(Context::new(pairs, registry.now()))
            .unwrap();
        let mut born = context.registration.unwrap().born_expired();
        born.sort();
        let mut expected = vec![access.jti().to_owned(), rotated.jti().to_owned()];
        expected.sort();
        assert_eq!(born, expected, "{}: two generations down", backend.name);
        for token in [&access, &rotated] {
            assert_eq!(
                registry
                    .verdict(
                        &Presented::jti(token.jti()),
                        jwt_registry::Need::Registration
                    )
                    .unwrap(),
                Verdict::ForceExpired,
                "{}",
                backend.name
            );
        }
        // Another login's refresh registers alive.
        let (fresh, _) = refresh(&registry, &minter, &other, false);
        assert_eq!(
            registry
                .verdict(
                    &Presented::jti(fresh.jti()),
                    jwt_registry::Need::Registration
                )
                .unwrap(),
            Verdict::Registered,
            "{}",
            backend.name
        );
    }
}

#[test]
fn the_archiver_deletes_what_is_past_its_own_expiry() {
    for backend in backends("archive") {
        let clock = ManualClock::at(NOW);
        let registry = open(&backend, &clock);
        let minter = Minter::new(&clock);
        let (base, _) = obtain(&registry, &minter, 1);
        refresh(&registry, &minter, &base, false);
        clock.advance(Duration::from_secs(10));
        obtain(&registry, &minter, 2);
        assert_eq!(count(&registry, "jwt_token"), 5);
        // The two access tokens of the first login are past their 5 minutes.
        clock.set(NOW + 305);
        assert_eq!(
            registry.archivable(Duration::ZERO).unwrap(),
            2,
            "{}",
            backend.name
        );
        assert_eq!(
            registry.archivable(Duration::from_secs(60)).unwrap(),
            0,
            "not yet a minute past"
        );
        let mut seen = Vec::new();
        let archived = registry
            .archive(Duration::ZERO, 1, |done| seen.push(done))
            .unwrap();
        assert_eq!(archived, 2);
        assert_eq!(seen, [1, 2, 2], "batches of one, then an empty one");
        assert_eq!(count(&registry, "jwt_token"), 3);
        assert_eq!(
            count(&registry, "jwt_token_user_connection"),
            3,
            "connections went with their tokens"
        );
    }
}

#[test]
fn collect_tree_follows_links_both_ways_in_one_statement() {
    for backend in backends("collect_tree") {
        let clock = ManualClock::at(NOW);
        let registry = open(&backend, &clock);
        let minter = Minter::new(&clock);
        let (base, access) = obtain(&registry, &minter, 1);
        let (_, rotated) = refresh(&registry, &minter, &base, true);
        let (access4, _) = refresh(&registry, &minter, rotated.as_ref().unwrap(), false);
        let (other, _) = obtain(&registry, &minter, 1);
        let mut conn = registry.database().get().unwrap();
        let id = |jti: &str, conn: &mut _| rows::find_by_jti(conn, jti).unwrap().unwrap().id;
        let seed = id(access.jti(), &mut conn);
        let tree = rows::collect_tree(&mut conn, &[seed]).unwrap();
        assert_eq!(
            tree.len(),
            5,
            "{}: up to the root and down every branch",
            backend.name
        );
        assert!(tree.contains(&id(access4.jti(), &mut conn)));
        assert!(!tree.contains(&id(other.jti(), &mut conn)));
    }
}

#[test]
fn forgetting_a_user_removes_their_tokens_and_connections() {
    for backend in backends("forget_user") {
        let clock = ManualClock::at(NOW);
        let registry = open(&backend, &clock);
        let minter = Minter::new(&clock);
        obtain(&registry, &minter, 1);
        obtain(&registry, &minter, 2);
        assert_eq!(registry.forget_user("1").unwrap(), 2, "{}", backend.name);
        assert_eq!(count(&registry, "jwt_token"), 2);
        assert_eq!(
            count(&registry, "jwt_token_user_connection WHERE user_id = '1'"),
            0
        );
    }
}
