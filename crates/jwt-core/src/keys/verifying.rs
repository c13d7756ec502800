//! A key that checks signatures.

use std::fmt;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};

use super::{KeyError, pem_text};
use crate::Algorithm;

/// A key that verifies signatures of one [`Algorithm`], with an optional key
/// id (`kid`). Public keys are parsed once, here, and reused for every token.
///
/// Its `Debug` output shows the algorithm and key id, never the key.
#[derive(Clone)]
pub struct VerifyingKey {
    algorithm: Algorithm,
    kid: Option<String>,
    verifier: Verifier,
}

#[derive(Clone)]
pub(super) enum Verifier {
    Hmac(Box<hmac::Key>),
    Public(ParsedPublicKey),
}

impl VerifyingKey {
    /// An HMAC (`HS*`) key from a shared secret of at least 32, 48 or 64 bytes.
    pub fn from_secret(algorithm: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        let key = hmac_key(algorithm, secret)?;
        Ok(VerifyingKey::new(algorithm, Verifier::Hmac(Box::new(key))))
    }

    pub(super) fn new(algorithm: Algorithm, verifier: Verifier) -> Self {
        VerifyingKey {
            algorithm,
            kid: None,
            verifier,
        }
    }

    /// Gives the key an id, matched against the `kid` header of tokens.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        let kid = kid.into();
        self.kid = (!kid.is_empty()).then_some(kid);
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

    /// Whether `signature` is this key's signature of `message`. Constant
    /// time for HMAC.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.verifier {
            Verifier::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
            Verifier::Public(key) => key.verify_sig(message, signature).is_ok(),
        }
    }

    /// The public key as a JSON Web Key (`kty`, `use`, `alg`, `kid` and the
    /// key's numbers), for a JWKS route; `None` for HMAC secrets, which are
    /// never published.
    pub fn public_jwk(&self) -> Option<serde_json::Value> {
        let der = self.public_key_der()?;
        super::jwk::public_jwk(self.algorithm, self.kid(), der)
    }

    /// The public key in DER, for publishing (JWKS); `None` for HMAC secrets.
    pub fn public_key_der(&self) -> Option<&[u8]> {
        match &self.verifier {
            Verifier::Hmac(_) => None,
            Verifier::Public(key) => Some(key.as_ref()),
        }
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

/// An HMAC key, checked for length and refused when it looks like PEM.
pub(super) fn hmac_key(algorithm: Algorithm, secret: &[u8]) -> Result<hmac::Key, KeyError> {
    let (hash, min) = match algorithm {
        Algorithm::HS256 => (hmac::HMAC_SHA256, 32),
        Algorithm::HS384 => (hmac::HMAC_SHA384, 48),
        Algorithm::HS512 => (hmac::HMAC_SHA512, 64),
        _ => return Err(KeyError::NotPem(algorithm)),
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
    Ok(hmac::Key::new(hash, secret))
}

/// A public key for `algorithm`, parsed once from `der` (PKCS#1 or SPKI for
/// RSA, SPKI or a raw point for EC, SPKI or raw bytes for Ed25519).
pub(super) fn parse_public_key(
    algorithm: Algorithm,
    der: &[u8],
) -> Result<ParsedPublicKey, KeyError> {
    let params: &'static dyn VerificationAlgorithm = match algorithm {
        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
        Algorithm::EdDSA => &signature::ED25519,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            return Err(KeyError::PemAsSecret(algorithm));
        }
    };
    ParsedPublicKey::new(params, der).map_err(|err| KeyError::Rejected {
        algorithm,
        role: "public",
        cause: err.to_string(),
    })
}
