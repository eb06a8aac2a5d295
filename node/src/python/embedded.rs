//! The packages every runner imports (`ipaascore`, `ipaascommon`,
//! `isbaseutils` and the Base Steps pack `base_steps_syncpack`), embedded in
//! the binary at build time (see build.rs) and written to a directory on
//! every runner's `sys.path`; and the Base Steps pack's steps and
//! applications as content, which a new cluster stores at bootstrap.

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

/// Where the Base Steps pack's step modules and application documents are.
const BASE_STEPS: &str = "base_steps_syncpack/steps/";
const BASE_APPS: &str = "base_steps_syncpack/apps/";

/// The Base Steps pack's steps as (class name, source): one module per
/// step, its class named like the file.
pub fn base_pack_steps() -> impl Iterator<Item = (&'static str, &'static str)> {
    FILES.iter().filter_map(|(path, source)| {
        let name = path.strip_prefix(BASE_STEPS)?.strip_suffix(".py")?;
        (!name.contains('/') && name != "__init__").then_some((name, *source))
    })
}

/// The Base Steps pack's application documents as (file name, JSON text).
pub fn base_pack_applications() -> impl Iterator<Item = (&'static str, &'static str)> {
    FILES.iter().filter_map(|(path, text)| {
        let name = path.strip_prefix(BASE_APPS)?.strip_suffix(".json")?;
        (!name.contains('/')).then_some((name, *text))
    })
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

    #[test]
    fn the_base_steps_pack_lists_its_steps_and_applications() {
        let steps: Vec<&str> = base_pack_steps().map(|(n, _)| n).collect();
        for required in ["QueryREST", "QueryGQL", "CacheSave", "CacheRead", "stepTemplate"] {
            assert!(steps.contains(&required), "{required} missing from {steps:?}");
        }
        assert!(!steps.contains(&"__init__"));
        for (name, source) in base_pack_steps() {
            assert!(
                source.contains(&format!("class {name}(")),
                "{name}'s module defines it"
            );
        }
        let apps: Vec<&str> = base_pack_applications().map(|(n, _)| n).collect();
        assert_eq!(apps, vec!["integration_template"]);
    }
}
