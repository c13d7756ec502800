//! The compact JWS form: `base64url(header).base64url(claims).base64url(signature)`.
//!
//! jsonwebtoken reads the header and makes and checks signatures; this
//! writes the header and claims in PyJWT's byte order (jsonwebtoken's
//! `encode` puts `typ` first and has no ordered claims) and reads claims
//! into an ordered map.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::Algorithm;
use crate::claims::Claims;
use crate::error::{Cause, Error};
use crate::keys::SigningKey;

/// The three parts of a compact token.
pub(crate) struct Parts<'a> {
    /// The encoded header.
    pub(crate) header: &'a str,
    /// `header.payload`, the signed bytes.
    pub(crate) signing_input: &'a str,
    pub(crate) payload: &'a str,
    pub(crate) signature: &'a str,
}

pub(crate) fn split(token: &str) -> Result<Parts<'_>, Error> {
    let malformed = || Error::malformed("not three base64url parts");
    let (signing_input, signature) = token.rsplit_once('.').ok_or_else(malformed)?;
    let (header, payload) = signing_input.split_once('.').ok_or_else(malformed)?;
    if payload.contains('.') {
        return Err(malformed());
    }
    Ok(Parts {
        header,
        signing_input,
        payload,
        signature,
    })
}

/// The header fields that matter here.
pub(crate) struct Header {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
}

/// The header, read by jsonwebtoken. A `crit` header is refused (RFC 7515
/// §4.1.11: extensions we do not understand must be refused), as a header
/// that is not a JSON object, or has a `kid` that is not a string.
pub(crate) fn decode_header(token: &str) -> Result<Header, Error> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| header_error(token))?;
    if header.crit.is_some() {
        return Err(Error::malformed("header has crit"));
    }
    let alg = Algorithm::try_from(header.alg)
        .map_err(|_| Error::new(Cause::AlgorithmNotAccepted, "algorithm not accepted"))?;
    Ok(Header {
        alg,
        kid: header.kid,
    })
}

/// Why jsonwebtoken could not read a header: an `alg` missing, unknown or
/// `none` is told apart from the rest. Only refused tokens come here.
fn header_error(token: &str) -> Error {
    let header = token
        .split('.')
        .next()
        .and_then(|header| URL_SAFE_NO_PAD.decode(header).ok())
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    match header.as_ref().and_then(Value::as_object) {
        None => Error::malformed("header is not a JSON object"),
        Some(header) => match header.get("alg").and_then(Value::as_str) {
            Some(alg) if alg.parse::<Algorithm>().is_ok() => {
                Error::malformed("header has a field of the wrong type")
            }
            _ => Error::new(Cause::AlgorithmNotAccepted, "algorithm not accepted"),
        },
    }
}

/// The payload's JSON text (read by [`Picked`](crate::picked::Picked)).
pub(crate) fn decode_payload(encoded: &str) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| Error::malformed("payload is not base64url"))
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
    .map_err(|_| Error::new(Cause::SigningFailed, "claims are not serializable"))?;
    let header = key.encoded_header();
    let mut token = String::with_capacity(header.len() + payload.len() * 4 / 3 + 360);
    token.push_str(header);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&signature);
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
