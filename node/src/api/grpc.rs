//! The gRPC service (the API `iscli` speaks): decodes messages, calls the
//! shared [`Service`], encodes its answer. Answers are the typed messages of `api::views`;
//! uploads travel as the JSON text the operator wrote.

use std::pin::Pin;
use std::time::Duration;

use is_proto::json::from_proto_struct;
use is_proto::v1::*;
use is_proto::IntegrationService;
use serde_json::Value;
use tonic::{Request, Response, Status};

use super::runtime::LogPage;
use super::{views, ApiError, Service};

/// gRPC metadata key of a run request's idempotency key (REST:
/// `Idempotency-Key`; see `runs::idempotency_key`).
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

pub struct GrpcApi {
    svc: Service,
}

impl GrpcApi {
    pub fn new(svc: Service) -> GrpcApi {
        GrpcApi { svc }
    }
}

type Answer<T> = Result<Response<T>, Status>;

fn answer<T>(v: Result<T, ApiError>) -> Answer<T> {
    v.map(Response::new).map_err(Status::from)
}

fn parse(text: &str) -> Result<Value, ApiError> {
    serde_json::from_str(text)
        .map_err(|e| ApiError::bad_request(format!("the document is not valid JSON: {e}")))
}

/// Run parameters as JSON values (none when the request carries none).
fn params_of(params: Option<is_proto::prost_types::Struct>) -> serde_json::Map<String, Value> {
    params.as_ref().map(from_proto_struct).unwrap_or_default()
}

/// The caller, as the authentication middleware found it.
fn principal<T>(request: &Request<T>) -> Result<super::auth::Principal, Status> {
    request
        .extensions()
        .get::<super::auth::Principal>()
        .cloned()
        .ok_or_else(|| Status::from(ApiError::Unauthorized))
}

fn json(v: Value) -> Json {
    Json { json: v.to_string() }
}

/// A listing's page: `limit` 0 is the whole list, an empty cursor the first page.
fn name_page(r: ListContentRequest) -> super::catalog::NamePage {
    super::catalog::NamePage {
        after: Some(r.cursor).filter(|c| !c.is_empty()),
        limit: (r.limit > 0).then_some(r.limit as usize),
        search: Some(r.search),
    }
}

fn wait_of(seconds: u32) -> Duration {
    Duration::from_secs(seconds.into())
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
    async fn put_step(&self, request: Request<PutStepRequest>) -> Answer<Stored> {
        let r = request.into_inner();
        answer(self.svc.put_step(&r.name, &r.source).await)
    }

    async fn list_steps(&self, request: Request<ListContentRequest>) -> Answer<ContentList> {
        Ok(Response::new(
            self.svc.list_steps(&name_page(request.into_inner())),
        ))
    }

    async fn get_step(&self, request: Request<NameRequest>) -> Answer<StepInfo> {
        answer(self.svc.get_step(&request.into_inner().name))
    }

    async fn delete_step(&self, request: Request<NameRequest>) -> Answer<Deleted> {
        answer(self.svc.delete_step(&request.into_inner().name).await)
    }

    async fn put_application(&self, request: Request<Json>) -> Answer<Stored> {
        let doc = parse(&request.into_inner().json)?;
        answer(self.svc.put_application(doc).await)
    }

    async fn list_applications(&self, request: Request<ListContentRequest>) -> Answer<ContentList> {
        answer(self.svc.list_applications(name_page(request.into_inner())).await)
    }

    async fn get_application(&self, request: Request<NameRequest>) -> Answer<Application> {
        let app = self.svc.get_application(&request.into_inner().name)?;
        Ok(Response::new(views::application(&app)))
    }

    async fn delete_application(&self, request: Request<NameRequest>) -> Answer<Deleted> {
        answer(self.svc.delete_application(&request.into_inner().name).await)
    }

    async fn put_configuration(&self, request: Request<Json>) -> Answer<Stored> {
        let doc = parse(&request.into_inner().json)?;
        answer(self.svc.put_configuration(doc).await)
    }

    async fn list_configurations(&self, request: Request<ListContentRequest>) -> Answer<ContentList> {
        Ok(Response::new(
            self.svc.list_configurations(&name_page(request.into_inner())),
        ))
    }

    async fn get_configuration(&self, request: Request<NameRequest>) -> Answer<Configuration> {
        let caller = principal(&request)?;
        let cfg = self.svc.get_configuration(&request.into_inner().name, &caller)?;
        Ok(Response::new(views::configuration(&cfg)))
    }

    async fn delete_configuration(&self, request: Request<NameRequest>) -> Answer<Deleted> {
        answer(self.svc.delete_configuration(&request.into_inner().name).await)
    }

    async fn run_step(&self, request: Request<RunStepRequest>) -> Answer<StepRunAnswer> {
        let r = request.into_inner();
        answer(
            self.svc
                .run_step(&r.name, params_of(r.params), wait_of(r.wait_seconds))
                .await,
        )
    }

    async fn get_task(&self, request: Request<GetTaskRequest>) -> Answer<AnyTask> {
        let r = request.into_inner();
        let logs = LogPage {
            offset: r.logs_offset,
            limit: r.logs_limit,
        };
        answer(self.svc.any_task_status(&r.id, logs).await)
    }

    async fn get_task_result(&self, request: Request<GetTaskResultRequest>) -> Answer<TaskResult> {
        let r = request.into_inner();
        answer(self.svc.task_result(&r.id, &r.format))
    }

    async fn revoke_task(&self, request: Request<IdRequest>) -> Answer<AnyTask> {
        answer(self.svc.revoke_any(&request.into_inner().id).await)
    }

    async fn delete_task(&self, request: Request<IdRequest>) -> Answer<AnyTask> {
        answer(self.svc.revoke_any(&request.into_inner().id).await)
    }

    async fn delete_all_tasks(&self, _request: Request<Empty>) -> Answer<RevokedAll> {
        answer(self.svc.revoke_all().await)
    }

    async fn run_application(&self, request: Request<RunApplicationRequest>) -> Answer<RunAnswer> {
        let key = request
            .metadata()
            .get(IDEMPOTENCY_KEY)
            .map(|v| super::runs::idempotency_key(Some(v.as_bytes())))
            .transpose()
            .map(Option::flatten);
        let r = request.into_inner();
        let wait = wait_of(r.wait_seconds);
        let key = match key {
            Ok(key) => key,
            Err(e) => return answer(Err(e)),
        };
        answer(
            self.svc
                .run_application(&r.name, params_of(r.params), wait, "USER", None, key.as_deref())
                .await,
        )
    }

    async fn get_application_logs(&self, request: Request<NameRequest>) -> Answer<RunStatus> {
        answer(self.svc.application_logs(&request.into_inner().name).await)
    }

    async fn list_tasks(&self, request: Request<ListTasksRequest>) -> Answer<RunList> {
        let r = request.into_inner();
        let limit = if r.limit == 0 {
            50
        } else {
            (r.limit as usize).min(1000)
        };
        let text = |s: String| (!s.is_empty()).then_some(s);
        let query = crate::api::runs::RunQuery {
            app: text(r.app),
            state: text(r.state),
            triggered_by: text(r.triggered_by),
            since: r.since,
            until: r.until,
            cursor: text(r.cursor),
            limit,
        };
        answer(self.svc.list_runs(query).await)
    }

    async fn replay_task(&self, request: Request<IdRequest>) -> Answer<RunStatus> {
        let replayed = self.svc.replay(&request.into_inner().id, Duration::ZERO).await?;
        replayed
            .run
            .map(Response::new)
            .ok_or_else(|| Status::internal("the replay started but its status is missing"))
    }

    async fn watch_task(&self, request: Request<WatchRequest>) -> Answer<Self::WatchTaskStream> {
        use futures::StreamExt;
        let request = request.into_inner();
        let events = self.svc.watch_task(&request.id, Some(&request.after))?;
        Ok(Response::new(Box::pin(events.map(Ok))))
    }

    async fn get_cache_entry(&self, request: Request<CacheRequest>) -> Answer<CacheEntry> {
        let request = request.into_inner();
        answer(self.svc.cache_get(&request.key, request.raw))
    }

    async fn delete_cache_entry(&self, request: Request<NameRequest>) -> Answer<CacheDeleted> {
        answer(self.svc.cache_delete(&request.into_inner().name).await)
    }

    async fn about(&self, _request: Request<Empty>) -> Answer<About> {
        Ok(Response::new(self.svc.about()))
    }

    async fn cluster_status(&self, _request: Request<Empty>) -> Answer<ClusterStatus> {
        Ok(Response::new(self.svc.cluster_status().await))
    }

    async fn add_cluster_node(&self, request: Request<AddNodeRequest>) -> Answer<ClusterStatus> {
        let r = request.into_inner();
        answer(self.svc.add_cluster_node(r.node_id, &r.address).await)
    }

    async fn remove_cluster_node(&self, request: Request<RemoveNodeRequest>) -> Answer<ClusterStatus> {
        answer(self.svc.remove_cluster_node(request.into_inner().node_id).await)
    }

    type WatchTaskStream = Pin<Box<dyn futures::Stream<Item = Result<TaskEvent, Status>> + Send + 'static>>;

    async fn upload_sync_pack(&self, request: Request<UploadSyncPackRequest>) -> Answer<Json> {
        let r = request.into_inner();
        let file = super::rest_packs::wheel_to_file(&self.svc, &r.wheel)?;
        drop(r.wheel);
        answer(
            self.svc
                .upload_syncpack(&r.file_name, file, r.overwrite)
                .await
                .map(json),
        )
    }

    async fn list_sync_packs(&self, request: Request<ListSyncPacksRequest>) -> Answer<Json> {
        let r = request.into_inner();
        Ok(Response::new(json(
            self.svc.list_syncpacks(r.only_installed, r.only_activated),
        )))
    }

    async fn get_sync_pack(&self, request: Request<NameRequest>) -> Answer<Json> {
        answer(self.svc.get_syncpack(&request.into_inner().name).map(json))
    }

    async fn delete_sync_pack(&self, request: Request<SyncPackRef>) -> Answer<Deleted> {
        let r = request.into_inner();
        let version = Some(r.version.as_str()).filter(|v| !v.is_empty());
        answer(
            self.svc
                .delete_syncpack(&r.name, version, r.force)
                .await
                .map(|_| Deleted {
                    name: r.name.clone(),
                    deleted: true,
                }),
        )
    }

    async fn activate_sync_pack(&self, request: Request<SyncPackRef>) -> Answer<Json> {
        let r = request.into_inner();
        let version = Some(r.version.as_str()).filter(|v| !v.is_empty());
        answer(
            self.svc
                .activate_syncpack(&r.name, version, r.force)
                .await
                .map(json),
        )
    }

    /// Answers at once; the nodes install in the background (follow with
    /// `GetSyncPack`).
    async fn install_sync_pack(&self, request: Request<SyncPackRef>) -> Answer<Json> {
        let r = request.into_inner();
        let version = Some(r.version.as_str()).filter(|v| !v.is_empty());
        answer(
            self.svc
                .install_syncpack(&r.name, version)
                .await
                .map(|(v, _)| json(v)),
        )
    }

    async fn put_schedule(&self, request: Request<Json>) -> Answer<Json> {
        let doc = match parse(&request.into_inner().json) {
            Ok(doc) => doc,
            Err(e) => return answer(Err(e)),
        };
        answer(self.svc.put_schedule(doc).await.map(json))
    }

    async fn list_schedules(&self, _request: Request<Empty>) -> Answer<Json> {
        Ok(Response::new(json(self.svc.list_schedules())))
    }

    async fn get_schedule(&self, request: Request<IdRequest>) -> Answer<Json> {
        answer(self.svc.get_schedule(&request.into_inner().id).map(json))
    }

    async fn update_schedule(&self, request: Request<UpdateScheduleRequest>) -> Answer<Json> {
        let r = request.into_inner();
        let patch = match parse(&r.json) {
            Ok(doc) => doc,
            Err(e) => return answer(Err(e)),
        };
        answer(self.svc.update_schedule(&r.id, patch).await.map(json))
    }

    async fn delete_schedule(&self, request: Request<IdRequest>) -> Answer<Deleted> {
        answer(self.svc.delete_schedule(&request.into_inner().id).await)
    }

    async fn list_reports(&self, request: Request<ListReportsRequest>) -> Answer<Json> {
        let r = request.into_inner();
        let query = super::reports::ReportQuery {
            app: Some(r.app).filter(|a| !a.is_empty()),
            since: r.since,
            until: r.until,
            cursor: Some(r.cursor).filter(|c| !c.is_empty()),
            limit: if r.limit == 0 { 50 } else { r.limit as usize },
        };
        answer(
            self.svc
                .list_reports(&query)
                .map(|(reports, next)| json(serde_json::json!({"reports": reports, "next_cursor": next}))),
        )
    }

    async fn get_report(&self, request: Request<IdRequest>) -> Answer<Json> {
        answer(self.svc.get_report(&request.into_inner().id).map(json))
    }

    async fn delete_report(&self, request: Request<IdRequest>) -> Answer<Deleted> {
        answer(self.svc.delete_report(&request.into_inner().id).await)
    }

    async fn list_roles(&self, _request: Request<Empty>) -> Answer<Json> {
        Ok(Response::new(json(self.svc.list_roles())))
    }

    async fn list_role_owners(&self, _request: Request<Empty>) -> Answer<Json> {
        Ok(Response::new(json(self.svc.list_role_owners())))
    }

    async fn get_role_owner(&self, request: Request<NameRequest>) -> Answer<Json> {
        answer(self.svc.get_role_owner(&request.into_inner().name).map(json))
    }

    async fn put_role_owner(&self, request: Request<RoleOwner>) -> Answer<Json> {
        let r = request.into_inner();
        answer(self.svc.set_role(&r.owner, Some(&r.role)).await.map(json))
    }

    async fn delete_role_owner(&self, request: Request<RoleOwner>) -> Answer<Json> {
        answer(
            self.svc
                .set_role(&request.into_inner().owner, None)
                .await
                .map(json),
        )
    }

    async fn who_am_i(&self, request: Request<Empty>) -> Answer<Json> {
        let p = principal(&request)?;
        Ok(Response::new(json(self.svc.whoami(&p))))
    }

    async fn list_users(&self, _request: Request<Empty>) -> Answer<Json> {
        Ok(Response::new(json(self.svc.list_users())))
    }

    async fn create_user(&self, request: Request<CreateUserRequest>) -> Answer<Json> {
        let r = request.into_inner();
        let role = if r.role.is_empty() { "viewer" } else { &r.role };
        answer(self.svc.create_user(&r.name, &r.password, role).await.map(json))
    }

    async fn delete_user(&self, request: Request<NameRequest>) -> Answer<Deleted> {
        answer(self.svc.delete_user(&request.into_inner().name).await)
    }

    async fn set_password(&self, request: Request<SetPasswordRequest>) -> Answer<Json> {
        let p = principal(&request)?;
        let r = request.into_inner();
        let name = if r.name.is_empty() { p.user.clone() } else { r.name };
        answer(self.svc.set_password(&p, &name, &r.password).await.map(json))
    }

    async fn create_api_key(&self, request: Request<CreateApiKeyRequest>) -> Answer<Json> {
        let p = principal(&request)?;
        let r = request.into_inner();
        let role = Some(r.role.as_str()).filter(|s| !s.is_empty());
        let days = Some(r.expires_in_days).filter(|d| *d > 0);
        answer(self.svc.create_api_key(&p, &r.label, role, days).await.map(json))
    }

    async fn list_api_keys(&self, request: Request<Empty>) -> Answer<Json> {
        let p = principal(&request)?;
        Ok(Response::new(json(self.svc.list_api_keys(&p))))
    }

    async fn revoke_api_key(&self, request: Request<IdRequest>) -> Answer<Deleted> {
        let p = principal(&request)?;
        answer(self.svc.revoke_api_key(&p, &request.into_inner().id).await)
    }

    async fn rotate_cluster_key(&self, _request: Request<Empty>) -> Answer<Json> {
        answer(self.svc.rotate_cluster_key().await.map(json))
    }

    async fn list_audit(&self, request: Request<ListAuditRequest>) -> Answer<Json> {
        let r = request.into_inner();
        let limit = if r.limit == 0 { 50 } else { r.limit as usize };
        answer(self.svc.list_audit(Some(&r.cursor), limit).map(json))
    }

    later! {
        get_license(Empty) -> Json: "licensing";
        put_license(Json) -> Json: "licensing";
        delete_license(Empty) -> Json: "licensing";
    }
}
