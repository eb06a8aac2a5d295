//! Build steps of `isnode`:
//! - link against the libpython it was built with and record that library's
//!   directory as an rpath, so the binary (which embeds CPython in its runner
//!   mode) starts without LD_LIBRARY_PATH and never silently picks up a
//!   different system libpython;
//! - embed every file of the Python packages under `src/python/py/` (their
//!   `.py` files, and the `.json` documents of the Base Steps pack).

use std::path::{Path, PathBuf};

fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
    println!("cargo:rerun-if-changed=build.rs");

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/python/py");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    let mut out = String::from(
        "/// (path relative to the package root, contents)\npub static FILES: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f
            .strip_prefix(&root)
            .expect("under root")
            .to_string_lossy()
            .replace('\\', "/");
        out.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("embedded_py.rs");
    std::fs::write(dest, out).expect("write embedded_py.rs");
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "__pycache__") {
                println!("cargo:rerun-if-changed={}", p.display());
                collect(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "py" || x == "json") {
            out.push(p);
        }
    }
}
