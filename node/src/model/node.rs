//! What the cluster knows of each node beyond its Raft membership: where its
//! actor network listens and which worker pools it runs. Each node
//! registers itself (replicated) when it starts.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub id: u64,
    /// REST + gRPC listener, HOST:PORT.
    pub api_addr: String,
    /// ractor_cluster listener, HOST:PORT; None when the node has no
    /// cluster secret (it runs alone).
    pub cluster_addr: Option<String>,
    /// (queues served, workers) per worker pool.
    pub pools: Vec<(Vec<String>, usize)>,
}

impl NodeInfo {
    pub fn workers(&self) -> usize {
        self.pools.iter().map(|(_, n)| n).sum()
    }

    pub fn queues(&self) -> Vec<String> {
        let mut q: Vec<String> = self.pools.iter().flat_map(|(q, _)| q.iter().cloned()).collect();
        q.sort();
        q.dedup();
        q
    }
}

/// The prefix of the names of node `id`'s workers (`node<id>/worker-<n>`),
/// the names attempts record as their worker.
pub fn worker_prefix(id: u64) -> String {
    format!("node{id}")
}

/// The node a worker name (as [`worker_prefix`] spells it) belongs to.
pub fn node_of_worker(worker: &str) -> Option<u64> {
    let (prefix, _) = worker.split_once('/')?;
    prefix.strip_prefix("node")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_name_tells_its_node() {
        let name = format!("{}/worker-3", worker_prefix(12));
        assert_eq!(node_of_worker(&name), Some(12));
        assert_eq!(node_of_worker("w"), None);
        assert_eq!(node_of_worker("nodeX/worker-1"), None);
    }
}
