//! Settings load from TOML and `JWT__TOKENS__*`, and bad ones stop start-up
//! with one line naming the setting.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{PEER_KEY, key_path};
use jwt_core::{Algorithm, SettingsError, SettingsLoader, TokenService, TokenSettings};

/// Loads `[tokens]` from TOML text and the given variables, then builds the service.
fn build(toml: &str, env: &[(&str, &str)]) -> Result<(TokenSettings, TokenService), SettingsError> {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    file.write_all(toml.as_bytes()).unwrap();
    let config = SettingsLoader::new()
        .file(file.path())
        .list_keys(TokenSettings::LIST_KEYS)
        .env_vars(env.iter().copied())
        .load()?;
    let settings = TokenSettings::from_config(&config)?;
    let service = TokenService::new(&settings)?;
    Ok((settings, service))
}

fn error(toml: &str, env: &[(&str, &str)]) -> SettingsError {
    match build(toml, env) {
        Ok((settings, _)) => panic!("accepted: {settings:?}"),
        Err(err) => err,
    }
}

#[test]
fn defaults_are_simplejwt_s() {
    let settings = TokenSettings::default();
    assert_eq!(settings.algorithm, Algorithm::HS256);
    assert_eq!(settings.access_token_lifetime, Duration::from_secs(300));
    assert_eq!(settings.refresh_token_lifetime, Duration::from_secs(86_400));
    assert_eq!(settings.leeway, Duration::ZERO);
    assert_eq!(
        (
            settings.user_id_claim.as_str(),
            settings.token_type_claim.as_str(),
            settings.jti_claim.as_str()
        ),
        ("user_id", "token_type", "jti")
    );
    assert_eq!(settings.auth_token_types, ["access"]);
    assert_eq!(settings.token_types, ["access", "refresh"]);
}

#[test]
fn a_toml_file_sets_the_tokens_section() {
    let toml = format!(
        r#"
        [tokens]
        algorithm = "HS512"
        signing_key = "{}"
        access_token_lifetime = "10m"
        refresh_token_lifetime = 604800
        leeway = "5s"
        audience = "mobile"
        auth_token_types = ["access", "refresh"]
        [other_section_of_another_crate]
        anything = 1
        "#,
        "k".repeat(64)
    );
    let (settings, tokens) = build(&toml, &[]).unwrap();
    assert_eq!(settings.algorithm, Algorithm::HS512);
    assert_eq!(settings.access_token_lifetime, Duration::from_secs(600));
    assert_eq!(
        settings.refresh_token_lifetime,
        Duration::from_secs(604_800)
    );
    assert_eq!(settings.leeway, Duration::from_secs(5));
    assert_eq!(tokens.auth_token_types().len(), 2);
    assert_eq!(tokens.access_type().lifetime(), Duration::from_secs(600));
}

#[test]
fn environment_variables_win_and_are_parsed_per_setting() {
    let toml = format!("[tokens]\nsigning_key = \"{PEER_KEY}\"\naccess_token_lifetime = 60\n");
    let secret = "0012345678901234567890123456789012345";
    let (settings, _) = build(
        &toml,
        &[
            ("JWT__TOKENS__ACCESS_TOKEN_LIFETIME", "2h"),
            ("JWT__TOKENS__REFRESH_TOKEN_LIFETIME", "172800"),
            ("JWT__TOKENS__SIGNING_KEY", secret),
            ("JWT__TOKENS__AUTH_TOKEN_TYPES", "access, refresh"),
            ("JWT__TOKENS__ISSUER", "true"),
            ("OTHER_VARIABLE", "ignored"),
        ],
    )
    .unwrap();
    assert_eq!(settings.access_token_lifetime, Duration::from_secs(7_200));
    assert_eq!(
        settings.refresh_token_lifetime,
        Duration::from_secs(172_800)
    );
    assert_eq!(
        settings.signing_key.expose(),
        secret,
        "a numeric-looking secret stays text"
    );
    assert_eq!(settings.auth_token_types, ["access", "refresh"]);
    assert_eq!(
        settings.issuer, "true",
        "a non-list string is not type-guessed"
    );
}

#[test]
fn keys_can_come_from_files() {
    let toml = format!(
        "[tokens]\nalgorithm = \"ES256\"\nsigning_key_file = \"{}\"\nverifying_key_file = \"{}\"\n",
        key_path("ec256-private.pem"),
        key_path("ec256-public.pem")
    );
    let (_, tokens) = build(&toml, &[]).unwrap();
    let wire = tokens.encode(&tokens.refresh_for_user(1).unwrap()).unwrap();
    assert!(tokens.verify(&wire, tokens.refresh_type()).is_ok());

    // A text secret file loses one trailing newline: `echo $SECRET > file` works.
    let mut secret_file = tempfile::NamedTempFile::new().unwrap();
    writeln!(secret_file, "{PEER_KEY}").unwrap();
    let toml = format!(
        "[tokens]\nsigning_key_file = \"{}\"\n",
        secret_file.path().display()
    );
    let (_, from_file) = build(&toml, &[]).unwrap();
    let from_text = TokenService::new(&common::settings_for(Algorithm::HS256)).unwrap();
    let wire = from_text
        .encode(&from_text.refresh_for_user(1).unwrap())
        .unwrap();
    // Same key: the file's token would verify here and the other way round.
    assert!(from_file.verify(&wire, from_file.refresh_type()).is_ok());
}

type BadCase<'a> = (String, Vec<(&'a str, &'a str)>, &'a str, &'a str);

#[test]
fn bad_settings_give_one_line_naming_the_setting() {
    let rsa_private = common::fixture("keys/rsa-private.pem");
    let rsa2_public = common::fixture("keys/rsa2-public.pem");
    let ec_private = common::fixture("keys/ec256-private.pem");
    let long = PEER_KEY;
    // (TOML, environment, the setting named, a fragment of the message)
    let cases: Vec<BadCase<'_>> = vec![
        ("[tokens]\nalgorithm = \"HS999\"\n".into(), vec![], "tokens.algorithm", "unknown algorithm"),
        ("[tokens]\nalgorithm = \"none\"\n".into(), vec![], "tokens.algorithm", "unknown algorithm"),
        (String::new(), vec![], "tokens.signing_key", "required"),
        ("[tokens]\nsigning_key = \"\"\n".into(), vec![], "tokens.signing_key", "required"),
        ("[tokens]\nsigning_key = \"too-short-key\"\n".into(), vec![], "tokens.signing_key", "at least 32 bytes"),
        (
            format!("[tokens]\nalgorithm = \"HS512\"\nsigning_key = \"{long}\"\n"),
            vec![],
            "tokens.signing_key",
            "at least 64 bytes long (got 48)",
        ),
        (
            "[tokens]\nalgorithm = \"RS256\"\nsigning_key = \"-----BEGIN PRIVATE KEY-----\\nnot base64!\\n-----END PRIVATE KEY-----\"\n".into(),
            vec![],
            "tokens.signing_key",
            "not valid base64",
        ),
        (
            "[tokens]\nalgorithm = \"RS256\"\nsigning_key = \"plain text\"\n".into(),
            vec![],
            "tokens.signing_key",
            "must be PEM",
        ),
        (
            format!("[tokens]\nalgorithm = \"RS256\"\nsigning_key = '''{ec_private}'''\n"),
            vec![],
            "tokens.signing_key",
            "not a usable RS256 private key",
        ),
        (
            format!("[tokens]\nalgorithm = \"RS256\"\nsigning_key = '''{rsa_private}'''\nverifying_key = '''{rsa2_public}'''\n"),
            vec![],
            "tokens.verifying_key",
            "is not the public key",
        ),
        (
            format!("[tokens]\nsigning_key = '''{rsa_private}'''\n"),
            vec![],
            "tokens.signing_key",
            "not a PEM key",
        ),
        (
            format!("[tokens]\nsigning_key = \"{long}\"\nverifying_key = \"x\"\n"),
            vec![],
            "tokens.verifying_key",
            "leave this empty",
        ),
        (
            format!("[tokens]\nsigning_key = \"{long}\"\nsigning_key_file = \"/etc/hostname\"\n"),
            vec![],
            "tokens.signing_key",
            "not both",
        ),
        (
            "[tokens]\nsigning_key_file = \"/nonexistent/jwt.key\"\n".into(),
            vec![],
            "tokens.signing_key_file",
            "cannot read /nonexistent/jwt.key",
        ),
        (
            format!("[tokens]\nsigning_key = \"{long}\"\naccess_token_lifetime = -5\n"),
            vec![],
            "tokens.access_token_lifetime",
            "negative",
        ),
        (
            format!("[tokens]\nsigning_key = \"{long}\"\n"),
            vec![("JWT__TOKENS__REFRESH_TOKEN_LIFETIME", "-1d")],
            "tokens.refresh_token_lifetime",
            "negative",
        ),
        (
            format!("[tokens]\nsigning_key = \"{long}\"\n"),
            vec![("JWT__TOKENS__LEEWAY", "soon")],
            "tokens.leeway",
            "not a duration",
        ),
        (
            format!("[tokens]\nsigning_key = \"{long}\"\naccess_token_lifetime = 0\n"),
            vec![],
            "tokens.access_token_lifetime",
            "greater than zero",
        ),
        (
            format!("[tokens]\nsigning_key = \"{long}\"\nsigning_kee = \"typo\"\n"),
            vec![],
            "tokens",
            "unknown field `signing_kee`",
        ),
        (
            format!("[tokens]\nsigning_key = \"{long}\"\n"),
            vec![("JWT__TOKENS__BOGUS", "1")],
            "tokens",
            "unknown field `bogus`",
        ),
        (
            format!("[tokens]\nsigning_key = \"{long}\"\nauth_token_types = [\"sliding\"]\n"),
            vec![],
            "tokens.auth_token_types",
            "unknown token type \"sliding\"",
        ),
        (
            format!("[tokens]\nsigning_key = \"{long}\"\njti_claim = \"user_id\"\n"),
            vec![],
            "tokens.jti_claim",
            "already used",
        ),
        (
            format!("[tokens]\nsigning_key = \"{long}\"\n[[tokens.verifying_keys]]\nkid = \"old\"\n"),
            vec![],
            "tokens.verifying_keys[0].key",
            "required",
        ),
        ("[tokens\nsigning_key = 1\n".into(), vec![], ".toml", "TOML parse error"),
        ("[tokens]\nsigning_key = 12345\n".into(), vec![], "tokens.signing_key", "at least 32 bytes long (got 5)"),
    ];
    for (toml, env, setting, fragment) in cases {
        let err = error(&toml, &env);
        let line = err.to_string();
        assert!(!line.contains('\n'), "more than one line: {line}");
        assert!(line.starts_with("invalid setting "), "{line}");
        assert!(
            err.setting().contains(setting),
            "{toml:?}: expected setting {setting}, got {line}"
        );
        assert!(
            line.contains(fragment),
            "{toml:?}: expected {fragment:?} in {line}"
        );
        for secret in [long, "too-short-key", "12345"] {
            assert!(!err.message().contains(secret), "secret in {line}");
        }
        assert!(!line.contains("PRIVATE KEY-----\\n"), "{line}");
    }
}

#[test]
fn a_missing_config_file_is_an_error_and_an_optional_one_is_not() {
    let err = SettingsLoader::new()
        .file("/nonexistent/jwt.toml")
        .load()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("/nonexistent/jwt.toml does not exist"),
        "{err}"
    );
    let config = SettingsLoader::new()
        .optional_file("/nonexistent/jwt.toml")
        .env_vars([("JWT__TOKENS__LEEWAY", "3")])
        .load()
        .unwrap();
    assert_eq!(
        TokenSettings::from_config(&config).unwrap().leeway,
        Duration::from_secs(3)
    );
}

#[test]
fn settings_debug_hides_secrets() {
    let settings = TokenSettings {
        signing_key: PEER_KEY.into(),
        verifying_keys: vec![jwt_core::VerifyingKeySettings {
            kid: "old".into(),
            key: "an-older-secret-0123456789abcdef0123".into(),
            ..Default::default()
        }],
        ..TokenSettings::default()
    };
    let shown = format!("{settings:?}");
    assert!(
        !shown.contains(PEER_KEY) && !shown.contains("an-older-secret"),
        "{shown}"
    );
    let loader = SettingsLoader::new().env_vars([("JWT__TOKENS__SIGNING_KEY", PEER_KEY)]);
    assert!(!format!("{loader:?}").contains(PEER_KEY));
}
