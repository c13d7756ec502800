//! Verification refuses what PyJWT and simplejwt refuse, with their reasons.

mod common;

use common::{NOW, PEER_KEY, access_payload, b64, forge_hs256, service_at, settings_for};
use jwt_core::{Algorithm, ErrorKind, TokenService, TokenSettings};
use serde_json::json;

const HS256_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

fn peer_service() -> TokenService {
    service_at(&settings_for(Algorithm::HS256), NOW).0
}

fn kind_of(tokens: &TokenService, token: &str) -> ErrorKind {
    tokens
        .verify(token, tokens.access_type())
        .unwrap_err()
        .kind()
}

#[test]
fn a_forged_but_correct_token_is_accepted() {
    // The baseline every refusal below departs from by one thing.
    let tokens = peer_service();
    let token = forge_hs256(HS256_HEADER, &access_payload(|_| {}), PEER_KEY.as_bytes());
    assert!(tokens.verify(&token, tokens.access_type()).is_ok());
}

#[test]
fn a_header_written_another_way_reads_the_same() {
    // The service's own header is recognised byte for byte; any other
    // spelling of it is parsed, with the same outcome.
    let tokens = peer_service();
    let payload = access_payload(|claims| {
        claims.insert("role".into(), json!("editor"));
    });
    for header in [
        HS256_HEADER,
        r#"{"typ":"JWT","alg":"HS256"}"#,
        r#"{ "alg": "HS256" }"#,
        r#"{"alg":"HS256","typ":"JWT","x":[1]}"#,
    ] {
        let token = forge_hs256(header, &payload, PEER_KEY.as_bytes());
        let verified = tokens
            .verify(&token, tokens.access_type())
            .unwrap_or_else(|err| panic!("{header}: {err}"));
        assert_eq!(
            verified.claims().get_str("role"),
            Some("editor"),
            "{header}"
        );
        assert_eq!(verified.user_id(), Some(&1.into()), "{header}");
    }
    let wrong_alg = forge_hs256(
        r#"{"typ":"JWT","alg":"HS512"}"#,
        &payload,
        PEER_KEY.as_bytes(),
    );
    assert_eq!(kind_of(&tokens, &wrong_alg), ErrorKind::Invalid);
}

#[test]
fn alg_none_is_refused() {
    let tokens = peer_service();
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(access_payload(|_| {}).as_bytes())
    );
    let err = tokens.verify(&unsigned, tokens.access_type()).unwrap_err();
    assert_eq!(
        (err.kind(), err.reason()),
        (ErrorKind::Invalid, "algorithm not accepted")
    );
    // Even with a signature attached.
    let signed_none = forge_hs256(
        r#"{"alg":"none"}"#,
        &access_payload(|_| {}),
        PEER_KEY.as_bytes(),
    );
    assert_eq!(kind_of(&tokens, &signed_none), ErrorKind::Invalid);
}

#[test]
fn an_hs256_token_signed_with_the_rsa_public_key_is_refused() {
    // The classic algorithm confusion: the attacker knows the public key.
    let (tokens, _) = service_at(&settings_for(Algorithm::RS256), NOW);
    let public_pem = common::fixture("keys/rsa-public.pem");
    let forged = forge_hs256(HS256_HEADER, &access_payload(|_| {}), public_pem.as_bytes());
    let err = tokens.verify(&forged, tokens.access_type()).unwrap_err();
    assert_eq!(
        (err.kind(), err.reason()),
        (ErrorKind::Invalid, "no key for this alg")
    );
}

#[test]
fn a_token_of_another_algorithm_family_is_refused() {
    let (es256, _) = service_at(&settings_for(Algorithm::ES256), NOW);
    let (rs256, _) = service_at(&settings_for(Algorithm::RS256), NOW);
    let token = es256.encode(&es256.refresh_for_user(1).unwrap()).unwrap();
    assert_eq!(
        rs256
            .verify(&token, rs256.refresh_type())
            .unwrap_err()
            .kind(),
        ErrorKind::Invalid
    );
}

#[test]
fn a_wrong_key_is_refused() {
    let tokens = peer_service();
    let other = forge_hs256(
        HS256_HEADER,
        &access_payload(|_| {}),
        b"another-secret-key-0123456789abcdef0123",
    );
    let err = tokens.verify(&other, tokens.access_type()).unwrap_err();
    assert_eq!(
        (err.kind(), err.reason()),
        (ErrorKind::Invalid, "signature does not match")
    );

    let (rsa, _) = service_at(&settings_for(Algorithm::RS256), NOW);
    let mut second = settings_for(Algorithm::RS256);
    second.signing_key = common::fixture("keys/rsa2-private.pem").into();
    second.verifying_key = common::fixture("keys/rsa2-public.pem");
    let (rsa2, _) = service_at(&second, NOW);
    let token = rsa2.encode(&rsa2.refresh_for_user(1).unwrap()).unwrap();
    assert_eq!(
        rsa.verify(&token, rsa.refresh_type()).unwrap_err().reason(),
        "signature does not match"
    );
}

#[test]
fn a_tampered_payload_is_refused() {
    let tokens = peer_service();
    let token = tokens
        .encode(
            &tokens
                .access_from(&tokens.refresh_for_user(1).unwrap())
                .unwrap(),
        )
        .unwrap();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let tampered = common::payload_text(&token).replace(r#""user_id":1"#, r#""user_id":2"#);
    assert_ne!(tampered, common::payload_text(&token));
    parts[1] = b64(tampered.as_bytes());
    let err = tokens
        .verify(&parts.join("."), tokens.access_type())
        .unwrap_err();
    assert_eq!(err.reason(), "signature does not match");
}

#[test]
fn missing_exp_id_and_type_have_simplejwt_s_messages() {
    let tokens = peer_service();
    let cases = [
        ("exp", "Token has no 'exp' claim", ErrorKind::MissingExpiry),
        ("jti", "Token has no id", ErrorKind::MissingId),
        ("token_type", "Token has no type", ErrorKind::MissingType),
    ];
    for (claim, message, kind) in cases {
        let token = forge_hs256(
            HS256_HEADER,
            &access_payload(|p| drop(p.remove(claim))),
            PEER_KEY.as_bytes(),
        );
        let err = tokens.verify(&token, tokens.access_type()).unwrap_err();
        assert_eq!(
            (err.kind(), err.message()),
            (kind, message),
            "without {claim}"
        );
        assert_eq!(err.code(), "token_not_valid");
    }
}

#[test]
fn malformed_registered_claims_are_invalid_not_a_crash() {
    let tokens = peer_service();
    let cases: [(&str, serde_json::Value); 8] = [
        ("exp", json!("1800000000")),
        ("exp", json!(null)),
        ("exp", json!([NOW + 300])),
        ("iat", json!("now")),
        ("nbf", json!({})),
        ("jti", json!(12345)),
        ("sub", json!(1)),
        ("aud", json!("someone")),
    ];
    for (claim, value) in cases {
        let token = forge_hs256(
            HS256_HEADER,
            &access_payload(|p| drop(p.insert(claim.into(), value.clone()))),
            PEER_KEY.as_bytes(),
        );
        assert_eq!(
            kind_of(&tokens, &token),
            ErrorKind::Invalid,
            "{claim} = {value}"
        );
    }
}

#[test]
fn a_wrong_type_is_refused_with_its_message() {
    let tokens = peer_service();
    let refresh = tokens.encode(&tokens.refresh_for_user(1).unwrap()).unwrap();
    let err = tokens.verify(&refresh, tokens.access_type()).unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::WrongType, "Token has wrong type")
    );
    // A type claim of another JSON type is a wrong type too.
    let numeric = forge_hs256(
        HS256_HEADER,
        &access_payload(|p| drop(p.insert("token_type".into(), json!(1)))),
        PEER_KEY.as_bytes(),
    );
    assert_eq!(kind_of(&tokens, &numeric), ErrorKind::WrongType);
}

#[test]
fn expiry_is_exp_le_now_at_pyjwt_s_boundary() {
    let (tokens, clock) = service_at(&settings_for(Algorithm::HS256), NOW);
    let access = tokens
        .encode(
            &tokens
                .access_from(&tokens.refresh_for_user(1).unwrap())
                .unwrap(),
        )
        .unwrap();
    let exp = NOW + 300;
    clock.set_micros((exp - 1) * 1_000_000 + 999_999);
    assert!(
        tokens.verify(&access, tokens.access_type()).is_ok(),
        "a microsecond before exp"
    );
    clock.set(exp);
    let err = tokens.verify(&access, tokens.access_type()).unwrap_err();
    assert_eq!(
        (err.kind(), err.reason()),
        (ErrorKind::Invalid, "expired"),
        "at exp == now"
    );
    assert_eq!(err.message(), "Token is invalid or expired");
}

#[test]
fn leeway_moves_the_boundary_by_exactly_its_seconds() {
    let mut settings = settings_for(Algorithm::HS256);
    settings.leeway = std::time::Duration::from_secs(30);
    let (tokens, clock) = service_at(&settings, NOW);
    let access = tokens
        .encode(
            &tokens
                .access_from(&tokens.refresh_for_user(1).unwrap())
                .unwrap(),
        )
        .unwrap();
    let exp = NOW + 300;
    clock.set(exp + 29);
    assert!(
        tokens.verify(&access, tokens.access_type()).is_ok(),
        "within the leeway"
    );
    clock.set(exp + 30);
    assert_eq!(
        tokens
            .verify(&access, tokens.access_type())
            .unwrap_err()
            .reason(),
        "expired",
        "exp == now - leeway"
    );
}

#[test]
fn a_token_from_the_future_is_refused_beyond_the_leeway() {
    let tokens = peer_service();
    let token = forge_hs256(
        HS256_HEADER,
        &access_payload(|p| drop(p.insert("iat".into(), json!(NOW + 5)))),
        PEER_KEY.as_bytes(),
    );
    assert_eq!(
        tokens
            .verify(&token, tokens.access_type())
            .unwrap_err()
            .reason(),
        "iat is in the future"
    );
}

#[test]
fn audience_and_issuer_mismatches_are_refused() {
    let mut settings = settings_for(Algorithm::HS256);
    settings.audience = "mobile".into();
    settings.issuer = "auth.example".into();
    let (tokens, _) = service_at(&settings, NOW);
    let with = |aud: serde_json::Value, iss: serde_json::Value| {
        forge_hs256(
            HS256_HEADER,
            &access_payload(|p| {
                p.insert("aud".into(), aud);
                p.insert("iss".into(), iss);
            }),
            PEER_KEY.as_bytes(),
        )
    };
    assert!(
        tokens
            .verify(
                &with(json!("mobile"), json!("auth.example")),
                tokens.access_type()
            )
            .is_ok()
    );
    assert!(
        tokens
            .verify(
                &with(json!(["web", "mobile"]), json!("auth.example")),
                tokens.access_type()
            )
            .is_ok()
    );
    assert_eq!(
        kind_of(&tokens, &with(json!("web"), json!("auth.example"))),
        ErrorKind::Invalid
    );
    assert_eq!(
        kind_of(&tokens, &with(json!("mobile"), json!("evil.example"))),
        ErrorKind::Invalid
    );
    let without = forge_hs256(HS256_HEADER, &access_payload(|_| {}), PEER_KEY.as_bytes());
    assert_eq!(
        tokens
            .verify(&without, tokens.access_type())
            .unwrap_err()
            .reason(),
        "no iss claim"
    );
}

#[test]
fn headers_that_are_not_plain_are_refused() {
    let tokens = peer_service();
    let body = access_payload(|_| {});
    for header in [
        r#"{"alg":"HS256","crit":["exp"]}"#,
        r#"{"typ":"JWT"}"#,
        r#"{"alg":"HS256","kid":7}"#,
        r#"{"alg":"hs256"}"#,
        r#"["HS256"]"#,
        "not json",
    ] {
        let token = forge_hs256(header, &body, PEER_KEY.as_bytes());
        let result = tokens.verify(&token, tokens.access_type());
        assert_eq!(
            result.map_err(|e| e.kind()).err(),
            Some(ErrorKind::Invalid),
            "{header}"
        );
    }
}

#[test]
fn malformed_strings_are_invalid_never_a_panic() {
    let tokens = peer_service();
    let good = forge_hs256(HS256_HEADER, &access_payload(|_| {}), PEER_KEY.as_bytes());
    let not_object = forge_hs256(HS256_HEADER, "[1,2,3]", PEER_KEY.as_bytes());
    let deep = forge_hs256(
        HS256_HEADER,
        &format!("{}1{}", "[".repeat(500), "]".repeat(500)),
        PEER_KEY.as_bytes(),
    );
    let long = "a".repeat(100_000);
    let inputs = [
        "",
        ".",
        "..",
        "...",
        "a.b",
        "a.b.c.d",
        "ä.ö.ü",
        "eyJ.eyJ.sig",
        &format!("{good}x"),
        &format!("{good}="),
        &format!(" {good}"),
        &good.replacen('.', "..", 1),
        &not_object,
        &deep,
        &long,
    ];
    for input in inputs {
        let err = tokens.verify(input, tokens.access_type()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid, "{:.40}", input);
    }
}

#[test]
fn the_resolver_reports_each_type_s_reason() {
    let settings = TokenSettings {
        auth_token_types: vec!["access".into(), "refresh".into()],
        ..settings_for(Algorithm::HS256)
    };
    let (tokens, _) = service_at(&settings, NOW);
    let refresh = tokens.encode(&tokens.refresh_for_user(1).unwrap()).unwrap();
    assert_eq!(
        tokens.verify_auth(&refresh).unwrap().token_type().name(),
        "refresh"
    );

    let (access_only, _) = service_at(&settings_for(Algorithm::HS256), NOW);
    let rejection = access_only.verify_auth(&refresh).unwrap_err();
    let failures: Vec<_> = rejection
        .failures()
        .iter()
        .map(|f| {
            (
                f.token_type().class_name(),
                f.token_type().name(),
                f.error().message(),
            )
        })
        .collect();
    assert_eq!(
        failures,
        [("AccessToken", "access", "Token has wrong type")]
    );

    // A failure before the type check is every type's reason.
    let rejection = tokens.verify_auth("garbage").unwrap_err();
    let messages: Vec<_> = rejection
        .failures()
        .iter()
        .map(|f| f.error().message())
        .collect();
    assert_eq!(
        messages,
        ["Token is invalid or expired", "Token is invalid or expired"]
    );
}

#[test]
fn verify_untyped_accepts_any_type_but_checks_the_rest() {
    let tokens = peer_service();
    let refresh = tokens.encode(&tokens.refresh_for_user(1).unwrap()).unwrap();
    assert_eq!(
        tokens.verify_untyped(&refresh).unwrap().token_type().name(),
        "refresh"
    );
    let no_type = forge_hs256(
        HS256_HEADER,
        &access_payload(|p| drop(p.remove("token_type"))),
        PEER_KEY.as_bytes(),
    );
    assert_eq!(
        tokens.verify_untyped(&no_type).unwrap().token_type().name(),
        "untyped"
    );
    let no_id = forge_hs256(
        HS256_HEADER,
        &access_payload(|p| drop(p.remove("jti"))),
        PEER_KEY.as_bytes(),
    );
    assert_eq!(
        tokens.verify_untyped(&no_id).unwrap_err().kind(),
        ErrorKind::MissingId
    );
}

#[test]
fn a_token_without_a_usable_user_id_is_reported_as_such() {
    let tokens = peer_service();
    for value in [json!(null), json!(1.5), json!(true), json!({"id": 1})] {
        let token = forge_hs256(
            HS256_HEADER,
            &access_payload(|p| drop(p.insert("user_id".into(), value.clone()))),
            PEER_KEY.as_bytes(),
        );
        let verified = tokens.verify(&token, tokens.access_type()).unwrap();
        let err = verified.require_user_id().unwrap_err();
        assert_eq!(
            err.message(),
            "Token contained no recognizable user identification",
            "{value}"
        );
    }
}

#[test]
fn errors_never_contain_the_token_or_claims() {
    let tokens = peer_service();
    let token = forge_hs256(
        HS256_HEADER,
        &access_payload(|p| drop(p.insert("exp".into(), json!("secret-ish")))),
        PEER_KEY.as_bytes(),
    );
    let err = tokens.verify(&token, tokens.access_type()).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains("secret-ish") && !shown.contains(&token[..20]),
        "{shown}"
    );
}
