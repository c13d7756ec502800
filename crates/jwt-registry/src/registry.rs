//! `Registry`: the database, the pipeline, the revocation list and the
//! listeners, behind blocking calls (run them off an async executor).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use jwt_core::{Clock, SettingsError, SystemClock};

use crate::admin::{self, TokenInfo, TokenPage, TokenQuery};
use crate::db::{Database, DatabaseUrl, DbConnection, DbError, Migrations, run_migrations};
use crate::expiry::{self, CutOff, Revoked, Rules, Scope, Spare};
use crate::pipeline::{Context, Pipeline, Step};
use crate::raw_sql::placeholders;
use crate::record::{Presented, TokenRecord};
use crate::refresh::{self, RefreshPolicy, Spent};
use crate::revocation::{Revocations, Verdict};
use crate::schema::jwt_token;
use crate::sessions::{self, Session, SessionDetailsSource};
use crate::settings::{RegistrySettings, Revocation};
use crate::token_manager::{self, TokenStatus};
use crate::types::{Moment, RowId, sql};

/// The registry's own migrations.
pub const MIGRATIONS: Migrations = Migrations {
    owner: "registry",
    sqlite: || SQLITE,
    postgres: || POSTGRES,
};

const SQLITE: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/sqlite");
const POSTGRES: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/postgres");

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

    /// Tokens were force-expired.
    fn tokens_expired(&self, jtis: &[String], tree_affected: bool) {
        let _ = (jtis, tree_affected);
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

/// What ending sessions or a user's tokens did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ended {
    /// Sessions (logins with a live refresh token) ended.
    pub sessions: usize,
    /// The tokens force-expired now, by `jti`.
    pub expired: Vec<String>,
    /// After a cut-off ("log out everywhere"): how long until the second
    /// it fell in is over. `iat` counts whole seconds, so a token issued
    /// later in that second is refused too; answer after this wait and a
    /// login that follows the answer works. Zero otherwise.
    pub settles_in: Duration,
}

/// Which sessions [`Registry::end_sessions`] ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndSessions<'a> {
    /// The session with this id (`DELETE sessions/{id}/`).
    One(RowId),
    /// The one holding this token (`logout/`).
    Current {
        /// The caller's token.
        current_jti: &'a str,
    },
    /// All but the one holding this token (`sessions/revoke-others/`).
    Others {
        /// The caller's token.
        current_jti: &'a str,
    },
    /// All of them (`logout-all/`).
    All,
}

/// Work done after tokens are deleted: by the archiver in a transaction of
/// its own after the last batch, by `forget_user` in the deleting
/// transaction. The device registry removes what no token uses any more.
pub trait Cleanup: Send + Sync + 'static {
    /// Cleans up.
    fn clean(&self, conn: &mut DbConnection) -> Result<(), DbError>;
}

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
    pipeline: Pipeline,
    listeners: Vec<Arc<dyn RegistryListener>>,
    cleanups: Vec<Arc<dyn Cleanup>>,
    details: Option<Arc<dyn SessionDetailsSource>>,
    revocations: Option<Arc<Revocations>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(revocations) = &self.revocations {
            revocations.stop();
        }
    }
}

/// Builds a [`Registry`].
#[must_use]
pub struct RegistryBuilder {
    settings: RegistrySettings,
    clock: Arc<dyn Clock>,
    leeway: Duration,
    steps: Vec<Arc<dyn Step>>,
    listeners: Vec<Arc<dyn RegistryListener>>,
    cleanups: Vec<Arc<dyn Cleanup>>,
    details: Option<Arc<dyn SessionDetailsSource>>,
    watch: bool,
    migrations: Vec<Migrations>,
}

impl RegistryBuilder {
    /// The clock for registration and expiry times. Defaults to the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Verification's leeway (`[tokens] leeway`): a token is accepted until
    /// `exp + leeway`, so force-expiring it must work, and its row must be
    /// kept, until then. jwt-actix refuses a registry whose leeway is less
    /// than its token service's. Defaults to zero.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// A pipeline step the `pipeline` setting may name. Defaults to the
    /// built-in ones only.
    pub fn step(mut self, step: impl Step) -> Self {
        self.steps.push(Arc::new(step));
        self
    }

    /// A listener of registry events. Defaults to none.
    pub fn listener(mut self, listener: impl RegistryListener) -> Self {
        self.listeners.push(Arc::new(listener));
        self
    }

    /// Work to do after tokens are deleted (archive, forgotten user).
    /// Defaults to none.
    pub fn cleanup(mut self, cleanup: impl Cleanup) -> Self {
        self.cleanups.push(Arc::new(cleanup));
        self
    }

    /// Where the sessions list gets each session's app, OS, device and IP
    /// (the device registry). Defaults to none: those stay empty.
    pub fn session_details(mut self, source: impl SessionDetailsSource) -> Self {
        self.details = Some(Arc::new(source));
        self
    }

    /// Whether to keep the revocation list of `revocation = "cached"`
    /// (a command that only writes does not need it). Defaults to `true`.
    pub fn watch_revocations(mut self, watch: bool) -> Self {
        self.watch = watch;
        self
    }

    /// More migrations to run with the registry's own (the device
    /// registry's, an app's). Defaults to none.
    pub fn migrations(mut self, migrations: Migrations) -> Self {
        self.migrations.push(migrations);
        self
    }

    /// Connects, runs pending migrations (returned as `owner/version`), and
    /// loads the revocation list.
    pub fn open(self) -> Result<(Registry, Vec<String>), OpenError> {
        let rules = Rules {
            leeway: self.leeway,
            access_cap: self.settings.live_access_tokens_per_login,
        };
        let pipeline = Pipeline::with_rules(&self.settings.pipeline, &self.steps, rules)?;
        let url = DatabaseUrl::parse(&self.settings.database_url)?;
        let db = Database::connect(&url)?;
        let mut sets = vec![MIGRATIONS];
        sets.extend(self.migrations);
        let applied = run_migrations(&db, &sets)?;
        let revocations = if self.watch && self.settings.revocation == Revocation::Cached {
            Some(Revocations::start(&db, Arc::clone(&self.clock), rules)?)
        } else {
            None
        };
        let registry = Registry {
            inner: Arc::new(Inner {
                db,
                clock: self.clock,
                settings: self.settings,
                rules,
                pipeline,
                listeners: self.listeners,
                cleanups: self.cleanups,
                details: self.details,
                revocations,
            }),
        };
        Ok((registry, applied))
    }
}

/// Why a registry could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// A setting (exit status 2 for a command line).
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The database.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl Registry {
    /// A builder for these settings.
    pub fn builder(settings: RegistrySettings) -> RegistryBuilder {
        RegistryBuilder {
            settings,
            clock: Arc::new(SystemClock),
            leeway: Duration::ZERO,
            steps: Vec::new(),
            listeners: Vec::new(),
            cleanups: Vec::new(),
            details: None,
            watch: true,
            migrations: Vec::new(),
        }
    }

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

    /// Runs the registration pipeline over `context` in one transaction.
    pub fn register(&self, context: Context) -> Result<Context, DbError> {
        let context = self.inner.pipeline.run(&self.inner.db, context)?;
        if let Some(registration) = &context.registration {
            self.after_expiry(&registration.revoked, &[], true);
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

    /// Force-expires `tokens` (their whole logins with `affect_tree`) but
    /// `exclude`, and returns the `jti`s expired now. Tokens the registry
    /// never saw are recorded force-expired. One transaction.
    pub fn expire(
        &self,
        tokens: &[TokenRecord],
        affect_tree: bool,
        exclude: &[&str],
    ) -> Result<Vec<String>, DbError> {
        let now = self.now();
        let rules = self.inner.rules;
        let spare = Spare {
            with_descendants: &[],
            only: exclude,
        };
        let expired = self.inner.db.write(|conn| {
            token_manager::expire_records(conn, tokens, affect_tree, spare, &rules, now)
        })?;
        self.after_expiry(&expired, &[], affect_tree);
        Ok(jtis(&expired))
    }

    /// `expire_on_refresh`: after a refresh registered `new` (derived from
    /// `refresh`), force-expires the rest of the login — but `new` and
    /// whatever was derived from it (a later refresh whose registration
    /// landed first), and `refresh` itself when `keep_refresh` (without
    /// rotation it stays in use). One transaction.
    pub fn expire_rest_of_login(
        &self,
        refresh: &str,
        new: &[&str],
        keep_refresh: bool,
    ) -> Result<Vec<String>, DbError> {
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
        self.after_expiry(&expired, &[], true);
        Ok(jtis(&expired))
    }

    /// Force-expires the registered token with this `jti` (its whole login
    /// with `affect_tree`, in short transactions). `None` when there is no
    /// such token.
    pub fn expire_jti(&self, jti: &str, affect_tree: bool) -> Result<Option<Vec<String>>, DbError> {
        let mut conn = self.inner.db.get()?;
        let Some(row) = token_manager::find_by_jti(&mut conn, jti)? else {
            return Ok(None);
        };
        drop(conn);
        let seeds = [jti];
        let scope = if affect_tree {
            self.mark_cut(&[row.root_id.unwrap_or(row.id)])?;
            Scope::FamiliesOfJtis(&seeds)
        } else {
            Scope::Jtis(&seeds)
        };
        Ok(Some(jtis(&self.expire_in_batches(scope, affect_tree)?)))
    }

    /// Every token of a user, registered or not, issued until now is
    /// refused from now on (a cut-off, one short transaction), and the
    /// registered ones are force-expired (in short transactions).
    pub fn expire_user(&self, user_id: &str) -> Result<Ended, DbError> {
        self.end_sessions(user_id, EndSessions::All)
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
        // that lost runs again and finds it.
        let (spent, expired) = match spend() {
            Err(DbError::Conflict) => spend()?,
            outcome => outcome?,
        };
        self.after_expiry(&expired, &[], true);
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

    /// Force-expires sessions of a user. A session that is not the user's,
    /// or not alive, counts as none. Large logins are expired in short
    /// transactions, so that other writers never wait long.
    pub fn end_sessions(&self, user_id: &str, which: EndSessions<'_>) -> Result<Ended, DbError> {
        let mut conn = self.inner.db.get()?;
        let alive = sessions::alive_roots(&mut conn, user_id, self.horizon())?;
        let mut ended = Ended::default();
        let expired = match which {
            EndSessions::One(id) => {
                drop(conn);
                if !alive.contains(&id) {
                    return Ok(ended);
                }
                ended.sessions = 1;
                self.mark_cut(&[id])?;
                self.expire_in_batches(Scope::Families(&[id]), true)?
            }
            EndSessions::Others { current_jti } => {
                let current = token_manager::root_of_jti(&mut conn, current_jti)?;
                drop(conn);
                let others: Vec<RowId> = alive
                    .iter()
                    .copied()
                    .filter(|root| Some(*root) != current)
                    .collect();
                ended.sessions = others.len();
                self.mark_cut(&others)?;
                self.expire_in_batches(
                    Scope::User {
                        user_id,
                        except: current,
                    },
                    true,
                )?
            }
            // The caller's own login, alive or not: its access token may
            // outlive its refresh tokens.
            EndSessions::Current { current_jti } => {
                let current = token_manager::root_of_jti(&mut conn, current_jti)?;
                drop(conn);
                let Some(root) = current else {
                    return Ok(ended);
                };
                ended.sessions = usize::from(alive.contains(&root));
                self.mark_cut(&[root])?;
                self.expire_in_batches(Scope::Families(&[root]), true)?
            }
            EndSessions::All => {
                drop(conn);
                ended.sessions = alive.len();
                ended.settles_in = self.cut_off(user_id)?;
                self.expire_in_batches(
                    Scope::User {
                        user_id,
                        except: None,
                    },
                    true,
                )?
            }
        };
        ended.expired = jtis(&expired);
        Ok(ended)
    }

    /// `logout/`: each of `tokens` (the caller's access token, and the
    /// refresh token they named) is force-expired — recorded so if the
    /// registry never saw it — and so is its whole login.
    pub fn logout(&self, user_id: &str, tokens: &[TokenRecord]) -> Result<Ended, DbError> {
        let now = self.now();
        let rules = self.inner.rules;
        let (expired, roots) = self.inner.db.write(|conn| {
            let expired =
                token_manager::expire_records(conn, tokens, false, Spare::default(), &rules, now)?;
            let mut roots = Vec::new();
            for token in tokens {
                roots.extend(token_manager::root_of_jti(conn, &token.jti)?);
            }
            expiry::mark_cut(conn, &roots, now)?;
            Ok::<_, DbError>((expired, roots))
        })?;
        self.after_expiry(&expired, &[], false);
        let mut conn = self.inner.db.get()?;
        let alive = sessions::alive_roots(&mut conn, user_id, self.horizon())?;
        drop(conn);
        let mut ended = Ended {
            sessions: alive.iter().filter(|root| roots.contains(root)).count(),
            ..Ended::default()
        };
        let mut all = expired;
        all.extend(self.expire_in_batches(Scope::Families(&roots), true)?);
        ended.expired = jtis(&all);
        Ok(ended)
    }

    /// Marks logins as cut off whole (see [`expiry::mark_cut`]).
    fn mark_cut(&self, roots: &[RowId]) -> Result<(), DbError> {
        if roots.is_empty() {
            return Ok(());
        }
        let now = self.now();
        self.inner
            .db
            .write(|conn| expiry::mark_cut(conn, roots, now))
    }

    /// Sets the user's cut-off to the current second; returns how long
    /// until that second is over.
    fn cut_off(&self, user_id: &str) -> Result<Duration, DbError> {
        let now = self.now();
        let until = now.unix_seconds();
        let issued_until = self
            .inner
            .db
            .write(|conn| expiry::cut_off(conn, user_id, until, now))?;
        let cut = CutOff {
            user_id: user_id.to_owned(),
            issued_until,
        };
        if let Some(revocations) = &self.inner.revocations {
            revocations.add(&[], std::slice::from_ref(&cut));
        }
        for listener in &self.inner.listeners {
            listener.user_cut_off(user_id, issued_until);
        }
        let next_second = Moment::from_unix_seconds(issued_until.saturating_add(1));
        Ok((next_second.0 - self.now().0).to_std().unwrap_or_default())
    }

    /// Force-expires `scope` in transactions of a few hundred tokens (the
    /// size adapts to keep each near [`BATCH_TARGET`]), pausing between
    /// them so that writers of other processes get the lock too.
    fn expire_in_batches(&self, scope: Scope<'_>, tree: bool) -> Result<Vec<Revoked>, DbError> {
        let rules = self.inner.rules;
        let mut size = Batch::new();
        let mut all = Vec::new();
        loop {
            let now = self.now();
            let rows = size.rows;
            let batch = size.run(&self.inner.db, |conn| {
                expiry::expire(conn, scope, Spare::default(), Some(rows), &rules, now)
            })?;
            self.after_expiry(&batch, &[], tree);
            // A user's tokens go a bounded number of logins at a time on
            // PostgreSQL: only an empty batch says they are all done.
            let done =
                batch.is_empty() || (batch.len() < rows && !matches!(scope, Scope::User { .. }));
            all.extend(batch);
            if done {
                return Ok(all);
            }
            size.pace();
        }
    }

    /// After a commit that force-expired `tokens` or cut users off: this
    /// process's list learns of them at once, and the listeners hear of
    /// them.
    fn after_expiry(&self, tokens: &[Revoked], users: &[CutOff], tree: bool) {
        if tokens.is_empty() && users.is_empty() {
            return;
        }
        if let Some(revocations) = &self.inner.revocations {
            revocations.add(tokens, users);
        }
        if !tokens.is_empty() {
            let expired = jtis(tokens);
            for listener in &self.inner.listeners {
                listener.tokens_expired(&expired, tree);
            }
        }
    }

    /// The token's state: with `revocation = "cached"` from the in-memory
    /// list (a token not on it counts as registered), unless `registered`
    /// must be known (`require_registered`); else from the database. A
    /// token issued before its user's cut-off is [`TokenStatus::CutOff`].
    pub fn status(
        &self,
        token: &Presented<'_>,
        need_registered: bool,
    ) -> Result<TokenStatus, DbError> {
        if let (Some(revocations), false) = (&self.inner.revocations, need_registered) {
            let verdict =
                revocations.check(token.jti, token.user_id, token.issued_at, self.now())?;
            return Ok(match verdict {
                Verdict::Revoked => TokenStatus::ForceExpired,
                Verdict::CutOff => TokenStatus::CutOff,
                Verdict::Fine => TokenStatus::Registered,
            });
        }
        let mut conn = self.inner.db.get()?;
        token_manager::status(&mut conn, token.jti, token.user_id, token.issued_at)
    }

    /// Tokens verification accepts until `exp + leeway`: before then it
    /// must remember their force-expiry.
    fn horizon(&self) -> Moment {
        self.inner.rules.horizon(self.now())
    }

    /// How many tokens [`Registry::archive`] would delete.
    pub fn archivable(&self, older_than: Duration) -> Result<u64, DbError> {
        let cutoff = self.cutoff(older_than);
        let mut conn = self.inner.db.get()?;
        let count: i64 = jwt_token::table
            .filter(jwt_token::internal_expired_at.le(cutoff))
            .count()
            .get_result(&mut conn)?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// Deletes tokens whose own expiry passed at least `older_than` ago —
    /// and never sooner than the leeway after it, so that a force-expired
    /// token verification still accepts is never forgotten — in
    /// transactions of at most `batch` rows (fewer when they take long, so
    /// the table is never locked for long), calling `progress` with the
    /// running total. Children keep their place with no parent;
    /// connections go with their tokens. Then prunes the SQLite revocation
    /// log.
    pub fn archive(
        &self,
        older_than: Duration,
        batch: usize,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, DbError> {
        let cutoff = self.cutoff(older_than);
        let mut size = Batch::new();
        size.max = batch.max(1);
        size.rows = size.rows.min(size.max);
        let mut total = 0u64;
        loop {
            let rows = size.rows;
            let deleted = size.run(&self.inner.db, |conn| {
                let sql = format!(
                    "DELETE FROM jwt_token WHERE id IN \
                     (SELECT id FROM jwt_token WHERE internal_expired_at <= {} LIMIT {})",
                    placeholders(conn, 1, 1),
                    placeholders(conn, 2, 1),
                );
                diesel::sql_query(sql)
                    .bind::<sql::Moment, _>(cutoff)
                    .bind::<BigInt, _>(i64::try_from(rows).unwrap_or(i64::MAX))
                    .execute(conn)
                    .map_err(DbError::from)
            })?;
            total += deleted as u64;
            progress(total);
            if deleted < rows {
                break;
            }
            size.pace();
        }
        self.prune_log()?;
        if !self.inner.cleanups.is_empty() {
            self.inner.db.write(|conn| self.run_cleanups(conn))?;
        }
        Ok(total)
    }

    /// Deletes the SQLite revocation log's rows nobody needs (their token is
    /// refused anyway), in short transactions; the newest row stays, so a
    /// process that has not read the log since sees what it missed.
    fn prune_log(&self) -> Result<(), DbError> {
        if !self.inner.db.url().is_sqlite() {
            return Ok(());
        }
        let now = self.now();
        loop {
            let deleted = self.inner.db.write(|conn| {
                diesel::sql_query(
                    "DELETE FROM jwt_revocation_log WHERE seq IN (SELECT seq FROM jwt_revocation_log \
                     WHERE until <= ? AND seq < (SELECT MAX(seq) FROM jwt_revocation_log) LIMIT 1000)",
                )
                .bind::<sql::Moment, _>(now)
                .execute(conn)
                .map_err(DbError::from)
            })?;
            if deleted < 1000 {
                return Ok(());
            }
        }
    }

    /// Removes a deleted user's tokens (and with them their connections).
    pub fn forget_user(&self, user_id: &str) -> Result<u64, DbError> {
        let deleted = self.inner.db.write(|conn| {
            let sql = format!(
                "DELETE FROM jwt_token WHERE id IN \
                 (SELECT token_id FROM jwt_token_user_connection WHERE user_id = {})",
                placeholders(conn, 1, 1)
            );
            let deleted = diesel::sql_query(sql)
                .bind::<Text, _>(user_id)
                .execute(conn)?;
            self.run_cleanups(conn)?;
            Ok::<_, DbError>(deleted)
        })?;
        Ok(deleted as u64)
    }

    /// The cleanups, in the caller's transaction.
    fn run_cleanups(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        for cleanup in &self.inner.cleanups {
            cleanup.clean(conn)?;
        }
        Ok(())
    }

    /// Tokens expiring at or before this are archived: `older_than` ago,
    /// and at least the leeway ago.
    fn cutoff(&self, older_than: Duration) -> Moment {
        self.now().minus(older_than.max(self.inner.rules.leeway))
    }
}

fn jtis(revoked: &[Revoked]) -> Vec<String> {
    revoked.iter().map(|r| r.jti.clone()).collect()
}

/// How long one batch of a long job should hold the write lock.
const BATCH_TARGET: Duration = Duration::from_millis(15);

/// The size of a long job's next batch, and the pause before it.
struct Batch {
    rows: usize,
    max: usize,
    /// How long the last batch's work held the write lock.
    took: Duration,
}

impl Batch {
    /// Small at first (a first batch that is too big holds the lock too
    /// long before there is any measure of it), grown while quick.
    fn new() -> Self {
        Batch {
            rows: 20,
            max: 5_000,
            took: Duration::ZERO,
        }
    }

    /// Runs one batch's `work` in a write transaction, timed from the moment
    /// it holds the lock to the end of its commit (on SQLite the commit
    /// writes every page the batch touched, which is most of the cost; the
    /// checkpoint that may follow is counted too, erring on the short side).
    fn run<T>(
        &mut self,
        db: &Database,
        work: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let mut started = None;
        let done = db.write(|conn| {
            started = Some(Instant::now());
            work(conn)
        })?;
        self.took = started.map(|at| at.elapsed()).unwrap_or_default();
        Ok(done)
    }

    /// Sizes the next batch from the last (halved when it held the lock
    /// past the target, grown by half when well under it), and pauses as
    /// long as it took (at most the target), so that another process's
    /// writer, retrying under SQLite's busy timeout, finds the lock free.
    fn pace(&mut self) {
        if self.took > BATCH_TARGET {
            self.rows = (self.rows / 2).max(20);
        } else if self.took < BATCH_TARGET * 2 / 5 {
            self.rows = (self.rows + self.rows / 2 + 1).min(self.max);
        }
        std::thread::sleep(self.took.min(BATCH_TARGET));
    }
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
