//! Keys: parsed once at start-up, pinned to one algorithm, never printed.
//!
//! Signing and verifying go through jsonwebtoken (`EncodingKey`,
//! `DecodingKey`, `jsonwebtoken::crypto`), public keys are published as its
//! `Jwk`. What is added here: PyJWT's refusals (short or PEM-looking HMAC
//! secrets), errors that say which setting holds what, SEC1 EC keys, and a
//! check at start-up that each key works, so a bad key stops the service
//! instead of failing every request.

mod key_error;
mod key_set;
mod material;
mod pem_text;
mod provider;
mod sec1;
mod signing;
mod verifying;

pub use key_error::KeyError;
pub use key_set::KeySet;
pub use signing::SigningKey;
pub use verifying::VerifyingKey;
