//! Tests of the disk store: what a batch's commit keeps where, reading it
//! back after a reopen, pages of runs, log pages, expiry, snapshots and
//! the format check.

use super::*;
use crate::engine::TaskEvent;
use crate::model::run::RunSpec;
use crate::model::task::{LogLine, Outcome, TaskState};
use crate::store::content::StoreOp;
use crate::store::Command;

const ONE_STEP: &str = r#"{"name": "a", "steps": [{"name": "A", "file": "F"}]}"#;

fn line(n: u64) -> LogLine {
    LogLine {
        time: n as f64,
        level: "INFO".into(),
        levelno: 20,
        module: "m".into(),
        message: format!("line {n}"),
    }
}

/// Applies `cmd` and commits it as the state machine does.
fn apply(disk: &Disk, c: &mut Content, cmd: Command) -> Written {
    apply_flushed(disk, c, cmd, true)
}

/// Applies `cmd` and commits it, made durable or not.
fn apply_flushed(disk: &Disk, c: &mut Content, cmd: Command, flush: bool) -> Written {
    c.apply(cmd);
    c.effects.clear();
    disk.commit(None, &Membership::default(), c, flush).unwrap()
}

/// A run `id` of `app` created at `created` that ends at `created + 1`,
/// saving `data` and logging `lines` records.
fn finished_run(disk: &Disk, c: &mut Content, id: &str, app: &str, created: u64, lines: u64) {
    finished_run_with(disk, c, id, app, created, (0..lines).map(line).collect(), true)
}

/// [`finished_run`] with these log records, its last commit durable or not.
pub(super) fn finished_run_with(
    disk: &Disk,
    c: &mut Content,
    id: &str,
    app: &str,
    created: u64,
    logs: Vec<LogLine>,
    flush: bool,
) {
    let doc = ONE_STEP.replace("\"a\"", &format!("{app:?}"));
    let spec = RunSpec::for_test(id, &doc, created);
    apply_flushed(disk, c, Command::create_run(spec), flush);
    let task = crate::model::run::step_task_id(id, 0);
    apply_flushed(
        disk,
        c,
        Command::Task {
            id: task,
            event: TaskEvent::Finished {
                attempt: 1,
                started: Some(crate::engine::step_task::StartInfo {
                    worker: "w".into(),
                    at_ms: created,
                }),
                outcome: Outcome::Success {
                    json: format!("\"{id}\""),
                    pickle: Some(id.as_bytes().to_vec()),
                },
                logs,
                at_ms: created + 1,
                seed: 0,
            },
        },
        flush,
    );
}

fn ids(page: &RunPage) -> Vec<&str> {
    page.runs.iter().map(|r| r.spec.id.as_str()).collect()
}

#[test]
fn a_finished_run_leaves_memory_and_is_read_back_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Disk::open(dir.path(), &Default::default()).unwrap();
    let mut c = Content::default();
    finished_run(&disk, &mut c, "isapp-1", "a", 10, 3);
    assert!(
        c.runs.is_empty() && c.tasks.is_empty(),
        "memory holds only unfinished work"
    );
    let r = disk.reader().unwrap();
    let run = disk.run(&r, "isapp-1").unwrap().expect("the run is stored");
    assert_eq!(run.run.state, TaskState::Success);
    let task = disk
        .task(&r, &run.task_ids[0])
        .unwrap()
        .expect("its task is stored");
    assert_eq!(task.log_lines, 3);
    assert_eq!(
        disk.result_json(&r, &task.spec.id).unwrap().as_deref(),
        Some("\"isapp-1\"")
    );
    assert_eq!(
        disk.result_pickle(&r, &task.spec.id).unwrap(),
        Some(b"isapp-1".to_vec())
    );
    assert_eq!(
        disk.log_lines(&r, &task.spec.id, 1, 10).unwrap(),
        vec![line(1), line(2)]
    );

    // An unfinished run and a document come back after a reopen.
    apply(
        &disk,
        &mut c,
        Command::create_run(RunSpec::for_test("isapp-2", ONE_STEP, 20)),
    );
    drop(r);
    drop(disk);
    let disk = Disk::open(dir.path(), &Default::default()).unwrap();
    let loaded = disk.load().unwrap();
    assert_eq!(loaded.content.runs.keys().collect::<Vec<_>>(), ["isapp-2"]);
    assert_eq!(loaded.content.tasks.len(), 1);
    assert!(
        loaded.content.tasks.values().all(|t| t.ready),
        "its root step is still queued"
    );
}

#[test]
fn a_log_page_spans_the_chunks_of_several_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Disk::open(dir.path(), &Default::default()).unwrap();
    let mut c = Content::default();
    c.ops.push(StoreOp::Logs {
        task_id: "t".into(),
        first_line: 0,
        lines: (0..3).map(line).collect(),
    });
    c.ops.push(StoreOp::Logs {
        task_id: "t".into(),
        first_line: 3,
        lines: (3..6).map(line).collect(),
    });
    disk.commit(None, &Membership::default(), &mut c, true).unwrap();
    let r = disk.reader().unwrap();
    assert_eq!(
        disk.log_lines(&r, "t", 2, 5).unwrap(),
        (2..5).map(line).collect::<Vec<_>>()
    );
    assert_eq!(disk.log_lines(&r, "t", 5, 100).unwrap(), vec![line(5)]);
    assert!(disk.log_lines(&r, "t", 6, 100).unwrap().is_empty());
    assert!(disk.log_lines(&r, "u", 0, 100).unwrap().is_empty());
}

#[test]
fn pages_of_finished_runs_follow_the_cursor_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Disk::open(dir.path(), &Default::default()).unwrap();
    let mut c = Content::default();
    for i in 0..7u64 {
        let app = if i % 2 == 0 { "even" } else { "odd" };
        finished_run(&disk, &mut c, &format!("isapp-{i}"), app, 100 + i, 0);
    }
    let r = disk.reader().unwrap();
    let all = RunFilter::default();
    let first = disk.finished_runs(&r, &all, None, 3).unwrap();
    assert_eq!(ids(&first), ["isapp-6", "isapp-5", "isapp-4"]);
    let second = disk.finished_runs(&r, &all, first.next.as_ref(), 3).unwrap();
    assert_eq!(ids(&second), ["isapp-3", "isapp-2", "isapp-1"]);
    let third = disk.finished_runs(&r, &all, second.next.as_ref(), 3).unwrap();
    assert_eq!(ids(&third), ["isapp-0"]);
    assert_eq!(third.next, None);

    let even = RunFilter {
        app: Some("even".into()),
        ..RunFilter::default()
    };
    let page = disk.finished_runs(&r, &even, None, 10).unwrap();
    assert_eq!(ids(&page), ["isapp-6", "isapp-4", "isapp-2", "isapp-0"]);
    let window = RunFilter {
        app: Some("odd".into()),
        since_ms: Some(102),
        until_ms: Some(106),
        ..RunFilter::default()
    };
    assert_eq!(
        ids(&disk.finished_runs(&r, &window, None, 10).unwrap()),
        ["isapp-5", "isapp-3"]
    );
    let failed = RunFilter {
        state: Some(TaskState::Failure),
        ..RunFilter::default()
    };
    assert!(disk.finished_runs(&r, &failed, None, 10).unwrap().runs.is_empty());
    let cursor = RunsCursor::decode(&first.next.unwrap().encode()).unwrap();
    assert_eq!(cursor.id, "isapp-4");
}

#[test]
fn expiry_forgets_runs_with_their_tasks_logs_results_and_index_entries() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Disk::open(dir.path(), &Default::default()).unwrap();
    let mut c = Content::default();
    finished_run(&disk, &mut c, "isapp-old", "a", 10, 5);
    finished_run(&disk, &mut c, "isapp-new", "a", 50, 5);
    let old_task = crate::model::run::step_task_id("isapp-old", 0);
    // Ended at 11: not before 11.
    assert_eq!(apply(&disk, &mut c, Command::Purge { before_ms: 11 }).purged, 0);
    assert_eq!(apply(&disk, &mut c, Command::Purge { before_ms: 12 }).purged, 1);
    let r = disk.reader().unwrap();
    assert!(disk.run(&r, "isapp-old").unwrap().is_none());
    assert!(disk.task(&r, &old_task).unwrap().is_none());
    assert!(disk.result_json(&r, &old_task).unwrap().is_none());
    assert!(disk.log_lines(&r, &old_task, 0, 10).unwrap().is_empty());
    let page = disk.finished_runs(&r, &RunFilter::default(), None, 10).unwrap();
    assert_eq!(ids(&page), ["isapp-new"]);
    let by_app = RunFilter {
        app: Some("a".into()),
        ..RunFilter::default()
    };
    assert_eq!(
        ids(&disk.finished_runs(&r, &by_app, None, 10).unwrap()),
        ["isapp-new"]
    );
}

#[test]
fn a_snapshot_carries_the_whole_store_to_another() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Disk::open(dir.path(), &Default::default()).unwrap();
    let mut c = Content::default();
    c.apply(Command::CacheSet {
        key: "k".into(),
        value: vec![1, 2],
        expires_at_ms: None,
    });
    finished_run(&disk, &mut c, "isapp-1", "a", 10, 2);
    apply(
        &disk,
        &mut c,
        Command::create_run(RunSpec::for_test("isapp-2", ONE_STEP, 20)),
    );
    let file = dir.path().join("snap");
    let meta = disk.dump(disk.reader().unwrap(), &file, |_| "s1".into()).unwrap();
    assert_eq!(meta.snapshot_id, "s1");

    let other_dir = tempfile::tempdir().unwrap();
    let other = Disk::open(other_dir.path(), &Default::default()).unwrap();
    // Something the snapshot replaces.
    finished_run(&other, &mut Content::default(), "isapp-9", "a", 5, 0);
    let loaded_meta = other.load_snapshot(std::fs::File::open(&file).unwrap()).unwrap();
    assert_eq!(loaded_meta, meta);
    let loaded = other.load().unwrap();
    assert_eq!(loaded.content.runs.keys().collect::<Vec<_>>(), ["isapp-2"]);
    assert_eq!(loaded.content.cache["k"].value, vec![1, 2]);
    let r = other.reader().unwrap();
    assert_eq!(
        ids(&other.finished_runs(&r, &RunFilter::default(), None, 10).unwrap()),
        ["isapp-1"]
    );
    let task = crate::model::run::step_task_id("isapp-1", 0);
    assert_eq!(other.log_lines(&r, &task, 0, 10).unwrap().len(), 2);
}

#[test]
fn a_store_of_another_format_is_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    {
        let disk = Disk::open(dir.path(), &Default::default()).unwrap();
        let db = disk.db().unwrap();
        let w = db.begin_write().unwrap();
        w.open_table(META)
            .unwrap()
            .insert(META_FORMAT, &b"isnode-store 0"[..])
            .unwrap();
        w.commit().unwrap();
    }
    let err = Disk::open(dir.path(), &Default::default())
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("\"isnode-store 0\""), "{err}");
    assert!(err.contains(FORMAT), "{err}");
}

#[test]
fn a_runs_report_grows_by_sections_is_paged_by_application_and_expires_with_its_run() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Disk::open(dir.path(), &Default::default()).unwrap();
    let mut c = Content::default();
    let add = |run: &str, app: &str, at: u64, name: &str| Command::AddReport {
        run_id: run.into(),
        app_name: app.into(),
        step_name: "S".into(),
        at_ms: at,
        sections: serde_json::json!([{"name": name}]).to_string(),
    };
    finished_run(&disk, &mut c, "isapp-1", "a", 10, 0);
    apply(&disk, &mut c, add("isapp-1", "a", 10, "first"));
    apply(&disk, &mut c, add("isapp-1", "a", 11, "second"));
    apply(&disk, &mut c, add("isapp-2", "b", 20, "other"));
    apply(&disk, &mut c, add("isapp-3", "a", 30, "newest"));
    let r = disk.reader().unwrap();
    let one = disk.report(&r, "isapp-1").unwrap().unwrap();
    assert_eq!(
        (one.created_ms, one.sections.len()),
        (10, 2),
        "sections are added to the run's one report"
    );
    let (page, next) = disk.reports(&r, Some("a"), None, None, None, 1).unwrap();
    assert_eq!(page[0].run_id, "isapp-3");
    let (rest, none) = disk
        .reports(&r, Some("a"), None, None, next.as_ref(), 10)
        .unwrap();
    assert_eq!((rest.len(), rest[0].run_id.as_str(), none), (1, "isapp-1", None));
    let (all, _) = disk.reports(&r, None, Some(15), None, None, 10).unwrap();
    assert_eq!(
        all.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(),
        ["isapp-3", "isapp-2"]
    );
    drop(r);
    apply(
        &disk,
        &mut c,
        Command::DeleteReport {
            run_id: "isapp-2".into(),
        },
    );
    // isapp-1 ended at 11: its report goes with it.
    apply(&disk, &mut c, Command::Purge { before_ms: 12 });
    let r = disk.reader().unwrap();
    assert!(disk.report(&r, "isapp-1").unwrap().is_none());
    assert!(disk.report(&r, "isapp-2").unwrap().is_none());
    let (all, _) = disk.reports(&r, None, None, None, None, 10).unwrap();
    assert_eq!(
        all.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(),
        ["isapp-3"]
    );
}

#[test]
fn a_kept_report_outlives_its_run() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Disk::open(dir.path(), &Default::default()).unwrap();
    let mut c = Content::default();
    for run in ["isapp-k", "isapp-g"] {
        finished_run(&disk, &mut c, run, "a", 10, 0);
        let sections = serde_json::json!([{"name": "t"}]).to_string();
        let add = Command::AddReport {
            run_id: run.into(),
            app_name: "a".into(),
            step_name: "S".into(),
            at_ms: 10,
            sections,
        };
        apply(&disk, &mut c, add);
    }
    let keep = Command::KeepReport {
        run_id: "isapp-k".into(),
        keep: true,
    };
    apply(&disk, &mut c, keep);
    apply(&disk, &mut c, Command::Purge { before_ms: 100 });
    let r = disk.reader().unwrap();
    assert!(disk.run(&r, "isapp-k").unwrap().is_none(), "the run expired");
    assert!(disk.report(&r, "isapp-k").unwrap().is_some_and(|rep| rep.kept));
    assert!(disk.report(&r, "isapp-g").unwrap().is_none());
}
