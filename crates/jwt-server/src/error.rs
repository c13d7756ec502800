//! How the command line fails: one line on stderr and an exit status.

use std::fmt;

/// A failure of a command: bad usage or configuration (exit 2) or anything
/// else (exit 1).
#[derive(Debug)]
pub enum CliError {
    /// Bad usage or configuration: exit status 2.
    Usage(String),
    /// Anything else: exit status 1.
    Failure(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failure(_) => 1,
        }
    }

    pub fn failure(message: impl fmt::Display) -> Self {
        CliError::Failure(message.to_string())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(message) | CliError::Failure(message) => f.write_str(message),
        }
    }
}

impl From<jwt_core::SettingsError> for CliError {
    fn from(err: jwt_core::SettingsError) -> Self {
        CliError::Usage(err.to_string())
    }
}

impl From<jwt_registry::db::DbError> for CliError {
    fn from(err: jwt_registry::db::DbError) -> Self {
        CliError::Failure(err.to_string())
    }
}
