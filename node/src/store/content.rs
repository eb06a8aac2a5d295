//! The replicated content and the pure function that applies a command to it.
//! Everything the API reads comes from here; nothing here does IO.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Command, CommandResult};
use crate::engine::{step_task, Applied};
use crate::model::step::StepRecord;
use crate::model::task::StepTask;
use crate::model::user::User;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterIdentity {
    pub cluster_id: String,
    pub cluster_key: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Content {
    pub cluster: Option<ClusterIdentity>,
    pub users: BTreeMap<String, User>,
    pub steps: BTreeMap<String, StepRecord>,
    /// Application documents as JSON text, keyed by name.
    pub applications: BTreeMap<String, String>,
    /// Configuration documents as JSON text (secrets sealed), keyed by name.
    pub configurations: BTreeMap<String, String>,
    pub tasks: BTreeMap<String, StepTask>,
    pub cache: BTreeMap<String, CacheEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    pub value: Vec<u8>,
    pub expires_at_ms: Option<u64>,
}

impl CacheEntry {
    pub fn is_live(&self, now_ms: u64) -> bool {
        self.expires_at_ms.is_none_or(|t| t > now_ms)
    }
}

impl Content {
    /// The id of the task a command concerns, for change notifications.
    pub fn task_of(cmd: &Command) -> Option<&str> {
        match cmd {
            Command::CreateTask(spec) => Some(&spec.id),
            Command::Task { id, .. } => Some(id),
            _ => None,
        }
    }

    pub fn apply(&mut self, cmd: Command) -> CommandResult {
        fn put<V>(map: &mut BTreeMap<String, V>, k: String, v: V) -> CommandResult {
            CommandResult::Stored {
                replaced: map.insert(k, v).is_some(),
            }
        }
        fn delete<V>(map: &mut BTreeMap<String, V>, k: &str) -> CommandResult {
            CommandResult::Deleted {
                existed: map.remove(k).is_some(),
            }
        }
        match cmd {
            Command::Bootstrap {
                cluster_id,
                cluster_key,
                admin,
            } => {
                if self.cluster.is_some() {
                    return CommandResult::Bootstrapped { already: true };
                }
                self.cluster = Some(ClusterIdentity {
                    cluster_id,
                    cluster_key,
                });
                self.users.insert(admin.name.clone(), admin);
                CommandResult::Bootstrapped { already: false }
            }
            Command::PutStep(step) => put(&mut self.steps, step.name.clone(), step),
            Command::DeleteStep { name } => delete(&mut self.steps, &name),
            Command::PutApplication { name, json } => put(&mut self.applications, name, json),
            Command::DeleteApplication { name } => delete(&mut self.applications, &name),
            Command::PutConfiguration { name, json } => put(&mut self.configurations, name, json),
            Command::DeleteConfiguration { name } => delete(&mut self.configurations, &name),
            Command::CreateTask(spec) => {
                let id = spec.id.clone();
                if self.tasks.contains_key(&id) {
                    return CommandResult::Task {
                        changed: false,
                        reason: Some(format!("task {id} already exists")),
                    };
                }
                self.tasks.insert(id, StepTask::new(spec));
                CommandResult::Task {
                    changed: true,
                    reason: None,
                }
            }
            Command::Task { id, event } => match self.tasks.get_mut(&id) {
                None => CommandResult::Task {
                    changed: false,
                    reason: Some(format!("no task {id}")),
                },
                Some(task) => match step_task::apply(task, event) {
                    Applied::Changed => CommandResult::Task {
                        changed: true,
                        reason: None,
                    },
                    Applied::Ignored(reason) => CommandResult::Task {
                        changed: false,
                        reason: Some(reason),
                    },
                },
            },
            Command::CacheSet {
                key,
                value,
                expires_at_ms,
            } => put(
                &mut self.cache,
                key,
                CacheEntry {
                    value,
                    expires_at_ms,
                },
            ),
            Command::CacheDelete { key } => delete(&mut self.cache, &key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin(hash: &str) -> User {
        User {
            name: "isadmin".into(),
            password_hash: hash.into(),
            roles: vec!["admin".into()],
        }
    }

    #[test]
    fn bootstrap_happens_once() {
        let mut c = Content::default();
        let first = c.apply(Command::Bootstrap {
            cluster_id: "a".into(),
            cluster_key: vec![1; 32],
            admin: admin("h1"),
        });
        assert_eq!(first, CommandResult::Bootstrapped { already: false });
        let second = c.apply(Command::Bootstrap {
            cluster_id: "b".into(),
            cluster_key: vec![2; 32],
            admin: admin("h2"),
        });
        assert_eq!(second, CommandResult::Bootstrapped { already: true });
        assert_eq!(c.cluster.as_ref().unwrap().cluster_key, vec![1; 32]);
        assert_eq!(c.users["isadmin"].password_hash, "h1");
    }

    #[test]
    fn put_reports_replacement_and_delete_reports_existence() {
        let mut c = Content::default();
        let put = |c: &mut Content| {
            c.apply(Command::PutApplication {
                name: "a".into(),
                json: "{}".into(),
            })
        };
        assert_eq!(put(&mut c), CommandResult::Stored { replaced: false });
        assert_eq!(put(&mut c), CommandResult::Stored { replaced: true });
        let del = |c: &mut Content| c.apply(Command::DeleteApplication { name: "a".into() });
        assert_eq!(del(&mut c), CommandResult::Deleted { existed: true });
        assert_eq!(del(&mut c), CommandResult::Deleted { existed: false });
    }
}
