//! Waiting without sleeping blindly: look at something every few
//! milliseconds until it is as expected, with a deadline and a failure
//! message that says what was seen last.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

/// One look at something a test waits for.
pub enum Progress<T> {
    Done(T),
    /// Not yet; what was seen, for the failure message.
    NotYet(String),
}

/// Calls `look` every 50 ms until it answers `Done`; fails with the last
/// `NotYet` description after `within`, or at once when `look` fails.
pub async fn poll<T>(within: Duration, look: impl AsyncFnMut() -> Result<Progress<T>>) -> Result<T> {
    poll_every(Duration::from_millis(50), within, look).await
}

/// [`poll`] with another pause between looks, for deadlines too short for
/// 50 ms steps. The last look may come up to `every` after `within`.
pub async fn poll_every<T>(
    every: Duration,
    within: Duration,
    mut look: impl AsyncFnMut() -> Result<Progress<T>>,
) -> Result<T> {
    let deadline = Instant::now() + within;
    loop {
        match look().await? {
            Progress::Done(v) => return Ok(v),
            Progress::NotYet(seen) if Instant::now() > deadline => bail!("{seen}"),
            Progress::NotYet(_) => tokio::time::sleep(every).await,
        }
    }
}

/// Calls `look` every 50 ms for `within` and fails at the first failure:
/// for what must stay so for a while (nothing picks up a task), not for
/// waiting.
pub async fn stays(within: Duration, mut look: impl AsyncFnMut() -> Result<()>) -> Result<()> {
    let until = Instant::now() + within;
    while Instant::now() < until {
        look().await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    look().await
}

/// Waits (up to `within`) for the server to close `conn`, reading and
/// dropping whatever it sends first (a 408 answer, say); answers whether
/// it closed.
pub async fn closed_within(conn: &mut tokio::net::TcpStream, within: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, conn.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}
