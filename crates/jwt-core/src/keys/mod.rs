//! Keys: parsed once at start-up, pinned to one algorithm, never printed.

mod jwk;
mod key_error;
mod key_set;
mod material;
mod pem_text;
mod signing;
mod verifying;

pub use key_error::KeyError;
pub use key_set::KeySet;
pub use signing::SigningKey;
pub use verifying::VerifyingKey;
