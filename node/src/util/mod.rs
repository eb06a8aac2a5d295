//! Small leaf utilities every layer may use: the wall clock, capped
//! exponential backoff, `HOST:PORT` splitting, the codec of messages
//! between nodes, histograms of observations, numbers as people read them and threads joined on drop. Nothing here imports another module of the crate.

pub mod addr;
pub mod backoff;
pub mod clock;
pub mod histogram;
pub mod number;
pub mod thread;
pub mod wire;

pub use backoff::Backoff;
pub use clock::now_ms;
