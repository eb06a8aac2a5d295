//! The Base Steps pack's MySQL steps against a real MariaDB server and its
//! SSH step against a real sshd, each started by the test on loopback
//! (`.ci/run` installs mariadb-server, openssh-server and the drivers
//! PyMySQL and paramiko); the MS-SQL steps, with no SQL Server to reach,
//! fail with a message naming the server.

use std::time::Duration;

use is_tests::services::{MariaDb, Sshd};
use is_tests::TestNode;
use serde_json::{json, Value};

const RUN_WITHIN: Duration = Duration::from_secs(60);

async fn put(node: &TestNode, path: &str, doc: Value) {
    let (status, body) = node.rest("POST", path, Some(&doc)).await.unwrap();
    assert_eq!(status, 200, "{path}: {body}");
}

async fn run(node: &TestNode, app: &str) -> Value {
    node.run_app(app, RUN_WITHIN).await.unwrap()
}

/// The task of step `name` in a finished run.
async fn task(node: &TestNode, run: &Value, name: &str) -> Value {
    node.step_task(run, name).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mysql_steps_insert_select_and_describe_on_a_real_server() {
    let mut db = MariaDb::start().await.unwrap();
    db.sql_as_root(
        "CREATE TABLE is_test.devices (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, site VARCHAR(20) NULL)",
    )
    .unwrap();
    let node = TestNode::start().await.unwrap();
    node.put_step("Emit").await.unwrap();
    // The credentials come from a configuration, the password encrypted.
    put(
        &node,
        "/api/v1/configurations",
        json!({"name": "db", "configuration_data": [
            {"name": "db_user", "value": db.user, "encrypted": false},
            {"name": "db_password", "value": db.password, "encrypted": true}]}),
    )
    .await;
    let connection = |extra: Value| {
        let mut step = json!({"db_host": "127.0.0.1", "db_port": db.port, "db_name": db.database,
                              "user": "${config.db_user}", "password": "${config.db_password}"});
        step.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        step
    };
    let rows = json!([{"id": 1, "name": "r1", "site": "paris"}, {"id": 2, "name": "r2", "site": "lyon"},
                      {"id": 3, "name": "r3", "site": "paris"}]);
    put(
        &node,
        "/api/v1/applications",
        json!({"name": "mysql_flow", "configuration": "db", "steps": [
            {"name": "Rows", "file": "Emit", "value": rows, "output_to": ["Insert"]},
            connection(json!({"name": "Insert", "file": "MySqlInsert", "table": "devices", "output_to": ["Select", "Describe"]})),
            connection(json!({"name": "Select", "file": "MySqlSelect",
                "query": "SELECT id, name FROM devices WHERE site = %s ORDER BY id", "query_params": ["paris"]})),
            connection(json!({"name": "Describe", "file": "MySqlDescribe", "table": "devices"}))]}),
    )
    .await;
    let done = run(&node, "mysql_flow").await;
    assert_eq!(done["state"], "SUCCESS", "{done}\n{}", node.log());
    assert_eq!(
        task(&node, &done, "Insert").await["result"],
        json!({"table": "devices", "inserted": 3})
    );
    assert_eq!(
        db.sql_as_root("SELECT COUNT(*) FROM is_test.devices")
            .unwrap()
            .trim(),
        "3"
    );
    assert_eq!(
        task(&node, &done, "Select").await["result"],
        json!([{"id": 1, "name": "r1"}, {"id": 3, "name": "r3"}])
    );
    let columns = task(&node, &done, "Describe").await["result"].clone();
    let described: Vec<(&str, bool, &str)> = columns
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap(),
                c["null"].as_bool().unwrap(),
                c["key"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        described,
        vec![("id", false, "PRI"), ("name", false, ""), ("site", true, "")]
    );

    // A wrong password fails the step naming the server, never the password.
    put(
        &node,
        "/api/v1/applications",
        json!({"name": "mysql_denied", "steps": [{"name": "Select", "file": "MySqlSelect",
            "db_host": "127.0.0.1", "db_port": db.port, "user": db.user, "password": "wrong-secret-99",
            "query": "SELECT 1"}]}),
    )
    .await;
    let done = run(&node, "mysql_denied").await;
    assert_eq!(done["state"], "FAILURE", "{done}");
    let failed = task(&node, &done, "Select").await.to_string();
    assert!(failed.contains(&format!("127.0.0.1:{}", db.port)), "{failed}");
    assert!(
        !failed.contains("wrong-secret-99"),
        "the password leaked: {failed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ssh_step_runs_a_command_on_a_real_server() {
    let sshd = Sshd::start().await.unwrap();
    let node = TestNode::start().await.unwrap();
    let step = |name: &str, command: &str, extra: Value| {
        let mut step = json!({"name": name, "file": "SSHCommand", "host": "127.0.0.1", "port": sshd.port,
                              "user": sshd.user, "private_key": sshd.private_key, "command": command,
                              "host_fingerprint": sshd.host_fingerprint});
        step.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        step
    };
    put(
        &node,
        "/api/v1/applications",
        json!({"name": "ssh_flow", "steps": [
            step("Hello", "echo hello from $((40 + 2)); echo oops >&2", json!({})),
            step("Tolerated", "exit 3", json!({"allow_failure": true}))]}),
    )
    .await;
    let done = run(&node, "ssh_flow").await;
    assert_eq!(done["state"], "SUCCESS", "{done}\n{}", node.log());
    assert_eq!(
        task(&node, &done, "Hello").await["result"],
        json!({"exit_code": 0, "stdout": "hello from 42\n", "stderr": "oops\n"})
    );
    assert_eq!(task(&node, &done, "Tolerated").await["result"]["exit_code"], 3);

    // A failing command fails the step, and a host key other than the
    // expected one is refused before anything runs.
    put(
        &node,
        "/api/v1/applications",
        json!({"name": "ssh_failures", "steps": [
            step("Fails", "echo bad input >&2; exit 5", json!({})),
            step("Impostor", "touch /tmp/never", json!({"host_fingerprint": "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}))]}),
    )
    .await;
    let done = run(&node, "ssh_failures").await;
    assert_eq!(done["state"], "FAILURE", "{done}");
    let fails = task(&node, &done, "Fails").await;
    assert_eq!(fails["state"], "FAILURE", "{fails}");
    assert!(
        fails["traceback"]
            .as_str()
            .unwrap_or_default()
            .contains("exited with code 5"),
        "{fails}"
    );
    assert_eq!(
        fails["result"]["stderr"], "bad input\n",
        "what it saved before failing is kept: {fails}"
    );
    let impostor = task(&node, &done, "Impostor").await;
    assert!(
        impostor["traceback"]
            .as_str()
            .unwrap_or_default()
            .contains("not the expected host_fingerprint"),
        "{impostor}"
    );
}

#[tokio::test]
async fn the_ms_sql_steps_fail_clearly_without_a_server() {
    // No SQL Server runs here: the step reports the server it could not
    // reach (or the missing driver), not a traceback of the driver.
    let node = TestNode::start().await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    put(
        &node,
        "/api/v1/applications",
        json!({"name": "mssql_absent", "steps": [{"name": "Select", "file": "MsSqlSelect",
            "db_host": "127.0.0.1", "db_port": port, "user": "sa", "password": "pw-123456", "query": "SELECT 1",
            "timeout": 3}]}),
    )
    .await;
    let done = run(&node, "mssql_absent").await;
    assert_eq!(done["state"], "FAILURE", "{done}");
    let failed = task(&node, &done, "Select").await["traceback"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        failed.contains(&format!("127.0.0.1:{port}")) || failed.contains("pip install pymssql"),
        "{failed}"
    );
    assert!(!failed.contains("pw-123456"), "{failed}");
}
