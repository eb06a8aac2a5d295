//! The task and run state machines, sans-IO: `apply(event)` changes the
//! state and answers what happened or what must be done; nothing here reads
//! a clock, does IO or knows Raft. The Raft state machine applies replicated
//! events through these functions, and tests assert on their answers.

pub mod run;
pub mod schedule;
pub mod step_task;

pub use step_task::{Applied, TaskEvent};
