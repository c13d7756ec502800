//! Public keys as JSON Web Keys (RFC 7517, 7518 §6, 8037) for a JWKS
//! route: RSA `n`/`e`, EC `crv`/`x`/`y`, Ed25519 `crv`/`x`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::{Algorithm, AlgorithmFamily};

/// One DER element: its tag, its contents, and what follows it.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
        (length, &rest[count..])
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;

/// The key bytes of a SubjectPublicKeyInfo, or the input itself when it is
/// not one (PKCS#1 for RSA, a bare point or key for EC and Ed25519).
fn unwrap_spki(der: &[u8]) -> Option<&[u8]> {
    let Some((SEQUENCE, contents, [])) = element(der) else {
        return Some(der);
    };
    match element(contents) {
        Some((SEQUENCE, _algorithm, rest)) => {
            let (BIT_STRING, bits, _) = element(rest)? else {
                return None;
            };
            // The first byte counts unused bits: a key has none.
            match bits.split_first()? {
                (0, key) => Some(key),
                _ => None,
            }
        }
        _ => Some(der),
    }
}

/// An unsigned big-endian INTEGER's bytes without the sign's leading zero.
fn unsigned(bytes: &[u8]) -> &[u8] {
    match bytes {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => bytes,
    }
}

fn b64(bytes: &[u8]) -> Value {
    Value::String(URL_SAFE_NO_PAD.encode(bytes))
}

/// The JWK of a public key given as `algorithm`'s verifier holds it;
/// `None` when the bytes are not a key of that algorithm's kind.
pub(super) fn public_jwk(algorithm: Algorithm, kid: Option<&str>, der: &[u8]) -> Option<Value> {
    let key = unwrap_spki(der)?;
    let mut jwk = Map::new();
    match algorithm.family() {
        AlgorithmFamily::Rsa => {
            let (SEQUENCE, contents, []) = element(key)? else {
                return None;
            };
            let (INTEGER, n, rest) = element(contents)? else {
                return None;
            };
            let (INTEGER, e, []) = element(rest)? else {
                return None;
            };
            jwk.insert("kty".into(), "RSA".into());
            jwk.insert("n".into(), b64(unsigned(n)));
            jwk.insert("e".into(), b64(unsigned(e)));
        }
        AlgorithmFamily::Ec => {
            let (curve, size) = match algorithm {
                Algorithm::ES256 => ("P-256", 32),
                _ => ("P-384", 48),
            };
            // Uncompressed: 0x04, then x and y.
            let (4, point) = key.split_first()? else {
                return None;
            };
            if point.len() != 2 * size {
                return None;
            }
            let (x, y) = point.split_at(size);
            jwk.insert("kty".into(), "EC".into());
            jwk.insert("crv".into(), curve.into());
            jwk.insert("x".into(), b64(x));
            jwk.insert("y".into(), b64(y));
        }
        AlgorithmFamily::Ed => {
            if key.len() != 32 {
                return None;
            }
            jwk.insert("kty".into(), "OKP".into());
            jwk.insert("crv".into(), "Ed25519".into());
            jwk.insert("x".into(), b64(key));
        }
        AlgorithmFamily::Hmac => return None,
    }
    jwk.insert("use".into(), "sig".into());
    jwk.insert("alg".into(), algorithm.as_str().into());
    if let Some(kid) = kid {
        jwk.insert("kid".into(), kid.into());
    }
    Some(Value::Object(jwk))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_der_gives_nothing_and_never_panics() {
        for der in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 2, 3, 4, 5],
            &[0x30, 0x82, 0xff, 0xff],
            &[0x30, 0x03, 0x30, 0x00, 0x03],
            &[0x30, 0x06, 0x30, 0x00, 0x03, 0x02, 0x01, 0x00],
        ] {
            assert_eq!(public_jwk(Algorithm::RS256, None, der), None, "{der:?}");
        }
        assert_eq!(
            public_jwk(Algorithm::ES256, None, &[4; 64]),
            None,
            "one byte short"
        );
        assert_eq!(public_jwk(Algorithm::EdDSA, None, &[1; 31]), None);
        assert_eq!(
            public_jwk(Algorithm::HS256, None, &[1; 32]),
            None,
            "no secret is published"
        );
    }

    #[test]
    fn a_bare_point_and_key_are_read() {
        let mut point = vec![4u8];
        point.extend([1u8; 32]);
        point.extend([2u8; 32]);
        let jwk = public_jwk(Algorithm::ES256, Some("k1"), &point).unwrap();
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["x"], URL_SAFE_NO_PAD.encode([1u8; 32]));
        assert_eq!(jwk["y"], URL_SAFE_NO_PAD.encode([2u8; 32]));
        assert_eq!(
            (jwk["kid"].as_str(), jwk["alg"].as_str()),
            (Some("k1"), Some("ES256"))
        );
        let ed = public_jwk(Algorithm::EdDSA, None, &[7u8; 32]).unwrap();
        assert_eq!((ed["kty"].as_str(), ed.get("kid")), (Some("OKP"), None));
    }
}
