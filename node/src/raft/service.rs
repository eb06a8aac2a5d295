//! The server half of the node-to-node transport (`ClusterInternal`; its
//! client is `network.rs`): openraft's RPCs from peers, requests forwarded
//! to this node as leader, and the leader's view of the cluster. It is
//! served on the public listener but outside user authentication: every
//! call must carry the cluster secret instead.

use is_proto::internal::cluster_internal_server::{ClusterInternal, ClusterInternalServer};
use is_proto::internal::Blob;
use openraft::raft::{AppendEntriesRequest, InstallSnapshotRequest, VoteRequest};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tonic::service::interceptor::{InterceptedService, Interceptor};
use tonic::{Request, Response, Status};

use super::network::SECRET_HEADER;
use super::{serve_leader_request, LeaderRequest, Raft};
use crate::store::{ContentHandle, NodeId, TypeConfig};
use crate::util::wire::{decode, encode};

pub struct InternalApi {
    raft: Raft,
    content: ContentHandle,
}

/// The service behind its secret check.
pub type InternalService = InterceptedService<ClusterInternalServer<InternalApi>, SecretCheck>;

pub fn server(raft: Raft, content: ContentHandle, secret: Option<&str>) -> InternalService {
    let api = InternalApi { raft, content };
    // Peers' messages (log entries with step outputs, snapshot chunks) are
    // as large as they must be, so the secret is checked from the headers
    // before any body is read: a caller without it cannot make the node
    // read a large message.
    let check = SecretCheck {
        secret: secret.map(|s| Sha256::digest(s.as_bytes()).into()),
    };
    InterceptedService::new(
        ClusterInternalServer::new(api)
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX),
        check,
    )
}

/// Checks every call's cluster secret before its message is read.
#[derive(Clone)]
pub struct SecretCheck {
    /// SHA-256 of the cluster secret; None refuses every call.
    secret: Option<[u8; 32]>,
}

impl Interceptor for SecretCheck {
    fn call(&mut self, req: Request<()>) -> Result<Request<()>, Status> {
        let Some(expected) = self.secret else {
            return Err(Status::permission_denied(
                "this node has no cluster_secret and accepts no peer calls; give every node the same cluster_secret",
            ));
        };
        let given = req
            .metadata()
            .get(SECRET_HEADER)
            .map(|v| Sha256::digest(v.as_bytes()))
            .ok_or_else(|| Status::unauthenticated("missing cluster secret"))?;
        // Digests of equal length compared in full: no early exit on a mismatch.
        let diff = given
            .iter()
            .zip(expected.iter())
            .fold(0u8, |d, (a, b)| d | (a ^ b));
        if diff != 0 {
            return Err(Status::unauthenticated(
                "wrong cluster secret: every node of a cluster needs the same cluster_secret",
            ));
        }
        Ok(req)
    }
}

impl InternalApi {
    /// Decodes the payload (the secret was checked by [`SecretCheck`]).
    fn open<T: DeserializeOwned>(&self, req: Request<Blob>) -> Result<T, Status> {
        decode(&req.into_inner().data)
            .map_err(|e| Status::invalid_argument(format!("undecodable payload: {e}")))
    }
}

fn seal<T: Serialize>(v: &T) -> Result<Response<Blob>, Status> {
    encode(v)
        .map(|data| Response::new(Blob { data }))
        .map_err(|e| Status::internal(format!("cannot encode the answer: {e}")))
}

#[tonic::async_trait]
impl ClusterInternal for InternalApi {
    async fn append_entries(&self, req: Request<Blob>) -> Result<Response<Blob>, Status> {
        let rpc: AppendEntriesRequest<TypeConfig> = self.open(req)?;
        self.raft.heard.now();
        seal(&self.raft.append_entries(rpc).await)
    }

    async fn vote(&self, req: Request<Blob>) -> Result<Response<Blob>, Status> {
        let rpc: VoteRequest<NodeId> = self.open(req)?;
        seal(&self.raft.vote(rpc).await)
    }

    async fn install_snapshot(&self, req: Request<Blob>) -> Result<Response<Blob>, Status> {
        let rpc: InstallSnapshotRequest<TypeConfig> = self.open(req)?;
        self.raft.heard.now();
        seal(&self.raft.install_snapshot(rpc).await)
    }

    async fn forward(&self, req: Request<Blob>) -> Result<Response<Blob>, Status> {
        let req: LeaderRequest = self.open(req)?;
        seal(&serve_leader_request(&self.raft, req).await)
    }

    async fn status(&self, req: Request<Blob>) -> Result<Response<Blob>, Status> {
        let () = self.open(req)?;
        seal(&super::status::local_view(&self.raft, &self.content))
    }
}
