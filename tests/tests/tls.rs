//! TLS (issue 13, item 3): a node with a self-signed certificate serves
//! REST and gRPC over https to clients that trust it and to no one else,
//! refuses plain HTTP unless loopback is allowed, closes a client that never
//! finishes its handshake, logs the fingerprint of the certificate it
//! serves; a cluster speaks TLS between its nodes and refuses a peer whose
//! certificate it does not trust.

use std::time::Duration;

use is_tests::cluster::LocalCluster;
use is_tests::{closed_within, https_client, iscli_command, iscli_tls_command, TestNode, PASSWORD};
use rustls::pki_types::pem::PemObject;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Every message of an error and its causes, one after the other.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cur = e.source();
    }
    text
}

/// The SHA-256 of the certificate in `pem`, as the node logs it.
fn fingerprint(pem: &[u8]) -> String {
    let der = rustls::pki_types::CertificateDer::from_pem_slice(pem).unwrap();
    Sha256::digest(der.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Runs a command; answers its exit code, stdout and stderr.
fn run(mut cmd: std::process::Command) -> (i32, String, String) {
    let o = cmd.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_self_signed_node_serves_https_only_to_clients_that_trust_its_certificate() {
    // start_tls waits until the node answers over https with its certificate trusted.
    let mut node = TestNode::start_tls(&[]).await.unwrap();
    let (status, about) = node.rest("GET", "/api/v1/about", None).await.unwrap();
    assert_eq!(status, 200, "{about}");

    // A client that trusts nothing, or another certificate, is refused.
    let url = node.url("/api/v1/about");
    let err = https_client(None)
        .unwrap()
        .get(&url)
        .basic_auth("isadmin", Some(PASSWORD))
        .send()
        .await
        .unwrap_err();
    assert!(
        chain(&err).contains("invalid peer certificate"),
        "{}",
        chain(&err)
    );

    // The key is the owner's only; the certificate's fingerprint is logged.
    use std::os::unix::fs::PermissionsExt;
    let key_mode = std::fs::metadata(node.data_dir().join("tls-key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(key_mode & 0o777, 0o600);
    let pem = std::fs::read(node.cert_path()).unwrap();
    let sha = fingerprint(&pem);
    let logged = |log: String| log.lines().filter(|l| l.contains(&sha)).count();
    assert_eq!(logged(node.log()), 1, "{}", node.log());

    // Plain HTTP from loopback is answered only with the way to TLS.
    let plain = is_tests::http_client()
        .get(format!("http://127.0.0.1:{}/api/v1/about", node.port))
        .basic_auth("isadmin", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status().as_u16(), 400);
    let body: serde_json::Value = plain.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("https://"), "{body}");

    // A restart keeps the certificate and logs its fingerprint again.
    node.restart().await.unwrap();
    assert_eq!(std::fs::read(node.cert_path()).unwrap(), pem);
    assert_eq!(logged(node.log()), 2, "{}", node.log());
}

#[tokio::test]
async fn iscli_verifies_the_node_with_ca_and_says_what_to_do_without_it() {
    let node = TestNode::start_tls(&[]).await.unwrap();
    let cert = node.cert_path();

    let (code, out, err) = run(iscli_tls_command(node.port, Some(&cert), &["about", "--json"]));
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(out.contains("version"), "{out}");

    // -H without -i is TLS: without --ca the self-signed certificate is refused.
    let (code, _, err) = run(iscli_tls_command(node.port, None, &["about"]));
    assert_eq!(code, 1, "{err}");
    for needle in ["does not trust", "--ca", "tls-cert.pem", "fingerprint"] {
        assert!(err.contains(needle), "{needle:?} missing from: {err}");
    }

    // Another certificate given with --ca does not vouch for this node.
    let other = tempfile::tempdir().unwrap();
    let stranger = TestNode::start_tls(&[]).await.unwrap();
    std::fs::copy(stranger.cert_path(), other.path().join("other.pem")).unwrap();
    let (code, _, err) = run(iscli_tls_command(
        node.port,
        Some(&other.path().join("other.pem")),
        &["about"],
    ));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("other.pem") && err.contains("--ca"), "{err}");

    // -i (plain) against a TLS node is told to use TLS.
    let (code, _, err) = run(iscli_command(node.port, "isadmin", PASSWORD, &["about"]));
    assert_ne!(code, 0);
    assert!(err.contains("accepts only TLS") && err.contains("-i"), "{err}");
}

#[tokio::test]
async fn plain_loopback_clients_are_served_when_allowed_and_silent_handshakes_are_closed() {
    let node = TestNode::start_tls(&[
        ("IS_ALLOW_PLAIN_LOOPBACK", "true"),
        ("IS_HEADER_READ_TIMEOUT_SECONDS", "1"),
    ])
    .await
    .unwrap();
    let plain = is_tests::http_client()
        .get(format!("http://127.0.0.1:{}/api/v1/about", node.port))
        .basic_auth("isadmin", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status().as_u16(), 200);
    // iscli -i is plain, and served too.
    let (code, _, err) = run(iscli_command(node.port, "isadmin", PASSWORD, &["about"]));
    assert_eq!(code, 0, "{err}");

    // A client that starts a TLS handshake (the record header of a
    // ClientHello) and says no more is closed by the header timeout, as is
    // one that says nothing at all.
    let addr = format!("127.0.0.1:{}", node.port);
    let mut stalled = TcpStream::connect(&addr).await.unwrap();
    stalled.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).await.unwrap();
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    assert!(
        closed_within(&mut stalled, Duration::from_secs(10)).await,
        "a stalled TLS handshake stays open"
    );
    assert!(
        closed_within(&mut silent, Duration::from_secs(10)).await,
        "a silent connection stays open"
    );
    let (status, _) = node.rest("GET", "/api/v1/about", None).await.unwrap();
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_cluster_replicates_over_tls_and_refuses_a_peer_it_does_not_trust() {
    // `up` returns once every node votes: Raft traffic went over TLS.
    let c = LocalCluster::up_tls(3, &[]).await.unwrap();
    let leader = c.leader().unwrap();
    let follower = (1..=3).find(|i| *i != leader).unwrap();
    let doc = json!({"name": "over-tls", "configuration_data": [{"name": "v", "value": 1}]});
    c.post_ok(follower, "/api/v1/configurations", &doc).await.unwrap();
    for i in 1..=3 {
        c.poll_until(
            i,
            "/api/v1/configurations/over-tls",
            Duration::from_secs(20),
            |s, _| s == 200,
        )
        .await
        .unwrap();
    }
    // The actor network's sessions are TLS too: ractor_cluster reports a
    // session only once its handshake succeeded.
    // Sessions open in the background: wait for every node's.
    for i in 1..=3 {
        let path = c.dir.path().join(format!("node{i}.log"));
        let log = is_tests::poll(Duration::from_secs(20), async || {
            let log = std::fs::read_to_string(&path)?;
            Ok(if log.contains("TCP Session opened") {
                is_tests::Progress::Done(log)
            } else {
                is_tests::Progress::NotYet(format!("node {i} opened no actor session: {}", c.logs()))
            })
        })
        .await
        .unwrap();
        assert!(log.contains("TLS is on"), "node {i}: {}", c.logs());
        assert!(!log.contains("TLS handshake failed"), "node {i}: {}", c.logs());
    }

    // A node with a certificate of its own is refused as a member: the
    // leader cannot verify it, and nothing changes.
    let stranger = TestNode::start_tls(&[]).await.unwrap();
    let (status, body) = c
        .rest(
            leader,
            "POST",
            "/api/v1/cluster/nodes",
            Some(&json!({"id": 4, "address": format!("127.0.0.1:{}", stranger.port)})),
        )
        .await
        .unwrap();
    assert_ne!(status, 200, "{body}");
    assert!(
        body.to_string().contains("invalid peer certificate"),
        "{status} {body}"
    );
    let (_, cluster) = c.rest(leader, "GET", "/api/v1/cluster", None).await.unwrap();
    assert_eq!(cluster["members"].as_array().unwrap().len(), 3, "{cluster}");
}
