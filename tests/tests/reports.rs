//! Reports (issue 12): a step that builds a `StandardReport` in a run of an
//! application with `generate_report` on produces one report per run,
//! holding only that run's rows, readable over REST and with iscli, and
//! deleted on request; without `generate_report` there is none.

use std::time::Duration;

use is_tests::{iscli_json, iscli_ok, iscli_out, poll, Progress, TestNode};
use serde_json::{json, Value};

const RUN_WITHIN: Duration = Duration::from_secs(60);

async fn run_with(node: &TestNode, app: &str, devices: Value) -> Value {
    let (status, body) = node
        .rest(
            "POST",
            &format!("/api/v1/applications/{app}/run"),
            Some(&json!({"devices": devices})),
        )
        .await
        .unwrap();
    assert!(status == 200 || status == 202, "{body}");
    let done = node
        .wait_terminal(body["id"].as_str().unwrap(), RUN_WITHIN)
        .await
        .unwrap();
    assert_eq!(done["state"], "SUCCESS", "{done}");
    done
}

/// The report of run `run_id`, once the store has it (within a second).
async fn report_of(node: &TestNode, app: &str, run_id: &str) -> Value {
    let id = format!("report-{app}-{run_id}");
    poll(Duration::from_secs(10), async || {
        let (status, body) = node.rest("GET", &format!("/api/v1/reports/{id}"), None).await?;
        Ok(if status == 200 {
            Progress::Done(body)
        } else {
            Progress::NotYet(format!("{status} {body}"))
        })
    })
    .await
    .unwrap()
}

fn device_names(report: &Value) -> Vec<String> {
    report["sections"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["cells"]["Device Name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_run_has_its_own_report_readable_over_rest_and_iscli() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Reporter").await.unwrap();
    for (name, on) in [("inventory", true), ("quiet", false)] {
        let app = json!({"name": name, "generate_report": on,
            "app_variables": [{"name": "devices", "value": []}],
            "steps": [{"name": "Report", "file": "Reporter", "devices": "${appvar.devices}"}]});
        let (status, body) = node
            .rest("POST", "/api/v1/applications", Some(&app))
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
    }
    let first = run_with(&node, "inventory", json!(["sw1", "sw2"])).await;
    let second = run_with(&node, "inventory", json!(["rt9"])).await;
    let quiet = run_with(&node, "quiet", json!(["x"])).await;

    let a = report_of(&node, "inventory", first["id"].as_str().unwrap()).await;
    let b = report_of(&node, "inventory", second["id"].as_str().unwrap()).await;
    assert_eq!(device_names(&a), ["sw1", "sw2"], "{a}");
    assert_eq!(
        device_names(&b),
        ["rt9"],
        "one run's report never shows another's rows: {b}"
    );
    let section = &a["sections"][0];
    assert_eq!(
        (
            section["name"].as_str(),
            section["section"].as_str(),
            section["step"].as_str()
        ),
        (Some("Devices"), Some("sync"), Some("Report"))
    );
    assert_eq!(
        section["rows"][1]["cells"],
        json!({"Device Name": "sw2", "Status": "New"}),
        "{a}"
    );
    assert_eq!(section["sub_reports"][0]["name"], "summary", "{a}");
    assert_eq!(section["sub_reports"][0]["rows"][0]["cells"]["Count"], 2, "{a}");
    assert_eq!(a["application_id"], first["id"]);

    // Listing: by application, newest first, paged; the quiet application has none.
    let (_, list) = node
        .rest("GET", "/api/v1/reports?app=inventory", None)
        .await
        .unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [b["id"].as_str().unwrap(), a["id"].as_str().unwrap()],
        "{list}"
    );
    let (_, none) = node.rest("GET", "/api/v1/reports?app=quiet", None).await.unwrap();
    assert_eq!(
        none,
        json!([]),
        "no report without generate_report (run {})",
        quiet["id"]
    );
    let page = node
        .http
        .get(node.url("/api/v1/reports?limit=1"))
        .basic_auth("isadmin", Some(is_tests::PASSWORD))
        .send()
        .await
        .unwrap();
    let cursor = page.headers()["x-next-cursor"].to_str().unwrap().to_string();
    let (_, rest) = node
        .rest("GET", &format!("/api/v1/reports?limit=1&cursor={cursor}"), None)
        .await
        .unwrap();
    assert_eq!(rest[0]["id"], a["id"], "{rest}");

    // iscli renders the tables and answers the same JSON.
    let a_id = a["id"].as_str().unwrap();
    let shown = iscli_ok(&node, &["report", "show", a_id]);
    for text in ["Devices", "Device Name", "sw1", "sw2", "New", "summary"] {
        assert!(shown.contains(text), "{text} missing from:\n{shown}");
    }
    assert_eq!(iscli_json(&node, &["report", "show", a_id]), a);
    let listed = iscli_ok(&node, &["report", "list", "--app", "inventory"]);
    assert!(listed.contains(a_id), "{listed}");

    // Kept past its run's expiry on request.
    let (status, kept) = node
        .rest(
            "PUT",
            &format!("/api/v1/reports/{a_id}"),
            Some(&json!({"keep": true})),
        )
        .await
        .unwrap();
    assert_eq!((status, &kept["kept"]), (200, &json!(true)), "{kept}");

    iscli_ok(&node, &["report", "delete", a_id]);
    let (status, _) = node
        .rest("GET", &format!("/api/v1/reports/{a_id}"), None)
        .await
        .unwrap();
    assert_eq!(status, 404);
    let (code, _, err) = iscli_out(&node, &["report", "show", a_id]);
    assert_ne!(code, 0);
    assert!(err.contains(a_id), "{err}");
}
