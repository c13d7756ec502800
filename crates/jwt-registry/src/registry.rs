//! `Registry`: the database, the pipeline, the revocation list and the
//! listeners, behind blocking calls (run them off an async executor).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use jwt_core::{Clock, SettingsError, SystemClock};

use crate::admin::{self, TokenInfo, TokenPage, TokenQuery};
use crate::db::{
    Database, DatabaseUrl, DbConnection, DbError, Migrations, run_migrations, write_transaction,
};
use crate::pipeline::{Context, Pipeline, Step};
use crate::raw_sql::placeholders;
use crate::record::TokenRecord;
use crate::refresh::{self, RefreshPolicy, Spent};
use crate::revocation::Revocations;
use crate::schema::jwt_token;
use crate::sessions::{self, Session, SessionDetailsSource, Trees};
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
        let pipeline = Pipeline::from_names(&self.settings.pipeline, &self.steps)?;
        let url = DatabaseUrl::parse(&self.settings.database_url)?;
        let db = Database::connect(&url)?;
        let mut sets = vec![MIGRATIONS];
        sets.extend(self.migrations);
        let applied = run_migrations(&db, &sets)?;
        let revocations = if self.watch && self.settings.revocation == Revocation::Cached {
            Some(Revocations::start(&db, Arc::clone(&self.clock))?)
        } else {
            None
        };
        let registry = Registry {
            inner: Arc::new(Inner {
                db,
                clock: self.clock,
                settings: self.settings,
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

    /// The current time, as the registry stores it.
    pub fn now(&self) -> Moment {
        Moment::from_system_time(self.inner.clock.now())
    }

    /// Runs the registration pipeline over `context` in one transaction.
    pub fn register(&self, context: Context) -> Result<Context, DbError> {
        let context = self.inner.pipeline.run(&self.inner.db, context)?;
        let born_expired = context
            .registration
            .as_ref()
            .map(|registration| registration.born_expired.as_slice())
            .unwrap_or_default();
        self.after_expiry(born_expired, true);
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

    /// Force-expires `tokens` (their trees with `affect_tree`) but
    /// `exclude`, and returns the `jti`s expired now. Tokens the registry
    /// never saw are recorded force-expired.
    pub fn expire(
        &self,
        tokens: &[TokenRecord],
        affect_tree: bool,
        exclude: &[&str],
    ) -> Result<Vec<String>, DbError> {
        let now = self.now();
        let mut conn = self.inner.db.get()?;
        let expired = write_transaction(&mut conn, |conn| {
            token_manager::expire(conn, tokens, affect_tree, exclude, now)
        })?;
        self.after_expiry(&expired, affect_tree);
        Ok(expired)
    }

    /// Force-expires the registered token with this `jti` (its tree with
    /// `affect_tree`). `None` when there is no such token.
    pub fn expire_jti(&self, jti: &str, affect_tree: bool) -> Result<Option<Vec<String>>, DbError> {
        let now = self.now();
        let mut conn = self.inner.db.get()?;
        let expired = write_transaction(&mut conn, |conn| {
            let Some(row) = token_manager::find_by_jti(conn, jti)? else {
                return Ok::<_, DbError>(None);
            };
            token_manager::expire_rows(conn, &[row.id], affect_tree, &[], now).map(Some)
        })?;
        if let Some(expired) = &expired {
            self.after_expiry(expired, affect_tree);
        }
        Ok(expired)
    }

    /// Force-expires every active token of a user, and their trees.
    pub fn expire_user(&self, user_id: &str) -> Result<Vec<String>, DbError> {
        let now = self.now();
        let mut conn = self.inner.db.get()?;
        let expired = write_transaction(&mut conn, |conn| {
            let ids = token_manager::active_ids_of_user(conn, user_id, now)?;
            token_manager::expire_rows(conn, &ids, true, &[], now)
        })?;
        self.after_expiry(&expired, true);
        Ok(expired)
    }

    /// Spends a refresh token presented to `refresh/` under `policy`: with
    /// single use, exactly one of any number of concurrent uses is
    /// [`Spent::Fresh`]; a replay force-expires the token's whole tree.
    /// One transaction.
    pub fn spend_refresh(
        &self,
        record: &TokenRecord,
        policy: RefreshPolicy,
    ) -> Result<Spent, DbError> {
        let now = self.now();
        let mut conn = self.inner.db.get()?;
        let spent = write_transaction(&mut conn, |conn| refresh::spend(conn, record, policy, now))?;
        if let Spent::Retried { expired } | Spent::Replayed { expired } = &spent {
            self.after_expiry(expired, true);
        }
        Ok(spent)
    }

    /// The sessions (login trees with an active refresh token) of a user,
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
            self.now(),
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
            self.now(),
            self.inner.details.as_deref(),
        )
    }

    /// The token with this `jti` and its whole login tree, oldest first,
    /// with their users, devices and states (the admin API); `None` when
    /// the registry has no such token.
    pub fn token_tree(&self, jti: &str) -> Result<Option<(TokenInfo, Vec<TokenInfo>)>, DbError> {
        let mut conn = self.inner.db.get()?;
        admin::token_tree(&mut conn, jti, self.now(), self.inner.details.as_deref())
    }

    /// Force-expires sessions of a user; returns how many it ended. A
    /// session that is not the user's, or not alive, counts as none.
    pub fn end_sessions(&self, user_id: &str, which: EndSessions<'_>) -> Result<usize, DbError> {
        let now = self.now();
        let mut conn = self.inner.db.get()?;
        let (ended, expired) = write_transaction(&mut conn, |conn| {
            let trees = Trees::of_user(conn, user_id)?;
            let alive: Vec<RowId> = trees.alive(now).map(|(root, _)| *root).collect();
            let targets: Vec<RowId> = match which {
                EndSessions::One(id) => alive.into_iter().filter(|root| *root == id).collect(),
                EndSessions::All => alive,
                EndSessions::Others { current_jti } => {
                    let current = trees.root_of_jti(current_jti);
                    alive
                        .into_iter()
                        .filter(|root| Some(*root) != current)
                        .collect()
                }
                // The caller's own tree, alive or not: its access token
                // may outlive its refresh tokens.
                EndSessions::Current { current_jti } => {
                    trees.root_of_jti(current_jti).into_iter().collect()
                }
            };
            let expired = token_manager::expire_rows(conn, &targets, true, &[], now)?;
            let ended = match which {
                EndSessions::Current { .. } => usize::from(!expired.is_empty()),
                _ => targets.len(),
            };
            Ok::<_, DbError>((ended, expired))
        })?;
        self.after_expiry(&expired, true);
        Ok(ended)
    }

    /// After a commit that force-expired `expired`: this process's list
    /// learns of them at once, and the listeners hear of them.
    fn after_expiry(&self, expired: &[String], tree: bool) {
        if expired.is_empty() {
            return;
        }
        if let Some(revocations) = &self.inner.revocations {
            revocations.add(expired.iter().cloned());
        }
        for listener in &self.inner.listeners {
            listener.tokens_expired(expired, tree);
        }
    }

    /// The token's state: with `revocation = "cached"` from the in-memory
    /// list (a token not on it counts as registered), unless `registered`
    /// must be known (`require_registered`); else from the database.
    pub fn status(&self, jti: &str, need_registered: bool) -> Result<TokenStatus, DbError> {
        if let (Some(revocations), false) = (&self.inner.revocations, need_registered) {
            let revoked = revocations.is_revoked(&self.inner.db, jti, self.now())?;
            return Ok(if revoked {
                TokenStatus::ForceExpired
            } else {
                TokenStatus::Registered
            });
        }
        let mut conn = self.inner.db.get()?;
        token_manager::status(&mut conn, jti)
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

    /// Deletes tokens whose own expiry passed at least `older_than` ago, in
    /// transactions of at most `batch` rows (so the table is never locked
    /// for long), calling `progress` with the running total. Children keep
    /// their place with no parent; connections go with their tokens.
    pub fn archive(
        &self,
        older_than: Duration,
        batch: usize,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, DbError> {
        let cutoff = self.cutoff(older_than);
        let batch = i64::try_from(batch.max(1)).unwrap_or(i64::MAX);
        let mut conn = self.inner.db.get()?;
        let mut total = 0u64;
        loop {
            let deleted = write_transaction(&mut conn, |conn| {
                let sql = format!(
                    "DELETE FROM jwt_token WHERE id IN \
                     (SELECT id FROM jwt_token WHERE internal_expired_at <= {} LIMIT {})",
                    placeholders(conn, 1, 1),
                    placeholders(conn, 2, 1),
                );
                diesel::sql_query(sql)
                    .bind::<sql::Moment, _>(cutoff)
                    .bind::<BigInt, _>(batch)
                    .execute(conn)
            })?;
            total += deleted as u64;
            progress(total);
            if (deleted as i64) < batch {
                self.clean_up(&mut conn)?;
                return Ok(total);
            }
        }
    }

    /// Removes a deleted user's tokens (and with them their connections).
    pub fn forget_user(&self, user_id: &str) -> Result<u64, DbError> {
        let mut conn = self.inner.db.get()?;
        let deleted = write_transaction(&mut conn, |conn| {
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

    fn clean_up(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        if self.inner.cleanups.is_empty() {
            return Ok(());
        }
        write_transaction(conn, |conn| self.run_cleanups(conn))
    }

    /// The cleanups, in the caller's transaction.
    fn run_cleanups(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        for cleanup in &self.inner.cleanups {
            cleanup.clean(conn)?;
        }
        Ok(())
    }

    fn cutoff(&self, older_than: Duration) -> Moment {
        let now = self.now().0;
        let age = chrono::Duration::from_std(older_than).unwrap_or(chrono::Duration::MAX);
        Moment(
            now.checked_sub_signed(age)
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC),
        )
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
