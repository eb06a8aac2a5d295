//! The RPCs of stored content: uploading, listing, reading and deleting
//! steps, applications and configurations, and the syncpack operations
//! (whose answers are still JSON documents: the node does not build them
//! yet).

use is_proto::v1::{
    Application, Configuration, ContentList, Json, ListContentRequest, ListSyncPacksRequest, PutStepRequest,
    StepInfo, Stored, UploadSyncPackRequest,
};
use serde_json::Value;

use super::{deleted_name, document, name_req, pack_ref, Client, DeletedName};
use crate::error::CliError;

impl Client {
    // ---- steps ----

    pub(crate) async fn put_step(&mut self, name: &str, source: String) -> Result<Stored, CliError> {
        let req = PutStepRequest {
            name: name.to_string(),
            source,
        };
        match self.rpc.put_step(req).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn list_steps(&mut self) -> Result<ContentList, CliError> {
        match self.rpc.list_steps(ListContentRequest::default()).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn get_step(&mut self, name: &str) -> Result<StepInfo, CliError> {
        match self.rpc.get_step(name_req(name)).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn delete_step(&mut self, name: &str) -> Result<DeletedName, CliError> {
        match self.rpc.delete_step(name_req(name)).await {
            Ok(r) => Ok(deleted_name(r.into_inner().name, name)),
            Err(s) => Err(self.fail(s)),
        }
    }

    // ---- applications ----

    pub(crate) async fn put_application(&mut self, json: String) -> Result<Stored, CliError> {
        match self.rpc.put_application(Json { json }).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn list_applications(&mut self) -> Result<ContentList, CliError> {
        match self.rpc.list_applications(ListContentRequest::default()).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// An application: its typed fields, and the document as uploaded
    /// (`document_json`).
    pub(crate) async fn get_application(&mut self, name: &str) -> Result<Application, CliError> {
        match self.rpc.get_application(name_req(name)).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn delete_application(&mut self, name: &str) -> Result<DeletedName, CliError> {
        match self.rpc.delete_application(name_req(name)).await {
            Ok(r) => Ok(deleted_name(r.into_inner().name, name)),
            Err(s) => Err(self.fail(s)),
        }
    }

    // ---- configurations ----

    pub(crate) async fn put_configuration(&mut self, json: String) -> Result<Stored, CliError> {
        match self.rpc.put_configuration(Json { json }).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn list_configurations(&mut self) -> Result<ContentList, CliError> {
        match self.rpc.list_configurations(ListContentRequest::default()).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// A configuration: its typed fields, and the document as stored
    /// (`document_json`, encrypted values as ciphertext).
    pub(crate) async fn get_configuration(&mut self, name: &str) -> Result<Configuration, CliError> {
        match self.rpc.get_configuration(name_req(name)).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn delete_configuration(&mut self, name: &str) -> Result<DeletedName, CliError> {
        match self.rpc.delete_configuration(name_req(name)).await {
            Ok(r) => Ok(deleted_name(r.into_inner().name, name)),
            Err(s) => Err(self.fail(s)),
        }
    }

    // ---- syncpacks (JSON answers) ----

    pub(crate) async fn upload_syncpack(
        &mut self,
        file_name: &str,
        wheel: Vec<u8>,
        overwrite: bool,
    ) -> Result<Value, CliError> {
        let req = UploadSyncPackRequest {
            file_name: file_name.to_string(),
            wheel,
            overwrite,
        };
        match self.rpc.upload_sync_pack(req).await {
            Ok(r) => Ok(document(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Every uploaded (name, version), as a JSON array; `only_installed`
    /// and `only_activated` narrow it on the node.
    pub(crate) async fn list_syncpacks(
        &mut self,
        only_installed: bool,
        only_activated: bool,
    ) -> Result<Value, CliError> {
        let req = ListSyncPacksRequest {
            only_installed,
            only_activated,
        };
        match self.rpc.list_sync_packs(req).await {
            Ok(r) => Ok(document(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// One syncpack: the activated version (else the newest uploaded), its
    /// install state on each node, its content and every version.
    pub(crate) async fn get_syncpack(&mut self, name: &str) -> Result<Value, CliError> {
        match self.rpc.get_sync_pack(name_req(name)).await {
            Ok(r) => Ok(document(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Deletes one version (`None`: the newest uploaded).
    pub(crate) async fn delete_syncpack(
        &mut self,
        name: &str,
        version: Option<&str>,
        force: bool,
    ) -> Result<DeletedName, CliError> {
        match self.rpc.delete_sync_pack(pack_ref(name, version, force)).await {
            Ok(r) => Ok(deleted_name(r.into_inner().name, name)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn activate_syncpack(
        &mut self,
        name: &str,
        version: Option<&str>,
        force: bool,
    ) -> Result<Value, CliError> {
        match self.rpc.activate_sync_pack(pack_ref(name, version, force)).await {
            Ok(r) => Ok(document(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn install_syncpack(
        &mut self,
        name: &str,
        version: Option<&str>,
        force: bool,
    ) -> Result<Value, CliError> {
        match self.rpc.install_sync_pack(pack_ref(name, version, force)).await {
            Ok(r) => Ok(document(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }
}
