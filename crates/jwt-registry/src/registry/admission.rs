//! Whether a verified token gets in: the registry's rules on a presented
//! token, for the token check of every request and for `expire/`.

use super::Registry;
use crate::db::DbError;
use crate::record::Presented;
use crate::revocation::UserChange;
use crate::settings::OnDbDown;
use crate::token_manager::{Need, Verdict};

/// Where a verified token is presented: an unreachable registry lets it
/// through only on a protected route, and only with `on_db_down = "allow"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// A protected route.
    Protected,
    /// A token view (`refresh/`, `verify/`).
    TokenView,
}

/// The registry's answer on a verified token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Let it through.
    Admitted,
    /// Refuse it: force-expired, issued before its user's cut-off, or
    /// unknown where `require_registered` asks for registered tokens.
    Refused,
}

impl Registry {
    /// Whether `token` (verified already) gets in at `gate`. An error
    /// means the registry could not say (503): on a protected route with
    /// `on_db_down = "allow"` the token is let through instead, logged at
    /// `warn`.
    pub fn admit(&self, token: &Presented<'_>, gate: Gate) -> Result<Admission, DbError> {
        let settings = self.settings();
        let need = if settings.require_registered {
            Need::Registration
        } else {
            Need::Refusal
        };
        self.decide(self.verdict(token, need), gate)
    }

    /// [`admit`](Self::admit)'s answer without blocking a thread, with
    /// `revocation = "cached"` and without `require_registered`: from the
    /// in-memory list, once it holds every change committed before the
    /// call (on SQLite it waits for the next freshness round, shared by all
    /// the requests waiting; on PostgreSQL the listener keeps it). `None`
    /// otherwise: then call `admit` off the executor. By the time it
    /// answers, [`watch_users`](Self::watch_users) watchers have heard of
    /// every user change committed before the call.
    pub async fn admit_in_memory(
        &self,
        token: &Presented<'_>,
        gate: Gate,
    ) -> Option<Result<Admission, DbError>> {
        if self.settings().require_registered {
            return None;
        }
        let revocations = self.inner.revocations.as_ref()?;
        let listed = revocations
            .check_fresh(token.jti, token.user_id, token.issued_at)
            .await;
        Some(self.decide(listed.map(Verdict::from), gate))
    }

    /// Calls `watcher` for every change of the app's users announced by
    /// [`announce_user_changes`](crate::announce_user_changes), here or in
    /// another process, and with [`UserChange::Everyone`] when what was
    /// announced may have been missed. `false` (and the watcher dropped)
    /// with `revocation = "strict"`, which keeps no list to learn them by.
    pub fn watch_users(&self, watcher: impl Fn(UserChange<'_>) + Send + Sync + 'static) -> bool {
        match &self.inner.revocations {
            Some(revocations) => {
                revocations.watch_users(Box::new(watcher));
                true
            }
            None => false,
        }
    }

    fn decide(&self, verdict: Result<Verdict, DbError>, gate: Gate) -> Result<Admission, DbError> {
        let settings = self.settings();
        match verdict {
            Ok(Verdict::ForceExpired | Verdict::CutOff) => Ok(Admission::Refused),
            Ok(Verdict::Unknown) if settings.require_registered => Ok(Admission::Refused),
            Ok(_) => Ok(Admission::Admitted),
            Err(_) if gate == Gate::Protected && settings.on_db_down == OnDbDown::Allow => {
                tracing::warn!(
                    "registry unreachable: letting a verified token through (on_db_down = allow)"
                );
                Ok(Admission::Admitted)
            }
            Err(err) => Err(err),
        }
    }

    /// Whether `token` (verified already) may still be force-expired by
    /// `expire/`: registered or unknown, and not force-expired or cut off.
    pub fn expirable(&self, token: &Presented<'_>) -> Result<bool, DbError> {
        Ok(matches!(
            self.verdict(token, Need::Registration)?,
            Verdict::Registered | Verdict::Unknown
        ))
    }

    /// Whether a caller whose user is `caller` may force-expire a token of
    /// `owner` through `expire/`: anyone (the token is the proof) unless
    /// `expire_requires_auth`, then only its own user. `caller` is `None`
    /// when the request is not authenticated.
    pub fn may_expire(&self, owner: Option<&str>, caller: Option<&str>) -> bool {
        !self.settings().expire_requires_auth || (owner.is_some() && owner == caller)
    }
}
