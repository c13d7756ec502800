//! The `[tokens]` settings section (simplejwt's `SIMPLE_JWT`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::keys::{KeyError, KeySet, SigningKey, VerifyingKey};
use crate::settings_error::SettingsError;
use crate::{Algorithm, AlgorithmFamily, Secret, duration};

/// The `[tokens]` section of docs/configuration.md, with simplejwt's defaults.
///
/// Deserialize it with serde (unknown keys are refused) or load it with
/// `TokenSettings::load` (feature `config`); [`TokenService::new`](crate::TokenService::new)
/// checks it and parses the keys once. `Debug` never shows a secret.
///
/// ```
/// let settings: jwt_core::TokenSettings = toml_settings();
/// assert_eq!(settings.access_token_lifetime.as_secs(), 300);
/// # fn toml_settings() -> jwt_core::TokenSettings {
/// #     jwt_core::TokenSettings { signing_key: "k".repeat(32).into(), ..Default::default() }
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenSettings {
    /// The signing algorithm. Defaults to `HS256`.
    pub algorithm: Algorithm,
    /// The HMAC secret, or the private key in PEM for asymmetric algorithms.
    /// Empty by default: a key (or `signing_key_file`) is required, except
    /// for a verify-only service that sets `verifying_key`.
    pub signing_key: Secret,
    /// A file holding the signing key, instead of `signing_key`. A file of
    /// UTF-8 text loses one trailing newline.
    pub signing_key_file: Option<PathBuf>,
    /// The public key in PEM for asymmetric algorithms. Defaults to the
    /// public half of `signing_key`; not used with `HS*`.
    pub verifying_key: String,
    /// A file holding the verifying key, instead of `verifying_key`.
    pub verifying_key_file: Option<PathBuf>,
    /// The key id (`kid` header) of the signing key. Empty by default: no `kid`.
    pub signing_key_id: String,
    /// Older keys still accepted while a key is rotated out. Empty by default.
    pub verifying_keys: Vec<VerifyingKeySettings>,
    /// Lifetime of access tokens. Defaults to 5 minutes.
    #[serde(deserialize_with = "duration::deserialize")]
    pub access_token_lifetime: Duration,
    /// Lifetime of refresh tokens. Defaults to 1 day.
    #[serde(deserialize_with = "duration::deserialize")]
    pub refresh_token_lifetime: Duration,
    /// Slack allowed on `exp`, `iat` and `nbf`, in whole seconds. Defaults to 0.
    #[serde(deserialize_with = "duration::deserialize")]
    pub leeway: Duration,
    /// The `aud` claim written and required. Empty by default: none is
    /// written, and a token carrying one is refused.
    pub audience: String,
    /// The `iss` claim written and required. Empty by default: not checked.
    pub issuer: String,
    /// The claim holding the user id. Defaults to `user_id`.
    pub user_id_claim: String,
    /// The claim holding the token type. Defaults to `token_type`.
    pub token_type_claim: String,
    /// The claim holding the token id. Defaults to `jti`.
    pub jti_claim: String,
    /// Types accepted on protected routes, tried in order. Defaults to
    /// `["access"]` (simplejwt's `AUTH_TOKEN_CLASSES`).
    pub auth_token_types: Vec<String>,
    /// Every type the registry's `expire/` view resolves. Defaults to
    /// `["access", "refresh"]`.
    pub token_types: Vec<String>,
}

/// One entry of `[[tokens.verifying_keys]]`: a key still accepted during a
/// rotation.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerifyingKeySettings {
    /// The key id tokens name in their `kid` header. Empty: the key checks
    /// tokens without a `kid`.
    pub kid: String,
    /// The key's algorithm. Defaults to `[tokens] algorithm`.
    pub algorithm: Option<Algorithm>,
    /// The HMAC secret, or a public (or private) key in PEM.
    pub key: Secret,
    /// A file holding the key, instead of `key`.
    pub key_file: Option<PathBuf>,
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            algorithm: Algorithm::HS256,
            signing_key: Secret::default(),
            signing_key_file: None,
            verifying_key: String::new(),
            verifying_key_file: None,
            signing_key_id: String::new(),
            verifying_keys: Vec::new(),
            access_token_lifetime: Duration::from_secs(5 * 60),
            refresh_token_lifetime: Duration::from_secs(24 * 60 * 60),
            leeway: Duration::ZERO,
            audience: String::new(),
            issuer: String::new(),
            user_id_claim: "user_id".into(),
            token_type_claim: "token_type".into(),
            jti_claim: "jti".into(),
            auth_token_types: vec!["access".into()],
            token_types: vec!["access".into(), "refresh".into()],
        }
    }
}

impl TokenSettings {
    /// The keys whose values are comma-separated lists in environment
    /// variables (`JWT__TOKENS__AUTH_TOKEN_TYPES=access,refresh`).
    pub const LIST_KEYS: &'static [&'static str] =
        &["tokens.auth_token_types", "tokens.token_types"];

    /// The `[tokens]` section of loaded settings; defaults when absent
    /// (feature `config`).
    #[cfg(feature = "config")]
    pub fn from_config(config: &config::Config) -> Result<Self, SettingsError> {
        crate::load_section(config, "tokens")
    }

    /// The `[tokens]` section from a TOML file (when given) and the
    /// process's `JWT__TOKENS__*` variables (feature `config`).
    #[cfg(feature = "config")]
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let mut loader = crate::SettingsLoader::new().list_keys(Self::LIST_KEYS);
        if let Some(file) = file {
            loader = loader.file(file);
        }
        Self::from_config(&loader.load()?)
    }

    /// Parses the keys: the signing key (with its verifying key) and the
    /// older verifying keys. Done once, at start-up.
    pub fn key_set(&self) -> Result<KeySet, SettingsError> {
        let algorithm = self.algorithm;
        let signing = read_material(
            "tokens.signing_key",
            &self.signing_key,
            "tokens.signing_key_file",
            self.signing_key_file.as_deref(),
        )?;
        let verifying = read_material(
            "tokens.verifying_key",
            &Secret::new(self.verifying_key.as_str()),
            "tokens.verifying_key_file",
            self.verifying_key_file.as_deref(),
        )?;
        let kid = self.signing_key_id.as_str();
        let mut keys = match (algorithm.family(), signing, verifying) {
            (AlgorithmFamily::Hmac, _, Some((setting, _))) => {
                return Err(SettingsError::new(
                    setting,
                    format!("{algorithm} verifies with the signing key; leave this empty"),
                ));
            }
            (_, None, None) => {
                return Err(SettingsError::new(
                    "tokens.signing_key",
                    format!("required for {algorithm} (or signing_key_file)"),
                ));
            }
            (_, Some((setting, material)), None) => {
                let key =
                    SigningKey::from_material(algorithm, &material).map_err(key_error(&setting))?;
                KeySet::new(key.with_kid(kid))
            }
            (_, None, Some((setting, material))) => {
                let key =
                    VerifyingKey::from_pem(algorithm, &material).map_err(key_error(&setting))?;
                KeySet::verify_only(key.with_kid(kid))
            }
            (_, Some((signing_setting, private)), Some((verifying_setting, public))) => {
                let key = SigningKey::from_pem(algorithm, &private)
                    .map_err(key_error(&signing_setting))?;
                let given = VerifyingKey::from_pem(algorithm, &public)
                    .map_err(key_error(&verifying_setting))?;
                check_pair(&key, &given, &verifying_setting)?;
                KeySet::new(key.with_kid(kid))
            }
        };
        for (index, entry) in self.verifying_keys.iter().enumerate() {
            let key_setting = format!("tokens.verifying_keys[{index}].key");
            let file_setting = format!("tokens.verifying_keys[{index}].key_file");
            let algorithm = entry.algorithm.unwrap_or(algorithm);
            let (setting, material) = read_material(
                &key_setting,
                &entry.key,
                &file_setting,
                entry.key_file.as_deref(),
            )?
            .ok_or_else(|| SettingsError::new(key_setting.as_str(), "required (or key_file)"))?;
            let key = VerifyingKey::from_material(algorithm, &material)
                .map_err(key_error(&setting))?
                .with_kid(entry.kid.as_str());
            keys = keys
                .with_verifying_key(key)
                .map_err(key_error(&format!("tokens.verifying_keys[{index}].kid")))?;
        }
        Ok(keys)
    }

    /// Checks everything but the keys: lifetimes and claim names.
    pub(crate) fn check(&self) -> Result<(), SettingsError> {
        for (setting, lifetime) in [
            ("tokens.access_token_lifetime", self.access_token_lifetime),
            ("tokens.refresh_token_lifetime", self.refresh_token_lifetime),
        ] {
            if lifetime.is_zero() {
                return Err(SettingsError::new(setting, "must be greater than zero"));
            }
        }
        if i64::try_from(self.leeway.as_secs()).is_err() {
            return Err(SettingsError::new("tokens.leeway", "is too large"));
        }
        let names = [
            ("tokens.user_id_claim", &self.user_id_claim),
            ("tokens.token_type_claim", &self.token_type_claim),
            ("tokens.jti_claim", &self.jti_claim),
        ];
        for (index, (setting, name)) in names.iter().enumerate() {
            if name.is_empty() {
                return Err(SettingsError::new(*setting, "must not be empty"));
            }
            if names[..index].iter().any(|(_, other)| other == name) {
                return Err(SettingsError::new(
                    *setting,
                    format!("{name:?} is already used by another claim setting"),
                ));
            }
        }
        Ok(())
    }
}

type Material = Option<(String, Vec<u8>)>;

/// The key material of a `key` / `key_file` pair of settings, and which of
/// the two gave it.
fn read_material(
    key_setting: &str,
    key: &Secret,
    file_setting: &str,
    file: Option<&Path>,
) -> Result<Material, SettingsError> {
    let file = file.filter(|path| !path.as_os_str().is_empty());
    match (key.is_empty(), file) {
        (true, None) => Ok(None),
        (false, None) => Ok(Some((
            key_setting.to_owned(),
            key.expose().as_bytes().to_vec(),
        ))),
        (true, Some(path)) => {
            let mut bytes = std::fs::read(path).map_err(|err| {
                key_error(file_setting)(KeyError::File {
                    path: path.display().to_string(),
                    cause: err.to_string(),
                })
            })?;
            if std::str::from_utf8(&bytes).is_ok() {
                strip_one_newline(&mut bytes);
            }
            Ok(Some((file_setting.to_owned(), bytes)))
        }
        (false, Some(_)) => Err(SettingsError::new(
            key_setting,
            format!("set either this or {file_setting}, not both"),
        )),
    }
}

fn strip_one_newline(bytes: &mut Vec<u8>) {
    if bytes.ends_with(b"\r\n") {
        bytes.truncate(bytes.len() - 2);
    } else if bytes.ends_with(b"\n") {
        bytes.truncate(bytes.len() - 1);
    }
}

fn key_error(setting: &str) -> impl Fn(KeyError) -> SettingsError + '_ {
    move |err| SettingsError::new(setting, err.to_string())
}

/// A private key and a public key given together must belong together.
fn check_pair(
    signing: &SigningKey,
    verifying: &VerifyingKey,
    setting: &str,
) -> Result<(), SettingsError> {
    let probe = b"jwt-core key pair check";
    let matches = signing
        .sign(probe)
        .map(|signature| verifying.verify(probe, &signature))
        .unwrap_or(false);
    if matches {
        Ok(())
    } else {
        Err(SettingsError::new(
            setting,
            "is not the public key of tokens.signing_key",
        ))
    }
}
