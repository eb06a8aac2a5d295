//! The audit trail as the API makes it: every change, every call refused
//! for want of a permission and every failed login (credentials that did
//! not authenticate) becomes an [`AuditRecord`] (who, what, when, from
//! where, how it ended), made by the authentication middleware after the
//! handler answered, and replicated in batches through Raft by [`AuditSink`].
//!
//! What a call acted on is read from the first bytes of its request body
//! as they stream to the handler ([`Tap`]), so nothing is buffered: a
//! document's `name` (REST JSON), or the first text field of a gRPC message
//! (the name or id every request of the contract starts with).
//!
//! **Invariant:** making a record never delays or fails the call it
//! records: the sink's queue is bounded and a full queue drops the record
//! (counted and logged), and proposing happens on the sink's own task.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::Body;
use http_body::Frame;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::{ApiError, Service};
use crate::model::audit::AuditRecord;
use crate::raft::Raft;
use crate::store::Command;

/// How much of a request body the tap keeps to find its target.
const TAP_BYTES: usize = 64 * 1024;
/// Records waiting to be proposed; past it new ones are dropped.
const QUEUE: usize = 10_000;
/// Records proposed in one entry at most.
const BATCH: usize = 500;

/// Hands records to the task that proposes them.
#[derive(Clone)]
pub struct AuditSink {
    tx: mpsc::Sender<AuditRecord>,
    dropped: Arc<std::sync::atomic::AtomicU64>,
}

impl AuditSink {
    /// A sink and the task that drains it into `raft`.
    pub fn start(raft: Raft) -> AuditSink {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(drain(raft, rx));
        AuditSink {
            tx,
            dropped: Arc::default(),
        }
    }

    pub fn record(&self, r: AuditRecord) {
        if self.tx.try_send(r).is_err() {
            let n = self.dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(dropped = n, "the audit queue is full: records are being dropped");
            }
        }
    }
}

async fn drain(raft: Raft, mut rx: mpsc::Receiver<AuditRecord>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let n = batch.len();
        if let Err(e) = crate::raft::propose(&raft, Command::Audit(batch)).await {
            tracing::warn!(records = n, error = %e, "audit records were not stored");
        }
    }
}

/// The first bytes of a request body, kept as they pass to the handler.
#[derive(Clone, Default)]
pub struct Tapped(Arc<Mutex<Vec<u8>>>);

pub struct Tap {
    inner: Body,
    seen: Tapped,
}

impl Tap {
    pub fn wrap(inner: Body) -> (Body, Tapped) {
        let seen = Tapped::default();
        (
            Body::new(Tap {
                inner,
                seen: seen.clone(),
            }),
            seen,
        )
    }
}

impl http_body::Body for Tap {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                let mut seen = self.seen.0.lock().unwrap_or_else(|p| p.into_inner());
                let room = TAP_BYTES.saturating_sub(seen.len());
                seen.extend_from_slice(&data[..data.len().min(room)]);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The name or id a JSON document gives itself.
fn named_in(doc: &Value) -> Option<String> {
    ["name", "owner", "application_id", "entry_id", "id"]
        .iter()
        .find_map(|k| doc.get(*k).and_then(Value::as_str))
        .map(str::to_string)
}

/// Reads a protobuf varint at the start of `b`: (value, bytes used).
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// What the call acted on, from the first bytes of its body.
impl Tapped {
    pub fn target(&self, grpc: bool) -> String {
        let seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let found = if grpc {
            // A gRPC message: 5 bytes of frame header, then the message,
            // whose field 1 (tag 0x0a: field 1, length-delimited) is its
            // name, id or JSON text.
            seen.get(5..).filter(|m| m.first() == Some(&0x0a)).and_then(|m| {
                let (len, used) = varint(&m[1..])?;
                let text = m.get(1 + used..1 + used + usize::try_from(len).ok()?)?;
                let text = std::str::from_utf8(text).ok()?;
                match serde_json::from_str::<Value>(text) {
                    Ok(doc @ Value::Object(_)) => named_in(&doc),
                    _ => Some(text.to_string()),
                }
            })
        } else {
            serde_json::from_slice::<Value>(&seen)
                .ok()
                .as_ref()
                .and_then(named_in)
        };
        let mut t = found.unwrap_or_default();
        if let Some((cut, _)) = t.char_indices().nth(200) {
            t.truncate(cut);
        }
        t
    }
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// At most this many records (default 50).
    pub limit: Option<usize>,
}

impl Service {
    /// A page of the audit trail, newest first; `cursor` is the
    /// `next_cursor` of the previous page.
    pub fn list_audit(&self, cursor: Option<&str>, limit: usize) -> Result<Value, ApiError> {
        if !(1..=1000).contains(&limit) {
            return Err(ApiError::bad_request(format!(
                "limit must be from 1 to 1000, got {limit}"
            )));
        }
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                let (t, id) = c
                    .split_once(':')
                    .and_then(|(t, id)| Some((t.parse::<u64>().ok()?, id.to_string())))
                    .ok_or_else(|| ApiError::bad_request(format!("cursor {c:?} is not one this API gave")))?;
                Some((t, id))
            }
        };
        let (records, next) = self.inner.content.audit(after.as_ref(), limit)?;
        Ok(json!({
            "records": records.iter().map(|r| json!({
                "at_ms": r.at_ms,
                "user": r.user,
                "api_key": r.api_key,
                "address": r.address,
                "action": r.action,
                "target": r.target,
                "status": r.status,
            })).collect::<Vec<_>>(),
            "next_cursor": next.map(|(t, id)| format!("{t}:{id}")),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tapped(bytes: &[u8]) -> Tapped {
        Tapped(Arc::new(Mutex::new(bytes.to_vec())))
    }

    #[test]
    fn targets_come_from_json_names_and_the_first_grpc_field() {
        assert_eq!(tapped(br#"{"name": "S", "data": "x"}"#).target(false), "S");
        assert_eq!(
            tapped(br#"{"owner": "bob", "role": "viewer"}"#).target(false),
            "bob"
        );
        assert_eq!(tapped(b"not json").target(false), "");
        // frame header, then field 1 = "Step1"
        let mut m = vec![0, 0, 0, 0, 7, 0x0a, 5];
        m.extend_from_slice(b"Step1");
        assert_eq!(tapped(&m).target(true), "Step1");
        let json = br#"{"name":"app"}"#;
        let mut m = vec![0, 0, 0, 0, 16, 0x0a, json.len() as u8];
        m.extend_from_slice(json);
        assert_eq!(tapped(&m).target(true), "app");
        assert_eq!(tapped(&[0, 0, 0, 0, 2, 0x10, 1]).target(true), "");
    }
}
