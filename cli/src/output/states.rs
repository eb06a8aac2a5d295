//! Task states for people: the name a state is shown by (the one the JSON
//! answers carry), which states are final, and which of those mean that the
//! task or run did not do its job (the exit code follows them).

use is_proto::v1::TaskState;

/// The name of a state on screens and in JSON: `SUCCESS`, `RETRY`, ...
/// (`UNKNOWN` for a state this iscli does not know).
pub(crate) fn state_text(state: TaskState) -> &'static str {
    is_proto::json::state_name(state as i32)
}

/// True for the states a task never leaves.
pub(crate) fn is_final(state: TaskState) -> bool {
    matches!(
        state,
        TaskState::Success | TaskState::Failure | TaskState::Revoked
    )
}

/// True when a finished task did not do its job (the command exits 1).
pub(crate) fn is_failed(state: TaskState) -> bool {
    matches!(state, TaskState::Failure | TaskState::Revoked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_and_failed_states() {
        assert!(is_failed(TaskState::Failure) && is_failed(TaskState::Revoked));
        assert!(!is_failed(TaskState::Success) && !is_final(TaskState::Retry));
        assert!(is_final(TaskState::Success) && !is_final(TaskState::Unspecified));
        assert_eq!(state_text(TaskState::Retry), "RETRY");
        assert_eq!(state_text(TaskState::Unspecified), "UNKNOWN");
    }
}
