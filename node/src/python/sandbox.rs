//! The runner sandbox as the node decides it, once at start: what the kernel
//! and the node's privileges allow (a separate user, Landlock, PID and mount
//! namespaces, cgroups), the one start-up line saying which protections are
//! in force and which are not and why, the modes that keep the data
//! directory closed to the runner user, and, per runner, its private
//! temporary directory, its cgroups, its environment and the flags that tell
//! runner mode what to apply (`confine.rs` applies them).

use std::ffi::{CStr, CString, OsString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::cgroup::{self, Cgroups};
use super::fs_access::{blocked_ancestor, secure_data_dir, set_mode};

/// Processes one runner's tree may hold at once (its pids cgroup, or
/// RLIMIT_NPROC of the runner user where there is no cgroup).
pub const RUNNER_MAX_PROCESSES: u64 = 256;

/// System locations Python and the libraries it loads read: code, shared
/// libraries, certificates, time zones, name resolution. Listed one by one
/// under /etc so files such as /etc/shadow stay out of reach.
const SYSTEM_READ: &[&str] = &[
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/bin",
    "/sbin",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/passwd",
    "/etc/group",
    "/etc/mime.types",
    "/etc/ssh/ssh_config",
    "/etc/ssh/ssh_config.d",
];

/// Device nodes a step may open for reading and writing.
pub const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot prepare the runner sandbox: {what}: {source}")]
    Io { what: String, source: std::io::Error },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> SandboxError {
    let what = what.into();
    move |source| SandboxError::Io { what, source }
}

/// The unprivileged user runners switch to.
#[derive(Debug, Clone, PartialEq)]
pub struct RunnerUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// What every runner of this node gets; decided by [`SandboxPlan::decide`].
#[derive(Debug)]
pub struct SandboxPlan {
    user: Option<RunnerUser>,
    landlock_abi: Option<i32>,
    /// A PID namespace per runner (and a mount namespace where the runner
    /// user cannot reach the interpreter or the node's files otherwise).
    namespaces: bool,
    cgroups: Option<Cgroups>,
    /// Where the private temporary directories are made (`DATA/tmp`).
    tmp_root: Option<PathBuf>,
    /// The interpreter's installation (read-only for runners).
    python_prefix: Option<PathBuf>,
    /// `runner_shared_dirs`: readable and writable by steps.
    shared: Vec<PathBuf>,
    /// Protections that are not in force, each with its reason.
    unavailable: Vec<String>,
    /// Paths a runner needs that the runner user cannot reach without a
    /// private mount namespace (said in the start-up line).
    exposed: Vec<PathBuf>,
    next: AtomicU64,
}

/// One runner's share of the sandbox: its flags, environment and the
/// resources removed when it ends.
pub struct RunnerSandbox {
    pub args: Vec<OsString>,
    pub env: Vec<(&'static str, OsString)>,
    pub resources: RunnerResources,
}

/// A runner's temporary directory and cgroups; dropping this removes them.
#[derive(Debug, Default)]
pub struct RunnerResources {
    tmp: Option<PathBuf>,
    cgroups: Vec<PathBuf>,
}

impl Drop for RunnerResources {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            if let Err(e) = std::fs::remove_dir_all(&tmp) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(dir = %tmp.display(), error = %e, "cannot remove a runner's temporary directory");
                }
            }
        }
        cgroup::remove(std::mem::take(&mut self.cgroups));
    }
}

impl SandboxPlan {
    /// No protections beyond a cleared environment: for tools that start
    /// runners outside a node (the benchmark driver).
    pub fn disabled() -> SandboxPlan {
        SandboxPlan {
            user: None,
            landlock_abi: None,
            namespaces: false,
            cgroups: None,
            tmp_root: None,
            python_prefix: python_prefix(),
            shared: Vec::new(),
            unavailable: vec!["sandbox disabled".into()],
            exposed: Vec::new(),
            next: AtomicU64::new(0),
        }
    }

    /// Probes what this kernel and process allow, closes the data directory
    /// to the runner user and prepares `DATA/tmp`. `exe` and `lib_dir` are
    /// what every runner reads.
    pub fn decide(
        data_dir: &Path,
        exe: &Path,
        lib_dir: &Path,
        runner_user: &str,
        shared: &[PathBuf],
        memory_limit: Option<u64>,
    ) -> Result<SandboxPlan, SandboxError> {
        let mut unavailable = Vec::new();
        let root = is_root();
        let user = if !root {
            unavailable.push("separate runner user (the node does not run as root)".to_string());
            None
        } else {
            match lookup_user(runner_user) {
                Some(u) if u.uid != 0 => Some(u),
                Some(_) => {
                    unavailable.push(format!("separate runner user ({runner_user:?} is root)"));
                    None
                }
                None => {
                    unavailable.push(format!(
                        "separate runner user (no user {runner_user:?} on this system)"
                    ));
                    None
                }
            }
        };
        let landlock_abi = match landlock_abi() {
            Ok(abi) => Some(abi),
            Err(why) => {
                unavailable.push(format!("landlock ({why})"));
                None
            }
        };
        let namespaces = match namespaces_allowed() {
            Ok(()) => true,
            Err(why) => {
                unavailable.push(format!(
                    "pid namespace ({why}; a runner is a child subreaper and the node kills its process group)"
                ));
                false
            }
        };
        let cgroups = match memory_limit.is_some() || root {
            true => match Cgroups::probe() {
                Ok(c) => Some(c),
                Err(why) => {
                    unavailable.push(format!(
                        "cgroup ({why}; memory limited per process by RLIMIT_AS{})",
                        if user.is_some() {
                            ", processes by RLIMIT_NPROC"
                        } else {
                            ""
                        }
                    ));
                    None
                }
            },
            false => None,
        };
        if let Some(c) = &cgroups {
            if !c.limits_memory() {
                unavailable.push("memory cgroup (RLIMIT_AS per process instead)".into());
            }
            if !c.limits_processes() {
                unavailable.push("pids cgroup (no process-count limit)".into());
            }
        }
        secure_data_dir(data_dir)?;
        let tmp_root = data_dir.join("tmp");
        // Left over from a node that was killed: its runners are gone.
        if tmp_root.exists() {
            std::fs::remove_dir_all(&tmp_root).map_err(io_err(format!("clearing {}", tmp_root.display())))?;
        }
        std::fs::create_dir_all(&tmp_root).map_err(io_err(format!("creating {}", tmp_root.display())))?;
        set_mode(&tmp_root, 0o711)?;
        let python_prefix = python_prefix();
        let mut exposed = Vec::new();
        if let Some(u) = &user {
            let needed = [Some(exe), Some(lib_dir), python_prefix.as_deref()];
            for p in needed.into_iter().flatten() {
                match blocked_ancestor(p, u.uid, u.gid) {
                    None => {}
                    Some(b) if b != p && namespaces => exposed.push(p.to_path_buf()),
                    Some(b) => {
                        return Err(SandboxError::Io {
                            what: format!(
                            "runners run as {} but {} is closed to it at {} (open it, or set runner_user)",
                            u.name,
                            p.display(),
                            b.display()
                        ),
                            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
                        })
                    }
                }
            }
        }
        Ok(SandboxPlan {
            user,
            landlock_abi,
            namespaces,
            cgroups,
            tmp_root: Some(tmp_root),
            python_prefix,
            shared: shared.to_vec(),
            unavailable,
            exposed,
            next: AtomicU64::new(0),
        })
    }

    /// The start-up line: protections in force, then those unavailable.
    pub fn describe(&self, memory_limit: Option<u64>) -> String {
        let mut on = Vec::new();
        if let Some(abi) = self.landlock_abi {
            on.push(format!("landlock abi {abi}"));
        }
        if let Some(u) = &self.user {
            on.push(format!("uid {} ({})", u.uid, u.name));
        }
        if self.namespaces {
            on.push("pid namespace".into());
            if !self.exposed.is_empty() {
                let list: Vec<String> = self.exposed.iter().map(|p| p.display().to_string()).collect();
                on.push(format!("mount namespace exposing {}", list.join(", ")));
            }
        }
        if self.tmp_root.is_some() {
            on.push("no_new_privs".into());
            if self.user.is_none() && is_root() {
                on.push("capabilities dropped".into());
            }
        }
        on.push("cleared env".into());
        if self.tmp_root.is_some() {
            on.push("private tmp".into());
        }
        if let Some(c) = &self.cgroups {
            let mem = match memory_limit {
                Some(b) if c.limits_memory() => format!(" ({} MiB per runner tree", b >> 20),
                _ => " (".to_string(),
            };
            let procs = if c.limits_processes() {
                format!(
                    "{}{RUNNER_MAX_PROCESSES} processes)",
                    if mem == " (" { "" } else { ", " }
                )
            } else {
                ")".to_string()
            };
            on.push(format!("{}{mem}{procs}", c.describe()));
        }
        if memory_limit.is_some() {
            on.push("RLIMIT_AS per process".into());
        }
        on.push("node not dumpable".into());
        let off = if self.unavailable.is_empty() {
            "none".to_string()
        } else {
            self.unavailable.join("; ")
        };
        format!("runner sandbox: {}; unavailable: {off}", on.join(", "))
    }

    /// Makes runner `site_dirs`' temporary directory and cgroups and
    /// answers its flags and environment.
    pub fn prepare(
        &self,
        exe: &Path,
        lib_dir: &Path,
        site_dirs: &[PathBuf],
        memory_limit: Option<u64>,
    ) -> Result<RunnerSandbox, SandboxError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let name = format!("runner-{n}");
        let mut resources = RunnerResources::default();
        let mut args: Vec<OsString> = Vec::new();
        let mut flag = |f: &str, v: &std::ffi::OsStr| {
            args.push(f.into());
            args.push(v.to_os_string());
        };
        let tmp = match &self.tmp_root {
            Some(root) => {
                let dir = root.join(&name);
                std::fs::create_dir(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
                resources.tmp = Some(dir.clone());
                set_mode(&dir, 0o700)?;
                if let Some(u) = &self.user {
                    std::os::unix::fs::chown(&dir, Some(u.uid), Some(u.gid)).map_err(io_err(format!(
                        "giving {} to {}",
                        dir.display(),
                        u.name
                    )))?;
                }
                flag("--tmp", dir.as_os_str());
                dir
            }
            None => std::env::temp_dir(),
        };
        if let Some(u) = &self.user {
            flag("--uid", u.uid.to_string().as_ref());
            flag("--gid", u.gid.to_string().as_ref());
        }
        if let Some(c) = &self.cgroups {
            let groups = c
                .create(&name, memory_limit, RUNNER_MAX_PROCESSES)
                .map_err(io_err(format!("making the cgroups of {name}")))?;
            for g in &groups {
                flag("--cgroup", g.as_os_str());
            }
            resources.cgroups = groups;
            if !c.limits_processes() && self.user.is_some() {
                flag("--max-processes", RUNNER_MAX_PROCESSES.to_string().as_ref());
            }
        } else if self.user.is_some() {
            flag("--max-processes", RUNNER_MAX_PROCESSES.to_string().as_ref());
        }
        if let Some(bytes) = memory_limit {
            flag("--memory-bytes", bytes.to_string().as_ref());
        }
        if self.namespaces {
            args.push("--namespaces".into());
        }
        if self.landlock_abi.is_some() {
            args.push("--landlock".into());
        }
        if self.tmp_root.is_some() {
            let mut read: Vec<&Path> = SYSTEM_READ.iter().map(Path::new).collect();
            read.extend([exe, lib_dir]);
            read.extend(self.python_prefix.as_deref());
            read.extend(site_dirs.iter().map(PathBuf::as_path));
            for p in read {
                args.push("--read".into());
                args.push(p.as_os_str().to_os_string());
            }
            for d in &self.shared {
                args.push("--shared".into());
                args.push(d.as_os_str().to_os_string());
            }
        }
        let mut path = OsString::new();
        if let Some(prefix) = &self.python_prefix {
            // `python3` in a step's subprocess is the node's interpreter.
            path.push(prefix.join("bin"));
            path.push(":");
        }
        path.push("/usr/local/bin:/usr/bin:/bin");
        let mut env = vec![
            ("PATH", path),
            ("LANG", OsString::from("C.UTF-8")),
            ("LC_ALL", OsString::from("C.UTF-8")),
            ("HOME", tmp.clone().into_os_string()),
            ("TMPDIR", tmp.into_os_string()),
            // Python's own traceback on fatal signals lands in the stderr tail.
            ("PYTHONFAULTHANDLER", OsString::from("1")),
            ("PYTHONUNBUFFERED", OsString::from("1")),
            // The library is read-only to runners: no point trying to cache.
            ("PYTHONDONTWRITEBYTECODE", OsString::from("1")),
        ];
        // Without it, an embedded interpreter looks for `python3` on PATH to
        // find its standard library, and may take a system Python's, which
        // does not match the libpython it runs.
        if let Some(prefix) = &self.python_prefix {
            env.push(("PYTHONHOME", prefix.clone().into_os_string()));
        }
        Ok(RunnerSandbox { args, env, resources })
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The Landlock ABI version of the running kernel.
fn landlock_abi() -> Result<i32, String> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute and size 0 this call only reports the ABI.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if v > 0 {
        Ok(v as i32)
    } else {
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EOPNOTSUPP) => Err("built into the kernel but not enabled at boot".into()),
            Some(libc::ENOSYS) => Err("not built into this kernel".into()),
            _ => Err(format!("unusable: {}", std::io::Error::last_os_error())),
        }
    }
}

/// PID and mount namespaces need CAP_SYS_ADMIN (the node does not create
/// user namespaces) and a non-zero namespace limit.
fn namespaces_allowed() -> Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    const CAP_SYS_ADMIN: u32 = 21;
    if eff & (1 << CAP_SYS_ADMIN) == 0 {
        return Err("the node lacks CAP_SYS_ADMIN".into());
    }
    let max = std::fs::read_to_string("/proc/sys/user/max_pid_namespaces").unwrap_or_default();
    if max.trim() == "0" {
        return Err("user.max_pid_namespaces is 0".into());
    }
    Ok(())
}

/// A user by name or numeric uid.
fn lookup_user(name: &str) -> Option<RunnerUser> {
    let cname = CString::new(name).ok()?;
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0u8; 16 * 1024];
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer refers to memory owned by this frame, sized as passed.
    let rc = match name.parse::<u32>() {
        Ok(uid) => unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut out) },
        Err(_) => unsafe {
            libc::getpwnam_r(
                cname.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut out,
            )
        },
    };
    if rc != 0 || out.is_null() {
        return name.parse::<u32>().ok().map(|uid| RunnerUser {
            name: name.to_string(),
            uid,
            gid: uid,
        });
    }
    // SAFETY: getpwnam_r succeeded, so pw_name points into `buf`.
    let pw_name = unsafe { CStr::from_ptr(pwd.pw_name) }
        .to_string_lossy()
        .into_owned();
    Some(RunnerUser {
        name: pw_name,
        uid: pwd.pw_uid,
        gid: pwd.pw_gid,
    })
}

/// The installation of the libpython this process runs: the directory
/// above the one holding the library when that one is `lib` (a prefix like
/// `/opt/python3.11`), else the library's directory.
fn python_prefix() -> Option<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let lib = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| {
            Path::new(p)
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("libpython"))
        })?;
    let dir = Path::new(lib).parent()?;
    if dir.file_name().is_some_and(|n| n == "lib") {
        dir.parent().map(Path::to_path_buf)
    } else {
        Some(dir.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_runner_environment_names_the_interpreter_it_runs() {
        let plan = super::SandboxPlan::disabled();
        let prepared = plan
            .prepare(
                std::path::Path::new("/bin/true"),
                std::path::Path::new("/tmp"),
                &[],
                None,
            )
            .unwrap();
        let names: Vec<&str> = prepared.env.iter().map(|(k, _)| *k).collect();
        for needed in ["PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "PYTHONUNBUFFERED"] {
            assert!(names.contains(&needed), "{names:?}");
        }
        assert!(
            prepared.args.is_empty(),
            "a disabled plan passes no sandbox flags"
        );
    }
}
