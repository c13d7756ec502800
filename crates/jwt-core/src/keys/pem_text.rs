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
    let block = pem::parse(text).map_err(|err| KeyError::Rejected {
        algorithm,
        role: "PEM",
        cause: pem_cause(&err),
    })?;
    let label = block.tag().to_owned();
    Ok((label, block.into_contents()))
}

fn pem_cause(err: &pem::PemError) -> String {
    // The pem crate's messages name the structure, never the key bytes.
    match err {
        pem::PemError::MismatchedTags(..) => "BEGIN and END labels differ".into(),
        pem::PemError::MalformedFraming => "malformed BEGIN/END lines".into(),
        pem::PemError::MissingBeginTag | pem::PemError::MissingEndTag => {
            "missing BEGIN or END line".into()
        }
        pem::PemError::MissingData => "no key data".into(),
        pem::PemError::InvalidData(_) => "the body is not valid base64".into(),
        pem::PemError::InvalidHeader(_) => "invalid PEM header line".into(),
        pem::PemError::NotUtf8(_) => "not UTF-8 text".into(),
    }
}
