//! Serving the API on its listener so that no client can hold the node:
//! a connection that sends nothing, or whose request headers do not arrive
//! within `header_timeout`, is closed; at most `max_connections` are open
//! at once. At the cap, the oldest connection that has not sent a byte yet
//! is closed to make room for the new one, so a flood of silent clients
//! cannot keep a client that speaks from being served; only when every
//! connection is in use is a new one closed at once. Connections in use
//! (Raft peers included) are never closed for another.
//!
//! With TLS, the first byte tells a TLS ClientHello (0x16) from plain HTTP,
//! so one port serves both: the handshake must end within the same
//! header-read deadline, and a plain client is answered only with an error
//! saying to use https (unless it comes from loopback and
//! `allow_plain_loopback` is set).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Semaphore};
use tokio_rustls::TlsAcceptor;

/// The first byte of a TLS record carrying a handshake (ClientHello).
const TLS_HANDSHAKE: u8 = 0x16;

/// Connections accepted that have not sent a byte yet, oldest first, each
/// with the switch that closes it.
#[derive(Default)]
struct Silent {
    next: u64,
    waiting: BTreeMap<u64, oneshot::Sender<()>>,
}

type SilentSet = Arc<Mutex<Silent>>;

fn lock(s: &SilentSet) -> std::sync::MutexGuard<'_, Silent> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// Limits of the listener (node settings `header_read_timeout_seconds`,
/// `max_connections`).
#[derive(Debug, Clone, Copy)]
pub struct ListenLimits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

/// TLS on the listener (node settings `tls*`, `allow_plain_loopback`).
#[derive(Clone)]
pub struct ListenTls {
    pub acceptor: TlsAcceptor,
    /// Serve plain HTTP to loopback peers too.
    pub allow_plain_loopback: bool,
}

/// ALPN protocols the listener offers: h2 first (gRPC needs it).
pub const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Serves `router` on `listener` until `shutdown` resolves, then lets open
/// connections finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: ListenLimits,
    tls: Option<ListenTls>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let silent = SilentSet::default();
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // Out of descriptors or the like: the connections open go
                // on; try again shortly rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                // Make room by closing the oldest silent connection; its
                // slot is free as soon as its task sees the switch.
                let oldest = lock(&silent).waiting.pop_first();
                let freed = match oldest {
                    Some((_, close)) => {
                        let _ = close.send(());
                        tokio::time::timeout(Duration::from_secs(1), slots.clone().acquire_owned())
                            .await
                            .ok()
                            .and_then(Result::ok)
                    }
                    None => None,
                };
                let Some(slot) = freed else {
                    tracing::warn!(peer = %peer, max = limits.max_connections, "connection refused: the node holds its most connections, all in use");
                    drop(stream);
                    continue;
                };
                slot
            }
        };
        let (builder, router, watcher, tls) =
            (builder.clone(), router.clone(), graceful.watcher(), tls.clone());
        // Until it speaks, a connection may be closed to make room for
        // another; numbered here, in the order of acceptance.
        let (close, closed) = oneshot::channel();
        let id = {
            let mut s = lock(&silent);
            s.next += 1;
            let id = s.next;
            s.waiting.insert(id, close);
            id
        };
        let silent = silent.clone();
        tokio::spawn(async move {
            // The first bytes and any TLS handshake share one deadline.
            let deadline = tokio::time::Instant::now() + limits.header_timeout;
            // A client that connects and says nothing is let go: the
            // protocol is only known from its first bytes.
            let mut first = [0u8; 1];
            let spoke = tokio::select! {
                r = tokio::time::timeout_at(deadline, stream.peek(&mut first)) => matches!(r, Ok(Ok(n)) if n > 0),
                _ = closed => false,
            };
            lock(&silent).waiting.remove(&id);
            if !spoke {
                return;
            }
            // The peer's address, for login back-off and logs (`api::auth`).
            let router = tower::ServiceExt::map_request(
                router,
                move |mut r: axum::http::Request<hyper::body::Incoming>| {
                    r.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                    r
                },
            );
            let served = match tls {
                None => serve_one(&builder, stream, router, watcher).await,
                Some(tls) if first[0] == TLS_HANDSHAKE => {
                    match tokio::time::timeout_at(deadline, tls.acceptor.accept(stream)).await {
                        Ok(Ok(secured)) => serve_one(&builder, secured, router, watcher).await,
                        Ok(Err(e)) => Err(format!("TLS handshake failed: {e}").into()),
                        Err(_) => Err("TLS handshake not finished within the header timeout".into()),
                    }
                }
                Some(tls) if tls.allow_plain_loopback && peer.ip().to_canonical().is_loopback() => {
                    serve_one(&builder, stream, router, watcher).await
                }
                Some(_) => serve_one(&builder, stream, refuse_plain_router(), watcher).await,
            };
            if let Err(e) = served {
                tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    // In-flight requests finish; the caller bounds how long it waits.
    graceful.shutdown().await;
    Ok(())
}

/// Serves one connection (plain or TLS) until it ends or the node shuts down.
async fn serve_one<I, S>(
    builder: &Builder<TokioExecutor>,
    io: I,
    service: S,
    watcher: hyper_util::server::graceful::Watcher,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<
            axum::http::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let connection = builder
        .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service))
        .into_owned();
    watcher.watch(connection).await
}

/// What a plain-HTTP client of a TLS listener is told.
const PLAIN_REFUSED: &str = "this node accepts only TLS connections: use https:// (iscli: leave out \
     -i, and pass --ca with the node's certificate if it is self-signed)";

/// Answers every request of a plain connection to a TLS listener with the
/// error saying to use TLS: a gRPC status for gRPC clients, else 400 with
/// the API's error document.
fn refuse_plain_router() -> axum::Router {
    axum::Router::new().fallback(|req: axum::http::Request<axum::body::Body>| async move {
        let http1 = req.version() < axum::http::Version::HTTP_2;
        let grpc = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/grpc"));
        let mut response = if grpc {
            tonic::Status::failed_precondition(PLAIN_REFUSED).into_http::<axum::body::Body>()
        } else {
            axum::response::IntoResponse::into_response(super::error::ApiError::bad_request(PLAIN_REFUSED))
        };
        if http1 {
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    })
}

/// Raises this process's open-file limit to its hard limit, so the
/// connection cap, not the descriptor limit, is what refuses clients.
/// Answers the limit now in force.
pub fn raise_file_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    lim.rlim_cur
}
