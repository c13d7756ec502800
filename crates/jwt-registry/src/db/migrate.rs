//! Running embedded migrations, safely when several instances start at once.

use std::collections::HashSet;

use diesel::RunQueryDsl;
use diesel::migration::MigrationSource;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

#[cfg(feature = "sqlite")]
use super::write_transaction;
use super::{Database, DbConnection, DbError};

/// The migrations of one owner (a crate), for each backend: functions
/// returning the constants `embed_migrations!` makes. A crate with its
/// migrations in `migrations/sqlite` and `migrations/postgres` (beside its
/// `Cargo.toml`) declares them with
/// [`embedded_migrations!`](crate::embedded_migrations).
#[derive(Clone, Copy, Debug)]
pub struct Migrations {
    /// Shown in logs and by `jwt-server migrate`.
    pub owner: &'static str,
    /// The SQLite migrations.
    pub sqlite: fn() -> EmbeddedMigrations,
    /// The PostgreSQL migrations.
    pub postgres: fn() -> EmbeddedMigrations,
}

/// Declares the calling crate's migrations, embedded from its
/// `migrations/sqlite` and `migrations/postgres` folders: a constant per
/// backend, for an app's own `MigrationHarness`, and the [`Migrations`]
/// of both for [`run_migrations`] and `RegistryBuilder::migrations`. The
/// calling crate depends on `diesel_migrations` (its `embed_migrations!`
/// reads the folders at build time).
///
/// ```ignore
/// jwt_registry::embedded_migrations!(pub MIGRATIONS, SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS, "server");
/// ```
#[macro_export]
macro_rules! embedded_migrations {
    ($vis:vis $both:ident, $sqlite:ident, $postgres:ident, $owner:literal) => {
        #[doc = concat!("The ", $owner, " migrations for SQLite, for an app's own `MigrationHarness`.")]
        $vis const $sqlite: ::diesel_migrations::EmbeddedMigrations =
            ::diesel_migrations::embed_migrations!("migrations/sqlite");
        #[doc = concat!("The ", $owner, " migrations for PostgreSQL, for an app's own `MigrationHarness`.")]
        $vis const $postgres: ::diesel_migrations::EmbeddedMigrations =
            ::diesel_migrations::embed_migrations!("migrations/postgres");
        #[doc = concat!("The ", $owner, " migrations for both backends (`RegistryBuilder::migrations`, `run_migrations`).")]
        $vis const $both: $crate::db::Migrations = $crate::db::Migrations {
            owner: $owner,
            sqlite: || $sqlite,
            postgres: || $postgres,
        };
    };
}

/// An arbitrary constant naming the migration lock.
#[cfg(feature = "postgres")]
const ADVISORY_LOCK: i64 = 0x6a77_742d_6d69_6772;

/// Runs the pending migrations of each set, in order, and returns the
/// versions applied (`owner/version`). Two instances starting at once do
/// not race: on PostgreSQL an advisory lock is held meanwhile; on SQLite
/// the whole run is one `BEGIN IMMEDIATE` transaction (each migration a
/// savepoint), so the second sees what the first applied.
///
/// Versions of all owners share Diesel's `__diesel_schema_migrations`:
/// owners must not reuse each other's version strings.
pub fn run_migrations(db: &Database, sets: &[Migrations]) -> Result<Vec<String>, DbError> {
    let mut conn = db.get()?;
    let conn: &mut DbConnection = &mut conn;
    let mut applied = Vec::new();
    match conn {
        #[cfg(feature = "postgres")]
        DbConnection::Pg(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({ADVISORY_LOCK})")).execute(pg)?;
            let outcome = sets.iter().try_for_each(|set| {
                let versions = pg
                    .run_pending_migrations((set.postgres)())
                    .map_err(|err| DbError::Migration(format!("{}: {err}", set.owner)))?;
                applied.extend(versions.iter().map(|v| format!("{}/{v}", set.owner)));
                Ok::<_, DbError>(())
            });
            let unlocked = diesel::sql_query(format!("SELECT pg_advisory_unlock({ADVISORY_LOCK})"))
                .execute(pg);
            outcome?;
            unlocked?;
        }
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(_) => {
            write_transaction(conn, |conn| {
                let Some(sqlite) = conn.sqlite() else {
                    return Ok(());
                };
                for set in sets {
                    let versions = sqlite
                        .run_pending_migrations((set.sqlite)())
                        .map_err(|err| DbError::Migration(format!("{}: {err}", set.owner)))?;
                    applied.extend(versions.iter().map(|v| format!("{}/{v}", set.owner)));
                }
                Ok::<_, DbError>(())
            })?;
        }
    }
    Ok(applied)
}

/// The migrations of `sets` not applied yet, as `owner/version`; empty when
/// the database is up to date. Only reads: a database whose migrations
/// never ran (no `__diesel_schema_migrations` table) has all of them
/// pending.
pub fn pending_migrations(db: &Database, sets: &[Migrations]) -> Result<Vec<String>, DbError> {
    let mut conn = db.get()?;
    let applied = applied_versions(&mut conn)?;
    let mut pending = Vec::new();
    for set in sets {
        let versions = match &*conn {
            #[cfg(feature = "postgres")]
            DbConnection::Pg(_) => versions::<diesel::pg::Pg>(&(set.postgres)()),
            #[cfg(feature = "sqlite")]
            DbConnection::Sqlite(_) => versions::<diesel::sqlite::Sqlite>(&(set.sqlite)()),
        }
        .map_err(|err| DbError::Migration(format!("{}: {err}", set.owner)))?;
        pending.extend(
            versions
                .into_iter()
                .filter(|version| !applied.contains(version))
                .map(|version| format!("{}/{version}", set.owner)),
        );
    }
    Ok(pending)
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// The versions Diesel recorded as applied, without creating its table.
fn applied_versions(conn: &mut DbConnection) -> Result<HashSet<String>, DbError> {
    let exists = if conn.is_postgres() {
        "SELECT COUNT(*) AS n FROM information_schema.tables \
         WHERE table_name = '__diesel_schema_migrations' AND table_schema = current_schema()"
    } else {
        "SELECT COUNT(*) AS n FROM sqlite_master \
         WHERE type = 'table' AND name = '__diesel_schema_migrations'"
    };
    let found: Count = diesel::sql_query(exists).get_result(conn)?;
    if found.n == 0 {
        return Ok(HashSet::new());
    }
    let rows: Vec<Version> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations").load(conn)?;
    Ok(rows.into_iter().map(|row| row.version).collect())
}

/// The versions of a set of migrations for one backend.
fn versions<DB: diesel::backend::Backend>(
    source: &impl MigrationSource<DB>,
) -> diesel::migration::Result<Vec<String>> {
    Ok(source
        .migrations()?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect())
}
