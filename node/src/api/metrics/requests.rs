//! Counts of the API's requests, for `GET /metrics`: REST and other HTTP
//! requests by method, route template and status; gRPC calls by service,
//! method and status code. A middleware on the router counts each request
//! once its answer is ready.
//!
//! Labels are bounded: the route is the template axum matched
//! (`/api/v1/tasks/{id}`, never the raw path), `fallback` for a path no
//! route matched (the web UI's files, 404s); methods outside the standard
//! ones are `OTHER`; gRPC methods are named only when the contract has them
//! (`api::access::GRPC`, the node-to-node service's five), else `other`.
//! A gRPC status comes from the `grpc-status` header, present when a call
//! failed before any message; a call that fails later, in its trailers,
//! counts as `Ok`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

const PUBLIC_SERVICE: &str = "integration.v1.IntegrationService";
const INTERNAL_SERVICE: &str = "integration.internal.v1.ClusterInternal";
const INTERNAL_METHODS: &[&str] = &["AppendEntries", "Vote", "InstallSnapshot", "Forward", "Status"];

/// What one counter counts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    Http {
        method: &'static str,
        route: String,
        status: u16,
    },
    Grpc {
        service: &'static str,
        method: &'static str,
        code: String,
    },
}

/// The counters, shared by the middleware and the scrape.
#[derive(Clone, Default)]
pub struct RequestCounts {
    inner: Arc<Mutex<BTreeMap<Key, u64>>>,
}

impl RequestCounts {
    fn add(&self, key: Key) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(key).or_default() += 1;
    }

    /// Every counter and its value.
    pub fn snapshot(&self) -> Vec<(Key, u64)> {
        let map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The gRPC service and method a path names, from the known ones only.
fn grpc_call(path: &str) -> Option<(&'static str, &'static str)> {
    let rest = path.strip_prefix('/')?;
    let (service, method) = rest.split_once('/')?;
    if service == PUBLIC_SERVICE {
        let known = super::super::access::GRPC.iter().find(|(m, _)| *m == method);
        return Some((PUBLIC_SERVICE, known.map_or("other", |(m, _)| m)));
    }
    if service == INTERNAL_SERVICE {
        let known = INTERNAL_METHODS.iter().find(|m| **m == method);
        return Some((INTERNAL_SERVICE, known.copied().unwrap_or("other")));
    }
    None
}

/// The status name of a gRPC answer's `grpc-status` header (`Ok` without one).
fn grpc_code(resp: &Response) -> String {
    let code = resp
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .unwrap_or(0);
    format!("{:?}", tonic::Code::from(code))
}

/// The middleware: runs the request, then counts it.
pub async fn count(State(counts): State<RequestCounts>, req: Request, next: Next) -> Response {
    let grpc = grpc_call(req.uri().path());
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "fallback".to_string(), |m| m.as_str().to_string());
    let resp = next.run(req).await;
    counts.add(match grpc {
        Some((service, method)) => Key::Grpc {
            service,
            method,
            code: grpc_code(&resp),
        },
        None => Key::Http {
            method,
            route,
            status: resp.status().as_u16(),
        },
    });
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_calls_are_named_only_from_the_known_methods() {
        assert_eq!(
            grpc_call("/integration.v1.IntegrationService/RunApplication"),
            Some((PUBLIC_SERVICE, "RunApplication"))
        );
        assert_eq!(
            grpc_call("/integration.v1.IntegrationService/Made-Up-Name"),
            Some((PUBLIC_SERVICE, "other"))
        );
        assert_eq!(
            grpc_call("/integration.internal.v1.ClusterInternal/Vote"),
            Some((INTERNAL_SERVICE, "Vote"))
        );
        assert_eq!(
            grpc_call("/integration.internal.v1.ClusterInternal/x"),
            Some((INTERNAL_SERVICE, "other"))
        );
        assert_eq!(grpc_call("/api/v1/tasks/x"), None);
        assert_eq!(grpc_call("/integration.v2.Other/Call"), None);
    }

    #[test]
    fn unusual_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "OTHER");
    }
}
