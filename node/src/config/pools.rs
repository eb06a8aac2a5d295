//! Worker pools (DESIGN 4.6): which queues each pool of workers serves and
//! how many workers it has, from the config file's `worker_pools` and
//! `IS_WORKERS`.

use serde::Deserialize;

/// Workers serving a set of queues (DESIGN 4.6).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerPool {
    #[serde(default)]
    pub queues: Vec<String>,
    pub concurrency: usize,
}

impl WorkerPool {
    /// The queues served; a pool that names none serves `default`.
    pub fn served_queues(&self) -> Vec<String> {
        if self.queues.is_empty() {
            vec!["default".to_string()]
        } else {
            self.queues.clone()
        }
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// The configured pools, or one pool on `default` with a worker per core;
/// `workers` (IS_WORKERS) resizes the pool serving `default`.
pub(super) fn worker_pools(configured: Option<Vec<WorkerPool>>, workers: Option<usize>) -> Vec<WorkerPool> {
    let mut pools = configured.unwrap_or_else(|| {
        vec![WorkerPool {
            queues: vec!["default".to_string()],
            concurrency: cores(),
        }]
    });
    if let Some(n) = workers {
        match pools
            .iter_mut()
            .find(|p| p.served_queues().iter().any(|q| q == "default"))
        {
            Some(p) => p.concurrency = n,
            None => pools.push(WorkerPool {
                queues: vec!["default".to_string()],
                concurrency: n,
            }),
        }
    }
    pools
}
