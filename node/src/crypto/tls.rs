//! The node's TLS material: its certificate chain and private key, read
//! from PEM files or generated once as a self-signed pair in the data
//! directory (key mode 0600); the certificate's SHA-256 fingerprint, which
//! operators compare with what a client sees; the rustls configurations of
//! the client listener and of the actor network; and the trust the node
//! verifies its peers with (`tls_ca_file`, else its own certificate).
//!
//! Every configuration names the aws-lc-rs provider explicitly, so nothing
//! depends on which providers other crates of a build switch on.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use sha2::{Digest, Sha256};

/// Names of the generated certificate and key in the data directory.
pub const SELF_SIGNED_CERT: &str = "tls-cert.pem";
pub const SELF_SIGNED_KEY: &str = "tls-key.pem";

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {what} {path}: {message}")]
    Read {
        what: &'static str,
        path: String,
        message: String,
    },
    #[error("{what} {path} holds no PEM {expected} (expected a -----BEGIN {expected}----- block)")]
    Empty {
        what: &'static str,
        path: String,
        expected: &'static str,
    },
    #[error("cannot write the self-signed {what} to {path}: {source}")]
    Write {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the data directory holds the self-signed certificate {cert} but not its key {key}: remove the \
         certificate to generate a new pair (clients must then trust the new one)"
    )]
    KeyMissing { cert: String, key: String },
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(String),
    #[error(
        "the certificate {cert} and the key {key} do not make a usable pair: {message} (check that the \
         key belongs to the certificate)"
    )]
    Pair {
        cert: String,
        key: String,
        message: String,
    },
    #[error("{what} {path} holds a certificate that cannot be a trust anchor: {message}")]
    Anchor {
        what: &'static str,
        path: String,
        message: String,
    },
}

/// Where the node's certificate comes from.
pub enum CertSource<'a> {
    /// PEM files the operator provides (a chain, leaf first, and its key).
    Files { cert: &'a Path, key: &'a Path },
    /// Generated once into `data_dir` for `hosts` (plus localhost and
    /// 127.0.0.1), then read from there at every start.
    SelfSigned { data_dir: &'a Path, hosts: &'a [String] },
}

/// The node's certificate chain and key.
pub struct NodeCert {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// The file the leaf certificate is in (what clients are told to trust).
    pub cert_path: PathBuf,
    /// Whether this start generated it.
    pub generated: bool,
    /// The certificate file's PEM text.
    cert_pem: Vec<u8>,
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::Read {
        what,
        path: shown(path),
        message: e.to_string(),
    })
}

fn certs_of(what: &'static str, path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Read {
            what,
            path: shown(path),
            message: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Empty {
            what,
            path: shown(path),
            expected: "CERTIFICATE",
        });
    }
    Ok(certs)
}

impl NodeCert {
    /// Reads (or, self-signed and absent, generates) the certificate and key,
    /// and checks that they make a pair.
    pub fn load(source: CertSource<'_>) -> Result<NodeCert, TlsError> {
        let (cert_path, key_path, generated) = match source {
            CertSource::Files { cert, key } => (cert.to_path_buf(), key.to_path_buf(), false),
            CertSource::SelfSigned { data_dir, hosts } => {
                let cert = data_dir.join(SELF_SIGNED_CERT);
                let key = data_dir.join(SELF_SIGNED_KEY);
                let generated = ensure_self_signed(&cert, &key, hosts)?;
                (cert, key, generated)
            }
        };
        let cert_pem = read("tls_cert_file", &cert_path)?;
        let chain = certs_of("tls_cert_file", &cert_path, &cert_pem)?;
        let key_pem = read("tls_key_file", &key_path)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| match e {
            rustls::pki_types::pem::Error::NoItemsFound => TlsError::Empty {
                what: "tls_key_file",
                path: shown(&key_path),
                expected: "PRIVATE KEY",
            },
            other => TlsError::Read {
                what: "tls_key_file",
                path: shown(&key_path),
                message: other.to_string(),
            },
        })?;
        let cert = NodeCert {
            chain,
            key,
            cert_path: cert_path.clone(),
            generated,
            cert_pem,
        };
        // Building a configuration checks that the key matches the leaf.
        cert.server_config(&[]).map_err(|e| TlsError::Pair {
            cert: shown(&cert_path),
            key: shown(&key_path),
            message: e.to_string(),
        })?;
        Ok(cert)
    }

    /// SHA-256 of the leaf certificate (DER), as colon-separated hex pairs
    /// (what `openssl x509 -fingerprint -sha256` and browsers show).
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.chain[0])
    }

    /// The listener's configuration, offering `alpn` (most preferred first).
    pub fn server_config(&self, alpn: &[&[u8]]) -> Result<Arc<ServerConfig>, rustls::Error> {
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(Arc::new(config))
    }

    /// The PEM the node verifies its peers with: `ca_file`'s certificates,
    /// else its own certificate (enough when every node shares it). Each
    /// certificate is checked to be usable as a trust anchor.
    pub fn peer_trust(&self, ca_file: Option<&Path>) -> Result<PeerTrust, TlsError> {
        let (what, path, pem) = match ca_file {
            Some(path) => ("tls_ca_file", path.to_path_buf(), read("tls_ca_file", path)?),
            None => ("tls_cert_file", self.cert_path.clone(), self.cert_pem.clone()),
        };
        let certs = certs_of(what, &path, &pem)?;
        let mut roots = RootCertStore::empty();
        for cert in certs {
            roots.add(cert).map_err(|e| TlsError::Anchor {
                what,
                path: shown(&path),
                message: e.to_string(),
            })?;
        }
        Ok(PeerTrust {
            pem,
            roots: Arc::new(roots),
            from: path,
        })
    }
}

/// The certificates a node trusts for its peers.
#[derive(Clone)]
pub struct PeerTrust {
    /// Their PEM text (for tonic's client configuration).
    pub pem: Vec<u8>,
    roots: Arc<RootCertStore>,
    /// The file they came from, for messages.
    pub from: PathBuf,
}

impl PeerTrust {
    /// A client configuration verifying servers against these certificates only.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, rustls::Error> {
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(self.roots.clone())
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Colon-separated upper-case hex of the SHA-256 of `der`.
pub fn fingerprint_of(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The names a self-signed certificate is made for: `hosts` that name a
/// host (not the unspecified 0.0.0.0 or ::), localhost and 127.0.0.1, and
/// the machine's host name when a host is unspecified (clients then come
/// by that name).
pub fn self_signed_names(hosts: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut any = false;
    for host in hosts {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        match host.parse::<std::net::IpAddr>() {
            Ok(ip) if ip.is_unspecified() => any = true,
            _ if host.is_empty() => {}
            _ => names.push(host.to_string()),
        }
    }
    if any {
        if let Ok(name) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
            let name = name.trim();
            if !name.is_empty() {
                names.push(name.to_string());
            }
        }
    }
    names.extend(["localhost".to_string(), "127.0.0.1".to_string()]);
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}

/// Generates the self-signed pair unless its certificate exists; answers
/// whether it generated. The key is written first (mode 0600), the
/// certificate last, so a certificate on disk always has its key.
fn ensure_self_signed(cert: &Path, key: &Path, hosts: &[String]) -> Result<bool, TlsError> {
    if cert.exists() {
        if !key.exists() {
            return Err(TlsError::KeyMissing {
                cert: shown(cert),
                key: shown(key),
            });
        }
        set_owner_only(key).map_err(|source| TlsError::Write {
            what: "key",
            path: shown(key),
            source,
        })?;
        return Ok(false);
    }
    let mut params = rcgen::CertificateParams::new(self_signed_names(hosts))
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "isnode (self-signed)");
    let pair = rcgen::KeyPair::generate().map_err(|e| TlsError::Generate(e.to_string()))?;
    let made = params
        .self_signed(&pair)
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    write_new(key, pair.serialize_pem().as_bytes(), 0o600, "key")?;
    write_new(cert, made.pem().as_bytes(), 0o644, "certificate")?;
    Ok(true)
}

fn set_owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

/// Writes `bytes` to a temporary file created with `mode`, then renames it
/// into place.
fn write_new(path: &Path, bytes: &[u8], mode: u32, what: &'static str) -> Result<(), TlsError> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("pem.tmp");
    let fail = |source| TlsError::Write {
        what,
        path: shown(path),
        source,
    };
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(fail)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(dir: &Path) -> NodeCert {
        NodeCert::load(CertSource::SelfSigned {
            data_dir: dir,
            hosts: &["node1.example".to_string(), "0.0.0.0".to_string()],
        })
        .unwrap()
    }

    #[test]
    fn a_self_signed_pair_is_generated_once_with_an_owner_only_key() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = self_signed(dir.path());
        assert!(first.generated);
        let mode = std::fs::metadata(dir.path().join(SELF_SIGNED_KEY))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = self_signed(dir.path());
        assert!(!again.generated);
        assert_eq!(first.fingerprint(), again.fingerprint());
        assert_eq!(first.fingerprint().len(), 32 * 3 - 1);
    }

    #[test]
    fn names_skip_unspecified_hosts_and_always_cover_loopback() {
        let names = self_signed_names(&["0.0.0.0".into(), "[::1]".into(), "node1".into(), "node1".into()]);
        assert!(!names.contains(&"0.0.0.0".to_string()));
        assert_eq!(names.iter().filter(|n| *n == "node1").count(), 1);
        for n in ["::1", "localhost", "127.0.0.1"] {
            assert!(names.contains(&n.to_string()), "{n} missing from {names:?}");
        }
    }

    #[test]
    fn a_certificate_without_its_key_is_refused_saying_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        self_signed(dir.path());
        std::fs::remove_file(dir.path().join(SELF_SIGNED_KEY)).unwrap();
        let err = NodeCert::load(CertSource::SelfSigned {
            data_dir: dir.path(),
            hosts: &[],
        })
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("remove the certificate"), "{err}");
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        self_signed(a.path());
        self_signed(b.path());
        let err = NodeCert::load(CertSource::Files {
            cert: &a.path().join(SELF_SIGNED_CERT),
            key: &b.path().join(SELF_SIGNED_KEY),
        })
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("do not make a usable pair"), "{err}");
    }

    #[test]
    fn files_without_pem_blocks_are_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("c.pem");
        std::fs::write(&cert, "not a certificate").unwrap();
        let err = NodeCert::load(CertSource::Files {
            cert: &cert,
            key: &cert,
        })
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("tls_cert_file") && err.contains("c.pem"), "{err}");
    }

    #[test]
    fn peers_are_trusted_by_the_own_certificate_or_the_ca_file() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let node = self_signed(a.path());
        let own = node.peer_trust(None).unwrap();
        assert_eq!(own.from, a.path().join(SELF_SIGNED_CERT));
        self_signed(b.path());
        // Two single certificates concatenated: both trusted.
        let both = a.path().join("both.pem");
        let mut pem = std::fs::read(a.path().join(SELF_SIGNED_CERT)).unwrap();
        pem.extend(std::fs::read(b.path().join(SELF_SIGNED_CERT)).unwrap());
        std::fs::write(&both, &pem).unwrap();
        let trust = node.peer_trust(Some(&both)).unwrap();
        assert_eq!(trust.roots.len(), 2);
        assert!(trust.client_config().is_ok());
    }
}
