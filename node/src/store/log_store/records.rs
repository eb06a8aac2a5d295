//! The on-disk record format: a record is a u32 length, a u32 CRC-32 of the
//! body and the body (an encoded entry). Framing, checking and reading one
//! record back, scanning the log file on open, and writing `meta.dat`.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use openraft::LogId;

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
/// every snapshot), then framed.
///
/// Answers the record and the size of the entry's encoding, which is what
/// the entry costs in memory (the cache's budget counts that, not the
/// compressed record: 1 MB of repeated text is a few kB on disk).
pub(super) fn entry_record(e: &Entry) -> Result<(Vec<u8>, u64), bincode::error::EncodeError> {
    let encoded = encode(e)?;
    Ok((
        frame(&lz4_flex::compress_prepend_size(&encoded)),
        encoded.len() as u64,
    ))
}

/// The entry in an intact record's body, and the size of its encoding.
pub(super) fn entry_of(body: &[u8]) -> Result<(Entry, u64), String> {
    let bytes = lz4_flex::decompress_size_prepended(body).map_err(|e| e.to_string())?;
    let entry = decode::<Entry>(&bytes).map_err(|e| e.to_string())?;
    Ok((entry, bytes.len() as u64))
}

/// The body of a single framed record, if it is intact.
pub(super) fn body_of(bytes: &[u8]) -> Option<&[u8]> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
    let body = bytes.get(8..8 + len)?;
    (crc32fast::hash(body) == crc).then_some(body)
}

/// Reads the record of `slot` from `file`. A slot read just as its index was
/// truncated may find other bytes there; the checksum and the id catch that.
pub(super) fn read_record(file: &File, slot: &Slot, offset: u64) -> Result<Entry, ReadError> {
    let mut bytes = vec![0u8; slot.len as usize];
    file.read_exact_at(&mut bytes, offset)?;
    let body = body_of(&bytes).ok_or(ReadError::Damaged(offset))?;
    let (entry, _) = entry_of(body).map_err(|e| ReadError::Decode(offset, e))?;
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
/// entry to `each` with its file offset, record length and encoded size
/// (what it costs in memory); answers the
/// length of the intact prefix. Entries are decoded one at a time and not
/// kept here: the file can be far larger than memory should hold.
pub(super) fn scan(file: &File, mut each: impl FnMut(u64, u64, u64, Entry)) -> std::io::Result<u64> {
    let mut r = BufReader::new(file);
    let mut good = 0u64;
    loop {
        let mut head = [0u8; 8];
        if r.read_exact(&mut head).is_err() {
            break;
        }
        let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
        let mut body = vec![0u8; len];
        if r.read_exact(&mut body).is_err() || crc32fast::hash(&body) != crc {
            break;
        }
        // An intact record that does not decode is not a torn tail: cutting
        // it would drop acknowledged entries, so refuse instead.
        let (entry, size) = entry_of(&body).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the Raft log record at byte {good} is intact but does not decode ({e}); the log is left as it is"),
            )
        })?;
        let record = 8 + len as u64;
        each(good, record, size, entry);
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
