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
