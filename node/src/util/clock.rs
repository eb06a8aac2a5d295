//! The wall clock, read in one place. Timestamps that end up in replicated
//! state are read by a proposer and travel in the command, so applying a
//! command never reads the clock (see ARCHITECTURE.md, determinism).

/// Wall-clock time in ms since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
