//! Tests of `settings`: the precedence rule per key, credentials (a
//! password or an API key, and where each came from), hosts, ports and
//! the config file.

use super::*;
use std::collections::HashMap;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

fn user_and_password(s: &Settings) -> (&str, &str) {
    match &s.credentials {
        Credentials::Password { username, password } => (username, password),
        other => panic!("expected a password, got {other:?}"),
    }
}

fn file(text: &str) -> LoadedFile {
    let path = PathBuf::from("/home/op/.config/iscli/config.toml");
    LoadedFile {
        config: parse_config(text, &path).expect("valid config"),
        path,
    }
}

#[test]
fn defaults_apply_when_nothing_is_given_except_password() {
    let flags = ConnectionFlags {
        password: Some("pw".into()),
        ..Default::default()
    };
    let s = resolve(&flags, &env_of(&[]), None).unwrap();
    assert_eq!(
        s,
        Settings {
            host: "127.0.0.1".into(),
            port: 8080,
            credentials: Credentials::password("isadmin", "pw"),
            transport: Transport::Plain,
            more_hosts: Vec::new(),
        }
    );
    assert_eq!(s.address(), "127.0.0.1:8080");
}

#[test]
fn several_hosts_are_tried_in_order_each_with_its_port_or_the_common_one() {
    let flags = ConnectionFlags {
        host: Some("n1, n2:9001,[::1]:9002,http://n4".into()),
        port: Some(9000),
        password: Some("pw".into()),
        ..Default::default()
    };
    let err = resolve(&flags, &env_of(&[]), None).unwrap_err();
    assert!(err.render().contains("same scheme"), "{}", err.render());

    let flags = ConnectionFlags {
        host: Some("n1, n2:9001,[::1]:9002,::2".into()),
        ..flags
    };
    let s = resolve(&flags, &env_of(&[]), None).unwrap();
    assert_eq!(
        s.addresses(),
        vec!["n1:9000", "n2:9001", "[::1]:9002", "[::2]:9000"]
    );
    // Named hosts mean TLS, as one host does.
    assert!(matches!(s.transport, Transport::Tls { .. }));
    // One host still takes its port from -P only.
    let flags = ConnectionFlags {
        host: Some("n1:9001".into()),
        ..flags
    };
    assert!(resolve(&flags, &env_of(&[]), None).is_err());
}

#[test]
fn flag_beats_env_beats_file_beats_default() {
    let f = file("host = \"file-host\"\nport = 7000\nusername = \"fileuser\"\npassword = \"filepw\"\n");
    let env = env_of(&[
        ("IS_HOST", "env-host"),
        ("IS_PORT", "7100"),
        ("IS_USER", "envuser"),
        ("IS_PASSWORD", "envpw"),
    ]);
    // Everything from flags.
    let flags = ConnectionFlags {
        host: Some("flag-host".into()),
        port: Some(7200),
        username: Some("flaguser".into()),
        password: Some("flagpw".into()),
        ..Default::default()
    };
    let s = resolve(&flags, &env, Some(&f)).unwrap();
    assert_eq!(
        (s.host.as_str(), s.port, user_and_password(&s)),
        ("flag-host", 7200, ("flaguser", "flagpw"))
    );
    // No flags: environment wins over the file.
    let s = resolve(&ConnectionFlags::default(), &env, Some(&f)).unwrap();
    assert_eq!(
        (s.host.as_str(), s.port, user_and_password(&s)),
        ("env-host", 7100, ("envuser", "envpw"))
    );
    // No flags, no env: the file.
    let s = resolve(&ConnectionFlags::default(), &env_of(&[]), Some(&f)).unwrap();
    assert_eq!(
        (s.host.as_str(), s.port, user_and_password(&s)),
        ("file-host", 7000, ("fileuser", "filepw"))
    );
}

#[test]
fn sources_mix_per_key_and_empty_env_counts_as_unset() {
    let f = file("port = \"9000\"\npassword = \"filepw\"\n");
    let env = env_of(&[("IS_HOST", ""), ("IS_USER", "envuser")]);
    let flags = ConnectionFlags {
        host: Some("10.0.0.5".into()),
        ..Default::default()
    };
    let s = resolve(&flags, &env, Some(&f)).unwrap();
    assert_eq!(s.host, "10.0.0.5");
    assert_eq!(s.port, 9000);
    assert_eq!(user_and_password(&s), ("envuser", "filepw"));
    let s = resolve(&ConnectionFlags::default(), &env, Some(&f)).unwrap();
    assert_eq!(s.host, "127.0.0.1");
}

#[test]
fn missing_password_is_a_usage_error_that_says_how_to_give_one() {
    let err = resolve(&ConnectionFlags::default(), &env_of(&[("IS_USER", "ops")]), None).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let text = err.render();
    assert!(text.contains("user 'ops'"), "{text}");
    assert!(text.contains("-p/--password"), "{text}");
    assert!(text.contains("IS_PASSWORD"), "{text}");
    assert!(text.contains("config.toml"), "{text}");
}

#[test]
fn bad_ports_are_reported_with_their_source() {
    let flags = ConnectionFlags {
        password: Some("pw".into()),
        ..Default::default()
    };
    let err = resolve(&flags, &env_of(&[("IS_PORT", "http")]), None).unwrap_err();
    assert!(err.render().contains("IS_PORT"));
    let err = resolve(&flags, &env_of(&[]), Some(&file("port = 70000\n"))).unwrap_err();
    assert!(err.render().contains("config.toml"));
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn hosts_are_normalized() {
    let flags = |h: &str| ConnectionFlags {
        host: Some(h.into()),
        password: Some("pw".into()),
        ..Default::default()
    };
    let env = env_of(&[]);
    assert_eq!(
        resolve(&flags("http://node1/"), &env, None).unwrap().host,
        "node1"
    );
    let v6 = resolve(&flags("[::1]"), &env, None).unwrap();
    assert_eq!(v6.host, "::1");
    assert_eq!(v6.address(), "[::1]:8080");
    assert_eq!(
        resolve(&flags("https://node1"), &env, None).unwrap().host,
        "node1"
    );
    assert!(resolve(&flags("node1/x"), &env, None).is_err());
    assert!(resolve(&flags("node1:8080"), &env, None).is_err());
}

#[test]
fn config_path_honours_xdg_then_home() {
    assert_eq!(
        config_path(Some("/xdg"), Some("/home/op")),
        Some(PathBuf::from("/xdg/iscli/config.toml"))
    );
    assert_eq!(
        config_path(Some("relative"), Some("/home/op")),
        Some(PathBuf::from("/home/op/.config/iscli/config.toml"))
    );
    assert_eq!(
        config_path(None, Some("/home/op")),
        Some(PathBuf::from("/home/op/.config/iscli/config.toml"))
    );
    assert_eq!(config_path(None, None), None);
}

#[test]
fn config_file_rejects_unknown_keys_and_accepts_user_alias() {
    let path = Path::new("/c.toml");
    assert!(parse_config("hots = \"x\"\n", path).is_err());
    let c = parse_config("user = \"ops\"\n", path).unwrap();
    assert_eq!(c.username.as_deref(), Some("ops"));
}

const KEY: &str = "isk_1a2b3c_s3cr3tpart";

fn key_flags(key: &str) -> ConnectionFlags {
    ConnectionFlags {
        api_key: Some(key.into()),
        ..Default::default()
    }
}

#[test]
fn an_api_key_needs_no_user_or_password_from_any_source() {
    let key = Credentials::ApiKey(KEY.into());
    let s = resolve(&key_flags(&format!("  {KEY}\n")), &env_of(&[]), None).unwrap();
    assert_eq!(s.credentials, key, "surrounding white space is dropped");
    let s = resolve(&ConnectionFlags::default(), &env_of(&[("IS_API_KEY", KEY)]), None).unwrap();
    assert_eq!(s.credentials, key);
    let f = file(&format!("api_key = \"{KEY}\"\n"));
    let s = resolve(&ConnectionFlags::default(), &env_of(&[]), Some(&f)).unwrap();
    assert_eq!(s.credentials, key);
}

#[test]
fn the_first_place_naming_credentials_chooses_between_key_and_password() {
    let f = file(&format!("api_key = \"{KEY}\"\n"));
    // -U/-p on the command line beat a key in the environment or the file.
    let flags = ConnectionFlags {
        username: Some("olga".into()),
        password: Some("pw".into()),
        ..Default::default()
    };
    let s = resolve(&flags, &env_of(&[("IS_API_KEY", KEY)]), Some(&f)).unwrap();
    assert_eq!(s.credentials, Credentials::password("olga", "pw"));
    // IS_USER/IS_PASSWORD beat the file's key.
    let env = env_of(&[("IS_PASSWORD", "envpw")]);
    let s = resolve(&ConnectionFlags::default(), &env, Some(&f)).unwrap();
    assert_eq!(s.credentials, Credentials::password("isadmin", "envpw"));
    // --api-key beats IS_USER/IS_PASSWORD.
    let env = env_of(&[("IS_USER", "olga"), ("IS_PASSWORD", "pw")]);
    let s = resolve(&key_flags(KEY), &env, None).unwrap();
    assert_eq!(s.credentials, Credentials::ApiKey(KEY.into()));
}

#[test]
fn a_key_and_a_password_in_one_place_is_a_usage_error() {
    let mut flags = key_flags(KEY);
    flags.password = Some("pw".into());
    let err = resolve(&flags, &env_of(&[]), None).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.render().contains("--api-key"), "{}", err.render());
    let env = env_of(&[("IS_API_KEY", KEY), ("IS_USER", "olga")]);
    let err = resolve(&ConnectionFlags::default(), &env, None).unwrap_err();
    assert!(
        err.render().contains("IS_API_KEY and IS_USER"),
        "{}",
        err.render()
    );
    let f = file(&format!("api_key = \"{KEY}\"\npassword = \"pw\"\n"));
    let err = resolve(&ConnectionFlags::default(), &env_of(&[]), Some(&f)).unwrap_err();
    assert!(
        err.render().contains("config.toml gives both api_key"),
        "{}",
        err.render()
    );
}

#[test]
fn a_malformed_key_is_refused_without_being_shown() {
    for bad in ["s3cr3t-not-a-key", "isk_only", "isk__x", "isk_a_b c"] {
        let err = resolve(&key_flags(bad), &env_of(&[]), None).unwrap_err();
        let text = err.render();
        assert_eq!(err.exit_code(), 2);
        assert!(text.contains("isk_<id>_<secret>"), "{text}");
        assert!(!text.contains(bad), "{text}");
    }
}

#[test]
fn debug_output_hides_secrets_and_keys_show_only_their_id() {
    assert_eq!(api_key_id(KEY), Some("1a2b3c"));
    assert_eq!(api_key_id("isk_1a2b3c"), None);
    let shown = format!(
        "{:?} {:?}",
        Credentials::ApiKey(KEY.into()),
        Credentials::password("olga", "hunter22")
    );
    assert!(
        !shown.contains("s3cr3tpart") && !shown.contains("hunter22"),
        "{shown}"
    );
    assert!(shown.contains("1a2b3c") && shown.contains("olga"), "{shown}");
}

#[test]
fn a_named_host_means_tls_unless_insecure_and_no_host_means_the_plain_default() {
    let env = env_of(&[]);
    let with = |f: ConnectionFlags| {
        resolve(
            &ConnectionFlags {
                password: Some("pw".into()),
                ..f
            },
            &env,
            None,
        )
        .unwrap()
        .transport
    };
    let tls = Transport::Tls { ca: None };
    assert_eq!(with(ConnectionFlags::default()), Transport::Plain);
    let host = |h: &str| ConnectionFlags {
        host: Some(h.into()),
        ..Default::default()
    };
    assert_eq!(with(host("node1")), tls);
    assert_eq!(with(host("https://node1")), tls);
    assert_eq!(with(host("http://node1")), Transport::Plain);
    assert_eq!(
        with(ConnectionFlags {
            insecure: true,
            ..host("node1")
        }),
        Transport::Plain
    );
    assert_eq!(
        with(ConnectionFlags {
            insecure: true,
            ..host("https://node1")
        }),
        Transport::Plain
    );
    // A certificate to trust asks for TLS even on the default host.
    assert_eq!(
        with(ConnectionFlags {
            ca: Some("/n.pem".into()),
            ..Default::default()
        }),
        Transport::Tls {
            ca: Some("/n.pem".into())
        }
    );
}

#[test]
fn ca_and_insecure_come_from_flag_env_or_file() {
    let f = file("host = \"node1\"\nca = \"/file.pem\"\npassword = \"pw\"\n");
    let none = ConnectionFlags::default();
    let s = resolve(&none, &env_of(&[]), Some(&f)).unwrap();
    assert_eq!(
        s.transport,
        Transport::Tls {
            ca: Some("/file.pem".into())
        }
    );
    let s = resolve(&none, &env_of(&[("IS_CA", "/env.pem")]), Some(&f)).unwrap();
    assert_eq!(
        s.transport,
        Transport::Tls {
            ca: Some("/env.pem".into())
        }
    );
    let s = resolve(&none, &env_of(&[("IS_INSECURE", "true")]), Some(&f)).unwrap();
    assert_eq!(s.transport, Transport::Plain);
    let f = file("host = \"node1\"\ninsecure = true\npassword = \"pw\"\n");
    assert_eq!(
        resolve(&none, &env_of(&[]), Some(&f)).unwrap().transport,
        Transport::Plain
    );
    let err = resolve(&none, &env_of(&[("IS_INSECURE", "maybe")]), Some(&f)).unwrap_err();
    assert!(err.render().contains("IS_INSECURE"), "{}", err.render());
}
