//! Helpers shared by jwt-core's integration tests.
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_core::{Algorithm, ManualClock, TokenService, TokenSettings};

/// The Django package's test key (the fixtures were minted with it).
pub const PEER_KEY: &str = "peer-secret-key-0123456789abcdef0123456789abcdef";

/// A fixed instant for tests: 2026-11-01T00:00:00Z.
pub const NOW: i64 = 1_793_491_200;

/// A fixture file's text (`tests/fixtures/...`).
pub fn fixture(path: &str) -> String {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|err| panic!("{full}: {err}"))
}

/// The path of a fixture key.
pub fn key_path(name: &str) -> String {
    format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Settings for `algorithm` with the fixture keys (HMAC: the peer key, or
/// a long enough secret for HS384/512).
pub fn settings_for(algorithm: Algorithm) -> TokenSettings {
    let (private, public) = match algorithm {
        Algorithm::HS256 => return hmac_settings(algorithm, PEER_KEY),
        Algorithm::HS384 | Algorithm::HS512 => return hmac_settings(algorithm, &"s".repeat(64)),
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => ("rsa-private.pem", "rsa-public.pem"),
        Algorithm::ES256 => ("ec256-private.pem", "ec256-public.pem"),
        Algorithm::ES384 => ("ec384-private.pem", "ec384-public.pem"),
        Algorithm::EdDSA => ("ed25519-private.pem", "ed25519-public.pem"),
    };
    TokenSettings {
        algorithm,
        signing_key: fixture(&format!("keys/{private}")).into(),
        verifying_key: fixture(&format!("keys/{public}")),
        ..TokenSettings::default()
    }
}

pub fn hmac_settings(algorithm: Algorithm, secret: &str) -> TokenSettings {
    TokenSettings {
        algorithm,
        signing_key: secret.into(),
        ..TokenSettings::default()
    }
}

/// A service on a manual clock set to `now`.
pub fn service_at(settings: &TokenSettings, now: i64) -> (TokenService, ManualClock) {
    let clock = ManualClock::at(now);
    let service = TokenService::builder(settings)
        .clock(clock.clone())
        .build()
        .expect("test settings are valid");
    (service, clock)
}

/// A token with any header and payload text, HMAC-SHA256-signed with
/// `secret`: for forging what a well-behaved minter never makes.
pub fn forge_hs256(header: &str, payload: &str, secret: &[u8]) -> String {
    let signing_input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let key = jsonwebtoken::EncodingKey::from_secret(secret).expect("a secret");
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &key,
        jsonwebtoken::Algorithm::HS256,
    )
    .expect("HMAC signs");
    format!("{signing_input}.{signature}")
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The decoded payload of a compact token, as text.
pub fn payload_text(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("three parts");
    String::from_utf8(URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("utf-8")
}

/// The decoded header of a compact token, as text.
pub fn header_text(token: &str) -> String {
    let header = token.split('.').next().expect("three parts");
    String::from_utf8(URL_SAFE_NO_PAD.decode(header).expect("base64url")).expect("utf-8")
}

/// A well-formed access payload at [`NOW`] for user 1, with `change`
/// applied: what forged-token tests depart from by one thing.
pub fn access_payload(
    change: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> String {
    let mut claims = serde_json::json!({
        "token_type": "access",
        "exp": NOW + 300,
        "iat": NOW,
        "jti": "0123456789abcdef0123456789abcdef",
        "user_id": 1
    });
    change(claims.as_object_mut().expect("an object"));
    claims.to_string()
}
