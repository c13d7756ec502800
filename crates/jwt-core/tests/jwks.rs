//! Public keys as JSON Web Keys: the same numbers whatever form the key was
//! given in, nothing for secrets. (PyJWT reading them back: tests/pyjwt.rs.)

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::fixture;
use jwt_core::{Algorithm, KeySet, SigningKey, VerifyingKey};

fn public(algorithm: Algorithm, file: &str) -> serde_json::Value {
    VerifyingKey::from_pem(algorithm, fixture(&format!("keys/{file}")).as_bytes())
        .unwrap()
        .public_jwk()
        .unwrap()
}

fn from_private(algorithm: Algorithm, file: &str) -> serde_json::Value {
    SigningKey::from_pem(algorithm, fixture(&format!("keys/{file}")).as_bytes())
        .unwrap()
        .verifying_key()
        .public_jwk()
        .unwrap()
}

fn decoded(jwk: &serde_json::Value, field: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(jwk[field].as_str().unwrap())
        .unwrap()
}

#[test]
fn a_key_has_one_jwk_whatever_form_it_came_in() {
    // SPKI public key, PKCS#8 private key, PKCS#1 private key.
    let rsa = public(Algorithm::RS256, "rsa-public.pem");
    assert_eq!(rsa, from_private(Algorithm::RS256, "rsa-private.pem"));
    assert_eq!(rsa, from_private(Algorithm::RS256, "rsa-private-pkcs1.pem"));
    assert_eq!(
        (
            rsa["kty"].as_str(),
            rsa["alg"].as_str(),
            rsa["use"].as_str()
        ),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    assert_eq!(
        decoded(&rsa, "n").len(),
        256,
        "a 2048-bit modulus, no sign byte"
    );
    assert_ne!(decoded(&rsa, "n")[0], 0);
    assert_ne!(
        rsa["n"],
        public(Algorithm::RS256, "rsa2-public.pem")["n"],
        "another key, other numbers"
    );

    let ec = public(Algorithm::ES256, "ec256-public.pem");
    assert_eq!(ec, from_private(Algorithm::ES256, "ec256-private.pem"));
    assert_eq!(ec, from_private(Algorithm::ES256, "ec256-private-sec1.pem"));
    assert_eq!(
        (
            decoded(&ec, "x").len(),
            decoded(&ec, "y").len(),
            ec["crv"].as_str()
        ),
        (32, 32, Some("P-256"))
    );
    let ec384 = public(Algorithm::ES384, "ec384-public.pem");
    assert_eq!(ec384, from_private(Algorithm::ES384, "ec384-private.pem"));
    assert_eq!(
        (decoded(&ec384, "x").len(), ec384["crv"].as_str()),
        (48, Some("P-384"))
    );

    let ed = public(Algorithm::EdDSA, "ed25519-public.pem");
    assert_eq!(ed, from_private(Algorithm::EdDSA, "ed25519-private.pem"));
    assert_eq!(
        (
            ed["kty"].as_str(),
            ed["crv"].as_str(),
            decoded(&ed, "x").len()
        ),
        (Some("OKP"), Some("Ed25519"), 32)
    );
}

#[test]
fn the_jwks_lists_public_keys_with_their_ids_and_never_a_secret() {
    let current =
        SigningKey::from_pem(Algorithm::RS256, fixture("keys/rsa-private.pem").as_bytes())
            .unwrap()
            .with_kid("2026-12");
    let old = VerifyingKey::from_pem(Algorithm::RS256, fixture("keys/rsa2-public.pem").as_bytes())
        .unwrap()
        .with_kid("2026-11");
    let secret = VerifyingKey::from_secret(Algorithm::HS256, &[7u8; 32])
        .unwrap()
        .with_kid("shared");
    let set = KeySet::new(current)
        .with_verifying_key(old)
        .unwrap()
        .with_verifying_key(secret)
        .unwrap();
    let jwks = set.jwks();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(
        kids,
        ["2026-12", "2026-11"],
        "the current key first; the shared secret left out"
    );
    assert!(
        !jwks.to_string().contains("\"k\""),
        "no symmetric key material"
    );

    let hmac_only = KeySet::new(SigningKey::from_secret(Algorithm::HS256, &[7u8; 32]).unwrap());
    assert_eq!(hmac_only.jwks(), serde_json::json!({"keys": []}));
}
