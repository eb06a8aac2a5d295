//! The pipe protocol between a step actor (host) and its runner process:
//! length-prefixed frames (u32 little-endian length, then a bincode body).
//! The host writes to the runner's stdin; the runner answers on a duplicate
//! of its original stdout (its fd 1 is pointed at stderr so stray prints of C
//! code cannot corrupt the stream).

use serde::{Deserialize, Serialize};

/// Frames above this size are refused as a protocol error rather than
/// allocated (step outputs have their own, smaller, limit).
pub const MAX_FRAME: usize = 512 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToRunner {
    /// Compile the source, find and instantiate the class, report metadata.
    /// Load a step and report its metadata; with `module`, import that
    /// module (a SyncPack's `<pack>.steps.<Class>`) instead of `source`.
    Validate {
        class_name: String,
        source: String,
        module: Option<String>,
    },
    /// Execute a step. `request_json` is the request dict of
    /// `ipaascore._runner.execute` without upstream data, which travels as
    /// raw pickle bytes in `upstream_data` (same order as `upstream`).
    Execute {
        request_json: String,
        upstream_data: Vec<Option<Vec<u8>>>,
        /// (configuration variable, JSON text of its value) of the run's
        /// encrypted values, decrypted by the node: added to the request's
        /// `config` and masked in logs and results. The runner never holds
        /// the cluster key.
        secrets: Vec<(String, String)>,
    },
    /// The answer to [`FromRunner::CacheGet`].
    CacheValue(Option<Vec<u8>>),
    /// The answer to [`FromRunner::ApplicationGet`]: the stored document as
    /// JSON text, `None` when there is no such application.
    ApplicationDoc(Option<String>),
    /// The answer to cache writes and deletes, once they are durable.
    CacheDone(Result<(), String>),
    /// The answer to [`FromRunner::RunApplication`]: the new run's id, or
    /// why it could not start.
    RunStarted(Result<String, String>),
    /// The answer to [`FromRunner::AwaitRun`].
    RunEnded(Result<RunEnd, String>),
}

/// Where a run stands when [`FromRunner::AwaitRun`] stops waiting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEnd {
    /// SUCCESS, FAILURE or REVOKED; the current state when the wait timed out.
    pub state: String,
    pub finished: bool,
    /// (step name, pickle of its saved data) of the run's terminal steps
    /// (those no other step takes data from), in application order.
    pub outputs: Vec<(String, Option<Vec<u8>>)>,
    /// "step: error" of each step that failed.
    pub failures: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// Seconds since the Unix epoch.
    pub time: f64,
    pub levelno: u32,
    pub level: String,
    pub module: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ExecResult {
    Success {
        /// Pickle of the saved data; `None` when the step saved nothing.
        pickle: Option<Vec<u8>>,
        /// JSON rendering of the saved data for display.
        json: String,
        /// JSON text of the reports the step built (`report_manager`),
        /// when its application generates reports.
        reports: Option<String>,
    },
    Failure {
        error_type: String,
        message: String,
        traceback: String,
        /// What the step saved before it failed: (JSON rendering, pickle).
        saved: Option<(String, Option<Vec<u8>>)>,
        reports: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromRunner {
    /// Sent once after start-up, when the runner can take work.
    Ready {
        python_version: String,
    },
    Log(LogRecord),
    CacheGet {
        key: String,
    },
    /// The stored document of an application (`IpaasContentManager.
    /// get_application_dict_from_db`).
    ApplicationGet {
        name: String,
    },
    CacheSet {
        key: String,
        value: Vec<u8>,
        expiry_seconds: Option<f64>,
    },
    CacheDelete {
        key: String,
    },
    /// Start a run of an application (a Trigger Application step); `params`
    /// is the run's params as JSON text.
    RunApplication {
        name: String,
        params: String,
        /// The step will wait for the run (revoking the step's run then
        /// revokes it too).
        blocking: bool,
    },
    /// Wait (at most `timeout_seconds`) until a run has finished.
    AwaitRun {
        run_id: String,
        timeout_seconds: f64,
    },
    /// The JSON answer of `ipaascore._runner.validate`.
    Validated {
        json: String,
    },
    Finished(ExecResult),
    /// The runner itself could not do what was asked (not a step failure).
    RunnerError {
        message: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("the pipe closed")]
    Closed,
    #[error("pipe IO failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("frame of {0} bytes exceeds the limit")]
    TooLarge(usize),
    #[error("cannot encode frame: {0}")]
    Encode(String),
    #[error("cannot decode frame: {0}")]
    Decode(String),
}

pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, FrameError> {
    let body = bincode::serde::encode_to_vec(msg, bincode::config::standard())
        .map_err(|e| FrameError::Encode(e.to_string()))?;
    if body.len() > MAX_FRAME {
        return Err(FrameError::TooLarge(body.len()));
    }
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, FrameError> {
    bincode::serde::decode_from_slice(body, bincode::config::standard())
        .map(|(v, _)| v)
        .map_err(|e| FrameError::Decode(e.to_string()))
}

fn frame_len(header: [u8; 4]) -> Result<usize, FrameError> {
    let len = u32::from_le_bytes(header) as usize;
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    Ok(len)
}

/// Blocking frame IO, used inside the runner process.
pub mod blocking {
    use std::io::{ErrorKind, Read, Write};

    use super::*;

    pub fn write<T: Serialize>(w: &mut impl Write, msg: &T) -> Result<(), FrameError> {
        w.write_all(&encode(msg)?)?;
        w.flush()?;
        Ok(())
    }

    pub fn read<T: serde::de::DeserializeOwned>(r: &mut impl Read) -> Result<T, FrameError> {
        let mut header = [0u8; 4];
        match r.read_exact(&mut header) {
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Err(FrameError::Closed),
            other => other?,
        }
        let mut body = vec![0u8; frame_len(header)?];
        r.read_exact(&mut body)?;
        decode(&body)
    }
}

/// Async frame IO, used by the host.
pub mod nonblocking {
    use std::io::ErrorKind;

    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

    use super::*;

    pub async fn write<T: Serialize>(w: &mut (impl AsyncWrite + Unpin), msg: &T) -> Result<(), FrameError> {
        w.write_all(&encode(msg)?).await?;
        w.flush().await?;
        Ok(())
    }

    pub async fn read<T: serde::de::DeserializeOwned>(
        r: &mut (impl AsyncRead + Unpin),
    ) -> Result<T, FrameError> {
        let mut header = [0u8; 4];
        match r.read_exact(&mut header).await {
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Err(FrameError::Closed),
            other => other?,
        };
        let mut body = vec![0u8; frame_len(header)?];
        r.read_exact(&mut body).await?;
        decode(&body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_eof_is_closed() {
        let msg = FromRunner::Finished(ExecResult::Success {
            pickle: Some(vec![1, 2, 3]),
            json: "{}".into(),
            reports: Some("[]".into()),
        });
        let mut buf = Vec::new();
        blocking::write(&mut buf, &msg).unwrap();
        blocking::write(&mut buf, &FromRunner::CacheGet { key: "k".into() }).unwrap();
        let mut r = std::io::Cursor::new(buf);
        assert_eq!(blocking::read::<FromRunner>(&mut r).unwrap(), msg);
        assert_eq!(
            blocking::read::<FromRunner>(&mut r).unwrap(),
            FromRunner::CacheGet { key: "k".into() }
        );
        assert!(matches!(
            blocking::read::<FromRunner>(&mut r),
            Err(FrameError::Closed)
        ));
    }

    #[test]
    fn oversized_length_is_refused_before_allocating() {
        let mut r = std::io::Cursor::new(u32::MAX.to_le_bytes().to_vec());
        assert!(matches!(
            blocking::read::<FromRunner>(&mut r),
            Err(FrameError::TooLarge(_))
        ));
    }
}
