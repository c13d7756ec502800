//! Minting (signing) and verifying a token with jwt-core, each beside raw
//! jsonwebtoken encoding / decoding the same token in the same run.
//!
//! `cargo bench -p jwt-core --bench tokens`, then
//! `python3 tools/criterion-ratios.py` for the ratios in docs/performance.md.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use jwt_core::{Algorithm, TokenService, TokenSettings};
use serde_json::{Map, Value};

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys/");
const SECRET: &str = "peer-secret-key-0123456789abcdef0123456789abcdef";

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{KEYS}{name}")).expect("fixture key")
}

struct Case {
    algorithm: Algorithm,
    raw_algorithm: jsonwebtoken::Algorithm,
    settings: TokenSettings,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

fn case(algorithm: Algorithm) -> Case {
    let (private, public) = match algorithm {
        Algorithm::RS256 => ("rsa-private.pem", "rsa-public.pem"),
        Algorithm::ES256 => ("ec256-private.pem", "ec256-public.pem"),
        Algorithm::EdDSA => ("ed25519-private.pem", "ed25519-public.pem"),
        _ => {
            return Case {
                algorithm,
                raw_algorithm: jsonwebtoken::Algorithm::HS256,
                settings: TokenSettings {
                    signing_key: SECRET.into(),
                    ..TokenSettings::default()
                },
                encoding: EncodingKey::from_secret(SECRET.as_bytes()).expect("secret"),
                decoding: DecodingKey::from_secret(SECRET.as_bytes()).expect("secret"),
            };
        }
    };
    let (private, public) = (read(private), read(public));
    let (encoding, decoding, raw_algorithm) = match algorithm {
        Algorithm::RS256 => (
            EncodingKey::from_rsa_pem(private.as_bytes()),
            DecodingKey::from_rsa_pem(public.as_bytes()),
            jsonwebtoken::Algorithm::RS256,
        ),
        Algorithm::ES256 => (
            EncodingKey::from_ec_pem(private.as_bytes()),
            DecodingKey::from_ec_pem(public.as_bytes()),
            jsonwebtoken::Algorithm::ES256,
        ),
        _ => (
            EncodingKey::from_ed_pem(private.as_bytes()),
            DecodingKey::from_ed_pem(public.as_bytes()),
            jsonwebtoken::Algorithm::EdDSA,
        ),
    };
    Case {
        algorithm,
        raw_algorithm,
        settings: TokenSettings {
            algorithm,
            signing_key: private.into(),
            verifying_key: public,
            ..TokenSettings::default()
        },
        encoding: encoding.expect("fixture private key"),
        decoding: decoding.expect("fixture public key"),
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
