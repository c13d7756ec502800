//! Building a [`TokenService`]: settings checked, keys parsed, token types
//! looked up, once.

use std::sync::Arc;

use super::{Inner, TokenService};
use crate::clock::{Clock, SystemClock};
use crate::keys::KeySet;
use crate::settings::TokenSettings;
use crate::settings_error::SettingsError;
use crate::token_type::TokenType;
use crate::validation::ClaimNames;

/// Builds a [`TokenService`] with a clock, app-defined token types or keys
/// of its own.
#[must_use]
pub struct TokenServiceBuilder<'a> {
    settings: &'a TokenSettings,
    clock: Arc<dyn Clock>,
    custom_types: Vec<TokenType>,
    keys: Option<KeySet>,
}

impl<'a> TokenServiceBuilder<'a> {
    /// The clock for `exp`/`iat` checks and new tokens. Defaults to the system clock.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The clock, shared.
    pub fn shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Registers an app-defined token type, which settings may then name in
    /// `auth_token_types` and `token_types`. Defaults to none.
    pub fn token_type(mut self, token_type: TokenType) -> Self {
        self.custom_types.push(token_type);
        self
    }

    /// Uses these keys instead of the ones the settings describe. Defaults
    /// to [`TokenSettings::key_set`].
    pub fn keys(mut self, keys: KeySet) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Checks the settings and parses the keys.
    pub fn build(self) -> Result<TokenService, SettingsError> {
        let settings = self.settings;
        settings.check()?;
        let keys = match self.keys {
            Some(keys) => keys,
            None => settings.key_set()?,
        };
        let access = TokenType::access(settings.access_token_lifetime);
        let refresh = TokenType::refresh(settings.refresh_token_lifetime);
        let mut known = vec![access.clone(), refresh.clone()];
        for custom in self.custom_types {
            if known.iter().any(|other| other.name() == custom.name()) {
                return Err(SettingsError::new(
                    "tokens",
                    format!("token type {:?} is registered twice", custom.name()),
                ));
            }
            known.push(custom);
        }
        let lookup = |setting: &str, names: &[String]| -> Result<Vec<TokenType>, SettingsError> {
            if names.is_empty() {
                return Err(SettingsError::new(
                    setting,
                    "must name at least one token type",
                ));
            }
            names
                .iter()
                .map(|name| {
                    known
                        .iter()
                        .find(|known| known.name() == name)
                        .cloned()
                        .ok_or_else(|| {
                            SettingsError::new(setting, format!("unknown token type {name:?}"))
                        })
                })
                .collect()
        };
        let auth_types = lookup("tokens.auth_token_types", &settings.auth_token_types)?;
        let token_types = lookup("tokens.token_types", &settings.token_types)?;
        let non_empty = |text: &str| (!text.is_empty()).then(|| text.to_owned());
        Ok(TokenService {
            inner: Arc::new(Inner {
                keys,
                clock: self.clock,
                // `check` made sure it fits.
                leeway: i64::try_from(settings.leeway.as_secs()).unwrap_or(i64::MAX),
                audience: non_empty(&settings.audience),
                issuer: non_empty(&settings.issuer),
                names: ClaimNames {
                    user_id: settings.user_id_claim.clone(),
                    token_type: settings.token_type_claim.clone(),
                    jti: settings.jti_claim.clone(),
                },
                access,
                refresh,
                untyped: TokenType::untyped(),
                known,
                auth_types,
                token_types,
            }),
        })
    }
}

impl TokenService {
    /// A service for these settings, with the system clock.
    pub fn new(settings: &TokenSettings) -> Result<Self, SettingsError> {
        TokenService::builder(settings).build()
    }

    /// A builder, to set a clock, token types of the app's own or keys.
    pub fn builder(settings: &TokenSettings) -> TokenServiceBuilder<'_> {
        TokenServiceBuilder {
            settings,
            clock: Arc::new(SystemClock),
            custom_types: Vec::new(),
            keys: None,
        }
    }
}
