//! Applying the SyncPack commands: uploaded versions, activation (the
//! content a pack owns, replaced in one entry), installs per node, and the
//! wheel blobs they refer to. Ownership is read from the packs' activations
//! ([`Content::owner_of`]), so there is no second record of it to keep in
//! step.
//!
//! **Invariant:** a name of content belongs to at most one activated pack,
//! and content a pack owns is replaced or removed only through that pack's
//! activation or deletion (or with `force`). Checked by this file's tests.

use super::command::Refusal;
use super::content::{DocKey, StoreOp};
use super::{Command, CommandResult, Content};
use crate::model::application::Application;
use crate::model::configuration::Configuration;
use crate::model::step::StepRecord;
use crate::model::syncpack::{Activation, ContentKind, InstallState, PackVersion, SyncPack};

fn refused(why: Refusal, reason: String) -> CommandResult {
    CommandResult::Refused { reason, why }
}

/// What a pack's activation brings, typed.
pub struct Incoming {
    pub steps: Vec<StepRecord>,
    pub applications: Vec<Application>,
    pub configurations: Vec<Configuration>,
}

impl Content {
    /// The activated pack (name, version) owning `name` of `kind`.
    pub fn owner_of(&self, kind: ContentKind, name: &str) -> Option<(&str, &str)> {
        self.syncpacks.values().find_map(|p| {
            let a = p.active.as_ref()?;
            kind.names(a)
                .binary_search_by(|n| n.as_str().cmp(name))
                .ok()
                .map(|_| (p.name.as_str(), a.version.as_str()))
        })
    }

    /// Whether content `name` of `kind` exists at all.
    fn holds(&self, kind: ContentKind, name: &str) -> bool {
        match kind {
            ContentKind::Step => self.steps.contains_key(name),
            ContentKind::Application => self.applications.contains_key(name),
            ContentKind::Configuration => self.configurations.contains_key(name),
        }
    }

    fn remove_content(&mut self, kind: ContentKind, name: &str) {
        let (removed, key) = match kind {
            ContentKind::Step => (self.steps.remove(name).is_some(), DocKey::Step(name.into())),
            ContentKind::Application => (
                self.applications.remove(name).is_some(),
                DocKey::Application(name.into()),
            ),
            ContentKind::Configuration => (
                self.configurations.remove(name).is_some(),
                DocKey::Configuration(name.into()),
            ),
        };
        if removed {
            self.ops.push(StoreOp::Doc(key));
        }
    }

    /// Applies one of the SyncPack commands (not blob chunks).
    pub(super) fn apply_pack(&mut self, cmd: Command) -> CommandResult {
        match cmd {
            Command::PutSyncPack {
                name,
                version,
                replace,
            } => self.put_syncpack(name, version, replace),
            Command::DeleteSyncPack { name, version, force } => self.delete_syncpack(&name, version, force),
            Command::ActivateSyncPack {
                name,
                version,
                steps,
                applications,
                configurations,
                force,
            } => self.activate_syncpack(
                &name,
                &version,
                Incoming {
                    steps,
                    applications,
                    configurations,
                },
                force,
            ),
            Command::RequestPackInstall { name, version } => self.request_install(&name, &version),
            Command::PackInstallState {
                name,
                version,
                node,
                state,
            } => self.install_state(&name, &version, node, state),
            other => super::content::ignored(format!("not a SyncPack command: {other:?}")),
        }
    }

    pub(super) fn put_blob_chunk(&mut self, sha256: String, index: u32, bytes: Vec<u8>) -> CommandResult {
        self.pending_bytes += bytes.len() as u64;
        self.ops.push(StoreOp::Blob { sha256, index, bytes });
        CommandResult::Stored { replaced: false }
    }

    pub(super) fn put_syncpack(
        &mut self,
        name: String,
        mut version: PackVersion,
        replace: bool,
    ) -> CommandResult {
        let number = version.meta.version.clone();
        let pack = self.syncpacks.entry(name.clone()).or_insert_with(|| SyncPack {
            name: name.clone(),
            versions: Default::default(),
            active: None,
        });
        let old = pack.versions.get(&number);
        if old.is_some() && !replace {
            return refused(
                Refusal::Conflict,
                format!(
                    "SyncPack {name} {number} is already uploaded; upload with force (iscli -F, ?force=true) to replace it"
                ),
            );
        }
        // A replaced wheel must be installed again; the wish to have it
        // installed stays.
        version.install_wanted |= old.is_some_and(|o| o.install_wanted);
        let old_sha = old.and_then(|o| o.wheel.as_ref()).map(|w| w.sha256.clone());
        let replaced = pack.versions.insert(number, version).is_some();
        self.ops.push(StoreOp::Doc(DocKey::SyncPack(name)));
        if let Some(sha) = old_sha {
            self.forget_blob_if_unused(sha);
        }
        CommandResult::Stored { replaced }
    }

    fn forget_blob_if_unused(&mut self, sha256: String) {
        let used = self
            .syncpacks
            .values()
            .flat_map(|p| p.versions.values())
            .any(|v| v.wheel.as_ref().is_some_and(|w| w.sha256 == sha256));
        if !used {
            self.ops.push(StoreOp::DeleteBlob { sha256 });
        }
    }

    pub(super) fn delete_syncpack(
        &mut self,
        name: &str,
        version: Option<String>,
        force: bool,
    ) -> CommandResult {
        let Some(pack) = self.syncpacks.get(name) else {
            return refused(Refusal::NotFound, format!("no SyncPack named {name:?}"));
        };
        let doomed: Vec<String> = match version {
            Some(v) if pack.versions.contains_key(&v) => vec![v],
            Some(v) => {
                return refused(
                    Refusal::NotFound,
                    format!(
                        "SyncPack {name} has no version {v:?} (it has {})",
                        versions_of(pack)
                    ),
                )
            }
            None => pack.versions.keys().cloned().collect(),
        };
        let active = pack.active.clone().filter(|a| doomed.contains(&a.version));
        if let Some(a) = &active {
            if !force {
                return refused(
                    Refusal::Conflict,
                    format!(
                        "SyncPack {name} {} is activated; delete with force (iscli pack delete --force, ?force=true) to remove it and the content it registered",
                        a.version
                    ),
                );
            }
        }
        if let Some(a) = active {
            self.deactivate(name, &a);
        }
        let mut blobs = Vec::new();
        let pack = self.syncpacks.get_mut(name).expect("looked up above");
        for v in &doomed {
            if let Some(gone) = pack.versions.remove(v) {
                blobs.extend(gone.wheel.map(|w| w.sha256));
            }
        }
        if pack.versions.is_empty() {
            self.syncpacks.remove(name);
        }
        self.ops.push(StoreOp::Doc(DocKey::SyncPack(name.to_string())));
        for sha in blobs {
            self.forget_blob_if_unused(sha);
        }
        CommandResult::Deleted { existed: true }
    }

    /// Removes what `a` registered and marks the pack inactive.
    fn deactivate(&mut self, name: &str, a: &Activation) {
        for kind in [
            ContentKind::Step,
            ContentKind::Application,
            ContentKind::Configuration,
        ] {
            for item in kind.names(a) {
                self.remove_content(kind, item);
            }
        }
        self.delete_owned_schedules(name);
        if let Some(p) = self.syncpacks.get_mut(name) {
            p.active = None;
        }
    }

    pub(super) fn activate_syncpack(
        &mut self,
        name: &str,
        version: &str,
        incoming: Incoming,
        force: bool,
    ) -> CommandResult {
        let Some(pack) = self.syncpacks.get(name) else {
            return refused(
                Refusal::NotFound,
                format!("no SyncPack named {name:?}; upload it first"),
            );
        };
        if !pack.versions.contains_key(version) {
            return refused(
                Refusal::NotFound,
                format!(
                    "SyncPack {name} has no version {version:?} (it has {})",
                    versions_of(pack)
                ),
            );
        }
        let mut activation = Activation {
            version: version.to_string(),
            steps: incoming.steps.iter().map(|s| s.name.clone()).collect(),
            applications: incoming.applications.iter().map(|a| a.name.clone()).collect(),
            configurations: incoming.configurations.iter().map(|c| c.name.clone()).collect(),
        };
        for list in [
            &mut activation.steps,
            &mut activation.applications,
            &mut activation.configurations,
        ] {
            list.sort();
            list.dedup();
        }
        if !force {
            let mut conflicts = Vec::new();
            for kind in [
                ContentKind::Step,
                ContentKind::Application,
                ContentKind::Configuration,
            ] {
                for item in kind.names(&activation) {
                    match self.owner_of(kind, item) {
                        Some((owner, v)) if owner != name => conflicts.push(format!(
                            "{} {item:?} belongs to SyncPack {owner} {v}",
                            kind.noun()
                        )),
                        Some(_) => {}
                        None if self.holds(kind, item) => conflicts.push(format!(
                            "{} {item:?} exists and was not installed by a SyncPack",
                            kind.noun()
                        )),
                        None => {}
                    }
                }
            }
            if !conflicts.is_empty() {
                return refused(
                    Refusal::Conflict,
                    format!(
                        "cannot activate SyncPack {name} {version}: {}; names are unique across the cluster (activate with force to take them over)",
                        conflicts.join("; ")
                    ),
                );
            }
        }
        // Take the names over from any other pack (force), then drop what
        // this pack's previous activation registered.
        for kind in [
            ContentKind::Step,
            ContentKind::Application,
            ContentKind::Configuration,
        ] {
            for item in kind.names(&activation).to_vec() {
                let other = self
                    .owner_of(kind, &item)
                    .filter(|(owner, _)| *owner != name)
                    .map(|(owner, _)| owner.to_string());
                if let Some(owner) = other {
                    self.disown(&owner, kind, &item);
                }
            }
        }
        if let Some(previous) = self.syncpacks.get(name).and_then(|p| p.active.clone()) {
            self.deactivate(name, &previous);
        }
        for step in incoming.steps {
            self.ops.push(StoreOp::Doc(DocKey::Step(step.name.clone())));
            self.steps.insert(step.name.clone(), step);
        }
        for app in incoming.applications {
            self.ops.push(StoreOp::Doc(DocKey::Application(app.name.clone())));
            self.applications.insert(app.name.clone(), app);
        }
        for cfg in incoming.configurations {
            self.ops
                .push(StoreOp::Doc(DocKey::Configuration(cfg.name.clone())));
            self.configurations.insert(cfg.name.clone(), cfg);
        }
        let pack = self.syncpacks.get_mut(name).expect("looked up above");
        let replaced = pack.active.is_some();
        pack.active = Some(activation);
        self.ops.push(StoreOp::Doc(DocKey::SyncPack(name.to_string())));
        CommandResult::Stored { replaced }
    }

    /// Takes `item` out of pack `owner`'s activation (a forced takeover).
    fn disown(&mut self, owner: &str, kind: ContentKind, item: &str) {
        if let Some(a) = self.syncpacks.get_mut(owner).and_then(|p| p.active.as_mut()) {
            let list = match kind {
                ContentKind::Step => &mut a.steps,
                ContentKind::Application => &mut a.applications,
                ContentKind::Configuration => &mut a.configurations,
            };
            list.retain(|n| n != item);
            self.ops.push(StoreOp::Doc(DocKey::SyncPack(owner.to_string())));
        }
    }

    pub(super) fn request_install(&mut self, name: &str, version: &str) -> CommandResult {
        match self
            .syncpacks
            .get_mut(name)
            .and_then(|p| p.versions.get_mut(version))
        {
            Some(v) => {
                v.install_wanted = true;
                // Asking again retries where it failed.
                v.installs
                    .retain(|_, s| s.phase != crate::model::syncpack::InstallPhase::Failed);
                self.ops.push(StoreOp::Doc(DocKey::SyncPack(name.to_string())));
                CommandResult::Stored { replaced: false }
            }
            None => refused(Refusal::NotFound, format!("no SyncPack {name} {version}")),
        }
    }

    pub(super) fn install_state(
        &mut self,
        name: &str,
        version: &str,
        node: u64,
        state: InstallState,
    ) -> CommandResult {
        match self
            .syncpacks
            .get_mut(name)
            .and_then(|p| p.versions.get_mut(version))
        {
            Some(v) => {
                v.installs.insert(node, state);
                self.ops.push(StoreOp::Doc(DocKey::SyncPack(name.to_string())));
                CommandResult::Stored { replaced: false }
            }
            None => refused(Refusal::NotFound, format!("no SyncPack {name} {version}")),
        }
    }

    /// A chunk of a blob the store has not written yet.
    pub fn pending_blob_chunk(&self, sha256: &str, index: u32) -> Option<&[u8]> {
        self.waiting_ops().rev().find_map(|op| match op {
            StoreOp::Blob {
                sha256: s,
                index: i,
                bytes,
            } if s == sha256 && *i == index => Some(bytes.as_slice()),
            _ => None,
        })
    }
}

/// A pack version whose environment a step imports from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvPart {
    pub name: String,
    pub version: String,
    pub sha256: String,
}

impl Content {
    /// Where a step's imports resolve: None for a step no pack with a wheel
    /// owns (the platform environment); else its pack's environment, then
    /// those of the packs it requires (transitively, their activated
    /// versions), each once. Err names a required pack that is missing.
    pub fn step_environment(&self, step: &str) -> Option<Result<Vec<EnvPart>, String>> {
        let (name, version) = self.owner_of(ContentKind::Step, step)?;
        let pack = self.syncpacks.get(name)?;
        pack.versions.get(version)?.wheel.as_ref()?;
        let mut parts: Vec<EnvPart> = Vec::new();
        let mut todo = vec![(name.to_string(), version.to_string())];
        while let Some((name, version)) = todo.pop() {
            if parts.iter().any(|p| p.name == name) {
                continue;
            }
            let Some(v) = self.syncpacks.get(&name).and_then(|p| p.versions.get(&version)) else {
                return Some(Err(format!("SyncPack {name} {version} is not uploaded")));
            };
            // The Base Steps pack is part of the platform environment.
            let Some(wheel) = &v.wheel else { continue };
            parts.push(EnvPart {
                name: name.clone(),
                version: version.clone(),
                sha256: wheel.sha256.clone(),
            });
            for required in v.meta.required_names() {
                let Some(dep) = self.syncpacks.get(&required) else {
                    continue; // a package from the index, not a pack
                };
                match &dep.active {
                    Some(a) => todo.push((dep.name.clone(), a.version.clone())),
                    None => {
                        return Some(Err(format!(
                            "SyncPack {name} {version} requires SyncPack {required}, which is not activated (activate it: iscli -Akn {required} -V VERSION)"
                        )))
                    }
                }
            }
        }
        Some(Ok(parts))
    }

    /// The packs that provide top-level module `module`: activated packs
    /// are importable by that name.
    pub fn pack_providing(&self, module: &str) -> Option<(&str, &str)> {
        let p = self.syncpacks.get(module)?;
        Some((p.name.as_str(), p.active.as_ref()?.version.as_str()))
    }
}

fn versions_of(pack: &SyncPack) -> String {
    pack.versions.keys().cloned().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::syncpack::{PackMeta, WheelRef};

    fn version(name: &str, v: &str) -> PackVersion {
        PackVersion {
            meta: PackMeta::parse(format!(r#"{{"name": "{name}", "version": "{v}"}}"#).as_bytes()).unwrap(),
            wheel: Some(WheelRef {
                file_name: format!("{name}-{v}-py3-none-any.whl"),
                sha256: format!("sha-{name}-{v}"),
                size: 1,
                chunks: 1,
            }),
            uploaded_ms: 1,
            install_wanted: false,
            installs: BTreeMap::new(),
        }
    }

    fn step(name: &str) -> StepRecord {
        StepRecord::validate(name, &format!("class {name}: pass")).unwrap()
    }

    fn activate(c: &mut Content, pack: &str, v: &str, steps: &[&str], force: bool) -> CommandResult {
        c.apply(Command::ActivateSyncPack {
            name: pack.into(),
            version: v.into(),
            steps: steps.iter().map(|s| step(s)).collect(),
            applications: Vec::new(),
            configurations: Vec::new(),
            force,
        })
    }

    fn upload(c: &mut Content, pack: &str, v: &str) -> CommandResult {
        c.apply(Command::PutSyncPack {
            name: pack.into(),
            version: version(pack, v),
            replace: false,
        })
    }

    #[test]
    fn activation_owns_names_and_an_upgrade_replaces_them_in_one_entry() {
        let mut c = Content::default();
        upload(&mut c, "p", "1");
        upload(&mut c, "p", "2");
        assert!(matches!(
            activate(&mut c, "p", "1", &["A", "B"], false),
            CommandResult::Stored { .. }
        ));
        assert_eq!(c.owner_of(ContentKind::Step, "A"), Some(("p", "1")));
        activate(&mut c, "p", "2", &["B", "C"], false);
        assert!(!c.steps.contains_key("A"), "what version 1 alone had is gone");
        assert_eq!(c.owner_of(ContentKind::Step, "C"), Some(("p", "2")));
        assert_eq!(c.owner_of(ContentKind::Step, "A"), None);
    }

    #[test]
    fn names_held_elsewhere_are_refused_unless_forced() {
        let mut c = Content::default();
        c.apply(Command::PutStep(step("Mine")));
        upload(&mut c, "p", "1");
        upload(&mut c, "q", "1");
        activate(&mut c, "p", "1", &["A"], false);
        let CommandResult::Refused { reason, why } = activate(&mut c, "q", "1", &["A", "Mine"], false) else {
            panic!("expected a refusal")
        };
        assert_eq!(why, Refusal::Conflict);
        assert!(reason.contains("belongs to SyncPack p 1"), "{reason}");
        assert!(reason.contains("\"Mine\" exists"), "{reason}");
        assert!(c.syncpacks["q"].active.is_none(), "nothing changed");
        activate(&mut c, "q", "1", &["A", "Mine"], true);
        assert_eq!(c.owner_of(ContentKind::Step, "A"), Some(("q", "1")));
        assert!(c.syncpacks["p"].active.as_ref().unwrap().steps.is_empty());
    }

    #[test]
    fn an_activated_version_is_deleted_only_with_force_and_takes_its_content() {
        let mut c = Content::default();
        upload(&mut c, "p", "1");
        activate(&mut c, "p", "1", &["A"], false);
        assert!(matches!(
            c.apply(Command::DeleteSyncPack {
                name: "p".into(),
                version: None,
                force: false
            }),
            CommandResult::Refused {
                why: Refusal::Conflict,
                ..
            }
        ));
        c.ops.clear();
        c.apply(Command::DeleteSyncPack {
            name: "p".into(),
            version: None,
            force: true,
        });
        assert!(!c.steps.contains_key("A"));
        assert!(!c.syncpacks.contains_key("p"));
        assert!(c.ops.contains(&StoreOp::DeleteBlob {
            sha256: "sha-p-1".into()
        }));
    }

    #[test]
    fn the_same_version_is_replaced_only_when_asked() {
        let mut c = Content::default();
        upload(&mut c, "p", "1");
        assert!(matches!(
            upload(&mut c, "p", "1"),
            CommandResult::Refused {
                why: Refusal::Conflict,
                ..
            }
        ));
        let r = c.apply(Command::PutSyncPack {
            name: "p".into(),
            version: version("p", "1"),
            replace: true,
        });
        assert_eq!(r, CommandResult::Stored { replaced: true });
    }
}
