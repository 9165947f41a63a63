//! Envelopes: roundtrip, tampering, wrong keys, swapped headers, size limits, arbitrary bytes.

use comity_crypto::{
    EnvelopeError, MAX_BODY_BYTES, MAX_ENVELOPE_BYTES, MessageId, body_commitment, open,
    peek_envelope, peek_header, seal, verify_proof_of_origin,
};
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};
use std::sync::OnceLock;

use crate::{node_keys, sample_header, test_rng};

const BODY: &[u8] = br#"{"request":"hearing of a witness","articles":["CISA 53"]}"#;

struct Fixture {
    sender: comity_crypto::NodeKeys,
    recipient: comity_crypto::NodeKeys,
    envelope: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let sender = node_keys(1);
        let recipient = node_keys(2);
        let envelope = seal(
            &sender,
            &recipient.public_identity(),
            &sample_header(1),
            BODY,
            &mut test_rng(3),
        )
        .expect("seal");
        Fixture {
            sender,
            recipient,
            envelope,
        }
    })
}

fn sender_key() -> [u8; 32] {
    *fixture().sender.public_identity().signing_key_bytes()
}

#[test]
fn seal_then_open_roundtrips() {
    let fixture = fixture();
    let opened = open(&fixture.recipient, &fixture.envelope, &sender_key()).expect("open");
    assert_eq!(opened.header, sample_header(1));
    assert_eq!(opened.body, BODY);
    assert_eq!(opened.sender_key_id, fixture.sender.key_id());
    assert_eq!(
        opened.envelope_hash,
        <[u8; 32]>::from(Sha256::digest(&fixture.envelope))
    );
    assert_eq!(
        opened.body_commitment,
        body_commitment(&opened.commitment_salt, BODY)
    );
    assert_eq!(peek_header(&fixture.envelope), Ok(sample_header(1)));
    let peeked = peek_envelope(&fixture.envelope).expect("peek");
    assert_eq!(peeked.recipient_key_id, fixture.recipient.key_id());
    assert_eq!(peeked.sender_key_id, fixture.sender.key_id());
}

#[test]
fn header_with_in_reply_to_and_empty_body_roundtrip() {
    let fixture = fixture();
    let mut header = sample_header(2);
    header.in_reply_to = Some(MessageId::from_bytes([9; 16]));
    header.sent_at_ms = -5;
    header.sequence = u64::MAX;
    let envelope = seal(
        &fixture.sender,
        &fixture.recipient.public_identity(),
        &header,
        b"",
        &mut test_rng(4),
    )
    .expect("seal");
    let opened = open(&fixture.recipient, &envelope, &sender_key()).expect("open");
    assert_eq!(opened.header, header);
    assert!(opened.body.is_empty());
}

#[test]
fn the_recipient_can_prove_origin_to_a_third_party() {
    let fixture = fixture();
    let opened = open(&fixture.recipient, &fixture.envelope, &sender_key()).expect("open");
    let header = verify_proof_of_origin(
        &fixture.envelope,
        &sender_key(),
        &opened.body,
        &opened.commitment_salt,
    )
    .expect("proof verifies");
    assert_eq!(header, sample_header(1));
    assert_eq!(
        verify_proof_of_origin(
            &fixture.envelope,
            &sender_key(),
            b"another body",
            &opened.commitment_salt
        ),
        Err(EnvelopeError::CommitmentMismatch)
    );
}

#[test]
fn identical_bodies_get_unlinkable_commitments_and_ciphertexts() {
    let fixture = fixture();
    let recipient_keys = fixture.recipient.public_identity();
    let first = seal(
        &fixture.sender,
        &recipient_keys,
        &sample_header(1),
        BODY,
        &mut test_rng(10),
    )
    .expect("seal");
    let second = seal(
        &fixture.sender,
        &recipient_keys,
        &sample_header(1),
        BODY,
        &mut test_rng(11),
    )
    .expect("seal");
    let first_peek = peek_envelope(&first).expect("peek");
    let second_peek = peek_envelope(&second).expect("peek");
    assert_ne!(first_peek.body_commitment, second_peek.body_commitment);
    assert_ne!(first, second);
}

#[test]
fn wrong_recipient_key_fails() {
    let fixture = fixture();
    let other_node = node_keys(20);
    assert!(matches!(
        open(&other_node, &fixture.envelope, &sender_key()),
        Err(EnvelopeError::WrongRecipientKey { .. })
    ));
}

#[test]
fn wrong_recipient_key_with_the_same_signing_key_fails_decryption() {
    // Same signing key (so same key id), different HPKE key: decryption must fail.
    let fixture = fixture();
    let mut secret_bytes = *fixture.recipient.to_secret_bytes();
    secret_bytes[40] ^= 1;
    let impostor = comity_crypto::NodeKeys::from_secret_bytes(&secret_bytes).expect("64 bytes");
    assert_eq!(impostor.key_id(), fixture.recipient.key_id());
    assert_eq!(
        open(&impostor, &fixture.envelope, &sender_key()),
        Err(EnvelopeError::DecryptionFailed)
    );
}

#[test]
fn wrong_sender_key_fails() {
    let fixture = fixture();
    let other_sender = node_keys(21).public_identity();
    assert_eq!(
        open(
            &fixture.recipient,
            &fixture.envelope,
            other_sender.signing_key_bytes()
        ),
        Err(EnvelopeError::BadSignature)
    );
}

#[test]
fn header_swapped_from_another_envelope_fails() {
    let fixture = fixture();
    let recipient_keys = fixture.recipient.public_identity();
    let other = seal(
        &fixture.sender,
        &recipient_keys,
        &sample_header(7),
        b"other body",
        &mut test_rng(30),
    )
    .expect("seal");
    // Both envelopes: d2 84 <protected bstr> a0 <payload bstr> <signature bstr>. Splice the
    // protected header of `other` into `fixture.envelope`.
    let (first_protected, first_rest) = split_protected(&fixture.envelope);
    let (other_protected, _) = split_protected(&other);
    let mut spliced = fixture.envelope[..2].to_vec();
    spliced.extend_from_slice(other_protected);
    spliced.extend_from_slice(first_rest);
    assert_ne!(first_protected, other_protected);
    assert_eq!(
        open(&fixture.recipient, &spliced, &sender_key()),
        Err(EnvelopeError::BadSignature)
    );
}

/// Splits a tagged COSE_Sign1 after `d2 84` into (protected bstr with its head, the rest).
fn split_protected(envelope: &[u8]) -> (&[u8], &[u8]) {
    assert_eq!(&envelope[..2], &[0xd2, 0x84]);
    let head = envelope[2];
    let (head_length, content_length) = match head {
        0x40..=0x57 => (1, usize::from(head - 0x40)),
        0x58 => (2, usize::from(envelope[3])),
        0x59 => (
            3,
            usize::from(u16::from_be_bytes([envelope[3], envelope[4]])),
        ),
        _ => panic!("unexpected protected header length encoding {head:#x}"),
    };
    envelope[2..].split_at(head_length + content_length)
}

#[test]
fn oversize_envelope_and_body_are_rejected() {
    let fixture = fixture();
    let too_large = vec![0u8; MAX_ENVELOPE_BYTES + 1];
    assert!(matches!(
        peek_header(&too_large),
        Err(EnvelopeError::TooLarge { .. })
    ));
    assert!(matches!(
        open(&fixture.recipient, &too_large, &sender_key()),
        Err(EnvelopeError::TooLarge { .. })
    ));
    let too_large_body = vec![0u8; MAX_BODY_BYTES + 1];
    assert!(matches!(
        seal(
            &fixture.sender,
            &fixture.recipient.public_identity(),
            &sample_header(1),
            &too_large_body,
            &mut test_rng(5)
        ),
        Err(EnvelopeError::TooLarge { .. })
    ));
}

#[test]
fn largest_body_fits_in_the_envelope_limit() {
    let fixture = fixture();
    let largest_body = vec![7u8; MAX_BODY_BYTES];
    let envelope = seal(
        &fixture.sender,
        &fixture.recipient.public_identity(),
        &sample_header(1),
        &largest_body,
        &mut test_rng(6),
    )
    .expect("largest body seals");
    assert!(envelope.len() <= MAX_ENVELOPE_BYTES);
    let opened = open(&fixture.recipient, &envelope, &sender_key()).expect("open");
    assert_eq!(opened.body.len(), MAX_BODY_BYTES);
}

#[test]
fn unsupported_version_is_refused_when_sealing() {
    let fixture = fixture();
    let mut header = sample_header(1);
    header.version = 2;
    assert_eq!(
        seal(
            &fixture.sender,
            &fixture.recipient.public_identity(),
            &header,
            BODY,
            &mut test_rng(7)
        ),
        Err(EnvelopeError::UnsupportedVersion(2))
    );
}

#[test]
fn truncated_and_extended_envelopes_are_rejected() {
    let fixture = fixture();
    for length in [
        0,
        1,
        2,
        fixture.envelope.len() / 2,
        fixture.envelope.len() - 1,
    ] {
        assert!(
            open(
                &fixture.recipient,
                &fixture.envelope[..length],
                &sender_key()
            )
            .is_err()
        );
    }
    let mut extended = fixture.envelope.clone();
    extended.push(0);
    assert!(open(&fixture.recipient, &extended, &sender_key()).is_err());
    assert!(peek_header(&extended).is_err());
}

#[test]
fn flipping_the_low_bit_of_every_byte_is_rejected() {
    let fixture = fixture();
    for position in 0..fixture.envelope.len() {
        let mut tampered = fixture.envelope.clone();
        tampered[position] ^= 1;
        assert!(
            open(&fixture.recipient, &tampered, &sender_key()).is_err(),
            "flip at byte {position} was accepted"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn tampering_with_any_byte_is_rejected(position in any::<prop::sample::Index>(), xor in 1u8..=255) {
        let fixture = fixture();
        let mut tampered = fixture.envelope.clone();
        let position = position.index(tampered.len());
        tampered[position] ^= xor;
        prop_assert!(open(&fixture.recipient, &tampered, &sender_key()).is_err());
    }

    #[test]
    fn peek_and_open_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let fixture = fixture();
        let _ = peek_header(&bytes);
        let _ = open(&fixture.recipient, &bytes, &sender_key());
    }

    #[test]
    fn peek_and_open_never_panic_on_envelope_prefixed_noise(
        keep in any::<prop::sample::Index>(),
        noise in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let fixture = fixture();
        let mut bytes = fixture.envelope[..keep.index(fixture.envelope.len())].to_vec();
        bytes.extend_from_slice(&noise);
        let _ = peek_header(&bytes);
        let _ = open(&fixture.recipient, &bytes, &sender_key());
    }
}
