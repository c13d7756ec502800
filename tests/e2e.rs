//! End to end: the real `jwt-server` binary, a temp SQLite file (and
//! PostgreSQL when `DATABASE_URL` is set), real HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use diesel::RunQueryDsl;
use jwt_registry::db::{Database, DatabaseUrl};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_jwt-server");

/// `jwt-server` in `dir`, with no `JWT__*` variable from outside but `env`.
fn command(dir: &Path, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BIN);
    command.current_dir(dir).env("RUST_LOG", "warn");
    for (name, _) in std::env::vars() {
        if name.starts_with("JWT__") {
            command.env_remove(name);
        }
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

fn run(dir: &Path, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let mut child = command(dir, env)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(dir: &Path, env: &[(&str, &str)]) -> Server {
        Server::spawn(dir, env, Stdio::inherit())
    }

    /// A server whose stderr [`Server::stop_reading_stderr`] returns.
    fn start_capturing_stderr(dir: &Path, env: &[(&str, &str)]) -> Server {
        Server::spawn(dir, env, Stdio::piped())
    }

    fn spawn(dir: &Path, env: &[(&str, &str)], stderr: Stdio) -> Server {
        let mut child = command(dir, env)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = first
            .trim()
            .strip_prefix("listening on http://127.0.0.1:")
            .unwrap_or_else(|| panic!("first line: {first:?}"))
            .parse()
            .unwrap();
        Server { child, port }
    }

    /// SIGTERM, then what the server wrote on stderr.
    fn stop_reading_stderr(mut self) -> String {
        Command::new("kill")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            pipe.read_to_string(&mut stderr).unwrap();
        }
        let _ = self.child.wait();
        stderr
    }

    /// SIGTERM, and the exit status of the graceful stop.
    fn stop(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

struct Answer {
    status: u16,
    head: String,
    body: Value,
}

/// One HTTP/1.1 request on a fresh connection.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let chunked = headers
        .iter()
        .any(|(name, value)| *name == "Transfer-Encoding" && *value == "chunked");
    if !chunked {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    if chunked {
        for piece in body.chunks(4096) {
            // The server may answer 413 and close before all is sent.
            if stream
                .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                .is_err()
                || stream.write_all(piece).is_err()
                || stream.write_all(b"\r\n").is_err()
            {
                break;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n");
    } else {
        stream.write_all(body).unwrap();
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        head: head.to_owned(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// `GET /api/v1/me/` with a bearer token.
fn me(port: u16, access: &str) -> Answer {
    http(
        port,
        "GET",
        "/api/v1/me/",
        &[("Authorization", &format!("Bearer {access}"))],
        b"",
    )
}

/// Whether the servers run on PostgreSQL, where a change made elsewhere is
/// seen within the notification delay rather than at the next request.
fn on_postgres_env(env: &[(&str, &str)]) -> bool {
    env.iter()
        .any(|(name, url)| *name == "JWT__REGISTRY__DATABASE_URL" && url.starts_with("postgres"))
}

/// `me` until it is refused with `code`: at once on SQLite, within a
/// second on PostgreSQL.
fn me_refused(port: u16, access: &str, code: &str, env: &[(&str, &str)]) {
    let started = std::time::Instant::now();
    loop {
        let answer = me(port, access);
        if answer.status == 401 && answer.body["code"] == code {
            return;
        }
        assert!(
            on_postgres_env(env) && started.elapsed() < Duration::from_secs(1),
            "still not refused with {code} after {:?}: {} {:?}",
            started.elapsed(),
            answer.status,
            answer.body
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A login's access token.
fn access_token(port: u16, username: &str, password: &str) -> String {
    let login = post_json(
        port,
        "/api/v1/auth/token/obtain/",
        json!({"username": username, "password": password}),
    );
    assert_eq!(login.status, 200, "{username}: {:?}", login.body);
    login.body["access"].as_str().unwrap().to_owned()
}

fn post_json(port: u16, path: &str, body: Value) -> Answer {
    http(
        port,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
}

/// The README's walk: create a user, obtain, me, refresh, verify.
fn walk(dir: &Path, env: &[(&str, &str)]) {
    let created = run(
        dir,
        env,
        &["user", "create", "alice", "--password-stdin"],
        "wonderland-42\n",
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&created.stdout),
        "created user alice with id 1\n"
    );
    let again = run(
        dir,
        env,
        &["user", "create", "alice", "--password", "other"],
        "",
    );
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("already exists"), "{stderr}");
    let inactive = run(
        dir,
        env,
        &[
            "user",
            "create",
            "bob",
            "--password",
            "builder-7",
            "--inactive",
        ],
        "",
    );
    assert!(inactive.status.success());

    let server = Server::start(dir, env);
    let port = server.port;
    let health = http(port, "GET", "/healthz", &[], b"");
    assert_eq!(
        (health.status, health.body.clone()),
        (200, json!({"status": "ok"}))
    );

    // One trailing newline was stripped from the password on stdin. The
    // device registry is on: a browser from 127.0.0.1 forging its address.
    let pair = http(
        port,
        "POST",
        "/api/v1/auth/token/obtain/",
        &[
            ("Content-Type", "application/json"),
            ("User-Agent", BROWSER),
            ("X-Forwarded-For", "198.51.100.66"),
        ],
        json!({"username": "alice", "password": "wonderland-42"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(pair.status, 200, "{:?}", pair.body);
    let access = pair.body["access"].as_str().unwrap().to_owned();
    let refresh = pair.body["refresh"].as_str().unwrap().to_owned();
    let bob = post_json(
        port,
        "/api/v1/auth/token/obtain",
        json!({"username": "bob", "password": "builder-7"}),
    );
    assert_eq!(bob.status, 401, "inactive user");

    let answer = me(port, &access);
    assert_eq!(
        (answer.status, answer.body),
        (200, json!({"id": 1, "username": "alice"}))
    );
    let anonymous = http(port, "GET", "/api/v1/me", &[], b"");
    assert_eq!(anonymous.status, 401);
    assert!(
        anonymous
            .head
            .contains("www-authenticate: Bearer realm=\"api\""),
        "{}",
        anonymous.head
    );

    let refreshed = post_json(
        port,
        "/api/v1/auth/token/refresh/",
        json!({ "refresh": refresh }),
    );
    assert_eq!(refreshed.status, 200);
    let new_access = refreshed.body["access"].as_str().unwrap();
    let verified = post_json(
        port,
        "/api/v1/auth/token/verify/",
        json!({ "token": new_access }),
    );
    assert_eq!((verified.status, verified.body), (200, json!({})));

    // Form bodies and a chunked body past the limit, over real HTTP.
    let form = http(
        port,
        "POST",
        "/api/v1/auth/token/verify",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("token={access}").as_bytes(),
    );
    assert_eq!(form.status, 200);
    let big = vec![b' '; 200_000];
    let too_large = http(
        port,
        "POST",
        "/api/v1/auth/token/obtain/",
        &[
            ("Content-Type", "application/json"),
            ("Transfer-Encoding", "chunked"),
        ],
        &big,
    );
    assert_eq!(
        (too_large.status, too_large.body),
        (413, json!({"detail": "Request body is too large."}))
    );

    // Force-expired from the command line while the server runs: the next
    // request sees it (on SQLite at once; on PostgreSQL within its delay).
    let carol = run(
        dir,
        env,
        &["user", "create", "carol", "--password", "carol-pw-1"],
        "",
    );
    assert!(carol.status.success());
    let carol_access = access_token(port, "carol", "carol-pw-1");
    let answer = me(port, &carol_access);
    assert_eq!(answer.status, 200);
    let expired = run(dir, env, &["expire", "--user", "carol"], "");
    assert!(
        expired.status.success(),
        "{}",
        String::from_utf8_lossy(&expired.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&expired.stdout),
        "expired 2 tokens\n"
    );
    me_refused(port, &carol_access, "token_expired", env);
    let unknown = run(dir, env, &["expire", "--jti", "nope"], "");
    assert_eq!(unknown.status.code(), Some(1));
    let archived = run(dir, env, &["archive", "--older-than", "1d"], "");
    assert!(
        archived.status.success(),
        "{}",
        String::from_utf8_lossy(&archived.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&archived.stdout),
        "archived 0 tokens\n"
    );

    // expire/ over HTTP, then the token is refused.
    let expire = post_json(
        port,
        "/api/v1/auth/token/expire/",
        json!({ "token": access }),
    );
    assert_eq!((expire.status, expire.body), (200, json!({})));
    let answer = me(port, &access);
    assert_eq!(answer.body["code"], json!("token_expired"));

    // Her sessions, from the command line and over HTTP: a login from a
    // phone shows with its browser, OS, device and address.
    let fresh = http(
        port,
        "POST",
        "/api/v1/auth/token/obtain/",
        &[("Content-Type", "application/json"), ("User-Agent", IPHONE)],
        json!({"username": "alice", "password": "wonderland-42"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(fresh.status, 200);
    let access = fresh.body["access"].as_str().unwrap().to_owned();
    let listed = run(dir, env, &["sessions", "alice"], "");
    let table = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(table.starts_with("SESSION"), "{table}");
    let phone = table.lines().find(|line| line.contains("Safari 17.4.1"));
    assert!(
        phone.is_some_and(|line| line.contains("iOS 17.4.1")
            && line.contains("Apple iPhone")
            && line.contains("127.0.0.1")),
        "{table}"
    );
    let nobody = run(dir, env, &["sessions", "nobody"], "");
    assert_eq!(nobody.status.code(), Some(1));
    let sessions = http(
        port,
        "GET",
        "/api/v1/auth/token/sessions/",
        &[("Authorization", &format!("Bearer {access}"))],
        b"",
    );
    assert_eq!(sessions.status, 200);
    let newest = &sessions.body[0];
    assert_eq!(
        (&newest["app"], &newest["device"], &newest["current"]),
        (
            &json!("Safari 17.4.1"),
            &json!("Apple iPhone"),
            &json!(true)
        ),
        "{:?}",
        sessions.body
    );

    // A new password refuses every token issued before it.
    let changed = run(
        dir,
        env,
        &["user", "set-password", "alice", "--password-stdin"],
        "looking-glass-7\n",
    );
    assert!(
        changed.status.success(),
        "{}",
        String::from_utf8_lossy(&changed.stderr)
    );
    me_refused(port, &access, "password_changed", env);
    let old = post_json(
        port,
        "/api/v1/auth/token/obtain/",
        json!({"username": "alice", "password": "wonderland-42"}),
    );
    assert_eq!(old.status, 401, "the old password is gone");

    // Deactivated while the server runs: the token stops working.
    let fresh = post_json(
        port,
        "/api/v1/auth/token/obtain/",
        json!({"username": "alice", "password": "looking-glass-7"}),
    );
    assert_eq!(
        fresh.status, 200,
        "the new password, right after the change: {:?}",
        fresh.body
    );
    assert_eq!(me(port, fresh.body["access"].as_str().unwrap()).status, 200);
    let access = fresh.body["access"].as_str().unwrap().to_owned();
    let deactivated = run(dir, env, &["user", "deactivate", "alice"], "");
    assert!(deactivated.status.success());
    me_refused(port, &access, "user_inactive", env);

    let status = server.stop();
    assert!(status.success(), "graceful stop: {status:?}");

    // What the device registry stored of alice's first login.
    let url = env
        .iter()
        .find(|(name, _)| *name == "JWT__REGISTRY__DATABASE_URL")
        .map_or_else(
            || dir.join("jwt.sqlite3").to_string_lossy().into_owned(),
            |(_, url)| (*url).to_owned(),
        );
    let db = Database::connect(&DatabaseUrl::parse(&url).unwrap()).unwrap();
    let mut conn = db.get().unwrap();
    let browsers: Vec<Row> = diesel::sql_query(
        "SELECT n.ip AS t FROM jwt_interlocutor i JOIN jwt_interlocutor_network n ON n.interlocutor_id = i.id \
         JOIN jwt_app a ON a.id = i.app_id WHERE a.family = 'Firefox'",
    )
    .load(&mut *conn)
    .unwrap();
    assert_eq!(
        browsers
            .iter()
            .map(|row| row.t.as_str())
            .collect::<Vec<_>>(),
        ["127.0.0.1"],
        "the peer's address; X-Forwarded-For from an untrusted peer ignored"
    );
}

/// The `name=value` of each `Set-Cookie` line of a response head.
fn set_cookies(head: &str) -> Vec<(String, String)> {
    head.lines()
        .filter_map(|line| line.strip_prefix("set-cookie: "))
        .filter_map(|line| line.split(';').next()?.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fn cookie_value<'a>(cookies: &'a [(String, String)], name: &str) -> &'a str {
    cookies
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"))
}

/// Logs in over the cookie transport: the `Cookie` header a browser sends
/// back (all three cookies) and the CSRF value.
fn cookie_login(port: u16, user: &str, password: &str) -> (String, String) {
    let answer = post_json(
        port,
        "/api/v1/auth/token/obtain/",
        json!({"username": user, "password": password}),
    );
    assert_eq!(
        (answer.status, &answer.body),
        (200, &json!({})),
        "{}",
        answer.head
    );
    let cookies = set_cookies(&answer.head);
    let header = cookies
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ");
    (header, cookie_value(&cookies, "csrftoken").to_owned())
}

/// The cookie transport and the admin API on the real server.
fn cookies_and_admin(dir: &Path, env: &[(&str, &str)]) {
    for args in [
        &["user", "create", "alice", "--password", "wonderland-42"][..],
        &[
            "user",
            "create",
            "root",
            "--password",
            "admin-pass-1",
            "--admin",
        ][..],
    ] {
        let created = run(dir, env, args, "");
        assert!(
            created.status.success(),
            "{}",
            String::from_utf8_lossy(&created.stderr)
        );
    }
    let missing = run(dir, env, &["user", "set-admin", "nobody"], "");
    assert_eq!(missing.status.code(), Some(1));

    let mut env = env.to_vec();
    env.push(("JWT__AUTH__TRANSPORT", "cookie"));
    let server = Server::start(dir, &env);
    let port = server.port;
    let (alice, alice_csrf) = cookie_login(port, "alice", "wonderland-42");
    let me = http(port, "GET", "/api/v1/me/", &[("Cookie", &alice)], b"");
    assert_eq!(
        (me.status, me.body),
        (200, json!({"id": 1, "username": "alice"}))
    );

    let refresh = "/api/v1/auth/token/refresh/";
    let json_type = ("Content-Type", "application/json");
    let forged = http(
        port,
        "POST",
        refresh,
        &[("Cookie", &alice), json_type],
        b"{}",
    );
    assert_eq!(
        (forged.status, forged.body),
        (403, json!({"detail": "CSRF Failed: CSRF token missing."}))
    );
    let refreshed = http(
        port,
        "POST",
        refresh,
        &[("Cookie", &alice), ("X-CSRF-Token", &alice_csrf), json_type],
        b"{}",
    );
    assert_eq!((refreshed.status, refreshed.body), (200, json!({})));
    let new_access = cookie_value(&set_cookies(&refreshed.head), "access_token").to_owned();

    // The admin API: open to root, closed to alice.
    let (root, root_csrf) = cookie_login(port, "root", "admin-pass-1");
    let tokens = "/api/v1/auth/token/admin/users/1/tokens/";
    let refused = http(port, "GET", tokens, &[("Cookie", &alice)], b"");
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    let listed = http(port, "GET", tokens, &[("Cookie", &root)], b"");
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(
        listed.body["count"], 3,
        "a login and a refresh: {:?}",
        listed.body
    );
    let expire = "/api/v1/auth/token/admin/users/1/expire/";
    let forged = http(port, "POST", expire, &[("Cookie", &root)], b"");
    assert_eq!(
        forged.status, 403,
        "an unsafe admin request needs the CSRF header"
    );
    let expired = http(
        port,
        "POST",
        expire,
        &[("Cookie", &root), ("X-CSRF-Token", &root_csrf)],
        b"",
    );
    assert_eq!((expired.status, expired.body), (200, json!({"expired": 3})));
    let me = http(
        port,
        "GET",
        "/api/v1/me/",
        &[("Cookie", &format!("access_token={new_access}"))],
        b"",
    );
    assert_eq!(me.body["code"], "token_expired");
    assert!(server.stop().success());
}

#[test]
fn cookies_and_the_admin_api_work_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    cookies_and_admin(dir.path(), &[]);
}

/// Runs `scenario` in a temp dir against a fresh PostgreSQL database (and
/// a signing key: PostgreSQL gets none made), when `DATABASE_URL` is set;
/// returns the dir, or `None` when it was skipped.
fn on_postgres(
    test: &str,
    scenario: impl FnOnce(&Path, &[(&str, &str)]),
) -> Option<tempfile::TempDir> {
    let databases = jwt_registry::testing::databases(test);
    let postgres = databases.iter().find(|db| db.name == "postgres")?;
    let dir = tempfile::tempdir().unwrap();
    scenario(
        dir.path(),
        &[
            ("JWT__REGISTRY__DATABASE_URL", &postgres.url),
            (
                "JWT__TOKENS__SIGNING_KEY",
                "e2e-signing-key-0123456789abcdef0123456789",
            ),
        ],
    );
    Some(dir)
}

#[test]
fn cookies_and_the_admin_api_work_on_postgres() {
    on_postgres("e2e_cookies", cookies_and_admin);
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Text)]
    t: String,
}

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1";

#[test]
fn the_readme_walk_works_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    walk(dir.path(), &[]);
    assert!(
        dir.path().join("jwt.sqlite3").exists(),
        "the default database, in the working directory"
    );
    let key = std::fs::metadata(dir.path().join("jwt-signing.key")).unwrap();
    assert_eq!(key.len(), 64, "a signing key was made beside it");
}

#[test]
fn the_readme_walk_works_on_postgres() {
    if let Some(dir) = on_postgres("e2e_walk", walk) {
        assert!(
            !dir.path().join("jwt-signing.key").exists(),
            "no key file for PostgreSQL"
        );
    }
}

#[test]
fn postgres_without_a_signing_key_is_a_settings_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[("JWT__REGISTRY__DATABASE_URL", "postgres://127.0.0.1:1/none")],
        &["serve"],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("tokens.signing_key"), "{stderr}");
}

type BadStart<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], &'a str);

#[test]
fn a_bad_setting_exits_2_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[tokens]\naccess_token_lifetime = -5\n",
    )
    .unwrap();
    // (environment, arguments, the setting the line names)
    let cases: [BadStart<'_>; 7] = [
        (
            &[("JWT__TOKENS__LEEWAY", "soon")],
            &["serve"],
            "tokens.leeway",
        ),
        (
            &[("JWT__TOKENS__ALGORITHM", "HS999")],
            &["serve"],
            "tokens.algorithm",
        ),
        (
            &[("JWT__AUTH__MAX_BODY_BYTES", "lots")],
            &["serve"],
            "auth.max_body_bytes",
        ),
        (
            &[],
            &["--config", "bad.toml", "serve"],
            "tokens.access_token_lifetime",
        ),
        (&[], &["serve", "--config", "missing.toml"], "missing.toml"),
        (
            &[("JWT__DEVICE__TRUSTED_PROXIES", "10.0.0.0/8,10.0.0.0/33")],
            &["serve"],
            "device.trusted_proxies[1]",
        ),
        (
            &[("JWT__DEVICE__TRUSTED", "10.0.0.0/8")],
            &["migrate"],
            "device",
        ),
    ];
    for (env, args, setting) in cases {
        let out = run(dir.path(), env, args, "");
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("jwt-server: invalid setting ") && stderr.contains(setting),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
    for args in [
        &["user", "create"][..],
        &["frobnicate"],
        &["serve", "--bind", "not an address"],
    ] {
        let usage = run(dir.path(), &[], args, "");
        assert_eq!(usage.status.code(), Some(2), "bad usage: {args:?}");
        let stderr = String::from_utf8_lossy(&usage.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("jwt-server: "), "{stderr}");
    }
    let help = run(dir.path(), &[], &["--help"], "");
    assert!(help.status.success() && String::from_utf8_lossy(&help.stdout).contains("serve"));
    assert!(
        !dir.path().join("jwt.sqlite3").exists(),
        "nothing created on a bad start"
    );
}

/// A logged-out token stays refused past its `exp` while the leeway would
/// still accept it, on the real binary: 2-second access tokens, a 30-second
/// leeway, a write after `exp`.
fn leeway_logout(dir: &Path, env: &[(&str, &str)]) {
    let mut env = env.to_vec();
    env.extend([
        ("JWT__TOKENS__LEEWAY", "30"),
        ("JWT__TOKENS__ACCESS_TOKEN_LIFETIME", "2"),
    ]);
    for name in ["alice", "carol"] {
        let created = run(
            dir,
            &env,
            &["user", "create", name, "--password", "pw-0123456"],
            "",
        );
        assert!(created.status.success());
    }
    let server = Server::start(dir, &env);
    let port = server.port;
    let login = |name: &str| {
        post_json(
            port,
            "/api/v1/auth/token/obtain/",
            json!({"username": name, "password": "pw-0123456"}),
        )
    };
    let access = login("alice").body["access"].as_str().unwrap().to_owned();
    let out = http(
        port,
        "POST",
        "/api/v1/auth/token/logout/",
        &[("Authorization", &format!("Bearer {access}"))],
        b"",
    );
    assert_eq!(out.status, 204);
    std::thread::sleep(Duration::from_millis(2_600));
    assert_eq!(login("carol").status, 200, "a write after exp");
    let answer = me(port, &access);
    assert_eq!(
        (answer.status, answer.body["code"].clone()),
        (401, json!("token_expired")),
        "inside the leeway, still logged out"
    );
}

#[test]
fn a_logged_out_token_stays_refused_inside_the_leeway_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    leeway_logout(dir.path(), &[]);
}

#[test]
fn a_logged_out_token_stays_refused_inside_the_leeway_on_postgres() {
    on_postgres("e2e_leeway", leeway_logout);
}

/// The database and the key the server creates are its owner's alone; a
/// key file others can read is named at start-up with the fix.
#[test]
fn the_files_the_server_creates_are_private_and_an_open_key_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name))
            .unwrap_or_else(|err| panic!("{name}: {err}"))
            .permissions()
            .mode()
            & 0o777
    };
    let server = Server::start(dir.path(), &[]);
    let health = http(server.port, "GET", "/healthz", &[], b"");
    assert_eq!(health.status, 200);
    for name in [
        "jwt.sqlite3",
        "jwt.sqlite3-wal",
        "jwt.sqlite3-shm",
        "jwt-signing.key",
    ] {
        assert_eq!(mode(name), 0o600, "{name}");
    }
    assert!(server.stop().success());

    let key = dir.path().join("jwt-signing.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let stderr = Server::start_capturing_stderr(dir.path(), &[]).stop_reading_stderr();
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("jwt-signing.key"))
        .collect();
    assert_eq!(warnings.len(), 1, "one line: {stderr}");
    assert!(
        warnings[0].contains("chmod 600") && warnings[0].contains("0644"),
        "{}",
        warnings[0]
    );
    assert_eq!(mode("jwt-signing.key"), 0o644, "warned, never changed");
}

/// Two servers on one PostgreSQL: a token logged out through one is refused
/// by the other within a second, from the notification's payload (the
/// other never loads its list whole again).
fn two_instances(dir: &Path, env: &[(&str, &str)]) {
    let created = run(
        dir,
        env,
        &["user", "create", "alice", "--password", "pw-0123456"],
        "",
    );
    assert!(created.status.success());
    let one = Server::start(dir, env);
    let mut watching = env.to_vec();
    watching.push(("RUST_LOG", "warn,jwt_registry::revocation=debug"));
    let other = Server::start_capturing_stderr(dir, &watching);

    let access = access_token(one.port, "alice", "pw-0123456");
    assert_eq!(me(other.port, &access).status, 200, "the other accepts it");

    let out = http(
        one.port,
        "POST",
        "/api/v1/auth/token/logout/",
        &[("Authorization", &format!("Bearer {access}"))],
        b"",
    );
    assert_eq!(out.status, 204);
    me_refused(other.port, &access, "token_expired", env);

    // A user deactivated from the command line: both servers had the user
    // cached, both refuse it within a second.
    let access = access_token(one.port, "alice", "pw-0123456");
    for port in [one.port, other.port] {
        assert_eq!(me(port, &access).status, 200);
    }
    let deactivated = run(dir, env, &["user", "deactivate", "alice"], "");
    assert!(deactivated.status.success());
    for port in [one.port, other.port] {
        me_refused(port, &access, "user_inactive", env);
    }

    drop(one);
    let log = other.stop_reading_stderr();
    assert_eq!(
        log.matches("revocation list loaded whole").count(),
        1,
        "loaded once at start-up, then only the payloads applied: {log}"
    );
}

#[test]
fn a_logout_through_one_instance_is_refused_by_another_within_a_second() {
    on_postgres("e2e_two_instances", two_instances);
}
