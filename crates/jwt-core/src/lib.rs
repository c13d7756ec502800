//! JSON Web Tokens wire-compatible with djangorestframework-simplejwt:
//! settings, keys, claims, minting and verification, with no web framework.
//!
//! Tokens minted here verify with PyJWT/simplejwt and the other way round,
//! with the same key: a Django service and a Rust one can stand behind one
//! load balancer while an API moves over.
//!
//! # Getting started
//!
//! ```
//! use jwt_core::{TokenService, TokenSettings};
//!
//! // `[tokens]` as a struct; with feature `config`, `TokenSettings::load`
//! // reads jwt.toml and JWT__TOKENS__* variables instead.
//! let settings = TokenSettings {
//!     signing_key: "change-me-to-32-or-more-random-bytes".into(),
//!     ..TokenSettings::default()
//! };
//! let tokens = TokenService::new(&settings)?;
//!
//! // Log in: a refresh token for user 7, with a claim of the app's own,
//! // and the access token derived from it.
//! let refresh = tokens.refresh_for_user_with(7, |claims| {
//!     claims.insert("role", "editor");
//! })?;
//! let access = tokens.access_from(&refresh)?;
//! let wire = tokens.encode(&access)?;
//!
//! // A request comes back with the access token.
//! let token = tokens.verify_auth(&wire)?;
//! assert_eq!(token.user_id(), Some(&7.into()));
//! assert_eq!(token.claims().get_str("role"), Some("editor"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is checked
//!
//! Verification follows PyJWT, then simplejwt (docs/http-api.md): the key chosen
//! by `kid` and pinned to one algorithm (`none` and algorithm confusion are
//! refused), the signature, `iat`/`nbf`/`exp` with the configured leeway
//! (expired when `exp <= now - leeway`), `iss` and `aud`, then `exp`, `jti`
//! and the type claim present. Failures carry simplejwt's code and message
//! ([`ErrorKind`]) and, for the app, which check failed ([`Cause`]).
//!
//! # Crypto
//!
//! [jsonwebtoken](https://docs.rs/jsonwebtoken) 12 is the token layer: keys
//! are its `EncodingKey` and `DecodingKey`, built once when the service is
//! built, signatures are made and checked by `jsonwebtoken::crypto`, public
//! keys are published as its `Jwk`. Its backend is aws-lc-rs, chosen by
//! measurement (`docs/performance.md`), with no feature to switch it; an app
//! that installed another jsonwebtoken `CryptoProvider` keeps it. jwt-core
//! writes the header and claims itself, in PyJWT's byte order, and checks
//! the claims with PyJWT's boundaries rather than jsonwebtoken's
//! `Validation` (whose default leeway is 60 s).
//!
//! # Features
//!
//! | feature | default | what |
//! | --- | --- | --- |
//! | `config` | no | settings from TOML files and `JWT__*` variables with the `config` crate: `SettingsLoader`, `TokenSettings::load` / `from_config`, `load_section` |

#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod algorithm;
mod claims;
mod clock;
mod codec;
mod duration;
mod error;
mod keys;
mod picked;
mod rejection;
mod request_info;
mod secret;
mod service;
mod settings;
mod settings_error;
#[cfg(feature = "config")]
mod settings_source;
mod token;
mod token_type;
mod validation;

pub use algorithm::{Algorithm, AlgorithmFamily, UnknownAlgorithm};
pub use claims::{Claims, UserId};
pub use clock::{Clock, ManualClock, SystemClock, unix_seconds};
pub use duration::{deserialize as deserialize_duration, parse_duration};
pub use error::{Cause, Error, ErrorKind};
pub use keys::{KeyError, KeySet, SigningKey, VerifyingKey};
pub use rejection::{Rejection, TypeFailure};
pub use request_info::RequestInfo;
pub use secret::Secret;
pub use service::{TokenService, TokenServiceBuilder};
pub use settings::{TokenSettings, VerifyingKeySettings};
pub use settings_error::SettingsError;
#[cfg(feature = "config")]
pub use settings_source::{SettingsLoader, load_section};
pub use token::Token;
pub use token_type::TokenType;

/// The workspace README's example, run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctest;

/// The `config` crate, whose `Config` the settings loaders return
/// (feature `config`).
#[cfg(feature = "config")]
pub use config;

/// jsonwebtoken, the token layer: its `Jwk`, `EncodingKey` and `DecodingKey`
/// are what [`VerifyingKey::jwk`], [`SigningKey::encoding_key`] and
/// [`VerifyingKey::decoding_key`] give.
pub use jsonwebtoken;

/// `serde_json`'s value type, for claims.
pub use serde_json::Value;
