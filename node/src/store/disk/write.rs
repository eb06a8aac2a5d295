//! Writing one applied batch: the store ops the entries produced, the
//! records of the runs and tasks they changed (a finished run moves from
//! memory to the finished tables with its tasks, and is indexed), and the
//! applied log id — all in one transaction.

use std::collections::HashMap;
use std::time::Instant;

use redb::{ReadableTable, TableHandle, WriteTransaction};

use super::{
    compress, decode, encode, keys, rerr, Disk, DiskError, Membership, DOCS, ENDS, HOT_RUNS, HOT_TASKS, LOGS,
    META, META_APPLIED, META_MEMBERSHIP, RESULT_JSON, RESULT_PICKLE, RUNS, RUN_APP, RUN_STATE, RUN_TIME,
    RUN_TRIGGER, TASKS,
};
use crate::model::task::StepTask;
use crate::store::content::{Content, DocKey, StoreOp};
use crate::store::RunRecord;

/// The tables one commit writes, each opened on first use and kept open
/// until the commit: opening a redb table looks it up in the transaction's
/// table tree and closing it writes its root back, which cost more than the
/// few inserts a batch makes in most tables.
pub(super) struct Tables<'t> {
    w: &'t WriteTransaction,
    open: Vec<(String, RawTable<'t>)>,
}

/// A table of the store as a transaction holds it open.
type RawTable<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

impl<'t> Tables<'t> {
    fn new(w: &'t WriteTransaction) -> Self {
        Tables { w, open: Vec::new() }
    }

    pub(super) fn get(
        &mut self,
        def: super::Table,
    ) -> Result<&mut redb::Table<'t, &'static [u8], &'static [u8]>, DiskError> {
        let at = match self.open.iter().position(|(n, _)| n == def.name()) {
            Some(at) => at,
            None => {
                let table = self.w.open_table(def).map_err(rerr)?;
                self.open.push((def.name().to_string(), table));
                self.open.len() - 1
            }
        };
        Ok(&mut self.open[at].1)
    }

    pub(super) fn insert(&mut self, def: super::Table, key: &[u8], value: &[u8]) -> Result<(), DiskError> {
        self.get(def)?.insert(key, value).map_err(rerr)?;
        Ok(())
    }

    /// Removes `key`, answering the size of what was there.
    pub(super) fn remove(&mut self, def: super::Table, key: &[u8]) -> Result<u64, DiskError> {
        let removed = self.get(def)?.remove(key).map_err(rerr)?;
        Ok(removed.map_or(0, |v| v.value().len() as u64))
    }
}

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
        DocKey::SyncPack(n) => (b'p', n.clone()),
        DocKey::Schedule(n) => (b'h', n.clone()),
        DocKey::ApiKey(id) => (b'y', id.clone()),
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
        DocKey::SyncPack(n) => content
            .syncpacks
            .get(n)
            .map(|v| encode("a SyncPack", v))
            .transpose()?,
        DocKey::Schedule(n) => content
            .schedules
            .get(n)
            .map(|v| encode("a schedule", v))
            .transpose()?,
        DocKey::ApiKey(id) => content
            .api_keys
            .get(id)
            .map(|v| encode("an API key", v))
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
        b'p' => {
            content.syncpacks.insert(name, decode("a SyncPack", value)?);
        }
        b'h' => {
            content.schedules.insert(name, decode("a schedule", value)?);
        }
        b'y' => {
            content.api_keys.insert(name, decode("an API key", value)?);
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

/// Whether applied batches are written now (see [`Disk::due`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Wait,
    Commit,
    Flush,
}

/// What one commit reports.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Finished runs and lone tasks an expiry in the batch deleted.
    pub purged: u64,
}

impl Disk {
    /// What to do with what the batches applied since the last commit left
    /// for the store: a durable flush every [`super::DURABLE_EVERY`]; a
    /// plain commit sooner when an expiry waits (its answer depends on what
    /// it deleted) or too much waits in memory; otherwise nothing yet.
    pub fn due(&self, content: &Content, purging: bool) -> Due {
        let last = *self.inner.last_durable.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() >= super::DURABLE_EVERY {
            Due::Flush
        } else if purging || self.over_limits(content) {
            Due::Commit
        } else {
            Due::Wait
        }
    }

    /// Whether more waits in memory for the store than it should hold.
    pub fn over_limits(&self, content: &Content) -> bool {
        content.pending_bytes >= super::PENDING_BYTES
            || content.ops.len() + content.dirty_runs.len() + content.dirty_tasks.len()
                >= super::PENDING_CHANGES
    }

    /// Writes what the batches applied since the last commit changed and
    /// waits for it: [`Disk::prepare`] then [`Disk::write`].
    pub fn commit(
        &self,
        last_applied: Option<openraft::LogId<crate::store::NodeId>>,
        membership: &Membership,
        content: &mut Content,
        flush: bool,
    ) -> Result<Written, DiskError> {
        let batch = std::sync::Arc::new(self.prepare(last_applied, membership, content, flush)?);
        // Called while applying: the Raft member waits until it is written.
        self.write_retrying(&batch, &|| false)
    }

    /// Takes what the batches applied since the last commit left for the
    /// store out of `content` (its ops, and the runs with their tasks and
    /// the lone tasks that finished) into a [`Batch`]; unfinished changed
    /// runs and tasks are noted for the next flush. Called under the state
    /// machine's write lock; the batch is written after, without it.
    ///
    /// Most batches are neither synced nor carry the applied log id or the
    /// records of unfinished work: a `flush` batch carries those and is
    /// synced. So the store's log id is always one at which its unfinished
    /// records were written; after a crash or a restart the entries after
    /// it are applied again, and what they wrote in between (finished
    /// records, results, logs, expiry) is written again the same way.
    pub fn prepare(
        &self,
        last_applied: Option<openraft::LogId<crate::store::NodeId>>,
        membership: &Membership,
        content: &mut Content,
        flush: bool,
    ) -> Result<Batch, DiskError> {
        let mut batch = Batch::default();
        content.pending_bytes = 0;
        for op in std::mem::take(&mut content.ops) {
            match op {
                StoreOp::Doc(key) => {
                    let value = doc_value(content, &key)?;
                    batch.docs.push((doc_key(&key), value));
                }
                op => batch.ops.push(op),
            }
        }
        for id in std::mem::take(&mut content.dirty_runs) {
            if content.runs.get(&id).is_some_and(|r| r.run.state.is_terminal()) {
                let record = content.runs.remove(&id).expect("just found");
                for task_id in &record.task_ids {
                    if let Some(task) = content.tasks.remove(task_id) {
                        content.unflushed_tasks.remove(task_id);
                        batch.tasks.insert(task_id.clone(), task);
                    }
                }
                content.unflushed_runs.remove(&id);
                batch.runs.insert(id, record);
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
                content.unflushed_tasks.remove(&id);
                batch.lone.push(id.clone());
                batch.tasks.insert(id, task);
            } else {
                content.unflushed_tasks.insert(id);
            }
        }
        if flush {
            let mut hot = Flush {
                applied: encode("the applied log id", &last_applied)?,
                membership: encode("the membership", membership)?,
                ..Flush::default()
            };
            for id in std::mem::take(&mut content.unflushed_runs) {
                if let Some(record) = content.runs.get(&id) {
                    hot.runs.push((encode("an unfinished run", record)?, id));
                }
            }
            for id in std::mem::take(&mut content.unflushed_tasks) {
                if let Some(task) = content.tasks.get(&id) {
                    hot.tasks.push((encode("an unfinished task", task)?, id));
                }
            }
            batch.flush = Some(hot);
        }
        Ok(batch)
    }

    /// Writes `batch` in one transaction, synced when it is a flush.
    pub fn write(&self, batch: &Batch) -> Result<Written, DiskError> {
        let db = self.db()?;
        let mut w = db.begin_write().map_err(rerr)?;
        if batch.flush.is_none() {
            w.set_durability(redb::Durability::None).map_err(rerr)?;
        }
        let mut written = Written::default();
        let mut deleted = 0;
        {
            let mut t = Tables::new(&w);
            for op in &batch.ops {
                match op {
                    StoreOp::Logs {
                        task_id,
                        first_line,
                        lines,
                    } => {
                        let bytes = compress(&encode("log records", lines)?);
                        t.insert(LOGS, &keys::log(task_id, *first_line), &bytes)?;
                    }
                    StoreOp::Result {
                        task_id,
                        json,
                        pickle,
                    } => {
                        t.insert(RESULT_JSON, task_id.as_bytes(), &compress(json.as_bytes()))?;
                        if let Some(p) = pickle {
                            t.insert(RESULT_PICKLE, task_id.as_bytes(), &compress(p))?;
                        }
                    }
                    StoreOp::Doc(_) => {} // resolved into `docs`
                    StoreOp::Purge { before_ms } => {
                        let (count, bytes) = purge(&mut t, *before_ms)?;
                        written.purged += count;
                        deleted += bytes;
                    }
                    StoreOp::Report {
                        run_id,
                        app_name,
                        at_ms,
                        sections,
                    } => super::reports::add(&mut t, run_id, app_name, *at_ms, sections)?,
                    StoreOp::DeleteReport { run_id } => deleted += super::reports::delete(&mut t, run_id)?,
                    StoreOp::KeepReport { run_id, keep } => super::reports::keep(&mut t, run_id, *keep)?,
                    StoreOp::Blob { sha256, index, bytes } => {
                        t.insert(super::BLOBS, &keys::blob(sha256, *index), bytes)?;
                    }
                    StoreOp::DeleteBlob { sha256 } => {
                        // Chunks are numbered from 0 without gaps.
                        for index in 0u32.. {
                            let gone = t.remove(super::BLOBS, &keys::blob(sha256, index))?;
                            if gone == 0 {
                                break;
                            }
                            deleted += gone;
                        }
                    }
                    StoreOp::Audit(records) => super::audit::add(&mut t, records)?,
                    StoreOp::PurgeAudit { before_ms } => deleted += super::audit::purge(&mut t, *before_ms)?,
                }
            }
            for (key, value) in &batch.docs {
                match value {
                    Some(v) => t.insert(DOCS, key, v)?,
                    None => {
                        t.remove(DOCS, key)?;
                    }
                }
            }
            for (id, record) in &batch.runs {
                archive_run(&mut t, batch, id, record)?;
            }
            for id in &batch.lone {
                if let Some(task) = batch.tasks.get(id) {
                    archive_task(&mut t, task, true)?;
                }
            }
            if let Some(hot) = &batch.flush {
                for (bytes, id) in &hot.runs {
                    t.insert(HOT_RUNS, id.as_bytes(), bytes)?;
                }
                for (bytes, id) in &hot.tasks {
                    t.insert(HOT_TASKS, id.as_bytes(), bytes)?;
                }
                t.insert(META, META_APPLIED, &hot.applied)?;
                t.insert(META, META_MEMBERSHIP, &hot.membership)?;
            }
        }
        w.commit().map_err(rerr)?;
        if batch.flush.is_some() {
            *self.inner.last_durable.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        }
        if deleted > 0 {
            *self.inner.deleted.lock().unwrap_or_else(|p| p.into_inner()) += deleted;
        }
        Ok(written)
    }
}

/// What one commit writes: taken out of memory under the state machine's
/// write lock, written without it. Until the commit is done, readers find
/// these runs, tasks, logs and results here (`Content::committing`).
impl Batch {
    /// Whether writing it makes every commit so far durable.
    pub(super) fn is_flush(&self) -> bool {
        self.flush.is_some()
    }
}

#[derive(Debug, Default, PartialEq)]
pub struct Batch {
    /// Set by whoever sends it to be written, to tell when it was.
    pub generation: u64,
    /// Finished runs, moved out of memory with their tasks.
    pub runs: HashMap<String, RunRecord>,
    /// The tasks of `runs`, and the finished lone tasks (`lone`).
    pub tasks: HashMap<String, StepTask>,
    lone: Vec<String>,
    /// Logs, results and expiry (documents are in `docs`).
    pub ops: Vec<StoreOp>,
    /// Documents as memory held them, keyed as `DOCS` is; None: deleted.
    docs: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// A durable flush's extra records.
    flush: Option<Flush>,
}

/// What a flush adds to its batch: the applied log id and membership, and
/// the records of the unfinished runs and tasks changed since the last
/// flush, encoded as they were when the batch was taken.
#[derive(Debug, Default, PartialEq)]
struct Flush {
    applied: Vec<u8>,
    membership: Vec<u8>,
    runs: Vec<(Vec<u8>, String)>,
    tasks: Vec<(Vec<u8>, String)>,
}

/// Writes a finished run and its tasks to the finished tables and indexes it.
fn archive_run(t: &mut Tables, batch: &Batch, id: &str, record: &RunRecord) -> Result<(), DiskError> {
    t.remove(HOT_RUNS, id.as_bytes())?;
    for task_id in &record.task_ids {
        if let Some(task) = batch.tasks.get(task_id) {
            archive_task(t, task, false)?;
        }
    }
    t.insert(RUNS, id.as_bytes(), &encode("a finished run", record)?)?;
    for (table, key) in run_index_keys(record) {
        t.insert(table, &key, &[])?;
    }
    let end = record.end_ms.unwrap_or(record.spec.created_ms);
    t.insert(ENDS, &keys::end(end, id), b"r")
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
fn archive_task(t: &mut Tables, task: &StepTask, lone: bool) -> Result<(), DiskError> {
    let id = task.spec.id.as_str();
    t.remove(HOT_TASKS, id.as_bytes())?;
    t.insert(TASKS, id.as_bytes(), &encode("a finished task", task)?)?;
    if lone {
        let end = task.end_ms.unwrap_or(task.spec.created_ms);
        t.insert(ENDS, &keys::end(end, id), b"t")?;
    }
    Ok(())
}

/// Deletes every finished run and lone task that ended before `before_ms`,
/// with its tasks, logs, results and index entries. Answers how many, and
/// how many bytes of records went.
fn purge(t: &mut Tables, before_ms: u64) -> Result<(u64, u64), DiskError> {
    let due: Vec<(Vec<u8>, String, bool)> = {
        let ends = t.get(ENDS)?;
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
            let record: Option<RunRecord> = match t.get(RUNS)?.remove(id.as_bytes()).map_err(rerr)? {
                Some(v) => {
                    bytes += v.value().len() as u64;
                    Some(decode("a finished run", v.value())?)
                }
                None => None,
            };
            if let Some(record) = record {
                for (table, key) in run_index_keys(&record) {
                    t.remove(table, &key)?;
                }
                for task_id in &record.task_ids {
                    bytes += forget_task(t, task_id)?;
                }
                // A run's report expires with it, unless kept.
                bytes += super::reports::expire(t, id)?;
            }
        } else {
            bytes += forget_task(t, id)?;
        }
        t.remove(ENDS, end_key)?;
    }
    Ok((due.len() as u64, bytes))
}

/// Deletes a task's record, logs and result; answers the bytes freed.
fn forget_task(t: &mut Tables, id: &str) -> Result<u64, DiskError> {
    let mut bytes = 0u64;
    for table in [TASKS, RESULT_JSON, RESULT_PICKLE] {
        bytes += t.remove(table, id.as_bytes())?;
    }
    let (from, to) = (keys::log(id, 0), keys::log(id, u64::MAX));
    t.get(LOGS)?
        .retain_in(from.as_slice()..=to.as_slice(), |_, v| {
            bytes += v.len() as u64;
            false
        })
        .map_err(rerr)?;
    Ok(bytes)
}
