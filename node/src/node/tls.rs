//! TLS at start-up: the node's certificate (files, or self-signed in the
//! data directory), its fingerprint logged at every start, and the pieces
//! each user of TLS is handed: the listener's acceptor (ALPN h2 and
//! http/1.1), the trust node-to-node gRPC verifies peers with, and the
//! actor network's acceptor and connector.

use std::sync::Arc;

use crate::actors::mesh::MeshTls;
use crate::api::listen::{ListenTls, ALPN};
use crate::config::{NodeConfig, TlsMode};
use crate::crypto::tls::{CertSource, NodeCert};
use crate::raft::network::PeerTls;
use crate::util::addr::split_addr;

use super::NodeError;

/// What TLS gives the listener, the Raft peers and the actor network; all
/// None when TLS is off.
#[derive(Default)]
pub(super) struct NodeTls {
    pub(super) listen: Option<ListenTls>,
    pub(super) peers: Option<PeerTls>,
    pub(super) mesh: Option<MeshTls>,
}

impl NodeTls {
    /// `https` or `http`, for messages.
    pub(super) fn scheme(&self) -> &'static str {
        if self.listen.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

/// Loads or generates the certificate and builds every TLS configuration.
pub(super) fn setup(cfg: &NodeConfig) -> Result<NodeTls, NodeError> {
    let hosts: Vec<String> = [&cfg.listen, &cfg.advertise, &cfg.cluster_listen]
        .into_iter()
        .filter_map(|a| split_addr(a).map(|(h, _)| h.to_string()))
        .collect();
    let source = match &cfg.tls.mode {
        TlsMode::Off => return Ok(NodeTls::default()),
        TlsMode::Files { cert, key } => CertSource::Files { cert, key },
        TlsMode::SelfSigned => CertSource::SelfSigned {
            data_dir: &cfg.data_dir,
            hosts: &hosts,
        },
    };
    let cert = NodeCert::load(source)?;
    let trust = cert.peer_trust(cfg.tls.ca_file.as_deref())?;
    let invalid = |e: rustls::Error| NodeError::TlsConfig(e.to_string());
    if cert.generated {
        tracing::info!(certificate = %cert.cert_path.display(), "generated a self-signed TLS certificate");
    }
    tracing::info!(
        certificate = %cert.cert_path.display(),
        sha256 = %cert.fingerprint(),
        peers_verified_with = %trust.from.display(),
        allow_plain_loopback = cfg.tls.allow_plain_loopback,
        "TLS is on; clients verify this certificate (iscli --ca FILE, curl --cacert FILE) and can compare \
         its SHA-256 fingerprint (sha256)"
    );
    Ok(NodeTls {
        listen: Some(ListenTls {
            acceptor: tokio_rustls::TlsAcceptor::from(cert.server_config(&ALPN).map_err(invalid)?),
            allow_plain_loopback: cfg.tls.allow_plain_loopback,
        }),
        peers: Some(PeerTls {
            trusted_pem: Arc::from(trust.pem.as_slice()),
        }),
        mesh: Some(MeshTls {
            acceptor: tokio_rustls::TlsAcceptor::from(cert.server_config(&[]).map_err(invalid)?),
            connector: tokio_rustls::TlsConnector::from(trust.client_config().map_err(invalid)?),
        }),
    })
}
