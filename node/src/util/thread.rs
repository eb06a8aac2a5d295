//! A thread that is waited for when its handle is dropped.

/// Joins the thread when dropped. Held (in an `Arc`) beside the channel
/// that feeds the thread and declared after it, so the last owner closes
/// the channel first and then waits for the thread to finish what was
/// queued — a thread still holding a file open (the log, the store) after
/// its owner was dropped made reopening it in the same process fail.
pub struct JoinOnDrop {
    name: &'static str,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl JoinOnDrop {
    pub fn spawn(name: &'static str, body: impl FnOnce() + Send + 'static) -> std::io::Result<JoinOnDrop> {
        let handle = std::thread::Builder::new().name(name.into()).spawn(body)?;
        Ok(JoinOnDrop {
            name,
            handle: Some(handle),
        })
    }
}

impl Drop for JoinOnDrop {
    fn drop(&mut self) {
        if let Some(t) = self.handle.take() {
            if t.join().is_err() {
                tracing::error!(thread = self.name, "a thread panicked");
            }
        }
    }
}
