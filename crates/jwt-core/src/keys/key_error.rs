//! Why a key could not be used.

use crate::Algorithm;

/// A key that cannot be used with its algorithm. Messages name the problem,
/// never the key material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// No key was given.
    #[error("no key is configured for {0}")]
    Missing(Algorithm),
    /// An HMAC secret shorter than the hash output.
    #[error("an {algorithm} key must be at least {min} bytes long (got {len})")]
    TooShort {
        /// The algorithm.
        algorithm: Algorithm,
        /// The minimum length in bytes.
        min: usize,
        /// The given length in bytes.
        len: usize,
    },
    /// A PEM key given as an HMAC secret (PyJWT refuses this too: it is how
    /// algorithm-confusion attacks start).
    #[error("an {0} key must be a shared secret, not a PEM key")]
    PemAsSecret(Algorithm),
    /// Text that is not PEM where an asymmetric key was expected.
    #[error("an {0} key must be PEM text (-----BEGIN ...)")]
    NotPem(Algorithm),
    /// Text that starts like PEM but is not.
    #[error("the {algorithm} key is not valid PEM ({cause})")]
    BadPem {
        /// The algorithm.
        algorithm: Algorithm,
        /// What is wrong with it.
        cause: &'static str,
    },
    /// PEM whose label does not fit what was asked for.
    #[error("{found} does not fit {algorithm}; expected {expected}")]
    WrongPemLabel {
        /// The algorithm.
        algorithm: Algorithm,
        /// The PEM label found (`BEGIN PUBLIC KEY`).
        found: String,
        /// What would have fitted.
        expected: &'static str,
    },
    /// PEM the crypto library refused (bad encoding, another key type or
    /// curve, an RSA key outside 2048 to 8192 bits).
    #[error("the PEM is not a usable {algorithm} {role} key ({cause})")]
    Rejected {
        /// The algorithm.
        algorithm: Algorithm,
        /// `"private"` or `"public"`.
        role: &'static str,
        /// The crypto library's reason, e.g. `InvalidEncoding`, `WrongAlgorithm`.
        cause: String,
    },
    /// Two verifying keys with the same key id.
    #[error("two keys have the key id {0:?}")]
    DuplicateKid(String),
    /// A key file that could not be read.
    #[error("cannot read {path}: {cause}")]
    File {
        /// The file's path.
        path: String,
        /// The I/O error.
        cause: String,
    },
}
