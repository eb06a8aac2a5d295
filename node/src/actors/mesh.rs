//! The actor network between nodes (ractor_cluster): this node's
//! `NodeServer`, and a task that keeps a session open to every other
//! registered member, reconnecting with capped exponential backoff. Once
//! connected, process groups (workers, dispatch inboxes) span the nodes.
//!
//! Sessions authenticate with the cluster secret as ractor_cluster's cookie.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorRef};
use ractor_cluster::{NodeServer, NodeServerMessage};

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
) -> Result<ActorRef<NodeServerMessage>, MeshError> {
    let (host, port) =
        crate::util::addr::split_addr(listen).ok_or_else(|| MeshError::Address(listen.into()))?;
    let ip: IpAddr = host.parse().map_err(|_| MeshError::Address(listen.into()))?;
    let server = NodeServer::new(
        port,
        secret.to_string(),
        node_name(id),
        host.to_string(),
        None,
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
pub async fn keep_connected(server: ActorRef<NodeServerMessage>, raft: Raft, content: ContentHandle) {
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
            match ractor_cluster::client_connect(&server, addr.as_str()).await {
                Ok(()) => {
                    tracing::info!(peer = id, %addr, "actor network session opened");
                    // Authentication completes in the background; look again later.
                    retry.insert(id, (0, Instant::now() + Duration::from_secs(2)));
                }
                Err(e) => {
                    let failures = failures + 1;
                    let delay = RECONNECT.delay(failures);
                    tracing::debug!(peer = id, %addr, error = %e, ?delay, "cannot reach the peer's actor network");
                    retry.insert(id, (failures, Instant::now() + delay));
                }
            }
        }
    }
}
