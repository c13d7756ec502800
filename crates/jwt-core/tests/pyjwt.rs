//! Tokens minted by jwt-core verify with PyJWT, with the options simplejwt
//! passes it.
//!
//! Needs a Python with PyJWT[crypto]: `$JWT_TEST_PYTHON`, else `python3`.
//! Without it the test says it was skipped; under `CI=true` it fails.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{fixture, settings_for};
use jwt_core::{Algorithm, AlgorithmFamily, TokenService, TokenSettings, Value};
use serde_json::json;

/// Decodes each token of the JSON list on stdin as simplejwt's backend
/// does, and prints the headers and payloads (in their order) or the error.
const DECODE: &str = r#"
import json, sys
import jwt
out = []
for case in json.load(sys.stdin):
    try:
        payload = jwt.decode(
            case["token"], case["key"], algorithms=[case["algorithm"]],
            audience=case["audience"], issuer=case["issuer"], leeway=0,
            options={"verify_aud": case["audience"] is not None},
        )
        out.append({"header": jwt.get_unverified_header(case["token"]), "payload": payload})
    except Exception as err:
        out.append({"error": f"{type(err).__name__}: {err}"})
print(json.dumps(out))
"#;

fn python() -> Option<String> {
    let python = std::env::var("JWT_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", "import jwt, cryptography"])
        .stderr(Stdio::null())
        .status();
    match probe {
        Ok(status) if status.success() => Some(python),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "CI=true but {python} has no PyJWT[crypto]: `pip install 'PyJWT[crypto]'` or set JWT_TEST_PYTHON"
            )
        }
        _ => {
            // Straight to stderr, past the harness's capture, so it shows.
            let _ = writeln!(
                std::io::stderr().lock(),
                "SKIPPED: tokens minted here are not checked with PyJWT: {python} has no PyJWT[crypto] (set JWT_TEST_PYTHON)"
            );
            None
        }
    }
}

/// Runs a Python `script` with `cases` as JSON on stdin; its stdout parsed.
fn run_script(python: &str, script: &str, cases: &[Value]) -> Vec<Value> {
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(cases).unwrap().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the PyJWT script failed");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The key PyJWT verifies with: the public key, or the shared secret.
fn public_key_of(settings: &TokenSettings) -> String {
    if settings.verifying_key.is_empty() {
        settings.signing_key.expose().to_owned()
    } else {
        settings.verifying_key.clone()
    }
}

#[test]
fn tokens_minted_here_verify_with_pyjwt() {
    let Some(python) = python() else { return };

    // Every algorithm, a kid, an audience and issuer, claims of the app's own.
    let mut cases = Vec::new();
    let mut expected = Vec::new();
    let mut add = |settings: TokenSettings, user: jwt_core::UserId| {
        let tokens = TokenService::new(&settings).unwrap();
        let refresh = tokens
            .refresh_for_user_with(user, |claims| {
                claims.insert("name", "Zoë 🦀");
                claims.insert("scopes", json!(["read", "write"]));
            })
            .unwrap();
        let access = tokens.access_from(&refresh).unwrap();
        for token in [refresh, access] {
            let wire = tokens.encode(&token).unwrap();
            cases.push(json!({
                "token": wire,
                "key": public_key_of(&settings),
                "algorithm": settings.algorithm.as_str(),
                "audience": (!settings.audience.is_empty()).then_some(&settings.audience),
                "issuer": (!settings.issuer.is_empty()).then_some(&settings.issuer),
            }));
            let mut payload = token.claims().as_map().clone();
            if !settings.audience.is_empty() {
                payload.insert("aud".into(), settings.audience.clone().into());
                payload.insert("iss".into(), settings.issuer.clone().into());
            }
            let mut header = json!({"alg": settings.algorithm.as_str(), "typ": "JWT"});
            if !settings.signing_key_id.is_empty() {
                header["kid"] = settings.signing_key_id.clone().into();
            }
            expected.push(json!({"header": header, "payload": payload}));
        }
    };
    for algorithm in Algorithm::ALL {
        add(settings_for(algorithm), 7.into());
    }
    add(
        TokenSettings {
            signing_key_id: "2026-11".into(),
            audience: "mobile".into(),
            issuer: "auth.example".into(),
            ..settings_for(Algorithm::ES256)
        },
        "0b6f8a52-5a8e-4f7c-9d1e-3c2b1a0f9e8d".into(),
    );

    let decoded = run_script(&python, DECODE, &cases);
    assert_eq!(decoded.len(), expected.len());
    for ((case, got), want) in cases.iter().zip(&decoded).zip(&expected) {
        assert_eq!(got, want, "{}", case["algorithm"]);
        // Same order of claims, not only the same set.
        let got_order: Vec<&String> = got["payload"].as_object().unwrap().keys().collect();
        let want_order: Vec<&String> = want["payload"].as_object().unwrap().keys().collect();
        assert_eq!(got_order, want_order, "{}", case["algorithm"]);
    }
}

/// Finds each token's key in the JWKS by its `kid`, as a JWKS client does,
/// and decodes the token with it.
const JWKS: &str = r#"
import json, sys
import jwt
out = []
for case in json.load(sys.stdin):
    try:
        keys = jwt.PyJWKSet.from_dict(case["jwks"])
        kid = jwt.get_unverified_header(case["token"])["kid"]
        key = next(k for k in keys.keys if k.key_id == kid)
        out.append(jwt.decode(case["token"], key.key, algorithms=[key.algorithm_name]))
    except Exception as err:
        out.append({"error": f"{type(err).__name__}: {err}"})
print(json.dumps(out))
"#;

#[test]
fn tokens_verify_with_pyjwt_from_the_jwks_alone() {
    let Some(python) = python() else { return };
    let mut cases = Vec::new();
    let mut expected = Vec::new();
    for algorithm in Algorithm::ALL
        .into_iter()
        .filter(|a| a.family() != AlgorithmFamily::Hmac)
    {
        let old = match algorithm.family() {
            AlgorithmFamily::Rsa => Some(jwt_core::VerifyingKeySettings {
                kid: "old".into(),
                algorithm: Some(algorithm),
                key: fixture("keys/rsa2-public.pem").into(),
                ..Default::default()
            }),
            _ => None,
        };
        let settings = TokenSettings {
            signing_key_id: format!("now-{}", algorithm.as_str()),
            verifying_keys: old.into_iter().collect(),
            ..settings_for(algorithm)
        };
        let tokens = TokenService::new(&settings).unwrap();
        let jwks = tokens.keys().jwks();
        let listed = jwks["keys"].as_array().unwrap().len();
        assert_eq!(
            listed,
            settings.verifying_keys.len() + 1,
            "{algorithm:?}: every public key"
        );
        let token = tokens
            .access_from(&tokens.refresh_for_user(7).unwrap())
            .unwrap();
        cases.push(json!({"token": tokens.encode(&token).unwrap(), "jwks": jwks}));
        expected.push(Value::Object(token.claims().as_map().clone()));
    }
    let decoded = run_script(&python, JWKS, &cases);
    assert_eq!(
        decoded, expected,
        "PyJWT read every key of the JWKS and checked every token with it"
    );
}
