//! Databases for the registry's tests: a temp SQLite file always, a fresh
//! PostgreSQL database when `DATABASE_URL` is set.
#![allow(dead_code)]

use std::io::Write;

use diesel::{Connection, PgConnection, RunQueryDsl};
use jwt_core::{ManualClock, Token, TokenService, TokenSettings};
use jwt_registry::{Pair, Registry, RegistrySettings, Revocation, TokenRecord};

/// Where a test runs; dropping it removes the database.
pub struct Backend {
    pub name: &'static str,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    drop_pg: Option<(String, String)>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.drop_pg
            && let Ok(mut conn) = PgConnection::establish(admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

pub fn skipped(why: &str) {
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {why}");
}

/// SQLite, and PostgreSQL when DATABASE_URL is set.
pub fn backends(test: &str) -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec![Backend {
        name: "sqlite",
        url: dir
            .path()
            .join("registry.sqlite3")
            .to_str()
            .unwrap()
            .to_owned(),
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
                .unwrap()
                .as_micros();
            let name = format!(
                "jwt_{}_{}_{stamp}",
                test.chars().take(20).collect::<String>(),
                std::process::id()
            );
            let mut conn = PgConnection::establish(&admin).unwrap();
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .unwrap();
            let (prefix, _) = admin.split('?').next().unwrap().rsplit_once('/').unwrap();
            all.push(Backend {
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

pub const NOW: i64 = 1_793_491_200;

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

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// `SELECT COUNT(*) ...` on the registry's database.
pub fn count(registry: &Registry, sql: &str) -> i64 {
    let mut conn = registry.database().get().unwrap();
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {sql}"))
        .get_result::<Count>(&mut *conn)
        .unwrap()
        .n
}
