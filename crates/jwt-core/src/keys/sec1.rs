//! SEC1 EC private keys (`BEGIN EC PRIVATE KEY`, what `openssl ecparam
//! -genkey` writes) wrapped as PKCS#8, the one form jsonwebtoken reads.

use crate::Algorithm;

/// `id-ecPublicKey` (1.2.840.10045.2.1) as a DER OBJECT IDENTIFIER.
const EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// `prime256v1` (1.2.840.10045.3.1.7).
const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// `secp384r1` (1.3.132.0.34).
const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

/// The PKCS#8 `PrivateKeyInfo` holding `sec1` for `algorithm`'s curve
/// (RFC 5915 §3, RFC 5208 §5). The contents are not checked here: the crypto
/// library parses them, and refuses a key of another curve.
pub(super) fn to_pkcs8(algorithm: Algorithm, sec1: &[u8]) -> Vec<u8> {
    let curve = match algorithm {
        Algorithm::ES384 => P384,
        _ => P256,
    };
    let algorithm_id = element(0x30, &[EC_PUBLIC_KEY, curve].concat());
    let version = [0x02, 0x01, 0x00];
    element(
        0x30,
        &[&version[..], &algorithm_id, &element(0x04, sec1)].concat(),
    )
}

/// One DER element: tag, definite length, contents.
fn element(tag: u8, contents: &[u8]) -> Vec<u8> {
    let length = contents.len();
    let mut out = Vec::with_capacity(contents.len() + 6);
    out.push(tag);
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes = length.to_be_bytes();
        let skip = bytes.iter().take_while(|byte| **byte == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(contents);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_definite_and_minimal() {
        assert_eq!(element(0x04, &[1, 2]), [0x04, 2, 1, 2]);
        let long = element(0x04, &[0; 200]);
        assert_eq!(&long[..3], [0x04, 0x81, 200]);
        let longer = element(0x04, &[0; 300]);
        assert_eq!(&longer[..4], [0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(longer.len(), 304);
    }

    #[test]
    fn the_wrapper_names_the_algorithm_s_curve() {
        let wrapped = to_pkcs8(Algorithm::ES384, &[0x30, 0x00]);
        assert!(wrapped.windows(P384.len()).any(|w| w == P384));
        assert!(wrapped.ends_with(&[0x04, 0x02, 0x30, 0x00]));
        let wrapped = to_pkcs8(Algorithm::ES256, &[0x30, 0x00]);
        assert!(wrapped.windows(P256.len()).any(|w| w == P256));
    }
}
