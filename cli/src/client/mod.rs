//! The connection to isnode: opening the gRPC channel and one typed method
//! per RPC the CLI uses (this file), the interceptor that puts
//! `authorization: Basic ...` on every call (`auth`), and the mapping of
//! every failure (transport errors and `Status` with its JSON details) to a
//! `CliError` (`status`). Nothing else in the crate sees tonic.

use std::time::Duration;

use is_proto::json::to_proto_struct;
use is_proto::v1::{
    AddNodeRequest, Empty, IdRequest, Json, ListTasksRequest, NameRequest, PutStepRequest, RemoveNodeRequest,
    RunApplicationRequest, RunStepRequest, SyncPackRef, TaskEvent, UploadSyncPackRequest,
};
use is_proto::IntegrationServiceClient;
use serde_json::{Map, Value};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Status, Streaming};

use crate::error::CliError;
use crate::settings::Settings;

mod auth;
mod status;

use auth::BasicAuth;
use status::{connect_reason, innermost, map_status};

/// Largest answer accepted from the server (lists of steps with sources can
/// be large).
const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An authenticated connection to one node.
pub(crate) struct Client {
    rpc: IntegrationServiceClient<InterceptedService<Channel, BasicAuth>>,
    user: String,
    addr: String,
}

/// What a delete answered.
pub(crate) type DeletedName = String;

impl Client {
    /// Opens the channel (plain HTTP/2; TLS is not available yet).
    pub(crate) async fn connect(settings: &Settings) -> Result<Client, CliError> {
        let addr = settings.address();
        let uri = format!("http://{addr}");
        let endpoint = Endpoint::from_shared(uri)
            .map_err(|e| CliError::Usage(format!("invalid server address {addr}: {}", innermost(&e))))?;
        let channel = endpoint
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .connect()
            .await
            .map_err(|e| CliError::Connect {
                addr: addr.clone(),
                reason: connect_reason(&e),
            })?;
        let auth = BasicAuth::new(&settings.username, &settings.password);
        let rpc = IntegrationServiceClient::with_interceptor(channel, auth)
            .max_decoding_message_size(MAX_RESPONSE_BYTES)
            .max_encoding_message_size(usize::MAX);
        Ok(Client {
            rpc,
            user: settings.username.clone(),
            addr,
        })
    }

    fn fail(&self, status: Status) -> CliError {
        map_status(&status, &self.user, &self.addr)
    }

    // ---- steps ----

    pub(crate) async fn put_step(&mut self, name: &str, source: String) -> Result<Value, CliError> {
        let req = PutStepRequest {
            name: name.to_string(),
            source,
        };
        match self.rpc.put_step(req).await {
            Ok(r) => json_of(&r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn list_steps(&mut self) -> Result<Value, CliError> {
        match self.rpc.list_steps(Empty {}).await {
            Ok(r) => json_of(&r.into_inner().items),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn get_step(&mut self, name: &str) -> Result<Value, CliError> {
        match self.rpc.get_step(name_req(name)).await {
            Ok(r) => json_of(&r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn delete_step(&mut self, name: &str) -> Result<DeletedName, CliError> {
        match self.rpc.delete_step(name_req(name)).await {
            Ok(r) => Ok(deleted_name(r.into_inner().name, name)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Runs one step alone. Answers whether it finished within
    /// `wait_seconds` and its status (the full task status if it finished,
    /// else `{id, href, state}`).
    pub(crate) async fn run_step(
        &mut self,
        name: &str,
        params: &Map<String, Value>,
        wait_seconds: u32,
    ) -> Result<(bool, Value), CliError> {
        let req = RunStepRequest {
            name: name.to_string(),
            params: Some(to_proto_struct(params)),
            wait_seconds,
        };
        match self.rpc.run_step(req).await {
            Ok(r) => {
                let answer = r.into_inner();
                Ok((answer.finished, json_of(&answer.task)?))
            }
            Err(s) => Err(self.fail(s)),
        }
    }

    // ---- tasks ----

    pub(crate) async fn get_task(&mut self, id: &str) -> Result<Value, CliError> {
        match self.rpc.get_task(id_req(id)).await {
            Ok(r) => json_of(&r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Revokes a task; answers its status afterwards.
    pub(crate) async fn revoke_task(&mut self, id: &str) -> Result<Value, CliError> {
        match self.rpc.revoke_task(id_req(id)).await {
            Ok(r) => json_of(&r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Starts a new run with the same application, variables,
    /// configuration and queue as run `id`; answers the new run's status
    /// (at once, without waiting).
    pub(crate) async fn replay_task(&mut self, id: &str) -> Result<Value, CliError> {
        match self.rpc.replay_task(id_req(id)).await {
            Ok(r) => json_of(&r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Recent runs, newest first: of one application and/or in one state
    /// when given, at most `limit` (None: the server's default).
    pub(crate) async fn list_tasks(
        &mut self,
        app: Option<&str>,
        state: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Value, CliError> {
        let req = ListTasksRequest {
            app: app.unwrap_or_default().to_string(),
            state: state.unwrap_or_default().to_string(),
            limit: limit.unwrap_or(0),
        };
        match self.rpc.list_tasks(req).await {
            Ok(r) => json_of(&r.into_inner().runs),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Subscribes to a task's events (state changes, log records, the end).
    /// For a run the state events cover the run and each of its steps.
    pub(crate) async fn watch_task(&mut self, id: &str) -> Result<TaskEvents, CliError> {
        match self.rpc.watch_task(id_req(id)).await {
            Ok(r) => Ok(TaskEvents {
                stream: r.into_inner(),
                user: self.user.clone(),
                addr: self.addr.clone(),
            }),
            Err(s) => Err(self.fail(s)),
        }
    }

    // ---- applications ----

    pub(crate) async fn put_application(&mut self, json: String) -> Result<Value, CliError> {
        match self.rpc.put_application(Json { json }).await {
            Ok(r) => json_of(&r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn list_applications(&mut self) -> Result<Value, CliError> {
        match self.rpc.list_applications(Empty {}).await {
            Ok(r) => json_of(&r.into_inner().items),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn get_application(&mut self, name: &str) -> Result<Value, CliError> {
        match self.rpc.get_application(name_req(name)).await {
            Ok(r) => Ok(parse_json(&r.into_inner().document_json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn delete_application(&mut self, name: &str) -> Result<DeletedName, CliError> {
        match self.rpc.delete_application(name_req(name)).await {
            Ok(r) => Ok(deleted_name(r.into_inner().name, name)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Starts a run of an application. Answers whether it finished within
    /// `wait_seconds` and its run status (finished or not).
    pub(crate) async fn run_application(
        &mut self,
        name: &str,
        params: &Map<String, Value>,
        wait_seconds: u32,
    ) -> Result<(bool, Value), CliError> {
        let req = RunApplicationRequest {
            name: name.to_string(),
            params: Some(to_proto_struct(params)),
            wait_seconds,
        };
        match self.rpc.run_application(req).await {
            Ok(r) => {
                let answer = r.into_inner();
                Ok((answer.finished, json_of(&answer.run)?))
            }
            Err(s) => Err(self.fail(s)),
        }
    }

    /// The status of the application's last run (with `last_run`, its href).
    pub(crate) async fn application_logs(&mut self, name: &str) -> Result<Value, CliError> {
        match self.rpc.get_application_logs(name_req(name)).await {
            Ok(r) => json_of(&r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    // ---- configurations ----

    pub(crate) async fn put_configuration(&mut self, json: String) -> Result<Value, CliError> {
        match self.rpc.put_configuration(Json { json }).await {
            Ok(r) => json_of(&r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn list_configurations(&mut self) -> Result<Value, CliError> {
        match self.rpc.list_configurations(Empty {}).await {
            Ok(r) => json_of(&r.into_inner().items),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn get_configuration(&mut self, name: &str) -> Result<Value, CliError> {
        match self.rpc.get_configuration(name_req(name)).await {
            Ok(r) => Ok(parse_json(&r.into_inner().document_json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn delete_configuration(&mut self, name: &str) -> Result<DeletedName, CliError> {
        match self.rpc.delete_configuration(name_req(name)).await {
            Ok(r) => Ok(deleted_name(r.into_inner().name, name)),
            Err(s) => Err(self.fail(s)),
        }
    }

    // ---- syncpacks ----

    pub(crate) async fn upload_syncpack(
        &mut self,
        file_name: &str,
        wheel: Vec<u8>,
        overwrite: bool,
    ) -> Result<Value, CliError> {
        let req = UploadSyncPackRequest {
            file_name: file_name.to_string(),
            wheel,
            overwrite,
        };
        match self.rpc.upload_sync_pack(req).await {
            Ok(r) => json_of(&r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn activate_syncpack(
        &mut self,
        name: &str,
        version: Option<&str>,
        force: bool,
    ) -> Result<Value, CliError> {
        match self.rpc.activate_sync_pack(pack_ref(name, version, force)).await {
            Ok(r) => json_of(&r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn install_syncpack(
        &mut self,
        name: &str,
        version: Option<&str>,
        force: bool,
    ) -> Result<Value, CliError> {
        match self.rpc.install_sync_pack(pack_ref(name, version, force)).await {
            Ok(r) => json_of(&r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    // ---- system ----

    pub(crate) async fn about(&mut self) -> Result<Value, CliError> {
        match self.rpc.about(Empty {}).await {
            Ok(r) => json_of(&r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn cluster_status(&mut self) -> Result<Value, CliError> {
        match self.rpc.cluster_status(Empty {}).await {
            Ok(r) => json_of(&r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn add_cluster_node(
        &mut self,
        node_id: u64,
        address: String,
    ) -> Result<Value, CliError> {
        match self
            .rpc
            .add_cluster_node(AddNodeRequest { node_id, address })
            .await
        {
            Ok(r) => json_of(&r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn remove_cluster_node(&mut self, node_id: u64) -> Result<Value, CliError> {
        match self.rpc.remove_cluster_node(RemoveNodeRequest { node_id }).await {
            Ok(r) => json_of(&r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }
}

/// The events of one task, in the order the node sent them.
pub(crate) struct TaskEvents {
    stream: Streaming<TaskEvent>,
    user: String,
    addr: String,
}

impl TaskEvents {
    /// The next event as JSON; None once the node has closed the stream.
    /// Dropping the future before it completes loses nothing.
    pub(crate) async fn next(&mut self) -> Result<Option<Value>, CliError> {
        match self.stream.message().await {
            Ok(Some(event)) => json_of(&event).map(Some),
            Ok(None) => Ok(None),
            Err(s) => Err(map_status(&s, &self.user, &self.addr)),
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

/// A typed answer as the JSON the renderers read (its REST shape).
fn json_of<T: serde::Serialize>(answer: &T) -> Result<Value, CliError> {
    serde_json::to_value(answer).map_err(|e| CliError::Local(format!("cannot read the node's answer: {e}")))
}

/// The server's JSON text as a value; text that is not JSON is kept as a
/// JSON string so nothing the server said is lost.
fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
            username: "isadmin".into(),
            password: "pw".into(),
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
