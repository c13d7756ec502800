//! The current key and the older ones still accepted during a rotation.

use super::{KeyError, SigningKey, VerifyingKey};

/// The keys of a [`TokenService`](crate::TokenService): the current signing
/// key (absent for a verify-only service) and every key tokens are checked
/// with — the current one first, then older ones kept during a rotation.
///
/// Which key checks a token (docs/configuration.md): a token with a `kid` header only
/// the key with that id (an unknown `kid` is invalid); a token without one
/// the keys that have no id, or the current key when every key has one. Of
/// those, only keys of the token's `alg` are tried.
#[derive(Debug)]
pub struct KeySet {
    signing: Option<SigningKey>,
    verifying: Vec<VerifyingKey>,
    any_without_kid: bool,
}

impl KeySet {
    /// Keys that sign with `signing` and verify with its verifying key.
    pub fn new(signing: SigningKey) -> Self {
        let current = signing.verifying_key().clone();
        let mut set = KeySet::verify_only(current);
        set.signing = Some(signing);
        set
    }

    /// Keys that only verify (a service that accepts tokens another service
    /// mints, e.g. with the Django package's public key).
    pub fn verify_only(current: VerifyingKey) -> Self {
        KeySet {
            signing: None,
            any_without_kid: current.kid().is_none(),
            verifying: vec![current],
        }
    }

    /// Also accepts tokens signed by `key` (an older key during a rotation).
    /// Key ids must be unique.
    pub fn with_verifying_key(mut self, key: VerifyingKey) -> Result<Self, KeyError> {
        if let Some(kid) = key.kid()
            && self.verifying.iter().any(|other| other.kid() == Some(kid))
        {
            return Err(KeyError::DuplicateKid(kid.to_owned()));
        }
        self.any_without_kid |= key.kid().is_none();
        self.verifying.push(key);
        Ok(self)
    }

    /// The key new tokens are signed with; `None` for a verify-only set.
    pub fn signing_key(&self) -> Option<&SigningKey> {
        self.signing.as_ref()
    }

    /// The current verifying key (the signing key's, when there is one).
    pub fn current(&self) -> &VerifyingKey {
        &self.verifying[0]
    }

    /// The JWKS document of the public keys (`{"keys": [...]}`), the current
    /// one first: what a `.well-known/jwks.json` route serves. Empty for
    /// HMAC keys.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::to_value(self.jwk_set()).unwrap_or_else(|_| serde_json::json!({ "keys": [] }))
    }

    /// The same public keys as jsonwebtoken's [`JwkSet`](jsonwebtoken::jwk::JwkSet).
    pub fn jwk_set(&self) -> jsonwebtoken::jwk::JwkSet {
        jsonwebtoken::jwk::JwkSet {
            keys: self
                .verifying
                .iter()
                .filter_map(|key| key.jwk().cloned())
                .collect(),
        }
    }

    /// Every verifying key, the current one first.
    pub fn verifying_keys(&self) -> &[VerifyingKey] {
        &self.verifying
    }

    /// The keys a token with this `kid` header may be checked with.
    pub(crate) fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
    ) -> impl Iterator<Item = &'a VerifyingKey> + 'a {
        let current_only = kid.is_none() && !self.any_without_kid;
        self.verifying
            .iter()
            .enumerate()
            .filter(move |(index, key)| match kid {
                Some(kid) => key.kid() == Some(kid),
                None if current_only => *index == 0,
                None => key.kid().is_none(),
            })
            .map(|(_, key)| key)
    }
}
