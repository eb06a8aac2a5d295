//! Connection settings: where the server is and who we are. Owns the
//! precedence rule (flag > environment > config file > built-in default),
//! the location and format of `~/.config/iscli/config.toml`, the choice
//! between a user's password and an API key (`Credentials`), the check
//! that one of them was given, and whether the connection uses TLS (a host
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
pub(crate) const ENV_API_KEY: &str = "IS_API_KEY";
pub(crate) const ENV_CA: &str = "IS_CA";
pub(crate) const ENV_INSECURE: &str = "IS_INSECURE";

/// What the text of every API key starts with (`isk_<id>_<secret>`).
pub(crate) const API_KEY_PREFIX: &str = "isk_";

/// Values given on the command line (None = flag not given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ConnectionFlags {
    pub(crate) host: Option<String>,
    pub(crate) port: Option<u16>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) api_key: Option<String>,
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
    pub(crate) api_key: Option<String>,
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
    pub(crate) credentials: Credentials,
    pub(crate) transport: Transport,
    /// The other nodes of `-H a,b,c` (host and port), tried in order when
    /// the first does not answer.
    pub(crate) more_hosts: Vec<(String, u16)>,
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

/// Who the calls act as. `Debug` hides the secrets, so that no log or test
/// failure shows them.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// HTTP Basic with a user's password.
    Password { username: String, password: String },
    /// `authorization: Bearer isk_...`: the key acts as the user who made it.
    ApiKey(String),
}

#[cfg(test)]
impl Credentials {
    /// A user's name and password.
    pub(crate) fn password(username: &str, password: &str) -> Credentials {
        Credentials::Password {
            username: username.to_string(),
            password: password.to_string(),
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Password { username, .. } => {
                write!(f, "Password {{ username: {username:?}, password: <hidden> }}")
            }
            Credentials::ApiKey(key) => write!(f, "ApiKey({:?}, secret hidden)", api_key_id(key)),
        }
    }
}

/// The public id of an API key's text (`isk_<id>_<secret>` gives `<id>`),
/// the only part of a key that may be shown; None when the text is not
/// shaped like a key.
pub(crate) fn api_key_id(key: &str) -> Option<&str> {
    let (id, secret) = key.strip_prefix(API_KEY_PREFIX)?.split_once('_')?;
    let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (plain(id) && plain(secret)).then_some(id)
}

impl Settings {
    /// `host:port` as shown in messages (IPv6 addresses in brackets).
    pub(crate) fn address(&self) -> String {
        address_of(&self.host, self.port)
    }

    /// Every node's address, the first host's first (`-H a,b,c`).
    pub(crate) fn addresses(&self) -> Vec<String> {
        std::iter::once(self.address())
            .chain(self.more_hosts.iter().map(|(h, p)| address_of(h, *p)))
            .collect()
    }
}

fn address_of(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
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
    let (hosts, scheme) = host_list(given_host.as_deref().unwrap_or(DEFAULT_HOST))?;
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

    let credentials = match api_key(flags, &env, cfg, &file_hint)? {
        Some(key) => Credentials::ApiKey(key),
        None => password_credentials(flags, &env, cfg, &file_hint)?,
    };
    let mut hosts = hosts.into_iter().map(|(h, p)| (h, p.unwrap_or(port)));
    let (host, port) = hosts.next().unwrap_or_else(|| (DEFAULT_HOST.to_string(), port));
    Ok(Settings {
        host,
        port,
        credentials,
        transport,
        more_hosts: hosts.collect(),
    })
}

/// A host of `-H a,b,c` and the port written with it, if any.
type HostPort = (String, Option<u16>);

/// `-H a,b,c`: several nodes of one cluster, each written as for one host
/// or as `host:port` (a port of its own; the others use -P). One host is
/// given as before (its port separately). Answers the hosts in order and
/// the scheme they were written with (all alike).
fn host_list(raw: &str) -> Result<(Vec<HostPort>, Option<Scheme>), CliError> {
    if !raw.contains(',') {
        let (host, scheme) = normalize_host(raw)?;
        return Ok((vec![(host, None)], scheme));
    }
    let mut hosts = Vec::new();
    let mut schemes = Vec::new();
    for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (prefix, bare) = ["https://", "http://"]
            .iter()
            .find_map(|p| entry.strip_prefix(p).map(|rest| (*p, rest)))
            .unwrap_or(("", entry));
        let bare = bare.trim_end_matches('/');
        // `host:port`, `[v6]:port`; a bare IPv6 address has several colons.
        let (host_part, port) = match bare.rsplit_once(':') {
            Some((h, p)) if (h.starts_with('[') && h.ends_with(']')) || !h.contains(':') => {
                (h, Some(parse_port(p, &format!("-H entry '{entry}'"))?))
            }
            _ => (bare, None),
        };
        let (host, scheme) = normalize_host(&format!("{prefix}{host_part}"))?;
        hosts.push((host, port));
        schemes.push(scheme);
    }
    if hosts.is_empty() {
        return Err(CliError::Usage(format!(
            "invalid host list '{raw}': name at least one host"
        )));
    }
    let scheme = schemes[0];
    if schemes.iter().any(|s| *s != scheme) {
        return Err(CliError::Usage(format!(
            "invalid host list '{raw}': write every host with the same scheme (all https://, all http:// or none)"
        )));
    }
    Ok((hosts, scheme))
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

/// The API key to use, if any. The first place that names credentials at
/// all decides between a key and a password: the flags (--api-key, or
/// -U/-p), then the environment (IS_API_KEY, or IS_USER/IS_PASSWORD), then
/// the config file (api_key, or username/password). A key named together
/// with a user or password in the same place is a usage error rather
/// than a silent choice.
fn api_key(
    flags: &ConnectionFlags,
    env: &dyn Fn(&str) -> Option<String>,
    cfg: Option<&FileConfig>,
    file_hint: &str,
) -> Result<Option<String>, CliError> {
    let both = |place: &str, key: &str, user: &str| {
        CliError::Usage(format!(
            "{place} gives both {key} and {user}: give one — an API key acts as the user who \
             created it, so it needs no user name or password"
        ))
    };
    if let Some(key) = &flags.api_key {
        if flags.username.is_some() || flags.password.is_some() {
            return Err(both(
                "the command line",
                "--api-key",
                "-U/--username or -p/--password",
            ));
        }
        return checked_key(key, "--api-key").map(Some);
    }
    if flags.username.is_some() || flags.password.is_some() {
        return Ok(None);
    }
    let env_user = env(ENV_USER).is_some() || env(ENV_PASSWORD).is_some();
    if let Some(key) = env(ENV_API_KEY) {
        if env_user {
            return Err(both("the environment", ENV_API_KEY, "IS_USER or IS_PASSWORD"));
        }
        return checked_key(&key, ENV_API_KEY).map(Some);
    }
    if env_user {
        return Ok(None);
    }
    match cfg {
        Some(c) => match &c.api_key {
            Some(_) if c.username.is_some() || c.password.is_some() => {
                Err(both(file_hint, "api_key", "username or password"))
            }
            Some(key) => checked_key(key, file_hint).map(Some),
            None => Ok(None),
        },
        None => Ok(None),
    }
}

/// The key without surrounding white space (a key pasted from a file keeps
/// its newline), once it is shaped like one; the message never shows it.
fn checked_key(key: &str, source: &str) -> Result<String, CliError> {
    let key = key.trim();
    if api_key_id(key).is_none() {
        return Err(CliError::Usage(format!(
            "the API key from {source} is not shaped like one: keys look like \
             isk_<id>_<secret>; copy it whole from what 'iscli key create' printed"
        )));
    }
    Ok(key.to_string())
}

/// A user and password: the user from the first place that names one (else
/// isadmin), the password likewise (it has no default).
fn password_credentials(
    flags: &ConnectionFlags,
    env: &dyn Fn(&str) -> Option<String>,
    cfg: Option<&FileConfig>,
    file_hint: &str,
) -> Result<Credentials, CliError> {
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
                 set IS_PASSWORD, or add password = \"...\" to {file_hint} \
                 (or use an API key: --api-key or IS_API_KEY)"
            ))
        })?;
    Ok(Credentials::Password { username, password })
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
#[path = "settings_tests.rs"]
mod tests;
