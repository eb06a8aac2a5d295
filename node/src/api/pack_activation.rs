//! Activating a SyncPack: its steps loaded by the validator as uploads
//! are (with the pack's unpacked wheel, the packs it requires and the base
//! packages on the path), its applications validated (a file without
//! `name` is named after the file) and its configurations sealed, then all
//! registered in one entry that replaces the previous version's content.
//! Also the Base Steps pack shipped in the binary, registered the same way.

use std::path::Path;

use serde_json::{json, Value};

use super::packs::refusal;
use super::{ApiError, Service};
use crate::model::application::Application;
use crate::model::configuration::Configuration;
use crate::model::step::StepRecord;
use crate::model::syncpack::{normalise, PackVersion, BASE_PACK};
use crate::python::validator::{ValidationError, Validator};
use crate::store::Command;
use crate::syncpack::wheel::{self, PackContents, WheelError, WheelName};

impl Service {
    /// Registers the content of `version` (the newest when None): steps
    /// are loaded as uploads are, applications validated (a document
    /// without `name` takes its file name), configurations sealed.
    pub async fn activate_syncpack(
        &self,
        name: &str,
        version: Option<&str>,
        force: bool,
    ) -> Result<Value, ApiError> {
        let (version, wheel_ref, requires, meta_doc) = self.with_pack_version(name, version, |v, pv| {
            let requires: Vec<String> = pv.meta.required_names().collect();
            (v.to_string(), pv.wheel.clone(), requires, pv.meta.doc.clone())
        })?;
        let Some(wheel_ref) = wheel_ref else {
            return Err(ApiError::Conflict(format!(
                "{name} ships with the node and is always activated"
            )));
        };
        crate::actors::installer::materialize(&self.inner.content, &self.inner.pack_envs, &wheel_ref)
            .await
            .map_err(|(message, _)| ApiError::Unavailable(message))?;
        let path = self.inner.pack_envs.wheel_file(&wheel_ref.sha256);
        let named = WheelName {
            name: normalise(name),
            version: version.clone(),
        };
        let limit = self.inner.syncpack_max_bytes.saturating_mul(20);
        let (contents, unpacked) = {
            let (path, named) = (path.clone(), named.clone());
            let dir = self.inner.pack_envs.root.join("unpacked").join(&wheel_ref.sha256);
            tokio::task::spawn_blocking(move || {
                let contents = wheel::inspect(&path, &named, limit)?;
                if !dir.join(".complete").exists() {
                    let _ = std::fs::remove_dir_all(&dir);
                    wheel::unpack(&path, &named, &dir, limit)?;
                    std::fs::write(dir.join(".complete"), b"")?;
                }
                Ok::<_, WheelError>((contents, dir))
            })
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??
        };
        let steps = self
            .pack_steps(name, &version, &contents, &unpacked, &requires)
            .await?;
        let (applications, configurations) = self.pack_documents(name, &contents)?;
        // Checked before anything changes; put once the content they run is
        // there (a slot whose application is missing records why).
        let schedules = self.pack_schedule_commands(name, &meta_doc)?;
        refusal(
            self.write(Command::ActivateSyncPack {
                name: name.to_string(),
                version: version.clone(),
                steps,
                applications,
                configurations,
                force,
            })
            .await?,
        )?;
        if !schedules.is_empty() {
            self.write(Command::Batch(schedules)).await?;
        }
        self.get_syncpack(name)
    }

    /// The pack's steps, each loaded in a validator whose `sys.path` has
    /// the unpacked wheel, the packs it requires and the base packages. A
    /// step that needs a module only its install brings is stored with its
    /// metadata unread (its run loads it in the installed environment).
    async fn pack_steps(
        &self,
        name: &str,
        version: &str,
        contents: &PackContents,
        unpacked: &Path,
        requires: &[String],
    ) -> Result<Vec<StepRecord>, ApiError> {
        let mut sites = vec![unpacked.to_path_buf()];
        {
            let sm = self.inner.content.read();
            for dep in requires {
                let Some(pack) = sm.content.syncpacks.get(dep) else {
                    continue;
                };
                let Some(active) = &pack.active else { continue };
                let Some(w) = pack.versions.get(&active.version).and_then(|v| v.wheel.as_ref()) else {
                    continue;
                };
                if let Some(site) = self
                    .inner
                    .pack_envs
                    .installed_site(dep, &active.version, &w.sha256)
                {
                    sites.push(site);
                } else {
                    sites.push(self.inner.pack_envs.root.join("unpacked").join(&w.sha256));
                }
            }
        }
        sites.extend(self.inner.pack_envs.base_site());
        let mut cfg = self.inner.validator.config().clone();
        cfg.site_dirs = sites;
        let validator = Validator::new(cfg, self.inner.validator.timeout());
        let mut steps = Vec::new();
        let mut problems = Vec::new();
        for (class, source) in &contents.steps {
            let mut step = match StepRecord::validate(class, source) {
                Ok(s) => s,
                Err(e) => {
                    problems.push(e.to_string());
                    continue;
                }
            };
            match validator
                .validate_module(class, &format!("{name}.steps.{class}"))
                .await
            {
                Ok(meta) => step.meta = serde_json::from_value(meta).ok(),
                Err(ValidationError::Invalid { message, line, .. }) => {
                    if message.contains("No module named") && !message.contains(&format!("'{name}")) {
                        tracing::info!(pack = name, version, step = %class, %message, "step metadata left for its install");
                    } else {
                        problems.push(match line {
                            Some(l) => format!("steps/{class}.py line {l}: {message}"),
                            None => format!("steps/{class}.py: {message}"),
                        });
                    }
                }
                Err(e @ ValidationError::Timeout(_)) => problems.push(format!("steps/{class}.py: {e}")),
                Err(ValidationError::Runner(r)) => {
                    return Err(ApiError::Unavailable(format!(
                        "cannot check the pack's steps because the Python runner failed ({r}); retry"
                    )))
                }
            }
            steps.push(step);
        }
        if !problems.is_empty() {
            return Err(ApiError::BadRequest {
                message: format!("SyncPack {name} {version} has steps that do not load"),
                details: problems,
            });
        }
        Ok(steps)
    }

    /// The pack's applications and configurations, checked as uploads are.
    fn pack_documents(
        &self,
        name: &str,
        contents: &PackContents,
    ) -> Result<(Vec<Application>, Vec<Configuration>), ApiError> {
        let mut problems = Vec::new();
        let mut applications = Vec::new();
        for (stem, text) in &contents.applications {
            let parsed = serde_json::from_str::<Value>(text)
                .map_err(|e| format!("apps/{stem}.json is not valid JSON: {e}"))
                .map(|doc| name_from_file(doc, stem))
                .and_then(|doc| Application::validate(doc).map_err(|e| format!("apps/{stem}.json: {e}")))
                .and_then(|app| {
                    app.check_limits(&self.inner.app_limits)
                        .map(|_| app)
                        .map_err(|e| format!("apps/{stem}.json: {e}"))
                });
            match parsed {
                Ok(app) => applications.push(app),
                Err(p) => problems.push(p),
            }
        }
        let mut configurations = Vec::new();
        for (stem, text) in &contents.configurations {
            let parsed = serde_json::from_str::<Value>(text)
                .map_err(|e| format!("configs/{stem}.json is not valid JSON: {e}"))
                .map(|doc| name_from_file(doc, stem))
                .and_then(|doc| {
                    self.sealed_configuration(doc)
                        .map_err(|e| format!("configs/{stem}.json: {e}"))
                });
            match parsed {
                Ok(cfg) => configurations.push(cfg),
                Err(p) => problems.push(p),
            }
        }
        if !problems.is_empty() {
            return Err(ApiError::BadRequest {
                message: format!("SyncPack {name} holds documents that are not valid"),
                details: problems,
            });
        }
        Ok((applications, configurations))
    }
}

impl Service {
    /// Registers the Base Steps pack shipped in the binary as an activated
    /// pack of this node's version, owning its steps and applications (a
    /// new cluster does this before its administrator exists). Answers how
    /// many items it registered.
    pub async fn register_base_pack(&self) -> Result<usize, ApiError> {
        let mut steps = Vec::new();
        for (name, source) in crate::python::embedded::base_pack_steps() {
            let mut step = StepRecord::validate(name, source)?;
            let meta = self.inner.validator.validate(name, source).await.map_err(|e| {
                ApiError::Internal(format!("the Base Steps pack's step {name} does not load: {e}"))
            })?;
            step.meta = serde_json::from_value(meta).ok();
            steps.push(step);
        }
        let mut applications = Vec::new();
        for (file, text) in crate::python::embedded::base_pack_applications() {
            let doc = serde_json::from_str(text)
                .map_err(|e| ApiError::Internal(format!("{file}.json is not JSON: {e}")))?;
            applications.push(Application::validate(name_from_file(doc, file))?);
        }
        let version = env!("CARGO_PKG_VERSION").to_string();
        let meta = crate::model::syncpack::PackMeta::parse(
            json!({
                "name": BASE_PACK,
                "version": version,
                "summary": "Base Steps: REST, GraphQL, SQL, SSH, cache and Trigger Application steps",
                "author": "Integration Service",
            })
            .to_string()
            .as_bytes(),
        )?;
        let count = steps.len() + applications.len();
        self.write(Command::PutSyncPack {
            name: BASE_PACK.into(),
            version: PackVersion {
                meta,
                wheel: None,
                uploaded_ms: crate::util::now_ms(),
                install_wanted: true,
                installs: Default::default(),
            },
            replace: true,
        })
        .await?;
        refusal(
            self.write(Command::ActivateSyncPack {
                name: BASE_PACK.into(),
                version,
                steps,
                applications,
                configurations: Vec::new(),
                force: true,
            })
            .await?,
        )?;
        Ok(count)
    }
}

/// An application or configuration file without `name` is named after the
/// file (as the original product did).
pub fn name_from_file(mut doc: Value, stem: &str) -> Value {
    if let Some(obj) = doc.as_object_mut() {
        if obj
            .get("name")
            .is_none_or(|n| n.is_null() || n.as_str() == Some(""))
        {
            obj.insert("name".into(), json!(stem));
        }
    }
    doc
}
