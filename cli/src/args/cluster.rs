//! `iscli cluster ...`: the cluster's status, adding and removing nodes.

use clap::Subcommand;

/// What to do with the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum ClusterCommand {
    /// Show members, leader and health
    Status,
    /// Add a node (started with the same cluster_secret) as a voting member;
    /// it catches up first
    Add {
        /// The new node's id (its node_id setting)
        id: u64,
        /// The new node's listener, HOST:PORT
        address: String,
    },
    /// Remove a node from the cluster
    Remove {
        /// Node id
        id: u64,
    },
}
