//! The current key and the older ones still accepted during a rotation.

use super::signing::encode_header;
use super::{KeyError, SigningKey, VerifyingKey};
use crate::codec::Header;

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
    /// The encoded header this service writes for each verifying key, in
    /// the same order: a token that carries one byte for byte needs no
    /// header parsing.
    headers: Vec<String>,
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
            headers: vec![encode_header(current.algorithm(), current.kid())],
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
        self.headers.push(encode_header(key.algorithm(), key.kid()));
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

    /// The header an encoded header reads as, when it is one this service
    /// writes itself (the same bytes read the same way every time).
    pub(crate) fn known_header(&self, encoded: &str) -> Option<Header> {
        let index = self.headers.iter().position(|known| known == encoded)?;
        let key = &self.verifying[index];
        Some(Header {
            alg: key.algorithm(),
            kid: key.kid().map(str::to_owned),
        })
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

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;
    use crate::Algorithm;

    #[test]
    fn the_headers_it_writes_are_known_and_no_others() {
        let signing = SigningKey::from_secret(Algorithm::HS256, &[b'n'; 32])
            .expect("a secret")
            .with_kid("new");
        let old = VerifyingKey::from_secret(Algorithm::HS512, &[b'o'; 64])
            .expect("a secret")
            .with_kid("old");
        let own = signing.encoded_header().to_owned();
        let set = KeySet::new(signing)
            .with_verifying_key(old)
            .expect("unique kids");
        let known = |encoded: &str| {
            set.known_header(encoded)
                .map(|header| (header.alg, header.kid))
        };
        assert_eq!(
            known(&own),
            Some((Algorithm::HS256, Some("new".to_owned())))
        );
        assert_eq!(
            known(&encode_header(Algorithm::HS512, Some("old"))),
            Some((Algorithm::HS512, Some("old".to_owned())))
        );
        // The same fields spelled otherwise are left to the parser.
        let reordered = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"HS256","kid":"new"}"#);
        assert_eq!(known(&reordered), None);
        assert_eq!(known(&encode_header(Algorithm::HS256, None)), None);
        assert_eq!(known(&encode_header(Algorithm::HS256, Some("old"))), None);
    }
}
