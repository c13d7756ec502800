//! The signing key `serve` creates on first run, when none is configured.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use jwt_core::{AlgorithmFamily, TokenSettings};
use jwt_registry::db::DatabaseUrl;

use crate::error::CliError;

/// The file beside the SQLite database.
pub const FILE_NAME: &str = "jwt-signing.key";

/// With no key configured, an HS algorithm and a SQLite database, points
/// `signing_key_file` at `jwt-signing.key` beside the database, creating it
/// (64 random bytes, mode 0600) if it does not exist yet. Returns the path
/// when it created the file. Otherwise changes nothing: on PostgreSQL a
/// missing key stays the settings error it is.
pub fn ensure(
    tokens: &mut TokenSettings,
    database: &DatabaseUrl,
) -> Result<Option<PathBuf>, CliError> {
    let unset = tokens.signing_key.is_empty()
        && tokens
            .signing_key_file
            .as_ref()
            .is_none_or(|path| path.as_os_str().is_empty())
        && tokens.verifying_key.is_empty()
        && tokens.verifying_key_file.is_none();
    let Some(dir) = database.sqlite_dir() else {
        return Ok(None);
    };
    if !unset || tokens.algorithm.family() != AlgorithmFamily::Hmac {
        return Ok(None);
    }
    let path = dir.join(FILE_NAME);
    tokens.signing_key_file = Some(path.clone());
    if path.exists() {
        return Ok(None);
    }
    let mut key = [0u8; 64];
    aws_lc_rs::rand::fill(&mut key)
        .map_err(|_| CliError::failure("no randomness for a signing key"))?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|err| CliError::failure(format!("cannot create {}: {err}", path.display())))?;
    file.write_all(&key)
        .and_then(|()| file.sync_all())
        .map_err(|err| CliError::failure(format!("cannot write {}: {err}", path.display())))?;
    Ok(Some(path))
}

/// The secret key files of `tokens` that other users may read, with their
/// mode: `signing_key_file` (an HMAC secret or a private key), and the
/// files of HMAC keys still accepted (an HMAC key can sign as well as
/// verify). Public verifying keys are no secret and are not looked at.
pub fn exposed(tokens: &TokenSettings) -> Vec<(PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let hmac_keys = tokens.verifying_keys.iter().filter(|entry| {
        entry.algorithm.unwrap_or(tokens.algorithm).family() == AlgorithmFamily::Hmac
    });
    tokens
        .signing_key_file
        .iter()
        .chain(hmac_keys.filter_map(|entry| entry.key_file.as_ref()))
        .filter(|path| !path.as_os_str().is_empty())
        .filter_map(|path| {
            let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
            (mode & 0o077 != 0).then(|| (path.clone(), mode))
        })
        .collect()
}

/// One line for each secret key file other users may read (a warning, not
/// a refusal: mounted secrets are often 0644).
pub fn warn_if_exposed(tokens: &TokenSettings) {
    for (path, mode) in exposed(tokens) {
        tracing::warn!(
            "the signing key file {} is open to other users (mode {mode:04o}): run chmod 600 {}",
            path.display(),
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_key_is_made_once_beside_a_sqlite_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = DatabaseUrl::parse(dir.path().join("jwt.sqlite3").to_str().unwrap()).unwrap();
        let mut tokens = TokenSettings::default();
        let created = ensure(&mut tokens, &db)
            .unwrap()
            .expect("created on first run");
        assert_eq!(created, dir.path().join(FILE_NAME));
        let meta = std::fs::metadata(&created).unwrap();
        assert_eq!(meta.len(), 64);
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let first = std::fs::read(&created).unwrap();

        let mut again = TokenSettings::default();
        assert_eq!(ensure(&mut again, &db).unwrap(), None, "not created twice");
        assert_eq!(again.signing_key_file.as_deref(), Some(created.as_path()));
        assert_eq!(std::fs::read(&created).unwrap(), first, "never overwritten");
    }

    #[test]
    fn nothing_is_made_with_a_key_an_asymmetric_algorithm_or_postgres() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = DatabaseUrl::parse(dir.path().join("db").to_str().unwrap()).unwrap();
        let mut keyed = TokenSettings {
            signing_key: "k".repeat(32).into(),
            ..TokenSettings::default()
        };
        assert_eq!(ensure(&mut keyed, &sqlite).unwrap(), None);
        assert_eq!(keyed.signing_key_file, None);
        let mut rsa = TokenSettings {
            algorithm: jwt_core::Algorithm::RS256,
            ..TokenSettings::default()
        };
        assert_eq!(ensure(&mut rsa, &sqlite).unwrap(), None);
        let postgres = DatabaseUrl::parse("postgres://localhost/jwt").unwrap();
        let mut tokens = TokenSettings::default();
        assert_eq!(ensure(&mut tokens, &postgres).unwrap(), None);
        assert_eq!(tokens.signing_key_file, None);
        assert!(!dir.path().join(FILE_NAME).exists());
    }

    #[test]
    fn secret_key_files_open_to_others_are_named_public_keys_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, mode: u32| {
            let path = dir.path().join(name);
            std::fs::write(&path, "k".repeat(64)).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            path
        };
        let signing = file("signing", 0o644);
        let old_hmac = file("old-hmac", 0o640);
        let private_ok = file("private", 0o600);
        let public = file("public.pem", 0o644);
        let tokens = TokenSettings {
            signing_key_file: Some(signing.clone()),
            verifying_key_file: Some(public.clone()),
            verifying_keys: vec![
                jwt_core::VerifyingKeySettings {
                    kid: "old".into(),
                    key_file: Some(old_hmac.clone()),
                    ..Default::default()
                },
                jwt_core::VerifyingKeySettings {
                    kid: "rsa".into(),
                    algorithm: Some(jwt_core::Algorithm::RS256),
                    key_file: Some(public.clone()),
                    ..Default::default()
                },
            ],
            ..TokenSettings::default()
        };
        assert_eq!(exposed(&tokens), [(signing, 0o644), (old_hmac, 0o640)]);
        let private = TokenSettings {
            signing_key_file: Some(private_ok),
            ..TokenSettings::default()
        };
        assert_eq!(exposed(&private), [], "0600 is fine");
    }
}
