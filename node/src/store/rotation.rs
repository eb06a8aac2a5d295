//! Applying a rotation of the cluster key: the new (sealed) key and every
//! configuration re-sealed under it, in one entry.
//!
//! **Invariant:** a rotation applies only to the configurations it was
//! computed from: if one was added, deleted or changed after the proposer
//! read them, the rotation is refused and nothing changes (so no value is
//! left sealed under a key that is gone). Checked by this file's tests.

use sha2::{Digest, Sha256};

use super::command::{CommandResult, Refusal};
use super::content::{Content, DocKey, StoreOp};
use crate::model::configuration::Configuration;

/// The digest a rotation names a configuration's stored document by.
pub fn doc_digest(cfg: &Configuration) -> [u8; 32] {
    Sha256::digest(cfg.doc.to_string().as_bytes()).into()
}

impl Content {
    pub(super) fn rotate_cluster_key(
        &mut self,
        sealed_key: Vec<u8>,
        configurations: Vec<Configuration>,
        previous: Vec<(String, [u8; 32])>,
    ) -> CommandResult {
        let unchanged = previous.len() == self.configurations.len()
            && previous
                .iter()
                .all(|(name, d)| self.configurations.get(name).is_some_and(|c| doc_digest(c) == *d));
        let Some(identity) = self.cluster.as_mut().filter(|_| unchanged) else {
            return CommandResult::Refused {
                reason: "the configurations changed while the key was being rotated; rotate again".into(),
                why: Refusal::Conflict,
            };
        };
        identity.cluster_key = sealed_key;
        self.ops.push(StoreOp::Doc(DocKey::Cluster));
        for cfg in configurations {
            self.ops
                .push(StoreOp::Doc(DocKey::Configuration(cfg.name.clone())));
            self.configurations.insert(cfg.name.clone(), cfg);
        }
        CommandResult::Stored { replaced: true }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::command::Command;
    use crate::store::content::ClusterIdentity;

    fn cfg(name: &str, value: &str) -> Configuration {
        Configuration::validate(serde_json::json!({"name": name, "configuration_data": [
            {"name": "k", "value": value, "encrypted": true}
        ]}))
        .unwrap()
    }

    #[test]
    fn a_rotation_applies_only_to_what_it_was_computed_from() {
        let mut c = Content {
            cluster: Some(ClusterIdentity {
                cluster_id: "c".into(),
                cluster_key: b"old".to_vec(),
            }),
            ..Content::default()
        };
        c.configurations.insert("a".into(), cfg("a", "enc:v1:old"));
        let rotation = |previous| Command::RotateClusterKey {
            sealed_key: b"new".to_vec(),
            configurations: vec![cfg("a", "enc:v1:new")],
            previous,
        };
        let stale = vec![("a".to_string(), doc_digest(&cfg("a", "enc:v1:other")))];
        assert!(matches!(c.apply(rotation(stale)), CommandResult::Refused { .. }));
        assert_eq!(c.cluster.as_ref().unwrap().cluster_key, b"old");
        assert!(matches!(c.apply(rotation(vec![])), CommandResult::Refused { .. }));
        let current = vec![("a".to_string(), doc_digest(&cfg("a", "enc:v1:old")))];
        assert_eq!(
            c.apply(rotation(current)),
            CommandResult::Stored { replaced: true }
        );
        assert_eq!(c.cluster.as_ref().unwrap().cluster_key, b"new");
        assert_eq!(c.configurations["a"].data[0].value, "enc:v1:new");
    }
}
