//! The event stream of a task or a run (`GET /tasks/{id}/events`, gRPC
//! `WatchTask`): every log record and state change, in order, from the
//! replicated state alone, so it is the same on every node and can be
//! resumed.
//!
//! The stream keeps a [`Cursor`]: for each task (for a run, each step task
//! and then the run itself) how many log records were sent and the state
//! last sent. After each change of the watched id it sends what differs
//! ([`catch_up`]): a task's new records first, then its new state; the run's
//! own state after its steps, so a run never ends before its last step.
//! Each event carries the cursor after it (the SSE id), and a stream opened
//! with a cursor (`Last-Event-ID`, `WatchRequest.after`) goes on from there.
//!
//! **Invariant:** a stream delivers each log record of the watched tasks
//! exactly once, in log order, and a task's state after the records it
//! logged before that state; resuming from an event's cursor sends exactly
//! what followed it. Checked by this file's tests and
//! `tests/tests/streams.rs`.

use std::collections::VecDeque;

use futures::Stream;
use is_proto::v1 as pb;

use super::views;
use super::{ApiError, Service};
use crate::model::task::{LogLine, StepTask, TaskState};
use crate::store::disk::DiskError;

/// What the stream has sent of one task (or of the run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Mark {
    lines: u64,
    /// The state and attempt last sent (None: nothing sent yet).
    state: Option<(TaskState, u32)>,
}

/// Where a stream stands: one mark per followed task, the run last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    marks: Vec<Mark>,
}

const CURSOR_VERSION: &str = "c1";

fn state_letter(s: TaskState) -> char {
    match s {
        TaskState::Pending => 'P',
        TaskState::Started => 'T',
        TaskState::Retry => 'R',
        TaskState::Success => 'S',
        TaskState::Failure => 'F',
        TaskState::Revoked => 'X',
    }
}

fn letter_state(c: char) -> Option<TaskState> {
    Some(match c {
        'P' => TaskState::Pending,
        'T' => TaskState::Started,
        'R' => TaskState::Retry,
        'S' => TaskState::Success,
        'F' => TaskState::Failure,
        'X' => TaskState::Revoked,
        _ => return None,
    })
}

impl Cursor {
    fn start(followed: usize) -> Cursor {
        Cursor {
            marks: vec![Mark::default(); followed],
        }
    }

    /// The text form: `c1` then, per followed task, `-` records sent, the
    /// state letter (`N` for none) and the attempt: `c1-12S1-0T2-0N0`.
    pub fn encode(&self) -> String {
        let mut out = String::from(CURSOR_VERSION);
        for m in &self.marks {
            let (letter, attempt) = m.state.map_or(('N', 0), |(s, a)| (state_letter(s), a));
            out.push_str(&format!("-{}{letter}{attempt}", m.lines));
        }
        out
    }

    /// Reads a cursor of a stream that followed `followed` tasks.
    pub fn decode(text: &str, followed: usize) -> Result<Cursor, String> {
        let bad = || {
            format!(
                "{text:?} is not a position of this stream; send back the id of an event this \
                 stream sent (Last-Event-ID), or leave it out to start from the beginning"
            )
        };
        let mut parts = text.split('-');
        if parts.next() != Some(CURSOR_VERSION) {
            return Err(bad());
        }
        let mut marks = Vec::with_capacity(followed);
        for part in parts {
            let at = part.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
            let lines: u64 = part[..at].parse().map_err(|_| bad())?;
            let mut rest = part[at..].chars();
            let letter = rest.next().ok_or_else(bad)?;
            let attempt: u32 = rest.as_str().parse().map_err(|_| bad())?;
            let state = match letter {
                'N' => None,
                c => Some((letter_state(c).ok_or_else(bad)?, attempt)),
            };
            marks.push(Mark { lines, state });
        }
        if marks.len() != followed {
            return Err(bad());
        }
        Ok(Cursor { marks })
    }
}

/// One followed task (or the run) as it stands now.
#[derive(Debug, Clone)]
pub struct Standing {
    pub id: String,
    pub name: String,
    pub state: TaskState,
    pub attempt: u32,
    /// Records in its log (0 for the run).
    pub log_lines: u64,
    pub waiting_for: Option<String>,
    pub retry_at_ms: Option<u64>,
}

impl Standing {
    fn of_task(t: &StepTask, waiting_for: Option<String>) -> Standing {
        Standing {
            id: t.spec.id.clone(),
            name: t.spec.step_name.clone(),
            state: t.state,
            attempt: t.attempt,
            log_lines: t.log_lines,
            waiting_for,
            retry_at_ms: t.retry_at_ms.filter(|_| t.state == TaskState::Retry),
        }
    }
}

/// Queues, in order, the events that take `cursor` to `now`: per task its
/// records not sent yet (read by `read_logs(task, from, to)`), then its
/// state if it changed. Each event carries the cursor after it.
pub fn catch_up(
    cursor: &mut Cursor,
    now: &[Standing],
    mut read_logs: impl FnMut(&str, u64, u64) -> Result<Vec<LogLine>, DiskError>,
    out: &mut VecDeque<pb::TaskEvent>,
) -> Result<(), DiskError> {
    use pb::task_event::Event as E;
    for (i, s) in now.iter().enumerate() {
        let Some(mark) = cursor.marks.get(i).copied() else {
            break;
        };
        if s.log_lines > mark.lines {
            let lines = read_logs(&s.id, mark.lines, s.log_lines)?;
            for line in lines {
                cursor.marks[i].lines += 1;
                out.push_back(pb::TaskEvent {
                    event: Some(E::Log(pb::LogEvent {
                        id: s.id.clone(),
                        name: s.name.clone(),
                        record: Some(views::log_record(&line)),
                    })),
                    cursor: cursor.encode(),
                });
            }
        }
        if mark.state != Some((s.state, s.attempt)) {
            cursor.marks[i].state = Some((s.state, s.attempt));
            out.push_back(pb::TaskEvent {
                event: Some(E::State(pb::StateChange {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    state: views::state(s.state),
                    attempt: s.attempt,
                    waiting_for: s.waiting_for.clone(),
                    retry_at: s.retry_at_ms.map(views::secs),
                })),
                cursor: cursor.encode(),
            });
        }
    }
    Ok(())
}

impl Service {
    /// The followed tasks of `id` as they stand (a run's steps, then the
    /// run), and whether it is over; None for an unknown id.
    fn positions(&self, id: &str) -> Result<Option<(Vec<Standing>, bool)>, ApiError> {
        let content = &self.inner.content;
        let waiting = |t: &StepTask| views::waiting_for(t, self.inner.served.contains(&t.spec.queue));
        if let Some(r) = content.run(id)? {
            let mut all: Vec<Standing> = content
                .run_tasks(&r)?
                .iter()
                .map(|t| Standing::of_task(t, waiting(t)))
                .collect();
            all.push(Standing {
                id: id.to_string(),
                name: r.spec.app.name.clone(),
                state: r.run.state,
                attempt: 0,
                log_lines: 0,
                waiting_for: None,
                retry_at_ms: None,
            });
            return Ok(Some((all, r.run.state.is_terminal())));
        }
        Ok(content
            .task(id)?
            .map(|t| (vec![Standing::of_task(&t, waiting(&t))], t.state.is_terminal())))
    }

    /// Everything that happened to a task or a run, from its beginning or
    /// from `after` (a cursor this stream sent), then everything that
    /// happens until it ends, and a final end event with its status.
    pub fn watch_task(
        &self,
        id: &str,
        after: Option<&str>,
    ) -> Result<impl Stream<Item = pb::TaskEvent> + Send + 'static, ApiError> {
        let (now, _) = self
            .positions(id)?
            .ok_or_else(|| ApiError::NotFound(format!("no task or run {id:?}")))?;
        let cursor = match after.filter(|a| !a.is_empty()) {
            None => Cursor::start(now.len()),
            Some(text) => Cursor::decode(text, now.len()).map_err(|detail| ApiError::BadRequest {
                message: "cannot resume the event stream".into(),
                details: vec![detail],
            })?,
        };
        struct Watch {
            svc: Service,
            id: String,
            cursor: Cursor,
            queue: VecDeque<pb::TaskEvent>,
            done: bool,
        }
        let w = Watch {
            svc: self.clone(),
            id: id.to_string(),
            cursor,
            queue: VecDeque::new(),
            done: false,
        };
        Ok(futures::stream::unfold(w, |mut w| async move {
            loop {
                if let Some(e) = w.queue.pop_front() {
                    return Some((e, w));
                }
                if w.done {
                    return None;
                }
                // Registered before the state is read, so a change in
                // between still wakes this wait.
                let change = w.svc.inner.events.next_change(&w.id);
                let (now, over) = match w.svc.positions(&w.id) {
                    Ok(Some(p)) => p,
                    // Expired meanwhile, or the store failed: the stream ends.
                    Ok(None) | Err(_) => return None,
                };
                let content = &w.svc.inner.content;
                let read = |task: &str, from, to| content.log_lines(task, from, to);
                if catch_up(&mut w.cursor, &now, read, &mut w.queue).is_err() {
                    return None;
                }
                if over {
                    w.done = true;
                    let status = w
                        .svc
                        .any_task_status(&w.id, super::runtime::LogPage::default())
                        .await
                        .ok();
                    w.queue.push_back(pb::TaskEvent {
                        event: Some(pb::task_event::Event::End(pb::EndEvent { status })),
                        cursor: w.cursor.encode(),
                    });
                    continue;
                }
                if w.queue.is_empty() {
                    change.await;
                }
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u64) -> LogLine {
        LogLine {
            time: n as f64,
            level: "INFO".into(),
            levelno: 20,
            module: "m".into(),
            message: format!("line {n}"),
        }
    }

    fn standing(id: &str, state: TaskState, attempt: u32, log_lines: u64) -> Standing {
        Standing {
            id: id.into(),
            name: id.to_uppercase(),
            state,
            attempt,
            log_lines,
            waiting_for: None,
            retry_at_ms: None,
        }
    }

    /// A log of `n` records per task: record k of any task is `line(k)`.
    fn logs(_task: &str, from: u64, to: u64) -> Result<Vec<LogLine>, DiskError> {
        Ok((from..to).map(line).collect())
    }

    /// What each event says, as text: `log a 3` or `state run SUCCESS`.
    fn said(events: &VecDeque<pb::TaskEvent>) -> Vec<String> {
        use pb::task_event::Event as E;
        events
            .iter()
            .map(|e| match e.event.as_ref().unwrap() {
                E::Log(l) => format!("log {} {}", l.id, l.record.as_ref().unwrap().message),
                E::State(s) => format!("state {} {}", s.id, is_proto::json::state_name(s.state)),
                E::End(_) => "end".into(),
            })
            .collect()
    }

    #[test]
    fn records_come_before_the_state_and_the_run_after_its_steps() {
        let mut cursor = Cursor::start(3);
        let mut out = VecDeque::new();
        let now = [
            standing("a", TaskState::Success, 1, 2),
            standing("b", TaskState::Failure, 1, 1),
            standing("run", TaskState::Failure, 0, 0),
        ];
        catch_up(&mut cursor, &now, logs, &mut out).unwrap();
        assert_eq!(
            said(&out),
            [
                "log a line 0",
                "log a line 1",
                "state a SUCCESS",
                "log b line 0",
                "state b FAILURE",
                "state run FAILURE"
            ]
        );
        // Nothing changed: nothing more.
        out.clear();
        catch_up(&mut cursor, &now, logs, &mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn only_what_changed_is_sent_and_a_new_attempt_is_a_new_state() {
        let mut cursor = Cursor::start(2);
        let mut out = VecDeque::new();
        let mut now = vec![
            standing("a", TaskState::Started, 1, 1),
            standing("run", TaskState::Started, 0, 0),
        ];
        catch_up(&mut cursor, &now, logs, &mut out).unwrap();
        out.clear();
        now[0] = standing("a", TaskState::Started, 2, 3);
        catch_up(&mut cursor, &now, logs, &mut out).unwrap();
        assert_eq!(said(&out), ["log a line 1", "log a line 2", "state a STARTED"]);
    }

    #[test]
    fn resuming_from_any_event_sends_exactly_what_followed_it() {
        let now = [
            standing("a", TaskState::Success, 1, 3),
            standing("b", TaskState::Started, 1, 2),
            standing("run", TaskState::Started, 0, 0),
        ];
        let mut whole = VecDeque::new();
        catch_up(&mut Cursor::start(3), &now, logs, &mut whole).unwrap();
        let whole: Vec<pb::TaskEvent> = whole.into();
        for (k, event) in whole.iter().enumerate() {
            let mut resumed = Cursor::decode(&event.cursor, 3).unwrap();
            let mut rest = VecDeque::new();
            catch_up(&mut resumed, &now, logs, &mut rest).unwrap();
            let rest: Vec<pb::TaskEvent> = rest.into();
            assert_eq!(rest, whole[k + 1..], "resumed after event {k}");
        }
    }

    #[test]
    fn a_cursor_round_trips_and_a_foreign_one_is_refused() {
        let cursor = Cursor {
            marks: vec![
                Mark {
                    lines: 12,
                    state: Some((TaskState::Success, 1)),
                },
                Mark::default(),
            ],
        };
        assert_eq!(cursor.encode(), "c1-12S1-0N0");
        assert_eq!(Cursor::decode("c1-12S1-0N0", 2).unwrap(), cursor);
        for bad in [
            "",
            "c1-12S1",
            "c2-1S1-0N0",
            "c1-xS1-0N0",
            "c1-1Q1-0N0",
            "c1-1S-0N0",
        ] {
            let err = Cursor::decode(bad, 2).unwrap_err();
            assert!(err.contains("Last-Event-ID"), "{bad}: {err}");
        }
    }
}
