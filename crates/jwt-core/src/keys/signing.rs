//! A key that signs tokens.

use std::fmt;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaEncoding, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::verifying::{Verifier, hmac_key, parse_public_key};
use super::{KeyError, VerifyingKey, pem_text};
use crate::error::{Error, ErrorKind};
use crate::{Algorithm, AlgorithmFamily};

/// A key that signs tokens with one [`Algorithm`], with an optional key id.
///
/// Private keys are parsed once, here; signing a token never parses a key
/// again (jsonwebtoken's `encode` re-parses the DER on every call, which
/// costs more than the RSA signature itself). The matching
/// [`VerifyingKey`] is derived from it.
///
/// Its `Debug` output shows the algorithm and key id, never the key.
pub struct SigningKey {
    algorithm: Algorithm,
    signer: Signer,
    verifying: VerifyingKey,
    /// The token header for this key, base64url-encoded once.
    header: String,
}

enum Signer {
    Hmac(Box<hmac::Key>),
    Rsa(RsaKeyPair, &'static dyn RsaEncoding),
    Ecdsa(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl SigningKey {
    /// An HMAC (`HS*`) key from a shared secret of at least 32, 48 or 64 bytes.
    pub fn from_secret(algorithm: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        let key = hmac_key(algorithm, secret)?;
        let verifying = VerifyingKey::new(algorithm, Verifier::Hmac(Box::new(key.clone())));
        Ok(SigningKey::new(
            algorithm,
            Signer::Hmac(Box::new(key)),
            verifying,
        ))
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
        let rejected = |err: aws_lc_rs::error::KeyRejected| KeyError::Rejected {
            algorithm,
            role: "private",
            cause: err.to_string(),
        };
        let signer = match (family, label.as_str()) {
            (AlgorithmFamily::Rsa, "PRIVATE KEY") => {
                rsa_signer(algorithm, RsaKeyPair::from_pkcs8(&der).map_err(rejected)?)
            }
            (AlgorithmFamily::Rsa, "RSA PRIVATE KEY") => {
                rsa_signer(algorithm, RsaKeyPair::from_der(&der).map_err(rejected)?)
            }
            (AlgorithmFamily::Ec, "PRIVATE KEY" | "EC PRIVATE KEY") => {
                let params = match algorithm {
                    Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                    _ => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                };
                Signer::Ecdsa(EcdsaKeyPair::from_private_key_der(params, &der).map_err(rejected)?)
            }
            (AlgorithmFamily::Ed, "PRIVATE KEY") => {
                Signer::Ed(Ed25519KeyPair::from_pkcs8(&der).map_err(rejected)?)
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
        let public = match &signer {
            Signer::Rsa(pair, _) => pair.public_key().as_ref().to_vec(),
            Signer::Ecdsa(pair) => pair.public_key().as_ref().to_vec(),
            Signer::Ed(pair) => pair.public_key().as_ref().to_vec(),
            Signer::Hmac(_) => return Err(KeyError::PemAsSecret(algorithm)),
        };
        let verifying = VerifyingKey::new(
            algorithm,
            Verifier::Public(parse_public_key(algorithm, &public)?),
        );
        Ok(SigningKey::new(algorithm, signer, verifying))
    }

    /// The key for `algorithm` from key material as settings give it: the
    /// secret for `HS*`, private-key PEM otherwise.
    pub fn from_material(algorithm: Algorithm, material: &[u8]) -> Result<Self, KeyError> {
        match algorithm.family() {
            AlgorithmFamily::Hmac => SigningKey::from_secret(algorithm, material),
            _ => SigningKey::from_pem(algorithm, material),
        }
    }

    fn new(algorithm: Algorithm, signer: Signer, verifying: VerifyingKey) -> Self {
        SigningKey {
            algorithm,
            signer,
            verifying,
            header: encode_header(algorithm, None),
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

    /// The base64url-encoded token header: `{"alg":"HS256","typ":"JWT"}`, with
    /// `kid` between them when the key has one (PyJWT's sorted order).
    pub fn encoded_header(&self) -> &str {
        &self.header
    }

    /// Signs `message` (the `header.payload` part of a token).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let failed = |_| Error::new(ErrorKind::Signing, "the crypto library refused to sign");
        match &self.signer {
            Signer::Hmac(key) => Ok(hmac::sign(key, message).as_ref().to_vec()),
            Signer::Rsa(pair, padding) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(*padding, &SystemRandom::new(), message, &mut signature)
                    .map_err(failed)?;
                Ok(signature)
            }
            Signer::Ecdsa(pair) => Ok(pair
                .sign(&SystemRandom::new(), message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            Signer::Ed(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
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

/// Called for the RSA family only.
fn rsa_signer(algorithm: Algorithm, pair: RsaKeyPair) -> Signer {
    let padding: &'static dyn RsaEncoding = match algorithm {
        Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_SHA512,
        _ => &signature::RSA_PKCS1_SHA256,
    };
    Signer::Rsa(pair, padding)
}

/// `{"alg":..,"kid":..,"typ":"JWT"}` in base64url: the keys sorted, as PyJWT
/// writes them, so headers are byte-identical to the Django package's.
fn encode_header(algorithm: Algorithm, kid: Option<&str>) -> String {
    let json = match kid {
        Some(kid) => {
            let kid = serde_json::Value::from(kid);
            format!(r#"{{"alg":"{algorithm}","kid":{kid},"typ":"JWT"}}"#)
        }
        None => format!(r#"{{"alg":"{algorithm}","typ":"JWT"}}"#),
    };
    URL_SAFE_NO_PAD.encode(json)
}
