//! Application runs end to end through REST (DESIGN 3, 4.1–4.6), one module
//! per subject. Every test starts its own node; waits poll with deadlines,
//! and steps that must stay running while a test acts wait for a marker
//! file the test creates.

mod support;

mod dataflow;
mod events;
mod listing;
mod queues;
mod recovery;
mod refusals;
mod replay;
mod retries;
mod revoke;
mod streams;
mod variables;
