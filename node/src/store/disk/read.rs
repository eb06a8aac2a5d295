//! Reading what the store holds: finished runs and tasks, log pages,
//! saved results, and pages of finished runs from the indexes.

use redb::{ReadTransaction, ReadableTable};

use super::{
    decode, decompress, keys, rerr, Disk, DiskError, LOGS, RESULT_JSON, RESULT_PICKLE, RUNS, RUN_APP,
    RUN_STATE, RUN_TIME, RUN_TRIGGER, TASKS,
};
use crate::model::task::{LogLine, StepTask, TaskState};
use crate::store::RunRecord;

/// Which runs a listing wants. Every field narrows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFilter {
    pub app: Option<String>,
    pub state: Option<TaskState>,
    pub triggered_by: Option<String>,
    /// Created at or after (ms).
    pub since_ms: Option<u64>,
    /// Created before (ms).
    pub until_ms: Option<u64>,
}

impl RunFilter {
    pub fn admits(&self, r: &RunRecord) -> bool {
        self.app.as_ref().is_none_or(|a| &r.spec.app.name == a)
            && self.state.is_none_or(|s| r.run.state == s)
            && self
                .triggered_by
                .as_ref()
                .is_none_or(|t| &r.spec.triggered_by == t)
            && self.since_ms.is_none_or(|s| r.spec.created_ms >= s)
            && self.until_ms.is_none_or(|u| r.spec.created_ms < u)
    }
}

/// Where a listing goes on: the (creation time, id) of the last run it
/// answered; the next page holds runs strictly older in that order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunsCursor {
    pub created_ms: u64,
    pub id: String,
}

impl RunsCursor {
    /// The cursor as the API shows it: `<created ms>.<id>`.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_ms, self.id)
    }

    pub fn decode(s: &str) -> Option<RunsCursor> {
        let (t, id) = s.split_once('.')?;
        Some(RunsCursor {
            created_ms: t.parse().ok()?,
            id: id.to_string(),
        })
    }

    pub fn of(r: &RunRecord) -> RunsCursor {
        RunsCursor {
            created_ms: r.spec.created_ms,
            id: r.spec.id.clone(),
        }
    }
}

/// A page of finished runs, newest first.
#[derive(Debug, Default)]
pub struct RunPage {
    pub runs: Vec<RunRecord>,
    /// Set when more may follow.
    pub next: Option<RunsCursor>,
}

impl Disk {
    pub fn reader(&self) -> Result<ReadTransaction, DiskError> {
        self.begin_read()
    }

    /// A finished task.
    pub fn task(&self, r: &ReadTransaction, id: &str) -> Result<Option<StepTask>, DiskError> {
        let t = r.open_table(TASKS).map_err(rerr)?;
        let found = t.get(id.as_bytes()).map_err(rerr)?;
        found.map(|v| decode("a finished task", v.value())).transpose()
    }

    /// A finished run.
    pub fn run(&self, r: &ReadTransaction, id: &str) -> Result<Option<RunRecord>, DiskError> {
        let t = r.open_table(RUNS).map_err(rerr)?;
        let found = t.get(id.as_bytes()).map_err(rerr)?;
        found.map(|v| decode("a finished run", v.value())).transpose()
    }

    /// Records `from..to` of a task's log (fewer if the log is shorter).
    pub fn log_lines(
        &self,
        r: &ReadTransaction,
        id: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<LogLine>, DiskError> {
        let mut out = Vec::new();
        if from >= to {
            return Ok(out);
        }
        let t = r.open_table(LOGS).map_err(rerr)?;
        let (lo, hi) = (keys::log(id, 0), keys::log(id, to));
        for item in t.range(lo.as_slice()..hi.as_slice()).map_err(rerr)? {
            let (k, v) = item.map_err(rerr)?;
            let first = keys::log_first_line(k.value()).unwrap_or(0);
            let lines: Vec<LogLine> = decode("log records", &decompress("log records", v.value())?)?;
            let last = first + lines.len() as u64;
            if last <= from {
                continue;
            }
            let skip = from.saturating_sub(first) as usize;
            let take = (to.min(last) - first) as usize - skip;
            out.extend(lines.into_iter().skip(skip).take(take));
        }
        Ok(out)
    }

    /// The JSON rendering of what a task saved.
    pub fn result_json(&self, r: &ReadTransaction, id: &str) -> Result<Option<String>, DiskError> {
        let t = r.open_table(RESULT_JSON).map_err(rerr)?;
        let found = t.get(id.as_bytes()).map_err(rerr)?;
        found
            .map(|v| {
                let bytes = decompress("a saved result", v.value())?;
                String::from_utf8(bytes).map_err(|e| DiskError::Decode {
                    what: "a saved result".into(),
                    reason: e.to_string(),
                })
            })
            .transpose()
    }

    /// The pickle of what a task saved.
    pub fn result_pickle(&self, r: &ReadTransaction, id: &str) -> Result<Option<Vec<u8>>, DiskError> {
        let t = r.open_table(RESULT_PICKLE).map_err(rerr)?;
        let found = t.get(id.as_bytes()).map_err(rerr)?;
        found.map(|v| decompress("a saved result", v.value())).transpose()
    }

    /// Chunk `index` of a blob, if the store holds it.
    pub fn blob_chunk(
        &self,
        r: &ReadTransaction,
        sha256: &str,
        index: u32,
    ) -> Result<Option<Vec<u8>>, DiskError> {
        let t = r.open_table(super::BLOBS).map_err(rerr)?;
        let found = t.get(keys::blob(sha256, index).as_slice()).map_err(rerr)?;
        Ok(found.map(|v| v.value().to_vec()))
    }

    /// Up to `limit` finished runs that `filter` admits, newest first, older
    /// than `after` when given. Walks the index that narrows most (an
    /// application, a trigger, a state, else all by time) from the cursor
    /// on, so the cost follows the page, not the history.
    pub fn finished_runs(
        &self,
        r: &ReadTransaction,
        filter: &RunFilter,
        after: Option<&RunsCursor>,
        limit: usize,
    ) -> Result<RunPage, DiskError> {
        let (table, prefix) = match (&filter.app, &filter.triggered_by, filter.state) {
            (Some(app), _, _) => (RUN_APP, keys::name(app)),
            (None, Some(t), _) => (RUN_TRIGGER, keys::name(t)),
            (None, None, Some(s)) => (RUN_STATE, keys::state(s)),
            (None, None, None) => (RUN_TIME, Vec::new()),
        };
        let (lo, hi) = keys::page_range(
            &prefix,
            filter.since_ms,
            filter.until_ms,
            after.map(|c| (c.created_ms, c.id.as_str())),
        );
        let index = r.open_table(table).map_err(rerr)?;
        let mut page = RunPage::default();
        for item in index.range(lo.as_slice()..hi.as_slice()).map_err(rerr)?.rev() {
            let (k, _) = item.map_err(rerr)?;
            let Some((_, id)) = keys::index_parts(k.value(), prefix.len()) else {
                continue;
            };
            let Some(run) = self.run(r, id)? else {
                continue;
            };
            if !filter.admits(&run) {
                continue;
            }
            if page.runs.len() == limit {
                page.next = page.runs.last().map(RunsCursor::of);
                break;
            }
            page.runs.push(run);
        }
        Ok(page)
    }

    /// The newest finished run of application `app`: the last entry of its
    /// part of the application index, so one lookup whatever the history.
    pub fn newest_finished_run(
        &self,
        r: &ReadTransaction,
        app: &str,
    ) -> Result<Option<RunRecord>, DiskError> {
        let prefix = keys::name(app);
        let (lo, hi) = keys::page_range(&prefix, None, None, None);
        let index = r.open_table(RUN_APP).map_err(rerr)?;
        for item in index.range(lo.as_slice()..hi.as_slice()).map_err(rerr)?.rev() {
            let (k, _) = item.map_err(rerr)?;
            let Some((_, id)) = keys::index_parts(k.value(), prefix.len()) else {
                continue;
            };
            // An index entry whose run expired in the same write is passed over.
            if let Some(run) = self.run(r, id)? {
                return Ok(Some(run));
            }
        }
        Ok(None)
    }
}
