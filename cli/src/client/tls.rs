//! TLS toward the node: the client configuration (the system's roots plus
//! the `--ca` certificate; server certificates are always verified) and
//! recognising a failed handshake among a connection error's causes, so the
//! operator is told to pass `--ca` (or `-i`) rather than "transport error".

use std::error::Error as StdError;
use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tonic::transport::{Certificate, ClientTlsConfig};

use crate::error::CliError;

/// The configuration for a TLS connection trusting the system's roots and
/// the PEM certificates in `ca`.
pub(super) fn config(ca: Option<&Path>) -> Result<ClientTlsConfig, CliError> {
    let mut config = ClientTlsConfig::new();
    // tonic refuses a machine without any system root; --ca may still do.
    if !rustls_native_certs::load_native_certs().certs.is_empty() {
        config = config.with_native_roots();
    }
    if let Some(path) = ca {
        let pem = std::fs::read(path).map_err(|e| {
            CliError::Local(format!(
                "cannot read the --ca certificate {}: {e}",
                path.display()
            ))
        })?;
        let certificates = CertificateDer::pem_slice_iter(&pem).filter(Result::is_ok).count();
        if certificates == 0 {
            return Err(CliError::Usage(format!(
                "--ca {} holds no PEM certificate (expected a -----BEGIN CERTIFICATE----- block, \
                 such as a node's tls-cert.pem)",
                path.display()
            )));
        }
        config = config.ca_certificate(Certificate::from_pem(pem));
    }
    Ok(config)
}

/// The TLS error among `err`'s causes, if the connection failed in the
/// handshake: its text, and whether the server's certificate was refused.
pub(super) fn failure(err: &(dyn StdError + 'static)) -> Option<(String, bool)> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        // tokio-rustls wraps TLS errors in an io::Error, whose `source`
        // skips them.
        let wrapped = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        if let Some(tls) = wrapped.or_else(|| e.downcast_ref::<rustls::Error>()) {
            let certificate = matches!(
                tls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            );
            return Some((tls.to_string(), certificate));
        }
        cur = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_certificate_is_found_inside_io_errors() {
        let inner = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, inner);
        let (text, certificate) = failure(&io).unwrap();
        assert!(certificate);
        assert!(text.contains("UnknownIssuer"), "{text}");
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::DecryptError);
        assert_eq!(failure(&io).map(|(_, c)| c), Some(false));
        let plain = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(failure(&plain).is_none());
    }

    #[test]
    fn a_ca_file_without_certificates_is_a_usage_error() {
        let dir = std::env::temp_dir().join(format!("iscli-ca-test-{}", std::process::id()));
        std::fs::write(&dir, "hello").unwrap();
        let err = config(Some(&dir)).unwrap_err();
        let _ = std::fs::remove_file(&dir);
        assert!(
            err.render().contains("holds no PEM certificate"),
            "{}",
            err.render()
        );
        let missing = config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(missing.render().contains("cannot read the --ca certificate"));
    }
}
