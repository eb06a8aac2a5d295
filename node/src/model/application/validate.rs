//! Validation of application documents (DESIGN 4.2): every rule an
//! uploaded document must keep, checked in one pass that collects *every*
//! problem, so an upload answers with the complete list. O(steps + edges):
//! names and edges are looked up in hash maps and sets, and the cycle search
//! visits each step and edge once.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::model::{json_type, lenient, optional_str};

/// The problems of `doc` (empty when it is valid) and its name, if that is valid.
pub(super) fn check(doc: &Value) -> (Option<String>, Vec<String>) {
    let Some(obj) = doc.as_object() else {
        return (
            None,
            vec![format!(
                "the document must be a JSON object, got {}",
                json_type(doc)
            )],
        );
    };
    let mut problems = Vec::new();
    let name = validate_name(obj, &mut problems);
    for key in [
        "friendly_name",
        "description",
        "author",
        "version",
        "configuration",
        "queue",
    ] {
        optional_str(obj, key, "application", &mut problems);
    }
    if let Some(v) = obj.get("generate_report") {
        if lenient::bool_of(v).is_none() && !v.is_null() {
            problems.push(format!(
                "\"generate_report\" must be a boolean (or \"true\"/\"false\"), got {}",
                json_type(v)
            ));
        }
    }
    validate_app_variables(obj.get("app_variables"), &mut problems);
    validate_steps(obj.get("steps"), &mut problems);
    (name, problems)
}

fn validate_name(obj: &Map<String, Value>, problems: &mut Vec<String>) -> Option<String> {
    match obj.get("name") {
        None | Some(Value::Null) => {
            problems.push("\"name\" is required".to_string());
            None
        }
        Some(Value::String(s)) => match crate::model::names::name_problem(s) {
            Some(why) => {
                problems.push(format!("\"name\" {why}, got {s:?}"));
                None
            }
            None if s.chars().any(char::is_whitespace) => {
                problems.push(format!("\"name\" must not contain spaces, got {s:?}"));
                None
            }
            None => Some(s.clone()),
        },
        Some(other) => {
            problems.push(format!("\"name\" must be a string, got {}", json_type(other)));
            None
        }
    }
}

fn validate_app_variables(vars: Option<&Value>, problems: &mut Vec<String>) {
    let list = match vars {
        None | Some(Value::Null) => return,
        Some(Value::Array(list)) => list,
        Some(other) => {
            problems.push(format!(
                "\"app_variables\" must be an array, got {}",
                json_type(other)
            ));
            return;
        }
    };
    let mut seen = HashSet::new();
    for (i, var) in list.iter().enumerate() {
        let Some(var) = var.as_object() else {
            problems.push(format!("app_variables[{i}] must be an object"));
            continue;
        };
        match var.get("name") {
            Some(Value::String(n)) if !n.is_empty() => {
                if !seen.insert(n.clone()) {
                    problems.push(format!("app variable {n:?} is declared twice"));
                }
            }
            _ => problems.push(format!("app_variables[{i}] needs a non-empty string \"name\"")),
        }
        if let Some(r) = var.get("required") {
            if lenient::bool_of(r).is_none() {
                problems.push(format!(
                    "app_variables[{i}].required must be a boolean, got {}",
                    json_type(r)
                ));
            }
        }
    }
}

fn validate_steps(steps: Option<&Value>, problems: &mut Vec<String>) {
    let list = match steps {
        None | Some(Value::Null) => {
            problems.push("\"steps\" is required: a non-empty array of steps".to_string());
            return;
        }
        Some(Value::Array(list)) if list.is_empty() => {
            problems.push("\"steps\" must not be empty".to_string());
            return;
        }
        Some(Value::Array(list)) => list,
        Some(other) => {
            problems.push(format!("\"steps\" must be an array, got {}", json_type(other)));
            return;
        }
    };

    // First pass: names, so edges can be checked against the full set.
    // A name maps to the index of its first step.
    let mut names: Vec<Option<&str>> = Vec::with_capacity(list.len());
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(list.len());
    for (i, step) in list.iter().enumerate() {
        let Some(step) = step.as_object() else {
            problems.push(format!("steps[{i}] must be an object, got {}", json_type(step)));
            names.push(None);
            continue;
        };
        let name = match step.get("name") {
            Some(Value::String(n)) if !n.is_empty() => Some(n.as_str()),
            _ => {
                problems.push(format!("steps[{i}] needs a non-empty string \"name\""));
                None
            }
        };
        if let Some(n) = name {
            if index.contains_key(n) {
                problems.push(format!("duplicate step name {n:?}"));
            } else {
                index.insert(n, i);
            }
        }
        match step.get("file") {
            Some(Value::String(f)) if !f.is_empty() => {}
            _ => problems.push(format!(
                "{} needs a non-empty string \"file\" (the step class name)",
                step_label(i, name)
            )),
        }
        names.push(name);
    }

    // Second pass: edges and retry options. Each distinct edge is kept
    // once, as a successor of its upstream step.
    let mut seen_edges: HashSet<(usize, usize)> = HashSet::new();
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); list.len()];
    for (i, step) in list.iter().enumerate() {
        let Some(step) = step.as_object() else {
            continue;
        };
        let label = step_label(i, names[i]);
        let me = names[i].and_then(|n| index.get(n).copied());
        for key in ["output_to", "data_from"] {
            let targets = match step.get(key) {
                None | Some(Value::Null) => continue,
                Some(Value::Array(t)) => t,
                Some(other) => {
                    problems.push(format!(
                        "{label}: \"{key}\" must be an array of step names, got {}",
                        json_type(other)
                    ));
                    continue;
                }
            };
            for t in targets {
                let Some(t) = t.as_str() else {
                    problems.push(format!(
                        "{label}: \"{key}\" entries must be step names, got {}",
                        json_type(t)
                    ));
                    continue;
                };
                let Some(&target) = index.get(t) else {
                    problems.push(format!("{label}: \"{key}\" names unknown step {t:?}"));
                    continue;
                };
                let Some(me) = me else { continue };
                // Both keys describe one kind of edge: producer -> consumer
                // (the rule `application::edges` follows for valid documents).
                let (from, to) = if key == "output_to" {
                    (me, target)
                } else {
                    (target, me)
                };
                if seen_edges.insert((from, to)) {
                    successors[from].push(to);
                }
            }
        }
        validate_retry_options(step, &label, problems);
    }

    if let Some(cycle) = find_cycle(&successors) {
        let path: Vec<&str> = cycle.iter().map(|&i| names[i].unwrap_or("?")).collect();
        problems.push(format!("the steps form a cycle: {}", path.join(" -> ")));
    }
}

fn step_label(i: usize, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("step {n:?}"),
        None => format!("steps[{i}]"),
    }
}

fn validate_retry_options(step: &Map<String, Value>, label: &str, problems: &mut Vec<String>) {
    for key in ["retry_max", "retry_backoff_max", "retry_countdown"] {
        if let Some(v) = step.get(key) {
            if lenient::count_of(v).is_none() {
                problems.push(format!(
                    "{label}: \"{key}\" must be a non-negative integer, got {v}"
                ));
            }
        }
    }
    for key in ["retry_backoff", "retry_jitter"] {
        if let Some(v) = step.get(key) {
            if lenient::bool_of(v).is_none() {
                problems.push(format!("{label}: \"{key}\" must be true or false, got {v}"));
            }
        }
    }
}

/// Finds one cycle (as a closed path of step indices) with an iterative
/// depth-first search; O(steps + edges).
fn find_cycle(successors: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut marks = vec![Mark::New; successors.len()];
    for start in 0..successors.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // The path, and for each step on it how many successors were visited.
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        marks[start] = Mark::OnPath;
        while let Some((node, next)) = path.last_mut() {
            let Some(&n) = successors[*node].get(*next) else {
                marks[*node] = Mark::Done;
                path.pop();
                continue;
            };
            *next += 1;
            match marks[n] {
                Mark::OnPath => {
                    let from = path.iter().position(|(p, _)| *p == n).unwrap_or(0);
                    let mut cycle: Vec<usize> = path[from..].iter().map(|(p, _)| *p).collect();
                    cycle.push(n);
                    return Some(cycle);
                }
                Mark::Done => {}
                Mark::New => {
                    marks[n] = Mark::OnPath;
                    path.push((n, 0));
                }
            }
        }
    }
    None
}
