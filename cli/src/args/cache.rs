//! `iscli cache ...`: reading and deleting entries of the shared cache.

use std::path::PathBuf;

use clap::Subcommand;

/// What to do with the shared cache.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum CacheCommand {
    /// Show an entry: its value as JSON, its size and expiry. Cache Save
    /// steps store their keys as APPLICATION/KEY
    Get {
        /// The whole stored key
        key: String,
        /// Write the stored pickle to FILE ("-" for stdout) instead of
        /// showing the value
        #[arg(long, value_name = "FILE")]
        raw: Option<PathBuf>,
    },
    /// Delete an entry
    Delete {
        /// The whole stored key
        key: String,
    },
}
