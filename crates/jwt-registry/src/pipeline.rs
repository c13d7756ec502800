//! The registration pipeline: named steps run over a context in one
//! transaction (the Django package's `TOKEN_REGISTRATION_PIPELINE`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use jwt_core::{RequestInfo, SettingsError};

use crate::db::{Database, DbConnection, DbError};
use crate::expiry::Rules;
use crate::record::Pair;
use crate::token_manager::{self, Registration};
use crate::types::Moment;

/// What a registration works on and what its steps found.
#[derive(Clone, Debug)]
pub struct Context {
    /// The tokens to register, each with its parent.
    pub pairs: Vec<Pair>,
    /// The user the tokens belong to, when known (`obtain/`); `None` makes
    /// `connecting_user` look for it (`refresh/`).
    pub user_id: Option<String>,
    /// The request the tokens were issued on.
    pub request: Option<RequestInfo>,
    /// The time of the registration.
    pub now: Moment,
    /// Filled by `register_pairs`.
    pub registration: Option<Registration>,
    /// Filled by `connecting_user`: who the tokens were connected to.
    pub connected_user: Option<String>,
    /// Filled by `connecting_user`: how many connections were new.
    pub connections: usize,
    /// What the app's own steps want to pass on.
    pub values: BTreeMap<String, serde_json::Value>,
}

impl Context {
    /// A context for `pairs`, at `now`.
    pub fn new(pairs: Vec<Pair>, now: Moment) -> Self {
        Context {
            pairs,
            user_id: None,
            request: None,
            now,
            registration: None,
            connected_user: None,
            connections: 0,
            values: BTreeMap::new(),
        }
    }

    /// Sets the user.
    #[must_use]
    pub fn with_user(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Sets the request.
    #[must_use]
    pub fn with_request(mut self, request: RequestInfo) -> Self {
        self.request = Some(request);
        self
    }
}

/// One step of the pipeline. It runs inside the registration's transaction
/// and fails it by returning an error. On SQLite that transaction is a
/// savepoint of a group's (registrations that queued up together commit
/// at once): a step must not begin or end transactions itself, nor wait
/// for another write of this process, and may run twice (after a
/// conflict).
pub trait Step: Send + Sync + 'static {
    /// The name the `pipeline` setting uses.
    fn name(&self) -> &str;

    /// Does the step's work.
    fn run(&self, conn: &mut DbConnection, context: &mut Context) -> Result<(), DbError>;
}

/// `register_pairs`: rows for the context's tokens, with parent links, each
/// knowing its login's root and its user; a token stored before its
/// registration landed is linked to its parent now; access tokens past the
/// per-login cap are force-expired.
#[derive(Debug, Default)]
pub struct RegisterPairs {
    rules: Rules,
}

impl RegisterPairs {
    /// The step's name in the `pipeline` setting.
    pub const NAME: &'static str = "register_pairs";
}

impl Step for RegisterPairs {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn run(&self, conn: &mut DbConnection, context: &mut Context) -> Result<(), DbError> {
        context.registration = Some(token_manager::register(
            conn,
            &context.pairs,
            context.user_id.as_deref(),
            &self.rules,
            context.now,
        )?);
        Ok(())
    }
}

/// `connecting_user`: connects the tokens to the context's user or, when it
/// has none, to the one user already connected to any of them (none if
/// there are zero or several).
#[derive(Debug, Default)]
pub struct ConnectingUser;

impl ConnectingUser {
    /// The step's name in the `pipeline` setting.
    pub const NAME: &'static str = "connecting_user";
}

impl Step for ConnectingUser {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn run(&self, conn: &mut DbConnection, context: &mut Context) -> Result<(), DbError> {
        let Some(registration) = &context.registration else {
            return Ok(());
        };
        let Some(user) = registration.user(context.user_id.as_deref()) else {
            return Ok(());
        };
        context.connections = token_manager::connect_user(
            conn,
            &user,
            &registration.ids(),
            &registration.without_user,
            context.now,
        )?;
        context.connected_user = Some(user);
        Ok(())
    }
}

/// The steps to run, in order.
#[derive(Clone)]
pub struct Pipeline {
    steps: Vec<Arc<dyn Step>>,
}

impl Pipeline {
    /// The steps named by the `pipeline` setting, found among the built-in
    /// ones (`register_pairs`, `connecting_user`) and `extra`.
    pub fn from_names(
        names: &[String],
        extra: &[Arc<dyn Step>],
    ) -> Result<Pipeline, SettingsError> {
        Pipeline::with_rules(names, extra, Rules::default())
    }

    /// [`Pipeline::from_names`], the built-in steps under the registry's rules.
    pub(crate) fn with_rules(
        names: &[String],
        extra: &[Arc<dyn Step>],
        rules: Rules,
    ) -> Result<Pipeline, SettingsError> {
        let built_in: [Arc<dyn Step>; 2] =
            [Arc::new(RegisterPairs { rules }), Arc::new(ConnectingUser)];
        let steps = names
            .iter()
            .map(|name| {
                extra
                    .iter()
                    .chain(built_in.iter())
                    .find(|step| step.name() == name)
                    .cloned()
                    .ok_or_else(|| {
                        SettingsError::new("registry.pipeline", format!("unknown step {name:?}"))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Pipeline { steps })
    }

    /// The names of the steps, in order.
    pub fn names(&self) -> Vec<&str> {
        self.steps.iter().map(|step| step.name()).collect()
    }

    /// Runs every step in one write transaction. A registration that met
    /// another one of the same token is run again, once, in a new
    /// transaction.
    pub fn run(&self, db: &Database, context: Context) -> Result<Context, DbError> {
        let attempt = |context: Context| {
            db.write(|conn| {
                let mut context = context;
                self.run_in(conn, &mut context)?;
                Ok::<_, DbError>(context)
            })
        };
        match attempt(context.clone()) {
            Err(DbError::Conflict) => attempt(context),
            outcome => outcome,
        }
    }

    /// Runs every step on a connection whose transaction the caller owns.
    pub fn run_in(&self, conn: &mut DbConnection, context: &mut Context) -> Result<(), DbError> {
        for step in &self.steps {
            step.run(conn, context)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}
