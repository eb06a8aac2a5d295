//! The connection to isnode: opening the gRPC channel and one typed method
//! per RPC the CLI uses, answering the node's typed messages as they come:
//! `content` (steps, applications, configurations, syncpacks), `tasks`
//! (running steps and applications, tasks, runs and their events),
//! `schedules` (schedules and reports), `users` (users, roles, API keys,
//! the audit trail) and the system calls (this file: about, the cluster's
//! members and its key); the interceptor that puts the
//! credentials (`Basic` password or `Bearer` API key) on every call
//! (`auth`), and the mapping of every failure (transport errors and
//! `Status` with its JSON details) to a `CliError` (`status`, which puts
//! the node's lines in `iscli` terms with `terms`), and TLS (`tls`). Nothing else in the crate sees tonic.

use std::time::Duration;

use is_proto::v1::{
    About, AddNodeRequest, CacheDeleted, CacheEntry, CacheRequest, ClusterStatus, Empty, IdRequest,
    NameRequest, RemoveNodeRequest, SyncPackRef,
};
use is_proto::IntegrationServiceClient;
use serde_json::Value;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::Status;

use crate::error::{ApiError, ApiErrorKind, CliError};
use crate::settings::{Credentials, Settings, Transport};

mod auth;
mod content;
mod schedules;
mod status;
mod tasks;
mod terms;
mod tls;
mod users;

use auth::Authorization;
use status::{connect_reason, innermost, map_status};

pub(crate) use schedules::ReportQuery;
pub(crate) use tasks::task_kind;
pub(crate) use users::NewKey;

/// Largest answer accepted from the server (lists of steps with sources can
/// be large).
const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The gRPC client with its credentials; cheap to clone.
type Rpc = IntegrationServiceClient<InterceptedService<Channel, Authorization>>;

/// An authenticated connection to one node (the first of `-H a,b,c` that
/// answers).
pub(crate) struct Client {
    rpc: Rpc,
    /// Who the calls act as, for the message of a refused login.
    credentials: Credentials,
    addr: String,
    settings: Settings,
    /// Which of `settings.addresses()` this connection is to.
    at: usize,
    /// The idempotency key of this command's run request: the same on every
    /// node it is sent to, so a request sent again after a lost answer
    /// starts no second run.
    key: String,
}

/// What a delete answered.
pub(crate) type DeletedName = String;

/// A key no other command will make: a digest of the time, the process and
/// a stack address.
fn new_key() -> String {
    use sha2::{Digest, Sha256};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let here = 0u8;
    let digest = Sha256::new()
        .chain_update(nanos.to_le_bytes())
        .chain_update(std::process::id().to_le_bytes())
        .chain_update((&here as *const u8 as usize).to_le_bytes())
        .finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("iscli-{hex}")
}

/// Opens the channel to `addr`: plain HTTP/2, or TLS verifying the server's
/// certificate (`settings.transport`).
async fn open(settings: &Settings, addr: &str) -> Result<Rpc, CliError> {
    // Checked before connecting: a key no header can carry is a usage error.
    let auth = Authorization::new(&settings.credentials)?;
    let invalid = |e: tonic::transport::Error| {
        CliError::Usage(format!("invalid server address {addr}: {}", innermost(&e)))
    };
    let (endpoint, ca) = match &settings.transport {
        Transport::Plain => (
            Endpoint::from_shared(format!("http://{addr}")).map_err(invalid)?,
            None,
        ),
        Transport::Tls { ca } => {
            let endpoint = Endpoint::from_shared(format!("https://{addr}"))
                .map_err(invalid)?
                .tls_config(tls::config(ca.as_deref())?)
                .map_err(invalid)?;
            (endpoint, ca.as_ref().map(|p| p.display().to_string()))
        }
    };
    let channel = endpoint
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .connect()
        .await
        .map_err(|e| match tls::failure(&e) {
            Some((reason, certificate)) => CliError::Tls {
                addr: addr.to_string(),
                reason,
                certificate,
                ca,
            },
            None => CliError::Connect {
                addr: addr.to_string(),
                reason: connect_reason(&e),
            },
        })?;
    Ok(IntegrationServiceClient::with_interceptor(channel, auth)
        .max_decoding_message_size(MAX_RESPONSE_BYTES)
        .max_encoding_message_size(usize::MAX))
}

impl Client {
    /// Connects to the first node of `settings` that answers (`-H a,b,c`:
    /// one that cannot be connected to is skipped; any other failure, TLS
    /// say, ends the attempt).
    pub(crate) async fn connect(settings: &Settings) -> Result<Client, CliError> {
        let (rpc, at, addr) = Self::first_answering(settings, 0).await?;
        Ok(Client {
            rpc,
            credentials: settings.credentials.clone(),
            addr,
            settings: settings.clone(),
            at,
            key: new_key(),
        })
    }

    async fn first_answering(settings: &Settings, from: usize) -> Result<(Rpc, usize, String), CliError> {
        let mut failed = None;
        for (i, addr) in settings.addresses().into_iter().enumerate().skip(from) {
            match open(settings, &addr).await {
                Ok(rpc) => return Ok((rpc, i, addr)),
                Err(e @ CliError::Connect { .. }) => failed = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(failed.unwrap_or_else(|| CliError::Local("no further host to try".into())))
    }

    /// Moves to the next node of `-H a,b,c` that answers, if there is one.
    async fn next_node(&mut self) -> bool {
        match Self::first_answering(&self.settings, self.at + 1).await {
            Ok((rpc, at, addr)) => {
                eprintln!("{} did not answer; trying {addr}", self.addr);
                (self.rpc, self.at, self.addr) = (rpc, at, addr);
                true
            }
            Err(_) => false,
        }
    }

    fn fail(&self, status: Status) -> CliError {
        map_status(&status, &self.credentials, &self.addr)
    }

    // ---- cache ----

    pub(crate) async fn get_cache_entry(&mut self, key: &str, raw: bool) -> Result<CacheEntry, CliError> {
        let request = CacheRequest {
            key: key.to_string(),
            raw,
        };
        match self.rpc.get_cache_entry(request).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn delete_cache_entry(&mut self, key: &str) -> Result<CacheDeleted, CliError> {
        let request = NameRequest {
            name: key.to_string(),
        };
        match self.rpc.delete_cache_entry(request).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    // ---- system ----

    pub(crate) async fn about(&mut self) -> Result<About, CliError> {
        match self.rpc.about(Empty {}).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn cluster_status(&mut self) -> Result<ClusterStatus, CliError> {
        match self.rpc.cluster_status(Empty {}).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn add_cluster_node(
        &mut self,
        node_id: u64,
        address: String,
    ) -> Result<ClusterStatus, CliError> {
        match self
            .rpc
            .add_cluster_node(AddNodeRequest { node_id, address })
            .await
        {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn remove_cluster_node(&mut self, node_id: u64) -> Result<ClusterStatus, CliError> {
        match self.rpc.remove_cluster_node(RemoveNodeRequest { node_id }).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// A new cluster key, every encrypted configuration value sealed again
    /// under it: `{"result": "rotated", "configurations": N, "values": M}`.
    pub(crate) async fn rotate_cluster_key(&mut self) -> Result<Value, CliError> {
        match self.rpc.rotate_cluster_key(Empty {}).await {
            Ok(r) => Ok(document(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }
}

fn id_req(id: &str) -> IdRequest {
    IdRequest { id: id.to_string() }
}

fn name_req(name: &str) -> NameRequest {
    NameRequest {
        name: name.to_string(),
    }
}

fn pack_ref(name: &str, version: Option<&str>, force: bool) -> SyncPackRef {
    SyncPackRef {
        name: name.to_string(),
        version: version.unwrap_or_default().to_string(),
        force,
    }
}

fn deleted_name(answered: String, asked: &str) -> String {
    if answered.is_empty() {
        asked.to_string()
    } else {
        answered
    }
}

/// A JSON document the node sent as text (an application or configuration
/// as stored, the answer of an operation not typed yet) as a value; text
/// that is not JSON is kept as a JSON string so nothing the node said is
/// lost.
pub(crate) fn document(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// The error for an answer that lacks a part the contract promises
/// (`what`: "the task", ...).
pub(crate) fn incomplete(what: &str) -> CliError {
    CliError::Api(ApiError {
        kind: ApiErrorKind::Internal,
        error: format!("the node's answer lacks {what}"),
        details: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_that_are_not_json_are_kept_as_text() {
        assert_eq!(document("{\"a\": [1]}"), serde_json::json!({"a": [1]}));
        assert_eq!(document("not json"), Value::String("not json".into()));
        assert_eq!(
            incomplete("the task").render(),
            "error: the node's answer lacks the task"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn refused_connection_is_reported_clearly() {
        // Bind then drop a listener to get a port nobody listens on.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let settings = Settings {
            host: "127.0.0.1".into(),
            port,
            credentials: Credentials::password("isadmin", "pw"),
            transport: Transport::Plain,
            more_hosts: Vec::new(),
        };
        let err = match Client::connect(&settings).await {
            Ok(_) => panic!("connected to a closed port"),
            Err(e) => e,
        };
        assert_eq!(
            err.render(),
            format!(
                "error: cannot connect to 127.0.0.1:{port} (connection refused) — is isnode \
                 running? Set -H/-P or IS_HOST/IS_PORT."
            )
        );
    }
}
