//! Writing one applied batch: the store ops the entries produced, the
//! records of the runs and tasks they changed (a finished run moves from
//! memory to the finished tables with its tasks, and is indexed), and the
//! applied log id — all in one transaction.

use std::time::Instant;

use redb::{ReadableTable, WriteTransaction};

use super::{
    compress, decode, encode, keys, rerr, Disk, DiskError, Membership, DOCS, ENDS, HOT_RUNS, HOT_TASKS, LOGS,
    META, META_APPLIED, META_MEMBERSHIP, RESULT_JSON, RESULT_PICKLE, RUNS, RUN_APP, RUN_STATE, RUN_TIME,
    RUN_TRIGGER, TASKS,
};
use crate::model::task::StepTask;
use crate::store::content::{Content, DocKey, StoreOp};
use crate::store::RunRecord;

/// The spelling of a document's key in `DOCS`.
fn doc_key(key: &DocKey) -> Vec<u8> {
    let (kind, name): (u8, String) = match key {
        DocKey::Cluster => (b'c', String::new()),
        DocKey::User(n) => (b'u', n.clone()),
        DocKey::Step(n) => (b's', n.clone()),
        DocKey::Application(n) => (b'a', n.clone()),
        DocKey::Configuration(n) => (b'g', n.clone()),
        DocKey::Node(id) => (b'n', id.to_string()),
        DocKey::Cache(n) => (b'k', n.clone()),
    };
    let mut out = vec![kind];
    out.extend_from_slice(name.as_bytes());
    out
}

/// The encoded document memory holds for `key`, or None when it is gone.
fn doc_value(content: &Content, key: &DocKey) -> Result<Option<Vec<u8>>, DiskError> {
    Ok(match key {
        DocKey::Cluster => content
            .cluster
            .as_ref()
            .map(|c| encode("the cluster", c))
            .transpose()?,
        DocKey::User(n) => content.users.get(n).map(|v| encode("a user", v)).transpose()?,
        DocKey::Step(n) => content.steps.get(n).map(|v| encode("a step", v)).transpose()?,
        DocKey::Application(n) => content
            .applications
            .get(n)
            .map(|v| encode("an application", v))
            .transpose()?,
        DocKey::Configuration(n) => content
            .configurations
            .get(n)
            .map(|v| encode("a configuration", v))
            .transpose()?,
        DocKey::Node(id) => content.nodes.get(id).map(|v| encode("a node", v)).transpose()?,
        DocKey::Cache(n) => content
            .cache
            .get(n)
            .map(|v| encode("a cache entry", v))
            .transpose()?,
    })
}

/// Puts one `DOCS` record back into memory (on open).
pub(super) fn load_doc(content: &mut Content, key: &[u8], value: &[u8]) -> Result<(), DiskError> {
    let Some((&kind, name)) = key.split_first() else {
        return Ok(());
    };
    let name = String::from_utf8_lossy(name).into_owned();
    match kind {
        b'c' => content.cluster = Some(decode("the cluster", value)?),
        b'u' => {
            content.users.insert(name, decode("a user", value)?);
        }
        b's' => {
            content.steps.insert(name, decode("a step", value)?);
        }
        b'a' => {
            content
                .applications
                .insert(name, decode("an application", value)?);
        }
        b'g' => {
            content
                .configurations
                .insert(name, decode("a configuration", value)?);
        }
        b'n' => {
            let id = name.parse().map_err(|_| DiskError::Decode {
                what: "a node id".into(),
                reason: format!("{name:?} is not a number"),
            })?;
            content.nodes.insert(id, decode("a node", value)?);
        }
        b'k' => {
            content.cache.insert(name, decode("a cache entry", value)?);
        }
        other => {
            return Err(DiskError::Decode {
                what: "a document key".into(),
                reason: format!("unknown kind {other}"),
            })
        }
    }
    Ok(())
}

/// What one batch's commit reports.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Finished runs and lone tasks an expiry in the batch deleted.
    pub purged: u64,
}

impl Disk {
    /// Whether the next commit should be a flush (durable, with the records
    /// of unfinished work): one is due every [`super::DURABLE_EVERY`].
    pub fn flush_due(&self) -> bool {
        let last = self.inner.last_durable.lock().unwrap_or_else(|p| p.into_inner());
        last.elapsed() >= super::DURABLE_EVERY
    }

    /// Writes what applying a batch changed, taking `content`'s pending ops
    /// and dirty lists, and moves runs (with their tasks) and lone tasks
    /// that finished out of memory. `content` is the state after the batch.
    ///
    /// Most commits are neither synced nor carry the applied log id or the
    /// records of unfinished work: a `flush` commit writes those and is
    /// synced. So the store's log id is always one at which its unfinished
    /// records were written; after a crash or a restart the entries after
    /// it are applied again, and what they wrote in between (finished
    /// records, results, logs, expiry) is written again the same way.
    pub fn commit(
        &self,
        last_applied: Option<openraft::LogId<crate::store::NodeId>>,
        membership: &Membership,
        content: &mut Content,
        flush: bool,
    ) -> Result<Written, DiskError> {
        let db = self.db();
        let mut w = db.begin_write().map_err(rerr)?;
        if !flush {
            w.set_durability(redb::Durability::None).map_err(rerr)?;
        }
        let mut written = Written::default();
        let mut deleted = 0;
        for op in std::mem::take(&mut content.ops) {
            match op {
                StoreOp::Logs {
                    task_id,
                    first_line,
                    lines,
                } => {
                    let bytes = compress(&encode("log records", &lines)?);
                    w.open_table(LOGS)
                        .map_err(rerr)?
                        .insert(keys::log(&task_id, first_line).as_slice(), bytes.as_slice())
                        .map_err(rerr)?;
                }
                StoreOp::Result {
                    task_id,
                    json,
                    pickle,
                } => {
                    w.open_table(RESULT_JSON)
                        .map_err(rerr)?
                        .insert(task_id.as_bytes(), compress(json.as_bytes()).as_slice())
                        .map_err(rerr)?;
                    if let Some(p) = pickle {
                        w.open_table(RESULT_PICKLE)
                            .map_err(rerr)?
                            .insert(task_id.as_bytes(), compress(&p).as_slice())
                            .map_err(rerr)?;
                    }
                }
                StoreOp::Doc(key) => {
                    let mut docs = w.open_table(DOCS).map_err(rerr)?;
                    match doc_value(content, &key)? {
                        Some(v) => docs
                            .insert(doc_key(&key).as_slice(), v.as_slice())
                            .map_err(rerr)?,
                        None => docs.remove(doc_key(&key).as_slice()).map_err(rerr)?,
                    };
                }
                StoreOp::Purge { before_ms } => {
                    let (count, bytes) = purge(&w, before_ms)?;
                    written.purged += count;
                    deleted += bytes;
                }
            }
        }
        for id in std::mem::take(&mut content.dirty_runs) {
            if content.runs.get(&id).is_some_and(|r| r.run.state.is_terminal()) {
                archive_run(&w, content, &id)?;
                content.unflushed_runs.remove(&id);
            } else if content.runs.contains_key(&id) {
                content.unflushed_runs.insert(id);
            }
        }
        for id in std::mem::take(&mut content.dirty_tasks) {
            let Some(task) = content.tasks.get(&id) else {
                content.unflushed_tasks.remove(&id);
                continue; // moved out with its run above
            };
            if task.spec.run.is_none() && task.state.is_terminal() {
                let task = content.tasks.remove(&id).expect("just found");
                archive_task(&w, &task, true)?;
                content.unflushed_tasks.remove(&id);
            } else {
                content.unflushed_tasks.insert(id);
            }
        }
        if flush {
            flush_unfinished(&w, content)?;
            let mut meta = w.open_table(META).map_err(rerr)?;
            meta.insert(
                META_APPLIED,
                encode("the applied log id", &last_applied)?.as_slice(),
            )
            .map_err(rerr)?;
            meta.insert(META_MEMBERSHIP, encode("the membership", membership)?.as_slice())
                .map_err(rerr)?;
        }
        w.commit().map_err(rerr)?;
        if flush {
            *self.inner.last_durable.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        }
        if deleted > 0 {
            *self.inner.deleted.lock().unwrap_or_else(|p| p.into_inner()) += deleted;
        }
        Ok(written)
    }
}

/// Writes the records of the unfinished runs and tasks changed since the
/// last flush (a task moved out with its run has no record to write).
fn flush_unfinished(w: &WriteTransaction, content: &mut Content) -> Result<(), DiskError> {
    let mut hot_runs = w.open_table(HOT_RUNS).map_err(rerr)?;
    for id in std::mem::take(&mut content.unflushed_runs) {
        if let Some(record) = content.runs.get(&id) {
            let bytes = encode("an unfinished run", record)?;
            hot_runs.insert(id.as_bytes(), bytes.as_slice()).map_err(rerr)?;
        }
    }
    let mut hot_tasks = w.open_table(HOT_TASKS).map_err(rerr)?;
    for id in std::mem::take(&mut content.unflushed_tasks) {
        if let Some(task) = content.tasks.get(&id) {
            let bytes = encode("an unfinished task", task)?;
            hot_tasks.insert(id.as_bytes(), bytes.as_slice()).map_err(rerr)?;
        }
    }
    Ok(())
}

/// Moves a finished run and its tasks from memory to the finished tables
/// and indexes it.
fn archive_run(w: &WriteTransaction, content: &mut Content, id: &str) -> Result<(), DiskError> {
    let Some(record) = content.runs.remove(id) else {
        return Ok(());
    };
    w.open_table(HOT_RUNS)
        .map_err(rerr)?
        .remove(id.as_bytes())
        .map_err(rerr)?;
    for task_id in &record.task_ids {
        if let Some(task) = content.tasks.remove(task_id) {
            archive_task(w, &task, false)?;
        }
    }
    let bytes = encode("a finished run", &record)?;
    w.open_table(RUNS)
        .map_err(rerr)?
        .insert(id.as_bytes(), bytes.as_slice())
        .map_err(rerr)?;
    for (table, key) in run_index_keys(&record) {
        w.open_table(table)
            .map_err(rerr)?
            .insert(key.as_slice(), &[][..])
            .map_err(rerr)?;
    }
    let end = record.end_ms.unwrap_or(record.spec.created_ms);
    w.open_table(ENDS)
        .map_err(rerr)?
        .insert(keys::end(end, id).as_slice(), &b"r"[..])
        .map_err(rerr)?;
    Ok(())
}

/// The index entries of a finished run.
fn run_index_keys(r: &RunRecord) -> [(super::Table, Vec<u8>); 4] {
    let (created, id) = (r.spec.created_ms, r.spec.id.as_str());
    [
        (RUN_TIME, keys::index(&[], created, id)),
        (RUN_APP, keys::index(&keys::name(&r.spec.app.name), created, id)),
        (RUN_STATE, keys::index(&keys::state(r.run.state), created, id)),
        (
            RUN_TRIGGER,
            keys::index(&keys::name(&r.spec.triggered_by), created, id),
        ),
    ]
}

/// Writes a finished task; a lone one (not of a run) is also due to expire.
fn archive_task(w: &WriteTransaction, task: &StepTask, lone: bool) -> Result<(), DiskError> {
    let id = task.spec.id.as_str();
    w.open_table(HOT_TASKS)
        .map_err(rerr)?
        .remove(id.as_bytes())
        .map_err(rerr)?;
    let bytes = encode("a finished task", task)?;
    w.open_table(TASKS)
        .map_err(rerr)?
        .insert(id.as_bytes(), bytes.as_slice())
        .map_err(rerr)?;
    if lone {
        let end = task.end_ms.unwrap_or(task.spec.created_ms);
        w.open_table(ENDS)
            .map_err(rerr)?
            .insert(keys::end(end, id).as_slice(), &b"t"[..])
            .map_err(rerr)?;
    }
    Ok(())
}

/// Deletes every finished run and lone task that ended before `before_ms`,
/// with its tasks, logs, results and index entries. Answers how many, and
/// how many bytes of records went.
fn purge(w: &WriteTransaction, before_ms: u64) -> Result<(u64, u64), DiskError> {
    let due: Vec<(Vec<u8>, String, bool)> = {
        let ends = w.open_table(ENDS).map_err(rerr)?;
        let upto = keys::end(before_ms, "");
        let mut due = Vec::new();
        for item in ends.range(..upto.as_slice()).map_err(rerr)? {
            let (k, v) = item.map_err(rerr)?;
            let key = k.value().to_vec();
            let id = keys::index_parts(&key, 0)
                .map(|(_, id)| id.to_string())
                .unwrap_or_default();
            due.push((key, id, v.value() == b"r"));
        }
        due
    };
    let mut bytes = 0u64;
    for (end_key, id, is_run) in &due {
        if *is_run {
            let record: Option<RunRecord> = {
                let mut runs = w.open_table(RUNS).map_err(rerr)?;
                let removed = runs.remove(id.as_bytes()).map_err(rerr)?;
                match removed {
                    Some(v) => {
                        bytes += v.value().len() as u64;
                        Some(decode("a finished run", v.value())?)
                    }
                    None => None,
                }
            };
            if let Some(record) = record {
                for (table, key) in run_index_keys(&record) {
                    w.open_table(table)
                        .map_err(rerr)?
                        .remove(key.as_slice())
                        .map_err(rerr)?;
                }
                for task_id in &record.task_ids {
                    bytes += forget_task(w, task_id)?;
                }
            }
        } else {
            bytes += forget_task(w, id)?;
        }
        w.open_table(ENDS)
            .map_err(rerr)?
            .remove(end_key.as_slice())
            .map_err(rerr)?;
    }
    Ok((due.len() as u64, bytes))
}

/// Deletes a task's record, logs and result; answers the bytes freed.
fn forget_task(w: &WriteTransaction, id: &str) -> Result<u64, DiskError> {
    let mut bytes = 0u64;
    for table in [TASKS, RESULT_JSON, RESULT_PICKLE] {
        let mut t = w.open_table(table).map_err(rerr)?;
        let removed = t.remove(id.as_bytes()).map_err(rerr)?;
        bytes += removed.map_or(0, |v| v.value().len() as u64);
    }
    let (from, to) = (keys::log(id, 0), keys::log(id, u64::MAX));
    w.open_table(LOGS)
        .map_err(rerr)?
        .retain_in(from.as_slice()..=to.as_slice(), |_, v| {
            bytes += v.len() as u64;
            false
        })
        .map_err(rerr)?;
    Ok(bytes)
}
