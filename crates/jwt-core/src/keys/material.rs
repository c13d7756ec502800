//! A verifying key from PEM text or settings' key material: a private
//! key's PEM gives its public half, so this sits above both key kinds.

use super::verifying::{Verifier, parse_public_key};
use super::{KeyError, SigningKey, VerifyingKey, pem_text};
use crate::{Algorithm, AlgorithmFamily};

impl VerifyingKey {
    /// An asymmetric key from PEM text: a public key (`BEGIN PUBLIC KEY`, or
    /// `BEGIN RSA PUBLIC KEY` for RSA), or a private key whose public half is
    /// used.
    pub fn from_pem(algorithm: Algorithm, pem: &[u8]) -> Result<Self, KeyError> {
        if algorithm.family() == AlgorithmFamily::Hmac {
            return Err(KeyError::PemAsSecret(algorithm));
        }
        let (label, der) = pem_text::decode(algorithm, pem)?;
        let public_label = match algorithm.family() {
            AlgorithmFamily::Rsa => matches!(label.as_str(), "PUBLIC KEY" | "RSA PUBLIC KEY"),
            _ => label == "PUBLIC KEY",
        };
        if public_label {
            let key = parse_public_key(algorithm, &der)?;
            return Ok(VerifyingKey::new(algorithm, Verifier::Public(key)));
        }
        if label.ends_with("PRIVATE KEY") {
            return Ok(SigningKey::from_pem(algorithm, pem)?
                .verifying_key()
                .clone());
        }
        Err(KeyError::WrongPemLabel {
            algorithm,
            found: format!("BEGIN {label}"),
            expected: "a public key (BEGIN PUBLIC KEY) or a private key",
        })
    }

    /// The key for `algorithm` from key material as settings give it: the
    /// secret for `HS*`, PEM text otherwise.
    pub fn from_material(algorithm: Algorithm, material: &[u8]) -> Result<Self, KeyError> {
        match algorithm.family() {
            AlgorithmFamily::Hmac => VerifyingKey::from_secret(algorithm, material),
            _ => VerifyingKey::from_pem(algorithm, material),
        }
    }
}
