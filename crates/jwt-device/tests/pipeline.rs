//! The `connect_interlocutor` step in the registration transaction, on
//! SQLite and (with `DATABASE_URL`) PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use diesel::RunQueryDsl;
use jwt_core::{ManualClock, RequestInfo, Token, TokenService, TokenSettings};
use jwt_device::{
    Cidr, ConnectInterlocutor, ForgetUnusedInterlocutors, ForwardedHeader, MAX_USER_AGENT,
    TrustedProxies,
};
use jwt_registry::testing::{TestDatabase, databases, statements_of};
use jwt_registry::{Context, Pair, Registry, RegistrySettings, Revocation, TokenRecord};

const NOW: i64 = 1_793_491_200;
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1";

struct Setup {
    registry: Registry,
    tokens: TokenService,
    clock: ManualClock,
}

fn setup(db: &TestDatabase, trusted: &[&str]) -> Setup {
    setup_with(db, trusted, ForwardedHeader::XForwardedFor)
}

fn setup_with(db: &TestDatabase, trusted: &[&str], header: ForwardedHeader) -> Setup {
    let clock = ManualClock::at(NOW);
    let settings = RegistrySettings {
        database_url: db.url.clone(),
        revocation: Revocation::Strict,
        pipeline: ["register_pairs", "connecting_user", "connect_interlocutor"]
            .map(String::from)
            .to_vec(),
        ..RegistrySettings::default()
    };
    let trusted: Vec<Cidr> = trusted.iter().map(|cidr| cidr.parse().unwrap()).collect();
    let (registry, _) = Registry::builder(settings)
        .clock(Arc::new(clock.clone()))
        .migrations(jwt_device::MIGRATIONS)
        .step(ConnectInterlocutor::new(TrustedProxies::new(
            trusted, header,
        )))
        .cleanup(ForgetUnusedInterlocutors)
        .open()
        .unwrap();
    let token_settings = TokenSettings {
        signing_key: "device-tests-key-0123456789abcdef0123456789".into(),
        ..TokenSettings::default()
    };
    let tokens = TokenService::builder(&token_settings)
        .clock(clock.clone())
        .build()
        .unwrap();
    Setup {
        registry,
        tokens,
        clock,
    }
}

fn browser(peer: &str, user_agent: &str) -> RequestInfo {
    RequestInfo::new(Some(peer.parse().unwrap()))
        .with_header("User-Agent", user_agent)
        .with_header("Accept", "application/json")
}

impl Setup {
    fn record(&self, token: &Token) -> TokenRecord {
        TokenRecord::new(token, &self.tokens.encode(token).unwrap())
    }

    /// An obtain: (refresh, access) registered for `user` on `request`.
    fn obtain(&self, user: i64, request: Option<RequestInfo>) -> (Token, Context) {
        let (context, refresh) = self.obtain_context(user, request);
        (refresh, self.registry.register(context).unwrap())
    }

    fn obtain_context(&self, user: i64, request: Option<RequestInfo>) -> (Context, Token) {
        let refresh = self.tokens.refresh_for_user(user).unwrap();
        let access = self.tokens.access_from(&refresh).unwrap();
        let pairs = vec![
            Pair {
                token: self.record(&refresh),
                parent: None,
            },
            Pair {
                token: self.record(&access),
                parent: Some(self.record(&refresh)),
            },
        ];
        let mut context = Context::new(pairs, self.registry.now()).with_user(user.to_string());
        context.request = request;
        (context, refresh)
    }

    /// A refresh with rotation on `request`: (access, new refresh) and
    /// (new refresh, refresh).
    fn refresh(&self, refresh: &Token, request: RequestInfo) -> Token {
        let access = self.tokens.access_from(refresh).unwrap();
        let rotated = self.tokens.rotate(refresh).unwrap();
        let pairs = vec![
            Pair {
                token: self.record(&access),
                parent: Some(self.record(&rotated)),
            },
            Pair {
                token: self.record(&rotated),
                parent: Some(self.record(refresh)),
            },
        ];
        self.registry
            .register(Context::new(pairs, self.registry.now()).with_request(request))
            .unwrap();
        rotated
    }

    fn count(&self, what: &str) -> i64 {
        jwt_registry::testing::count(&self.registry, what)
    }

    fn texts(&self, sql: &str) -> Vec<Option<String>> {
        #[derive(diesel::QueryableByName)]
        struct Text {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            t: Option<String>,
        }
        let mut conn = self.registry.database().get().unwrap();
        diesel::sql_query(sql)
            .load::<Text>(&mut *conn)
            .unwrap()
            .into_iter()
            .map(|row| row.t)
            .collect()
    }

    /// The IPs stored for the tokens of `jti`'s registration.
    fn ip_of(&self, jti: &str) -> Option<String> {
        self.texts(&format!(
            "SELECT n.ip AS t FROM jwt_token t \
             JOIN jwt_token_interlocutor_connection c ON c.token_id = t.id \
             LEFT JOIN jwt_interlocutor_network n ON n.id = c.network_id WHERE t.jti = '{jti}'"
        ))
        .into_iter()
        .next()
        .flatten()
    }
}

#[test]
fn an_obtain_connects_both_tokens_to_one_interlocutor_and_its_network() {
    for db in databases("device_obtain") {
        let s = setup(&db, &[]);
        let (_, context) = s.obtain(1, Some(browser("203.0.113.7", CHROME)));
        let name = db.name;
        assert_eq!(s.count("jwt_token_interlocutor_connection"), 2, "{name}");
        assert_eq!(s.count("jwt_interlocutor"), 1, "{name}");
        assert_eq!(
            s.texts("SELECT user_agent AS t FROM jwt_interlocutor"),
            [Some(CHROME.to_owned())],
            "{name}"
        );
        assert_eq!(
            s.texts("SELECT ip AS t FROM jwt_interlocutor_network"),
            [Some("203.0.113.7".to_owned())],
            "{name}"
        );
        assert_eq!(
            s.texts(
                "SELECT a.family || ' ' || a.version || ' / ' || o.family || ' ' || o.version || ' / ' || d.family AS t \
                 FROM jwt_interlocutor i JOIN jwt_app a ON a.id = i.app_id JOIN jwt_os o ON o.id = i.os_id \
                 JOIN jwt_device d ON d.id = i.device_id"
            ),
            [Some("Chrome 124.0.0.0 / Windows 10 / Desktop".to_owned())],
            "{name}: the recognised rows are linked"
        );
        assert_eq!(
            s.count("jwt_token_interlocutor_connection c JOIN jwt_interlocutor_network n ON n.id = c.network_id"),
            2,
            "{name}: both connections name the network"
        );
        assert_eq!(context.connections, 2, "{name}: the user connections too");
        let hints: Vec<Option<String>> =
            s.texts("SELECT CAST(client_hints AS TEXT) AS t FROM jwt_interlocutor");
        assert_eq!(
            hints,
            [Some("{}".to_owned())],
            "{name}: no hints, an empty JSON object"
        );
    }
}

#[test]
fn the_same_device_is_stored_once_and_refreshes_are_connected_too() {
    for db in databases("device_again") {
        let s = setup(&db, &[]);
        let name = db.name;
        let (refresh, _) = s.obtain(1, Some(browser("203.0.113.7", CHROME)));
        s.obtain(1, Some(browser("203.0.113.7", CHROME)));
        assert_eq!(
            (
                s.count("jwt_interlocutor"),
                s.count("jwt_interlocutor_network")
            ),
            (1, 1),
            "{name}: reused"
        );
        assert_eq!(s.count("jwt_token_interlocutor_connection"), 4, "{name}");
        assert_eq!(
            (s.count("jwt_app"), s.count("jwt_os"), s.count("jwt_device")),
            (1, 1, 1),
            "{name}: shared rows once"
        );

        s.obtain(2, Some(browser("203.0.113.7", CHROME)));
        assert_eq!(
            s.count("jwt_interlocutor"),
            1,
            "{name}: another user on the same browser shares the row"
        );

        s.obtain(1, Some(browser("198.51.100.20", CHROME)));
        assert_eq!(
            (
                s.count("jwt_interlocutor"),
                s.count("jwt_interlocutor_network")
            ),
            (1, 2),
            "{name}: the same browser on a new network"
        );

        s.obtain(1, Some(browser("203.0.113.7", IPHONE)));
        assert_eq!(s.count("jwt_interlocutor"), 2, "{name}: a new device");
        assert_eq!(s.count("jwt_app"), 2, "{name}: Chrome and Safari");

        let before = s.count("jwt_token_interlocutor_connection");
        let rotated = s.refresh(&refresh, browser("203.0.113.7", CHROME));
        assert_eq!(
            s.count("jwt_token_interlocutor_connection"),
            before + 2,
            "{name}: the refresh's new tokens"
        );
        assert_eq!(
            s.count("jwt_interlocutor"),
            2,
            "{name}: on the known device"
        );
        assert_eq!(
            s.ip_of(rotated.jti()),
            Some("203.0.113.7".to_owned()),
            "{name}"
        );

        // Registering a token again (a retried signal) adds no connection.
        let again = s.refresh(&rotated, browser("203.0.113.7", IPHONE));
        let pairs = vec![Pair {
            token: s.record(&again),
            parent: None,
        }];
        let connections = s.count("jwt_token_interlocutor_connection");
        s.registry
            .register(
                Context::new(pairs, s.registry.now()).with_request(browser("192.0.2.1", CHROME)),
            )
            .unwrap();
        assert_eq!(
            s.count("jwt_token_interlocutor_connection"),
            connections,
            "{name}: one connection per token"
        );
        assert_eq!(
            s.ip_of(again.jti()),
            Some("203.0.113.7".to_owned()),
            "{name}: the first connection stays"
        );
        assert_eq!(
            s.count("jwt_interlocutor_network WHERE ip = '192.0.2.1'"),
            0,
            "{name}: and no address is stored for it"
        );
    }
}

#[test]
fn forwarding_headers_count_only_from_trusted_proxies() {
    for db in databases("device_proxies") {
        let name = db.name;
        let s = setup(&db, &["10.0.0.0/8"]);
        let spoofed = browser("203.0.113.9", CHROME).with_header("X-Forwarded-For", "1.2.3.4");
        let (refresh, _) = s.obtain(1, Some(spoofed));
        assert_eq!(
            s.ip_of(refresh.jti()),
            Some("203.0.113.9".to_owned()),
            "{name}: untrusted peer, header ignored"
        );

        let proxied =
            browser("10.0.0.2", CHROME).with_header("X-Forwarded-For", "6.6.6.6, 198.51.100.4");
        let (refresh, _) = s.obtain(1, Some(proxied));
        assert_eq!(
            s.ip_of(refresh.jti()),
            Some("198.51.100.4".to_owned()),
            "{name}: trusted proxy, header used"
        );

        let forwarded =
            browser("10.0.0.2", CHROME).with_header("Forwarded", r#"for="[2001:db8::7]:4711""#);
        let (refresh, _) = s.obtain(1, Some(forwarded.clone()));
        assert_eq!(
            s.ip_of(refresh.jti()),
            Some("10.0.0.2".to_owned()),
            "{name}: a header the proxies do not write is the client's: ignored"
        );
        let rfc = setup_with(&db, &["10.0.0.0/8"], ForwardedHeader::Forwarded);
        let (refresh, _) = rfc.obtain(1, Some(forwarded));
        assert_eq!(
            rfc.ip_of(refresh.jti()),
            Some("2001:db8::7".to_owned()),
            "{name}: RFC 7239 when configured, canonical text"
        );

        let mapped = browser("::ffff:203.0.113.50", CHROME);
        let (refresh, _) = s.obtain(1, Some(mapped));
        assert_eq!(
            s.ip_of(refresh.jti()),
            Some("203.0.113.50".to_owned()),
            "{name}: IPv4-mapped stored as IPv4"
        );
    }
}

#[test]
fn requests_that_say_little_or_too_much_are_still_connected() {
    for db in databases("device_odd") {
        let name = db.name;
        let s = setup(&db, &[]);
        let (refresh, _) = s.obtain(1, None);
        assert_eq!(
            s.count("jwt_token_interlocutor_connection"),
            2,
            "{name}: no request, still connected"
        );
        assert_eq!(
            s.ip_of(refresh.jti()),
            None,
            "{name}: no address, no network"
        );
        assert_eq!(
            s.count(
                "jwt_interlocutor WHERE app_id IS NULL AND os_id IS NULL AND device_id IS NULL"
            ),
            1,
            "{name}"
        );

        let long = format!("{CHROME} {}", "x".repeat(5000));
        s.obtain(1, Some(browser("203.0.113.7", &long)));
        let stored = s
            .texts("SELECT user_agent AS t FROM jwt_interlocutor WHERE app_id IS NOT NULL")
            .remove(0)
            .unwrap();
        assert_eq!(stored.len(), MAX_USER_AGENT, "{name}: 1 KiB kept");
        assert!(long.starts_with(&stored), "{name}");

        let hostile = browser("203.0.113.7", "'); DROP TABLE jwt_token; --\u{0}\u{7f}é")
            .with_header("Sec-CH-UA", r#""'; DELETE FROM jwt_app; --";v="1""#)
            .with_header("Sec-CH-UA-Model", "\"\u{0}\"");
        s.obtain(1, Some(hostile));
        assert_eq!(
            s.count("jwt_token"),
            6,
            "{name}: stored as data, and the login did not fail"
        );
        assert_eq!(
            s.count("jwt_interlocutor WHERE user_agent LIKE '%DROP TABLE jwt_token%\u{fffd}%'"),
            1,
            "{name}: NUL (which PostgreSQL cannot store) replaced, the rest kept"
        );
        assert_eq!(
            s.texts("SELECT family AS t FROM jwt_app WHERE family LIKE '%DELETE%'"),
            [Some("; DELETE FROM jwt_app; --".to_owned())],
            "{name}: stored as data (its quote dropped, as a shown name)"
        );
    }
}

#[test]
fn the_device_step_keeps_registration_within_six_statements() {
    for db in databases("device_statements") {
        let name = db.name;
        let s = setup(&db, &["10.0.0.0/8"]);
        let request = browser("10.0.0.2", CHROME)
            .with_header("X-Forwarded-For", "198.51.100.4")
            .with_header(
                "Sec-CH-UA",
                r#""Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99""#,
            )
            .with_header("Sec-CH-UA-Platform", r#""Windows""#);
        let (context, _) = s.obtain_context(1, Some(request.clone()));
        let seen = statements_of(&s.registry, context).unwrap();
        let device = seen
            .iter()
            .filter(|sql| sql.contains("jwt_interlocutor_intake"))
            .count();
        let expected = if name == "postgres" { 1 } else { 2 };
        assert_eq!(
            device, expected,
            "{name}: one statement, or one per token on SQLite: {seen:#?}"
        );
        let total = if name == "postgres" { 4 } else { 5 };
        assert_eq!(
            seen.len(),
            total,
            "{name}: the registry's 3 and the device step's, under the limit of 6: {seen:#?}"
        );
        assert_eq!(
            s.count("jwt_token_interlocutor_connection"),
            2,
            "{name}: and did the work"
        );
        // The same device again: nothing new but the connections.
        let (context, _) = s.obtain_context(1, Some(request));
        let again = statements_of(&s.registry, context).unwrap();
        assert!(again.len() <= 6, "{name}: {again:#?}");
        assert_eq!(s.count("jwt_token_interlocutor_connection"), 4, "{name}");
    }
}

#[test]
fn the_archiver_and_forget_user_leave_no_address_without_a_token() {
    for db in databases("device_archive") {
        let name = db.name;
        let s = setup(&db, &[]);
        s.obtain(1, Some(browser("203.0.113.7", CHROME)));
        s.obtain(2, Some(browser("198.51.100.20", IPHONE)));
        assert_eq!(
            (
                s.count("jwt_interlocutor"),
                s.count("jwt_interlocutor_network")
            ),
            (2, 2),
            "{name}"
        );

        s.registry.forget_user("2").unwrap();
        assert_eq!(
            s.texts("SELECT ip AS t FROM jwt_interlocutor_network"),
            [Some("203.0.113.7".to_owned())],
            "{name}"
        );
        assert_eq!(
            s.count("jwt_interlocutor"),
            1,
            "{name}: the iPhone went with its user's tokens"
        );

        // Keep one token of user 1 alive: a login after the clock moved on.
        s.clock.advance(Duration::from_secs(30 * 24 * 3600));
        s.obtain(1, Some(browser("192.0.2.44", CHROME)));
        let archived = s
            .registry
            .archive(Duration::from_secs(24 * 3600), 1000, |_| {})
            .unwrap();
        assert_eq!(archived, 2, "{name}: the first login's tokens");
        assert_eq!(
            s.texts("SELECT ip AS t FROM jwt_interlocutor_network"),
            [Some("192.0.2.44".to_owned())],
            "{name}: the old address went, the one in use stayed"
        );
        assert_eq!(
            s.count("jwt_interlocutor"),
            1,
            "{name}: the interlocutor in use stays"
        );
        assert_eq!(
            s.count("jwt_app"),
            2,
            "{name}: app, OS and device rows hold nothing personal and stay"
        );
    }
}

#[test]
fn hints_that_change_between_requests_do_not_make_a_new_device() {
    for db in databases("device_volatile") {
        let name = db.name;
        let s = setup(&db, &[]);
        let hinted = |width: &str, rtt: &str, dpr: &str| {
            browser("203.0.113.7", CHROME)
                .with_header(
                    "Sec-CH-UA",
                    r#""Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99""#,
                )
                .with_header("Sec-CH-UA-Platform", r#""Windows""#)
                .with_header("Device-Memory", "8")
                .with_header("Viewport-Width", width)
                .with_header("RTT", rtt)
                .with_header("DPR", dpr)
        };
        s.obtain(1, Some(hinted("1280", "50", "1")));
        s.obtain(1, Some(hinted("1024", "150", "1.25")));
        assert_eq!(
            (s.count("jwt_interlocutor"), s.count("jwt_device")),
            (1, 1),
            "{name}: window size, zoom and network quality are not the device"
        );
        assert_eq!(
            s.texts("SELECT CAST(viewport_width AS TEXT) AS t FROM jwt_device"),
            [Some("1280".to_owned())],
            "{name}: kept as first seen"
        );
        s.obtain(
            1,
            Some(hinted("1280", "50", "1").with_header("Sec-CH-UA-Model", r#""Surface""#)),
        );
        assert_eq!(
            s.count("jwt_interlocutor"),
            2,
            "{name}: another model is another device"
        );
    }
}

/// On PostgreSQL registrations and the archiver's cleanup run at once: a
/// login connecting to an interlocutor no token used any more keeps it.
#[test]
fn cleanup_leaves_what_a_registration_in_flight_connects_to() {
    use diesel::Connection;
    use jwt_registry::Cleanup;

    for db in databases("device_race") {
        if db.name != "postgres" {
            continue; // one writer at a time on SQLite: no race to test
        }
        let s = setup(&db, &[]);
        s.obtain(1, Some(browser("203.0.113.7", CHROME)));
        let mut conn = s.registry.database().get().unwrap();
        diesel::sql_query("DELETE FROM jwt_token")
            .execute(&mut *conn)
            .unwrap();
        assert_eq!(
            (
                s.count("jwt_interlocutor"),
                s.count("jwt_token_interlocutor_connection")
            ),
            (1, 0),
            "an interlocutor no token uses"
        );
        let (mut context, _) = s.obtain_context(1, Some(browser("203.0.113.7", CHROME)));
        let mut other = s.registry.database().get().unwrap();
        diesel::sql_query("SET lock_timeout = '5s'")
            .execute(&mut *other)
            .unwrap();
        conn.transaction::<_, jwt_registry::db::DbError, _>(|conn| {
            s.registry.pipeline().run_in(conn, &mut context)?;
            // The login has not committed; the cleanup runs meanwhile.
            other
                .transaction::<_, jwt_registry::db::DbError, _>(|other| {
                    ForgetUnusedInterlocutors.clean(other)
                })
                .expect("the cleanup skips what the login holds instead of waiting for it");
            Ok(())
        })
        .unwrap();
        assert_eq!(
            (
                s.count("jwt_interlocutor"),
                s.count("jwt_token_interlocutor_connection")
            ),
            (1, 2),
            "the login's connections and their interlocutor survived the cleanup"
        );
        ForgetUnusedInterlocutors.clean(&mut other).unwrap();
        assert_eq!(s.count("jwt_interlocutor_network"), 1, "in use: kept");
    }
}

/// `track_devices` is the whole wiring: with the registry's default
/// pipeline (which does not name the device step) a login is connected to
/// its device, and the sessions list shows it.
#[test]
fn one_call_wires_device_tracking_into_the_default_pipeline() {
    use jwt_device::TrackDevices;
    for db in databases("device_one_call") {
        let name = db.name;
        let clock = ManualClock::at(NOW);
        let settings = RegistrySettings {
            database_url: db.url.clone(),
            ..RegistrySettings::default()
        };
        assert!(
            !settings
                .pipeline
                .iter()
                .any(|step| step == ConnectInterlocutor::NAME),
            "the default pipeline leaves devices out"
        );
        let (registry, applied) = Registry::builder(settings)
            .clock(Arc::new(clock.clone()))
            .track_devices(TrustedProxies::default())
            .open()
            .unwrap();
        assert!(
            applied.iter().any(|version| version.starts_with("device/")),
            "{name}: the device tables were created: {applied:?}"
        );
        assert!(
            registry
                .pipeline()
                .names()
                .contains(&ConnectInterlocutor::NAME),
            "{name}: {:?}",
            registry.pipeline().names()
        );
        let s = Setup {
            registry,
            tokens: TokenService::builder(&TokenSettings {
                signing_key: "device-tests-key-0123456789abcdef0123456789".into(),
                ..TokenSettings::default()
            })
            .clock(clock.clone())
            .build()
            .unwrap(),
            clock,
        };
        s.obtain(1, Some(browser("203.0.113.7", CHROME)));
        assert_eq!(s.count("jwt_token_interlocutor_connection"), 2, "{name}");
        let sessions = s.registry.sessions("1", None).unwrap();
        assert_eq!(sessions.len(), 1, "{name}");
        assert_eq!(
            sessions[0].details.app.as_deref(),
            Some("Chrome 124.0.0.0"),
            "{name}"
        );
    }
}
