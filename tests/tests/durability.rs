//! Content survives `kill -9` and restart, including after snapshots have
//! compacted the log; secrets never appear in plaintext anywhere.

use std::time::Duration;

use is_tests::{examples_dir, files_containing, TestNode};
use serde_json::{json, Value};

const SECRET: &str = "s3cr3t-plaintext-4711";

async fn upload_examples(node: &TestNode) {
    let app: Value = serde_json::from_str(
        &std::fs::read_to_string(examples_dir().join("apps/integration_template.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        node.rest("POST", "/api/v1/applications", Some(&app))
            .await
            .unwrap()
            .0,
        200
    );
    let source = std::fs::read_to_string(examples_dir().join("steps/CountRecords.py")).unwrap();
    let step = json!({"name": "CountRecords", "data": source});
    assert_eq!(
        node.rest("POST", "/api/v1/steps", Some(&step)).await.unwrap().0,
        200
    );
}

#[tokio::test]
async fn content_survives_kill_9() {
    let mut node = TestNode::without_base_pack().await.unwrap();
    upload_examples(&node).await;
    for i in 0..20 {
        let cfg = json!({"name": format!("cfg-{i}"), "configuration_data": [{"name": "n", "value": i}]});
        assert_eq!(
            node.rest("POST", "/api/v1/configurations", Some(&cfg))
                .await
                .unwrap()
                .0,
            200
        );
    }
    node.rest("DELETE", "/api/v1/configurations/cfg-0", None)
        .await
        .unwrap();

    node.restart().await.unwrap();

    let (_, apps) = node.rest("GET", "/api/v1/applications", None).await.unwrap();
    assert_eq!(apps.as_array().unwrap().len(), 1);
    let (status, _) = node
        .rest("GET", "/api/v1/steps/CountRecords", None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (_, cfgs) = node.rest("GET", "/api/v1/configurations", None).await.unwrap();
    assert_eq!(cfgs.as_array().unwrap().len(), 19, "the delete survived too");
    let (_, cfg) = node
        .rest("GET", "/api/v1/configurations/cfg-19", None)
        .await
        .unwrap();
    assert_eq!(cfg["configuration_data"][0]["value"], 19);
    // The password set at bootstrap still works; a new IS_ADMIN_PASSWORD is ignored.
    assert!(node.log().contains("IS_ADMIN_PASSWORD is ignored"));
}

#[tokio::test]
async fn content_survives_restart_from_a_compacted_log() {
    let mut node = TestNode::start_with(&[("IS_SNAPSHOT_EVERY", "20"), ("IS_KEEP_AFTER_SNAPSHOT", "5")])
        .await
        .unwrap();
    for i in 0..80 {
        let cfg = json!({"name": format!("cfg-{i}"), "configuration_data": [{"name": "n", "value": i}]});
        assert_eq!(
            node.rest("POST", "/api/v1/configurations", Some(&cfg))
                .await
                .unwrap()
                .0,
            200
        );
    }
    // Snapshots are built in the background: wait until the log was purged.
    node.poll_until("/api/v1/cluster", Duration::from_secs(20), |_, cluster| {
        cluster["purged_index"].as_u64().unwrap_or(0) > 20
    })
    .await
    .unwrap();
    assert!(node.data_dir().join("raft/snapshot.bin").exists());

    node.restart().await.unwrap();
    let (_, cfgs) = node.rest("GET", "/api/v1/configurations", None).await.unwrap();
    assert_eq!(cfgs.as_array().unwrap().len(), 80);
    for i in [0, 39, 79] {
        let (_, cfg) = node
            .rest("GET", &format!("/api/v1/configurations/cfg-{i}"), None)
            .await
            .unwrap();
        assert_eq!(cfg["configuration_data"][0]["value"], i);
    }
}

#[tokio::test]
async fn encrypted_values_never_appear_in_plaintext() {
    let mut node = TestNode::start_with(&[("IS_SNAPSHOT_EVERY", "3")]).await.unwrap();
    let cfg = json!({"name": "vault", "configuration_data": [
        {"name": "user", "value": "visible-user", "encrypted": false},
        {"name": "password", "value": SECRET, "encrypted": true},
        {"name": "token", "value": {"nested": SECRET}, "encrypted": true}]});
    let (status, answer) = node
        .rest("POST", "/api/v1/configurations", Some(&cfg))
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert!(!answer.to_string().contains(SECRET));
    // More writes so a snapshot holding the configuration is written too.
    for i in 0..5 {
        node.rest(
            "POST",
            "/api/v1/configurations",
            Some(&json!({"name": format!("c{i}")})),
        )
        .await
        .unwrap();
    }

    let (_, got) = node
        .rest("GET", "/api/v1/configurations/vault", None)
        .await
        .unwrap();
    let text = got.to_string();
    assert!(!text.contains(SECRET), "plaintext returned: {text}");
    assert!(text.contains("visible-user"));
    let sealed = got["configuration_data"][1]["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(sealed.starts_with("enc:v1:"), "{sealed}");
    let (_, list) = node.rest("GET", "/api/v1/configurations", None).await.unwrap();
    assert!(!list.to_string().contains(SECRET));

    let mut grpc = node.grpc().await.unwrap();
    let over_grpc = grpc
        .get_configuration(is_proto::v1::NameRequest { name: "vault".into() })
        .await
        .unwrap()
        .into_inner();
    assert!(!over_grpc.document_json.contains(SECRET));
    let secret = &over_grpc.configuration_data[1];
    assert!(secret.encrypted);
    assert_eq!(
        is_proto::json::from_proto(secret.value.as_ref().expect("a value")),
        sealed.as_str(),
        "gRPC shows the same ciphertext as REST"
    );

    // Re-uploading the exported document keeps the ciphertext as it is.
    let (status, _) = node
        .rest("POST", "/api/v1/configurations", Some(&got))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (_, again) = node
        .rest("GET", "/api/v1/configurations/vault", None)
        .await
        .unwrap();
    assert_eq!(again["configuration_data"][1]["value"], sealed.as_str());

    // Nothing on disk or in the log holds the plaintext, before or after a restart.
    node.restart().await.unwrap();
    let hits = files_containing(node.dir.path(), SECRET.as_bytes());
    assert!(hits.is_empty(), "plaintext found in {hits:?}");
}

#[tokio::test]
async fn ciphertext_from_another_cluster_is_rejected() {
    let a = TestNode::start().await.unwrap();
    let b = TestNode::start().await.unwrap();
    let cfg =
        json!({"name": "vault", "configuration_data": [{"name": "p", "value": SECRET, "encrypted": true}]});
    a.rest("POST", "/api/v1/configurations", Some(&cfg))
        .await
        .unwrap();
    let (_, exported) = a.rest("GET", "/api/v1/configurations/vault", None).await.unwrap();
    let (status, body) = b
        .rest("POST", "/api/v1/configurations", Some(&exported))
        .await
        .unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(
        body["details"][0].as_str().unwrap().contains("another cluster"),
        "{body}"
    );
}
