//! The audit trail in the store: one record per entry of `AUDIT`, keyed by
//! time then id (`keys::index`), so pages are read newest first and expiry
//! removes a prefix.

use redb::{ReadTransaction, ReadableTable};

use super::write::Tables;
use super::{decode, encode, keys, rerr, Disk, DiskError, AUDIT};
use crate::model::audit::AuditRecord;

/// Where a page of the audit trail ends: the (time, id) of its last record.
pub type AuditCursor = (u64, String);

pub(super) fn add(t: &mut Tables, records: &[AuditRecord]) -> Result<(), DiskError> {
    for r in records {
        t.insert(
            AUDIT,
            &keys::index(&[], r.at_ms, &r.id),
            &encode("an audit record", r)?,
        )?;
    }
    Ok(())
}

/// Forgets records made before `before_ms`; answers the bytes freed.
pub(super) fn purge(t: &mut Tables, before_ms: u64) -> Result<u64, DiskError> {
    let upto = keys::index(&[], before_ms, "");
    let due: Vec<Vec<u8>> = {
        let table = t.get(AUDIT)?;
        let mut due = Vec::new();
        for item in table.range(..upto.as_slice()).map_err(rerr)? {
            due.push(item.map_err(rerr)?.0.value().to_vec());
        }
        due
    };
    let mut freed = 0;
    for key in due {
        freed += t.remove(AUDIT, &key)?;
    }
    Ok(freed)
}

impl Disk {
    /// Up to `limit` records, newest first, older than `after`; and the
    /// cursor of the next page when more follow.
    pub fn audit(
        &self,
        r: &ReadTransaction,
        after: Option<&AuditCursor>,
        limit: usize,
    ) -> Result<(Vec<AuditRecord>, Option<AuditCursor>), DiskError> {
        let (lo, hi) = keys::page_range(&[], None, None, after.map(|(t, id)| (*t, id.as_str())));
        let table = r.open_table(AUDIT).map_err(rerr)?;
        let mut page: Vec<AuditRecord> = Vec::new();
        for item in table.range(lo.as_slice()..hi.as_slice()).map_err(rerr)?.rev() {
            let (_, v) = item.map_err(rerr)?;
            if page.len() == limit {
                let next = page.last().map(|r| (r.at_ms, r.id.clone()));
                return Ok((page, next));
            }
            page.push(decode("an audit record", v.value())?);
        }
        Ok((page, None))
    }
}
