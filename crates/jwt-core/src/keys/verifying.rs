//! A key that checks signatures.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};

use super::{KeyError, pem_text, provider};
use crate::error::Error;
use crate::{Algorithm, AlgorithmFamily};

/// A key that verifies signatures of one [`Algorithm`], with an optional key
/// id (`kid`): a jsonwebtoken [`DecodingKey`] built once and reused for
/// every token, and for a public key its [`Jwk`].
///
/// Its `Debug` output shows the algorithm and key id, never the key.
#[derive(Clone)]
pub struct VerifyingKey {
    algorithm: Algorithm,
    kid: Option<String>,
    decoding: DecodingKey,
    /// The public key with `use`, `alg` and `kid`; `None` for a secret.
    jwk: Option<Jwk>,
}

impl VerifyingKey {
    /// An HMAC (`HS*`) key from a shared secret of at least 32, 48 or 64 bytes.
    pub fn from_secret(algorithm: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        check_secret(algorithm, secret)?;
        provider::ensure();
        let decoding =
            DecodingKey::from_secret(secret).map_err(|_| KeyError::Missing(algorithm))?;
        Ok(VerifyingKey {
            algorithm,
            kid: None,
            decoding,
            jwk: None,
        })
    }

    /// The key of a public [`Jwk`] (as jsonwebtoken derives it from PEM or a
    /// private key), checked against `algorithm`: the key type, the curve,
    /// an RSA modulus of 2048 to 8192 bits.
    pub(super) fn from_public_jwk(algorithm: Algorithm, mut jwk: Jwk) -> Result<Self, KeyError> {
        check_fits(algorithm, &jwk.algorithm)?;
        provider::ensure();
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|err| KeyError::Rejected {
            algorithm,
            role: "public",
            cause: err.to_string(),
        })?;
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(jsonwebtoken::Algorithm::from(algorithm).into());
        jwk.common.key_id = None;
        Ok(VerifyingKey {
            algorithm,
            kid: None,
            decoding,
            jwk: Some(jwk),
        })
    }

    /// Gives the key an id, matched against the `kid` header of tokens.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        let kid = kid.into();
        self.kid = (!kid.is_empty()).then_some(kid);
        if let Some(jwk) = &mut self.jwk {
            jwk.common.key_id = self.kid.clone();
        }
        self
    }

    /// The one algorithm this key accepts.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The jsonwebtoken key, for checking tokens of another kind with the
    /// same key.
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// Whether `signature` (base64url, as in a token) is this key's
    /// signature of `message`. Constant time for HMAC.
    pub fn verify(&self, message: &[u8], signature: &str) -> bool {
        self.check(message, signature).unwrap_or(false)
    }

    /// As [`verify`](Self::verify), with an error when `signature` is not
    /// base64url.
    pub(crate) fn check(&self, message: &[u8], signature: &str) -> Result<bool, Error> {
        jsonwebtoken::crypto::verify(signature, message, &self.decoding, self.algorithm.into())
            .map_err(|_| Error::malformed("signature is not base64url"))
    }

    /// The public key as jsonwebtoken's [`Jwk`], with `use`, `alg` and the
    /// key id; `None` for HMAC secrets, which are never published.
    pub fn jwk(&self) -> Option<&Jwk> {
        self.jwk.as_ref()
    }

    /// The public key as a JSON Web Key (`kty`, `use`, `alg`, `kid` and the
    /// key's numbers), for a JWKS route; `None` for HMAC secrets.
    pub fn public_jwk(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self.jwk.as_ref()?).ok()
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// PyJWT's rules for an HMAC secret: not empty, not PEM (how algorithm
/// confusion starts), and, beyond PyJWT, at least the hash's size.
fn check_secret(algorithm: Algorithm, secret: &[u8]) -> Result<(), KeyError> {
    let Some(min) = algorithm.min_secret_len() else {
        return Err(KeyError::NotPem(algorithm));
    };
    if secret.is_empty() {
        return Err(KeyError::Missing(algorithm));
    }
    if pem_text::looks_like_pem(secret) {
        return Err(KeyError::PemAsSecret(algorithm));
    }
    if secret.len() < min {
        return Err(KeyError::TooShort {
            algorithm,
            min,
            len: secret.len(),
        });
    }
    Ok(())
}

/// Whether a public key's parameters suit `algorithm`.
fn check_fits(algorithm: Algorithm, key: &AlgorithmParameters) -> Result<(), KeyError> {
    let rejected = |cause: &str| KeyError::Rejected {
        algorithm,
        role: "public",
        cause: cause.to_owned(),
    };
    match (algorithm.family(), key) {
        (AlgorithmFamily::Rsa, AlgorithmParameters::RSA(rsa)) => {
            let modulus = URL_SAFE_NO_PAD
                .decode(&rsa.n)
                .map_err(|_| rejected("unreadable modulus"))?;
            let leading = modulus
                .first()
                .map_or(0, |byte| byte.leading_zeros() as usize);
            let bits = (modulus.len() * 8).saturating_sub(leading);
            if (2048..=8192).contains(&bits) {
                Ok(())
            } else {
                Err(rejected("an RSA key must have 2048 to 8192 bits"))
            }
        }
        (AlgorithmFamily::Ec, AlgorithmParameters::EllipticCurve(ec)) => {
            let expected = match algorithm {
                Algorithm::ES384 => EllipticCurve::P384,
                _ => EllipticCurve::P256,
            };
            if ec.curve == expected {
                Ok(())
            } else {
                Err(rejected("a key on another curve"))
            }
        }
        (AlgorithmFamily::Ed, AlgorithmParameters::OctetKeyPair(ed))
            if ed.curve == EllipticCurve::Ed25519 =>
        {
            Ok(())
        }
        _ => Err(rejected("another key type")),
    }
}
