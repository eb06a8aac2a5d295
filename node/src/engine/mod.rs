//! The task state machines, sans-IO: `apply(event)` changes the state and
//! says what happened; nothing here reads a clock, does IO or knows Raft.
//! The Raft state machine applies replicated events through these functions,
//! and tests assert on their answers.

pub mod step_task;

pub use step_task::{Applied, TaskEvent};
