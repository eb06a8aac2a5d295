//! Tests of `syncpack`.

use super::*;
use serde_json::json;

fn doc(version: &str, nodes: Value) -> Value {
    json!({"name": "p", "version": version, "activated": true, "installed": false, "nodes": nodes})
}

fn node(id: u64, state: &str) -> Value {
    json!({"node_id": id, "state": state, "progress": format!("{state} now"), "log": format!("log of {id}"), "updated": 1.0})
}

#[test]
fn following_goes_on_while_any_node_is_not_done() {
    let d = doc(
        "1.0",
        json!([node(1, "installed"), node(2, "installing"), node(3, "pending")]),
    );
    match install_state(&d, "p", "1.0").unwrap() {
        InstallState::Going(nodes) => {
            assert_eq!(nodes.len(), 3);
            assert_eq!(nodes[1].node_id, "2");
            assert_eq!(nodes[1].progress, "installing now");
        }
        other => panic!("{other:?}"),
    }
    // A failure is reported only once every node is done.
    let d = doc("1.0", json!([node(1, "failed"), node(2, "installing")]));
    assert!(matches!(
        install_state(&d, "p", "1.0").unwrap(),
        InstallState::Going(_)
    ));
    // A state this iscli does not know is not taken as done.
    let d = doc("1.0", json!([node(1, "rebuilding")]));
    assert!(matches!(
        install_state(&d, "p", "1.0").unwrap(),
        InstallState::Going(_)
    ));
    // No node listed yet.
    assert!(matches!(
        install_state(&doc("1.0", json!([])), "p", "1.0").unwrap(),
        InstallState::Going(_)
    ));
    let mut bare = doc("1.0", Value::Null);
    assert!(matches!(
        install_state(&bare, "p", "1.0").unwrap(),
        InstallState::Going(_)
    ));
    bare["installed"] = json!(true);
    assert_eq!(
        install_state(&bare, "p", "1.0").unwrap(),
        InstallState::Installed { nodes: 0 }
    );
}

#[test]
fn following_ends_when_every_node_installed_or_failed() {
    let d = doc("1.0", json!([node(1, "installed"), node(2, "installed")]));
    assert_eq!(
        install_state(&d, "p", "1.0").unwrap(),
        InstallState::Installed { nodes: 2 }
    );
    let d = doc(
        "1.0",
        json!([node(1, "installed"), node(2, "failed"), node(3, "failed")]),
    );
    match install_state(&d, "p", "1.0").unwrap() {
        InstallState::Failed { failed, installed } => {
            assert_eq!(installed, 1);
            let ids: Vec<&str> = failed.iter().map(|n| n.node_id.as_str()).collect();
            assert_eq!(ids, ["2", "3"]);
            assert_eq!(failed[0].log, "log of 2");
            let err = install_failed("p", "1.0", &failed, installed);
            assert_eq!(
                err.render(),
                "error: installing syncpack p 1.0 failed on node(s) 2, 3 (installed on 1 of 3)\n  \
                 - node 2: failed (failed now)\n  - node 3: failed (failed now)"
            );
            assert_eq!(err.exit_code(), 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn another_version_at_the_top_cannot_be_followed() {
    let d = doc("0.9", json!([node(1, "installed")]));
    let err = install_state(&d, "p", "1.0").unwrap_err().render();
    assert!(
        err.contains("install syncpack p 1.0, but iscli cannot follow"),
        "{err}"
    );
    assert!(err.contains("install state of 0.9 only"), "{err}");
}

#[test]
fn the_version_to_follow() {
    let answer = json!({"version": "1.0", "uploaded": 5.0, "versions": [
        {"version": "0.9", "uploaded": 1.0}, {"version": "1.0", "uploaded": 5.0}]});
    // Asked for (with -V, or activated by -A): that one.
    assert_eq!(target_version("p", Some("0.9"), &answer).unwrap(), "0.9");
    // Else the one the answer describes, when none was uploaded later.
    assert_eq!(target_version("p", None, &answer).unwrap(), "1.0");
    assert_eq!(target_version("p", None, &json!({"version": "3"})).unwrap(), "3");
    // A later upload was what the node installed: not followable.
    let answer = json!({"version": "0.9", "versions": [
        {"version": "0.9", "uploaded": 1.0}, {"version": "1.0", "uploaded": 5.0}]});
    let err = target_version("p", None, &answer).unwrap_err();
    assert!(
        err.render().contains("newest upload of syncpack p (1.0)"),
        "{}",
        err.render()
    );
    assert!(target_version("p", None, &json!({})).is_err());
}

#[test]
fn running_out_of_time_names_the_nodes_not_done() {
    let d = doc("1.0", json!([node(1, "installed"), node(2, "installing")]));
    let err = timed_out(&d, "p", "1.0", Duration::from_secs(600));
    assert_eq!(
        err.render(),
        "error: syncpack p 1.0 is not installed on every node after 600 s; the install goes on: \
         see 'iscli pack show p', or wait longer with --timeout\n  - node 2: installing (installing now)"
    );
}

fn follow(timeout: Duration) -> Follow<'static> {
    Follow {
        name: "p",
        version: "1.0",
        timeout,
        // Short, so that the tests do not wait long on real time.
        every: Duration::from_millis(5),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn waiting_asks_again_until_every_node_is_done() {
    let mut answers = vec![
        doc("1.0", json!([node(1, "installing"), node(2, "installing")])),
        doc("1.0", json!([node(1, "installed"), node(2, "installed")])),
    ]
    .into_iter();
    let mut asked = 0;
    let mut shown = Vec::new();
    let first = doc("1.0", json!([node(1, "pending"), node(2, "pending")]));
    let (last, ended) = wait_for_install(
        &follow(Duration::from_secs(60)),
        first,
        async || {
            asked += 1;
            answers
                .next()
                .ok_or_else(|| unexpected_text("asked once too often"))
        },
        |nodes| shown.push(nodes.iter().map(|n| n.state.clone()).collect::<Vec<_>>()),
    )
    .await
    .unwrap();
    assert_eq!(ended, Ended::Installed(2));
    assert_eq!(asked, 2);
    assert_eq!(shown, [["pending", "pending"], ["installing", "installing"]]);
    assert_eq!(last["nodes"][0]["state"], "installed");
}

#[tokio::test(flavor = "current_thread")]
async fn waiting_ends_on_failure_timeout_or_an_error() {
    // Done already: the node is not asked again.
    let failed = doc("1.0", json!([node(1, "installed"), node(2, "failed")]));
    let (_, ended) = wait_for_install(
        &follow(Duration::from_secs(60)),
        failed,
        async || Err(unexpected_text("not to be asked")),
        |_| {},
    )
    .await
    .unwrap();
    match ended {
        Ended::Failed(nodes, 1) => assert_eq!(nodes[0].node_id, "2"),
        other => panic!("{other:?}"),
    }
    // Out of time: the last document, not asked again.
    let going = doc("1.0", json!([node(1, "installing")]));
    let (last, ended) = wait_for_install(
        &follow(Duration::ZERO),
        going.clone(),
        async || Err(unexpected_text("not to be asked")),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!((last, ended), (going.clone(), Ended::TimedOut));
    // The node's error, or a document about another version, ends it.
    let err = wait_for_install(
        &follow(Duration::from_secs(60)),
        going,
        async || Err(unexpected_text("node gone")),
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(err.render(), "error: node gone");
    let other = doc("0.9", json!([node(1, "installing")]));
    let err = wait_for_install(
        &follow(Duration::from_secs(60)),
        other,
        async || Err(unexpected_text("not to be asked")),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(err.render().contains("cannot follow"), "{}", err.render());
}

#[test]
fn the_label_names_the_version_only_when_one_is_known() {
    assert_eq!(pack_label("pack", Some("0.0.1")), "pack 0.0.1");
    assert_eq!(pack_label("pack", None), "pack");
    let err = unexpected("a list of syncpacks", &json!({"a": 1})).render();
    assert_eq!(
        err,
        "error: the node answered {\"a\":1} where a list of syncpacks was expected"
    );
}
