//! Recognition of one request (User-Agent, client hints, fixes) beside raw
//! woothee parsing the same User-Agent in the same run; and an obtain's
//! registration with the `connect_interlocutor` step beside the same
//! registration without it, on SQLite and (with `DATABASE_URL`) PostgreSQL.
//!
//! `cargo bench -p jwt-device --bench recognition`, then
//! `python3 tools/criterion-ratios.py woothee` and
//! `python3 tools/criterion-ratios.py without_device` for the ratios in
//! docs/performance.md.

use std::hint::black_box;
use std::time::Duration;

use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use jwt_core::{RequestInfo, TokenService, TokenSettings};
use jwt_device::{ConnectInterlocutor, recognize};
use jwt_registry::pipeline::{ConnectingUser, RegisterPairs};
use jwt_registry::{Context, Pair, Registry, RegistrySettings, Revocation, TokenRecord};

/// A request: its name, User-Agent and other headers.
type Request = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const REQUESTS: &[Request] = &[
    (
        "chrome_windows_hints",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        &[
            (
                "Sec-CH-UA",
                r#""Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99""#,
            ),
            ("Sec-CH-UA-Mobile", "?0"),
            ("Sec-CH-UA-Platform", r#""Windows""#),
            ("Sec-CH-UA-Platform-Version", r#""15.0.0""#),
            ("Accept", "application/json"),
            ("Content-Type", "application/json"),
        ],
    ),
    (
        "safari_iphone",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
        &[
            ("Accept", "application/json"),
            ("Content-Type", "application/json"),
        ],
    ),
    (
        "facebook_android",
        "Mozilla/5.0 (Linux; Android 13; SM-G991B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/447.0.0.37.106;]",
        &[("Accept", "application/json")],
    ),
    ("okhttp", "okhttp/4.12.0", &[("Accept-Encoding", "gzip")]),
];

fn recognition(c: &mut Criterion) {
    for (name, user_agent, headers) in REQUESTS {
        let mut request =
            RequestInfo::new(Some([203, 0, 113, 7].into())).with_header("User-Agent", *user_agent);
        for (header, value) in *headers {
            request.push_header(header, *value);
        }
        let mut group = c.benchmark_group(format!("recognize/{name}"));
        group.bench_function("ours", |b| b.iter(|| recognize(black_box(&request))));
        group.bench_function("woothee", |b| {
            b.iter(|| {
                woothee::parser::Parser::new()
                    .parse(black_box(user_agent))
                    .map(|parsed| parsed.name)
            })
        });
        group.finish();
    }
}

fn open(url: &str, pipeline: &[&str]) -> Registry {
    let settings = RegistrySettings {
        database_url: url.to_owned(),
        revocation: Revocation::Strict,
        pipeline: pipeline.iter().map(|name| (*name).to_owned()).collect(),
        ..RegistrySettings::default()
    };
    Registry::builder(settings)
        .migrations(jwt_device::MIGRATIONS)
        .step(ConnectInterlocutor::default())
        .open()
        .expect("open the registry")
        .0
}

fn registration(c: &mut Criterion) {
    let settings = TokenSettings {
        signing_key: "device-bench-key-0123456789abcdef0123456789".into(),
        ..TokenSettings::default()
    };
    let tokens = Arc::new(
        TokenService::builder(&settings)
            .build()
            .expect("token service"),
    );
    let (_, user_agent, headers) = REQUESTS[0];
    let mut request =
        RequestInfo::new(Some([203, 0, 113, 7].into())).with_header("User-Agent", user_agent);
    for (header, value) in headers {
        request.push_header(header, *value);
    }
    for db in jwt_registry::testing::databases("device_bench") {
        let with = open(
            &db.url,
            &[
                RegisterPairs::NAME,
                ConnectingUser::NAME,
                ConnectInterlocutor::NAME,
            ],
        );
        let without = open(&db.url, &[RegisterPairs::NAME, ConnectingUser::NAME]);
        let context = || {
            let refresh = tokens.refresh_for_user(2).expect("mint");
            let access = tokens.access_from(&refresh).expect("derive");
            let record = |token| TokenRecord::new(token, &tokens.encode(token).expect("encode"));
            let pairs = vec![
                Pair {
                    token: record(&refresh),
                    parent: None,
                },
                Pair {
                    token: record(&access),
                    parent: Some(record(&refresh)),
                },
            ];
            Context::new(pairs, with.now())
                .with_user("2")
                .with_request(request.clone())
        };
        let mut group = c.benchmark_group(format!("register_device/{}", db.name));
        group
            .sample_size(30)
            .measurement_time(Duration::from_secs(4));
        for (name, registry) in [("with_device", &with), ("without_device", &without)] {
            group.bench_function(name, |b| {
                b.iter_batched(
                    context,
                    |context| registry.register(context).expect("register"),
                    BatchSize::SmallInput,
                )
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = recognition, registration
}
criterion_main!(benches);
