//! Tests of the log store alone: a torn or damaged tail cut on open, the
//! cache's eviction, reads that miss the cache, truncation while a write is
//! queued, compaction by bytes, reopening a compacted log, and writes held
//! through a full disk and a failed sync (openraft's
//! own storage suite is in `store/conformance.rs`).

use super::*;
use crate::store::Command;
use openraft::{CommittedLeaderId, EntryPayload};

fn entry(index: u64) -> Entry {
    Entry {
        log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
        payload: EntryPayload::Blank,
    }
}

/// About 16 KiB that does not compress (records are LZ4-compressed), with
/// contents that tell the term and index apart.
fn big(term: u64, index: u64) -> Entry {
    let mut x = (index * 7 + term) | 1;
    let value = (0..16 << 10)
        .map(|_| {
            // xorshift64: bytes without the repeats LZ4 would fold.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    Entry {
        log_id: LogId::new(CommittedLeaderId::new(term, 1), index),
        payload: EntryPayload::Normal(Command::CacheSet {
            key: format!("k{term}-{index}"),
            value,
            expires_at_ms: None,
        }),
    }
}

fn bigs(term: u64, indexes: std::ops::RangeInclusive<u64>) -> Vec<Entry> {
    indexes.map(|i| big(term, i)).collect()
}

/// A cache of four big entries; compaction by bytes from 256 KiB dead.
fn small() -> Limits {
    Limits {
        cache_bytes: 64 << 10,
        compact_after: COMPACT_AFTER,
        compact_after_bytes: 256 << 10,
    }
}

fn record_bytes(entries: &[Entry]) -> u64 {
    entries
        .iter()
        .map(|e| entry_record(e).unwrap().len() as u64)
        .sum()
}

fn file_len(dir: &Path) -> u64 {
    std::fs::metadata(dir.join(LOG_FILE)).unwrap().len()
}

impl LogStore {
    /// Appends and waits until the entries are durable.
    async fn append_flushed(&self, entries: Vec<Entry>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.queue_append(entries, Flushed::Test(tx)).unwrap();
        rx.await.unwrap().unwrap();
    }

    /// Waits until the writer has done everything queued before (a
    /// metadata write is queued behind it and answered after).
    async fn settle(&self) {
        self.save_meta(|_| {}).await.unwrap();
    }
}

#[test]
fn a_torn_tail_is_cut_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    for i in 1..=3 {
        bytes.extend(entry_record(&entry(i)).unwrap());
    }
    let full = bytes.len();
    bytes.extend(&entry_record(&entry(4)).unwrap()[..5]);
    super::super::format::check_or_mark(dir.path(), false).unwrap();
    std::fs::write(dir.path().join(LOG_FILE), &bytes).unwrap();
    let store = LogStore::open(dir.path(), &Default::default()).unwrap();
    assert_eq!(
        store.memory().slots.keys().copied().collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(
        std::fs::metadata(dir.path().join(LOG_FILE)).unwrap().len(),
        full as u64
    );
}

#[test]
fn a_corrupted_record_ends_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    for i in 1..=3 {
        bytes.extend(entry_record(&entry(i)).unwrap());
    }
    let second = entry_record(&entry(1)).unwrap().len();
    bytes[second + 9] ^= 0xff; // flip a byte in the second record's body
    super::super::format::check_or_mark(dir.path(), false).unwrap();
    std::fs::write(dir.path().join(LOG_FILE), &bytes).unwrap();
    let store = LogStore::open(dir.path(), &Default::default()).unwrap();
    assert_eq!(store.memory().slots.keys().copied().collect::<Vec<_>>(), vec![1]);
}

#[test]
fn the_cache_evicts_oldest_first_but_never_an_entry_waiting_for_its_write() {
    let mut cache = Cache::new(100);
    let record = || Arc::<[u8]>::from(vec![0u8; 80]);
    cache.insert(1, record(), false);
    cache.insert(2, record(), true);
    cache.insert(3, record(), true);
    cache.evict();
    assert_eq!(cache.entries.keys().copied().collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(cache.bytes, 160);
    cache.unpin(2);
    cache.evict();
    assert_eq!(cache.entries.keys().copied().collect::<Vec<_>>(), vec![3]);
    assert_eq!(cache.bytes, 80);
}

#[tokio::test]
async fn an_entry_out_of_the_cache_is_read_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open_with(dir.path(), small(), &Default::default()).unwrap();
    let entries = bigs(1, 1..=20);
    store.append_flushed(entries.clone()).await;
    {
        let m = store.memory();
        assert!(m.cache.get(1).is_none(), "the oldest entry left the cache");
        assert!(m.cache.get(20).is_some(), "the newest is still there");
        assert!(m.cache.bytes <= small().cache_bytes);
    }
    assert_eq!(
        store.try_get_log_entries(1..=1).await.unwrap(),
        vec![entries[0].clone()]
    );
    assert_eq!(store.try_get_log_entries(..).await.unwrap(), entries);
    assert_eq!(store.unpurged_bytes(), record_bytes(&entries));
    assert_eq!(store.unpurged_bytes(), file_len(dir.path()));
}

/// No cache at all: every read of a written entry is a file read. An
/// append is queued, and the index truncated and appended again while
/// the first write may still be waiting.
#[tokio::test]
async fn a_truncated_and_rewritten_tail_reads_back_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        cache_bytes: 0,
        ..small()
    };
    let expected = [bigs(1, 1..=5), bigs(2, 6..=8)].concat();
    {
        let mut store = LogStore::open_with(dir.path(), limits, &Default::default()).unwrap();
        let (tx, first) = tokio::sync::oneshot::channel();
        store.queue_append(bigs(1, 1..=10), Flushed::Test(tx)).unwrap();
        // Readable at once, written or not (the cache holds nothing
        // else: these are pinned there until written).
        assert_eq!(store.try_get_log_entries(..).await.unwrap(), bigs(1, 1..=10));
        store.truncate(big(1, 6).log_id).await.unwrap();
        store.append_flushed(bigs(2, 6..=8)).await;
        first.await.unwrap().unwrap();
        assert_eq!(store.try_get_log_entries(..).await.unwrap(), expected);
        assert_eq!(store.memory().cache.bytes, 0);
        assert_eq!(store.unpurged_bytes(), record_bytes(&expected));
        assert_eq!(file_len(dir.path()), record_bytes(&expected));
    }
    let mut store = LogStore::open_with(dir.path(), limits, &Default::default()).unwrap();
    assert_eq!(store.try_get_log_entries(..).await.unwrap(), expected);
    assert_eq!(store.unpurged_bytes(), record_bytes(&expected));
}

/// Appends 40 big entries and purges them up to 30: 30 dead records of
/// 16 KiB pass 256 KiB and half the file. Answers the entries kept.
async fn compact_by_bytes(dir: &Path) -> Vec<Entry> {
    let mut store = LogStore::open_with(dir, small(), &Default::default()).unwrap();
    let entries = bigs(1, 1..=40);
    store.append_flushed(entries.clone()).await;
    let full = file_len(dir);
    assert_eq!(full, record_bytes(&entries));

    // 5 dead entries are too few bytes: the file stays.
    store.purge(entries[4].log_id).await.unwrap();
    store.settle().await;
    assert_eq!(file_len(dir), full);
    assert_eq!(store.unpurged_bytes(), record_bytes(&entries[5..]));

    store.purge(entries[29].log_id).await.unwrap();
    store.settle().await;
    let kept = &entries[30..];
    assert_eq!(
        file_len(dir),
        record_bytes(kept),
        "the file holds only what is kept"
    );
    assert_eq!(store.unpurged_bytes(), record_bytes(kept));
    assert_eq!(store.try_get_log_entries(..).await.unwrap(), kept);

    // Appends after the compaction land at the right offsets of the
    // new file.
    let more = bigs(1, 41..=45);
    store.append_flushed(more.clone()).await;
    let kept = [kept, &more].concat();
    assert_eq!(store.try_get_log_entries(..).await.unwrap(), kept);
    assert_eq!(file_len(dir), record_bytes(&kept));
    kept
}

#[tokio::test]
async fn purging_big_entries_compacts_the_file_by_bytes() {
    let dir = tempfile::tempdir().unwrap();
    compact_by_bytes(dir.path()).await;
}

#[tokio::test]
async fn a_compacted_log_reopens_with_the_same_entries() {
    let dir = tempfile::tempdir().unwrap();
    let kept = compact_by_bytes(dir.path()).await;
    let mut store = LogStore::open_with(dir.path(), small(), &Default::default()).unwrap();
    assert_eq!(store.try_get_log_entries(..).await.unwrap(), kept);
    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id, Some(big(1, 30).log_id));
    assert_eq!(state.last_log_id, Some(big(1, 45).log_id));
    assert_eq!(store.unpurged_bytes(), record_bytes(&kept));
}

/// Polls `cond` until it holds (the writer retries on its own thread).
async fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_full_disk_holds_appends_until_space_is_back_then_writes_them_once() {
    use std::sync::atomic::Ordering::Relaxed;
    let dir = tempfile::tempdir().unwrap();
    let health = StorageHealth::default();
    let mut store = LogStore::open_with(dir.path(), small(), &health).unwrap();
    let before = bigs(1, 1..=3);
    store.append_flushed(before.clone()).await;

    // Every write fails (a full disk) until the test lets them through.
    store.inject.writes.store(u32::MAX, Relaxed);
    let during = bigs(1, 4..=6);
    let (tx, mut rx) = tokio::sync::oneshot::channel();
    store.queue_append(during.clone(), Flushed::Test(tx)).unwrap();
    until("the writer notes the fault", || health.is_faulted()).await;
    let problem = health.current().unwrap().describe();
    assert!(
        problem.contains("disk is full") && problem.contains("log.dat"),
        "{problem}"
    );
    // Not acknowledged while it is not durable, yet readable.
    assert!(
        rx.try_recv().is_err(),
        "an append was acknowledged during the fault"
    );
    let all = [before.clone(), during].concat();
    assert_eq!(store.try_get_log_entries(..).await.unwrap(), all);

    // Space is back: the same writer writes them, without a restart.
    store.inject.writes.store(0, Relaxed);
    rx.await.unwrap().unwrap();
    assert!(!health.is_faulted());
    // Written once: no torn or repeated record in the file.
    assert_eq!(file_len(dir.path()), record_bytes(&all));
    let more = bigs(1, 7..=7);
    store.append_flushed(more.clone()).await;
    let all = [all, more].concat();
    drop(store);
    let mut store = LogStore::open_with(dir.path(), small(), &health).unwrap();
    assert_eq!(store.try_get_log_entries(..).await.unwrap(), all);
}

#[tokio::test]
async fn a_failed_sync_writes_the_records_again_before_acknowledging() {
    let dir = tempfile::tempdir().unwrap();
    let health = StorageHealth::default();
    let store = LogStore::open_with(dir.path(), small(), &health).unwrap();
    let first = bigs(1, 1..=2);
    store.append_flushed(first.clone()).await;
    // The next fdatasync fails: Linux may have dropped the pages it could
    // not write, so the records are written again, then synced.
    store.inject.syncs.store(1, std::sync::atomic::Ordering::Relaxed);
    let second = bigs(1, 3..=4);
    store.append_flushed(second.clone()).await;
    assert!(!health.is_faulted());
    let all = [first, second].concat();
    assert_eq!(file_len(dir.path()), record_bytes(&all));
    drop(store);
    let mut store = LogStore::open_with(dir.path(), small(), &health).unwrap();
    assert_eq!(store.try_get_log_entries(..).await.unwrap(), all);
}
