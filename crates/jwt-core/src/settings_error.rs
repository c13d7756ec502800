//! A setting that stops start-up.

use std::fmt;

/// A setting that cannot be used, named: `invalid setting
/// tokens.signing_key: an HS256 key must be at least 32 bytes long (got 9)`.
///
/// Always one line, and never the value of a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SettingsError {
    setting: String,
    message: String,
}

/// Settings whose values are secrets: errors about them never quote the value.
const SECRET_SETTINGS: &[&str] = &["signing_key", "key"];

impl SettingsError {
    /// An error about `setting` (`"tokens.leeway"`; a section name for
    /// errors about a whole section).
    pub fn new(setting: impl Into<String>, message: impl Into<String>) -> Self {
        SettingsError {
            setting: setting.into(),
            message: one_line(&message.into()),
        }
    }

    /// The setting, as `section.key`.
    pub fn setting(&self) -> &str {
        &self.setting
    }

    /// What is wrong with it.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Turns an error of the `config` crate into a named one. `section` is
    /// used when the error names no key.
    pub fn from_config(section: &str, err: config::ConfigError) -> Self {
        let (key, cause) = match &err {
            config::ConfigError::Type {
                key: Some(key),
                unexpected,
                expected,
                ..
            } => (
                Some(key.clone()),
                format!("invalid type: {unexpected}, expected {expected}"),
            ),
            config::ConfigError::At {
                error,
                key: Some(key),
                ..
            } => (Some(key.clone()), innermost(error)),
            _ => (None, err.to_string()),
        };
        let setting = match key {
            Some(key) if key.starts_with(&format!("{section}.")) || key == section => key,
            Some(key) => format!("{section}.{key}"),
            None => section.to_owned(),
        };
        let last = setting.rsplit(['.', ']']).next().unwrap_or_default();
        let message = if SECRET_SETTINGS.contains(&last) {
            "must be a string (the value is not shown)".to_owned()
        } else {
            cause
        };
        SettingsError::new(setting, message)
    }
}

fn innermost(err: &config::ConfigError) -> String {
    match err {
        config::ConfigError::At { error, .. } => innermost(error),
        config::ConfigError::Type {
            unexpected,
            expected,
            ..
        } => format!("invalid type: {unexpected}, expected {expected}"),
        other => other.to_string(),
    }
}

/// Multi-line causes (TOML parse errors draw the line) become one line:
/// the first and the last line that say something.
fn one_line(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('|') && !line.contains(" | "))
        .collect();
    match lines.as_slice() {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [first, .., last] => format!("{first}: {last}"),
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid setting {}: {}", self.setting, self.message)
    }
}

impl fmt::Debug for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for SettingsError {}
