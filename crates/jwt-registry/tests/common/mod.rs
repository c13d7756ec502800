//! Databases for the registry's tests: a temp SQLite file always, a fresh
//! PostgreSQL database when `DATABASE_URL` is set.
#![allow(dead_code)]

use jwt_core::{ManualClock, Token, TokenService, TokenSettings};
use jwt_registry::{Pair, Registry, RegistrySettings, Revocation, TokenRecord};

pub use jwt_registry::testing::{TestDatabase as Backend, databases as backends};

pub const NOW: i64 = 1_793_491_200;

/// Asks `seen` until it says yes: on SQLite at the first asking (a change
/// made elsewhere is seen at the next check), on PostgreSQL within ten
/// listener delays.
pub fn seen_in_time(backend: &Backend, what: &str, mut seen: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !seen() {
        assert!(
            backend.name != "sqlite" && started.elapsed() < jwt_registry::POSTGRES_DELAY * 10,
            "{}: {what}, still not after {:?}",
            backend.name,
            started.elapsed()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

pub fn settings(backend: &Backend) -> RegistrySettings {
    RegistrySettings {
        database_url: backend.url.clone(),
        revocation: Revocation::Strict,
        ..RegistrySettings::default()
    }
}

pub fn open(backend: &Backend, clock: &ManualClock) -> Registry {
    Registry::builder(settings(backend))
        .clock(std::sync::Arc::new(clock.clone()))
        .open()
        .unwrap()
        .0
}

/// Mints tokens like the views do, on the test clock.
pub struct Minter {
    pub tokens: TokenService,
}

impl Minter {
    pub fn new(clock: &ManualClock) -> Self {
        let settings = TokenSettings {
            signing_key: "registry-tests-key-0123456789abcdef0123456789".into(),
            ..TokenSettings::default()
        };
        Minter {
            tokens: TokenService::builder(&settings)
                .clock(clock.clone())
                .build()
                .unwrap(),
        }
    }

    pub fn record(&self, token: &Token) -> TokenRecord {
        TokenRecord::new(token, &self.tokens.encode(token).unwrap())
    }

    /// A login: (refresh, access) records and the tokens.
    pub fn login(&self, user: i64) -> (Token, Token) {
        let refresh = self.tokens.refresh_for_user(user).unwrap();
        let access = self.tokens.access_from(&refresh).unwrap();
        (refresh, access)
    }

    pub fn obtain_pairs(&self, refresh: &Token, access: &Token) -> Vec<Pair> {
        vec![
            Pair {
                token: self.record(refresh),
                parent: None,
            },
            Pair {
                token: self.record(access),
                parent: Some(self.record(refresh)),
            },
        ]
    }
}

#[allow(unused_imports)]
pub use jwt_registry::testing::count;
