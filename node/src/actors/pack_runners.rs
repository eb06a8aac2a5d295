//! The SyncPack runners of one worker: a runner per pack environment (its
//! site directories), at most `MAX_PACK_RUNNERS`, least recently used
//! first, so switching between a few packs costs no cold start; and which
//! site directories a pack step's environment has on this node.

use std::path::PathBuf;

use crate::python::process::{RunnerConfig, RunnerError, RunnerProcess};
use crate::store::packs::EnvPart;
use crate::syncpack::env::EnvSettings;

/// Runners of SyncPack environments one worker keeps besides its platform runner.
const MAX_PACK_RUNNERS: usize = 3;

/// A runner of one SyncPack environment.
struct PackRunner {
    sites: Vec<PathBuf>,
    runner: Option<RunnerProcess>,
}

#[derive(Default)]
pub(super) struct PackRunners {
    /// Least recently used first.
    kept: Vec<PackRunner>,
}

impl PackRunners {
    /// The runner slot of the environment `sites`, starting its runner
    /// (from `base`, the worker's runner settings) when none is kept; the
    /// least recently used runner makes room.
    pub(super) async fn slot(
        &mut self,
        base: &RunnerConfig,
        sites: Vec<PathBuf>,
    ) -> Result<&mut Option<RunnerProcess>, RunnerError> {
        match self.kept.iter().position(|p| p.sites == sites) {
            Some(at) => {
                let used = self.kept.remove(at);
                self.kept.push(used);
            }
            None => {
                let mut cfg = base.clone();
                cfg.site_dirs = sites.clone();
                let runner = RunnerProcess::spawn(&cfg).await?;
                if self.kept.len() >= MAX_PACK_RUNNERS {
                    self.kept.remove(0);
                }
                self.kept.push(PackRunner {
                    sites,
                    runner: Some(runner),
                });
            }
        }
        let last = self.kept.len() - 1;
        Ok(&mut self.kept[last].runner)
    }

    /// Forgets runners an attempt discarded (crashed, revoked, timed out).
    pub(super) fn drop_discarded(&mut self) {
        self.kept.retain(|p| p.runner.is_some());
    }
}

/// The site directories of a pack step's environment on node `node_id`:
/// each pack of the chain as installed here, then the base packages.
pub(super) fn site_dirs(envs: &EnvSettings, node_id: u64, parts: &[EnvPart]) -> Result<Vec<PathBuf>, String> {
    let mut sites = Vec::with_capacity(parts.len() + 1);
    for p in parts {
        match envs.installed_site(&p.name, &p.version, &p.sha256) {
            Some(site) => sites.push(site),
            None => {
                return Err(format!(
                    "SyncPack {} {} is not installed on node {node_id}; install it (iscli -Ikn {} -V {}) and run again",
                    p.name, p.version, p.name, p.version
                ))
            }
        }
    }
    sites.extend(envs.base_site());
    Ok(sites)
}
