//! The web UI: the files Vite built from `node/ui` (embedded by build.rs),
//! served from memory at `/` on the API's listener.
//!
//! **Invariant:** the UI's files are public (the sign-in page must load
//! before anyone signed in) and hold no data: every figure a page shows
//! comes from `/api/v1` with the signed-in user's session, so the same
//! authentication and roles apply. Paths under `/api/`, gRPC paths,
//! `/metrics` and the probes `/health` and `/ready` (`api::ready`) are
//! never answered from here.
//!
//! A browser navigation to any other path (a page's own address, such as
//! `/apps/x`) gets `index.html`, whose router shows the page; other
//! clients asking for an unknown path still get the API's JSON 404.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, Response, StatusCode};
use axum::response::IntoResponse;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_ui.rs"));
}

/// What the pages may load and talk to: only this node. Inline style
/// attributes are allowed because the flowchart positions its nodes with them.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// An embedded file: its bytes and, for text that shrinks, their gzip.
fn file(path: &str) -> Option<(&'static [u8], Option<&'static [u8]>)> {
    embedded::FILES
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|(_, bytes, gz)| (*bytes, *gz))
}

fn accepts_gzip(req: &Request) -> bool {
    req.headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.split(',').any(|e| e.trim().starts_with("gzip")))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn accepts_html(req: &Request) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// The embedded file a request asks for: an asset by its path, or
/// `index.html` for a browser navigation to a page. None: not the UI's.
fn wanted(req: &Request) -> Option<&'static str> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return None;
    }
    let path = req.uri().path();
    // `/metrics` is data (api::metrics): never public, even to a browser;
    // the probes are answered by api::ready.
    if path.starts_with("/api/")
        || path == "/api"
        || path.starts_with("/integration.")
        || path == super::metrics::PATH
        || super::ready::is_probe(path)
    {
        return None;
    }
    let rel = path.trim_start_matches('/');
    if !rel.is_empty() && rel != "index.html" {
        if let Some((p, _, _)) = embedded::FILES.iter().find(|(p, _, _)| *p == rel) {
            return Some(p);
        }
    }
    accepts_html(req).then_some("index.html")
}

/// Whether the request is for the UI's public files (checked before
/// authentication, `api::auth`).
pub fn is_public(req: &Request) -> bool {
    wanted(req).is_some()
}

/// The router's fallback: the UI's file, or the API's JSON 404.
pub async fn fallback(req: Request) -> axum::response::Response {
    let Some(path) = wanted(&req) else {
        return super::rest::no_route(req).await.into_response();
    };
    let Some((plain, gz)) = file(path) else {
        return super::rest::no_route(req).await.into_response();
    };
    let gz = gz.filter(|_| accepts_gzip(&req));
    let bytes = gz.unwrap_or(plain);
    // Vite names assets after their content, so they never change; the page
    // itself is checked each time so a new node version is picked up.
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let body = if req.method() == Method::HEAD {
        Body::empty()
    } else {
        Body::from(bytes)
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gz.is_some() {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if path.ends_with(".html") {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: Method, path: &str, accept: &str) -> Request {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::ACCEPT, accept)
            .body(Body::empty())
            .unwrap()
    }

    #[test]
    fn the_build_embedded_a_page_and_its_assets() {
        assert!(file("index.html").is_some());
        let assets: Vec<&str> = embedded::FILES
            .iter()
            .map(|(p, _, _)| *p)
            .filter(|p| p.starts_with("assets/"))
            .collect();
        assert!(
            assets.iter().any(|p| p.ends_with(".js")),
            "no script among {assets:?}"
        );
        let index = std::str::from_utf8(file("index.html").unwrap().0).unwrap();
        // The page loads only from this node: no address of another host.
        assert!(
            !index.contains("http://") && !index.contains("https://"),
            "{index}"
        );
    }

    #[test]
    fn scripts_are_compressed_once_and_unpack_to_themselves() {
        use std::io::Read;
        let (name, plain, gz) = embedded::FILES
            .iter()
            .filter(|(p, _, _)| p.ends_with(".js"))
            .max_by_key(|(_, plain, _)| plain.len())
            .expect("a script");
        let gz: &[u8] = gz.unwrap_or_else(|| panic!("{name} has no gzip"));
        assert!(
            gz.len() < plain.len() / 2,
            "{name}: {} of {}",
            gz.len(),
            plain.len()
        );
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(gz).read_to_end(&mut back).unwrap();
        assert_eq!(back.as_slice(), *plain);
    }

    #[test]
    fn browser_navigations_get_the_page_and_api_paths_never_do() {
        let html = "text/html,application/xhtml+xml";
        assert_eq!(wanted(&req(Method::GET, "/", html)), Some("index.html"));
        assert_eq!(wanted(&req(Method::GET, "/apps/x%20y", html)), Some("index.html"));
        assert_eq!(wanted(&req(Method::GET, "/api/v1/nope", html)), None);
        // The probes are answered by api::ready, to browsers too.
        assert_eq!(wanted(&req(Method::GET, "/ready", html)), None);
        assert_eq!(wanted(&req(Method::GET, "/health", html)), None);
        assert_eq!(
            wanted(&req(
                Method::GET,
                "/integration.v1.IntegrationService/ListSteps",
                html
            )),
            None
        );
        assert_eq!(wanted(&req(Method::POST, "/apps/x", html)), None);
        // The metrics are data: a browser there meets authentication.
        assert_eq!(wanted(&req(Method::GET, "/metrics", html)), None);
        // A script asking for an unknown path keeps the API's JSON 404.
        assert_eq!(wanted(&req(Method::GET, "/nope", "application/json")), None);
        let (asset, _, _) = embedded::FILES
            .iter()
            .find(|(p, _, _)| p.starts_with("assets/"))
            .unwrap();
        assert_eq!(
            wanted(&req(Method::GET, &format!("/{asset}"), "*/*")),
            Some(*asset)
        );
    }
}
