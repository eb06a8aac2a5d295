//! Test harness: runs real `isnode` and `iscli` processes built by the same
//! `cargo test` invocation, and talks to them over REST and gRPC.
//!
//! Nodes listen on port 0, so the OS picks a free port while binding (no
//! window in which another process could take it), and report the port in
//! `DATA_DIR/listen-address`. They keep their data in a temporary directory
//! that lives as long as the [`TestNode`]. Python steps used by the tests
//! live in `fixtures/steps/NAME.py` ([`step_source`]).
//!
//! This file holds what every kind of test needs (binaries, credentials,
//! REST and gRPC calls, log tails); the modules hold the rest, and their
//! items are re-exported here.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::Engine;
use serde_json::Value;

pub mod cluster;
mod fixtures;
mod iscli;
mod node;
mod poll;
pub mod prometheus;
pub mod services;

pub use fixtures::{
    examples_dir, runner_shared_root, shared_tempdir, step_source, syncpack_dir, wheel_dir, Markers,
};
pub use iscli::{
    iscli, iscli_bare, iscli_command, iscli_json, iscli_ok, iscli_out, iscli_tls_command, output_ok,
    position_of, stderr_of, stdout_of,
};
pub use node::{Auth, TestNode};
pub use poll::{closed_within, poll, poll_every, stays, Progress};

pub const PASSWORD: &str = "test-admin-pw";

/// Directory holding the workspace's binaries (`target/debug` or `target/release`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test-binary>
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: run the tests with tests/run-all.sh, which builds the binaries first",
        p.display()
    );
    p
}

/// A loopback port that refuses connections for as long as this value
/// lives: the socket is bound (so no node can be given the port) but never
/// listens (so a connection attempt is refused).
pub struct ClosedPort {
    pub port: u16,
    _socket: tokio::net::TcpSocket,
}

impl ClosedPort {
    pub fn new() -> Result<ClosedPort> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let port = socket.local_addr()?.port();
        Ok(ClosedPort {
            port,
            _socket: socket,
        })
    }
}

pub type GrpcClient = is_proto::IntegrationServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, BasicAuth>,
>;

#[derive(Clone)]
pub struct BasicAuth(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for BasicAuth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

pub async fn grpc_client(port: u16, user: &str, password: &str) -> Result<GrpcClient> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))?
        .connect()
        .await?;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let auth = BasicAuth(format!("Basic {token}").parse()?);
    Ok(is_proto::IntegrationServiceClient::with_interceptor(
        channel, auth,
    ))
}

/// How long the harness's clients keep an idle connection: below the
/// node's `header_read_timeout_seconds` (10 s), after which the node closes
/// an idle keep-alive connection. A longer pool time let a request race that
/// close and fail with "connection closed before message completed" after a
/// test had waited for a schedule's slots.
pub const POOL_IDLE: std::time::Duration = std::time::Duration::from_secs(5);

/// The plain REST client of the harness.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(POOL_IDLE)
        .build()
        .expect("a reqwest client with default TLS settings builds")
}

/// A REST client over https trusting only the PEM certificates in
/// `trusted` (none: it trusts nothing, so every server is refused).
pub fn https_client(trusted: Option<&[u8]>) -> Result<reqwest::Client> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(trusted.unwrap_or_default()) {
        roots.add(cert?)?;
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .pool_idle_timeout(POOL_IDLE)
        .timeout(std::time::Duration::from_secs(40))
        .build()?)
}

/// An administrator's REST call to `url`; answers the status and the JSON
/// body (Null when empty).
pub async fn rest_call(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    body: Option<&Value>,
) -> Result<(u16, Value)> {
    let req = http
        .request(method.parse()?, url)
        .basic_auth("isadmin", Some(PASSWORD));
    let req = match body {
        Some(b) => req.json(b),
        None => req,
    };
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let text = resp.text().await?;
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).with_context(|| format!("body is not JSON: {text}"))?
    };
    Ok((status, json))
}

/// The last `lines` lines of each `nodeI.log` (I = 1..=nodes) under `dir`,
/// for failure messages of multi-node tests.
pub fn log_tails(dir: &Path, nodes: usize, lines: usize) -> String {
    (1..=nodes)
        .map(|i| {
            let log = std::fs::read_to_string(dir.join(format!("node{i}.log"))).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(lines).collect();
            format!(
                "--- node {i} (last lines) ---\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every file under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    hits.push(p);
                }
            }
        }
    }
    hits
}
