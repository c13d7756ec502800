//! Archiving 1 000 000 expired tokens: in batches (what `jwt-server archive`
//! does) beside one `DELETE` of them all, on the same data in the same run.
//! The batches never hold the write lock for long; the longest is printed.
//!
//! `cargo bench -p jwt-registry --bench archive` (`ROWS=100000` for a
//! smaller run). SQLite; PostgreSQL too when `DATABASE_URL` is set.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use jwt_registry::db::{DbConnection, write_transaction};
use jwt_registry::testing::databases;
use jwt_registry::{Registry, RegistrySettings, Revocation};

/// Fills `jwt_token` with `rows` tokens whose own expiry has passed, with a
/// single recursive INSERT (fast: the fill is not what is measured).
fn fill(conn: &mut DbConnection, rows: u64) {
    let sql = match conn {
        DbConnection::Sqlite(_) => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
             INSERT INTO jwt_token (id, jti, token_type, token_digest, payload, parent_id, \
                 expired_at, internal_expired_at, created_at, updated_at) \
             SELECT lower(hex(randomblob(16))), 'jti-' || i, 'access', '', '{{}}', NULL, \
                 '2020-01-01 00:00:00.000000', '2020-01-01 00:00:00.000000', \
                 '2020-01-01 00:00:00.000000', '2020-01-01 00:00:00.000000' FROM n"
        ),
        DbConnection::Pg(_) => format!(
            "INSERT INTO jwt_token (id, jti, token_type, token_digest, payload, parent_id, \
                 expired_at, internal_expired_at, created_at, updated_at) \
             SELECT gen_random_uuid(), 'jti-' || i, 'access', '', '{{}}', NULL, \
                 '2020-01-01', '2020-01-01', '2020-01-01', '2020-01-01' \
             FROM generate_series(1, {rows}) AS i"
        ),
    };
    write_transaction(conn, |conn| conn.batch_execute(&sql)).expect("fill");
}

fn main() {
    let rows: u64 = std::env::var("ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let batch = 1_000;
    println!(
        "| backend | rows | batched (jwt-server archive) | one DELETE (baseline) | ratio | longest batch |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for db in databases("archive_bench") {
        let settings = RegistrySettings {
            database_url: db.url.clone(),
            revocation: Revocation::Strict,
            ..RegistrySettings::default()
        };
        let (registry, _) = Registry::builder(settings).open().expect("registry");
        let mut conn = registry.database().get().expect("conn");

        fill(&mut conn, rows);
        let started = Instant::now();
        let mut last = Instant::now();
        let mut longest = Duration::ZERO;
        let archived = registry
            .archive(Duration::ZERO, batch, |_| {
                longest = longest.max(last.elapsed());
                last = Instant::now();
            })
            .expect("archive");
        let batched = started.elapsed();
        assert_eq!(archived, rows);

        fill(&mut conn, rows);
        let started = Instant::now();
        write_transaction(&mut conn, |conn| {
            conn.batch_execute(
                "DELETE FROM jwt_token WHERE internal_expired_at <= '2021-01-01 00:00:00.000000'",
            )
        })
        .expect("delete");
        let single = started.elapsed();

        println!(
            "| {} | {rows} | {:.2} s | {:.2} s | {:.2}× | {:.1} ms |",
            db.name,
            batched.as_secs_f64(),
            single.as_secs_f64(),
            batched.as_secs_f64() / single.as_secs_f64(),
            longest.as_secs_f64() * 1_000.0
        );
    }
}
