//! The layer rule, checked: every module of the crate may use only the
//! modules its layer allows (see the crate documentation and
//! ARCHITECTURE.md, which must state the same order). The test reads the
//! sources and fails on any `crate::` path that points the wrong way.

use std::collections::BTreeMap;
use std::path::Path;

/// The layers in order; each may use those before it.
const LAYERS: &[&str] = &[
    "util", "model", "engine", "store", "raft", "actors", "api", "node",
];

/// Modules beside the layers, with what they may use; the layers that use
/// them say so in [`users`].
const BESIDE: &[(&str, &[&str])] = &[
    ("crypto", &["util"]),
    ("python", &["util", "crypto"]),
    ("config", &["util"]),
    ("syncpack", &["util", "model"]),
];

/// Which modules beside the layers each layer may use.
fn users(layer: &str) -> &'static [&'static str] {
    match layer {
        "actors" | "api" | "node" => &["crypto", "python", "config", "syncpack"],
        _ => &[],
    }
}

/// The layer line as the documentation writes it.
fn layer_line() -> String {
    LAYERS
        .iter()
        .map(|l| format!("`{l}`"))
        .collect::<Vec<_>>()
        .join(" → ")
}

fn allowed() -> BTreeMap<&'static str, Vec<&'static str>> {
    let mut allowed = BTreeMap::new();
    for (i, layer) in LAYERS.iter().enumerate() {
        let mut may: Vec<&str> = LAYERS[..i].to_vec();
        may.extend(
            users(layer)
                .iter()
                .filter(|m| **m != "config" || *layer == "node"),
        );
        allowed.insert(*layer, may);
    }
    for (module, may) in BESIDE {
        allowed.insert(*module, may.to_vec());
    }
    allowed
}

/// Every `crate::<module>` a source file names outside comments.
fn crate_paths(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `use crate::{a, b}` names several.
            if name.is_empty() && after.starts_with('{') {
                let group = &after[1..after.find('}').unwrap_or(after.len())];
                for part in group.split(',') {
                    let part = part.trim();
                    let name: String = part
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        found.push(name);
                    }
                }
            } else if !name.is_empty() {
                found.push(name);
            }
            rest = after;
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("read the source directory")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_uses_only_what_its_layer_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let allowed = allowed();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).expect("under src");
        let first = rel
            .components()
            .next()
            .expect("a path")
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if ["lib", "main", "layers"].contains(&module.as_str()) {
            continue;
        }
        let Some(may) = allowed.get(module.as_str()) else {
            wrong.push(format!(
                "{}: module {module} is in no layer (add it to layers.rs)",
                rel.display()
            ));
            continue;
        };
        let source = std::fs::read_to_string(&file).expect("read a source file");
        for used in crate_paths(&source) {
            if used != module && !may.contains(&used.as_str()) {
                wrong.push(format!("{}: {module} must not use crate::{used}", rel.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layer order:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_crate_docs_and_architecture_state_the_same_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let line = layer_line();
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).expect("read lib.rs");
    assert!(lib.contains(&line), "src/lib.rs must state the layers as {line}");
    let arch = std::fs::read_to_string(root.join("../ARCHITECTURE.md")).expect("read ARCHITECTURE.md");
    assert!(
        arch.contains(&line),
        "ARCHITECTURE.md must state the layers as {line}"
    );
}

#[test]
fn the_scanner_finds_grouped_and_inline_paths() {
    let found = crate_paths("use crate::{model::X, store};\nlet a = crate::raft::now(); // crate::api\n");
    assert_eq!(found, vec!["model", "store", "raft"]);
}
