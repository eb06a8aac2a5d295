//! `isnode`: parses the command line, sets up logging, runs the node until
//! SIGTERM or Ctrl-C; or, as `isnode runner`, a sandboxed Python runner.
//! Before any thread starts, the node makes itself non-dumpable (so no
//! process of another user, a runner included, can read its memory or
//! `/proc/<pid>/environ`) and wipes its secrets from its environment.

use anyhow::Context;
use clap::Parser;
use is_node::actors::telemetry::Telemetry;
use is_node::config::{Args, LogFormat, Mode, NodeConfig, RunnerSandboxArgs};
use is_node::node::otlp::Traces;
use is_node::node::Node;
use is_node::python::confine::Confinement;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(Mode::Runner { lib, site, sandbox }) = &args.mode {
        std::process::exit(is_node::python::runner::main(lib, site, &confinement(sandbox)));
    }
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        anyhow::bail!(
            "cannot make the node non-dumpable: {}",
            std::io::Error::last_os_error()
        );
    }
    let cfg = NodeConfig::resolve(&args, |k| std::env::var(k).ok())?;
    // Read into the config: nothing else needs them in the environment.
    for secret in [c"IS_ADMIN_PASSWORD", c"IS_CLUSTER_SECRET", c"IS_KEY"] {
        forget_env(secret);
    }
    let filter = EnvFilter::try_new(&cfg.log_level)
        .with_context(|| format!("log_level {:?} is not a valid tracing filter", cfg.log_level))?;
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        // Colors only on a terminal: log files and journald get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let fmt = match cfg.log_format {
        LogFormat::Text => fmt.boxed(),
        LogFormat::Json => fmt.json().boxed(),
    };
    // Before the runtime: the exporter's blocking HTTP client may not be
    // made inside one.
    let traces = match &cfg.otlp_endpoint {
        Some(endpoint) => Some(
            Traces::start(endpoint, cfg.node_id)
                .with_context(|| format!("cannot export spans to otlp_endpoint {endpoint:?}"))?,
        ),
        None => None,
    };
    tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(traces.as_ref().map(|t| t.layer()))
        .init();
    let telemetry = Telemetry::new(traces.as_ref().map(Traces::tracer));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("isnode")
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(run(cfg, telemetry));
    // The spans of the last attempts are sent before the process ends.
    drop(runtime);
    if let Some(traces) = traces {
        traces.shutdown();
    }
    result
}

async fn run(cfg: NodeConfig, telemetry: Telemetry) -> anyhow::Result<()> {
    let node = Node::start(&cfg, telemetry).await?;
    wait_for_stop_signal().await?;
    tracing::info!("stopping");
    node.drain_and_shutdown(std::time::Duration::from_secs_f64(cfg.drain_timeout_seconds))
        .await;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_stop_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    tokio::select! {
        _ = term.recv() => {}
        r = tokio::signal::ctrl_c() => r.context("cannot watch Ctrl-C")?,
    }
    Ok(())
}

fn confinement(a: &RunnerSandboxArgs) -> Confinement {
    Confinement {
        tmp: a.tmp.clone(),
        user: a.uid.zip(a.gid),
        cgroups: a.cgroup.clone(),
        namespaces: a.namespaces,
        landlock: a.landlock,
        read: a.read.clone(),
        shared: a.shared.clone(),
        memory_bytes: a.memory_bytes,
        max_processes: a.max_processes,
    }
}

/// Overwrites the value of variable `name` where the kernel shows the
/// process's initial environment (`/proc/<pid>/environ` reads that memory,
/// which `unsetenv` leaves as it is), then removes the variable.
/// Called before any thread starts.
fn forget_env(name: &std::ffi::CStr) {
    // SAFETY: single-threaded; getenv answers a pointer into the environment
    // block (or null), whose value bytes up to the NUL are ours to overwrite.
    unsafe {
        let value = libc::getenv(name.as_ptr());
        if !value.is_null() {
            let len = libc::strlen(value);
            std::ptr::write_bytes(value, 0, len);
        }
        libc::unsetenv(name.as_ptr());
    }
}
