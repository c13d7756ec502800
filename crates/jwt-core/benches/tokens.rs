//! Minting (signing) and verifying a token with jwt-core, each beside raw
//! jsonwebtoken encoding / decoding the same token in the same run.
//!
//! `cargo bench -p jwt-core --bench tokens`, then
//! `python3 tools/criterion-ratios.py` for the ratios in docs/performance.md.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use jwt_core::{Algorithm, AlgorithmFamily, TokenService, TokenSettings};
use serde_json::{Map, Value};

#[path = "../tests/common/mod.rs"]
mod common;

struct Case {
    algorithm: Algorithm,
    raw_algorithm: jsonwebtoken::Algorithm,
    settings: TokenSettings,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// The tests' settings for `algorithm`, and the same keys for jsonwebtoken.
fn case(algorithm: Algorithm) -> Case {
    let settings = common::settings_for(algorithm);
    let raw_algorithm: jsonwebtoken::Algorithm = algorithm
        .as_str()
        .parse()
        .expect("jsonwebtoken knows the name");
    let private = settings.signing_key.expose().as_bytes();
    let public = settings.verifying_key.as_bytes();
    let (encoding, decoding) = match algorithm.family() {
        AlgorithmFamily::Hmac => (
            EncodingKey::from_secret(private),
            DecodingKey::from_secret(private),
        ),
        AlgorithmFamily::Rsa => (
            EncodingKey::from_rsa_pem(private),
            DecodingKey::from_rsa_pem(public),
        ),
        AlgorithmFamily::Ec => (
            EncodingKey::from_ec_pem(private),
            DecodingKey::from_ec_pem(public),
        ),
        _ => (
            EncodingKey::from_ed_pem(private),
            DecodingKey::from_ed_pem(public),
        ),
    };
    Case {
        algorithm,
        raw_algorithm,
        encoding: encoding.expect("fixture signing key"),
        decoding: decoding.expect("fixture verifying key"),
        settings,
    }
}

fn bench(c: &mut Criterion) {
    for algorithm in [
        Algorithm::HS256,
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ] {
        let case = case(algorithm);
        let tokens = TokenService::new(&case.settings).expect("bench settings");
        let refresh = tokens.refresh_for_user(42).expect("mint");
        let access = tokens.access_from(&refresh).expect("derive");
        let wire = tokens.encode(&access).expect("encode");
        let claims: Map<String, Value> = access.claims().as_map().clone();
        let header = Header::new(case.raw_algorithm);
        let validation = Validation::new(case.raw_algorithm);
        // Both sides produce and accept the same token.
        let raw_wire = jsonwebtoken::encode(&header, &claims, &case.encoding).expect("raw encode");
        assert!(tokens.verify(&raw_wire, tokens.access_type()).is_ok());
        assert!(
            jsonwebtoken::decode::<Map<String, Value>>(&wire, &case.decoding, &validation).is_ok()
        );

        let mut mint = c.benchmark_group(format!("{}/mint", case.algorithm));
        mint.bench_function("jwt-core", |b| {
            b.iter(|| tokens.encode(black_box(&access)).expect("encode"))
        });
        mint.bench_function("jsonwebtoken", |b| {
            b.iter(|| {
                jsonwebtoken::encode(&header, black_box(&claims), &case.encoding).expect("encode")
            })
        });
        mint.finish();

        let mut verify = c.benchmark_group(format!("{}/verify", case.algorithm));
        verify.bench_function("jwt-core", |b| {
            b.iter(|| {
                tokens
                    .verify(black_box(&wire), tokens.access_type())
                    .expect("verify")
            })
        });
        verify.bench_function("jsonwebtoken", |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Map<String, Value>>(
                    black_box(&wire),
                    &case.decoding,
                    &validation,
                )
                .expect("decode")
            })
        });
        verify.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(40)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
