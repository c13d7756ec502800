//! The commands: serve, migrate, user, archive, expire.

use std::io::{Read, Write};
use std::net::{TcpListener, ToSocketAddrs};

use jwt_actix::JwtAuth;
use jwt_core::TokenService;
use jwt_device::{ConnectInterlocutor, DeviceSessionDetails, ForgetUnusedInterlocutors};
use jwt_registry::db::DatabaseUrl;
use jwt_registry::{OpenError, Reach, Registry};

use crate::app::app;
use crate::error::CliError;
use crate::settings::Settings;
use crate::signing_key;
use crate::users::{self, DemoUserStore, NewUserError, Passwords, Role, Status, Users};

/// Opens the registry's database (creating a SQLite file, and saying so)
/// and runs the pending migrations of the registry, the device registry
/// and the demo app.
/// `watch`: keep the revocation list (only `serve` needs it).
fn open_registry(settings: &Settings, watch: bool) -> Result<(Registry, Vec<String>), CliError> {
    let url = database_url(settings)?;
    let new_file = url.sqlite_file().is_some_and(|file| !file.exists());
    let (registry, applied) = Registry::builder(settings.registry.clone())
        .leeway(settings.tokens.leeway)
        .migrations(jwt_device::MIGRATIONS)
        .migrations(users::MIGRATIONS)
        .step(ConnectInterlocutor::new(settings.proxies.clone()))
        .cleanup(ForgetUnusedInterlocutors)
        .session_details(DeviceSessionDetails)
        .watch_revocations(watch)
        .open()
        .map_err(|err| match err {
            OpenError::Settings(err) => CliError::from(err),
            OpenError::Db(err) => CliError::from(err),
        })?;
    if new_file {
        tracing::info!(database = %url, "created the database");
    }
    Ok((registry, applied))
}

/// The database the settings name.
fn database_url(settings: &Settings) -> Result<DatabaseUrl, CliError> {
    Ok(DatabaseUrl::parse(&settings.registry.database_url)?)
}

/// A line on stdout; a closed stdout is an error, not a panic.
fn say(line: impl std::fmt::Display) -> Result<(), CliError> {
    writeln!(std::io::stdout().lock(), "{line}")
        .map_err(|err| CliError::failure(format!("cannot write to stdout: {err}")))
}

pub fn migrate(settings: &Settings) -> Result<(), CliError> {
    let (_, applied) = open_registry(settings, false)?;
    if applied.is_empty() {
        say("no pending migrations")?;
    }
    for version in applied {
        say(format!("applied {version}"))?;
    }
    Ok(())
}

pub fn user_create(
    settings: &Settings,
    name: &str,
    password: PasswordInput,
    status: Status,
    role: Role,
) -> Result<(), CliError> {
    let password = password.read()?;
    let name = name.trim();
    if name.is_empty() {
        return Err(CliError::Usage("the username must not be empty".into()));
    }
    let (registry, _) = open_registry(settings, false)?;
    let hash = Passwords::hash(&password).map_err(CliError::failure)?;
    let id = Users::new(registry.database().clone())
        .create(name, &hash, status, role)
        .map_err(|err| match err {
            NewUserError::Exists(_) => CliError::failure(err),
            NewUserError::Db(err) => err.into(),
        })?;
    let state = match (status, role) {
        (Status::Active, Role::User) => "",
        (Status::Inactive, Role::User) => " (inactive)",
        (Status::Active, Role::Admin) => " (admin)",
        (Status::Inactive, Role::Admin) => " (inactive, admin)",
    };
    say(format!("created user {name} with id {id}{state}"))
}

pub fn user_set_role(settings: &Settings, name: &str, role: Role) -> Result<(), CliError> {
    let (registry, _) = open_registry(settings, false)?;
    if !Users::new(registry.database().clone()).set_role(name, role)? {
        return Err(CliError::failure(format!("no user named {name:?}")));
    }
    if role == Role::Admin {
        say(format!("{name} may use the admin API"))
    } else {
        say(format!("{name} may no longer use the admin API"))
    }
}

/// Where a command's password comes from.
pub enum PasswordInput {
    /// `--password P`.
    Given(String),
    /// `--password-stdin`.
    Stdin,
}

impl PasswordInput {
    /// The input the flags name: exactly one of them.
    pub fn from_flags(password: Option<String>, stdin: bool) -> Result<Self, CliError> {
        match (password, stdin) {
            (Some(password), false) => Ok(PasswordInput::Given(password)),
            (None, true) => Ok(PasswordInput::Stdin),
            _ => Err(CliError::Usage(
                "give exactly one of --password-stdin and --password".into(),
            )),
        }
    }

    /// The password; never empty.
    fn read(self) -> Result<String, CliError> {
        let password = match self {
            PasswordInput::Given(password) => password,
            PasswordInput::Stdin => read_password()?,
        };
        if password.is_empty() {
            return Err(CliError::Usage("the password must not be empty".into()));
        }
        Ok(password)
    }
}

/// The password on standard input, without one trailing newline.
fn read_password() -> Result<String, CliError> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).map_err(|err| {
        CliError::failure(format!(
            "cannot read the password from standard input: {err}"
        ))
    })?;
    if input.ends_with('\n') {
        input.pop();
        if input.ends_with('\r') {
            input.pop();
        }
    }
    Ok(input)
}

pub fn user_deactivate(settings: &Settings, name: &str) -> Result<(), CliError> {
    let (registry, _) = open_registry(settings, false)?;
    if Users::new(registry.database().clone()).deactivate(name)? {
        say(format!("deactivated user {name}"))
    } else {
        Err(CliError::failure(format!("no user named {name:?}")))
    }
}

pub fn user_set_password(
    settings: &Settings,
    name: &str,
    password: PasswordInput,
) -> Result<(), CliError> {
    let password = password.read()?;
    let (registry, _) = open_registry(settings, false)?;
    let hash = Passwords::hash(&password).map_err(CliError::failure)?;
    if Users::new(registry.database().clone()).set_password(name, &hash)? {
        // Tokens carry whole seconds: one issued later in this second could
        // not be told from one issued before the change, and is refused.
        // Return once that second is over, so a login after this command
        // works.
        let into_second = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|since| since.subsec_nanos())
            .unwrap_or_default();
        std::thread::sleep(std::time::Duration::from_nanos(
            1_000_000_000 - u64::from(into_second) + 1_000_000,
        ));
        say(format!(
            "changed the password of {name}; their tokens issued until now are refused"
        ))
    } else {
        Err(CliError::failure(format!("no user named {name:?}")))
    }
}

/// `jwt-server sessions NAME`: the user's live sessions as a table.
pub fn sessions(settings: &Settings, name: &str) -> Result<(), CliError> {
    let (registry, _) = open_registry(settings, false)?;
    let user = Users::new(registry.database().clone())
        .find_by_username(name)?
        .ok_or_else(|| CliError::failure(format!("no user named {name:?}")))?;
    let sessions = registry.sessions(&user.id.to_string(), None)?;
    if sessions.is_empty() {
        return say(format!("{name} has no active sessions"));
    }
    let dash = || "-".to_owned();
    let mut rows = vec![
        [
            "SESSION",
            "LOGGED IN",
            "REFRESHED",
            "EXPIRES",
            "APP",
            "OS",
            "DEVICE",
            "IP",
        ]
        .map(str::to_owned),
    ];
    for session in &sessions {
        let details = &session.details;
        rows.push([
            session.id.to_string(),
            session.created_at.to_rfc3339(),
            session.refreshed_at.map_or_else(dash, |at| at.to_rfc3339()),
            session.expires_at.to_rfc3339(),
            details.app.clone().unwrap_or_else(dash),
            details.os.clone().unwrap_or_else(dash),
            details.device.clone().unwrap_or_else(dash),
            details.ip.clone().unwrap_or_else(dash),
        ]);
    }
    say(table(&rows))
}

/// Rows as columns padded to their widest cell, two spaces apart; cells
/// cut to 40 characters, control characters shown as `?` (they come from
/// clients' headers and must not drive the terminal).
fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let clean = |cell: &str| -> String {
        let cell: String = cell
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        match cell.char_indices().nth(40) {
            Some((end, _)) => format!("{}…", &cell[..end]),
            None => cell,
        }
    };
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|c| clean(c)).collect())
        .collect();
    let mut widths = [0usize; N];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let line: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            line.join("  ").trim_end().to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Blocking threads per worker (see `serve`).
const BLOCKING_THREADS: usize = 32;

pub fn serve(mut settings: Settings, bind: Option<String>) -> Result<(), CliError> {
    let url = database_url(&settings)?;
    let bind = bind.unwrap_or_else(|| settings.server.bind.clone());
    let address = bind
        .to_socket_addrs()
        .ok()
        .and_then(|mut addresses| addresses.next())
        .ok_or_else(|| {
            CliError::Usage(format!(
                "invalid setting server.bind: {bind:?} is not an address like 127.0.0.1:8000"
            ))
        })?;
    if let Some(created) = signing_key::ensure(&mut settings.tokens, &url)? {
        tracing::info!(path = %created.display(), "created a signing key (keep it secret: it signs every token)");
    }
    signing_key::warn_if_exposed(&settings.tokens);
    let tokens = TokenService::new(&settings.tokens)?;
    // Every setting is checked before anything is created.
    settings.auth.check()?;
    let (registry, applied) = open_registry(&settings, true)?;
    for version in &applied {
        tracing::info!(migration = %version, "applied");
    }
    let db = registry.database().clone();
    let passwords = Passwords::new().map_err(CliError::failure)?;
    let store = DemoUserStore::new(Users::new(db.clone()), passwords);
    let jwt = JwtAuth::builder(tokens, settings.auth, store)
        .registry(registry.clone())
        .build()?;
    let flush = jwt.clone();

    let listener = TcpListener::bind(address)
        .map_err(|err| CliError::failure(format!("cannot listen on {bind}: {err}")))?;
    let address = listener.local_addr().map_err(CliError::failure)?;
    let server = actix_web::HttpServer::new(move || app(jwt.clone(), db.clone()))
        .shutdown_timeout(10)
        // Blocking threads wait on the database (registrations wait for
        // their group's commit) or hash a password (never more than the
        // password slots): 32 a worker covers the harness's 32 connections
        // on one worker, where actix's default allows 512 threads, each
        // with a malloc arena of its own once it ran.
        .worker_max_blocking_threads(BLOCKING_THREADS)
        .listen(listener)
        .map_err(|err| CliError::failure(format!("cannot listen on {bind}: {err}")))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{address}")
            .and_then(|()| out.flush())
            .map_err(CliError::failure)?;
    }
    tracing::info!(%address, "serving");
    let outcome = actix_web::rt::System::new()
        .block_on(server.run())
        .map_err(|err| CliError::failure(format!("server failed: {err}")));
    // Registrations still queued land before the process ends.
    flush.flush_registrations();
    drop(flush);
    drop(registry);
    tracing::info!("stopped");
    outcome
}

pub fn archive(settings: &Settings, older_than: std::time::Duration) -> Result<(), CliError> {
    let (registry, _) = open_registry(settings, false)?;
    let total = registry.archivable(older_than)?;
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::new(total)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let archived = registry.archive(older_than, ARCHIVE_BATCH, |done| bar.set_position(done))?;
    bar.finish_and_clear();
    say(format!("archived {archived} tokens"))
}

/// Rows deleted per transaction by `archive`: small enough that writers
/// never wait long for the table.
const ARCHIVE_BATCH: usize = 1_000;

pub fn expire(
    settings: &Settings,
    jti: Option<String>,
    reach: Reach,
    user: Option<String>,
) -> Result<(), CliError> {
    let (registry, _) = open_registry(settings, false)?;
    let expired = match (jti, user) {
        (Some(jti), None) => registry
            .expire_jti(&jti, reach)?
            .ok_or_else(|| CliError::failure(format!("no token with jti {jti:?}")))?,
        (None, Some(name)) => {
            let user = Users::new(registry.database().clone())
                .find_by_username(&name)?
                .ok_or_else(|| CliError::failure(format!("no user named {name:?}")))?;
            let ended = registry.expire_user(&user.id.to_string())?;
            // A login after this command must work: wait out the second
            // of the cut-off (tokens carry whole seconds).
            std::thread::sleep(ended.settles_in);
            ended.expired
        }
        _ => return Err(CliError::Usage("give --jti JTI or --user NAME".into())),
    };
    say(format!("expired {expired} tokens"))
}
