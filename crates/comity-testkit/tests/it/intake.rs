//! How a node reads federation request bodies: streamed, refused at the size limit while
//! reading, and refused as soon as the first bytes name a sender or signer it does not
//! trust, without waiting for the rest. The requests are written by hand over TCP so the
//! tests control exactly how much of a body has been sent when the answer arrives.

use std::net::SocketAddr;
use std::time::Duration;

use comity_crypto::{KeyAnnouncement, NodeKeys, PrefixPeek, ReceiptOutcome};
use comity_testkit::{Backend, TestNode};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::federation::{action_body, post_envelope, seal_from};

const MESSAGES: &str = "/federation/v1/messages";
const KEYS: &str = "/federation/v1/keys";
const RESYNC: &str = "/federation/v1/resync";
/// How long a test waits for an answer once it has stopped sending.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// How the body of a hand-written request is framed.
#[derive(Clone, Copy)]
enum Framing {
    /// `Content-Length` announces this many bytes.
    Length(usize),
    /// `Transfer-Encoding: chunked`, no length announced.
    Chunked,
}

/// An answer read off the connection.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn detail(&self) -> String {
        let problem: serde_json::Value = serde_json::from_slice(&self.body).expect("problem json");
        problem["detail"].as_str().unwrap_or_default().to_string()
    }
}

/// Sends the request head, then `chunks` of body one by one with a short pause between,
/// while reading the answer on the same connection. Sending stops when the answer has
/// arrived, when the node stops reading (a write fails), or after the last chunk; with
/// `finish` a chunked body is then terminated. Returns the answer and how many body bytes
/// were sent before it.
async fn send_then_wait(
    address: SocketAddr,
    path: &str,
    framing: Framing,
    chunks: &[&[u8]],
    finish: bool,
) -> (Answer, usize) {
    let stream = TcpStream::connect(address).await.expect("connect");
    let (mut reading, mut writing) = stream.into_split();
    let answer = tokio::spawn(async move {
        tokio::time::timeout(ANSWER_TIMEOUT, read_answer(&mut reading)).await
    });
    let framing_header = match framing {
        Framing::Length(length) => format!("content-length: {length}"),
        Framing::Chunked => "transfer-encoding: chunked".to_string(),
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/cose\r\n{framing_header}\r\n\r\n"
    );
    writing.write_all(head.as_bytes()).await.expect("head");
    let mut sent = 0;
    let mut interrupted = false;
    for chunk in chunks {
        if answer.is_finished() {
            interrupted = true;
            break;
        }
        let framed = match framing {
            Framing::Length(_) => chunk.to_vec(),
            Framing::Chunked => {
                let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                framed.extend_from_slice(chunk);
                framed.extend_from_slice(b"\r\n");
                framed
            }
        };
        if writing.write_all(&framed).await.is_err() {
            interrupted = true;
            break;
        }
        sent += chunk.len();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if finish && !interrupted && matches!(framing, Framing::Chunked) {
        writing.write_all(b"0\r\n\r\n").await.expect("last chunk");
    }
    let answer = answer
        .await
        .expect("reader task")
        .expect("the node answered within the timeout");
    (answer, sent)
}

/// Reads one HTTP/1.1 response with a `content-length`.
async fn read_answer(stream: &mut tokio::net::tcp::OwnedReadHalf) -> Answer {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        if let Some(position) = received.windows(4).position(|window| window == b"\r\n\r\n") {
            break position + 4;
        }
        let read = stream.read(&mut buffer).await.expect("read answer");
        assert!(read > 0, "connection closed before an answer");
        received.extend_from_slice(&buffer[..read]);
    };
    let head = String::from_utf8_lossy(&received[..head_end]).to_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status line");
    let header = |name: &str| {
        head.lines()
            .find_map(|line| line.strip_prefix(&format!("{name}:")))
            .map(|value| value.trim().to_string())
    };
    let length: usize = header("content-length")
        .and_then(|value| value.parse().ok())
        .expect("answer with a content-length");
    let content_type = header("content-type").unwrap_or_default();
    while received.len() < head_end + length {
        let read = stream.read(&mut buffer).await.expect("read answer body");
        assert!(read > 0, "connection closed inside the answer");
        received.extend_from_slice(&buffer[..read]);
    }
    Answer {
        status,
        content_type,
        body: received[head_end..head_end + length].to_vec(),
    }
}

/// Spain and Morocco, trusting each other.
async fn pair() -> (TestNode, TestNode) {
    let spain = TestNode::spawn("es-node", Backend::Sqlite)
        .await
        .expect("spain");
    let morocco = TestNode::spawn("ma-node", Backend::Sqlite)
        .await
        .expect("morocco");
    spain.peer_with(&morocco).await.expect("trust");
    (spain, morocco)
}

/// An envelope to Morocco whose first bytes name `sender` and `keys`.
fn envelope_to(morocco: &TestNode, keys: &NodeKeys, sender: &str) -> Vec<u8> {
    let request_id = uuid::Uuid::now_v7().to_string();
    seal_from(
        keys,
        sender,
        morocco,
        &format!("request:{request_id}"),
        2,
        &action_body(&request_id, "withdraw"),
    )
}

/// How many bytes of `envelope` its tag, array head and protected header take.
fn prefix_length(envelope: &[u8]) -> usize {
    match comity_crypto::peek_envelope_prefix(envelope).expect("prefix") {
        PrefixPeek::Complete(prefix) => prefix.prefix_length,
        PrefixPeek::NeedMoreBytes => panic!("a whole envelope holds its protected header"),
    }
}

/// `start` followed by zeros up to `length` bytes.
fn padded(start: &[u8], length: usize) -> Vec<u8> {
    let mut bytes = start.to_vec();
    bytes.resize(length, 0);
    bytes
}

#[tokio::test]
async fn a_stranger_is_refused_after_the_first_bytes_of_a_large_body() {
    let (_spain, morocco) = pair().await;
    let address = morocco.node.address();
    let stranger = NodeKeys::generate(&mut rand::rngs::OsRng);
    let total = 15 * 1024 * 1024;

    // The reference: a whole stranger's envelope, posted the ordinary way.
    let (status, reference) =
        post_envelope(&morocco, envelope_to(&morocco, &stranger, "xx-node")).await;
    assert_eq!(status, 403);

    for (path, sender, framing) in [
        (MESSAGES, "xx-node", Framing::Length(total)),
        (MESSAGES, "xx-node", Framing::Chunked),
        // A trusted node's name with a key it never had.
        (MESSAGES, "es-node", Framing::Length(total)),
        // Resynchronisation statements are envelopes too.
        (RESYNC, "xx-node", Framing::Chunked),
    ] {
        let body = padded(&envelope_to(&morocco, &stranger, sender), total);
        let chunks: Vec<&[u8]> = body.chunks(64 * 1024).collect();
        let (answer, sent) = send_then_wait(address, path, framing, &chunks, false).await;
        assert_eq!(answer.status, 403, "{sender}: {}", answer.detail());
        // The refusal came while the client was still sending: at most a few chunks of
        // the 15 MiB (those already on their way) left it.
        assert!(
            sent <= 1024 * 1024,
            "{sender}: {sent} bytes sent before the refusal"
        );
        assert!(answer.content_type.starts_with("application/problem+json"));
        // The same generic refusal as after a whole body: it names nobody.
        assert_eq!(answer.body, reference, "{sender}");
    }

    // The protected header alone, sent a few bytes at a time, is enough: the node answers
    // although the client never sends the rest.
    let envelope = envelope_to(&morocco, &stranger, "xx-node");
    let prefix = &envelope[..prefix_length(&envelope)];
    let chunks: Vec<&[u8]> = prefix.chunks(16).collect();
    let (answer, sent) =
        send_then_wait(address, MESSAGES, Framing::Length(total), &chunks, false).await;
    assert_eq!(answer.status, 403);
    assert!(sent <= prefix.len());
}

#[tokio::test]
async fn a_trusted_envelope_streamed_in_small_pieces_is_received() {
    let (spain, morocco) = pair().await;
    let spain_keys = spain.node.federation().federation.keys();
    let morocco_signing = *morocco
        .node
        .federation()
        .federation
        .keys()
        .public_identity()
        .signing_key_bytes();
    let envelope = envelope_to(&morocco, &spain_keys, "es-node");
    // The protected header arrives split across pieces, then the rest in larger ones.
    let (start, rest) = envelope.split_at(100);
    let mut chunks: Vec<&[u8]> = start.chunks(7).collect();
    chunks.extend(rest.chunks(1024));

    // Twice: with no length announced, then with one; the second is the same message again.
    for (attempt, framing) in [Framing::Chunked, Framing::Length(envelope.len())]
        .into_iter()
        .enumerate()
    {
        let (answer, sent) =
            send_then_wait(morocco.node.address(), MESSAGES, framing, &chunks, true).await;
        assert_eq!(sent, envelope.len());
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        let receipt =
            comity_crypto::verify_receipt(&answer.body, &morocco_signing).expect("signed receipt");
        let envelope_hash: [u8; 32] = Sha256::digest(&envelope).into();
        assert_eq!(
            receipt.envelope_hash, envelope_hash,
            "covers the bytes sent"
        );
        assert_eq!(receipt.sender, "es-node");
        if attempt == 1 {
            assert_eq!(receipt.outcome, ReceiptOutcome::Duplicate);
        } else {
            assert_ne!(receipt.outcome, ReceiptOutcome::Duplicate);
        }
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_while_it_is_read() {
    let (spain, morocco) = pair().await;
    let address = morocco.node.address();
    let spain_keys = spain.node.federation().federation.keys();
    let limit = comity_crypto::MAX_ENVELOPE_BYTES;

    // A length over the limit is refused before any body byte is sent.
    let (answer, _) =
        send_then_wait(address, MESSAGES, Framing::Length(limit + 1), &[], false).await;
    assert_eq!(answer.status, 413);
    assert!(answer.content_type.starts_with("application/problem+json"));

    // A trusted sender's start, then more than the limit with no length announced: refused
    // as soon as the count passes the limit (one byte past it is all that is sent).
    let over = padded(&envelope_to(&morocco, &spain_keys, "es-node"), limit + 1);
    let chunks: Vec<&[u8]> = over.chunks(256 * 1024).collect();
    let (answer, _) = send_then_wait(address, MESSAGES, Framing::Chunked, &chunks, false).await;
    assert_eq!(answer.status, 413, "{}", answer.detail());
    assert!(answer.detail().contains(&limit.to_string()));

    // Key announcements have their own, smaller limit.
    let announcement = KeyAnnouncement {
        node_id: "es-node".into(),
        new_keys: NodeKeys::generate(&mut rand::rngs::OsRng).public_identity(),
        valid_from_ms: spain.app().now().millis(),
        valid_until_ms: None,
    }
    .sign(&spain_keys)
    .expect("sign");
    let over = padded(&announcement, comity_crypto::MAX_KEY_ANNOUNCEMENT_BYTES + 1);
    let chunks: Vec<&[u8]> = over.chunks(1024).collect();
    let (answer, _) = send_then_wait(address, KEYS, Framing::Chunked, &chunks, false).await;
    assert_eq!(answer.status, 413, "{}", answer.detail());

    // An announcement signed by no peer's key is refused from its first bytes.
    let stranger = NodeKeys::generate(&mut rand::rngs::OsRng);
    let forged = KeyAnnouncement {
        node_id: "es-node".into(),
        new_keys: NodeKeys::generate(&mut rand::rngs::OsRng).public_identity(),
        valid_from_ms: spain.app().now().millis(),
        valid_until_ms: None,
    }
    .sign(&stranger)
    .expect("sign");
    let forged_start = match comity_crypto::peek_key_announcement_prefix(&forged).expect("prefix") {
        PrefixPeek::Complete(prefix) => &forged[..prefix.prefix_length],
        PrefixPeek::NeedMoreBytes => panic!("a whole announcement holds its protected header"),
    };
    let (answer, _) = send_then_wait(
        address,
        KEYS,
        Framing::Length(comity_crypto::MAX_KEY_ANNOUNCEMENT_BYTES),
        &[forged_start],
        false,
    )
    .await;
    assert_eq!(answer.status, 403, "{}", answer.detail());
    // Nothing of it was taken: Spain's keys at Morocco are unchanged.
    let spain_at_morocco = morocco
        .node
        .federation()
        .federation
        .peer("es-node")
        .expect("peer");
    assert_eq!(spain_at_morocco.keys.len(), 1);
}

#[tokio::test]
async fn a_truncated_envelope_is_a_clear_bad_request() {
    let (spain, morocco) = pair().await;
    let spain_keys = spain.node.federation().federation.keys();
    let envelope = envelope_to(&morocco, &spain_keys, "es-node");
    let header_end = prefix_length(&envelope);

    // Cut inside the protected header.
    let (status, body) = post_envelope(&morocco, envelope[..header_end - 1].to_vec()).await;
    assert_eq!(status, 400);
    let problem: serde_json::Value = serde_json::from_slice(&body).expect("problem json");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("truncated envelope")),
        "{problem}"
    );

    // Cut after it: the sender is trusted, the whole body is read and found incomplete.
    let (status, body) = post_envelope(&morocco, envelope[..envelope.len() - 10].to_vec()).await;
    assert_eq!(status, 400);
    let problem: serde_json::Value = serde_json::from_slice(&body).expect("problem json");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| detail.starts_with("malformed envelope")),
        "{problem}"
    );

    // An empty body.
    let (status, _) = post_envelope(&morocco, Vec::new()).await;
    assert_eq!(status, 400);
}
