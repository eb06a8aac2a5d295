//! The OpenAPI document of the REST bridge, served at
//! `GET /api/v1/openapi.json`. Its operations come from the handlers'
//! `#[utoipa::path]` attributes, collected by the same `rest::routes` that
//! registers the routes, and its schemas from the handlers' types (the
//! proto messages derive `utoipa::ToSchema`, see `proto/build.rs`). This
//! module adds what is the same for every operation: the two security
//! schemes and the error answers (the document of `api::error`).
//!
//! The document is public (no credentials needed, `api::auth`): it only
//! describes the contract, which is published with the source, and tools
//! that read it (clients, fuzzers) need it before they hold credentials.
//!
//! **Invariant:** every REST route is in the document with its permission,
//! and nothing else is: routes are registered only from their
//! `#[utoipa::path]` (`routes!`), checked by `no_route_is_registered_undocumented`;
//! the operations and their permissions are pinned by
//! `every_operation_is_documented_with_its_permission`, and
//! `tests/tests/openapi.rs` calls every documented operation on a live node.
//! The probes `/health` and `/ready` (`api::ready`) are outside `/api/v1`
//! and so outside this document, like the web UI's files.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};
use utoipa::OpenApi as _;

use super::error::ErrorDoc;

/// Where the document is served.
pub const PATH: &str = "/api/v1/openapi.json";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Integration Service REST API",
        description = "The REST bridge of an Integration Service node: the operations of the gRPC API \
            as JSON under /api/v1. Every error answers {\"error\": \"...\", \"details\": [...]}."
    ),
    components(schemas(ErrorDoc)),
    security(("basic" = []), ("api_key" = [])),
    tags(
        (name = "steps"), (name = "applications"), (name = "tasks", description = "runs and step tasks"),
        (name = "configurations"), (name = "schedules"), (name = "syncpacks"), (name = "reports"),
        (name = "cache"), (name = "system"), (name = "cluster"), (name = "users"), (name = "roles"),
        (name = "apikeys"), (name = "audit"),
    )
)]
struct ApiDoc;

/// The document, built once.
pub fn document() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        doc.merge(super::rest::routes(0).into_openapi());
        finish(&mut doc);
        doc
    })
}

/// The OpenAPI 3.1 document of this API (no credentials needed).
#[utoipa::path(get, path = "/openapi.json", tag = "system", security(()),
    responses((status = 200, description = "this document", body = Object)))]
pub(super) async fn openapi_json() -> axum::response::Response {
    static TEXT: OnceLock<String> = OnceLock::new();
    let text = TEXT.get_or_init(|| document().to_json().unwrap_or_default());
    ([(header::CONTENT_TYPE, "application/json")], text.as_str()).into_response()
}

/// The error answers, by status: (name in `components/responses`, description).
const ERRORS: &[(&str, &str, &str)] = &[
    ("400", "BadRequest", "bad input; `details` lists every problem"),
    ("401", "Unauthorized", "no valid credentials"),
    (
        "403",
        "Forbidden",
        "the caller's role lacks the permission the operation needs",
    ),
    ("404", "NotFound", "no such item"),
    (
        "409",
        "Conflict",
        "the change conflicts with the state (e.g. a name a SyncPack owns)",
    ),
    (
        "413",
        "PayloadTooLarge",
        "the request body is larger than the node accepts",
    ),
    (
        "429",
        "TooManyAttempts",
        "too many failed logins; `Retry-After` says when to try again",
    ),
    ("500", "Internal", "the node failed"),
    (
        "501",
        "NotImplemented",
        "a feature this version does not have yet",
    ),
    (
        "503",
        "Unavailable",
        "no leader or no majority right now; try again",
    ),
];

/// Adds the security schemes, the error answers of every operation, and
/// writes axum's catch-all segments (`{*key}`) as OpenAPI parameters.
fn finish(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "basic",
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Basic)
                .description(Some("a user's name and password"))
                .build(),
        ),
    );
    components.add_security_scheme(
        "api_key",
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "an API key (POST /api/v1/apikeys) as `Authorization: Bearer KEY`",
                ))
                .build(),
        ),
    );
    for (_, name, description) in ERRORS {
        let error = Response::builder().description(*description).content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorDoc"))),
        );
        components
            .responses
            .insert(name.to_string(), error.build().into());
    }
    let paths = std::mem::take(&mut doc.paths.paths);
    for (path, mut item) in paths {
        for (method, op) in operations(&mut item) {
            add_errors(op, method != "GET");
        }
        doc.paths.paths.insert(path.replace("{*", "{"), item);
    }
}

/// The operations of a path, with their method.
pub fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("GET", &mut item.get),
        ("PUT", &mut item.put),
        ("POST", &mut item.post),
        ("DELETE", &mut item.delete),
        ("PATCH", &mut item.patch),
        ("HEAD", &mut item.head),
        ("OPTIONS", &mut item.options),
        ("TRACE", &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.as_mut().map(|op| (m, op)))
    .collect()
}

/// The error answers an operation can give: every one may fail (5xx) or
/// meet the login back-off; only one with credentials can be refused them;
/// only one with input can get bad input; only one naming an item (a path
/// parameter or a body) can find it missing; only a change can conflict;
/// only one with a body can send too much. Any other status also answers
/// the error document (`default`).
fn add_errors(op: &mut Operation, change: bool) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_path_param = params.iter().any(|p| p.parameter_in == ParameterIn::Path);
    let has_body = op.request_body.is_some();
    let public = op
        .security
        .as_ref()
        .is_some_and(|s| s.iter().any(|r| r == &Default::default()));
    let mut statuses = vec!["429", "500", "503"];
    if !public {
        statuses.extend(["401", "403"]);
    }
    if !params.is_empty() || has_body {
        statuses.push("400");
    }
    if has_path_param || has_body {
        statuses.push("404");
    }
    if change {
        statuses.push("409");
    }
    if has_body {
        statuses.push("413");
    }
    if op.responses.responses.is_empty() {
        // An operation with no answer of its own is one a later version provides.
        statuses.push("501");
    }
    for status in statuses {
        let Some((_, name, _)) = ERRORS.iter().find(|(s, _, _)| *s == status) else {
            continue;
        };
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
    }
    op.responses.responses.insert(
        "default".to_string(),
        Response::builder()
            .description("any other status: the error document")
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("ErrorDoc"))),
            )
            .build()
            .into(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::user::Permission::{self, Admin, Read, Run, Write};
    use axum::http::Method;

    /// Every operation of the REST API and the permission it needs. A route
    /// added without being listed here (and so without a decided
    /// permission) fails `every_operation_is_documented_with_its_permission`.
    const OPERATIONS: &[(&str, &str, Permission)] = &[
        ("GET", "/about", Read),
        ("GET", "/apikeys", Read),
        ("POST", "/apikeys", Read),
        ("DELETE", "/apikeys/{id}", Read),
        ("GET", "/applications", Read),
        ("POST", "/applications", Write),
        ("POST", "/applications/run", Run),
        ("GET", "/applications/{name}", Read),
        ("DELETE", "/applications/{name}", Write),
        ("GET", "/applications/{name}/logs", Read),
        ("POST", "/applications/{name}/run", Run),
        ("GET", "/audit", Admin),
        ("GET", "/cache/{key}", Read),
        ("DELETE", "/cache/{key}", Write),
        ("GET", "/cluster", Read),
        ("POST", "/cluster/nodes", Admin),
        ("DELETE", "/cluster/nodes/{id}", Admin),
        ("POST", "/cluster/rotate-key", Admin),
        ("GET", "/configurations", Read),
        ("POST", "/configurations", Write),
        ("GET", "/configurations/{name}", Read),
        ("DELETE", "/configurations/{name}", Write),
        ("GET", "/license", Read),
        ("POST", "/license", Admin),
        ("DELETE", "/license", Admin),
        ("GET", "/openapi.json", Read),
        ("GET", "/reports", Read),
        ("GET", "/reports/{id}", Read),
        ("PUT", "/reports/{id}", Write),
        ("DELETE", "/reports/{id}", Write),
        ("GET", "/roles", Read),
        ("GET", "/roles/owner", Admin),
        ("POST", "/roles/owner", Admin),
        ("DELETE", "/roles/owner", Admin),
        ("GET", "/roles/owner/{owner}", Admin),
        ("GET", "/schedule", Read),
        ("POST", "/session", Read),
        ("DELETE", "/session", Read),
        ("POST", "/schedule", Write),
        ("POST", "/schedule/preview", Read),
        ("GET", "/schedule/{id}", Read),
        ("PUT", "/schedule/{id}", Write),
        ("DELETE", "/schedule/{id}", Write),
        ("GET", "/steps", Read),
        ("POST", "/steps", Write),
        ("POST", "/steps/run", Run),
        ("GET", "/steps/{name}", Read),
        ("DELETE", "/steps/{name}", Write),
        ("GET", "/syncpacks", Read),
        ("POST", "/syncpacks", Write),
        ("GET", "/syncpacks/{name}", Read),
        ("DELETE", "/syncpacks/{name}", Write),
        ("POST", "/syncpacks/{name}/activate", Write),
        ("POST", "/syncpacks/{name}/install", Write),
        ("GET", "/tasks", Read),
        ("DELETE", "/tasks", Run),
        ("GET", "/tasks/{id}", Read),
        ("DELETE", "/tasks/{id}", Run),
        ("GET", "/tasks/{id}/events", Read),
        ("POST", "/tasks/{id}/replay", Run),
        ("GET", "/tasks/{id}/result", Read),
        ("POST", "/tasks/{id}/revoke", Run),
        ("GET", "/users", Admin),
        ("POST", "/users", Admin),
        ("GET", "/users/me", Read),
        ("DELETE", "/users/{name}", Admin),
        ("PUT", "/users/{name}/password", Read),
    ];

    fn documented() -> Vec<(String, String)> {
        let mut doc = document().clone();
        let mut found = Vec::new();
        for (path, item) in doc.paths.paths.iter_mut() {
            for (method, _) in operations(item) {
                found.push((method.to_string(), path.clone()));
            }
        }
        found.sort();
        found
    }

    #[test]
    fn every_operation_is_documented_with_its_permission() {
        let mut want: Vec<(String, String)> = OPERATIONS
            .iter()
            .map(|(m, p, _)| (m.to_string(), format!("/api/v1{p}")))
            .collect();
        want.sort();
        assert_eq!(
            documented(),
            want,
            "the document's operations differ from OPERATIONS"
        );
        for (method, path, permission) in OPERATIONS {
            let concrete = path.replace(['{', '}'], "");
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            assert_eq!(
                super::super::access::required(&method, &format!("/api/v1{concrete}")),
                *permission,
                "{method} {path}"
            );
        }
    }

    /// Routes exist only through `routes!`, which takes the method and path
    /// from the handler's `#[utoipa::path]`: no REST module registers one by
    /// hand (axum's `route`, `route_service`, `nest_service` or a plain `Router`).
    #[test]
    fn no_route_is_registered_undocumented() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.starts_with("rest") {
                continue;
            }
            let source = std::fs::read_to_string(&path)
                .unwrap()
                .replace("OpenApiRouter::new()", "");
            for manual in [
                ".route(",
                ".route_service(",
                ".nest_service(",
                "Router::new()",
                "axum::routing",
            ] {
                assert!(
                    !source.contains(manual),
                    "{name} registers a route with {manual}; use routes!() with a #[utoipa::path] handler"
                );
            }
            checked += 1;
        }
        assert!(checked >= 6, "found only {checked} REST modules");
    }

    #[test]
    fn errors_and_security_are_described() {
        let doc = serde_json::to_value(document()).unwrap();
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["basic"]["scheme"], "basic");
        assert_eq!(schemes["api_key"]["scheme"], "bearer");
        assert_eq!(
            doc["security"],
            serde_json::json!([{"basic": []}, {"api_key": []}])
        );
        let error = &doc["components"]["schemas"]["ErrorDoc"];
        assert_eq!(error["required"], serde_json::json!(["error", "details"]));
        let post_step = &doc["paths"]["/api/v1/steps"]["post"]["responses"];
        for status in ["400", "401", "403", "409", "413", "429", "500", "503", "default"] {
            assert!(
                post_step.get(status).is_some(),
                "POST /steps lacks {status}: {post_step}"
            );
        }
        let get_step = &doc["paths"]["/api/v1/steps/{name}"]["get"]["responses"];
        assert_eq!(get_step["404"]["$ref"], "#/components/responses/NotFound");
        assert!(
            get_step.get("409").is_none(),
            "a read cannot conflict: {get_step}"
        );
        let license = &doc["paths"]["/api/v1/license"]["get"]["responses"];
        assert!(license.get("501").is_some(), "{license}");
        // The document itself is public: its operation needs no credentials.
        let openapi = &doc["paths"]["/api/v1/openapi.json"]["get"];
        assert_eq!(openapi["security"], serde_json::json!([{}]));
        assert!(openapi["responses"].get("401").is_none());
        // A catch-all route is written as an OpenAPI parameter.
        assert!(doc["paths"].get("/api/v1/cache/{key}").is_some());
    }
}
