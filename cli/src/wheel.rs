//! Building a SyncPack wheel from its source directory (`iscli -ukf DIR`,
//! DIR holding setup.py and one package directory with meta.json). Owns
//! finding that package directory, reading and checking the fields of
//! meta.json the wheel's metadata needs, choosing which files go in, and
//! writing the wheel in memory: `<name>/...`, then
//! `<name>-<version>.dist-info/` with METADATA, WHEEL and RECORD.
//!
//! The bytes depend only on the files: entries in name order, one fixed
//! timestamp and mode, so building the same sources twice gives the same
//! wheel (and the same SHA-256 on the node).

use std::io::{Cursor, IsTerminal, Write};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::error::CliError;

/// A wheel built in memory, ready to upload.
#[derive(Debug, Clone)]
pub(crate) struct Wheel {
    /// `<name>-<version>-py3-none-any.whl`: the node reads the pack's name
    /// and version from it.
    pub(crate) file_name: String,
    pub(crate) bytes: Vec<u8>,
    /// How many files of the package it holds (the dist-info files aside).
    pub(crate) files: usize,
}

/// What the wheel's metadata takes from meta.json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PackMeta {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) summary: String,
    pub(crate) requires_dist: Vec<String>,
}

/// One file of the package: where it is, and its path inside the package
/// (`/`-separated, whatever this system separates paths with).
#[derive(Debug, Clone, PartialEq, Eq)]
struct SourceFile {
    disk: PathBuf,
    inner: String,
}

/// Builds the wheel of the pack whose sources are in `source`; with
/// `show_progress` a bar counts the files on stderr when it is a terminal.
pub(crate) fn build(source: &Path, show_progress: bool) -> Result<Wheel, CliError> {
    let (package, meta) = check_source(source)?;
    let mut files = Vec::new();
    collect_files(&package, "", &mut files)?;
    // read_dir's order is the file system's; the wheel's is by name.
    files.sort_by(|a, b| a.inner.cmp(&b.inner));
    let bar = progress_bar(files.len(), show_progress);
    let built = write_wheel(&meta, &files, &bar);
    bar.finish_and_clear();
    built
}

/// The package directory of the sources in `source` and what its
/// meta.json says, checked: what `build` starts from, and what an upload
/// checks before connecting, so that a broken pack fails without a server.
pub(crate) fn check_source(source: &Path) -> Result<(PathBuf, PackMeta), CliError> {
    let package = package_dir(source)?;
    let meta = read_meta(&package.join("meta.json"))?;
    check_dir_name(&package, &meta)?;
    Ok((package, meta))
}

/// The one directory of `source` that holds meta.json.
fn package_dir(source: &Path) -> Result<PathBuf, CliError> {
    let mut with_meta = Vec::new();
    let mut python_packages = Vec::new();
    for entry in list_dir(source)? {
        let entry = entry.map_err(|e| cannot("list", source, &e))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        // Follows links on purpose: a linked package is refused by name
        // below rather than silently passed over.
        if !path.is_dir() {
            continue;
        }
        if path.join("meta.json").is_file() {
            if entry.file_type().is_ok_and(|t| t.is_symlink()) {
                return Err(symlink_error(&path));
            }
            with_meta.push(path);
        } else if path.join("__init__.py").is_file() {
            python_packages.push(path);
        }
    }
    with_meta.sort();
    match with_meta.len() {
        1 => Ok(with_meta.remove(0)),
        0 if python_packages.len() == 1 => {
            // The package is plain to see; what it lacks is meta.json.
            let meta = python_packages[0].join("meta.json");
            Err(CliError::Local(format!(
                "cannot read {}: no such file or directory (a syncpack's package directory \
                 holds meta.json with its name and version)",
                meta.display()
            )))
        }
        0 => Err(CliError::Local(format!(
            "no package directory holding meta.json in {} (a syncpack source holds setup.py \
             and one package directory: NAME/meta.json, NAME/steps/, NAME/apps/, NAME/configs/)",
            source.display()
        ))),
        _ => Err(CliError::Local(format!(
            "{} holds several package directories with meta.json ({}): a syncpack source holds one",
            source.display(),
            with_meta
                .iter()
                .map(|p| file_name(p))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Reads the fields the wheel needs from meta.json, with the rules the
/// node applies on upload, so that a pack it would refuse is refused here
/// before anything is sent.
fn read_meta(path: &Path) -> Result<PackMeta, CliError> {
    let bytes = std::fs::read(path).map_err(|e| cannot("read", path, &e))?;
    let doc: Value = serde_json::from_slice(&bytes)
        .map_err(|e| CliError::Local(format!("{} is not valid JSON: {e}", path.display())))?;
    let Some(obj) = doc.as_object() else {
        return Err(bad_meta(path, "it must hold a JSON object"));
    };
    let name = required_text(obj, "name", path)?;
    if !is_identifier(&name) {
        return Err(bad_meta(
            path,
            &format!(
                "\"name\" must be a Python identifier (ASCII letters, digits and _, not starting \
                 with a digit; the pack is imported by it), got {name:?}"
            ),
        ));
    }
    let version = required_text(obj, "version", path)?;
    if !is_version(&version) {
        return Err(bad_meta(
            path,
            &format!(
                "\"version\" must be a version such as 1.0.2 (ASCII letters, digits, '.', '+', \
                 '_', '!'; the wheel's file name holds it), got {version:?}"
            ),
        ));
    }
    let summary = match obj.get("summary") {
        None | Some(Value::Null) => String::new(),
        // METADATA headers are one line each.
        Some(Value::String(s)) => s.split_whitespace().collect::<Vec<_>>().join(" "),
        Some(_) => return Err(bad_meta(path, "\"summary\" must be a string")),
    };
    let requires_dist = match obj.get("requires_dist") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item.as_str().map(str::trim) {
                Some(req) if !req.is_empty() && !req.contains(['\n', '\r']) => Ok(req.to_string()),
                _ => Err(bad_meta(
                    path,
                    &format!("\"requires_dist\" holds {item}, not a one-line requirement string"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => {
            return Err(bad_meta(
                path,
                "\"requires_dist\" must be a list of requirement strings",
            ))
        }
    };
    Ok(PackMeta {
        name,
        version,
        summary,
        requires_dist,
    })
}

fn required_text(obj: &Map<String, Value>, key: &str, path: &Path) -> Result<String, CliError> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        None => Err(bad_meta(path, &format!("\"{key}\" is missing"))),
        Some(_) => Err(bad_meta(path, &format!("\"{key}\" must be a non-empty string"))),
    }
}

fn bad_meta(path: &Path, why: &str) -> CliError {
    CliError::Local(format!("{}: {why}", path.display()))
}

/// A Python identifier in ASCII, as the node accepts pack names.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 100
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A version the wheel's file name can carry: no `-`, which separates the
/// name's parts, and nothing else PEP 440 would not write.
fn is_version(version: &str) -> bool {
    version.len() <= 64
        && version.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '_' | '!'))
}

/// The package directory must carry the pack's name: the wheel installs it
/// as `<name>/`, and the pack's own modules import each other by that name
/// (`from test_syncpack.util import ...`), so renaming it in the wheel
/// would break them.
fn check_dir_name(package: &Path, meta: &PackMeta) -> Result<(), CliError> {
    let dir = file_name(package);
    if dir == meta.name {
        return Ok(());
    }
    Err(CliError::Local(format!(
        "{}: meta.json names the pack {:?} but its directory is {:?}: they must be the same \
         (the pack is imported by its name)",
        package.display(),
        meta.name,
        dir
    )))
}

/// Every file under `dir` that belongs in the wheel, its inner path under
/// `prefix`. Left out: hidden entries (editor and VCS files), `__pycache__`
/// and `*.pyc` (the nodes compile for their own Python). A symbolic link
/// is refused: a wheel cannot carry it, and following it could pull in
/// files from anywhere.
fn collect_files(dir: &Path, prefix: &str, out: &mut Vec<SourceFile>) -> Result<(), CliError> {
    for entry in list_dir(dir)? {
        let entry = entry.map_err(|e| cannot("list", dir, &e))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            return Err(CliError::Local(format!(
                "{}: the name is not UTF-8, which a wheel cannot hold",
                path.display()
            )));
        };
        if name.starts_with('.') {
            continue;
        }
        // file_type does not follow links, so a link is seen as one.
        let kind = entry.file_type().map_err(|e| cannot("read", &path, &e))?;
        let inner = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        if kind.is_symlink() {
            return Err(symlink_error(&path));
        } else if kind.is_dir() {
            if name != "__pycache__" {
                collect_files(&path, &inner, out)?;
            }
        } else if kind.is_file() {
            if !name.ends_with(".pyc") {
                out.push(SourceFile { disk: path, inner });
            }
        } else {
            return Err(CliError::Local(format!(
                "{} is neither a file nor a directory: a wheel cannot hold it",
                path.display()
            )));
        }
    }
    Ok(())
}

fn symlink_error(path: &Path) -> CliError {
    CliError::Local(format!(
        "{} is a symbolic link: a syncpack wheel cannot hold links; put the file or directory \
         itself there",
        path.display()
    ))
}

/// Writes the wheel: the package's files, then METADATA, WHEEL and RECORD
/// (last, as installers expect, listing every entry before it).
fn write_wheel(meta: &PackMeta, files: &[SourceFile], bar: &ProgressBar) -> Result<Wheel, CliError> {
    let file_name = format!("{}-{}-py3-none-any.whl", meta.name, meta.version);
    let zip_failed = |e: zip::result::ZipError| CliError::Local(format!("cannot build {file_name}: {e}"));
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let mut record = String::new();
    for file in files {
        bar.set_message(file.inner.clone());
        let data = std::fs::read(&file.disk).map_err(|e| cannot("read", &file.disk, &e))?;
        let path = format!("{}/{}", meta.name, file.inner);
        add_entry(&mut zip, &path, &data).map_err(zip_failed)?;
        record.push_str(&record_line(&path, Some(&data)));
        bar.inc(1);
    }
    let dist_info = format!("{}-{}.dist-info", meta.name, meta.version);
    for (name, text) in [("METADATA", metadata(meta)), ("WHEEL", wheel_file())] {
        let path = format!("{dist_info}/{name}");
        add_entry(&mut zip, &path, text.as_bytes()).map_err(zip_failed)?;
        record.push_str(&record_line(&path, Some(text.as_bytes())));
    }
    // RECORD cannot hold its own hash: it is listed with empty fields.
    let record_path = format!("{dist_info}/RECORD");
    record.push_str(&record_line(&record_path, None));
    add_entry(&mut zip, &record_path, record.as_bytes()).map_err(zip_failed)?;
    let bytes = zip.finish().map_err(zip_failed)?.into_inner();
    Ok(Wheel {
        file_name,
        bytes,
        files: files.len(),
    })
}

fn add_entry(
    zip: &mut ZipWriter<Cursor<Vec<u8>>>,
    path: &str,
    data: &[u8],
) -> Result<(), zip::result::ZipError> {
    // A fixed time and mode: the wheel's bytes then depend on the files'
    // contents only, not on when they were checked out.
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::DEFAULT)
        .unix_permissions(0o644);
    zip.start_file(path, options)?;
    zip.write_all(data)?;
    Ok(())
}

/// The core metadata (version 2.1) installers read.
fn metadata(meta: &PackMeta) -> String {
    let mut text = format!(
        "Metadata-Version: 2.1\nName: {}\nVersion: {}\nSummary: {}\n",
        meta.name, meta.version, meta.summary
    );
    for req in &meta.requires_dist {
        text.push_str(&format!("Requires-Dist: {req}\n"));
    }
    text
}

/// The WHEEL file: a pure-Python wheel for any Python 3, made by this iscli.
fn wheel_file() -> String {
    format!(
        "Wheel-Version: 1.0\nGenerator: iscli {}\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// One RECORD line: `path,sha256=<urlsafe base64, no padding>,size`, or
/// `path,,` for a file without its hash (RECORD itself).
fn record_line(path: &str, data: Option<&[u8]>) -> String {
    let path = csv_field(path);
    match data {
        Some(data) => format!(
            "{path},sha256={},{}\n",
            URL_SAFE_NO_PAD.encode(Sha256::digest(data)),
            data.len()
        ),
        None => format!("{path},,\n"),
    }
}

/// A CSV field quoted as Python's csv module quotes it (RECORD is read with
/// it): only when it holds a comma, a quote or a line break.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// A bar counting the files put in the wheel, drawn on stderr only when it
/// is a terminal (stdout carries the result, possibly --json).
fn progress_bar(files: usize, show: bool) -> ProgressBar {
    let bar = ProgressBar::new(files as u64);
    if show && std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("building wheel [{bar:30}] {pos}/{len} files {msg}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

fn list_dir(dir: &Path) -> Result<std::fs::ReadDir, CliError> {
    std::fs::read_dir(dir).map_err(|e| cannot("list", dir, &e))
}

/// `cannot read PATH: reason`, the reason in words for the usual cases.
fn cannot(what: &str, path: &Path, e: &std::io::Error) -> CliError {
    let reason = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    };
    CliError::Local(format!("cannot {what} {}: {reason}", path.display()))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
#[path = "wheel_tests.rs"]
mod tests;
