//! The compact JWS form: `base64url(header).base64url(claims).base64url(signature)`.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::Algorithm;
use crate::claims::Claims;
use crate::error::Error;
use crate::keys::SigningKey;

/// The three parts of a compact token.
pub(crate) struct Parts<'a> {
    /// `header.payload`, the signed bytes.
    pub(crate) signing_input: &'a str,
    pub(crate) header: &'a str,
    pub(crate) payload: &'a str,
    pub(crate) signature: &'a str,
}

pub(crate) fn split(token: &str) -> Result<Parts<'_>, Error> {
    let malformed = || Error::invalid("not three base64url parts");
    let (signing_input, signature) = token.rsplit_once('.').ok_or_else(malformed)?;
    let (header, payload) = signing_input.split_once('.').ok_or_else(malformed)?;
    if payload.contains('.') {
        return Err(malformed());
    }
    Ok(Parts {
        signing_input,
        header,
        payload,
        signature,
    })
}

/// The header fields that matter here.
pub(crate) struct Header {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
}

#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow, default)]
    alg: Option<Cow<'a, str>>,
    #[serde(default)]
    kid: Option<Value>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

pub(crate) fn decode_header(encoded: &str) -> Result<Header, Error> {
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| Error::invalid("header is not base64url"))?;
    // A derived struct would also take a JSON array; PyJWT wants an object.
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(Error::invalid("header is not a JSON object"));
    }
    let raw: RawHeader<'_> = serde_json::from_slice(&bytes)
        .map_err(|_| Error::invalid("header is not a JSON object"))?;
    if raw.crit.is_some() {
        // RFC 7515 §4.1.11: extensions we do not understand must be refused.
        return Err(Error::invalid("header has crit"));
    }
    let alg = raw
        .alg
        .ok_or(Error::invalid("header has no alg"))?
        .parse::<Algorithm>()
        .map_err(|_| Error::invalid("algorithm not accepted"))?;
    let kid = match raw.kid {
        None => None,
        Some(Value::String(kid)) => Some(kid),
        Some(_) => return Err(Error::invalid("kid is not a string")),
    };
    Ok(Header { alg, kid })
}

pub(crate) fn decode_signature(encoded: &str) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| Error::invalid("signature is not base64url"))
}

pub(crate) fn decode_payload(encoded: &str) -> Result<Map<String, Value>, Error> {
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| Error::invalid("payload is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| Error::invalid("payload is not a JSON object"))
}

/// Signs `claims` with `key`. `aud` and `iss` are set when configured, as
/// simplejwt's backend does at encoding time: in place when the claims have
/// them, else last.
pub(crate) fn encode(
    key: &SigningKey,
    claims: &Claims,
    audience: Option<&str>,
    issuer: Option<&str>,
) -> Result<String, Error> {
    let payload = serde_json::to_vec(&WithRegistered {
        claims,
        audience,
        issuer,
    })
    .map_err(|_| Error::new(crate::ErrorKind::Signing, "claims are not serializable"))?;
    let header = key.encoded_header();
    let mut token = String::with_capacity(header.len() + payload.len() * 4 / 3 + 360);
    token.push_str(header);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

struct WithRegistered<'a> {
    claims: &'a Claims,
    audience: Option<&'a str>,
    issuer: Option<&'a str>,
}

impl Serialize for WithRegistered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in self.claims.iter() {
            match (name, self.audience, self.issuer) {
                ("aud", Some(audience), _) => map.serialize_entry(name, audience)?,
                ("iss", _, Some(issuer)) => map.serialize_entry(name, issuer)?,
                _ => map.serialize_entry(name, value)?,
            }
        }
        if let Some(audience) = self.audience.filter(|_| !self.claims.contains("aud")) {
            map.serialize_entry("aud", audience)?;
        }
        if let Some(issuer) = self.issuer.filter(|_| !self.claims.contains("iss")) {
            map.serialize_entry("iss", issuer)?;
        }
        map.end()
    }
}
