//! The gRPC service (the API `iscli` speaks): decodes messages, calls the
//! shared [`Service`], encodes its answer. Documents travel as JSON text.

use std::pin::Pin;

use is_proto::v1::*;
use is_proto::IntegrationService;
use serde_json::Value;
use tonic::{Request, Response, Status};

use super::{ApiError, Service};

pub struct GrpcApi {
    svc: Service,
}

impl GrpcApi {
    pub fn new(svc: Service) -> GrpcApi {
        GrpcApi { svc }
    }
}

type Answer<T> = Result<Response<T>, Status>;

fn json(v: Value) -> Answer<Json> {
    Ok(Response::new(Json { json: v.to_string() }))
}

fn parse(text: &str) -> Result<Value, ApiError> {
    serde_json::from_str(text)
        .map_err(|e| ApiError::bad_request(format!("the document is not valid JSON: {e}")))
}

/// Run parameters: a JSON object, or nothing.
fn params_of(text: &str) -> Result<serde_json::Map<String, Value>, ApiError> {
    if text.trim().is_empty() {
        return Ok(serde_json::Map::new());
    }
    match parse(text)? {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::bad_request("params_json must be a JSON object")),
    }
}

fn deleted(v: Result<Value, ApiError>, name: String) -> Answer<Deleted> {
    v.map(|_| Response::new(Deleted { name })).map_err(Status::from)
}

/// Operations of the contract that a later feature provides. Written in the
/// desugared form `async_trait` expects, because the attribute expands
/// before this macro does.
macro_rules! later {
    ($($method:ident($req:ty) -> $resp:ty: $feature:literal;)*) => {
        $(
            fn $method<'life0, 'async_trait>(
                &'life0 self,
                _request: Request<$req>,
            ) -> Pin<Box<dyn std::future::Future<Output = Answer<$resp>> + Send + 'async_trait>>
            where
                'life0: 'async_trait,
                Self: 'async_trait,
            {
                Box::pin(async move { Err(ApiError::NotImplemented($feature).into()) })
            }
        )*
    };
}

#[tonic::async_trait]
impl IntegrationService for GrpcApi {
    async fn put_step(&self, request: Request<PutStepRequest>) -> Answer<Json> {
        let r = request.into_inner();
        json(self.svc.put_step(&r.name, &r.source).await?)
    }

    async fn list_steps(&self, _request: Request<Empty>) -> Answer<Json> {
        json(self.svc.list_steps())
    }

    async fn get_step(&self, request: Request<NameRequest>) -> Answer<Json> {
        json(self.svc.get_step(&request.into_inner().name)?)
    }

    async fn delete_step(&self, request: Request<NameRequest>) -> Answer<Deleted> {
        let name = request.into_inner().name;
        deleted(self.svc.delete_step(&name).await, name)
    }

    async fn put_application(&self, request: Request<Json>) -> Answer<Json> {
        let doc = parse(&request.into_inner().json)?;
        json(self.svc.put_application(doc).await?)
    }

    async fn list_applications(&self, _request: Request<Empty>) -> Answer<Json> {
        json(self.svc.list_applications()?)
    }

    async fn get_application(&self, request: Request<NameRequest>) -> Answer<Json> {
        json(self.svc.get_application(&request.into_inner().name)?)
    }

    async fn delete_application(&self, request: Request<NameRequest>) -> Answer<Deleted> {
        let name = request.into_inner().name;
        deleted(self.svc.delete_application(&name).await, name)
    }

    async fn put_configuration(&self, request: Request<Json>) -> Answer<Json> {
        let doc = parse(&request.into_inner().json)?;
        json(self.svc.put_configuration(doc).await?)
    }

    async fn list_configurations(&self, _request: Request<Empty>) -> Answer<Json> {
        json(self.svc.list_configurations()?)
    }

    async fn get_configuration(&self, request: Request<NameRequest>) -> Answer<Json> {
        json(self.svc.get_configuration(&request.into_inner().name)?)
    }

    async fn delete_configuration(&self, request: Request<NameRequest>) -> Answer<Deleted> {
        let name = request.into_inner().name;
        deleted(self.svc.delete_configuration(&name).await, name)
    }

    async fn run_step(&self, request: Request<RunStepRequest>) -> Answer<TaskAnswer> {
        let r = request.into_inner();
        let params = params_of(&r.params_json)?;
        let wait = std::time::Duration::from_secs(r.wait_seconds.into());
        let (finished, status) = self.svc.run_step(&r.name, params, wait).await?;
        Ok(Response::new(TaskAnswer {
            finished,
            status_json: status.to_string(),
        }))
    }

    async fn get_task(&self, request: Request<IdRequest>) -> Answer<Json> {
        json(self.svc.any_task_status(&request.into_inner().id).await?)
    }

    async fn revoke_task(&self, request: Request<IdRequest>) -> Answer<Json> {
        json(self.svc.revoke_any(&request.into_inner().id).await?)
    }

    async fn delete_task(&self, request: Request<IdRequest>) -> Answer<Json> {
        json(self.svc.revoke_any(&request.into_inner().id).await?)
    }

    async fn delete_all_tasks(&self, _request: Request<Empty>) -> Answer<Json> {
        json(self.svc.revoke_all().await?)
    }

    async fn run_application(&self, request: Request<RunApplicationRequest>) -> Answer<TaskAnswer> {
        let r = request.into_inner();
        let params = params_of(&r.params_json)?;
        let wait = std::time::Duration::from_secs(r.wait_seconds.into());
        let status = self
            .svc
            .run_application(&r.name, params, wait, "USER", None)
            .await?;
        Ok(Response::new(TaskAnswer {
            finished: status["end_time"].is_number(),
            status_json: status.to_string(),
        }))
    }

    async fn get_application_logs(&self, request: Request<NameRequest>) -> Answer<Json> {
        json(self.svc.application_logs(&request.into_inner().name).await?)
    }

    async fn list_tasks(&self, request: Request<ListTasksRequest>) -> Answer<Json> {
        let r = request.into_inner();
        let limit = if r.limit == 0 {
            50
        } else {
            (r.limit as usize).min(1000)
        };
        let app = (!r.app.is_empty()).then_some(r.app.as_str());
        let state = (!r.state.is_empty()).then_some(r.state.as_str());
        json(self.svc.list_runs(app, state, limit).await?)
    }

    async fn replay_task(&self, request: Request<IdRequest>) -> Answer<Json> {
        json(
            self.svc
                .replay(&request.into_inner().id, std::time::Duration::ZERO)
                .await?,
        )
    }

    async fn watch_task(&self, request: Request<IdRequest>) -> Answer<Self::WatchTaskStream> {
        use futures::StreamExt;
        let events = self.svc.watch_task(&request.into_inner().id)?;
        let stream = events.map(|v| Ok(TaskEvent { json: v.to_string() }));
        Ok(Response::new(Box::pin(stream)))
    }

    async fn get_cache_entry(&self, request: Request<NameRequest>) -> Answer<Json> {
        json(self.svc.cache_get(&request.into_inner().name)?)
    }

    async fn delete_cache_entry(&self, request: Request<NameRequest>) -> Answer<Deleted> {
        let name = request.into_inner().name;
        deleted(self.svc.cache_delete(&name).await, name)
    }

    async fn about(&self, _request: Request<Empty>) -> Answer<Json> {
        json(self.svc.about())
    }

    async fn cluster_status(&self, _request: Request<Empty>) -> Answer<Json> {
        json(self.svc.cluster_status().await)
    }

    async fn add_cluster_node(&self, request: Request<AddNodeRequest>) -> Answer<Json> {
        let r = request.into_inner();
        json(self.svc.add_cluster_node(r.node_id, &r.address).await?)
    }

    async fn remove_cluster_node(&self, request: Request<RemoveNodeRequest>) -> Answer<Json> {
        json(self.svc.remove_cluster_node(request.into_inner().node_id).await?)
    }

    type WatchTaskStream = Pin<Box<dyn futures::Stream<Item = Result<TaskEvent, Status>> + Send + 'static>>;

    later! {
        put_schedule(Json) -> Json: "schedules";
        list_schedules(Empty) -> Json: "schedules";
        delete_schedule(IdRequest) -> Deleted: "schedules";
        upload_sync_pack(UploadSyncPackRequest) -> Json: "SyncPacks";
        list_sync_packs(ListSyncPacksRequest) -> Json: "SyncPacks";
        get_sync_pack(NameRequest) -> Json: "SyncPacks";
        delete_sync_pack(SyncPackRef) -> Deleted: "SyncPacks";
        activate_sync_pack(SyncPackRef) -> Json: "SyncPacks";
        install_sync_pack(SyncPackRef) -> Json: "SyncPacks";
        list_reports(Empty) -> Json: "reports";
        get_report(IdRequest) -> Json: "reports";
        delete_report(IdRequest) -> Deleted: "reports";
        get_license(Empty) -> Json: "licensing";
        put_license(Json) -> Json: "licensing";
        delete_license(Empty) -> Json: "licensing";
        list_roles(Empty) -> Json: "roles";
        list_role_owners(Empty) -> Json: "roles";
        get_role_owner(NameRequest) -> Json: "roles";
        put_role_owner(RoleOwner) -> Json: "roles";
        delete_role_owner(RoleOwner) -> Json: "roles";
    }
}
