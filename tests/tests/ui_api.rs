//! What the web UI (issue 14) asks of the REST API beyond the contract of
//! DESIGN 4.3: content listings narrowed by a search and paged, the
//! Integrations page's facts per application (owning SyncPack, newest run,
//! schedules), the schedule builder's preview of fire times, the cluster
//! page's busy workers and waiting tasks per queue, and reports of one
//! application in pages.

use std::time::Duration;

use futures_util::StreamExt;
use is_tests::{poll, Markers, Progress, TestNode, PASSWORD};
use serde_json::{json, Value};

const RUN_WITHIN: Duration = Duration::from_secs(60);

/// `GET path` as the administrator: the body and the `X-Next-Cursor` header.
async fn page(node: &TestNode, path: &str) -> (Value, Option<String>) {
    let resp = node
        .http
        .get(node.url(path))
        .basic_auth("isadmin", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "GET {path}");
    let cursor = resp
        .headers()
        .get("x-next-cursor")
        .map(|c| c.to_str().unwrap().to_string());
    (resp.json().await.unwrap(), cursor)
}

fn names(items: &Value) -> Vec<&str> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect()
}

fn item<'a>(items: &'a Value, name: &str) -> &'a Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {items}"))
}

async fn post(node: &TestNode, path: &str, body: Value) -> Value {
    let (status, answer) = node.rest("POST", path, Some(&body)).await.unwrap();
    assert!(
        matches!(status, 200..=202),
        "POST {path} answered {status}: {answer}"
    );
    answer
}

/// An application of one `Emit` step, with `extra` keys (names, queue).
fn app(name: &str, extra: Value) -> Value {
    let mut doc = json!({"name": name, "steps": [{"name": "emit", "file": "Emit", "value": name}]});
    doc.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    doc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_search_and_page_and_applications_show_owner_runs_and_schedules() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Emit").await.unwrap();
    for doc in [
        app(
            "alpha_tickets",
            json!({"friendly_name": "Alpha", "description": "Copies SERVICENOW tickets"}),
        ),
        app(
            "billing",
            json!({"friendly_name": "Billing export", "description": "to SAP"}),
        ),
        app("servicenow_import", json!({})),
        app("stranded", json!({"queue": "nowhere"})),
        app("zeta", json!({"friendly_name": "ServiceNow CMDB"})),
    ] {
        post(&node, "/api/v1/applications", doc).await;
    }

    // The search finds the text in the name, friendly name or description,
    // in any case; a page holds `limit` matches.
    let (found, next) = page(&node, "/api/v1/applications?search=servicenow").await;
    assert_eq!(names(&found), ["alpha_tickets", "servicenow_import", "zeta"]);
    assert_eq!(next, None);
    let (first, next) = page(&node, "/api/v1/applications?search=ServiceNow&limit=2").await;
    assert_eq!(names(&first), ["alpha_tickets", "servicenow_import"]);
    let cursor = next.expect("a cursor to the second page");
    let (second, next) = page(
        &node,
        &format!("/api/v1/applications?search=ServiceNow&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(names(&second), ["zeta"]);
    assert_eq!(next, None, "the last page points nowhere");
    let (none, _) = page(&node, "/api/v1/applications?search=no%20such%20thing").await;
    assert_eq!(none, json!([]));

    // Steps and configurations take the same search.
    let (steps, _) = page(&node, "/api/v1/steps?search=EMIT").await;
    assert_eq!(names(&steps), ["Emit"]);
    assert_eq!(item(&steps, "Emit")["syncpack"], Value::Null);
    let (steps, _) = page(&node, "/api/v1/steps?search=queryrest").await;
    assert_eq!(item(&steps, "QueryREST")["syncpack"], "base_steps_syncpack");
    for (name, friendly) in [
        ("prod_snow", "ServiceNow production"),
        ("dev_db", "Development DB"),
    ] {
        let cfg = json!({"name": name, "friendly_name": friendly, "configuration_data": []});
        post(&node, "/api/v1/configurations", cfg).await;
    }
    let (configs, _) = page(&node, "/api/v1/configurations?search=servicenow").await;
    assert_eq!(names(&configs), ["prod_snow"]);
    assert_eq!(configs[0]["syncpack"], Value::Null);

    // Runs: billing twice (the newest counts), stranded waits on a queue
    // no worker serves (a run still in memory), the others never ran.
    let _older = node.run_app("billing", RUN_WITHIN).await.unwrap();
    let newest = node.run_app("billing", RUN_WITHIN).await.unwrap();
    assert_eq!(newest["state"], "SUCCESS", "{newest}");
    let stranded = post(&node, "/api/v1/applications/stranded/run", json!({})).await;

    // Schedules: one enabled, one disabled (no next fire).
    for (entry, enabled) in [("billing-nightly", true), ("billing-paused", false)] {
        let doc = json!({"application_id": "billing", "entry_id": entry, "enabled": enabled,
            "schedule": {"schedule_type": "crontab", "schedule_info": {"minute": "0", "hour": "2"}}});
        post(&node, "/api/v1/schedule", doc).await;
    }

    let (all, next) = page(&node, "/api/v1/applications").await;
    assert_eq!(next, None);
    assert_eq!(
        names(&all),
        [
            "alpha_tickets",
            "billing",
            "integration_template",
            "servicenow_import",
            "stranded",
            "zeta"
        ]
    );
    let template = item(&all, "integration_template");
    assert_eq!(template["syncpack"], "base_steps_syncpack", "{template}");
    assert_eq!(template["last_run"], Value::Null);
    assert_eq!(template["schedules"], json!([]));

    let billing = item(&all, "billing");
    assert_eq!(billing["syncpack"], Value::Null, "{billing}");
    let last = &billing["last_run"];
    assert_eq!(last["id"], newest["id"], "{billing}");
    assert_eq!(last["state"], "SUCCESS");
    assert_eq!(last["start_time"], newest["start_time"], "{billing} / {newest}");
    assert_eq!(last["end_time"], newest["end_time"], "{billing} / {newest}");
    assert!(last["created_time"].as_f64().unwrap() <= last["start_time"].as_f64().unwrap());
    let schedules = billing["schedules"].as_array().unwrap();
    assert_eq!(schedules.len(), 2, "{billing}");
    let nightly = schedules
        .iter()
        .find(|s| s["entry_id"] == "billing-nightly")
        .unwrap();
    assert_eq!(nightly["enabled"], true);
    assert!(nightly["id"].as_str().unwrap().starts_with("sched-"), "{nightly}");
    let fire = nightly["next_fire"].as_f64().unwrap();
    assert_eq!(fire % 86_400.0, 7_200.0, "02:00 UTC: {nightly}");
    let paused = schedules
        .iter()
        .find(|s| s["entry_id"] == "billing-paused")
        .unwrap();
    assert_eq!(
        (&paused["enabled"], &paused["next_fire"]),
        (&json!(false), &Value::Null)
    );

    let waiting = &item(&all, "stranded")["last_run"];
    assert_eq!(waiting["id"], stranded["id"], "{waiting}");
    assert_eq!(waiting["state"], "PENDING");
    assert_eq!(waiting["start_time"], Value::Null);
    assert_eq!(item(&all, "zeta")["last_run"], Value::Null);

    // gRPC answers the same facts and takes the same search.
    let mut grpc = node.grpc().await.unwrap();
    let req = is_proto::v1::ListContentRequest {
        limit: 1,
        cursor: "alpha_tickets".into(),
        search: "BILLING".into(),
    };
    let list = grpc.list_applications(req).await.unwrap().into_inner();
    assert_eq!(list.items.len(), 1);
    let billing = &list.items[0];
    assert_eq!(billing.name, "billing");
    assert_eq!(
        billing.last_run.as_ref().unwrap().id,
        newest["id"].as_str().unwrap()
    );
    assert_eq!(billing.schedules.len(), 2);
    assert_eq!(list.next_cursor, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_preview_answers_the_next_fire_times_or_every_problem() {
    let node = TestNode::start().await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let quarter = json!({"schedule_type": "crontab", "schedule_info": {"minute": "*/15"}});
    let (status, answer) = node
        .rest("POST", "/api/v1/schedule/preview", Some(&quarter))
        .await
        .unwrap();
    assert_eq!(status, 200, "{answer}");
    let fires: Vec<f64> = answer["next_fires"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_f64().unwrap())
        .collect();
    assert_eq!(fires.len(), 5, "{answer}");
    assert!(fires[0] > now && fires[0] <= now + 900.0, "{fires:?} from {now}");
    for f in &fires {
        assert_eq!(f % 900.0, 0.0, "on a quarter hour: {fires:?}");
    }
    assert!(fires.windows(2).all(|w| w[1] - w[0] == 900.0), "{fires:?}");

    let every = json!({"schedule_type": "frequency", "schedule_info": {"run_every": 60}});
    let (status, answer) = node
        .rest("POST", "/api/v1/schedule/preview?count=3", Some(&every))
        .await
        .unwrap();
    assert_eq!(status, 200, "{answer}");
    let fires = answer["next_fires"].as_array().unwrap();
    assert_eq!(fires.len(), 3);
    assert_eq!(fires[1].as_f64().unwrap() - fires[0].as_f64().unwrap(), 60.0);

    // Every problem at once, in the error document.
    let bad = json!({"schedule_type": "crontab",
        "schedule_info": {"minute": "75", "day_of_week": true, "timezone": "Mars/Olympus"}});
    let answer = node
        .refused(
            "POST",
            "/api/v1/schedule/preview?count=51",
            Some(&bad),
            400,
            "cannot be previewed",
        )
        .await
        .unwrap();
    let details: Vec<&str> = answer["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(details.len(), 4, "{answer}");
    for text in [
        "count",
        "schedule_info.day_of_week",
        "minute field \"75\"",
        "Mars/Olympus",
    ] {
        assert!(details.iter().any(|d| d.contains(text)), "{text} not in {answer}");
    }
    node.refused(
        "POST",
        "/api/v1/schedule/preview",
        Some(&json!({"schedule_type": "hourly"})),
        400,
        "",
    )
    .await
    .unwrap();

    // The route stands beside /schedule/{id}: a stored schedule is still
    // read there, and the preview stored nothing.
    post(&node, "/api/v1/applications", app("nightly", json!({}))).await;
    let doc = json!({"application_id": "nightly", "schedule": quarter});
    let stored = post(&node, "/api/v1/schedule", doc).await;
    let id = stored["id"].as_str().unwrap();
    let (status, shown) = node
        .rest("GET", &format!("/api/v1/schedule/{id}"), None)
        .await
        .unwrap();
    assert_eq!((status, &shown["entry_id"]), (200, &json!("nightly")), "{shown}");
    let (_, all) = node.rest("GET", "/api/v1/schedule", None).await.unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    let (status, _) = node.rest("GET", "/api/v1/schedule/preview", None).await.unwrap();
    assert_eq!(status, 405);

    // Reading is enough: a viewer may preview, but not store.
    let viewer = json!({"name": "vera", "password": "a long viewer password", "role": "viewer"});
    post(&node, "/api/v1/users", viewer).await;
    let as_viewer = |path: &str| {
        node.http
            .post(node.url(path))
            .basic_auth("vera", Some("a long viewer password"))
            .json(&json!({"application_id": "nightly", "entry_id": "v", "schedule": quarter}))
            .send()
    };
    assert_eq!(
        as_viewer("/api/v1/schedule/preview")
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        as_viewer("/api/v1/schedule").await.unwrap().status().as_u16(),
        403
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_shows_busy_workers_and_waiting_tasks_per_queue() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Emit").await.unwrap();
    let markers = Markers::new().unwrap();
    let napper = json!({"name": "napper",
        "steps": [{"name": "nap", "file": "Emit", "wait_for": markers.path("wake")}]});
    post(&node, "/api/v1/applications", napper).await;
    post(
        &node,
        "/api/v1/applications",
        app("stranded", json!({"queue": "nowhere"})),
    )
    .await;
    post(&node, "/api/v1/applications/stranded/run", json!({})).await;
    let run = post(&node, "/api/v1/applications/napper/run", json!({})).await;

    let cluster = node
        .poll_until("/api/v1/cluster", RUN_WITHIN, |status, body| {
            status == 200 && body["members"][0]["busy_workers"] == 1
        })
        .await
        .unwrap();
    let me = &cluster["members"][0];
    assert!(me["workers"].as_u64().unwrap() >= 1, "{cluster}");
    assert_eq!(
        cluster["queues"],
        json!([{"queue": "default", "pending": 0}, {"queue": "nowhere", "pending": 1}]),
        "{cluster}"
    );

    markers.set("wake").unwrap();
    node.wait_terminal(run["id"].as_str().unwrap(), RUN_WITHIN)
        .await
        .unwrap();
    let cluster = node
        .poll_until("/api/v1/cluster", RUN_WITHIN, |status, body| {
            status == 200 && body["members"][0]["busy_workers"] == 0
        })
        .await
        .unwrap();
    assert_eq!(cluster["queues"][1], json!({"queue": "nowhere", "pending": 1}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_of_one_application_come_in_pages() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Reporter").await.unwrap();
    for name in ["inventory", "other"] {
        let doc = json!({"name": name, "generate_report": true,
            "steps": [{"name": "report", "file": "Reporter", "devices": ["sw1"]}]});
        post(&node, "/api/v1/applications", doc).await;
    }
    let mut runs = Vec::new();
    for name in ["inventory", "other", "inventory"] {
        let done = node.run_app(name, RUN_WITHIN).await.unwrap();
        assert_eq!(done["state"], "SUCCESS", "{done}");
        runs.push(done["id"].as_str().unwrap().to_string());
    }
    let want = |run: &str| format!("report-inventory-{run}");
    poll(Duration::from_secs(10), async || {
        let (_, list) = node.rest("GET", "/api/v1/reports", None).await?;
        Ok(match list.as_array().map(Vec::len) {
            Some(3) => Progress::Done(()),
            _ => Progress::NotYet(format!("three reports expected: {list}")),
        })
    })
    .await
    .unwrap();
    let (first, next) = page(&node, "/api/v1/reports?app=inventory&limit=1").await;
    assert_eq!(first[0]["id"], want(&runs[2]), "newest first: {first}");
    let cursor = next.expect("a cursor to the second page");
    let (second, next) = page(
        &node,
        &format!("/api/v1/reports?app=inventory&limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(second[0]["id"], want(&runs[0]), "{second}");
    assert_eq!(second[0]["app_name"], "inventory");
    let after = next.map(|c| format!("/api/v1/reports?app=inventory&limit=1&cursor={c}"));
    if let Some(path) = after {
        let (rest, _) = page(&node, &path).await;
        assert_eq!(rest, json!([]), "only two reports of inventory");
    }
}

/// The Integrations page's listing with many applications and runs: each
/// shows its newest run, from memory while fresh and from the store's
/// index after a restart. (Its speed is measured by tests/bench/ui-first-load.sh.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_applications_list_with_their_last_runs_before_and_after_a_restart() {
    let mut node = TestNode::start().await.unwrap();
    node.put_step("Emit").await.unwrap();
    futures_util::stream::iter(0..500)
        .map(|i| {
            let doc = app(
                &format!("app_{i:03}"),
                json!({"description": format!("application number {i}")}),
            );
            let node = &node;
            async move { post(node, "/api/v1/applications", doc).await }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    // Runs: 40 applications with five runs each, the rest none.
    let mut ids = Vec::new();
    for round in 0..5 {
        for i in (0..500).step_by(500 / 40).take(40) {
            let path = format!("/api/v1/applications/app_{i:03}/run");
            let answer = post(&node, &path, json!({})).await;
            ids.push((round, i, answer["id"].as_str().unwrap().to_string()));
        }
    }
    for (_, _, id) in &ids {
        node.wait_terminal(id, RUN_WITHIN).await.unwrap();
    }
    // Once with the last runs just finished (in memory, most of them), and
    // once after a restart (read from the store).
    for restart in [false, true] {
        if restart {
            node.restart().await.unwrap();
        }
        let (all, _) = page(&node, "/api/v1/applications").await;
        assert_eq!(all.as_array().unwrap().len(), 501, "500 and the template");
        for (round, i, id) in &ids {
            if *round == 4 {
                let shown = item(&all, &format!("app_{i:03}"));
                assert_eq!(shown["last_run"]["id"], id.as_str(), "{shown}");
                assert_eq!(shown["last_run"]["state"], "SUCCESS", "{shown}");
            }
        }
    }
    let (found, _) = page(&node, "/api/v1/applications?search=NUMBER%2049").await;
    assert_eq!(
        names(&found),
        [
            "app_049", "app_490", "app_491", "app_492", "app_493", "app_494", "app_495", "app_496",
            "app_497", "app_498", "app_499"
        ]
    );
}
