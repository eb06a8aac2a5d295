//! `-A` (activate) then `-I` (install) of one syncpack, alone or after a
//! successful `-u` upload.
//!
//! The node answers an install at once, while the nodes are still building
//! their environments, so iscli follows it: it asks for the pack every half
//! second until every node has installed that version or failed (or
//! --timeout runs out), showing each node's progress on a terminal. The
//! decisions — which version to follow ([`target_version`]) and where the
//! install stands ([`install_state`]) — are pure functions of the node's
//! document; [`wait_for_install`] carries them out and [`report`] prints
//! how it ended.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;
use tokio::time::{Instant, MissedTickBehavior};

use super::{Context, Outcome};
use crate::args::SyncPackOps;
use crate::client::Client;
use crate::error::{ApiError, ApiErrorKind, CliError};
use crate::output;

/// How often to ask the node where the install stands: often enough that
/// progress looks live, rare enough to cost the node nothing.
const POLL_EVERY: Duration = Duration::from_millis(500);

/// `-A` (one result line, or the node's JSON), then `-I`, followed until
/// the nodes are done (see [`report`] for what it prints).
pub(crate) async fn run(client: &mut Client, ops: &SyncPackOps, ctx: &Context) -> Result<Outcome, CliError> {
    let mut version = ops.version.clone();
    if ops.activate {
        let answer = client
            .activate_syncpack(&ops.name, version.as_deref(), ops.force)
            .await?;
        // The answer describes the version just activated. Naming it from
        // here on makes the install act on that same version even if
        // another one is uploaded meanwhile.
        if version.is_none() {
            version = Some(output::text(&answer, "version")).filter(|v| !v.is_empty());
        }
        let shown = pack_label(&ops.name, version.as_deref());
        ctx.print(&answer, |_| format!("activated syncpack {shown}"))?;
    }
    if !ops.install {
        return Ok(Outcome::Success);
    }
    let answer = client
        .install_syncpack(&ops.name, version.as_deref(), ops.force)
        .await?;
    let target = target_version(&ops.name, version.as_deref(), &answer)?;
    let follow = Follow {
        name: &ops.name,
        version: &target,
        timeout: Duration::from_secs(ops.install_timeout_secs),
        every: POLL_EVERY,
    };
    let mut lines = NodeLines::new();
    let followed = wait_for_install(
        &follow,
        answer,
        async || client.get_syncpack(&ops.name).await,
        |nodes| lines.show(nodes),
    )
    .await;
    // Cleared before anything is printed, on every way out.
    lines.clear();
    let (doc, ended) = followed?;
    report(ctx, &follow, &doc, ended)
}

/// The install being followed, and how.
struct Follow<'a> {
    name: &'a str,
    version: &'a str,
    /// How long to wait for the nodes in all.
    timeout: Duration,
    /// How often to ask the node.
    every: Duration,
}

/// How following an install ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ended {
    /// Every node installed it: how many did.
    Installed(usize),
    /// Every node is done and these failed; how many installed it.
    Failed(Vec<NodeInstall>, usize),
    /// The timeout ran out with some node not done.
    TimedOut,
}

/// Asks for the pack (`fetch`) every `follow.every` until the install of
/// `follow.version` is over or `follow.timeout` has passed, starting from
/// `first` (the install's own answer); each answer where the install is
/// still going is passed to `progress`. Answers how it ended and the last
/// document the node sent.
async fn wait_for_install(
    follow: &Follow<'_>,
    first: Value,
    mut fetch: impl AsyncFnMut() -> Result<Value, CliError>,
    mut progress: impl FnMut(&[NodeInstall]),
) -> Result<(Value, Ended), CliError> {
    let deadline = Instant::now().checked_add(follow.timeout);
    let mut ticker = tokio::time::interval(follow.every);
    // After a slow answer, wait a whole period again rather than ask twice
    // in a row.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // The first tick is at once; the answer in hand stands for it.
    ticker.tick().await;
    let mut doc = first;
    loop {
        let ended = match install_state(&doc, follow.name, follow.version)? {
            InstallState::Going(nodes) => {
                progress(&nodes);
                None
            }
            InstallState::Installed { nodes } => Some(Ended::Installed(nodes)),
            InstallState::Failed { failed, installed } => Some(Ended::Failed(failed, installed)),
        };
        if let Some(ended) = ended {
            return Ok((doc, ended));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok((doc, Ended::TimedOut));
        }
        ticker.tick().await;
        doc = fetch().await?;
    }
}

/// Prints how the install ended — one line, or with --json the last
/// document; the logs of the nodes where it failed — and answers the
/// outcome: a failure or a timeout is the error.
fn report(ctx: &Context, follow: &Follow<'_>, doc: &Value, ended: Ended) -> Result<Outcome, CliError> {
    let (name, version) = (follow.name, follow.version);
    if ctx.json {
        output::emit(&output::pretty(doc));
    }
    match ended {
        Ended::Installed(nodes) => {
            if !ctx.json {
                output::emit(&format!("installed syncpack {name} {version} on {nodes} node(s)"));
            }
            Ok(Outcome::Success)
        }
        Ended::Failed(failed, installed) => {
            if !ctx.json {
                let logs: Vec<(String, String)> = failed
                    .iter()
                    .map(|n| (n.node_id.clone(), n.log.clone()))
                    .collect();
                output::emit(&output::install_logs(&logs));
            }
            Err(install_failed(name, version, &failed, installed))
        }
        Ended::TimedOut => Err(timed_out(doc, name, version, follow.timeout)),
    }
}

/// Where an install stands, as one document of the node tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InstallState {
    /// Some node is not done yet (or none is listed yet): every node's
    /// state so far.
    Going(Vec<NodeInstall>),
    /// Every node listed installed it.
    Installed { nodes: usize },
    /// Every node listed is done and some failed.
    Failed {
        failed: Vec<NodeInstall>,
        installed: usize,
    },
}

/// One node's install, as the node's document lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeInstall {
    pub(crate) node_id: String,
    /// "pending", "installing", "installed" or "failed".
    pub(crate) state: String,
    pub(crate) progress: String,
    pub(crate) log: String,
}

/// Where the install of `version` stands in `doc`, the pack's show
/// document. Its node states are those of the version at its top level
/// (the activated one, else the newest uploaded), so another version there
/// means this install cannot be followed: an error that says so.
pub(crate) fn install_state(doc: &Value, name: &str, version: &str) -> Result<InstallState, CliError> {
    let described = output::text(doc, "version");
    if described != version {
        return Err(CliError::Api(ApiError {
            kind: ApiErrorKind::InvalidArgument,
            error: format!(
                "the nodes were asked to install syncpack {name} {version}, but iscli cannot follow \
                 it: the node reports the install state of {} only (the activated version, else \
                 the newest uploaded); activate {version} with -A, or see 'iscli pack show {name}'",
                if described.is_empty() {
                    "another version".to_string()
                } else {
                    described
                }
            ),
            details: Vec::new(),
        }));
    }
    let nodes: Vec<NodeInstall> = doc
        .get("nodes")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|n| NodeInstall {
            node_id: output::text(n, "node_id"),
            state: output::text(n, "state"),
            progress: output::text(n, "progress"),
            log: output::text(n, "log"),
        })
        .collect();
    if nodes.is_empty() {
        // No node listed yet: the install may not have reached them; only
        // the pack's own flag can say it is done.
        if doc.get("installed").and_then(Value::as_bool) == Some(true) {
            return Ok(InstallState::Installed { nodes: 0 });
        }
        return Ok(InstallState::Going(nodes));
    }
    // A state this iscli does not know counts as not done: waiting longer
    // is safer than reporting an install that did not happen.
    if nodes
        .iter()
        .any(|n| n.state != "installed" && n.state != "failed")
    {
        return Ok(InstallState::Going(nodes));
    }
    let installed = nodes.iter().filter(|n| n.state == "installed").count();
    let failed: Vec<NodeInstall> = nodes.into_iter().filter(|n| n.state == "failed").collect();
    if failed.is_empty() {
        Ok(InstallState::Installed { nodes: installed })
    } else {
        Ok(InstallState::Failed { failed, installed })
    }
}

/// The version whose install to follow: the one asked for (with -V, or
/// the one -A activated), else the one the install's answer describes —
/// unless a version uploaded later exists: the node then installed that
/// newest one, whose state the answer does not hold.
pub(crate) fn target_version(name: &str, asked: Option<&str>, answer: &Value) -> Result<String, CliError> {
    if let Some(v) = asked {
        return Ok(v.to_string());
    }
    let described = output::text(answer, "version");
    let uploaded = |v: &Value| v.get("uploaded").and_then(Value::as_f64);
    let versions = answer
        .get("versions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let described_at = versions
        .iter()
        .find(|v| output::text(v, "version") == described)
        .and_then(uploaded)
        .or_else(|| uploaded(answer));
    let later = versions.iter().find(|v| {
        output::text(v, "version") != described
            && matches!((uploaded(v), described_at), (Some(at), Some(d)) if at > d)
    });
    match (described.is_empty(), later) {
        (false, None) => Ok(described),
        (true, _) => Err(unexpected_text(
            "the node's answer to the install names no version to follow",
        )),
        (false, Some(newer)) => Err(CliError::Api(ApiError {
            kind: ApiErrorKind::InvalidArgument,
            error: format!(
                "the nodes were asked to install the newest upload of syncpack {name} ({}), but \
                 the node reports the install state of the activated version {described} only; \
                 name the version with -V, and activate it with -A, to follow its install",
                output::text(newer, "version")
            ),
            details: Vec::new(),
        })),
    }
}

/// The error of an install that failed on some nodes; each failed node's
/// last line of progress as a detail (their logs are printed above it).
fn install_failed(name: &str, version: &str, failed: &[NodeInstall], installed: usize) -> CliError {
    let ids: Vec<&str> = failed.iter().map(|n| n.node_id.as_str()).collect();
    CliError::Api(ApiError {
        kind: ApiErrorKind::Internal,
        error: format!(
            "installing syncpack {name} {version} failed on node(s) {} (installed on {installed} of {})",
            ids.join(", "),
            installed + failed.len()
        ),
        details: failed
            .iter()
            .map(|n| output::node_progress(&n.node_id, &n.state, &n.progress))
            .collect(),
    })
}

/// The error of running out of --timeout; the nodes not done are named.
fn timed_out(doc: &Value, name: &str, version: &str, timeout: Duration) -> CliError {
    let going: Vec<String> = match install_state(doc, name, version) {
        Ok(InstallState::Going(nodes)) => nodes
            .iter()
            .filter(|n| n.state != "installed" && n.state != "failed")
            .map(|n| output::node_progress(&n.node_id, &n.state, &n.progress))
            .collect(),
        _ => Vec::new(),
    };
    CliError::Api(ApiError {
        kind: ApiErrorKind::Unavailable,
        error: format!(
            "syncpack {name} {version} is not installed on every node after {} s; the install goes \
             on: see 'iscli pack show {name}', or wait longer with --timeout",
            timeout.as_secs()
        ),
        details: going,
    })
}

/// A node answer that is not what the contract promises (`what`: "a list
/// of syncpacks", ...); the answer is quoted, cut short, to help find why.
pub(crate) fn unexpected(what: &str, answer: &Value) -> CliError {
    let mut quoted = answer.to_string();
    if quoted.chars().count() > 200 {
        quoted = quoted.chars().take(200).collect::<String>() + "...";
    }
    unexpected_text(&format!("the node answered {quoted} where {what} was expected"))
}

fn unexpected_text(error: &str) -> CliError {
    CliError::Api(ApiError {
        kind: ApiErrorKind::Internal,
        error: error.to_string(),
        details: Vec::new(),
    })
}

/// The syncpack as the result lines name it: `NAME VERSION`, or the name
/// alone when the version is not known (the node picks the newest).
pub(crate) fn pack_label(name: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => format!("{name} {v}"),
        None => name.to_string(),
    }
}

/// Each node's progress while following, one line per node on stderr,
/// redrawn in place; drawn only when stderr is a terminal (stdout carries
/// the result).
struct NodeLines {
    multi: MultiProgress,
    lines: BTreeMap<String, ProgressBar>,
    live: bool,
}

impl NodeLines {
    fn new() -> NodeLines {
        let live = std::io::stderr().is_terminal();
        let target = if live {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        NodeLines {
            multi: MultiProgress::with_draw_target(target),
            lines: BTreeMap::new(),
            live,
        }
    }

    fn show(&mut self, nodes: &[NodeInstall]) {
        if !self.live {
            return;
        }
        for node in nodes {
            let line = self.lines.entry(node.node_id.clone()).or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new_spinner());
                if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
                    bar.set_style(style);
                }
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            });
            line.set_message(output::node_progress(&node.node_id, &node.state, &node.progress));
        }
    }

    fn clear(&self) {
        for line in self.lines.values() {
            line.finish_and_clear();
        }
    }
}

#[cfg(test)]
#[path = "syncpack_tests.rs"]
mod tests;
