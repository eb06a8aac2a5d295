//! TLS settings: whether the client listener and node-to-node traffic use
//! TLS, with which certificate (PEM files, or `tls = "self-signed"`), which
//! certificates peers are verified with, and whether loopback clients may
//! still speak plain HTTP. Environment over the config file, as elsewhere.

use std::path::PathBuf;

use super::{ConfigError, FileConfig};

/// Where the node's certificate comes from, if TLS is on.
#[derive(Debug, Clone, PartialEq)]
pub enum TlsMode {
    /// Plain HTTP (the embedded default).
    Off,
    /// The operator's PEM certificate (chain) and key.
    Files { cert: PathBuf, key: PathBuf },
    /// Generated once into the data directory.
    SelfSigned,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TlsSettings {
    pub mode: TlsMode,
    /// PEM of the CA (or of the peers' own certificates) peers are verified
    /// with; None: the node's own certificate.
    pub ca_file: Option<PathBuf>,
    /// With TLS on, whether plain HTTP from loopback peers is served.
    pub allow_plain_loopback: bool,
}

impl TlsSettings {
    pub fn is_on(&self) -> bool {
        self.mode != TlsMode::Off
    }
}

/// `tls` / `IS_TLS` values.
const SELF_SIGNED: &str = "self-signed";
const OFF: &str = "off";

pub(super) fn resolve(
    env: &impl Fn(&str) -> Option<String>,
    file: &FileConfig,
) -> Result<TlsSettings, ConfigError> {
    let path = |name: &str, from_file: &Option<PathBuf>| {
        env(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| from_file.clone())
    };
    let cert = path("IS_TLS_CERT_FILE", &file.tls_cert_file);
    let key = path("IS_TLS_KEY_FILE", &file.tls_key_file);
    let ca_file = path("IS_TLS_CA_FILE", &file.tls_ca_file);
    let allow_plain_loopback = match env("IS_ALLOW_PLAIN_LOOPBACK") {
        Some(v) => v.parse::<bool>().map_err(|_| ConfigError::Env {
            name: "IS_ALLOW_PLAIN_LOOPBACK".into(),
            value: v.clone(),
            message: "expected true or false".into(),
        })?,
        None => file.allow_plain_loopback.unwrap_or(false),
    };
    let tls = env("IS_TLS").or_else(|| file.tls.clone()).unwrap_or_default();
    let mode =
        match (tls.trim(), cert, key) {
            (OFF, _, _) => TlsMode::Off,
            ("", None, None) => TlsMode::Off,
            ("", Some(cert), Some(key)) => TlsMode::Files { cert, key },
            (SELF_SIGNED, None, None) => TlsMode::SelfSigned,
            (SELF_SIGNED, _, _) => return Err(ConfigError::Invalid(
                "tls = \"self-signed\" (IS_TLS) and tls_cert_file/tls_key_file are both set: give either \
                 the certificate files or self-signed, not both"
                    .into(),
            )),
            ("", Some(_), None) => {
                return Err(ConfigError::Invalid(
                    "tls_cert_file (IS_TLS_CERT_FILE) is set but tls_key_file (IS_TLS_KEY_FILE) is not: \
                 give both PEM files, or tls = \"self-signed\""
                        .into(),
                ))
            }
            ("", None, Some(_)) => {
                return Err(ConfigError::Invalid(
                    "tls_key_file (IS_TLS_KEY_FILE) is set but tls_cert_file (IS_TLS_CERT_FILE) is not: \
                 give both PEM files, or tls = \"self-signed\""
                        .into(),
                ))
            }
            (other, _, _) => {
                return Err(ConfigError::Invalid(format!(
                    "tls (IS_TLS) must be \"{SELF_SIGNED}\" or \"{OFF}\", got {other:?} (with \
                 tls_cert_file and tls_key_file set, leave tls out)"
                )))
            }
        };
    Ok(TlsSettings {
        mode,
        ca_file,
        allow_plain_loopback,
    })
}
