//! Control groups for runners, on the node's side: which hierarchy this
//! node may use (cgroup v2 with the memory and pids controllers delegated to
//! it, else the v1 memory and pids hierarchies), one group per runner with
//! its memory and process-count limits, and the removal of a runner's groups
//! (and of the groups of nodes that died) once nothing runs in them.
//!
//! A runner joins its groups itself, first thing in runner mode (see
//! `confine.rs`), so every process it or its step starts is counted.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where this node makes its runners' groups.
#[derive(Debug, Clone)]
pub enum Cgroups {
    /// One v2 group per runner under `dir`, memory and pids controllers on.
    V2 { dir: PathBuf },
    /// The v1 memory and pids hierarchies, each with this node's directory.
    V1 {
        memory: Option<PathBuf>,
        pids: Option<PathBuf>,
    },
}

/// A mounted hierarchy: its mount point, the root it shows and its options.
struct Mount {
    point: PathBuf,
    root: String,
    fstype: String,
    options: String,
}

fn mounts() -> io::Result<Vec<Mount>> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")?;
    Ok(text
        .lines()
        .filter_map(|line| {
            // `id parent major:minor root point options... - fstype source superoptions`
            let (left, right) = line.split_once(" - ")?;
            let mut l = left.split(' ');
            let root = l.nth(3)?.to_string();
            let point = PathBuf::from(l.next()?);
            let mut r = right.split(' ');
            let fstype = r.next()?.to_string();
            let options = r.nth(1).unwrap_or_default().to_string();
            Some(Mount {
                point,
                root,
                fstype,
                options,
            })
        })
        .collect())
}

/// This process's group in each hierarchy: (controllers, path); v2 is "".
fn own_groups() -> io::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string("/proc/self/cgroup")?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            let _id = parts.next()?;
            Some((parts.next()?.to_string(), parts.next()?.to_string()))
        })
        .collect())
}

/// The directory of this process's group inside `mount`.
fn own_dir(mount: &Mount, group: &str) -> PathBuf {
    let rel = group
        .strip_prefix(mount.root.trim_end_matches('/'))
        .unwrap_or(group);
    mount.point.join(rel.trim_start_matches('/'))
}

fn write(path: &Path, value: &str) -> io::Result<()> {
    std::fs::write(path, value)
        .map_err(|e| io::Error::new(e.kind(), format!("writing {value:?} to {}: {e}", path.display())))
}

/// The node's own directory in a hierarchy, named after its pid; groups of
/// nodes that died are removed on the way.
fn node_dir(parent: &Path) -> io::Result<PathBuf> {
    sweep_dead_nodes(parent);
    let dir = parent.join(format!("isnode-{}", std::process::id()));
    match std::fs::create_dir(&dir) {
        Ok(()) => Ok(dir),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(dir),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("cannot create {}: {e}", dir.display()),
        )),
    }
}

/// Removes the directories `isnode-<pid>` of nodes no longer running; their
/// runners died with them, so the groups are empty.
fn sweep_dead_nodes(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("isnode-")) else {
            continue;
        };
        if pid.parse::<u32>().is_err() || Path::new("/proc").join(pid).exists() {
            continue;
        }
        let dir = e.path();
        if let Ok(runners) = std::fs::read_dir(&dir) {
            for r in runners.flatten().filter(|r| r.path().is_dir()) {
                let _ = std::fs::remove_dir(r.path());
            }
        }
        let _ = std::fs::remove_dir(&dir);
    }
}

impl Cgroups {
    /// Finds the hierarchy this node may use, or says why there is none.
    pub fn probe() -> Result<Cgroups, String> {
        let mounts = mounts().map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
        let groups = own_groups().map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
        let v2 = match Self::probe_v2(&mounts, &groups) {
            Ok(c) => return Ok(c),
            Err(why) => why,
        };
        let find_v1 = |controller: &str| -> Result<PathBuf, String> {
            let mount = mounts
                .iter()
                .find(|m| m.fstype == "cgroup" && m.options.split(',').any(|o| o == controller))
                .ok_or_else(|| format!("no v1 {controller} hierarchy"))?;
            let group = groups
                .iter()
                .find(|(c, _)| c.split(',').any(|c| c == controller))
                .map(|(_, g)| g.as_str())
                .unwrap_or("/");
            node_dir(&own_dir(mount, group)).map_err(|e| e.to_string())
        };
        match (find_v1("memory"), find_v1("pids")) {
            (Err(m), Err(p)) => Err(format!("{v2}; {m}; {p}")),
            (memory, pids) => Ok(Cgroups::V1 {
                memory: memory.ok(),
                pids: pids.ok(),
            }),
        }
    }

    /// cgroup v2: the node moves itself into a leaf group so that its own
    /// group may hand the memory and pids controllers down (a v2 group with
    /// processes cannot), then makes `isnode-<pid>` for its runners.
    fn probe_v2(mounts: &[Mount], groups: &[(String, String)]) -> Result<Cgroups, String> {
        let mount = mounts
            .iter()
            .find(|m| m.fstype == "cgroup2")
            .ok_or("no cgroup v2 hierarchy")?;
        let group = groups
            .iter()
            .find(|(c, _)| c.is_empty())
            .map(|(_, g)| g.as_str())
            .ok_or("this process is in no v2 group")?;
        let own = own_dir(mount, group);
        let controllers = std::fs::read_to_string(own.join("cgroup.controllers")).unwrap_or_default();
        let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
        if !has("memory") || !has("pids") {
            return Err(format!(
                "cgroup v2 at {} does not offer the memory and pids controllers (has: {})",
                own.display(),
                controllers.trim()
            ));
        }
        let setup = || -> io::Result<PathBuf> {
            let leaf = own.join(format!("isnode-node-{}", std::process::id()));
            if !leaf.exists() {
                std::fs::create_dir(&leaf)?;
            }
            write(&leaf.join("cgroup.procs"), &std::process::id().to_string())?;
            write(&own.join("cgroup.subtree_control"), "+memory +pids")?;
            let dir = node_dir(&own)?;
            write(&dir.join("cgroup.subtree_control"), "+memory +pids")?;
            Ok(dir)
        };
        setup()
            .map(|dir| Cgroups::V2 { dir })
            .map_err(|e| format!("cgroup v2 is not delegated to this node: {e}"))
    }

    /// What the start-up line says about these groups.
    pub fn describe(&self) -> String {
        match self {
            Cgroups::V2 { .. } => "memory+pids cgroup v2".into(),
            Cgroups::V1 { memory, pids } => match (memory, pids) {
                (Some(_), Some(_)) => "memory+pids cgroup v1".into(),
                (Some(_), None) => "memory cgroup v1".into(),
                _ => "pids cgroup v1".into(),
            },
        }
    }

    pub fn limits_memory(&self) -> bool {
        matches!(self, Cgroups::V2 { .. } | Cgroups::V1 { memory: Some(_), .. })
    }

    pub fn limits_processes(&self) -> bool {
        matches!(self, Cgroups::V2 { .. } | Cgroups::V1 { pids: Some(_), .. })
    }

    /// Makes the groups of runner `name` with its limits; answers their
    /// directories (the runner joins each).
    pub fn create(
        &self,
        name: &str,
        memory_bytes: Option<u64>,
        max_processes: u64,
    ) -> io::Result<Vec<PathBuf>> {
        let mut made = Vec::new();
        let result = (|| {
            match self {
                Cgroups::V2 { dir } => {
                    let g = dir.join(name);
                    std::fs::create_dir(&g)?;
                    made.push(g.clone());
                    if let Some(bytes) = memory_bytes {
                        write(&g.join("memory.max"), &bytes.to_string())?;
                        // Swap would let the tree exceed the limit unseen.
                        let _ = write(&g.join("memory.swap.max"), "0");
                    }
                    write(&g.join("pids.max"), &max_processes.to_string())?;
                }
                Cgroups::V1 { memory, pids } => {
                    if let Some(m) = memory {
                        let g = m.join(name);
                        std::fs::create_dir(&g)?;
                        made.push(g.clone());
                        if let Some(bytes) = memory_bytes {
                            write(&g.join("memory.limit_in_bytes"), &bytes.to_string())?;
                            let _ = write(&g.join("memory.memsw.limit_in_bytes"), &bytes.to_string());
                        }
                    }
                    if let Some(p) = pids {
                        let g = p.join(name);
                        std::fs::create_dir(&g)?;
                        made.push(g.clone());
                        write(&g.join("pids.max"), &max_processes.to_string())?;
                    }
                }
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok(made),
            Err(e) => {
                for g in made {
                    let _ = std::fs::remove_dir(g);
                }
                Err(e)
            }
        }
    }
}

/// Kills whatever still runs in `groups` and removes them, on a thread of
/// its own: the processes of a killed runner take a moment to exit, and the
/// caller (a drop) must not wait for that.
pub fn remove(groups: Vec<PathBuf>) {
    if groups.is_empty() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("isnode-cgroup-rm".into())
        .spawn(move || {
            for _ in 0..500 {
                let mut left = false;
                for g in &groups {
                    if !g.exists() {
                        continue;
                    }
                    if let Ok(procs) = std::fs::read_to_string(g.join("cgroup.procs")) {
                        for pid in procs.lines().filter_map(|p| p.trim().parse::<i32>().ok()) {
                            // SAFETY: kill has no memory effects; the pid was
                            // read from the runner's own group.
                            unsafe { libc::kill(pid, libc::SIGKILL) };
                        }
                    }
                    if std::fs::remove_dir(g).is_err() {
                        left = true;
                    }
                }
                if !left {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            tracing::warn!(?groups, "runner cgroups still busy after 5 s; left in place");
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the thread that removes runner cgroups");
    }
}
