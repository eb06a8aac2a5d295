//! The live view of an application run (`iscli app run`, `iscli task
//! replay`): where the run and each of its steps stand (`RunView`, kept up
//! to date from the WatchTask events), the graph drawn from it (a line for
//! the run, then one per step with its state, colored like the original
//! UI's steps, and the steps it sends its output to), and `Screen`, which
//! turns each new graph into the bytes that redraw it in place with ANSI
//! cursor movement while log lines scroll above it. Everything here is
//! pure; writing to the terminal is the caller's job.

use is_proto::v1::{Application, RunStatus, StateChange, TaskState};

use crate::output;

/// Where one step of the run stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StepView {
    /// The step's task id.
    pub(crate) id: String,
    /// The step's name in the application.
    pub(crate) name: String,
    pub(crate) state: TaskState,
    /// 0 until the step first starts.
    pub(crate) attempt: u32,
    /// The steps it sends its output to (from the application).
    pub(crate) next: Vec<String>,
}

/// Where a run and its steps stand, steps in the application's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunView {
    /// The run id (isapp-...).
    pub(crate) id: String,
    /// The application's name.
    pub(crate) app: String,
    pub(crate) state: TaskState,
    pub(crate) steps: Vec<StepView>,
}

impl RunView {
    /// The view of a run status.
    pub(crate) fn from_status(status: &RunStatus) -> RunView {
        let mut view = RunView {
            id: status.id.clone(),
            app: status.app_name.clone(),
            state: TaskState::Unspecified,
            steps: Vec::new(),
        };
        view.update(status);
        view
    }

    /// Takes the states of a newer status of the same run; answers whether
    /// anything changed.
    pub(crate) fn update(&mut self, status: &RunStatus) -> bool {
        let mut changed = false;
        if status.state() != self.state {
            self.state = status.state();
            changed = true;
        }
        for step in &status.steps {
            changed |= self.set_step(&step.id, &step.name, step.state(), step.attempt);
        }
        changed
    }

    /// Applies a state event: of the run itself when its id is the run's,
    /// else of a step. Answers whether it changed anything.
    pub(crate) fn apply(&mut self, event: &StateChange) -> bool {
        if event.id.is_empty() {
            return false;
        }
        let state = event.state();
        if event.id == self.id {
            let changed = self.state != state;
            self.state = state;
            return changed;
        }
        self.set_step(&event.id, &event.name, state, event.attempt)
    }

    fn set_step(&mut self, id: &str, name: &str, state: TaskState, attempt: u32) -> bool {
        match self.steps.iter_mut().find(|s| s.id == id) {
            Some(step) => {
                let changed = step.state != state || step.attempt != attempt;
                step.state = state;
                step.attempt = attempt;
                if step.name.is_empty() {
                    step.name = name.to_string();
                }
                changed
            }
            None => {
                self.steps.push(StepView {
                    id: id.to_string(),
                    name: name.to_string(),
                    state,
                    attempt,
                    next: Vec::new(),
                });
                true
            }
        }
    }

    /// Takes the edges of the application: each step's `output_to`.
    pub(crate) fn add_edges(&mut self, app: &Application) {
        for entry in &app.steps {
            for step in self.steps.iter_mut().filter(|s| s.name == entry.name) {
                step.next = entry.output_to.clone();
            }
        }
    }

    /// The graph: `application NAME: STATE`, then one line per step (see
    /// [`graph_line`]); each line at most `max_width` characters.
    pub(crate) fn lines(&self, color: bool, max_width: usize) -> Vec<String> {
        let state = output::state_text(self.state);
        let header = fit(&format!("application {}: {state}", self.app), max_width);
        let header = match header.strip_suffix(state) {
            Some(head) if color => format!("{head}{}", output::paint(state, self.state)),
            _ => header,
        };
        let name_width = self
            .steps
            .iter()
            .map(|s| s.name.chars().count())
            .max()
            .unwrap_or(0);
        let status_width = self
            .steps
            .iter()
            .map(|s| output::state_with_attempt(s.state, s.attempt).chars().count())
            .max()
            .unwrap_or(0);
        let mut lines = vec![header];
        lines.extend(
            self.steps
                .iter()
                .map(|s| graph_line(s, name_width, status_width, color, max_width)),
        );
        lines
    }
}

/// One step of the graph: `  NAME  STATE (attempt N)  -> NEXT, ...`, the
/// name padded to `name_width` and the state to `status_width` so that the
/// columns line up; the attempt only when it is above 1, the arrow only
/// when the step sends its output on. With `color` the name and state are
/// in the state's color. Cut to `max_width` characters (before coloring).
pub(crate) fn graph_line(
    step: &StepView,
    name_width: usize,
    status_width: usize,
    color: bool,
    max_width: usize,
) -> String {
    let status = output::state_with_attempt(step.state, step.attempt);
    let arrow = if step.next.is_empty() {
        String::new()
    } else {
        format!("  -> {}", step.next.join(", "))
    };
    let name = &step.name;
    let plain = format!("  {name:<name_width$}  {status:<status_width$}{arrow}");
    let plain = fit(plain.trim_end(), max_width);
    if !color {
        return plain;
    }
    // The name and the state are the step's "box"; the edges stay plain.
    let boxed = 2 + name_width + 2 + status.chars().count();
    let split = plain.char_indices().nth(boxed).map_or(plain.len(), |(at, _)| at);
    let (head, tail) = plain.split_at(split);
    let (indent, body) = match head.strip_prefix("  ") {
        Some(body) => ("  ", body),
        None => ("", head),
    };
    format!("{indent}{}{tail}", output::paint(body, step.state))
}

/// `line` cut to `max_width` characters, the last one an ellipsis when cut.
pub(crate) fn fit(line: &str, max_width: usize) -> String {
    if line.chars().count() <= max_width {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(max_width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The widest line the live view draws: one less than the terminal's
/// columns (`$COLUMNS`, else 80), so that no line wraps and throws the
/// redrawing off; at least 20.
pub(crate) fn max_width(columns: Option<&str>) -> usize {
    columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
        .unwrap_or(80)
        .saturating_sub(1)
        .max(20)
}

/// Redraws the graph in place: remembers how many lines it drew last so the
/// next frame can move the cursor back up over them.
#[derive(Debug, Default)]
pub(crate) struct Screen {
    drawn: usize,
}

impl Screen {
    /// The bytes that replace the graph drawn last (if any) with `graph`,
    /// printing the `above` lines first: they stay on the screen and scroll
    /// up while the graph remains at the bottom. Moves the cursor up over
    /// the old graph, clears from there to the end of the screen and writes
    /// everything again.
    pub(crate) fn frame(&mut self, above: &[String], graph: &[String]) -> String {
        let mut out = String::new();
        if self.drawn > 0 {
            out.push_str(&format!("\x1b[{}A", self.drawn));
        }
        out.push_str("\r\x1b[J");
        for line in above.iter().chain(graph) {
            out.push_str(line);
            out.push('\n');
        }
        self.drawn = graph.len();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures::run_step;
    use is_proto::json::state_of;
    use is_proto::v1::AppStep;

    /// The state of a name (`UNKNOWN` for any other).
    fn st(name: &str) -> TaskState {
        state_of(name).unwrap_or(TaskState::Unspecified)
    }

    fn status() -> RunStatus {
        RunStatus {
            id: "isapp-1".into(),
            app_name: "hello".into(),
            state: TaskState::Started as i32,
            steps: vec![
                run_step("t-1", "Fetch", TaskState::Success, 1),
                run_step("t-2", "Store", TaskState::Started, 2),
                run_step("t-3", "Report", TaskState::Pending, 0),
            ],
            ..Default::default()
        }
    }

    fn step(name: &str, state: &str, attempt: u32, next: &[&str]) -> StepView {
        StepView {
            id: format!("id-{name}"),
            name: name.into(),
            state: st(state),
            attempt,
            next: next.iter().map(|n| n.to_string()).collect(),
        }
    }

    #[test]
    fn graph_lines_without_color() {
        let s = step("Fetch", "SUCCESS", 1, &["Store", "Report"]);
        assert_eq!(
            graph_line(&s, 6, 7, false, 79),
            "  Fetch   SUCCESS  -> Store, Report"
        );
        // The attempt only when the step was tried again; no arrow, no
        // trailing spaces.
        let s = step("Store", "RETRY", 2, &[]);
        assert_eq!(graph_line(&s, 6, 17, false, 79), "  Store   RETRY (attempt 2)");
        let s = step("Store", "STARTED", 1, &[]);
        assert_eq!(graph_line(&s, 5, 7, false, 79), "  Store  STARTED");
        // Cut to the width.
        let s = step("Fetch", "SUCCESS", 1, &["Store", "Report"]);
        assert_eq!(graph_line(&s, 5, 7, false, 20), "  Fetch  SUCCESS  -…");
        assert_eq!(graph_line(&s, 5, 7, false, 20).chars().count(), 20);
    }

    #[test]
    fn graph_lines_with_color() {
        let cases = [
            ("PENDING", "\x1b[90m"),
            ("STARTED", "\x1b[34m"),
            ("RETRY", "\x1b[33m"),
            ("SUCCESS", "\x1b[32m"),
            ("FAILURE", "\x1b[31m"),
            ("REVOKED", "\x1b[35m"),
        ];
        for (state, color) in cases {
            let s = step("Fetch", state, 1, &[]);
            assert_eq!(
                graph_line(&s, 6, 7, true, 79),
                format!("  {color}Fetch   {state}\x1b[0m"),
                "{state}"
            );
        }
        // The edges stay plain; the state's padding is outside the color.
        let s = step("Store", "STARTED", 3, &["Report"]);
        assert_eq!(
            graph_line(&s, 5, 19, true, 79),
            "  \x1b[34mStore  STARTED (attempt 3)\x1b[0m  -> Report"
        );
        let s = step("Fetch", "SUCCESS", 1, &["Store"]);
        assert_eq!(
            graph_line(&s, 5, 9, true, 79),
            "  \x1b[32mFetch  SUCCESS\x1b[0m    -> Store"
        );
        // A state this iscli does not know is not colored.
        let s = step("Odd", "WEIRD", 1, &[]);
        assert_eq!(graph_line(&s, 3, 7, true, 79), "  Odd  UNKNOWN");
        // Cut inside the colored part: the color still ends.
        let s = step("LongStepName", "SUCCESS", 1, &[]);
        assert_eq!(graph_line(&s, 12, 7, true, 10), "  \x1b[32mLongSte…\x1b[0m");
    }

    #[test]
    fn the_view_follows_state_events() {
        let mut view = RunView::from_status(&status());
        assert_eq!(view.id, "isapp-1");
        assert_eq!(view.app, "hello");
        assert_eq!(view.state, TaskState::Started);
        assert_eq!(view.steps.len(), 3);
        assert_eq!(view.steps[1].attempt, 2);

        let ev = |id: &str, name: &str, state: &str, attempt: u32| StateChange {
            id: id.into(),
            name: name.into(),
            state: st(state) as i32,
            attempt,
            ..Default::default()
        };
        // The first round repeats what is known: no change.
        assert!(!view.apply(&ev("isapp-1", "hello", "STARTED", 0)));
        assert!(!view.apply(&ev("t-1", "Fetch", "SUCCESS", 1)));
        // A new attempt is a change even in the same state.
        assert!(view.apply(&ev("t-2", "Store", "STARTED", 3)));
        assert!(view.apply(&ev("t-3", "Report", "STARTED", 1)));
        assert!(view.apply(&ev("isapp-1", "hello", "FAILURE", 0)));
        assert_eq!(view.state, TaskState::Failure);
        // A step the status did not list is added at the end.
        assert!(view.apply(&ev("t-4", "Extra", "PENDING", 0)));
        assert_eq!(view.steps[3].name, "Extra");
        // An event that names nothing: ignored.
        assert!(!view.apply(&StateChange::default()));

        let newer = RunStatus {
            state: TaskState::Success as i32,
            steps: vec![run_step("t-2", "Store", TaskState::Success, 3)],
            ..Default::default()
        };
        assert!(view.update(&newer));
        assert!(!view.update(&newer));
        assert_eq!(view.state, TaskState::Success);
        assert_eq!(view.steps[1].state, TaskState::Success);
        assert_eq!(view.steps[2].state, TaskState::Started);
    }

    #[test]
    fn the_graph_has_the_run_and_every_step_with_its_edges() {
        let mut view = RunView::from_status(&status());
        let app_step = |name: &str, next: &[&str]| AppStep {
            name: name.into(),
            file: name.into(),
            output_to: next.iter().map(|n| n.to_string()).collect(),
            ..Default::default()
        };
        view.add_edges(&Application {
            steps: vec![
                app_step("Fetch", &["Store", "Report"]),
                app_step("Store", &["Report"]),
                app_step("Report", &[]),
            ],
            ..Default::default()
        });
        assert_eq!(
            view.lines(false, 79),
            vec![
                "application hello: STARTED",
                "  Fetch   SUCCESS              -> Store, Report",
                "  Store   STARTED (attempt 2)  -> Report",
                "  Report  PENDING",
            ]
        );
        let colored = view.lines(true, 79);
        assert_eq!(colored[0], "application hello: \x1b[34mSTARTED\x1b[0m");
        assert_eq!(colored[3], "  \x1b[90mReport  PENDING\x1b[0m");
    }

    #[test]
    fn frames_redraw_in_place_with_log_lines_above() {
        let mut screen = Screen::default();
        let graph = vec!["application a: PENDING".to_string(), "  s  PENDING".to_string()];
        assert_eq!(
            screen.frame(&[], &graph),
            "\r\x1b[Japplication a: PENDING\n  s  PENDING\n"
        );
        // Back up over the two lines, then the log line, then the graph.
        let graph = vec!["application a: STARTED".to_string(), "  s  STARTED".to_string()];
        assert_eq!(
            screen.frame(&["12:00:00 INFO s: hi".to_string()], &graph),
            "\x1b[2A\r\x1b[J12:00:00 INFO s: hi\napplication a: STARTED\n  s  STARTED\n"
        );
        let graph = vec!["application a: SUCCESS".to_string()];
        assert_eq!(
            screen.frame(&[], &graph),
            "\x1b[2A\r\x1b[Japplication a: SUCCESS\n"
        );
        assert_eq!(
            screen.frame(&[], &graph),
            "\x1b[1A\r\x1b[Japplication a: SUCCESS\n"
        );
    }

    #[test]
    fn widths_come_from_columns() {
        assert_eq!(max_width(None), 79);
        assert_eq!(max_width(Some("120")), 119);
        assert_eq!(max_width(Some(" 100 ")), 99);
        assert_eq!(max_width(Some("0")), 79);
        assert_eq!(max_width(Some("wide")), 79);
        assert_eq!(max_width(Some("10")), 20);
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("abcd", 3), "ab…");
    }
}
