//! Receipts (sign, verify, tamper) and key announcements with trusted key windows.

use comity_crypto::{
    KeyAnnouncement, KeyAnnouncementError, MessageId, Receipt, ReceiptError, ReceiptOutcome,
    Sign1Error, TrustedKey, open, seal, sign_receipt, verify_receipt,
};
use proptest::prelude::*;

use crate::{node_keys, sample_header, test_rng};

fn sample_receipt(outcome: ReceiptOutcome) -> Receipt {
    Receipt {
        message_id: MessageId::from_bytes([3; 16]),
        recipient: "de-bj-central".to_string(),
        sender: "fr-pnf-central".to_string(),
        body_commitment: Some([4; 32]),
        envelope_hash: [5; 32],
        received_at_ms: 1_750_000_000_123,
        outcome,
    }
}

#[test]
fn receipts_roundtrip_for_every_outcome() {
    let recipient = node_keys(40);
    let signing_key = *recipient.public_identity().signing_key_bytes();
    for outcome in [
        ReceiptOutcome::Accepted,
        ReceiptOutcome::Duplicate,
        ReceiptOutcome::Rejected("decryption failed".to_string()),
    ] {
        let receipt = sample_receipt(outcome);
        let receipt_bytes = sign_receipt(&recipient, &receipt).expect("sign");
        assert_eq!(verify_receipt(&receipt_bytes, &signing_key), Ok(receipt));
    }
    let mut without_commitment = sample_receipt(ReceiptOutcome::Rejected("malformed cbor".into()));
    without_commitment.body_commitment = None;
    let receipt_bytes = sign_receipt(&recipient, &without_commitment).expect("sign");
    assert_eq!(
        verify_receipt(&receipt_bytes, &signing_key),
        Ok(without_commitment)
    );
}

#[test]
fn receipt_for_a_real_envelope_carries_its_hash_and_commitment() {
    let sender = node_keys(41);
    let recipient = node_keys(42);
    let envelope = seal(
        &sender,
        &recipient.public_identity(),
        &sample_header(1),
        b"{}",
        &mut test_rng(43),
    )
    .expect("seal");
    let opened = open(
        &recipient,
        &envelope,
        sender.public_identity().signing_key_bytes(),
    )
    .expect("open");
    let receipt = Receipt {
        message_id: opened.header.message_id,
        recipient: opened.header.recipient.clone(),
        sender: opened.header.sender.clone(),
        body_commitment: Some(opened.body_commitment),
        envelope_hash: opened.envelope_hash,
        received_at_ms: 1,
        outcome: ReceiptOutcome::Accepted,
    };
    let receipt_bytes = sign_receipt(&recipient, &receipt).expect("sign");
    let verified = verify_receipt(
        &receipt_bytes,
        recipient.public_identity().signing_key_bytes(),
    )
    .expect("verify");
    assert_eq!(verified, receipt);
}

#[test]
fn receipt_with_wrong_key_or_as_another_type_fails() {
    let recipient = node_keys(44);
    let receipt_bytes =
        sign_receipt(&recipient, &sample_receipt(ReceiptOutcome::Accepted)).expect("sign");
    let other = node_keys(45).public_identity();
    assert_eq!(
        verify_receipt(&receipt_bytes, other.signing_key_bytes()),
        Err(ReceiptError::Signature(Sign1Error::BadSignature))
    );
    // A receipt is not a key announcement, even under the right key.
    assert!(
        KeyAnnouncement::verify(
            &receipt_bytes,
            recipient.public_identity().signing_key_bytes()
        )
        .is_err()
    );
}

#[test]
fn overlong_rejection_reason_is_refused() {
    let recipient = node_keys(46);
    let receipt = sample_receipt(ReceiptOutcome::Rejected("x".repeat(5000)));
    assert!(matches!(
        sign_receipt(&recipient, &receipt),
        Err(ReceiptError::Invalid(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn tampering_with_any_receipt_byte_is_rejected(position in any::<prop::sample::Index>(), xor in 1u8..=255) {
        let recipient = node_keys(47);
        let receipt_bytes =
            sign_receipt(&recipient, &sample_receipt(ReceiptOutcome::Duplicate)).expect("sign");
        let mut tampered = receipt_bytes.clone();
        let position = position.index(tampered.len());
        tampered[position] ^= xor;
        prop_assert!(verify_receipt(&tampered, recipient.public_identity().signing_key_bytes()).is_err());
    }

    #[test]
    fn verify_receipt_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = verify_receipt(&bytes, &[0u8; 32]);
        let _ = KeyAnnouncement::verify(&bytes, &[0u8; 32]);
    }
}

#[test]
fn key_announcement_roundtrips_and_binds_to_the_old_key() {
    let old_keys = node_keys(50);
    let new_keys = node_keys(51);
    let announcement = KeyAnnouncement {
        node_id: "fr-pnf-central".to_string(),
        new_keys: new_keys.public_identity(),
        valid_from_ms: 1_000,
        valid_until_ms: Some(2_000),
    };
    let announcement_bytes = announcement.sign(&old_keys).expect("sign");
    let verified = KeyAnnouncement::verify(
        &announcement_bytes,
        old_keys.public_identity().signing_key_bytes(),
    )
    .expect("verify");
    assert_eq!(verified, announcement);

    // Signed by the new key itself (not the old one): refused under the old key.
    let self_signed = announcement.sign(&new_keys).expect("sign");
    assert_eq!(
        KeyAnnouncement::verify(&self_signed, old_keys.public_identity().signing_key_bytes()),
        Err(KeyAnnouncementError::Signature(Sign1Error::BadSignature))
    );

    let mut tampered = announcement_bytes.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(
        KeyAnnouncement::verify(&tampered, old_keys.public_identity().signing_key_bytes()).is_err()
    );
}

#[test]
fn key_announcement_rejects_an_empty_window() {
    let announcement = KeyAnnouncement {
        node_id: "n".to_string(),
        new_keys: node_keys(52).public_identity(),
        valid_from_ms: 2_000,
        valid_until_ms: Some(2_000),
    };
    assert!(matches!(
        announcement.sign(&node_keys(53)),
        Err(KeyAnnouncementError::Invalid(_))
    ));
}

#[test]
fn trusted_key_window_is_half_open() {
    let trusted_key = TrustedKey {
        keys: node_keys(54).public_identity(),
        valid_from_ms: 1_000,
        valid_until_ms: Some(2_000),
    };
    assert!(!trusted_key.is_valid_at(999));
    assert!(trusted_key.is_valid_at(1_000));
    assert!(trusted_key.is_valid_at(1_999));
    assert!(!trusted_key.is_valid_at(2_000));
    let open_ended = TrustedKey {
        valid_until_ms: None,
        ..trusted_key
    };
    assert!(open_ended.is_valid_at(i64::MAX));
}
