//! The runner sandbox as runner mode applies it to itself, first thing,
//! while the process is still single-threaded and before Python starts:
//! join its cgroups, set resource limits, enter new PID and mount
//! namespaces (the runner becomes PID 1 of its own; the process the node
//! started only waits and relays its exit status), expose the interpreter
//! when the runner user cannot reach it, switch to that user, drop
//! capabilities, set `no_new_privs` and restrict the file system with
//! Landlock. The node decides what applies (`sandbox.rs`) and passes it as
//! flags; any step that fails stops the runner with the reason, so a runner
//! never runs less confined than the node's start-up line says.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use landlock::{
    Access, AccessFs, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr,
    RulesetStatus, Scope, ABI,
};

use super::fs_access::blocked_ancestor;
use super::sandbox::DEVICES;

/// The Landlock ABI whose rights this code was written and tested against;
/// older kernels get what they support of it.
const LANDLOCK_ABI: ABI = ABI::V7;

/// What runner mode applies to itself (its command-line flags).
#[derive(Debug, Clone, Default)]
pub struct Confinement {
    /// The private temporary directory (read and write).
    pub tmp: Option<PathBuf>,
    /// Switch to this uid and gid.
    pub user: Option<(u32, u32)>,
    /// cgroup directories to join.
    pub cgroups: Vec<PathBuf>,
    /// New PID and mount namespaces.
    pub namespaces: bool,
    pub landlock: bool,
    /// Readable (and executable) paths under Landlock.
    pub read: Vec<PathBuf>,
    /// Readable and writable directories under Landlock.
    pub shared: Vec<PathBuf>,
    /// RLIMIT_AS of each process.
    pub memory_bytes: Option<u64>,
    /// RLIMIT_NPROC of the runner user (where no pids cgroup counts).
    pub max_processes: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfineError {
    #[error("runner sandbox: {what}: {source}")]
    Sys { what: String, source: io::Error },
    #[error("runner sandbox: {0}")]
    Refused(String),
}

fn sys(what: impl Into<String>) -> impl FnOnce(io::Error) -> ConfineError {
    let what = what.into();
    move |source| ConfineError::Sys { what, source }
}

/// -1 from a libc call becomes the error in errno.
fn check(rc: libc::c_int, what: &str) -> Result<libc::c_int, ConfineError> {
    if rc < 0 {
        Err(ConfineError::Sys {
            what: what.to_string(),
            source: io::Error::last_os_error(),
        })
    } else {
        Ok(rc)
    }
}

/// Which process returns from [`apply`].
pub enum Role {
    /// The process that runs Python; with `pid_namespace` it is PID 1 of
    /// its own namespace, so everything a step leaves can be killed at once.
    Runner { pid_namespace: bool, host_pid: u32 },
    /// The process the node started, once its runner ended: exit with this.
    Relay(i32),
}

/// Applies `c` to this process (which must be single-threaded).
pub fn apply(c: &Confinement) -> Result<Role, ConfineError> {
    // SAFETY: getpid/getppid have no preconditions.
    let (me, parent) = unsafe { (libc::getpid(), libc::getppid()) };
    for g in &c.cgroups {
        std::fs::write(g.join("cgroup.procs"), me.to_string())
            .map_err(sys(format!("joining {}", g.display())))?;
    }
    if let Some(bytes) = c.memory_bytes {
        set_limit(libc::RLIMIT_AS, bytes, "RLIMIT_AS")?;
    }
    if let Some(n) = c.max_processes {
        set_limit(libc::RLIMIT_NPROC, n, "RLIMIT_NPROC")?;
    }
    let mut lifeline = None;
    if c.namespaces {
        // SAFETY: unshare only changes this process's namespaces.
        check(
            unsafe { libc::unshare(libc::CLONE_NEWPID | libc::CLONE_NEWNS) },
            "unshare",
        )?;
        private_mounts()?;
        if let Some((uid, gid)) = c.user {
            expose_closed_paths(c, uid, gid)?;
        }
        match fork_runner()? {
            Forked::Parent(code) => return Ok(Role::Relay(code)),
            Forked::Child(fd) => lifeline = Some(fd),
        }
    } else {
        // Orphans of the step come back to the runner rather than init.
        // SAFETY: prctl with integer arguments only.
        check(
            unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) },
            "PR_SET_CHILD_SUBREAPER",
        )?;
    }
    if let Some((uid, gid)) = c.user {
        switch_user(uid, gid)?;
    } else if unsafe { libc::geteuid() } == 0 {
        drop_capabilities()?;
    }
    // A fork and a change of credentials both clear the parent-death
    // signal: arm it now, then make sure the parent did not die before.
    // SAFETY: prctl with integer arguments only.
    check(
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) },
        "PR_SET_PDEATHSIG",
    )?;
    let orphaned = match &lifeline {
        Some(fd) => hung_up(fd),
        // SAFETY: getppid has no preconditions.
        None => (unsafe { libc::getppid() }) != parent,
    };
    if orphaned {
        return Err(ConfineError::Refused(
            "the runner's parent ended while it started".into(),
        ));
    }
    let pid_namespace = lifeline.is_some();
    drop(lifeline);
    // Inside its namespace the runner is PID 1; the node's /proc (still
    // mounted) names it as the node sees it.
    let host_pid = std::fs::read_link("/proc/self")
        .ok()
        .and_then(|p| p.to_str().and_then(|p| p.parse().ok()))
        .unwrap_or_else(std::process::id);
    // SAFETY: prctl with integer arguments only.
    check(
        unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) },
        "PR_SET_NO_NEW_PRIVS",
    )?;
    if c.landlock {
        restrict_files(c)?;
    }
    Ok(Role::Runner {
        pid_namespace,
        host_pid,
    })
}

fn set_limit(resource: libc::__rlimit_resource_t, value: u64, name: &str) -> Result<(), ConfineError> {
    let lim = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: `lim` is a valid rlimit for the duration of the call.
    check(unsafe { libc::setrlimit(resource, &lim) }, name).map(drop)
}

fn c_path(p: &Path) -> Result<CString, ConfineError> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| ConfineError::Refused(format!("{} holds a NUL", p.display())))
}

fn mount(
    source: Option<&Path>,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> Result<(), ConfineError> {
    let src = source.map(c_path).transpose()?;
    let tgt = c_path(target)?;
    let fs = fstype.map(|f| CString::new(f).unwrap_or_default());
    let dat = data.map(|d| CString::new(d).unwrap_or_default());
    let ptr = |c: &Option<CString>| c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: every pointer is null or a NUL-terminated string that outlives the call.
    let rc = unsafe { libc::mount(ptr(&src), tgt.as_ptr(), ptr(&fs), flags, ptr(&dat).cast()) };
    check(rc, &format!("mount on {}", target.display())).map(drop)
}

/// Mounts made from here on stay in this namespace.
fn private_mounts() -> Result<(), ConfineError> {
    mount(None, Path::new("/"), None, libc::MS_REC | libc::MS_PRIVATE, None)
}

/// Paths the runner user must read but cannot reach (the interpreter under
/// a home directory closed to others, say): the closed directory is covered
/// with an empty tmpfs in this mount namespace and each needed path is bound
/// back in, read-only, so only those paths appear under it.
fn expose_closed_paths(c: &Confinement, uid: u32, gid: u32) -> Result<(), ConfineError> {
    // (closed directory, needed path, writable)
    let mut needed: Vec<(PathBuf, PathBuf, bool)> = Vec::new();
    let writable = c.tmp.iter().chain(&c.shared).map(|t| (t, true));
    let paths = c.read.iter().map(|p| (p, false)).chain(writable);
    for (p, writable) in paths.filter(|(p, _)| p.exists()) {
        let real = std::fs::canonicalize(p).map_err(sys(format!("resolving {}", p.display())))?;
        match blocked_ancestor(&real, uid, gid) {
            Some(b) if b == real => {
                return Err(ConfineError::Refused(format!(
                    "{} is not readable by uid {uid}: make it readable or set runner_user",
                    real.display()
                )))
            }
            Some(b) => needed.push((b, real, writable)),
            None => {}
        }
    }
    // The outermost closed directory of each path; nested ones vanish under it.
    let mut hidden: Vec<PathBuf> = needed.iter().map(|(b, _, _)| b.clone()).collect();
    hidden.sort();
    hidden.dedup();
    let outer: Vec<PathBuf> = hidden
        .iter()
        .filter(|h| !hidden.iter().any(|o| o != *h && h.starts_with(o)))
        .cloned()
        .collect();
    for h in outer {
        // Handles on the real paths, taken before the tmpfs hides them.
        let handles = needed
            .iter()
            .filter(|(_, p, _)| p.starts_with(&h))
            .map(|(_, p, w)| open_path(p).map(|fd| (p, fd, *w)))
            .collect::<Result<Vec<_>, _>>()?;
        mount(
            Some(Path::new("tmpfs")),
            &h,
            Some("tmpfs"),
            libc::MS_NOSUID | libc::MS_NODEV,
            Some("mode=0755,size=1m"),
        )?;
        for (p, fd, writable) in &handles {
            if p.is_dir()
                || std::fs::metadata(format!("/proc/self/fd/{}", fd.as_raw_fd())).is_ok_and(|m| m.is_dir())
            {
                std::fs::create_dir_all(p).map_err(sys(format!("making {}", p.display())))?;
            } else {
                if let Some(parent) = p.parent() {
                    std::fs::create_dir_all(parent).map_err(sys(format!("making {}", parent.display())))?;
                }
                std::fs::File::create(p).map_err(sys(format!("making {}", p.display())))?;
            }
            let from = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
            mount(Some(&from), p, None, libc::MS_BIND | libc::MS_REC, None)?;
            if *writable {
                continue;
            }
            mount(
                None,
                p,
                None,
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
                None,
            )?;
        }
    }
    Ok(())
}

fn open_path(p: &Path) -> Result<OwnedFd, ConfineError> {
    let cp = c_path(p)?;
    // SAFETY: `cp` is NUL-terminated; the new descriptor is owned below.
    let fd = check(
        unsafe { libc::open(cp.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) },
        &format!("open {}", p.display()),
    )?;
    // SAFETY: `fd` was just opened and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// What [`fork_runner`] answers each side.
enum Forked {
    /// The process the node started: its runner ended with this code.
    Parent(i32),
    /// The runner; the pipe's other end closes when the parent dies.
    Child(OwnedFd),
}

/// Forks the runner as PID 1 of the new namespace. The parent (the process
/// the node started) lets go of the node's pipes, waits, and answers the
/// exit code to relay. The child dies when the parent does
/// (PR_SET_PDEATHSIG), and when PID 1 of a namespace dies the kernel kills
/// everything else in it: detached or not, nothing a step started outlives
/// its runner.
fn fork_runner() -> Result<Forked, ConfineError> {
    let mut lifeline = [0; 2];
    // SAFETY: `lifeline` has room for the two descriptors.
    check(
        unsafe { libc::pipe2(lifeline.as_mut_ptr(), libc::O_CLOEXEC) },
        "pipe2",
    )?;
    // SAFETY: the process is single-threaded here (runner mode applies the
    // sandbox before anything starts a thread), so the child may run Rust.
    let pid = check(unsafe { libc::fork() }, "fork")?;
    if pid > 0 {
        // SAFETY: closing and re-pointing descriptors this process owns.
        unsafe {
            libc::close(lifeline[0]);
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
            if null >= 0 {
                libc::dup2(null, 0);
                libc::dup2(null, 1);
                libc::close(null);
            }
        }
        return Ok(Forked::Parent(relay(pid)));
    }
    // SAFETY: closing our copy of the write end; the read end is owned below.
    unsafe { libc::close(lifeline[1]) };
    Ok(Forked::Child(unsafe { OwnedFd::from_raw_fd(lifeline[0]) }))
}

/// True once the other end of `lifeline` is closed: its holder died.
fn hung_up(lifeline: &OwnedFd) -> bool {
    let mut pfd = libc::pollfd {
        fd: lifeline.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no waiting.
    unsafe { libc::poll(&mut pfd, 1, 0) != 0 }
}

/// Waits for the runner and answers its exit code; a runner killed by a
/// signal is relayed by dying of the same signal, so the node sees the
/// runner's own end (a segfault, the OOM killer's SIGKILL).
fn relay(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            break;
        }
        if rc < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return 70;
        }
    }
    if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        // SAFETY: default disposition, then the signal to ourselves.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
            libc::kill(libc::getpid(), sig);
        }
        128 + sig
    } else {
        libc::WEXITSTATUS(status)
    }
}

fn switch_user(uid: u32, gid: u32) -> Result<(), ConfineError> {
    // SAFETY: setgroups with an empty list; setgid/setuid take integers.
    unsafe {
        check(libc::setgroups(0, std::ptr::null()), "setgroups")?;
        check(libc::setgid(gid), "setgid")?;
        check(libc::setuid(uid), "setuid")?;
        if libc::setuid(0) == 0 {
            return Err(ConfineError::Refused("the runner could become root again".into()));
        }
    }
    Ok(())
}

/// A runner that stays uid 0 (the node is root but has no runner user to
/// switch to) keeps none of root's capabilities.
fn drop_capabilities() -> Result<(), ConfineError> {
    for cap in 0..64 {
        // SAFETY: prctl with integers; caps past the kernel's last fail with EINVAL.
        unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) };
    }
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let mut header = Header {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: header and two data structs as capset(2) v3 expects.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    check(rc as libc::c_int, "capset").map(drop)
}

/// Landlock: read and execute the system, the interpreter, the library and
/// the pack environments; read and write the private temporary directory,
/// the shared directories and a few device nodes; nothing else. Signals to processes outside the
/// sandbox (the node) and abstract sockets outside it are refused too.
fn restrict_files(c: &Confinement) -> Result<(), ConfineError> {
    let abi = LANDLOCK_ABI;
    let read = AccessFs::from_read(abi) | AccessFs::Execute;
    let refuse = |e: landlock::RulesetError| ConfineError::Refused(format!("landlock: {e}"));
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))
        .map_err(refuse)?
        .scope(Scope::from_all(abi))
        .map_err(refuse)?
        .create()
        .map_err(refuse)?;
    let rule = |path: &Path, access| -> Option<PathBeneath<PathFd>> {
        PathFd::new(path).ok().map(|fd| PathBeneath::new(fd, access))
    };
    for p in &c.read {
        if let Some(r) = rule(p, read) {
            ruleset = ruleset.add_rule(r).map_err(refuse)?;
        }
    }
    for d in DEVICES {
        if let Some(r) = rule(Path::new(d), AccessFs::from_file(abi)) {
            ruleset = ruleset.add_rule(r).map_err(refuse)?;
        }
    }
    for dir in c.tmp.iter().chain(&c.shared) {
        let r = rule(dir, AccessFs::from_all(abi))
            .ok_or_else(|| ConfineError::Refused(format!("cannot open {}", dir.display())))?;
        ruleset = ruleset.add_rule(r).map_err(refuse)?;
    }
    let status = ruleset.restrict_self().map_err(refuse)?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err(ConfineError::Refused(
            "landlock is not enforced by this kernel".into(),
        ));
    }
    Ok(())
}

/// Kills everything a step left in the runner's namespace (detached
/// children included) and reaps it: the runner is PID 1 there, so `kill(-1)`
/// reaches every other process of the namespace and nothing outside it.
pub fn end_leftovers(pid_namespace: bool) {
    if !pid_namespace {
        return;
    }
    // SAFETY: signals and waits only; -1 is confined to this namespace.
    unsafe {
        libc::kill(-1, libc::SIGKILL);
        loop {
            let rc = libc::waitpid(-1, std::ptr::null_mut(), 0);
            if rc < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                break;
            }
        }
    }
}
