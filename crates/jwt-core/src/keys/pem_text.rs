//! PEM text to DER, with errors that say what was found.

use super::KeyError;
use crate::Algorithm;

/// Whether `text` looks like PEM (so it must not be used as an HMAC secret).
pub(super) fn looks_like_pem(text: &[u8]) -> bool {
    let trimmed = text.trim_ascii_start();
    trimmed.starts_with(b"-----BEGIN ")
}

/// The label and DER body of the first PEM block in `text`.
pub(super) fn decode(algorithm: Algorithm, text: &[u8]) -> Result<(String, Vec<u8>), KeyError> {
    if !looks_like_pem(text) {
        return Err(KeyError::NotPem(algorithm));
    }
    let block = pem::parse(text).map_err(|err| KeyError::BadPem {
        algorithm,
        cause: pem_cause(&err),
    })?;
    let label = block.tag().to_owned();
    Ok((label, block.into_contents()))
}

fn pem_cause(err: &pem::PemError) -> &'static str {
    // Named by structure only, never with the key bytes.
    match err {
        pem::PemError::MismatchedTags(..) => "BEGIN and END labels differ",
        pem::PemError::MalformedFraming => "malformed BEGIN/END lines",
        pem::PemError::MissingBeginTag | pem::PemError::MissingEndTag => {
            "missing BEGIN or END line"
        }
        pem::PemError::MissingData => "no key data",
        pem::PemError::InvalidData(_) => "the body is not valid base64",
        pem::PemError::InvalidHeader(_) => "invalid PEM header line",
        pem::PemError::NotUtf8(_) => "not UTF-8 text",
    }
}
