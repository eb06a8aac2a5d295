//! Snapshots of the store as a file: a header naming the snapshot format
//! and the snapshot's metadata, then every record of every table. A
//! snapshot is written from one read transaction — a fixed state, read
//! while entries keep being applied — record by record, so neither memory
//! nor any lock holds the whole state. openraft sends the file to a
//! follower in chunks; the follower loads it record by record in one write
//! transaction.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

/// Reads through `inner` and writes every byte read to `copy`: a received
/// snapshot is loaded and kept as this node's snapshot file in one pass.
pub struct Tee<R, W> {
    pub inner: R,
    pub copy: W,
}

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

use redb::{ReadableTable, ReadableTableMetadata};

use super::{decode, encode, rerr, Disk, DiskError, Membership, META, META_APPLIED, META_MEMBERSHIP, TABLES};
use crate::store::NodeId;

/// First line of every snapshot file.
const MAGIC: &[u8] = b"isnode-snapshot 1\n";
/// Marks the end of the records (no table has this number).
const END: u8 = 0xff;

pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, openraft::BasicNode>;

fn put_bytes(w: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    w.write_all(&(bytes.len() as u32).to_le_bytes())?;
    w.write_all(bytes)
}

fn get_bytes(r: &mut impl Read, what: &str) -> Result<Vec<u8>, DiskError> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)
        .map_err(|e| DiskError::Snapshot(format!("{what}: {e}")))?;
    let mut out = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut out)
        .map_err(|e| DiskError::Snapshot(format!("{what}: {e}")))?;
    Ok(out)
}

/// Reads a snapshot file's header: its metadata. Leaves `r` at the records.
pub fn read_header(r: &mut impl Read) -> Result<SnapshotMeta, DiskError> {
    let mut magic = vec![0u8; MAGIC.len()];
    r.read_exact(&mut magic)
        .map_err(|e| DiskError::Snapshot(format!("its header: {e}")))?;
    if magic != MAGIC {
        return Err(DiskError::Snapshot(format!(
            "it is not in this build's format ({:?}); found {:?}",
            String::from_utf8_lossy(MAGIC).trim(),
            String::from_utf8_lossy(&magic).trim()
        )));
    }
    decode("the snapshot's metadata", &get_bytes(r, "its metadata")?)
}

impl Disk {
    /// Writes the state `r` sees to `path` and answers its metadata (named
    /// `snapshot_id`). `r` must begin right after a flush commit (see
    /// `write.rs`), so its log id and its records agree.
    pub fn dump(
        &self,
        r: redb::ReadTransaction,
        path: &Path,
        snapshot_id: impl FnOnce(Option<openraft::LogId<NodeId>>) -> String,
    ) -> Result<SnapshotMeta, DiskError> {
        let (last_log_id, last_membership) = {
            let meta = r.open_table(META).map_err(rerr)?;
            let applied = match meta.get(META_APPLIED).map_err(rerr)? {
                Some(v) => decode("the applied log id", v.value())?,
                None => None,
            };
            let membership: Membership = match meta.get(META_MEMBERSHIP).map_err(rerr)? {
                Some(v) => decode("the membership", v.value())?,
                None => Membership::default(),
            };
            (applied, membership)
        };
        let meta = SnapshotMeta {
            last_log_id,
            last_membership,
            snapshot_id: snapshot_id(last_log_id),
        };
        let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
        out.write_all(MAGIC)?;
        put_bytes(&mut out, &encode("the snapshot's metadata", &meta)?)?;
        for (number, table) in TABLES.iter().enumerate() {
            let t = r.open_table(*table).map_err(rerr)?;
            if t.is_empty().map_err(rerr)? {
                continue;
            }
            for item in t.iter().map_err(rerr)? {
                let (k, v) = item.map_err(rerr)?;
                out.write_all(&[number as u8])?;
                put_bytes(&mut out, k.value())?;
                put_bytes(&mut out, v.value())?;
            }
        }
        out.write_all(&[END])?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(meta)
    }

    /// Replaces the whole state with the snapshot `r` reads (durably),
    /// reading it up to its end marker. Answers the snapshot's metadata.
    pub fn load_snapshot(&self, r: impl Read) -> Result<SnapshotMeta, DiskError> {
        let mut r = BufReader::with_capacity(1 << 20, r);
        let meta = read_header(&mut r)?;
        let db = self.db()?;
        let mut w = db.begin_write().map_err(rerr)?;
        w.set_durability(redb::Durability::Immediate).map_err(rerr)?;
        for table in TABLES {
            w.open_table(table)
                .map_err(rerr)?
                .retain(|_, _| false)
                .map_err(rerr)?;
        }
        loop {
            let mut number = [0u8; 1];
            r.read_exact(&mut number)
                .map_err(|e| DiskError::Snapshot(format!("it ends before its end marker: {e}")))?;
            if number[0] == END {
                break;
            }
            let table = TABLES.get(number[0] as usize).ok_or_else(|| {
                DiskError::Snapshot(format!(
                    "it names table {}, which this build does not have",
                    number[0]
                ))
            })?;
            let key = get_bytes(&mut r, "a record's key")?;
            let value = get_bytes(&mut r, "a record's value")?;
            if number[0] == 0 && key == super::META_FORMAT && value != super::FORMAT.as_bytes() {
                return Err(DiskError::Snapshot(format!(
                    "its records are in {:?}, this build writes {:?}",
                    String::from_utf8_lossy(&value),
                    super::FORMAT
                )));
            }
            w.open_table(*table)
                .map_err(rerr)?
                .insert(key.as_slice(), value.as_slice())
                .map_err(rerr)?;
        }
        w.commit().map_err(rerr)?;
        Ok(meta)
    }
}
