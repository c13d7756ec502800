//! `jwt-server`: the demo app (JWT-authenticated API on SQLite or
//! PostgreSQL) and its admin command line. See the README.

mod app;
mod cli;
mod commands;
mod error;
mod settings;
mod signing_key;
mod users;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use jwt_registry::Reach;

use crate::cli::{Cli, Command, UserCommand};
use crate::commands::PasswordInput;
use crate::error::CliError;
use crate::settings::Settings;
use crate::users::{Role, Status};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help, --version
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            // One line: clap's first, without its usage block.
            let text = err.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ");
            eprintln!("jwt-server: {first} (see jwt-server --help)");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("jwt-server: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve { bind } => commands::serve(settings, bind),
        Command::Migrate => commands::migrate(&settings),
        Command::User {
            command:
                UserCommand::Create {
                    name,
                    password_stdin,
                    password,
                    inactive,
                    admin,
                },
        } => commands::user_create(
            &settings,
            &name,
            PasswordInput::from_flags(password, password_stdin)?,
            if inactive {
                Status::Inactive
            } else {
                Status::Active
            },
            if admin { Role::Admin } else { Role::User },
        ),
        Command::User {
            command: UserCommand::SetAdmin { name, revoke },
        } => commands::user_set_role(
            &settings,
            &name,
            if revoke { Role::User } else { Role::Admin },
        ),
        Command::User {
            command: UserCommand::Deactivate { name },
        } => commands::user_deactivate(&settings, &name),
        Command::User {
            command:
                UserCommand::SetPassword {
                    name,
                    password_stdin,
                    password,
                },
        } => commands::user_set_password(
            &settings,
            &name,
            PasswordInput::from_flags(password, password_stdin)?,
        ),
        Command::Sessions { name } => commands::sessions(&settings, &name),
        Command::Archive { older_than } => commands::archive(&settings, older_than),
        Command::Expire { jti, tree, user } => {
            let reach = if tree { Reach::Tree } else { Reach::Token };
            commands::expire(&settings, jti, reach, user)
        }
    }
}
