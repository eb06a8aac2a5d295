//! Connection settings: where the server is and who we are. Owns the
//! precedence rule (flag > environment > config file > built-in default),
//! the location and format of `~/.config/iscli/config.toml`, and the check
//! that a password was given, and whether the connection uses TLS (a host
//! given without `-i` means https, as in the original product; no host at
//! all means the plain local default). `resolve` is a pure function of its inputs so
//! the rule is tested without touching the real environment; `load` is the
//! thin impure wrapper that reads the process environment and the file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::CliError;

/// Host used when nothing else names one.
pub(crate) const DEFAULT_HOST: &str = "127.0.0.1";
/// Port used when nothing else names one.
pub(crate) const DEFAULT_PORT: u16 = 8080;
/// User used when nothing else names one (the built-in administrator).
pub(crate) const DEFAULT_USER: &str = "isadmin";

/// Environment variable names.
pub(crate) const ENV_HOST: &str = "IS_HOST";
pub(crate) const ENV_PORT: &str = "IS_PORT";
pub(crate) const ENV_USER: &str = "IS_USER";
pub(crate) const ENV_PASSWORD: &str = "IS_PASSWORD";
pub(crate) const ENV_CA: &str = "IS_CA";
pub(crate) const ENV_INSECURE: &str = "IS_INSECURE";

/// Values given on the command line (None = flag not given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ConnectionFlags {
    pub(crate) host: Option<String>,
    pub(crate) port: Option<u16>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    /// `-i/--insecure`: plain HTTP/2, no TLS.
    pub(crate) insecure: bool,
    /// `--ca FILE`: a PEM certificate (a CA's or the node's own) to trust.
    pub(crate) ca: Option<PathBuf>,
}

/// The contents of `config.toml`. Every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    pub(crate) host: Option<String>,
    pub(crate) port: Option<PortValue>,
    #[serde(alias = "user")]
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    /// PEM certificate to trust besides the system's roots.
    pub(crate) ca: Option<PathBuf>,
    /// true: plain connections (like `-i`).
    pub(crate) insecure: Option<bool>,
}

/// A port written as a number (`port = 8080`) or a string (`port = "8080"`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub(crate) enum PortValue {
    Number(i64),
    Text(String),
}

/// The config file as read: where it is and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoadedFile {
    pub(crate) path: PathBuf,
    pub(crate) config: FileConfig,
}

/// The settings every server call uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) transport: Transport,
}

/// How the connection is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transport {
    /// Plain HTTP/2 (`-i`, an `http://` host, or no host at all).
    Plain,
    /// TLS; the server's certificate is verified against the system's
    /// roots and `ca`, if given.
    Tls { ca: Option<PathBuf> },
}

impl Settings {
    /// `host:port` as shown in messages (IPv6 addresses in brackets).
    pub(crate) fn address(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Where the config file lives: `$XDG_CONFIG_HOME/iscli/config.toml` when
/// that variable holds an absolute path, else `$HOME/.config/iscli/config.toml`.
pub(crate) fn config_path(xdg_config_home: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    if let Some(xdg) = xdg_config_home.filter(|x| Path::new(x).is_absolute()) {
        return Some(Path::new(xdg).join("iscli").join("config.toml"));
    }
    home.filter(|h| !h.is_empty())
        .map(|h| Path::new(h).join(".config").join("iscli").join("config.toml"))
}

/// Parses the text of a config file; `path` only appears in messages.
pub(crate) fn parse_config(text: &str, path: &Path) -> Result<FileConfig, CliError> {
    toml::from_str(text).map_err(|e| {
        let msg = e.message().to_string();
        CliError::Usage(format!("config file {} is invalid: {msg}", path.display()))
    })
}

/// Applies the precedence rule. `env` looks up an environment variable
/// (empty values count as unset); `file` is the config file if one exists.
pub(crate) fn resolve(
    flags: &ConnectionFlags,
    env: &dyn Fn(&str) -> Option<String>,
    file: Option<&LoadedFile>,
) -> Result<Settings, CliError> {
    let env = |name: &str| env(name).filter(|v| !v.is_empty());
    let cfg = file.map(|f| &f.config);
    let file_hint = match file {
        Some(f) => f.path.display().to_string(),
        None => "~/.config/iscli/config.toml".to_string(),
    };

    let given_host = flags
        .host
        .clone()
        .or_else(|| env(ENV_HOST))
        .or_else(|| cfg.and_then(|c| c.host.clone()));
    let (host, scheme) = normalize_host(given_host.as_deref().unwrap_or(DEFAULT_HOST))?;
    let ca = flags
        .ca
        .clone()
        .or_else(|| env(ENV_CA).map(PathBuf::from))
        .or_else(|| cfg.and_then(|c| c.ca.clone()));
    let insecure = flags.insecure
        || match env(ENV_INSECURE) {
            Some(v) => parse_bool(&v, ENV_INSECURE)?,
            None => cfg.and_then(|c| c.insecure).unwrap_or(false),
        };
    let transport = match scheme {
        _ if insecure => Transport::Plain,
        Some(Scheme::Http) => Transport::Plain,
        Some(Scheme::Https) => Transport::Tls { ca },
        // A host named anywhere means https, as in the original product;
        // so does a certificate to trust. Otherwise the plain local default.
        None if given_host.is_some() || ca.is_some() => Transport::Tls { ca },
        None => Transport::Plain,
    };

    let port = match flags.port {
        Some(p) => p,
        None => match env(ENV_PORT) {
            Some(text) => parse_port(&text, &format!("environment variable {ENV_PORT}"))?,
            None => match cfg.and_then(|c| c.port.as_ref()) {
                Some(PortValue::Number(n)) => u16::try_from(*n)
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| bad_port(&n.to_string(), &file_hint))?,
                Some(PortValue::Text(text)) => parse_port(text, &file_hint)?,
                None => DEFAULT_PORT,
            },
        },
    };

    let username = flags
        .username
        .clone()
        .or_else(|| env(ENV_USER))
        .or_else(|| cfg.and_then(|c| c.username.clone()))
        .unwrap_or_else(|| DEFAULT_USER.to_string());

    let password = flags
        .password
        .clone()
        .or_else(|| env(ENV_PASSWORD))
        .or_else(|| cfg.and_then(|c| c.password.clone()))
        .ok_or_else(|| {
            CliError::Usage(format!(
                "no password given for user '{username}' — pass -p/--password, \
                 set IS_PASSWORD, or add password = \"...\" to {file_hint}"
            ))
        })?;

    Ok(Settings {
        host,
        port,
        username,
        password,
        transport,
    })
}

fn parse_bool(text: &str, source: &str) -> Result<bool, CliError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(CliError::Usage(format!(
            "invalid value '{text}' in {source}: expected true or false"
        ))),
    }
}

/// The scheme a host was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

/// Reads the real environment and config file, then calls `resolve`.
pub(crate) fn load(flags: &ConnectionFlags) -> Result<Settings, CliError> {
    let var = |name: &str| std::env::var(name).ok();
    let path = config_path(var("XDG_CONFIG_HOME").as_deref(), var("HOME").as_deref());
    let file = match path {
        Some(path) => match std::fs::read_to_string(&path) {
            Ok(text) => Some(LoadedFile {
                config: parse_config(&text, &path)?,
                path,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(CliError::Local(format!(
                    "cannot read config file {}: {e}",
                    path.display()
                )))
            }
        },
        None => None,
    };
    resolve(flags, &var, file.as_ref())
}

/// Accepts `host`, `[v6addr]`, `v6addr`, `http://host` and `https://host`;
/// answers the host and the scheme it was written with.
fn normalize_host(raw: &str) -> Result<(String, Option<Scheme>), CliError> {
    let trimmed = raw.trim();
    let (scheme, host) = if let Some(rest) = trimmed.strip_prefix("https://") {
        (Some(Scheme::Https), rest)
    } else if let Some(rest) = trimmed.strip_prefix("http://") {
        (Some(Scheme::Http), rest)
    } else {
        (None, trimmed)
    };
    let host = host.trim_end_matches('/');
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.matches(':').count() == 1 {
        return Err(CliError::Usage(format!(
            "invalid host '{raw}': give the port separately with -P/--port (or IS_PORT)"
        )));
    }
    if host.is_empty() || host.contains('/') || host.contains(char::is_whitespace) {
        return Err(CliError::Usage(format!(
            "invalid host '{raw}': give a host name or IP address (the port goes in -P/--port)"
        )));
    }
    Ok((host.to_string(), scheme))
}

fn parse_port(text: &str, source: &str) -> Result<u16, CliError> {
    text.trim()
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| bad_port(text, source))
}

fn bad_port(text: &str, source: &str) -> CliError {
    CliError::Usage(format!(
        "invalid port '{text}' in {source}: expected a number from 1 to 65535"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
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
                username: "isadmin".into(),
                password: "pw".into(),
                transport: Transport::Plain,
            }
        );
        assert_eq!(s.address(), "127.0.0.1:8080");
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
            (s.host.as_str(), s.port, s.username.as_str(), s.password.as_str()),
            ("flag-host", 7200, "flaguser", "flagpw")
        );
        // No flags: environment wins over the file.
        let s = resolve(&ConnectionFlags::default(), &env, Some(&f)).unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.username.as_str(), s.password.as_str()),
            ("env-host", 7100, "envuser", "envpw")
        );
        // No flags, no env: the file.
        let s = resolve(&ConnectionFlags::default(), &env_of(&[]), Some(&f)).unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.username.as_str(), s.password.as_str()),
            ("file-host", 7000, "fileuser", "filepw")
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
        assert_eq!(s.username, "envuser");
        assert_eq!(s.password, "filepw");
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
}
