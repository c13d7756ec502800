//! Which database a `database_url` names.

use std::fmt;
use std::path::{Path, PathBuf};

use jwt_core::SettingsError;

/// A parsed `registry.database_url`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file (or a `file:` URI, passed to SQLite as is).
    Sqlite(String),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// `postgres://` and `postgresql://` are PostgreSQL; `sqlite://PATH`,
    /// `file:PATH` and bare paths are SQLite. An empty URL, `:memory:` (each
    /// pooled connection would get its own empty database) and other
    /// schemes are refused.
    pub fn parse(url: &str) -> Result<DatabaseUrl, SettingsError> {
        let setting = "registry.database_url";
        let url = url.trim();
        if url.is_empty() {
            return Err(SettingsError::new(setting, "must not be empty"));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        if path.is_empty() {
            return Err(SettingsError::new(setting, "names no SQLite file"));
        }
        if path == ":memory:" || path.contains("mode=memory") {
            return Err(SettingsError::new(
                setting,
                "an in-memory SQLite database is not shared between pooled connections; use a file",
            ));
        }
        if let Some((scheme, _)) = path
            .split_once("://")
            .filter(|_| !path.starts_with("file:"))
        {
            return Err(SettingsError::new(
                setting,
                format!(
                    "unknown scheme {scheme:?}; expected postgres://, postgresql://, sqlite://, file: or a path"
                ),
            ));
        }
        Ok(DatabaseUrl::Sqlite(path.to_owned()))
    }

    /// "SQLite" or "PostgreSQL".
    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "SQLite",
            DatabaseUrl::Postgres(_) => "PostgreSQL",
        }
    }

    /// Whether this is a SQLite database.
    pub fn is_sqlite(&self) -> bool {
        matches!(self, DatabaseUrl::Sqlite(_))
    }

    /// The path of a SQLite database file (a `file:` URI without its
    /// scheme, authority and query); `None` for PostgreSQL.
    pub fn sqlite_file(&self) -> Option<&Path> {
        match self {
            DatabaseUrl::Sqlite(path) => {
                let file = match path.strip_prefix("file:") {
                    Some(uri) => uri
                        .strip_prefix("//localhost")
                        .or_else(|| uri.strip_prefix("//"))
                        .unwrap_or(uri),
                    None => path,
                };
                Some(Path::new(file.split('?').next().unwrap_or(file)))
            }
            DatabaseUrl::Postgres(_) => None,
        }
    }

    /// The directory of a SQLite database file (where `jwt-server` keeps
    /// its generated signing key); `None` for PostgreSQL.
    pub fn sqlite_dir(&self) -> Option<PathBuf> {
        let dir = self.sqlite_file()?.parent().unwrap_or(Path::new(""));
        Some(if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir.to_path_buf()
        })
    }
}

/// A PostgreSQL URL may hold a password: `Debug` and `Display` hide it.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "SQLite {path}"),
            DatabaseUrl::Postgres(url) => {
                // Neither the user info nor the query (`?password=...`) is shown.
                let url = url.split('?').next().unwrap_or(url);
                let shown = match (url.split_once("://"), url.rfind('@')) {
                    (Some((scheme, _)), Some(at)) => format!("{scheme}://***{}", &url[at..]),
                    _ => url.to_owned(),
                };
                write!(f, "PostgreSQL {shown}")
            }
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend() {
        assert!(DatabaseUrl::parse("postgres://u:p@h/db").is_ok_and(|u| !u.is_sqlite()));
        assert!(DatabaseUrl::parse("postgresql://h/db").is_ok_and(|u| !u.is_sqlite()));
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/jwt.db").unwrap(),
            DatabaseUrl::Sqlite("data/jwt.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("file:jwt.db").unwrap(),
            DatabaseUrl::Sqlite("file:jwt.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("jwt.sqlite3").unwrap(),
            DatabaseUrl::Sqlite("jwt.sqlite3".into())
        );
        for bad in [
            "",
            "  ",
            ":memory:",
            "sqlite://",
            "mysql://h/db",
            "file::memory:?cache=shared&mode=memory",
        ] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_are_not_shown_and_sqlite_dirs_are_found() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db.example/jwt").unwrap();
        assert_eq!(url.to_string(), "PostgreSQL postgres://***@db.example/jwt");
        assert_eq!(
            DatabaseUrl::parse("jwt.sqlite3").unwrap().sqlite_dir(),
            Some(PathBuf::from("."))
        );
        assert_eq!(
            DatabaseUrl::parse("/var/lib/jwt/db.sqlite3")
                .unwrap()
                .sqlite_dir(),
            Some(PathBuf::from("/var/lib/jwt"))
        );
        assert_eq!(
            DatabaseUrl::parse("file:/tmp/x.db?mode=rwc")
                .unwrap()
                .sqlite_dir(),
            Some(PathBuf::from("/tmp"))
        );
    }

    #[test]
    fn file_uris_and_query_passwords() {
        let url = DatabaseUrl::parse("file:///var/jwt/x.db?mode=rwc").unwrap();
        assert_eq!(url.sqlite_file(), Some(Path::new("/var/jwt/x.db")));
        assert_eq!(url.sqlite_dir(), Some(PathBuf::from("/var/jwt")));
        let url = DatabaseUrl::parse("postgres://db.example/jwt?password=s3cret").unwrap();
        assert_eq!(url.to_string(), "PostgreSQL postgres://db.example/jwt");
    }
}
