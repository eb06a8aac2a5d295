//! The on-disk record format: a record is a u32 length, a u32 CRC-32 of the
//! body and the body: the entry's log id (term, node, index as three
//! little-endian u64s) followed by the LZ4-compressed encoding of the entry.
//! The id is outside the compressed part so opening the log reads ids
//! without decompressing or decoding any entry (a log of 1,000 results of
//! 1 MB took seconds to open when it did). Framing, checking and reading
//! one record back, scanning the log file on open, and writing `meta.dat`.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use openraft::{CommittedLeaderId, LogId};

use super::cache::Slot;
use super::{decode, encode, Entry, Meta, NodeId, META_FILE};

#[derive(Debug, thiserror::Error)]
pub(super) enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the record at byte {0} of the log file fails its checksum")]
    Damaged(u64),
    #[error("the record at byte {0} of the log file does not decode: {1}")]
    Decode(u64, String),
    #[error("the record at byte {offset} of the log file holds {found}, not {expected}")]
    WrongEntry {
        offset: u64,
        expected: LogId<NodeId>,
        found: LogId<NodeId>,
    },
    #[error("the entry is neither in memory nor written (a bug)")]
    Missing,
    #[error("the cached record of the entry does not decode: {0} (a bug)")]
    Cached(String),
}

/// One record: u32 length, u32 CRC-32 of the body, the body (an encoded entry).
pub(super) fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// The record of an entry: its encoding, LZ4-compressed (a step's result
/// rides in its outcome's entry, and the log keeps the newest entries after
/// every snapshot), then framed. The cache holds these same bytes.
pub(super) fn entry_record(e: &Entry) -> Result<Vec<u8>, bincode::error::EncodeError> {
    let encoded = encode(e)?;
    let id = &e.log_id;
    let mut body = Vec::with_capacity(ID_BYTES + encoded.len() / 2);
    for n in [id.leader_id.term, id.leader_id.node_id, id.index] {
        body.extend_from_slice(&n.to_le_bytes());
    }
    body.extend_from_slice(&lz4_flex::compress_prepend_size(&encoded));
    Ok(frame(&body))
}

/// The bytes of the log id in front of a body.
const ID_BYTES: usize = 24;

/// The log id an intact record's body starts with.
pub(super) fn id_of(body: &[u8]) -> Option<LogId<NodeId>> {
    let n =
        |i: usize| -> Option<u64> { Some(u64::from_le_bytes(body.get(i * 8..i * 8 + 8)?.try_into().ok()?)) };
    Some(LogId::new(CommittedLeaderId::new(n(0)?, n(1)?), n(2)?))
}

/// The entry in an intact record's body.
pub(super) fn entry_of(body: &[u8]) -> Result<Entry, String> {
    let packed = body
        .get(ID_BYTES..)
        .ok_or("the record is shorter than its log id")?;
    let bytes = lz4_flex::decompress_size_prepended(packed).map_err(|e| e.to_string())?;
    let entry = decode::<Entry>(&bytes).map_err(|e| e.to_string())?;
    if Some(entry.log_id) != id_of(body) {
        return Err(format!(
            "its header names {:?} but it holds {}",
            id_of(body),
            entry.log_id
        ));
    }
    Ok(entry)
}

/// The body of a single framed record, if it is intact.
pub(super) fn body_of(bytes: &[u8]) -> Option<&[u8]> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
    let body = bytes.get(8..8 + len)?;
    (crc32fast::hash(body) == crc).then_some(body)
}

/// The entry of a record the cache holds (framed here, so not checked again).
pub(super) fn cached_entry(record: &[u8]) -> Result<Entry, ReadError> {
    let body = record
        .get(8..)
        .ok_or_else(|| ReadError::Cached("shorter than its header".into()))?;
    entry_of(body).map_err(ReadError::Cached)
}

/// Reads the record of `slot` from `file`. A slot read just as its index was
/// truncated may find other bytes there; the checksum and the id catch that.
pub(super) fn read_record(file: &File, slot: &Slot, offset: u64) -> Result<Entry, ReadError> {
    let mut bytes = vec![0u8; slot.len as usize];
    file.read_exact_at(&mut bytes, offset)?;
    let body = body_of(&bytes).ok_or(ReadError::Damaged(offset))?;
    let entry = entry_of(body).map_err(|e| ReadError::Decode(offset, e))?;
    if entry.log_id != slot.log_id {
        return Err(ReadError::WrongEntry {
            offset,
            expected: slot.log_id,
            found: entry.log_id,
        });
    }
    Ok(entry)
}

/// Reads records until the end or the first damaged one, handing each
/// record's log id to `each` with its file offset and record length;
/// answers the length of the intact prefix. Entries are neither
/// decompressed nor decoded: the file can be far larger than memory should
/// hold, and opening it should not cost a pass over every entry.
pub(super) fn scan(file: &File, mut each: impl FnMut(u64, u64, LogId<NodeId>)) -> std::io::Result<u64> {
    let mut r = BufReader::new(file);
    let mut good = 0u64;
    let mut body = Vec::new();
    loop {
        let mut head = [0u8; 8];
        if r.read_exact(&mut head).is_err() {
            break;
        }
        let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
        body.resize(len, 0);
        if r.read_exact(&mut body).is_err() || crc32fast::hash(&body) != crc {
            break;
        }
        // An intact record without an id is not a torn tail: cutting it
        // would drop acknowledged entries, so refuse instead.
        let id = id_of(&body).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the Raft log record at byte {good} is intact but too short to hold a log id; the log is left as it is"),
            )
        })?;
        let record = 8 + len as u64;
        each(good, record, id);
        good += record;
    }
    Ok(good)
}

pub(super) fn write_meta(dir: &Path, meta: &Meta) -> std::io::Result<()> {
    let bytes = encode(meta).map_err(std::io::Error::other)?;
    let tmp = dir.join("meta.tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(&bytes)?;
    f.sync_data()?;
    std::fs::rename(&tmp, dir.join(META_FILE))?;
    File::open(dir)?.sync_all()
}
