//! The `ipaascore` and `ipaascommon` packages, embedded in the binary at
//! build time (see build.rs) and written to a directory on every runner's
//! `sys.path`.

use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/embedded_py.rs"));

/// Writes the packages under `dir`, replacing files whose contents differ
/// (an upgraded binary brings new package code) and leaving equal files
/// untouched (so their compiled caches stay valid).
pub fn install(dir: &Path) -> std::io::Result<()> {
    for (rel, contents) in FILES {
        let path = dir.join(rel);
        if std::fs::read(&path).is_ok_and(|old| old == contents.as_bytes()) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = path.with_extension("py.tmp");
        std::fs::write(&tmp, contents)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_api_packages_are_embedded() {
        let names: Vec<&str> = FILES.iter().map(|(n, _)| *n).collect();
        for required in [
            "ipaascore/BaseStep.py",
            "ipaascore/_runner.py",
            "ipaascommon/ipaas_exceptions.py",
        ] {
            assert!(names.contains(&required), "{required} missing from {names:?}");
        }
    }
}
