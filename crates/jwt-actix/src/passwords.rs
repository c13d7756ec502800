//! Password hashes (feature `passwords`): argon2id for new hashes, and the
//! hashes a Django project stores, so that users move over without a
//! password reset.
//!
//! | stored hash | where from |
//! | --- | --- |
//! | `$argon2id$v=19$m=…,t=…,p=…$salt$hash` | [`Passwords::hash`] (PHC string) |
//! | `argon2$argon2id$v=19$m=…$salt$hash` | Django's `Argon2PasswordHasher` |
//! | `pbkdf2_sha256$<iterations>$<salt>$<base64>` | Django's default `PBKDF2PasswordHasher` |
//!
//! [`Passwords::verify`] checks exactly one hash per call: with no stored
//! hash (an unknown user) or one it cannot read, it checks a dummy argon2id
//! hash made at start-up and says no, so an unknown username costs what a
//! wrong password costs. A Django hash costs what its own parameters say;
//! [`Passwords::needs_rehash`] tells the app to store an argon2id hash
//! after the next successful login.
//!
//! ```
//! use jwt_actix::passwords::Passwords;
//!
//! let passwords = Passwords::new()?;
//! let stored = Passwords::hash("wonderland-42")?;
//! assert!(passwords.verify("wonderland-42", Some(&stored)));
//! assert!(!passwords.verify("wonderland-42", None));
//! // A hash from the Django project, as its `auth_user.password` holds it.
//! let django = "pbkdf2_sha256$600000$dZgV2HO8TrBVVmbjwprNNq$YODw2Xz34ceVnATnjcRjCAUKom0bVJv+y95J3DLqNlM=";
//! assert!(passwords.verify("wonderland-42", Some(django)));
//! assert!(Passwords::needs_rehash(django));
//! # Ok::<(), jwt_actix::passwords::PasswordError>(())
//! ```

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, Params, Version};
use aws_lc_rs::pbkdf2;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::password_memory::Memory;

/// The most PBKDF2 iterations a stored hash may ask for: Django's own
/// default is 600 000 (4.2) to 1 000 000 (5.x); a stored hash asking for
/// far more is refused rather than run.
const MAX_PBKDF2_ITERATIONS: u32 = 20_000_000;

/// The longest hash a PHC string holds.
const MAX_HASH_LEN: usize = 64;

/// The length of Django's PBKDF2-SHA256 hashes.
const PBKDF2_LEN: usize = 32;

/// The most an argon2 hash read from storage may ask for: 256 MiB, 10
/// passes, 16 lanes (Django's default is 100 MiB, 2, 8). More is refused
/// rather than run.
const MAX_ARGON2: (u32, u32, u32) = (256 * 1024, 10, 16);

/// Whether the argon2 parameters of `hash` are within [`MAX_ARGON2`].
fn bounded(hash: &PasswordHash) -> bool {
    argon2::Params::try_from(hash).is_ok_and(|params| {
        let (memory, passes, lanes) = MAX_ARGON2;
        params.m_cost() <= memory && params.t_cost() <= passes && params.p_cost() <= lanes
    })
}

/// Why a hash could not be made.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PasswordError(String);

/// Hashes passwords with argon2id and verifies argon2 and Django hashes.
/// Cheap to clone.
#[derive(Clone)]
pub struct Passwords {
    /// The dummy hash, parsed once.
    dummy: Arc<PasswordHash>,
    memory: Arc<Memory>,
    verifications: Arc<AtomicU64>,
    /// How many times the dummy was checked.
    #[cfg(test)]
    dummies: Arc<AtomicU64>,
    /// How many times a stored hash was checked.
    #[cfg(test)]
    stored_checks: Arc<AtomicU64>,
}

impl fmt::Debug for Passwords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Passwords")
            .field("verifications", &self.verifications())
            .finish_non_exhaustive()
    }
}

/// How a stored hash is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme<'a> {
    /// A PHC string, `$argon2…` (Django's without its `argon2` prefix).
    Argon2(&'a str),
    /// Django's `pbkdf2_sha256$iterations$salt$hash`.
    Pbkdf2 {
        iterations: NonZeroU32,
        salt: &'a str,
        hash: &'a str,
    },
}

impl<'a> Scheme<'a> {
    fn of(stored: &'a str) -> Option<Scheme<'a>> {
        if stored.starts_with("$argon2") {
            return Some(Scheme::Argon2(stored));
        }
        if let Some(phc) = stored.strip_prefix("argon2")
            && phc.starts_with("$argon2")
        {
            return Some(Scheme::Argon2(phc));
        }
        let mut parts = stored.split('$');
        match (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) {
            (Some("pbkdf2_sha256"), Some(iterations), Some(salt), Some(hash), None) => {
                let iterations = iterations.parse::<NonZeroU32>().ok()?;
                (iterations.get() <= MAX_PBKDF2_ITERATIONS).then_some(Scheme::Pbkdf2 {
                    iterations,
                    salt,
                    hash,
                })
            }
            _ => None,
        }
    }
}

impl Passwords {
    /// Makes the dummy hash an unknown user is checked against.
    pub fn new() -> Result<Self, PasswordError> {
        let mut random = [0u8; 24];
        aws_lc_rs::rand::fill(&mut random)
            .map_err(|_| PasswordError("no randomness for the dummy password".into()))?;
        let dummy = PasswordHash::new(&hash_bytes(&random)?)
            .map_err(|err| PasswordError(format!("cannot read the dummy hash: {err}")))?;
        let checks_at_once = std::thread::available_parallelism().map_or(1, usize::from);
        // Buffers are kept for hashes at the default cost (ours, the
        // dummy's); a costlier stored hash (Django's argon2: 100 MiB) gets
        // memory of its own, given back after its check.
        let kept_blocks = Params::default().block_count();
        Ok(Passwords {
            dummy: Arc::new(dummy),
            memory: Arc::new(Memory::new(checks_at_once, kept_blocks)),
            verifications: Arc::new(AtomicU64::new(0)),
            #[cfg(test)]
            dummies: Arc::new(AtomicU64::new(0)),
            #[cfg(test)]
            stored_checks: Arc::new(AtomicU64::new(0)),
        })
    }

    /// An argon2id PHC string (`$argon2id$v=19$…`) of `password`, with a
    /// random salt and the argon2 crate's default parameters.
    pub fn hash(password: &str) -> Result<String, PasswordError> {
        hash_bytes(password.as_bytes())
    }

    /// Whether `password` matches `stored`. Exactly one hash is checked:
    /// with no stored hash, or one in no known format, the dummy is, and
    /// the answer is no.
    pub fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        match stored.and_then(Scheme::of) {
            Some(Scheme::Argon2(phc)) => {
                let checked = PasswordHash::new(phc)
                    .ok()
                    .filter(bounded)
                    .and_then(|hash| self.argon2_matches(password, &hash));
                match checked {
                    Some(matches) => {
                        #[cfg(test)]
                        self.stored_checks.fetch_add(1, Ordering::Relaxed);
                        matches
                    }
                    None => self.refuse(password),
                }
            }
            Some(Scheme::Pbkdf2 {
                iterations,
                salt,
                hash,
            }) => {
                let expected = match STANDARD.decode(hash) {
                    Ok(expected) if expected.len() == PBKDF2_LEN => expected,
                    _ => return self.refuse(password),
                };
                #[cfg(test)]
                self.stored_checks.fetch_add(1, Ordering::Relaxed);
                pbkdf2::verify(
                    pbkdf2::PBKDF2_HMAC_SHA256,
                    iterations,
                    salt.as_bytes(),
                    password.as_bytes(),
                    &expected,
                )
                .is_ok()
            }
            None => self.refuse(password),
        }
    }

    /// Checks the dummy hash and says no: an unknown user, or a hash that
    /// cannot be read, must not answer faster than a wrong password.
    fn refuse(&self, password: &str) -> bool {
        #[cfg(test)]
        self.dummies.fetch_add(1, Ordering::Relaxed);
        let _ = self.argon2_matches(password, &self.dummy);
        false
    }

    /// Whether `password` gives `hash`'s argon2 output, computed in a
    /// buffer lent by [`Memory`] (what `Argon2::verify_password` does,
    /// without allocating the working memory on every call); `None` when
    /// the hash cannot be checked (unknown algorithm or version, bad
    /// parameters, a salt argon2 refuses), so the caller checks the dummy.
    fn argon2_matches(&self, password: &str, hash: &PasswordHash) -> Option<bool> {
        let (salt, expected) = (hash.salt.as_ref()?, hash.hash.as_ref()?);
        let algorithm = argon2::Algorithm::try_from(hash.algorithm.as_str()).ok()?;
        let version = hash
            .version
            .map_or(Ok(Version::default()), Version::try_from)
            .ok()?;
        let params = Params::try_from(hash).ok()?;
        let blocks = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params);
        let mut buffer = [0u8; MAX_HASH_LEN];
        let output = buffer.get_mut(..expected.len())?;
        self.memory.with(blocks, |memory| {
            argon2
                .hash_password_into_with_memory(password.as_bytes(), salt, &mut *output, memory)
                .ok()?;
            Some(
                aws_lc_rs::constant_time::verify_slices_are_equal(output, expected.as_bytes())
                    .is_ok(),
            )
        })
    }

    /// The same argon2id hash in the form Django's `Argon2PasswordHasher`
    /// stores (`argon2$argon2id$…`): while a Django service still reads
    /// the users table, write this one, which both verify.
    pub fn hash_for_django(password: &str) -> Result<String, PasswordError> {
        Passwords::hash(password).map(|phc| format!("argon2{phc}"))
    }

    /// Whether `stored` should be replaced by a new hash of the password
    /// once it has verified: a PBKDF2 hash, or an argon2 hash that is not
    /// argon2id (ours and Django's argon2id forms are current).
    pub fn needs_rehash(stored: &str) -> bool {
        !(stored.starts_with("$argon2id$") || stored.starts_with("argon2$argon2id$"))
    }

    /// How many verifications ran since [`Passwords::new`] (clones share
    /// the count): for metrics, and for tests that each login costs one.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}

fn hash_bytes(password: &[u8]) -> Result<String, PasswordError> {
    Argon2::default()
        .hash_password(password)
        .map(|hash| hash.to_string())
        .map_err(|err| PasswordError(format!("cannot hash the password: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made by Django 4.2.30's `make_password("wonderland-42", hasher=…)`
    /// with argon2-cffi 23.1.0.
    const DJANGO_PBKDF2: &str =
        "pbkdf2_sha256$600000$dZgV2HO8TrBVVmbjwprNNq$YODw2Xz34ceVnATnjcRjCAUKom0bVJv+y95J3DLqNlM=";
    const DJANGO_ARGON2: &str = "argon2$argon2id$v=19$m=102400,t=2,p=8$UkZQT28xTXNva1lOdWZtbE5wNDhscw$XZRhzCNtRkXxma/IRY/rcI9AJUpCaXC0DS9EuW+RQF4";
    /// `make_password("pässwörd ✓", hasher="pbkdf2_sha256")`: UTF-8 passwords.
    const DJANGO_PBKDF2_UNICODE: &str =
        "pbkdf2_sha256$600000$gaql9Qo6m2V1OOqskGO2P5$q9EccFFxy/AWRFPWtwuOxfMziMHH9mT7anONo4HLk40=";

    #[test]
    fn django_hashes_verify_with_the_right_password_only() {
        let passwords = Passwords::new().unwrap();
        for stored in [DJANGO_PBKDF2, DJANGO_ARGON2] {
            assert!(passwords.verify("wonderland-42", Some(stored)), "{stored}");
            assert!(!passwords.verify("wonderland-43", Some(stored)), "{stored}");
            assert!(!passwords.verify("", Some(stored)), "{stored}");
        }
        assert!(passwords.verify("pässwörd ✓", Some(DJANGO_PBKDF2_UNICODE)));
        assert!(!passwords.verify("passwort ✓", Some(DJANGO_PBKDF2_UNICODE)));
    }

    #[test]
    fn our_hashes_are_argon2id_and_salted() {
        let passwords = Passwords::new().unwrap();
        let (a, b) = (
            Passwords::hash("wonderland-42").unwrap(),
            Passwords::hash("wonderland-42").unwrap(),
        );
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "a random salt each time");
        assert!(passwords.verify("wonderland-42", Some(&a)));
        assert!(!passwords.verify("wonderland-4", Some(&a)));
        assert!(!Passwords::needs_rehash(&a));
        assert!(!Passwords::needs_rehash(DJANGO_ARGON2));
        assert!(Passwords::needs_rehash(DJANGO_PBKDF2));
        let for_django = Passwords::hash_for_django("wonderland-42").unwrap();
        assert!(for_django.starts_with("argon2$argon2id$"), "{for_django}");
        assert!(passwords.verify("wonderland-42", Some(&for_django)));
        assert!(Passwords::needs_rehash(
            "$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaA"
        ));
    }

    #[test]
    fn every_call_checks_exactly_one_hash_and_unreadable_ones_say_no() {
        let passwords = Passwords::new().unwrap();
        let clone = passwords.clone();
        let tampered = DJANGO_PBKDF2.replace("YODw", "ZODw");
        let cases: [Option<&str>; 14] = [
            None,
            Some("$argon2x$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"),
            Some("$argon2id$v=99$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"),
            Some(""),
            Some("!unusable-password"),
            Some("$argon2id$not-a-phc-string"),
            Some("md5$salt$5f4dcc3b5aa765d61d8327deb882cf99"),
            Some("pbkdf2_sha256$0$salt$hash"),
            Some("pbkdf2_sha256$99999999999$salt$hash"),
            Some("pbkdf2_sha256$1000$salt$not base64!"),
            Some("pbkdf2_sha256$1000$salt$"),
            Some("$argon2id$v=19$m=19456,t=2,p=1"),
            Some("$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"),
            Some(&tampered),
        ];
        let counts = || {
            (
                clone.dummies.load(Ordering::Relaxed),
                clone.stored_checks.load(Ordering::Relaxed),
            )
        };
        for stored in cases {
            let (dummies, stored_checks) = counts();
            assert!(!passwords.verify("wonderland-42", stored), "{stored:?}");
            let (dummies_after, stored_after) = counts();
            // Whatever cannot be read costs the dummy's check; the tampered
            // hash is read, and costs its own.
            let readable = stored == Some(tampered.as_str());
            assert_eq!(
                (dummies_after - dummies, stored_after - stored_checks),
                (u64::from(!readable), u64::from(readable)),
                "{stored:?}: exactly one hash checked"
            );
        }
    }

    #[test]
    fn debug_shows_no_hash() {
        let passwords = Passwords::new().unwrap();
        let shown = format!("{passwords:?}");
        assert!(!shown.contains("argon2"), "{shown}");
    }
}
