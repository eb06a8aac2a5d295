//! Users, roles and API keys over REST and gRPC: what each role may do,
//! what it sees of a configuration, keys as credentials, the last
//! administrator, and the back-off after failed logins.

use std::time::Duration;

use is_proto::v1::{Empty, NameRequest, RunApplicationRequest};
use is_tests::{grpc_client, poll, Auth, Progress, TestNode};
use serde_json::{json, Value};

async fn call(
    node: &TestNode,
    auth: Auth<'_>,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    node.call_as(auth, method, path, body).await
}

async fn add_user(node: &TestNode, name: &str, role: &str) {
    let (status, body) = node
        .rest(
            "POST",
            "/api/v1/users",
            Some(&json!({"name": name, "password": format!("{name}-password"), "role": role})),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{body}");
}

/// An application `echo_app` of one step, to run.
async fn put_echo_app(node: &TestNode) {
    node.put_step("Echo").await.unwrap();
    let app = json!({"name": "echo_app", "steps": [{"name": "E", "file": "Echo", "n": 1, "tags": [], "who": "me"}]});
    let (status, body) = node
        .rest("POST", "/api/v1/applications", Some(&app))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn each_role_may_do_what_its_permissions_allow_and_no_more() {
    let node = TestNode::start().await.unwrap();
    add_user(&node, "olga", "operator").await;
    add_user(&node, "victor", "viewer").await;
    let olga = || Auth::Basic("olga", "olga-password");
    let victor = || Auth::Basic("victor", "victor-password");
    put_echo_app(&node).await;
    let run = json!({"name": "echo_app", "params": {}});

    // Reading is everyone's.
    for auth in [olga(), victor()] {
        let (status, _) = call(&node, auth, "GET", "/api/v1/applications", None).await;
        assert_eq!(status, 200);
    }
    // A viewer may not run; the answer names the permission.
    let (status, body) = call(&node, victor(), "POST", "/api/v1/applications/run", Some(&run)).await;
    assert_eq!(status, 403, "{body}");
    let msg = body["error"].as_str().unwrap();
    assert!(msg.contains("victor (viewer)") && msg.contains("'run'"), "{msg}");
    // An operator may run, but not change content or manage users.
    let (status, body) = call(
        &node,
        olga(),
        "POST",
        "/api/v1/applications/run?wait=10",
        Some(&run),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(&node, olga(), "DELETE", "/api/v1/applications/echo_app", None).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("'write'"), "{body}");
    let (status, _) = call(&node, olga(), "GET", "/api/v1/users", None).await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &node,
        olga(),
        "POST",
        "/api/v1/roles/owner",
        Some(&json!({"owner": "olga", "role": "administrator"})),
    )
    .await;
    assert_eq!(status, 403, "nobody raises their own role");

    // gRPC checks the same table.
    let mut viewer = grpc_client(node.port, "victor", "victor-password").await.unwrap();
    let err = viewer
        .run_application(RunApplicationRequest {
            name: "echo_app".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied, "{err:?}");
    assert!(err.message().contains("'run'"), "{err:?}");
    let me: Value =
        serde_json::from_str(&viewer.who_am_i(Empty {}).await.unwrap().into_inner().json).unwrap();
    assert_eq!(me["role"], "viewer");
    assert_eq!(me["permissions"], json!(["read"]));

    // Taking a role away leaves the user able to log in and nothing else.
    let (status, body) = node
        .rest("DELETE", "/api/v1/roles/owner", Some(&json!({"owner": "victor"})))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(&node, victor(), "GET", "/api/v1/applications", None).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("no role"), "{body}");
    let (_, owners) = node.rest("GET", "/api/v1/roles/owner", None).await.unwrap();
    assert_eq!(
        owners,
        json!([{"owner": "isadmin", "role": "administrator"}, {"owner": "olga", "role": "operator"}])
    );
}

#[tokio::test]
async fn configuration_values_are_masked_for_operators_and_hidden_from_viewers() {
    let node = TestNode::start().await.unwrap();
    add_user(&node, "olga", "operator").await;
    add_user(&node, "victor", "viewer").await;
    let cfg = json!({"name": "creds", "configuration_data": [
        {"name": "host", "value": "db.example"},
        {"name": "api_key", "value": "planted-secret-41", "encrypted": true}
    ]});
    let (status, body) = node
        .rest("POST", "/api/v1/configurations", Some(&cfg))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let path = "/api/v1/configurations/creds";
    let (_, admin) = node.rest("GET", path, None).await.unwrap();
    assert!(admin["configuration_data"][1]["value"]
        .as_str()
        .unwrap()
        .starts_with("enc:v1:"));
    let (_, op) = call(&node, Auth::Basic("olga", "olga-password"), "GET", path, None).await;
    assert_eq!(op["configuration_data"][0]["value"], "db.example");
    assert_eq!(op["configuration_data"][1]["value"], "******");
    let (_, viewer) = call(&node, Auth::Basic("victor", "victor-password"), "GET", path, None).await;
    for item in viewer["configuration_data"].as_array().unwrap() {
        assert!(item.get("value").is_none(), "{viewer}");
    }
    let mut grpc = grpc_client(node.port, "victor", "victor-password").await.unwrap();
    let got = grpc
        .get_configuration(NameRequest { name: "creds".into() })
        .await
        .unwrap()
        .into_inner();
    assert!(!got.document_json.contains("enc:v1:") && !got.document_json.contains("db.example"));
}

#[tokio::test]
async fn api_keys_act_for_their_owner_until_revoked() {
    let node = TestNode::start().await.unwrap();
    add_user(&node, "olga", "operator").await;
    put_echo_app(&node).await;
    let olga = || Auth::Basic("olga", "olga-password");
    // A key never gets more than its creator's role.
    let (status, body) = call(
        &node,
        olga(),
        "POST",
        "/api/v1/apikeys",
        Some(&json!({"role": "administrator"})),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, created) = call(
        &node,
        olga(),
        "POST",
        "/api/v1/apikeys",
        Some(&json!({"label": "ci", "expires_in_days": 1})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("isk_"));
    assert_eq!(created["role"], "operator");

    let (status, me) = call(&node, Auth::Bearer(&key), "GET", "/api/v1/users/me", None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (me["name"].as_str(), me["role"].as_str()),
        (Some("olga"), Some("operator"))
    );
    assert_eq!(me["api_key"], created["id"]);
    let (status, body) = call(
        &node,
        Auth::Bearer(&key),
        "POST",
        "/api/v1/applications/run?wait=10",
        Some(&json!({"name": "echo_app"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Listings never show the secret; an administrator sees every key.
    let secret = key.rsplit('_').next().unwrap();
    let (_, mine) = call(&node, olga(), "GET", "/api/v1/apikeys", None).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let (_, all) = node.rest("GET", "/api/v1/apikeys", None).await.unwrap();
    assert_eq!(all[0]["owner"], "olga");
    assert!(!mine.to_string().contains(secret) && !all.to_string().contains(secret));

    // A wrong secret for a real id, a malformed key: 401.
    let forged = format!("isk_{}_{}", created["id"].as_str().unwrap(), "0".repeat(48));
    for bad in [forged.as_str(), "isk_nope", "not-a-key"] {
        let (status, _) = call(&node, Auth::Bearer(bad), "GET", "/api/v1/users/me", None).await;
        assert_eq!(status, 401, "{bad}");
    }

    let id = created["id"].as_str().unwrap();
    let (status, body) = call(&node, olga(), "DELETE", &format!("/api/v1/apikeys/{id}"), None).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(&node, Auth::Bearer(&key), "GET", "/api/v1/users/me", None).await;
    assert_eq!(status, 401);

    // Deleting a user takes its keys with it.
    let (_, second) = call(&node, olga(), "POST", "/api/v1/apikeys", None).await;
    let (status, _) = node.rest("DELETE", "/api/v1/users/olga", None).await.unwrap();
    assert_eq!(status, 200);
    let (status, _) = call(
        &node,
        Auth::Bearer(second["key"].as_str().unwrap()),
        "GET",
        "/api/v1/users/me",
        None,
    )
    .await;
    assert_eq!(status, 401);
    let (_, all) = node.rest("GET", "/api/v1/apikeys", None).await.unwrap();
    assert_eq!(all, json!([]));
}

#[tokio::test]
async fn passwords_change_and_the_last_administrator_stays() {
    let node = TestNode::start().await.unwrap();
    node.refused(
        "POST",
        "/api/v1/roles/owner",
        Some(&json!({"owner": "isadmin", "role": "viewer"})),
        409,
        "last administrator",
    )
    .await
    .unwrap();
    node.refused("DELETE", "/api/v1/users/isadmin", None, 409, "last administrator")
        .await
        .unwrap();
    node.refused(
        "POST",
        "/api/v1/users",
        Some(&json!({"name": "a\nb", "password": "short", "role": "root"})),
        400,
        "cannot create user",
    )
    .await
    .unwrap();

    add_user(&node, "olga", "operator").await;
    // One's own password, with read permission only; not someone else's.
    let (status, body) = call(
        &node,
        Auth::Basic("olga", "olga-password"),
        "PUT",
        "/api/v1/users/me/password",
        Some(&json!({"password": "a-new-password"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(
        &node,
        Auth::Basic("olga", "olga-password"),
        "GET",
        "/api/v1/users/me",
        None,
    )
    .await;
    assert_eq!(status, 401, "the old password no longer works");
    let (status, body) = call(
        &node,
        Auth::Basic("olga", "a-new-password"),
        "PUT",
        "/api/v1/users/isadmin/password",
        Some(&json!({"password": "taken-over!"})),
    )
    .await;
    assert_eq!(status, 403, "{body}");
}

#[tokio::test]
async fn failed_logins_back_off_per_user_with_retry_after() {
    let node = TestNode::start().await.unwrap();
    add_user(&node, "bob", "viewer").await;
    for _ in 0..6 {
        let (status, _) = call(
            &node,
            Auth::Basic("bob", "not-his-password"),
            "GET",
            "/api/v1/users/me",
            None,
        )
        .await;
        assert_eq!(status, 401);
    }
    // Now even the right password waits, without a hash being spent.
    let resp = is_tests::http_client()
        .get(node.url("/api/v1/users/me"))
        .basic_auth("bob", Some("bob-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    // Another user from the same address is not held.
    let (status, _) = node.rest("GET", "/api/v1/users/me", None).await.unwrap();
    assert_eq!(status, 200);
    // The block ends by itself.
    poll(Duration::from_secs(35), async || {
        let (status, _) = call(
            &node,
            Auth::Basic("bob", "bob-password"),
            "GET",
            "/api/v1/users/me",
            None,
        )
        .await;
        Ok(if status == 200 {
            Progress::Done(())
        } else {
            Progress::NotYet(format!("bob still answered {status}"))
        })
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_audit_trail_records_changes_refusals_and_failed_logins() {
    let node = TestNode::start().await.unwrap();
    add_user(&node, "victor", "viewer").await;
    node.put_step("Echo").await.unwrap();
    let (status, _) = call(
        &node,
        Auth::Basic("victor", "victor-password"),
        "DELETE",
        "/api/v1/steps/Echo",
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &node,
        Auth::Basic("mallory", "guess"),
        "GET",
        "/api/v1/steps",
        None,
    )
    .await;
    assert_eq!(status, 401);
    // Without credentials nothing is recorded: an anonymous flood makes no writes.
    let anonymous = is_tests::http_client()
        .post(node.url("/api/v1/steps"))
        .json(&json!({"name": "X", "data": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    // Over gRPC too: the target is read from the message.
    let mut grpc = grpc_client(node.port, "isadmin", is_tests::PASSWORD)
        .await
        .unwrap();
    grpc.delete_step(NameRequest { name: "Echo".into() })
        .await
        .unwrap();

    // Records reach the store with its next commit.
    let records = node
        .poll_until(
            "/api/v1/audit?limit=1000",
            Duration::from_secs(10),
            |status, body| {
                status == 200
                    && body["records"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|x| x["action"] == "gRPC DeleteStep"))
            },
        )
        .await
        .unwrap();
    let records = records["records"].as_array().unwrap();
    let find = |action: &str, status: u64| {
        records
            .iter()
            .find(|r| r["action"] == action && r["status"] == status)
            .unwrap_or_else(|| panic!("no {action} {status} in {records:?}"))
    };
    let created = find("POST /api/v1/users", 201);
    assert_eq!(
        (created["user"].as_str(), created["target"].as_str()),
        (Some("isadmin"), Some("victor"))
    );
    assert_eq!(created["address"], "127.0.0.1");
    assert_eq!(find("POST /api/v1/steps", 200)["target"], "Echo");
    assert_eq!(find("DELETE /api/v1/steps/Echo", 403)["user"], "victor");
    assert_eq!(find("GET /api/v1/steps", 401)["user"], Value::Null);
    assert_eq!(find("gRPC DeleteStep", 200)["target"], "Echo");
    assert!(!records
        .iter()
        .any(|r| r["action"] == "POST /api/v1/steps" && r["status"] == 401));
    // Reads are not recorded; nothing holds a password.
    assert!(!records.iter().any(|r| r["action"] == "GET /api/v1/audit"));
    assert!(!serde_json::to_string(records)
        .unwrap()
        .contains("victor-password"));

    // Pages, newest first.
    let (_, first) = node.rest("GET", "/api/v1/audit?limit=2", None).await.unwrap();
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = node
        .rest("GET", &format!("/api/v1/audit?limit=2&cursor={cursor}"), None)
        .await
        .unwrap();
    let t = |page: &Value, i: usize| page["records"][i]["at_ms"].as_u64().unwrap();
    assert!(t(&first, 0) >= t(&first, 1) && t(&first, 1) >= t(&second, 0));
    // Administrators only.
    let (status, _) = call(
        &node,
        Auth::Basic("victor", "victor-password"),
        "GET",
        "/api/v1/audit",
        None,
    )
    .await;
    assert_eq!(status, 403);
}
