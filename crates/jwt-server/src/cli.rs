//! The command line (the README's command table).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// JWT authentication demo server and admin commands.
#[derive(Debug, Parser)]
#[command(name = "jwt-server", version, about)]
pub struct Cli {
    /// Settings file (TOML). Defaults to jwt.toml in the working directory, if present.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run pending migrations and serve the demo app.
    Serve {
        /// Address to listen on (overrides `[server] bind`); port 0 picks a free one.
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
    },
    /// Run pending migrations and say which.
    Migrate,
    /// Manage the demo app's users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Delete tokens past their own expiry (optionally only those expired longer ago).
    Archive {
        /// Only tokens whose expiry is at least this old: seconds or "10d", "12h".
        #[arg(long, value_name = "AGE", value_parser = jwt_core::parse_duration, default_value = "0")]
        older_than: std::time::Duration,
    },
    /// Force-expire a token, its whole login tree, or all of a user's tokens.
    Expire {
        /// The token's id (`jti`).
        #[arg(
            long,
            value_name = "JTI",
            conflicts_with = "user",
            required_unless_present = "user"
        )]
        jti: Option<String>,
        /// With --jti: the token's whole login tree.
        #[arg(long, requires = "jti")]
        tree: bool,
        /// Every active token of this user, and their trees.
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
    },
    /// A table of a user's active sessions: when, app, OS, device, IP.
    Sessions {
        /// The username.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user.
    Create {
        /// The username (case-sensitive).
        name: String,
        /// Read the password from standard input (one trailing newline is stripped).
        #[arg(
            long,
            conflicts_with = "password",
            required_unless_present = "password"
        )]
        password_stdin: bool,
        /// The password (visible to other users of this machine: prefer --password-stdin).
        #[arg(long, value_name = "P")]
        password: Option<String>,
        /// Create the user disabled.
        #[arg(long)]
        inactive: bool,
        /// Open the admin API to the user.
        #[arg(long)]
        admin: bool,
    },
    /// Open the admin API to a user (or close it with --revoke).
    SetAdmin {
        /// The username.
        name: String,
        /// Close the admin API to the user instead.
        #[arg(long)]
        revoke: bool,
    },
    /// Disable a user: they can no longer log in or use their tokens.
    Deactivate {
        /// The username.
        name: String,
    },
    /// Change a user's password; their tokens issued until now stop working.
    SetPassword {
        /// The username.
        name: String,
        /// Read the password from standard input (one trailing newline is stripped).
        #[arg(
            long,
            conflicts_with = "password",
            required_unless_present = "password"
        )]
        password_stdin: bool,
        /// The password (visible to other users of this machine: prefer --password-stdin).
        #[arg(long, value_name = "P")]
        password: Option<String>,
    },
}
