//! Tests of application validation and of the typed document it answers.

use super::*;
use crate::model::ModelError;
use serde_json::json;

fn problems(doc: Value) -> Vec<String> {
    match Application::validate(doc) {
        Ok(_) => vec![],
        Err(ModelError::Invalid { problems, .. }) => problems,
        Err(other) => panic!("validation answered {other:?}"),
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
        {"name": "A", "file": "F", "retry_max": -1, "retry_backoff": "maybe"}]}));
    assert_eq!(p.len(), 2, "{p:?}");
}

#[test]
fn options_given_as_strings_are_read_as_the_original_read_them() {
    let doc = json!({"name": "a", "generate_report": "True",
        "app_variables": [{"name": "v", "value": 1, "required": "false"}],
        "steps": [{"name": "A", "file": "F", "retry_max": "3", "retry_backoff": "true",
                   "retry_countdown": " 7 "}]});
    assert!(problems(doc.clone()).is_empty(), "{:?}", problems(doc.clone()));
    let app = Application::validate(doc).unwrap();
    assert!(app.generate_report);
    assert!(!app.app_variables[0].required);
    let retry = app.steps[0].retry;
    assert_eq!((retry.max, retry.backoff, retry.countdown_s), (3, true, 7));
}

#[test]
fn non_object_document() {
    let p = problems(json!([1, 2]));
    assert_eq!(p.len(), 1);
    assert!(p[0].contains("JSON object"));
}

#[test]
fn the_typed_document_holds_steps_edges_retries_parameters_and_variables() {
    let app = Application::validate(json!({"name": "a", "queue": "q", "configuration": "",
        "generate_report": true, "custom": {"kept": 1},
        "app_variables": [{"name": "v", "value": 3, "required": true}],
        "steps": [
            {"name": "S1", "file": "F", "output_to": ["S2"], "p": "x", "retry_max": 2},
            {"name": "S2", "file": "G", "data_from": ["S1"], "timeout": 5}]}))
    .unwrap();
    assert_eq!(app.queue.as_deref(), Some("q"));
    assert_eq!(app.configuration, None, "an empty configuration names none");
    assert!(app.generate_report);
    assert_eq!(app.app_variables[0].name, "v");
    assert_eq!(app.app_variables[0].value, json!(3));
    assert!(app.app_variables[0].required);
    assert_eq!(app.steps[0].output_to, vec!["S2".to_string()]);
    assert_eq!(app.steps[1].data_from, vec!["S1".to_string()]);
    assert_eq!(app.steps[0].retry.max, 2);
    assert_eq!(Value::Object(app.steps[0].params.clone()), json!({"p": "x"}));
    assert_eq!(Value::Object(app.steps[1].params.clone()), json!({"timeout": 5}));
    assert_eq!(app.doc["custom"], json!({"kept": 1}), "unknown keys survive");
    assert_eq!(app.step_index("S2"), Some(1));
}

#[test]
fn an_application_is_stored_as_its_document_and_typed_again() {
    let app =
        Application::validate(json!({"name": "a", "steps": [{"name": "S", "file": "F", "x": [1]}]})).unwrap();
    let bytes = bincode::serde::encode_to_vec(&app, bincode::config::standard()).unwrap();
    let (back, _): (Application, usize) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    assert_eq!(back, app);
}
