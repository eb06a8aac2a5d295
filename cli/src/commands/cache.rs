//! `iscli cache ...`: showing an entry (or saving its pickle) and deleting one.

use std::io::Write;
use std::path::Path;

use super::{Context, Outcome};
use crate::args::CacheCommand;
use crate::client::Client;
use crate::error::CliError;
use crate::output;

pub(crate) async fn run(client: &mut Client, cmd: CacheCommand, ctx: &Context) -> Result<Outcome, CliError> {
    match cmd {
        CacheCommand::Get { key, raw: None } => {
            let entry = client.get_cache_entry(&key, false).await?;
            ctx.print(&entry, output::cache_sheet)?;
        }
        CacheCommand::Get { key, raw: Some(path) } => {
            let entry = client.get_cache_entry(&key, true).await?;
            let pickle = entry.pickle.unwrap_or_default();
            write_raw(&path, &pickle)?;
            if path != Path::new("-") {
                output::emit(&format!(
                    "wrote the {} byte pickle of {key} to {}",
                    pickle.len(),
                    path.display()
                ));
            }
        }
        CacheCommand::Delete { key } => {
            let deleted = client.delete_cache_entry(&key).await?;
            ctx.print(&deleted, |d| format!("deleted cache entry {}", d.key))?;
        }
    }
    Ok(Outcome::Success)
}

fn write_raw(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let failed =
        |e: std::io::Error| CliError::Local(format!("cannot write the pickle to {}: {e}", path.display()));
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes).and_then(|()| out.flush()).map_err(failed)
    } else {
        std::fs::write(path, bytes).map_err(failed)
    }
}
