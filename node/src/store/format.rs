//! The format marker of the Raft directory (`DATA/raft/FORMAT`): which
//! encoding the log, the vote and the snapshots were written in, so a build
//! never reads, or worse cuts, a directory another encoding wrote.
//!
//! **Invariant:** the log store opens a directory that holds data only when
//! its marker names the current format; a new directory is marked before
//! anything else is written to it.

use std::io::{Error, ErrorKind, Write};
use std::path::Path;

pub(crate) const FORMAT_FILE: &str = "FORMAT";

/// The current format. Change it whenever the encoding of `Entry`, `Meta`,
/// `Command` or the snapshot changes, so older directories are refused.
const CURRENT: &str = "isnode-raft 6";

/// Checks the marker of `dir`, or writes it when the directory holds no data
/// yet (`has_data`: a log, vote or snapshot file exists).
pub(crate) fn check_or_mark(dir: &Path, has_data: bool) -> std::io::Result<()> {
    let path = dir.join(FORMAT_FILE);
    match std::fs::read_to_string(&path) {
        Ok(found) if found.trim() == CURRENT => Ok(()),
        Ok(found) => Err(refused(dir, &format!("format {:?}", found.trim()))),
        Err(e) if e.kind() == ErrorKind::NotFound && has_data => {
            Err(refused(dir, "a format from before format markers"))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => mark(dir),
        Err(e) => Err(e),
    }
}

fn mark(dir: &Path) -> std::io::Result<()> {
    let tmp = dir.join("FORMAT.tmp");
    let mut f = std::fs::File::create(&tmp)?;
    writeln!(f, "{CURRENT}")?;
    f.sync_data()?;
    std::fs::rename(&tmp, dir.join(FORMAT_FILE))?;
    std::fs::File::open(dir)?.sync_all()
}

fn refused(dir: &Path, what: &str) -> Error {
    Error::new(
        ErrorKind::InvalidData,
        format!(
            "{} was written in {what}, which this build ({CURRENT}) cannot read; nothing was changed. \
             Start this build with an empty --data-dir (and upload the content again), or keep \
             running the build that wrote it",
            dir.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_directory_is_marked_and_then_accepted() {
        let dir = tempfile::tempdir().unwrap();
        check_or_mark(dir.path(), false).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(FORMAT_FILE))
                .unwrap()
                .trim(),
            CURRENT
        );
        check_or_mark(dir.path(), true).unwrap();
    }

    #[test]
    fn data_without_a_marker_or_with_another_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = check_or_mark(dir.path(), true).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert!(err.to_string().contains("empty --data-dir"), "{err}");
        assert!(!dir.path().join(FORMAT_FILE).exists(), "nothing is written");

        std::fs::write(dir.path().join(FORMAT_FILE), "isnode-raft 1\n").unwrap();
        let err = check_or_mark(dir.path(), true).unwrap_err();
        assert!(err.to_string().contains("\"isnode-raft 1\""), "{err}");
    }
}
