//! The in-memory index of the log and the cache of entry bodies: a
//! [`Slot`] per entry not purged (its id and where its record is, queued or
//! in the file) and the [`Cache`] of the newest entries' records, bounded by
//! their bytes, in which entries whose write is queued are pinned.
//!
//! The cache holds records (compressed, as written), not decoded entries: a
//! decoded entry that carries a run's specification takes several times its
//! encoding in memory, so a budget of encoded bytes held decoded entries
//! was no bound at all. A read decodes (LZ4 and bincode, about what cloning
//! a decoded entry cost), and the writer shares the same bytes.

use std::collections::BTreeMap;
use std::sync::Arc;

use openraft::LogId;

use super::NodeId;

#[derive(Debug, Clone, Copy)]
pub(super) struct Slot {
    pub(super) log_id: LogId<NodeId>,
    /// Bytes of the record, its header included.
    pub(super) len: u64,
    pub(super) at: At,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum At {
    /// Append number `seq` is queued for the writer; the body is in the
    /// cache, pinned there.
    Queued(u64),
    /// Written at this offset of `Memory::file`.
    File(u64),
}

pub(super) struct Cached {
    record: Arc<[u8]>,
    len: u64,
    /// Its write is queued: the cache is the only place it can be read.
    pinned: bool,
}

/// The newest entries' records by index, evicted oldest first once their
/// bytes pass `limit`; pinned ones are never evicted.
pub(super) struct Cache {
    pub(super) entries: BTreeMap<u64, Cached>,
    pub(super) bytes: u64,
    limit: u64,
}

impl Cache {
    pub(super) fn new(limit: u64) -> Cache {
        Cache {
            entries: BTreeMap::new(),
            bytes: 0,
            limit,
        }
    }

    /// The framed record of entry `index`.
    pub(super) fn get(&self, index: u64) -> Option<&Arc<[u8]>> {
        self.entries.get(&index).map(|c| &c.record)
    }

    pub(super) fn insert(&mut self, index: u64, record: Arc<[u8]>, pinned: bool) {
        let len = record.len() as u64;
        if let Some(old) = self.entries.insert(index, Cached { record, len, pinned }) {
            self.bytes -= old.len;
        }
        self.bytes += len;
    }

    pub(super) fn unpin(&mut self, index: u64) {
        if let Some(c) = self.entries.get_mut(&index) {
            c.pinned = false;
        }
    }

    /// Drops entries from `index` on (truncation).
    pub(super) fn remove_from(&mut self, index: u64) {
        let gone = self.entries.split_off(&index);
        self.bytes -= gone.values().map(|c| c.len).sum::<u64>();
    }

    /// Drops entries up to `index` (purge).
    pub(super) fn remove_upto(&mut self, index: u64) {
        let kept = match index.checked_add(1) {
            Some(next) => self.entries.split_off(&next),
            None => BTreeMap::new(),
        };
        let gone = std::mem::replace(&mut self.entries, kept);
        self.bytes -= gone.values().map(|c| c.len).sum::<u64>();
    }

    /// Evicts the oldest unpinned entries until within the limit (or only
    /// pinned ones are left).
    pub(super) fn evict(&mut self) {
        if self.bytes <= self.limit {
            return;
        }
        let mut over = self.bytes - self.limit;
        let mut gone = Vec::new();
        for (index, c) in &self.entries {
            if over == 0 {
                break;
            }
            if !c.pinned {
                gone.push(*index);
                over = over.saturating_sub(c.len);
            }
        }
        for index in gone {
            if let Some(c) = self.entries.remove(&index) {
                self.bytes -= c.len;
            }
        }
    }
}
