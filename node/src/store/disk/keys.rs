//! How the disk store's keys are spelled: byte strings whose order is the
//! order listings need. Names are length-prefixed (so a name is never a
//! prefix of another's key), times big-endian (so they sort as numbers).

use crate::model::task::TaskState;

/// A name as a key part: its length (4 bytes, big-endian), then its bytes.
pub(super) fn name(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + s.len());
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
    out
}

/// A chunk of a blob: the blob's SHA-256 (hex), then the chunk number
/// (big-endian, so chunks sort in order).
pub(super) fn blob(sha256: &str, index: u32) -> Vec<u8> {
    let mut out = name(sha256);
    out.extend_from_slice(&index.to_be_bytes());
    out
}

/// The key part of a run state (indexes by state).
pub(super) fn state(s: TaskState) -> Vec<u8> {
    vec![s as u8]
}

/// An index entry: `prefix`, the creation time, then the id. Entries of one
/// prefix sort by time, then id; listings walk them newest first.
pub(super) fn index(prefix: &[u8], created_ms: u64, id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + 8 + id.len());
    out.extend_from_slice(prefix);
    out.extend_from_slice(&created_ms.to_be_bytes());
    out.extend_from_slice(id.as_bytes());
    out
}

/// The range of an index's entries under `prefix` a page walks (newest
/// first, from the end): created in `since_ms..until_ms`, and before the
/// entry `after` (time, id) names, when given.
pub(super) fn page_range(
    prefix: &[u8],
    since_ms: Option<u64>,
    until_ms: Option<u64>,
    after: Option<(u64, &str)>,
) -> (Vec<u8>, Vec<u8>) {
    let lo = index(prefix, since_ms.unwrap_or(0), "");
    let hi = match (after, until_ms) {
        (Some((t, _)), Some(u)) if u <= t => index(prefix, u, ""),
        (Some((t, id)), _) => index(prefix, t, id),
        (None, Some(u)) => index(prefix, u, ""),
        (None, None) => {
            let mut end = prefix.to_vec();
            end.extend_from_slice(&[0xff; 9]);
            end
        }
    };
    (lo, hi)
}

/// The (time, id) an index entry of `prefix_len` names.
pub(super) fn index_parts(key: &[u8], prefix_len: usize) -> Option<(u64, &str)> {
    let rest = key.get(prefix_len..)?;
    let time = u64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
    Some((time, std::str::from_utf8(rest.get(8..)?).ok()?))
}

/// An expiry entry: when the run or task ended, then its id.
pub(super) fn end(end_ms: u64, id: &str) -> Vec<u8> {
    index(&[], end_ms, id)
}

/// A chunk of a task's log: the task, then the number of its first line.
pub(super) fn log(task_id: &str, first_line: u64) -> Vec<u8> {
    let mut out = name(task_id);
    out.extend_from_slice(&first_line.to_be_bytes());
    out
}

/// The first line number a log chunk key names.
pub(super) fn log_first_line(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(
        key.get(key.len().checked_sub(8)?..)?.try_into().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_entries_sort_by_prefix_then_time_then_id() {
        let a = index(&name("app"), 5, "r1");
        let b = index(&name("app"), 10, "r0");
        let c = index(&name("apq"), 1, "r0");
        let d = index(&name("ap"), 99, "r0");
        assert!(a < b && b < c);
        // A shorter name never falls inside a longer one's entries.
        assert!(d < a);
        assert_eq!(index_parts(&b, name("app").len()), Some((10, "r0")));
    }

    #[test]
    fn log_chunks_sort_by_task_then_line() {
        assert!(log("t", 2) < log("t", 10));
        assert!(log("t", u64::MAX) < log("u", 0));
        assert_eq!(log_first_line(&log("t", 42)), Some(42));
    }
}
