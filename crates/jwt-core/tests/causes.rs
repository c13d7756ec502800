//! Each refusal names its check ([`Cause`]) while the client hears only
//! simplejwt's message; keys the crypto library would refuse stop the
//! service at start-up.

mod common;

use common::{NOW, PEER_KEY, access_payload, b64, fixture, forge_hs256, service_at, settings_for};
use jwt_core::{
    Algorithm, Cause, ErrorKind, KeyError, SigningKey, TokenService, TokenSettings, VerifyingKey,
};
use serde_json::{Map, Value};

const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

fn cause(tokens: &TokenService, token: &str) -> (Cause, ErrorKind) {
    let err = tokens.verify(token, tokens.access_type()).unwrap_err();
    (err.cause(), err.kind())
}

#[test]
fn every_check_has_its_cause_and_the_invalid_ones_share_one_message() {
    let settings = TokenSettings {
        audience: "api".into(),
        issuer: "auth".into(),
        ..settings_for(Algorithm::HS256)
    };
    let (tokens, _) = service_at(&settings, NOW);
    let key = PEER_KEY.as_bytes();
    let good = |change: fn(&mut Map<String, Value>)| {
        forge_hs256(
            HS256,
            &access_payload(|c| {
                c.insert("aud".into(), "api".into());
                c.insert("iss".into(), "auth".into());
                change(c);
            }),
            key,
        )
    };
    assert!(tokens.verify(&good(|_| {}), tokens.access_type()).is_ok());

    let headed = |header: &str| forge_hs256(header, &access_payload(|_| {}), key);
    // One character inside the signature changed (the last one could
    // carry unused bits and make the base64 itself invalid).
    let mut tampered = good(|_| {}).into_bytes();
    let inside = tampered.len() - 10;
    tampered[inside] = if tampered[inside] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let cases: Vec<(&str, String, Cause)> = vec![
        ("two parts", "a.b".into(), Cause::Malformed),
        (
            "header not JSON",
            format!("{}.{}.c2ln", b64(b"{"), b64(b"{}")),
            Cause::Malformed,
        ),
        (
            "kid a number",
            headed(r#"{"alg":"HS256","kid":7}"#),
            Cause::Malformed,
        ),
        (
            "crit",
            headed(r#"{"alg":"HS256","crit":["exp"]}"#),
            Cause::Malformed,
        ),
        (
            "alg none",
            headed(r#"{"alg":"none"}"#),
            Cause::AlgorithmNotAccepted,
        ),
        (
            "no alg",
            headed(r#"{"typ":"JWT"}"#),
            Cause::AlgorithmNotAccepted,
        ),
        (
            "unknown kid",
            headed(r#"{"alg":"HS256","kid":"k9"}"#),
            Cause::UnknownKey,
        ),
        (
            "another alg",
            headed(r#"{"alg":"HS512"}"#),
            Cause::UnknownKey,
        ),
        ("tampered", tampered, Cause::BadSignature),
        (
            "another key",
            forge_hs256(HS256, &access_payload(|_| {}), &[b'x'; 32]),
            Cause::BadSignature,
        ),
        (
            "signature not base64url",
            format!("{}.{}.***", b64(HS256.as_bytes()), b64(b"{}")),
            Cause::Malformed,
        ),
        (
            "expired",
            good(|c| {
                c.insert("exp".into(), NOW.into());
            }),
            Cause::Expired,
        ),
        (
            "nbf ahead",
            good(|c| {
                c.insert("nbf".into(), (NOW + 1).into());
            }),
            Cause::NotYetValid,
        ),
        (
            "iat ahead",
            good(|c| {
                c.insert("iat".into(), (NOW + 1).into());
            }),
            Cause::NotYetValid,
        ),
        (
            "exp a string",
            good(|c| {
                c.insert("exp".into(), "soon".into());
            }),
            Cause::Malformed,
        ),
        (
            "other audience",
            good(|c| {
                c.insert("aud".into(), "web".into());
            }),
            Cause::WrongAudience,
        ),
        (
            "no audience",
            good(|c| {
                c.remove("aud");
            }),
            Cause::WrongAudience,
        ),
        (
            "other issuer",
            good(|c| {
                c.insert("iss".into(), "evil".into());
            }),
            Cause::WrongIssuer,
        ),
        (
            "no exp",
            good(|c| {
                c.remove("exp");
            }),
            Cause::MissingExpiry,
        ),
        (
            "no jti",
            good(|c| {
                c.remove("jti");
            }),
            Cause::MissingId,
        ),
        (
            "no type",
            good(|c| {
                c.remove("token_type");
            }),
            Cause::MissingType,
        ),
        (
            "a refresh token",
            good(|c| {
                c.insert("token_type".into(), "refresh".into());
            }),
            Cause::WrongType,
        ),
    ];
    for (name, token, expected) in cases {
        let (found, kind) = cause(&tokens, &token);
        assert_eq!(found, expected, "{name}");
        assert_eq!(kind, expected.kind(), "{name}");
        if kind == ErrorKind::Invalid {
            let err = tokens.verify(&token, tokens.access_type()).unwrap_err();
            assert_eq!(err.to_string(), "Token is invalid or expired", "{name}");
        }
    }
}

fn key_file(name: &str) -> Vec<u8> {
    fixture(&format!("keys/{name}")).into_bytes()
}

fn rejected_cause(err: KeyError) -> String {
    match err {
        KeyError::Rejected { cause, .. } => cause,
        other => panic!("expected Rejected, got {other}"),
    }
}

#[test]
fn keys_jsonwebtoken_could_not_use_are_refused_when_read() {
    // RSA below 2048 bits, as a private and as a public key.
    let short =
        SigningKey::from_pem(Algorithm::RS256, &key_file("rsa1024-private.pem")).unwrap_err();
    assert!(
        short
            .to_string()
            .starts_with("the PEM is not a usable RS256 private key"),
        "{short}"
    );
    let short =
        VerifyingKey::from_pem(Algorithm::RS256, &key_file("rsa1024-public.pem")).unwrap_err();
    assert_eq!(
        rejected_cause(short),
        "an RSA key must have 2048 to 8192 bits"
    );
    // A P-384 key for ES256, public or private (SEC1 or PKCS#8).
    let curve =
        VerifyingKey::from_pem(Algorithm::ES256, &key_file("ec384-public.pem")).unwrap_err();
    assert_eq!(rejected_cause(curve), "a key on another curve");
    for private in ["ec384-private.pem", "ec384-private-sec1.pem"] {
        assert!(matches!(
            SigningKey::from_pem(Algorithm::ES256, &key_file(private)),
            Err(KeyError::Rejected { .. })
        ));
    }
    // Another family's public key.
    assert!(matches!(
        VerifyingKey::from_pem(Algorithm::RS256, &key_file("ed25519-public.pem")),
        Err(KeyError::Rejected { .. })
    ));
    assert!(matches!(
        VerifyingKey::from_pem(Algorithm::EdDSA, &key_file("ec256-public.pem")),
        Err(KeyError::Rejected { .. })
    ));
}

#[test]
fn a_sec1_key_signs_what_its_pkcs8_public_half_verifies() {
    let key = SigningKey::from_pem(Algorithm::ES384, &key_file("ec384-private-sec1.pem")).unwrap();
    let signature = key.sign(b"message").unwrap();
    assert!(key.verifying_key().verify(b"message", &signature));
    assert!(!key.verifying_key().verify(b"messagE", &signature));
    let jwk = key.verifying_key().jwk().unwrap();
    let jwk = serde_json::to_value(jwk).unwrap();
    assert_eq!(
        (jwk["crv"].as_str(), jwk["alg"].as_str()),
        (Some("P-384"), Some("ES384"))
    );
}

#[test]
fn keys_are_jsonwebtoken_keys_that_its_own_decode_accepts() {
    // A token minted here decodes with raw jsonwebtoken and the key jwt-core
    // hands out, for every family.
    for algorithm in [
        Algorithm::HS256,
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ] {
        let (tokens, _) = service_at(&settings_for(algorithm), NOW);
        let wire = tokens.encode(&tokens.refresh_for_user(5).unwrap()).unwrap();
        let key = tokens.keys().current();
        let mut validation = jsonwebtoken::Validation::new(algorithm.into());
        validation.validate_exp = false;
        let decoded =
            jsonwebtoken::decode::<Map<String, Value>>(&wire, key.decoding_key(), &validation)
                .unwrap_or_else(|err| panic!("{algorithm}: {err}"));
        assert_eq!(decoded.claims["user_id"], 5, "{algorithm}");
        let set = tokens.keys().jwk_set();
        assert_eq!(
            set.keys.len(),
            usize::from(algorithm != Algorithm::HS256),
            "{algorithm}"
        );
    }
}
