//! Rotating the cluster key: a new key, every configuration secret opened
//! with the old one and sealed with the new, the new key sealed under this
//! node's key-encryption key — all in one Raft entry
//! (`store::rotation`), refused if a configuration changed meanwhile.

use serde_json::{json, Value};

use super::packs::refusal;
use super::{ApiError, Service};
use crate::crypto::{self, ClusterKey};
use crate::model::configuration::Sealed;
use crate::store::rotation::doc_digest;
use crate::store::Command;

impl Service {
    pub async fn rotate_cluster_key(&self) -> Result<Value, ApiError> {
        let old = self.cluster_key()?;
        let fresh = ClusterKey::generate_bytes();
        let new = ClusterKey::from_bytes(&fresh).map_err(|e| ApiError::Internal(e.to_string()))?;
        let current: Vec<_> = self
            .inner
            .content
            .read()
            .content
            .configurations
            .values()
            .cloned()
            .collect();
        let mut previous = Vec::with_capacity(current.len());
        let mut configurations = Vec::with_capacity(current.len());
        let mut values = 0usize;
        for mut cfg in current {
            previous.push((cfg.name.clone(), doc_digest(&cfg)));
            cfg.seal_secrets(|_, value| {
                let Value::String(text) = value else {
                    return Err("an encrypted value that is not ciphertext".to_string());
                };
                if !crypto::looks_sealed(text) {
                    return Err("an encrypted value that is not ciphertext".to_string());
                }
                let plain = old.open(text).map_err(|e| e.to_string())?;
                values += 1;
                Ok(Sealed::Encrypted(new.seal(&plain)))
            })?;
            configurations.push(cfg);
        }
        let count = configurations.len();
        let cmd = Command::RotateClusterKey {
            sealed_key: self.keys().seal_cluster_key(&fresh),
            configurations,
            previous,
        };
        refusal(self.write(cmd).await?)?;
        Ok(json!({"result": "rotated", "configurations": count, "values": values}))
    }
}
