//! The registry's hot queries, each beside a baseline in the same run:
//! - `collect_tree` (one recursive statement) beside the Django package's
//!   loop (one query per level) on a 10 000-token login tree;
//! - registering an obtain (the pipeline: 3 statements) beside the
//!   Django package's way (a get-or-create per token and per connection).
//!
//! SQLite always; PostgreSQL too when `DATABASE_URL` is set.
//! `cargo bench -p jwt-registry --bench registry`, then
//! `python3 tools/criterion-ratios.py baseline`.

use std::collections::HashSet;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use diesel::prelude::*;
use jwt_core::{Token, TokenService, TokenSettings};
use jwt_registry::db::{DbConnection, write_transaction};
use jwt_registry::testing::rows;
use jwt_registry::testing::tables::{jwt_token, jwt_token_user_connection};
use jwt_registry::testing::{TestDatabase, databases};
use jwt_registry::types::{Moment, RowId};
use jwt_registry::{Context, Pair, Registry, RegistrySettings, Revocation, TokenRecord};

const DEPTH: usize = 100;
const WIDTH: usize = 99;

fn open(db: &TestDatabase) -> Registry {
    let settings = RegistrySettings {
        database_url: db.url.clone(),
        revocation: Revocation::Strict,
        ..RegistrySettings::default()
    };
    Registry::builder(settings).open().expect("registry").0
}

fn service() -> TokenService {
    TokenService::new(&TokenSettings {
        signing_key: "bench-key-0123456789abcdef0123456789abcdef".into(),
        ..TokenSettings::default()
    })
    .expect("settings")
}

fn record(tokens: &TokenService, token: &Token) -> TokenRecord {
    TokenRecord::new(token, &tokens.encode(token).expect("encode"))
}

/// A login kept alive by 100 rotations, 99 access tokens per refresh token:
/// 10 000 tokens, 100 levels. Returns the deepest access token's row.
fn build_tree(registry: &Registry, tokens: &TokenService) -> RowId {
    let mut pairs = Vec::with_capacity(DEPTH * (WIDTH + 1));
    let mut refresh = tokens.refresh_for_user(1).expect("mint");
    pairs.push(Pair {
        token: record(tokens, &refresh),
        parent: None,
    });
    let mut deepest = None;
    for level in 0..DEPTH {
        for _ in 0..WIDTH {
            let access = tokens.access_from(&refresh).expect("derive");
            pairs.push(Pair {
                token: record(tokens, &access),
                parent: Some(record(tokens, &refresh)),
            });
            deepest = Some(access);
        }
        if level + 1 < DEPTH {
            let next = tokens.rotate(&refresh).expect("rotate");
            pairs.push(Pair {
                token: record(tokens, &next),
                parent: Some(record(tokens, &refresh)),
            });
            refresh = next;
        }
    }
    let context = registry
        .register(Context::new(pairs, registry.now()).with_user("1"))
        .expect("register");
    assert_eq!(
        context.registration.expect("registered").tokens.len(),
        DEPTH * (WIDTH + 1)
    );
    let deepest = deepest.expect("a leaf");
    let mut conn = registry.database().get().expect("conn");
    rows::find_by_jti(&mut conn, deepest.jti())
        .expect("query")
        .expect("row")
        .id
}

/// The Django package's `collect_tree`: relatives of the set, level by level.
fn collect_tree_by_levels(conn: &mut DbConnection, seed: RowId) -> usize {
    let mut ids: HashSet<RowId> = HashSet::from([seed]);
    loop {
        let list: Vec<RowId> = ids.iter().copied().collect();
        let rows: Vec<(RowId, Option<RowId>)> = jwt_token::table
            .filter(
                jwt_token::parent_id
                    .eq_any(&list)
                    .or(jwt_token::id.eq_any(&list)),
            )
            .select((jwt_token::id, jwt_token::parent_id))
            .load(conn)
            .expect("relatives");
        let next: HashSet<RowId> = rows
            .into_iter()
            .flat_map(|(id, parent)| std::iter::once(id).chain(parent))
            .collect();
        if next.len() == ids.len() {
            return next.len();
        }
        ids = next;
    }
}

/// The Django package's registration: get-or-create each token, then
/// get-or-create each user connection (a read and a write apiece).
fn register_by_rows(conn: &mut DbConnection, pairs: &[Pair], user: &str, now: Moment) {
    write_transaction(conn, |conn| {
        let mut ids = Vec::new();
        for record in pairs
            .iter()
            .flat_map(|pair| std::iter::once(&pair.token).chain(pair.parent.as_ref()))
        {
            let found: Option<RowId> = jwt_token::table
                .filter(jwt_token::jti.eq(&record.jti))
                .select(jwt_token::id)
                .first(conn)
                .optional()?;
            let id = match found {
                Some(id) => id,
                None => {
                    let id = RowId::new();
                    diesel::insert_into(jwt_token::table)
                        .values((
                            jwt_token::id.eq(id),
                            jwt_token::jti.eq(&record.jti),
                            jwt_token::token_type.eq(&record.token_type),
                            jwt_token::token_digest.eq(&record.digest),
                            jwt_token::payload
                                .eq(jwt_registry::types::JsonDoc(record.payload.clone())),
                            jwt_token::parent_id.eq(None::<RowId>),
                            jwt_token::expired_at.eq(record.expires_at),
                            jwt_token::internal_expired_at.eq(record.expires_at),
                            jwt_token::created_at.eq(now),
                            jwt_token::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                    id
                }
            };
            ids.push(id);
        }
        for id in ids {
            let found: Option<RowId> = jwt_token_user_connection::table
                .filter(jwt_token_user_connection::user_id.eq(user))
                .filter(jwt_token_user_connection::token_id.eq(id))
                .select(jwt_token_user_connection::id)
                .first(conn)
                .optional()?;
            if found.is_none() {
                diesel::insert_into(jwt_token_user_connection::table)
                    .values((
                        jwt_token_user_connection::id.eq(RowId::new()),
                        jwt_token_user_connection::user_id.eq(user),
                        jwt_token_user_connection::token_id.eq(id),
                        jwt_token_user_connection::created_at.eq(now),
                        jwt_token_user_connection::updated_at.eq(now),
                    ))
                    .execute(conn)?;
            }
        }
        Ok::<_, diesel::result::Error>(())
    })
    .expect("baseline registration");
}

fn bench(c: &mut Criterion) {
    let tokens = service();
    for db in databases("bench") {
        let registry = open(&db);
        let seed = build_tree(&registry, &tokens);
        let mut group = c.benchmark_group(format!("collect_tree_10k/{}", db.name));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(5));
        group.bench_function("jwt-registry", |b| {
            let mut conn = registry.database().get().expect("conn");
            b.iter(|| {
                let tree = rows::collect_tree(&mut conn, &[black_box(seed)]).expect("tree");
                assert_eq!(tree.len(), DEPTH * (WIDTH + 1));
            })
        });
        group.bench_function("baseline", |b| {
            let mut conn = registry.database().get().expect("conn");
            b.iter(|| {
                assert_eq!(
                    collect_tree_by_levels(&mut conn, black_box(seed)),
                    DEPTH * (WIDTH + 1)
                )
            })
        });
        group.finish();

        let mut group = c.benchmark_group(format!("register_obtain/{}", db.name));
        group
            .sample_size(30)
            .measurement_time(Duration::from_secs(4));
        let pairs = || {
            let refresh = tokens.refresh_for_user(2).expect("mint");
            let access = tokens.access_from(&refresh).expect("derive");
            vec![
                Pair {
                    token: record(&tokens, &refresh),
                    parent: None,
                },
                Pair {
                    token: record(&tokens, &access),
                    parent: Some(record(&tokens, &refresh)),
                },
            ]
        };
        group.bench_function("jwt-registry", |b| {
            b.iter_batched(
                pairs,
                |pairs| {
                    registry
                        .register(Context::new(pairs, registry.now()).with_user("2"))
                        .expect("register")
                },
                criterion::BatchSize::SmallInput,
            )
        });
        group.bench_function("baseline", |b| {
            let mut conn = registry.database().get().expect("conn");
            b.iter_batched(
                pairs,
                |pairs| register_by_rows(&mut conn, &pairs, "2", registry.now()),
                criterion::BatchSize::SmallInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
