//! Building a [`Registry`]: settings, the leeway, steps, listeners and
//! migrations, then one `open`.

use std::sync::Arc;
use std::time::Duration;

use jwt_core::{Clock, SettingsError, SystemClock};

use super::background::Background;
use super::{Cleanup, Inner, MIGRATIONS, Registry, RegistryListener};
use diesel::r2d2::Pool;

use crate::db::{
    Database, DatabaseUrl, DbError, GroupWriter, Manager, Migrations, pending_migrations,
    run_migrations,
};
use crate::expiry::Rules;
use crate::pipeline::{Pipeline, Step};
use crate::refresh::RefreshPolicy;
use crate::revocation::Revocations;
use crate::sessions::SessionDetailsSource;
use crate::settings::{RegistrySettings, Revocation};

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
    migrations_by: MigrationsBy,
    registration_queue: usize,
    pool: Option<Pool<Manager>>,
}

/// Who runs the migrations of the registry (and those added to it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MigrationsBy {
    /// [`RegistryBuilder::open`] runs what is pending, under an advisory
    /// lock on PostgreSQL (one `BEGIN IMMEDIATE` transaction on SQLite),
    /// so instances starting together do not race.
    #[default]
    Registry,
    /// The app runs them with its own `MigrationHarness`
    /// ([`SQLITE_MIGRATIONS`](crate::SQLITE_MIGRATIONS),
    /// [`POSTGRES_MIGRATIONS`](crate::POSTGRES_MIGRATIONS), and those of
    /// the sets added), before it opens the registry; `open` refuses to
    /// start while any is pending. The registry's advisory lock then guards
    /// nothing: Diesel's harness takes no lock, so when instances may start
    /// together the app keeps two of them from migrating at once (a deploy
    /// step, or a lock of its own).
    App,
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

    /// A pipeline step that runs whatever the `pipeline` setting says: it is
    /// added at the end of the pipeline unless the setting names it already.
    pub fn step_in_pipeline(mut self, step: impl Step) -> Self {
        let name = step.name().to_owned();
        if !self.settings.pipeline.contains(&name) {
            self.settings.pipeline.push(name);
        }
        self.step(step)
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

    /// How many registrations may wait for the background worker
    /// (`registration_parallel`); past it, [`Registry::queue`] waits
    /// (without blocking a thread) for room, so a burst cannot grow memory
    /// without end. Defaults to 1024.
    pub fn registration_queue(mut self, jobs: usize) -> Self {
        self.registration_queue = jobs.max(1);
        self
    }

    /// Who runs the migrations. Defaults to [`MigrationsBy::Registry`].
    pub fn migrations_by(mut self, who: MigrationsBy) -> Self {
        self.migrations_by = who;
        self
    }

    /// Opens the registry on the app's own pool instead of one of its own
    /// (see [`Database::from_pool`]: its SQLite connections must have
    /// foreign keys on and a busy timeout, and open the file
    /// `database_url` names). `registry.database_url` is still needed: the
    /// revocation list watches the database on a connection of its own.
    pub fn pool(mut self, pool: Pool<Manager>) -> Self {
        self.pool = Some(pool);
        self
    }

    /// More migrations to run with the registry's own (the device
    /// registry's, an app's). Defaults to none.
    pub fn migrations(mut self, migrations: Migrations) -> Self {
        self.migrations.push(migrations);
        self
    }

    /// Connects, runs pending migrations (returned as `owner/version`; with
    /// [`MigrationsBy::App`], checks that none is pending), and loads the
    /// revocation list.
    pub fn open(self) -> Result<(Registry, Vec<String>), OpenError> {
        if self.settings.expire_on_refresh && !self.settings.registration_on_signal {
            return Err(SettingsError::new(
                "registry.expire_on_refresh",
                "works only with registration_on_signal = true",
            )
            .into());
        }
        let rules = Rules {
            leeway: self.leeway,
            access_cap: self.settings.live_access_tokens_per_login,
        };
        let pipeline = Arc::new(Pipeline::with_rules(
            &self.settings.pipeline,
            &self.steps,
            rules,
        )?);
        let url = DatabaseUrl::parse(&self.settings.database_url)?;
        let db = match self.pool {
            Some(pool) => Database::from_pool(&url, pool)?,
            None => Database::connect(&url)?,
        };
        let mut sets = vec![MIGRATIONS];
        sets.extend(self.migrations);
        let applied = match self.migrations_by {
            MigrationsBy::Registry => run_migrations(&db, &sets)?,
            MigrationsBy::App => {
                let pending = pending_migrations(&db, &sets)?;
                if !pending.is_empty() {
                    return Err(SettingsError::new(
                        "registry.database_url",
                        format!(
                            "has migrations pending ({}): run them with the app's migration harness before opening the registry",
                            pending.join(", ")
                        ),
                    )
                    .into());
                }
                Vec::new()
            }
        };
        let revocations = if self.watch && self.settings.revocation == Revocation::Cached {
            Some(Revocations::start(&db, Arc::clone(&self.clock), rules)?)
        } else {
            None
        };
        let group = GroupWriter::start(db.clone());
        let background = if self.settings.registration_parallel {
            let worker = Background::start(self.registration_queue).map_err(|err| {
                SettingsError::new(
                    "registry.registration_parallel",
                    format!("cannot start the worker: {err}"),
                )
            })?;
            Some(worker)
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
                background,
                group,
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
    /// Whether this registry can serve a token layer whose verification
    /// has `leeway` and whose `refresh/` spends tokens under `policy`;
    /// the error names the setting at fault.
    pub fn check_serves(
        &self,
        leeway: Duration,
        policy: Option<&RefreshPolicy>,
    ) -> Result<(), SettingsError> {
        if self.leeway() < leeway {
            return Err(SettingsError::new(
                "tokens.leeway",
                format!(
                    "is {} s but the registry was built with {} s: pass it to RegistryBuilder::leeway, or a token inside the leeway could not be cut off",
                    leeway.as_secs(),
                    self.leeway().as_secs()
                ),
            ));
        }
        if policy.is_some_and(|policy| policy.single_use) && !self.settings().registration_on_signal
        {
            return Err(SettingsError::new(
                "auth.reuse_detection",
                "works only with [registry] registration_on_signal = true",
            ));
        }
        Ok(())
    }

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
            migrations_by: MigrationsBy::Registry,
            registration_queue: 1024,
            pool: None,
        }
    }
}
