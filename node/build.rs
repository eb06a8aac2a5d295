//! Build steps of `isnode`:
//! - link against the libpython it was built with and record that library's
//!   directory as an rpath, so the binary (which embeds CPython in its runner
//!   mode) starts without LD_LIBRARY_PATH and never silently picks up a
//!   different system libpython;
//! - embed every file of the Python packages under `src/python/py/` (their
//!   `.py` files, and the `.json` documents of the Base Steps pack);
//! - build the web UI (`ui/`, Vite) with npm into OUT_DIR and embed every
//!   file it produced, so the node serves its UI with nothing fetched or
//!   installed at run time. A machine without Node.js fails here with a
//!   message saying what to install.

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

    build_ui();
}

/// Node.js and npm versions the UI build needs (Vite 8: Node 20.19 or later).
const NODE_MIN: (u32, u32) = (20, 19);

fn build_ui() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    for input in [
        "src",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed={}", ui.join(input).display());
    }
    check_node();
    let lock = ui.join("package-lock.json");
    let installed = ui.join("node_modules/.package-lock.json");
    // Deleted packages are installed again.
    println!("cargo:rerun-if-changed={}", installed.display());
    if modified(&installed) < modified(&lock) {
        npm(&ui, &["ci", "--no-audit", "--no-fund", "--loglevel=error"], None);
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("ui");
    npm(&ui, &["run", "build", "--silent"], Some(&out));

    let mut files = Vec::new();
    collect_all(&out, &mut files);
    files.sort();
    assert!(
        files.iter().any(|f| f.ends_with("index.html")),
        "the web UI build wrote no index.html into {}",
        out.display()
    );
    let mut code = String::from(
        "/// A file: path under the UI's root, contents as Vite built them, and\n\
         /// their gzip for text files that shrink.\n\
         pub(super) type UiFile = (&'static str, &'static [u8], Option<&'static [u8]>);\n\
         pub(super) static FILES: &[UiFile] = &[\n",
    );
    for f in &files {
        let rel = f
            .strip_prefix(&out)
            .expect("under out")
            .to_string_lossy()
            .replace('\\', "/");
        let gz = gzip_beside(f).map_or("None".to_string(), |g| {
            format!("Some(include_bytes!({:?}))", g.display().to_string())
        });
        code.push_str(&format!(
            "    ({rel:?}, include_bytes!({:?}), {gz}),\n",
            f.display().to_string()
        ));
    }
    code.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("embedded_ui.rs");
    std::fs::write(dest, code).expect("write embedded_ui.rs");
}

/// Writes `<file>.gz` next to a text asset and answers its path, or None
/// for files that do not shrink by a tenth (images, tiny files).
fn gzip_beside(file: &Path) -> Option<PathBuf> {
    use std::io::Write;
    let text = matches!(
        file.extension().and_then(|e| e.to_str()),
        Some("js" | "css" | "html" | "svg" | "json" | "txt")
    );
    if !text {
        return None;
    }
    let raw = std::fs::read(file).expect("read a built UI file");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&raw).expect("gzip in memory");
    let gz = enc.finish().expect("gzip in memory");
    if gz.len() * 10 > raw.len() * 9 {
        return None;
    }
    let mut name = file.as_os_str().to_owned();
    name.push(".gz");
    let path = PathBuf::from(name);
    std::fs::write(&path, gz).expect("write a gzip of a UI file");
    Some(path)
}

fn modified(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// Fails the build with instructions when Node.js or npm is missing or old.
fn check_node() {
    let version = std::process::Command::new("node").arg("--version").output();
    let text = match version {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => panic!(
            "\n\nThe web UI is built with Node.js (>= {}.{}) and npm, and `node` was not found on PATH.\n\
             Install them (Debian: `apt-get install nodejs npm`, or from https://nodejs.org) and build again.\n",
            NODE_MIN.0, NODE_MIN.1
        ),
    };
    let mut parts = text
        .trim_start_matches('v')
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    assert!(
        (major, minor) >= NODE_MIN,
        "\n\nThe web UI build needs Node.js {}.{} or later; `node --version` says {text}. Upgrade Node.js and build again.\n",
        NODE_MIN.0,
        NODE_MIN.1
    );
}

/// Runs npm in `dir` (with the UI's output directory when given), failing
/// the build with npm's own output when it fails.
fn npm(dir: &Path, args: &[&str], out_dir: Option<&Path>) {
    let mut cmd = std::process::Command::new("npm");
    cmd.args(args).current_dir(dir);
    if let Some(out) = out_dir {
        cmd.env("IS_UI_OUT_DIR", out);
    }
    let result = cmd.output().unwrap_or_else(|e| {
        panic!("\n\nCannot start npm ({e}); the web UI is built with Node.js and npm: install them (Debian: `apt-get install nodejs npm`).\n")
    });
    if !result.status.success() {
        panic!(
            "\n\n`npm {}` in {} failed:\n{}\n{}\n",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        );
    }
}

fn collect_all(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_all(&p, out);
        } else if p.extension().is_none_or(|x| x != "gz") {
            out.push(p);
        }
    }
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
