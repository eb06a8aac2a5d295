//! Rendering of server answers for people, one file per kind of answer:
//! `catalog` (lists of stored content, the step sheet), `documents` (the
//! summaries of `app get` and `config get`), `task` (task
//! progress lines, outcomes, the task sheet), `logs` (log lines of a task),
//! `run` (application runs: state changes, outcome, run sheet, run list),
//! `run_logs` (the merged log lines of a run's steps), `system` (about,
//! cluster status, key rotation), `syncpack` (the list and sheet of syncpacks, the lines
//! of following an install), `schedule` (the list and sheet of schedules
//! with their history), `report` (the list of reports, one report's
//! sections as tables), `users` (users, roles and API keys), `audit` (the
//! audit trail), with the helpers they share: `states` (state names, final
//! and failed states), `fields` (reading free-form JSON values), `table`,
//! `time` and `style` (the colours of states and of `error:`).
//!
//! Every renderer is pure (typed message in, text out); the JSON `--json`
//! prints is the message's own serialization ([`json_text`]). Writing to
//! stdout happens only in [`emit`] and [`draw`]; a warning that must not
//! mix with what a script reads from stdout goes to stderr ([`warn`]).

use std::io::Write;

use serde::Serialize;
use serde_json::Value;

use crate::error::{ApiError, ApiErrorKind, CliError};

mod audit;
mod cache;
mod catalog;
mod documents;
mod fields;
#[cfg(test)]
pub(crate) mod fixtures;
mod logs;
mod report;
mod run;
mod run_logs;
mod schedule;
mod states;
mod style;
mod syncpack;
mod system;
mod table;
mod task;
mod time;
mod users;

pub(crate) use audit::audit_table;
pub(crate) use cache::cache_sheet;
pub(crate) use catalog::{list_table, step_sheet};
pub(crate) use documents::{application_summary, configuration_summary};
pub(crate) use fields::text;
pub(crate) use logs::{late_logs, log_line, SeenLogs};
pub(crate) use report::{report_sheet, report_table};
pub(crate) use run::{
    change_line, run_outcome, run_replayed, run_sheet, run_started, run_still_running, runs_table,
    state_with_attempt,
};
pub(crate) use run_logs::{run_logs, run_logs_section, run_logs_text, RunLogs, StepLogs};
pub(crate) use schedule::{schedule_added, schedule_sheet, schedule_table, schedule_toggled};
pub(crate) use states::{is_failed, is_final, state_text};
pub(crate) use style::paint;
#[cfg(test)]
pub(crate) use style::plain;
use style::{painted_error, painted_state};
pub(crate) use syncpack::{install_logs, node_progress, pack_sheet, pack_table};
pub(crate) use system::{about_sheet, cluster_sheet, key_rotated};
pub(crate) use task::{
    revoked, state_line, still_running, task_logs, task_outcome, task_sheet, task_started,
};
pub(crate) use users::{
    key_table, key_warning, password_changed, role_changed, role_owner_line, role_table, user_created,
    user_table, whoami_sheet,
};

/// Writes `text` to stdout, adding the final newline if missing. Colour
/// escape codes are stripped when stdout is not a terminal that shows
/// them, or NO_COLOR is set (anstream decides, as for [`colors_wanted`]).
/// Write errors (a closed pipe, as in `iscli step list | head -1`) are
/// ignored instead of panicking like `println!`.
pub(crate) fn emit(text: &str) {
    write_text(&mut anstream::stdout().lock(), text);
}

/// Writes `text` to stderr (colours as [`emit`] decides for stderr).
pub(crate) fn warn(text: &str) {
    write_text(&mut anstream::stderr().lock(), text);
}

/// Writes a failure's report (`error: ...`) to stderr, `error:` in red
/// where stderr shows colours (see [`warn`]).
pub(crate) fn report_error(report: &str) {
    warn(&painted_error(report));
}

/// Writes a frame of the live view exactly as it is: its cursor movements
/// must reach the terminal even when colours are off, and anstream would
/// strip them together with the colours.
pub(crate) fn draw(frame: &str) {
    write_text(&mut std::io::stdout().lock(), frame);
}

fn write_text(out: &mut impl Write, text: &str) {
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// True when stdout shows colours: a terminal that supports them, with
/// NO_COLOR unset or empty (CLICOLOR and CLICOLOR_FORCE are honoured too).
/// The same decision [`emit`] follows when it strips colours.
pub(crate) fn colors_wanted() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}

/// Pretty-printed JSON.
pub(crate) fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// What `--json` prints for an answer: the message as JSON (the shape REST
/// answers, keys in name order), pretty-printed.
pub(crate) fn json_text<T: Serialize + ?Sized>(answer: &T) -> Result<String, CliError> {
    json_value(answer).map(|value| pretty(&value))
}

/// An answer as JSON, the shape REST answers (for documents `--json` prints
/// that hold answers).
pub(crate) fn json_value<T: Serialize + ?Sized>(answer: &T) -> Result<Value, CliError> {
    serde_json::to_value(answer).map_err(|e| {
        CliError::Api(ApiError {
            kind: ApiErrorKind::Internal,
            error: format!("cannot show the node's answer as JSON: {e}"),
            details: Vec::new(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use is_proto::v1::{TaskState, TaskStatus};

    #[test]
    fn json_text_is_the_messages_rest_shape_with_keys_in_name_order() {
        let status = TaskStatus {
            id: "t-1".into(),
            state: TaskState::Success as i32,
            ..Default::default()
        };
        let text = json_text(&status).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["state"], "SUCCESS");
        assert!(text.find("\"attempt\"") < text.find("\"id\""), "{text}");
    }
}
