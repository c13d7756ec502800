//! An app that runs the registry's migrations with its own harness: the
//! registry refuses to open while any is pending, and opens without
//! running anything once they ran. SQLite always, PostgreSQL with
//! `DATABASE_URL`.

use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use diesel_migrations::MigrationHarness;
use jwt_registry::testing::databases;
use jwt_registry::{MigrationsBy, OpenError, Registry, RegistrySettings};

fn open(url: &str) -> Result<(Registry, Vec<String>), OpenError> {
    Registry::builder(RegistrySettings {
        database_url: url.to_owned(),
        ..RegistrySettings::default()
    })
    .migrations_by(MigrationsBy::App)
    .open()
}

#[test]
fn the_app_runs_the_migrations_and_the_registry_only_checks_them() {
    for db in databases("app_migrations") {
        let name = db.name;
        let refused = open(&db.url).expect_err("pending migrations refuse the start");
        let message = refused.to_string();
        assert!(
            message.contains("registry/") && message.contains("migration harness"),
            "{name}: {message}"
        );

        // Refusing wrote nothing: not even Diesel's bookkeeping table.
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let tables = if name == "sqlite" {
            let mut conn = SqliteConnection::establish(&db.url).unwrap();
            diesel::sql_query("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'")
                .get_result::<Count>(&mut conn)
                .unwrap()
                .n
        } else {
            let mut conn = PgConnection::establish(&db.url).unwrap();
            diesel::sql_query(
                "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()",
            )
            .get_result::<Count>(&mut conn)
            .unwrap()
            .n
        };
        assert_eq!(tables, 0, "{name}: the refused start created no table");

        // The app's own runner, on a connection of its own.
        let ran = if name == "sqlite" {
            let mut conn = SqliteConnection::establish(&db.url).unwrap();
            conn.run_pending_migrations(jwt_registry::SQLITE_MIGRATIONS)
                .unwrap()
                .len()
        } else {
            let mut conn = PgConnection::establish(&db.url).unwrap();
            conn.run_pending_migrations(jwt_registry::POSTGRES_MIGRATIONS)
                .unwrap()
                .len()
        };
        assert!(ran > 0, "{name}");

        let (registry, _) = open(&db.url).expect("opens once the migrations ran");
        assert_eq!(
            jwt_registry::testing::count(&registry, "__diesel_schema_migrations"),
            i64::try_from(ran).unwrap(),
            "{name}: the registry's open recorded no migration of its own"
        );
        assert_eq!(
            jwt_registry::testing::count(&registry, "jwt_token"),
            0,
            "{name}: the tables are there"
        );
    }
}
