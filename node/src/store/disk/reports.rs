//! Reports in the store: one record per run (`REPORTS`, by run id) that
//! grows by the sections its steps add, indexed by creation time overall
//! and per application, so pages are read from an index, newest first.
//! A report is deleted with its run when the run expires (`write::purge`).

use redb::{ReadTransaction, ReadableTable};

use super::write::Tables;
use super::{
    compress, decode, decompress, encode, keys, rerr, Disk, DiskError, REPORTS, REPORT_APP, REPORT_TIME,
};
use crate::model::report::{Report, ReportSection};

/// Adds sections to run `run_id`'s report, creating it (and its index
/// entries) with the first.
pub(super) fn add(
    t: &mut Tables,
    run_id: &str,
    app_name: &str,
    at_ms: u64,
    sections: &[ReportSection],
) -> Result<(), DiskError> {
    let existing = match t.get(REPORTS)?.get(run_id.as_bytes()).map_err(rerr)? {
        Some(v) => Some(decode::<Report>("a report", &decompress("a report", v.value())?)?),
        None => None,
    };
    let report = match existing {
        Some(mut r) => {
            r.sections.extend_from_slice(sections);
            r
        }
        None => {
            t.insert(REPORT_TIME, &keys::index(&[], at_ms, run_id), &[])?;
            t.insert(
                REPORT_APP,
                &keys::index(&keys::name(app_name), at_ms, run_id),
                &[],
            )?;
            Report {
                run_id: run_id.to_string(),
                app_name: app_name.to_string(),
                created_ms: at_ms,
                sections: sections.to_vec(),
                kept: false,
            }
        }
    };
    t.insert(
        REPORTS,
        run_id.as_bytes(),
        &compress(&encode("a report", &report)?),
    )
}

/// Deletes run `run_id`'s report and its index entries; answers the bytes freed.
pub(super) fn delete(t: &mut Tables, run_id: &str) -> Result<u64, DiskError> {
    let Some(bytes) = t
        .get(REPORTS)?
        .remove(run_id.as_bytes())
        .map_err(rerr)?
        .map(|v| v.value().to_vec())
    else {
        return Ok(0);
    };
    let report: Report = decode("a report", &decompress("a report", &bytes)?)?;
    t.remove(REPORT_TIME, &keys::index(&[], report.created_ms, run_id))?;
    t.remove(
        REPORT_APP,
        &keys::index(&keys::name(&report.app_name), report.created_ms, run_id),
    )?;
    Ok(bytes.len() as u64)
}

/// Marks run `run_id`'s report kept (or not) when its run expires.
pub(super) fn keep(t: &mut Tables, run_id: &str, keep: bool) -> Result<(), DiskError> {
    let found = t
        .get(REPORTS)?
        .get(run_id.as_bytes())
        .map_err(rerr)?
        .map(|v| v.value().to_vec());
    let Some(bytes) = found else {
        return Ok(());
    };
    let mut report: Report = decode("a report", &decompress("a report", &bytes)?)?;
    report.kept = keep;
    t.insert(
        REPORTS,
        run_id.as_bytes(),
        &compress(&encode("a report", &report)?),
    )
}

/// Deletes run `run_id`'s report as its run expires, unless it is kept.
pub(super) fn expire(t: &mut Tables, run_id: &str) -> Result<u64, DiskError> {
    let found = t
        .get(REPORTS)?
        .get(run_id.as_bytes())
        .map_err(rerr)?
        .map(|v| v.value().to_vec());
    match found {
        Some(bytes) if !decode::<Report>("a report", &decompress("a report", &bytes)?)?.kept => {
            delete(t, run_id)
        }
        _ => Ok(0),
    }
}

/// Where a page of reports ends: the (creation time, run id) of its last.
pub type ReportCursor = (u64, String);

impl Disk {
    pub fn report(&self, r: &ReadTransaction, run_id: &str) -> Result<Option<Report>, DiskError> {
        let t = r.open_table(REPORTS).map_err(rerr)?;
        let found = t
            .get(run_id.as_bytes())
            .map_err(rerr)?
            .map(|v| v.value().to_vec());
        match found {
            Some(bytes) => Ok(Some(decode("a report", &decompress("a report", &bytes)?)?)),
            None => Ok(None),
        }
    }

    /// Up to `limit` reports (of `app` when given), created in
    /// `since_ms..until_ms`, newest first, older than `after`; and the
    /// cursor of the next page when more follow.
    pub fn reports(
        &self,
        r: &ReadTransaction,
        app: Option<&str>,
        since_ms: Option<u64>,
        until_ms: Option<u64>,
        after: Option<&ReportCursor>,
        limit: usize,
    ) -> Result<(Vec<Report>, Option<ReportCursor>), DiskError> {
        let (table, prefix) = match app {
            Some(app) => (REPORT_APP, keys::name(app)),
            None => (REPORT_TIME, Vec::new()),
        };
        let (lo, hi) = keys::page_range(
            &prefix,
            since_ms,
            until_ms,
            after.map(|(t, id)| (*t, id.as_str())),
        );
        let index = r.open_table(table).map_err(rerr)?;
        let mut page = Vec::new();
        for item in index.range(lo.as_slice()..hi.as_slice()).map_err(rerr)?.rev() {
            let (k, _) = item.map_err(rerr)?;
            let Some((_, run_id)) = keys::index_parts(k.value(), prefix.len()) else {
                continue;
            };
            if page.len() == limit {
                let next = page.last().map(|r: &Report| (r.created_ms, r.run_id.clone()));
                return Ok((page, next));
            }
            if let Some(report) = self.report(r, run_id)? {
                page.push(report);
            }
        }
        Ok((page, None))
    }
}
