//! `Registry`: the database, the pipeline, the revocation list and the
//! listeners, behind blocking calls (run them off an async executor).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jwt_core::Clock;

use crate::admin::{self, TokenInfo, TokenPage, TokenQuery};
use crate::db::{Database, DbError, GroupWriter};
use crate::expiry::{self, CutOff, Revoked, Rules, Scope, Spare};
use crate::pipeline::{Context, Pipeline};
use crate::record::{Presented, TokenRecord};
use crate::refresh::{self, RefreshPolicy, Spent};
use crate::revocation::Revocations;
use crate::sessions::{self, Session, SessionDetailsSource};
use crate::settings::RegistrySettings;
use crate::token_manager::{self, Need, Reach, Verdict};
use crate::types::Moment;

mod admission;
mod archive;
mod background;
mod batch;
mod builder;
mod ending;
mod issued;
mod listener;

pub use admission::{Admission, Gate};
pub use builder::{MigrationsBy, OpenError, RegistryBuilder};
pub use ending::{EndSessions, Ended};
pub use issued::{Issued, Rotation};
pub use listener::{Cleanup, RegistryListener};

// The registry's own migrations.
crate::embedded_migrations!(pub MIGRATIONS, SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS, "registry");

/// The token registry. Cheap to clone; every method blocks on the database.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    clock: Arc<dyn Clock>,
    settings: RegistrySettings,
    rules: Rules,
    /// Shared with the group committer's jobs.
    pipeline: Arc<Pipeline>,
    listeners: Vec<Arc<dyn RegistryListener>>,
    cleanups: Vec<Arc<dyn Cleanup>>,
    details: Option<Arc<dyn SessionDetailsSource>>,
    revocations: Option<Arc<Revocations>>,
    background: Option<background::Background>,
    /// Registrations committed in groups (one thread per registry).
    group: Option<Arc<GroupWriter>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(revocations) = &self.revocations {
            revocations.stop();
        }
        if let Some(background) = &self.background {
            background.flush();
        }
        // After the background worker, whose registrations it commits.
        if let Some(group) = &self.group {
            group.stop();
        }
    }
}

impl Registry {
    /// The settings.
    pub fn settings(&self) -> &RegistrySettings {
        &self.inner.settings
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.inner.db
    }

    /// The pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.inner.pipeline
    }

    /// Verification's leeway, as the registry was told it.
    pub fn leeway(&self) -> Duration {
        self.inner.rules.leeway
    }

    /// The current time, as the registry stores it.
    pub fn now(&self) -> Moment {
        Moment::from_system_time(self.inner.clock.now())
    }

    /// Runs the registration pipeline over `context` in one transaction (on
    /// SQLite a savepoint of a group's, answered after the group commits).
    pub fn register(&self, context: Context) -> Result<Context, DbError> {
        let context = match &self.inner.group {
            Some(group) => {
                let pipeline = Arc::clone(&self.inner.pipeline);
                group.write(move |conn| {
                    let mut context = context.clone();
                    pipeline.run_in(conn, &mut context)?;
                    Ok(context)
                })?
            }
            None => self.inner.pipeline.run(&self.inner.db, context)?,
        };
        if let Some(registration) = &context.registration {
            self.after_expiry(&registration.revoked, &[], Reach::Tree);
        }
        for listener in &self.inner.listeners {
            if context.registration.is_some() {
                listener.pairs_registered(&context);
            }
            if let (Some(user), Some(registration)) =
                (&context.connected_user, &context.registration)
            {
                listener.tokens_connected(user, &registration.ids());
            }
            listener.pipeline_run(&context);
        }
        Ok(context)
    }

    /// Force-expires `tokens` (their whole logins with [`Reach::Tree`]) but
    /// `exclude`, and returns the `jti`s expired now. Tokens the registry
    /// never saw are recorded force-expired. One transaction.
    pub fn expire(
        &self,
        tokens: &[TokenRecord],
        reach: Reach,
        exclude: &[&str],
    ) -> Result<Vec<String>, DbError> {
        let now = self.now();
        let rules = self.inner.rules;
        let spare = Spare {
            with_descendants: &[],
            only: exclude,
        };
        let expired = self
            .inner
            .db
            .write(|conn| token_manager::expire_records(conn, tokens, reach, spare, &rules, now))?;
        self.after_expiry(&expired, &[], reach);
        Ok(jtis(&expired))
    }

    /// `expire_on_refresh`: after a refresh registered `new` (derived from
    /// `refresh`), force-expires the rest of the login — but `new` and
    /// whatever was derived from it (a later refresh whose registration
    /// landed first), and `refresh` itself when it was [`Rotation::Kept`]
    /// (without rotation it stays in use). One transaction.
    pub fn expire_rest_of_login(
        &self,
        refresh: &str,
        new: &[&str],
        rotation: Rotation,
    ) -> Result<Vec<String>, DbError> {
        let keep_refresh = rotation == Rotation::Kept;
        let now = self.now();
        let rules = self.inner.rules;
        let kept = [refresh];
        let spare = Spare {
            with_descendants: new,
            only: if keep_refresh { &kept } else { &[] },
        };
        let expired = self.inner.db.write(|conn| {
            expiry::expire(
                conn,
                Scope::FamiliesOfJtis(&[refresh]),
                spare,
                None,
                &rules,
                now,
            )
        })?;
        self.after_expiry(&expired, &[], Reach::Tree);
        Ok(jtis(&expired))
    }

    /// Force-expires the registered token with this `jti` (its whole login
    /// with [`Reach::Tree`], in short transactions) and says how many tokens
    /// that expired. `None` when there is no such token.
    pub fn expire_jti(&self, jti: &str, reach: Reach) -> Result<Option<usize>, DbError> {
        let mut conn = self.inner.db.get()?;
        let Some(row) = token_manager::find_by_jti(&mut conn, jti)? else {
            return Ok(None);
        };
        drop(conn);
        let seeds = [jti];
        let scope = if reach == Reach::Tree {
            self.mark_cut(&[row.root_id.unwrap_or(row.id)])?;
            Scope::FamiliesOfJtis(&seeds)
        } else {
            Scope::Jtis(&seeds)
        };
        Ok(Some(self.expire_in_batches(scope, reach)?))
    }

    /// Spends a refresh token of `user` presented to `refresh/` under
    /// `policy`: with single use, exactly one of any number of concurrent
    /// uses is [`Spent::Fresh`]; a replay force-expires the token's whole
    /// login. One transaction. A retry within the grace window is logged at
    /// `warn` and told to the listeners, as is a replay.
    pub fn spend_refresh(
        &self,
        record: &TokenRecord,
        user: Option<&str>,
        policy: RefreshPolicy,
    ) -> Result<Spent, DbError> {
        let now = self.now();
        let rules = self.inner.rules;
        let spend = || {
            self.inner
                .db
                .write(|conn| refresh::spend(conn, record, user, policy, &rules, now))
        };
        // Two first uses of a token the registry never saw (or its
        // registration landing meanwhile) both try to register it: the one
        // that lost runs again and finds it. Concurrent replays of one
        // login may also make PostgreSQL abort one of them as a deadlock:
        // it runs again too, a bounded number of times.
        let mut attempts = 1;
        let (spent, expired) = loop {
            match spend() {
                Err(err) if err.is_retryable() && attempts < SPEND_ATTEMPTS => {
                    tracing::debug!(error = %err, attempts, "spending a refresh token again");
                    attempts += 1;
                }
                outcome => break outcome?,
            }
        };
        self.after_expiry(&expired, &[], Reach::Tree);
        match &spent {
            Spent::Retried { expired } => {
                tracing::warn!(
                    jti = %record.jti,
                    abandoned = expired.len(),
                    "refresh token retried within the grace window: its newer branch is force-expired"
                );
                for listener in &self.inner.listeners {
                    listener.refresh_retried(&record.jti, expired);
                }
            }
            Spent::Replayed { expired } => {
                tracing::warn!(
                    jti = %record.jti,
                    expired = expired.len(),
                    "refresh token replayed: its login is force-expired"
                );
                for listener in &self.inner.listeners {
                    listener.refresh_replayed(&record.jti, expired);
                }
            }
            Spent::Fresh | Spent::TooOld => {}
        }
        Ok(spent)
    }

    /// The sessions (logins with a refresh token still accepted) of a user,
    /// newest first; `current_jti` marks the one holding that token.
    pub fn sessions(
        &self,
        user_id: &str,
        current_jti: Option<&str>,
    ) -> Result<Vec<Session>, DbError> {
        let mut conn = self.inner.db.get()?;
        sessions::sessions(
            &mut conn,
            user_id,
            current_jti,
            self.horizon(),
            self.inner.details.as_deref(),
        )
    }

    /// A page of a user's tokens, newest first, with their device and
    /// state (the admin API).
    pub fn tokens_of_user(&self, user_id: &str, query: TokenQuery) -> Result<TokenPage, DbError> {
        let mut conn = self.inner.db.get()?;
        admin::tokens_of_user(
            &mut conn,
            user_id,
            query,
            self.horizon(),
            self.inner.details.as_deref(),
        )
    }

    /// The token with this `jti` and its whole login, oldest first, with
    /// their users, devices and states (the admin API); `None` when the
    /// registry has no such token.
    pub fn token_tree(&self, jti: &str) -> Result<Option<(TokenInfo, Vec<TokenInfo>)>, DbError> {
        let mut conn = self.inner.db.get()?;
        admin::token_tree(
            &mut conn,
            jti,
            self.horizon(),
            self.inner.details.as_deref(),
        )
    }

    /// After a commit that force-expired `tokens` or cut users off: this
    /// process's list learns of them at once, and the listeners hear of
    /// them.
    pub(super) fn after_expiry(&self, tokens: &[Revoked], users: &[CutOff], reach: Reach) {
        if tokens.is_empty() && users.is_empty() {
            return;
        }
        if let Some(revocations) = &self.inner.revocations {
            revocations.add(tokens, users);
        }
        if !tokens.is_empty() {
            let expired = jtis(tokens);
            for listener in &self.inner.listeners {
                listener.tokens_expired(&expired, reach);
            }
        }
    }

    /// The token's state: with `revocation = "cached"` from the in-memory
    /// list (a token not on it counts as registered), unless `registered`
    /// must be known (`require_registered`); else from the database. A
    /// token issued before its user's cut-off is [`Verdict::CutOff`].
    pub fn verdict(&self, token: &Presented<'_>, need: Need) -> Result<Verdict, DbError> {
        if let (Some(revocations), Need::Refusal) = (&self.inner.revocations, need) {
            let listed = revocations.check(token.jti, token.user_id, token.issued_at)?;
            return Ok(Verdict::from(listed));
        }
        let mut conn = self.inner.db.get()?;
        token_manager::status(&mut conn, token.jti, token.user_id, token.issued_at)
    }

    /// Tokens verification accepts until `exp + leeway`: before then it
    /// must remember their force-expiry.
    pub(super) fn horizon(&self) -> Moment {
        self.inner.rules.horizon(self.now())
    }
}

/// How many times spending a refresh token runs before its failure is the
/// answer.
const SPEND_ATTEMPTS: u32 = 4;

fn jtis(revoked: &[Revoked]) -> Vec<String> {
    revoked.iter().map(|r| r.jti.clone()).collect()
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("db", &self.inner.db)
            .field("pipeline", &self.inner.pipeline)
            .field("revocation", &self.inner.settings.revocation)
            .finish_non_exhaustive()
    }
}
