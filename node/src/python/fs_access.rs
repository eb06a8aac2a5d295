//! Who may read what on disk: the walk that finds the first directory on
//! the way to a path that the runner user may not pass, and the modes that
//! close the node's data directory to that user while leaving the step
//! library and the pack environments readable.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::sandbox::SandboxError;

/// The generated administrator password (`node::ADMIN_PASSWORD_FILE`; this
/// module may not name `node`).
const ADMIN_PASSWORD_FILE: &str = "initial-admin-password";

/// Whether `mode` (owned by `owner`:`group`) grants `want` (r=4, x=1) to uid:gid.
fn grants(meta: &std::fs::Metadata, uid: u32, gid: u32, want: u32) -> bool {
    let mode = meta.mode();
    let bits = if meta.uid() == uid {
        mode >> 6
    } else if meta.gid() == gid {
        mode >> 3
    } else {
        mode
    } & 0o7;
    bits & want == want
}

/// The first directory on the way to `path` (or `path` itself) that uid:gid
/// may not pass or read; None when all of it is open to them.
pub(super) fn blocked_ancestor(path: &Path, uid: u32, gid: u32) -> Option<PathBuf> {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut at = PathBuf::new();
    let parts: Vec<_> = path.components().collect();
    for (i, c) in parts.iter().enumerate() {
        at.push(c);
        let Ok(meta) = std::fs::metadata(&at) else {
            return None;
        };
        let last = i + 1 == parts.len();
        let want = match (last, meta.is_dir()) {
            (false, _) => 1,
            (true, true) => 5,
            (true, false) => 4,
        };
        if !grants(&meta, uid, gid, want) {
            return Some(at);
        }
    }
    None
}

pub(super) fn set_mode(path: &Path, mode: u32) -> Result<(), SandboxError> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|source| SandboxError::Io {
        what: format!("setting mode {mode:o} on {}", path.display()),
        source,
    })
}

/// Closes the data directory to everyone but the node, except what runners
/// read: the platform library and the pack environments. DATA can be passed
/// (0711) but not listed; Raft state, keys and wheels are the node's alone.
pub(super) fn secure_data_dir(data: &Path) -> Result<(), SandboxError> {
    set_mode(data, 0o711)?;
    let raft = data.join("raft");
    std::fs::create_dir_all(&raft).map_err(|source| SandboxError::Io {
        what: format!("creating {}", raft.display()),
        source,
    })?;
    set_mode(&raft, 0o700)?;
    let password = data.join(ADMIN_PASSWORD_FILE);
    if password.exists() {
        set_mode(&password, 0o600)?;
    }
    for (dir, mode) in [
        ("python", 0o755),
        ("syncpacks", 0o711),
        ("syncpacks/wheels", 0o700),
        ("syncpacks/envs", 0o755),
        ("syncpacks/unpacked", 0o755),
    ] {
        let p = data.join(dir);
        if p.is_dir() {
            set_mode(&p, mode)?;
        }
    }
    open_tree(&data.join("python/lib"))
}

/// Directories 0755 and files 0644 below `dir`, whatever the umask was when
/// they were written, so the runner user can read the library.
fn open_tree(dir: &Path) -> Result<(), SandboxError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    set_mode(dir, 0o755)?;
    for e in entries.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => open_tree(&p)?,
            Ok(t) if t.is_file() => set_mode(&p, 0o644)?,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_directory_on_the_way_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("a/b");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::set_permissions(dir.path().join("a"), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let blocked = blocked_ancestor(&inner, 65534, 65534);
        assert_eq!(
            blocked,
            Some(std::fs::canonicalize(dir.path().join("a")).unwrap())
        );
        std::fs::set_permissions(dir.path().join("a"), std::fs::Permissions::from_mode(0o711)).unwrap();
        assert_eq!(blocked_ancestor(&inner, 65534, 65534), None);
    }

    #[test]
    fn the_data_directory_is_closed_but_the_library_is_readable() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path();
        std::fs::create_dir_all(data.join("python/lib/ipaascore")).unwrap();
        std::fs::write(data.join("python/lib/ipaascore/x.py"), "").unwrap();
        std::fs::set_permissions(
            data.join("python/lib/ipaascore/x.py"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        secure_data_dir(data).unwrap();
        let mode = |p: &str| std::fs::metadata(data.join(p)).unwrap().mode() & 0o777;
        assert_eq!(mode(""), 0o711);
        assert_eq!(mode("raft"), 0o700);
        assert_eq!(mode("python/lib"), 0o755);
        assert_eq!(mode("python/lib/ipaascore/x.py"), 0o644);
    }
}
