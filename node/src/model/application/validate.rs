//! Validation of application documents (DESIGN 4.2): every rule an
//! uploaded document must keep, checked in one pass that collects *every*
//! problem, so an upload answers with the complete list.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::model::{json_type, optional_str};

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
        if !v.is_boolean() && !v.is_null() {
            problems.push(format!(
                "\"generate_report\" must be a boolean, got {}",
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
        Some(Value::String(s)) if s.trim().is_empty() => {
            problems.push("\"name\" must not be empty".to_string());
            None
        }
        Some(Value::String(s)) if s.chars().any(char::is_whitespace) => {
            problems.push(format!("\"name\" must not contain spaces, got {s:?}"));
            None
        }
        Some(Value::String(s)) if s.contains('/') => {
            problems.push(format!("\"name\" must not contain '/', got {s:?}"));
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
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
    let mut seen = BTreeSet::new();
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
            if !r.is_boolean() {
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
    let mut names: Vec<Option<&str>> = Vec::with_capacity(list.len());
    let mut seen = BTreeSet::new();
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
            if !seen.insert(n) {
                problems.push(format!("duplicate step name {n:?}"));
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

    // Second pass: edges and retry options.
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (i, step) in list.iter().enumerate() {
        let Some(step) = step.as_object() else {
            continue;
        };
        let label = step_label(i, names[i]);
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
                if !seen.contains(t) {
                    problems.push(format!("{label}: \"{key}\" names unknown step {t:?}"));
                    continue;
                }
                let Some(me) = names[i] else { continue };
                // Both keys describe one kind of edge: producer -> consumer.
                let (from, to) = if key == "output_to" { (me, t) } else { (t, me) };
                edges.entry(from).or_default().insert(to);
            }
        }
        validate_retry_options(step, &label, problems);
    }

    if let Some(cycle) = find_cycle(&names, &edges) {
        problems.push(format!("the steps form a cycle: {}", cycle.join(" -> ")));
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
            if v.as_u64().is_none() {
                problems.push(format!(
                    "{label}: \"{key}\" must be a non-negative integer, got {v}"
                ));
            }
        }
    }
    for key in ["retry_backoff", "retry_jitter"] {
        if let Some(v) = step.get(key) {
            if !v.is_boolean() {
                problems.push(format!("{label}: \"{key}\" must be true or false, got {v}"));
            }
        }
    }
}

/// Finds one cycle (as a closed path of step names) with a depth-first search.
fn find_cycle<'a>(
    names: &[Option<&'a str>],
    edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
) -> Option<Vec<&'a str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut marks: BTreeMap<&str, Mark> = names.iter().flatten().map(|n| (*n, Mark::New)).collect();
    let empty = BTreeSet::new();
    for start in names.iter().flatten() {
        if marks[start] != Mark::New {
            continue;
        }
        // Iterative DFS: the path plus, for each node on it, its successors left to visit.
        let mut path: Vec<&str> = vec![start];
        let mut pending: Vec<Vec<&str>> = vec![edges.get(start).unwrap_or(&empty).iter().copied().collect()];
        marks.insert(start, Mark::OnPath);
        while let Some(next) = pending.last_mut() {
            match next.pop() {
                Some(n) => match marks[n] {
                    Mark::OnPath => {
                        let from = path.iter().position(|p| *p == n).unwrap_or(0);
                        let mut cycle = path[from..].to_vec();
                        cycle.push(n);
                        return Some(cycle);
                    }
                    Mark::Done => {}
                    Mark::New => {
                        marks.insert(n, Mark::OnPath);
                        path.push(n);
                        pending.push(edges.get(n).unwrap_or(&empty).iter().copied().collect());
                    }
                },
                None => {
                    pending.pop();
                    if let Some(done) = path.pop() {
                        marks.insert(done, Mark::Done);
                    }
                }
            }
        }
    }
    None
}
