//! Request bodies the way DRF reads them: JSON or form, checked in the
//! order of docs/http-api.md (content type, then size, then parsing), with
//! DRF's field rules.

use std::borrow::Cow;

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut, Payload};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::failure::{Failure, FieldError};
use crate::fault::Fault;

/// The fields of a request body: a JSON object, or form fields as strings
/// (the last of repeated names wins, as Django's `QueryDict.get`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestData {
    fields: Map<String, Value>,
}

/// Whether form bodies are read or refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Forms {
    Accepted,
    Refused,
}

enum Format {
    Json,
    Form,
}

impl RequestData {
    /// Reads and parses the body: 415 for a content type other than JSON or
    /// form (or none, with bytes), 413 past `limit` bytes (counting what is
    /// read, so chunked bodies too), 400 for JSON that does not parse or is
    /// not an object. No bytes and no content type is `{}`.
    pub async fn read(
        req: &HttpRequest,
        payload: Payload,
        limit: usize,
    ) -> Result<RequestData, Fault> {
        RequestData::read_accepting(req, payload, limit, Forms::Accepted).await
    }

    /// [`RequestData::read`], refusing form bodies with 415 when `forms`
    /// says so (the cookie transport: a form is the one body another site's
    /// page can send without asking).
    pub(crate) async fn read_accepting(
        req: &HttpRequest,
        mut payload: Payload,
        limit: usize,
        forms: Forms,
    ) -> Result<RequestData, Fault> {
        let format = match req.headers().get(header::CONTENT_TYPE) {
            None => None,
            Some(value) => {
                let essence = value.as_bytes().split(|&byte| byte == b';').next();
                let essence = essence.unwrap_or_default().trim_ascii();
                if essence.eq_ignore_ascii_case(b"application/json") {
                    Some(Format::Json)
                } else if forms == Forms::Accepted
                    && essence.eq_ignore_ascii_case(b"application/x-www-form-urlencoded")
                {
                    Some(Format::Form)
                } else {
                    let text = String::from_utf8_lossy(value.as_bytes());
                    return Err(Fault::unsupported_media_type(&text));
                }
            }
        };
        let Some(format) = format else {
            // No type: an empty body is `{}`, any byte is a 415, known
            // from the length or the first chunk without reading further.
            return match (declared_length(req), payload.next().await) {
                (Some(0) | None, None) => Ok(RequestData::default()),
                (Some(0) | None, Some(Ok(chunk))) if chunk.is_empty() => Ok(RequestData::default()),
                _ => Err(Fault::unsupported_media_type("")),
            };
        };
        if declared_length(req).is_some_and(|length| length > limit as u64) {
            return Err(Fault::of(Failure::PayloadTooLarge));
        }
        let bytes = read_limited(&mut payload, limit)
            .await
            .map_err(Fault::json_parse)?
            .ok_or_else(|| Fault::of(Failure::PayloadTooLarge))?;
        if bytes.is_empty() {
            return Ok(RequestData::default());
        }
        match format {
            Format::Form => Ok(RequestData::from_form(&bytes)),
            Format::Json => RequestData::from_json(&bytes),
        }
    }

    /// Fields from a JSON body.
    pub fn from_json(bytes: &[u8]) -> Result<RequestData, Fault> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|err| Fault::json_parse(&err.to_string()))?;
        let type_name = match value {
            Value::Object(fields) => return Ok(RequestData { fields }),
            Value::Null => None,
            Value::Bool(_) => Some("bool"),
            Value::Number(ref number) if number.is_f64() => Some("float"),
            Value::Number(_) => Some("int"),
            Value::String(_) => Some("str"),
            Value::Array(_) => Some("list"),
        };
        Err(Fault::not_a_dictionary(type_name))
    }

    /// Fields from a form body.
    pub fn from_form(bytes: &[u8]) -> RequestData {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).unwrap_or_default();
        let mut fields = Map::new();
        for (name, value) in pairs {
            fields.insert(name, Value::String(value));
        }
        RequestData { fields }
    }

    /// The raw value of a field.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }
}

fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
}

/// The whole body, or `None` once it passes `limit` bytes. A body that
/// comes in one chunk (the usual small JSON body) is not copied.
async fn read_limited(payload: &mut Payload, limit: usize) -> Result<Option<Bytes>, &'static str> {
    let mut first: Option<Bytes> = None;
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| "the body could not be read")?;
        let so_far = first.as_ref().map_or(0, Bytes::len) + body.len();
        if so_far + chunk.len() > limit {
            return Ok(None);
        }
        match first.take() {
            None if body.is_empty() => first = Some(chunk),
            earlier => {
                if let Some(earlier) = earlier {
                    body.extend_from_slice(&earlier);
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
    Ok(Some(first.unwrap_or_else(|| body.freeze())))
}

/// Whether a string field is trimmed (DRF's `trim_whitespace`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    /// Surrounding whitespace removed (usernames, tokens).
    Yes,
    /// Taken as sent (passwords).
    No,
}

/// Reads fields with DRF's rules and collects every field's error, in
/// order, for one 400 answer.
pub struct FieldReader<'a> {
    data: &'a RequestData,
    errors: Vec<(&'a str, FieldError)>,
    /// The fields read, in order (DRF's declaration order).
    read: Vec<&'a str>,
}

impl<'a> FieldReader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a RequestData) -> Self {
        FieldReader {
            data,
            errors: Vec::new(),
            read: Vec::new(),
        }
    }

    /// A required string (DRF `CharField`): numbers are taken as their text;
    /// booleans, arrays and objects are not strings; null, blank (after
    /// trimming, when trimmed) and NUL characters are refused.
    pub fn string(&mut self, name: &'a str, trim: Trim) -> Option<String> {
        let result = match self.data.get(name) {
            None => Err(FieldError::Required),
            Some(Value::Null) => Err(FieldError::Null),
            Some(Value::String(text)) => Ok(text.as_str().into()),
            Some(Value::Number(number)) => Ok(number.to_string().into()),
            Some(_) => Err(FieldError::NotAString),
        }
        .and_then(|text: Cow<'_, str>| {
            let text = match trim {
                Trim::Yes => text.trim().to_owned(),
                Trim::No => text.into_owned(),
            };
            if text.is_empty() {
                Err(FieldError::Blank)
            } else if text.contains('\0') {
                Err(FieldError::NullCharacters)
            } else {
                Ok(text)
            }
        });
        self.keep(name, result)
    }

    /// An optional string (DRF `CharField(required=False)`): `Some(None)`
    /// when absent, else as [`FieldReader::string`].
    pub fn optional_string(&mut self, name: &'a str, trim: Trim) -> Option<Option<String>> {
        if self.data.get(name).is_none() {
            self.read.push(name);
            return Some(None);
        }
        self.string(name, trim).map(Some)
    }

    /// An optional boolean (DRF `BooleanField`): `true`/`false`, `1`/`0` and
    /// the strings DRF knows (`"true"`, `"False"`, `"yes"`, `"off"`, ...).
    pub fn boolean(&mut self, name: &'a str, default: bool) -> Option<bool> {
        let result = match self.data.get(name) {
            None => Ok(default),
            Some(Value::Null) => Err(FieldError::Null),
            Some(Value::Bool(flag)) => Ok(*flag),
            // DRF's TRUE_VALUES hold 1 and FALSE_VALUES 0, so 1.0 and 0.0 too.
            Some(Value::Number(number)) => match number.as_f64() {
                Some(1.0) => Ok(true),
                Some(0.0) => Ok(false),
                _ => Err(FieldError::NotABoolean),
            },
            Some(Value::String(text)) => match text.as_str() {
                "true" | "True" | "TRUE" | "t" | "T" | "yes" | "Yes" | "YES" | "y" | "Y" | "on"
                | "On" | "ON" | "1" => Ok(true),
                "false" | "False" | "FALSE" | "f" | "F" | "no" | "No" | "NO" | "n" | "N"
                | "off" | "Off" | "OFF" | "0" => Ok(false),
                _ => Err(FieldError::NotABoolean),
            },
            Some(_) => Err(FieldError::NotABoolean),
        };
        self.keep(name, result)
    }

    /// Refuses a field that was read well but is not acceptable (a token
    /// that is no longer valid): its error joins the others, in field order.
    pub fn refuse(&mut self, name: &'a str, error: FieldError) {
        self.errors.push((name, error));
        let read = &self.read;
        self.errors.sort_by_key(|(field, _)| {
            read.iter()
                .position(|known| known == field)
                .unwrap_or(usize::MAX)
        });
    }

    fn keep<T>(&mut self, name: &'a str, result: Result<T, FieldError>) -> Option<T> {
        self.read.push(name);
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.errors.push((name, error));
                None
            }
        }
    }

    /// The 400 answer when any field was refused.
    pub fn finish(self) -> Result<(), Fault> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            let errors = self.errors.into_iter();
            Err(Fault::invalid_fields(
                errors
                    .map(|(name, error)| (name.to_owned(), error))
                    .collect(),
            ))
        }
    }

    /// The 400 answer when any field was refused, else the values read
    /// (`username.zip(password)`: present whenever no field was refused).
    pub fn finish_with<T>(self, values: Option<T>) -> Result<T, Fault> {
        self.finish()?;
        values.ok_or(Fault::of(Failure::Internal))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::FromRequest;
    use actix_web::error::PayloadError;
    use actix_web::test::TestRequest;
    use futures_util::stream;

    use super::*;

    /// `read_limited` over a body that arrives in these chunks.
    async fn read(chunks: &[&'static [u8]], limit: usize) -> Option<Bytes> {
        let (req, _) = TestRequest::default().to_http_parts();
        let chunks: Vec<Result<Bytes, PayloadError>> = chunks
            .iter()
            .map(|chunk| Ok(Bytes::from_static(chunk)))
            .collect();
        let stream: actix_http::BoxedPayloadStream = Box::pin(stream::iter(chunks));
        let mut inner = actix_web::dev::Payload::from(stream);
        let mut payload = Payload::from_request(&req, &mut inner)
            .await
            .expect("a payload");
        read_limited(&mut payload, limit).await.expect("readable")
    }

    #[actix_web::test]
    async fn a_body_in_one_chunk_or_many_is_read_whole_up_to_the_limit() {
        let whole = |bytes: &'static [u8]| Some(Bytes::from_static(bytes));
        assert_eq!(read(&[br#"{"a":1}"#], 100).await, whole(br#"{"a":1}"#));
        assert_eq!(
            read(&[br#"{"a""#, b":1", b"}"], 100).await,
            whole(br#"{"a":1}"#)
        );
        assert_eq!(read(&[b"", b"abc"], 100).await, whole(b"abc"));
        assert_eq!(read(&[b"abc", b""], 100).await, whole(b"abc"));
        assert_eq!(read(&[], 100).await, whole(b""));
        assert_eq!(read(&[b"abcd"], 4).await, whole(b"abcd"));
        assert_eq!(read(&[b"ab", b"cd"], 4).await, whole(b"abcd"));
        assert_eq!(read(&[b"abcde"], 4).await, None);
        assert_eq!(read(&[b"ab", b"cd", b"e"], 4).await, None);
        assert_eq!(read(&[b"abcd", b"e"], 4).await, None);
    }
}
