//! Minting: every algorithm round-trips, claims come in simplejwt's order
//! with simplejwt's types, derived and rotated tokens follow simplejwt 5.1.

mod common;

use common::{NOW, header_text, payload_text, service_at, settings_for};
use jwt_core::{
    Algorithm, ErrorKind, KeySet, TokenService, TokenType, UserId, Value, VerifyingKey,
};

#[test]
fn every_algorithm_round_trips() {
    for algorithm in Algorithm::ALL {
        let (tokens, _) = service_at(&settings_for(algorithm), NOW);
        let refresh = tokens.refresh_for_user(7).unwrap();
        let wire = tokens.encode(&refresh).unwrap();
        assert_eq!(
            header_text(&wire),
            format!(r#"{{"alg":"{algorithm}","typ":"JWT"}}"#)
        );
        let back = tokens.verify(&wire, tokens.refresh_type()).unwrap();
        assert_eq!(back.claims(), refresh.claims(), "{algorithm}");
        assert_eq!(back.jti(), refresh.jti());
        assert_eq!(back.user_id(), Some(&UserId::Int(7)));
    }
}

#[test]
fn claims_are_in_simplejwt_order_with_simplejwt_types() {
    let (tokens, _) = service_at(&settings_for(Algorithm::HS256), NOW);
    let refresh = tokens.refresh_for_user(1).unwrap();
    let payload: serde_json::Map<String, Value> =
        serde_json::from_str(&payload_text(&tokens.encode(&refresh).unwrap())).unwrap();
    let names: Vec<&str> = payload.keys().map(String::as_str).collect();
    assert_eq!(names, ["token_type", "exp", "iat", "jti", "user_id"]);
    assert_eq!(payload["token_type"], "refresh");
    assert_eq!(payload["iat"], NOW);
    assert_eq!(payload["exp"], NOW + 86_400);
    assert_eq!(payload["user_id"], 1, "integer ids stay integers");
    let jti = payload["jti"].as_str().unwrap();
    assert_eq!(jti.len(), 32);
    assert!(
        jti.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "{jti}"
    );

    let uuid_user = tokens
        .refresh_for_user("0b6f8a52-5a8e-4f7c-9d1e-3c2b1a0f9e8d")
        .unwrap();
    assert_eq!(
        uuid_user.claims().get("user_id"),
        Some(&Value::from("0b6f8a52-5a8e-4f7c-9d1e-3c2b1a0f9e8d")),
        "string ids stay strings"
    );
}

#[test]
fn two_tokens_never_share_a_jti() {
    let (tokens, _) = service_at(&settings_for(Algorithm::HS256), NOW);
    let first = tokens.refresh_for_user(1).unwrap();
    let second = tokens.refresh_for_user(1).unwrap();
    assert_ne!(first.jti(), second.jti());
}

#[test]
fn access_from_refresh_copies_claims_but_type_exp_and_jti() {
    let (tokens, clock) = service_at(&settings_for(Algorithm::HS256), NOW);
    let refresh = tokens
        .refresh_for_user_with(5, |claims| {
            claims.insert("role", "editor");
            claims.insert("org", serde_json::json!({"id": 3}));
        })
        .unwrap();
    let access = tokens.access_from(&refresh).unwrap();
    let names: Vec<&str> = access.claims().names().collect();
    assert_eq!(
        names,
        ["token_type", "exp", "iat", "jti", "user_id", "role", "org"]
    );
    assert_eq!(access.claims().get_str("token_type"), Some("access"));
    assert_eq!(access.expires_at(), NOW + 300);
    assert_eq!(access.issued_at(), Some(NOW));
    assert_ne!(access.jti(), refresh.jti());
    assert_eq!(access.claims().get("org"), refresh.claims().get("org"));

    // refresh/: the access token's exp counts from when the refresh token
    // was verified; its iat stays the refresh token's.
    let wire = tokens.encode(&refresh).unwrap();
    clock.set(NOW + 1_000);
    let verified = tokens.verify(&wire, tokens.refresh_type()).unwrap();
    let later = tokens.access_from(&verified).unwrap();
    assert_eq!(later.expires_at(), NOW + 1_000 + 300);
    assert_eq!(later.issued_at(), Some(NOW));
}

#[test]
fn rotation_renews_jti_exp_and_iat_and_keeps_the_rest() {
    let (tokens, clock) = service_at(&settings_for(Algorithm::HS256), NOW);
    let refresh = tokens
        .refresh_for_user_with(5, |claims| {
            claims.insert("role", "editor");
        })
        .unwrap();
    let wire = tokens.encode(&refresh).unwrap();
    clock.set(NOW + 60);
    let verified = tokens.verify(&wire, tokens.refresh_type()).unwrap();
    let rotated = tokens.rotate(&verified).unwrap();
    let names: Vec<&str> = rotated.claims().names().collect();
    assert_eq!(
        names,
        ["token_type", "exp", "iat", "jti", "user_id", "role"]
    );
    assert_ne!(rotated.jti(), refresh.jti());
    assert_eq!(rotated.issued_at(), Some(NOW + 60));
    assert_eq!(rotated.expires_at(), NOW + 60 + 86_400);
    assert_eq!(rotated.claims().get_str("role"), Some("editor"));
    assert_eq!(rotated.token_type().name(), "refresh");
}

#[test]
fn audience_and_issuer_are_written_last_and_checked() {
    let mut settings = settings_for(Algorithm::HS256);
    settings.audience = "mobile".into();
    settings.issuer = "auth.example".into();
    let (tokens, _) = service_at(&settings, NOW);
    let wire = tokens.encode(&tokens.refresh_for_user(1).unwrap()).unwrap();
    let payload: serde_json::Map<String, Value> =
        serde_json::from_str(&payload_text(&wire)).unwrap();
    let names: Vec<&str> = payload.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["token_type", "exp", "iat", "jti", "user_id", "aud", "iss"]
    );
    assert!(tokens.verify(&wire, tokens.refresh_type()).is_ok());
}

#[test]
fn an_app_type_can_be_minted_and_resolved() {
    let settings = jwt_core::TokenSettings {
        token_types: vec!["access".into(), "refresh".into(), "invite".into()],
        ..settings_for(Algorithm::HS256)
    };
    let invite = TokenType::new(
        "InviteToken",
        "invite",
        std::time::Duration::from_secs(3_600),
    );
    let tokens = TokenService::builder(&settings)
        .clock(jwt_core::ManualClock::at(NOW))
        .token_type(invite.clone())
        .build()
        .unwrap();
    let token = tokens.for_user(&invite, 9, |_| {}).unwrap();
    assert_eq!(token.expires_at(), NOW + 3_600);
    let wire = tokens.encode(&token).unwrap();
    let resolved = tokens.verify_any(&wire, tokens.token_types()).unwrap();
    assert_eq!(resolved.token_type(), &invite);
    // Not accepted on protected routes (auth_token_types = ["access"]).
    let rejection = tokens.verify_auth(&wire).unwrap_err();
    assert_eq!(rejection.failures()[0].error().kind(), ErrorKind::WrongType);
}

#[test]
fn a_claims_hook_that_breaks_the_id_claim_fails_to_mint() {
    let (tokens, _) = service_at(&settings_for(Algorithm::HS256), NOW);
    let err = tokens
        .refresh_for_user_with(1, |claims| {
            claims.remove("jti");
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Signing);
}

#[test]
fn a_verify_only_service_verifies_but_cannot_mint() {
    let (minter, _) = service_at(&settings_for(Algorithm::RS256), NOW);
    let wire = minter.encode(&minter.refresh_for_user(3).unwrap()).unwrap();

    let public = VerifyingKey::from_pem(
        Algorithm::RS256,
        common::fixture("keys/rsa-public.pem").as_bytes(),
    )
    .unwrap();
    let verifier = TokenService::builder(&settings_for(Algorithm::RS256))
        .clock(jwt_core::ManualClock::at(NOW))
        .keys(KeySet::verify_only(public))
        .build()
        .unwrap();
    let token = verifier.verify(&wire, verifier.refresh_type()).unwrap();
    assert_eq!(
        verifier.encode(&token).unwrap_err().kind(),
        ErrorKind::NoSigningKey
    );
}

#[test]
fn keys_and_services_never_show_key_material_in_debug() {
    for algorithm in [
        Algorithm::HS256,
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ] {
        let settings = settings_for(algorithm);
        let (tokens, _) = service_at(&settings, NOW);
        let shown = format!("{tokens:?} {:?} {settings:?}", tokens.keys().signing_key());
        let secret = settings.signing_key.expose();
        // The secret itself, or the first line of a private key's body.
        let telltale = secret.lines().nth(1).unwrap_or(secret);
        assert!(!shown.contains(telltale), "{shown}");
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    }
}
