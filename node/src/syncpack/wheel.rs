//! Reading an uploaded wheel safely. A wheel is a zip file, which can be
//! made to escape the directory it is unpacked into, to hold symlinks, or to
//! expand a few kilobytes into gigabytes; each is refused here, before
//! anything is stored, with a [`WheelError`] naming the problem. What a valid
//! pack holds — `meta.json`, steps, applications, configurations — is read
//! out for activation.

use std::fs::File;
use std::io::{Read, Seek};
use std::path::Path;

use crate::model::syncpack::{is_version, normalise, PackMeta};

/// More entries than any pack needs.
pub const MAX_ENTRIES: usize = 20_000;
/// An entry this much larger than its compressed form is a zip bomb
/// (source text compresses 3–10×; a bomb by thousands).
const MAX_RATIO: u64 = 200;
/// Below this size no ratio is suspicious.
const RATIO_FREE_BYTES: u64 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum WheelError {
    #[error("the file name {0:?} is not a wheel's (NAME-VERSION-py3-none-any.whl)")]
    FileName(String),
    #[error("the wheel is not a readable zip file: {0}")]
    NotZip(String),
    #[error("the wheel is refused: {0}")]
    Refused(String),
    #[error("the wheel's meta.json is invalid: {0}")]
    Meta(String),
    #[error("cannot read the wheel: {0}")]
    Io(#[from] std::io::Error),
}

/// The name and version a wheel's file name states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelName {
    pub name: String,
    pub version: String,
}

/// `NAME-VERSION(-BUILD)?-PY-ABI-PLATFORM.whl`; the name normalised (wheel
/// tools may write it in lower case).
pub fn parse_file_name(file_name: &str) -> Result<WheelName, WheelError> {
    let bad = || WheelError::FileName(file_name.to_string());
    if file_name.contains(['/', '\\', '\0']) {
        return Err(bad());
    }
    let stem = file_name.strip_suffix(".whl").ok_or_else(bad)?;
    let parts: Vec<&str> = stem.split('-').collect();
    if !(5..=6).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
        return Err(bad());
    }
    if !is_version(parts[1]) {
        return Err(bad());
    }
    Ok(WheelName {
        name: normalise(parts[0]),
        version: parts[1].to_string(),
    })
}

/// What a valid pack wheel holds.
#[derive(Debug, Clone)]
pub struct PackContents {
    pub meta: PackMeta,
    /// (class name, source) of `steps/*.py`.
    pub steps: Vec<(String, String)>,
    /// (file stem, JSON text) of `apps/*.json`.
    pub applications: Vec<(String, String)>,
    /// (file stem, JSON text) of `configs/*.json`.
    pub configurations: Vec<(String, String)>,
    /// Total size unpacked.
    pub unpacked_bytes: u64,
}

/// Checks a wheel file and reads what the pack holds. `expected` is the
/// name and version the upload's file name states; `meta.json` must agree.
pub fn inspect(path: &Path, expected: &WheelName, max_unpacked: u64) -> Result<PackContents, WheelError> {
    let mut zip = zip::ZipArchive::new(File::open(path)?).map_err(|e| WheelError::NotZip(e.to_string()))?;
    if zip.len() > MAX_ENTRIES {
        return Err(WheelError::Refused(format!(
            "it holds {} entries; at most {MAX_ENTRIES} are accepted",
            zip.len()
        )));
    }
    // The package directory is spelled as meta.json's name (imports are
    // case-sensitive); the file name may carry it normalised.
    let mut package: Option<String> = None;
    let mut unpacked = 0u64;
    let mut meta_text = None;
    let mut steps = Vec::new();
    let mut applications = Vec::new();
    let mut configurations = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| WheelError::NotZip(format!("entry {i}: {e}")))?;
        let name = entry
            .name()
            .map_err(|e| WheelError::Refused(format!("entry {i} has an unreadable name: {e}")))?
            .into_owned();
        check_entry_name(&name, expected)?;
        if entry.is_symlink() {
            return Err(WheelError::Refused(format!("{name:?} is a symbolic link")));
        }
        if entry.encrypted() {
            return Err(WheelError::Refused(format!("{name:?} is encrypted")));
        }
        let size = entry.size();
        unpacked = unpacked.saturating_add(size);
        if unpacked > max_unpacked {
            return Err(WheelError::Refused(format!(
                "it unpacks to more than {max_unpacked} bytes (a zip bomb?)"
            )));
        }
        if size > RATIO_FREE_BYTES && size / entry.compressed_size().max(1) > MAX_RATIO {
            return Err(WheelError::Refused(format!(
                "{name:?} expands {size} bytes from {} (more than {MAX_RATIO}×: a zip bomb?)",
                entry.compressed_size()
            )));
        }
        let top = name.split('/').next().unwrap_or("");
        if normalise(top) != expected.name || !name.contains('/') {
            continue;
        }
        match &package {
            None => package = Some(top.to_string()),
            Some(p) if p != top => {
                return Err(WheelError::Refused(format!(
                    "it holds two package directories for one pack: {p:?} and {top:?}"
                )))
            }
            Some(_) => {}
        }
        let inner = &name[top.len() + 1..];
        let wanted = inner == "meta.json"
            || one_file_in(inner, "steps/", ".py").is_some()
            || one_file_in(inner, "apps/", ".json").is_some()
            || one_file_in(inner, "configs/", ".json").is_some();
        if !wanted {
            continue;
        }
        let text = read_text(&mut entry, size, &name)?;
        if inner == "meta.json" {
            meta_text = Some(text);
        } else if let Some(stem) = one_file_in(inner, "steps/", ".py") {
            if stem != "__init__" {
                steps.push((stem.to_string(), text));
            }
        } else if let Some(stem) = one_file_in(inner, "apps/", ".json") {
            applications.push((stem.to_string(), text));
        } else if let Some(stem) = one_file_in(inner, "configs/", ".json") {
            configurations.push((stem.to_string(), text));
        }
    }
    let package = package.unwrap_or_else(|| expected.name.clone());
    let text = meta_text.ok_or_else(|| {
        WheelError::Meta(format!(
            "the wheel has no {package}/meta.json; a SyncPack's package holds meta.json next to steps/, apps/ and configs/"
        ))
    })?;
    let meta = PackMeta::parse(text.as_bytes()).map_err(|e| WheelError::Meta(e.to_string()))?;
    if meta.name != package || meta.version != expected.version {
        return Err(WheelError::Meta(format!(
            "it names {} {}, but the wheel file is {} {}",
            meta.name, meta.version, expected.name, expected.version
        )));
    }
    Ok(PackContents {
        meta,
        steps,
        applications,
        configurations,
        unpacked_bytes: unpacked,
    })
}

/// `steps/Name.py` → `Name` (one level only).
fn one_file_in<'a>(path: &'a str, dir: &str, ext: &str) -> Option<&'a str> {
    let stem = path.strip_prefix(dir)?.strip_suffix(ext)?;
    (!stem.is_empty() && !stem.contains('/')).then_some(stem)
}

/// An entry must stay inside the pack's package or its metadata directory.
fn check_entry_name(name: &str, expected: &WheelName) -> Result<(), WheelError> {
    let refuse = |why: &str| Err(WheelError::Refused(format!("entry {name:?} {why}")));
    if name.is_empty() || name.starts_with('/') || name.contains('\\') || name.contains('\0') {
        return refuse("has an absolute or malformed path");
    }
    if name.split('/').any(|part| part == ".." || part == ".") {
        return refuse("escapes the package (\"..\" in its path)");
    }
    let top = name.split('/').next().unwrap_or("");
    let is_meta_dir = top
        .strip_suffix(".dist-info")
        .or_else(|| top.strip_suffix(".data"))
        .and_then(|d| d.rsplit_once('-'))
        .is_some_and(|(n, v)| normalise(n) == expected.name && v == expected.version);
    if normalise(top) != expected.name && !is_meta_dir {
        return refuse(&format!(
            "is outside the package {:?} and its .dist-info directory",
            expected.name
        ));
    }
    Ok(())
}

/// An entry's text, read no further than its stated size (a zip can lie
/// about it).
fn read_text(entry: &mut impl Read, size: u64, name: &str) -> Result<String, WheelError> {
    let mut bytes = Vec::with_capacity(size.min(1 << 20) as usize);
    entry.take(size.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > size {
        return Err(WheelError::Refused(format!(
            "{name:?} is larger than its stated size"
        )));
    }
    String::from_utf8(bytes).map_err(|_| WheelError::Refused(format!("{name:?} is not UTF-8 text")))
}

/// Unpacks a wheel that passed [`inspect`] into `dir` (which must not
/// exist yet) — the installer uses this for the pack's own files when pip
/// is not wanted. Checks entries again: the file on disk may be another.
pub fn unpack(wheel: &Path, expected: &WheelName, dir: &Path, max_unpacked: u64) -> Result<(), WheelError> {
    let mut zip = zip::ZipArchive::new(File::open(wheel)?).map_err(|e| WheelError::NotZip(e.to_string()))?;
    let mut unpacked = 0u64;
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| WheelError::NotZip(format!("entry {i}: {e}")))?;
        let name = entry
            .name()
            .map_err(|e| WheelError::Refused(format!("entry {i} has an unreadable name: {e}")))?
            .into_owned();
        check_entry_name(&name, expected)?;
        if entry.is_symlink() {
            return Err(WheelError::Refused(format!("{name:?} is a symbolic link")));
        }
        unpacked = unpacked.saturating_add(entry.size());
        if unpacked > max_unpacked {
            return Err(WheelError::Refused(format!(
                "it unpacks to more than {max_unpacked} bytes"
            )));
        }
        let target = dir.join(&name);
        if entry.is_dir() {
            std::fs::create_dir_all(&target)?;
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let size = entry.size();
        let mut out = File::create(&target)?;
        let copied = std::io::copy(&mut (&mut entry).take(size.saturating_add(1)), &mut out)?;
        if copied > size {
            return Err(WheelError::Refused(format!(
                "{name:?} is larger than its stated size"
            )));
        }
    }
    Ok(())
}

/// The SHA-256 of a file, hex, read in pieces.
pub fn sha256_of(file: &mut (impl Read + Seek)) -> std::io::Result<String> {
    use sha2::Digest;
    file.rewind()?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    file.rewind()?;
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn wheel_with(entries: &[(&str, &[u8])], symlink: Option<&str>) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut zip = zip::ZipWriter::new(file.reopen().unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        for (name, bytes) in entries {
            zip.start_file(*name, opts).unwrap();
            zip.write_all(bytes).unwrap();
        }
        if let Some(link) = symlink {
            zip.add_symlink(link, "/etc/passwd", opts).unwrap();
        }
        zip.finish().unwrap();
        file
    }

    const META: &[u8] = br#"{"name": "p", "version": "1.0"}"#;

    fn expected() -> WheelName {
        parse_file_name("p-1.0-py3-none-any.whl").unwrap()
    }

    #[test]
    fn a_valid_pack_lists_its_content() {
        let w = wheel_with(
            &[
                ("p/meta.json", META),
                ("p/steps/__init__.py", b""),
                ("p/steps/A.py", b"class A: pass"),
                ("p/apps/app.json", b"{}"),
                ("p/configs/c.json", b"{}"),
                ("p/util/x.py", b""),
                ("p-1.0.dist-info/METADATA", b""),
            ],
            None,
        );
        let c = inspect(w.path(), &expected(), 1 << 30).unwrap();
        assert_eq!(c.meta.name, "p");
        assert_eq!(c.steps, vec![("A".to_string(), "class A: pass".to_string())]);
        assert_eq!(c.applications.len(), 1);
        assert_eq!(c.configurations.len(), 1);
    }

    #[test]
    fn escaping_paths_symlinks_bombs_and_bad_meta_are_refused() {
        let cases: Vec<(tempfile::NamedTempFile, &str)> = vec![
            (
                wheel_with(&[("p/meta.json", META), ("p/../evil.py", b"")], None),
                "escapes",
            ),
            (
                wheel_with(&[("p/meta.json", META), ("/etc/x", b"")], None),
                "absolute",
            ),
            (
                wheel_with(&[("p/meta.json", META), ("other/x.py", b"")], None),
                "outside the package",
            ),
            (
                wheel_with(&[("p/meta.json", META)], Some("p/link")),
                "symbolic link",
            ),
            (wheel_with(&[("p/steps/A.py", b"")], None), "no p/meta.json"),
            (
                wheel_with(
                    &[("p/meta.json", b"{\"name\": \"p\", \"version\": \"2.0\"}")],
                    None,
                ),
                "names p 2.0",
            ),
            (
                wheel_with(&[("p/meta.json", b"not json")], None),
                "not valid JSON",
            ),
            (
                wheel_with(
                    &[("p/meta.json", META), ("p/zeros.bin", &vec![0u8; 8 << 20])],
                    None,
                ),
                "zip bomb",
            ),
        ];
        for (w, why) in cases {
            let err = inspect(w.path(), &expected(), 1 << 30).unwrap_err().to_string();
            assert!(err.contains(why), "expected {why:?} in {err:?}");
        }
        let not_zip = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(not_zip.path(), b"hello").unwrap();
        assert!(matches!(
            inspect(not_zip.path(), &expected(), 1 << 30),
            Err(WheelError::NotZip(_))
        ));
    }

    #[test]
    fn wheel_file_names() {
        assert_eq!(
            parse_file_name("Test_SyncPack-0.0.1-py3-none-any.whl").unwrap(),
            WheelName {
                name: "test_syncpack".into(),
                version: "0.0.1".into()
            }
        );
        for bad in [
            "x.zip",
            "p-1.0.whl",
            "../p-1.0-py3-none-any.whl",
            "p--py3-none-any.whl",
        ] {
            assert!(parse_file_name(bad).is_err(), "{bad}");
        }
    }
}
