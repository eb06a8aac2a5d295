//! Rendering of server answers for people, one file per kind of answer:
//! `catalog` (lists of stored content, the step sheet), `task` (task
//! progress lines, outcomes, the task sheet), `logs` (log lines of a task),
//! `run` (application runs: state changes, outcome, run sheet, run list),
//! `run_logs` (the merged log lines of a run's steps), `summary` (documents
//! whose shape is open: about, cluster status), with the helpers they share:
//! `fields` (reading answers), `table`, `time` and `style` (state colours).
//!
//! Every renderer is pure (value in, text out) and tolerant of missing or
//! oddly typed fields; writing to stdout happens only in [`emit`] and
//! [`draw`].

use std::io::Write;

use serde_json::Value;

mod catalog;
mod fields;
#[cfg(test)]
mod fixtures;
mod logs;
mod run;
mod run_logs;
mod style;
mod summary;
mod table;
mod task;
mod time;

pub(crate) use catalog::{list_table, step_sheet};
pub(crate) use fields::text;
pub(crate) use logs::{late_logs, log_line, log_lines, SeenLogs};
pub(crate) use run::{
    change_line, is_run, run_outcome, run_replayed, run_sheet, run_started, run_still_running, runs_table,
    state_with_attempt,
};
pub(crate) use run_logs::{run_logs, run_logs_section, run_logs_text, RunLogs, StepLogs};
pub(crate) use style::paint;
pub(crate) use summary::summary;
pub(crate) use task::{
    is_failed_state, is_final_state, revoked, state_line, still_running, task_logs, task_outcome, task_sheet,
    task_started,
};

/// Writes `text` to stdout, adding the final newline if missing. Colour
/// escape codes are stripped when stdout is not a terminal that shows
/// them, or NO_COLOR is set (anstream decides, as for [`colors_wanted`]).
/// Write errors (a closed pipe, as in `iscli step list | head -1`) are
/// ignored instead of panicking like `println!`.
pub(crate) fn emit(text: &str) {
    write_text(&mut anstream::stdout().lock(), text);
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

/// Pretty-printed JSON (what `--json` prints).
pub(crate) fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}
