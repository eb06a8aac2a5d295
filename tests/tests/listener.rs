//! The listener holds against clients that connect and wait (issue 13,
//! item 5): a connection that sends nothing, or sends its request headers
//! too slowly, is closed after the header-read timeout; past the
//! connection cap the oldest silent connection makes room for the new one,
//! and the node keeps answering.

use std::time::Duration;

use is_tests::{closed_within, TestNode};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn silent_and_slow_clients_are_closed_after_the_header_timeout() {
    let node = TestNode::start_with(&[("IS_HEADER_READ_TIMEOUT_SECONDS", "1")])
        .await
        .unwrap();
    let addr = format!("127.0.0.1:{}", node.port);
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /api/v1/about HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(10)).await,
        "a silent connection stays open"
    );
    assert!(
        closed_within(&mut slow, Duration::from_secs(10)).await,
        "a slow-headers connection stays open"
    );
    // A normal client is served as before.
    let (status, _) = node.rest("GET", "/api/v1/about", None).await.unwrap();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn past_the_connection_cap_silent_connections_make_room_and_the_node_still_answers() {
    let node = TestNode::start_with(&[
        ("IS_MAX_CONNECTIONS", "16"),
        ("IS_HEADER_READ_TIMEOUT_SECONDS", "60"),
    ])
    .await
    .unwrap();
    let addr = format!("127.0.0.1:{}", node.port);
    let mut held = Vec::new();
    for _ in 0..24 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    // While they are all held, a client that speaks is served: the oldest
    // silent connections were closed to make room.
    let (status, _) = node.rest("GET", "/api/v1/about", None).await.unwrap();
    assert_eq!(status, 200, "the node answers during the flood");
    let mut closed = 0;
    for conn in &mut held {
        if closed_within(conn, Duration::from_millis(300)).await {
            closed += 1;
        }
    }
    assert!(
        closed >= 8,
        "24 idle connections against a cap of 16: only {closed} closed"
    );
    // The oldest went first.
    assert!(closed_within(&mut held[0], Duration::from_millis(10)).await);
    println!("{closed} of 24 idle connections closed (cap 16)");
}
