//! argon2 hashing, and the dummy hash an unknown username is checked against.

use std::sync::Arc;
#[cfg(test)]
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Hashes and verifies passwords with argon2id (the crate's defaults).
#[derive(Clone)]
pub struct Passwords {
    dummy: Arc<str>,
    #[cfg(test)]
    verifications: Arc<AtomicUsize>,
}

impl Passwords {
    /// Computes the dummy hash once: verifying against it costs what
    /// verifying a real password costs.
    pub fn new() -> Result<Self, String> {
        let mut random = [0u8; 24];
        aws_lc_rs::rand::fill(&mut random)
            .map_err(|_| "no randomness for the dummy password".to_owned())?;
        let dummy = Passwords::hash_raw(&random)?;
        Ok(Passwords {
            dummy: dummy.into(),
            #[cfg(test)]
            verifications: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// A PHC string (`$argon2id$v=19$...`) with a random salt.
    pub fn hash(password: &str) -> Result<String, String> {
        Passwords::hash_raw(password.as_bytes())
    }

    fn hash_raw(password: &[u8]) -> Result<String, String> {
        Argon2::default()
            .hash_password(password)
            .map(|hash| hash.to_string())
            .map_err(|err| format!("cannot hash the password: {err}"))
    }

    /// Whether `password` matches `hash`; with no hash (unknown user) it
    /// verifies against the dummy and says no.
    pub fn verify(&self, password: &str, hash: Option<&str>) -> bool {
        #[cfg(test)]
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), hash.unwrap_or(&self.dummy))
            .is_ok();
        matches && hash.is_some()
    }

    /// How many verifications ran.
    #[cfg(test)]
    pub fn verifications(&self) -> usize {
        self.verifications.load(Ordering::Relaxed)
    }
}
