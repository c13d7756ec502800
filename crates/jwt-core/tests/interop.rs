//! Tokens minted by the Django package and by PyJWT (recorded in
//! `tests/fixtures/`, never minted here) verify with jwt-core, and what
//! jwt-core derives from them matches what the Django package derived.

mod common;

use common::{PEER_KEY, fixture, hmac_settings, service_at};
use jwt_core::{Algorithm, ErrorKind, TokenService, TokenSettings, UserId, Value};
use serde_json::Map;

fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

fn django_token(name: &str) -> Map<String, Value> {
    let fixture = fixture_json("django-tokens.json");
    fixture["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|token| token["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in django-tokens.json"))
        .as_object()
        .unwrap()
        .clone()
}

fn int(value: &Value) -> i64 {
    value.as_i64().unwrap()
}

#[test]
fn django_minted_tokens_verify_at_their_issue_time() {
    let fixture = fixture_json("django-tokens.json");
    assert_eq!(fixture["signing_key"], PEER_KEY);
    let tokens = fixture["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 5);
    for entry in tokens {
        let token = entry["token"].as_str().unwrap();
        let (service, clock) = service_at(
            &hmac_settings(Algorithm::HS256, PEER_KEY),
            int(&entry["iat"]),
        );
        let token_type = service
            .token_type(entry["token_type"].as_str().unwrap())
            .unwrap()
            .clone();
        let verified = service
            .verify(token, &token_type)
            .unwrap_or_else(|err| panic!("{}: {err:?}", entry["name"]));
        assert_eq!(
            verified.user_id(),
            Some(&UserId::Int(1)),
            "{}",
            entry["name"]
        );
        let order: Vec<&str> = verified.claims().names().collect();
        let expected: Vec<&str> = entry["claim_order"]
            .as_array()
            .unwrap()
            .iter()
            .map(|name| name.as_str().unwrap())
            .collect();
        assert_eq!(order, expected, "{}", entry["name"]);
        assert_eq!(order, ["token_type", "exp", "iat", "jti", "user_id"]);

        // And they expire at their exp, as the Django package says they do.
        clock.set(int(&entry["exp"]));
        let err = service.verify(token, &token_type).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid, "{}", entry["name"]);
    }
}

#[test]
fn a_django_token_checked_with_another_key_is_refused() {
    let entry = django_token("obtain_access");
    let (service, _) = service_at(
        &hmac_settings(Algorithm::HS256, "not-the-peer-key-0123456789abcdef0123"),
        int(&entry["iat"]),
    );
    let err = service
        .verify(entry["token"].as_str().unwrap(), service.access_type())
        .unwrap_err();
    assert_eq!(err.reason(), "signature does not match");
}

#[test]
fn access_derived_here_from_a_django_refresh_matches_django_s() {
    let refresh = django_token("obtain_refresh");
    let theirs = django_token("refresh_access");
    // The peer answered refresh/ at exp - lifetime; verify at that instant.
    let answered_at = int(&theirs["exp"]) - 300;
    let (service, _) = service_at(&hmac_settings(Algorithm::HS256, PEER_KEY), answered_at);
    let verified = service
        .verify(refresh["token"].as_str().unwrap(), service.refresh_type())
        .unwrap();
    let ours = service.access_from(&verified).unwrap();

    let theirs = service
        .verify(theirs["token"].as_str().unwrap(), service.access_type())
        .unwrap();
    let mut ours_claims = ours.claims().clone();
    let mut theirs_claims = theirs.claims().clone();
    assert_ne!(ours_claims.remove("jti"), theirs_claims.remove("jti"));
    assert_eq!(
        ours_claims, theirs_claims,
        "same claims, values and order, but the id"
    );
    let ours_order: Vec<&str> = ours.claims().names().collect();
    let theirs_order: Vec<&str> = theirs.claims().names().collect();
    assert_eq!(ours_order, theirs_order);
}

#[test]
fn rotation_here_matches_django_s_rotation() {
    let refresh = django_token("obtain_refresh");
    let theirs = django_token("rotate_refresh");
    let rotated_at = int(&theirs["iat"]);
    let (service, _) = service_at(&hmac_settings(Algorithm::HS256, PEER_KEY), rotated_at);
    let verified = service
        .verify(refresh["token"].as_str().unwrap(), service.refresh_type())
        .unwrap();
    let ours = service.rotate(&verified).unwrap();
    let theirs = service
        .verify(theirs["token"].as_str().unwrap(), service.refresh_type())
        .unwrap();
    assert_eq!(ours.expires_at(), theirs.expires_at());
    assert_eq!(ours.issued_at(), theirs.issued_at());
    assert_eq!(
        ours.claims().names().collect::<Vec<_>>(),
        theirs.claims().names().collect::<Vec<_>>()
    );

    // The access token handed out beside it keeps the old refresh's iat.
    let their_access = service
        .verify(
            django_token("rotate_access")["token"].as_str().unwrap(),
            service.access_type(),
        )
        .unwrap();
    let our_access = service.access_from(&verified).unwrap();
    assert_eq!(our_access.issued_at(), their_access.issued_at());
    assert_eq!(our_access.expires_at(), their_access.expires_at());
}

#[test]
fn a_fresh_pair_here_has_the_django_pair_s_layout() {
    let entry = django_token("obtain_access");
    let (service, _) = service_at(
        &hmac_settings(Algorithm::HS256, PEER_KEY),
        int(&entry["iat"]),
    );
    let refresh = service.refresh_for_user(1).unwrap();
    let access = service.access_from(&refresh).unwrap();
    let their_access = service
        .verify(entry["token"].as_str().unwrap(), service.access_type())
        .unwrap();
    let mut ours = access.claims().clone();
    let mut theirs = their_access.claims().clone();
    ours.remove("jti");
    theirs.remove("jti");
    assert_eq!(
        ours, theirs,
        "same claims and values but the id, in the same order"
    );
    // Byte for byte the same header, too.
    let wire = service.encode(&access).unwrap();
    assert_eq!(
        wire.split('.').next(),
        entry["token"].as_str().unwrap().split('.').next()
    );
}

#[test]
fn pyjwt_minted_asymmetric_tokens_verify_with_the_public_key_alone() {
    let recorded = fixture_json("pyjwt-tokens.json");
    let iat = int(&recorded["iat"]);
    let entries = recorded["tokens"].as_array().unwrap();
    let algorithms: Vec<&str> = entries
        .iter()
        .map(|e| e["algorithm"].as_str().unwrap())
        .collect();
    for needed in ["RS256", "ES256"] {
        assert!(
            algorithms.contains(&needed),
            "the fixture must cover {needed}"
        );
    }
    for entry in entries {
        let algorithm: Algorithm = entry["algorithm"].as_str().unwrap().parse().unwrap();
        let settings = TokenSettings {
            algorithm,
            verifying_key: fixture(entry["public_key"].as_str().unwrap()),
            signing_key_id: entry["kid"].as_str().unwrap_or_default().into(),
            ..TokenSettings::default()
        };
        let service = TokenService::builder(&settings)
            .clock(jwt_core::ManualClock::at(iat))
            .build()
            .unwrap();
        let token_type = service
            .token_type(entry["claims"]["token_type"].as_str().unwrap())
            .unwrap()
            .clone();
        let verified = service
            .verify(entry["token"].as_str().unwrap(), &token_type)
            .unwrap_or_else(|err| panic!("{algorithm} {:?}: {err:?}", entry["kid"]));
        assert_eq!(
            Value::Object(verified.claims().as_map().clone()),
            entry["claims"],
            "{algorithm}"
        );
        let order: Vec<&str> = verified.claims().names().collect();
        let expected: Vec<&str> = entry["claims"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(order, expected);
    }
}

#[test]
fn a_pyjwt_token_with_a_kid_needs_a_key_with_that_kid() {
    let recorded = fixture_json("pyjwt-tokens.json");
    let entry = recorded["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["algorithm"] == "ES256" && e["kid"] == "fixture-kid")
        .unwrap();
    let settings = TokenSettings {
        algorithm: Algorithm::ES256,
        verifying_key: fixture("keys/ec256-public.pem"),
        signing_key_id: "another-kid".into(),
        ..TokenSettings::default()
    };
    let service = TokenService::builder(&settings)
        .clock(jwt_core::ManualClock::at(int(&recorded["iat"])))
        .build()
        .unwrap();
    let err = service
        .verify(entry["token"].as_str().unwrap(), service.access_type())
        .unwrap_err();
    assert_eq!(err.reason(), "no key with this kid and alg");
}
