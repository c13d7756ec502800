//! SQLite: what each freshness round does — `PRAGMA data_version` on a
//! connection of its own, and the log rows written since the last look.

use diesel::RunQueryDsl;
use diesel::sql_types::BigInt;

use super::shm::ShmWatch;
use super::{Revocations, load};
use crate::db::{DbConnection, DbError};
use crate::expiry::{Change, LogRow};
use crate::types::Moment;

/// What the SQLite rounds keep between them.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(super) struct SqliteWatch {
    /// A SQLite connection of its own (never one of the pool's).
    pub(super) conn: DbConnection,
    pub(super) version: i64,
    pub(super) seq: i64,
}

#[derive(diesel::QueryableByName)]
struct DataVersion {
    #[diesel(sql_type = BigInt)]
    data_version: i64,
}

pub(super) fn data_version(conn: &mut DbConnection) -> Result<i64, DbError> {
    let row: DataVersion = diesel::sql_query("PRAGMA data_version").get_result(conn)?;
    Ok(row.data_version)
}

/// Rows of the SQLite log read at once.
const LOG_PAGE: i64 = 10_000;

impl Revocations {
    /// One freshness round: looks, and on success vouches for the WAL-index
    /// header read before the look; `false` when the database could not be
    /// read (logged).
    pub(super) fn round(
        &self,
        watch: &mut SqliteWatch,
        shm: Option<&ShmWatch>,
        now: Moment,
    ) -> bool {
        let seen = shm.and_then(ShmWatch::state);
        let looked = self.look(watch, now);
        if let Some(shm) = shm {
            shm.vouch(looked.is_ok().then_some(seen).flatten());
        }
        match looked {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!(error = %err, "the SQLite freshness check failed");
                false
            }
        }
    }

    /// One SQLite round: when another connection committed since the last
    /// look, applies the log rows written since.
    pub(super) fn look(&self, watch: &mut SqliteWatch, now: Moment) -> Result<(), DbError> {
        let version = data_version(&mut watch.conn)?;
        if version != watch.version {
            self.catch_up(watch, now)?;
            watch.version = version;
        }
        Ok(())
    }

    /// Reloads through the watch connection, and remembers the log's end.
    fn reload_sqlite(&self, watch: &mut SqliteWatch, now: Moment) -> Result<(), DbError> {
        let (fresh, seq) = load(&mut watch.conn, &self.rules, now)?;
        watch.seq = seq.unwrap_or(0);
        self.replace(fresh);
        Ok(())
    }

    /// Applies the log rows written since the last look; reloads when some
    /// were deleted before this process read them.
    fn catch_up(&self, watch: &mut SqliteWatch, now: Moment) -> Result<(), DbError> {
        loop {
            let rows: Vec<LogRow> = diesel::sql_query(
                "SELECT seq, jti, user_id, issued_until, until FROM jwt_revocation_log \
                 WHERE seq > ? ORDER BY seq LIMIT ?",
            )
            .bind::<BigInt, _>(watch.seq)
            .bind::<BigInt, _>(LOG_PAGE)
            .load(&mut watch.conn)?;
            let Some(first) = rows.first() else {
                return Ok(());
            };
            if first.seq != watch.seq + 1 {
                return self.reload_sqlite(watch, now);
            }
            let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= LOG_PAGE;
            watch.seq = rows.last().map_or(watch.seq, |row| row.seq);
            let changes: Vec<Change> = rows.into_iter().map(LogRow::change).collect();
            if !self.apply(changes, now) {
                return self.reload_sqlite(watch, now);
            }
            if !full {
                return Ok(());
            }
        }
    }
}
