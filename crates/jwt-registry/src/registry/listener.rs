//! What the registry tells the app: events after each transaction, and
//! the work to do after tokens are deleted.

use crate::db::{DbConnection, DbError};
use crate::pipeline::Context;
use crate::token_manager::Reach;
use crate::types::RowId;

/// What the registry tells its listeners, after each transaction commits.
pub trait RegistryListener: Send + Sync + 'static {
    /// Tokens were registered (`register_pairs` ran).
    fn pairs_registered(&self, context: &Context) {
        let _ = context;
    }

    /// Tokens were connected to a user (`connecting_user` ran).
    fn tokens_connected(&self, user_id: &str, tokens: &[RowId]) {
        let _ = (user_id, tokens);
    }

    /// Tokens were force-expired, as far as `reach` says.
    fn tokens_expired(&self, jtis: &[String], reach: Reach) {
        let _ = (jtis, reach);
    }

    /// A pipeline ran to the end.
    fn pipeline_run(&self, context: &Context) {
        let _ = context;
    }

    /// A user's tokens issued at or before `issued_until` (Unix seconds)
    /// are refused from now on ("log out everywhere").
    fn user_cut_off(&self, user_id: &str, issued_until: i64) {
        let _ = (user_id, issued_until);
    }

    /// A rotated-out refresh token was used again within the grace window
    /// (`reuse_grace_seconds`): allowed once, and `abandoned` (what its
    /// first use had grown) force-expired. A client that lost an answer —
    /// or a thief racing it: worth an alert when it happens often.
    fn refresh_retried(&self, jti: &str, abandoned: &[String]) {
        let _ = (jti, abandoned);
    }

    /// A spent refresh token was presented again (reuse detection): its
    /// whole login, `expired`, is force-expired.
    fn refresh_replayed(&self, jti: &str, expired: &[String]) {
        let _ = (jti, expired);
    }
}

/// Work done after tokens are deleted: by the archiver in a transaction of
/// its own after the last batch, by `forget_user` in the deleting
/// transaction. The device registry removes what no token uses any more.
pub trait Cleanup: Send + Sync + 'static {
    /// Cleans up.
    fn clean(&self, conn: &mut DbConnection) -> Result<(), DbError>;
}
