//! The listener cannot be held by clients that connect and say nothing, or say it slowly.

use std::sync::Arc;
use std::time::Duration;

use comity_testkit::{Backend, TestNode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Starts a node with short deadlines and room for `max_connections` at once.
async fn node_with_limits(https: bool, max_connections: usize) -> TestNode {
    let adjust = move |config: &mut comity_node::NodeConfig| {
        config.server.handshake_timeout_ms = 300;
        config.server.header_timeout_ms = 300;
        config.server.body_timeout_ms = 300;
        config.server.max_connections = max_connections;
        if https && let Some(directory) = config.data_dir.clone() {
            let (cert, key) = comity_node::tls::generate_certificate(
                &directory,
                &["localhost".to_string(), "127.0.0.1".to_string()],
            )
            .expect("certificate");
            config.tls.cert_path = Some(cert);
            config.tls.key_path = Some(key);
        }
    };
    TestNode::spawn_with(
        "es-node",
        Backend::Sqlite,
        adjust,
        Arc::new(comity_app::SystemClock),
    )
    .await
    .expect("node")
}

/// Reads until the server closes the connection; `true` if it did within `patience`
/// (far longer than the node's deadlines, so only a node without deadlines fails).
async fn closed_by_server(stream: &mut TcpStream, patience: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    let read_to_end = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    };
    tokio::time::timeout(patience, read_to_end).await.is_ok()
}

#[tokio::test]
async fn silent_and_slow_clients_are_cut_off() {
    for https in [true, false] {
        let node = node_with_limits(https, 64).await;
        let address = node.node.address();
        let mut silent = TcpStream::connect(address).await.expect("connect");
        assert!(
            closed_by_server(&mut silent, Duration::from_secs(20)).await,
            "a connection that never starts (https: {https}) is closed"
        );
        if !https {
            let mut slow = TcpStream::connect(address).await.expect("connect");
            slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                .await
                .expect("write");
            assert!(
                closed_by_server(&mut slow, Duration::from_secs(20)).await,
                "headers that never end are cut off"
            );
            let mut trickle = TcpStream::connect(address).await.expect("connect");
            trickle
                .write_all(
                    b"POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
                )
                .await
                .expect("write");
            assert!(
                closed_by_server(&mut trickle, Duration::from_secs(20)).await,
                "a body that never arrives is cut off"
            );
        }
    }
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_and_are_served_when_room_is_made() {
    let node = node_with_limits(false, 2).await;
    let address = node.node.address();
    let holders = [
        TcpStream::connect(address).await.expect("connect"),
        TcpStream::connect(address).await.expect("connect"),
    ];
    // The node closes the silent holders at its header deadline; the waiting client is
    // then served.
    let reply = tokio::time::timeout(
        Duration::from_secs(20),
        reqwest::get(format!("{}/healthz", node.url())),
    )
    .await
    .expect("served once the silent connections are closed")
    .expect("healthz");
    assert_eq!(reply.status().as_u16(), 200);
    drop(holders);
}
