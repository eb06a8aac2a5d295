//! SyncPacks: versioned wheels that bundle steps, applications and
//! configurations (DESIGN 4.2). This module owns the replicated record of a
//! pack — its uploaded versions, which one is activated and the content that
//! activation registered, and each node's install state — and the rules on
//! `meta.json` and on pack names. Reading wheels is `syncpack::wheel`'s.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ModelError;

/// The pack shipped inside every node; it has no wheel and is part of the
/// platform environment.
pub const BASE_PACK: &str = "base_steps_syncpack";

/// A pack and every version uploaded of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncPack {
    pub name: String,
    /// By version text.
    pub versions: BTreeMap<String, PackVersion>,
    /// The activated version and what its activation registered.
    pub active: Option<Activation>,
}

/// What an activation registered: the content the pack owns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activation {
    pub version: String,
    pub steps: Vec<String>,
    pub applications: Vec<String>,
    pub configurations: Vec<String>,
}

/// One uploaded version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackVersion {
    pub meta: PackMeta,
    /// None for the Base Steps pack, which ships in the binary.
    pub wheel: Option<WheelRef>,
    pub uploaded_ms: u64,
    /// An install was asked for: every node builds the environment.
    pub install_wanted: bool,
    /// Each node's install, by node id.
    pub installs: BTreeMap<u64, InstallState>,
}

/// Where the wheel's bytes are: blobs named by their SHA-256, in chunks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WheelRef {
    pub file_name: String,
    pub sha256: String,
    pub size: u64,
    pub chunks: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InstallPhase {
    Installing,
    Installed,
    Failed,
}

impl InstallPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            InstallPhase::Installing => "installing",
            InstallPhase::Installed => "installed",
            InstallPhase::Failed => "failed",
        }
    }
}

/// A node's install of one version, as the node reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallState {
    pub phase: InstallPhase,
    /// What it is doing now ("installing dependencies", ...).
    pub progress: String,
    /// The installer's output (its tail when long).
    pub log: String,
    pub updated_ms: u64,
}

/// The fields of `meta.json` the system reads, and the whole document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackMeta {
    pub name: String,
    pub version: String,
    pub summary: String,
    pub description: String,
    pub author: String,
    pub requires_dist: Vec<String>,
    /// The document as uploaded.
    #[serde(with = "super::json_text")]
    pub doc: Value,
}

/// The longest `meta.json` text accepted.
pub const MAX_META_BYTES: usize = 1 << 20;

impl PackMeta {
    /// Reads `meta.json`: an object with a `name` that is a Python package
    /// name and a `version`; `requires_dist` a list of requirement strings.
    pub fn parse(text: &[u8]) -> Result<PackMeta, ModelError> {
        let what = "meta.json".to_string();
        if text.len() > MAX_META_BYTES {
            return Err(ModelError::invalid(
                what,
                vec![format!("it is larger than {MAX_META_BYTES} bytes")],
            ));
        }
        let doc: Value = serde_json::from_slice(text)
            .map_err(|e| ModelError::invalid(what.clone(), vec![format!("it is not valid JSON: {e}")]))?;
        let Some(obj) = doc.as_object() else {
            return Err(ModelError::invalid(
                what,
                vec!["it must be a JSON object".to_string()],
            ));
        };
        let mut problems = Vec::new();
        let text_of = |key: &str, problems: &mut Vec<String>, required: bool| match obj.get(key) {
            Some(Value::String(s)) => s.clone(),
            None | Some(Value::Null) if !required => String::new(),
            _ => {
                problems.push(format!(
                    "\"{key}\" must be a string{}",
                    if required { " (required)" } else { "" }
                ));
                String::new()
            }
        };
        let name = text_of("name", &mut problems, true);
        let version = text_of("version", &mut problems, true);
        let summary = text_of("summary", &mut problems, false);
        let description = text_of("description", &mut problems, false);
        let author = text_of("author", &mut problems, false);
        if !name.is_empty() && !is_package_name(&name) {
            problems.push(format!(
                "\"name\" must be a Python package name (letters, digits, underscore), got {name:?}"
            ));
        }
        if !version.is_empty() && !is_version(&version) {
            problems.push(format!(
                "\"version\" must be a version such as 1.0.2 (letters, digits, '.', '+', '_', '!'), got {version:?}"
            ));
        }
        let requires_dist = match obj.get("requires_dist") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| match v.as_str() {
                    Some(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                    _ => {
                        problems.push(format!("\"requires_dist\" holds {v}, not a requirement string"));
                        None
                    }
                })
                .collect(),
            Some(_) => {
                problems.push("\"requires_dist\" must be a list of requirement strings".into());
                Vec::new()
            }
        };
        for key in ["schedules", "tags", "critical"] {
            if obj.get(key).is_some_and(|v| !v.is_array() && !v.is_null()) {
                problems.push(format!("\"{key}\" must be a list"));
            }
        }
        if !problems.is_empty() {
            return Err(ModelError::invalid(what, problems));
        }
        Ok(PackMeta {
            name,
            version,
            summary,
            description,
            author,
            requires_dist,
            doc,
        })
    }

    /// The names this pack requires, normalised (see [`requirement_name`]).
    pub fn required_names(&self) -> impl Iterator<Item = String> + '_ {
        self.requires_dist.iter().filter_map(|r| requirement_name(r))
    }
}

/// A Python package name as packs use them: an identifier.
pub fn is_package_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 100
}

/// A version as wheel file names allow it (PEP 440 characters).
pub fn is_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '_' | '!'))
}

/// The project a requirement string names, normalised the way package
/// indexes compare names (lower case, runs of `-`, `_`, `.` as `_`):
/// `"Test-SyncPack>=1.0; python_version>'3'"` → `test_syncpack`.
pub fn requirement_name(req: &str) -> Option<String> {
    let end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(req.len());
    let name = req[..end].trim();
    (!name.is_empty()).then(|| normalise(name))
}

/// A package name as indexes compare them.
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('_');
        }
        sep = false;
        out.push(c.to_ascii_lowercase());
    }
    out
}

impl SyncPack {
    /// The version `asked` names, or when none is named the activated one,
    /// else the newest uploaded.
    pub fn version_of<'a>(&'a self, asked: Option<&'a str>) -> Option<(&'a str, &'a PackVersion)> {
        match asked {
            Some(v) => self.versions.get_key_value(v).map(|(k, v)| (k.as_str(), v)),
            None => self
                .active
                .as_ref()
                .and_then(|a| self.versions.get_key_value(&a.version))
                .or_else(|| self.versions.iter().max_by_key(|(_, v)| v.uploaded_ms))
                .map(|(k, v)| (k.as_str(), v)),
        }
    }

    pub fn is_active(&self, version: &str) -> bool {
        self.active.as_ref().is_some_and(|a| a.version == version)
    }
}

impl PackVersion {
    /// Installed on every node in `nodes` (the Base Steps pack always is).
    pub fn installed_on_all(&self, nodes: impl IntoIterator<Item = u64>) -> bool {
        self.wheel.is_none()
            || nodes.into_iter().all(|n| {
                self.installs
                    .get(&n)
                    .is_some_and(|s| s.phase == InstallPhase::Installed)
            })
    }
}

/// Which kind of content an owner check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Step,
    Application,
    Configuration,
}

impl ContentKind {
    pub fn noun(self) -> &'static str {
        match self {
            ContentKind::Step => "step",
            ContentKind::Application => "application",
            ContentKind::Configuration => "configuration",
        }
    }

    pub fn names(self, a: &Activation) -> &[String] {
        match self {
            ContentKind::Step => &a.steps,
            ContentKind::Application => &a.applications,
            ContentKind::Configuration => &a.configurations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_json_of_the_example_pack_parses() {
        let meta = PackMeta::parse(
            br#"{"name": "test_syncpack", "version": "0.0.1", "summary": "S",
                 "requires_dist": ["requests>=2", "Other-Pack"], "schedules": []}"#,
        )
        .unwrap();
        assert_eq!(meta.name, "test_syncpack");
        assert_eq!(meta.version, "0.0.1");
        assert_eq!(
            meta.required_names().collect::<Vec<_>>(),
            ["requests", "other_pack"]
        );
    }

    #[test]
    fn bad_meta_json_lists_every_problem() {
        let err = PackMeta::parse(br#"{"name": "../evil", "requires_dist": "x", "schedules": 3}"#)
            .unwrap_err()
            .to_string();
        for part in [
            "\"name\" must be a Python package name",
            "\"version\"",
            "requires_dist",
            "schedules",
        ] {
            assert!(err.contains(part), "{part} missing from {err}");
        }
        assert!(PackMeta::parse(b"[1]")
            .unwrap_err()
            .to_string()
            .contains("object"));
        assert!(PackMeta::parse(b"{")
            .unwrap_err()
            .to_string()
            .contains("not valid JSON"));
    }

    #[test]
    fn requirement_names_normalise_like_indexes() {
        assert_eq!(requirement_name("Jinja2 (>=2.10)").as_deref(), Some("jinja2"));
        assert_eq!(
            requirement_name("my.pack-name>=1; python_version>'3'").as_deref(),
            Some("my_pack_name")
        );
        assert_eq!(requirement_name("   "), None);
    }
}
