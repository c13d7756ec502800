//! The token registry: every issued token remembered (which user, which
//! device, derived from which token) in SQLite or PostgreSQL, so that any
//! token or a whole login tree can be force-expired at once.
//!
//! [`Registry`] registers the tokens `obtain/` and `refresh/` hand out
//! through a pipeline of steps in one transaction, force-expires tokens and
//! trees, keeps a revocation list in step across processes, lists and ends
//! a user's sessions, and archives old rows. Beneath it: the `[registry]`
//! settings, a pool of connections to SQLite (WAL, busy timeout, foreign
//! keys, `BEGIN IMMEDIATE` writes) or PostgreSQL behind one connection
//! type, and a migration runner (under an advisory lock on PostgreSQL).
//!
//! # Getting started
//!
//! ```
//! use jwt_registry::db::{Database, DatabaseUrl};
//!
//! let dir = tempfile::tempdir()?;
//! let url = DatabaseUrl::parse(dir.path().join("jwt.sqlite3").to_str().unwrap())?;
//! let db = Database::connect(&url)?;
//! db.ping()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! | feature | default | what |
//! | --- | --- | --- |
//! | `sqlite` | yes | SQLite, bundled (nothing to install) |
//! | `postgres` | yes | PostgreSQL through libpq, linked as the final binary chooses (`pq-sys` with `bundled` builds it) |
//! | `config` | no | `RegistrySettings::from_config` |
//! | `testing` | no | `testing::databases`: fresh SQLite and PostgreSQL databases for tests |
//!
//! At least one of `sqlite` and `postgres` is needed; a SQLite-only build
//! links no libpq, and a database URL of a backend not built in is refused.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("jwt-registry needs its `sqlite` feature, its `postgres` feature, or both");

mod admin;
pub mod db;
mod expiry;
mod models;
pub mod pipeline;
mod predicates;
mod raw_sql;
mod record;
mod refresh;
mod registry;
mod revocation;
mod schema;
mod sessions;
mod settings;
#[cfg(feature = "testing")]
pub mod testing;
mod token_manager;
pub mod types;

pub use admin::{TokenInfo, TokenPage, TokenQuery, TokenState};
pub use expiry::DEFAULT_ACCESS_CAP;
pub use models::StoredToken;
pub use pipeline::{Context, Pipeline, Step};
pub use record::{Pair, Presented, TokenRecord, hex};
pub use refresh::{RefreshPolicy, Spent};
pub use registry::{
    Admission, Cleanup, EndSessions, Ended, Gate, Issued, MIGRATIONS, MigrationsBy, OpenError,
    POSTGRES_MIGRATIONS, Registry, RegistryBuilder, RegistryListener, Rotation, SQLITE_MIGRATIONS,
};
pub use revocation::{POSTGRES_DELAY, UserChange};
pub use sessions::{Session, SessionDetails, SessionDetailsSource};
pub use settings::{OnDbDown, RegistrySettings, Revocation};
pub use token_manager::{Need, Reach, Registration, Verdict};

/// Tells every process's registry that these users of the app changed
/// (deactivated, password or rights changed, deleted), so that their user
/// caches forget them: call it in the transaction that changes them. On
/// PostgreSQL it sends `NOTIFY` payloads (delivered at commit, seen within
/// [`POSTGRES_DELAY`]); on SQLite it writes rows of `jwt_revocation_log`
/// (seen at the next request). Ids as the registry stores them: decimal
/// for integer ids. See [`Registry::watch_users`].
pub fn announce_user_changes(
    conn: &mut db::DbConnection,
    user_ids: &[&str],
) -> Result<(), db::DbError> {
    let now = types::Moment::from_system_time(std::time::SystemTime::now());
    expiry::announce_user_changes(conn, user_ids, now)
}
