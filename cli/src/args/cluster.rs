//! `iscli cluster ...`: the cluster's status, adding and removing nodes,
//! and rotating the cluster key.

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
    /// Make a new cluster key and seal every encrypted configuration value
    /// again under it (administrators only)
    ///
    /// The cluster key encrypts the values of configurations marked
    /// encrypted. Rotating it decrypts every such value with the old key
    /// and encrypts it with a new one, in one replicated change: every
    /// node uses the new key from then on, and the ciphertext `config get`
    /// shows changes while the values stay the same. If a configuration
    /// changes meanwhile, nothing is rotated and the command fails: run it
    /// again. With --json: the node's answer, {"result": "rotated",
    /// "configurations": N, "values": M}.
    #[command(after_help = ROTATE_KEY_HELP)]
    RotateKey,
}

const ROTATE_KEY_HELP: &str = "\
Examples:
  iscli cluster rotate-key                 prints how many values were sealed again
  iscli cluster rotate-key --json";
