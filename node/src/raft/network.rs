//! Node-to-node calls over the peers' gRPC listeners (`ClusterInternal`):
//! openraft's RPCs, and what a member asks of the leader (writes proposed on
//! a follower, membership changes, a new node's request to join). Every call carries the cluster secret;
//! payloads are bincode (both ends run the same build). With TLS on, peers
//! are called over https and their certificates verified against the PEM
//! the node is given ([`PeerTls`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use is_proto::internal::cluster_internal_client::ClusterInternalClient;
use is_proto::internal::Blob;
use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::BasicNode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use crate::store::{NodeId, TypeConfig};
use crate::util::wire::{decode, encode};

/// Metadata key holding the cluster secret on node-to-node calls.
pub const SECRET_HEADER: &str = "x-is-cluster-secret";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Calls without a deadline of their own (forwarded requests).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("this node has no cluster_secret, so it cannot talk to peer {0}; set the same cluster_secret on every node")]
    NoSecret(String),
    #[error("peer address {addr:?} is not usable: {message}")]
    Address { addr: String, message: String },
    #[error("cannot reach peer {addr}: {message}")]
    Unreachable { addr: String, message: String },
    /// Nothing listens at the peer's address (connection refused): the
    /// call was never sent, and the peer's process is not running.
    #[error("peer {addr} is not listening (connection refused): {message}")]
    NotListening { addr: String, message: String },
    #[error("peer {addr} refused the call: {message}")]
    Refused { addr: String, message: String },
    /// The peer does not accept this node's cluster secret.
    #[error("peer {addr} does not accept this node's cluster secret: {message}")]
    Denied { addr: String, message: String },
    #[error(
        "TLS with peer {addr} failed: {message} (every node must trust the others' certificates: \
         tls_ca_file / IS_TLS_CA_FILE, by default the node's own certificate)"
    )]
    Tls { addr: String, message: String },
    #[error("cannot encode or decode a message for peer {addr}: {message}")]
    Codec { addr: String, message: String },
}

/// TLS toward peers: the PEM certificates (a CA's, or the peers' own)
/// their listeners are verified against.
#[derive(Clone)]
pub struct PeerTls {
    pub trusted_pem: Arc<[u8]>,
}

/// Connections to peers by address, shared by the Raft network and the
/// forwarding of writes. Channels connect lazily and reconnect by themselves.
#[derive(Clone)]
pub struct Peers {
    secret: Option<Arc<str>>,
    tls: Option<PeerTls>,
    channels: Arc<Mutex<HashMap<String, Channel>>>,
    /// When each address last answered a call: the leader calls every
    /// member at least once per heartbeat, so this is their health.
    answered: Arc<Mutex<HashMap<String, Instant>>>,
}

impl Peers {
    pub fn new(secret: Option<String>, tls: Option<PeerTls>) -> Peers {
        Peers {
            secret: secret.map(Arc::from),
            tls,
            channels: Arc::default(),
            answered: Arc::default(),
        }
    }

    /// How long ago `addr` last answered a call from this node.
    pub fn last_answer(&self, addr: &str) -> Option<Duration> {
        let answered = self.answered.lock().unwrap_or_else(|p| p.into_inner());
        answered.get(addr).map(Instant::elapsed)
    }

    fn channel(&self, addr: &str) -> Result<Channel, PeerError> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = channels.get(addr) {
            return Ok(c.clone());
        }
        let address = |e: tonic::transport::Error| PeerError::Address {
            addr: addr.to_string(),
            message: e.to_string(),
        };
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let mut endpoint = Endpoint::from_shared(format!("{scheme}://{addr}")).map_err(address)?;
        if let Some(tls) = &self.tls {
            let config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&*tls.trusted_pem));
            endpoint = endpoint.tls_config(config).map_err(address)?;
        }
        let channel = endpoint
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .connect_lazy();
        channels.insert(addr.to_string(), channel.clone());
        Ok(channel)
    }

    /// One call: `method` picks the RPC; the answer is decoded as `R`.
    pub async fn call<Q: Serialize, R: DeserializeOwned>(
        &self,
        addr: &str,
        method: Method,
        request: &Q,
        timeout: Option<Duration>,
    ) -> Result<R, PeerError> {
        let secret = self
            .secret
            .clone()
            .ok_or_else(|| PeerError::NoSecret(addr.to_string()))?;
        let codec = |e: &dyn std::fmt::Display| PeerError::Codec {
            addr: addr.to_string(),
            message: e.to_string(),
        };
        let data = encode(request).map_err(|e| codec(&e))?;
        let mut req = tonic::Request::new(Blob { data });
        req.set_timeout(timeout.unwrap_or(CALL_TIMEOUT));
        let value = secret.parse().map_err(|e| codec(&e))?;
        req.metadata_mut().insert(SECRET_HEADER, value);
        let mut client = ClusterInternalClient::new(self.channel(addr)?)
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        let answer = match method {
            Method::AppendEntries => client.append_entries(req).await,
            Method::Vote => client.vote(req).await,
            Method::InstallSnapshot => client.install_snapshot(req).await,
            Method::Forward => client.forward(req).await,
            Method::Status => client.status(req).await,
        };
        if answer.is_ok() {
            let mut answered = self.answered.lock().unwrap_or_else(|p| p.into_inner());
            answered.insert(addr.to_string(), Instant::now());
        }
        match answer {
            Ok(resp) => decode(&resp.into_inner().data).map_err(|e| codec(&e)),
            Err(status) => Err(match (tls_failure(&status), status.code()) {
                (Some(message), _) => PeerError::Tls {
                    addr: addr.to_string(),
                    message,
                },
                (None, tonic::Code::Unavailable) if connection_refused(&status) => PeerError::NotListening {
                    addr: addr.to_string(),
                    message: status.message().to_string(),
                },
                (None, tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Unknown) => {
                    PeerError::Unreachable {
                        addr: addr.to_string(),
                        message: status.message().to_string(),
                    }
                }
                (None, tonic::Code::Unauthenticated | tonic::Code::PermissionDenied) => PeerError::Denied {
                    addr: addr.to_string(),
                    message: status.message().to_string(),
                },
                (None, _) => PeerError::Refused {
                    addr: addr.to_string(),
                    message: status.message().to_string(),
                },
            }),
        }
    }
}

/// Whether a call failed because its connection was refused: nothing was
/// sent.
fn connection_refused(status: &tonic::Status) -> bool {
    let mut cur = std::error::Error::source(status);
    while let Some(e) = cur {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        cur = e.source();
    }
    false
}

/// The TLS error behind a failed call, if that is why it failed (a
/// certificate the node does not trust, say).
fn tls_failure(status: &tonic::Status) -> Option<String> {
    let mut cur = std::error::Error::source(status);
    while let Some(e) = cur {
        // tokio-rustls reports TLS errors inside an io::Error, whose
        // `source` skips them.
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        if let Some(tls) = inner.or_else(|| e.downcast_ref::<rustls::Error>()) {
            return Some(tls.to_string());
        }
        cur = e.source();
    }
    None
}

#[derive(Debug, Clone, Copy)]
pub enum Method {
    AppendEntries,
    Vote,
    InstallSnapshot,
    Forward,
    Status,
}

/// openraft's network factory: one client per target node.
pub struct PeerNetwork {
    pub peers: Peers,
}

pub struct PeerClient {
    peers: Peers,
    target: NodeId,
    addr: String,
    /// Whether the last failed call was refused (wrong secret, no secret)
    /// rather than unanswered: it picks the backoff openraft asks for next.
    refused: std::sync::atomic::AtomicBool,
}

/// How long openraft waits before retry `n` to a peer that failed: a peer
/// that does not answer is tried again every 500 ms (openraft's own
/// pace: it may be restarting, and while replication to it waits it gets
/// no heartbeats either, so a longer wait makes it start elections); one
/// that refuses (a wrong or missing cluster secret) will not heal by
/// itself, so retries slow down to one per 30 s rather than fill the log.
pub fn retry_delays(refused: bool) -> impl Iterator<Item = Duration> + Send + 'static {
    let b = if refused {
        crate::util::Backoff::new(Duration::from_secs(1), Duration::from_secs(30))
    } else {
        crate::util::Backoff::new(Duration::from_millis(500), Duration::from_millis(500))
    };
    (1u32..).map(move |n| b.delay(n))
}

impl RaftNetworkFactory<TypeConfig> for PeerNetwork {
    type Network = PeerClient;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> PeerClient {
        PeerClient {
            peers: self.peers.clone(),
            target,
            addr: node.addr.clone(),
            refused: Default::default(),
        }
    }
}

impl PeerClient {
    /// A call whose remote answer is openraft's `Result<Resp, E>`.
    async fn rpc<Q: Serialize, R: DeserializeOwned, E: std::error::Error + DeserializeOwned>(
        &self,
        method: Method,
        request: &Q,
        option: &RPCOption,
    ) -> Result<R, RPCError<NodeId, BasicNode, E>> {
        let answer: Result<R, E> = self
            .peers
            .call(&self.addr, method, request, Some(option.hard_ttl()))
            .await
            .map_err(|e| {
                // Unreachable is the error openraft backs off after
                // (`backoff`): a silent peer, and one that will not accept
                // this node (secret, certificate), which waits longer.
                let refused = matches!(
                    e,
                    PeerError::Denied { .. } | PeerError::NoSecret(_) | PeerError::Tls { .. }
                );
                self.refused.store(refused, std::sync::atomic::Ordering::Relaxed);
                match e {
                    PeerError::Unreachable { .. }
                    | PeerError::NotListening { .. }
                    | PeerError::Denied { .. }
                    | PeerError::NoSecret(_)
                    | PeerError::Tls { .. } => RPCError::Unreachable(Unreachable::new(&e)),
                    _ => RPCError::Network(NetworkError::new(&e)),
                }
            })?;
        answer.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetwork<TypeConfig> for PeerClient {
    fn backoff(&self) -> openraft::network::Backoff {
        let refused = self.refused.load(std::sync::atomic::Ordering::Relaxed);
        openraft::network::Backoff::new(retry_delays(refused))
    }

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        self.rpc(Method::AppendEntries, &rpc, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, BasicNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        self.rpc(Method::InstallSnapshot, &rpc, &option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        self.rpc(Method::Vote, &rpc, &option).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn a_refused_connection_is_told_from_a_silent_peer() {
        // Bound and dropped: nothing listens on this port.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let peers = Peers::new(Some("s".into()), None);
        let addr = format!("127.0.0.1:{port}");
        let answer: Result<(), PeerError> = peers
            .call(&addr, Method::Status, &(), Some(Duration::from_secs(2)))
            .await;
        assert!(
            matches!(answer, Err(PeerError::NotListening { .. })),
            "{answer:?}"
        );
    }

    #[test]
    fn refused_peers_are_retried_ever_more_slowly_silent_ones_soon() {
        let ms = |refused| {
            retry_delays(refused)
                .take(7)
                .map(|d| d.as_millis())
                .collect::<Vec<_>>()
        };
        assert_eq!(ms(false), vec![500; 7]);
        assert_eq!(ms(true), vec![1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    }
}
