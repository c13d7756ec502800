//! Rotating a signing key without logging everyone out: the key
//! choice by `kid` of docs/configuration.md.

mod common;

use common::{NOW, PEER_KEY, header_text, hmac_settings, service_at};
use jwt_core::{Algorithm, ErrorKind, TokenService, TokenSettings, VerifyingKeySettings};

const NEW_KEY: &str = "new-secret-key-fedcba9876543210fedcba9876543210";

fn mint(tokens: &TokenService) -> String {
    tokens.encode(&tokens.refresh_for_user(1).unwrap()).unwrap()
}

fn accepts(tokens: &TokenService, token: &str) -> Result<(), &'static str> {
    tokens
        .verify(token, tokens.refresh_type())
        .map(drop)
        .map_err(|err| err.reason())
}

/// Before: the Django-era key, no kid. After: a new key with a kid, the old
/// one still listed.
fn rotated(old_listed: bool) -> TokenSettings {
    TokenSettings {
        signing_key: NEW_KEY.into(),
        signing_key_id: "2026-11".into(),
        verifying_keys: if old_listed {
            vec![VerifyingKeySettings {
                key: PEER_KEY.into(),
                ..Default::default()
            }]
        } else {
            Vec::new()
        },
        ..TokenSettings::default()
    }
}

#[test]
fn new_tokens_carry_the_kid_of_the_current_key() {
    let (tokens, _) = service_at(&rotated(true), NOW);
    assert_eq!(
        header_text(&mint(&tokens)),
        r#"{"alg":"HS256","kid":"2026-11","typ":"JWT"}"#
    );
}

#[test]
fn old_and_new_tokens_both_verify_during_a_rotation() {
    let (before, _) = service_at(&hmac_settings(Algorithm::HS256, PEER_KEY), NOW);
    let (after, _) = service_at(&rotated(true), NOW);
    let old_token = mint(&before);
    let new_token = mint(&after);
    assert_eq!(
        accepts(&after, &old_token),
        Ok(()),
        "a token of the retired but listed key"
    );
    assert_eq!(accepts(&after, &new_token), Ok(()));
    // The old deployment does not know the new key.
    assert_eq!(
        accepts(&before, &new_token),
        Err("no key with this kid and alg")
    );
}

#[test]
fn a_removed_key_no_longer_verifies() {
    let (before, _) = service_at(&hmac_settings(Algorithm::HS256, PEER_KEY), NOW);
    let (after, _) = service_at(&rotated(false), NOW);
    // Without a kid, and no kid-less key left, the current key is tried: it fails.
    assert_eq!(
        accepts(&after, &mint(&before)),
        Err("signature does not match")
    );
}

#[test]
fn a_kid_selects_exactly_one_key() {
    let (after, _) = service_at(&rotated(true), NOW);
    // Signed by the old key but claiming the new key's id.
    let old_with_new_kid = common::forge_hs256(
        r#"{"alg":"HS256","kid":"2026-11","typ":"JWT"}"#,
        &common::payload_text(&mint(
            &service_at(&hmac_settings(Algorithm::HS256, PEER_KEY), NOW).0,
        )),
        PEER_KEY.as_bytes(),
    );
    assert_eq!(
        accepts(&after, &old_with_new_kid),
        Err("signature does not match")
    );
    let unknown = common::forge_hs256(
        r#"{"alg":"HS256","kid":"nobody","typ":"JWT"}"#,
        &common::payload_text(&mint(&after)),
        NEW_KEY.as_bytes(),
    );
    assert_eq!(
        accepts(&after, &unknown),
        Err("no key with this kid and alg")
    );
    let err = after.verify(&unknown, after.refresh_type()).unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::Invalid, "Token is invalid or expired")
    );
}

#[test]
fn rotation_may_change_the_algorithm() {
    // From HS256 with kid "hs-old" to ES256 with kid "ec-1".
    let old = TokenSettings {
        signing_key_id: "hs-old".into(),
        ..hmac_settings(Algorithm::HS256, PEER_KEY)
    };
    let new = TokenSettings {
        algorithm: Algorithm::ES256,
        signing_key: common::fixture("keys/ec256-private.pem").into(),
        signing_key_id: "ec-1".into(),
        verifying_keys: vec![VerifyingKeySettings {
            kid: "hs-old".into(),
            algorithm: Some(Algorithm::HS256),
            key: PEER_KEY.into(),
            ..Default::default()
        }],
        ..TokenSettings::default()
    };
    let (before, _) = service_at(&old, NOW);
    let (after, _) = service_at(&new, NOW);
    assert_eq!(accepts(&after, &mint(&before)), Ok(()));
    assert_eq!(accepts(&after, &mint(&after)), Ok(()));
    // The HS256 key only answers to HS256: an ES256 header naming it fails.
    let confused = common::forge_hs256(
        r#"{"alg":"ES256","kid":"hs-old"}"#,
        &common::payload_text(&mint(&before)),
        PEER_KEY.as_bytes(),
    );
    assert_eq!(
        accepts(&after, &confused),
        Err("no key with this kid and alg")
    );
}

#[test]
fn two_keys_with_one_kid_are_a_settings_error() {
    let settings = TokenSettings {
        verifying_keys: vec![VerifyingKeySettings {
            kid: "2026-11".into(),
            key: PEER_KEY.into(),
            ..Default::default()
        }],
        ..rotated(false)
    };
    let err = TokenService::new(&settings).unwrap_err();
    assert_eq!(err.setting(), "tokens.verifying_keys[0].kid");
    assert!(err.message().contains("2026-11"), "{err}");
}
