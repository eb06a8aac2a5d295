//! Small leaf utilities every layer may use: the wall clock, capped
//! exponential backoff, `HOST:PORT` splitting, the codec of messages
//! between nodes and numbers as people read them. Nothing here imports another module of the crate.

pub mod addr;
pub mod backoff;
pub mod clock;
pub mod number;
pub mod wire;

pub use backoff::Backoff;
pub use clock::now_ms;
