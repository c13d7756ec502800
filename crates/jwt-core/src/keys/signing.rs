//! A key that signs tokens.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::EncodingKey;
use jsonwebtoken::jwk::Jwk;

use super::{KeyError, VerifyingKey, pem_text, provider, sec1};
use crate::error::{Cause, Error};
use crate::{Algorithm, AlgorithmFamily};

/// A key that signs tokens with one [`Algorithm`], with an optional key id:
/// a jsonwebtoken [`EncodingKey`] read once, and the matching
/// [`VerifyingKey`] derived from it.
///
/// Building one signs and checks a probe, so a key the crypto library would
/// refuse stops the service at start-up rather than failing every login.
///
/// Its `Debug` output shows the algorithm and key id, never the key.
pub struct SigningKey {
    algorithm: Algorithm,
    encoding: EncodingKey,
    verifying: VerifyingKey,
    /// The token header for this key, base64url-encoded once.
    header: String,
}

impl SigningKey {
    /// An HMAC (`HS*`) key from a shared secret of at least 32, 48 or 64 bytes.
    pub fn from_secret(algorithm: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        // The verifying key checks the secret and installs the provider.
        let verifying = VerifyingKey::from_secret(algorithm, secret)?;
        let encoding =
            EncodingKey::from_secret(secret).map_err(|_| KeyError::Missing(algorithm))?;
        SigningKey::new(algorithm, encoding, verifying)
    }

    /// An asymmetric key from private-key PEM: PKCS#8 (`BEGIN PRIVATE KEY`)
    /// for every family, or PKCS#1 (`BEGIN RSA PRIVATE KEY`) for RSA, or
    /// SEC1 (`BEGIN EC PRIVATE KEY`) for EC.
    pub fn from_pem(algorithm: Algorithm, pem: &[u8]) -> Result<Self, KeyError> {
        let family = algorithm.family();
        if family == AlgorithmFamily::Hmac {
            return Err(KeyError::PemAsSecret(algorithm));
        }
        let (label, der) = pem_text::decode(algorithm, pem)?;
        provider::ensure();
        let rejected = |err: jsonwebtoken::errors::Error| KeyError::Rejected {
            algorithm,
            role: "private",
            cause: err.to_string(),
        };
        let encoding = match (family, label.as_str()) {
            (AlgorithmFamily::Rsa, "PRIVATE KEY" | "RSA PRIVATE KEY") => {
                EncodingKey::from_rsa_pem(pem).map_err(rejected)?
            }
            (AlgorithmFamily::Ec, "PRIVATE KEY") => {
                EncodingKey::from_ec_pem(pem).map_err(rejected)?
            }
            (AlgorithmFamily::Ec, "EC PRIVATE KEY") => {
                EncodingKey::from_ec_der(&sec1::to_pkcs8(algorithm, &der))
            }
            (AlgorithmFamily::Ed, "PRIVATE KEY") => {
                EncodingKey::from_ed_pem(pem).map_err(rejected)?
            }
            _ => {
                return Err(KeyError::WrongPemLabel {
                    algorithm,
                    found: format!("BEGIN {label}"),
                    expected: match family {
                        AlgorithmFamily::Rsa => "BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY",
                        AlgorithmFamily::Ec => "BEGIN PRIVATE KEY or BEGIN EC PRIVATE KEY",
                        _ => "BEGIN PRIVATE KEY",
                    },
                });
            }
        };
        let public = Jwk::from_encoding_key(&encoding, algorithm.into()).map_err(rejected)?;
        let verifying = VerifyingKey::from_public_jwk(algorithm, public)?;
        SigningKey::new(algorithm, encoding, verifying)
    }

    /// The key for `algorithm` from key material as settings give it: the
    /// secret for `HS*`, private-key PEM otherwise.
    pub fn from_material(algorithm: Algorithm, material: &[u8]) -> Result<Self, KeyError> {
        match algorithm.family() {
            AlgorithmFamily::Hmac => SigningKey::from_secret(algorithm, material),
            _ => SigningKey::from_pem(algorithm, material),
        }
    }

    /// The key, once it has signed a probe its verifying key accepts.
    fn new(
        algorithm: Algorithm,
        encoding: EncodingKey,
        verifying: VerifyingKey,
    ) -> Result<Self, KeyError> {
        let key = SigningKey {
            algorithm,
            encoding,
            verifying,
            header: encode_header(algorithm, None),
        };
        let probe = b"jwt-core start-up check";
        let signed = key
            .sign(probe)
            .is_ok_and(|signature| key.verifying.verify(probe, &signature));
        if signed {
            Ok(key)
        } else {
            Err(KeyError::Rejected {
                algorithm,
                role: "private",
                cause: "the crypto library cannot sign with it".into(),
            })
        }
    }

    /// Gives the key an id: tokens it signs carry it in their `kid` header,
    /// and its verifying key answers to it.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.verifying = self.verifying.with_kid(kid);
        self.header = encode_header(self.algorithm, self.verifying.kid());
        self
    }

    /// The one algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.verifying.kid()
    }

    /// The key that verifies this key's signatures (the same secret for
    /// HMAC, the public half otherwise), with the same key id.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    /// The jsonwebtoken key, for signing tokens of another kind with the
    /// same key.
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The base64url-encoded token header: `{"alg":"HS256","typ":"JWT"}`, with
    /// `kid` between them when the key has one (PyJWT's sorted order).
    pub fn encoded_header(&self) -> &str {
        &self.header
    }

    /// Signs `message` (the `header.payload` part of a token); the signature
    /// in base64url, as it ends a token.
    pub fn sign(&self, message: &[u8]) -> Result<String, Error> {
        jsonwebtoken::crypto::sign(message, &self.encoding, self.algorithm.into())
            .map_err(|_| Error::new(Cause::SigningFailed, "the crypto library refused to sign"))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

/// `{"alg":..,"kid":..,"typ":"JWT"}` in base64url: the keys sorted, as PyJWT
/// writes them, so headers are byte-identical to the Django package's
/// (jsonwebtoken writes `typ` first).
pub(super) fn encode_header(algorithm: Algorithm, kid: Option<&str>) -> String {
    let json = match kid {
        Some(kid) => {
            let kid = serde_json::Value::from(kid);
            format!(r#"{{"alg":"{algorithm}","kid":{kid},"typ":"JWT"}}"#)
        }
        None => format!(r#"{{"alg":"{algorithm}","typ":"JWT"}}"#),
    };
    URL_SAFE_NO_PAD.encode(json)
}
