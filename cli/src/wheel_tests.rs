//! Tests of `wheel`.

use std::io::Read;

use super::*;
use crate::scratch::Scratch;

/// The example pack the repository ships (the same as the design's).
fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/examples/syncpacks/test_syncpack")
}

/// Every entry of a wheel, in archive order: (name, contents).
fn entries(wheel: &Wheel) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(wheel.bytes.clone())).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).unwrap();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            (entry.name().unwrap().into_owned(), data)
        })
        .collect()
}

fn names(wheel: &Wheel) -> Vec<String> {
    entries(wheel).into_iter().map(|(name, _)| name).collect()
}

fn text_of(wheel: &Wheel, name: &str) -> String {
    let (_, data) = entries(wheel)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} in the wheel"));
    String::from_utf8(data).unwrap()
}

#[test]
fn the_example_pack_builds_into_its_package_and_dist_info() {
    let wheel = build(&example(), false).unwrap();
    assert_eq!(wheel.file_name, "test_syncpack-0.0.1-py3-none-any.whl");
    assert_eq!(wheel.files, 9);
    assert_eq!(
        names(&wheel),
        [
            "test_syncpack/__init__.py",
            "test_syncpack/apps/dummy_app.json",
            "test_syncpack/configs/dummy_config.json",
            "test_syncpack/meta.json",
            "test_syncpack/steps/EchoGreeting.py",
            "test_syncpack/steps/MakeGreeting.py",
            "test_syncpack/steps/__init__.py",
            "test_syncpack/util/__init__.py",
            "test_syncpack/util/text.py",
            "test_syncpack-0.0.1.dist-info/METADATA",
            "test_syncpack-0.0.1.dist-info/WHEEL",
            "test_syncpack-0.0.1.dist-info/RECORD",
        ]
    );
    // The files go in as they are on disk.
    let on_disk = std::fs::read(example().join("test_syncpack/steps/MakeGreeting.py")).unwrap();
    let (_, in_wheel) = entries(&wheel)
        .into_iter()
        .find(|(n, _)| n == "test_syncpack/steps/MakeGreeting.py")
        .unwrap();
    assert_eq!(in_wheel, on_disk);
    assert_eq!(
        text_of(&wheel, "test_syncpack-0.0.1.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: test_syncpack\nVersion: 0.0.1\nSummary: Testing Syncpack\n"
    );
    assert_eq!(
        text_of(&wheel, "test_syncpack-0.0.1.dist-info/WHEEL"),
        format!(
            "Wheel-Version: 1.0\nGenerator: iscli {}\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    // The same sources give the same bytes.
    assert_eq!(build(&example(), false).unwrap().bytes, wheel.bytes);
}

#[test]
fn record_lists_every_entry_with_its_hash_and_size() {
    let wheel = build(&example(), false).unwrap();
    let record_name = "test_syncpack-0.0.1.dist-info/RECORD";
    let record = text_of(&wheel, record_name);
    let lines: Vec<&str> = record.lines().collect();
    let all = entries(&wheel);
    assert_eq!(lines.len(), all.len(), "{record}");
    for ((name, data), line) in all.iter().zip(&lines) {
        if name == record_name {
            assert_eq!(*line, format!("{record_name},,"));
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 3, "{line}");
        assert_eq!(fields[0], name);
        let hash = fields[1].strip_prefix("sha256=").unwrap();
        let digest = URL_SAFE_NO_PAD.decode(hash).unwrap();
        assert_eq!(digest, Sha256::digest(data).to_vec(), "{name}");
        assert!(!hash.contains('='), "no padding: {hash}");
        assert_eq!(fields[2], data.len().to_string(), "{name}");
    }
    assert_eq!(record_line("a,b\".py", None), "\"a,b\"\".py\",,\n");
}

#[test]
fn caches_compiled_files_and_hidden_entries_are_left_out() {
    let s = Scratch::new("wheel-skip");
    let src = s.copy_tree(&example(), "src");
    for junk in [
        "src/test_syncpack/__pycache__/__init__.cpython-311.pyc",
        "src/test_syncpack/steps/__pycache__/MakeGreeting.cpython-311.pyc",
        "src/test_syncpack/util/stale.pyc",
        "src/test_syncpack/.hidden.py",
        "src/test_syncpack/.git/config",
        "src/.cache/test_syncpack/meta.json",
    ] {
        s.touch(junk);
    }
    let wheel = build(&src, false).unwrap();
    assert_eq!(wheel.files, 9);
    let names = names(&wheel);
    assert!(
        names
            .iter()
            .all(|n| !n.contains("__pycache__") && !n.ends_with(".pyc") && !n.contains("/.")),
        "{names:?}"
    );
    assert_eq!(wheel.bytes, build(&example(), false).unwrap().bytes);
}

#[test]
fn requirements_become_requires_dist_lines() {
    let meta = PackMeta {
        name: "p".into(),
        version: "1.0".into(),
        summary: "S".into(),
        requires_dist: vec!["requests>=2".into(), "base_steps_syncpack".into()],
    };
    assert_eq!(
        metadata(&meta),
        "Metadata-Version: 2.1\nName: p\nVersion: 1.0\nSummary: S\n\
         Requires-Dist: requests>=2\nRequires-Dist: base_steps_syncpack\n"
    );
}

#[test]
fn a_missing_meta_json_is_named() {
    let s = Scratch::new("wheel-nometa");
    s.touch("setup.py");
    s.touch("pack/__init__.py");
    let err = build(&s.0, false).unwrap_err().render();
    let expected = s.0.join("pack").join("meta.json");
    assert!(
        err.contains(&format!("cannot read {}", expected.display())),
        "{err}"
    );
    // Not even a package: the source directory is named.
    std::fs::remove_file(s.0.join("pack/__init__.py")).unwrap();
    let err = build(&s.0, false).unwrap_err().render();
    assert!(
        err.contains(&format!(
            "no package directory holding meta.json in {}",
            s.0.display()
        )),
        "{err}"
    );
}

#[test]
fn invalid_meta_json_is_refused_naming_the_file() {
    let s = Scratch::new("wheel-badmeta");
    s.touch("setup.py");
    let meta_path = s.0.join("pack").join("meta.json");
    for (meta, why) in [
        (r#"{"name": "pack""#, "is not valid JSON"),
        (r#"["pack"]"#, "JSON object"),
        (r#"{"version": "1.0"}"#, "\"name\" is missing"),
        (r#"{"name": "my-pack", "version": "1.0"}"#, "Python identifier"),
        (r#"{"name": "2pack", "version": "1.0"}"#, "Python identifier"),
        (r#"{"name": "pack"}"#, "\"version\" is missing"),
        (
            r#"{"name": "pack", "version": "1.0-beta"}"#,
            "\"version\" must be",
        ),
        (r#"{"name": "pack", "version": 1}"#, "non-empty string"),
        (
            r#"{"name": "pack", "version": "1", "summary": []}"#,
            "\"summary\"",
        ),
        (
            r#"{"name": "pack", "version": "1", "requires_dist": "x"}"#,
            "list",
        ),
        (
            r#"{"name": "pack", "version": "1", "requires_dist": [3]}"#,
            "requirement",
        ),
    ] {
        s.write("pack/meta.json", meta.as_bytes());
        let err = build(&s.0, false).unwrap_err().render();
        assert!(err.contains(&meta_path.display().to_string()), "{meta}: {err}");
        assert!(err.contains(why), "{meta}: expected {why:?} in {err}");
    }
    // A summary over several lines is one METADATA line.
    s.write(
        "pack/meta.json",
        br#"{"name": "pack", "version": "1", "summary": "two\n  lines", "requires_dist": null}"#,
    );
    let meta = read_meta(&meta_path).unwrap();
    assert_eq!(meta.summary, "two lines");
    assert!(meta.requires_dist.is_empty());
}

#[test]
fn the_directory_must_carry_the_packs_name() {
    let s = Scratch::new("wheel-dirname");
    s.write("other/meta.json", br#"{"name": "pack", "version": "1"}"#);
    let err = build(&s.0, false).unwrap_err().render();
    assert!(
        err.contains("names the pack \"pack\" but its directory is \"other\""),
        "{err}"
    );
    s.write("pack/meta.json", br#"{"name": "pack", "version": "1"}"#);
    let err = build(&s.0, false).unwrap_err().render();
    assert!(err.contains("several package directories"), "{err}");
}

#[cfg(unix)]
#[test]
fn symbolic_links_are_refused() {
    let s = Scratch::new("wheel-link");
    let src = s.copy_tree(&example(), "src");
    let link = src.join("test_syncpack/util/linked.py");
    std::os::unix::fs::symlink(src.join("setup.py"), &link).unwrap();
    let err = build(&src, false).unwrap_err().render();
    assert!(
        err.contains(&format!("{} is a symbolic link", link.display())),
        "{err}"
    );
    // A hidden link is skipped like any hidden entry.
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("/etc", src.join("test_syncpack/.venv")).unwrap();
    assert_eq!(build(&src, false).unwrap().files, 9);
}
