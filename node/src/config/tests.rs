//! Tests of the node settings: precedence (flags > environment > file >
//! defaults), refused values, and the example config files under deploy/.

use super::*;

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn defaults_are_the_embedded_default() {
    let c = NodeConfig::resolve(&Args::default(), no_env).unwrap();
    assert_eq!(c.listen, "127.0.0.1:8080");
    assert_eq!(c.data_dir, PathBuf::from("./is-data"));
    assert_eq!(c.max_body_bytes, 32 * 1024 * 1024);
    assert_eq!(c.node_id, 1);
    assert_eq!(c.max_task_log_bytes, 10_485_760);
    assert_eq!(c.max_inline_result_bytes, 1_048_576);
    let env = |k: &str| (k == "IS_MAX_TASK_LOG_BYTES").then(|| "10000".to_string());
    let c = NodeConfig::resolve(&Args::default(), env).unwrap();
    assert_eq!(c.max_task_log_bytes, 10_000);
}

#[test]
fn the_otlp_endpoint_comes_from_ours_then_the_file_then_the_standard_variable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node.toml");
    std::fs::write(&file, "otlp_endpoint = \"http://file:4318\"\n").unwrap();
    let with_file = Args {
        config: Some(file),
        ..Default::default()
    };
    let standard = |k: &str| (k == "OTEL_EXPORTER_OTLP_ENDPOINT").then(|| "http://otel:4318".to_string());
    let ours = |k: &str| match k {
        "IS_OTLP_ENDPOINT" => Some("http://ours:4318".to_string()),
        _ => standard(k),
    };
    let endpoint = |args: &Args, env: &dyn Fn(&str) -> Option<String>| {
        NodeConfig::resolve(args, env).unwrap().otlp_endpoint
    };
    assert_eq!(
        endpoint(&Args::default(), &no_env),
        None,
        "nothing is exported by default"
    );
    assert_eq!(
        endpoint(&Args::default(), &standard).as_deref(),
        Some("http://otel:4318")
    );
    assert_eq!(
        endpoint(&with_file, &standard).as_deref(),
        Some("http://file:4318")
    );
    assert_eq!(endpoint(&with_file, &ours).as_deref(), Some("http://ours:4318"));
    let empty = |k: &str| (k == "IS_OTLP_ENDPOINT").then(String::new);
    assert_eq!(endpoint(&Args::default(), &empty), None);
    // No TLS client in the exporter: an https endpoint is refused at start, saying why.
    let https = |k: &str| (k == "IS_OTLP_ENDPOINT").then(|| "https://c:4318".to_string());
    let err = NodeConfig::resolve(&Args::default(), https)
        .unwrap_err()
        .to_string();
    assert!(err.contains("http://") && err.contains("Collector"), "{err}");
}

#[test]
fn flags_beat_env_beats_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:1\"\nmax_body_bytes = 2048\nnode_id = 3\n",
    )
    .unwrap();
    let args = Args {
        config: Some(file),
        ..Default::default()
    };
    let env = |k: &str| (k == "IS_LISTEN").then(|| "127.0.0.1:2".to_string());
    let c = NodeConfig::resolve(&args, env).unwrap();
    assert_eq!(c.listen, "127.0.0.1:2");
    assert_eq!(c.max_body_bytes, 2048);
    assert_eq!(c.node_id, 3);
    let args = Args {
        listen: Some("127.0.0.1:3".into()),
        ..args
    };
    assert_eq!(NodeConfig::resolve(&args, env).unwrap().listen, "127.0.0.1:3");
}

#[test]
fn listen_port_0_advertises_the_bound_port_and_has_no_default_actor_port() {
    let args = Args {
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    };
    let c = NodeConfig::resolve(&args, no_env).unwrap();
    assert_eq!(c.with_bound_port(41234).advertise, "127.0.0.1:41234");
    // An advertised port that is not 0 is kept as configured.
    let env = |k: &str| (k == "IS_ADVERTISE").then(|| "node.example:9000".to_string());
    let c = NodeConfig::resolve(&args, env).unwrap();
    assert_eq!(c.with_bound_port(41234).advertise, "node.example:9000");
    // A cluster member needs its actor-network port spelled out.
    let secret = |k: &str| (k == "IS_CLUSTER_SECRET").then(|| "0123456789abcdef".to_string());
    let err = NodeConfig::resolve(&args, secret).unwrap_err();
    assert!(err.to_string().contains("cluster_listen"), "{err}");
}

#[test]
fn unknown_keys_and_bad_env_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node.toml");
    std::fs::write(&file, "lisen = \"x\"\n").unwrap();
    let args = Args {
        config: Some(file),
        ..Default::default()
    };
    let err = NodeConfig::resolve(&args, no_env).unwrap_err();
    assert!(err.to_string().contains("lisen"), "{err}");
    let env = |k: &str| (k == "IS_NODE_ID").then(|| "abc".to_string());
    let err = NodeConfig::resolve(&Args::default(), env).unwrap_err();
    assert!(err.to_string().contains("IS_NODE_ID"), "{err}");
}

#[test]
fn application_limits_come_from_env_or_file_and_refuse_zero_and_nonsense() {
    let c = NodeConfig::resolve(&Args::default(), no_env).unwrap();
    assert_eq!((c.max_app_steps, c.max_app_edges), (2000, 20000));
    let env = |k: &str| match k {
        "IS_MAX_APP_STEPS" => Some("3".to_string()),
        "IS_MAX_APP_EDGES" => Some("7".to_string()),
        _ => None,
    };
    let c = NodeConfig::resolve(&Args::default(), env).unwrap();
    assert_eq!((c.max_app_steps, c.max_app_edges), (3, 7));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node.toml");
    std::fs::write(&file, "max_app_steps = 10\nmax_app_edges = 100\n").unwrap();
    let args = Args {
        config: Some(file.clone()),
        ..Default::default()
    };
    let c = NodeConfig::resolve(&args, no_env).unwrap();
    assert_eq!((c.max_app_steps, c.max_app_edges), (10, 100));

    for (name, value, says) in [
        ("IS_MAX_APP_STEPS", "0", "max_app_steps must be at least 1"),
        ("IS_MAX_APP_EDGES", "0", "max_app_edges must be at least 1"),
        ("IS_MAX_APP_STEPS", "-5", "IS_MAX_APP_STEPS"),
        ("IS_MAX_APP_EDGES", "lots", "IS_MAX_APP_EDGES"),
    ] {
        let env = |k: &str| (k == name).then(|| value.to_string());
        let err = NodeConfig::resolve(&Args::default(), env).unwrap_err();
        assert!(err.to_string().contains(says), "{name}={value}: {err}");
    }
    std::fs::write(&file, "max_app_steps = -1\n").unwrap();
    let err = NodeConfig::resolve(&args, no_env).unwrap_err();
    assert!(err.to_string().contains("max_app_steps"), "{err}");
}

mod example_file {
    use super::super::*;

    /// The documented example config must parse and show the true defaults.
    #[test]
    fn deploy_example_is_valid_and_shows_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/node.example.toml");
        let args = Args {
            config: Some(path),
            ..Default::default()
        };
        let from_file = NodeConfig::resolve(&args, |_| None).unwrap();
        let defaults = NodeConfig::resolve(&Args::default(), |_| None).unwrap();
        assert_eq!(from_file, defaults);
    }

    /// The example cluster configs parse: node 1 founds the cluster, the
    /// others join it; the secret comes from the environment.
    #[test]
    fn deploy_cluster_examples_are_valid() {
        let secret = |k: &str| (k == "IS_CLUSTER_SECRET").then(|| "0123456789abcdef".to_string());
        for i in 1..=3 {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../deploy/cluster/node{i}.toml"));
            let args = Args {
                config: Some(path),
                ..Default::default()
            };
            let cfg = NodeConfig::resolve(&args, secret).unwrap();
            assert_eq!(cfg.node_id, i);
            assert_eq!(cfg.join.is_empty(), i == 1, "node {i}");
            assert_eq!(cfg.cluster_listen, "0.0.0.0:18080");
            let without_secret = NodeConfig::resolve(&args, |_| None);
            assert_eq!(
                without_secret.is_err(),
                i != 1,
                "joining needs the secret (node {i})"
            );
        }
    }
}

#[test]
fn syncpack_settings_come_from_env_or_file() {
    let c = NodeConfig::resolve(&Args::default(), no_env).unwrap();
    assert!(c.syncpacks.use_index && c.syncpacks.base_pack);
    assert_eq!(c.syncpacks.base_packages, ["requests", "future", "jinja2", "six"]);
    let env = |k: &str| match k {
        "IS_SYNCPACK_USE_INDEX" => Some("false".to_string()),
        "IS_BASE_PACK" => Some("false".to_string()),
        "IS_SYNCPACK_BASE_PACKAGES" => Some("requests, six,".to_string()),
        "IS_SYNCPACK_WHEEL_DIR" => Some("/srv/wheels".to_string()),
        _ => None,
    };
    let c = NodeConfig::resolve(&Args::default(), env).unwrap();
    assert!(!c.syncpacks.use_index && !c.syncpacks.base_pack);
    assert_eq!(c.syncpacks.base_packages, ["requests", "six"]);
    assert_eq!(c.syncpacks.wheel_dir, Some(PathBuf::from("/srv/wheels")));
    let env = |k: &str| (k == "IS_BASE_PACK").then(|| "maybe".to_string());
    let err = NodeConfig::resolve(&Args::default(), env).unwrap_err();
    assert!(err.to_string().contains("IS_BASE_PACK"), "{err}");
}

#[test]
fn tls_is_off_by_default_and_comes_from_files_or_self_signed() {
    let c = NodeConfig::resolve(&Args::default(), no_env).unwrap();
    assert_eq!(c.tls.mode, TlsMode::Off);
    assert!(!c.tls.is_on() && !c.tls.allow_plain_loopback);
    let env = |k: &str| match k {
        "IS_TLS_CERT_FILE" => Some("/c.pem".to_string()),
        "IS_TLS_KEY_FILE" => Some("/k.pem".to_string()),
        "IS_TLS_CA_FILE" => Some("/ca.pem".to_string()),
        "IS_ALLOW_PLAIN_LOOPBACK" => Some("true".to_string()),
        _ => None,
    };
    let c = NodeConfig::resolve(&Args::default(), env).unwrap();
    assert_eq!(
        c.tls.mode,
        TlsMode::Files {
            cert: "/c.pem".into(),
            key: "/k.pem".into()
        }
    );
    assert_eq!(c.tls.ca_file, Some(PathBuf::from("/ca.pem")));
    assert!(c.tls.allow_plain_loopback);
    let env = |k: &str| (k == "IS_TLS").then(|| "self-signed".to_string());
    assert_eq!(
        NodeConfig::resolve(&Args::default(), env).unwrap().tls.mode,
        TlsMode::SelfSigned
    );
}

#[test]
fn contradictory_or_partial_tls_settings_are_refused_saying_what_to_give() {
    let refused = |pairs: &'static [(&'static str, &'static str)]| {
        let env = |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
        NodeConfig::resolve(&Args::default(), env)
            .unwrap_err()
            .to_string()
    };
    let e = refused(&[("IS_TLS_CERT_FILE", "/c.pem")]);
    assert!(e.contains("tls_key_file") && e.contains("give both"), "{e}");
    let e = refused(&[("IS_TLS_KEY_FILE", "/k.pem")]);
    assert!(e.contains("tls_cert_file"), "{e}");
    let e = refused(&[
        ("IS_TLS", "self-signed"),
        ("IS_TLS_CERT_FILE", "/c.pem"),
        ("IS_TLS_KEY_FILE", "/k.pem"),
    ]);
    assert!(e.contains("not both"), "{e}");
    let e = refused(&[("IS_TLS", "yes")]);
    assert!(e.contains("\"self-signed\" or \"off\""), "{e}");
    let e = refused(&[("IS_ALLOW_PLAIN_LOOPBACK", "sometimes")]);
    assert!(e.contains("IS_ALLOW_PLAIN_LOOPBACK"), "{e}");
    // "off" switches TLS off whatever else is set.
    let env = |k: &str| match k {
        "IS_TLS" => Some("off".to_string()),
        "IS_TLS_CERT_FILE" => Some("/c.pem".to_string()),
        _ => None,
    };
    assert!(!NodeConfig::resolve(&Args::default(), env).unwrap().tls.is_on());
}
