//! The database: URL, connections for SQLite and PostgreSQL, the pool,
//! write transactions, migrations.

mod app_pool;
mod connection;
mod error;
mod group;
mod migrate;
mod pool;
mod transaction;
mod url;

pub use connection::{DbConnection, MultiBackend, MultiRawValue};
pub use error::DbError;
pub(crate) use group::GroupWriter;
pub use migrate::{Migrations, pending_migrations, run_migrations};
pub use pool::{Connection, ConnectionSetup, Database, Manager};
pub use transaction::write_transaction;
pub use url::DatabaseUrl;
