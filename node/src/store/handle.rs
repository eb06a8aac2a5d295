//! Reading the replicated state from outside the state machine: a task or
//! run wherever it is (memory while unfinished, the disk store after), a
//! page of a task's log, a saved result, pages of runs, and the upstream
//! data a step's attempt needs.
//!
//! **Invariant:** memory is looked at first, the store after: the state
//! machine lets go of an item in memory only as the store commits it, so
//! an item missing from memory is in the store (or does not exist).

use std::collections::{HashMap, HashSet};

use redb::ReadTransaction;

use super::disk::{DiskError, RunFilter, RunPage, RunsCursor};
use super::queries::{StepInputs, UpstreamData};
use super::{ContentHandle, RunRecord};
use crate::model::task::{LogLine, StepTask, TaskState};

/// What a listing shows of a run: its id, state and times.
#[derive(Debug, Clone, PartialEq)]
pub struct RunHead {
    pub id: String,
    pub state: TaskState,
    pub created_ms: u64,
    /// When its first step started (None before it did).
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
}

impl ContentHandle {
    /// A task, finished or not.
    pub fn task(&self, id: &str) -> Result<Option<StepTask>, DiskError> {
        if let Some(t) = self.read().content.any_task(id) {
            return Ok(Some(t.clone()));
        }
        let r = self.disk.reader()?;
        self.disk.task(&r, id)
    }

    /// A run, finished or not.
    pub fn run(&self, id: &str) -> Result<Option<RunRecord>, DiskError> {
        if let Some(r) = self.read().content.any_run(id) {
            return Ok(Some(r.clone()));
        }
        let r = self.disk.reader()?;
        self.disk.run(&r, id)
    }

    /// The tasks of a run, in application order.
    pub fn run_tasks(&self, run: &RunRecord) -> Result<Vec<StepTask>, DiskError> {
        let mut out = Vec::with_capacity(run.task_ids.len());
        let mut missing = Vec::new();
        {
            let sm = self.read();
            for (i, id) in run.task_ids.iter().enumerate() {
                match sm.content.any_task(id) {
                    Some(t) => out.push(Some(t.clone())),
                    None => {
                        out.push(None);
                        missing.push(i);
                    }
                }
            }
        }
        if !missing.is_empty() {
            let r = self.disk.reader()?;
            for i in missing {
                out[i] = self.disk.task(&r, &run.task_ids[i])?;
            }
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Records `from..to` of a task's log: those the store holds, and any
    /// still waiting in memory for its next commit.
    pub fn log_lines(&self, id: &str, from: u64, to: u64) -> Result<Vec<LogLine>, DiskError> {
        let waiting: Vec<(u64, LogLine)> = {
            let sm = self.read();
            sm.content
                .pending_logs(id)
                .flat_map(|(first, lines)| (first..).zip(lines))
                .filter(|(n, _)| (from..to).contains(n))
                .map(|(n, l)| (n, l.clone()))
                .collect()
        };
        let r = self.disk.reader()?;
        let stored = self.disk.log_lines(&r, id, from, to)?;
        if waiting.is_empty() {
            return Ok(stored);
        }
        // Line numbers are unique to an attempt's records; a record the
        // store committed after memory was read is in both, once.
        let mut lines: std::collections::BTreeMap<u64, LogLine> = (from..).zip(stored).collect();
        lines.extend(waiting);
        Ok(lines.into_values().collect())
    }

    /// The JSON rendering of what a task saved.
    pub fn result_json(&self, id: &str) -> Result<Option<String>, DiskError> {
        if let Some((json, _)) = self.read().content.pending_result(id) {
            return Ok(Some(json.to_string()));
        }
        let r = self.disk.reader()?;
        self.disk.result_json(&r, id)
    }

    /// Run `run_id`'s report as the store holds it (sections reach the
    /// store with its next commit, within a second of the step's end).
    pub fn report(&self, run_id: &str) -> Result<Option<crate::model::report::Report>, DiskError> {
        let r = self.disk.reader()?;
        self.disk.report(&r, run_id)
    }

    /// A page of reports, newest first (see `Disk::reports`).
    pub fn reports(
        &self,
        app: Option<&str>,
        since_ms: Option<u64>,
        until_ms: Option<u64>,
        after: Option<&super::disk::ReportCursor>,
        limit: usize,
    ) -> Result<
        (
            Vec<crate::model::report::Report>,
            Option<super::disk::ReportCursor>,
        ),
        DiskError,
    > {
        let r = self.disk.reader()?;
        self.disk.reports(&r, app, since_ms, until_ms, after, limit)
    }

    /// A page of the audit trail, newest first (see `Disk::audit`).
    #[allow(clippy::type_complexity)]
    pub fn audit(
        &self,
        after: Option<&super::disk::AuditCursor>,
        limit: usize,
    ) -> Result<
        (
            Vec<crate::model::audit::AuditRecord>,
            Option<super::disk::AuditCursor>,
        ),
        DiskError,
    > {
        let r = self.disk.reader()?;
        self.disk.audit(&r, after, limit)
    }

    /// The pickle of what a task saved.
    pub fn result_pickle(&self, id: &str) -> Result<Option<Vec<u8>>, DiskError> {
        if let Some((_, pickle)) = self.read().content.pending_result(id) {
            return Ok(pickle.map(<[u8]>::to_vec));
        }
        let r = self.disk.reader()?;
        self.disk.result_pickle(&r, id)
    }

    /// Chunk `index` of a blob: waiting in memory for the store's next
    /// commit, or in the store.
    pub fn blob_chunk(&self, sha256: &str, index: u32) -> Result<Option<Vec<u8>>, DiskError> {
        if let Some(bytes) = self.read().content.pending_blob_chunk(sha256, index) {
            return Ok(Some(bytes.to_vec()));
        }
        let r = self.disk.reader()?;
        self.disk.blob_chunk(&r, sha256, index)
    }

    /// Up to `limit` runs `filter` admits, newest first (by creation time,
    /// then id), older than `after` when given: unfinished ones from
    /// memory, finished ones from the store's indexes.
    pub fn list_runs(
        &self,
        filter: &RunFilter,
        after: Option<&RunsCursor>,
        limit: usize,
    ) -> Result<RunPage, DiskError> {
        let mut hot: Vec<RunRecord> = {
            let sm = self.read();
            let mut admitted: Vec<&RunRecord> = sm
                .content
                .all_runs()
                .filter(|r| filter.admits(r))
                .filter(|r| after.is_none_or(|c| RunsCursor::of(r) < *c))
                .collect();
            // Only the newest `limit` can be on the page: clone those, and
            // one more to tell whether a next page exists.
            if admitted.len() > limit + 1 {
                admitted.select_nth_unstable_by(limit, |a, b| newest_first(a, b));
                admitted.truncate(limit + 1);
            }
            admitted.into_iter().cloned().collect()
        };
        let r = self.disk.reader()?;
        let finished = self.disk.finished_runs(&r, filter, after, limit)?;
        hot.extend(finished.runs);
        hot.sort_by(newest_first);
        hot.dedup_by(|a, b| a.spec.id == b.spec.id);
        let more = hot.len() > limit || finished.next.is_some();
        hot.truncate(limit);
        let next = if more {
            hot.last().map(RunsCursor::of)
        } else {
            None
        };
        Ok(RunPage { runs: hot, next })
    }

    /// The newest run (by creation time, then id, as run listings order
    /// them) of each application of `apps`, in that order. One pass over
    /// the runs in memory and one index lookup per application in the
    /// store: the cost follows the page and the work in flight, never the
    /// history.
    pub fn newest_runs(&self, apps: &[&str]) -> Result<Vec<Option<RunHead>>, DiskError> {
        if apps.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: HashSet<&str> = apps.iter().copied().collect();
        let mut hot: HashMap<String, RunRecord> = {
            let sm = self.read();
            let mut newest: HashMap<&str, &RunRecord> = HashMap::new();
            for run in sm.content.all_runs() {
                let app = run.spec.app.name.as_str();
                if !wanted.contains(app) {
                    continue;
                }
                let slot = newest.entry(app).or_insert(run);
                if newest_first(run, slot).is_lt() {
                    *slot = run;
                }
            }
            newest
                .into_iter()
                .map(|(app, run)| (app.to_string(), run.clone()))
                .collect()
        };
        let r = self.disk.reader()?;
        apps.iter()
            .map(|app| {
                let stored = self.disk.newest_finished_run(&r, app)?;
                // Memory wins a tie: it is the newer state of the same run.
                let run = match (hot.remove(*app), stored) {
                    (Some(h), Some(s)) if newest_first(&s, &h).is_lt() => Some(s),
                    (Some(h), _) => Some(h),
                    (None, s) => s,
                };
                run.map(|run| self.head_of(&r, &run)).transpose()
            })
            .collect()
    }

    /// A run's head. Its start is the earliest first attempt of its root
    /// steps (those nothing feeds): every other step starts after one of
    /// them ended, so only the roots are read.
    fn head_of(&self, r: &ReadTransaction, run: &RunRecord) -> Result<RunHead, DiskError> {
        let mut root = vec![true; run.task_ids.len()];
        for (_, to) in crate::model::application::edges(&run.spec.app.steps) {
            if let Some(flag) = root.get_mut(to) {
                *flag = false;
            }
        }
        let first_start = |t: &StepTask| t.attempts.first().map(|a| a.start_ms);
        let mut start_ms: Option<u64> = None;
        for (id, _) in run.task_ids.iter().zip(root).filter(|(_, root)| *root) {
            let in_memory = self.read().content.any_task(id).map(first_start);
            let started = match in_memory {
                Some(started) => started,
                None => self.disk.task(r, id)?.as_ref().and_then(first_start),
            };
            start_ms = match (start_ms, started) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok(RunHead {
            id: run.spec.id.clone(),
            state: run.run.state,
            created_ms: run.spec.created_ms,
            start_ms,
            end_ms: run.end_ms,
        })
    }

    /// Replaces the upstream data the store holds in `inputs` by the data.
    pub fn resolve_upstream(&self, inputs: &mut StepInputs) -> Result<(), DiskError> {
        let Some(run) = inputs.run.as_mut() else {
            return Ok(());
        };
        if !run.upstream.iter().any(|u| u.data == UpstreamData::InStore) {
            return Ok(());
        }
        for up in &mut run.upstream {
            if up.data == UpstreamData::InStore {
                up.data = UpstreamData::Saved(self.result_pickle(&up.task_id)?);
            }
        }
        Ok(())
    }
}

/// The order of run listings: newest first by creation time, then id (as
/// [`RunsCursor`] orders), compared without copying the ids.
fn newest_first(a: &RunRecord, b: &RunRecord) -> std::cmp::Ordering {
    (b.spec.created_ms, &b.spec.id).cmp(&(a.spec.created_ms, &a.spec.id))
}
