//! The PostgreSQL listener thread: `NOTIFY` payloads applied as they
//! come, a reload only after the connection was lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use diesel::connection::SimpleConnection;
use diesel::{Connection as _, PgConnection};
use jwt_core::Clock;

use super::{POSTGRES_DELAY, Revocations};
use crate::db::Database;
use crate::expiry::CHANNEL;
use crate::types::Moment;

/// The PostgreSQL listener, on a connection that `LISTEN`ed before the
/// list was loaded: every [`POSTGRES_DELAY`] the notifications that arrived
/// are applied (a few entries each, never a reload unless one asks for
/// it); a dropped connection is made again, `LISTEN`ed, and the list
/// reloaded. Ends when the list is dropped.
pub(super) fn listen(
    list: Weak<Revocations>,
    db: Database,
    (url, listening): (String, PgConnection),
    clock: Arc<dyn Clock>,
    healthy: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> Option<std::thread::JoinHandle<()>> {
    let unhealthy = Arc::clone(&healthy);
    let spawned = std::thread::Builder::new()
        .name("jwt-revocations".into())
        .spawn(move || {
            // Already listening, and the list loaded since.
            let mut conn: Option<PgConnection> = Some(listening);
            // Set until a full load has followed the last (re)connection.
            let mut stale = false;
            loop {
                std::thread::sleep(POSTGRES_DELAY);
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Some(revocations) = list.upgrade() else {
                    return;
                };
                let now = Moment::from_system_time(clock.now());
                if conn.is_none() {
                    conn = PgConnection::establish(&url).ok().and_then(|mut c| {
                        c.batch_execute(&format!("LISTEN {CHANNEL}"))
                            .ok()
                            .map(|()| c)
                    });
                    // What was announced while nobody listened is missed.
                    stale = true;
                }
                if let Some(c) = conn.as_mut() {
                    match c.notifications_iter().collect::<Result<Vec<_>, _>>() {
                        Ok(notes) => {
                            for note in notes {
                                if !revocations.apply_payload(&note.payload, now) {
                                    stale = true;
                                }
                            }
                        }
                        Err(_) => conn = None,
                    }
                }
                if stale && conn.is_some() && revocations.reload(&db, now).is_ok() {
                    stale = false;
                }
                healthy.store(!stale && conn.is_some(), Ordering::SeqCst);
                revocations.forget_lapsed(now);
            }
        });
    match spawned {
        Ok(handle) => Some(handle),
        Err(err) => {
            tracing::error!(error = %err, "cannot start the revocation listener");
            unhealthy.store(false, Ordering::SeqCst);
            None
        }
    }
}
