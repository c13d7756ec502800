//! Claim checks with PyJWT's boundaries, then simplejwt's.
//!
//! Order, as a token goes through simplejwt: PyJWT checks `iat`, `nbf`,
//! `exp`, `iss`, `aud`, `sub` and `jti` when present; then simplejwt
//! requires `exp`, the id claim and the type claim. The first failure wins.

use serde_json::{Map, Value};

use crate::claims::Claims;
use crate::error::{Cause, Error};
use crate::token_type::TokenType;

/// Where claims are read from: a token's whole [`Claims`], or the claims
/// picked from a payload being verified.
pub(crate) trait ClaimSource {
    /// The value of a claim.
    fn claim(&self, name: &str) -> Option<&Value>;
}

impl ClaimSource for Claims {
    fn claim(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

impl ClaimSource for Map<String, Value> {
    fn claim(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// The configurable claim names (`[tokens] *_claim`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClaimNames {
    pub(crate) user_id: String,
    pub(crate) token_type: String,
    pub(crate) jti: String,
}

/// What registered claims are checked against.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rules<'a> {
    /// Unix seconds, rounded down (PyJWT's float `now` gives the same
    /// answers for whole-second claims and leeway).
    pub(crate) now: i64,
    pub(crate) leeway: i64,
    pub(crate) audience: Option<&'a str>,
    pub(crate) issuer: Option<&'a str>,
}

/// A time claim as whole seconds: integers as they are, floats truncated
/// toward zero like Python's `int()`, out-of-range values clamped. Strings,
/// booleans and `null` are not times (PyJWT would take `"123"`; simplejwt
/// then fails with a 500, so we refuse it).
pub(crate) fn as_seconds(value: &Value) -> Option<i64> {
    let number = value.as_number()?;
    if let Some(seconds) = number.as_i64() {
        return Some(seconds);
    }
    if number.as_u64().is_some() {
        return Some(i64::MAX);
    }
    // `as` saturates for floats out of range; JSON has no NaN.
    number.as_f64().map(|seconds| seconds.trunc() as i64)
}

/// PyJWT's checks of the registered claims present in the token.
pub(crate) fn check_registered(claims: &impl ClaimSource, rules: Rules<'_>) -> Result<(), Error> {
    if let Some(iat) = claims.claim("iat") {
        let iat = as_seconds(iat).ok_or(Error::malformed("iat is not a number"))?;
        if iat > rules.now.saturating_add(rules.leeway) {
            return Err(Error::new(Cause::NotYetValid, "iat is in the future"));
        }
    }
    if let Some(nbf) = claims.claim("nbf") {
        let nbf = as_seconds(nbf).ok_or(Error::malformed("nbf is not a number"))?;
        if nbf > rules.now.saturating_add(rules.leeway) {
            return Err(Error::new(Cause::NotYetValid, "not valid yet (nbf)"));
        }
    }
    if let Some(exp) = claims.claim("exp") {
        let exp = as_seconds(exp).ok_or(Error::malformed("exp is not a number"))?;
        if exp <= rules.now.saturating_sub(rules.leeway) {
            return Err(Error::new(Cause::Expired, "expired"));
        }
    }
    if let Some(issuer) = rules.issuer {
        match claims.claim("iss") {
            None => return Err(Error::new(Cause::WrongIssuer, "no iss claim")),
            Some(Value::String(iss)) if iss == issuer => {}
            Some(_) => return Err(Error::new(Cause::WrongIssuer, "wrong issuer")),
        }
    }
    check_audience(claims.claim("aud"), rules.audience)?;
    if claims.claim("sub").is_some_and(|sub| !sub.is_string()) {
        return Err(Error::malformed("sub is not a string"));
    }
    if claims.claim("jti").is_some_and(|jti| !jti.is_string()) {
        return Err(Error::malformed("jti is not a string"));
    }
    Ok(())
}

fn check_audience(aud: Option<&Value>, audience: Option<&str>) -> Result<(), Error> {
    let aud = aud.filter(|aud| is_truthy(aud));
    match (aud, audience) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(Error::new(
            Cause::WrongAudience,
            "token has an audience but none is configured",
        )),
        (None, Some(_)) => Err(Error::new(Cause::WrongAudience, "no aud claim")),
        (Some(Value::String(aud)), Some(audience)) if aud == audience => Ok(()),
        (Some(Value::Array(auds)), Some(audience)) => {
            if !auds.iter().all(Value::is_string) {
                return Err(Error::malformed("aud is not a list of strings"));
            }
            if auds.iter().any(|aud| aud.as_str() == Some(audience)) {
                Ok(())
            } else {
                Err(Error::new(Cause::WrongAudience, "wrong audience"))
            }
        }
        (Some(_), Some(_)) => Err(Error::new(Cause::WrongAudience, "wrong audience")),
    }
}

/// Python's truth value of a JSON value (PyJWT skips a falsy `aud`).
fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|n| n != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(members) => !members.is_empty(),
    }
}

/// simplejwt's `check_exp` and id check: `exp` and the id claim must be
/// present. Returns them (the id must be a string).
pub(crate) fn expiry_and_id(
    claims: &impl ClaimSource,
    names: &ClaimNames,
) -> Result<(i64, String), Error> {
    let exp = claims
        .claim("exp")
        .ok_or(Error::new(Cause::MissingExpiry, "no exp claim"))?;
    let exp = as_seconds(exp).ok_or(Error::malformed("exp is not a number"))?;
    let jti = claims
        .claim(&names.jti)
        .ok_or(Error::new(Cause::MissingId, "no id claim"))?;
    let jti = jti
        .as_str()
        .ok_or(Error::malformed("the id claim is not a string"))?;
    Ok((exp, jti.to_owned()))
}

/// simplejwt's `verify_token_type`.
pub(crate) fn check_type(
    claims: &impl ClaimSource,
    type_claim: &str,
    expected: &TokenType,
) -> Result<(), Error> {
    match claims.claim(type_claim) {
        None => Err(Error::new(Cause::MissingType, "no type claim")),
        Some(Value::String(name)) if name == expected.name() => Ok(()),
        Some(_) => Err(Error::new(Cause::WrongType, "another token type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(now: i64, leeway: i64) -> Rules<'static> {
        Rules {
            now,
            leeway,
            audience: None,
            issuer: None,
        }
    }

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("test claims are objects"),
        }
    }

    #[test]
    fn exp_boundary_is_pyjwt_s() {
        let claims = map(json!({"exp": 1_000}));
        assert!(check_registered(&claims, rules(999, 0)).is_ok());
        assert_eq!(
            check_registered(&claims, rules(1_000, 0))
                .unwrap_err()
                .reason(),
            "expired"
        );
        assert!(check_registered(&claims, rules(1_009, 10)).is_ok());
        assert!(check_registered(&claims, rules(1_010, 10)).is_err());
    }

    #[test]
    fn iat_and_nbf_in_the_future_are_refused_beyond_leeway() {
        let claims = map(json!({"iat": 1_000, "nbf": 900}));
        assert!(check_registered(&claims, rules(1_000, 0)).is_ok());
        assert_eq!(
            check_registered(&claims, rules(999, 0))
                .unwrap_err()
                .reason(),
            "iat is in the future"
        );
        assert!(check_registered(&claims, rules(995, 5)).is_ok());
        let claims = map(json!({"nbf": 1_000}));
        assert_eq!(
            check_registered(&claims, rules(999, 0))
                .unwrap_err()
                .reason(),
            "not valid yet (nbf)"
        );
    }

    #[test]
    fn time_claims_must_be_numbers() {
        for bad in [json!("1000"), json!(null), json!(true), json!([1000])] {
            let claims = map(json!({"exp": bad}));
            assert_eq!(
                check_registered(&claims, rules(0, 0)).unwrap_err().reason(),
                "exp is not a number"
            );
        }
        assert_eq!(as_seconds(&json!(1_000.9)), Some(1_000));
        assert_eq!(as_seconds(&json!(u64::MAX)), Some(i64::MAX));
        assert_eq!(as_seconds(&json!(-1e300)), Some(i64::MIN));
    }

    #[test]
    fn audience_rules_follow_pyjwt() {
        let with = |audience| Rules {
            audience,
            ..rules(0, 0)
        };
        assert!(check_registered(&map(json!({"aud": "api"})), with(Some("api"))).is_ok());
        assert!(check_registered(&map(json!({"aud": ["web", "api"]})), with(Some("api"))).is_ok());
        assert!(check_registered(&map(json!({"aud": "web"})), with(Some("api"))).is_err());
        assert!(check_registered(&map(json!({"aud": ["api", 1]})), with(Some("api"))).is_err());
        assert!(check_registered(&map(json!({})), with(Some("api"))).is_err());
        assert!(check_registered(&map(json!({"aud": "api"})), with(None)).is_err());
        assert!(check_registered(&map(json!({"aud": ""})), with(None)).is_ok());
        assert!(check_registered(&map(json!({"aud": []})), with(None)).is_ok());
    }

    #[test]
    fn issuer_must_match_exactly() {
        let with = Rules {
            issuer: Some("auth"),
            ..rules(0, 0)
        };
        assert!(check_registered(&map(json!({"iss": "auth"})), with).is_ok());
        assert!(check_registered(&map(json!({"iss": "other"})), with).is_err());
        assert!(check_registered(&map(json!({"iss": ["auth"]})), with).is_err());
        assert!(check_registered(&map(json!({})), with).is_err());
        // Without a configured issuer, iss is not looked at.
        assert!(check_registered(&map(json!({"iss": 5})), rules(0, 0)).is_ok());
    }

    #[test]
    fn sub_and_jti_must_be_strings_when_present() {
        assert!(check_registered(&map(json!({"sub": 1})), rules(0, 0)).is_err());
        assert!(check_registered(&map(json!({"jti": 1})), rules(0, 0)).is_err());
        assert!(check_registered(&map(json!({"sub": "1", "jti": "a"})), rules(0, 0)).is_ok());
    }
}
