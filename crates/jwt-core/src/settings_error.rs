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
#[cfg(feature = "config")]
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

    /// An error of the `config` crate about `setting`. The value is not
    /// quoted when the setting holds a secret (feature `config`).
    #[cfg(feature = "config")]
    pub fn from_config(setting: impl Into<String>, err: &config::ConfigError) -> Self {
        let setting = setting.into();
        let last = setting.rsplit(['.', ']']).next().unwrap_or_default();
        let message = if SECRET_SETTINGS.contains(&last) {
            "must be a string (the value is not shown)".to_owned()
        } else {
            innermost(err)
        };
        SettingsError::new(setting, message)
    }
}

/// The cause, without config's "for key ... in ..." suffixes: the setting
/// is named separately.
#[cfg(feature = "config")]
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

/// Multi-line causes (TOML parse errors draw the line they point at)
/// become one line: the meaningful lines joined, the drawing dropped.
fn one_line(text: &str) -> String {
    let is_drawing = |line: &str| {
        line.starts_with('|')
            || line.starts_with('^')
            || line
                .split_once(" |")
                .is_some_and(|(n, _)| n.trim().parse::<u32>().is_ok())
    };
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !is_drawing(line) && !line.starts_with("in "))
        .collect();
    match lines.split_first() {
        None => String::new(),
        Some((first, [])) => (*first).to_owned(),
        Some((first, rest)) => format!("{first}: {}", rest.join("; ")),
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
