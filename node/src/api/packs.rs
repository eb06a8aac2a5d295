//! The SyncPack operations of the API (DESIGN 4.2, 4.10): upload (a wheel
//! already written to a file by the transport, checked, then replicated in
//! chunks), listing, showing, deleting and asking every node to install it
//! (`actors::installer` does the work). Activation is `pack_activation`.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::views::secs;
use super::{ApiError, Service};
use crate::model::syncpack::{normalise, PackVersion, SyncPack, WheelRef, BASE_PACK};
use crate::store::{Command, CommandResult, Refusal};
use crate::syncpack::wheel::{self, WheelError};

/// Wheels travel through Raft in pieces of this size.
const CHUNK_BYTES: usize = 1 << 20;

/// A wheel the transport wrote to a file; removed when dropped.
pub struct UploadedFile {
    pub path: PathBuf,
}

impl Drop for UploadedFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl From<WheelError> for ApiError {
    fn from(e: WheelError) -> ApiError {
        match e {
            WheelError::Io(io) => ApiError::Internal(format!("cannot read the uploaded wheel: {io}")),
            other => ApiError::BadRequest {
                message: other.to_string(),
                details: Vec::new(),
            },
        }
    }
}

pub(super) fn refusal(result: CommandResult) -> Result<CommandResult, ApiError> {
    match result {
        CommandResult::Refused {
            reason,
            why: Refusal::Conflict,
        } => Err(ApiError::Conflict(reason)),
        CommandResult::Refused {
            reason,
            why: Refusal::NotFound,
        } => Err(ApiError::NotFound(reason)),
        other => Ok(other),
    }
}

impl Service {
    /// Where this node keeps wheels and pack environments.
    pub fn pack_envs(&self) -> &crate::syncpack::env::EnvSettings {
        &self.inner.pack_envs
    }

    /// The largest wheel accepted.
    pub fn syncpack_max_bytes(&self) -> u64 {
        self.inner.syncpack_max_bytes
    }

    /// A new file for an upload to be written to.
    pub fn upload_file(&self) -> Result<UploadedFile, ApiError> {
        let dir = self.inner.pack_envs.root.join("uploads");
        std::fs::create_dir_all(&dir)
            .map_err(|e| ApiError::Internal(format!("cannot create {}: {e}", dir.display())))?;
        Ok(UploadedFile {
            path: dir.join(format!("{}.part", uuid::Uuid::new_v4())),
        })
    }

    /// Checks the wheel in `file` and replicates it as version
    /// `file_name` states. `force` replaces the same version.
    pub async fn upload_syncpack(
        &self,
        file_name: &str,
        file: UploadedFile,
        force: bool,
    ) -> Result<Value, ApiError> {
        let named = wheel::parse_file_name(file_name)?;
        if named.name == normalise(BASE_PACK) {
            return Err(ApiError::Conflict(format!(
                "{BASE_PACK} ships with the node and cannot be uploaded"
            )));
        }
        let size = std::fs::metadata(&file.path)
            .map_err(|e| ApiError::Internal(format!("cannot read the uploaded wheel: {e}")))?
            .len();
        let max = self.inner.syncpack_max_bytes;
        if size > max {
            return Err(ApiError::PayloadTooLarge { limit: max });
        }
        if size == 0 {
            return Err(ApiError::bad_request("the upload is empty; send the wheel file"));
        }
        let exists = {
            let sm = self.inner.content.read();
            sm.content
                .syncpacks
                .values()
                .any(|p| normalise(&p.name) == named.name && p.versions.contains_key(&named.version))
        };
        if exists && !force {
            return Err(ApiError::Conflict(format!(
                "SyncPack {} {} is already uploaded; upload with force (iscli -F, ?force=true) to replace it",
                named.name, named.version
            )));
        }
        let path = file.path.clone();
        let unpack_limit = max.saturating_mul(20);
        let checked = named.clone();
        let (contents, sha256) = tokio::task::spawn_blocking(move || {
            let contents = wheel::inspect(&path, &checked, unpack_limit)?;
            let sha = wheel::sha256_of(&mut std::fs::File::open(&path)?)?;
            Ok::<_, WheelError>((contents, sha))
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
        let chunks = self.replicate_wheel(&file.path, &sha256).await?;
        let version = PackVersion {
            meta: contents.meta.clone(),
            wheel: Some(WheelRef {
                file_name: format!("{}-{}-py3-none-any.whl", contents.meta.name, named.version),
                sha256: sha256.clone(),
                size,
                chunks,
            }),
            uploaded_ms: crate::util::now_ms(),
            install_wanted: false,
            installs: Default::default(),
        };
        // The pack is named as its meta.json spells it (its import name).
        let name = contents.meta.name.clone();
        let result = refusal(
            self.write(Command::PutSyncPack {
                name: name.clone(),
                version,
                replace: force,
            })
            .await?,
        )?;
        // Keep the file as this node's copy: installs here need not
        // reassemble it from the store.
        let keep = self.inner.pack_envs.wheel_file(&sha256);
        if let Some(dir) = keep.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::rename(&file.path, &keep);
        Ok(json!({
            "name": name,
            "version": named.version,
            "summary": contents.meta.summary,
            "file_name": file_name,
            "size": size,
            "sha256": sha256,
            "replaced": matches!(result, CommandResult::Stored { replaced: true }),
            "steps": contents.steps.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            "applications": contents.applications.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            "configurations": contents.configurations.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        }))
    }

    /// Proposes the file's chunks, one after another (each is read only
    /// when the previous one is committed, so memory holds one chunk).
    async fn replicate_wheel(&self, path: &Path, sha256: &str) -> Result<u32, ApiError> {
        let mut file = std::fs::File::open(path)
            .map_err(|e| ApiError::Internal(format!("cannot read the uploaded wheel: {e}")))?;
        let mut index = 0u32;
        loop {
            let mut bytes = Vec::with_capacity(CHUNK_BYTES);
            (&mut file)
                .take(CHUNK_BYTES as u64)
                .read_to_end(&mut bytes)
                .map_err(|e| ApiError::Internal(format!("cannot read the uploaded wheel: {e}")))?;
            if bytes.is_empty() {
                return Ok(index);
            }
            self.write(Command::PutBlobChunk {
                sha256: sha256.to_string(),
                index,
                bytes,
            })
            .await?;
            index += 1;
        }
    }

    pub fn list_syncpacks(&self, only_installed: bool, only_activated: bool) -> Value {
        let sm = self.inner.content.read();
        let nodes: Vec<u64> = sm.content.nodes.keys().copied().collect();
        let mut out = Vec::new();
        for pack in sm.content.syncpacks.values() {
            for (version, v) in &pack.versions {
                let activated = pack.is_active(version);
                let installed = v.installed_on_all(nodes.iter().copied());
                if (only_installed && !installed) || (only_activated && !activated) {
                    continue;
                }
                out.push(json!({
                    "name": pack.name,
                    "version": version,
                    "summary": v.meta.summary,
                    "uploaded": secs(v.uploaded_ms),
                    "activated": activated,
                    "installed": installed,
                }));
            }
        }
        Value::Array(out)
    }

    pub(super) fn pack_not_found(name: &str) -> ApiError {
        ApiError::NotFound(format!(
            "no SyncPack named {name:?} (list them with GET /api/v1/syncpacks or `iscli pack list`)"
        ))
    }

    /// Pack `name` in `content`, or the 404 naming it.
    fn pack_in<'c>(content: &'c crate::store::Content, name: &str) -> Result<&'c SyncPack, ApiError> {
        content
            .syncpacks
            .get(name)
            .ok_or_else(|| Self::pack_not_found(name))
    }

    /// What `read` answers of version `version` of pack `name` (the newest
    /// when None), or why there is no such version.
    pub(super) fn with_pack_version<T>(
        &self,
        name: &str,
        version: Option<&str>,
        read: impl FnOnce(&str, &PackVersion) -> T,
    ) -> Result<T, ApiError> {
        let sm = self.inner.content.read();
        let pack = Self::pack_in(&sm.content, name)?;
        let (v, pv) = pack.version_of(version).ok_or_else(|| {
            ApiError::NotFound(format!(
                "SyncPack {name} has no version {:?} (it has {})",
                version.unwrap_or_default(),
                pack.versions.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })?;
        Ok(read(v, pv))
    }

    /// The pack as `GET /syncpacks/{name}` shows it: the activated version
    /// (else the newest) at the top level, every version below.
    pub fn get_syncpack(&self, name: &str) -> Result<Value, ApiError> {
        let sm = self.inner.content.read();
        let pack = Self::pack_in(&sm.content, name)?;
        let nodes: Vec<u64> = sm.content.nodes.keys().copied().collect();
        let (version, _) = pack.version_of(None).ok_or_else(|| Self::pack_not_found(name))?;
        Ok(show(pack, version, &nodes))
    }

    pub async fn delete_syncpack(
        &self,
        name: &str,
        version: Option<&str>,
        force: bool,
    ) -> Result<Value, ApiError> {
        if name == BASE_PACK {
            return Err(ApiError::Conflict(format!(
                "{BASE_PACK} ships with the node and cannot be deleted"
            )));
        }
        refusal(
            self.write(Command::DeleteSyncPack {
                name: name.to_string(),
                version: version.map(str::to_string),
                force,
            })
            .await?,
        )?;
        Ok(json!({"name": name, "deleted": true}))
    }

    /// Asks every node to build the version's environment. Answers the
    /// pack's status; `installing` tells whether some node is not done.
    pub async fn install_syncpack(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<(Value, bool), ApiError> {
        let version = self.with_pack_version(name, version, |v, _| v.to_string())?;
        refusal(
            self.write(Command::RequestPackInstall {
                name: name.to_string(),
                version: version.clone(),
            })
            .await?,
        )?;
        let sm = self.inner.content.read();
        let pack = Self::pack_in(&sm.content, name)?;
        let nodes: Vec<u64> = sm.content.nodes.keys().copied().collect();
        let done = pack
            .versions
            .get(&version)
            .is_some_and(|v| v.installed_on_all(nodes.iter().copied()));
        Ok((show(pack, &version, &nodes), !done))
    }
}

/// A version's status document (see DESIGN 4.10).
fn show(pack: &SyncPack, version: &str, nodes: &[u64]) -> Value {
    let Some(v) = pack.versions.get(version) else {
        return json!({"name": pack.name});
    };
    let node_states: Vec<Value> = nodes
        .iter()
        .map(|n| match (v.wheel.as_ref(), v.installs.get(n)) {
            (None, _) => json!({"node_id": n, "state": "installed", "progress": "part of the platform", "log": "", "updated": null}),
            (_, Some(s)) => json!({
                "node_id": n,
                "state": s.phase.as_str(),
                "progress": s.progress,
                "log": s.log,
                "updated": secs(s.updated_ms),
            }),
            (_, None) => json!({
                "node_id": n,
                "state": if v.install_wanted { "pending" } else { "not requested" },
                "progress": "",
                "log": "",
                "updated": null,
            }),
        })
        .collect();
    let content = match pack.active.as_ref().filter(|a| a.version == version) {
        Some(a) => {
            json!({"steps": a.steps, "applications": a.applications, "configurations": a.configurations})
        }
        None => json!({"steps": [], "applications": [], "configurations": []}),
    };
    let versions: Vec<Value> = pack
        .versions
        .iter()
        .map(|(number, pv)| {
            json!({
                "version": number,
                "activated": pack.is_active(number),
                "installed": pv.installed_on_all(nodes.iter().copied()),
                "uploaded": secs(pv.uploaded_ms),
            })
        })
        .collect();
    let mut out = Map::new();
    out.insert("name".into(), json!(pack.name));
    out.insert("version".into(), json!(version));
    out.insert("summary".into(), json!(v.meta.summary));
    out.insert("description".into(), json!(v.meta.description));
    out.insert("author".into(), json!(v.meta.author));
    out.insert("requires_dist".into(), json!(v.meta.requires_dist));
    out.insert("activated".into(), json!(pack.is_active(version)));
    out.insert(
        "installed".into(),
        json!(v.installed_on_all(nodes.iter().copied())),
    );
    out.insert(
        "install_requested".into(),
        json!(v.install_wanted || v.wheel.is_none()),
    );
    out.insert("sha256".into(), json!(v.wheel.as_ref().map(|w| w.sha256.clone())));
    out.insert("size".into(), json!(v.wheel.as_ref().map(|w| w.size)));
    out.insert("uploaded".into(), json!(secs(v.uploaded_ms)));
    out.insert("nodes".into(), Value::Array(node_states));
    out.insert("content".into(), content);
    out.insert(
        "schedules".into(),
        v.meta.doc.get("schedules").cloned().unwrap_or(json!([])),
    );
    out.insert("versions".into(), Value::Array(versions));
    Value::Object(out)
}
