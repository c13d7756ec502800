//! Raw jsonwebtoken encode/decode per algorithm family, for whichever backend
//! feature is enabled. The keys are jwt-core's test fixtures.

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use std::hint::black_box;

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../crates/jwt-core/tests/fixtures/keys/");

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{KEYS}{name}")).expect("fixture key")
}

fn claims() -> serde_json::Value {
    serde_json::json!({
        "token_type": "access", "exp": 4_102_444_800u64, "iat": 1_700_000_000u64,
        "jti": "0123456789abcdef0123456789abcdef", "user_id": 1
    })
}

fn bench(c: &mut Criterion) {
    let backend = if cfg!(feature = "aws_lc_rs") { "aws_lc_rs" } else { "rust_crypto" };
    let secret = b"bench-secret-key-0123456789abcdef0123456789abcdef".to_vec();
    let cases: Vec<(Algorithm, EncodingKey, DecodingKey)> = vec![
        (Algorithm::HS256, EncodingKey::from_secret(&secret).unwrap(), DecodingKey::from_secret(&secret).unwrap()),
        (
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(&read("rsa-private.pem")).unwrap(),
            DecodingKey::from_rsa_pem(&read("rsa-public.pem")).unwrap(),
        ),
        (
            Algorithm::ES256,
            EncodingKey::from_ec_pem(&read("ec256-private.pem")).unwrap(),
            DecodingKey::from_ec_pem(&read("ec256-public.pem")).unwrap(),
        ),
        (
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(&read("ed25519-private.pem")).unwrap(),
            DecodingKey::from_ed_pem(&read("ed25519-public.pem")).unwrap(),
        ),
    ];
    let claims = claims();
    for (alg, ek, dk) in &cases {
        let header = Header::new(*alg);
        let token = encode(&header, &claims, ek).unwrap();
        let mut validation = Validation::new(*alg);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let mut group = c.benchmark_group(format!("{backend}/{alg:?}"));
        group.bench_function("encode", |b| b.iter(|| encode(black_box(&header), black_box(&claims), ek).unwrap()));
        group.bench_function("decode", |b| {
            b.iter(|| decode::<serde_json::Value>(black_box(&token), dk, &validation).unwrap())
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3)).warm_up_time(std::time::Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
