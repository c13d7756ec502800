//! The commands: serve, migrate, user create, user deactivate.

use std::io::{Read, Write};
use std::net::{TcpListener, ToSocketAddrs};

use jwt_actix::JwtAuth;
use jwt_core::TokenService;
use jwt_registry::db::{Database, DatabaseUrl, run_migrations};

use crate::app::app;
use crate::error::CliError;
use crate::settings::Settings;
use crate::signing_key;
use crate::users::{self, DemoUserStore, NewUserError, Passwords, Users};

/// Opens the database (creating a SQLite file, and saying so) and runs the
/// pending migrations.
fn open_database(url: &DatabaseUrl) -> Result<(Database, Vec<String>), CliError> {
    let new_file = url.sqlite_file().is_some_and(|file| !file.exists());
    let db = Database::connect(url)?;
    if new_file {
        tracing::info!(database = %url, "created the database");
    }
    let applied = run_migrations(&db, &[users::MIGRATIONS])?;
    Ok((db, applied))
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
    let (_, applied) = open_database(&database_url(settings)?)?;
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
    password: Option<String>,
    password_stdin: bool,
    inactive: bool,
) -> Result<(), CliError> {
    let password = match (password, password_stdin) {
        (Some(password), false) => password,
        (None, true) => read_password()?,
        _ => {
            return Err(CliError::Usage(
                "give exactly one of --password-stdin and --password".into(),
            ));
        }
    };
    let name = name.trim();
    if name.is_empty() {
        return Err(CliError::Usage("the username must not be empty".into()));
    }
    if password.is_empty() {
        return Err(CliError::Usage("the password must not be empty".into()));
    }
    let (db, _) = open_database(&database_url(settings)?)?;
    let hash = Passwords::hash(&password).map_err(CliError::Failure)?;
    let id = Users::new(db)
        .create(name, &hash, !inactive)
        .map_err(|err| match err {
            NewUserError::Exists(_) => CliError::failure(err),
            NewUserError::Db(err) => err.into(),
        })?;
    let state = if inactive { " (inactive)" } else { "" };
    say(format!("created user {name} with id {id}{state}"))
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
    let (db, _) = open_database(&database_url(settings)?)?;
    if Users::new(db).deactivate(name)? {
        say(format!("deactivated user {name}"))
    } else {
        Err(CliError::failure(format!("no user named {name:?}")))
    }
}

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
    let tokens = TokenService::new(&settings.tokens)?;
    // Every setting is checked before anything is created.
    settings.auth.check()?;
    let (db, applied) = open_database(&url)?;
    for version in &applied {
        tracing::info!(migration = %version, "applied");
    }
    let passwords = Passwords::new().map_err(CliError::Failure)?;
    let store = DemoUserStore::new(Users::new(db.clone()), passwords);
    let jwt = JwtAuth::builder(tokens, settings.auth, store).build()?;

    let listener = TcpListener::bind(address)
        .map_err(|err| CliError::failure(format!("cannot listen on {bind}: {err}")))?;
    let address = listener.local_addr().map_err(CliError::failure)?;
    let server = actix_web::HttpServer::new(move || app(jwt.clone(), db.clone()))
        .shutdown_timeout(10)
        .listen(listener)
        .map_err(|err| CliError::failure(format!("cannot listen on {bind}: {err}")))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{address}")
            .and_then(|()| out.flush())
            .map_err(CliError::failure)?;
    }
    tracing::info!(%address, "serving");
    actix_web::rt::System::new()
        .block_on(server.run())
        .map_err(|err| CliError::failure(format!("server failed: {err}")))
}
