//! The RPCs of running things: running a step or an application, reading,
//! revoking, replaying and listing tasks and runs, and the stream of a
//! task's events (`TaskEvents`).

use is_proto::json::{to_proto, to_proto_struct};
use is_proto::v1::any_task::Kind;
use is_proto::v1::{
    AnyTask, GetTaskRequest, GetTaskResultRequest, ListTasksRequest, RunAnswer, RunApplicationRequest,
    RunList, RunStatus, RunStepRequest, StepRunAnswer, TaskEvent, TaskStatus, WatchRequest,
};
use serde_json::{Map, Value};
use tonic::Streaming;

use super::status::map_status;
use super::{id_req, incomplete, name_req, Client, Rpc};
use crate::error::CliError;
use crate::settings::Credentials;

impl Client {
    /// Runs one step alone. Answers whether it finished within
    /// `wait_seconds` and its task status.
    pub(crate) async fn run_step(
        &mut self,
        name: &str,
        params: &Map<String, Value>,
        wait_seconds: u32,
    ) -> Result<StepRunAnswer, CliError> {
        let req = RunStepRequest {
            name: name.to_string(),
            params: Some(to_proto_struct(params)),
            wait_seconds,
        };
        let mut answer = match self.rpc.run_step(req).await {
            Ok(r) => r.into_inner(),
            Err(s) => return Err(self.fail(s)),
        };
        if let Some(task) = answer.task.as_mut() {
            self.complete_result(task).await?;
        }
        Ok(answer)
    }

    /// A result too large for the status (`result_href` set) is fetched
    /// whole and put in its place, so what is printed is the whole result.
    async fn complete_result(&mut self, task: &mut TaskStatus) -> Result<(), CliError> {
        if task.result_href.is_none() {
            return Ok(());
        }
        let req = GetTaskResultRequest {
            id: task.id.clone(),
            format: "json".into(),
        };
        let data = match self.rpc.get_task_result(req).await {
            Ok(r) => r.into_inner().data,
            Err(s) => return Err(self.fail(s)),
        };
        let text = String::from_utf8_lossy(&data);
        let value = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.into_owned()));
        task.result = Some(to_proto(&value));
        task.result_size = None;
        task.result_href = None;
        Ok(())
    }

    /// Starts a run of an application. Answers whether it finished within
    /// `wait_seconds` and its run status (finished or not). When the node
    /// is unavailable the request goes to the next node of `-H a,b,c`, with
    /// the same idempotency key.
    pub(crate) async fn run_application(
        &mut self,
        name: &str,
        params: &Map<String, Value>,
        wait_seconds: u32,
    ) -> Result<RunAnswer, CliError> {
        loop {
            let mut req = tonic::Request::new(RunApplicationRequest {
                name: name.to_string(),
                params: Some(to_proto_struct(params)),
                wait_seconds,
            });
            // The same key on every attempt: a node that already started
            // the run answers it instead of starting another.
            if let Ok(key) = self.key.parse() {
                req.metadata_mut().insert("idempotency-key", key);
            }
            match self.rpc.run_application(req).await {
                Ok(r) => return Ok(r.into_inner()),
                Err(s) if s.code() == tonic::Code::Unavailable && self.next_node().await => continue,
                Err(s) => return Err(self.fail(s)),
            }
        }
    }

    /// The status of the application's last run (with `last_run`, its href).
    pub(crate) async fn application_logs(&mut self, name: &str) -> Result<RunStatus, CliError> {
        match self.rpc.get_application_logs(name_req(name)).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// The status of a step task (with its whole log and result) or of a
    /// run (`isapp-...`).
    pub(crate) async fn get_task(&mut self, id: &str) -> Result<AnyTask, CliError> {
        let req = GetTaskRequest {
            id: id.to_string(),
            logs_offset: 0,
            logs_limit: None,
        };
        let mut answer = match self.rpc.get_task(req).await {
            Ok(r) => r.into_inner(),
            Err(s) => return Err(self.fail(s)),
        };
        if let Some(Kind::Task(task)) = answer.kind.as_mut() {
            self.complete_result(task).await?;
        }
        Ok(answer)
    }

    /// The status of step task `id` (an error should it be a run).
    pub(crate) async fn get_step_task(&mut self, id: &str) -> Result<TaskStatus, CliError> {
        match task_kind(self.get_task(id).await?)? {
            Kind::Task(task) => Ok(task),
            Kind::Run(_) => Err(incomplete(&format!(
                "the status of task {id} (it answered a run)"
            ))),
        }
    }

    /// The status of run `id` (an error should it be a step task).
    pub(crate) async fn get_run(&mut self, id: &str) -> Result<RunStatus, CliError> {
        match task_kind(self.get_task(id).await?)? {
            Kind::Run(run) => Ok(run),
            Kind::Task(_) => Err(incomplete(&format!(
                "the status of run {id} (it answered a task)"
            ))),
        }
    }

    /// Revokes a task or a run; answers its status afterwards.
    pub(crate) async fn revoke_task(&mut self, id: &str) -> Result<AnyTask, CliError> {
        match self.rpc.revoke_task(id_req(id)).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Starts a new run with the same application, variables,
    /// configuration and queue as run `id`; answers the new run's status
    /// (at once, without waiting).
    pub(crate) async fn replay_task(&mut self, id: &str) -> Result<RunStatus, CliError> {
        match self.rpc.replay_task(id_req(id)).await {
            Ok(r) => Ok(r.into_inner()),
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
    ) -> Result<RunList, CliError> {
        let req = ListTasksRequest {
            app: app.unwrap_or_default().to_string(),
            state: state.unwrap_or_default().to_string(),
            limit: limit.unwrap_or(0),
            ..ListTasksRequest::default()
        };
        match self.rpc.list_tasks(req).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Subscribes to a task's events (state changes, log records, the end)
    /// from its beginning. For a run the state events cover the run and
    /// each of its steps.
    pub(crate) async fn watch_task(&mut self, id: &str) -> Result<TaskEvents, CliError> {
        let request = WatchRequest {
            id: id.to_string(),
            after: String::new(),
        };
        match self.rpc.watch_task(request).await {
            Ok(r) => Ok(TaskEvents {
                stream: r.into_inner(),
                rpc: self.rpc.clone(),
                id: id.to_string(),
                cursor: String::new(),
                ended: false,
                credentials: self.credentials.clone(),
                addr: self.addr.clone(),
            }),
            Err(s) => Err(self.fail(s)),
        }
    }
}

/// What an `AnyTask` holds: a run or a step task (an error when it holds
/// neither).
pub(crate) fn task_kind(any: AnyTask) -> Result<Kind, CliError> {
    any.kind.ok_or_else(|| incomplete("the task or run"))
}

/// The events of one task, in the order they happened. A stream the node
/// closes early (it stopped) or that breaks is opened again from the last
/// event received, so no event is lost or repeated.
pub(crate) struct TaskEvents {
    stream: Streaming<TaskEvent>,
    rpc: Rpc,
    id: String,
    /// The position after the last event received.
    cursor: String,
    ended: bool,
    credentials: Credentials,
    addr: String,
}

/// How often a broken stream is opened again before giving up.
const RESUME_TRIES: u32 = 5;

impl TaskEvents {
    /// The next event; None once the stream ended and could not be opened
    /// again. Dropping the future before it completes loses nothing.
    pub(crate) async fn next(&mut self) -> Result<Option<TaskEvent>, CliError> {
        let mut tries = 0;
        loop {
            let failure = match self.stream.message().await {
                Ok(Some(event)) => {
                    self.cursor.clone_from(&event.cursor);
                    self.ended |= matches!(event.event, Some(is_proto::v1::task_event::Event::End(_)));
                    return Ok(Some(event));
                }
                Ok(None) if self.ended => return Ok(None),
                Ok(None) => None,
                Err(s) => Some(s),
            };
            tries += 1;
            if tries > RESUME_TRIES {
                return match failure {
                    Some(s) => Err(map_status(&s, &self.credentials, &self.addr)),
                    None => Ok(None),
                };
            }
            tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(tries))).await;
            let request = WatchRequest {
                id: self.id.clone(),
                after: self.cursor.clone(),
            };
            match self.rpc.watch_task(request).await {
                Ok(r) => self.stream = r.into_inner(),
                // Not found, refused: opening again will not help.
                Err(s) if !matches!(s.code(), tonic::Code::Unavailable | tonic::Code::Unknown) => {
                    return Err(map_status(&s, &self.credentials, &self.addr))
                }
                Err(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_a_run_or_a_task() {
        let run = AnyTask {
            kind: Some(Kind::Run(RunStatus {
                id: "isapp-1".into(),
                ..Default::default()
            })),
        };
        assert!(matches!(task_kind(run), Ok(Kind::Run(r)) if r.id == "isapp-1"));
        let task = AnyTask {
            kind: Some(Kind::Task(TaskStatus::default())),
        };
        assert!(matches!(task_kind(task), Ok(Kind::Task(_))));
        let err = task_kind(AnyTask { kind: None }).unwrap_err();
        assert_eq!(err.headline(), "the node's answer lacks the task or run");
    }
}
