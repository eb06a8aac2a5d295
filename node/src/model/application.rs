//! Applications: a JSON document listing steps and the edges between them
//! (DESIGN 4.2). Validation finds every problem in one pass so an upload
//! answers with the complete list.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::{json_type, optional_str, ModelError};

/// Keys of a step entry that are not parameter values.
pub const STEP_RESERVED_KEYS: &[&str] = &[
    "name",
    "file",
    "syncpack",
    "output_to",
    "data_from",
    "retry_max",
    "retry_backoff",
    "retry_jitter",
    "retry_backoff_max",
    "retry_countdown",
];

/// A validated application document. The document itself is kept as
/// uploaded (unknown top-level keys survive a round trip); `name` is
/// extracted because it keys the content.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub name: String,
    pub doc: Value,
}

impl Application {
    pub fn validate(doc: Value) -> Result<Application, ModelError> {
        let Some(obj) = doc.as_object() else {
            return Err(ModelError::invalid(
                "application",
                vec![format!(
                    "the document must be a JSON object, got {}",
                    json_type(&doc)
                )],
            ));
        };
        let mut problems = Vec::new();
        let name = validate_name(obj, &mut problems);
        let what = match &name {
            Some(n) => format!("application {n:?}"),
            None => "application".to_string(),
        };
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
        match (name, problems.is_empty()) {
            (Some(name), true) => Ok(Application { name, doc }),
            _ => Err(ModelError::invalid(what, problems)),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(doc: Value) -> Vec<String> {
        match Application::validate(doc) {
            Ok(_) => vec![],
            Err(ModelError::Invalid { problems, .. }) => problems,
        }
    }

    #[test]
    fn accepts_the_template_shape() {
        let doc = json!({"name": "a", "steps": [
            {"name": "S1", "file": "F", "output_to": ["S2"]},
            {"name": "S2", "file": "G", "data_from": ["S1"], "retry_max": 3, "retry_backoff": true}
        ]});
        let app = Application::validate(doc).unwrap();
        assert_eq!(app.name, "a");
    }

    #[test]
    fn lists_missing_name_and_steps_together() {
        let p = problems(json!({"description": "x"}));
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("\"name\" is required"));
        assert!(p[1].contains("\"steps\" is required"));
    }

    #[test]
    fn rejects_spaces_in_name_and_empty_steps() {
        let p = problems(json!({"name": "my app", "steps": []}));
        assert!(p.iter().any(|m| m.contains("spaces")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("must not be empty")), "{p:?}");
    }

    #[test]
    fn rejects_duplicate_step_names() {
        let p = problems(json!({"name": "a", "steps": [
            {"name": "S", "file": "F"}, {"name": "S", "file": "F"}]}));
        assert_eq!(p, vec!["duplicate step name \"S\"".to_string()]);
    }

    #[test]
    fn rejects_edges_to_unknown_steps() {
        let p = problems(json!({"name": "a", "steps": [
            {"name": "S", "file": "F", "output_to": ["T"], "data_from": ["U"]}]}));
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("unknown step \"T\""));
        assert!(p[1].contains("unknown step \"U\""));
    }

    #[test]
    fn finds_cycles_through_either_edge_kind() {
        let p = problems(json!({"name": "a", "steps": [
            {"name": "A", "file": "F", "output_to": ["B"]},
            {"name": "B", "file": "F", "output_to": ["C"]},
            {"name": "C", "file": "F"},
            {"name": "A2", "file": "F", "data_from": ["C"], "output_to": ["B"]}]}));
        // C -> A2 via data_from, A2 -> B via output_to, B -> C.
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("cycle"), "{p:?}");
        for n in ["B", "C", "A2"] {
            assert!(p[0].contains(n), "{p:?}");
        }
    }

    #[test]
    fn self_edge_is_a_cycle() {
        let p = problems(json!({"name": "a", "steps": [{"name": "A", "file": "F", "output_to": ["A"]}]}));
        assert_eq!(p, vec!["the steps form a cycle: A -> A".to_string()]);
    }

    #[test]
    fn diamond_is_not_a_cycle() {
        let p = problems(json!({"name": "a", "steps": [
            {"name": "A", "file": "F", "output_to": ["B", "C"]},
            {"name": "B", "file": "F", "output_to": ["D"]},
            {"name": "C", "file": "F", "output_to": ["D"]},
            {"name": "D", "file": "F", "data_from": ["B", "C"]}]}));
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn checks_retry_option_types() {
        let p = problems(json!({"name": "a", "steps": [
            {"name": "A", "file": "F", "retry_max": -1, "retry_backoff": "yes"}]}));
        assert_eq!(p.len(), 2, "{p:?}");
    }

    #[test]
    fn non_object_document() {
        let p = problems(json!([1, 2]));
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("JSON object"));
    }
}
