//! `-u`: uploading steps, applications, configurations and syncpacks. Owns
//! which files of a directory count for each kind (`plan`, done before any
//! network call), reading and checking each file locally, the RPC each kind
//! maps to, the progress bar and per-file result lines of a directory
//! upload, and its `N uploaded, M failed` summary. A syncpack source
//! directory is turned into a wheel by `wheel` first.

use std::ffi::OsStr;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};

use crate::args::{ContentKind, UploadRequest};
use crate::client::Client;
use crate::commands::Outcome;
use crate::error::CliError;
use crate::output;
use crate::wheel;

/// One thing to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// A file: .py step, .json application/configuration, .whl syncpack.
    File(PathBuf),
    /// A syncpack source directory (holds setup.py).
    SyncPackSource(PathBuf),
}

impl Item {
    fn path(&self) -> &Path {
        match self {
            Item::File(p) | Item::SyncPackSource(p) => p,
        }
    }

    /// The name shown in result lines.
    fn label(&self) -> String {
        let name = file_name(self.path());
        match self {
            Item::File(_) => name,
            Item::SyncPackSource(_) => format!("{name}/"),
        }
    }
}

/// What an upload will send, decided before connecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) kind: ContentKind,
    pub(crate) items: Vec<Item>,
    /// True when `-f` named a directory of items (progress bar + summary).
    pub(crate) batch: bool,
}

/// Looks at `-f PATH` and lists what to upload.
pub(crate) fn plan(req: &UploadRequest) -> Result<Plan, CliError> {
    let path = &req.path;
    let meta = std::fs::metadata(path)
        .map_err(|e| CliError::Local(format!("cannot read {}: {}", path.display(), io_reason(&e))))?;
    if meta.is_dir() {
        if req.kind == ContentKind::SyncPack && path.join("setup.py").is_file() {
            // A broken pack fails here, before connecting. (In a directory
            // of packs each is checked as it is built: one broken pack is
            // one failed line, not a failed batch.)
            wheel::check_source(path)?;
            return Ok(Plan {
                kind: req.kind,
                items: vec![Item::SyncPackSource(path.clone())],
                batch: false,
            });
        }
        let items = collect(req.kind, path)?;
        if items.is_empty() {
            return Err(CliError::Local(format!(
                "no {} found in {}",
                what_counts(req.kind),
                path.display()
            )));
        }
        return Ok(Plan {
            kind: req.kind,
            items,
            batch: true,
        });
    }
    check_single_file(req.kind, path)?;
    Ok(Plan {
        kind: req.kind,
        items: vec![Item::File(path.clone())],
        batch: false,
    })
}

/// The files of `kind` in `dir`, sorted by name. Hidden entries are skipped.
pub(crate) fn collect(kind: ContentKind, dir: &Path) -> Result<Vec<Item>, CliError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| CliError::Local(format!("cannot list {}: {}", dir.display(), io_reason(&e))))?;
    let mut items = Vec::new();
    for entry in entries {
        let entry = entry
            .map_err(|e| CliError::Local(format!("cannot list {}: {}", dir.display(), io_reason(&e))))?;
        let path = entry.path();
        let name = file_name(&path);
        if name.starts_with('.') {
            continue;
        }
        // Follow symlinks: a linked file counts like a file.
        let is_dir = path.is_dir();
        let is_file = path.is_file();
        let wanted = match kind {
            ContentKind::Step => is_file && has_ext(&path, "py") && name != "__init__.py",
            ContentKind::Application | ContentKind::Configuration => is_file && has_ext(&path, "json"),
            ContentKind::SyncPack => {
                if is_dir && path.join("setup.py").is_file() {
                    items.push(Item::SyncPackSource(path));
                    continue;
                }
                is_file && has_ext(&path, "whl")
            }
        };
        if wanted {
            items.push(Item::File(path));
        }
    }
    items.sort_by_key(|i| file_name(i.path()));
    Ok(items)
}

fn what_counts(kind: ContentKind) -> &'static str {
    match kind {
        ContentKind::Step => "step files (*.py, except __init__.py)",
        ContentKind::Application => "application files (*.json)",
        ContentKind::Configuration => "configuration files (*.json)",
        ContentKind::SyncPack => "syncpacks (*.whl, or directories holding setup.py)",
    }
}

fn check_single_file(kind: ContentKind, path: &Path) -> Result<(), CliError> {
    match kind {
        ContentKind::Step if !has_ext(path, "py") => Err(CliError::Usage(format!(
            "{} is not a step file: steps are uploaded from .py files",
            path.display()
        ))),
        ContentKind::SyncPack if !has_ext(path, "whl") => Err(CliError::Usage(format!(
            "{} is not a syncpack: give a .whl file or a directory holding setup.py",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Uploads everything in the plan and prints the results. A single item's
/// failure is returned as the error; a directory's failures are listed and
/// give `Outcome::Failed`.
pub(crate) async fn run(
    client: &mut Client,
    plan: &Plan,
    overwrite: bool,
    json_output: bool,
) -> Result<Outcome, CliError> {
    if !plan.batch {
        let Some(item) = plan.items.first() else {
            return Err(CliError::Local("nothing to upload".to_string()));
        };
        let (line, response) = upload_item(client, plan.kind, item, overwrite, true).await?;
        if json_output {
            output::emit(&output::pretty(&response));
        } else {
            output::emit(&line);
        }
        return Ok(Outcome::Success);
    }

    let bar = progress_bar(plan.items.len());
    let mut report = Vec::new();
    let mut failed = 0usize;
    for item in &plan.items {
        let label = item.label();
        bar.set_message(label.clone());
        let result = upload_item(client, plan.kind, item, overwrite, false).await;
        bar.inc(1);
        match result {
            Ok((line, response)) => {
                if json_output {
                    report.push(json!({"file": label, "ok": true, "response": response}));
                } else {
                    bar.suspend(|| output::emit(&format!("ok    {label}: {line}")));
                }
            }
            Err(err) if err.is_fatal_for_batch() => {
                bar.finish_and_clear();
                return Err(err);
            }
            Err(err) => {
                failed += 1;
                if json_output {
                    report.push(json!({
                        "file": label,
                        "ok": false,
                        "error": err.headline(),
                        "details": err.details(),
                    }));
                } else {
                    bar.suspend(|| output::emit(&failure_lines(&label, &err)));
                }
            }
        }
    }
    bar.finish_and_clear();
    let uploaded = plan.items.len() - failed;
    if json_output {
        output::emit(&output::pretty(&Value::Array(report)));
    } else {
        output::emit(&summary_line(uploaded, failed));
    }
    Ok(if failed == 0 {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}

/// `FAIL  file: error` then one `  - detail` line per detail.
pub(crate) fn failure_lines(label: &str, err: &CliError) -> String {
    let mut text = format!("FAIL  {label}: {}", err.headline());
    for d in err.details() {
        text.push_str("\n  - ");
        text.push_str(d);
    }
    text
}

pub(crate) fn summary_line(uploaded: usize, failed: usize) -> String {
    format!("{uploaded} uploaded, {failed} failed")
}

fn progress_bar(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if std::io::stdout().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("[{bar:30}] {pos}/{len} {msg}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

/// Sends one item; answers the result line and the node's answer as JSON
/// (what --json prints). `show_progress`: whether building a wheel may
/// draw its own bar (not under the bar of a directory upload).
async fn upload_item(
    client: &mut Client,
    kind: ContentKind,
    item: &Item,
    overwrite: bool,
    show_progress: bool,
) -> Result<(String, Value), CliError> {
    match (kind, item) {
        (ContentKind::Step, Item::File(path)) => {
            let name = path
                .file_stem()
                .and_then(OsStr::to_str)
                .unwrap_or_default()
                .to_string();
            let source = read_text(path)?;
            let stored = client.put_step(&name, source).await?;
            Ok((format!("uploaded step {name}"), output::json_value(&stored)?))
        }
        (ContentKind::Application | ContentKind::Configuration, Item::File(path)) => {
            let mut text = read_text(path)?;
            let mut doc: Value = serde_json::from_str(&text)
                .map_err(|e| CliError::Local(format!("{} is not valid JSON: {e}", path.display())))?;
            if name_after_file(&mut doc, path) {
                text = doc.to_string();
            }
            let stored = if kind == ContentKind::Application {
                client.put_application(text).await?
            } else {
                client.put_configuration(text).await?
            };
            let name = [stored.name.clone(), output::text(&doc, "name")]
                .into_iter()
                .find(|n| !n.is_empty())
                .unwrap_or_else(|| file_name(path));
            Ok((
                format!("uploaded {} {name}", kind.noun()),
                output::json_value(&stored)?,
            ))
        }
        (ContentKind::SyncPack, Item::File(path)) => {
            let bytes = std::fs::read(path)
                .map_err(|e| CliError::Local(format!("cannot read {}: {}", path.display(), io_reason(&e))))?;
            let fname = file_name(path);
            let response = client.upload_syncpack(&fname, bytes, overwrite).await?;
            Ok((
                format!(
                    "uploaded syncpack {}{}",
                    pack_label(&response, &fname),
                    replaced_note(&response)
                ),
                response,
            ))
        }
        (ContentKind::SyncPack, Item::SyncPackSource(dir)) => {
            // The node takes wheels only: iscli builds it, as `pip wheel`
            // would, and sends it under the name the node reads the pack's
            // name and version from.
            let wheel::Wheel {
                file_name: fname,
                bytes,
                files,
            } = wheel::build(dir, show_progress)?;
            let response = client.upload_syncpack(&fname, bytes, overwrite).await?;
            Ok((
                format!(
                    "uploaded syncpack {} (wheel {fname} built from {files} files){}",
                    pack_label(&response, &fname),
                    replaced_note(&response)
                ),
                response,
            ))
        }
        (_, Item::SyncPackSource(dir)) => Err(CliError::Local(format!(
            "{} is a directory, not a {} file",
            dir.display(),
            kind.noun()
        ))),
    }
}

/// A document without `name` is named after its file, without `.json`, as
/// the original product did; answers whether the document changed.
fn name_after_file(doc: &mut Value, path: &Path) -> bool {
    let Some(obj) = doc.as_object_mut() else {
        return false;
    };
    let unnamed = match obj.get("name") {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    };
    let stem = path.file_stem().and_then(OsStr::to_str).unwrap_or_default();
    if !unnamed || stem.is_empty() {
        return false;
    }
    obj.insert("name".into(), Value::String(stem.to_string()));
    true
}

/// "name version" from the server's answer when it has them, else the file.
fn pack_label(response: &Value, fallback: &str) -> String {
    let name = output::text(response, "name");
    let version = output::text(response, "version");
    match (name.is_empty(), version.is_empty()) {
        (false, false) => format!("{name} {version}"),
        (false, true) => name,
        _ => fallback.to_string(),
    }
}

/// Said after the result line when the upload replaced a wheel of the same
/// name and version (`-O`), so that an operator sees what was overwritten.
fn replaced_note(response: &Value) -> &'static str {
    if response.get("replaced").and_then(Value::as_bool) == Some(true) {
        "; replaced the wheel uploaded before"
    } else {
        ""
    }
}

fn read_text(path: &Path) -> Result<String, CliError> {
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::Local(format!("cannot read {}: {}", path.display(), io_reason(&e))))?;
    String::from_utf8(bytes).map_err(|_| CliError::Local(format!("{} is not UTF-8 text", path.display())))
}

fn has_ext(path: &Path, ext: &str) -> bool {
    path.extension()
        .and_then(OsStr::to_str)
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ApiError, ApiErrorKind};
    use crate::scratch::Scratch;

    fn req(kind: ContentKind, path: &Path) -> UploadRequest {
        UploadRequest {
            kind,
            path: path.to_path_buf(),
            overwrite: false,
            then: None,
        }
    }

    fn labels(plan: &Plan) -> Vec<String> {
        plan.items.iter().map(Item::label).collect()
    }

    #[test]
    fn directory_of_steps_skips_init_and_other_files_sorted() {
        let s = Scratch::new("steps");
        for f in ["b.py", "A.py", "__init__.py", "notes.txt", ".hidden.py", "c.PY"] {
            s.touch(f);
        }
        std::fs::create_dir_all(s.0.join("sub.py")).unwrap();
        let plan = plan(&req(ContentKind::Step, &s.0)).unwrap();
        assert!(plan.batch);
        assert_eq!(labels(&plan), ["A.py", "b.py", "c.PY"]);
    }

    #[test]
    fn directory_of_json_and_of_syncpacks() {
        let s = Scratch::new("json");
        for f in [
            "z.json",
            "a.json",
            "readme.md",
            "p-0.1-py3-none-any.whl",
            "src/setup.py",
        ] {
            s.touch(f);
        }
        std::fs::create_dir_all(s.0.join("empty_dir")).unwrap();
        let apps = plan(&req(ContentKind::Application, &s.0)).unwrap();
        assert_eq!(labels(&apps), ["a.json", "z.json"]);
        let packs = plan(&req(ContentKind::SyncPack, &s.0)).unwrap();
        assert_eq!(labels(&packs), ["p-0.1-py3-none-any.whl", "src/"]);
        // A syncpack source directory itself is one item, not a batch; its
        // meta.json is checked before any connection.
        let err = plan(&req(ContentKind::SyncPack, &s.0.join("src"))).unwrap_err();
        assert!(
            err.render().contains("no package directory holding meta.json"),
            "{}",
            err.render()
        );
        s.write("src/pack/meta.json", br#"{"name": "pack", "version": "1"}"#);
        let one = plan(&req(ContentKind::SyncPack, &s.0.join("src"))).unwrap();
        assert!(!one.batch);
        assert_eq!(one.items, vec![Item::SyncPackSource(s.0.join("src"))]);
    }

    #[test]
    fn empty_directory_missing_path_and_wrong_extension_are_errors() {
        let s = Scratch::new("errs");
        let err = plan(&req(ContentKind::Configuration, &s.0)).unwrap_err();
        assert!(err.render().contains("no configuration files (*.json) found"));
        let err = plan(&req(ContentKind::Step, &s.0.join("nope.py"))).unwrap_err();
        assert!(
            err.render().contains("no such file or directory"),
            "{}",
            err.render()
        );
        let txt = s.touch("step.txt");
        assert_eq!(plan(&req(ContentKind::Step, &txt)).unwrap_err().exit_code(), 2);
        assert_eq!(
            plan(&req(ContentKind::SyncPack, &txt)).unwrap_err().exit_code(),
            2
        );
        let single = plan(&req(ContentKind::Application, &txt)).unwrap();
        assert!(!single.batch);
    }

    #[test]
    fn a_document_without_name_is_named_after_its_file() {
        let path = Path::new("/x/apps/nightly_sync.json");
        let mut doc = json!({"steps": []});
        assert!(name_after_file(&mut doc, path));
        assert_eq!(doc["name"], "nightly_sync");
        let mut doc = json!({"name": "", "steps": []});
        assert!(name_after_file(&mut doc, path));
        assert_eq!(doc["name"], "nightly_sync");
        let mut doc = json!({"name": "kept"});
        assert!(!name_after_file(&mut doc, path));
        assert_eq!(doc["name"], "kept");
        // Not an object: the node reports what is wrong with it.
        let mut doc = json!([1]);
        assert!(!name_after_file(&mut doc, path));
    }

    #[test]
    fn a_replaced_wheel_is_said_so() {
        let answer = json!({"name": "p", "version": "1", "replaced": true});
        assert_eq!(pack_label(&answer, "x.whl"), "p 1");
        assert_eq!(replaced_note(&answer), "; replaced the wheel uploaded before");
        assert_eq!(replaced_note(&json!({"replaced": false})), "");
        assert_eq!(pack_label(&json!({}), "x.whl"), "x.whl");
    }

    #[test]
    fn failure_lines_list_every_detail() {
        let err = CliError::Api(ApiError {
            kind: ApiErrorKind::InvalidArgument,
            error: "step does not compile".into(),
            details: vec!["line 3: invalid syntax".into(), "class 'X' not found".into()],
        });
        assert_eq!(
            failure_lines("X.py", &err),
            "FAIL  X.py: step does not compile\n  - line 3: invalid syntax\n  - class 'X' not found"
        );
        assert_eq!(summary_line(3, 1), "3 uploaded, 1 failed");
    }
}
