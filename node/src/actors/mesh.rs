//! The actor network between nodes (ractor_cluster): this node's
//! `NodeServer`, and a task that keeps a session open to every other
//! registered member, reconnecting with capped exponential backoff. Once
//! connected, process groups (workers, dispatch inboxes) span the nodes.
//!
//! Sessions authenticate with the cluster secret as ractor_cluster's cookie.
//! With TLS on, sessions are encrypted with ractor_cluster's own TLS support
//! (`IncomingEncryptionMode::Tls`, `client_connect_enc`) and peers verified
//! like the node-to-node gRPC calls. ractor_cluster runs the server side of
//! the handshake inside its listener actor without a deadline, so a client
//! that stalls its handshake delays new sessions (not open ones) until it
//! goes; the actor port should face only the other nodes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorRef};
use ractor_cluster::{IncomingEncryptionMode, NodeServer, NodeServerMessage};
use rustls::pki_types::ServerName;

use crate::raft::Raft;
use crate::store::ContentHandle;
use crate::util::Backoff;

const RECONNECT: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
/// How often the task compares sessions with the registered members.
const CHECK_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum MeshError {
    #[error("cluster_listen {0:?} is not IP:PORT (the actor network needs a numeric address)")]
    Address(String),
    #[error("cannot start the actor network on {addr}: {message}")]
    Start { addr: String, message: String },
}

/// TLS of the actor network: the node's certificate for sessions it
/// accepts, and the trust for sessions it opens.
#[derive(Clone)]
pub struct MeshTls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub connector: tokio_rustls::TlsConnector,
}

/// The ractor_cluster name of node `id`.
fn node_name(id: u64) -> String {
    format!("isnode-{id}")
}

/// Starts this node's NodeServer on `listen` (IP:PORT).
pub async fn start(
    id: u64,
    listen: &str,
    secret: &str,
    max_frame: u64,
    tls: Option<&MeshTls>,
) -> Result<ActorRef<NodeServerMessage>, MeshError> {
    let (host, port) =
        crate::util::addr::split_addr(listen).ok_or_else(|| MeshError::Address(listen.into()))?;
    let ip: IpAddr = host.parse().map_err(|_| MeshError::Address(listen.into()))?;
    let server = NodeServer::new(
        port,
        secret.to_string(),
        node_name(id),
        host.to_string(),
        tls.map(|t| IncomingEncryptionMode::Tls(t.acceptor.clone())),
        Some(ractor_cluster::node::NodeConnectionMode::Isolated),
    )
    .with_listen_addr(ip)
    .with_max_inbound_frame_size(max_frame);
    let (actor, _) = Actor::spawn(Some("mesh-node-server".into()), server, ())
        .await
        .map_err(|e| MeshError::Start {
            addr: listen.into(),
            message: e.to_string(),
        })?;
    Ok(actor)
}

/// Keeps a session to every other registered member of the Raft cluster
/// (ractor_cluster drops the duplicate when two nodes dial each other).
pub async fn keep_connected(
    server: ActorRef<NodeServerMessage>,
    raft: Raft,
    content: ContentHandle,
    tls: Option<MeshTls>,
) {
    let me = raft.node_id();
    // node id -> (failures, next attempt)
    let mut retry: HashMap<u64, (u32, Instant)> = HashMap::new();
    loop {
        tokio::time::sleep(CHECK_EVERY).await;
        let Ok(sessions) = ractor::call!(server, NodeServerMessage::GetSessions) else {
            return; // the node server is gone: the node is stopping
        };
        let connected: Vec<String> = sessions
            .values()
            .filter_map(|s| s.peer_name.as_ref().map(|n| n.name.clone()))
            .collect();
        let members: Vec<u64> = {
            let m = raft.metrics();
            let m = m.borrow();
            m.membership_config
                .membership()
                .nodes()
                .map(|(id, _)| *id)
                .collect()
        };
        let targets: Vec<(u64, String)> = {
            let sm = content.read();
            members
                .into_iter()
                .filter(|id| *id != me)
                .filter_map(|id| Some((id, sm.content.nodes.get(&id)?.cluster_addr.clone()?)))
                .collect()
        };
        for (id, addr) in targets {
            let prefix = format!("{}@", node_name(id));
            if connected.iter().any(|n| n.starts_with(&prefix)) {
                retry.remove(&id);
                continue;
            }
            let (failures, next) = retry.get(&id).copied().unwrap_or((0, Instant::now()));
            if Instant::now() < next {
                continue;
            }
            match connect(&server, &addr, tls.as_ref()).await {
                Ok(()) => {
                    tracing::info!(peer = id, %addr, "actor network session opened");
                    // Authentication completes in the background; look again later.
                    retry.insert(id, (0, Instant::now() + Duration::from_secs(2)));
                }
                Err((tls_failed, e)) => {
                    // A refused certificate does not heal by itself: say so once.
                    if tls_failed && failures == 0 {
                        tracing::warn!(peer = id, %addr, error = %e, "cannot open an actor network session; retrying");
                    }
                    let failures = failures + 1;
                    let delay = RECONNECT.delay(failures);
                    tracing::debug!(peer = id, %addr, error = %e, ?delay, "cannot reach the peer's actor network");
                    retry.insert(id, (failures, Instant::now() + delay));
                }
            }
        }
    }
}

/// Opens a session to `addr`, over TLS when `tls` is given (the peer's
/// certificate must name the host of `addr`). An error says whether TLS
/// failed, and why.
async fn connect(
    server: &ActorRef<NodeServerMessage>,
    addr: &str,
    tls: Option<&MeshTls>,
) -> Result<(), (bool, String)> {
    match tls {
        None => ractor_cluster::client_connect(server, addr)
            .await
            .map_err(|e| (false, e.to_string())),
        Some(tls) => {
            let host = crate::util::addr::split_addr(addr)
                .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']').to_string())
                .ok_or_else(|| (false, format!("{addr:?} is not HOST:PORT")))?;
            let name = ServerName::try_from(host).map_err(|e| (false, e.to_string()))?;
            ractor_cluster::client_connect_enc(server, addr, tls.connector.clone(), name)
                .await
                .map_err(|e| match e {
                    ractor_cluster::ClientConnectErr::Encryption(e) => {
                        (true, format!("TLS handshake failed: {e}"))
                    }
                    other => (false, other.to_string()),
                })
        }
    }
}
