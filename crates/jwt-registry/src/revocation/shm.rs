//! SQLite in WAL mode: whether anything was committed since the last
//! freshness round, without a query.
//!
//! Every commit to a database in WAL mode, by any connection of any
//! process, rewrites the *wal-index header* at the start of the database's
//! `-shm` file: its change counter (`iChange`) goes up, and so does, or
//! changes, the WAL's frame count (`mxFrame`). The header is written twice
//! (the second copy first); a reader that finds both copies equal has a
//! consistent one. A round notes the header it read before asking the
//! database; a request that finds the header unchanged since the last
//! round knows nothing was committed that the round did not see, and
//! answers from memory at once. A request that finds it changed — or two
//! copies that differ, mid-write — waits for a round, as without this.
//!
//! The header's layout is SQLite's documented WAL-index format (version
//! 3007000, native byte order); a file that does not read as one is not
//! used. Reading it is one `pread` of 96 bytes from a file every
//! connection keeps mapped: no lock, no query, no disk.

use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};

/// The WAL-index format this reads (`iVersion`).
const WAL_INDEX_VERSION: u32 = 3_007_000;

/// One copy of the header.
const HEADER: usize = 48;

/// No round has vouched for the current state.
const NONE: u64 = u64::MAX;

/// The `-shm` file of a database in WAL mode, and the header state the
/// last successful round saw.
pub(super) struct ShmWatch {
    file: File,
    clean: AtomicU64,
}

impl ShmWatch {
    /// Opens `<database>-shm` when its header reads as a WAL index; `None`
    /// otherwise (no WAL mode, another format, an unusual path).
    pub(super) fn open(database: &str) -> Option<ShmWatch> {
        let path = database.strip_prefix("file:").unwrap_or(database);
        let path = path.split('?').next()?;
        if path.is_empty() || path.starts_with(':') {
            return None;
        }
        let file = File::open(format!("{path}-shm")).ok()?;
        let watch = ShmWatch {
            file,
            clean: AtomicU64::new(NONE),
        };
        watch.state()?;
        Some(watch)
    }

    /// The header's change counter and frame count, when both copies agree
    /// and read as an initialised WAL index.
    pub(super) fn state(&self) -> Option<u64> {
        let mut bytes = [0_u8; 2 * HEADER];
        read_start(&self.file, &mut bytes)?;
        let (first, second) = bytes.split_at(HEADER);
        let word = |at: usize| {
            u32::from_ne_bytes([first[at], first[at + 1], first[at + 2], first[at + 3]])
        };
        let initialised = first[12] == 1;
        if first != second || word(0) != WAL_INDEX_VERSION || !initialised {
            return None;
        }
        Some((u64::from(word(8)) << 32) | u64::from(word(16)))
    }

    /// After a round that read the database following `seen` (what
    /// [`state`](Self::state) said before it) and applied what changed:
    /// that state is vouched for. `None` (a failed round, or a header mid
    /// write) vouches for nothing.
    pub(super) fn vouch(&self, seen: Option<u64>) {
        self.clean.store(seen.unwrap_or(NONE), Ordering::SeqCst);
    }

    /// Whether nothing was committed since the last round that vouched.
    pub(super) fn unchanged(&self) -> bool {
        let clean = self.clean.load(Ordering::SeqCst);
        clean != NONE && self.state() == Some(clean)
    }
}

/// Fills `bytes` from the start of `file`, without moving a shared cursor.
#[cfg(unix)]
fn read_start(file: &File, bytes: &mut [u8]) -> Option<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, bytes, 0).ok()
}

/// Elsewhere the header is not read: every request waits for a round.
#[cfg(not(unix))]
fn read_start(_: &File, _: &mut [u8]) -> Option<()> {
    None
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    use super::*;

    fn wal_database(dir: &std::path::Path) -> (String, SqliteConnection) {
        let path = dir.join("shm.sqlite3").to_string_lossy().into_owned();
        let mut conn = SqliteConnection::establish(&path).unwrap();
        conn.batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER);")
            .unwrap();
        (path, conn)
    }

    #[test]
    fn every_commit_of_another_connection_changes_the_state() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut writer) = wal_database(dir.path());
        let watch = ShmWatch::open(&path).expect("a WAL index");
        let mut seen = std::collections::HashSet::new();
        for n in 0..50 {
            let state = watch.state().unwrap();
            assert!(seen.insert(state), "state repeated at commit {n}");
            watch.vouch(Some(state));
            assert!(watch.unchanged());
            writer
                .batch_execute(&format!("INSERT INTO t VALUES ({n})"))
                .unwrap();
            assert!(!watch.unchanged(), "commit {n} went unnoticed");
        }
        // A checkpoint that restarts the WAL, then a commit: still seen.
        let state = watch.state().unwrap();
        watch.vouch(Some(state));
        writer
            .batch_execute("PRAGMA wal_checkpoint(TRUNCATE); INSERT INTO t VALUES (0)")
            .unwrap();
        assert!(!watch.unchanged());
        watch.vouch(None);
        assert!(!watch.unchanged(), "nothing vouched for");
    }

    #[test]
    fn a_database_not_in_wal_mode_has_no_watch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir
            .path()
            .join("plain.sqlite3")
            .to_string_lossy()
            .into_owned();
        let mut conn = SqliteConnection::establish(&path).unwrap();
        conn.batch_execute("CREATE TABLE t (n INTEGER)").unwrap();
        assert!(ShmWatch::open(&path).is_none());
        assert!(ShmWatch::open(":memory:").is_none());
    }
}
