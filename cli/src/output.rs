//! Rendering of server answers for people: item tables for lists, the step
//! sheet (metadata, parameters, source), task progress lines, outcomes and
//! the task sheet, application runs (state changes, step log lines, the
//! outcome, the run sheet, the run list, state colors), a generic key/value
//! summary for documents whose shape is open (about, cluster status), and
//! pretty JSON for `--json`. Every function here is pure (value in, text
//! out) and tolerant of missing or oddly typed fields; printing is the
//! caller's job.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;

use serde_json::{Map, Value};

/// Writes `text` to stdout, adding the final newline if missing. Write
/// errors (a closed pipe, as in `iscli step list | head -1`) are ignored
/// instead of panicking like `println!`.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// Pretty-printed JSON (what `--json` prints).
pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// The items of a list answer: a JSON array, or an object wrapping one array
/// (`{"steps": [...]}`), or a name → item map.
pub fn items(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(a) => a.clone(),
        Value::Object(obj) => {
            let arrays: Vec<&Vec<Value>> = obj.values().filter_map(|v| v.as_array()).collect();
            if arrays.len() == 1 {
                return arrays[0].clone();
            }
            obj.iter()
                .map(|(k, v)| match v {
                    Value::Object(inner) if !inner.contains_key("name") => {
                        let mut m = inner.clone();
                        m.insert("name".into(), Value::String(k.clone()));
                        Value::Object(m)
                    }
                    Value::Object(_) => v.clone(),
                    other => {
                        let mut m = Map::new();
                        m.insert("name".into(), Value::String(k.clone()));
                        m.insert("value".into(), other.clone());
                        Value::Object(m)
                    }
                })
                .collect()
        }
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// One line per item: NAME, FRIENDLY NAME, VERSION. `plural` names the items
/// in the "nothing here" line ("steps", "applications" ...).
pub fn list_table(value: &Value, plural: &str) -> String {
    let rows: Vec<[String; 3]> = items(value)
        .iter()
        .map(|item| match item {
            Value::Object(_) => [
                or_dash(text(item, "name")),
                or_dash(text(item, "friendly_name")),
                or_dash(text(item, "version")),
            ],
            other => [scalar(other), "-".into(), "-".into()],
        })
        .collect();
    if rows.is_empty() {
        return format!("(no {plural})");
    }
    table(&["NAME", "FRIENDLY NAME", "VERSION"], &rows)
}

/// A step for people: metadata, declared parameters, then the source.
pub fn step_sheet(step: &Value) -> String {
    let mut out = String::new();
    for (label, key) in [
        ("Name", "name"),
        ("Friendly name", "friendly_name"),
        ("Description", "description"),
        ("Version", "version"),
        ("SyncPack", "syncpack"),
    ] {
        let v = text(step, key);
        if !v.is_empty() || key == "name" {
            out.push_str(&format!("{:<15}{}\n", format!("{label}:"), or_dash(v)));
        }
    }
    let params = step.get("parameters").map(items).unwrap_or_default();
    if params.is_empty() {
        out.push_str("Parameters:    (none)\n");
    } else {
        out.push_str("Parameters:\n");
        for p in &params {
            out.push_str(&parameter_line(p));
        }
    }
    out.push_str("--- source ---\n");
    let source = text(step, "source");
    if source.is_empty() {
        out.push_str("(no source returned)\n");
    } else {
        out.push_str(&source);
        if !source.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

fn parameter_line(p: &Value) -> String {
    let name = or_dash(text(p, "name"));
    let required = match p.get("required") {
        Some(Value::Bool(true)) => "required",
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => "required",
        _ => "optional",
    };
    let mut line = format!("  {name}  ({required})");
    for (label, key) in [
        ("default", "default_value"),
        ("sample", "sample_value"),
        ("type", "param_type"),
    ] {
        if let Some(v) = p.get(key).filter(|v| !v.is_null()) {
            let shown = scalar(v);
            if !shown.is_empty() {
                line.push_str(&format!("  {label}: {shown}"));
            }
        }
    }
    line.push('\n');
    let description = text(p, "description");
    if !description.is_empty() {
        line.push_str(&format!("      {description}\n"));
    }
    line
}

// ---- tasks ----

/// True for the states a task never leaves.
pub fn is_final_state(state: &str) -> bool {
    matches!(state, "SUCCESS" | "FAILURE" | "REVOKED")
}

/// True when a finished task did not do its job (the command exits 1).
pub fn is_failed_state(state: &str) -> bool {
    matches!(state, "FAILURE" | "REVOKED")
}

/// The first line of `iscli step run`.
pub fn task_started(step: &str, id: &str) -> String {
    format!("started step {step} as task {id}")
}

/// What `iscli step run` prints when its wait ran out.
pub fn still_running(id: &str) -> String {
    format!("still running: task {id} (see: iscli task show {id})")
}

/// A state change as it happens: `state: STARTED (attempt 1 on node1/worker-0)`.
/// Attempt 0 (not started yet) and an unknown worker are left out.
pub fn state_line(state: &str, attempt: u64, worker: Option<&str>) -> String {
    let worker = worker.filter(|w| !w.is_empty());
    match (attempt, worker) {
        (0, _) => format!("state: {state}"),
        (n, Some(w)) => format!("state: {state} (attempt {n} on {w})"),
        (n, None) => format!("state: {state} (attempt {n})"),
    }
}

/// One log record: `HH:MM:SS LEVEL module: message` (UTC).
pub fn log_line(log: &Value) -> String {
    let time = number(log, "time").map_or_else(|| "--:--:--".to_string(), clock);
    let level = or_dash(text(log, "level"));
    let module = text(log, "module");
    let message = text(log, "message");
    if module.is_empty() {
        format!("{time} {level} {message}")
    } else {
        format!("{time} {level} {module}: {message}")
    }
}

/// Log records one per line (empty text for none).
pub fn log_lines<'a>(logs: impl IntoIterator<Item = &'a Value>) -> String {
    logs.into_iter().map(|l| log_line(l) + "\n").collect::<String>()
}

/// The logs of a task status (`iscli task logs` without --follow).
pub fn task_logs(status: &Value) -> String {
    let logs = logs_of(status);
    if !logs.is_empty() {
        return log_lines(logs);
    }
    if is_final_state(&text(status, "state")) {
        "(no log lines)".to_string()
    } else {
        format!(
            "(no log lines yet; to print them as they are logged: iscli task logs {} --follow)",
            text(status, "id")
        )
    }
}

/// How a finished step came out: the final state line, then the result
/// (pretty JSON) or the error line and the traceback.
pub fn task_outcome(status: &Value) -> String {
    let mut out = format!("state: {}\n", state_summary(status));
    let state = text(status, "state");
    if state == "SUCCESS" {
        out.push_str(&labelled_json("result", status.get("result")));
    }
    push_error_and_traceback(status, "error:", "traceback:", &mut out);
    out
}

/// A task for people (`iscli task show`).
pub fn task_sheet(status: &Value) -> String {
    let mut out = String::new();
    let mut field = |label: &str, value: String| {
        out.push_str(&format!("{:<11}{}\n", format!("{label}:"), or_dash(value)));
    };
    field("Task", text(status, "id"));
    let name = text(status, "name");
    let class = text(status, "step");
    if class.is_empty() || class == name {
        field("Step", name);
    } else {
        field("Step", format!("{name} (class {class})"));
    }
    let state = text(status, "state");
    field("State", state.clone());
    field("Attempt", text(status, "attempt"));
    field("Worker", text(status, "worker"));
    field("Queue", text(status, "queue"));
    let start = number(status, "start_time");
    let end = number(status, "end_time");
    field("Started", start.map(datetime).unwrap_or_default());
    field(
        "Ended",
        match (start, end) {
            (Some(s), Some(e)) => format!("{} (took {})", datetime(e), duration(e - s)),
            (None, Some(e)) => datetime(e),
            _ => String::new(),
        },
    );
    if state == "SUCCESS" {
        out.push_str(&labelled_json("Result", status.get("result")));
    }
    push_error_and_traceback(status, "Error:    ", "Traceback:", &mut out);

    let attempts = status
        .get("attempts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if attempts.len() > 1 {
        out.push_str("Attempts:\n");
        let rows: Vec<[String; 6]> = attempts
            .iter()
            .map(|a| {
                [
                    or_dash(text(a, "attempt")),
                    or_dash(text(a, "worker")),
                    or_dash(text(a, "state")),
                    number(a, "start_time").map_or_else(|| "-".into(), clock),
                    number(a, "end_time").map_or_else(|| "-".into(), clock),
                    or_dash(text(a, "error")),
                ]
            })
            .collect();
        let headers = ["ATTEMPT", "WORKER", "STATE", "STARTED", "ENDED", "ERROR"];
        for line in table(&headers, &rows).lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }

    let logs = logs_of(status);
    if logs.is_empty() {
        if is_final_state(&state) {
            out.push_str("Logs:      (none)\n");
        } else {
            out.push_str(&format!(
                "Logs:      (none yet; follow them: iscli task logs {} --follow)\n",
                text(status, "id")
            ));
        }
    } else {
        out.push_str("Logs:\n");
        for log in logs {
            out.push_str(&format!("  {}\n", log_line(log)));
        }
    }
    out
}

/// What `iscli task revoke` prints; `already_ended` when the task had
/// ended before the request (so revoking changed nothing).
pub fn revoked(status: &Value, already_ended: bool) -> String {
    let id = text(status, "id");
    let state = text(status, "state");
    let (noun, what) = if is_run(status) {
        (
            "run",
            format!("application {}", or_dash(text(status, "app_name"))),
        )
    } else {
        ("task", format!("step {}", or_dash(text(status, "name"))))
    };
    if already_ended {
        return format!("{noun} {id} had already ended ({state}); nothing to revoke");
    }
    match state.as_str() {
        "REVOKED" => format!("revoked {noun} {id} ({what})"),
        // It ended on its own while the request was under way.
        s if is_final_state(s) => format!("{noun} {id} ended ({s}) before it could be revoked"),
        s => format!(
            "asked to revoke {noun} {id}; its state is {}",
            or_dash(s.to_string())
        ),
    }
}

/// The records of a final status that were not printed while following,
/// introduced by a note when some records were printed live (the late ones
/// were logged earlier, so their times go back). Empty when none are late.
pub fn late_logs(seen: &mut SeenLogs, logs: &[Value]) -> String {
    let followed_live = seen.printed_any();
    let late = log_lines(seen.unseen(logs));
    if late.is_empty() || !followed_live {
        late
    } else {
        format!("(logged before iscli started following:)\n{late}")
    }
}

/// `SUCCESS (attempt 1 on node1/worker-0, took 0.42 s)`.
fn state_summary(status: &Value) -> String {
    let mut notes = Vec::new();
    let attempt = status.get("attempt").and_then(Value::as_u64).unwrap_or(0);
    if attempt > 0 {
        let worker = text(status, "worker");
        if worker.is_empty() {
            notes.push(format!("attempt {attempt}"));
        } else {
            notes.push(format!("attempt {attempt} on {worker}"));
        }
    }
    if let (Some(s), Some(e)) = (number(status, "start_time"), number(status, "end_time")) {
        notes.push(format!("took {}", duration(e - s)));
    }
    let state = or_dash(text(status, "state"));
    if notes.is_empty() {
        state
    } else {
        format!("{state} ({})", notes.join(", "))
    }
}

/// `label: value` when the pretty JSON is one line, else `label:` and the
/// JSON below it; `(none)` for null or missing.
fn labelled_json(label: &str, value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => format!("{label}: (none)\n"),
        Some(v) => {
            let text = pretty(v);
            if text.contains('\n') {
                format!("{label}:\n{text}\n")
            } else {
                format!("{label}: {text}\n")
            }
        }
    }
}

/// The error line, then the traceback unless it only repeats the error.
fn push_error_and_traceback(status: &Value, error_label: &str, tb_label: &str, out: &mut String) {
    let error = text(status, "error");
    if !error.is_empty() {
        out.push_str(&format!("{error_label} {error}\n"));
    }
    let traceback = text(status, "traceback");
    if !traceback.trim().is_empty() && traceback.trim() != error.trim() {
        out.push_str(tb_label);
        out.push('\n');
        out.push_str(&traceback);
        if !traceback.ends_with('\n') {
            out.push('\n');
        }
    }
}

fn logs_of(status: &Value) -> &[Value] {
    status
        .get("logs")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Log records already printed while following a task, so that the final
/// status (which holds every record) only adds the ones not seen live. A
/// record is known by its time and message; equal records are counted, so
/// two identical lines logged at the same instant are both kept.
#[derive(Debug, Default)]
pub struct SeenLogs {
    printed: HashMap<(String, String), usize>,
}

impl SeenLogs {
    fn key(log: &Value) -> (String, String) {
        let time = log.get("time").map(Value::to_string).unwrap_or_default();
        (time, text(log, "message"))
    }

    /// True when some record was printed as it arrived.
    pub fn printed_any(&self) -> bool {
        self.printed.values().any(|n| *n > 0)
    }

    /// Notes a record printed as it arrived.
    pub fn saw(&mut self, log: &Value) {
        *self.printed.entry(Self::key(log)).or_default() += 1;
    }

    /// The records of `logs` not printed yet, in their order; each printed
    /// record accounts for one equal record of `logs`, which are then all
    /// noted as printed.
    pub fn unseen<'a>(&mut self, logs: &'a [Value]) -> Vec<&'a Value> {
        let mut fresh = Vec::new();
        for log in logs {
            match self.printed.get_mut(&Self::key(log)) {
                Some(n) if *n > 0 => *n -= 1,
                _ => fresh.push(log),
            }
        }
        self.printed.clear();
        for log in logs {
            self.saw(log);
        }
        fresh
    }
}

// ---- application runs ----

/// True for the status of an application run (rather than of a step task).
pub fn is_run(status: &Value) -> bool {
    text(status, "id").starts_with("isapp-") || status.get("app_name").is_some()
}

/// The first line of `iscli app run`.
pub fn run_started(app: &str, id: &str) -> String {
    format!("started application {app} as run {id}")
}

/// The first line of `iscli task replay`.
pub fn run_replayed(of: &str, app: &str, id: &str) -> String {
    format!("replaying run {of}: started application {app} as run {id}")
}

/// What `iscli app run` prints when its wait ran out.
pub fn run_still_running(id: &str) -> String {
    format!("still running: {id} (see: iscli task show {id})")
}

/// A state change as it happens, when stdout is not a terminal: `noun`
/// is "step" or "application" (`step Fetch: STARTED (attempt 1)`). Attempt
/// 0 (not started yet) is left out.
pub fn change_line(noun: &str, name: &str, state: &str, attempt: u64) -> String {
    if attempt == 0 {
        format!("{noun} {name}: {state}")
    } else {
        format!("{noun} {name}: {state} (attempt {attempt})")
    }
}

/// A state with the attempt when the step was tried more than once:
/// `SUCCESS`, `STARTED (attempt 2)`.
pub fn state_with_attempt(state: &str, attempt: u64) -> String {
    if attempt > 1 {
        format!("{state} (attempt {attempt})")
    } else {
        state.to_string()
    }
}

/// The ANSI color of a state, as the original UI colors its steps: PENDING
/// grey, STARTED blue, RETRY yellow, SUCCESS green, FAILURE red, REVOKED
/// magenta; "" for anything else.
pub fn state_color(state: &str) -> &'static str {
    match state {
        "PENDING" => "\x1b[90m",
        "STARTED" => "\x1b[34m",
        "RETRY" => "\x1b[33m",
        "SUCCESS" => "\x1b[32m",
        "FAILURE" => "\x1b[31m",
        "REVOKED" => "\x1b[35m",
        _ => "",
    }
}

/// `text` in the color of `state` (unchanged for a state without one).
pub fn paint(text: &str, state: &str) -> String {
    match state_color(state) {
        "" => text.to_string(),
        color => format!("{color}{text}\x1b[0m"),
    }
}

/// One log record of a run's step: `HH:MM:SS LEVEL step-name: message`
/// (UTC); the record's module stands in when it carries no step name.
pub fn run_log_line(log: &Value) -> String {
    let name = text(log, "name");
    if name.is_empty() {
        return log_line(log);
    }
    let time = number(log, "time").map_or_else(|| "--:--:--".to_string(), clock);
    let level = or_dash(text(log, "level"));
    format!("{time} {level} {name}: {}", text(log, "message"))
}

/// The last non-blank line of a traceback (the exception and its message).
pub fn last_line(traceback: &str) -> String {
    traceback
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or_default()
        .to_string()
}

/// The steps of a run status.
fn steps_of(status: &Value) -> &[Value] {
    status
        .get("steps")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// How a finished (or followed) run came out: its state, then one line per
/// step with its state and, for a failed step, its traceback's last line.
pub fn run_outcome(status: &Value) -> String {
    let state = or_dash(text(status, "state"));
    let mut out = match (number(status, "start_time"), number(status, "end_time")) {
        (Some(s), Some(e)) => format!("state: {state} (took {})\n", duration(e - s)),
        _ => format!("state: {state}\n"),
    };
    let steps = steps_of(status);
    if steps.is_empty() {
        out.push_str("steps: (none)\n");
        return out;
    }
    out.push_str("steps:\n");
    let rows: Vec<Vec<String>> = steps
        .iter()
        .map(|step| {
            let state = text(step, "state");
            let attempt = step.get("attempt").and_then(Value::as_u64).unwrap_or(0);
            let note = if state == "FAILURE" {
                last_line(&text(step, "traceback"))
            } else {
                String::new()
            };
            vec![
                or_dash(text(step, "name")),
                or_dash(state_with_attempt(&state, attempt)),
                note,
            ]
        })
        .collect();
    out.push_str(&aligned(&rows, "  "));
    out
}

/// A run for people (`iscli task show isapp-...`, `iscli app logs`): its
/// application, state, options, times and a table of its steps (state,
/// attempt, task id, and what a step waits for or why it failed).
pub fn run_sheet(status: &Value) -> String {
    let mut out = String::new();
    let mut field = |label: &str, value: String| {
        out.push_str(&format!("{:<15}{}\n", format!("{label}:"), or_dash(value)));
    };
    field("Run", text(status, "id"));
    field("Application", text(status, "app_name"));
    field("State", text(status, "state"));
    field("Queue", text(status, "queue"));
    field("Configuration", text(status, "configuration"));
    field("Log level", text(status, "log_level"));
    field("Variables", variables(status.get("app_vars")));
    field("Triggered by", triggered_by(status.get("triggered_by")));
    field(
        "Created",
        number(status, "created_time").map(datetime).unwrap_or_default(),
    );
    let start = number(status, "start_time");
    let end = number(status, "end_time");
    field("Started", start.map(datetime).unwrap_or_default());
    field(
        "Ended",
        match (start, end) {
            (Some(s), Some(e)) => format!("{} (took {})", datetime(e), duration(e - s)),
            (None, Some(e)) => datetime(e),
            _ => String::new(),
        },
    );
    let steps = steps_of(status);
    if steps.is_empty() {
        out.push_str("Steps:         (none)\n");
        return out;
    }
    out.push_str("Steps:\n");
    let rows: Vec<[String; 5]> = steps
        .iter()
        .map(|step| {
            let state = text(step, "state");
            let waiting = text(step, "waiting_for");
            let note = if !waiting.is_empty() {
                format!("waiting: {waiting}")
            } else if state == "FAILURE" {
                last_line(&text(step, "traceback"))
            } else if let Some(at) = number(step, "retry_at").filter(|_| !is_final_state(&state)) {
                format!("retry at {}", clock(at))
            } else {
                String::new()
            };
            [
                or_dash(text(step, "name")),
                or_dash(state),
                or_dash(text(step, "attempt")),
                or_dash(text(step, "id")),
                note,
            ]
        })
        .collect();
    for line in table(&["STEP", "STATE", "ATTEMPT", "TASK", "NOTE"], &rows).lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

/// The log section under a run sheet: the steps' records in time order
/// (see [`run_logs`]), or why there are none.
pub fn run_logs_section(status: &Value, logs: &[Value]) -> String {
    if logs.is_empty() {
        if is_final_state(&text(status, "state")) {
            return "Logs:          (none)\n".to_string();
        }
        return format!(
            "Logs:          (none yet; follow them: iscli task logs {} --follow)\n",
            text(status, "id")
        );
    }
    let mut out = "Logs:\n".to_string();
    for log in logs {
        out.push_str(&format!("  {}\n", run_log_line(log)));
    }
    out
}

/// Records of a run's steps one per line (empty text for none).
pub fn run_log_lines(logs: &[Value]) -> String {
    logs.iter().map(|l| run_log_line(l) + "\n").collect()
}

/// The logs of a run (`iscli task logs isapp-...` without --follow).
pub fn run_logs_text(status: &Value, logs: &[Value]) -> String {
    if !logs.is_empty() {
        return run_log_lines(logs);
    }
    if is_final_state(&text(status, "state")) {
        "(no log lines)".to_string()
    } else {
        format!(
            "(no log lines yet; to print them as they are logged: iscli task logs {} --follow)",
            text(status, "id")
        )
    }
}

/// One line per run: RUN, APPLICATION, STATE, STARTED (UTC).
pub fn runs_table(value: &Value) -> String {
    let rows: Vec<[String; 4]> = items(value)
        .iter()
        .map(|run| {
            [
                or_dash(text(run, "id")),
                or_dash(text(run, "app_name")),
                or_dash(text(run, "state")),
                number(run, "start_time").map_or_else(|| "-".to_string(), datetime),
            ]
        })
        .collect();
    if rows.is_empty() {
        return "(no runs)".to_string();
    }
    table(&["RUN", "APPLICATION", "STATE", "STARTED"], &rows)
}

/// The log records of one step of a run, as its task status holds them.
#[derive(Debug, Clone, Default)]
pub struct StepLogs {
    /// The step's task id.
    pub id: String,
    /// The step's name in the application.
    pub name: String,
    pub logs: Vec<Value>,
}

/// A record with the step's task id and name added (as the run's log events
/// carry them).
fn named(log: &Value, step: &StepLogs) -> Value {
    match log {
        Value::Object(m) => {
            let mut m = m.clone();
            m.insert("id".into(), Value::String(step.id.clone()));
            m.insert("name".into(), Value::String(step.name.clone()));
            Value::Object(m)
        }
        other => other.clone(),
    }
}

/// Sorts records by time, keeping the order of equal times (and of records
/// without one).
fn by_time(logs: &mut [Value]) {
    logs.sort_by(|a, b| {
        let (a, b) = (number(a, "time"), number(b, "time"));
        match (a, b) {
            (Some(a), Some(b)) => a.total_cmp(&b),
            _ => std::cmp::Ordering::Equal,
        }
    });
}

/// Every record of a run's steps, each with its step's id and name, in
/// time order.
pub fn run_logs(steps: &[StepLogs]) -> Vec<Value> {
    let mut all: Vec<Value> = steps
        .iter()
        .flat_map(|s| s.logs.iter().map(move |l| named(l, s)))
        .collect();
    by_time(&mut all);
    all
}

/// The log records of a run's steps printed while following it, so that
/// none is printed twice and none is missed. A step's status holds its
/// records once an attempt has ended; records logged before iscli
/// subscribed to the run's events (or lost on the way) are only found
/// there. So when an attempt ends the caller reads the step's status and
/// prints what [`RunLogs::late`] finds missing; once the step has ended for
/// good it is settled and need not be read again.
#[derive(Debug, Default)]
pub struct RunLogs {
    /// Per step task id: the records printed.
    seen: HashMap<String, SeenLogs>,
    /// The steps whose final records were all printed.
    settled: HashSet<String>,
}

impl RunLogs {
    /// The line of a log event, noted as printed.
    pub fn live(&mut self, event: &Value) -> String {
        self.seen.entry(text(event, "id")).or_default().saw(event);
        run_log_line(event)
    }

    /// After an attempt of `step` ended (its status holds its records): the
    /// records not printed yet (logged before iscli subscribed, or lost on
    /// the way) as lines, noted as printed. When log lines were printed
    /// before, a first line says how many of which step follow (their times
    /// go back).
    pub fn missed(&mut self, step: &StepLogs) -> Vec<String> {
        let followed_live = self.seen.values().any(SeenLogs::printed_any);
        let fresh = self.seen.entry(step.id.clone()).or_default().unseen(&step.logs);
        let mut lines: Vec<String> = fresh.iter().map(|l| run_log_line(&named(l, step))).collect();
        if followed_live && !lines.is_empty() {
            let count = match lines.len() {
                1 => "1 line".to_string(),
                n => format!("{n} lines"),
            };
            lines.insert(
                0,
                format!(
                    "({count} of {} logged before iscli started following:)",
                    step.name
                ),
            );
        }
        lines
    }

    /// Notes that every record of this step was printed: it has ended.
    pub fn settle(&mut self, step_id: &str) {
        self.settled.insert(step_id.to_string());
    }

    /// True once [`RunLogs::settle`] was called for this step.
    pub fn is_settled(&self, step_id: &str) -> bool {
        self.settled.contains(step_id)
    }

    /// The records of the steps' final statuses not printed yet, in time
    /// order, introduced by a note when some records were printed before
    /// (the late ones were logged earlier, so their times go back). Empty
    /// when none are late.
    pub fn late(&mut self, steps: &[StepLogs]) -> String {
        let followed_live = self.seen.values().any(SeenLogs::printed_any);
        let mut late = Vec::new();
        for step in steps {
            let fresh = self.seen.entry(step.id.clone()).or_default().unseen(&step.logs);
            late.extend(fresh.into_iter().map(|l| named(l, step)));
        }
        by_time(&mut late);
        let text = run_log_lines(&late);
        if text.is_empty() || !followed_live {
            text
        } else {
            format!("(logged before iscli started following:)\n{text}")
        }
    }
}

/// App variables as `name=value, ...` (strings bare, other values as
/// JSON); "(none)" for none.
fn variables(vars: Option<&Value>) -> String {
    let Some(Value::Object(vars)) = vars else {
        return "(none)".to_string();
    };
    if vars.is_empty() {
        return "(none)".to_string();
    }
    vars.iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Who started a run: `USER`, `SCHEDULE`, `REPLAY (replay of isapp-...)`.
fn triggered_by(entries: Option<&Value>) -> String {
    let entries = entries
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut how = String::new();
    let mut replay_of = None;
    for entry in entries {
        let what = text(entry, "triggered_by");
        if what == "REPLAY_OF" {
            replay_of = Some(text(entry, "application_id"));
        } else if how.is_empty() {
            how = what;
        }
    }
    match replay_of {
        Some(of) if how.is_empty() => format!("replay of {of}"),
        Some(of) => format!("{how} (replay of {of})"),
        None => how,
    }
}

/// Rows of cells in left-aligned columns separated by two spaces, each line
/// starting with `indent`; no header, no trailing spaces.
fn aligned(rows: &[Vec<String>], indent: &str) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let w = cell.chars().count();
            match widths.get_mut(i) {
                Some(width) => *width = (*width).max(w),
                None => widths.push(w),
            }
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = indent.to_string();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Epoch seconds as `HH:MM:SS` (UTC).
pub fn clock(epoch: f64) -> String {
    match civil(epoch) {
        Some((_, _, _, h, m, s)) => format!("{h:02}:{m:02}:{s:02}"),
        None => "--:--:--".to_string(),
    }
}

/// Epoch seconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn datetime(epoch: f64) -> String {
    match civil(epoch) {
        Some((y, mo, d, h, m, s)) => format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02} UTC"),
        None => "-".to_string(),
    }
}

/// A length of time: `0.42 s`, `12.3 s`, `2 min 5 s`, `1 h 2 min`.
pub fn duration(secs: f64) -> String {
    let secs = secs.max(0.0);
    if secs < 10.0 {
        format!("{secs:.2} s")
    } else if secs < 60.0 {
        format!("{secs:.1} s")
    } else if secs < 3600.0 {
        let whole = secs.round() as u64;
        format!("{} min {} s", whole / 60, whole % 60)
    } else {
        let minutes = (secs / 60.0).round() as u64;
        format!("{} h {} min", minutes / 60, minutes % 60)
    }
}

/// Epoch seconds as (year, month, day, hour, minute, second) in UTC, by
/// Howard Hinnant's days-to-civil algorithm; None for values out of range.
fn civil(epoch: f64) -> Option<(i64, u32, u32, u32, u32, u32)> {
    // Years 0 to 9999 keep every intermediate value small.
    if !epoch.is_finite() || !(-62_167_219_200.0..253_402_300_800.0).contains(&epoch) {
        return None;
    }
    let secs = epoch.floor() as i64;
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Some((
        year,
        month as u32,
        day as u32,
        (of_day / 3_600) as u32,
        (of_day % 3_600 / 60) as u32,
        (of_day % 60) as u32,
    ))
}

/// A numeric field (None when missing, null or not a number).
fn number(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// A readable rendering of any document: `key: value` for scalars, tables
/// for arrays of objects, indented blocks for nested objects.
pub fn summary(value: &Value) -> String {
    let mut out = String::new();
    summarize(value, 0, &mut out);
    out
}

fn summarize(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(obj) => {
            if obj.is_empty() {
                out.push_str(&format!("{pad}(empty)\n"));
            }
            let width = obj.keys().map(|k| k.chars().count()).max().unwrap_or(0) + 2;
            for (k, v) in obj {
                match v {
                    Value::Object(inner) if !inner.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        summarize(v, indent + 2, out);
                    }
                    Value::Array(a) if a.iter().any(|x| x.is_object()) => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        summarize(v, indent + 2, out);
                    }
                    _ => {
                        let label = format!("{k}:");
                        out.push_str(&format!("{pad}{label:<width$}{}\n", or_dash(scalar(v))));
                    }
                }
            }
        }
        Value::Array(a) if a.iter().any(|x| x.is_object()) => {
            let mut columns: Vec<String> = Vec::new();
            for item in a {
                if let Value::Object(m) = item {
                    for k in m.keys() {
                        if !columns.contains(k) {
                            columns.push(k.clone());
                        }
                    }
                }
            }
            // Identifying columns first (serde_json maps iterate in key order).
            for key in ["id", "node_id", "name"] {
                if let Some(pos) = columns.iter().position(|c| c == key) {
                    let c = columns.remove(pos);
                    columns.insert(0, c);
                }
            }
            let headers: Vec<String> = columns.iter().map(|c| c.to_uppercase()).collect();
            let rows: Vec<Vec<String>> = a
                .iter()
                .map(|item| {
                    columns
                        .iter()
                        .map(|c| or_dash(item.get(c).map(scalar).unwrap_or_default()))
                        .collect()
                })
                .collect();
            let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
            for line in table(&header_refs, &rows).lines() {
                out.push_str(&format!("{pad}{line}\n"));
            }
        }
        other => out.push_str(&format!("{pad}{}\n", or_dash(scalar(other)))),
    }
}

/// Left-aligned columns separated by two spaces; no trailing spaces.
pub fn table<R: AsRef<[String]>>(headers: &[&str], rows: &[R]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.as_ref().iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut push_row = |cells: Vec<&str>| {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 < cells.len() {
                let pad = widths[i] - cell.chars().count();
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 2));
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    };
    push_row(headers.to_vec());
    for row in rows {
        push_row(
            row.as_ref()
                .iter()
                .take(headers.len())
                .map(String::as_str)
                .collect(),
        );
    }
    out
}

/// A field as text: strings as they are, numbers and booleans printed,
/// null or missing as "".
pub fn text(v: &Value, key: &str) -> String {
    v.get(key).map(scalar).unwrap_or_default()
}

/// Any value as one line of text.
fn scalar(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
            a.iter().map(scalar).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

fn or_dash(s: String) -> String {
    if s.trim().is_empty() {
        "-".to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_table_is_tolerant_of_missing_fields() {
        let v = json!([
            {"name": "CountRecords", "friendly_name": "Count Records", "version": "1.0.0"},
            {"name": "stepTemplate"},
            {"name": "Other", "version": 2, "description": "ignored"}
        ]);
        assert_eq!(
            list_table(&v, "steps"),
            "NAME          FRIENDLY NAME  VERSION\n\
             CountRecords  Count Records  1.0.0\n\
             stepTemplate  -              -\n\
             Other         -              2\n"
        );
        assert_eq!(list_table(&json!([]), "steps"), "(no steps)");
        assert_eq!(list_table(&Value::Null, "apps"), "(no apps)");
    }

    #[test]
    fn list_accepts_wrapped_arrays_and_maps() {
        let wrapped = json!({"applications": [{"name": "a"}]});
        assert_eq!(items(&wrapped), vec![json!({"name": "a"})]);
        let map = json!({"a": {"version": "1"}});
        assert_eq!(items(&map), vec![json!({"version": "1", "name": "a"})]);
        let names = json!(["x", "y"]);
        assert!(list_table(&names, "steps").contains("\nx  "));
    }

    #[test]
    fn step_sheet_shows_metadata_parameters_and_source() {
        let v = json!({
            "name": "CountRecords",
            "friendly_name": "Count Records",
            "description": "Counts joined upstream records",
            "version": "1.0.0",
            "parameters": [
                {"name": "offset", "description": "added to the count",
                 "sample_value": "${stepfunc.double 2}", "default_value": 0, "required": false}
            ],
            "source": "class CountRecords:\n    pass"
        });
        let text = step_sheet(&v);
        assert!(text.starts_with("Name:          CountRecords\n"), "{text}");
        assert!(text.contains("Friendly name: Count Records\n"), "{text}");
        assert!(
            text.contains(
                "  offset  (optional)  default: 0  sample: ${stepfunc.double 2}\n      added to the count\n"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("--- source ---\nclass CountRecords:\n    pass\n"),
            "{text}"
        );
        // Only a name: still renders.
        let text = step_sheet(&json!({"name": "X"}));
        assert!(text.contains("Parameters:    (none)"));
        assert!(text.contains("(no source returned)"));
    }

    #[test]
    fn summary_renders_nested_documents() {
        let v = json!({
            "leader": 1,
            "healthy": true,
            "members": [{"id": 1, "address": "n1:8080"}, {"id": 2, "address": "n2:8080", "lag": 3}],
            "build": {"version": "0.1.0"}
        });
        let text = summary(&v);
        assert!(text.contains("leader:  1\n"), "{text}");
        assert!(text.contains("healthy: true\n"), "{text}");
        assert!(
            text.contains("members:\n  ID  ADDRESS  LAG\n  1   n1:8080  -\n  2   n2:8080  3\n"),
            "{text}"
        );
        assert!(text.contains("build:\n  version: 0.1.0\n"), "{text}");
    }

    fn success_status() -> Value {
        json!({
            "id": "t-1", "href": "/api/v1/tasks/t-1", "name": "Greet", "step": "Greet",
            "state": "SUCCESS", "queue": "default", "attempt": 1,
            "start_time": 1_700_000_000.25, "end_time": 1_700_000_000.75,
            "worker": "node1/worker-0",
            "logs": [
                {"time": 1_700_000_000.5, "level": "INFO", "module": "Greet", "message": "hello world"}
            ],
            "result": {"greeting": "hello world"},
            "error": null, "traceback": null,
            "attempts": [{"attempt": 1, "worker": "node1/worker-0", "start_time": 1_700_000_000.25,
                          "end_time": 1_700_000_000.75, "state": "SUCCESS", "error": null}]
        })
    }

    fn failure_status() -> Value {
        json!({
            "id": "t-2", "name": "Boom", "step": "Boom", "state": "FAILURE", "attempt": 1,
            "start_time": 1_700_000_000.0, "end_time": 1_700_000_001.0, "worker": "node1/worker-1",
            "logs": [], "result": null,
            "error": "ValueError: the value is wrong",
            "traceback": "Traceback (most recent call last):\n  File \"Boom.py\", line 9, in execute\nValueError: the value is wrong\n",
        })
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(clock(0.0), "00:00:00");
        assert_eq!(clock(1_700_000_000.999), "22:13:20");
        assert_eq!(datetime(1_700_000_000.0), "2023-11-14 22:13:20 UTC");
        assert_eq!(datetime(951_782_400.0), "2000-02-29 00:00:00 UTC");
        assert_eq!(datetime(-86_401.0), "1969-12-30 23:59:59 UTC");
        assert_eq!(datetime(4_102_444_799.0), "2099-12-31 23:59:59 UTC");
        assert_eq!(clock(f64::NAN), "--:--:--");
        assert_eq!(datetime(1e300), "-");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0.4249), "0.42 s");
        assert_eq!(duration(12.34), "12.3 s");
        assert_eq!(duration(125.0), "2 min 5 s");
        assert_eq!(duration(3_720.0), "1 h 2 min");
        assert_eq!(duration(-1.0), "0.00 s");
    }

    #[test]
    fn log_and_state_lines() {
        let log = json!({"time": 1_700_000_000.5, "level": "INFO", "module": "Greet", "message": "hi"});
        assert_eq!(log_line(&log), "22:13:20 INFO Greet: hi");
        assert_eq!(
            log_line(&json!({"type": "log", "level": "WARNING", "message": "m"})),
            "--:--:-- WARNING m"
        );
        assert_eq!(
            state_line("STARTED", 1, Some("node1/worker-0")),
            "state: STARTED (attempt 1 on node1/worker-0)"
        );
        assert_eq!(state_line("RETRY", 2, None), "state: RETRY (attempt 2)");
        assert_eq!(state_line("PENDING", 0, Some("w")), "state: PENDING");
        assert_eq!(
            still_running("t-9"),
            "still running: task t-9 (see: iscli task show t-9)"
        );
    }

    #[test]
    fn outcome_of_a_success_shows_the_result() {
        assert_eq!(
            task_outcome(&success_status()),
            "state: SUCCESS (attempt 1 on node1/worker-0, took 0.50 s)\n\
             result:\n{\n  \"greeting\": \"hello world\"\n}\n"
        );
        let mut v = success_status();
        v["result"] = json!(5);
        assert!(task_outcome(&v).ends_with("\nresult: 5\n"));
        v["result"] = Value::Null;
        assert!(task_outcome(&v).ends_with("\nresult: (none)\n"));
    }

    #[test]
    fn outcome_of_a_failure_shows_error_and_traceback() {
        let text = task_outcome(&failure_status());
        assert_eq!(
            text,
            "state: FAILURE (attempt 1 on node1/worker-1, took 1.00 s)\n\
             error: ValueError: the value is wrong\n\
             traceback:\n\
             Traceback (most recent call last):\n  File \"Boom.py\", line 9, in execute\n\
             ValueError: the value is wrong\n"
        );
        // A traceback that only repeats the error is not printed twice.
        let mut v = failure_status();
        v["traceback"] = v["error"].clone();
        assert!(!task_outcome(&v).contains("traceback"));
        // Revoked before it started: just the state.
        assert_eq!(
            task_outcome(&json!({"state": "REVOKED", "attempt": 0})),
            "state: REVOKED\n"
        );
        assert!(is_failed_state("FAILURE") && is_failed_state("REVOKED"));
        assert!(!is_failed_state("SUCCESS") && !is_final_state("RETRY"));
    }

    #[test]
    fn task_sheet_shows_everything() {
        let text = task_sheet(&success_status());
        assert_eq!(
            text,
            "Task:      t-1\n\
             Step:      Greet\n\
             State:     SUCCESS\n\
             Attempt:   1\n\
             Worker:    node1/worker-0\n\
             Queue:     default\n\
             Started:   2023-11-14 22:13:20 UTC\n\
             Ended:     2023-11-14 22:13:20 UTC (took 0.50 s)\n\
             Result:\n{\n  \"greeting\": \"hello world\"\n}\n\
             Logs:\n  22:13:20 INFO Greet: hello world\n"
        );
        let text = task_sheet(&failure_status());
        assert!(
            text.contains("Error:     ValueError: the value is wrong\nTraceback:\nTraceback (most recent"),
            "{text}"
        );
        assert!(text.contains("Logs:      (none)\n"), "{text}");
        assert!(!text.contains("Result"), "{text}");

        // Running, retried once, class differs from name.
        let v = json!({"id": "t-3", "name": "job", "step": "Job", "state": "STARTED", "attempt": 2,
                       "start_time": 1_700_000_000.0, "end_time": null, "worker": "n1/w-1", "logs": [],
                       "attempts": [
                           {"attempt": 1, "worker": "n1/w-0", "start_time": 1_700_000_000.0,
                            "end_time": 1_700_000_001.0, "state": "RETRY", "error": "runner died"},
                           {"attempt": 2, "worker": "n1/w-1", "start_time": 1_700_000_002.0,
                            "end_time": null, "state": "STARTED", "error": null}]});
        let text = task_sheet(&v);
        assert!(text.contains("Step:      job (class Job)\n"), "{text}");
        assert!(text.contains("Ended:     -\n"), "{text}");
        assert!(
            text.contains("  ATTEMPT  WORKER  STATE    STARTED   ENDED     ERROR\n  1        n1/w-0  RETRY    22:13:20  22:13:21  runner died\n  2        n1/w-1  STARTED  22:13:22  -         -\n"),
            "{text}"
        );
        assert!(
            text.contains("(none yet; follow them: iscli task logs t-3 --follow)"),
            "{text}"
        );
    }

    #[test]
    fn task_logs_and_revoke_lines() {
        assert_eq!(task_logs(&success_status()), "22:13:20 INFO Greet: hello world\n");
        assert_eq!(task_logs(&failure_status()), "(no log lines)");
        assert!(task_logs(&json!({"id": "t", "state": "PENDING"})).contains("iscli task logs t --follow"));
        assert_eq!(
            revoked(&json!({"id": "t", "name": "Slow", "state": "REVOKED"}), false),
            "revoked task t (step Slow)"
        );
        assert_eq!(
            revoked(&json!({"id": "t", "name": "Slow", "state": "REVOKED"}), true),
            "task t had already ended (REVOKED); nothing to revoke"
        );
        assert_eq!(
            revoked(&success_status(), false),
            "task t-1 ended (SUCCESS) before it could be revoked"
        );
    }

    #[test]
    fn seen_logs_leave_only_the_unprinted_records() {
        let a = json!({"time": 1.5, "message": "first"});
        let b = json!({"time": 2.5, "message": "second"});
        let b_again = json!({"time": 2.5, "message": "second"});
        let c = json!({"time": 3.0, "message": "third"});
        let mut seen = SeenLogs::default();
        // Live: only "second" (once) arrived; "first" was logged before we
        // subscribed.
        seen.saw(&json!({"type": "log", "time": 2.5, "level": "INFO", "message": "second"}));
        let all = vec![a.clone(), b.clone(), b_again.clone(), c.clone()];
        let fresh: Vec<Value> = seen.unseen(&all).into_iter().cloned().collect();
        assert_eq!(fresh, vec![a, b_again, c]);
        // Everything is printed now.
        assert!(seen.unseen(&all).is_empty());
    }

    #[test]
    fn late_logs_are_introduced_only_after_live_ones() {
        let first = json!({"time": 1_700_000_000.0, "level": "INFO", "module": "S", "message": "first"});
        let second = json!({"time": 1_700_000_001.0, "level": "INFO", "module": "S", "message": "second"});
        let all = vec![first.clone(), second.clone()];
        // Nothing printed live: the final list is just the lines.
        let mut seen = SeenLogs::default();
        assert_eq!(
            late_logs(&mut seen, &all),
            "22:13:20 INFO S: first\n22:13:21 INFO S: second\n"
        );
        assert_eq!(late_logs(&mut seen, &all), "");
        // "second" live, "first" missed: the note says why it comes late.
        let mut seen = SeenLogs::default();
        seen.saw(&second);
        assert_eq!(
            late_logs(&mut seen, &all),
            "(logged before iscli started following:)\n22:13:20 INFO S: first\n"
        );
        // All live: nothing to add.
        let mut seen = SeenLogs::default();
        seen.saw(&first);
        seen.saw(&second);
        assert_eq!(late_logs(&mut seen, &all), "");
    }

    fn run_status() -> Value {
        json!({
            "id": "isapp-1", "app_name": "hello", "state": "FAILURE", "queue": "default",
            "configuration": null, "log_level": 1, "app_vars": {"who": "x", "n": 3},
            "created_time": 1_700_000_000.0, "start_time": 1_700_000_000.25,
            "end_time": 1_700_000_001.75,
            "triggered_by": [{"application_id": "isapp-1", "triggered_by": "USER"}],
            "steps": [
                {"id": "t-1", "name": "Fetch", "state": "SUCCESS", "attempt": 1,
                 "traceback": null, "retry_at": null},
                {"id": "t-2", "name": "Store", "state": "FAILURE", "attempt": 3,
                 "traceback": "Traceback (most recent call last):\n  File \"Store.py\", line 9, in execute\nValueError: the value is wrong\n\n",
                 "retry_at": null},
                {"id": "t-3", "name": "Report", "state": "REVOKED", "attempt": 0,
                 "traceback": null, "retry_at": null}
            ]
        })
    }

    #[test]
    fn run_lines() {
        assert_eq!(
            run_started("hello", "isapp-1"),
            "started application hello as run isapp-1"
        );
        assert_eq!(
            run_still_running("isapp-1"),
            "still running: isapp-1 (see: iscli task show isapp-1)"
        );
        assert_eq!(
            run_replayed("isapp-1", "hello", "isapp-2"),
            "replaying run isapp-1: started application hello as run isapp-2"
        );
        assert_eq!(
            change_line("step", "Fetch", "STARTED", 1),
            "step Fetch: STARTED (attempt 1)"
        );
        assert_eq!(change_line("step", "Fetch", "PENDING", 0), "step Fetch: PENDING");
        assert_eq!(
            change_line("application", "hello", "STARTED", 0),
            "application hello: STARTED"
        );
        assert_eq!(state_with_attempt("SUCCESS", 1), "SUCCESS");
        assert_eq!(state_with_attempt("PENDING", 0), "PENDING");
        assert_eq!(state_with_attempt("RETRY", 2), "RETRY (attempt 2)");
        // A run's log event names the step; without a name, the module.
        let event = json!({"type": "log", "id": "t-1", "name": "Fetch", "time": 1_700_000_000.5,
                           "level": "INFO", "module": "Emit", "message": "fetched 3"});
        assert_eq!(run_log_line(&event), "22:13:20 INFO Fetch: fetched 3");
        let record = json!({"time": 1_700_000_000.5, "level": "INFO", "module": "Emit", "message": "m"});
        assert_eq!(run_log_line(&record), "22:13:20 INFO Emit: m");
        assert!(is_run(&run_status()));
        assert!(is_run(&json!({"id": "isapp-9"})));
        assert!(!is_run(&success_status()));
    }

    #[test]
    fn state_colors_follow_the_original_ui() {
        assert_eq!(paint("PENDING", "PENDING"), "\x1b[90mPENDING\x1b[0m");
        assert_eq!(paint("x", "STARTED"), "\x1b[34mx\x1b[0m");
        assert_eq!(paint("x", "RETRY"), "\x1b[33mx\x1b[0m");
        assert_eq!(paint("x", "SUCCESS"), "\x1b[32mx\x1b[0m");
        assert_eq!(paint("x", "FAILURE"), "\x1b[31mx\x1b[0m");
        assert_eq!(paint("x", "REVOKED"), "\x1b[35mx\x1b[0m");
        assert_eq!(paint("x", "UNKNOWN"), "x");
    }

    #[test]
    fn last_line_of_a_traceback() {
        assert_eq!(
            last_line("Traceback:\n  File x\nValueError: bad\n\n  "),
            "ValueError: bad"
        );
        assert_eq!(last_line("  just one  "), "just one");
        assert_eq!(last_line(""), "");
    }

    #[test]
    fn run_outcome_shows_every_step_and_the_errors() {
        assert_eq!(
            run_outcome(&run_status()),
            "state: FAILURE (took 1.50 s)\n\
             steps:\n\
             \x20 Fetch   SUCCESS\n\
             \x20 Store   FAILURE (attempt 3)  ValueError: the value is wrong\n\
             \x20 Report  REVOKED\n"
        );
        assert_eq!(
            run_outcome(&json!({"state": "SUCCESS", "steps": []})),
            "state: SUCCESS\nsteps: (none)\n"
        );
    }

    #[test]
    fn run_sheet_shows_the_run_and_its_steps() {
        assert_eq!(
            run_sheet(&run_status()),
            "Run:           isapp-1\n\
             Application:   hello\n\
             State:         FAILURE\n\
             Queue:         default\n\
             Configuration: -\n\
             Log level:     1\n\
             Variables:     n=3, who=x\n\
             Triggered by:  USER\n\
             Created:       2023-11-14 22:13:20 UTC\n\
             Started:       2023-11-14 22:13:20 UTC\n\
             Ended:         2023-11-14 22:13:21 UTC (took 1.50 s)\n\
             Steps:\n\
             \x20 STEP    STATE    ATTEMPT  TASK  NOTE\n\
             \x20 Fetch   SUCCESS  1        t-1\n\
             \x20 Store   FAILURE  3        t-2   ValueError: the value is wrong\n\
             \x20 Report  REVOKED  0        t-3\n"
        );
        // Waiting for a worker, a planned retry, a replay, no variables.
        let pending = json!({
            "id": "isapp-2", "app_name": "hello", "state": "PENDING", "queue": "nobody_serves",
            "configuration": "site_a", "app_vars": {},
            "triggered_by": [{"application_id": "isapp-2", "triggered_by": "REPLAY"},
                             {"application_id": "isapp-1", "triggered_by": "REPLAY_OF"}],
            "steps": [
                {"id": "t-4", "name": "Fetch", "state": "PENDING", "attempt": 0,
                 "waiting_for": "no worker subscribed to queue nobody_serves"},
                {"id": "t-5", "name": "Store", "state": "RETRY", "attempt": 1,
                 "retry_at": 1_700_000_010.0}
            ]
        });
        let text = run_sheet(&pending);
        assert!(text.contains("Queue:         nobody_serves\n"), "{text}");
        assert!(text.contains("Configuration: site_a\n"), "{text}");
        assert!(text.contains("Variables:     (none)\n"), "{text}");
        assert!(
            text.contains("Triggered by:  REPLAY (replay of isapp-1)\n"),
            "{text}"
        );
        assert!(text.contains("Started:       -\nEnded:         -\n"), "{text}");
        assert!(
            text.contains(
                "  Fetch  PENDING  0        t-4   waiting: no worker subscribed to queue nobody_serves\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  Store  RETRY    1        t-5   retry at 22:13:30\n"),
            "{text}"
        );
        assert!(run_sheet(&json!({"id": "isapp-3"})).ends_with("Steps:         (none)\n"));
    }

    #[test]
    fn run_logs_merge_the_steps_in_time_order() {
        let steps = vec![
            StepLogs {
                id: "t-1".into(),
                name: "Fetch".into(),
                logs: vec![
                    json!({"time": 1_700_000_000.0, "level": "INFO", "module": "Emit", "message": "a"}),
                    json!({"time": 1_700_000_002.0, "level": "INFO", "module": "Emit", "message": "c"}),
                ],
            },
            StepLogs {
                id: "t-2".into(),
                name: "Store".into(),
                logs: vec![
                    json!({"time": 1_700_000_001.0, "level": "WARNING", "module": "Emit", "message": "b"}),
                ],
            },
        ];
        let logs = run_logs(&steps);
        let lines: Vec<String> = logs.iter().map(run_log_line).collect();
        assert_eq!(
            lines,
            vec![
                "22:13:20 INFO Fetch: a",
                "22:13:21 WARNING Store: b",
                "22:13:22 INFO Fetch: c"
            ]
        );
        assert_eq!(logs[1]["id"], "t-2");
        let status = json!({"id": "isapp-1", "state": "SUCCESS"});
        assert_eq!(
            run_logs_text(&status, &logs),
            "22:13:20 INFO Fetch: a\n22:13:21 WARNING Store: b\n22:13:22 INFO Fetch: c\n"
        );
        assert_eq!(run_logs_text(&status, &[]), "(no log lines)");
        let running = json!({"id": "isapp-1", "state": "STARTED"});
        assert!(run_logs_text(&running, &[]).contains("iscli task logs isapp-1 --follow"));
        assert_eq!(
            run_logs_section(&status, &logs[..1]),
            "Logs:\n  22:13:20 INFO Fetch: a\n"
        );
        assert_eq!(run_logs_section(&status, &[]), "Logs:          (none)\n");
        assert!(run_logs_section(&running, &[]).contains("(none yet; follow them: iscli task logs isapp-1"));

        // Nothing printed before: every record, no note.
        let mut printed = RunLogs::default();
        assert_eq!(
            printed.late(&steps),
            "22:13:20 INFO Fetch: a\n22:13:21 WARNING Store: b\n22:13:22 INFO Fetch: c\n"
        );
        assert_eq!(printed.late(&steps), "");
    }

    #[test]
    fn run_logs_are_printed_once_whether_live_or_read_after_an_attempt() {
        let record = |time: f64, message: &str| json!({"time": time, "level": "INFO", "module": "Emit", "message": message});
        let event = |id: &str, name: &str, time: f64, message: &str| {
            json!({"type": "log", "id": id, "name": name, "time": time, "level": "INFO",
                   "module": "Emit", "message": message})
        };
        let t = 1_700_000_000.0;
        let mut printed = RunLogs::default();
        // Fetch logged "a" before iscli subscribed; "b" and "c" arrive live.
        assert_eq!(
            printed.live(&event("t-1", "Fetch", t + 1.0, "b")),
            "22:13:21 INFO Fetch: b"
        );
        assert_eq!(
            printed.live(&event("t-1", "Fetch", t + 2.0, "c")),
            "22:13:22 INFO Fetch: c"
        );
        // Its attempt ended: its status adds "a" only, with the note.
        let fetch = StepLogs {
            id: "t-1".into(),
            name: "Fetch".into(),
            logs: vec![record(t, "a"), record(t + 1.0, "b"), record(t + 2.0, "c")],
        };
        assert_eq!(
            printed.missed(&fetch),
            vec![
                "(1 line of Fetch logged before iscli started following:)",
                "22:13:20 INFO Fetch: a"
            ]
        );
        assert!(printed.missed(&fetch).is_empty());
        assert!(!printed.is_settled("t-1"));
        printed.settle("t-1");
        assert!(printed.is_settled("t-1"));
        // Nothing is printed twice.
        assert_eq!(printed.late(std::slice::from_ref(&fetch)), "");
        // Nothing printed before: no note.
        let mut first = RunLogs::default();
        let two = StepLogs {
            logs: vec![record(t, "a"), record(t + 1.0, "b")],
            ..fetch.clone()
        };
        assert_eq!(
            first.missed(&two),
            vec!["22:13:20 INFO Fetch: a", "22:13:21 INFO Fetch: b"]
        );
        let mut other = RunLogs::default();
        other.live(&event("t-9", "Other", t, "o"));
        assert_eq!(
            other.missed(&two)[0],
            "(2 lines of Fetch logged before iscli started following:)"
        );
        // The same message at another time is another record.
        assert_eq!(
            printed.live(&event("t-2", "Store", t + 3.0, "b")),
            "22:13:23 INFO Store: b"
        );
        let store = StepLogs {
            id: "t-2".into(),
            name: "Store".into(),
            logs: vec![record(t + 3.0, "b"), record(t + 2.5, "lost")],
        };
        assert_eq!(
            printed.late(&[fetch, store]),
            "(logged before iscli started following:)\n22:13:22 INFO Store: lost\n"
        );
    }

    #[test]
    fn runs_table_and_revoked_runs() {
        let runs = json!([
            {"id": "isapp-2", "app_name": "hello", "state": "STARTED", "start_time": 1_700_000_000.0},
            {"id": "isapp-1", "app_name": "hello", "state": "PENDING", "start_time": null}
        ]);
        assert_eq!(
            runs_table(&runs),
            "RUN      APPLICATION  STATE    STARTED\n\
             isapp-2  hello        STARTED  2023-11-14 22:13:20 UTC\n\
             isapp-1  hello        PENDING  -\n"
        );
        assert_eq!(runs_table(&json!([])), "(no runs)");
        let run = json!({"id": "isapp-1", "app_name": "hello", "state": "REVOKED"});
        assert_eq!(revoked(&run, false), "revoked run isapp-1 (application hello)");
        assert_eq!(
            revoked(&run, true),
            "run isapp-1 had already ended (REVOKED); nothing to revoke"
        );
    }
}
