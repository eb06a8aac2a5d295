//! The installer of this node: builds the environment of every SyncPack
//! version an install was asked for, one at a time, from the wheel the
//! cluster replicated, and reports each phase (and the log on failure) in
//! the replicated record, so `GET /syncpacks/{name}` on any node shows every
//! node's install. It looks again whenever the packs change
//! (`Events::watch_packs`) and once at start-up, so a node that was down,
//! joined late, or lost its environments builds them when it comes back.
//!
//! **Invariant:** a version is reported installed on a node only once its
//! environment on that node is built from the version's current wheel
//! (`EnvSettings::installed_site`); a failed install is tried again only
//! when an install is asked for again or the wheel changes.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use crate::model::syncpack::{InstallPhase, InstallState, PackVersion, WheelRef};
use crate::raft::{propose, Raft};
use crate::store::{Command, ContentHandle, Events};
use crate::syncpack::env::{tail, EnvError, EnvSettings};
use crate::util::now_ms;

/// What this node should do for one version.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Todo {
    /// Built already; only the record must say so.
    Report,
    Build,
}

/// Runs until the node stops.
pub async fn run(raft: Raft, content: ContentHandle, events: Events, envs: Arc<EnvSettings>) {
    let mut changes = events.watch_packs();
    let node = raft.node_id();
    // What this run of the node failed to build, by (pack, version, sha):
    // not tried again until the record asks anew.
    let mut failed: BTreeMap<(String, String), String> = BTreeMap::new();
    loop {
        changes.mark_unchanged();
        while let Some((name, version, todo)) = next_job(&content, &envs, node, &failed) {
            let ok = match todo {
                Todo::Report => {
                    report(
                        &raft,
                        &name,
                        &version,
                        node,
                        InstallPhase::Installed,
                        "installed",
                        String::new(),
                    )
                    .await
                }
                Todo::Build => install(&raft, &content, &envs, node, &name, &version).await,
            };
            if !ok {
                let sha = wheel_of(&content, &name, &version)
                    .map(|w| w.sha256)
                    .unwrap_or_default();
                failed.insert((name, version), sha);
            }
        }
        if changes.changed().await.is_err() {
            return;
        }
    }
}

fn wheel_of(content: &ContentHandle, name: &str, version: &str) -> Option<WheelRef> {
    let sm = content.read();
    sm.content
        .syncpacks
        .get(name)?
        .versions
        .get(version)?
        .wheel
        .clone()
}

/// The next version this node must install or report, dependencies first.
fn next_job(
    content: &ContentHandle,
    envs: &EnvSettings,
    node: u64,
    failed: &BTreeMap<(String, String), String>,
) -> Option<(String, String, Todo)> {
    let sm = content.read();
    let packs = &sm.content.syncpacks;
    for pack in packs.values() {
        for (version, v) in &pack.versions {
            let Some(wheel) = &v.wheel else { continue };
            if !v.install_wanted {
                continue;
            }
            let mine = v.installs.get(&node);
            let key = (pack.name.clone(), version.clone());
            if envs.installed_site(&pack.name, version, &wheel.sha256).is_some() {
                if mine.is_none_or(|s| s.phase != InstallPhase::Installed) {
                    return Some((key.0, key.1, Todo::Report));
                }
                continue;
            }
            // A recorded failure stands until an install is asked for again,
            // which clears it; one not recorded yet (no leader) is not
            // retried in a loop meanwhile.
            if mine.is_some_and(|s| s.phase == InstallPhase::Failed)
                || (mine.is_some() && failed.get(&key).is_some_and(|sha| *sha == wheel.sha256))
            {
                continue;
            }
            // Packs it requires are installed first (they may be next).
            let waiting = v.meta.required_names().any(|dep| {
                packs.get(&dep).and_then(|d| d.active.as_ref()).is_some_and(|a| {
                    let dv = &packs[&dep].versions[&a.version];
                    dv.install_wanted
                        && dv
                            .wheel
                            .as_ref()
                            .is_some_and(|w| envs.installed_site(&dep, &a.version, &w.sha256).is_none())
                        && !failed.contains_key(&(dep.clone(), a.version.clone()))
                })
            });
            if waiting {
                continue;
            }
            return Some((key.0, key.1, Todo::Build));
        }
    }
    None
}

async fn report(
    raft: &Raft,
    name: &str,
    version: &str,
    node: u64,
    phase: InstallPhase,
    progress: &str,
    log: String,
) -> bool {
    let cmd = Command::PackInstallState {
        name: name.to_string(),
        version: version.to_string(),
        node,
        state: InstallState {
            phase,
            progress: progress.to_string(),
            log,
            updated_ms: now_ms(),
        },
    };
    match propose(raft, cmd).await {
        Ok(_) => phase != InstallPhase::Failed,
        Err(e) => {
            tracing::warn!(pack = name, version, error = %e, "cannot record the install state");
            phase != InstallPhase::Failed
        }
    }
}

/// Builds one version's environment, reporting as it goes. False if it failed.
async fn install(
    raft: &Raft,
    content: &ContentHandle,
    envs: &EnvSettings,
    node: u64,
    name: &str,
    version: &str,
) -> bool {
    let Some(v) = ({
        let sm = content.read();
        sm.content
            .syncpacks
            .get(name)
            .and_then(|p| p.versions.get(version))
            .cloned()
    }) else {
        return true; // deleted meanwhile
    };
    let Some(wheel) = v.wheel.clone() else { return true };
    tracing::info!(pack = name, version, "installing SyncPack");
    let started = std::time::Instant::now();
    report(
        raft,
        name,
        version,
        node,
        InstallPhase::Installing,
        "fetching the wheel",
        String::new(),
    )
    .await;
    let result = async {
        materialize(content, envs, &wheel).await?;
        let requirements = pip_requirements(content, &v);
        if !envs.base_packages.is_empty() {
            report(
                raft,
                name,
                version,
                node,
                InstallPhase::Installing,
                "installing the base packages",
                String::new(),
            )
            .await;
        }
        let mut log = envs.ensure_base().await.map_err(describe)?;
        let mut phases = Vec::new();
        let built = envs
            .build_pack(name, version, &wheel.sha256, &requirements, |p| {
                phases.push(p.to_string())
            })
            .await;
        let built = built.map_err(describe)?;
        log.push_str(&built);
        Ok::<String, (String, String)>(log)
    }
    .await;
    match result {
        Ok(log) => {
            tracing::info!(
                pack = name,
                version,
                seconds = started.elapsed().as_secs_f64(),
                "SyncPack installed"
            );
            report(
                raft,
                name,
                version,
                node,
                InstallPhase::Installed,
                "installed",
                tail(&log),
            )
            .await
        }
        Err((message, log)) => {
            tracing::warn!(pack = name, version, error = %message, "SyncPack install failed");
            let log = tail(&format!("{log}\n{message}"));
            report(raft, name, version, node, InstallPhase::Failed, &message, log).await;
            false
        }
    }
}

fn describe(e: EnvError) -> (String, String) {
    match e {
        EnvError::Failed { message, log } => (message, log),
        other => (other.to_string(), String::new()),
    }
}

/// The requirements pip installs: `requires_dist` without the packs.
fn pip_requirements(content: &ContentHandle, v: &PackVersion) -> Vec<String> {
    let sm = content.read();
    v.meta
        .requires_dist
        .iter()
        .filter(|r| {
            crate::model::syncpack::requirement_name(r).is_none_or(|n| !sm.content.syncpacks.contains_key(&n))
        })
        .cloned()
        .collect()
}

/// Writes the wheel to this node's wheel directory from the replicated
/// chunks (unless there already), checking its SHA-256.
pub async fn materialize(
    content: &ContentHandle,
    envs: &EnvSettings,
    wheel: &WheelRef,
) -> Result<(), (String, String)> {
    let path = envs.wheel_file(&wheel.sha256);
    if path.exists() {
        return Ok(());
    }
    let (content, envs, wheel) = (content.clone(), envs.clone(), wheel.clone());
    tokio::task::spawn_blocking(move || write_wheel(&content, &envs, &wheel))
        .await
        .map_err(|e| (format!("fetching the wheel failed: {e}"), String::new()))?
        .map_err(|e| (e, String::new()))
}

fn write_wheel(content: &ContentHandle, envs: &EnvSettings, wheel: &WheelRef) -> Result<(), String> {
    let dir = envs.wheels_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = envs.wheel_file(&wheel.sha256);
    let tmp = path.with_extension("part");
    let mut out = std::fs::File::create(&tmp).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    for index in 0..wheel.chunks {
        let chunk = content
            .blob_chunk(&wheel.sha256, index)
            .map_err(|e| format!("cannot read the wheel from the store: {e}"))?
            .ok_or_else(|| {
                format!(
                    "the store lacks chunk {index} of wheel {}; upload the pack again",
                    wheel.file_name
                )
            })?;
        out.write_all(&chunk)
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    }
    out.sync_all()
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    let mut file = std::fs::File::open(&tmp).map_err(|e| e.to_string())?;
    let sha = crate::syncpack::wheel::sha256_of(&mut file).map_err(|e| e.to_string())?;
    if sha != wheel.sha256 {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!(
            "the wheel read from the store has SHA-256 {sha}, not {}; upload the pack again",
            wheel.sha256
        ));
    }
    std::fs::rename(&tmp, &path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
