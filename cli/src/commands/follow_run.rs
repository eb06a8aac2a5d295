//! The decisions of following a run, without the IO: how to show it on
//! this stdout (the live graph, lines, log lines only, nothing), what a
//! state event calls for (a line), and `RunPrinter`, which turns each change into the text to
//! write. `runs.rs` carries them out.

use is_proto::v1::StateChange;

use crate::live;
use crate::output;

/// What to print while following a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunShow {
    /// stdout is a terminal: the graph, redrawn in place, with the log
    /// lines scrolling above it.
    Graph { color: bool, max_width: usize },
    /// stdout is not a terminal: one line per state change and per log
    /// record.
    Lines,
    /// Log lines only (`task logs isapp-... --follow`).
    Logs,
    /// Nothing (`--json` prints only the final document).
    Nothing,
}

/// What stdout is, for [`run_show`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Terminal {
    /// stdout is a terminal.
    pub(crate) is_terminal: bool,
    /// `$TERM`.
    pub(crate) term: Option<String>,
    /// The terminal shows colours and the user did not turn them off.
    pub(crate) colors: bool,
    /// `$COLUMNS`.
    pub(crate) columns: Option<String>,
}

/// How to show a followed run: nothing with --json; the live graph on a
/// terminal that can move its cursor (not TERM=dumb), coloured when colours
/// are wanted; else one line per change.
pub(crate) fn run_show(json: bool, terminal: &Terminal) -> RunShow {
    if json {
        return RunShow::Nothing;
    }
    if !terminal.is_terminal || terminal.term.as_deref() == Some("dumb") {
        return RunShow::Lines;
    }
    RunShow::Graph {
        color: terminal.colors,
        max_width: live::max_width(terminal.columns.as_deref()),
    }
}

/// What a state event that changed the view calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunChange {
    /// The line that tells of the change (only when showing lines).
    pub(crate) line: Option<String>,
}

/// What the state event `event` of the run `view` follows calls for.
pub(crate) fn run_change(view: &live::RunView, event: &StateChange, show: RunShow) -> RunChange {
    let state = event.state();
    let attempt = event.attempt;
    let is_step = event.id != view.id;
    let ended = output::is_final(state);
    let line = match show {
        RunShow::Lines if is_step => Some(output::change_line("step", &event.name, state, attempt)),
        // The run's final state is part of the outcome.
        RunShow::Lines if !ended => Some(output::change_line("application", &view.app, state, 0)),
        _ => None,
    };
    RunChange { line }
}

/// Turns what happens to a followed run into the text to write: frames of
/// the live graph (to write as they are, see `output::draw`) or lines.
#[derive(Debug)]
pub(crate) struct RunPrinter {
    show: RunShow,
    screen: live::Screen,
}

impl RunPrinter {
    pub(crate) fn new(show: RunShow) -> RunPrinter {
        RunPrinter {
            show,
            screen: live::Screen::default(),
        }
    }

    /// True when the text is a frame of the live graph.
    pub(crate) fn draws(&self) -> bool {
        matches!(self.show, RunShow::Graph { .. })
    }

    /// Before the first event: the graph, or one line for the run and each
    /// step saying where it stands.
    pub(crate) fn start(&mut self, view: &live::RunView) -> String {
        match self.show {
            RunShow::Graph { .. } => self.frame(view, &[]),
            RunShow::Lines => {
                let mut lines = vec![output::change_line("application", &view.app, view.state, 0)];
                lines.extend(
                    view.steps
                        .iter()
                        .map(|s| output::change_line("step", &s.name, s.state, s.attempt)),
                );
                joined(&lines)
            }
            RunShow::Logs | RunShow::Nothing => String::new(),
        }
    }

    /// After a state change: its line, or the redrawn graph.
    pub(crate) fn changed(&mut self, view: &live::RunView, change: RunChange) -> String {
        if self.draws() {
            return self.frame(view, &[]);
        }
        joined(&change.line.into_iter().collect::<Vec<_>>())
    }

    /// A log line as it arrives: above the redrawn graph, or alone.
    pub(crate) fn log(&mut self, view: &live::RunView, line: String) -> String {
        match self.show {
            RunShow::Graph { .. } => self.frame(view, &[line]),
            RunShow::Nothing => String::new(),
            RunShow::Lines | RunShow::Logs => joined(&[line]),
        }
    }

    /// The graph again after the view changed without an event (the final
    /// status); nothing when no graph is shown.
    pub(crate) fn redraw(&mut self, view: &live::RunView) -> String {
        if self.draws() {
            self.frame(view, &[])
        } else {
            String::new()
        }
    }

    fn frame(&mut self, view: &live::RunView, above: &[String]) -> String {
        let RunShow::Graph { color, max_width } = self.show else {
            return String::new();
        };
        self.screen.frame(above, &view.lines(color, max_width))
    }
}

/// Lines as one text, each ending in a newline (empty for none).
fn joined(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures::run_step;
    use is_proto::json::state_of;
    use is_proto::v1::{RunStatus, TaskState};

    fn view() -> live::RunView {
        live::RunView::from_status(&RunStatus {
            id: "isapp-1".into(),
            app_name: "hello".into(),
            state: TaskState::Started as i32,
            steps: vec![
                run_step("t-1", "Fetch", TaskState::Started, 1),
                run_step("t-2", "Store", TaskState::Pending, 0),
            ],
            ..Default::default()
        })
    }

    fn event(id: &str, name: &str, state: &str, attempt: u32) -> StateChange {
        StateChange {
            id: id.into(),
            name: name.into(),
            state: state_of(state).map_or(0, |s| s as i32),
            attempt,
            ..Default::default()
        }
    }

    const GRAPH: RunShow = RunShow::Graph {
        color: false,
        max_width: 79,
    };

    #[test]
    fn the_graph_only_on_a_terminal_that_can_move_its_cursor() {
        let tty = Terminal {
            is_terminal: true,
            term: Some("xterm-256color".into()),
            colors: true,
            columns: Some("100".into()),
        };
        assert_eq!(
            run_show(false, &tty),
            RunShow::Graph {
                color: true,
                max_width: 99
            }
        );
        let no_color = Terminal {
            colors: false,
            columns: None,
            ..tty.clone()
        };
        assert_eq!(
            run_show(false, &no_color),
            RunShow::Graph {
                color: false,
                max_width: 79
            }
        );
        let dumb = Terminal {
            term: Some("dumb".into()),
            ..tty.clone()
        };
        assert_eq!(run_show(false, &dumb), RunShow::Lines);
        assert_eq!(run_show(false, &Terminal::default()), RunShow::Lines);
        // --json prints only the final document, terminal or not.
        assert_eq!(run_show(true, &tty), RunShow::Nothing);
    }

    #[test]
    fn each_change_of_a_step_is_a_line_unless_the_graph_or_json_shows_it() {
        let v = view();
        assert_eq!(
            run_change(&v, &event("t-1", "Fetch", "RETRY", 1), RunShow::Lines).line,
            Some("step Fetch: RETRY (attempt 1)".into())
        );
        assert_eq!(
            run_change(&v, &event("t-1", "Fetch", "FAILURE", 2), GRAPH).line,
            None,
            "the graph shows the change"
        );
        assert_eq!(
            run_change(&v, &event("t-1", "Fetch", "SUCCESS", 1), RunShow::Nothing),
            RunChange { line: None }
        );
    }

    #[test]
    fn the_run_s_own_final_state_is_left_to_the_outcome() {
        let v = view();
        assert_eq!(
            run_change(&v, &event("isapp-1", "hello", "STARTED", 0), RunShow::Lines).line,
            Some("application hello: STARTED".into())
        );
        let ended = run_change(&v, &event("isapp-1", "hello", "SUCCESS", 0), RunShow::Lines);
        assert_eq!(ended.line, None);
    }

    #[test]
    fn lines_tell_where_everything_stands_then_each_change() {
        let v = view();
        let mut printer = RunPrinter::new(RunShow::Lines);
        assert!(!printer.draws());
        assert_eq!(
            printer.start(&v),
            "application hello: STARTED
step Fetch: STARTED (attempt 1)
step Store: PENDING
"
        );
        let change = run_change(&v, &event("t-1", "Fetch", "SUCCESS", 1), RunShow::Lines);
        assert_eq!(
            printer.changed(&v, change),
            "step Fetch: SUCCESS (attempt 1)
"
        );
        assert_eq!(
            printer.log(&v, "a line".into()),
            "a line
"
        );
        assert_eq!(printer.redraw(&v), "");
    }

    #[test]
    fn the_graph_is_redrawn_under_the_new_log_lines() {
        let v = view();
        let mut printer = RunPrinter::new(GRAPH);
        assert!(printer.draws());
        let graph = "application hello: STARTED
  Fetch  STARTED
  Store  PENDING
";
        assert_eq!(printer.start(&v), format!("\r\x1b[J{graph}"));
        assert_eq!(
            printer.log(&v, "12:00:00 INFO Fetch: hi".into()),
            format!("\x1b[3A\r\x1b[J12:00:00 INFO Fetch: hi\n{graph}")
        );
        let change = run_change(&v, &event("t-1", "Fetch", "RETRY", 1), GRAPH);
        assert_eq!(printer.changed(&v, change), format!("\x1b[3A\r\x1b[J{graph}"));
        assert_eq!(printer.redraw(&v), format!("\x1b[3A\r\x1b[J{graph}"));
    }

    #[test]
    fn following_only_the_logs_prints_only_log_lines() {
        let v = view();
        let mut printer = RunPrinter::new(RunShow::Logs);
        assert_eq!(printer.start(&v), "");
        let change = run_change(&v, &event("t-1", "Fetch", "SUCCESS", 1), RunShow::Logs);
        assert_eq!(printer.changed(&v, change), "");
        assert_eq!(printer.log(&v, "live".into()), "live\n");
        let mut silent = RunPrinter::new(RunShow::Nothing);
        assert_eq!(silent.start(&v), "");
        assert_eq!(silent.log(&v, "x".into()), "");
    }
}
