//! Which permission each operation of the API needs — the one table for
//! both transports, read by the authentication middleware before a request
//! reaches its handler.
//!
//! **Invariant:** every gRPC method is named in [`GRPC`]; a method missing
//! from it needs `admin` (fail closed). Checked by
//! `every_grpc_method_of_the_contract_is_classified`, which reads the proto.
//!
//! Operations on one's own things (changing one's password, one's API keys)
//! need only `read` here; the service checks that the thing is the caller's
//! or that the caller holds `admin` (`api::users`).

use axum::http::Method;

use crate::model::user::Permission::{self, Admin, Read, Run, Write};

/// gRPC methods of `integration.v1.IntegrationService` and what they need.
pub const GRPC: &[(&str, Permission)] = &[
    ("PutStep", Write),
    ("ListSteps", Read),
    ("GetStep", Read),
    ("DeleteStep", Write),
    ("RunStep", Run),
    ("PutApplication", Write),
    ("ListApplications", Read),
    ("GetApplication", Read),
    ("DeleteApplication", Write),
    ("RunApplication", Run),
    ("GetApplicationLogs", Read),
    ("GetTask", Read),
    ("GetTaskResult", Read),
    ("ListTasks", Read),
    ("ReplayTask", Run),
    ("RevokeTask", Run),
    ("DeleteTask", Run),
    ("DeleteAllTasks", Run),
    ("WatchTask", Read),
    ("PutConfiguration", Write),
    ("ListConfigurations", Read),
    ("GetConfiguration", Read),
    ("DeleteConfiguration", Write),
    ("PutSchedule", Write),
    ("ListSchedules", Read),
    ("GetSchedule", Read),
    ("UpdateSchedule", Write),
    ("DeleteSchedule", Write),
    ("UploadSyncPack", Write),
    ("ListSyncPacks", Read),
    ("GetSyncPack", Read),
    ("DeleteSyncPack", Write),
    ("ActivateSyncPack", Write),
    ("InstallSyncPack", Write),
    ("ListReports", Read),
    ("GetReport", Read),
    ("DeleteReport", Write),
    ("GetCacheEntry", Read),
    ("DeleteCacheEntry", Write),
    ("About", Read),
    ("GetLicense", Read),
    ("PutLicense", Admin),
    ("DeleteLicense", Admin),
    ("ListRoles", Read),
    ("ListRoleOwners", Admin),
    ("GetRoleOwner", Admin),
    ("PutRoleOwner", Admin),
    ("DeleteRoleOwner", Admin),
    ("WhoAmI", Read),
    ("ListUsers", Admin),
    ("CreateUser", Admin),
    ("DeleteUser", Admin),
    ("SetPassword", Read),
    ("CreateApiKey", Read),
    ("ListApiKeys", Read),
    ("RevokeApiKey", Read),
    ("ListAudit", Admin),
    ("ClusterStatus", Read),
    ("AddClusterNode", Admin),
    ("RemoveClusterNode", Admin),
    ("RotateClusterKey", Admin),
];

const GRPC_PREFIX: &str = "/integration.v1.IntegrationService/";

/// The permission a request needs, from its method and path.
pub fn required(method: &Method, path: &str) -> Permission {
    if let Some(name) = path.strip_prefix(GRPC_PREFIX) {
        return GRPC.iter().find(|(m, _)| *m == name).map_or(Admin, |(_, p)| *p);
    }
    match path.strip_prefix("/api/v1") {
        Some(rest) => rest_permission(method, rest),
        // `GET /metrics` (api::metrics) needs read; anything else is a 404
        // for whoever may read.
        None => Read,
    }
}

/// Whether a call changes something (and so is recorded in the audit
/// trail whatever its outcome): REST methods other than GET and HEAD,
/// except the schedule preview (a POST that only computes), and gRPC
/// methods other than the reads (`Get…`, `List…`, `Watch…`, `About`,
/// `WhoAmI`, `ClusterStatus`).
pub fn is_change(method: &Method, path: &str) -> bool {
    match path.strip_prefix(GRPC_PREFIX) {
        Some(name) => {
            !(["Get", "List", "Watch"].iter().any(|p| name.starts_with(p))
                || matches!(name, "About" | "WhoAmI" | "ClusterStatus"))
        }
        None => {
            !(matches!(*method, Method::GET | Method::HEAD)
                || (*method == Method::POST && path.trim_end_matches('/') == "/api/v1/schedule/preview"))
        }
    }
}

fn rest_permission(method: &Method, path: &str) -> Permission {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let read = matches!(*method, Method::GET | Method::HEAD);
    match parts.as_slice() {
        ["users", "me"] if read => Read,
        ["users", _, "password"] if *method == Method::PUT => Read,
        ["users", ..] | ["roles", "owner", ..] | ["audit", ..] => Admin,
        ["apikeys", ..] | ["session"] => Read,
        _ if read => Read,
        // Computes fire times; stores nothing.
        ["schedule", "preview"] if *method == Method::POST => Read,
        ["cluster", "nodes" | "rotate-key", ..] | ["license"] => Admin,
        ["applications", "run"] | ["applications", _, "run"] | ["steps", "run"] => Run,
        ["tasks", _, "replay" | "revoke"] => Run,
        ["tasks"] | ["tasks", _] if *method == Method::DELETE => Run,
        _ => Write,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grpc_method_of_the_contract_is_classified() {
        let proto = include_str!("../../../proto/proto/integration.proto");
        let service = proto
            .split("service IntegrationService")
            .nth(1)
            .expect("the proto defines IntegrationService");
        let mut methods = 0;
        for line in service.lines() {
            let Some(rest) = line.trim().strip_prefix("rpc ") else {
                continue;
            };
            let name = rest.split('(').next().unwrap_or_default().trim();
            assert!(
                GRPC.iter().any(|(m, _)| *m == name),
                "gRPC method {name} has no entry in api::access::GRPC"
            );
            methods += 1;
        }
        assert!(methods > 40, "found only {methods} methods in the proto");
    }

    #[test]
    fn rest_operations_need_what_their_role_table_says() {
        let cases = [
            (Method::GET, "/api/v1/applications", Read),
            (Method::GET, "/api/v1/tasks/x/events", Read),
            (Method::POST, "/api/v1/applications/run", Run),
            (Method::POST, "/api/v1/applications/a/run", Run),
            (Method::POST, "/api/v1/steps/run", Run),
            (Method::POST, "/api/v1/tasks/x/replay", Run),
            (Method::POST, "/api/v1/tasks/x/revoke", Run),
            (Method::DELETE, "/api/v1/tasks/x", Run),
            (Method::DELETE, "/api/v1/tasks", Run),
            (Method::POST, "/api/v1/applications", Write),
            (Method::DELETE, "/api/v1/steps/s", Write),
            (Method::POST, "/api/v1/syncpacks/p/install", Write),
            (Method::PUT, "/api/v1/reports/r", Write),
            (Method::DELETE, "/api/v1/cache/k", Write),
            (Method::POST, "/api/v1/schedule", Write),
            (Method::POST, "/api/v1/schedule/preview", Read),
            (Method::PUT, "/api/v1/schedule/preview", Write),
            (Method::GET, "/api/v1/users", Admin),
            (Method::POST, "/api/v1/users", Admin),
            (Method::GET, "/api/v1/users/me", Read),
            (Method::PUT, "/api/v1/users/bob/password", Read),
            (Method::DELETE, "/api/v1/users/bob", Admin),
            (Method::GET, "/api/v1/roles", Read),
            (Method::GET, "/api/v1/roles/owner", Admin),
            (Method::POST, "/api/v1/roles/owner", Admin),
            (Method::GET, "/api/v1/roles/owner/bob", Admin),
            (Method::GET, "/api/v1/audit", Admin),
            (Method::POST, "/api/v1/apikeys", Read),
            (Method::DELETE, "/api/v1/apikeys/k", Read),
            (Method::POST, "/api/v1/cluster/nodes", Admin),
            (Method::DELETE, "/api/v1/cluster/nodes/2", Admin),
            (Method::GET, "/api/v1/cluster", Read),
            (Method::POST, "/api/v1/cluster/rotate-key", Admin),
            (Method::GET, "/nowhere", Read),
            (Method::GET, "/metrics", Read),
        ];
        for (method, path, want) in cases {
            assert_eq!(required(&method, path), want, "{method} {path}");
        }
        assert_eq!(
            required(&Method::POST, "/integration.v1.IntegrationService/Unknown"),
            Admin
        );
        assert_eq!(
            required(&Method::POST, "/integration.v1.IntegrationService/RunApplication"),
            Run
        );
    }

    #[test]
    fn a_schedule_preview_is_not_a_change() {
        assert!(!is_change(&Method::POST, "/api/v1/schedule/preview"));
        assert!(is_change(&Method::POST, "/api/v1/schedule"));
        assert!(is_change(&Method::DELETE, "/api/v1/schedule/preview"));
        assert!(!is_change(&Method::GET, "/api/v1/schedule"));
    }
}
