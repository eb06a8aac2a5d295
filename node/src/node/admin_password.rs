//! The administrator's generated password: made, saved (mode 0600) and
//! printed once when a new cluster is bootstrapped without
//! `IS_ADMIN_PASSWORD`, and its file deleted once the administrator has
//! changed the password.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{NodeError, ADMIN_PASSWORD_FILE};
use crate::crypto;
use crate::model::user::ADMIN_USER;

/// Deletes the generated password's file once it no longer is the
/// administrator's password (changed through the API, on any node). Checked
/// every few seconds while the file exists: a string comparison of the
/// stored hash, and one slow verification at start.
pub(super) async fn forget_initial_password(content: crate::store::ContentHandle, path: PathBuf) {
    let admin_hash = || {
        let sm = content.read();
        sm.content.users.get(ADMIN_USER).map(|u| u.password_hash.clone())
    };
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    let mut known: Option<String> = None;
    loop {
        tick.tick().await;
        let Some(hash) = admin_hash() else { continue };
        if known.as_ref() == Some(&hash) {
            continue;
        }
        let saved = std::fs::read_to_string(&path).unwrap_or_default();
        let (pw, h) = (saved.trim().to_string(), hash.clone());
        let still = tokio::task::spawn_blocking(move || crypto::verify_password(&pw, &h))
            .await
            .unwrap_or(true);
        if still {
            known = Some(hash);
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => tracing::info!(
                path = %path.display(),
                "the administrator's password was changed: deleted the file holding the generated one"
            ),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot delete the file of the generated administrator password")
            }
        }
        return;
    }
}

/// The password of a new administrator: the one an interrupted bootstrap
/// saved, else a new one, saved and printed.
pub(super) fn generated_password(data_dir: &Path) -> Result<String, NodeError> {
    let path: PathBuf = data_dir.join(ADMIN_PASSWORD_FILE);
    let io_err = |source| NodeError::DataDir {
        path: path.display().to_string(),
        source,
    };
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if !existing.trim().is_empty() {
            return Ok(existing.trim().to_string());
        }
    }
    let password = crypto::generate_password();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&path).map_err(io_err)?;
    f.write_all(format!("{password}\n").as_bytes()).map_err(io_err)?;
    f.sync_all().map_err(io_err)?;
    println!(
        "Generated the password of the administrator '{ADMIN_USER}': {password}\n\
         It is saved in {} (mode 0600) until the administrator changes it, then the file is deleted;\n\
         this is the only time it is printed.",
        path.display()
    );
    Ok(password)
}
