//! A verifying key from PEM text or settings' key material: a private
//! key's PEM gives its public half, so this sits above both key kinds.

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::Jwk;

use super::{KeyError, SigningKey, VerifyingKey, pem_text, provider};
use crate::{Algorithm, AlgorithmFamily};

impl VerifyingKey {
    /// An asymmetric key from PEM text: a public key (`BEGIN PUBLIC KEY`, or
    /// `BEGIN RSA PUBLIC KEY` for RSA), or a private key whose public half is
    /// used.
    pub fn from_pem(algorithm: Algorithm, pem: &[u8]) -> Result<Self, KeyError> {
        let family = algorithm.family();
        if family == AlgorithmFamily::Hmac {
            return Err(KeyError::PemAsSecret(algorithm));
        }
        let (label, _) = pem_text::decode(algorithm, pem)?;
        let public_label = match family {
            AlgorithmFamily::Rsa => matches!(label.as_str(), "PUBLIC KEY" | "RSA PUBLIC KEY"),
            _ => label == "PUBLIC KEY",
        };
        if public_label {
            provider::ensure();
            let decoding = match family {
                AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(pem),
                AlgorithmFamily::Ec => DecodingKey::from_ec_pem(pem),
                _ => DecodingKey::from_ed_pem(pem),
            };
            let jwk = decoding
                .and_then(|key| Jwk::from_decoding_key(&key, Some(algorithm.into())))
                .map_err(|err| KeyError::Rejected {
                    algorithm,
                    role: "public",
                    cause: err.to_string(),
                })?;
            return VerifyingKey::from_public_jwk(algorithm, jwk);
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
