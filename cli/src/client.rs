//! The connection to isnode: opening the gRPC channel, the interceptor that
//! puts `authorization: Basic ...` on every call, one typed method per RPC
//! the CLI uses, and the mapping of every failure (transport errors and
//! `Status` with its JSON details) to a `CliError`. Nothing else in the
//! crate sees tonic.

use std::error::Error as StdError;
use std::time::Duration;

use base64::Engine as _;
use is_proto::v1::{
    AddNodeRequest, Empty, IdRequest, Json, ListTasksRequest, NameRequest, PutStepRequest, RemoveNodeRequest,
    RunApplicationRequest, RunStepRequest, SyncPackRef, TaskEvent, UploadSyncPackRequest,
};
use is_proto::IntegrationServiceClient;
use serde_json::{Map, Value};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status, Streaming};

use crate::error::{ApiError, ApiErrorKind, CliError};
use crate::settings::Settings;

/// Largest answer accepted from the server (lists of steps with sources can
/// be large).
const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Adds HTTP Basic credentials to every request.
#[derive(Clone)]
pub(crate) struct BasicAuth {
    header: MetadataValue<Ascii>,
}

impl BasicAuth {
    pub(crate) fn new(user: &str, password: &str) -> Self {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        // Base64 output is plain ASCII, so this cannot fail.
        let header =
            MetadataValue::try_from(format!("Basic {token}")).expect("base64 text is a valid header value");
        BasicAuth { header }
    }
}

impl tonic::service::Interceptor for BasicAuth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.header.clone());
        Ok(request)
    }
}

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
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn list_steps(&mut self) -> Result<Value, CliError> {
        match self.rpc.list_steps(Empty {}).await {
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn get_step(&mut self, name: &str) -> Result<Value, CliError> {
        match self.rpc.get_step(name_req(name)).await {
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
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
            params_json: Value::Object(params.clone()).to_string(),
            wait_seconds,
        };
        match self.rpc.run_step(req).await {
            Ok(r) => {
                let answer = r.into_inner();
                Ok((answer.finished, parse_json(&answer.status_json)))
            }
            Err(s) => Err(self.fail(s)),
        }
    }

    // ---- tasks ----

    pub(crate) async fn get_task(&mut self, id: &str) -> Result<Value, CliError> {
        match self.rpc.get_task(id_req(id)).await {
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Revokes a task; answers its status afterwards.
    pub(crate) async fn revoke_task(&mut self, id: &str) -> Result<Value, CliError> {
        match self.rpc.revoke_task(id_req(id)).await {
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Starts a new run with the same application, variables,
    /// configuration and queue as run `id`; answers the new run's status
    /// (at once, without waiting).
    pub(crate) async fn replay_task(&mut self, id: &str) -> Result<Value, CliError> {
        match self.rpc.replay_task(id_req(id)).await {
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
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
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
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
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn list_applications(&mut self) -> Result<Value, CliError> {
        match self.rpc.list_applications(Empty {}).await {
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn get_application(&mut self, name: &str) -> Result<Value, CliError> {
        match self.rpc.get_application(name_req(name)).await {
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
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
            params_json: Value::Object(params.clone()).to_string(),
            wait_seconds,
        };
        match self.rpc.run_application(req).await {
            Ok(r) => {
                let answer = r.into_inner();
                Ok((answer.finished, parse_json(&answer.status_json)))
            }
            Err(s) => Err(self.fail(s)),
        }
    }

    /// The status of the application's last run (with `last_run`, its href).
    pub(crate) async fn application_logs(&mut self, name: &str) -> Result<Value, CliError> {
        match self.rpc.get_application_logs(name_req(name)).await {
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    // ---- configurations ----

    pub(crate) async fn put_configuration(&mut self, json: String) -> Result<Value, CliError> {
        match self.rpc.put_configuration(Json { json }).await {
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn list_configurations(&mut self) -> Result<Value, CliError> {
        match self.rpc.list_configurations(Empty {}).await {
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn get_configuration(&mut self, name: &str) -> Result<Value, CliError> {
        match self.rpc.get_configuration(name_req(name)).await {
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
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
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
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
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
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
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    // ---- system ----

    pub(crate) async fn about(&mut self) -> Result<Value, CliError> {
        match self.rpc.about(Empty {}).await {
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn cluster_status(&mut self) -> Result<Value, CliError> {
        match self.rpc.cluster_status(Empty {}).await {
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
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
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn remove_cluster_node(&mut self, node_id: u64) -> Result<Value, CliError> {
        match self.rpc.remove_cluster_node(RemoveNodeRequest { node_id }).await {
            Ok(r) => Ok(parse_json(&r.into_inner().json)),
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
            Ok(Some(event)) => Ok(Some(parse_json(&event.json))),
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

/// The server's JSON text as a value; text that is not JSON is kept as a
/// JSON string so nothing the server said is lost.
pub(crate) fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// Turns a failed call into a `CliError`. `user` and `addr` only appear in
/// messages.
pub(crate) fn map_status(status: &Status, user: &str, addr: &str) -> CliError {
    let body = parse_error_body(status.details());
    match status.code() {
        Code::Unauthenticated => {
            return CliError::Auth {
                user: user.to_string(),
            }
        }
        // A transport failure (the node went away mid-call) has no JSON body;
        // an Unavailable the server chose to send (no leader ...) has one.
        Code::Unavailable | Code::Unknown if body.is_none() && is_transport_failure(status) => {
            return CliError::Connect {
                addr: addr.to_string(),
                reason: transport_reason(status),
            }
        }
        _ => {}
    }
    // Something answered HTTP, but not as a gRPC server (a proxy, a web
    // server, the wrong port).
    if body.is_none() && status.message().starts_with("grpc-status header missing") {
        return CliError::Api(ApiError {
            kind: ApiErrorKind::Internal,
            error: format!(
                "the server at {addr} did not answer as isnode's gRPC API ({}) — check -H/-P or IS_HOST/IS_PORT.",
                status.message()
            ),
            details: Vec::new(),
        });
    }
    let kind = match status.code() {
        Code::InvalidArgument | Code::FailedPrecondition => ApiErrorKind::InvalidArgument,
        Code::PermissionDenied => ApiErrorKind::PermissionDenied,
        Code::NotFound => ApiErrorKind::NotFound,
        Code::AlreadyExists => ApiErrorKind::AlreadyExists,
        Code::ResourceExhausted | Code::OutOfRange => ApiErrorKind::TooLarge,
        Code::Unimplemented => ApiErrorKind::Unimplemented,
        Code::Unavailable => ApiErrorKind::Unavailable,
        _ => ApiErrorKind::Internal,
    };
    let (error, details) = match body {
        Some((error, details)) => (error.unwrap_or_else(|| fallback_line(status)), details),
        None => (fallback_line(status), Vec::new()),
    };
    CliError::Api(ApiError { kind, error, details })
}

/// Reads `{"error": "...", "details": [...]}`. None when the bytes are empty
/// or not a JSON object; `error` is None when the object has no usable line.
fn parse_error_body(bytes: &[u8]) -> Option<(Option<String>, Vec<String>)> {
    if bytes.is_empty() {
        return None;
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(bytes) else {
        return None;
    };
    let error = match obj.get("error") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Null) | None => None,
        Some(Value::String(_)) => None,
        Some(other) => Some(other.to_string()),
    };
    let details = match obj.get("details") {
        Some(Value::Array(items)) => items.iter().map(detail_text).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![detail_text(other)],
    };
    Some((error, details))
}

fn detail_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The status message, or the code's description when the message is empty.
fn fallback_line(status: &Status) -> String {
    let msg = status.message().trim();
    if msg.is_empty() {
        status.code().description().to_string()
    } else {
        msg.to_string()
    }
}

/// A status made on this side from a transport error (statuses sent by the
/// server never carry a source error).
fn is_transport_failure(status: &Status) -> bool {
    StdError::source(status).is_some()
        || (status.code() == Code::Unavailable
            && (status.message().contains("transport error")
                || status.message().contains("error trying to connect")))
}

fn transport_reason(status: &Status) -> String {
    match StdError::source(status) {
        Some(src) => describe_io_chain(src).unwrap_or_else(|| innermost(src)),
        None => fallback_line(status),
    }
}

/// A short reason for a failed connect: "connection refused", "timed out",
/// the resolver's message ...
fn connect_reason(err: &tonic::transport::Error) -> String {
    describe_io_chain(err).unwrap_or_else(|| innermost(err))
}

/// Looks for an I/O error in the source chain and names it.
fn describe_io_chain(err: &(dyn StdError + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            let text = match io.kind() {
                K::ConnectionRefused => "connection refused".to_string(),
                K::ConnectionReset => "connection reset".to_string(),
                K::ConnectionAborted => "connection aborted".to_string(),
                K::TimedOut => "timed out".to_string(),
                K::HostUnreachable => "host unreachable".to_string(),
                K::NetworkUnreachable => "network unreachable".to_string(),
                K::AddrNotAvailable => "address not available".to_string(),
                _ => io.to_string(),
            };
            return Some(text);
        }
        cur = e.source();
    }
    None
}

/// The message of the deepest error in the chain (the most specific one).
fn innermost(err: &(dyn StdError + 'static)) -> String {
    let mut cur = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    let text = cur.to_string();
    if text.to_ascii_lowercase().contains("timeout") || text.contains("timed out") {
        "timed out".to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::codegen::Bytes;

    fn status(code: Code, msg: &str, details: &str) -> Status {
        Status::with_details(code, msg, Bytes::from(details.to_string()))
    }

    fn render(s: &Status) -> String {
        map_status(s, "isadmin", "127.0.0.1:8080").render()
    }

    #[test]
    fn json_details_are_all_printed() {
        let s = status(
            Code::InvalidArgument,
            "bad application",
            r#"{"error": "application 'x' is invalid", "details": ["missing field 'steps'", "step 'a' sends output to unknown step 'zz'", "cycle: a -> b -> a"]}"#,
        );
        assert_eq!(
            render(&s),
            "error: application 'x' is invalid\n\
             \x20 - missing field 'steps'\n\
             \x20 - step 'a' sends output to unknown step 'zz'\n\
             \x20 - cycle: a -> b -> a"
        );
        let e = map_status(&s, "u", "a");
        assert_eq!(e.exit_code(), 1);
        match e {
            CliError::Api(api) => assert_eq!(api.kind, ApiErrorKind::InvalidArgument),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn non_string_details_are_shown_as_json() {
        let s = status(
            Code::InvalidArgument,
            "m",
            r#"{"error": "e", "details": [{"line": 3}, 7]}"#,
        );
        assert_eq!(render(&s), "error: e\n  - {\"line\":3}\n  - 7");
    }

    #[test]
    fn empty_or_non_json_details_fall_back_to_the_message() {
        let s = status(Code::NotFound, "step 'Nope' not found", "");
        assert_eq!(render(&s), "error: step 'Nope' not found");
        let s = status(Code::Internal, "boom", "<html>oops</html>");
        assert_eq!(render(&s), "error: boom");
        let s = status(Code::Internal, "boom", r#"{"details": ["d1"]}"#);
        assert_eq!(render(&s), "error: boom\n  - d1");
        let s = status(Code::Internal, "", "");
        assert_eq!(render(&s), "error: Internal error");
    }

    #[test]
    fn a_non_grpc_server_is_named() {
        let s = Status::new(
            Code::Unimplemented,
            "grpc-status header missing, mapped from HTTP status code 404",
        );
        assert_eq!(
            render(&s),
            "error: the server at 127.0.0.1:8080 did not answer as isnode's gRPC API \
             (grpc-status header missing, mapped from HTTP status code 404) — check -H/-P or \
             IS_HOST/IS_PORT."
        );
    }

    #[test]
    fn unauthenticated_names_the_user_and_the_fix() {
        let s = status(Code::Unauthenticated, "bad credentials", "");
        assert_eq!(
            render(&s),
            "error: authentication failed for user 'isadmin' — check -U/-p or IS_USER/IS_PASSWORD."
        );
    }

    #[test]
    fn unimplemented_shows_the_servers_line() {
        let s = status(
            Code::Unimplemented,
            "syncpack source directories",
            r#"{"error": "syncpack upload from a source directory", "details": []}"#,
        );
        assert_eq!(render(&s), "error: syncpack upload from a source directory");
    }

    #[test]
    fn server_sent_unavailable_keeps_its_body_but_transport_failure_is_a_connect_error() {
        let s = status(
            Code::Unavailable,
            "no leader",
            r#"{"error": "no leader elected yet", "details": ["retry in a moment"]}"#,
        );
        assert_eq!(render(&s), "error: no leader elected yet\n  - retry in a moment");
        // A transport error turned into a Status on this side (has a source).
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let s = Status::from_error(Box::new(io));
        let e = map_status(&s, "isadmin", "127.0.0.1:8080");
        assert_eq!(
            e,
            CliError::Connect {
                addr: "127.0.0.1:8080".into(),
                reason: "connection reset".into()
            }
        );
        let s = Status::unavailable("error trying to connect: tcp connect error");
        assert!(matches!(map_status(&s, "u", "a"), CliError::Connect { .. }));
        // A bare Unavailable from the server without a body stays an API error.
        let s = Status::unavailable("draining");
        assert_eq!(render(&s), "error: draining");
    }

    #[test]
    fn too_large_and_forbidden_show_the_servers_line() {
        let s = status(
            Code::ResourceExhausted,
            "m",
            r#"{"error": "body of 80 MiB exceeds the 64 MiB limit", "details": []}"#,
        );
        assert_eq!(render(&s), "error: body of 80 MiB exceeds the 64 MiB limit");
        let s = status(
            Code::PermissionDenied,
            "m",
            r#"{"error": "role 'viewer' may not delete steps"}"#,
        );
        assert_eq!(render(&s), "error: role 'viewer' may not delete steps");
    }

    #[test]
    fn basic_auth_header_is_encoded() {
        use tonic::service::Interceptor;
        let mut auth = BasicAuth::new("isadmin", "s3cret:x");
        let req = auth.call(Request::new(())).unwrap();
        let value = req.metadata().get("authorization").unwrap().to_str().unwrap();
        // base64("isadmin:s3cret:x")
        assert_eq!(value, "Basic aXNhZG1pbjpzM2NyZXQ6eA==");
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
