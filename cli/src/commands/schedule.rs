//! `iscli schedule ...`: adding a schedule (built from the flags, or read
//! from a document file), listing and showing schedules, enabling,
//! disabling and deleting one.

use std::io::Read;
use std::path::Path;

use serde_json::{json, Value};

use super::syncpack::unexpected;
use super::{deleted, Context, Outcome};
use crate::args::{ScheduleAdd, ScheduleCommand, ScheduleSource};
use crate::client::Client;
use crate::error::CliError;
use crate::output;

pub(crate) async fn run(
    client: &mut Client,
    cmd: ScheduleCommand,
    ctx: &Context,
) -> Result<Outcome, CliError> {
    match cmd {
        ScheduleCommand::Add(what) => return add(client, body(&what)?, ctx).await,
        ScheduleCommand::List => {
            let answer = client.list_schedules().await?;
            let Some(entries) = answer.as_array() else {
                return Err(unexpected("a list of schedules", &answer));
            };
            ctx.print(entries.as_slice(), output::schedule_table)?;
        }
        ScheduleCommand::Show { id } => {
            let entry = entry(client.get_schedule(&id).await?)?;
            ctx.print(&entry, output::schedule_sheet)?;
        }
        ScheduleCommand::Enable { id } => set_enabled(client, &id, true, ctx).await?,
        ScheduleCommand::Disable { id } => set_enabled(client, &id, false, ctx).await?,
        ScheduleCommand::Delete { id } => {
            let name = client.delete_schedule(&id).await?;
            output::emit(&deleted(ctx, "schedule", &name)?);
        }
    }
    Ok(Outcome::Success)
}

/// What `schedule add` sends: the document the flags describe, or the
/// --file's text once it is known to hold a JSON object. Read before any
/// network call, as uploads are.
pub(crate) fn body(what: &ScheduleAdd) -> Result<String, CliError> {
    match what.source()? {
        ScheduleSource::Document(doc) => Ok(doc.to_string()),
        ScheduleSource::File(path) => read_document(&path),
    }
}

/// `schedule add` with its `body`: stores it, then says what the node
/// made of it.
pub(crate) async fn add(client: &mut Client, body: String, ctx: &Context) -> Result<Outcome, CliError> {
    let entry = entry(client.put_schedule(body).await?)?;
    ctx.print(&entry, output::schedule_added)?;
    Ok(Outcome::Success)
}

/// `schedule enable` and `schedule disable`: the change, then the entry as
/// the node answers it.
async fn set_enabled(client: &mut Client, id: &str, enabled: bool, ctx: &Context) -> Result<(), CliError> {
    let entry = entry(client.update_schedule(id, &json!({ "enabled": enabled })).await?)?;
    ctx.print(&entry, output::schedule_toggled)
}

/// The answer when it is a schedule entry (a JSON object).
fn entry(answer: Value) -> Result<Value, CliError> {
    if answer.is_object() {
        Ok(answer)
    } else {
        Err(unexpected("a schedule entry", &answer))
    }
}

/// The text of a schedule document file (`-`: stdin), once it is known to
/// hold a JSON object; sent as it is.
fn read_document(path: &Path) -> Result<String, CliError> {
    let stdin = path == Path::new("-");
    let text = if stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::Local(format!("cannot read the schedule document from stdin: {e}")))?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| {
            let reason = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                std::io::ErrorKind::InvalidData => "not UTF-8 text".to_string(),
                _ => e.to_string(),
            };
            CliError::Local(format!("cannot read {}: {reason}", path.display()))
        })?
    };
    let name = if stdin {
        "the document on stdin".to_string()
    } else {
        path.display().to_string()
    };
    check_document(&text, &name)?;
    Ok(text)
}

/// Refuses a document that is not a JSON object before sending it (`name`:
/// the file it came from).
fn check_document(text: &str, name: &str) -> Result<(), CliError> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| CliError::Local(format!("{name} is not valid JSON: {e}")))?;
    let found = match doc {
        Value::Object(_) => return Ok(()),
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
    };
    Err(CliError::Local(format!(
        "{name} holds {found}, not a schedule document (a JSON object; see 'iscli schedule add --help')"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Scratch;

    #[test]
    fn documents_must_be_json_objects() {
        assert!(check_document(r#"{"application_id": "a"}"#, "s.json").is_ok());
        let err = check_document("[1]", "s.json").unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert!(
            err.render()
                .contains("s.json holds an array, not a schedule document"),
            "{}",
            err.render()
        );
        let err = check_document("{oops", "s.json").unwrap_err();
        assert!(
            err.render().contains("s.json is not valid JSON"),
            "{}",
            err.render()
        );
    }

    #[test]
    fn document_files_are_read_as_they_are() {
        let dir = Scratch::new("schedule-doc");
        let text = "{\"application_id\": \"a\",\n \"entry_id\": \"e\"}\n";
        let path = dir.write("s.json", text.as_bytes());
        assert_eq!(read_document(&path).unwrap(), text);
        let err = read_document(&dir.0.join("missing.json")).unwrap_err();
        assert!(
            err.render().contains("missing.json: no such file or directory"),
            "{}",
            err.render()
        );
    }

    #[test]
    fn answers_that_are_not_entries_are_refused() {
        assert!(entry(json!({"id": "sched-1"})).is_ok());
        let err = entry(json!("created")).unwrap_err();
        assert!(
            err.render().contains("where a schedule entry was expected"),
            "{}",
            err.render()
        );
    }
}
