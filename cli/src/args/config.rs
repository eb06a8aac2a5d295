//! `iscli config ...` (alias `configuration`): listing, showing and
//! deleting configurations.

use clap::Subcommand;

/// What to do with configurations.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum ConfigCommand {
    /// List every configuration: name, friendly name, version
    List,
    /// Show one configuration: its fields and variables (encrypted values
    /// hidden); --json prints the stored document (encrypted values as
    /// ciphertext)
    Get {
        /// Configuration name
        name: String,
    },
    /// Delete one configuration
    Delete {
        /// Configuration name
        name: String,
    },
}
