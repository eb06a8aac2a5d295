//! `isnode`: parses the command line, sets up logging, runs the node until
//! SIGTERM or Ctrl-C.

use anyhow::Context;
use clap::Parser;
use is_node::config::{Args, LogFormat, Mode, NodeConfig};
use is_node::node::Node;
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(Mode::Runner { lib, site }) = &args.mode {
        std::process::exit(is_node::python::runner::main(lib, site));
    }
    let cfg = NodeConfig::resolve(&args, |k| std::env::var(k).ok())?;
    let filter = EnvFilter::try_new(&cfg.log_level)
        .with_context(|| format!("log_level {:?} is not a valid tracing filter", cfg.log_level))?;
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colors only on a terminal: log files and journald get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match cfg.log_format {
        LogFormat::Text => fmt.init(),
        LogFormat::Json => fmt.json().init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("isnode")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(cfg))
}

async fn run(cfg: NodeConfig) -> anyhow::Result<()> {
    let node = Node::start(&cfg).await?;
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
